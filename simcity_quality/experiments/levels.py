"""The cheapest lever level that still reaches chosen targets with a chosen probability.

``minimum_level`` scans a coarse grid of the lever on common random numbers (every level sees
the same replication seeds), reports any stretch where attainment falls as the lever rises
(rewards need not act monotonically), and refines only inside a monotone bracket: it adds
replications at the bracket's ends until their Wilson intervals sit on either side of the
required probability, then bisects. It says so when the answer cannot be settled, and why.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results.replications import check_replications, check_seed, run_replication
from ..results.statistics import wilson_interval
from ..scenario import Scenario, load_scenario
from ..targets import target_list


@dataclass
class LevelResult:
    """What ``minimum_level`` found."""

    lever: str
    level: float | None  # None when no level in bounds reaches the probability
    probability: float  # estimated attainment at ``level``
    low: float  # Wilson interval of that estimate
    high: float
    expected_cost: float  # mean total spending (yuan, both payers) at ``level``
    settled: bool
    reason: str
    scan: pd.DataFrame = field(repr=False)  # every level evaluated
    non_monotonic: list[tuple[float, float]] = field(default_factory=list)


class _Evaluator:
    """Runs (level, replication) once and remembers: more replications reuse earlier ones."""

    def __init__(self, sc: Scenario, lever: str, targets: list, seed: int, resolution: int | None):
        self.sc, self.lever, self.targets = sc, lever, targets
        self.seed, self.resolution = seed, resolution
        self.cache: dict[tuple[float, int], tuple[bool, float]] = {}

    def run(self, level: float, reps: int) -> tuple[int, int, float]:
        """(met, n, mean cost) of ``reps`` replications at ``level``."""
        sc = self.sc.override({self.lever: _typed(self.sc, self.lever, level)})
        for r in range(reps):
            if (level, r) not in self.cache:
                model = run_replication(sc, self.seed, r, self.resolution)
                met = all(t.met(model.current[t.kpi]) for t in self.targets)
                self.cache[(level, r)] = (met, model.current["spending_total"])
        got = [self.cache[(level, r)] for r in range(reps)]
        return sum(m for m, _ in got), reps, float(np.mean([c for _, c in got]))


def _typed(sc: Scenario, key: str, value: float):
    return int(round(value)) if isinstance(sc.get(key), int) else float(value)


@renamed(firms="resolution")
def minimum_level(scenario: Scenario | str, lever: str, targets: list[str] | None = None,
                  probability: float = 0.9, bounds: tuple[float, float] | None = None,
                  grid_points: int = 7, replications: int = 20, max_replications: int = 160,
                  seed: int = 0, resolution: int | None = None, bisections: int = 3,
                  level: float = 0.95) -> LevelResult:
    """Smallest value of ``lever`` in ``bounds`` at which every target in ``targets`` (ids;
    default: all quantified, modelled targets) is met with at least ``probability``.

    The search works on attainment of all chosen targets in the same replication. It returns
    the level with its attainment interval and expected cost, the scan of every level tried,
    and the stretches where attainment fell as the lever rose.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)
    check_seed(seed)
    check_replications(replications)
    if max_replications < replications:
        raise SimcityQualityError(f"max_replications ({max_replications}) must be at least "
                                  f"replications ({replications}).")
    if not 0 < level < 1:
        raise SimcityQualityError(f"level (of the Wilson intervals) must be between 0 and 1, "
                                  f"got {level}.")
    current = sc.get(lever)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SimcityQualityError(f"lever `{lever}` is not numeric in {sc.source}")
    if bounds is None:
        if lever not in sc.uncertain:
            raise SimcityQualityError(f"give bounds=(low, high) for `{lever}`")
        bounds = sc.uncertain[lever]
    lo, hi = map(float, bounds)
    if not lo < hi:
        raise SimcityQualityError(f"bounds ({lo}, {hi}) must have low below high")
    if not 0 < probability < 1:
        raise SimcityQualityError(f"probability must be between 0 and 1, got {probability}")
    tlist = [t for t in target_list(sc.targets) if t.modelled]
    if targets is None:
        tlist = [t for t in tlist if t.quantified_in_plan]
    else:
        unknown = sorted(set(targets) - {t.id for t in tlist})
        if unknown:
            raise SimcityQualityError(f"unknown or unmodelled targets {unknown}")
        tlist = [t for t in tlist if t.id in targets]
    ev = _Evaluator(sc, lever, tlist, seed, resolution)

    def table(levels, reps) -> pd.DataFrame:
        rows = [(x, *ev.run(x, reps)) for x in levels]
        df = pd.DataFrame(rows, columns=["level", "met", "n", "expected_cost"])
        df["probability"] = df["met"] / df["n"]
        df["low"], df["high"] = wilson_interval(df["met"], df["n"], level)
        return df

    grid = np.linspace(lo, hi, grid_points)
    scan = table(grid, replications)
    # a drop whose intervals do not overlap is real, not noise
    drops = [(scan.level[i], scan.level[i + 1]) for i in range(len(scan) - 1)
             if scan.high[i + 1] < scan.low[i]]

    reps = replications
    while True:
        above = scan.index[scan.probability >= probability]
        if len(above) == 0:
            best = scan.loc[scan.probability.idxmax()]
            if best.high < probability or reps >= max_replications:
                return LevelResult(
                    lever, None, best.probability, best.low, best.high, best.expected_cost,
                    settled=bool(best.high < probability),
                    reason=(f"no level in [{lo:g}, {hi:g}] reaches {probability:.0%}: the best, "
                            f"{best.level:g}, gives {best.probability:.2f} "
                            f"({best.low:.2f}-{best.high:.2f})"),
                    scan=scan, non_monotonic=drops)
        else:
            first = above[0]
            if first == 0:
                row = scan.loc[0]
                if row.low >= probability or reps >= max_replications:
                    return LevelResult(lever, float(row.level), row.probability, row.low,
                                       row.high, row.expected_cost,
                                       settled=bool(row.low >= probability),
                                       reason="already reached at the lower bound",
                                       scan=scan, non_monotonic=drops)
            else:
                a, b = scan.loc[first - 1], scan.loc[first]
                settled = a.high < probability <= b.low
                in_drop = any(x <= a.level < y or x < b.level <= y for x, y in drops)
                if settled or reps >= max_replications:
                    break
                if in_drop:
                    break
        reps = min(2 * reps, max_replications)
        scan = table(scan.level.to_numpy(), reps)

    a, b = scan.loc[first - 1], scan.loc[first]
    if in_drop:
        reason = (f"attainment is not monotone between {a.level:g} and {b.level:g}; reporting "
                  "the grid level, not bisecting across the drop")
    elif not settled:
        reason = (f"not settled after {reps} replications: the intervals at {a.level:g} and "
                  f"{b.level:g} still straddle {probability:.0%}")
    else:
        reason = f"bracketed between {a.level:g} and {b.level:g}"
        left, right = float(a.level), float(b.level)
        for _ in range(bisections):
            mid = (left + right) / 2
            m = table([mid], reps).iloc[0]
            scan = pd.concat([scan, m.to_frame().T], ignore_index=True)
            if m.probability >= probability:
                right = mid
            else:
                left = mid
        reason += f", bisected to {right:g}"
        b = scan.loc[scan.level == right].iloc[-1]
    scan = scan.sort_values("level").reset_index(drop=True)
    return LevelResult(lever, float(b.level), float(b.probability), float(b.low), float(b.high),
                       float(b.expected_cost), bool(settled and not in_drop), reason, scan,
                       drops)
