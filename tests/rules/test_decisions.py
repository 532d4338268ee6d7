"""§7.2 decisions, engine (``engine.behaviour``) against reference (``Enterprise.decide``):
the counterfeit choice and the investment choice, on the same state and random numbers."""

import copy
import math

import numpy as np
from states import YEAR, assert_same, edge_uniforms, firms

from simcity_quality.categories import INVESTMENTS, OPTIONS, SECTORS, TIERS
from simcity_quality.engine import behaviour
from simcity_quality.engine.parameters import decision_parameters, title_table
from simcity_quality.engine.shared import reward_amounts
from simcity_quality.experiments.equivalence import twin_reference
from simcity_quality.reference.model import DecisionDraws

STATE = ("cash", "margin", "capability", "intl_std", "iso9001", "ccc", "discharge_ratio",
         "applying", "counterfeit", "key_project", "debt_monthly", "debt_months_left",
         "subsidy_monthly", "subsidy_months_left", "file_certified")


def test_counterfeit_probability_and_penalty_agree(sc):
    pop = firms()
    twin = twin_reference(sc, pop)
    for lv in (sc.status_quo, sc.policy):
        slots = np.arange(pop.n_slots)
        assert_same(behaviour.counterfeit_probability(pop, lv, sc),
                    [twin.firms[s].counterfeit_probability(lv) for s in slots], "p_cf")
        assert_same(behaviour.perceived_penalty(pop, lv, sc),
                    [twin.firms[s].perceived_penalty(lv) for s in slots], "penalty")


def test_counterfeit_probability_by_hand(sc):
    """docs/ODD.md §7.2: a small firm (output 8, margin 0.06, cash 2/12 of output, moral cost
    5.5, belief 0.1), under flat fines and under the sanction ladder."""
    pop = firms(1)
    pop.output[0], pop.margin[0], pop.cash[0] = 8.0, 0.06, 8.0 * 2 / 12
    pop.moral_cost[0], pop.belief[0] = 5.5, 0.1
    b, m = sc.behaviour, sc.market
    for rule in ("flat", "ladder"):
        case = sc.override({"policy.inspection.sanctions": rule})
        lv = case.policy
        insp = lv.inspection
        if rule == "flat":
            fine = min(insp.fine_yuan * insp.counterfeit_fine_multiplier / 1e6, 8.0 * 2 / 12)
        else:  # a multiple of the goods' value (capped by cash), and the notice's market loss
            fine = (min(insp.counterfeit_goods_multiple * insp.goods_value_share * 8.0,
                        8.0 * 2 / 12) + m.notice_sales_loss * 8.0)
        loss = (fine + insp.revocation_probability * 0.06 * 8.0 * b.horizon_years
                + insp.criminal_referral_probability * b.criminal_cost_yuan / 1e6)
        utility = (m.counterfeit_gain * 8.0 - 0.1 * insp.detection_probability * loss) / (
            b.logit_scale * 8.0) - 5.5
        expected = 1.0 / (1.0 + math.exp(-utility))
        got = behaviour.counterfeit_probability(pop, lv, case)[0]
        assert abs(got - expected) < 1e-12, rule
        assert abs(twin_reference(case, pop).firms[0].counterfeit_probability(lv)
                   - expected) < 1e-12, rule


def _decision_state(sc, n: int = 240, seed: int = 0):
    """Firms for the decision rule: ``states.firms``, plus some whose cash sits just above
    (or below) what each option costs them, so that a cost or a feasibility test changed by
    10 % opens or closes the option for someone."""
    pop = firms(n, seed)
    pop.key_project[::3] = True  # many key projects, so that subsidised upgrades are common
    # eligible applicants for every title, among the firms the draws push to apply
    for slots, tier in (((10, 22), 2), ((34, 46), 1), ((58, 70), 0)):
        pop.tier[list(slots)], pop.applying[list(slots)] = tier, 0
        pop.iso9001[list(slots)], pop.capability[list(slots)] = True, 4.0
        pop.cash[list(slots)] = pop.output[list(slots)]
        pop.file_national_failed[list(slots)] = 0  # a clean record (§7.7)
        pop.grade[list(slots)] = 1  # in good standing (awards.max_grade, §7.5)
    pop.credit[::4] = True
    # firms near their next title's capability threshold in good standing, so that a changed
    # threshold changes someone's eligibility (the grade gate is exercised by the others)
    threshold = np.array([np.inf, *(getattr(sc.awards.min_capability, t) for t in TIERS[1:])])
    nxt = np.minimum(pop.tier + 1, len(TIERS) - 1)
    near = np.abs(pop.capability - threshold[nxt]) < 0.15 * threshold[nxt]
    pop.grade[near & (pop.grade >= 2)] = 1
    pop.watched[:] = pop.grade >= 2
    p = decision_parameters(sc, sc.levers_for(YEAR))
    out = pop.output
    own = 1.0 - np.where(pop.credit, p.loan_share, 0.0)
    costs = (own * p.upgrade_cost * out, own * p.intl_cost * out,
             p.certification_cost_million[pop.size], own * p.abatement_cost * out)
    for j, cost in enumerate(costs):
        edge = np.arange(n) % 12 == 6 + j  # a few firms at each cost's edge
        pop.cash[edge] = cost[edge] * np.where(np.arange(n)[edge] % 24 < 12, 1.05, 0.95)
    return pop


def _adoption_uniforms(sc, pop, p, u_front, seed: int) -> np.ndarray:
    """Uniforms (investments, slots) for the binary choices, on both sides of each
    investment's chance: by firm and option, just below the chance (made), just above it (not
    made; a payoff changed by 10 % flips some), or near zero (made wherever open, so that every
    investment and the order under the firm's cash are exercised)."""
    probe = copy.deepcopy(pop)  # the payoffs come before any investment is made
    n = pop.n_slots
    nothing = np.vstack([u_front, np.ones((len(OPTIONS) - 1, n))])  # no investment made
    dec = behaviour.choose(probe, sc, sc.levers_for(YEAR), p,
                           title_table(sc, sc.levers_for(YEAR), YEAR), WIN_BELIEF,
                           lambda rows, slots: nothing[:rows, slots], len(SECTORS))
    chance = np.full((len(OPTIONS) - 1, n), 0.5)
    chance[:, dec.reviewers] = (1.0 / (1.0 + np.exp(-dec.utilities[:, 1:]))).T
    which = (np.arange(n)[None, :] + np.arange(len(OPTIONS) - 1)[:, None] + seed) % 3
    below, above = chance * 0.95, np.minimum(chance * 1.05, 1 - 1e-9)
    return np.where(which == 0, below, np.where(which == 1, above, 1e-6))


