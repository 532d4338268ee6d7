"""The engine of this checkout against the engine of git revision ``REV``, interleaved.

Each side runs in its own process (in one process the two packages' compiled code slowed the
older one down about threefold), the two taking turns for ``--rounds`` rounds; each process
times ``--runs`` runs of ``scenarios/the_plan.toml`` to the end of the horizon in a city of
``--firms`` industrial firms (``small_city``, every firm simulated; seeds 0-4 in turn) after
one untimed warm-up run, and prints the best. Revision ``REV`` is checked out in a temporary
``git worktree`` and runs on its own scenario files.
Usage: ``python benchmarks/ab_engine.py REV [--firms N] [--runs N] [--rounds N]``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# run inside each side's process: the best of `runs` timed runs, in seconds
TIMER = """
import sys, time
import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import small_city
firms, runs = int(sys.argv[1]), int(sys.argv[2])
city = small_city(sq.load_scenario("scenarios/the_plan.toml"), firms)
QualityCityModel(city, seed=0).run_model()
best = float("inf")
for r in range(runs):
    model = QualityCityModel(city, seed=r % 5)
    t0 = time.perf_counter()
    model.run_model()
    best = min(best, time.perf_counter() - t0)
print(best)
"""


def best_run(tree: Path, firms: int, runs: int) -> float:
    """Best run time (s) of the engine of the checkout at ``tree``, in a process of its own."""
    out = subprocess.run([sys.executable, "-c", TIMER, str(firms), str(runs)], cwd=tree,
                         env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev", help="the git revision to compare with (e.g. HEAD~1)")
    ap.add_argument("--firms", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=20, help="timed runs per process")
    ap.add_argument("--rounds", type=int, default=3, help="turns of each side")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                        args.rev], check=True, capture_output=True)
        try:
            print(f"{args.firms} firms, best of {args.runs} runs per process (s)")
            print(f"{'round':>5} {args.rev:>12} {'this checkout':>14}")
            for r in range(args.rounds):
                before = best_run(tree, args.firms, args.runs)
                now = best_run(ROOT, args.firms, args.runs)
                print(f"{r + 1:>5} {before:>12.4f} {now:>14.4f}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=False, capture_output=True)


if __name__ == "__main__":
    main()
