"""§7.2 decisions, engine (``engine.behaviour``) against reference (``Enterprise.decide``):
the counterfeit choice and the investment choice, on the same state and random numbers."""

import math

import numpy as np
from states import YEAR, assert_same, edge_uniforms, firms, forced_gumbel

from simcity_quality.categories import OPTIONS, SECTORS, TIERS
from simcity_quality.engine import behaviour
from simcity_quality.engine.parameters import decision_parameters, title_table
from simcity_quality.experiments.equivalence import twin_reference
from simcity_quality.reference.model import DecisionDraws

STATE = ("cash", "capability", "intl_std", "iso9001", "ccc", "discharge_ratio", "applying",
         "counterfeit", "key_project", "debt_monthly", "debt_months_left", "subsidy_monthly",
         "subsidy_months_left")


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
    5.5, belief 0.1)."""
    pop = firms(1)
    pop.output[0], pop.margin[0], pop.cash[0] = 8.0, 0.06, 8.0 * 2 / 12
    pop.moral_cost[0], pop.belief[0] = 5.5, 0.1
    lv, b, m = sc.policy, sc.behaviour, sc.market
    insp = lv.inspection
    fine = min(insp.fine_yuan * insp.counterfeit_fine_multiplier / 1e6, 8.0 * 2 / 12)
    loss = (fine + insp.revocation_probability * 0.06 * 8.0 * b.horizon_years
            + insp.criminal_referral_probability * b.criminal_cost_yuan / 1e6)
    utility = (m.counterfeit_gain * 8.0 - 0.1 * insp.detection_probability * loss) / (
        b.logit_scale * 8.0) - 5.5
    expected = 1.0 / (1.0 + math.exp(-utility))
    got = behaviour.counterfeit_probability(pop, lv, sc)[0]
    assert abs(got - expected) < 1e-12
    assert abs(twin_reference(sc, pop).firms[0].counterfeit_probability(lv) - expected) < 1e-12


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
    pop.credit[::4] = True
    p = decision_parameters(sc, sc.levers_for(YEAR))
    out = pop.output
    own = 1.0 - np.where(pop.credit, p.loan_share, 0.0)
    costs = (own * p.upgrade_cost * out, own * p.intl_cost * out,
             np.full(n, p.certification_cost_million), own * p.abatement_cost * out)
    for j, cost in enumerate(costs):
        edge = np.arange(n) % 12 == 6 + j  # a few firms at each cost's edge
        pop.cash[edge] = cost[edge] * np.where(np.arange(n)[edge] % 24 < 12, 1.05, 0.95)
    return pop


def _decide_both(sc, pop, seed: int = 3, win_belief=None):
    """One month of decisions by every firm, in the engine and in the reference, on the same
    uniforms: review draws around the decision rate, counterfeit draws around each firm's
    chance and substantive-ISO draws around their probabilities, misuse draws alternately just
    above and just below its probability, and Gumbel shocks
    that push half the firms to a chosen option."""
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    win_belief = np.array([0.0, 0.4, 0.2, 0.1]) if win_belief is None else win_belief
    twin = twin_reference(sc, pop)  # the state before anything is decided
    twin.model.win_belief = list(win_belief)
    n = pop.n_slots
    u_review = np.where(np.arange(n) % 8 == 7, p.decision_rate * 1.05,
                        np.random.default_rng(seed).uniform(0, p.decision_rate, n))
    reviewers = np.flatnonzero(u_review < p.decision_rate)
    gumbel = np.random.default_rng(seed + 4).gumbel(size=(len(OPTIONS), n))
    gumbel[:, ::2] = forced_gumbel(len(range(0, n, 2)), seed)  # half pushed to each option
    u = np.vstack([u_review,
                   edge_uniforms(behaviour.counterfeit_probability(pop, lv, sc), seed + 1),
                   # every draw just above or just below the misuse chance (few are subsidised)
                   np.where(np.arange(n) % 2 == 0, 1.05, 0.95) * p.subsidy_misuse,
                   edge_uniforms(np.full(n, p.iso_substantive_share), seed + 3),
                   np.exp(-np.exp(-gumbel))])  # uniforms whose Gumbel shocks these are
    shocks = behaviour.gumbel_from_uniform(u[len(behaviour.DRAWS):])
    dec = behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), win_belief,
                           lambda rows, slots: u[:rows, slots], len(SECTORS))
    draws = {firm: DecisionDraws(u[0, s], u[1, s], u[2, s], u[3, s], tuple(shocks[:, s]))
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
    ref_choice = [OPTIONS.index(twin.firms[int(s)].last_choice) for s in reviewers]
    assert_same(dec.choice[reviewers], ref_choice, "choices")
    everyone = np.arange(pop.n_slots)
    for name in STATE:
        assert_same(getattr(pop, name), twin.enterprise_values(name, everyone), name)
    assert abs(dec.fee_waiver_yuan - twin.model.fee_waived) <= 1e-6
    counts = twin.model.counts
    assert int(np.count_nonzero(dec.choice == OPTIONS.index("apply_title"))) == counts[
        "brand_applications"]
    assert int(np.count_nonzero(dec.subsidised)) == counts["key_projects_subsidised"]
    # the state exercises every option, both sides of the subsidy, every tier's application
    assert set(np.unique(dec.choice[reviewers])) == set(range(len(OPTIONS)))
    assert dec.subsidised.sum() > 3 and reviewers.size < pop.n_slots
    assert set(pop.applying[dec.choice == OPTIONS.index("apply_title")]) == {1, 2, 3}


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