WIN_BELIEF = np.array([0.0, 0.4, 0.2, 0.1])


def _decide_both(sc, pop, seed: int = 3, win_belief=None, cutoff=None, grade_value=None,
                 years_unpreferred=None, gates=None):
    """One month of decisions by every firm, in the engine and in the reference, on the same
    uniforms: review draws around the decision rate, counterfeit draws around each firm's
    chance and substantive-ISO draws around their probability, misuse draws alternately just
    above and just below its probability, and adoption draws around each investment's chance
    (``_adoption_uniforms``). ``grade_value``, ``years_unpreferred``: what firms learnt of
    the grades (None: nothing yet); ``gates``: the years beyond the titles' and key projects'
    grades and the selection rate (``GATES``; None: nothing yet)."""
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    if grade_value is not None:
        p = p._replace(grade_value=np.asarray(grade_value, dtype=float))
    if years_unpreferred is not None:
        p = p._replace(years_unpreferred=np.asarray(years_unpreferred, dtype=float))
    if gates is not None:
        p = p._replace(**gates)
    win_belief = WIN_BELIEF if win_belief is None else win_belief
    twin = twin_reference(sc, pop)  # the state before anything is decided
    twin.model.grade_value = [float(v) for v in p.grade_value]
    twin.model.years_unpreferred = [float(v) for v in p.years_unpreferred]
    twin.model.years_untitled = [float(v) for v in p.years_untitled]
    twin.model.years_unsubsidised = [float(v) for v in p.years_unsubsidised]
    twin.model.key_project_rate = p.key_project_rate
    twin.model.win_belief = list(win_belief)
    if cutoff is not None:
        twin.model.title_cutoff = list(cutoff)
    n = pop.n_slots
    u_review = np.where(np.arange(n) % 8 == 7, p.decision_rate * 1.05,
                        np.random.default_rng(seed).uniform(0, p.decision_rate, n))
    # firms under a deadline-treatment order (§3.3) review every month
    reviewers = np.flatnonzero((u_review < p.decision_rate) | (pop.deadline >= 0))
    front = np.vstack([u_review,
                       edge_uniforms(behaviour.counterfeit_probability(
                           pop, lv, sc, p.grade_value, p.years_unpreferred, p.years_untitled,
                           p.years_unsubsidised, p.key_project_rate, YEAR, win_belief,
                           cutoff), seed + 1),
                       # every draw just above or just below the misuse chance (few subsidised)
                       np.where(np.arange(n) % 2 == 0, 1.05, 0.95) * p.subsidy_misuse,
                       edge_uniforms(np.full(n, p.iso_substantive_share), seed + 3)])
    u = np.vstack([front, _adoption_uniforms(sc, pop, p, front, seed)])
    dec = behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), win_belief,
                           lambda rows, slots: u[:rows, slots], len(SECTORS), cutoff)
    draws = {firm: DecisionDraws(u[0, s], u[1, s], u[2, s], u[3, s], tuple(u[4:, s]))
             for s, firm in twin.firms.items()}
    twin.model.counts = dict.fromkeys(twin.model.counts, 0)
    twin.model.firm_decisions(lv, YEAR, draws)
    return dec, twin, reviewers


def test_investment_utilities_choices_and_effects_agree(sc):
    pop = _decision_state(sc)
    dec, twin, reviewers = _decide_both(sc, pop)
    ref_util = np.array([[twin.firms[int(s)].last_utilities.get(o, -np.inf) for o in OPTIONS]
                         for s in reviewers])
    assert_same(dec.utilities, ref_util, "utilities")
    ref_mask = [sum(1 << (OPTIONS.index(o) - 1) for o in twin.firms[int(s)].last_invested)
                for s in reviewers]
    assert_same(dec.invested[reviewers], ref_mask, "investments made")
    everyone = np.arange(pop.n_slots)
    for name in STATE:
        assert_same(getattr(pop, name), twin.enterprise_values(name, everyone), name)
    counts = twin.model.counts
    for name in ("quality_upgrades", "intl_standard_adoptions", "certifications",
                 "abatements"):
        assert dec.counts[name] == counts[name] > 0, name
    # the COD a year the abatement investments removed (t), reported apart from the trend
    assert abs(dec.counts["cod_cut_abatement"] - counts["cod_cut_abatement"]) < 1e-9
    assert counts["cod_cut_abatement"] > 0
    assert dec.applications == counts["brand_applications"] > 0
    applied = (dec.invested >= 0) & (dec.invested >> (OPTIONS.index("apply_title") - 1) & 1 == 1)
    for t in range(1, len(TIERS)):  # each tier's applications, as decide counts them
        assert dec.counts[f"applications_{TIERS[t]}"] == (applied & (pop.applying == t)).sum()
    assert int(np.count_nonzero(dec.subsidised)) == counts["key_projects_subsidised"] > 3
    # every investment made by some firm, some firms making several, some none; every tier's
    # application; a firm that could not pay for all it chose (its cash ran out on the way)
    made = dec.invested[reviewers]
    assert all((made >> k & 1).any() for k in range(len(OPTIONS) - 1))
    assert (made == 0).any() and (np.bitwise_count(made.astype(np.uint8)) >= 2).any()
    assert set(pop.applying[(dec.invested >= 0) & (dec.invested >> 4 & 1 == 1)]) == {1, 2, 3}
    assert reviewers.size < pop.n_slots


def test_a_higher_payoff_raises_its_option_alone(sc):
    """A bigger ISO premium raises the certification utility of firms that can certify for ISO
    and leaves every other option's utility where it was (logit: no crowding by construction
    beyond the choice itself)."""
    pop_a, pop_b = _decision_state(sc), _decision_state(sc)
    dec_a, _, reviewers = _decide_both(sc, pop_a)
    richer = sc.override({"market.iso_premium": sc.market.iso_premium * 2})
    dec_b, _, _ = _decide_both(richer, pop_b)
    certify = OPTIONS.index("certify")
    others = [o for o in range(len(OPTIONS)) if o != certify]
    assert_same(dec_a.utilities[:, others], dec_b.utilities[:, others], "other options")
    start = _decision_state(sc)
    iso_route = (~start.iso9001 & ~(start.ccc_required & ~start.ccc))[reviewers]
    open_ = np.isfinite(dec_a.utilities[:, certify]) & iso_route
    assert open_.any()
    assert (dec_b.utilities[open_, certify] > dec_a.utilities[open_, certify]).all()


