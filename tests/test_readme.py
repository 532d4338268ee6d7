"""The README's examples run as written: every ``python`` block as a script and every
``simcity-quality`` line of the ``sh`` blocks, in a temporary folder holding a copy of
``scenarios/``; they write only under ``results/`` and never change a checked-in file."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
CLI_LINES = [line for block in re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M)
             for line in block.splitlines() if line.startswith("simcity-quality ")]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def workdir(tmp_path):
    """A folder like a clone's: a copy of scenarios/, nothing under results/ yet."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path


def _env() -> dict:
    bin_dir = str(Path(sys.executable).parent)  # simcity-quality, as with the venv active
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                MPLBACKEND="Agg")


def _check_only_results_written(workdir: Path, before: dict[str, str]) -> None:
    after = _digest(workdir)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, f"examples changed checked-in files: {sorted(changed)}"
    new = [k for k in after if k not in before]
    assert all(k.startswith("results" + os.sep) for k in new), new


def test_the_readme_has_examples_at_ci_size():
    assert len(PYTHON_BLOCKS) >= 6 and len(CLI_LINES) >= 10
    for line in CLI_LINES:  # nothing written over a checked-in file
        for target in re.findall(r"(?:-o|--out|--briefing)\s+(\S+)", line):
            assert target.startswith("results/"), line
    assert "an.missed_cases" in README and "validation.table" in README
    assert "if __name__ == \"__main__\":" in README
    for link in re.findall(r"\]\(([^)#]+)\)", README):  # every relative link resolves
        assert (ROOT / link).exists(), link


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(PYTHON_BLOCKS)))
def test_python_example_runs_as_written(workdir, number):
    before = _digest(workdir)
    script = workdir.parent / f"readme_example_{number}.py"
    script.write_text(PYTHON_BLOCKS[number], encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=workdir, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"block {number}:\n{PYTHON_BLOCKS[number]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    _check_only_results_written(workdir, before)


@pytest.mark.slow
def test_cli_examples_run_as_written(workdir):
    before = _digest(workdir)
    for line in CLI_LINES:
        proc = subprocess.run(["bash", "-c", line], cwd=workdir, env=_env(),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}"
    assert (workdir / "results" / "three" / "briefing.html").is_file()
    assert (workdir / "results" / "reports" / "manifest.json").is_file()
    _check_only_results_written(workdir, before)
