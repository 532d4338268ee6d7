"""The searches on stand-in evaluators with known answers: ``cheapest_mix``, ``minimum_level``
and ``optimise_mix`` find them, say when attainment is flat, when costs tie and when nothing
qualifies, apply the one-sided confidence rule as documented, refuse bad names before running,
and show progress that can be silenced.

A stand-in gives each (mix, replication) an outcome on common random numbers: replication
``r`` meets the targets when ``u_r < p(mix)``, with ``u_r`` the van der Corput sequence (any
prefix of it is spread evenly over [0, 1), so the share met in the first n replications is
p(mix) to within about log2(n) / n, and the same replications are lucky at every mix).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError, SimcityQualityWarning
from simcity_quality.results.statistics import wilson_bounds

A = "policy.rewards.city_provincial_award"  # yuan per title: the stand-ins use a = A / 100,000
B = "policy.subsidy.interest_subsidy_rate"  # share
LEVERS = {A: (0, 100_000), B: (0.0, 1.0)}


def vdc(r: int) -> float:
    """The (r + 1)-th van der Corput number in base 2: 0.5, 0.25, 0.75, 0.125, ..."""
    x, denom, n = 0.0, 1.0, r + 1
    while n:
        denom *= 2
        x += (n % 2) / denom
        n //= 2
    return x


def stand_in(attainment, gross, net=None, met=None):
    """An evaluator: ``attainment(a, b)`` the probability (or ``met(a, b, r)`` the outcome
    itself), ``gross(a, b)`` the cost, ``net`` the cost after fines (default gross - 10)."""
    calls = []

    def evaluate(points: pd.DataFrame, replications: list[int]) -> pd.DataFrame:
        calls.append((len(points), list(replications)))
        rows = []
        for i, row in points.reset_index(drop=True).iterrows():
            a, b = row[A] / 100_000, row.get(B, 0.0)
            g = gross(a, b)
            n = g - 10.0 if net is None else net(a, b)
            for r in replications:
                ok = met(a, b, r) if met else vdc(r) < attainment(a, b)
                rows.append((i, r, ok, g, n))
        return pd.DataFrame(rows, columns=["point", "replication", "met", "gross", "net"])

    evaluate.calls = calls
    return evaluate


def never_called(points, replications):
    raise AssertionError("the search ran before checking its arguments")


# --- cheapest_mix ----------------------------------------------------------------------------

def test_cheapest_mix_finds_a_known_cheapest_mix(plan):
    # met exactly where 0.5 a + 0.4 b >= 0.5; cost 100 a + 50 b: the subsidy buys attainment
    # more cheaply, so the cheapest mix is b = 1 with a = 0.2, costing 70
    ev = stand_in(lambda a, b: float(0.5 * a + 0.4 * b >= 0.5 - 1e-12),
                  gross=lambda a, b: 100 * a + 50 * b)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          progress=False)
    a, b = res.mix[A] / 100_000, res.mix[B]
    assert 0.5 * a + 0.4 * b >= 0.5 - 1e-12  # it qualifies ...
    assert 70 <= res.cost.value <= 70 + 100 / 32 + 1e-9  # ... within the tolerance of 70
    assert res.qualified and res.settled and not res.flat
    assert res.gross.value == res.cost.value and res.net.value == res.cost.value - 10
    assert res.attainment.value == 1.0 and res.replications == 80  # confirmed at the maximum
    q = res.evaluations[res.evaluations["status"] == "qualifies"]
    assert q["cost"].min() == res.cost.value  # nothing tried that qualifies is cheaper
    fr = res.frontier
    assert fr["cost"].is_monotonic_increasing and fr["attainment"].is_monotonic_increasing
    assert res.runs_used <= 2000 and res.runs_used == sum(n * len(r) for n, r in ev.calls)


def test_cheapest_mix_on_common_random_numbers_finds_the_noisy_boundary(plan):
    # attainment 0.5 + 0.45 a (the subsidy does nothing but cost 10 b): the answer is the
    # lowest a whose one-sided lower bound at 80 replications reaches 0.8, with b = 0
    def p(a, b):
        return 0.5 + 0.45 * a

    ev = stand_in(p, gross=lambda a, b: 100 * a + 10 * b)
    res = sq.cheapest_mix(plan, LEVERS, ["§2.2.1c"], probability=0.8, evaluator=ev,
                          progress=False)

    def qualifies(a):
        met = sum(vdc(r) < p(a, 0) for r in range(80))
        return wilson_bounds(met, 80, 0.95)[0] >= 0.8

    grid = np.linspace(0, 1, 1025)
    a_star = next(a for a in grid if qualifies(a))
    assert res.mix[B] == 0.0
    assert a_star <= res.mix[A] / 100_000 <= a_star + 1 / 32
    assert res.targets == ["factory_pass_rate"]  # named by its section


def test_a_flat_attainment_is_reported_and_the_cheapest_mix_returned(plan):
    # 90 % met at every mix, whatever the levers: the answer is the cheapest corner
    ev = stand_in(None, met=lambda a, b, r: r % 10 != 9, gross=lambda a, b: 5 + 100 * a + 50 * b)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          progress=False)
    assert res.flat and res.mix == {A: 0, B: 0.0}
    assert res.cost.value == 5.0
    assert any("flat" in n and "exactly 0.90" in n for n in res.notes)
    assert "flat" in repr(res) and "np.float64" not in repr(res)
    html = res._repr_html_()
    assert "<table>" in html and "M yuan (city, gross" in html and "flat" in html


def test_an_answer_that_cannot_be_settled_says_so(plan):
    # 85 % met from a = 0.5 up: at 80 replications the lower bound (0.77) stays below 0.8 and
    # the upper bound above it, so those mixes are uncertain however long the search runs
    ev = stand_in(None, met=lambda a, b, r: a >= 0.5 and r % 20 not in (3, 9, 15),
                  gross=lambda a, b: 100 * a + 50 * b)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          progress=False)
    assert res.mix is None and not res.settled
    assert any(n.startswith("NOT settled") and "too close to 0.80" in n for n in res.notes)
    assert (res.evaluations.loc[res.evaluations[A] >= 50_000, "status"] == "uncertain").all()
    assert res.evaluations.loc[res.evaluations[A] >= 50_000, "n"].max() == 80  # given more
    small = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                            max_runs=600, progress=False)  # the runs run out first
    assert small.runs_used <= 600 and any("ran out of its max_runs=600" in n
                                          for n in small.notes)


def test_mixes_that_cost_the_same_are_reported_as_ties(plan):
    # the subsidy costs nothing here and changes nothing: every b at the cheapest a ties
    ev = stand_in(lambda a, b: float(a >= 0.5), gross=lambda a, b: 100 * a)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          progress=False)
    assert res.mix == {A: 50_000, B: 0.0}  # of the tied mixes, the one nearest the low bounds
    assert len(res.ties) > 1 and (res.ties["cost"] == res.cost.value).all()
    assert set(res.ties[B]) > {0.0}
    assert any("cost the same" in n for n in res.notes)


def test_an_infeasible_target_reports_none_with_the_best_reached(plan):
    ev = stand_in(lambda a, b: 0.5 * a, gross=lambda a, b: 100 * a + 50 * b)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          progress=False)
    assert res.mix is None and not res.qualified and res.cost is None
    # the highest attainment reached (the cheapest mix reaching it), near the top reward
    ev_ = res.evaluations
    top = ev_[ev_["attainment"] == ev_["attainment"].max()].sort_values("cost").iloc[0]
    assert res.best_mix == {A: top[A], B: top[B]} and res.best_mix[A] >= 75_000
    assert res.best_attainment.value == top["attainment"] < 0.8
    text = repr(res)
    assert "no mix within the bounds qualifies" in text and "highest attainment reached" in text
    assert res.settled  # every mix tried is clearly short: "none" is the answer, not a guess


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_the_one_sided_confidence_rule_is_applied_as_documented(plan, confidence):
    # attainment exactly 0.9 from a = 0.5 up, none below; 0.82 is required. At 80
    # replications the one-sided 95 % lower Wilson bound is 0.831 (qualifies), the two-sided
    # 95 % one 0.815 (would not), and the one-sided 99 % one 0.789 (does not)
    ev = stand_in(None, met=lambda a, b, r: a >= 0.5 and r % 10 != 9,
                  gross=lambda a, b: 100 * a + 50 * b)
    res = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.82,
                          confidence=confidence, evaluator=ev, progress=False)
    ci = stats.binomtest(72, 80).proportion_ci(confidence_level=2 * confidence - 1,
                                               method="wilson")
    two_sided_95 = stats.binomtest(72, 80).proportion_ci(0.95, method="wilson").low
    assert two_sided_95 < 0.82
    if confidence == 0.95:
        assert ci.low >= 0.82
        assert res.mix == {A: 50_000, B: 0.0} and res.replications == 80
        assert res.attainment.low == pytest.approx(ci.low)
        assert res.attainment.high == pytest.approx(ci.high)
    else:
        assert ci.low < 0.82
        assert res.mix is None
        assert res.best_attainment.value == 0.9
        assert res.best_attainment.low == pytest.approx(ci.low)


def test_cheapest_mix_can_minimise_net_cost_and_reports_both(plan):
    # net of fines, the reward is cheaper (its fines come back): the answer moves to it
    ev = stand_in(lambda a, b: float(0.5 * a + 0.4 * b >= 0.5 - 1e-12),
                  gross=lambda a, b: 100 * a + 50 * b, net=lambda a, b: 20 * a + 50 * b)
    gross = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                            progress=False)
    net = sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=0.8, evaluator=ev,
                          cost="net", progress=False)
    assert net.basis == "net" and net.cost == net.net
    assert net.mix[A] == 100_000  # a = 1 alone meets it, at a net cost of 20
    assert net.net.value == pytest.approx(20.0) and net.gross.value == pytest.approx(100.0)
    assert gross.mix[B] > 0.9
    assert "net of fines" in repr(net) and "(city, gross" in repr(net)


def test_cheapest_mix_refuses_bad_names_before_running(plan):
    kw = dict(evaluator=never_called, progress=False)
    with pytest.raises(SimcityQualityError, match=r"factory_pass_rate \(§2.2.1c\)"):
        sq.cheapest_mix(plan, LEVERS, "factory_pass", **kw)
    with pytest.raises(SimcityQualityError, match="did you mean 'city'"):
        sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", payer="cty", **kw)
    with pytest.raises(SimcityQualityError, match="'gross'.*'net'"):
        sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", cost="revenue", **kw)
    with pytest.raises(SimcityQualityError, match="did you mean 'policy.subsidy"):
        sq.cheapest_mix(plan, {"policy.subsidy.interest_rate": (0, 1)}, "factory_pass_rate",
                        **kw)
    with pytest.raises(SimcityQualityError, match="share of interest"):  # the schema's bound
        sq.cheapest_mix(plan, {B: (0, 2)}, "factory_pass_rate", **kw)
    with pytest.raises(SimcityQualityError, match="not a percentage"):
        sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", probability=80, **kw)
    with pytest.raises(SimcityQualityError, match="cannot cover the coarse design"):
        sq.cheapest_mix(plan, LEVERS, "factory_pass_rate", max_runs=100, **kw)


# --- minimum_level ---------------------------------------------------------------------------

def level_stand_in(p, cost=lambda x: 1000.0 * x):
    """An evaluator of one lever (A, in its own units): attainment ``p(x)``, cost ``cost(x)``."""
    def evaluate(points, replications):
        rows = [(i, r, vdc(r) < p(x), cost(x), cost(x) - 1.0)
                for i, x in enumerate(points[A]) for r in replications]
        return pd.DataFrame(rows, columns=["point", "replication", "met", "gross", "net"])
    return evaluate


def test_minimum_level_reports_a_non_monotonic_stretch(plan):
    # attainment 0.5 with no reward, collapses for small payments (they do worse than none),
    # and reaches 0.97 from 2.5 up
    ev = level_stand_in(lambda x: 0.5 if x < 0.5 else (0.0 if x < 2.5 else 0.97))
    res = sq.minimum_level(plan, A, probability=0.9, bounds=(0, 4), grid_points=5,
                           replications=200, max_replications=200, evaluator=ev,
                           progress=False)
    assert (0.0, 1.0) in res.non_monotonic
    assert 2.5 <= res.level <= 3.0


def test_minimum_level_bisects_a_monotone_bracket(plan):
    ev = level_stand_in(lambda x: 1.0 if x >= 2.6 else 0.0)
    res = sq.minimum_level(plan, A, probability=0.9, bounds=(0, 4), grid_points=5,
                           replications=50, bisections=4, evaluator=ev, progress=False)
    assert res.settled and 2.5 < res.level <= 2.75  # the answer 2.6, to 1/16 of the bracket
    assert res.expected_cost == pytest.approx(1000.0 * res.level)
    assert res.gross == res.expected_cost and res.net == pytest.approx(res.expected_cost - 1)
    assert res.cheapest and "also the cheapest" in repr(res)


def test_minimum_level_says_when_the_lowest_level_is_not_the_cheapest(plan):
    # like inspections net of fines: cost falls as the lever rises
    ev = level_stand_in(lambda x: 1.0 if x >= 2 else 0.0, cost=lambda x: 1e7 - 1e6 * x)
    res = sq.minimum_level(plan, A, probability=0.9, bounds=(0, 4), grid_points=5,
                           replications=40, bisections=0, evaluator=ev, progress=False)
    assert res.level == 2.0 and res.cheapest is False and res.cheapest_level == 4.0
    text = repr(res)
    assert "NOT the cheapest" in text and "4 yuan per title" in text
    assert "8.00 M yuan (city, gross" in text and "np.float64" not in text
    assert "<table>" in res._repr_html_()


@pytest.mark.parametrize(("confidence", "qualifies"), [(0.95, True), (0.99, False)])
def test_minimum_level_applies_the_one_sided_rule(plan, confidence, qualifies):
    def evaluate(points, replications):  # exactly 0.9 met from level 2 up
        rows = [(i, r, x >= 2 and r % 10 != 9, 1.0, 1.0) for i, x in enumerate(points[A])
                for r in replications]
        return pd.DataFrame(rows, columns=["point", "replication", "met", "gross", "net"])

    res = sq.minimum_level(plan, A, probability=0.82, bounds=(0, 4), grid_points=5,
                           replications=20, max_replications=80, bisections=0,
                           confidence=confidence, evaluator=evaluate, progress=False)
    assert (res.level == 2.0) is qualifies
    if not qualifies:
        assert res.level is None and res.probability == 0.9
    low = stats.binomtest(72, 80).proportion_ci(2 * confidence - 1, method="wilson").low
    assert res.low == pytest.approx(low)


def test_minimum_level_refuses_bad_names_before_running(plan):
    with pytest.raises(SimcityQualityError, match="the targets are named by id or plan"):
        sq.minimum_level(plan, A, targets=["nope"], bounds=(0, 1), evaluator=never_called)
    with pytest.raises(SimcityQualityError, match="payer"):
        sq.minimum_level(plan, A, bounds=(0, 1), payer="town", evaluator=never_called)


# --- optimise_mix ----------------------------------------------------------------------------

def _mix_stand_in(objective):
    def evaluate(points):
        a, b = points[A] / 100_000, points[B]
        obj = objective(a, b)
        return pd.DataFrame({"objective": obj, "low": obj - 0.3, "high": obj + 0.25,
                             "cost": 100.0 * (a + b), "gross": 100.0 * (a + b),
                             "net": 100.0 * (a + b) - 10})
    return evaluate


def test_a_flat_objective_is_reported_and_the_cheapest_tie_returned(plan):
    ev = _mix_stand_in(lambda a, b: np.full(len(a), 0.6))
    with pytest.warns(SimcityQualityWarning, match="flat"):
        res = sq.optimise_mix(plan, LEVERS, budget=1000.0, evaluator=ev, max_runs=60, seed=1,
                              progress=False)
    assert res.flat and len(res.tied) == len(res.evaluations)
    assert res.best == {A: 0, B: 0.0} and res.cost == 0.0  # the cheapest corner is tried
    assert "flat" in repr(res) and "M yuan (city, gross)" in repr(res)


def test_mixes_within_the_best_interval_are_tied_but_a_clear_best_is_kept(plan):
    # one clear peak: objective 0.9 near (0.3, 0.7), 0.1 elsewhere; intervals +-0.3/0.25
    ev = _mix_stand_in(lambda a, b: np.where((a - 0.3) ** 2 + (b - 0.7) ** 2 < 0.05, 0.9, 0.1))
    res = sq.optimise_mix(plan, LEVERS, budget=1000.0, evaluator=ev, max_runs=200, seed=2,
                          progress=False)
    assert not res.flat and res.objective == 0.9
    assert (res.tied["objective"] >= res.low).all()


def test_optimise_mix_refuses_an_unknown_objective_at_once(plan):
    with pytest.raises(SimcityQualityError) as err:
        sq.optimise_mix(plan, LEVERS, budget=1e6, objective="factory_pas", progress=False)
    msg = str(err.value)
    assert "did you mean 'factory_pass_rate'" in msg and "iso9001_share" in msg
    with pytest.raises(SimcityQualityError, match="expected one of province, city, all"):
        sq.optimise_mix(plan, LEVERS, budget=1e6, payer="everyone", progress=False)


# --- progress ------------------------------------------------------------------------------

def test_the_searches_show_progress_and_can_be_silenced(plan, capsys):
    ev = stand_in(lambda a, b: float(a >= 0.5), gross=lambda a, b: 100 * a)
    calls = {
        "cheapest_mix": lambda progress: sq.cheapest_mix(
            plan, LEVERS, "factory_pass_rate", evaluator=ev, progress=progress),
        "minimum_level": lambda progress: sq.minimum_level(
            plan, A, bounds=(0, 4), evaluator=level_stand_in(lambda x: float(x >= 2)),
            progress=progress),
        "optimise_mix": lambda progress: sq.optimise_mix(
            plan, LEVERS, budget=1e3, max_runs=60, progress=progress,
            evaluator=_mix_stand_in(lambda a, b: 1.0 - (a - 0.3) ** 2 - (b - 0.7) ** 2)),
    }
    for name, call in calls.items():
        call(True)
        shown = capsys.readouterr().err
        assert name in shown and "100%" in shown, name
        call(False)
        assert capsys.readouterr().err == "", name


# --- on the model ------------------------------------------------------------------------

def test_cheapest_mix_on_the_model_counts_what_a_hand_run_counts(plan):
    """Every mix tried is replications 0..n-1 of the scenario with that mix (the seed rule),
    scored on the chosen target and costed in the one cost definition."""
    from simcity_quality.results.budget import cost

    key = "policy.construction.supervision_share"
    res = sq.cheapest_mix(plan, {key: (0.0, 1.0)}, "construction_acceptance_rate",
                          probability=0.5, replications=2, max_replications=4, grid_points=2,
                          tolerance=0.4, seed=5, resolution=200, progress=False)
    assert res.runs_used == int(res.evaluations["n"].sum())
    for _, row in res.evaluations.iterrows():
        hand = sq.run(plan.override({key: row[key]}), replications=int(row["n"]), seed=5,
                      resolution=200, progress=False)
        assert row["met"] == (hand.final["construction_acceptance_rate"] >= 0.9).sum()
        assert row["gross"] == pytest.approx(cost(hand.budget, "city", "gross").mean())
        assert row["net"] == pytest.approx(cost(hand.budget, "city", "net").mean())
    assert float(plan.get(key)) in set(res.evaluations[key])  # the scenario's own mix


def test_sensitivity_refuses_an_unknown_output_before_running(plan):
    with pytest.raises(SimcityQualityError, match="did you mean 'factory_pass_rate'"):
        sq.morris(plan, ["factory_pass"], parameters=["behaviour.imitation_weight"])
    with pytest.raises(SimcityQualityError, match="'city:gross'"):
        sq.sobol(plan, "gross_city", parameters=["behaviour.imitation_weight"])