def test_win_beliefs_value_applications_in_both(sc):
    pop = _decision_state(sc)
    none, _, reviewers = _decide_both(sc, pop, win_belief=np.zeros(len(TIERS)))
    apply = OPTIONS.index("apply_title")
    util = none.utilities[:, apply]
    cost = title_table(sc, sc.levers_for(YEAR), YEAR).application_cost_million
    start = _decision_state(sc)
    out = np.maximum(start.output[reviewers], 1e-9)
    open_ = np.isfinite(util)
    tier = start.tier[reviewers]
    # with no hope of winning, applying is worth exactly minus its cost
    nxt = np.minimum(tier + 1, len(TIERS) - 1)
    expected = -cost[nxt][open_] / (sc.behaviour.logit_scale * out[open_])
    assert np.allclose(util[open_], expected, rtol=1e-12)


def _one_firm_decides(sc, pop, adopt: float = 1e-9):
    """Firm 0 reviews, with the upgrade's and international standards' uniforms at ``adopt``
    (near 0: chosen where open) and the other investments' at 1 (never chosen), no
    counterfeiting; returns its decisions."""
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    chosen = np.ones((len(OPTIONS) - 1, 1))
    chosen[[OPTIONS.index("upgrade") - 1, OPTIONS.index("intl_standard") - 1]] = adopt
    u = np.vstack([[0.0], [1.0], [1.0], [1.0], chosen])
    return behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), np.zeros(len(TIERS)),
                            lambda rows, slots: u[:rows, slots], len(SECTORS))


def _investor(sc):
    """A firm with no credit that can take an upgrade and international standards."""
    pop = firms(1)
    pop.credit[0], pop.key_project[0], pop.intl_std[0] = False, False, False
    pop.iso9001[0], pop.ccc_required[0], pop.tier[0] = True, False, len(TIERS) - 1
    pop.capability[0], pop.output[0], pop.margin[0] = 3.0, 10.0, 0.05
    pop.discharge_ratio[0] = 0.5
    return pop


def test_investments_do_not_crowd_each_other_out_except_through_cash(sc):
    """With cash for both, a firm that chooses an upgrade and international standards makes
    both; with cash for one, it makes the one of higher net payoff; an upgrade raises the margin
    by the quality premium it was chosen for (the premium is earned, §7.3)."""
    p = decision_parameters(sc, sc.levers_for(YEAR))
    upgrade, intl = OPTIONS.index("upgrade"), OPTIONS.index("intl_standard")
    rich = _investor(sc)
    rich.cash[0] = 10.0
    dec = _one_firm_decides(sc, rich)
    assert behaviour.invested_options(dec.invested[0]) == ["upgrade", "intl_standard"]
    assert abs(rich.margin[0] - (0.05 + p.quality_premium * p.upgrade_gain)) < 1e-12
    assert abs(rich.capability[0] - (3.0 + p.upgrade_gain)) < 1e-12 and rich.intl_std[0]
    assert abs(rich.cash[0] - (10.0 - (p.upgrade_cost + p.intl_cost) * 10.0)) < 1e-12
    # cash for the dearer of the two only: the more valuable goes first and the other waits
    tight = _investor(sc)
    tight.cash[0] = max(p.upgrade_cost, p.intl_cost) * 10.0 * 1.01
    dec = _one_firm_decides(sc, tight)
    first = upgrade if dec.utilities[0, upgrade] >= dec.utilities[0, intl] else intl
    assert behaviour.invested_options(dec.invested[0]) == [OPTIONS[first]]
    # a uniform above an investment's chance leaves it unmade, whatever the others do
    none = _investor(sc)
    none.cash[0] = 10.0
    assert _one_firm_decides(sc, none, adopt=1.0).invested[0] == 0
    assert none.margin[0] == 0.05 and none.cash[0] == 10.0


def test_a_later_investment_is_made_only_if_the_cash_left_pays_for_it(sc):
    """A firm over its discharge limit that fears a fine abates first (the highest payoff);
    international standards, a certificate or an application comes second and is made when the
    cash left covers it (by 5 %), not when it falls 5 % short."""
    p = decision_parameters(sc, sc.levers_for(YEAR))
    titles = title_table(sc, sc.levers_for(YEAR), YEAR)
    abate = OPTIONS.index("abate")
    for second, tier in (("intl_standard", 0), ("certify", 0), ("apply_title", 0),
                         ("apply_title", 1)):
        made = []
        for margin in (1.05, 0.95):
            pop = firms(1)
            pop.credit[0], pop.key_project[0], pop.intl_std[0] = False, False, True
            pop.iso9001[0], pop.ccc_required[0], pop.tier[0] = True, False, len(TIERS) - 1
            pop.capability[0], pop.output[0], pop.belief[0] = 4.0, 10.0, 1.0
            # over its limit, and one treatment plant brings it within (§3.3: closure
            # avoided, which makes the abatement the most valuable investment)
            pop.discharge_ratio[0], pop.applying[0] = 1.5, 0
            pop.discharge_limit[0], pop.deadline[0] = 1.0, -1
            if second == "intl_standard":
                pop.intl_std[0], cost = False, p.intl_cost * 10.0
            elif second == "certify":
                pop.iso9001[0], cost = False, p.certification_cost_million[pop.size[0]]
            else:
                pop.tier[0], cost = tier, titles.application_cost_million[tier + 1]
                pop.capability[0] = max(4.0, titles.min_capability[tier + 1] + 0.1)
            pop.cash[0] = p.abatement_cost * 10.0 + margin * cost
            chosen = np.ones((len(OPTIONS) - 1, 1))
            chosen[[abate - 1, OPTIONS.index(second) - 1]] = 1e-12
            u = np.vstack([[0.0], [1.0], [1.0], [1.0], chosen])
            lv = sc.levers_for(YEAR)
            dec = behaviour.choose(pop, sc, lv, p, titles, np.full(len(TIERS), 0.5),
                                   lambda rows, slots, u=u: u[:rows, slots], len(SECTORS))
            assert dec.utilities[0, abate] > dec.utilities[0, OPTIONS.index(second)], second
            made.append(behaviour.invested_options(dec.invested[0]))
        assert [sorted(m) for m in made] == [sorted(["abate", second]), ["abate"]], second


# judges' cut-offs per tier (index 0 unused; national award never won yet: the city rate)
CUTOFF = np.array([np.nan, 4.6, 5.8, np.nan])


