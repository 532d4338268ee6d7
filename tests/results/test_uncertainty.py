"""The two kinds of probability: the parameter rule (documented, shared across scenarios and
levers, independent of executors), the priors it draws from, and every result stating which
kind it holds."""

import pickle
import tempfile

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.results.uncertainty import (
    PARAMETER_BRANCH,
    draw_of,
    parameter_draws,
    parameter_uniforms,
)
from simcity_quality.scenario.priors import UncertainRange

KEY = "market.counterfeit_gain"


def test_the_rule_is_the_documented_formula():
    import zlib

    u = parameter_uniforms(7, [0, 5], [KEY])
    for i, r in enumerate([0, 5]):
        ss = np.random.SeedSequence(7, spawn_key=(r, 2**32 - 1, zlib.crc32(KEY.encode())))
        word = int(ss.generate_state(1, np.uint64)[0])
        assert u[i, 0] == (word >> 11) / 2**53
    assert PARAMETER_BRANCH == 2**32 - 1


def test_draws_depend_on_seed_replication_and_key_only(plan, baseline):
    a = parameter_draws(plan, 3, range(20))
    b = parameter_draws(baseline, 3, range(20))  # another scenario, the same priors
    pd.testing.assert_frame_equal(a, b)
    # the key's draw does not depend on the other keys drawn, nor on their order
    alone = parameter_uniforms(3, range(20), [KEY])[:, 0]
    both = parameter_uniforms(3, range(20), ["city.moral_cost_mean", KEY])[:, 1]
    np.testing.assert_array_equal(alone, both)
    # a lever or design key is left out; the others keep their values
    lever = parameter_draws(plan, 3, range(20), exclude=[KEY])
    assert KEY not in lever and (lever == a.drop(columns=KEY)).all().all()
    # another seed or replication gives other numbers
    assert not np.allclose(parameter_uniforms(4, range(20), [KEY]), alone[:, None])
    assert len(set(alone)) == 20
    # replications asked for later are the same as asked for at once
    pd.testing.assert_frame_equal(parameter_draws(plan, 3, [12, 2]), a.loc[[12, 2]])


PRIORS = {
    "uniform": ({"range": [0.2, 0.6], "source": "s"}, stats.uniform(0.2, 0.4)),
    "triangular": ({"range": [0.2, 0.6], "prior": "triangular", "mode": 0.3, "source": "s"},
                   stats.triang(0.25, loc=0.2, scale=0.4)),
    "truncated_normal": ({"range": [0.2, 0.6], "prior": "truncated_normal", "mean": 0.3,
                          "sd": 0.1, "source": "s"},
                         stats.truncnorm(-1.0, 3.0, loc=0.3, scale=0.1)),
    "beta": ({"range": [0.2, 0.6], "prior": "beta", "alpha": 2.0, "beta": 5.0, "source": "s"},
             stats.beta(2.0, 5.0, loc=0.2, scale=0.4)),
    "log_uniform": ({"range": [0.2, 0.6], "prior": "log_uniform", "source": "s"},
                    stats.loguniform(0.2, 0.6)),
}


@pytest.mark.parametrize("name", list(PRIORS))
def test_each_prior_is_drawn_from_its_distribution(plan, name):
    table, dist = PRIORS[name]
    sc = plan.override({"uncertain.behaviour.subsidy_misuse": table})
    prior = sc.uncertain["behaviour.subsidy_misuse"]
    assert prior.prior == name and prior.source == "s"
    x = parameter_draws(sc, 11, range(3000))["behaviour.subsidy_misuse"].to_numpy()
    assert 0.2 <= x.min() and x.max() <= 0.6
    assert stats.kstest(x, dist.cdf).pvalue > 0.001
    grid = np.linspace(0.2, 0.6, 9)
    np.testing.assert_allclose(prior.cdf(grid), dist.cdf(grid), atol=1e-9)
    u = np.linspace(0.01, 0.99, 9)
    np.testing.assert_allclose(prior.quantile(u), dist.ppf(u), atol=1e-9)


