"""The vectorised engine against the per-agent Mesa reference (simcity_quality/reference/).

The two implement the same rules with different random numbers, so their end-of-horizon KPIs
must agree in distribution: per KPI, means within 3 standard errors of the difference, and the
two-sample KS test not rejected at 1 % after Holm correction across KPIs. Small city (300
enterprises) and 40 independent replications per model and scenario, to fit CI; the full check
is ``benchmarks/equivalence.py``.
"""

import mesa
import numpy as np
import pandas as pd
import pytest

from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import COMPARED, final_values, small_city
from simcity_quality.reference import Contractor, Enterprise, ReferenceCityModel, ServiceFirm
from simcity_quality.results.replications import replication_seeds
from simcity_quality.results.statistics import compare_samples, holm

FIRMS = 300
REPLICATIONS = 40
# different roots: engine and reference samples are independent
ENGINE_SEED, REFERENCE_SEED = 20240611, 97531


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "plan"])
def test_engine_and_reference_agree_in_distribution(name, baseline, plan):
    sc = small_city({"baseline": baseline, "plan": plan}[name], FIRMS)
    engine = final_values(QualityCityModel, sc, replication_seeds(ENGINE_SEED, REPLICATIONS))
    reference = final_values(ReferenceCityModel, sc,
                             replication_seeds(REFERENCE_SEED, REPLICATIONS))
    rows = compare_samples(engine, reference, alpha=0.01, max_se=3.0)
    table = pd.DataFrame(rows).set_index("kpi")
    compared = table[table["ok"].notna()]
    # every target KPI and the spending totals are finite at this size, so all are compared
    assert len(compared) == len(COMPARED), table
    bad = compared[~compared["ok"].astype(bool)]
    assert bad.empty, f"{sc.name}: engine and reference differ\n{table.to_string()}"


def test_reference_is_a_mesa_model(plan):
    city = small_city(plan, FIRMS)
    m = ReferenceCityModel(city, seed=3)
    scale = FIRMS / plan.city.firms
    assert isinstance(m, mesa.Model)
    assert len(m.agents_by_type[Enterprise]) == FIRMS
    assert len(m.agents_by_type[Contractor]) == round(plan.city.contractors * scale)
    assert len(m.agents_by_type[ServiceFirm]) == round(plan.city.service_firms * scale)
    assert all(isinstance(a, mesa.Agent) for a in m.agents)
    assert len(m.agents) == (FIRMS + round(plan.city.contractors * scale)
                             + round(plan.city.service_firms * scale))
    # same city size as the engine
    e = QualityCityModel(city, seed=3)
    assert e.contractors.size.shape[0] == len(m.contractors)
    assert e.service_firms.size.shape[0] == len(m.service_firms)

    for _ in range(13):
        m.step()
    frame = m.datacollector.get_model_vars_dataframe()
    assert len(frame) == 13
    assert set(QualityCityModel.columns()) <= set(frame.columns)
    assert frame["firms_alive"].iloc[-1] == len(m.enterprises) <= FIRMS
    # firms that exit are removed from the model; entrants are new agents
    assert frame["exits"].iloc[-1] > 0 and frame["entrants"].iloc[-1] > 0
    assert len(m.agents_by_type[Enterprise]) == frame["firms_alive"].iloc[-1]


def test_reference_is_reproducible(baseline):
    runs = []
    for _ in range(2):
        m = ReferenceCityModel(small_city(baseline, 100), seed=np.random.SeedSequence(8))
        m.run_model()
        runs.append(m.datacollector.get_model_vars_dataframe())
    pd.testing.assert_frame_equal(*runs)
    assert m.steps == m.n_months == 48


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
