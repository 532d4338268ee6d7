"""The government's mechanisms: national spot checks, city inspections and the quality file's
tiers, title awards and rewards, key upgrade projects and interest subsidies, campaigns.

Each function works on the whole population at once and takes its random numbers as arrays
drawn by the caller from the mechanism's own stream, always of full population size, so that a
lever changes what a mechanism does without shifting the random numbers other mechanisms see.
"""

from dataclasses import dataclass

import numpy as np

from ..categories import SECTOR_INDEX, SECTORS, TIERS
from ..scenario import Levers, Scenario
from . import kernels
from .kpis import pass_probability
from .ledger import REWARD_LINE_BY_TIER, Ledger
from .population import KEY_INDUSTRY_CODES, Population
from .rng import derived_rows, derived_uniforms


def stochastic_round(x: float, u: float) -> int:
    """``x`` rounded down or up with the chance of its fraction (``u`` uniform): a yearly
    quota of 0.5 gives one title every other year on average, at any ``firms`` scale."""
    return int(np.floor(x)) + int(u < x - np.floor(x))


# problem-prone product classes for the national rule: key industries and food, by sector code
PROBLEM_PRONE = np.zeros(len(SECTORS), dtype=bool)
PROBLEM_PRONE[KEY_INDUSTRY_CODES] = True
PROBLEM_PRONE[SECTOR_INDEX["food_farm_processing"]] = True


