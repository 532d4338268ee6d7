"""``simcity-quality levers``: prints the audit's table and writes it; bad input exits 2
before anything runs, without a traceback."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simcity_quality.interface.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


def test_levers_prints_the_table_and_writes_it(tmp_path, capsys):
    out = tmp_path / "audit" / "levers.csv"
    rc = main(["levers", str(SCEN / "the_plan.toml"), "-r", "2", "--seed", "3",
               "--resolution", "200", "--lever", "campaigns", "--lever",
               "demonstration_contests", "-o", str(out)])
    assert rc == 0
    text, err = capsys.readouterr()
    assert text.startswith("Lever audit of 'the_plan': 2 paired replications, seed 3, 200 of "
                           "the city's 5,000 firms simulated (money for the city)")
    for needle in ("lever", "setting", "§2.2.1c", "§2.2.3", "city gross", "all net",
                   "campaigns", "demonstration_contests", "high", f"table written to {out}"):
        assert needle in text, needle
    assert "lever audit:" in err  # the progress bar, on standard error
    table = pd.read_csv(out)
    assert set(table["lever"]) == {"campaigns", "demonstration_contests"}
    assert set(table["setting"]) == {"plan", "high"}


def test_levers_quiet_and_parquet(tmp_path, capsys):
    out = tmp_path / "levers.parquet"
    assert main(["levers", str(SCEN / "the_plan.toml"), "-r", "1", "--resolution", "150",
                 "--lever", "permits", "--multiple", "2", "-q", "-o", str(out)]) == 0
    text, err = capsys.readouterr()
    assert "permits: the plan already has it at its extreme" in text
    assert "lever audit:" not in err
    assert set(pd.read_parquet(out)["setting"]) == {"plan"}


@pytest.mark.parametrize(("args", "needle"), [
    (["--lever", "rewardz"], "unknown lever 'rewardz' (did you mean 'rewards'?)"),
    (["-o", "results/levers.txt"], ".csv or .parquet"),
    (["--multiple", "0.5"], "multiple must be above 1"),
    (["-r", "0"], "replications must be a whole number >= 1, got 0"),
    (["--firms", "300"], "--firms is now --resolution"),
])
def test_levers_refuses_bad_input_with_exit_2(args, needle, capsys):
    assert main(["levers", str(SCEN / "the_plan.toml"), *args]) == 2
    _, err = capsys.readouterr()
    assert needle in err and "error:" in err
    assert "lever audit:" not in err  # refused before the first run (no progress bar)


def test_levers_refuses_a_scenario_that_sets_no_lever(capsys):
    assert main(["levers", str(SCEN / "baseline.toml")]) == 2
    err = capsys.readouterr().err
    assert "leaves rewards, fee_waivers" in err and "no plan setting to audit" in err


@pytest.mark.slow
def test_levers_bad_input_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "simcity_quality", "levers",
                           str(SCEN / "the_plan.toml"), "--lever", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "error: unknown lever 'nope'" in proc.stderr
