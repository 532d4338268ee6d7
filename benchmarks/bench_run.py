"""Speed of one run of the default city, as figures and as ratios within one process.

Prints seconds per run and nanoseconds per enterprise-month for cities of 1,000 / 5,000 /
20,000 industrial enterprises (``small_city`` of the plan: contractors, service firms and count
levers in proportion; 5,000 is the default city), every firm simulated, and each size's cost
per enterprise-month relative to 5,000 (linear scaling gives about 1). Usage:
``python benchmarks/bench_run.py [--repeat N] [--sizes 1000 5000 20000]``.
"""

import argparse
import time
import tracemalloc
from pathlib import Path

import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import small_city

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "the_plan.toml"


def time_run(sc, repeat: int) -> float:
    """Best wall time (s) of ``repeat`` single runs to the end of the horizon."""
    best = float("inf")
    for r in range(repeat):
        model = QualityCityModel(sc, seed=r)
        t0 = time.perf_counter()
        model.run_model()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    args = ap.parse_args()
    plan = sq.load_scenario(SCENARIO)
    months = 12 * (plan.horizon.end_year - plan.city.base_year + 1)
    time_run(small_city(plan, 500), 1)  # warm-up (imports, compiled rules, first allocations)
    rows = []
    for firms in args.sizes:
        sc = small_city(plan, firms)
        secs = time_run(sc, args.repeat)
        tracemalloc.start()
        QualityCityModel(sc, seed=0).run_model()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((firms, secs, secs / (firms * months) * 1e9, peak / firms))
    ref = next((r for r in rows if r[0] == 5_000), rows[0])[2]
    print(f"{'firms':>8} {'s/run':>8} {'ns/firm-month':>14} {'ratio vs 5k':>12} "
          f"{'peak B/firm':>12}")
    for firms, secs, ns, mem in rows:
        print(f"{firms:>8} {secs:>8.3f} {ns:>14.0f} {ns / ref:>12.2f} {mem:>12.0f}")


if __name__ == "__main__":
    main()
