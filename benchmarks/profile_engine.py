"""Where the engine's time goes: cProfile of one run of ``scenarios/the_plan.toml``.

Usage: ``python benchmarks/profile_engine.py [--resolution N] [--top K] [--sort tottime|cumtime]``.
Prints the run time, then the ``top`` functions by ``sort`` (own time by default). The city is
built outside the profile; one warm-up run at 200 enterprises comes first.
"""

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "the_plan.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=10_000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sc = sq.load_scenario(SCENARIO)
    QualityCityModel(sc, seed=0, resolution=200).run_model()  # warm-up

    model = QualityCityModel(sc, seed=args.seed, resolution=args.resolution)
    t0 = time.perf_counter()
    model.run_model()
    plain = time.perf_counter() - t0

    model = QualityCityModel(sc, seed=args.seed, resolution=args.resolution)
    prof = cProfile.Profile()
    prof.enable()
    model.run_model()
    prof.disable()
    print(f"{args.resolution} enterprises, {model.n_months} months: run {plain:.3f} s "
          f"({plain / (args.resolution * model.n_months) * 1e9:.0f} ns/enterprise-month) "
          "unprofiled")
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
