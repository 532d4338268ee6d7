"""Results folders of `run` and `compare` (issue 23, items 1 and 10): nothing written outside the
chosen folder, a manifest listing every file, the same kind replaced whole, anything else only
with --overwrite, a sweep's store never."""

import json
from pathlib import Path

import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.experiments import designs
from simcity_quality.interface.cli import main
from simcity_quality.results.files import OutputFolder, inside

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"
SMALL = ["-r", "1", "--resolution", "300"]


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


# --- 1: a name cannot escape -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../escaped", "/any/dir"])
def test_a_scenario_named_like_a_path_writes_nothing_anywhere(tmp_path, capsys, monkeypatch,
                                                              name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "escape.toml"
    path.write_text(f'extends = "{SCEN / "baseline.toml"}"\nname = "{name}"\n')
    before = files(tmp_path)
    monkeypatch.chdir(work)  # with no -o the default results/NAME would escape twice
    for args in (["validate", str(path)], ["run", str(path), *SMALL],
                 ["run", str(path), *SMALL, "-o", str(work / "out")],
                 ["compare", str(SCEN / "baseline.toml"), str(path), *SMALL, "-o", "out"]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "plain name" in err and "ok:" not in err
    assert files(tmp_path) == before and not Path(name).exists()


def test_no_path_leaves_the_folder_even_through_a_link(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "linked").symlink_to(tmp_path / "elsewhere")
    for rel in ("../x.csv", "/etc/x.csv", "linked/x.csv", "."):
        with pytest.raises(SimcityQualityError, match="outside the output folder"):
            inside(out, rel)
    assert inside(out, "sub/x.csv") == out / "sub" / "x.csv"


# --- 10: the same kind replaced whole, others only with --overwrite -----------------------

def test_running_again_replaces_the_folder_whole_and_keeps_other_files(tmp_path):
    out = tmp_path / "D"
    assert main(["run", str(SCEN / "the_plan.toml"), *SMALL, "-o", str(out)]) == 0
    assert (out / "the_plan" / "final.csv").exists()
    (out / "notes.txt").write_text("mine")
    assert main(["run", str(SCEN / "baseline.toml"), *SMALL, "-o", str(out)]) == 0
    assert not (out / "the_plan").exists()  # the earlier scenario's tables are gone
    assert (out / "notes.txt").read_text() == "mine"  # not ours: kept
    listed = set(manifest(out)["files"])
    assert listed == files(out) - {"manifest.json", "notes.txt"}
    assert manifest(out)["kind"] == "run" and manifest(out)["complete"]


def test_compare_can_be_run_again_into_its_folder(tmp_path):
    args = ["compare", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), *SMALL,
            "-o", str(tmp_path / "demo")]
    assert main(args) == 0 and main(args) == 0  # `make demo` twice
    assert "differences.csv" in manifest(tmp_path / "demo")["files"]


def test_a_folder_of_another_kind_needs_overwrite_and_is_then_replaced(tmp_path, capsys):
    out = tmp_path / "D"
    assert main(["compare", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), *SMALL,
                 "-o", str(out)]) == 0
    before = snapshot(out)
    run = ["run", str(SCEN / "baseline.toml"), *SMALL, "-o", str(out)]
    assert main(run) == 2
    assert "another kind ('compare')" in capsys.readouterr().err
    assert snapshot(out) == before
    assert main([*run, "--overwrite"]) == 0
    assert not (out / "differences.csv").exists() and not (out / "the_plan").exists()
    assert manifest(out)["kind"] == "run"


def test_a_sweep_store_is_never_written_into(tmp_path, plan, capsys):
    store = tmp_path / "store"
    sq.sweep(plan, designs.grid({"policy.rewards.city_provincial_award": [0]}),
             replications=1, resolution=300, store=store, executor="serial", progress=False)
    before = snapshot(store)
    for extra in ([], ["--overwrite"]):
        assert main(["compare", str(SCEN / "baseline.toml"), *SMALL, "-o", str(store),
                     *extra]) == 2
        assert "a sweep's result store" in capsys.readouterr().err
    assert snapshot(store) == before
    assert len(sq.load_results(store).finals) == 1


def test_results_write_follows_the_same_rules(tmp_path):
    res = sq.run(SCEN / "baseline.toml", replications=1, resolution=300)
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "other.txt").write_text("x")
    with pytest.raises(SimcityQualityError, match="--overwrite"):
        res.write(folder)
    res.write(folder, overwrite=True)
    res.write(folder)  # its own kind now
    assert pd.read_parquet(folder / "final.parquet").shape[0] == 1
    assert (folder / "other.txt").exists() and manifest(folder)["kind"] == "results"


def test_a_writing_cut_short_is_cleaned_up_by_the_next(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(RuntimeError), OutputFolder(out, "run") as folder:
        folder.file("a.txt", lambda tmp: tmp.write_text("a"))
        raise RuntimeError("killed")
    assert manifest(out)["files"] == ["a.txt"] and not manifest(out)["complete"]
    with OutputFolder(out, "run") as folder:
        folder.file("b.txt", lambda tmp: tmp.write_text("b"))
    assert files(out) == {"b.txt", "manifest.json"} and manifest(out)["complete"]
