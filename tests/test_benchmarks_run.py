"""The speed benchmarks run as documented (`make bench`, docs/performance.md) on today's
scenarios; their timings are not tested (speed is measured, never asserted in tests)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_run_prints_a_row_per_city_size():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_run.py"), "--repeat",
                          "1", "--sizes", "300", "600"], capture_output=True, text=True,
                         cwd=ROOT, check=False, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert [r[0] for r in rows] == ["300", "600"]
    assert all(float(r[1]) > 0 for r in rows)


@pytest.mark.slow
def test_the_interleaved_comparison_times_both_sides_of_each_round():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ab_engine.py"), "HEAD",
                          "--firms", "200", "--runs", "1", "--rounds", "2"],
                         capture_output=True, text=True, cwd=ROOT, check=False, timeout=900)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[2:]]
    assert [r[0] for r in rows] == ["1", "2"]
    assert all(float(r[1]) > 0 and float(r[2]) > 0 for r in rows)
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"],
                               capture_output=True, text=True, check=True).stdout
    assert "/tree " not in worktrees  # the temporary checkout is removed
