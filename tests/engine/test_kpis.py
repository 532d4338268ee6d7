"""KPI functions (simcity_quality/kpis.py) checked against hand arithmetic on tiny populations,
and the model's own measurement checked against independent numpy formulas."""

import math
from pathlib import Path

import numpy as np
import pytest

from simcity_quality.categories import KEY_INDUSTRIES, SECTOR_INDEX
from simcity_quality.engine import kpis
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.engine.population import KEY_INDUSTRY_CODES, empty_population
from simcity_quality.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"

T, F = True, False
TEXTILES = SECTOR_INDEX["textiles_garments"]
EQUIPMENT = SECTOR_INDEX["equipment_manufacturing"]
NEW_MATERIALS = SECTOR_INDEX["new_materials"]
FOOD = SECTOR_INDEX["food_farm_processing"]
OTHER = SECTOR_INDEX["other"]


def a(*values, dtype=None):
    return np.array(values, dtype=dtype)


def test_key_industry_codes_are_the_five_key_industries():
    assert sorted(KEY_INDUSTRY_CODES.tolist()) == sorted(SECTOR_INDEX[s] for s in KEY_INDUSTRIES)
    assert len(KEY_INDUSTRY_CODES) == 5
    assert FOOD not in KEY_INDUSTRY_CODES and OTHER not in KEY_INDUSTRY_CODES


# ---------------------------------------------------------------------------------------
# pass probability


def test_pass_probability_logistic_and_counterfeit_cut():
    capability = a(0.0, math.log(3.0), -math.log(3.0), math.log(9.0))
    counterfeit = a(F, T, F, T)
    got = kpis.pass_probability(capability, counterfeit, 0.5)
    # logistic(0) = 1/2, logistic(ln 3) = 3/4, logistic(-ln 3) = 1/4, logistic(ln 9) = 9/10
    np.testing.assert_allclose(got, [1 / 2, 3 / 4 * 0.5, 1 / 4, 9 / 10 * 0.5])


def test_pass_probability_factor_one_means_no_cut_and_zero_means_never_passes():
    capability = a(math.log(3.0), math.log(3.0))
    counterfeit = a(F, T)
    np.testing.assert_allclose(kpis.pass_probability(capability, counterfeit, 1.0), [0.75, 0.75])
    np.testing.assert_allclose(kpis.pass_probability(capability, counterfeit, 0.0), [0.75, 0.0])


def test_population_pass_probability_uses_counterfeit_flag():
    pop = empty_population(3)
    pop.capability[:] = [0.0, math.log(4.0), math.log(4.0)]
    pop.counterfeit[:] = [F, F, T]
    np.testing.assert_allclose(pop.pass_probability(0.4), [0.5, 4 / 5, 4 / 5 * 0.4])


# ---------------------------------------------------------------------------------------
# §2.2.1b international standards


def test_intl_standard_share_output_weighted_alive_only():
    output = a(10.0, 30.0, 20.0, 40.0, 5.0)
    intl = a(T, F, T, T, F)
    alive = a(T, T, T, F, T)  # the dead firm (40, intl) must not count
    expected = (10 * 1 + 30 * 0 + 20 * 1 + 5 * 0) / (10 + 30 + 20 + 5)
    assert kpis.intl_standard_share(output, intl, alive) == pytest.approx(expected)


def test_intl_standard_share_is_weighted_not_counted():
    output = a(90.0, 10.0)
    intl = a(T, F)
    alive = a(T, T)
    assert kpis.intl_standard_share(output, intl, alive) == pytest.approx(90 / (90 + 10))


def test_intl_standard_share_nan_when_no_one_alive_or_empty():
    output = a(10.0, 20.0)
    assert math.isnan(kpis.intl_standard_share(output, a(T, T), a(F, F)))
    empty_f, empty_b = np.zeros(0), np.zeros(0, dtype=bool)
    assert math.isnan(kpis.intl_standard_share(empty_f, empty_b, empty_b))


# ---------------------------------------------------------------------------------------
# §2.2.1c factory pass rate


def test_factory_pass_rate_output_weighted_alive_only():
    output = a(10.0, 30.0, 60.0, 100.0)
    pass_prob = a(0.9, 0.5, 1.0, 0.0)
    alive = a(T, T, T, F)
    expected = (10 * 0.9 + 30 * 0.5 + 60 * 1.0) / (10 + 30 + 60)
    assert kpis.factory_pass_rate(output, pass_prob, alive) == pytest.approx(expected)


def test_factory_pass_rate_with_counterfeiters_from_a_population():
    pop = empty_population(4)
    pop.alive[:] = [T, T, T, F]
    pop.output[:] = [20.0, 20.0, 60.0, 50.0]
    pop.capability[:] = [math.log(3.0), math.log(3.0), math.log(9.0), 5.0]
    pop.counterfeit[:] = [F, T, F, F]
    pp = pop.pass_probability(0.5)
    expected = (20 * 3 / 4 + 20 * 3 / 4 * 0.5 + 60 * 9 / 10) / (20 + 20 + 60)
    assert kpis.factory_pass_rate(pop.output, pp, pop.alive) == pytest.approx(expected)