def test_own_score_beliefs_agree(sc):
    """Under ``own_score`` each firm's chance of winning comes from its own judging score
    against the tier's last cut-off; the engine and the reference value and carry out the
    same investments."""
    own = sc.override({"behaviour.title_belief": "own_score"})
    pop = _decision_state(own)
    dec, twin, reviewers = _decide_both(own, pop, cutoff=CUTOFF)
    ref_util = np.array([[twin.firms[int(s)].last_utilities.get(o, -np.inf) for o in OPTIONS]
                         for s in reviewers])
    assert_same(dec.utilities, ref_util, "utilities")
    for name in STATE:
        assert_same(getattr(pop, name), twin.enterprise_values(name, np.arange(pop.n_slots)),
                    name)
    # the rule matters: the same firms value applying differently under the city rate
    pop_city = _decision_state(sc)
    dec_city, _, _ = _decide_both(sc, pop_city, cutoff=CUTOFF)
    apply = OPTIONS.index("apply_title")
    both = np.isfinite(dec.utilities[:, apply]) & np.isfinite(dec_city.utilities[:, apply])
    assert both.any() and (dec.utilities[both, apply] != dec_city.utilities[both, apply]).any()


def _contenders(sc, capability_offsets):
    """Identical firms holding a provincial title, eligible for China Famous Brand, each at a
    given distance (judges' score) from the China Famous Brand cut-off; their utilities."""
    n = len(capability_offsets)
    pop = firms(n)
    pop.tier[:], pop.applying[:], pop.iso9001[:], pop.credit[:] = 1, 0, True, True
    pop.output[:], pop.margin[:], pop.cash[:] = 50.0, 0.05, 50.0
    pop.key_project[:], pop.file_national_failed[:] = False, 0
    aw = sc.awards
    base = aw.certification_bonus + aw.size_bonus * np.log10(50.0)
    pop.capability[:] = CUTOFF[2] - base + np.asarray(capability_offsets)
    assert (pop.capability >= aw.min_capability.china_famous_brand).all()
    lv = sc.levers_for(YEAR)
    u = np.ones((len(behaviour.DRAWS) + len(OPTIONS) - 1, n))
    u[0] = 0.0  # everyone reviews; no investment is made
    dec = behaviour.choose(pop, sc, lv, decision_parameters(sc, lv), title_table(sc, lv, YEAR),
                           WIN_BELIEF, lambda rows, slots: u[:rows, slots], len(SECTORS), CUTOFF)
    return dec.utilities


def test_under_own_score_a_firm_just_below_the_cutoff_values_an_upgrade_most(sc):
    """Hand-computed (docs/ODD.md §7.7): with judging noise s, a firm whose score is just
    below the cut-off (by s/4) gains most from an upgrade: its chance rises by
    Phi((g - s/4) / s) - Phi(-1/4) for an upgrade gain g; firms far below (3 s) or far above
    (3 s) gain almost nothing. Under the city rate all three value it alike (all eligible
    already). At the cut-off itself the chance is one half, the city rate's 0.5 here."""
    from scipy.stats import norm

    own = sc.override({"behaviour.title_belief": "own_score"})
    s_ = own.awards.judging_noise
    offsets = [-s_ / 4, -3 * s_, 3 * s_, 0.0]
    util = _contenders(own, offsets)
    up, apply = OPTIONS.index("upgrade"), OPTIONS.index("apply_title")
    near, below, above, at = util[:, up]
    assert near > below and near > above
    city = _contenders(sc, offsets)
    assert np.ptp(city[:, up]) == 0.0
    assert near > city[0, up]  # the upgrade's title prospect is worth something to it
    # by hand: at the cut-off the chance is one half (the city rate here is WIN_BELIEF[2]),
    # which gives the prize; the near firm's upgrade adds the prize times its chance's rise
    lv = own.levers_for(YEAR)
    p, cost = decision_parameters(own, lv), title_table(own, lv, YEAR).application_cost_million[2]
    unit = p.logit_scale * 50.0
    prize = (util[3, apply] - city[3, apply]) * unit / (0.5 - WIN_BELIEF[2])
    assert abs(city[3, apply] - (WIN_BELIEF[2] * prize - cost) / unit) < 1e-9
    now, after = norm.cdf(-0.25), norm.cdf((p.upgrade_gain - s_ / 4) / s_)
    expected = (max(after * prize - cost, 0.0) - max(now * prize - cost, 0.0)) / unit
    assert expected > 0 and abs((near - city[0, up]) - expected) < 1e-9
    assert abs(util[0, apply] - (now * prize - cost) / unit) < 1e-9


def test_own_score_win_chance_by_hand(sc):
    """Under ``own_score`` the chance is Phi(gap / judging_noise), gap the firm's judging score
    less the tier's cut-off; with no judging noise it is 1 above the cut-off and 0 at or
    below it; under ``city_rate``, or before any cut-off, the city-wide belief."""
    own = sc.override({"behaviour.title_belief": "own_score"})
    aw = own.awards
    lv = own.levers_for(YEAR)
    pop = firms(3)
    pop.output[:], pop.iso9001[:] = 20.0, [True, False, True]
    score_base = aw.size_bonus * np.log10(20.0)
    cutoff = np.array([np.nan, 4.0, np.nan, np.nan])
    pop.capability[:] = [4.3 - score_base - aw.certification_bonus, 3.5 - score_base,
                         4.0 - score_base - aw.certification_bonus]  # gaps +0.3, -0.5, 0
    twin = twin_reference(own, pop)
    twin.model.win_belief = list(WIN_BELIEF)
    twin.model.title_cutoff = list(cutoff)
    for noise in (aw.judging_noise, 0.0):
        # no judging noise lies outside the [uncertain] range: set it without validation
        sc_n = own.model_copy(update={"awards": aw.model_copy(update={"judging_noise": noise})})
        titles = title_table(own, lv, YEAR)._replace(judging_noise=noise)
        twin.model.scenario = sc_n
        for i, gap in enumerate((0.3, -0.5, 0.0)):
            expect = (0.5 * math.erfc(-gap / (noise * math.sqrt(2.0))) if noise > 0
                      else float(gap > 0))
            got = behaviour.win_chance(pop.arrays(), i, titles, WIN_BELIEF, cutoff, 1,
                                       pop.capability[i])
            ref = twin.firms[i].win_chance(1, pop.capability[i])
            assert math.isclose(got, expect, rel_tol=1e-12, abs_tol=1e-15), (noise, gap, got)
            assert math.isclose(ref, expect, rel_tol=1e-12, abs_tol=1e-15), (noise, gap, ref)
        # no cut-off seen for tier 2: the city-wide belief
        assert behaviour.win_chance(pop.arrays(), 0, titles, WIN_BELIEF, cutoff, 2,
                                    pop.capability[0]) == WIN_BELIEF[2]
    city = title_table(sc, lv, YEAR)
    assert behaviour.win_chance(pop.arrays(), 0, city, WIN_BELIEF, cutoff, 1,
                                pop.capability[0]) == WIN_BELIEF[1]


