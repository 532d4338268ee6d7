"""Generated docs stay in step with the code, and nbval really catches a wrong number."""

import json
import subprocess
import sys
from pathlib import Path

from simcity_quality.scenario import parameters_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_is_current():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert doc == parameters_markdown(), (
        "docs/parameters.md is stale: run `simcity-quality params --markdown > "
        "docs/parameters.md`")


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