def test_factory_pass_rate_nan_on_empty():
    assert math.isnan(kpis.factory_pass_rate(a(10.0), a(0.9), a(F)))
    assert math.isnan(kpis.factory_pass_rate(np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)))


# ---------------------------------------------------------------------------------------
# §2.2.1d national spot checks


def test_spot_check_pass_rate():
    assert kpis.spot_check_pass_rate(45, 50) == pytest.approx(45 / 50)
    assert kpis.spot_check_pass_rate(0, 7) == 0.0
    assert math.isnan(kpis.spot_check_pass_rate(0, 0))


# ---------------------------------------------------------------------------------------
# §2.2.1e key industries at international advanced level


def test_key_industry_intl_level_share_by_hand():
    sector = a(TEXTILES, EQUIPMENT, NEW_MATERIALS, FOOD, TEXTILES, OTHER, dtype=np.int8)
    output = a(10.0, 20.0, 30.0, 40.0, 50.0, 60.0)
    intl = a(T, T, F, T, T, T)
    pass_prob = a(0.97, 0.90, 0.99, 0.99, 0.99, 0.99)
    alive = a(T, T, T, T, F, T)
    # firm 0 counts (key, intl, 0.97 >= 0.95); firm 1 is below the level; firm 2 is not on
    # international standards; firm 3 (food) and 5 (other) are not key industries; firm 4 is dead
    expected = (10 * 1 + 20 * 0 + 30 * 0) / (10 + 20 + 30)
    got = kpis.key_industry_intl_level_share(output, sector, intl, pass_prob, alive,
                                             KEY_INDUSTRY_CODES, 0.95)
    assert got == pytest.approx(expected)
    # a lower bar lets firm 1 in
    got_low = kpis.key_industry_intl_level_share(output, sector, intl, pass_prob, alive,
                                                 KEY_INDUSTRY_CODES, 0.85)
    assert got_low == pytest.approx((10 + 20) / (10 + 20 + 30))


def test_key_industry_intl_level_share_with_counterfeiters():
    pop = empty_population(3)
    pop.alive[:] = T
    pop.sector[:] = [EQUIPMENT, EQUIPMENT, EQUIPMENT]
    pop.output[:] = [10.0, 30.0, 60.0]
    pop.intl_std[:] = [T, T, T]
    pop.capability[:] = [math.log(99.0)] * 3  # pass probability 0.99 when honest
    pop.counterfeit[:] = [F, T, F]  # 0.99 * 0.5 < 0.95: the counterfeiter drops out
    pp = pop.pass_probability(0.5)
    got = kpis.key_industry_intl_level_share(pop.output, pop.sector, pop.intl_std, pp,
                                             pop.alive, KEY_INDUSTRY_CODES, 0.95)
    assert got == pytest.approx((10 + 60) / (10 + 30 + 60))


def test_key_industry_intl_level_share_nan_without_key_firms():
    sector = a(FOOD, OTHER, TEXTILES, dtype=np.int8)
    alive = a(T, T, F)  # the only key-industry firm is dead
    got = kpis.key_industry_intl_level_share(a(1.0, 2.0, 3.0), sector, a(T, T, T),
                                             a(1.0, 1.0, 1.0), alive, KEY_INDUSTRY_CODES, 0.95)
    assert math.isnan(got)


# ---------------------------------------------------------------------------------------
# §2.2.4 pollution


def test_pollution_load_and_cod_discharge():
    output = a(10.0, 20.0, 30.0)
    coef = a(1.5, 0.0, 2.0)
    ratio = a(0.5, 3.0, 1.2)
    np.testing.assert_allclose(kpis.pollution_load(output, coef), [10 * 1.5, 0.0, 30 * 2.0])
    np.testing.assert_allclose(kpis.cod_discharge(output, coef, ratio),
                               [10 * 1.5 * 0.5, 0.0, 30 * 2.0 * 1.2])


POLLUTION = dict(
    discharge_ratio=a(0.5, 1.0, 1.5, 0.8, 2.0, 3.0),
    load=a(10.0, 20.0, 30.0, 40.0, 50.0, 0.0),
    alive=a(T, T, T, T, F, T),
)


def test_pollution_compliance_rate_load_weighted():
    # firms 0, 1 (ratio exactly 1 complies), 3 comply; firm 2 does not; firm 4 is dead;
    # firm 5 has no load, so it is not a pollution source at all
    expected = (10 + 20 + 40) / (10 + 20 + 30 + 40)
    got = kpis.pollution_compliance_rate(**POLLUTION, weighting="load")
    assert got == pytest.approx(expected)