# ---------------------------------------------------------------------------------------
# the published grade's value in the firms' choices (docs/ODD.md §7.5)

GRADE_VALUE = np.array([0.004, 0.011, 0.05, 0.12])  # a learnt present value per grade
# learnt discounted years beyond the procurement preference's grade (the plan's C: at D)
YEARS_UNPREFERRED = np.array([0.05, 0.2, 0.6, 2.4])


def test_the_grade_at_stake_weighs_on_counterfeiting_alike(sc):
    """With learnt grade values, counterfeiting also risks falling to D: engine and
    reference agree, and a hand-computed firm matches."""
    pop = firms()
    twin = twin_reference(sc, pop)
    twin.model.grade_value = GRADE_VALUE.tolist()
    slots = np.arange(pop.n_slots)
    for lv in (sc.status_quo, sc.policy):
        got = behaviour.counterfeit_probability(pop, lv, sc, GRADE_VALUE)
        assert_same(got, [twin.firms[s].counterfeit_probability(lv) for s in slots], "p_cf")
        assert (got <= behaviour.counterfeit_probability(pop, lv, sc) + 1e-15).all()
        assert (got < behaviour.counterfeit_probability(pop, lv, sc) - 1e-6).any()
    one = firms(1)
    one.output[0], one.margin[0], one.cash[0], one.grade[0] = 8.0, 0.06, 8.0 * 2 / 12, 1
    one.moral_cost[0], one.belief[0] = 1.5, 0.4
    lv, b, m = sc.policy, sc.behaviour, sc.market
    insp = lv.inspection
    fine = (min(insp.counterfeit_goods_multiple * insp.goods_value_share * 8.0, 8.0 * 2 / 12)
            + m.notice_sales_loss * 8.0)
    loss = (fine + insp.revocation_probability * 0.06 * 8.0 * b.horizon_years
            + insp.criminal_referral_probability * b.criminal_cost_yuan / 1e6)
    stake = 0.4 * insp.detection_probability * (0.12 - 0.011) * 8.0
    utility = (m.counterfeit_gain * 8.0 - 0.4 * insp.detection_probability * loss - stake) / (
        b.logit_scale * 8.0) - 1.5
    expected = 1.0 / (1.0 + math.exp(-utility))
    assert abs(behaviour.counterfeit_probability(one, lv, sc, GRADE_VALUE)[0] - expected) < 1e-12


def test_the_grade_kept_weighs_on_the_upgrade_alike(sc):
    """An upgrade lowers the chance of failing and so of falling a grade: its payoff gains
    belief x (logistic(c + gain) - logistic(c)) x (value of the worse grade - own) x output x
    horizon, in engine and reference alike."""
    pop = _decision_state(sc)
    twin = twin_reference(sc, pop)
    twin.model.grade_value = GRADE_VALUE.tolist()
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)._replace(grade_value=GRADE_VALUE)
    f = pop.arrays()
    got = np.array([behaviour.upgrade_grade_value(f.grade[i], f.capability[i], f.belief[i],
                                                  f.output[i], f.tier[i], f.margin[i],
                                                  f.credit[i], 0.0, p)
                    for i in range(pop.n_slots)])
    ref = np.array([twin.firms[s].upgrade_grade_value(lv) for s in range(pop.n_slots)])
    assert_same(got, ref, "the grade's value of an upgrade")
    i = int(np.flatnonzero(pop.grade == 1)[0])

    def logistic(x):
        return 1.0 / (1.0 + math.exp(-x))

    by_hand = (pop.belief[i] * (logistic(pop.capability[i] + p.upgrade_gain)
                                - logistic(pop.capability[i]))
               * (GRADE_VALUE[2] - GRADE_VALUE[1]) * pop.output[i] * p.horizon_years)
    assert abs(got[i] - by_hand) < 1e-12 * abs(by_hand) and by_hand > 0
    assert got[pop.grade == 3].max() == 0.0  # nothing to lose at D


def test_the_procurement_preference_a_worse_grade_forgoes_weighs_alike(sc):
    """A title holder that would fall to a grade the procurement preference does not admit
    (the plan: D, GPL 2002 art. 22) also loses the preference for the years it would spend
    there: its counterfeiting is less likely, and an upgrade at C worth more, than for the
    same firm without a title; engine and reference agree, and a hand-computed case."""
    pop = firms()
    lv = sc.policy
    twin = twin_reference(sc, pop)
    twin.model.grade_value = GRADE_VALUE.tolist()
    twin.model.years_unpreferred = YEARS_UNPREFERRED.tolist()
    slots = np.arange(pop.n_slots)
    got = behaviour.counterfeit_probability(pop, lv, sc, GRADE_VALUE, YEARS_UNPREFERRED)
    assert_same(got, [twin.firms[s].counterfeit_probability(lv) for s in slots], "p_cf")
    without = behaviour.counterfeit_probability(pop, lv, sc, GRADE_VALUE)
    holders = (pop.tier > 0) & (pop.grade < 3)
    assert (got[holders] < without[holders]).all()
    assert np.array_equal(got[~holders], without[~holders])  # no title, or at D already
    p = decision_parameters(sc, lv)._replace(grade_value=GRADE_VALUE,
                                             years_unpreferred=YEARS_UNPREFERRED)
    gain = lv.procurement.preference_share * sc.market.government_purchase_share * (
        sc.market.procurement_sales_gain * 0.05
        + lv.procurement.price_premium * (1 + sc.market.procurement_sales_gain))
    assert gain > 0
    assert abs(behaviour.procurement_gain(2, 0.05, p) - gain) < 1e-15
    assert behaviour.procurement_gain(0, 0.05, p) == 0.0
    # from C to D: the sales lost and, for a holder, the preference in the years at D
    assert abs(behaviour.grade_loss(2, 3, 1, 0.05, False, 0.0, p)
               - (0.12 - 0.05 + gain * (2.4 - 0.6))) < 1e-15
    assert behaviour.grade_loss(2, 3, 0, 0.05, False, 0.0, p) == 0.12 - 0.05
    held = behaviour.upgrade_grade_value(2, 0.5, 0.4, 8.0, 1, 0.05, False, 0.0, p)
    assert held > behaviour.upgrade_grade_value(2, 0.5, 0.4, 8.0, 0, 0.05, False, 0.0, p) > 0
    # a firm that cannot be preferred (at D) values no preference in a title it applies for
    pop = _decision_state(sc)
    twin = twin_reference(sc, pop)
    dec, twin, reviewers = _decide_both(sc, pop, grade_value=GRADE_VALUE,
                                        years_unpreferred=YEARS_UNPREFERRED)
    ref_util = np.array([[twin.firms[int(s)].last_utilities.get(o, -np.inf) for o in OPTIONS]
                         for s in reviewers])
    assert_same(dec.utilities, ref_util, "utilities")


