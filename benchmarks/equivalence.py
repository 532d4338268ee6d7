"""The full equivalence check: the vectorised engine against the per-agent Mesa reference.

For each scenario, runs ``--replications`` independent replications of each model (different
seed roots, so the samples are independent) in a city of ``--firms`` enterprises and compares the
end-of-horizon value of every target KPI and the spending totals (``--all-columns``: every
time-series column): engine mean, reference mean, difference in standard errors of the
difference, two-sample KS p-value, Holm-adjusted KS p-value across the scenario's columns, and
the verdict (|diff| <= 3 SE and Holm-adjusted p >= alpha). Exits with status 1 if any differ.

Usage: ``python benchmarks/equivalence.py [--firms 1000] [--replications 100]
[--scenarios baseline the_plan] [--all-columns]``.
"""

import argparse
import sys
import time
from pathlib import Path

import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import COMPARED, final_values, small_city
from simcity_quality.reference import ReferenceCityModel
from simcity_quality.results.replications import replication_seeds
from simcity_quality.results.statistics import compare_samples

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=1000)
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--scenarios", nargs="+", default=["baseline", "the_plan"])
    ap.add_argument("--engine-seed", type=int, default=1)
    ap.add_argument("--reference-seed", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=0.01, help="KS level after Holm")
    ap.add_argument("--max-se", type=float, default=3.0, help="largest mean difference (SE)")
    ap.add_argument("--all-columns", action="store_true",
                    help="compare every time-series column, not only targets and spending")
    args = ap.parse_args()
    if args.engine_seed == args.reference_seed:
        ap.error("engine and reference need different seeds (independent samples)")
    columns = QualityCityModel.columns() if args.all_columns else list(COMPARED)

    print(f"firms={args.firms} replications={args.replications} "
          f"seeds: engine={args.engine_seed} reference={args.reference_seed} "
          f"alpha={args.alpha} max_se={args.max_se}")
    failures = 0
    for name in args.scenarios:
        sc = small_city(sq.load_scenario(SCENARIOS / f"{name}.toml"), args.firms)
        t0 = time.perf_counter()
        engine = final_values(QualityCityModel, sc,
                              replication_seeds(args.engine_seed, args.replications),
                              columns)
        t1 = time.perf_counter()
        reference = final_values(ReferenceCityModel, sc,
                                 replication_seeds(args.reference_seed, args.replications),
                                 columns)
        t2 = time.perf_counter()
        rows = compare_samples(engine, reference, alpha=args.alpha, max_se=args.max_se)
        print(f"\n== {name}  (engine {t1 - t0:.1f} s, reference {t2 - t1:.1f} s)")
        print(f"{'kpi':<32} {'engine':>13} {'reference':>13} {'diff/SE':>8} {'KS p':>7} "
              f"{'Holm p':>7}  verdict")
        for r in rows:
            verdict = {True: "same", False: "DIFFERENT", None: "not finite"}[r["ok"]]
            failures += r["ok"] is False
            print(f"{r['kpi']:<32} {r['engine_mean']:>13.5g} {r['reference_mean']:>13.5g} "
                  f"{r['diff_se']:>8.2f} {r['ks_p']:>7.3f} {r['holm_p']:>7.3f}  {verdict}")
    print(f"\n{'all columns agree' if not failures else f'{failures} column(s) differ'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
