"""Analysis on cases with known answers: attainment and Wilson intervals, budget impact."""

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality import analysis as an
from simcity_quality.analysis.attainment import _width
from simcity_quality.engine.ledger import REVENUE_LINES
from simcity_quality.targets import target_list


def test_wilson_interval_matches_published_values():
    # Wilson score interval, 95 %: 7 of 10 -> (0.3968, 0.8922); 0 of 10 -> (0, 0.2775)
    lo, hi = an.wilson_interval(7, 10)
    assert (lo, hi) == (pytest.approx(0.3968, abs=1e-4), pytest.approx(0.8922, abs=1e-4))
    lo, hi = an.wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-4)


def synthetic_finals() -> pd.DataFrame:
    """Ten replications; every quantified target met except where set below."""
    targets = [t for t in target_list() if t.modelled]
    rows = {t.kpi: np.full(10, min(1.0, t.threshold + 0.01)) for t in targets}
    rows["factory_pass_rate"] = np.array([0.95] * 7 + [0.85] * 3)  # met 7 of 10
    rows["cod_reduction"] = np.array([0.20] * 9 + [0.10])  # met 9 of 10; fails in the last
    rows["key_industry_intl_level_share"] = np.zeros(10)  # not quantified in the plan
    df = pd.DataFrame(rows)
    df["replication"] = range(10)
    return df


def test_attainment_on_a_synthetic_table():
    table = an.attainment(synthetic_finals()).set_index("target")
    f = table.loc["factory_pass_rate"]
    assert (f["met"], f["n"], f["probability"]) == (7, 10, 0.7)
    assert (f["low"], f["high"]) == (pytest.approx(0.3968, abs=1e-4),
                                     pytest.approx(0.8922, abs=1e-4))
    assert table.loc["cod_reduction", "met"] == 9
    assert table.loc["key_industry_intl_level_share", "met"] == 0
    # all quantified targets: replications 0-6 meet everything (7 misses factory, 9 misses COD)
    assert table.loc["all_quantified", "met"] == 7


def test_attainment_by_group_and_with_overridden_thresholds():
    df = pd.concat([synthetic_finals().assign(point=0), synthetic_finals().assign(point=1)])
    df.loc[df["point"] == 1, "factory_pass_rate"] = 0.5
    table = an.attainment(df, by=["point"]).set_index(["point", "target"])
    assert table.loc[(0, "factory_pass_rate"), "met"] == 7
    assert table.loc[(1, "factory_pass_rate"), "met"] == 0
    lenient = target_list({"factory_pass_rate": 0.8})
    t2 = an.attainment(synthetic_finals(), targets=lenient).set_index("target")
    assert t2.loc["factory_pass_rate", "met"] == 10


def test_replications_needed_is_the_smallest_n_that_narrows_the_interval():
    df = synthetic_finals()
    df["factory_pass_rate"] = np.array([0.95] * 5 + [0.85] * 5)  # p = 0.5
    need = an.replications_needed(df, width=0.1).set_index("target")
    n = int(need.loc["factory_pass_rate", "replications_needed"])
    assert _width(0.5, n, 0.95) <= 0.1 < _width(0.5, n - 1, 0.95)
    assert 370 <= n <= 390  # about (2 * 1.96)^2 * 0.25 / 0.1^2 = 384


@pytest.fixture(scope="module")
def runs(baseline, plan):
    kw = dict(replications=4, seed=12, resolution=600)
    return sq.run(baseline, **kw), sq.run(plan, **kw)


def test_budget_components_add_up_per_year_and_cumulatively(runs):
    _, reform = runs
    yearly = an.budget_summary(reform)
    for _, g in yearly[yearly["payer"] != "all"].groupby(["year", "payer"]):
        lines = g[g["line"] != "total"]["mean"].sum()
        assert g[g["line"] == "total"]["mean"].iloc[0] == pytest.approx(lines)
    everyone = yearly.query("payer == 'all'").set_index("year")["mean"]
    payers = yearly.query("payer != 'all' and line == 'total'").groupby("year")["mean"].sum()
    pd.testing.assert_series_equal(everyone, payers, check_names=False)
    cumulative = an.budget_summary(reform, cumulative=True).query("payer == 'all'")
    assert cumulative["mean"].iloc[-1] == pytest.approx(everyone.sum())
    assert cumulative["mean"].iloc[-1] == pytest.approx(reform.final["spending_total"].mean())


def test_budget_difference_is_paired_and_signed(runs, plan):
    base, reform = runs
    same = an.budget_difference(reform, reform)
    assert (same["difference"] == 0).all() and (same["low"] == 0).all()
    diff = an.budget_difference(reform, base).query("payer == 'all' and year == 2012")
    expected = (reform.final["spending_total"] - base.final["spending_total"]).mean()
    assert diff["difference"].iloc[0] == pytest.approx(expected)
    assert diff["difference"].iloc[0] > 0  # the plan costs more than the status quo
    with pytest.raises(sq.SimcityQualityError, match="same seed"):
        an.budget_difference(reform, sq.run(plan, replications=4, seed=13, resolution=600))