def test_a_missing_ccc_is_worth_what_a_failure_costs_on_the_firms_step(sc):
    """The CCC a firm lacks is worth what the failure it avoids would cost (§3.3;
    ``behaviour.failure_cost``): on the ladder nothing at a correction order but the grade,
    a notice at the second step, a notice and a suspension at the third, the firm's value at
    the fourth (revoked); under flat fines the fine; engine and reference alike, by hand."""
    lv = sc.policy
    insp, m = lv.inspection, sc.market
    assert insp.sanctions == "ladder" and insp.ladder_memory_months == 12
    pop = firms(6)
    pop.grade[:], pop.tier[:], pop.margin[:], pop.output[:] = 1, 1, 0.05, 10.0
    # no, one, two and three failed inspections in the ladder's memory; two outside it
    bits = [0, 1, 0b11, 0b111, 1 << 12, (1 << 13) | (1 << 20)]
    pop.file_inspection_failed[:] = np.array(bits, dtype=np.uint64)
    twin = twin_reference(sc, pop)
    twin.model.grade_value = GRADE_VALUE.tolist()
    twin.model.years_unpreferred = YEARS_UNPREFERRED.tolist()
    p = decision_parameters(sc, lv)._replace(grade_value=GRADE_VALUE,
                                             years_unpreferred=YEARS_UNPREFERRED)
    f = pop.arrays()
    got = np.array([behaviour.failure_cost(f.file_inspection_failed[i], f.margin[i],
                                           f.output[i], f.grade[i], f.tier[i], f.credit[i],
                                           0.0, p)
                    for i in range(6)])
    assert_same(got, [twin.firms[s].failure_cost(lv) for s in range(6)], "failure cost")
    grade = behaviour.grade_loss(1, 2, 1, 0.05, False, 0.0, p) * 10.0
    notice = m.notice_sales_loss * 10.0
    by_hand = [grade, grade + notice,
               grade + notice + 0.05 * 10.0 * insp.suspension_months / 12,
               grade + 0.05 * 10.0 * sc.behaviour.horizon_years, grade, grade]
    assert np.allclose(got, by_hand, rtol=1e-12, atol=0) and grade > 0
    flat = sc.override({"policy.inspection.sanctions": "flat"})
    lv_flat = flat.policy
    pf = decision_parameters(flat, lv_flat)._replace(grade_value=GRADE_VALUE,
                                                     years_unpreferred=YEARS_UNPREFERRED)
    twin_flat = twin_reference(flat, pop)
    twin_flat.model.grade_value = GRADE_VALUE.tolist()
    twin_flat.model.years_unpreferred = YEARS_UNPREFERRED.tolist()
    for i in range(6):
        cost = behaviour.failure_cost(f.file_inspection_failed[i], 0.05, 10.0, 1, 1, False, 0.0,
                                      pf)
        assert abs(cost - (grade + lv_flat.inspection.fine_yuan / 1e6)) < 1e-12
        assert abs(cost - twin_flat.firms[i].failure_cost(lv_flat)) < 1e-12


def test_decisions_with_learnt_grade_values_agree(sc):
    """The whole month's decisions with learnt grade values: the same utilities, choices and
    counterfeiting in engine and reference, and upgrades worth more than without them."""
    pop = _decision_state(sc)
    before = copy.deepcopy(pop)
    dec, twin, reviewers = _decide_both(sc, pop, grade_value=GRADE_VALUE)
    ref_util = np.array([[twin.firms[int(s)].last_utilities.get(o, -np.inf) for o in OPTIONS]
                         for s in reviewers])
    assert_same(dec.utilities, ref_util, "utilities")
    everyone = np.arange(pop.n_slots)
    for name in ("counterfeit", "capability", "cash"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, everyone), name)
    plain, _, _ = _decide_both(sc, before)
    up = OPTIONS.index("upgrade")
    open_ = np.isfinite(plain.utilities[:, up])
    assert (dec.utilities[open_, up] >= plain.utilities[open_, up] - 1e-12).all()
    assert (dec.utilities[open_, up] > plain.utilities[open_, up] + 1e-9).any()


def test_the_reference_counts_what_contenders_invest_in(sc):
    """The contenders' upgrades and international-standard adoptions the reference counts
    (``ReferenceCityModel.firm_decisions``) are those of the firms that were contenders before
    the month's decisions (``government.title_contenders``, docs/ODD.md §7.7)."""
    from simcity_quality.engine import government

    pop = _decision_state(sc)
    titles = title_table(sc, sc.levers_for(YEAR), YEAR)
    cutoff = np.array([np.nan, 3.6, 4.4, 5.0])
    contenders = np.flatnonzero(government.title_contenders(
        pop, sc.awards, titles.open_round, cutoff, sc.behaviour.upgrade_gain))
    dec, twin, _ = _decide_both(sc, pop, cutoff=cutoff)
    counts = twin.model.counts
    upgrades = sum("upgrade" in twin.firms[int(s)].last_invested for s in contenders)
    intl = sum("intl_standard" in twin.firms[int(s)].last_invested for s in contenders)
    assert counts["title_contenders"] == contenders.size > 0
    assert counts["contender_upgrades"] == upgrades
    assert counts["contender_intl_adoptions"] == intl
    made = [twin.firms[int(s)].last_invested for s in contenders]
    assert any("upgrade" not in m for m in made) and any("intl_standard" not in m for m in made)
    # the engine counts the same firms from its own decisions (behaviour.investments_made)
    among = np.zeros(pop.n_slots, dtype=bool)
    among[contenders] = True
    engine = np.zeros(2)
    behaviour.investments_made(among, dec.invested, pop.weight,
                     np.array([INVESTMENTS.index("upgrade"), INVESTMENTS.index("intl_standard")]),
                     engine)
    assert engine.tolist() == [upgrades, intl]


# learnt discounted years beyond the titles' grade (awards.max_grade B: at C and D) and the
# key projects' (subsidy.max_grade, the plan's B), and the key projects chosen per eligible
# firm; unlike each other and the procurement preference's, so that no term stands in for
# another
GATES = {"years_untitled": np.array([0.1, 0.3, 1.9, 2.5]),
         "years_unsubsidised": np.array([0.08, 0.25, 1.7, 2.3]), "key_project_rate": 0.3}


# cut-offs near the judging scores of _gate_state's firms, so that own scores give chances
# on both sides of an application's cost
GATE_CUTOFF = np.array([np.nan, 3.5, 4.1, np.nan])


