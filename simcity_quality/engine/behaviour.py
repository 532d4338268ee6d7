"""The enterprises' decision rule: beliefs, payoffs and a logit choice (vectorised).

Each month a random share of firms reviews (``behaviour.decision_rate``). A reviewing firm
1. decides whether to produce shoddy or counterfeit goods (§4.4): the gain against the expected
   penalty under its *subjective* inspection probability, minus its moral cost (a binary logit);
2. picks one investment, or none, by a multinomial logit over net payoffs: quality upgrade (§3.4),
   international standards (§2.2.1b), certification (ISO 9001 or a missing CCC, §3.3), COD
   abatement (§2.2.4), or an application for the next title (§3.1, §4.2).
Payoffs are in million yuan and divided by ``logit_scale * output``: a payoff worth
``logit_scale`` of a year's output is one logit unit, so rewards matter more to small firms.
Imitation adds a pull towards what the firm's sector already does (Guler et al. 2002).
"""

from dataclasses import dataclass

import numpy as np

from ..categories import OPTIONS, TIERS
from ..scenario import Levers, Scenario
from . import kernels
from .government import interest_subsidy_yuan, reward_amounts
from .population import Population, sector_cod_coefficients
from .rng import derived_rows, row_bases

NOTHING, UPGRADE, INTL, CERTIFY, ABATE, APPLY = range(len(OPTIONS))
# the attributes a decision can change (written back from the reviewing subset)
WRITTEN = ("counterfeit", "cash", "capability", "debt_monthly", "debt_months_left",
           "subsidy_monthly", "subsidy_months_left", "key_project", "intl_std", "ccc", "iso9001",
           "discharge_ratio", "applying")


@dataclass
class Decisions:
    """What reviewing firms chose this month (bool arrays per slot, and yuan booked)."""

    choice: np.ndarray  # int8 option index, -1 where the firm did not review
    fee_waiver_yuan: float
    subsidised: np.ndarray  # bool: took a key-project loan with interest subsidy


def sector_shares(flags, pop: Population, n_sectors: int, slots: np.ndarray) -> list:
    """For each flag array, the share of alive firms in each sector with the flag (for
    imitation), at the given slots."""
    sector = pop.sector[pop.alive]
    alive_n = np.bincount(sector, minlength=n_sectors)
    out = []
    for flag in flags:
        have = np.bincount(sector[flag[pop.alive]], minlength=n_sectors)
        share = np.divide(have, alive_n, out=np.zeros(n_sectors), where=alive_n > 0)
        out.append(share[pop.sector[slots]])
    return out


def perceived_penalty(pop: Population, lv: Levers, sc: Scenario) -> np.ndarray:
    """Expected yearly cost (million yuan) of counterfeiting under the firm's own belief."""
    insp = lv.inspection
    b = sc.behaviour
    firm_value = np.maximum(pop.margin, 0.0) * pop.output * b.horizon_years
    fine = np.minimum(insp.fine_yuan * insp.counterfeit_fine_multiplier / 1e6,
                      np.maximum(pop.cash, 0.0))  # limited liability
    loss_if_caught = (fine + insp.revocation_probability * firm_value
                      + insp.criminal_referral_probability * b.criminal_cost_yuan / 1e6)
    return pop.belief * insp.detection_probability * loss_if_caught


def counterfeit_probability(pop: Population, lv: Levers, sc: Scenario) -> np.ndarray:
    """Chance a reviewing firm produces shoddy or counterfeit goods (binary logit, §4.4).

    Gain against the expected penalty under the firm's own belief, in logit units, less its
    moral cost (Becker 1968; beliefs keep the chance of being caught apart from the fine).
    """
    out = np.maximum(pop.output, 1e-9)
    gain = sc.market.counterfeit_gain * out
    u_cf = (gain - perceived_penalty(pop, lv, sc)) / (sc.behaviour.logit_scale * out)
    return 1.0 / (1.0 + np.exp(-(u_cf - pop.moral_cost)))


