"""The command line: output, files written, and clean exits on user errors."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simcity_quality.interface.cli import main
from simcity_quality.scenario import load_scenario

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


def test_rerun_into_the_same_folder_keeps_other_files(tmp_path, capsys):
    out = tmp_path / "res"
    out.mkdir()
    keep = out / "notes.txt"
    keep.write_text("mine")
    run = ["run", str(SCEN / "baseline.toml"), "-r", "1", "--resolution", "200", "-o", str(out)]
    assert main(run) == 2  # a non-empty folder without a manifest needs --overwrite
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main([*run, "--overwrite"]) == 0
    assert main(run) == 0  # now a results folder of `run`: replaced, no --overwrite needed
    assert keep.read_text() == "mine"
    # the report names the resolution and says whose money it shows
    assert "200 of the city's 5,000 firms simulated (money for the city)" in capsys.readouterr().out


def test_the_old_firms_option_is_refused_naming_the_new_word(capsys):
    assert main(["run", str(SCEN / "baseline.toml"), "--firms", "500"]) == 2
    assert "--firms is now --resolution" in capsys.readouterr().err


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


def test_cheapest_mix_prints_the_answer_and_writes_every_mix(tmp_path, capsys):
    out = tmp_path / "mixes.csv"
    rc = main(["cheapest-mix", str(SCEN / "the_plan.toml"),
               "--lever", "policy.construction.supervision_share=0:1",
               "--targets", "§2.2.2b", "--probability", "0.5", "-r", "2",
               "--max-replications", "2", "--grid-points", "2", "--tolerance", "0.6",
               "--resolution", "200", "--seed", "4", "-o", str(out)])
    assert rc == 0
    text, err = capsys.readouterr()
    assert "Cheapest mix: P(all of construction_acceptance_rate met) >= 0.50" in text
    assert "least city gross cost" in text and "runs" in text
    assert "cheapest_mix" in err  # the progress bar, on standard error
    mixes = pd.read_csv(out)
    assert {"policy.construction.supervision_share", "attainment", "lower", "upper", "gross",
            "net", "status"} <= set(mixes.columns)


@pytest.mark.parametrize(("args", "needle"), [
    (["--lever", "policy.construction.supervision_share"], "expected KEY=LOW:HIGH"),
    (["--lever", "policy.construction.supervision_shar=0:1"], "did you mean"),
    (["--lever", "policy.construction.supervision_share=0:1", "--targets", "nope"],
     "factory_pass_rate (§2.2.1c)"),
])
def test_cheapest_mix_refuses_bad_input_with_exit_2(args, needle, capsys):
    rc = main(["cheapest-mix", str(SCEN / "the_plan.toml"), *args, "--resolution", "200", "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_decision_relevance_prints_the_table_and_writes_its_csvs(tmp_path, capsys):
    out = tmp_path / "relevance"
    rc = main(["decision-relevance", str(SCEN / "the_plan.toml"),
               "--lever", "policy.construction.supervision_share=0:1", "--targets", "§2.2.2b",
               "--probability", "0.5", "--parameter", "construction.correction_share",
               "-r", "2", "--max-replications", "2", "--grid-points", "2", "--tolerance", "0.6",
               "--resolution", "200", "--seed", "4", "-q", "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Decision relevance" in text and "measure these first" in text
    assert "Cheapest mix in each part" in text and "construction.correction_share" in text
    assert "uncertainty='parameters'" in text
    parts = pd.read_csv(out / "parts.csv")
    assert list(parts["part"]) == [1, 2, 3] and parts["n"].eq(2).all()
    assert {"value", "measure_first", "robust_mix"} <= set(pd.read_csv(out / "table.csv"))
    assert {"mix", "regret", "status"} <= set(pd.read_csv(out / "regret.csv"))


@pytest.mark.parametrize(("args", "needle"), [
    (["decision-relevance", "--parameter", "market.counterfeit"], "did you mean "
     "'market.counterfeit_gain'"),
    (["decision-relevance", "--parts", "1"], "parts must be a whole number of at least 2"),
    (["cheapest-mix", "--uncertainty", "priors"], "invalid choice: 'priors'"),
])
def test_uncertainty_options_refuse_bad_input_before_running(args, needle, capsys):
    command, *rest = args
    with pytest.raises(SystemExit) if "invalid choice" in needle else _no_raise():
        rc = main([command, str(SCEN / "the_plan.toml"), "--lever",
                   "policy.inspection.spot_checks_per_year=0:3000", *rest, "-q"])
        assert rc == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def _no_raise():
    from contextlib import nullcontext

    return nullcontext()


def test_run_states_which_probability_it_prints(tmp_path, capsys):
    assert main(["run", str(SCEN / "the_plan.toml"), "-r", "1", "--resolution", "200",
                 "--uncertainty", "parameters", "-q", "-o", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    drawn = len(load_scenario(SCEN / "the_plan.toml").uncertain)
    said = f"Shares met are probabilities over the model's noise and the {drawn} [uncertain]"
    assert said in text
    assert (tmp_path / "r" / "the_plan" / "draws.csv").is_file()
