"""Sweep executors on this machine: parallel efficiency, overhead per run, parent memory.

In one process: a sweep of RUNS runs at FIRMS enterprises, serial, then local processes, then a
Dask LocalCluster, each on all cores; prints the wall time, speed-up, parallel efficiency
(speed-up / workers) and executor overhead per run ((wall x workers - serial) / runs). Then the
parent's peak traced memory for 200 and 2,000 small runs, which should not grow with the runs.
Usage: ``python benchmarks/bench_sweep.py [--runs 200] [--resolution 5000]``.
"""

import argparse
import os
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import simcity_quality as sq

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "the_plan.toml"
KEY = "policy.rewards.city_provincial_award"


def timed_sweep(sc, runs, firms, executor, workers, store, scheduler=None):
    design = sq.designs.lhs({KEY: (0, 200_000)}, n=runs // 10, seed=1)
    t0 = time.perf_counter()
    sq.sweep(sc, design, replications=10, seed=1, resolution=firms, store=store, executor=executor,
             workers=workers, scheduler=scheduler, progress=False)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--resolution", type=int, default=5000)
    args = ap.parse_args()
    sc = sq.load_scenario(PLAN)
    workers = len(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp())
    try:
        serial = timed_sweep(sc, args.runs, args.resolution, "serial", 1, tmp / "serial")
        print(f"{args.runs} runs at {args.resolution:,} enterprises, {workers} workers")
        print(f"{'executor':>10} {'wall s':>8} {'speed-up':>9} {'efficiency':>11} "
              f"{'overhead/run s':>15}")
        print(f"{'serial':>10} {serial:>8.1f} {1.0:>9.2f} {1.0:>11.2f} {0.0:>15.3f}")
        rows = [("processes", timed_sweep(sc, args.runs, args.resolution, "processes", workers,
                                          tmp / "processes"))]
        rows.append(("dask", timed_sweep(sc, args.runs, args.resolution, "dask", workers,
                                         tmp / "dask")))
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=40) as cluster, \
                Client(cluster) as client:
            startup = time.perf_counter() - t0
            rows.append(("dask*", timed_sweep(sc, args.runs, args.resolution, "dask", workers,
                                              tmp / "dask_warm", scheduler=client)))
        for ex, wall in rows:
            speed = serial / wall
            over = (wall * workers - serial) / args.runs
            print(f"{ex:>10} {wall:>8.1f} {speed:>9.2f} {speed / workers:>11.2f} {over:>15.3f}")
        print(f"dask: includes starting and stopping a LocalCluster; dask*: a running cluster "
              f"(it took {startup:.1f} s to start)")
        print("\nparent process peak traced memory (processes executor, 100 enterprises):")
        for runs in (200, 2000):
            tracemalloc.start()
            timed_sweep(sc, runs, 100, "processes", workers, tmp / f"mem{runs}")
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"{runs:>6} runs: {peak / 1e6:7.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
