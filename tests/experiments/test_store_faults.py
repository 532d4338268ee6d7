"""The result store under real faults, with real processes (issue 23, items 2-5): kill -9
while the store is being created, two writers at once, readers during a sweep, no orphans after
kill -9 of the main process, a killed worker, Ctrl-C. Every wait is bounded in time."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import simcity_quality as sq

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "scenarios" / "the_plan.toml"
REWARD = "policy.rewards.city_provincial_award"
GRID = f"{REWARD}=0,25000,50000,75000,100000,125000"
SMALL = ["-r", "5", "--resolution", "1000", "--executor", "serial", "--batch-size", "1"]
# serial, committed run by run, and long enough (120 runs, several seconds) that an interrupt
# sent after the first commits lands part-way however fast the engine has become
INTERRUPTED = ["-r", "20", "--resolution", "1000", "--executor", "serial", "--batch-size", "1"]
# long enough (a few seconds on two workers) to be caught part-way
LONG = ["-r", "20", "--resolution", "5000", "--batch-size", "2"]
DEADLINE = 120  # seconds any wait below may take

pytestmark = pytest.mark.slow


def command(store, size, *extra):
    return [sys.executable, "-m", "simcity_quality", "sweep", str(PLAN), "--grid", GRID,
            "--seed", "9", "-q", *size, "-o", str(store), *extra]


def _interruptible() -> None:
    """In the child before it starts: SIGINT at its default, as at a terminal. A shell without
    job control starts background commands with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler, so a test run that way could not interrupt the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(store, size, *extra):
    return subprocess.Popen(command(store, size, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)


def until(condition, what: str, deadline: float = DEADLINE):
    end = time.time() + deadline
    while time.time() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def markers(store: Path) -> int:
    done = store / "done"
    return len(list(done.glob("part-*.json"))) if done.exists() else 0


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=DEADLINE)
    return proc.returncode, out, err


def same_data(a: Path, b: Path) -> None:
    x, y = sq.load_results(a), sq.load_results(b)
    pd.testing.assert_frame_equal(x.finals, y.finals)
    pd.testing.assert_frame_equal(x.timeseries, y.timeseries)
    pd.testing.assert_frame_equal(x.design, y.design)
    assert x.missing_runs == 0


