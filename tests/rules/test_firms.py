"""§7.3 production and finances and §7.9 exit and entry, engine (``engine.finance``,
``engine.demography``) against reference (``Enterprise.produce``, ``consider_exit``,
``ReferenceCityModel.admit_entrant``)."""

from types import SimpleNamespace

import numpy as np
from states import YEAR, assert_same, edge_uniforms, firms

from simcity_quality.categories import SIZES, TIERS
from simcity_quality.engine import demography, finance
from simcity_quality.engine.ledger import Ledger
from simcity_quality.engine.parameters import exit_parameters, production_parameters
from simcity_quality.engine.population import firm_tables, sector_cod_coefficients
from simcity_quality.experiments.equivalence import twin_reference

MONEY = ("output", "capability", "discharge_ratio", "cash", "debt_monthly", "debt_months_left")


def test_production_and_finances_agree(sc):
    pop = firms()
    twin = twin_reference(sc, pop)
    lv = sc.levers_for(YEAR)
    ledger = Ledger(twin.model.years)
    brand = np.array([0.0, *(getattr(sc.market.brand_premium, t) for t in TIERS[1:])])
    for _ in range(3):  # three months: the loan countdown runs out for some
        finance.produce(pop, YEAR, production_parameters(sc, lv), brand,
                        sector_cod_coefficients(sc), ledger)
        twin.model.production(lv, YEAR)
    slots = np.arange(pop.n_slots)
    for name in MONEY:
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(ledger.amounts, twin.model.ledger.amounts, "procurement premium and fee waivers")
    assert ledger.total() > 0


def test_the_reference_counts_what_the_trend_takes_off(sc):
    """A month's autonomous discharge trend takes ``(1 / monthly trend - 1)`` of the COD a
    year discharged after it off (docs/ODD.md §7.3), as the reference counts it."""
    pop = firms()
    twin = twin_reference(sc, pop)
    lv = sc.levers_for(YEAR)
    twin.model.counts["cod_cut_trend"] = 0.0
    twin.model.production(lv, YEAR)
    slots = np.arange(pop.n_slots)
    cod = sum(f.pollution_load() * f.discharge_ratio for f in twin.firms.values())
    trend = (1 + sc.environment.discharge_trend) ** (1 / 12)
    assert sc.environment.discharge_trend < 0 and cod > 0
    expected = (1 / trend - 1) * float(np.sum(
        twin.enterprise_values("output", slots) * sector_cod_coefficients(sc)[pop.sector]
        * twin.enterprise_values("discharge_ratio", slots)))
    assert abs(twin.model.counts["cod_cut_trend"] - expected) < 1e-9 * expected


def test_production_by_hand(sc):
    """A title holder's month: margin, title, standards, certification and counterfeiting
    premiums, the §3.1 procurement gains, less what its published grade (C) costs, the
    discharge fee and its loan payment."""
    pop = firms(1)
    pop.tier[0], pop.intl_std[0], pop.iso9001[0], pop.counterfeit[0] = 1, True, True, True
    pop.grade[0] = 2
    pop.margin[0], pop.output[0], pop.cash[0] = 0.05, 12.0, 1.0
    pop.debt_monthly[0], pop.debt_months_left[0] = 0.02, 2
    lv, m, env = sc.policy, sc.market, sc.environment
    y = 12.0 * (1 + sc.city.output_growth) ** (1 / 12)
    ratio = pop.discharge_ratio[0] * (1 + env.discharge_trend) ** (1 / 12)
    pref = lv.procurement.preference_share * m.government_purchase_share
    share = (0.05 + m.brand_premium.provincial_award + m.intl_premium + m.iso_premium
             + m.counterfeit_gain - m.grade_sales_loss.C
             + pref * (m.procurement_sales_gain * 0.05
                       + lv.procurement.price_premium * (1 + m.procurement_sales_gain)))
    cod = y * sector_cod_coefficients(sc)[pop.sector[0]] * ratio
    # the city's own fees a firm of this size owes, net of the §4.2 waiver
    city_fees = (sc.city.city_fees_yuan * getattr(sc.city.fee_paying_share, SIZES[pop.size[0]])
                 * (1 - lv.fees.fee_waiver_share) / 1e6)
    expected = 1.0 + (share * y - env.discharge_fee_yuan_per_tonne * cod / 1e6
                      - city_fees) / 12 - 0.02
    finance.produce(pop, YEAR, production_parameters(sc, lv),
                    np.array([0.0, *(getattr(m.brand_premium, t) for t in TIERS[1:])]),
                    sector_cod_coefficients(sc), Ledger([YEAR]))
    assert abs(pop.cash[0] - expected) < 1e-12
    assert pop.debt_months_left[0] == 1


