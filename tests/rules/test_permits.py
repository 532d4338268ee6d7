"""§2.2.4 and §3.3 discharge standards, the review of every source, deadline-treatment orders and
closure, and the abatement investment, engine (``engine.government.review_sources``,
``tighten_standards``, ``behaviour.choose``) against reference
(``ReferenceCityModel.review_sources``, ``Enterprise.undergo_review``, ``tighten_standards``),
and by hand."""

import numpy as np
from states import YEAR, assert_same, edge_uniforms, firms

from simcity_quality.categories import OPTIONS, SECTOR_INDEX, SECTORS, TIERS
from simcity_quality.engine import behaviour, government
from simcity_quality.engine.ledger import Ledger
from simcity_quality.engine.parameters import decision_parameters, title_table
from simcity_quality.engine.population import sector_cod_coefficients
from simcity_quality.experiments.equivalence import twin_reference
from simcity_quality.reference.model import DecisionDraws

T = 30  # a month index of YEAR's summer
REVIEW_STATE = ("cash", "deadline", "discharge_limit", "discharge_ratio")


def _review_both(sc, pop, seed: int):
    """One month's review of sources in both, on uniforms at the edges of the review chance."""
    lv = sc.levers_for(YEAR)
    twin = twin_reference(sc, pop)
    twin.model.counts = dict.fromkeys(twin.model.counts, 0)
    slots = np.arange(pop.n_slots)
    u = edge_uniforms(np.full(pop.n_slots, 1.0 / sc.interpretation.source_review_months), seed)
    out = government.review_sources(pop, lv, sc, T, u, sector_cod_coefficients(sc))
    ledger = Ledger(twin.model.years)
    government.book_source_review(ledger, YEAR, out)
    twin.model.ledger = Ledger(twin.model.years)
    twin.model.review_sources(lv, YEAR, T, {twin.firms[s]: u[s] for s in slots})
    assert_same(ledger.amounts, twin.model.ledger.amounts, "discharge fines booked")
    assert ledger.total(payer="city") == -out.fines_yuan  # the city's revenue, all of it
    for name in REVIEW_STATE:
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(out.closed, twin.enterprise_values("closed", slots), "closed")
    assert out.ordered.sum() == twin.model.counts["deadline_orders"]
    assert abs(out.fines_yuan - twin.model.review_fines_yuan) < 1e-6
    assert abs(out.cod_closed - twin.model.counts["cod_cut_closures"]) < 1e-9
    return out


def _review_state():
    pop = firms(300)
    pop.cash[::7] = -1.0  # fines capped by what the firm can pay
    pop.deadline[::5] = T  # orders falling due this month, some within their limit by now
    return pop


def test_source_review_deadlines_and_closure_agree(sc):
    pop = _review_state()
    was = pop.deadline.copy()
    out = _review_both(sc, pop, seed=21)
    assert out.ordered.any() and out.closed.any() and out.lifted.any()
    assert (out.reviewed & ~out.ordered & ~out.closed & ~out.lifted).any()  # order running
    assert out.fines_yuan > 0
    assert ((was < 0) & out.ordered).any()  # new orders
    # without permit refusal a missed deadline renews the order with a new fine
    lax = sc.override({"policy.permits.refuse_over_limit": False})
    pop = _review_state()
    out = _review_both(lax, pop, seed=21)
    assert not out.closed.any()
    assert ((was == T) & out.ordered).any()