def test_cost_per_point(runs):
    base, reform = runs
    table = an.cost_per_point(reform, base).set_index("kpi")
    row = table.loc["construction_acceptance_rate"]
    gain = ((reform.final["construction_acceptance_rate"]
             - base.final["construction_acceptance_rate"]) * 100).mean()
    cost = (reform.final["spending_total"] - base.final["spending_total"]).mean()
    assert row["gain_points"] == pytest.approx(gain)
    assert row["yuan_per_point"] == pytest.approx(cost / gain)


def test_paired_cost_adds_up_and_agrees_with_the_comparison(runs):
    base, reform = runs
    cost = an.paired_cost(reform, base).set_index(["payer", "line"])
    for payer in ("city", "province"):
        mine = cost.loc[payer]
        lines = mine.drop(index=["gross", "revenue", "total"], errors="ignore")
        revenue_lines = lines.index.isin(REVENUE_LINES)
        for col in ("reform", "baseline", "difference"):
            assert mine.loc["gross", col] == pytest.approx(lines.loc[~revenue_lines, col].sum())
            assert mine.loc["revenue", col] == pytest.approx(lines.loc[revenue_lines, col].sum())
            assert mine.loc["total", col] == pytest.approx(
                mine.loc["gross", col] + mine.loc["revenue", col])
    assert cost.loc[("city", "revenue"), "reform"] < 0  # fines are revenue, negative
    # the net totals are the comparison's (one definition of cost) and the time series'
    expected = (reform.final["spending_total"] - base.final["spending_total"]).mean()
    assert cost.loc[("all", "total"), "difference"] == pytest.approx(expected)
    net = an.budget_difference(reform, base).query("year == 2012").set_index(["payer", "line"])
    for key in (("city", "total"), ("city", "fee_waiver"), ("province", "total")):
        assert cost.loc[key, "low"] == pytest.approx(net.loc[key, "low"])
    # a line neither scenario books on is left out; the bases always stay
    assert ("city", "service_standard_grant") not in cost.index
    same = an.paired_cost(reform, reform)
    assert (same["difference"] == 0).all()


# --- minimum_level ---------------------------------------------------------------------------

SUPERVISION = "policy.construction.supervision_share"


@pytest.mark.slow
def test_minimum_level_is_bracketed_by_hand_run_levels(plan):
    from simcity_quality.results.budget import cost
    from simcity_quality.results.statistics import wilson_bounds

    kw = dict(seed=3, resolution=400)
    res = sq.minimum_level(plan, SUPERVISION, targets=["construction_acceptance_rate"],
                           probability=0.85, bounds=(0.0, 1.0), grid_points=3, replications=8,
                           max_replications=32, bisections=0, progress=False, **kw)
    assert res.level is not None and res.non_monotonic == [] and res.settled

    def hand(level):  # the same replications, run by hand: (met, n, city gross cost)
        n = int(res.scan.loc[res.scan["level"] == level, "n"].iloc[0])
        r = sq.run(plan.override({SUPERVISION: level}), replications=n, progress=False, **kw)
        met = int((r.final["construction_acceptance_rate"] >= 0.9).sum())
        return met, n, cost(r.budget, "city", "gross").mean()

    met, n, gross = hand(res.level)
    assert wilson_bounds(met, n, 0.95)[0] >= 0.85  # qualifies by the one-sided rule
    assert res.probability == pytest.approx(met / n)
    assert res.expected_cost == pytest.approx(gross) and res.basis == "gross"
    below = res.scan[res.scan["level"] < res.level]["level"].max()
    met, n, _ = hand(below)
    assert wilson_bounds(met, n, 0.95)[1] < 0.85  # clearly short
    assert res.low <= res.probability <= res.high and res.expected_cost > 0


def test_minimum_level_says_when_no_level_reaches_the_target(plan):
    res = sq.minimum_level(plan, SUPERVISION, targets=["construction_excellence_rate"],
                           probability=0.9, bounds=(0.0, 1.0), grid_points=2, replications=4,
                           max_replications=4, seed=1, resolution=300)
    assert res.level is None and "no level" in res.reason


# --- sensitivity and scenario discovery --------------------------------------------------------

