"""Speed and memory of the vectorised engine against the per-agent Mesa reference, one process.

Runs ``scenarios/the_plan.toml`` to the end of the horizon (48 months) with the engine
(``QualityCityModel``) at 1,000 / 10,000 / 100,000 / 200,000 industrial enterprises and with the
reference (``ReferenceCityModel``) at 1,000 / 10,000; ``--quick`` uses 1,000 / 5,000 / 20,000
(engine) and 1,000 / 5,000 (reference). Each size is a city of that many industrial firms
(``small_city``: contractors and service firms in the plan's proportion), simulated firm by firm
by both models (full resolution), and every per-enterprise figure divides by industrial
enterprises only.

Printed per size and model: seconds to build the city and to run it (best of ``--repeat``),
nanoseconds per enterprise-month of the run, how many times slower the reference is than the
engine at that size (run time), and peak traced memory per enterprise (``tracemalloc``,
building and running, measured in a separate untimed run).
``--previous REV`` also times the Mesa reference of git revision ``REV`` (checked out in a
temporary ``git worktree`` and imported beside this one as ``simcity_quality_previous``, on
that revision's own scenario files) in the same process, alternating with today's, and prints
the old reference's run time per firm-month over the new one's: a speed ratio of the engine
over the reference must not be won by slowing the reference down.
Usage: ``python benchmarks/bench_engine.py [--quick] [--repeat N] [--previous REV]``.
"""

import argparse
import gc
import importlib
import inspect
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import simcity_quality as sq
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.experiments.equivalence import small_city
from simcity_quality.reference import ReferenceCityModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "the_plan.toml"
FULL = {"engine": (1_000, 10_000, 100_000, 200_000), "reference": (1_000, 10_000)}
QUICK = {"engine": (1_000, 5_000, 20_000), "reference": (1_000, 5_000)}
MODELS = {"engine": QualityCityModel, "reference": ReferenceCityModel}


def release(model) -> None:
    """Free a reference model (Mesa 3.3.1 otherwise keeps every model with agents alive)."""
    if hasattr(model, "release"):
        model.release()


def timed(make, repeat: int) -> tuple[float, float]:
    """Best (build seconds, run seconds) over ``repeat`` runs of ``make(seed)``."""
    best_build = best_run = float("inf")
    for r in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        model = make(r)
        t1 = time.perf_counter()
        model.run_model()
        t2 = time.perf_counter()
        best_build, best_run = min(best_build, t1 - t0), min(best_run, t2 - t1)
        release(model)
    return best_build, best_run


def city_of(cls, sc, firms: int):
    """``make(seed)`` for a city of ``firms`` industrial firms, every firm simulated."""
    city = small_city(sc, firms)
    return lambda seed: cls(city, seed=seed)


def peak_bytes(make) -> int:
    """Peak memory traced while building and running one city."""
    gc.collect()
    tracemalloc.start()
    model = make(0)
    model.run_model()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    release(model)
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per size (best kept)")
    ap.add_argument("--previous", default=None, metavar="REV",
                    help="also time the Mesa reference of this git revision (e.g. HEAD~1)")
    args = ap.parse_args()
    sizes = QUICK if args.quick else FULL
    sc = sq.load_scenario(SCENARIO)
    months = 12 * (sc.horizon.end_year - sc.city.base_year + 1)
    for cls in MODELS.values():  # warm-up: imports, first allocations
        model = city_of(cls, sc, 200)(0)
        model.run_model()
        release(model)

    results = {}
    for name, cls in MODELS.items():
        for firms in sizes[name]:
            make = city_of(cls, sc, firms)
            build, run = timed(make, args.repeat)
            results[name, firms] = (build, run, peak_bytes(make))

    print(f"scenario {sc.name}, {months} months, best of {args.repeat}; per-enterprise figures "
          "are per industrial enterprise")
    print(f"{'firms':>8} {'model':>10} {'build s':>8} {'run s':>8} {'ns/ent-month':>13} "
          f"{'ref/engine':>11} {'peak B/ent':>11}")
    for (name, firms), (build, run, peak) in sorted(results.items(),
                                                     key=lambda kv: (kv[0][1], kv[0][0])):
        ns = run / (firms * months) * 1e9
        ratio = ""
        if name == "reference" and ("engine", firms) in results:
            ratio = f"{run / results['engine', firms][1]:.1f}x"
        print(f"{firms:>8} {name:>10} {build:>8.3f} {run:>8.3f} {ns:>13.0f} {ratio:>11} "
              f"{peak / firms:>11.0f}")
    if args.previous:
        compare_references(args.previous, sc, sizes["reference"], args.repeat, months)


def previous_reference(rev: str, tmp: Path):
    """(ReferenceCityModel, its plan scenario) of git revision ``rev``, imported from a
    worktree under another package name. Revisions before the resolution rename (issue 15)
    took ``firms=`` and scaled the city themselves."""
    tree = tmp / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    shutil.copytree(tree / "simcity_quality", tmp / "pkg" / "simcity_quality_previous")
    sys.path.insert(0, str(tmp / "pkg"))
    prev = importlib.import_module("simcity_quality_previous")
    cls = importlib.import_module("simcity_quality_previous.reference").ReferenceCityModel
    return cls, prev.load_scenario(tree / "scenarios" / "the_plan.toml")


def compare_references(rev: str, sc, sizes, repeat: int, months: int) -> None:
    """The reference of ``rev`` against today's, alternating runs in this process."""
    tmp = Path(tempfile.mkdtemp())
    try:
        old_cls, old_sc = previous_reference(rev, tmp)
        print(f"\nMesa reference of {rev} against today's (run time per firm-month, best of "
              f"{repeat}, alternating):")
        print(f"{'firms':>8} {'previous ns':>12} {'today ns':>10} {'previous/today':>15}")
        takes_firms = "firms" in inspect.signature(old_cls).parameters
        for firms in sizes:
            best_old = best_new = float("inf")
            for _ in range(repeat):
                if takes_firms:  # before the resolution rename: the model scaled the city
                    old = lambda seed, n=firms: old_cls(old_sc, seed=seed, firms=n)  # noqa: E731
                else:  # since: a miniature city of n firms, as today's is built
                    small_sc = importlib.import_module(
                        "simcity_quality_previous.experiments.equivalence").small_city(
                        old_sc, firms)
                    old = lambda seed, s=small_sc: old_cls(s, seed=seed)  # noqa: E731
                best_old = min(best_old, timed(old, 1)[1])
                best_new = min(best_new, timed(city_of(ReferenceCityModel, sc, firms), 1)[1])
            per = firms * months / 1e9
            print(f"{firms:>8} {best_old / per:>12.0f} {best_new / per:>10.0f} "
                  f"{best_old / best_new:>15.2f}")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(tmp / "tree")], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