def choose(pop: Population, lv: Levers, sc: Scenario, year: int, win_belief: np.ndarray,
           u_review: np.ndarray, key: int, gumbel: np.ndarray, n_sectors: int) -> Decisions:
    """One month of decisions. ``u_review``: uniforms (n_slots,); ``key``: the month's key for
    the reviewers' other uniforms (:func:`~simcity_quality.engine.rng.derived_uniforms`, rows 0-2);
    ``gumbel``: (6, k), one column per slot with ``u_review < decision_rate`` in slot order.

    Only those slots review, so only they are computed (about one firm in twelve a month).
    Which slots they are depends on ``u_review`` alone, never on a lever, and a slot's derived
    uniforms depend only on (key, slot), so the noise each firm draws stays the same across
    scenarios (common random numbers).

    With numba (:mod:`~simcity_quality.kernels`) the same computation runs compiled, firm by
    firm, with the same numbers; the numpy code below is the reference for it.
    """
    if kernels.ENABLED:
        return _choose_compiled(pop, lv, sc, year, win_belief, u_review, key, gumbel, n_sectors)
    candidates = np.flatnonzero(u_review < sc.behaviour.decision_rate)
    keep = pop.alive[candidates]
    slots = candidates[keep]
    # imitation looks at the whole sector, so it is measured before taking the subset
    w = sc.behaviour.imitation_weight
    imit_intl, imit_iso = (w * s for s in sector_shares((pop.intl_std, pop.iso9001), pop,
                                                        n_sectors, slots))
    part = pop.take(slots)
    u = np.concatenate([u_review[None, slots], derived_rows(key, 3, slots)])
    dec = _choose(part, lv, sc, year, win_belief, u, gumbel[:, keep], imit_intl, imit_iso)
    pop.put(slots, part, WRITTEN)
    choice = np.full(pop.n_slots, -1, dtype=np.int8)
    choice[slots] = dec.choice
    subsidised = np.zeros(pop.n_slots, dtype=bool)
    subsidised[slots] = dec.subsidised
    return Decisions(choice, dec.fee_waiver_yuan, subsidised)


def _choose_compiled(pop: Population, lv: Levers, sc: Scenario, year: int,
                     win_belief: np.ndarray, u_review: np.ndarray, key: int, gumbel: np.ndarray,
                     n_sectors: int) -> Decisions:
    """:func:`choose` through the compiled kernels (scalars computed here as numpy does)."""
    b, m, aw, insp, s = sc.behaviour, sc.market, sc.awards, lv.inspection, lv.subsidy
    waiver = lv.fees.fee_waiver_share
    slots, cols, imit_intl, imit_iso, z = kernels.choose_prepare(
        u_review, b.decision_rate, pop.alive, pop.sector, n_sectors, pop.intl_std, pop.iso9001,
        pop.output, pop.margin, pop.cash, pop.belief, pop.moral_cost, m.counterfeit_gain,
        b.horizon_years, insp.fine_yuan * insp.counterfeit_fine_multiplier / 1e6,
        insp.revocation_probability, insp.criminal_referral_probability * b.criminal_cost_yuan
        / 1e6, insp.detection_probability, b.logit_scale, b.imitation_weight)
    e = np.exp(z)  # numpy's exp, as in counterfeit_probability
    H = b.horizon_years
    f = np.array([
        b.logit_scale, H, s.loan_share, b.upgrade_cost,
        s.interest_subsidy_rate * s.loan_interest_rate, s.loan_years,
        m.quality_premium * b.upgrade_gain, b.intl_cost, m.intl_premium, b.intl_min_capability,
        b.iso_cost_yuan * (1.0 - b.fee_share * waiver) / 1e6, insp.fine_yuan, m.iso_premium,
        b.abatement_fraction, sc.environment.discharge_fee_yuan_per_tonne,
        insp.discharge_fine_yuan / 1e6 * H, b.abatement_cost,
        lv.procurement.preference_share * m.government_purchase_share,
        m.procurement_sales_gain, lv.procurement.price_premium * (1.0 + m.procurement_sales_gain),
        b.upgrade_gain, 1.0 + s.loan_interest_rate * s.loan_years, b.subsidy_additionality,
        b.subsidy_misuse, b.iso_substantive_share, b.iso_gain], dtype=np.float64)
    min_cap = np.zeros(4)
    iso_req = np.zeros(4)
    title_value = np.zeros(4)
    brand = np.zeros(4)
    app_cost = np.zeros(4)
    for t in (1, 2, 3):
        name = TIERS[t]
        min_cap[t] = getattr(aw.min_capability, name)
        iso_req[t] = getattr(aw.iso_required, name)
        province, city = reward_amounts(lv, year, t)
        title_value[t] = (province + city) / 1e6
        brand[t] = getattr(m.brand_premium, name)
        app_cost[t] = getattr(aw.application_cost_yuan, name) * (1.0 - b.fee_share * waiver) / 1e6
    bases = row_bases(key, 3)
    choice = np.full(pop.n_slots, -1, dtype=np.int8)
    subsidised = np.zeros(pop.n_slots, dtype=bool)
    counts = np.zeros(4, dtype=np.int64)  # certifications, applications per tier
    kernels.choose_apply(
        slots, cols, gumbel, imit_intl, imit_iso, e, bases, pop.output, pop.margin, pop.cash,
        pop.credit, pop.capability, pop.intl_std, pop.iso9001, pop.ccc_required, pop.ccc,
        pop.tier, pop.applying, pop.discharge_ratio, pop.counterfeit, pop.belief,
        pop.key_project, pop.subsidy_monthly, pop.subsidy_months_left, pop.debt_monthly,
        pop.debt_months_left, pop.sector, choice, subsidised, counts, f,
        sector_cod_coefficients(sc), min_cap, iso_req, title_value, brand, app_cost,
        np.asarray(win_belief, dtype=np.float64), bool(lv.permits.refuse_over_limit))
    waived = int(counts[0]) * b.iso_cost_yuan * b.fee_share * waiver
    for t in (1, 2, 3):
        waived += (int(counts[t]) * getattr(aw.application_cost_yuan, TIERS[t]) * b.fee_share
                   * waiver)
    return Decisions(choice, float(waived), subsidised)