def test_morris_recovers_the_effects_of_a_linear_function():
    from simcity_quality.experiments.sensitivity import morris_design, morris_indices

    unit = morris_design(d=3, trajectories=8, levels=4, seed=2)
    y = 3.0 * unit[:, 0] + 0.0 * unit[:, 1] - 1.0 * unit[:, 2]
    table = morris_indices(unit, y, ["a", "b", "c"]).set_index("parameter")
    assert table.loc["a", "mu_star"] == pytest.approx(3.0)
    assert table.loc["b", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["c", "mu"] == pytest.approx(-1.0)
    assert table.loc["a", "sigma"] == pytest.approx(0.0, abs=1e-12)  # linear: no interaction


def test_sobol_indices_of_the_ishigami_function_cover_the_analytic_values():
    a, b = 7.0, 0.1

    def ishigami(x):
        x1, x2, x3 = x["x1"], x["x2"], x["x3"]
        return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)

    pi = np.pi
    table = sq.experiments.sobol_indices_of(ishigami,
                                            {"x1": (-pi, pi), "x2": (-pi, pi), "x3": (-pi, pi)},
                                n=2048, seed=1, n_resamples=199).set_index("parameter")
    first = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    total = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for k in first:
        assert table.loc[k, "first_low"] - 0.02 <= first[k] <= table.loc[k, "first_high"] + 0.02
        assert table.loc[k, "total_low"] - 0.02 <= total[k] <= table.loc[k, "total_high"] + 0.02


def test_prim_recovers_a_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    y = (x["a"] > 0.6) & (x["b"] < 0.3)  # the plan misses here
    res = an.prim(x, y, alpha=0.05, min_support=0.02, min_density=0.95)
    box = res.box
    assert set(box) == {"a", "b"}
    assert box["a"][0] == pytest.approx(0.6, abs=0.05) and box["b"][1] == pytest.approx(0.3,
                                                                                      abs=0.05)
    row = res.trajectory.loc[res.chosen]
    assert row["density"] >= 0.95 and row["coverage"] >= 0.8
    rules = an.cart_rules(x, y, max_depth=2)
    assert "a <= " in rules or "a >  " in rules


def test_morris_on_the_model_runs_through_the_sweep(plan):
    table = sq.morris(plan, ["factory_pass_rate"], parameters=["market.counterfeit_gain",
                                                               "behaviour.imitation_weight"],
                      trajectories=2, replications=1, resolution=200, seed=1)
    assert set(table["parameter"]) == {"market.counterfeit_gain", "behaviour.imitation_weight"}
    assert (table["mu_star"] >= 0).all() and table["noise_sd"].notna().all()
    # more shoddy production pays, lower pass rate: the larger effect
    assert table.iloc[0]["parameter"] == "market.counterfeit_gain" and table.iloc[0]["mu"] < 0


# --- optimise_mix --------------------------------------------------------------------------

def _synthetic(points):
    """Known answer: the objective peaks at (0.3, 0.7); cost = 100 x (a + b) yuan."""
    a, b = points["policy.rewards.city_provincial_award"], points["behaviour.imitation_weight"]
    obj = 1.0 - (a - 0.3) ** 2 - (b - 0.7) ** 2
    return pd.DataFrame({"objective": obj, "low": obj, "high": obj, "cost": 100.0 * (a + b)})


MIX = {"policy.rewards.city_provincial_award": (0.0, 1.0), "behaviour.imitation_weight": (0.0, 1.0)}


def test_optimise_mix_finds_a_known_best_point(plan):
    res = sq.optimise_mix(plan, MIX, budget=1000.0, evaluator=_synthetic, max_runs=600, seed=1)
    assert res.best["policy.rewards.city_provincial_award"] == pytest.approx(0.3, abs=0.05)
    assert res.best["behaviour.imitation_weight"] == pytest.approx(0.7, abs=0.05)
    assert res.runs_used <= 600


def test_optimise_mix_respects_a_binding_budget_and_returns_the_frontier(plan):
    res = sq.optimise_mix(plan, MIX, budget=50.0, evaluator=_synthetic, max_runs=600, seed=2)
    assert res.cost <= 50.0
    # the best point within a + b <= 0.5: the projection of (0.3, 0.7) on that line, (0.05, 0.45)
    assert res.best["policy.rewards.city_provincial_award"] == pytest.approx(0.05, abs=0.08)
    assert res.best["behaviour.imitation_weight"] == pytest.approx(0.45, abs=0.08)
    fr = res.frontier
    assert fr["cost"].is_monotonic_increasing and fr["objective"].is_monotonic_increasing
    for _, row in res.evaluations.iterrows():  # nothing tried dominates the frontier
        better = (fr["cost"] >= row["cost"]) & (fr["objective"] < row["objective"])
        assert not (better & (fr["cost"] > row["cost"])).all() or fr.empty