def _learnt(sc, lv, twin=None, cutoff=None):
    """The decision parameters with every learnt value of the grades (``GRADE_VALUE``,
    ``YEARS_UNPREFERRED``, ``GATES``), and ``twin``'s model told the same (with
    ``WIN_BELIEF`` and ``cutoff``)."""
    p = decision_parameters(sc, lv)._replace(grade_value=GRADE_VALUE,
                                             years_unpreferred=YEARS_UNPREFERRED, **GATES)
    if twin is not None:
        m = twin.model
        m.grade_value, m.years_unpreferred = GRADE_VALUE.tolist(), YEARS_UNPREFERRED.tolist()
        m.years_untitled = GATES["years_untitled"].tolist()
        m.years_unsubsidised = GATES["years_unsubsidised"].tolist()
        m.key_project_rate = GATES["key_project_rate"]
        m.win_belief = WIN_BELIEF.tolist()
        if cutoff is not None:
            m.title_cutoff = list(cutoff)
    return p


def _all_learnt(p, cutoff=None) -> dict:
    """``counterfeit_probability``'s keywords for everything in ``p`` firms learnt, in YEAR."""
    return {"grade_value": p.grade_value, "years_unpreferred": p.years_unpreferred,
            "years_untitled": p.years_untitled, "years_unsubsidised": p.years_unsubsidised,
            "key_project_rate": p.key_project_rate, "year": YEAR, "win_belief": WIN_BELIEF,
            "cutoff": cutoff}


def _gate_state(sc, n: int = 240, seed: int = 5):
    """``states.firms`` with every firm below the top tier eligible for its next title by
    capability, just so, one upgrade short, or further short, in turn, most of them with the
    ISO 9001 higher tiers require and a clean national record (§7.7)."""
    pop = firms(n, seed)
    pop.iso9001[np.arange(n) % 3 != 0] = True
    pop.file_national_failed[np.arange(n) % 5 != 0] = 0
    threshold = np.array([np.inf, *(getattr(sc.awards.min_capability, t) for t in TIERS[1:])])
    nxt = np.minimum(pop.tier + 1, len(TIERS) - 1)
    upgrade = sc.behaviour.upgrade_gain
    offset = np.array([0.3, 0.02, -0.5 * upgrade, -1.5 * upgrade])[np.arange(n) % 4]
    pop.capability[:] = np.where(pop.tier < len(TIERS) - 1, threshold[nxt] + offset,
                                 pop.capability)
    return pop


def _title_gains(pop, titles, cutoff, p) -> np.ndarray:
    f = pop.arrays()
    return np.array([behaviour.title_gain(f.tier[i], f.capability[i], f.iso9001[i],
                                          f.file_national_failed[i], f.output[i], f.grade[i],
                                          f.margin[i], titles, WIN_BELIEF, cutoff, p)
                     for i in range(pop.n_slots)])


def test_the_title_and_key_project_gates_a_worse_grade_closes_weigh_alike(sc):
    """A worse grade also costs the yearly value of the firm's title prospect (beyond
    awards.max_grade) and of its chance of a key project (beyond subsidy.max_grade) for the
    learnt years it adds there (§7.5): each firm's yearly values, its counterfeiting, the
    grade's value of an upgrade, what a failure costs and the whole month's decisions agree
    in engine and reference, under the city rate and under own scores; the gates make
    counterfeiting less likely for every firm not already at D."""
    lv = sc.levers_for(YEAR)
    own = sc.override({"behaviour.title_belief": "own_score"})
    for case, cutoff in ((sc, None), (own, GATE_CUTOFF)):
        pop = _gate_state(case)
        twin = twin_reference(case, pop)
        p = _learnt(case, lv, twin, cutoff)
        cut = np.full(len(TIERS), np.nan) if cutoff is None else cutoff
        slots = np.arange(pop.n_slots)
        firms_ = [twin.firms[s] for s in slots]
        title = _title_gains(pop, title_table(case, lv, YEAR), cut, p)
        assert_same(title, [firm.title_gain(lv, YEAR) for firm in firms_], "title prospect")
        top = pop.tier == len(TIERS) - 1
        assert (title[top] == 0).all() and (title[~top] > 0).sum() > pop.n_slots / 4
        assert (title[~top] == 0).sum() > pop.n_slots / 5  # too far short, or the file
        f = pop.arrays()
        key = [behaviour.key_project_gain(f.credit[i], p) for i in slots]
        assert_same(key, [firm.key_project_gain(lv) for firm in firms_], "key project")
        got = behaviour.counterfeit_probability(pop, lv, case, **_all_learnt(p, cutoff))
        assert_same(got, [firm.counterfeit_probability(lv, YEAR) for firm in firms_], "p_cf")
        without = behaviour.counterfeit_probability(pop, lv, case, GRADE_VALUE,
                                                    YEARS_UNPREFERRED)
        at_d = pop.grade == 3
        assert (got[~at_d] < without[~at_d]).all()
        assert np.array_equal(got[at_d], without[at_d])
        upgrade = [behaviour.upgrade_grade_value(f.grade[i], f.capability[i], f.belief[i],
                                                 f.output[i], f.tier[i], f.margin[i],
                                                 f.credit[i], title[i], p) for i in slots]
        assert_same(upgrade, [firm.upgrade_grade_value(lv, YEAR) for firm in firms_], "upgrade")
        cost = [behaviour.failure_cost(f.file_inspection_failed[i], f.margin[i], f.output[i],
                                       f.grade[i], f.tier[i], f.credit[i], title[i], p)
                for i in slots]
        assert_same(cost, [firm.failure_cost(lv, YEAR) for firm in firms_], "failure cost")
        dec, twin, reviewers = _decide_both(case, _decision_state(case), cutoff=cutoff,
                                            grade_value=GRADE_VALUE,
                                            years_unpreferred=YEARS_UNPREFERRED, gates=GATES)
        ref_util = np.array([[twin.firms[int(s)].last_utilities.get(o, -np.inf)
                              for o in OPTIONS] for s in reviewers])
        assert_same(dec.utilities, ref_util, "utilities")
        assert_same(dec.invested[reviewers],
                    [sum(1 << (OPTIONS.index(o) - 1) for o in twin.firms[int(s)].last_invested)
                     for s in reviewers], "investments made")


