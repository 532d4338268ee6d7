"""Experiments: designs, executors (bit-identical), the resumable store, failures, refusals."""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.experiments import designs
from simcity_quality.experiments.integrity import inspect_store
from simcity_quality.experiments.sweep import SweepInterrupted, _tasks

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "scenarios" / "the_plan.toml"
REWARD = "policy.rewards.city_provincial_award"


def small_design():
    return designs.grid({REWARD: [0, 50_000, 100_000], "policy.inspection.fine_yuan": [30_000]})


# --- designs -----------------------------------------------------------------------------

def test_grid_is_the_full_product_in_interleaved_order(plan):
    d = designs.grid({REWARD: [0, 1, 2, 3], "behaviour.imitation_weight": [0.5, 1.5]}).resolve(
        plan)
    assert len(d) == 8
    assert set(map(tuple, d.to_numpy())) == {(a, b) for a in (0, 1, 2, 3) for b in (0.5, 1.5)}
    # a prefix of the order already spans the range of the first key
    assert d[REWARD].iloc[:2].tolist() == [0, 3]  # the corners first
    assert d["behaviour.imitation_weight"].iloc[:2].nunique() == 2


@pytest.mark.parametrize("kind", ["lhs", "sobol", "halton"])
def test_sampling_designs_stay_in_range_and_repeat_by_seed(plan, kind):
    make = getattr(designs, kind)
    ranges = {REWARD: (10_000, 90_000), "behaviour.imitation_weight": None}  # None: [uncertain]
    a = make(ranges, n=16, seed=3).resolve(plan)
    b = make(ranges, n=16, seed=3).resolve(plan)
    c = make(ranges, n=16, seed=4).resolve(plan)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    lo, hi = plan.uncertain["behaviour.imitation_weight"]
    assert a[REWARD].between(10_000, 90_000).all()
    assert a["behaviour.imitation_weight"].between(lo, hi).all()


def test_a_unit_point_on_the_upper_face_stays_at_the_range_top():
    # 0.001 + 1.0 x (0.01 - 0.001) is 0.010000000000000002 in floating point: past the range
    lo, hi = np.array([0.001, 0.0]), np.array([0.01, 3.0])
    assert (lo + 1.0 * (hi - lo))[0] > hi[0]  # the rounding this guards against
    out = designs.scaled(np.array([[1.0, 1.0], [0.0, 0.5]]), lo, hi)
    assert out[0].tolist() == [0.01, 3.0] and out[1].tolist() == [0.001, 1.5]


