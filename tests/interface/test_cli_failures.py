"""Every command-line failure is one paragraph and exit 2, never a traceback (issue 23, items 6,
7 and 9, each case of the list). In-process calls of ``main`` would raise any exception it let
through, so exit 2 with an ``error:`` paragraph is the whole behaviour; the cases that only a
real process shows (a closed pipe) run as subprocesses."""

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import dask
import pytest

import simcity_quality as sq
from simcity_quality.experiments import designs
from simcity_quality.interface.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"
PLAN = str(SCEN / "the_plan.toml")
REWARD = "policy.rewards.city_provincial_award"
SWEEP = ["sweep", PLAN, "--grid", f"{REWARD}=0,50000", "-r", "1", "--resolution", "300",
         "--executor", "serial", "-q"]


def fails(capsys, args, *needles) -> str:
    """Run ``main(args)``: exit 2 and one ``error:`` paragraph holding every needle."""
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    assert code == 2, (args, captured.err)
    err = captured.err
    assert err.startswith("error: ") and err.count("error: ") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` (and what is in it) made unwritable: by mode bits, or, for root, whom mode
    bits do not stop, by the immutable attribute (chattr); skipped where neither works."""
    folder.chmod(0o555)
    immutable = False
    try:
        probe = folder / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True)
            if done.returncode != 0:
                pytest.skip("cannot make a folder read-only here (root, and no chattr)")
            immutable = True
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.fixture
def store(plan, tmp_path):
    path = tmp_path / "store"
    sq.sweep(plan, designs.grid({REWARD: [0, 50_000]}), replications=1, resolution=300,
             store=path, executor="serial", progress=False)
    return path


# --- a read-only store or output folder -----------------------------------------------------

def test_a_read_only_output_folder_is_refused_before_running(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with read_only(out):
        err = fails(capsys, ["run", PLAN, "-r", "1", "--resolution", "300", "-o", out],
                    "cannot write results into this folder", "nothing was run")
    assert "Scenario the_plan" not in err


def test_a_read_only_store_is_refused_untouched(store, tmp_path, capsys):
    (store / "lock").unlink()  # so that even opening the lock file must create it
    with read_only(store):
        fails(capsys, [*SWEEP, "-o", store, "--resume"], "cannot write to this result store")
        fails(capsys, [*SWEEP, "-o", store / "inner"], "cannot create the result store")
    assert sq.load_results(store).missing_runs == 0


def test_a_table_that_cannot_be_written_is_one_paragraph(store, tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    with read_only(out):
        fails(capsys, ["attainment", store, "-o", out / "a.csv"], str(out / "a.csv"))


# --- numbers out of range -----------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["run", PLAN, "--seed", "-1", "-r", "1", "--resolution", "300"],
    ["compare", PLAN, "--seed", "-1", "-r", "1", "--resolution", "300"],
    [*SWEEP, "--seed", "-1"],
    ["minimum-level", PLAN, REWARD, "--bounds", "0", "1", "--seed", "-1"],
], ids=["run", "compare", "sweep", "minimum-level"])
def test_a_negative_seed(capsys, tmp_path, args):
    if args[0] == "sweep":
        args = [*args, "-o", tmp_path / "s"]
    fails(capsys, args, "seed must be a whole number >= 0")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("args", [
    ["run", PLAN, "--resolution", "1000000000"],
    ["compare", PLAN, "--resolution", "1000000000"],
    [*SWEEP[:-5], "--resolution", "1000000000", "--executor", "serial"],
    ["minimum-level", PLAN, REWARD, "--bounds", "0", "1", "--resolution", "1000000000"],
    ["calibrate", SCEN / "observed" / "national_2009.toml", "-o", "x.toml", "--resolution",
     "1000000000"],
], ids=["run", "compare", "sweep", "minimum-level", "calibrate"])
def test_the_resolution_is_bounded_by_the_citys_size(capsys, tmp_path, args):
    if args[0] == "sweep":
        args = [*args, "-o", tmp_path / "s"]
    fails(capsys, args, "1,000,000,000 is above the city's size")
    assert not (tmp_path / "s").exists() and not Path("x.toml").exists()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_resolution_below_one(capsys, value):
    fails(capsys, ["run", PLAN, "--resolution", value], "whole number of simulated firms >= 1")


@pytest.mark.parametrize(("extra", "needle"), [
    (["--lhs", "0", "--key", f"{REWARD}=0:1"], "needs n >= 1 points"),
    (["--lhs", "4", "--key", "city.firms=1:1e12"], "goes beyond the parameter's bounds"),
    (["--grid", f"{REWARD}=0,inf"], "not a finite number"),
    (["--grid", f"{REWARD}=0", "--batch-size", "0"], "batch_size (--batch-size)"),
    (["--grid", f"{REWARD}=0", "--workers", "0", "--executor", "processes"], "workers"),
], ids=["lhs-0", "city-size-range", "inf-level", "batch-size-0", "workers-0"])
def test_bad_sweep_arguments_are_refused_before_the_store(capsys, tmp_path, extra, needle):
    args = ["sweep", PLAN, "-r", "1", "--resolution", "300", "--executor", "serial", "-q",
            "-o", tmp_path / "s", *extra]
    fails(capsys, args, needle)
    assert not (tmp_path / "s").exists()


def test_a_sweep_whose_every_run_fails_is_a_failure(capsys, tmp_path):
    # 10 simulated firms cannot hold the plan's large firms and title holders one each: a
    # limit that depends on the drawn city, so it shows only when the runs start
    err = fails(capsys, ["sweep", PLAN, "--grid", f"{REWARD}=0,1", "-r", "1", "--resolution",
                         "10", "--executor", "serial", "-q", "-o", tmp_path / "s"],
                "every run of the sweep failed (2 runs", "is too low")
    assert "failures/" in err and len(sq.load_results(tmp_path / "s").failures) == 2


def test_an_attainment_level_outside_0_1(store, capsys):
    fails(capsys, ["attainment", store, "--level", "5"], "strictly between 0 and 1")


# --- Dask schedulers ----------------------------------------------------------------------

def test_a_tls_scheduler_without_certificates(capsys, tmp_path):
    fails(capsys, [*SWEEP[:-3], "--executor", "dask", "--scheduler", "tls://127.0.0.1:1",
                   "-o", tmp_path / "s"], "--tls-ca, --tls-cert and --tls-key")
    assert not (tmp_path / "s").exists()


def test_a_failed_connection_leaves_no_store_so_the_same_command_can_be_repeated(
        capsys, tmp_path):
    args = [*SWEEP[:-3], "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "-o",
            tmp_path / "s"]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        for _ in range(2):  # the second time too: no "pass --resume"
            fails(capsys, args, "could not connect to the Dask scheduler", "nothing was run")
    assert not (tmp_path / "s").exists()


# --- stores that are not right ------------------------------------------------------------

def test_a_manifest_without_points(store, capsys):
    data = json.loads((store / "manifest.json").read_text())
    del data["points"]
    (store / "manifest.json").write_text(json.dumps(data))
    for args in (["attainment", store], ["check", store], [*SWEEP, "-o", store, "--resume"]):
        fails(capsys, args, "`points` is missing")


# --- what only a real process shows -------------------------------------------------------

def test_params_into_a_closed_pipe_ends_quietly():
    proc = subprocess.run(f"{sys.executable} -m simcity_quality params | head -n 1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.count("\n") == 1 and proc.stderr == ""


def test_errors_in_a_real_process_have_no_traceback(tmp_path):
    for args in (["run", PLAN, "--seed", "-1"], [*SWEEP, "--batch-size", "0", "-o",
                                                 str(tmp_path / "s")]):
        proc = subprocess.run([sys.executable, "-m", "simcity_quality", *args],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ")