def test_a_source_over_its_limit_is_fined_ordered_and_then_closed_by_hand(sc):
    env = sc.environment
    pop = firms(1)
    pop.sector[0] = SECTOR_INDEX["other"]
    pop.output[0], pop.cash[0], pop.credit[0] = 20.0, 10.0, True
    pop.discharge_ratio[0], pop.discharge_limit[0], pop.deadline[0] = 1.3, 1.0, -1
    coef = sector_cod_coefficients(sc)
    lv = sc.levers_for(YEAR)
    never, always = np.ones(1), np.zeros(1)
    fine = env.fine_fee_multiple * env.discharge_fee_yuan_per_tonne * 1.3 * 20.0 * coef[
        SECTOR_INDEX["other"]]
    out = government.review_sources(pop, lv, sc, T, always, coef)
    assert out.ordered[0] and not out.closed[0]
    assert pop.deadline[0] == T + env.deadline_months
    assert abs(pop.cash[0] - (10.0 - fine / 1e6)) < 1e-12
    assert abs(out.fines_yuan - fine) < 1e-9
    # reviewed again before the deadline: the order runs, nothing more
    out = government.review_sources(pop, lv, sc, T + 1, always, coef)
    assert not (out.ordered[0] or out.closed[0]) and pop.deadline[0] == T + env.deadline_months
    # the deadline falls due (no routine review needed) with the source still over: closed
    due = T + env.deadline_months
    out = government.review_sources(pop, lv, sc, due, never, coef)
    assert out.closed[0] and pop.deadline[0] == -1
    assert abs(out.cod_closed - 1.3 * 20.0 * coef[SECTOR_INDEX["other"]]) < 1e-12
    # without permit refusal: fined again and a new deadline
    pop.deadline[0] = due
    lax = sc.override({"policy.permits.refuse_over_limit": False})
    cash = pop.cash[0]
    out = government.review_sources(pop, lax.levers_for(YEAR), lax, due, never, coef)
    assert out.ordered[0] and not out.closed[0] and pop.deadline[0] == due + env.deadline_months
    assert abs(pop.cash[0] - (cash - fine / 1e6)) < 1e-12
    # within its limit when the order falls due: lifted, no fine
    pop.discharge_ratio[0], pop.deadline[0] = 0.9, due
    cash = pop.cash[0]
    out = government.review_sources(pop, lv, sc, due, never, coef)
    assert out.lifted[0] and pop.deadline[0] == -1 and pop.cash[0] == cash


def test_standards_tighten_alike_and_by_sector(sc):
    pop = firms(200)
    pop.discharge_limit[:] = 1.0
    pop.discharge_limit[::9] = 0.5  # an entrant's tighter new-source limit is kept
    twin = twin_reference(sc, pop)
    slots = np.arange(pop.n_slots)
    env = sc.environment
    other = SECTOR_INDEX["other"]
    for year in (env.standard_year_existing.other - 1, env.standard_year_existing.other):
        government.tighten_standards(pop, sc, year)
        twin.model.tighten_standards(year)
        assert_same(pop.discharge_limit, twin.enterprise_values("discharge_limit", slots),
                    f"limits in {year}")
    expected = np.where(pop.sector == other, env.standard_limit.other, 1.0)
    expected[::9] = 0.5
    assert_same(pop.discharge_limit, expected, "limits by hand")
    assert env.standard_limit.other < 1.0 and (pop.sector == other).any()


def _abatement_utility(sc, ratio: float, limit: float = 1.0) -> float:
    pop = firms(1)
    pop.sector[0] = SECTOR_INDEX["food_farm_processing"]
    pop.output[0], pop.cash[0], pop.credit[0], pop.margin[0] = 10.0, 5.0, False, 0.05
    pop.discharge_ratio[0], pop.discharge_limit[0], pop.deadline[0] = ratio, limit, 3
    pop.belief[0] = 0.3
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    u = np.vstack([[1.0], [1.0], [1.0], [1.0], np.ones((len(OPTIONS) - 1, 1))])
    twin = twin_reference(sc, pop)
    twin.model.win_belief = [0.5] * len(TIERS)
    dec = behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), np.full(len(TIERS), 0.5),
                           lambda rows, slots: u[:rows, slots], len(SECTORS))
    assert dec.reviewers.tolist() == [0]  # under an order: reviews though its draw says no
    twin.model.firm_decisions(lv, YEAR, {twin.firms[0]: DecisionDraws(
        1.0, 1.0, 1.0, 1.0, tuple(u[4:, 0]))})
    engine = float(dec.utilities[0, OPTIONS.index("abate")])
    assert abs(engine - twin.firms[0].last_utilities["abate"]) < 1e-12
    return engine


