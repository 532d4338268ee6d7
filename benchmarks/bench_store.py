"""What the result store's safety costs: committing a batch (parts and marker written whole,
with rows and SHA-256) and reading a store back with every part checked.

Runs one real batch (BATCH runs at RESOLUTION simulated enterprises) once, then commits it
COMMITS times into a fresh store and reads the store back; prints the time per commit, per
run, and to load.
Usage: ``python benchmarks/bench_store.py [--batch 4] [--resolution 1000] [--commits 100]``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import simcity_quality as sq
from simcity_quality.experiments.sweep import _hash
from simcity_quality.experiments.worker import run_batch
from simcity_quality.experiments.writing import ResultStore

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "the_plan.toml"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--resolution", type=int, default=1000)
    ap.add_argument("--commits", type=int, default=100)
    args = ap.parse_args()
    sc = sq.load_scenario(PLAN)
    tasks = [(0, r, {}) for r in range(args.batch)]
    run_batch(sc.file_data(), sc.source, tasks[:1], 1, args.resolution, True)  # compile first
    t0 = time.perf_counter()
    result = run_batch(sc.file_data(), sc.source, tasks, 1, args.resolution, True)
    per_run = (time.perf_counter() - t0) / args.batch
    design = sq.designs.grid({"policy.rewards.city_provincial_award": [0]}).resolve(sc)
    reps = args.commits * args.batch
    manifest = {"format": "simcity_quality.result_store", "points": 1, "replications": reps,
                "seed": 1, "design_hash": _hash(design.to_dict(orient="split")),
                "scenario_hash": sc.content_hash(), "resolution": args.resolution,
                "timeseries": True}
    with tempfile.TemporaryDirectory() as tmp:
        with ResultStore.open(Path(tmp) / "s", manifest, design, resume=False) as st:
            t0 = time.perf_counter()
            for i in range(args.commits):
                runs = [(0, i * args.batch + r) for r in range(args.batch)]
                result["finals"]["replication"] = [r for _, r in runs]
                st.write_batch(f"r{i:05d}", runs, result)
            commit = (time.perf_counter() - t0) / args.commits
        t0 = time.perf_counter()
        res = sq.load_results(Path(tmp) / "s")
        ts = res.timeseries
        load = time.perf_counter() - t0
    print(f"one run at resolution {args.resolution:,}: {per_run * 1e3:.0f} ms")
    print(f"commit of a batch of {args.batch} runs (parts, marker, SHA-256): "
          f"{commit * 1e3:.1f} ms = {commit / args.batch * 1e3:.1f} ms a run "
          f"({commit / args.batch / per_run:.1%} of a run)")
    print(f"load_results of {len(res.finals):,} runs ({len(ts):,} time-series rows), every "
          f"part checked: {load:.2f} s")


if __name__ == "__main__":
    main()
