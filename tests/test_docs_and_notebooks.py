"""Generated docs stay in step with the code, and nbval really catches a wrong number."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simcity_quality as sq
from simcity_quality.scenario import parameters_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_is_current():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert doc == parameters_markdown(), (
        "docs/parameters.md is stale: run `simcity-quality params --markdown > "
        "docs/parameters.md`")


@pytest.mark.slow
def test_nbval_fails_when_a_printed_number_changes(tmp_path):
    """Change one stored number of the quickstart; nbval must report the cell as different."""
    nb = json.loads((ROOT / "notebooks" / "01_quickstart.ipynb").read_text(encoding="utf-8"))
    checked = [c for c in nb["cells"] if "nbval-check-output" in c["metadata"].get("tags", [])]
    assert checked, "the quickstart must check the cells that print results"
    out = checked[0]["outputs"][0]
    text = "".join(out["text"])
    assert "factory_pass_rate" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("factory_pass_rate"))
    cells = line.split()
    wrong = line.replace(cells[3], "0.123", 1)  # the baseline value column
    out["text"] = text.replace(line, wrong)
    (tmp_path / "notebooks").mkdir()
    target = tmp_path / "notebooks" / "01_quickstart.ipynb"
    target.write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", str(target),
         "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "0.123" in proc.stdout and "Cell outputs differ" in proc.stdout


@pytest.mark.slow
def test_nbval_fails_when_a_model_default_moves_a_reported_number(tmp_path):
    """Change one default in a copy of the scenario files (the gain from shoddy production, a
    lever that moves the pass-rate targets, §2.2.1c-d); nbval on the unchanged quickstart must
    then fail on the cell that prints the 2012 targets."""
    (tmp_path / "notebooks").mkdir()
    target = tmp_path / "notebooks" / "01_quickstart.ipynb"
    shutil.copy(ROOT / "notebooks" / "01_quickstart.ipynb", target)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    baseline = tmp_path / "scenarios" / "baseline.toml"
    text = baseline.read_text(encoding="utf-8")
    changed, n = re.subn(r"(?m)^counterfeit_gain = 0\.03\b", "counterfeit_gain = 0.06", text)
    assert n == 1, "baseline.toml no longer sets market.counterfeit_gain = 0.03; pick another"
    baseline.write_text(changed, encoding="utf-8")
    assert sq.load_scenario(tmp_path / "scenarios" / "the_plan.toml").get(
        "market.counterfeit_gain") == 0.06  # the plan inherits the changed default
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", str(target),
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
         "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "Cell outputs differ" in proc.stdout
    # the failing cells are the ones that print results, starting with the targets table
    failed = [int(i) for i in re.findall(r"_{3,} \S*::Cell (\d+) _{3,}", proc.stdout)]
    nb = json.loads(target.read_text(encoding="utf-8"))
    targets_cell = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                        and "targets_side_by_side" in "".join(c["source"]))
    code_index = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    assert code_index.index(targets_cell) in failed, proc.stdout[-3000:]
    assert "factory_pass_rate" in proc.stdout


def test_the_tests_docs_experiments_names_exist():
    """docs/experiments.md states the store's guarantees with the tests that check each: every
    test it names must exist (renaming one must update the doc)."""
    doc = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![/\w])(test_\w+)\b(?!\.py)", doc)) - {
        "test_store_faults", "test_store_integrity", "test_experiments", "test_cli_failures",
        "test_output_folders"}
    defined = {m for path in (ROOT / "tests").rglob("test_*.py")
               for m in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)}
    assert len(named) >= 15
    assert named <= defined, sorted(named - defined)
