"""The government's mechanisms: national spot checks, city inspections and the quality file's
tiers, title awards and rewards, key upgrade projects and interest subsidies, campaigns.

Each function works on the whole population at once and takes its random numbers from the
caller: arrays of full population size, or ``uniforms(rows, slots)``, a source of uniforms
per (row, slot) (the model's is :func:`~simcity_quality.engine.rng.derived_rows` of the
month's key), so that a lever changes what a mechanism does without shifting the random
numbers other mechanisms see.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..categories import SECTOR_INDEX, SECTORS, TIERS
from ..scenario import Levers, Scenario
from .kpis import pass_probability
from .ledger import REWARD_LINE_BY_TIER, Ledger
from .population import KEY_INDUSTRY_CODES, Population
from .shared import MONTHS_PER_YEAR, YUAN_PER_MILLION, reward_amounts, stochastic_round

MIN_OUTPUT_FOR_LOG = 1e-6  # million yuan: log10 of an empty firm's output stays finite


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
    k = max(k, 0)
    return np.sort(idx[np.argpartition(keys[idx], k)[:k]])  # the k smallest, in slot order


# ---------------------------------------------------------------------------------------
# national supervision spot checks (§2.2.1d): the city does not steer them


def national_sampling_weight(pop: Population, month: int, sc: Scenario) -> np.ndarray:
    """Relative chance of being sampled: problem firms and problem-prone classes more often."""
    nat = sc.national
    w = np.where(pop.problem_until >= month, nat.problem_weight, 1.0)
    prone = PROBLEM_PRONE[pop.sector]
    return w * np.where(prone, nat.problem_sector_weight, 1.0)


def national_sampling_chance(pop: Population, month: int, sc: Scenario) -> np.ndarray:
    """Each slot's chance of being sampled this month: the yearly sampled share spread over
    the months, times its weight over the mean weight of live firms (at most 1)."""
    w = national_sampling_weight(pop, month, sc)
    mean_w = w.mean(where=pop.alive) if pop.alive.any() else 1.0
    per_month = sc.national.spot_check_share_per_year / MONTHS_PER_YEAR
    return np.minimum(1.0, per_month * w / mean_w)


Uniforms = Callable[[int, np.ndarray], np.ndarray]  # (rows, slots) -> (rows, len(slots))


def national_spot_check(pop: Population, month: int, sc: Scenario, u: np.ndarray,
                        uniforms: Uniforms):
    """One month of national spot checks. ``u``: uniforms (n_slots,) deciding who is sampled;
    ``uniforms``: the sampled firms' test outcomes (row 0).

    Returns (sampled, passed) boolean arrays. Firms that fail join the problem list and are
    sampled again for ``national.problem_memory_months``.
    """
    sampled = pop.alive & (u < national_sampling_chance(pop, month, sc))
    idx = np.flatnonzero(sampled)
    ok = uniforms(1, idx)[0] < pass_probability(
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
                    uniforms: Uniforms) -> InspectionOutcome:
    """One month of city inspections with their consequences.

    ``keys``: uniforms (n_slots,) choosing whom to inspect; ``uniforms``: the inspected firms'
    outcomes (rows 0-3: detection, product test, revocation, criminal referral). Only
    inspected firms are computed.
    """
    insp = lv.inspection
    inspected = choose_inspected(pop, lv, k, keys)
    idx = np.flatnonzero(inspected)
    u = uniforms(4, idx)
    pass_prob = pass_probability(pop.capability[idx], pop.counterfeit[idx],
                                 sc.behaviour.counterfeit_pass_factor)
    found_cf = pop.counterfeit[idx] & (u[0] < insp.detection_probability)
    product_fail = u[1] >= pass_prob
    ccc_fail = pop.ccc_required[idx] & ~pop.ccc[idx]
    failed = found_cf | product_fail | ccc_fail

    # fines are capped by what the firm can pay (limited liability)
    cash = pop.cash[idx]
    ability = np.maximum(cash, 0.0) * YUAN_PER_MILLION
    fine = np.where(failed, insp.fine_yuan, 0.0)
    fine = np.where(found_cf, insp.fine_yuan * insp.counterfeit_fine_multiplier, fine)
    over_limit = pop.discharge_ratio[idx] > 1.0
    fine = fine + np.where(over_limit, insp.discharge_fine_yuan, 0.0)
    fine = np.minimum(fine, ability)
    cash -= fine / YUAN_PER_MILLION

    revoked = found_cf & (u[2] < insp.revocation_probability)
    referred = found_cf & (u[3] < insp.criminal_referral_probability)
    cash[referred] -= sc.behaviour.criminal_cost_yuan / YUAN_PER_MILLION
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


def book_inspections(ledger: Ledger, year: int, lv: Levers, out: InspectionOutcome) -> None:
    """The city pays for the month's inspections and collects their fines (§3.3, §4.4)."""
    n = int(np.count_nonzero(out.inspected))
    ledger.book(year, "city", "inspection_cost", n * lv.inspection.cost_per_inspection_yuan)
    ledger.book(year, "city", "fines_collected", -out.fines_yuan)


