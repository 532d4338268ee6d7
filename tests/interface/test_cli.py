"""The command line: output, files written, and clean exits on user errors."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simcity_quality.interface.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


def test_run_prints_targets_and_budget_and_writes_tables(tmp_path, capsys):
    out = tmp_path / "res"
    rc = main(["run", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), "-r", "2",
               "--seed", "3", "--resolution", "300", "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for needle in ("spot_check_pass_rate", "cod_reduction", "threshold", "share_met",
                   "province", "city", "fines_collected", "Scenario the_plan"):
        assert needle in text
    assert (out / "kpis_vs_targets.png").stat().st_size > 10_000
    assert (out / "report.md").exists()
    targets = pd.read_csv(out / "the_plan" / "targets.csv")
    assert "factory_pass_rate" in set(targets["id"])
    assert pd.read_parquet(out / "baseline" / "budget.parquet")["replication"].nunique() == 2


def test_rerun_into_the_same_folder_keeps_other_files(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    keep = out / "notes.txt"
    keep.write_text("mine")
    run = ["run", str(SCEN / "baseline.toml"), "-r", "1", "--resolution", "300", "-o", str(out)]
    assert main(run) == 2  # a non-empty folder without a manifest needs --overwrite
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main([*run, "--overwrite"]) == 0
    assert main(run) == 0  # now a results folder of `run`: replaced, no --overwrite needed
    assert keep.read_text() == "mine"


@pytest.mark.slow
def test_user_errors_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "missing.toml"\n')
    for args in (["run", str(bad)], ["validate", str(bad)], ["run", str(tmp_path / "nope.toml")],
                 ["run", str(SCEN / "baseline.toml"), "-r", "0"]):
        proc = subprocess.run([sys.executable, "-m", "simcity_quality", *args],
                              capture_output=True, text=True)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr
        assert "error:" in proc.stderr


def test_validate_ok_and_targets_listing(capsys):
    assert main(["validate", *map(str, sorted(SCEN.glob("*.toml")))]) == 0
    assert main(["targets"]) == 0
    text = capsys.readouterr().out
    assert "§2.2.4b" in text and "cod_reduction" in text
