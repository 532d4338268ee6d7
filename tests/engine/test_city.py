"""Construction works, service firms (§2.2.2, §2.2.3) and scenario comparison."""

from pathlib import Path

import numpy as np
import pytest

import simcity_quality as sq
from simcity_quality.categories import EFFORTS, EXCELLENT, FAIL, HIDDEN, PLAIN, SIZES
from simcity_quality.engine import kpis
from simcity_quality.engine.construction import Contractors, outcome_probabilities

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


# --- KPIs by hand -------------------------------------------------------------------------

def test_construction_kpis_by_hand():
    # 40 works completed, 30 of them other than large/medium projects; 3 of those failed
    # one-time acceptance, 12 were rated excellent; 2 works (any kind) hide a defect
    assert kpis.construction_standard_share(40, 2) == pytest.approx(1 - 2 / 40)
    assert kpis.construction_acceptance_rate(30, 3) == pytest.approx((30 - 3) / 30)
    assert kpis.construction_excellence_rate(30, 12) == pytest.approx(12 / 30)
    assert np.isnan(kpis.construction_acceptance_rate(0, 0))
    assert np.isnan(kpis.construction_standard_share(0, 0))


def test_service_standard_share_by_hand():
    standard = np.array([True, False, True, True, False])
    assert kpis.service_standard_share(standard) == pytest.approx(3 / 5)
    mask = np.array([True, True, False, False, True])  # e.g. one sector
    assert kpis.service_standard_share(standard, mask) == pytest.approx(1 / 3)


def test_work_outcome_probabilities_by_hand(baseline):
    """Two contractors: one careful and watched (tiered supervision), one cutting corners."""
    c = baseline.construction
    con = Contractors(weight=np.ones(2), size=np.array([0, 2], dtype=np.int8),
                      capability=np.array([2.0, 1.0]),
                      effort=np.array([EFFORTS.index("excellence"),
                                       EFFORTS.index("cut_corners")], dtype=np.int8),
                      watched=np.array([True, False]), clean_works=np.zeros(2, dtype=np.int16))
    lv = baseline.override({"status_quo.construction.targeting": "tiered",
                            "status_quo.construction.supervision_share": 0.3,
                            "status_quo.construction.watched_supervision_share": 0.8}).status_quo
    p = outcome_probabilities(con, lv, baseline, con.effort)
    for i, (cap, effort, s) in enumerate([(2.0, "excellence", 0.8), (1.0, "cut_corners", 0.3)]):
        q = 1 / (1 + np.exp(cap + getattr(c.effort_shift, effort)))  # chance of a defect
        remaining = q * (1 - s * c.correction_share)
        assert p[i, FAIL] == pytest.approx(remaining * c.acceptance_detection)
        assert p[i, HIDDEN] == pytest.approx(remaining * (1 - c.acceptance_detection))
        assert p[i, EXCELLENT] == pytest.approx((1 - remaining)
                                                * getattr(c.excellence_rating, effort))
        assert p[i].sum() == pytest.approx(1.0)
        assert p[i, PLAIN] >= 0


def test_model_construction_kpis_match_its_counts(plan):
    model = sq.QualityCityModel(plan, seed=2, resolution=1000)
    for _ in range(15):
        model.step()
    works, other, failed, excellent, hidden = model.tallies.works[3:15].sum(axis=(0, 2))
    assert model.current["construction_acceptance_rate"] == pytest.approx(1 - failed / other)
    assert model.current["construction_excellence_rate"] == pytest.approx(excellent / other)
    assert model.current["construction_standard_share"] == pytest.approx(1 - hidden / works)
    sf = model.service_firms
    assert model.current["service_standard_share"] == pytest.approx(
        (sf.standard * sf.weight).sum() / sf.weight.sum())  # of the city's service firms
    con = model.contractors
    assert (con.weight > 0).sum() == round(plan.city.contractors * 1000 / 5000)
    assert con.weight.sum() == plan.city.contractors and sf.weight.sum() == plan.city.service_firms


# --- responses (paired, common random numbers) ---------------------------------------------

