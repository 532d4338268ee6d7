"""Municipal wastewater treatment, the lever outside the plan (docs/ODD.md §7.17): plants
running, what a plant removes, domestic COD after the plants and their cost, engine
(``engine.wastewater``) against reference (``ReferenceCityModel.plants_running``,
``plant_tonnes``, ``domestic``, ``pay_interest_subsidies``), and by hand."""

import numpy as np
from states import YEAR, firms

from simcity_quality.engine import wastewater
from simcity_quality.experiments.equivalence import twin_reference

BASE_INDUSTRIAL = 80_000.0  # t COD a year in the first year


def _plants(sc, per_year: int):
    return sc.override({"policy.urban_wastewater.plants_per_year": per_year,
                        "interpretation.cod_scope": "industrial_and_domestic"})


def test_plants_and_domestic_cod_by_hand_and_alike(sc):
    """Two plants a year from the policy's start: 2, 4, 6 running; each removes its capacity x
    load x 365 x kg/m3; domestic COD is the base x ratio moved by its trend, less the plants'
    removal, which takes at most the cap's share of it; the reference computes the same."""
    case = _plants(sc, 2)
    env, first, start = case.environment, case.city.base_year, case.policy.start_year
    assert start == first + 1
    tonnes = (env.treatment_plant_m3_per_day * env.treatment_load_factor * 365
              * env.treatment_cod_removed_kg_per_m3 / 1000)
    assert abs(wastewater.plant_capacity_tonnes(case) - tonnes) < 1e-9 and tonnes > 1000
    twin = twin_reference(case, firms(5))
    twin.model._base_industrial_cod = BASE_INDUSTRIAL
    assert abs(twin.model.plant_tonnes() - tonnes) < 1e-9
    for year in twin.model.years:
        running = 2 * max(0, year - start + 1)
        assert wastewater.plants_running(case, year) == running == twin.model.plants_running(year)
        before = (BASE_INDUSTRIAL * env.non_industrial_cod_ratio
                  * (1 + env.non_industrial_cod_trend) ** (year - first))
        removed = min(running * tonnes, env.treatment_max_removal_share * before)
        domestic = wastewater.domestic_cod(case, BASE_INDUSTRIAL, first, year)
        assert np.allclose(domestic, (before - removed, removed), rtol=1e-12, atol=0)
        t = 12 * (year - first) + 11
        assert np.allclose(twin.model.domestic(t), domestic, rtol=1e-12, atol=0)
        cost = running * tonnes * env.treatment_cost_yuan_per_tonne
        assert abs(wastewater.treatment_cost_yuan(case, year) - cost) < 1e-6
    assert np.isnan(twin.model.domestic(10)).all()  # the first year is not complete yet
    # many plants: they take off at most the cap's share of the domestic discharge
    flood = _plants(sc, 20)
    before = BASE_INDUSTRIAL * env.non_industrial_cod_ratio * (
        1 + env.non_industrial_cod_trend) ** (YEAR - first)
    left, removed = wastewater.domestic_cod(flood, BASE_INDUSTRIAL, first, YEAR)
    assert removed == env.treatment_max_removal_share * before
    assert removed < wastewater.plants_running(flood, YEAR) * tonnes
    assert abs(left - (1 - env.treatment_max_removal_share) * before) < 1e-9
    twin = twin_reference(flood, firms(5))
    twin.model._base_industrial_cod = BASE_INDUSTRIAL
    assert np.allclose(twin.model.domestic(12 * (YEAR - first) + 11), (left, removed),
                       rtol=1e-12, atol=0)
    # the status quo and the plan commission none
    assert wastewater.plants_running(sc, YEAR) == 0
    assert wastewater.domestic_cod(sc, BASE_INDUSTRIAL, first, YEAR)[1] == 0.0


def test_the_city_pays_a_month_of_its_plants_alike(sc):
    """Each month the city books a twelfth of the running plants' yearly cost on its
    ``urban_wastewater_treatment`` line, in the engine's model and in the reference."""
    from simcity_quality.engine.model import QualityCityModel

    case = _plants(sc, 1)
    twin = twin_reference(case, firms(5))
    twin.model.pay_interest_subsidies(YEAR)
    ref = twin.model.ledger.frame().query("line == 'urban_wastewater_treatment'")["yuan"].sum()
    expected = wastewater.treatment_cost_yuan(case, YEAR) / 12
    assert abs(ref - expected) < 1e-6 and expected > 0
    model = QualityCityModel(case, seed=1, resolution=200)
    model._monthly_payments(YEAR)
    got = model.ledger.frame().query("line == 'urban_wastewater_treatment'")["yuan"].sum()
    assert abs(got - expected) < 1e-6