def smallest_keys(keys: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """Slots of the ``k`` eligible entries with the smallest keys (sampling without replacement).

    With uniform keys this is a uniform sample; raising ``k`` only adds slots, so a bigger
    inspection budget inspects a superset of the firms a smaller one does (common random numbers).
    """
    idx = np.flatnonzero(eligible)
    if k >= idx.size:
        return idx
    if k <= 0:
        return idx[:0]
    part = np.argpartition(keys[idx], k - 1)[:k]
    return np.sort(idx[part])


# ---------------------------------------------------------------------------------------
# national supervision spot checks (§2.2.1d): the city does not steer them


def national_sampling_weight(pop: Population, month: int, sc: Scenario) -> np.ndarray:
    """Relative chance of being sampled: problem firms and problem-prone classes more often."""
    nat = sc.national
    w = np.where(pop.problem_until >= month, nat.problem_weight, 1.0)
    prone = PROBLEM_PRONE[pop.sector]
    return w * np.where(prone, nat.problem_sector_weight, 1.0)


def national_spot_check(pop: Population, month: int, sc: Scenario, u: np.ndarray, key: int):
    """One month of national spot checks. ``u``: uniforms (n_slots,) deciding who is sampled;
    ``key``: the month's key for the sampled firms' test outcomes (``derived_uniforms``).

    Returns (sampled, passed) boolean arrays. Firms that fail join the problem list and are
    sampled again for ``national.problem_memory_months``.
    """
    alive = pop.alive
    nat = sc.national
    if kernels.ENABLED:
        w = kernels.national_weight(pop.problem_until, month, pop.sector, PROBLEM_PRONE,
                                    float(nat.problem_weight), float(nat.problem_sector_weight))
    else:
        w = national_sampling_weight(pop, month, sc)
    mean_w = w.mean(where=alive) if alive.any() else 1.0
    if kernels.ENABLED:
        sampled = kernels.national_sampled(alive, u, w, nat.spot_check_share_per_year / 12.0,
                                           float(mean_w))
    else:
        chance = np.minimum(1.0, nat.spot_check_share_per_year / 12.0 * w / mean_w)
        sampled = alive & (u < chance)
    idx = np.flatnonzero(sampled)
    ok = derived_uniforms(key, 0, idx) < pass_probability(
        pop.capability[idx], pop.counterfeit[idx], sc.behaviour.counterfeit_pass_factor)
    passed = np.zeros(pop.n_slots, dtype=bool)
    passed[idx[ok]] = True
    pop.problem_until[idx[~ok]] = month + sc.national.problem_memory_months
    return sampled, passed


# ---------------------------------------------------------------------------------------
# the city's own inspections (§3.3 tiers, §4.4 penalties)


@dataclass
class InspectionOutcome:
    """What one month of city inspections found and did (slot index arrays and sums)."""

    inspected: np.ndarray  # bool per slot
    failed: np.ndarray  # bool per slot
    revoked: np.ndarray  # bool per slot: licence revoked, the firm exits
    closed: np.ndarray  # bool per slot: over discharge limit and could not abate (§3.3)
    fines_yuan: float
    referrals: int


def choose_inspected(pop: Population, lv: Levers, k: int, keys: np.ndarray) -> np.ndarray:
    """Which firms the city inspects this month: uniform, or tiered by the quality file."""
    insp = lv.inspection
    eligible = pop.alive.copy()
    if insp.exempt_award_holders:
        eligible &= pop.tier == 0
    chosen = np.zeros(pop.n_slots, dtype=bool)
    if insp.targeting == "tiered":
        k_watched = int(round(insp.watched_share * k))
        picked = smallest_keys(keys, eligible & pop.watched, k_watched)
        chosen[picked] = True
        k -= picked.size
    chosen[smallest_keys(keys, eligible & ~chosen, k)] = True
    return chosen


def city_inspection(pop: Population, lv: Levers, sc: Scenario, k: int, keys: np.ndarray,
                    key: int) -> InspectionOutcome:
    """One month of city inspections with their consequences.

    ``keys``: uniforms (n_slots,) choosing whom to inspect; ``key``: the month's key for the
    inspected firms' outcomes (``derived_uniforms`` rows 0-3: detection, product test,
    revocation, criminal referral). Only inspected firms are computed.
    """
    insp = lv.inspection
    inspected = choose_inspected(pop, lv, k, keys)
    idx = np.flatnonzero(inspected)
    u = derived_rows(key, 4, idx)
    pass_prob = pass_probability(pop.capability[idx], pop.counterfeit[idx],
                                 sc.behaviour.counterfeit_pass_factor)
    found_cf = pop.counterfeit[idx] & (u[0] < insp.detection_probability)
    product_fail = u[1] >= pass_prob
    ccc_fail = pop.ccc_required[idx] & ~pop.ccc[idx]
    failed = found_cf | product_fail | ccc_fail

    # fines are capped by what the firm can pay (limited liability)
    cash = pop.cash[idx]
    ability = np.maximum(cash, 0.0) * 1e6
    fine = np.where(failed, insp.fine_yuan, 0.0)
    fine = np.where(found_cf, insp.fine_yuan * insp.counterfeit_fine_multiplier, fine)
    over_limit = pop.discharge_ratio[idx] > 1.0
    fine = fine + np.where(over_limit, insp.discharge_fine_yuan, 0.0)
    fine = np.minimum(fine, ability)
    cash -= fine / 1e6

    revoked = found_cf & (u[2] < insp.revocation_probability)
    referred = found_cf & (u[3] < insp.criminal_referral_probability)
    cash[referred] -= sc.behaviour.criminal_cost_yuan / 1e6
    pop.counterfeit[idx[found_cf]] = False

    closed = np.zeros(idx.size, dtype=bool)
    if lv.permits.refuse_over_limit:  # §3.3: over discharge limits may not produce
        cost = sc.behaviour.abatement_cost * pop.output[idx]
        can_abate = over_limit & ((cash >= cost) | pop.credit[idx])
        cash[can_abate] -= cost[can_abate]
        # ordered to meet the standard: abate at least down to it
        ab = idx[can_abate]
        pop.discharge_ratio[ab] = np.minimum(
            pop.discharge_ratio[ab] * (1.0 - sc.behaviour.abatement_fraction), 1.0)
        closed = over_limit & ~can_abate
    pop.cash[idx] = cash

    # the quality file: caught firms are closely watched until enough clean inspections
    watched = pop.watched[idx]
    clean_count = pop.clean_count[idx]
    clean = ~failed & watched  # watched before this inspection and clean now
    clean_count[failed] = 0
    clean_count[clean] += 1
    leave = clean & (clean_count >= insp.clean_inspections_to_leave)
    watched = (watched | failed) & ~leave
    clean_count[leave] = 0
    pop.watched[idx] = watched
    pop.clean_count[idx] = clean_count

    pop.belief[idx] = 1.0  # an inspection makes inspection salient (lapse of time)

    def full(mask):
        out = np.zeros(pop.n_slots, dtype=bool)
        out[idx[mask]] = True
        return out

    return InspectionOutcome(inspected, full(failed), full(revoked), full(closed),
                             float(fine.sum()), int(referred.sum()))


def update_beliefs(pop: Population, anchors: np.ndarray, inspected: np.ndarray,
                   behaviour) -> np.ndarray:
    """Beliefs drift back towards the inspection rate firms see among peers.

    ``anchors`` (sectors x 2 tiers) track the annualised inspection rate seen in each sector
    and tier; returns the updated anchors.
    """
    if kernels.ENABLED:
        flat = kernels.update_beliefs(pop.sector, pop.watched, pop.alive, inspected, pop.belief,
                                      np.ascontiguousarray(anchors, dtype=np.float64).ravel(),
                                      behaviour.peer_learning, behaviour.belief_decay)
        return flat.reshape(anchors.shape)
    group = pop.sector.astype(np.int64) * 2 + pop.watched
    n_groups = anchors.size
    alive_n = np.bincount(group, weights=pop.alive, minlength=n_groups)
    seen = np.bincount(group, weights=inspected, minlength=n_groups)
    rate = np.divide(seen * 12.0, alive_n, out=np.zeros(n_groups), where=alive_n > 0)
    flat = anchors.ravel()
    flat = np.where(alive_n > 0, flat + behaviour.peer_learning * (np.minimum(rate, 1.0) - flat),
                    flat)
    target = flat[group]
    others = ~inspected
    pop.belief[others] += behaviour.belief_decay * (target[others] - pop.belief[others])
    return flat.reshape(anchors.shape)


# ---------------------------------------------------------------------------------------
# titles and one-time rewards (§3.1, §4.2)


def reward_amounts(lv: Levers, year: int, tier: int) -> tuple[float, float]:
    """(province, city) yuan paid once for a title of ``tier`` won in ``year``."""
    r = lv.rewards
    province = {1: r.province_provincial_award, 2: r.province_china_famous_brand,
                3: r.province_national_award}[tier]
    city = {1: r.city_provincial_award, 2: r.city_china_famous_brand,
            3: r.city_national_award}[tier]
    if year < r.province_start_year:
        province = 0.0
    if not r.stack_city_and_province and province > 0:
        city = 0.0
    return province, city


def award_titles(pop: Population, lv: Levers, sc: Scenario, year: int, scale: float,
                 ledger: Ledger, z: np.ndarray, u: np.ndarray) -> dict[int, tuple[int, int]]:
    """The yearly award round: applicants ranked, the quota win, rewards paid once per title.

    ``z``: standard normals (3, n_slots) for judging noise; ``u``: 3 uniforms for rounding
    fractional quotas. Returns {tier: (applicants, winners)}.
    """
    aw = sc.awards
    result = {}
    for t in (3, 2, 1):
        name = TIERS[t]
        applicants = pop.alive & (pop.applying == t)
        eligible = applicants & (pop.capability >= getattr(aw.min_capability, name))
        if getattr(aw.iso_required, name) >= 0.5:
            eligible &= pop.iso9001
        k = stochastic_round(getattr(aw.quota, name) * scale, u[t - 1])
        score = (pop.capability + aw.certification_bonus * pop.iso9001
                 + aw.size_bonus * np.log10(np.maximum(pop.output, 1e-6))
                 + aw.judging_noise * z[t - 1])
        winners = smallest_keys(-score, eligible, k)
        pop.tier[winners] = t
        province, city = reward_amounts(lv, year, t)
        line = REWARD_LINE_BY_TIER[t]
        if winners.size:
            ledger.book(year, "province", line, province * winners.size)
            ledger.book(year, "city", line, city * winners.size)
            pop.cash[winners] += (province + city) / 1e6
        result[t] = (int(applicants.sum()), int(winners.size))
    pop.applying[:] = 0
    return result


# ---------------------------------------------------------------------------------------
# key technical-upgrade projects and loan-interest subsidies (§3.4)


def choose_key_projects(pop: Population, k: int, z: np.ndarray) -> None:
    """January: the city picks ``k`` firms with credit as this year's key upgrade projects.

    Priority goes to larger, more capable firms (the plan serves 'key enterprises'), with noise.
    """
    pop.key_project[:] = False
    eligible = pop.alive & pop.credit & (pop.subsidy_months_left == 0)
    priority = np.log10(np.maximum(pop.output, 1e-6)) + 0.5 * pop.capability + z
    pop.key_project[smallest_keys(-priority, eligible, k)] = True


def interest_subsidy_yuan(loan_million: np.ndarray, lv: Levers) -> np.ndarray:
    """Yearly interest subsidy (yuan) the city pays on a key project's loan."""
    s = lv.subsidy
    return s.interest_subsidy_rate * s.loan_interest_rate * loan_million * 1e6


def pay_subsidies(pop: Population) -> float:
    """Monthly interest-subsidy payments on running key-project loans; returns yuan paid."""
    running = pop.alive & (pop.subsidy_months_left > 0)
    paid = float(pop.subsidy_monthly.sum(where=running))
    pop.subsidy_months_left[running] -= 1
    pop.subsidy_monthly[pop.subsidy_months_left == 0] = 0.0
    return paid