def test_a_plain_range_stays_a_uniform_tuple_and_round_trips(plan, tmp_path):
    r = plan.uncertain["behaviour.imitation_weight"]
    assert r == (0.0, 3.0) and tuple(r) == (0.0, 3.0) and r.prior == "uniform"
    lo, hi = r
    assert (lo, hi) == (0.0, 3.0) and repr(r) == "(0.0, 3.0)"
    tri = plan.uncertain["behaviour.subsidy_misuse"]  # a triangular prior in baseline.toml
    assert tri.prior == "triangular" and tri.params == {"mode": 0.2} and "Boeing" in tri.source
    assert tri != UncertainRange(0.1, 0.45) and tri == (0.1, 0.45)  # tuple compares the range
    assert pickle.loads(pickle.dumps(tri)) == tri
    again = sq.scenario.scenario_from_data(plan.file_data(), "copy")
    assert again.uncertain == plan.uncertain
    assert all(again.uncertain[k].prior == v.prior for k, v in plan.uncertain.items())
    flat = sq.scenario.scenario_from_data(plan.to_dict(), "dict")
    assert flat.uncertain["behaviour.subsidy_misuse"] == tri
    assert plan.to_dict()["uncertain"]["behaviour.imitation_weight"] == [0.0, 3.0]


def test_run_with_parameters_is_run_of_each_replication_s_draw(plan):
    res = sq.run(plan, replications=2, seed=4, resolution=200, progress=False,
                 uncertainty="parameters")
    assert res.uncertainty == "parameters" and list(res.draws.index) == [0, 1]
    assert set(res.draws.columns) == set(plan.uncertain)
    by_hand = sq.run(plan.override(draw_of(res.draws, 1)), replications=2, seed=4,
                     resolution=200, progress=False)
    pd.testing.assert_series_equal(res.final.iloc[1], by_hand.final.iloc[1])
    noise = sq.run(plan, replications=2, seed=4, resolution=200, progress=False)
    assert noise.uncertainty == "noise" and noise.draws.empty
    assert "noise only" in repr(noise) and "does not cover" not in repr(res)
    assert "drawing them from their priors" in repr(res) and ".draws" in repr(res)
    with tempfile.TemporaryDirectory() as tmp:
        res.write(tmp)
        drawn = pd.read_csv(f"{tmp}/draws.csv")
        assert list(drawn["replication"]) == [0, 1]


def test_compare_draws_the_same_parameters_in_every_scenario(plan, baseline):
    comp = sq.compare([baseline, plan], replications=2, seed=5, resolution=200, progress=False,
                      uncertainty="parameters")
    pd.testing.assert_frame_equal(comp.results[0].draws, comp.results[1].draws)
    assert comp.uncertainty == "parameters"
    assert (sq.analysis.attainment(comp)["uncertainty"] == "parameters").all()
    assert (comp.attainment["uncertainty"] == "parameters").all()
    assert "uncertainty='parameters'" in repr(comp)
    from simcity_quality.interface.report import format_comparison

    assert "uncertainty='parameters'" in format_comparison(comp)