def test_the_abatement_investment_by_hand(sc):
    """Fees saved; over the limit the inspection's fine avoided; and if one treatment plant
    brings the source within its limit, closure (permit refusal) or the renewed fines."""
    b, env, insp = sc.behaviour, sc.environment, sc.policy.inspection
    H, unit = b.horizon_years, b.logit_scale * 10.0
    load = 10.0 * sc.environment.cod_coefficient.food_farm_processing
    cost = b.abatement_cost * 10.0

    def fees_saved(ratio):
        return env.discharge_fee_yuan_per_tonne * ratio * b.abatement_fraction * load / 1e6 * H

    within = 0.9  # within its limit: fees only
    assert abs(_abatement_utility(sc, within) - (fees_saved(within) - cost) / unit) < 1e-12
    far = 2.0  # over, and one plant is not enough (2 x 0.6 > 1): the inspection's fine too
    fine = 0.3 * insp.discharge_fine_yuan / 1e6 * H
    assert abs(_abatement_utility(sc, far) - (fees_saved(far) + fine - cost) / unit) < 1e-12
    near = 1.5  # one plant brings it within: closure avoided under permit refusal
    closure = 0.05 * 10.0 * H
    assert abs(_abatement_utility(sc, near)
               - (fees_saved(near) + fine + closure - cost) / unit) < 1e-12
    lax = sc.override({"policy.permits.refuse_over_limit": False})
    fines = (12 / env.deadline_months * env.fine_fee_multiple * env.discharge_fee_yuan_per_tonne
             * near * load / 1e6 * H)
    assert abs(_abatement_utility(lax, near)
               - (fees_saved(near) + fine + fines - cost) / unit) < 1e-12
    # a tightened limit: the same source is over it
    assert abs(_abatement_utility(sc, within, limit=0.6)
               - (fees_saved(within) + fine + closure - cost) / unit) < 1e-12


def test_a_source_under_an_order_reconsiders_abatement_alone_between_its_reviews(sc):
    """Two identical sources over their limit, whose review draw is above the decision rate;
    one is under a deadline-treatment order. Every adoption draw is 0 (every open investment
    is chosen) and the counterfeit draw 0: the ordered one reconsiders, but only abatement is
    open to it and it does not re-decide counterfeiting; the other does not review at all.
    Engine and reference agree."""
    pop = firms(2)
    pop.deadline[:] = [T + 3, -1]
    pop.discharge_limit[:], pop.discharge_ratio[:] = 1.0, 1.2
    pop.counterfeit[:], pop.cash[:] = False, pop.output * 2
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    u = np.zeros((len(behaviour.DRAWS) + len(OPTIONS) - 1, 2))
    u[0] = min(1.0, p.decision_rate * 1.5)  # no routine review
    twin = twin_reference(sc, pop)  # before anything is decided
    dec = behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), np.full(len(TIERS), 0.5),
                           lambda rows, slots: u[:rows, slots], len(SECTORS))
    assert dec.reviewers.tolist() == [0]
    abate = OPTIONS.index("abate")
    open_ = np.isfinite(dec.utilities[0])
    assert open_[abate] and open_.sum() == 2  # nothing, and abatement
    assert behaviour.invested_options(dec.invested[0]) == ["abate"] and dec.invested[1] == -1
    assert not pop.counterfeit.any()
    twin.model.win_belief = [0.5] * len(TIERS)
    twin.model.firm_decisions(lv, YEAR, {twin.firms[s]: DecisionDraws(
        u[0, s], 0.0, 0.0, 0.0, tuple(u[4:, s])) for s in range(2)})
    assert twin.firms[0].last_invested == ["abate"] and twin.firms[1].last_invested == []
    assert set(twin.firms[0].last_utilities) == {"nothing", "abate"}
    assert not any(f.counterfeit for f in twin.firms.values())