@pytest.fixture(scope="module")
def whole_small(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("whole") / "small"
    assert subprocess.run(command(store, SMALL), capture_output=True).returncode == 0
    return store


@pytest.fixture(scope="module")
def whole_interrupted(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("whole") / "interrupted"
    assert subprocess.run(command(store, INTERRUPTED), capture_output=True).returncode == 0
    return store


@pytest.fixture(scope="module")
def whole_long(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("whole") / "long"
    assert subprocess.run(command(store, LONG, "--workers", "2"),
                          capture_output=True).returncode == 0
    return store


# --- processes of a sweep ------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid``: pid -> start time (so a reused pid is not mistaken)."""
    found: dict[int, int] = {}
    frontier = {pid}
    while frontier:
        children = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[0] in frontier \
                    and st[1] != "Z":
                found[int(entry.name)] = st[2]
                children.add(int(entry.name))
        frontier = children
    return found


def running(procs: dict[int, int]) -> list[int]:
    """The processes of ``procs`` still running (zombies have ended)."""
    return [p for p, start in procs.items()
            if (st := _stat(p)) is not None and st[2] == start and st[1] != "Z"]


def holds(pid: int, file: Path) -> bool:
    """Whether process ``pid`` has ``file`` open."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    target = str(file.resolve())
    return any(os.path.realpath(fd) == target for fd in fds if fd.is_symlink())


# --- killed while creating the store ---------------------------------------------------------

@pytest.mark.parametrize("moment", ["folder", "manifest", "design"])
def test_kill_9_while_the_store_is_created_then_resume(tmp_path, whole_small, moment):
    store = tmp_path / "killed"
    first = {"folder": store, "manifest": store / "manifest.json",
             "design": store / "design.parquet"}[moment]
    proc = start(store, SMALL)
    until(first.exists, f"{first.name} to appear")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=DEADLINE)
    code, _, err = finish(subprocess.Popen(command(store, SMALL, "--resume"),
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True))
    assert code == 0, err
    same_data(store, whole_small)


# --- one writer, readers any time ------------------------------------------------------------

def test_two_sweeps_started_together_one_is_refused(tmp_path, whole_small):
    store = tmp_path / "both"
    a, b = start(store, SMALL), start(store, SMALL)
    results = {proc.pid: finish(proc) for proc in (a, b)}
    codes = sorted(code for code, _, _ in results.values())
    assert codes == [0, 2], results
    winner = next(pid for pid, (code, _, _) in results.items() if code == 0)
    refused = next(err for code, _, err in results.values() if code == 2)
    assert f"being written by process {winner}" in refused and "Traceback" not in refused
    same_data(store, whole_small)  # 30 runs, none twice


def test_resume_while_the_sweep_runs_is_refused_and_readers_see_committed_runs(
        tmp_path, whole_small):
    store = tmp_path / "running"
    first = start(store, SMALL)
    until(lambda: markers(store) >= 2, "two committed batches")
    code, _, err = finish(start(store, SMALL, "--resume"))
    assert code == 2 and f"being written by process {first.pid}" in err
    seen = []
    while first.poll() is None:  # a reader during the sweep sees only committed runs
        res = sq.load_results(store)
        assert res.missing_runs == 30 - len(res.finals) - len(res.failures)
        assert not res.finals.duplicated(["point", "replication"]).any()
        seen.append(len(res.finals))
    assert seen == sorted(seen) and first.returncode == 0
    same_data(store, whole_small)


# --- workers end with the sweep ------------------------------------------------------------

@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_no_process_outlives_a_sweep_killed_with_kill_9(tmp_path, whole_long, executor):
    store = tmp_path / executor
    proc = start(store, LONG, "--executor", executor, "--workers", "2")
    until(lambda: markers(store) >= 1, "a committed batch")
    family = descendants(proc.pid)
    assert len(family) >= 3, family  # two workers, and the tracker or the forkserver
    assert not [p for p in family if holds(p, store / "lock")], "a worker holds the lock"
    assert holds(proc.pid, store / "lock")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=DEADLINE)
    until(lambda: not running(family), f"processes {running(family)} to end", deadline=30)
    code, _, err = finish(start(store, LONG, "--executor", executor, "--workers", "2",
                                "--resume"))
    assert code == 0, err
    same_data(store, whole_long)


def test_a_killed_worker_is_one_paragraph_naming_the_resume_command(tmp_path, whole_long):
    store = tmp_path / "worker"
    proc = start(store, LONG, "--executor", "processes", "--workers", "2")
    until(lambda: markers(store) >= 1, "a committed batch")
    workers = [p for p in descendants(proc.pid) if "forkserver" in
               Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
               and _stat(p)[0] != proc.pid]  # forked by the forkserver: the pool's workers
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    code, _, err = finish(proc)
    assert code == 2 and "Traceback" not in err and "BrokenProcessPool" not in err
    assert err.startswith("error: ") and "a worker process ended abruptly" in err
    again = shlex.split(err.split("`")[1])
    assert again[:2] == ["simcity-quality", "sweep"] and again[-1] == "--resume"
    assert str(store) in again
    assert subprocess.run([sys.executable, "-m", "simcity_quality", *again[1:]],
                          capture_output=True).returncode == 0
    same_data(store, whole_long)


def test_ctrl_c_keeps_the_committed_runs_and_says_how_to_resume(tmp_path, whole_interrupted):
    store = tmp_path / "interrupted"
    proc = start(store, INTERRUPTED)
    until(lambda: markers(store) >= 2, "two committed batches")
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 130 and "Traceback" not in err, (code, err, markers(store))
    assert "interrupted." in err and "--resume" in err and "runs are committed" in err
    state = json.loads((store / "manifest.json").read_text())
    assert state["finished"] is None
    assert subprocess.run(command(store, INTERRUPTED, "--resume"),
                          capture_output=True).returncode == 0
    same_data(store, whole_interrupted)