def test_a_sweep_draws_what_its_design_does_not_set(plan, tmp_path):
    design = sq.designs.grid({KEY: [0.02, 0.05], "policy.rewards.city_provincial_award":
                              [0, 100_000]})
    res = sq.sweep(plan, design, replications=2, seed=6, resolution=200, executor="serial",
                   store=tmp_path / "s", progress=False, timeseries=False,
                   uncertainty="parameters")
    assert res.uncertainty == "parameters" and res.manifest["uncertainty"] == "parameters"
    assert "2**32 - 1" in res.manifest["parameter_rule"]
    runs = res.with_design()
    assert set(runs[KEY]) == {0.02, 0.05}  # the design's values stand
    other = "city.moral_cost_mean"
    expected = parameter_draws(plan, 6, [0, 1])[other]
    for r in (0, 1):  # the same draw at every design point
        assert (runs.loc[runs["replication"] == r, other] == expected[r]).all()
    one = runs[(runs["point"] == 3) & (runs["replication"] == 1)].iloc[0]
    by_hand = sq.run(plan.override({**{k: v for k, v in draw_of(
        parameter_draws(plan, 6, [1], exclude=[KEY]), 1).items()},
        KEY: one[KEY], "policy.rewards.city_provincial_award": int(
            one["policy.rewards.city_provincial_award"])}), replications=2, seed=6,
        resolution=200, progress=False)
    assert by_hand.final.iloc[1]["factory_pass_rate"] == one["factory_pass_rate"]
    assert (sq.analysis.attainment(res)["uncertainty"] == "parameters").all()
    assert "uncertainty 'parameters'" in repr(res)
    with pytest.raises(SimcityQualityError, match="uncertainty: store has 'parameters'"):
        sq.sweep(plan, design, replications=2, seed=6, resolution=200, executor="serial",
                 store=tmp_path / "s", progress=False, timeseries=False, resume=True)


@pytest.mark.slow
def test_parameter_draws_are_the_same_whatever_the_executor(plan, tmp_path):
    design = sq.designs.grid({"policy.rewards.city_provincial_award": [0, 100_000]})
    kw = dict(replications=3, seed=8, resolution=200, progress=False, timeseries=False,
              uncertainty="parameters")
    serial = sq.sweep(plan, design, store=tmp_path / "s", executor="serial", **kw)
    procs = sq.sweep(plan, design, store=tmp_path / "p", executor="processes", workers=2,
                     batch_size=1, **kw)
    pd.testing.assert_frame_equal(serial.finals, procs.finals)
    pd.testing.assert_frame_equal(serial.with_design(), procs.with_design())


def test_an_unknown_kind_is_refused_before_anything_runs(plan, tmp_path):
    def never(*args):
        raise AssertionError("ran before checking")

    calls = [lambda: sq.run(plan, replications=1, uncertainty="both"),
             lambda: sq.compare([plan], replications=1, uncertainty="Parameters"),
             lambda: sq.sweep(plan, sq.designs.grid({KEY: [0.02]}), store=tmp_path / "x",
                              uncertainty="priors"),
             lambda: sq.cheapest_mix(plan, {"policy.subsidy.interest_subsidy_rate": (0, 1)},
                                     "factory_pass_rate", evaluator=never,
                                     uncertainty="none"),
             lambda: sq.minimum_level(plan, "policy.subsidy.interest_subsidy_rate",
                                      bounds=(0, 1), evaluator=never, uncertainty="none"),
             lambda: sq.optimise_mix(plan, {"policy.subsidy.interest_subsidy_rate": (0, 1)},
                                     budget=1e6, evaluator=never, uncertainty="none")]
    for call in calls:
        with pytest.raises(SimcityQualityError, match="expected 'noise'.*or 'parameters'"):
            call()
    assert not (tmp_path / "x").exists()
    with pytest.raises(SimcityQualityError, match="cannot draw"):
        sq.optimise_mix(plan, {"policy.subsidy.interest_subsidy_rate": (0, 1)}, budget=1e6,
                        evaluator=never, uncertainty="parameters")


def test_attainment_states_the_kind_and_refuses_to_relabel(plan):
    res = sq.run(plan, replications=1, seed=1, resolution=200, progress=False)
    assert (sq.analysis.attainment(res)["uncertainty"] == "noise").all()
    assert (sq.analysis.attainment(res.final)["uncertainty"] == "unstated").all()
    assert (sq.analysis.attainment(res.final, uncertainty="parameters")["uncertainty"]
            == "parameters").all()
    with pytest.raises(SimcityQualityError, match="cannot relabel"):
        sq.analysis.attainment(res, uncertainty="parameters")
    from simcity_quality.interface.report import format_text

    assert "uncertainty='noise'" in format_text(res)