def test_optimise_mix_is_never_worse_than_the_scenario_as_written(plan):
    """Only the scenario's own mix scores: the search must try it and return it."""
    own = float(plan.get("behaviour.imitation_weight"))
    levers = {"behaviour.imitation_weight": (0.0, 1.0)}

    def only_own(points):
        hit = np.isclose(points["behaviour.imitation_weight"], own)
        obj = hit.astype(float)
        return pd.DataFrame({"objective": obj, "low": obj, "high": obj, "cost": 0.0})

    res = sq.optimise_mix(plan, levers, budget=1.0, evaluator=only_own, max_runs=40, seed=3)
    assert res.objective == 1.0
    assert res.best["behaviour.imitation_weight"] == pytest.approx(own)
    with pytest.warns(sq.SimcityQualityWarning, match="flat"):  # nothing tried scores
        without = sq.optimise_mix(plan, levers, budget=1.0, evaluator=only_own, max_runs=40,
                                  seed=3, include_scenario=False)
    assert without.objective == 0.0 and without.flat


def test_optimise_mix_on_the_model_stays_within_its_run_budget(plan):
    import warnings

    from simcity_quality.results.budget import cost

    key = "policy.construction.supervision_share"
    with warnings.catch_warnings():  # at this size the objective may well be flat
        warnings.simplefilter("ignore", sq.SimcityQualityWarning)
        res = sq.optimise_mix(plan, {key: (0.0, 1.0)}, budget=1e12,
                              objective="construction_acceptance_rate", replications=2,
                              max_runs=20, resolution=200, seed=1, progress=False)
    assert res.runs_used <= 20
    assert 0.0 <= res.best[key] <= 1.0
    assert 0.0 <= res.objective <= 1.0 and res.low <= res.objective <= res.high
    # the same replications by hand: the objective, and the city's gross and net cost
    hand = sq.run(plan.override({key: res.best[key]}), replications=2, seed=1, resolution=200,
                  progress=False)
    assert res.objective == (hand.final["construction_acceptance_rate"] >= 0.9).mean()
    assert res.cost == res.gross == pytest.approx(cost(hand.budget, "city", "gross").mean())
    assert res.net == pytest.approx(cost(hand.budget, "city", "net").mean())
    if res.flat:
        assert res.cost == res.evaluations["cost"].min()


def test_plots_render(runs, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from simcity_quality.analysis import plots

    base, reform = runs
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((300, 2)), columns=["a", "b"])
    mix = sq.optimise_mix(reform.scenario, MIX, budget=1000.0, evaluator=_synthetic,
                          max_runs=60, seed=1)
    morris = pd.DataFrame({"output": "y", "parameter": ["a", "b"], "mu_star": [1.0, 0.2],
                           "mu_star_low": [0.8, 0.1], "mu_star_high": [1.2, 0.3],
                           "noise_sd": 0.05})
    def step(scale):  # met from reward 0.5 x scale up; cost 100 x reward
        def evaluate(points, reps):
            a = points["policy.rewards.city_provincial_award"].to_numpy()
            rows = [(i, r, a[i] >= 0.5 * scale, 100.0 * a[i], 90.0 * a[i])
                    for i in range(len(a)) for r in reps]
            return pd.DataFrame(rows, columns=["point", "replication", "met", "gross", "net"])
        return evaluate

    # one with an answer, one where nothing qualifies
    cheap = [sq.cheapest_mix(reform.scenario, {"policy.rewards.city_provincial_award": (0.0, 1.0)},
                             "factory_pass_rate", evaluator=step(scale), progress=False)
             for scale in (1.0, 3.0)]
    assert cheap[0].qualified and not cheap[1].qualified
    figures = [
        plots.cheapest_mix_plot(cheap[0]), plots.cheapest_mix_plot(cheap[1]),
        plots.fan_chart([base, reform], "construction_acceptance_rate"),
        plots.attainment_bars(an.attainment(sq.compare([base.scenario, reform.scenario],
                                                       replications=2, seed=1, resolution=200)),
                              group="scenario"),
        plots.budget_stack(an.budget_summary(reform)),
        plots.frontier_plot(mix.evaluations, mix.frontier, budget=1000.0),
        plots.sensitivity_bars(morris, "y"),
        plots.prim_tradeoff(an.prim(x, x["a"] > 0.7)),
    ]
    for i, fig in enumerate(figures):
        fig.savefig(tmp_path / f"{i}.png")
        assert (tmp_path / f"{i}.png").stat().st_size > 5_000


def test_minimum_level_cli(capsys):
    from pathlib import Path

    from simcity_quality.interface.cli import main

    plan_file = Path(__file__).resolve().parents[2] / "scenarios" / "the_plan.toml"
    rc = main(["minimum-level", str(plan_file), SUPERVISION, "--bounds", "0", "1",
               "--targets", "construction_excellence_rate", "--grid-points", "2", "-r", "2",
               "--max-replications", "2", "--resolution", "200", "-q"])
    assert rc == 0
    out, err = capsys.readouterr()
    assert "no level qualifies" in out and err == ""
    assert "e+0" not in out  # money in million yuan, not 1.087151e+07
