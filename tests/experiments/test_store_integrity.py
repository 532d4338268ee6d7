"""The result store checks itself (issue 23, items 2, 3 and 8): missing, damaged and foreign
parts are named, --resume re-runs them, `check` reports the state, a store killed while being
created is completed, one writer at a time, and stores of format 1 still load."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.experiments import designs, inspect_store
from simcity_quality.experiments.lock import StoreLock, StoreLocked
from simcity_quality.interface.cli import main

REWARD = "policy.rewards.city_provincial_award"
KW = dict(replications=2, seed=3, resolution=300, executor="serial", batch_size=1, progress=False)


def design():
    return designs.grid({REWARD: [0, 50_000, 100_000]})


def make(plan, store, **kw):
    return sq.sweep(plan, design(), store=store, **{**KW, **kw})


@pytest.fixture(scope="module")
def whole(plan, tmp_path_factory):
    """An uninterrupted sweep: what every repaired store must read back as."""
    return make(plan, tmp_path_factory.mktemp("whole") / "store")


@pytest.fixture
def store(plan, tmp_path):
    path = tmp_path / "store"
    make(plan, path)
    return path


def same_data(a, b):
    pd.testing.assert_frame_equal(a.finals, b.finals)
    pd.testing.assert_frame_equal(a.failures, b.failures)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.design, b.design)


def parts(store: Path, table: str) -> list[Path]:
    return sorted((store / table).glob("part-*.parquet"))


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- what the store records ----------------------------------------------------------------

def test_every_part_is_listed_with_rows_and_checksum(store):
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["version"] == 2 and len(manifest["sweep_id"]) == 32
    listed = {info["file"]: info for entry in manifest["parts"].values()
              for key, info in entry.items() if key != "runs"}
    on_disk = {f"{t}/{p.name}" for t in ("finals", "timeseries", "failures") for p in
               parts(store, t)}
    assert set(listed) == on_disk and len(on_disk) == 12  # 6 batches x (finals, timeseries)
    for rel, info in listed.items():
        assert info["rows"] == len(pd.read_parquet(store / rel))
        assert len(info["sha256"]) == 64 and info["bytes"] == (store / rel).stat().st_size
    check = inspect_store(store)
    assert check.state() == "finished" and not check.problems and check.missing_runs == 0


# --- damaged, missing, foreign -------------------------------------------------------------

def test_a_deleted_finals_part_is_named_and_resume_runs_it_again(plan, store, whole, capsys):
    gone = parts(store, "finals")[2]
    gone.unlink()
    with pytest.raises(SimcityQualityError) as info:
        sq.load_results(store)
    assert f"finals/{gone.name}: missing" in str(info.value) and "--resume" in str(info.value)
    partial = sq.load_results(store, skip_damaged=True)
    assert len(partial.finals) == 5 and partial.missing_runs == 1
    assert [p.kind for p in partial.problems] == ["missing"]
    assert main(["check", str(store)]) == 1
    assert f"finals/{gone.name}" in capsys.readouterr().out
    resumed = make(plan, store, resume=True)
    same_data(resumed, whole)
    assert any((store / "quarantine").rglob(gone.name.replace(".parquet", ".json")))
    assert main(["check", str(store)]) == 0


def test_a_deleted_timeseries_part_is_named_at_load(plan, store, whole):
    gone = parts(store, "timeseries")[0]
    gone.unlink()
    with pytest.raises(SimcityQualityError, match=f"timeseries/{gone.name}: missing"):
        sq.load_results(store)
    same_data(make(plan, store, resume=True), whole)


def test_a_part_damaged_in_place_is_found_by_its_checksum(plan, store, whole):
    part = parts(store, "timeseries")[1]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum can tell
    part.write_bytes(bytes(data))
    res = sq.load_results(store)  # finals and failures are intact
    with pytest.raises(SimcityQualityError, match=f"timeseries/{part.name}: damaged"):
        res.timeseries  # noqa: B018 - reading is the test
    check = inspect_store(store)  # `check` hashes every part
    assert [(p.kind, p.file) for p in check.problems] == [("damaged", f"timeseries/{part.name}")]
    same_data(make(plan, store, resume=True), whole)


def test_a_part_and_marker_of_another_sweep_are_foreign(plan, store, whole, tmp_path):
    other = tmp_path / "other"
    sq.sweep(plan, designs.grid({REWARD: [1, 2, 3, 4]}), store=other,
             **{**KW, "replications": 3})
    marker = sorted((other / "done").glob("part-*.json"))[-1]  # point 3: not in our design
    shutil.copy(marker, store / "done" / marker.name)
    for table in ("finals", "timeseries"):
        shutil.copy(other / table / marker.with_suffix(".parquet").name, store / table)
    with pytest.raises(SimcityQualityError, match="another sweep") as info:
        sq.load_results(store)
    assert f"done/{marker.name}" in str(info.value)
    resumed = make(plan, store, resume=True)
    same_data(resumed, whole)
    assert set(resumed.finals["point"]) == {0, 1, 2}  # nothing merged in


def test_a_damaged_marker_and_a_duplicate_batch_are_refused(plan, store, whole):
    markers = sorted((store / "done").glob("part-*.json"))
    markers[0].write_text("{not json")
    dup = json.loads(markers[1].read_text())
    copy = store / "done" / "part-r00000-p0000009-n0001.json"  # same runs under another name
    copy.write_text(json.dumps({**dup, "parts": {}}))
    check = inspect_store(store)
    assert {p.kind for p in check.problems} >= {"damaged", "duplicate"}
    with pytest.raises(SimcityQualityError, match="unreadable commit marker"):
        sq.load_results(store)
    same_data(make(plan, store, resume=True), whole)


def test_an_uncommitted_part_is_ignored_and_moved_aside_by_resume(plan, store, whole):
    stray = store / "finals" / "part-r00001-p0000000-n0009.parquet"  # a kill before its marker
    shutil.copy(parts(store, "finals")[0], stray)
    (store / "timeseries" / ".part-x.parquet.123.tmp").write_bytes(b"half")
    same_data(sq.load_results(store), whole)
    check = inspect_store(store)
    assert not check.problems and len(check.uncommitted) == 2
    same_data(make(plan, store, resume=True), whole)
    assert not stray.exists() and any((store / "quarantine").rglob(stray.name))


@pytest.mark.parametrize("change", [lambda m: m.pop("points"),
                                    lambda m: m.update(replications="two")])
def test_a_damaged_manifest_is_one_clear_paragraph(plan, store, capsys, change):
    manifest = json.loads((store / "manifest.json").read_text())
    change(manifest)
    (store / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(store)
    for call in (lambda: sq.load_results(store), lambda: make(plan, store, resume=True)):
        with pytest.raises(SimcityQualityError, match="the manifest is damaged"):
            call()
    assert main(["check", str(store)]) == 2
    assert "manifest is damaged" in capsys.readouterr().err
    assert snapshot(store) == before


def test_a_store_of_format_1_loads_with_a_note_and_is_not_resumed(plan, store, caplog):
    manifest = json.loads((store / "manifest.json").read_text())
    for key in ("sweep_id", "design_file", "parts"):
        manifest.pop(key)
    manifest["version"] = 1
    (store / "manifest.json").write_text(json.dumps(manifest))
    for marker in (store / "done").glob("part-*.json"):
        marker.write_text(json.dumps({"runs": json.loads(marker.read_text())["runs"]}))
    with caplog.at_level(logging.WARNING, "simcity_quality.notes"):
        res = sq.load_results(store)
    assert "cannot be verified" in caplog.text
    assert len(res.finals) == 6 and not res.verified and len(res.timeseries) > 0
    assert "format 1" in inspect_store(store).summary()
    with pytest.raises(SimcityQualityError, match="cannot be resumed"):
        make(plan, store, resume=True)


# --- created in steps: a kill at any step is completed ------------------------------------

def _cut(store: Path, keep: set[str]) -> None:
    """What a kill during creation leaves: only the entries in ``keep`` (creation order: the
    lock, the manifest, the subfolders, the design)."""
    for entry in list(store.iterdir()):
        if entry.name not in keep:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.mark.parametrize("keep", [{"lock"}, {"lock", ".manifest.json.77.tmp"},
                                  {"lock", "manifest.json"},
                                  {"lock", "manifest.json", "finals", "timeseries"},
                                  {"finals", "timeseries"}],  # what earlier versions left
                         ids=["lock", "lock+tmp", "manifest", "manifest+folders", "old"])
def test_a_store_cut_short_while_being_created_is_completed(plan, tmp_path, whole, keep):
    store = tmp_path / "store"
    make(plan, store)
    (store / ".manifest.json.77.tmp").write_text("{half")
    for table in ("finals", "timeseries"):
        for part in parts(store, table):
            part.unlink()
    _cut(store, keep)
    assert not (store / "done").exists() or not any((store / "done").iterdir())
    same_data(make(plan, store, resume=True), whole)
    shutil.rmtree(store)
    store.mkdir()
    make(plan, store)  # and without --resume, a store that holds no runs yet is taken over


def test_a_folder_with_anything_else_is_still_refused(plan, tmp_path):
    store = tmp_path / "store"
    (store / "finals").mkdir(parents=True)
    (store / "finals" / "mine.csv").write_text("x")
    with pytest.raises(SimcityQualityError, match="not a simcity_quality result store"):
        make(plan, store)


# --- one writer ----------------------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_holder(plan, tmp_path):
    store = tmp_path / "store"
    make(plan, store, replications=1)
    holder = StoreLock(store).acquire("simcity-quality sweep (the first)")
    try:
        before = snapshot(store)
        for resume in (True, False):
            with pytest.raises(StoreLocked) as info:
                make(plan, store, replications=1, resume=resume)
            msg = str(info.value)
            assert f"process {os.getpid()}" in msg and "the first" in msg and "--resume" in msg
        assert snapshot(store) == before
        assert inspect_store(store).state() == "being written"
    finally:
        holder.release()
    make(plan, store, replications=1, resume=True)  # free again


def test_a_lock_left_by_a_crash_is_taken_over_with_a_note(plan, tmp_path, caplog):
    store = tmp_path / "store"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended: its flock went with it
    store.mkdir()
    (store / "lock").write_text(json.dumps({"pid": pid, "host": "h", "started": "then",
                                            "command": "simcity-quality sweep (crashed)"}))
    with caplog.at_level(logging.WARNING, "simcity_quality.notes"):
        res = make(plan, store)
    assert f"took over the lock left by process {pid}" in caplog.text
    assert res.missing_runs == 0 and (store / "lock").read_text() == ""  # released cleanly