def test_latin_hypercube_puts_one_point_in_each_stratum(plan):
    d = designs.lhs({REWARD: (0, 100)}, n=10, seed=1).resolve(plan)
    assert sorted((d[REWARD] // 10).astype(int)) == list(range(10))


def test_integer_parameters_are_rounded(plan):
    d = designs.lhs({"policy.inspection.clean_inspections_to_leave": (1, 5)}, n=7).resolve(plan)
    assert d["policy.inspection.clean_inspections_to_leave"].dtype.kind == "i"


def test_points_from_csv_and_design_errors(plan, tmp_path):
    csv = tmp_path / "points.csv"
    pd.DataFrame({REWARD: [0, 80_000], "policy.inspection.targeting": ["uniform", "tiered"]}
                 ).to_csv(csv, index=False)
    d = designs.points(csv).resolve(plan)
    assert list(d["policy.inspection.targeting"]) == ["uniform", "tiered"]
    with pytest.raises(SimcityQualityError, match="not a numeric parameter"):
        designs.lhs({"policy.inspection.targeting": (0, 1)}, n=4).resolve(plan)  # a word
    with pytest.raises(SimcityQualityError, match="no range given"):
        designs.lhs({REWARD: None}, n=4).resolve(plan)
    with pytest.raises(SimcityQualityError, match="not found"):
        designs.points(tmp_path / "missing.csv")


@pytest.mark.parametrize("make", [
    lambda key: designs.lhs({key: (0, 1)}, n=4),
    lambda key: designs.sobol([key], n=4),
    lambda key: designs.halton({key: None}, n=4),
    lambda key: designs.grid({key: [0, 1]}),
    lambda key: designs.points(pd.DataFrame({key: [0, 1]})),
])
def test_a_misspelled_design_key_is_refused_at_once_with_the_valid_keys(make):
    with pytest.raises(SimcityQualityError) as err:
        make("policy.rewards.city_provincal_award")  # before any scenario or sweep
    msg = str(err.value)
    assert "did you mean `policy.rewards.city_provincial_award`" in msg
    assert "the keys under `policy.rewards` are" in msg and "province_national_award" in msg
    with pytest.raises(SimcityQualityError, match="the sections are .*behaviour"):
        make("behavior.imitation_weight")


def test_runs_are_ordered_replication_major_so_a_prefix_covers_the_design(plan):
    d = small_design().resolve(plan)
    tasks = _tasks(d, replications=3, done=set())
    assert [(p, r) for p, r, _ in tasks[:3]] == [(p, 0) for p in d.index]
    assert len(_tasks(d, 3, done={(0, 0), (1, 2)})) == 7


# --- executors ---------------------------------------------------------------------------

class _PoolThatBreaksBetweenBatches:
    """A process pool that runs its first ``good`` batches in this process, then behaves as a
    pool whose worker was killed while it was idle: ``submit`` itself raises."""

    good = 2

    def __init__(self, *args, **kwargs):
        self.submitted = 0

    def submit(self, fn, *args):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        if self.submitted >= self.good:
            raise BrokenProcessPool("A child process terminated abruptly")
        self.submitted += 1
        fut = Future()
        fut.set_result(fn(*args))
        return fut

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_a_worker_lost_between_batches_stops_the_sweep_with_the_resume_paragraph(
        plan, tmp_path, monkeypatch):
    sweep_module = importlib.import_module("simcity_quality.experiments.sweep")
    monkeypatch.setattr(sweep_module, "ProcessPoolExecutor", _PoolThatBreaksBetweenBatches)
    kw = dict(replications=2, seed=5, resolution=200, progress=False, batch_size=1)
    with pytest.raises(SweepInterrupted) as stopped:
        sq.sweep(plan, small_design(), store=tmp_path / "s", executor="processes", workers=1,
                 command="simcity-quality sweep plan.toml", **kw)
    said = str(stopped.value)
    assert "a worker process ended abruptly" in said and "could start" in said
    assert "simcity-quality sweep plan.toml --resume" in said
    kept = inspect_store(tmp_path / "s")
    assert kept.committed_runs == 2 and kept.state() == "interrupted"  # the two it ran: kept
    monkeypatch.undo()
    resumed = sq.sweep(plan, small_design(), store=tmp_path / "s", executor="serial",
                       resume=True, **kw)
    whole = sq.sweep(plan, small_design(), store=tmp_path / "w", executor="serial", **kw)
    pd.testing.assert_frame_equal(resumed.finals, whole.finals)


@pytest.mark.slow
def test_executors_give_bit_identical_results(plan, tmp_path):
    design = small_design()
    kw = dict(replications=2, seed=5, resolution=200, progress=False)
    serial = sq.sweep(plan, design, store=tmp_path / "s", executor="serial", **kw)
    procs = sq.sweep(plan, design, store=tmp_path / "p", executor="processes", workers=2,
                     batch_size=1, **kw)
    dask = sq.sweep(plan, design, store=tmp_path / "d", executor="dask", workers=2, **kw)
    for other in (procs, dask):
        pd.testing.assert_frame_equal(serial.finals, other.finals)
        pd.testing.assert_frame_equal(serial.timeseries, other.timeseries)
    assert len(serial.finals) == 6 and serial.missing_runs == 0
    # a sweep point is the same run as sq.run with the same seed
    direct = sq.run(plan.override(design.resolve(plan).iloc[2].to_dict()), replications=2,
                    seed=5, resolution=200)
    np.testing.assert_array_equal(serial.finals.query("point == 2")["factory_pass_rate"],
                                  direct.final["factory_pass_rate"])


@pytest.mark.slow
def test_sweep_through_a_dask_scheduler_and_worker_started_as_processes(plan, tmp_path):
    sched_file = tmp_path / "scheduler.json"
    dask = [str(Path(sys.executable).with_name("dask"))]
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
         "127.0.0.1:0", "--scheduler-file", str(sched_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        worker = subprocess.Popen(
            [*dask, "worker", "--scheduler-file", str(sched_file), "--host", "127.0.0.1",
             "--dashboard-address", "127.0.0.1:0", "--nthreads", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        res = sq.sweep(plan, small_design(), replications=1, seed=2, resolution=200,
                       store=tmp_path / "remote", executor="dask", scheduler=address,
                       progress=False)
        ref = sq.sweep(plan, small_design(), replications=1, seed=2, resolution=200,
                       store=tmp_path / "serial", executor="serial", progress=False)
        pd.testing.assert_frame_equal(res.finals, ref.finals)
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


# --- the store -----------------------------------------------------------------------------

def _cli_sweep(store, *extra):
    return [sys.executable, "-m", "simcity_quality", "sweep", str(PLAN), "--grid",
            f"{REWARD}=0,25000,50000,75000,100000,125000", "-r", "5", "--seed", "9",
            "--resolution", "1000", "--executor", "serial", "--batch-size", "1", "-q", "-o",
            str(store), *extra]


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_same_data_as_an_uninterrupted_sweep(tmp_path):
    store = tmp_path / "killed"
    proc = subprocess.Popen(_cli_sweep(store), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    done = store / "done"
    while time.time() < deadline:
        if done.exists() and len(list(done.glob("part-*.json"))) >= 4:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = sq.load_results(store)
    assert 0 < len(partial.finals) < 30, "the sweep must be interrupted part-way"
    assert partial.missing_runs == 30 - len(partial.finals)
    resumed = subprocess.run(_cli_sweep(store, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole = tmp_path / "whole"
    assert subprocess.run(_cli_sweep(whole), capture_output=True).returncode == 0
    a, b = sq.load_results(store), sq.load_results(whole)
    pd.testing.assert_frame_equal(a.finals, b.finals)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.design, b.design)
    assert a.missing_runs == 0 and a.manifest["resumed"]


def test_a_failing_run_is_recorded_and_the_rest_complete(plan, tmp_path):
    # 2099 is within the key's own bounds, so the design is accepted, but after the horizon:
    # a rule between keys, checked run by run
    pts = pd.DataFrame({"policy.start_year": [2010, 2099, 2011]})
    res = sq.sweep(plan, designs.points(pts), replications=2, seed=1, resolution=200,
                   store=tmp_path / "f", executor="serial", progress=False)
    assert len(res.finals) == 4 and len(res.failures) == 2
    assert set(res.failures["point"]) == {1}
    assert "policy.start_year" in res.failures["error"].iloc[0]
    assert res.manifest["runs_failed"] == 2 and res.missing_runs == 0


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_foreign_or_damaged_stores_are_refused_untouched(plan, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    before = _snapshot(foreign)
    with pytest.raises(SimcityQualityError, match="not a simcity_quality result store"):
        sq.sweep(plan, small_design(), replications=1, store=foreign, progress=False,
                 executor="serial", resolution=200)
    assert _snapshot(foreign) == before

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    before = _snapshot(broken)
    for call in (lambda: sq.load_results(broken),
                 lambda: sq.sweep(plan, small_design(), replications=1, store=broken,
                                  resume=True, progress=False, executor="serial", resolution=200)):
        with pytest.raises(SimcityQualityError, match="not valid JSON"):
            call()
    assert _snapshot(broken) == before


def test_resume_refuses_a_different_sweep_and_a_rerun_without_resume(plan, tmp_path):
    store = tmp_path / "s"
    sq.sweep(plan, small_design(), replications=1, seed=1, store=store, executor="serial",
             resolution=200, progress=False)
    before = _snapshot(store)
    with pytest.raises(SimcityQualityError, match="pass --resume"):
        sq.sweep(plan, small_design(), replications=1, seed=1, store=store, executor="serial",
                 resolution=200, progress=False)
    with pytest.raises(SimcityQualityError, match="seed"):
        sq.sweep(plan, small_design(), replications=1, seed=2, store=store, resume=True,
                 executor="serial", resolution=200, progress=False)
    assert _snapshot(store) == before


def test_a_damaged_part_is_named_when_loading(plan, tmp_path):
    store = tmp_path / "s"
    sq.sweep(plan, small_design(), replications=1, seed=1, store=store, executor="serial",
             resolution=200, progress=False)
    part = sorted((store / "finals").glob("part-*.parquet"))[0]
    part.write_bytes(b"garbage")
    with pytest.raises(SimcityQualityError, match=part.name):
        sq.load_results(store)


def test_manifest_records_what_is_needed_to_rerun_one_run(plan, tmp_path):
    res = sq.sweep(plan, small_design(), replications=2, seed=4, store=tmp_path / "m",
                   executor="serial", resolution=200, progress=False)
    m = res.manifest
    for key in ("scenario_hash", "scenario", "design", "seed", "replications", "resolution",
                "versions", "started", "finished", "seed_rule"):
        assert m.get(key) is not None, key
    # re-run point 1, replication 1 alone from the manifest
    sc = sq.scenario.scenario_from_data(m["scenario"]).override(
        res.design.loc[1].to_dict())
    model = sq.QualityCityModel(sc, seed=np.random.SeedSequence(m["seed"], spawn_key=(1,)),
                                resolution=m["resolution"])
    model.run_model()
    stored = res.finals.query("point == 1 and replication == 1")["spot_check_pass_rate"]
    assert model.current["spot_check_pass_rate"] == stored.iloc[0]


def test_sweep_cli_reports_bad_designs(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "simcity_quality", "sweep", str(PLAN),
                          "--grid", "policy.rewards.city_provincial_award", "-o",
                          str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and "KEY=V1,V2" in bad.stderr and "Traceback" not in bad.stderr


def test_attainment_cli_reads_a_store(plan, tmp_path, capsys):
    from simcity_quality.interface.cli import main

    store = tmp_path / "s"
    sq.sweep(plan, small_design(), replications=2, seed=1, store=store, executor="serial",
             resolution=200, progress=False)
    assert main(["attainment", str(store), "-o", str(tmp_path / "a.csv")]) == 0
    text = capsys.readouterr().out
    assert "factory_pass_rate" in text and "Wilson" in text
    table = pd.read_csv(tmp_path / "a.csv")
    assert set(table["point"]) == {0, 1, 2} and (table["n"] == 2).all()
    assert main(["attainment", str(tmp_path / "nowhere")]) == 2


# --- the resolution, bounded at every entry point (issue 23, item 6) -----------------------

def test_every_entry_point_bounds_the_resolution(plan, tmp_path):
    from simcity_quality.interface.panel import PolicyPanel

    huge = 10**9
    calls = {
        "run": lambda: sq.run(plan, replications=1, resolution=huge),
        "compare": lambda: sq.compare([plan], replications=1, resolution=huge),
        "sweep": lambda: sq.sweep(plan, small_design(), replications=1, resolution=huge,
                                  store=tmp_path / "s", executor="serial", progress=False),
        "minimum_level": lambda: sq.minimum_level(plan, REWARD, bounds=(0, 1),
                                                  resolution=huge),
        "optimise_mix": lambda: sq.optimise_mix(plan, {REWARD: (0, 1)}, budget=1e9,
                                                resolution=huge),
        "cheapest_mix": lambda: sq.cheapest_mix(plan, {REWARD: (0, 1)}, resolution=huge),
        "calibrate": lambda: sq.calibrate(plan, {"spot_check_pass_rate@2011": {
            "value": 0.9, "n": 100}}, {"city.capability_mean.small": (1.5, 3.5)},
            resolution=huge),
        "firm_panel": lambda: sq.firm_panel(plan, resolution=huge),
        "panel": lambda: PolicyPanel(plan, resolution=huge),
        "model": lambda: sq.QualityCityModel(plan, resolution=huge),
    }
    for name, call in calls.items():
        with pytest.raises(SimcityQualityError, match="resolution"):
            call()
        assert not (tmp_path / "s").exists(), name


def test_a_design_whose_city_is_below_the_resolution_is_refused_before_the_store(plan,
                                                                                  tmp_path):
    # at the point where the city has 100 firms, 500 cannot be simulated
    design = designs.grid({"city.firms": [plan.city.firms, 100]})
    with pytest.raises(SimcityQualityError, match="above the city's size"):
        sq.sweep(plan, design, replications=1, resolution=500, store=tmp_path / "s",
                 executor="serial", progress=False)
    assert not (tmp_path / "s").exists()
