"""Probabilities over what is not known, the robust cheapest mix, and which uncertainty matters
for the decision, on stand-in evaluators whose answers are known analytically.

The stand-ins take the searches' three-argument protocol ``(mixes, replications, draws)``
(``uncertainty="parameters"``, :mod:`simcity_quality.experiments.runs`): a replication meets
the target when the reward ``a`` (the lever as a share of its range) reaches ``t1``, the draw
of ``market.counterfeit_gain`` as a share of its range, so P(met | a) is the prior's
probability that ``t1 <= a``: ``a`` itself under the uniform prior. The cost is ``100 a``,
plus ``50 t2`` where the draw of ``city.moral_cost_mean`` (``t2``) moves the cost but not what
meets the target.

In part k of the range of ``t1`` (thirds), P(met | a) = clip(3 a - (k - 1), 0, 1), so the
part's cheapest reward is ``a_k = (k - 1 + q) / 3`` for the share ``q`` the one-sided rule
needs; the mix meeting the probability in every part is ``a_3``, and knowing the part saves
``100 (a_3 - (a_1 + a_2 + a_3) / 3) = 100 / 3`` in expectation, whatever ``q``. Knowing ``t2``
saves nothing: the same reward is the cheapest in each of its parts.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.results.statistics import wilson_bounds, wilson_interval
from simcity_quality.results.uncertainty import parameter_draws

A = "policy.rewards.city_provincial_award"  # a = A / 100,000
LEVERS = {A: (0, 100_000)}
T1, T2 = "market.counterfeit_gain", "city.moral_cost_mean"
TRIANGULAR = {"range": [0.01, 0.06], "prior": "triangular", "mode": 0.02, "source": "test"}


def share(sc, key, value):
    lo, hi = sc.uncertain[key]
    return (np.asarray(value, dtype=float) - lo) / (hi - lo)


def stand_in(sc, cost_of_t2=50.0):
    """met when a >= t1; gross 100 a + cost_of_t2 t2, net 10 less; counts its runs."""
    calls = []

    def evaluate(points: pd.DataFrame, replications: list[int], draws: pd.DataFrame):
        calls.append(len(points) * len(replications))
        assert list(draws.index) == list(replications)
        assert A not in draws  # the lever is set by the mix, never drawn
        rows = []
        for i, a in enumerate(points[A].to_numpy() / 100_000):
            for r in replications:
                t1 = share(sc, T1, draws.at[r, T1])
                t2 = share(sc, T2, draws.at[r, T2])
                g = 100 * a + cost_of_t2 * t2
                rows.append((i, r, bool(a >= t1), g, g - 10))
        return pd.DataFrame(rows, columns=["point", "replication", "met", "gross", "net"])

    evaluate.calls = calls
    return evaluate


def never_called(*args):
    raise AssertionError("the search ran before checking its arguments")


# --- the ensemble probability ----------------------------------------------------------------

def test_the_ensemble_probability_integrates_over_the_declared_prior(plan):
    # a triangular prior on t1: P(met | a) is its CDF at the reward's value of t1
    sc = plan.override({f"uncertain.{T1}": TRIANGULAR})
    res = sq.cheapest_mix(sc, LEVERS, "factory_pass_rate", probability=0.8, evaluator=stand_in(sc),
                          uncertainty="parameters", progress=False)
    prior = sc.uncertain[T1]
    draws = parameter_draws(sc, 0, range(80), exclude=[A])[T1].to_numpy()
    assert res.uncertainty == "parameters" and res.drawn == len(sc.uncertain)
    for _, row in res.evaluations.iterrows():
        a, n = row[A] / 100_000, int(row["n"])
        value = 0.01 + 0.05 * a  # the reward's value on t1's scale
        assert row["met"] == (draws[:n] <= value + 1e-12).sum()  # the drawn replications
        exact = float(prior.cdf(value))
        low, high = wilson_interval(row["met"], n, 0.999)
        assert low <= exact <= high, (a, n, row["met"], exact)
    assert "uncertainty='parameters'" in repr(res) and "np.float64" not in repr(res)


def test_the_robust_mix_meets_the_probability_over_what_is_not_known(plan):
    ev = stand_in(plan)
    robust = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                             uncertainty="parameters", progress=False)
    noise = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8,
                            evaluator=lambda p, r: stand_in(plan)(
                                p, r, pd.DataFrame({T1: plan.get(T1), T2: plan.get(T2)},
                                                   index=pd.Index(r, name="replication"))),
                            progress=False)
    # at the scenario's value (t1 = 0.4) any a >= 0.4 always meets the target ...
    assert 0.4 <= noise.mix[A] / 100_000 <= 0.4 + 1 / 32
    # ... over the uniform prior, P(met | a) = a: a must be high enough that the share of
    # the 80 drawn replications with t1 <= a has a one-sided lower bound of 0.8
    a = robust.mix[A] / 100_000
    t1 = share(plan, T1, parameter_draws(plan, 0, range(80), exclude=[A])[T1])
    met = int((t1 <= a + 1e-12).sum())
    assert robust.attainment.value == met / 80 and robust.replications == 80
    assert wilson_bounds(met, 80, 0.95)[0] >= 0.8
    q = next(m for m in range(81) if wilson_bounds(m, 80, 0.95)[0] >= 0.8) / 80
    assert abs(a - q) < 0.1  # the analytic answer, P(met) = a, within sampling error
    assert robust.cost.value > noise.cost.value  # what the noise-only answer leaves out
    # in thirds of t1's range: P(met | a, third k) = clip(3 a - (k - 1), 0, 1), so the
    # noise-only reward (a = 0.4) fails the upper two thirds, and even the robust one (a near
    # 0.9) does not reach the probability in the top third
    regret = sq.regret_table(plan, {"robust": robust, "noise only": noise}, "factory_pass_rate",
                             probability=0.8, parameters=[T1], replications=30, evaluator=ev,
                             progress=False)
    status = regret.table.set_index(["mix", "part"])["status"]
    assert [status[("noise only", k)] for k in (1, 2, 3)] == ["qualifies", "short", "short"]
    assert [status[("robust", k)] for k in (1, 2)] == ["qualifies", "qualifies"]
    top = regret.table.set_index(["mix", "part"]).loc[("robust", 3)]
    assert top["status"] != "qualifies" and top["attainment"] < 0.8
    low, high = wilson_interval(top["met"], 30, 0.999)
    assert low <= 3 * a - 2 <= high  # the analytic share in the top third
    assert regret.mixes["robust"] == robust.mix


# --- decision relevance ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def relevance(plan):
    ev = stand_in(plan)
    res = sq.decision_relevance(plan, LEVERS, "factory_pass_rate", probability=0.8,
                                parameters=[T1, T2], evaluator=ev, progress=False)
    res.calls = ev.calls
    return res


def test_a_parameter_that_changes_the_decision_is_worth_knowing(relevance):
    t = relevance.table.set_index("parameter")
    high = t.loc[T1]
    assert bool(high["decision_changes"]) and bool(high["measure_first"])
    assert high["value"] == pytest.approx(100 / 3, abs=100 / 16)  # the analytic 33.3
    assert high["value_low"] > 0
    parts = relevance.parts[relevance.parts["parameter"] == T1].set_index("part")
    assert parts["weight"].to_numpy() == pytest.approx([1 / 3] * 3)
    a = parts[A].to_numpy() / 100_000
    assert (np.diff(a) > 0.25).all()  # a_k = (k - 1 + q) / 3: a third apart
    assert high[f"change_share:{A}"] == pytest.approx(2 / 3, abs=1 / 16)
    assert relevance.mixes[high["robust_mix"]][A] == parts[A].max()  # the hardest part's mix


def test_a_parameter_that_moves_the_outcome_but_not_the_decision_is_not(relevance):
    t = relevance.table.set_index("parameter")
    low = t.loc[T2]
    assert not low["decision_changes"] and not low["measure_first"]
    assert low[f"change_share:{A}"] <= 1 / 16  # the same reward in every part, to the noise
    assert low["cost_change"] > 25  # t2 moves the cost by 50 / 3 a part
    assert low["value"] < t.loc[T1, "value"] / 5
    assert relevance.measure_first() == [T1]
    assert list(relevance.table["parameter"]) == [T1, T2]  # most valuable first


def test_the_value_of_knowing_is_never_negative_and_the_runs_are_counted(relevance):
    assert (relevance.table["value"] >= 0).all()
    assert (relevance.parts["saving"] >= -1e-9).all()
    assert relevance.runs_used == sum(relevance.calls)  # every run the stand-in made
    assert relevance.runs_asked > relevance.runs_used  # searches reused each other's runs
    assert sum(r.runs_used for r in relevance.searches.values()) + \
        relevance.ensemble.runs_used <= relevance.runs_used
    text = repr(relevance)
    assert "measure these first" in text and T1 in text.split("measure these first")[1]
    assert "reused" in text and "np.float64" not in text
    assert "<table>" in relevance._repr_html_()
    g = relevance.regret
    assert set(g["mix"]) == set(relevance.mixes)
    # the regret table: in each part the cheapest qualifying mix has no regret
    for (_, _), part in g.groupby(["parameter", "part"]):
        ok = part[part["status"] == "qualifies"]
        assert ok["regret"].min() == 0 and (ok["regret"] >= 0).all()
        assert part.loc[part["status"] != "qualifies", "regret"].isna().all()


def test_with_no_mix_meeting_it_in_every_part_knowing_decides_feasibility(plan):
    # the reward reaches only a = 0.5: the top part of t1 cannot be met at all
    res = sq.decision_relevance(plan, {A: (0, 50_000)}, "factory_pass_rate", probability=0.8,
                                parameters=[T1], evaluator=stand_in(plan), progress=False)
    row = res.table.iloc[0]
    assert np.isnan(row["value"]) and row["robust_mix"] is None and row["measure_first"]
    assert row["parts_without_mix"] >= 1
    assert "no mix meets it in every part" in repr(res)


def test_the_regret_table_costs_candidate_mixes_in_each_third(plan):
    mixes = {"low": {A: 32_000}, "middle": {A: 65_000}, "high": {A: 99_000}}
    res = sq.regret_table(plan, mixes, "factory_pass_rate", probability=0.8, parameters=[T1],
                          replications=40, evaluator=stand_in(plan, cost_of_t2=0.0),
                          progress=False)
    t = res.table.set_index(["mix", "part"])
    # "low" meets t1's first third (P = 0.96), not the others; "middle" the first two (P =
    # 0.95 in the second); "high" all (P = 0.97 in the third)
    assert [t.loc[("low", k), "status"] for k in (1, 2, 3)] == ["qualifies", "short", "short"]
    assert [t.loc[("middle", k), "status"] for k in (1, 2)] == ["qualifies", "qualifies"]
    assert t.loc[("high", 3), "status"] == "qualifies"
    assert t.loc[("middle", 1), "regret"] == pytest.approx(33.0)  # 100 (0.65 - 0.32)
    assert t.loc[("high", 3), "regret"] == 0.0
    assert (t["n"] == 40).all() and (t["cost"] == t["gross"]).all()
    assert res.runs_used <= 3 * 3 * 40
    summary = res.summary()
    assert summary.loc[(T1, "low"), 2].endswith("*")  # short there
    assert "Regret table" in repr(res) and "<table" in res._repr_html_()


def test_regret_and_relevance_refuse_bad_input_before_running(plan):
    kw = dict(evaluator=never_called, progress=False)
    with pytest.raises(SimcityQualityError, match="not declared under \\[uncertain\\]"):
        sq.decision_relevance(plan, LEVERS, "factory_pass_rate", parameters=["market.counterfeit"],
                              **kw)
    with pytest.raises(SimcityQualityError, match="parts must be a whole number of at least 2"):
        sq.decision_relevance(plan, LEVERS, "factory_pass_rate", parts=1, **kw)
    narrow = plan.override({f"uncertain.{T1}": {"range": [0.01, 0.06],
                                                "prior": "truncated_normal", "mean": 0.01,
                                                "sd": 0.004, "source": "test"}})
    with pytest.raises(SimcityQualityError, match="too little to condition on"):
        sq.decision_relevance(narrow, LEVERS, "factory_pass_rate", parameters=[T1], **kw)
    with pytest.raises(SimcityQualityError, match="did you mean 'factory_pass_rate'"):
        sq.decision_relevance(plan, LEVERS, "factory_pass", **kw)
    with pytest.raises(SimcityQualityError, match="same levers"):
        sq.regret_table(plan, [{A: 1}, {"policy.subsidy.interest_subsidy_rate": 0.5}], **kw)
    with pytest.raises(SimcityQualityError, match="share of interest"):  # the schema's bound
        sq.regret_table(plan, [{"policy.subsidy.interest_subsidy_rate": 1.5}], **kw)
    with pytest.raises(SimcityQualityError, match="a lever is set by the search"):
        sq.decision_relevance(plan, {"behaviour.logit_scale": (0.005, 0.03)},
                              "factory_pass_rate", parameters=["behaviour.logit_scale"], **kw)


def test_decision_relevance_shows_progress_and_can_be_silenced(plan, capsys):
    def call(progress):
        return sq.decision_relevance(plan, LEVERS, "factory_pass_rate", parameters=[T1],
                                     grid_points=3, tolerance=0.3, replications=10,
                                     max_replications=20, evaluator=stand_in(plan),
                                     progress=progress)

    call(True)
    shown = capsys.readouterr().err
    assert "decision_relevance" in shown and "100%" in shown
    call(False)
    assert capsys.readouterr().err == ""


def test_relevance_parts_partition_the_draws(plan):
    from simcity_quality.experiments.runs import MixRuns, PartRuns
    from simcity_quality.results.progress import progress_bar

    with progress_bar(False) as bar:
        base = MixRuns(plan, [A], [], "city", 3, None, bar, evaluator=stand_in(plan),
                       uncertainty="parameters")
    lo, hi = plan.uncertain[T1]
    edges = np.linspace(lo, hi, 4)
    views = [PartRuns(base, T1, edges[k], edges[k + 1], last=k == 2) for k in range(3)]
    ids = [set(v.replications(60)) for v in views]
    assert not (ids[0] & ids[1]) and not (ids[1] & ids[2])
    values = parameter_draws(plan, 3, range(max(max(i) for i in ids) + 1))[T1]
    for k in range(3):
        inside = values[sorted(ids[k])]
        assert ((inside >= edges[k]) & (inside <= edges[k + 1])).all()
    # the first 60 of a part are exactly the first 60 replications whose draw is in it
    inside = values[(values >= edges[1]) & (values < edges[2])].index[:60]
    assert list(views[1].replications(60)) == list(inside)
    assert stats.binomtest(len(values[(values < edges[1])]), len(values), 1 / 3).pvalue > 1e-3
