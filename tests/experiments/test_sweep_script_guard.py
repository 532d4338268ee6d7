"""A script that runs a process sweep without an ``if __name__ == "__main__":`` guard gets an
error saying so, from the worker that re-imported it (not only "already holds a sweep")."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import simcity_quality as sq
sc = sq.load_scenario({scenario!r})
design = sq.designs.grid({{"policy.rewards.city_provincial_award": [0, 50_000]}})
sq.sweep(sc, design, replications=1, resolution=200, executor="processes", workers=1,
         store="store", progress=False)
"""


@pytest.mark.slow
def test_an_unguarded_script_is_told_to_add_the_guard(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT.format(scenario=str(ROOT / "scenarios" / "the_plan.toml")),
                      encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode != 0
    assert 'if __name__ == "__main__":' in proc.stderr
    assert "already holds a sweep" not in proc.stderr