def test_procurement_prefers_only_holders_whose_grade_it_admits(sc):
    """§3.1 with GPL 2002 art. 22: a title holder at D (counterfeiting found) is not preferred
    under the plan (``procurement.max_grade`` C): it earns no procurement gain and the city
    pays no premium on its output; at C it is preferred. Engine and reference alike."""
    lv = sc.policy
    brand = np.array([0.0, *(getattr(sc.market.brand_premium, t) for t in TIERS[1:])])
    cash, paid = {}, {}
    for grade in (2, 3):
        pop = firms(1)
        pop.tier[0], pop.grade[0], pop.margin[0], pop.output[0] = 1, grade, 0.05, 12.0
        twin = twin_reference(sc, pop)
        ledger = Ledger(twin.model.years)
        finance.produce(pop, YEAR, production_parameters(sc, lv), brand,
                        sector_cod_coefficients(sc), ledger)
        twin.model.production(lv, YEAR)
        assert_same(pop.cash, twin.enterprise_values("cash", np.arange(1)), "cash")
        assert_same(ledger.amounts, twin.model.ledger.amounts, "the premium paid")
        cash[grade] = float(pop.cash[0])
        paid[grade] = ledger.frame().query("line == 'procurement_preference'")["yuan"].sum()
    m = sc.market
    gain = lv.procurement.preference_share * m.government_purchase_share * (
        m.procurement_sales_gain * 0.05
        + lv.procurement.price_premium * (1 + m.procurement_sales_gain))
    y = 12.0 * (1 + sc.city.output_growth) ** (1 / 12)
    lost_sales = (m.grade_sales_loss.D - m.grade_sales_loss.C) * y / 12
    assert abs((cash[2] - cash[3]) - (gain * y / 12 + lost_sales)) < 1e-12
    assert paid[2] > 0 and paid[3] == 0


def test_exits_agree(sc):
    pop = firms(300)
    ep = exit_parameters(sc)
    # cash just past, or just short of, the bankruptcy floor their credit allows
    floor = np.where(pop.credit, ep.bankruptcy_floor_with_credit,
                     ep.bankruptcy_floor_without_credit)
    edge = np.arange(pop.n_slots) % 5 == 0
    pop.cash[edge] = -floor[edge] * pop.output[edge] * np.where(
        np.arange(pop.n_slots)[edge] % 10 == 0, 1.05, 0.95)
    twin = twin_reference(sc, pop)
    rng = np.random.default_rng(11)
    revoked = rng.random(pop.n_slots) < 0.05
    closed = rng.random(pop.n_slots) < 0.05
    u = edge_uniforms(ep.exit_hazard[pop.size], 12)
    counts = dict.fromkeys(demography.EXIT_COUNTS, 0)
    slots = np.arange(pop.n_slots)
    demography.exits(pop, SimpleNamespace(revoked=revoked, closed=closed), u, ep, counts)
    twin.model.counts = dict.fromkeys(twin.model.counts, 0)
    for s in slots:
        f = twin.firms[s]
        f.licence_revoked, f.closed = bool(revoked[s]), bool(closed[s])
        f.consider_exit(u[s])
    gone = np.array([twin.firms[s].model is None or twin.firms[s] not in twin.model.enterprises
                     for s in slots])
    assert_same(~pop.alive, gone, "who leaves")
    for name in demography.EXIT_COUNTS:
        assert counts[name] == twin.model.counts[name], name
    assert min(counts.values()) > 0  # every way out is taken by some firm
    assert (pop.weight[~pop.alive] == 0).all() and (pop.weight[pop.alive] == 1).all()


def test_entry_agrees(sc):
    pop = firms()
    pop.alive[::4] = False
    pop.weight[::4] = 0.0
    twin = twin_reference(sc, pop)
    free = np.flatnonzero(~pop.alive)
    attrs = demography.entrant_attributes(sc, free.size, np.random.default_rng(12),
                                          firm_tables(sc), 24)
    attrs["discharge_ratio"][::3] = 1.4  # some entrants over the discharge limit
    anchors = np.random.default_rng(13).uniform(0.05, 0.5, (7, 2))
    twin.model.anchors = anchors.tolist()
    counts = {"permits_refused": 0, "entrants": 0}
    lv = sc.levers_for(YEAR)
    next_id = demography.admit(pop, lv, attrs, np.ones(free.size), 1000, anchors, counts)
    twin.model.counts = dict.fromkeys(twin.model.counts, 0)
    admitted = [twin.model.admit_entrant(lv, {k: v[i].item() for k, v in attrs.items()})
                for i in range(free.size)]
    assert counts["permits_refused"] == twin.model.counts["permits_refused"] > 0
    assert counts["entrants"] == twin.model.counts["entrants"] > 0
    took = free[pop.alive[free]]
    assert next_id == 1000 + took.size and sorted(pop.id[took]) == list(range(1000, next_id))
    ref_firms = [f for f in admitted if f is not None]
    for name in ("tier", "belief", "output", "discharge_ratio", "cash", "capability"):
        assert_same(getattr(pop, name)[took], [getattr(f, name) for f in ref_firms], name)