def _choose(pop: Population, lv: Levers, sc: Scenario, year: int, win_belief: np.ndarray,
            u: np.ndarray, gumbel: np.ndarray, imit_intl: np.ndarray,
            imit_iso: np.ndarray) -> Decisions:
    """The decisions of firms that all review this month (arrays over those firms only)."""
    b, m, aw = sc.behaviour, sc.market, sc.awards
    out = np.maximum(pop.output, 1e-9)
    unit = b.logit_scale * out
    H = b.horizon_years
    reviewing = np.ones(pop.n_slots, dtype=bool)
    waiver = lv.fees.fee_waiver_share

    # 1. counterfeit or not
    p_cf = counterfeit_probability(pop, lv, sc)
    pop.counterfeit[reviewing] = u[1][reviewing] < p_cf[reviewing]

    # 2. investments
    loan_share = np.where(pop.credit, lv.subsidy.loan_share, 0.0)
    own = 1.0 - loan_share  # share of a cost paid from cash now
    util = np.full((len(OPTIONS), pop.n_slots), -np.inf)
    util[NOTHING] = 0.0

    cost_up = b.upgrade_cost * out
    subsidy = np.where(pop.key_project & pop.credit,
                       interest_subsidy_yuan(cost_up * loan_share, lv) / 1e6
                       * lv.subsidy.loan_years, 0.0)
    ok = pop.cash >= own * cost_up
    util[UPGRADE] = np.where(ok, (m.quality_premium * b.upgrade_gain * out * H
                                  - cost_up + subsidy) / unit, -np.inf)

    cost_intl = b.intl_cost * out
    ok = ~pop.intl_std & (pop.capability >= b.intl_min_capability) & (pop.cash >= own * cost_intl)
    util[INTL] = np.where(ok, (m.intl_premium * out * H - cost_intl) / unit + imit_intl, -np.inf)

    needs_ccc = pop.ccc_required & ~pop.ccc
    cost_cert = b.iso_cost_yuan * (1.0 - b.fee_share * waiver) / 1e6
    ok = (needs_ccc | ~pop.iso9001) & (pop.cash >= cost_cert)
    ccc_value = pop.belief * lv.inspection.fine_yuan / 1e6 * H  # avoid a sure failure
    benefit = np.where(needs_ccc, ccc_value, m.iso_premium * out * H)
    util[CERTIFY] = np.where(ok, (benefit - cost_cert) / unit + np.where(needs_ccc, 0, imit_iso),
                             -np.inf)

    cod_t = pop.output * sector_cod_coefficients(sc)[pop.sector]  # tonnes/yr at the standard
    cut = pop.discharge_ratio * b.abatement_fraction * cod_t
    over = pop.discharge_ratio > 1.0
    fee_saved = sc.environment.discharge_fee_yuan_per_tonne * cut / 1e6 * H
    # under §3.3 a firm caught over its limit must abate; only one without credit may close
    closure_risk = np.where(lv.permits.refuse_over_limit & ~pop.credit,
                            np.maximum(pop.margin, 0.0) * out * H, 0.0)
    # a fine in each year caught over the limit; closure (its value already counts H) once
    fine_avoided = pop.belief * (lv.inspection.discharge_fine_yuan / 1e6 * H + closure_risk)
    cost_ab = b.abatement_cost * out
    util[ABATE] = np.where(pop.cash >= own * cost_ab,
                           (fee_saved + np.where(over, fine_avoided, 0.0) - cost_ab) / unit,
                           -np.inf)

    nxt = np.minimum(pop.tier + 1, 3)
    apply_value = np.full(pop.n_slots, -np.inf)
    title_net = np.zeros(pop.n_slots)  # the next title's prospect, net of applying
    min_next = np.full(pop.n_slots, np.inf)
    iso_ok = np.ones(pop.n_slots, dtype=bool)
    for t in (1, 2, 3):
        name = TIERS[t]
        this = (nxt == t) & (pop.tier < 3)
        min_next[this] = getattr(aw.min_capability, name)
        if getattr(aw.iso_required, name) >= 0.5:
            iso_ok[this] = pop.iso9001[this]
        at = this & (pop.applying == 0) & (pop.capability >= min_next) & iso_ok
        province, city = reward_amounts(lv, year, t)
        # preferred branded firms win extra sales and are paid the price premium (§3.1)
        procurement = (lv.procurement.preference_share * m.government_purchase_share
                       * (m.procurement_sales_gain * np.maximum(pop.margin, 0.0)
                          + lv.procurement.price_premium * (1.0 + m.procurement_sales_gain))
                       * out * H)
        value = win_belief[t - 1] * ((province + city) / 1e6
                                     + getattr(m.brand_premium, name) * out * H + procurement)
        cost = getattr(aw.application_cost_yuan, name) * (1.0 - b.fee_share * waiver) / 1e6
        ok = at & (pop.cash >= cost)
        apply_value = np.where(ok, (value - cost) / unit, apply_value)
        title_net = np.where(this, value - cost, title_net)
    util[APPLY] = apply_value
    # an upgrade that would make the firm eligible is worth the title's prospect too
    # (the brand pipeline, §3.1: "mature a batch, recommend a batch")
    unlocks = iso_ok & (pop.capability < min_next) & (min_next <= pop.capability + b.upgrade_gain)
    util[UPGRADE] += np.where(unlocks, np.maximum(title_net, 0.0) / unit, 0.0)

    noisy = util + gumbel
    choice = np.where(reviewing, np.argmax(noisy, axis=0), -1).astype(np.int8)

    # effects and payments
    def pay(mask, cost):
        """Own share from cash now; the loan (with interest) repaid monthly over its term.

        A new loan on top of a running one folds what is still owed into the new schedule,
        so the total repaid is exact.
        """
        debt = cost * loan_share
        pop.cash[mask] -= (cost - debt)[mask]
        months = lv.subsidy.loan_years * 12
        owed = pop.debt_monthly * pop.debt_months_left + debt * (
            1.0 + lv.subsidy.loan_interest_rate * lv.subsidy.loan_years)
        with_debt = mask & (owed > 0)
        pop.debt_monthly[with_debt] = owed[with_debt] / months
        pop.debt_months_left[with_debt] = months

    up = choice == UPGRADE
    pay(up, cost_up)
    subsidised = up & pop.key_project & pop.credit
    gain = np.full(pop.n_slots, b.upgrade_gain)
    extra = np.divide(subsidy, cost_up, out=np.zeros(pop.n_slots), where=cost_up > 0)
    gain = np.where(subsidised, np.maximum(0.0, b.upgrade_gain * (1 + b.subsidy_additionality
                                                                  * extra)), gain)
    gain = np.where(subsidised & (u[2] < b.subsidy_misuse), 0.0, gain)  # misused subsidy
    pop.capability[up] += gain[up]
    yearly = interest_subsidy_yuan(cost_up * loan_share, lv)
    pop.subsidy_monthly[subsidised] = yearly[subsidised] / 12.0
    pop.subsidy_months_left[subsidised] = lv.subsidy.loan_years * 12
    pop.debt_monthly[subsidised] -= yearly[subsidised] / 12.0 / 1e6
    pop.key_project[subsidised] = False  # one subsidised project per selection

    intl = choice == INTL
    pay(intl, cost_intl)
    pop.intl_std[intl] = True

    cert = choice == CERTIFY
    pop.cash[cert] -= cost_cert
    got_ccc = cert & needs_ccc
    got_iso = cert & ~needs_ccc
    pop.ccc[got_ccc] = True
    pop.iso9001[got_iso] = True
    substantive = got_iso & (u[3] < b.iso_substantive_share)  # otherwise symbolic
    pop.capability[substantive] += b.iso_gain
    waived = int(np.count_nonzero(cert)) * b.iso_cost_yuan * b.fee_share * waiver

    ab = choice == ABATE
    pay(ab, cost_ab)
    pop.discharge_ratio[ab] *= 1.0 - b.abatement_fraction

    ap = choice == APPLY
    pop.applying[ap] = nxt[ap]
    for t in (1, 2, 3):
        n_t = int(np.count_nonzero(ap & (nxt == t)))
        waived += n_t * getattr(aw.application_cost_yuan, TIERS[t]) * b.fee_share * waiver
        pop.cash[ap & (nxt == t)] -= (getattr(aw.application_cost_yuan, TIERS[t])
                                      * (1 - b.fee_share * waiver) / 1e6)
    return Decisions(choice, float(waived), subsidised)