def test_pollution_compliance_rate_count_weighted():
    expected = 3 / 4
    got = kpis.pollution_compliance_rate(**POLLUTION, weighting="count")
    assert got == pytest.approx(expected)


def test_pollution_compliance_rate_nan_without_sources():
    got = kpis.pollution_compliance_rate(a(0.5, 2.0), a(0.0, 10.0), a(T, F), weighting="load")
    assert math.isnan(got)
    got = kpis.pollution_compliance_rate(a(0.5, 2.0), a(0.0, 10.0), a(T, F), weighting="count")
    assert math.isnan(got)


def test_cod_reduction():
    assert kpis.cod_reduction(85.0, 100.0) == pytest.approx(1 - 85 / 100)
    assert kpis.cod_reduction(120.0, 100.0) == pytest.approx(1 - 120 / 100)  # COD rose
    assert kpis.cod_reduction(0.0, 40.0) == pytest.approx(1.0)
    assert math.isnan(kpis.cod_reduction(10.0, 0.0))
    assert math.isnan(kpis.cod_reduction(10.0, -5.0))
    assert math.isnan(kpis.cod_reduction(10.0, float("nan")))


def test_share_counts_alive_firms():
    flag = a(T, F, T, T)
    alive = a(T, T, T, F)
    assert kpis.share(flag, alive) == pytest.approx(2 / 3)
    assert math.isnan(kpis.share(flag, a(F, F, F, F)))


# ---------------------------------------------------------------------------------------
# the model's own measurement


@pytest.fixture(scope="module")
def model_13():
    # a seed whose path leaves exited firms with output in their slots (the mask then matters)
    model = QualityCityModel(load_scenario(BASELINE), seed=2, resolution=300)
    for _ in range(13):
        model.step()
    return model


def test_model_measurement_matches_independent_formulas(model_13):
    m = model_13
    sc = m.scenario
    pop = m.pop
    alive = pop.alive.copy()
    # the check is only meaningful if the mask and the counterfeit cut both matter
    assert (~alive).any() and (pop.output[~alive] > 0).any()
    assert (alive & pop.counterfeit).any()

    out = np.where(alive, pop.output * pop.weight, 0.0)  # each agent stands for weight firms
    factor = sc.behaviour.counterfeit_pass_factor
    honest = np.exp(pop.capability) / (1.0 + np.exp(pop.capability))
    pp = honest * np.where(pop.counterfeit, factor, 1.0)

    intl = (out * pop.intl_std).sum() / out.sum()
    factory = (out * pp).sum() / out.sum()

    coef = np.array([getattr(sc.environment.cod_coefficient, s) for s in SECTOR_INDEX])
    load = np.where(alive, pop.output * pop.weight * coef[pop.sector], 0.0)
    assert sc.interpretation.pollution_compliance_weighting == "load"
    compliance = load[pop.discharge_ratio <= pop.discharge_limit].sum() / load.sum()

    key = alive & (pop.sector <= SECTOR_INDEX["new_materials"])  # the five key industries
    level = pop.intl_std & (pp >= sc.interpretation.intl_advanced_pass_probability)
    key_share = out[key & level].sum() / out[key].sum()

    cur = m.current
    assert cur["intl_standard_share"] == pytest.approx(intl, rel=1e-12)
    assert cur["factory_pass_rate"] == pytest.approx(factory, rel=1e-12)
    assert cur["pollution_compliance_rate"] == pytest.approx(compliance, rel=1e-12)
    assert cur["key_industry_intl_level_share"] == pytest.approx(key_share, rel=1e-12)
    assert 0 < key_share < 1 and compliance < 1


def test_model_spot_check_rate_is_last_twelve_months(model_13):
    m = model_13
    window = m.tallies.spot[m.steps - 12:m.steps]  # months 2..13 (0-based rows 1..12)
    sampled, passed = window[:, 0].sum(), window[:, 1].sum()
    assert sampled > 0
    assert m.current["spot_check_pass_rate"] == pytest.approx(passed / sampled)
    # nothing is recorded beyond the current month
    assert not m.tallies.spot[m.steps:].any()


def test_model_cod_reduction_against_base_year(model_13):
    m = model_13
    sc, pop = m.scenario, m.pop
    assert sc.cod_base_year == 2009 and sc.interpretation.cod_scope == "industrial"
    coef = np.array([getattr(sc.environment.cod_coefficient, s) for s in SECTOR_INDEX])
    this_month = np.where(pop.alive, pop.output * pop.weight * coef[pop.sector]
                          * pop.discharge_ratio, 0.0).sum() / 12
    assert m.tallies.cod[m.steps - 1] == pytest.approx(this_month)
    base = m.tallies.cod[0:12].sum()  # the 2009 months
    now = m.tallies.cod[m.steps - 12:m.steps].sum()
    assert m.current["cod_reduction"] == pytest.approx(1 - now / base)
