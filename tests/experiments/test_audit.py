"""The lever audit: its paired differences are those of a hand-run comparison on the same
seeds, its costs the one cost definition, its cost per point as documented; bad input is
refused before anything runs."""

import math

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.experiments import audit as audit_module
from simcity_quality.experiments.audit import lever_audit
from simcity_quality.results.budget import cost
from simcity_quality.results.paired import cost_per_point
from simcity_quality.scenario.plan_levers import plan_lever
from simcity_quality.targets import target_list

SIZE = dict(replications=3, seed=11, resolution=200)
LEVERS = ["permits", "inspections", "construction_supervision"]


@pytest.fixture(scope="module")
def audit(plan):
    return lever_audit(plan, levers=LEVERS, progress=False, **SIZE)


def test_every_lever_and_setting_is_reported(audit):
    assert [lv.id for lv in audit.levers] == LEVERS
    assert audit.high_is_plan == ["permits"]  # the flag is at its extreme in the plan
    pairs = set(zip(audit.effects["lever"], audit.effects["setting"], strict=True))
    assert pairs == {("permits", "plan"), ("inspections", "plan"), ("inspections", "high"),
                     ("construction_supervision", "plan"),
                     ("construction_supervision", "high")}
    modelled = [t.id for t in target_list() if t.modelled]
    for _, g in audit.effects.groupby(["lever", "setting"]):
        assert list(g["target"]) == modelled
    assert len(audit.costs) == 5 * 3 * 2  # lever-settings x payers x bases
    # the plan ran once, each lever's off and high once more
    assert sorted(audit.results) == sorted(
        ["the_plan", "the_plan [permits off]", "the_plan [inspections off]",
         "the_plan [inspections high]", "the_plan [construction_supervision off]",
         "the_plan [construction_supervision high]"])
    assert set(audit.settings["lever"]) == set(LEVERS)


@pytest.mark.parametrize("lever_id", ["inspections", "construction_supervision"])
def test_differences_are_those_of_a_hand_run_comparison_on_the_same_seeds(plan, audit,
                                                                          lever_id):
    lever = plan_lever(lever_id)
    values = lever.settings(plan)
    off = plan.override(values["off"], name="by_hand_off")
    high = plan.override(values["high"], name="by_hand_high")
    comp = sq.compare([off, plan, high], progress=False, **SIZE)
    for setting, name in (("plan", "the_plan"), ("high", "by_hand_high")):
        by_hand = comp.differences[comp.differences["scenario"] == name].set_index("metric")
        mine = audit.effects[(audit.effects["lever"] == lever_id)
                             & (audit.effects["setting"] == setting)]
        for row in mine.itertuples():
            ref = by_hand.loc[row.kpi]
            for col, theirs in (("change_points", "difference"), ("ci_low", "ci_low"),
                                ("ci_high", "ci_high")):
                a, b = getattr(row, col), ref[theirs] * 100
                assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)
            assert row.off_mean == ref["reference_mean"] and row.mean == ref["scenario_mean"]
        # every metric of the comparison, budget lines included, is in .differences as is
        theirs = by_hand.reset_index()[["metric", "difference"]]
        d = audit.differences[(audit.differences["lever"] == lever_id)
                              & (audit.differences["setting"] == setting)]
        merged = d[["metric", "difference"]].merge(theirs, on="metric", suffixes=("", "_h"))
        assert len(merged) == len(theirs)
        np.testing.assert_array_equal(merged["difference"], merged["difference_h"])
        # costs: the one cost definition on the comparison's own runs
        res = comp.results[1] if setting == "plan" else comp.results[2]
        c = audit.costs[(audit.costs["lever"] == lever_id)
                        & (audit.costs["setting"] == setting)].set_index(["payer", "basis"])
        for payer in ("city", "province", "all"):
            for basis in ("gross", "net"):
                diff = cost(res.budget, payer, basis) - cost(comp.results[0].budget, payer,
                                                             basis)
                assert c.loc[(payer, basis), "difference"] == pytest.approx(diff.mean())
                assert c.loc[(payer, basis), "n"] == SIZE["replications"]


