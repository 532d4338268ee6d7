"""§3.4 key projects and interest subsidies, §4.2 fee waivers, on hand-made firms: the signs the
mechanisms must have (docs/ODD.md §7.2, §7.3, §7.8). The engine and the reference agree on
these rules in test_decisions, test_firms and test_government; here, what each rule does."""

import numpy as np
from states import YEAR, firms

from simcity_quality.categories import OPTIONS, SECTORS, SIZES, TIERS
from simcity_quality.engine import behaviour, finance
from simcity_quality.engine.ledger import LINE_NAMES, PAYERS, Ledger
from simcity_quality.engine.parameters import (
    decision_parameters,
    production_parameters,
    title_table,
)
from simcity_quality.engine.population import sector_cod_coefficients

UPGRADE = OPTIONS.index("upgrade")


def _upgrader(credit: bool, key_project: bool, cash: float = 10.0):
    """A firm that can upgrade and would make no other investment."""
    pop = firms(1)
    pop.credit[0], pop.key_project[0], pop.intl_std[0] = credit, key_project, True
    pop.iso9001[0], pop.ccc_required[0], pop.tier[0] = True, False, len(TIERS) - 1
    pop.capability[0], pop.output[0], pop.cash[0] = 3.0, 10.0, cash
    pop.discharge_ratio[0], pop.subsidy_months_left[0], pop.debt_months_left[0] = 0.5, 0, 0
    pop.debt_monthly[0] = pop.subsidy_monthly[0] = 0.0
    return pop


def _decide(sc, pop, misuse_u: float = 1.0, adopt_upgrade: float = 1e-12):
    lv = sc.levers_for(YEAR)
    p = decision_parameters(sc, lv)
    adopt = np.ones((len(OPTIONS) - 1, 1))
    adopt[UPGRADE - 1] = adopt_upgrade
    u = np.vstack([[0.0], [1.0], [misuse_u], [1.0], adopt])
    return behaviour.choose(pop, sc, lv, p, title_table(sc, lv, YEAR), np.zeros(len(TIERS)),
                            lambda rows, slots: u[:rows, slots], len(SECTORS))


def test_a_subsidised_project_costs_the_firm_less(sc):
    plain, key = _upgrader(True, False), _upgrader(True, True)
    dec_plain, dec_key = _decide(sc, plain), _decide(sc, key)
    assert dec_key.utilities[0, UPGRADE] > dec_plain.utilities[0, UPGRADE]
    assert dec_key.subsidised[0] and not dec_plain.subsidised[0]
    # the city pays part of the interest: the firm's monthly repayment is lower by it
    assert key.subsidy_monthly[0] > 0
    assert np.isclose(plain.debt_monthly[0] - key.debt_monthly[0],
                      key.subsidy_monthly[0] / 1e6)
    assert not key.key_project[0]  # one subsidised project per selection


def test_a_diverted_subsidy_leaves_the_firms_own_upgrade(sc):
    p = decision_parameters(sc, sc.levers_for(YEAR))
    used, diverted = _upgrader(True, True), _upgrader(True, True)
    _decide(sc, used, misuse_u=1.0)  # above the misuse chance: the subsidy adds to the upgrade
    _decide(sc, diverted, misuse_u=0.0)
    assert np.isclose(diverted.capability[0], 3.0 + p.upgrade_gain)  # its own investment
    assert used.capability[0] > diverted.capability[0]  # the subsidy's additionality
    assert diverted.subsidy_monthly[0] == used.subsidy_monthly[0] > 0  # paid either way


def test_selection_brings_a_loan_only_where_the_scenario_says_so(sc):
    """A key project without bank credit and too little cash for the whole upgrade invests when
    selection brings the loan (directed credit), and cannot otherwise."""
    p = decision_parameters(sc, sc.levers_for(YEAR))
    short = (1 - p.loan_share) * p.upgrade_cost * 10.0 * 1.05  # the own share, not the whole
    with_loan = _upgrader(False, True, cash=short)
    dec = _decide(sc, with_loan)
    assert behaviour.invested_options(dec.invested[0]) == ["upgrade"] and dec.subsidised[0]
    assert with_loan.debt_months_left[0] > 0  # it borrowed
    no_loan = sc.override({"policy.subsidy.key_project_loan": False})
    without = _upgrader(False, True, cash=short)
    dec = _decide(no_loan, without)
    assert dec.utilities[0, UPGRADE] == -np.inf and dec.invested[0] == 0


def test_a_waived_fee_lowers_the_firms_costs_and_the_city_pays_it(sc):
    cash = {}
    for share in (0.0, 1.0):
        s = sc.override({"policy.fees.fee_waiver_share": share})
        lv = s.levers_for(YEAR)
        pop = firms(30)
        ledger = Ledger([YEAR])
        finance.produce(pop, YEAR, production_parameters(s, lv),
                        np.zeros(len(TIERS)), sector_cod_coefficients(s), ledger)
        cash[share] = pop.cash.copy()
        waived = ledger.amounts[0, PAYERS.index("city"), LINE_NAMES.index("fee_waiver")]
        fees = np.array([s.city.city_fees_yuan * getattr(s.city.fee_paying_share, z)
                         for z in SIZES])[pop.size]
        assert np.isclose(waived, share * (fees * pop.weight * pop.alive).sum() / 12)
    saved = cash[1.0] - cash[0.0]
    assert (saved > 0).all() and np.allclose(saved, fees / 12 / 1e6)
