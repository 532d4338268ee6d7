"""Every long operation shows a progress bar of its runs on standard error, and
``progress=False`` silences it (the searches' own bars: tests/experiments/test_searches.py)."""

from pathlib import Path

import pytest

import simcity_quality as sq
from simcity_quality import validation
from simcity_quality.calibration import simulate_moments

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(seed=1, resolution=200)
MOMENT = {"spot_check_pass_rate@2010": 0.8}


def _operations(plan, baseline, tmp_path):
    """name shown on the bar -> a call of that operation at a tiny size."""
    key = "behaviour.imitation_weight"
    stores = iter(range(100))
    return {
        "run": lambda p: sq.run(plan, replications=2, progress=p, **TINY),
        "compare": lambda p: sq.compare([baseline, plan], replications=1, progress=p, **TINY),
        "sweep": lambda p: sq.sweep(plan, sq.designs.grid({key: [0.5, 1.0]}), replications=1,
                                    store=tmp_path / f"s{next(stores)}", executor="serial",
                                    timeseries=False, progress=p, **TINY),
        "morris": lambda p: sq.morris(plan, ["factory_pass_rate"], parameters=[key],
                                      trajectories=1, replications=1, progress=p, **TINY),
        "sobol": lambda p: sq.sobol(plan, "factory_pass_rate",
                                    parameters=[key, "market.counterfeit_gain"], n=2,
                                    replications=1, progress=p, **TINY),
        "simulate_moments": lambda p: simulate_moments(baseline, MOMENT, replications=2,
                                                       progress=p, **TINY),
        "calibrate": lambda p: sq.calibrate(baseline, MOMENT,
                                            {"city.capability_mean.small": (1.5, 3.5)},
                                            replications=2, max_evaluations=1, progress=p,
                                            **TINY),
        "minimum_level": lambda p: sq.minimum_level(
            plan, key, targets=["factory_pass_rate"], bounds=(0.5, 1.0), grid_points=2,
            replications=1, max_replications=1, bisections=0, progress=p, **TINY),
        "cheapest_mix": lambda p: sq.cheapest_mix(
            plan, {key: (0.5, 1.0)}, "factory_pass_rate", replications=1, max_replications=1,
            grid_points=2, tolerance=0.9, progress=p, **TINY),
    }


@pytest.mark.parametrize("name", ["run", "compare", "sweep", "minimum_level", "cheapest_mix",
                                  "simulate_moments", "morris", "sobol", "calibrate"])
def test_a_long_operation_shows_progress_and_can_be_silenced(name, plan, baseline, tmp_path,
                                                             capsys):
    call = _operations(plan, baseline, tmp_path)[name]
    call(True)
    shown = capsys.readouterr().err
    assert name in shown and "run" in shown, shown[-500:]
    assert "100%" in shown or name == "calibrate"  # calibrate counts: its total is not known
    call(False)
    assert capsys.readouterr().err == ""


def test_the_validation_checks_show_progress_and_can_be_silenced(capsys, monkeypatch):
    # the checks themselves need thousands of firms (tests/validation/); here each is a
    # stand-in, so only the bar over them is tested
    from simcity_quality.validation import checks

    for name in ("general_deterrence", "certainty_over_severity", "brand_support_applications"):
        monkeypatch.setattr(checks, name, lambda *a, _n=name: _n)
    monkeypatch.setattr(checks, "iso_diffusion", lambda *a: ("iso_shape", "iso_speed"))
    got = validation.run_all(resolution=10, replications=2)
    assert got == ["general_deterrence", "certainty_over_severity",
                   "brand_support_applications", "iso_shape", "iso_speed"]  # the order of FINDINGS
    shown = capsys.readouterr().err
    assert "validation" in shown and "4/4" in shown and "check" in shown
    validation.run_all(resolution=10, replications=2, progress=False)
    assert capsys.readouterr().err == ""