def test_cost_per_point_is_the_cost_change_over_the_points_where_the_change_is_told(audit):
    cpp = audit.cost_per_point
    assert len(cpp) == len(audit.effects) * 6  # every payer and basis
    merged = cpp.merge(audit.costs, on=["lever", "setting", "payer", "basis"])
    np.testing.assert_array_equal(merged["cost_difference"], merged["difference"])
    told = merged[merged["effect"]]
    assert len(told) > 0, "supervision moves §2.2.2b even at this size"
    np.testing.assert_allclose(told["yuan_per_point"],
                               told["cost_difference"] / told["change_points"])
    assert merged.loc[~merged["effect"], "yuan_per_point"].isna().all()
    # effect: the change's 95 % interval excludes zero; material: and it is at least a tenth
    # of a point (what the printed summaries call moving a target)
    e = audit.effects
    np.testing.assert_array_equal(e["effect"], (e["ci_low"] > 0) | (e["ci_high"] < 0))
    np.testing.assert_array_equal(e["material"], e["effect"] & (e["change_points"].abs()
                                                                >= 0.1))
    moved, small = audit.moved(), audit.negligible()
    for lever, g in e.groupby("lever"):
        assert set(moved[lever]) == set(g.loc[g["material"], "target"])
        assert set(small[lever]) == set(g.loc[g["effect"], "target"]) - set(moved[lever])
    assert set(audit.no_effect()) == {k for k, g in e.groupby("lever") if not g["effect"].any()}


def test_cost_per_point_by_hand():
    targets = pd.DataFrame({"target": ["a", "b", "c", "d"], "target_section": ["§1"] * 4,
                            "change_points": [2.0, -4.0, 1.0, 0.0],
                            "effect": [True, True, False, False]})
    costs = pd.DataFrame({"payer": ["city"], "basis": ["gross"], "difference": [10e6]})
    out = cost_per_point(targets, costs)
    assert list(out["yuan_per_point"][:2]) == [5e6, -2.5e6]  # a point lost: negative
    assert out["yuan_per_point"][2:].isna().all()  # interval covers zero: no effect


def test_the_audit_prints_a_table_and_writes_it(audit, tmp_path):
    text = repr(audit)
    assert text.startswith("Lever audit of 'the_plan': 3 paired replications, seed 11, 200 of")
    for needle in ("construction_supervision", "§2.2.2b", "city gross", "all net",
                   "permits: the plan already has it at its extreme", "M yuan a point",
                   "off status quo; high x3"):
        assert needle in text, needle
    assert "<table>" in audit._repr_html_() and "construction_supervision" in audit._repr_html_()
    assert "construction_supervision" not in audit.no_effect()
    md = audit.to_markdown()
    for needle in ("### Settings", "### Cost per percentage point", "| inspections | high |",
                   "spot_checks_per_year | 500 | 750 | 2,250"):
        assert needle in md, needle
    for name in ("levers.csv", "levers.parquet"):
        path = audit.write(tmp_path / name)
        back = pd.read_csv(path) if name.endswith("csv") else pd.read_parquet(path)
        assert set(back["kind"]) == {"target", "cost"}
        assert len(back) == len(audit.effects) + len(audit.costs)
        assert "city_gross_yuan_per_point" in back.columns


