"""The statistics the searches decide by, against independent values; progress bars and the
display helpers the results print through."""

import io

import numpy as np
import pytest
from scipy import stats

from simcity_quality.results import display
from simcity_quality.results.progress import progress_bar
from simcity_quality.results.statistics import (
    compare_samples,
    mean_interval,
    wilson_bounds,
    wilson_interval,
)


@pytest.mark.parametrize(("met", "n", "confidence"), [(7, 10, 0.95), (45, 50, 0.95),
                                                      (18, 20, 0.9), (1, 30, 0.99)])
def test_one_sided_wilson_bounds_match_scipys_two_sided_interval(met, n, confidence):
    # the one-sided bounds at c are the ends of the two-sided Wilson interval at 2c - 1
    ci = stats.binomtest(met, n).proportion_ci(confidence_level=2 * confidence - 1,
                                               method="wilson")
    lower, upper = wilson_bounds(met, n, confidence)
    assert (lower, upper) == (pytest.approx(ci.low, abs=1e-10), pytest.approx(ci.high,
                                                                              abs=1e-10))
    two_sided = wilson_interval(met, n, 2 * confidence - 1)
    assert lower == pytest.approx(two_sided[0]) and upper == pytest.approx(two_sided[1])


def test_the_one_sided_lower_bound_is_above_the_two_sided_one_at_the_same_confidence():
    # 45 of 50: the two-sided 95 % interval starts lower than the one-sided 95 % bound
    lower, _ = wilson_bounds(45, 50, 0.95)
    assert wilson_interval(45, 50, 0.95)[0] < lower < 0.9
    # at 0 and n the bounds close on the data
    assert wilson_bounds(0, 10)[0] == 0.0 and wilson_bounds(10, 10)[1] == 1.0
    with pytest.raises(ValueError, match="between 0.5 and 1"):
        wilson_bounds(5, 10, 0.4)


def test_compare_samples_verdicts_are_plain_bools_that_catch_a_shifted_mean():
    # the equivalence script counts failures with ``ok is False``: a numpy bool would pass
    rng = np.random.default_rng(7)
    a = {"same": rng.normal(0, 1, 200), "shifted": rng.normal(0, 1, 200),
         "flat": np.zeros(200), "broken": np.full(200, np.nan)}
    b = {"same": rng.normal(0, 1, 200), "shifted": rng.normal(1, 1, 200),
         "flat": np.zeros(200), "broken": np.zeros(200)}
    ok = {r["kpi"]: r["ok"] for r in compare_samples(a, b)}
    assert ok["same"] is True and ok["flat"] is True
    assert ok["shifted"] is False
    assert ok["broken"] is None


def test_mean_interval_is_the_t_interval():
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    mean, low, high = mean_interval(x)
    half = stats.t.ppf(0.975, 3) * np.std(x[:4], ddof=1) / 2
    assert (mean, low, high) == (2.5, pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    assert mean_interval([5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)


def _bar_text(progress, runs: int = 7) -> str:
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err), progress_bar(progress, total=20, desc="search") as bar:
        for _ in range(runs):
            bar.update(1)
    return err.getvalue()


def test_a_progress_bar_shows_and_can_be_silenced():
    shown = _bar_text(True)
    assert "search" in shown and "7/7" in shown  # a search that stops early ends at 100 %
    assert "run" in shown
    assert _bar_text(False) == ""


def test_an_enclosing_bar_is_passed_through_and_left_open():
    with progress_bar(False, total=10) as outer:
        with progress_bar(outer, total=3) as inner:
            assert inner is outer
            inner.update(3)
        outer.update(1)
        assert outer.n == 4


def test_money_names_the_payer_and_the_basis():
    assert display.money(12_345_678, "city", "gross") == "12.35 M yuan (city, gross)"
    assert display.money(8e6, "all", "net", 7.5e6, 8.5e6) == (
        "8.00 M yuan (all, net of fines; 95 % 7.50 to 8.50)")
    assert display.probability(0.85, 0.8, 0.9, "90 %") == "0.85 (90 % interval 0.80-0.90)"
    assert display.lever_value("policy.rewards.city_provincial_award", 150_000.4) == (
        "150,000 yuan per title")
    assert display.lever_value("policy.subsidy.interest_subsidy_rate", 0.25) == (
        "0.250 share of interest")
    assert "np.float64" not in display.money(np.float64(1e6), "city", "gross")


def test_results_print_readably(plan, baseline, tmp_path):
    import simcity_quality as sq

    res = sq.run(plan, replications=2, seed=1, resolution=200, progress=False)
    comp = sq.compare([baseline, plan], replications=2, seed=1, resolution=200, progress=False)
    store = sq.sweep(plan, sq.designs.grid({"behaviour.imitation_weight": [0.5, 1.0]}),
                     replications=1, seed=1, resolution=200, store=tmp_path / "s",
                     executor="serial", timeseries=False, progress=False)
    for obj, needles in ((res, ["Results of 'the_plan': 2 replications", "§2.2.1c",
                                "M yuan (city, gross", "M yuan (all, net of fines"]),
                         (comp, ["the_plan - baseline", "M yuan (city, gross; 95 %"]),
                         (store, ["2 points x 1 replications", "2 runs finished"])):
        text = repr(obj)
        for needle in needles:
            assert needle in text, (needle, text)
        assert "np.float64" not in text and "DataFrame" not in text and len(text) < 3000
    for obj in (res, comp):
        assert "<table>" in obj._repr_html_()
