"""The mutation check (``benchmarks/mutation_check.py``): every one-sided perturbation of a rule
(a term dropped, a comparison flipped, a parameter scaled by 1.1, in the engine or in the
reference) fails a rule-level test. About a minute on two cores."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_no_perturbation_of_a_rule_survives():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mutation_check.py")],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " 0 survivors" in proc.stdout
