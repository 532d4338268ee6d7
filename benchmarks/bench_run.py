"""Speed of one run of the default city, as figures and as ratios within one process.

Prints seconds per run and nanoseconds per enterprise-month at 1,000 / 5,000 / 20,000
enterprises, and each size's cost per enterprise-month relative to 5,000 (linear scaling gives
about 1). Usage: ``python benchmarks/bench_run.py [--repeat N]``.
"""

import argparse
import time
import tracemalloc
from pathlib import Path

import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "the_plan.toml"


def time_run(sc, firms: int, repeat: int) -> float:
    """Best wall time (s) of ``repeat`` single runs to the end of the horizon."""
    best = float("inf")
    for r in range(repeat):
        model = QualityCityModel(sc, seed=r, resolution=firms)
        t0 = time.perf_counter()
        model.run_model()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sc = sq.load_scenario(SCENARIO)
    months = 12 * (sc.horizon.end_year - sc.city.base_year + 1)
    time_run(sc, 500, 1)  # warm-up (imports, first allocations)
    rows = []
    for firms in (1_000, 5_000, 20_000):
        secs = time_run(sc, firms, args.repeat)
        tracemalloc.start()
        QualityCityModel(sc, seed=0, resolution=firms).run_model()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((firms, secs, secs / (firms * months) * 1e9, peak / firms))
    ref = next(r for r in rows if r[0] == 5_000)[2]
    print(f"{'firms':>8} {'s/run':>8} {'ns/firm-month':>14} {'ratio vs 5k':>12} "
          f"{'peak B/firm':>12}")
    for firms, secs, ns, mem in rows:
        print(f"{firms:>8} {secs:>8.3f} {ns:>14.0f} {ns / ref:>12.2f} {mem:>12.0f}")


if __name__ == "__main__":
    main()