def test_more_construction_supervision_raises_acceptance(plan):
    low = plan.override({"policy.construction.supervision_share": 0.1,
                         "policy.construction.targeting": "uniform"}, name="low")
    high = plan.override({"policy.construction.supervision_share": 0.9,
                          "policy.construction.targeting": "uniform"}, name="high")
    comp = sq.compare([low, high], replications=4, seed=6, resolution=1500)
    d = comp.differences.set_index("metric").loc["construction_acceptance_rate"]
    assert d["difference"] > 0 and d["ci_low"] > 0


def test_demonstration_contests_raise_service_standard_adoption(plan):
    none = plan.override({"policy.services.demonstration_titles_per_year": 0}, name="none")
    many = plan.override({"policy.services.demonstration_titles_per_year": 40}, name="many")
    comp = sq.compare([none, many], replications=4, seed=6, resolution=1500)
    d = comp.differences.set_index("metric").loc["service_standard_share"]
    assert d["difference"] > 0 and d["ci_low"] > 0


# --- ledger lines of the new sectors --------------------------------------------------------

def test_new_ledger_lines_match_counts(plan):
    res = sq.run(plan, replications=2, seed=3, resolution=800)
    b = res.budget
    for r, final in res.final.iterrows():
        rows = b[b["replication"] == r].set_index(["payer", "line"])["yuan"].groupby(
            level=[0, 1]).sum()
        cost = plan.policy.construction.cost_per_supervised_work_yuan
        assert plan.status_quo.construction.cost_per_supervised_work_yuan == cost
        assert rows[("city", "construction_supervision")] == pytest.approx(
            final["works_supervised"] * cost)
        # demonstration titles are awarded only under the plan, each paid once
        assert rows[("city", "reward_service_demonstration")] == pytest.approx(
            final["demonstration_units"] * plan.policy.services.demonstration_reward_yuan)
        assert final["demonstration_units"] > 0
        assert rows[("city", "construction_penalties")] < 0  # revenue


# --- comparison -----------------------------------------------------------------------------

def test_a_scenario_against_itself_differs_by_exactly_zero(plan):
    twin = plan.override({}, name="twin")
    comp = sq.compare([plan, twin], replications=3, seed=4, resolution=400)
    d = comp.differences
    assert len(d) > 30
    finite = d.dropna(subset=["difference"])
    assert (finite["difference"] == 0).all()
    assert (finite["ci_low"] == 0).all() and (finite["ci_high"] == 0).all()


def test_compare_reports_every_target_and_budget_line(baseline, plan):
    from simcity_quality.engine.ledger import LINES
    from simcity_quality.interface.report import format_comparison

    comp = sq.compare([baseline, plan], replications=2, seed=1, resolution=400)
    text = format_comparison(comp)
    for t in sq.TARGETS["id"]:
        assert t in text
    used = comp.differences.query("kind == 'budget'")["metric"]
    for line in LINES:
        assert any(m.endswith(":" + line) for m in used), line
    assert "95% low" in text and "the_plan minus baseline" in text
    # attainment: one row per target and scenario
    assert set(comp.attainment["scenario"]) == {"baseline", "the_plan"}


def test_paired_interval_formula():
    from scipy import stats

    from simcity_quality.results.statistics import paired_interval

    d = np.array([1.0, 2.0, 4.0])
    mean, lo, hi, n = paired_interval(d)
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert (mean, n) == (pytest.approx(7 / 3), 3)
    assert lo == pytest.approx(7 / 3 - half) and hi == pytest.approx(7 / 3 + half)
    assert paired_interval(np.array([np.nan, 1.0]))[3] == 1


def test_compare_cli_writes_tables(tmp_path, capsys):
    from simcity_quality.interface.cli import main

    out = tmp_path / "cmp"
    assert main(["compare", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), "-r", "2",
                 "--resolution", "300", "-o", str(out)]) == 0
    assert "the_plan minus baseline" in capsys.readouterr().out
    for name in ("differences", "attainment"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    assert (out / "kpis_vs_targets.png").exists()
    assert (out / "baseline" / "final.parquet").exists()


def test_sizes_cover_contractors(baseline):
    model = sq.QualityCityModel(baseline, seed=1, resolution=5000)
    counts = np.bincount(model.contractors.size, minlength=len(SIZES))
    assert counts.sum() == baseline.city.contractors and (counts > 0).all()