def update_beliefs(pop: Population, anchors: np.ndarray, inspected: np.ndarray,
                   behaviour) -> np.ndarray:
    """Beliefs drift back towards the inspection rate firms see among peers.

    ``anchors`` (sectors x 2 tiers) track the annualised inspection rate seen in each sector
    and tier; returns the updated anchors.
    """
    n_tiers = anchors.shape[1]  # normal, watched
    group = pop.sector.astype(np.int64) * n_tiers + pop.watched
    n_groups = anchors.size
    alive_n = np.bincount(group, weights=pop.alive, minlength=n_groups)
    seen = np.bincount(group, weights=inspected, minlength=n_groups)
    rate = np.divide(seen * MONTHS_PER_YEAR, alive_n, out=np.zeros(n_groups), where=alive_n > 0)
    flat = anchors.ravel()
    flat = np.where(alive_n > 0, flat + behaviour.peer_learning * (np.minimum(rate, 1.0) - flat),
                    flat)
    target = flat[group]
    others = ~inspected
    pop.belief[others] += behaviour.belief_decay * (target[others] - pop.belief[others])
    return flat.reshape(anchors.shape)


# ---------------------------------------------------------------------------------------
# titles and one-time rewards (§3.1, §4.2)


@dataclass
class AwardRound:
    """One December round (§3.1, §4.2): per tier, applicants, winners, and the judges' score
    of every eligible applicant (NaN for other slots)."""

    applied: dict[int, int]
    won: dict[int, int]
    scores: dict[int, np.ndarray]


def award_titles(pop: Population, lv: Levers, sc: Scenario, year: int, scale: float,
                 ledger: Ledger, z: np.ndarray, u: np.ndarray) -> AwardRound:
    """The yearly award round: applicants ranked, the quota win, rewards paid once per title.

    From the highest tier down, eligible applicants are scored by capability, ISO 9001, size
    and judging noise ``z[tier - 1]`` (standard normals, (tiers, n_slots)); the tier's quota
    (scaled with the run's firms, rounded with ``u[tier - 1]``) wins.
    """
    aw = sc.awards
    result = AwardRound({}, {}, {})
    for t in range(len(TIERS) - 1, 0, -1):  # the highest title first
        name = TIERS[t]
        applicants = pop.alive & (pop.applying == t)
        eligible = applicants & (pop.capability >= getattr(aw.min_capability, name))
        if getattr(aw.iso_required, name):
            eligible &= pop.iso9001
        k = stochastic_round(getattr(aw.quota, name) * scale, u[t - 1])
        score = (pop.capability + aw.certification_bonus * pop.iso9001
                 + aw.size_bonus * np.log10(np.maximum(pop.output, MIN_OUTPUT_FOR_LOG))
                 + aw.judging_noise * z[t - 1])
        winners = smallest_keys(-score, eligible, k)
        pop.tier[winners] = t
        province, city = reward_amounts(lv, year, t)
        line = REWARD_LINE_BY_TIER[t]
        if winners.size:
            ledger.book(year, "province", line, province * winners.size)
            ledger.book(year, "city", line, city * winners.size)
            pop.cash[winners] += (province + city) / YUAN_PER_MILLION
        result.applied[t], result.won[t] = int(applicants.sum()), int(winners.size)
        result.scores[t] = np.where(eligible, score, np.nan)
    pop.applying[:] = 0
    return result


def learn_win_rates(win_belief: np.ndarray, result: AwardRound, learning: float) -> None:
    """After an award round, each tier's perceived chance of winning moves ``learning`` of
    the way towards the round's winners over applicants (tiers nobody applied for keep
    theirs)."""
    for tier, applied in result.applied.items():
        if applied:
            win_belief[tier] += learning * (result.won[tier] / applied - win_belief[tier])


def campaign(pop: Population, sc: Scenario, lv: Levers, year: int, scale: float,
             ledger: Ledger) -> None:
    """§4.5 awareness campaign: every firm's perceived chance of an inspection rises by
    ``behaviour.campaign_belief_boost`` of its distance to certainty; the city pays for it
    (scaled with the run's firms)."""
    pop.belief += sc.behaviour.campaign_belief_boost * (1.0 - pop.belief)
    ledger.book(year, "city", "campaign_cost", lv.campaigns.cost_per_campaign_yuan * scale)


def select_key_projects(pop: Population, lv: Levers, scale: float, u_round: float,
                        z: np.ndarray) -> np.ndarray:
    """January: this year's ``subsidy.key_projects_per_year`` key projects (scaled with the
    run's firms, rounded with ``u_round``), by :func:`choose_key_projects`; returns the
    priorities."""
    k = stochastic_round(lv.subsidy.key_projects_per_year * scale, u_round)
    return choose_key_projects(pop, lv, k, z)


def choose_key_projects(pop: Population, lv: Levers, k: int, z: np.ndarray) -> np.ndarray:
    """January: the city picks ``k`` firms with credit as this year's key upgrade projects;
    returns each eligible slot's priority (NaN for the others).

    Priority goes to larger, more capable firms (the plan serves 'key enterprises'): log10
    output plus ``subsidy.priority_capability_weight`` times capability, plus noise ``z``.
    """
    pop.key_project[:] = False
    eligible = pop.alive & pop.credit & (pop.subsidy_months_left == 0)
    priority = (np.log10(np.maximum(pop.output, MIN_OUTPUT_FOR_LOG))
                + lv.subsidy.priority_capability_weight * pop.capability + z)
    pop.key_project[smallest_keys(-priority, eligible, k)] = True
    return np.where(eligible, priority, np.nan)


def pay_subsidies(pop: Population) -> float:
    """Monthly interest-subsidy payments on running key-project loans; returns yuan paid."""
    running = pop.alive & (pop.subsidy_months_left > 0)
    paid = float(pop.subsidy_monthly.sum(where=running))
    pop.subsidy_months_left[running] -= 1
    pop.subsidy_monthly[pop.subsidy_months_left == 0] = 0.0
    return paid
