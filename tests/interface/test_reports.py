"""Full-size reports: papermill runs into an output folder, HTML, manifest, and the refusals."""

import json
import tomllib
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import simcity_quality as sq
from simcity_quality.errors import SimcityQualityError
from simcity_quality.interface.cli import main
from simcity_quality.interface.notebook_reports import load_report_parameters, run_reports

ROOT = Path(__file__).resolve().parents[2]


def _notebook(path: Path, *sources: str, parameters: str | None = None) -> Path:
    cells = []
    if parameters is not None:
        cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A notebooks folder with one good and one failing notebook, run once at full size."""
    root = tmp_path_factory.mktemp("project")
    nbs = root / "notebooks"
    nbs.mkdir()
    # the working directory must be the notebooks folder, as under nbval
    _notebook(nbs / "a_good.ipynb", "print('product', N * 3, Path.cwd().name)",
              parameters="from pathlib import Path\nN = 2")
    _notebook(nbs / "b_broken.ipynb", "print('before', N)", "raise ValueError('boom ' + str(N))",
              "print('never reached')", parameters="N = 1")
    (nbs / "reports.toml").write_text("[a_good]\nN = 5\n\n[b_broken]\nN = 7\n",
                                      encoding="utf-8")
    sources = {p.name: p.read_bytes() for p in nbs.glob("*.ipynb")}
    out = root / "results" / "reports"
    manifest = run_reports(out=out, notebooks_dir=nbs, size="full", log=lambda *_: None)
    return {"root": root, "nbs": nbs, "out": out, "manifest": manifest, "sources": sources}


@pytest.mark.slow
def test_full_size_parameters_reach_the_notebook_and_html_is_written(project):
    out = project["out"]
    assert "product 15 notebooks" in _printed(out / "a_good.ipynb")  # N = 5 from reports.toml
    html = (out / "a_good.html").read_text(encoding="utf-8")
    assert "product 15 notebooks" in html and html.lstrip().lower().startswith("<!doctype html")


def test_checked_in_notebooks_are_left_alone(project):
    nbs = project["nbs"]
    assert {p.name: p.read_bytes() for p in nbs.glob("*.ipynb")} == project["sources"]
    assert not list(nbs.glob("*.html"))


def test_manifest_records_what_was_run(project):
    on_disk = json.loads((project["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == project["manifest"]
    good = on_disk["notebooks"]["a_good"]
    assert good["status"] == "ok" and good["error"] is None
    assert good["parameters"] == {"N": 5} and good["size"] == "full"
    assert good["package_version"] == sq.__version__
    assert good["started"] <= good["finished"] and good["seconds"] >= 0
    assert Path(good["output"]) == project["out"] / "a_good.ipynb"
    assert Path(good["html"]) == project["out"] / "a_good.html"
    assert on_disk["last_run"] == ["a_good", "b_broken"]


def test_a_failing_notebook_is_reported_and_the_others_kept(project):
    out, manifest = project["out"], project["manifest"]
    bad = manifest["notebooks"]["b_broken"]
    assert bad["status"] == "failed"
    assert bad["error"]["ename"] == "ValueError" and bad["error"]["evalue"] == "boom 7"
    # the index points at the failing cell of the written notebook
    written = nbformat.read(out / "b_broken.ipynb", as_version=4)
    assert "raise ValueError" in written.cells[bad["error"]["cell_index"]].source
    assert "before 7" in _printed(out / "b_broken.ipynb")
    assert "never reached" not in _printed(out / "b_broken.ipynb")
    assert (out / "b_broken.html").is_file()  # the failed report is kept for reading
    assert (out / "a_good.ipynb").is_file()


def test_cli_exit_code_and_message_name_the_failing_notebook_and_cell(project, tmp_path,
                                                                      capsys):
    code = main(["report", "--notebooks", str(project["nbs"]), "--out", str(tmp_path / "r"),
                 "--only", "b_broken"])
    err = capsys.readouterr().err
    assert code == 1
    assert "b_broken failed at cell" in err and "ValueError: boom 7" in err


@pytest.mark.slow
def test_only_updates_one_entry_and_keeps_the_others(project, tmp_path):
    out = tmp_path / "reports"
    run_reports(out=out, notebooks_dir=project["nbs"], size="full", log=lambda *_: None)
    again = run_reports(out=out, only=["a_good"], notebooks_dir=project["nbs"], size="ci",
                        log=lambda *_: None)
    assert set(again["notebooks"]) == {"a_good", "b_broken"}
    assert again["last_run"] == ["a_good"]
    assert again["notebooks"]["a_good"]["size"] == "ci"
    assert again["notebooks"]["a_good"]["parameters"] == {}
    assert "product 6 notebooks" in _printed(out / "a_good.ipynb")  # the notebook's own N = 2
    assert again["notebooks"]["b_broken"]["status"] == "failed"  # the earlier entry, kept


@pytest.mark.parametrize("where", ["notebooks", "notebooks/reports", "notebooks/../notebooks/x"])
def test_refuses_an_output_folder_inside_the_notebooks_folder(project, where):
    target = project["root"] / where
    with pytest.raises(SimcityQualityError, match="inside the notebooks folder"):
        run_reports(out=target, notebooks_dir=project["nbs"], size="ci")
    assert not (project["nbs"] / "reports").exists() and not (project["nbs"] / "x").exists()
    assert not (project["nbs"] / "manifest.json").exists()


def test_cli_refusal_is_one_clear_error(project, capsys):
    code = main(["report", "--notebooks", str(project["nbs"]),
                 "--out", str(project["nbs"] / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "results/reports" in err


def test_a_notebook_without_an_entry_is_an_error_before_anything_runs(project, tmp_path):
    config = tmp_path / "reports.toml"
    config.write_text("[a_good]\nN = 5\n", encoding="utf-8")
    out = tmp_path / "reports"
    with pytest.raises(SimcityQualityError) as exc:
        run_reports(out=out, notebooks_dir=project["nbs"], config=config, size="full")
    msg = str(exc.value)
    assert str(config) in msg and "[b_broken]" in msg and "b_broken.ipynb" in msg
    assert not out.exists()  # checked before the first notebook ran


def test_unknown_parameter_names_the_table_and_the_notebooks_parameters(project, tmp_path):
    config = tmp_path / "reports.toml"
    config.write_text("[a_good]\nFIRMS = 5000\n", encoding="utf-8")
    with pytest.raises(SimcityQualityError, match=r"\[a_good\] sets FIRMS.*defines N\)"):
        run_reports(out=tmp_path / "r", notebooks_dir=project["nbs"], only=["a_good"],
                    config=config)


def test_unknown_notebook_and_bad_size_are_errors(project, tmp_path):
    with pytest.raises(SimcityQualityError, match="no notebook named nope; the notebooks are "
                                                  "a_good, b_broken"):
        run_reports(out=tmp_path / "r", notebooks_dir=project["nbs"], only=["nope"])
    with pytest.raises(SimcityQualityError, match="size must be one of ci, full"):
        run_reports(out=tmp_path / "r", notebooks_dir=project["nbs"], size="huge")


@pytest.mark.parametrize("text, expected", [
    ("[a_good\nN = 5", "not valid TOML"),
    ("a_good = 5\n", "key `a_good`: expected a table"),
    ("[a_good.N]\nx = 1\n", "key `a_good.N`: expected a value"),
])
def test_bad_parameter_files_are_clear_errors(tmp_path, text, expected):
    config = tmp_path / "reports.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SimcityQualityError, match=expected) as exc:
        load_report_parameters(config)
    assert str(config) in str(exc.value)
    with pytest.raises(SimcityQualityError, match="not found"):
        load_report_parameters(tmp_path / "missing.toml")


def test_shipped_parameters_match_the_notebooks_parameter_cells():
    """Every checked-in notebook has a full-size table, and each name is one of its parameters."""
    config = ROOT / "notebooks" / "reports.toml"
    table = tomllib.loads(config.read_text(encoding="utf-8"))
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert nb.stem in table, f"{config} has no [{nb.stem}]"
        known = papermill.inspect_notebook(str(nb))
        assert set(table[nb.stem]) <= set(known), (nb.stem, set(table[nb.stem]) - set(known))
        assert table[nb.stem].get("FIRMS", 5000) >= int(known.get("FIRMS", {"default": 0})
                                                        ["default"])


@pytest.mark.slow
def test_quickstart_at_ci_size_gives_the_checked_in_numbers(tmp_path):
    """Run through papermill, 01 prints exactly what the checked-in notebook (checked by nbval)
    prints: the report machinery neither changes parameters nor the working directory."""
    manifest = run_reports(out=tmp_path / "reports", only=["01_quickstart"], size="ci",
                           log=lambda *_: None)
    assert manifest["notebooks"]["01_quickstart"]["status"] == "ok"

    def checked(path):
        nb = nbformat.read(path, as_version=4)
        return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells
                if "nbval-check-output" in c.metadata.get("tags", [])]

    ran = checked(tmp_path / "reports" / "01_quickstart.ipynb")
    assert ran and ran == checked(ROOT / "notebooks" / "01_quickstart.ipynb")
