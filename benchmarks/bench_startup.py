"""Start-up time of the command line, beyond the interpreter's own start.

Runs ``python -c pass`` (the interpreter alone), ``python -m simcity_quality --help`` and
``python -m simcity_quality targets`` ``--repeat`` times each, alternating so that machine load
hits all alike, and prints the median of each and its excess over the interpreter. The target
(issue 13) is under 1 s of excess: the command line imports neither numba, pandas nor mesa
until a command needs them (``tests/test_architecture.py`` checks which libraries load).
Usage: ``python benchmarks/bench_startup.py [--repeat N]``.
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "interpreter (python -c pass)": [sys.executable, "-c", "pass"],
    "simcity-quality --help": [sys.executable, "-m", "simcity_quality", "--help"],
    "simcity-quality targets": [sys.executable, "-m", "simcity_quality", "targets"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    times = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, cmd in COMMANDS.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["interpreter (python -c pass)"])
    print(f"{'command':<32} {'median s':>9} {'beyond interpreter s':>21}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<32} {med:>9.3f} {med - base:>21.3f}")


if __name__ == "__main__":
    main()