def test_with_parameter_draws_every_setting_shares_the_draws_and_says_so(plan):
    a = lever_audit(plan, levers=["inspections"], progress=False, uncertainty="parameters",
                    **SIZE)
    draws = [res.draws for res in a.results.values()]
    assert len(draws) == 3 and not draws[0].empty  # the plan, off and high
    for d in draws[1:]:
        pd.testing.assert_frame_equal(d, draws[0])  # the same parameters in every setting
    # the drawn parameters change the runs: the plan's KPIs differ from a noise-only audit
    noise = lever_audit(plan, levers=["inspections"], progress=False, **SIZE)
    assert not a.results[plan.name].final.equals(noise.results[plan.name].final)
    assert "uncertainty='parameters'" in repr(a) and "uncertainty='noise'" in repr(noise)
    bad = "uncertainty=.priors.: expected .noise."
    with pytest.raises(SimcityQualityError, match=bad):
        lever_audit(plan, levers=["inspections"], progress=False, uncertainty="priors",
                    **SIZE)


@pytest.fixture
def no_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model run started before the input was checked")

    monkeypatch.setattr(audit_module, "run", refuse)


@pytest.mark.parametrize(("scenario", "kwargs", "needle"), [
    ("the_plan", {"levers": ["rewardz"]}, "unknown lever 'rewardz' \\(did you mean 'rewards'"),
    ("the_plan", {"levers": []}, "at least one lever"),
    ("baseline", {}, "leaves rewards, fee_waivers.*off setting"),
    ("the_plan", {"multiple": 1.0}, "multiple must be above 1"),
    ("the_plan", {"replications": 0}, "replications must be a whole number"),
    ("the_plan", {"resolution": 10**7}, "above the city's size"),
    ("the_plan", {"firms": 200}, "`firms=` is now `resolution=`"),
])
def test_bad_input_is_refused_before_anything_runs(request, no_runs, scenario, kwargs, needle):
    sc = request.getfixturevalue("plan" if scenario == "the_plan" else "baseline")
    with pytest.raises(SimcityQualityError, match=needle):
        lever_audit(sc, progress=False, **kwargs)


def test_the_output_file_must_be_csv_or_parquet(tmp_path):
    for bad in ("table.txt", "table"):
        with pytest.raises(SimcityQualityError, match=r"\.csv or \.parquet"):
            audit_module.check_output(tmp_path / bad)
    assert audit_module.check_output(tmp_path / "t.parquet").suffix == ".parquet"


def test_treatment_plants_are_audited_only_when_asked_and_move_cod_only_in_scope(plan):
    """The municipal treatment plants are a lever outside the plan: the plan's audit leaves
    them out; asked for by id, one plant a year costs the city the same at any resolution,
    moves the COD cut when domestic COD is in scope and nothing when it is not."""
    assert "urban_wastewater" not in [lv.id for lv in audit_module.select_levers()]
    with pytest.raises(SimcityQualityError, match="outside the plan.*"
                       "policy.urban_wastewater.plants_per_year"):
        lever_audit(plan, levers=["urban_wastewater"], progress=False, replications=2)
    assert [lv.id for lv in audit_module.select_levers(["urban_wastewater", "permits"])] == [
        "permits", "urban_wastewater"]
    one = plan.override({"policy.urban_wastewater.plants_per_year": 1})
    kw = dict(levers=["urban_wastewater"], progress=False, replications=2, seed=4)
    effects, costs = {}, {}
    for scope in ("industrial", "industrial_and_domestic"):
        case = one.override({"interpretation.cod_scope": scope})
        for size in (200, 400):
            a = lever_audit(case, resolution=size, **kw)
            row = a.effects.query("setting == 'plan' and target == 'cod_reduction'")
            effects[scope, size] = float(row["change_points"].iloc[0])
            gross = a.costs.query("setting == 'plan' and payer == 'city' and basis == 'gross'")
            costs[scope, size] = float(gross["difference"].iloc[0])
    from simcity_quality.engine.wastewater import treatment_cost_yuan

    expected = sum(treatment_cost_yuan(one, y) for y in range(2010, 2013))  # yuan
    assert expected > 0
    assert all(abs(c - expected) < 1e-3 for c in costs.values()), costs
    assert effects["industrial", 200] == 0.0 == effects["industrial", 400]
    assert effects["industrial_and_domestic", 200] > 1.0  # percentage points