def test_the_gates_yearly_values_by_hand(sc):
    """A firm without a title at B, eligible for the provincial award (no ISO 9001 needed),
    output 20, margin 0.05, with credit, under the city rate (0.4): its title prospect is a
    year's application, max(0.4 x prize - cost, 0) / output, the prize the rewards, the
    brand premium and the procurement preference over the horizon; one upgrade short the
    same, further short, at the top tier, without a round, without the ISO 9001 a tier
    requires or with a recent failed national check nothing; a key project is worth the
    selection rate times the interest subsidy on the upgrade's loan per unit of output; a
    fall from B to D adds each gate's years times its yearly value."""
    lv, m = sc.policy, sc.market
    p = _learnt(sc, lv)
    titles = title_table(sc, lv, YEAR)
    H, out = sc.behaviour.horizon_years, 20.0
    pref = lv.procurement
    procurement = pref.preference_share * m.government_purchase_share * (
        m.procurement_sales_gain * 0.05 + pref.price_premium * (1 + m.procurement_sales_gain))
    prize = (sum(reward_amounts(lv, YEAR, 1)) / 1e6 + m.brand_premium.provincial_award * out * H
             + procurement * out * H)
    cost = sc.awards.application_cost_yuan.provincial_award / 1e6
    title = (0.4 * prize - cost) / out
    assert title > 0

    def gain(tier=0, capability=3.0, iso=False, national=0, grade=1, titles=titles,
             win_belief=WIN_BELIEF):
        return behaviour.title_gain(tier, capability, iso, np.uint64(national), out, grade,
                                    0.05, titles, win_belief, np.full(4, np.nan), p)

    assert abs(gain() - title) < 1e-12 * title
    upgrade = sc.behaviour.upgrade_gain
    assert abs(gain(capability=2.5 - 0.5 * upgrade) - title) < 1e-12 * title  # one short
    assert gain(capability=2.5 - 1.5 * upgrade) == 0.0  # further short
    assert gain(tier=3, capability=9.0, iso=True) == 0.0  # no title beyond the top
    assert gain(titles=titles._replace(open_round=np.zeros(4, dtype=bool))) == 0.0
    # China Famous Brand holds no round this year (awards.closed_years): only its candidates
    # lose their prospect, in engine and reference
    closed = sc.override({"awards.closed_years.china_famous_brand": [YEAR]})
    shut = title_table(closed, lv, YEAR)
    assert gain(tier=1, capability=3.5, iso=True) > 0.0
    assert gain(tier=1, capability=3.5, iso=True, titles=shut) == 0.0
    assert abs(gain(titles=shut) - title) < 1e-12 * title
    pop = firms(2)
    pop.tier[:], pop.capability[:], pop.iso9001[:] = [0, 1], 3.5, True
    pop.file_national_failed[:] = 0
    twin = twin_reference(closed, pop)
    twin.model.win_belief = WIN_BELIEF.tolist()
    assert twin.firms[0].title_gain(lv, YEAR) > 0.0 == twin.firms[1].title_gain(lv, YEAR)
    assert gain(tier=1, capability=3.5) == 0.0 < gain(tier=1, capability=3.5, iso=True)
    assert gain(national=1 << 5) == 0.0  # a failed national check within 36 months
    assert abs(gain(national=1 << 40) - title) < 1e-12 * title  # an old one is forgotten
    assert gain(win_belief=np.array([0.0, 1e-6, 0.2, 0.1])) == 0.0  # not worth its cost
    # the prize's procurement preference is the plan's down to C, so a firm at C values the
    # title alike (it may climb back to B: that is in the learnt years), at D less
    assert abs(gain(grade=2) - title) < 1e-12 * title
    assert gain(grade=3) < title
    s = lv.subsidy
    key = 0.3 * s.interest_subsidy_rate * s.loan_interest_rate * sc.behaviour.upgrade_cost * (
        s.loan_share * s.loan_years)
    assert abs(behaviour.key_project_gain(True, p) - key) < 1e-15 * 1e3 and key > 0
    assert behaviour.key_project_gain(False, p) == behaviour.key_project_gain(True, p)
    own_credit = sc.override({"policy.subsidy.key_project_loan": False})
    p_own = _learnt(own_credit, own_credit.policy)
    assert behaviour.key_project_gain(False, p_own) == 0.0 < behaviour.key_project_gain(
        True, p_own)
    u, y = GATES["years_untitled"], GATES["years_unsubsidised"]
    loss = behaviour.grade_loss(1, 3, 0, 0.05, True, title, p)
    by_hand = (GRADE_VALUE[3] - GRADE_VALUE[1] + title * (u[3] - u[1]) + key * (y[3] - y[1]))
    assert abs(loss - by_hand) < 1e-12 * by_hand


def test_a_firm_whose_grade_keeps_its_title_prospect_counterfeits_less_and_upgrades_more(sc):
    """Two identical firms at B eligible for the provincial award, but the second has failed
    a national spot check within 36 months and so cannot apply whatever its grade: falling
    a grade would cost the first its title prospect for the learnt years beyond B, so it
    counterfeits less and values an upgrade (which makes that fall less likely) more; engine
    and reference alike."""
    lv = sc.levers_for(YEAR)
    pop = firms(2)
    pop.tier[:], pop.grade[:], pop.capability[:], pop.iso9001[:] = 0, 1, 3.0, False
    pop.output[:], pop.margin[:], pop.cash[:], pop.credit[:] = 20.0, 0.05, 1.0, True
    pop.belief[:], pop.moral_cost[:], pop.applying[:], pop.key_project[:] = 0.5, 1.0, 0, False
    pop.file_national_failed[:] = np.array([0, 1 << 4], dtype=np.uint64)
    pop.file_inspection_failed[:] = 0
    twin = twin_reference(sc, pop)
    p = _learnt(sc, lv, twin)
    got = behaviour.counterfeit_probability(pop, lv, sc, **_all_learnt(p))
    assert_same(got, [twin.firms[s].counterfeit_probability(lv, YEAR) for s in range(2)],
                "p_cf")
    assert got[0] < got[1]
    title = _title_gains(pop, title_table(sc, lv, YEAR), np.full(4, np.nan), p)
    assert title[0] > 0 == title[1]
    f = pop.arrays()
    upgrade = [behaviour.upgrade_grade_value(1, 3.0, 0.5, 20.0, 0, 0.05, True, title[i], p)
               for i in range(2)]
    assert upgrade[0] > upgrade[1] > 0
    assert_same(upgrade, [twin.firms[s].upgrade_grade_value(lv, YEAR) for s in range(2)],
                "upgrade")
    # the month's choices see it: every firm reviews, nothing is made
    u = np.ones((len(behaviour.DRAWS) + len(OPTIONS) - 1, 2))
    u[0] = 0.0
    dec = behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), WIN_BELIEF,
                           lambda rows, slots: u[:rows, slots], len(SECTORS))
    up = OPTIONS.index("upgrade")
    assert dec.utilities[0, up] > dec.utilities[1, up] > -np.inf
    assert f.grade[0] == f.grade[1]
