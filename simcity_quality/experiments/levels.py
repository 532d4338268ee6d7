"""The lowest level of one lever that still meets chosen targets with a chosen probability, and
whether that lowest level is also the cheapest.

``minimum_level`` scans a grid of the lever on common random numbers (every level sees the same
replication seeds). A level *qualifies* when the one-sided lower Wilson bound of its attainment
(every chosen target met in the same replication) at ``confidence`` is at least ``probability``,
and falls *short* when the one-sided upper bound is below it; otherwise it is *uncertain*. The
rule is the one :func:`~simcity_quality.experiments.cheapest.cheapest_mix` uses.

The search:

1. scans ``grid_points`` levels at ``replications`` each;
2. while a level at or below the first qualifying one is uncertain, doubles the replications of
   those levels (up to ``max_replications``);
3. when the level below the first qualifying one falls short, bisects between them
   (``bisections`` times, each midpoint settled the same way), unless attainment falls as the
   lever rises there (a *drop*: the upper bound at the higher level below the lower bound at
   the lower one), in which case the grid level is reported and not bisected across.

Cost is the payer's (``city``, ``province`` or ``all``) ``gross`` spending or its ``net`` cost
after the fines and penalties it collects (:mod:`~simcity_quality.results.budget`); both are
reported. For a lever whose cost falls as it rises (inspections bring fines back) the lowest
qualifying level need not be the cheapest: the result says which qualifying level tried was.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results import display
from ..results.progress import progress_bar
from ..results.replications import check_seed
from ..scenario import Scenario, load_scenario
from .options import check_cost, check_probability, select_targets
from .runs import MixRuns, summarise

SCAN_COLUMNS = ["level", "n", "met", "probability", "low", "high", "expected_cost",
                "cost_low", "cost_high", "gross", "net"]


@dataclass(repr=False)
class LevelResult:
    """What :func:`minimum_level` found.

    ``probability`` is the attainment at ``level``, ``low`` and ``high`` its one-sided Wilson
    bounds at ``confidence`` (together the two-sided interval at ``2 confidence - 1``);
    ``expected_cost`` is the mean cost there on ``basis`` for ``payer`` (yuan, with a 95 %
    interval ``cost_low``-``cost_high``), ``gross`` and ``net`` both bases. ``cheapest`` says
    whether ``level`` is also the cheapest qualifying level tried (``None`` when no level
    qualifies); ``cheapest_level`` is that level.
    """

    lever: str
    level: float | None  # None when no level in bounds qualifies
    probability: float
    low: float
    high: float
    expected_cost: float
    settled: bool
    reason: str
    scan: pd.DataFrame  # every level evaluated, ascending
    non_monotonic: list[tuple[float, float]] = field(default_factory=list)
    required: float = 0.9
    confidence: float = 0.95
    payer: str = "city"
    basis: str = "gross"
    cost_low: float = np.nan
    cost_high: float = np.nan
    gross: float = np.nan
    net: float = np.nan
    cheapest: bool | None = None
    cheapest_level: float | None = None
    targets: list[str] = field(default_factory=list)
    runs: int = 0
    uncertainty: str = "noise"  # what the probabilities cover (results.uncertainty)
    drawn: int = 0  # [uncertain] parameters drawn in each replication

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        return describe_uncertainty(self.uncertainty, self.drawn)

    def _lines(self) -> list[str]:
        rule = (f"P(all of {', '.join(self.targets)} met) >= {self.required:.2f}, one-sided "
                f"{display.percent(self.confidence)} Wilson bound")
        out = [f"minimum_level of {self.lever}: {rule}"]
        if self.level is None:
            out.append(f"  no level qualifies: {self.reason}")
        else:
            out += [f"  lowest qualifying level: {display.lever_value(self.lever, self.level)}",
                    f"  attainment {self._attainment()}",
                    "  cost " + display.money(self.expected_cost, self.payer, self.basis,
                                              self.cost_low, self.cost_high),
                    f"  {self._other_basis()}",
                    f"  {self.cheapness()}",
                    f"  {self.reason}" + ("" if self.settled else " (NOT settled)")]
        if self.non_monotonic:
            out.append("  attainment fell as the lever rose between "
                       + ", ".join(f"{a:g}-{b:g}" for a, b in self.non_monotonic))
        out.append(f"  {len(self.scan)} levels tried, {self.runs} runs")
        out.append(f"  - {self.describe_uncertainty()}")
        return out

    def _attainment(self) -> str:
        return display.probability(self.probability, self.low, self.high,
                                   display.percent(2 * self.confidence - 1))

    def _other_basis(self) -> str:
        other = "net" if self.basis == "gross" else "gross"
        return "also " + display.money(getattr(self, other), self.payer, other)

    def cheapness(self) -> str:
        """Whether the lowest qualifying level is the cheapest qualifying level tried."""
        if self.level is None:
            return "no level qualifies, so none is cheapest"
        if self.cheapest:
            return "it is also the cheapest qualifying level tried"
        row = self.scan.loc[self.scan["level"] == self.cheapest_level].iloc[0]
        return (f"it is NOT the cheapest: {display.lever_value(self.lever, self.cheapest_level)}"
                f" also qualifies and costs "
                f"{display.money(row['expected_cost'], self.payer, self.basis)}")

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        lines = self._lines()
        scan = self.scan.assign(expected_cost=self.scan["expected_cost"] / 1e6)
        scan = scan.rename(columns={"expected_cost": f"{self.payer} {self.basis} (M yuan)"})
        cols = ["level", "n", "met", "probability", "low", "high",
                f"{self.payer} {self.basis} (M yuan)"]
        return (display.html_block(lines[0], [("", ln.strip()) for ln in lines[1:]])
                + scan[cols].round(3).to_html(index=False))


@renamed(firms="resolution")
def minimum_level(scenario: Scenario | str, lever: str, targets=None, probability: float = 0.9,
                  bounds: tuple[float, float] | None = None, grid_points: int = 7,
                  replications: int = 20, max_replications: int = 160, seed: int = 0,
                  resolution: int | None = None, bisections: int = 3, confidence: float = 0.95,
                  payer: str = "city", cost: str = "gross", executor: str = "serial",
                  workers: int | None = None, progress=True, evaluator=None,
                  uncertainty: str = "noise") -> LevelResult:
    """Lowest value of ``lever`` in ``bounds`` at which every target in ``targets`` is met (in
    the same replication) with probability at least ``probability``.

    Args:
        targets: target ids or plan sections (``"§2.2.1c"``); default every target the plan
            quantifies. Unknown names are refused before anything runs.
        bounds: the range scanned (default: the scenario's ``[uncertain]`` range of ``lever``).
        confidence: a level qualifies when the one-sided lower Wilson bound of its attainment
            at this confidence is at least ``probability`` (module docstring).
        payer, cost: whose cost (``"city"``, ``"province"``, ``"all"``) on which basis
            (``"gross"`` spending, or ``"net"`` of fines collected); both bases are reported.
        executor, workers: how runs are spread (``"serial"``, ``"processes"``, ``"dask"``);
            the numbers do not depend on it.
        progress: a progress bar of the runs (``False``: silent).
        evaluator: a stand-in for the model (:mod:`~simcity_quality.experiments.runs`), the
            lever being the one column of its mixes.
        uncertainty: ``"noise"``, or ``"parameters"``: every replication also draws the
            [uncertain] parameters (the lever apart) from their priors, the same draws at
            every level, so a level qualifies over what is not known too.

    Returns a :class:`LevelResult`: the level, its attainment with bounds, its cost, whether
    it is the cheapest qualifying level tried, the scan of every level and the stretches where
    attainment fell as the lever rose.
    """
    from ..results.uncertainty import check_uncertainty, drawn_keys

    uncertainty = check_uncertainty(uncertainty)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before anything runs
    check_seed(seed)
    lo, hi = _bounds(sc, lever, bounds)
    probability = check_probability("probability", probability)
    confidence = check_probability("confidence", confidence, above=0.5)
    payer, cost = check_cost(payer, cost)
    chosen = select_targets(sc, targets)
    if grid_points < 2 or replications < 1 or max_replications < replications:
        raise SimcityQualityError(f"need grid_points >= 2 and 1 <= replications <= "
                                  f"max_replications, got {grid_points}, {replications}, "
                                  f"{max_replications}.")
    cap = (grid_points + bisections) * max_replications
    with progress_bar(progress, total=cap, desc=f"minimum_level {lever}") as bar:
        runs = MixRuns(sc, [lever], chosen, payer, seed, resolution, bar, executor, workers,
                       evaluator, uncertainty=uncertainty)
        search = _Search(runs, lever, probability, confidence, cost, max_replications)
        found = search.run(np.linspace(lo, hi, grid_points), replications, bisections)
    res = _result(search, found, [t.id for t in chosen], payer, cost)
    res.uncertainty = uncertainty
    res.drawn = len(drawn_keys(sc, [lever])) if uncertainty == "parameters" else 0
    return res


def _bounds(sc: Scenario, lever: str, bounds) -> tuple[float, float]:
    current = sc.get(lever)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SimcityQualityError(f"lever `{lever}` is not numeric in {sc.source}")
    if bounds is None:
        if lever not in sc.uncertain:
            raise SimcityQualityError(f"give bounds=(low, high) for `{lever}`: the scenario "
                                      "declares no [uncertain] range for it.")
        bounds = sc.uncertain[lever]
    lo, hi = map(float, bounds)
    if not lo < hi:
        raise SimcityQualityError(f"bounds ({lo:g}, {hi:g}) must have low below high")
    return lo, hi


class _Search:
    """The scan, the added replications and the bisection (module docstring)."""

    def __init__(self, runs: MixRuns, lever: str, probability: float, confidence: float,
                 basis: str, max_replications: int):
        self.runs, self.lever, self.p = runs, lever, probability
        self.confidence, self.basis, self.max_reps = confidence, basis, max_replications
        self.rows: dict[float, dict] = {}  # level -> its summary
        self.reason, self.settled = "", False

    def evaluate(self, levels, reps: int) -> None:
        """Run ``levels`` to ``reps`` replications (at least) and summarise them."""
        levels = [float(x) for x in levels]
        frames = self.runs.outcomes([{self.lever: x} for x in levels], reps)
        for x, f in zip(levels, frames, strict=True):
            self.rows[x] = {"level": x, **summarise(f, self.basis, self.confidence)}

    def scan(self) -> pd.DataFrame:
        """Every level evaluated, ascending, with the columns of :data:`SCAN_COLUMNS`."""
        t = pd.DataFrame(sorted(self.rows.values(), key=lambda r: r["level"]))
        t = t.rename(columns={"attainment": "probability", "lower": "low", "upper": "high",
                              "cost": "expected_cost"})
        return t[SCAN_COLUMNS]

    def status(self, level: float) -> str:
        """``"qualifies"``, ``"short"`` or ``"uncertain"`` under the one-sided rule."""
        r = self.rows[level]
        if r["lower"] >= self.p:
            return "qualifies"
        return "short" if r["upper"] < self.p else "uncertain"

    def drops(self, grid) -> list[tuple[float, float]]:
        """Neighbouring grid levels where attainment clearly fell as the lever rose."""
        return [(a, b) for a, b in zip(grid[:-1], grid[1:], strict=True)
                if self.rows[b]["upper"] < self.rows[a]["lower"]]

    def run(self, grid, reps: int, bisections: int) -> float | None:
        """The lowest qualifying level found (``None``: none), setting reason and settled."""
        grid = self.grid = [float(x) for x in grid]
        self.evaluate(grid, reps)
        while True:
            first = next((x for x in grid if self.status(x) == "qualifies"), None)
            relevant = grid if first is None else [x for x in grid if x <= first]
            unsure = [x for x in relevant if self.status(x) == "uncertain"]
            if not unsure or reps >= self.max_reps:
                break
            reps = min(2 * reps, self.max_reps)
            self.evaluate(relevant, reps)
        self.reps = reps
        if first is None:
            return self._none(grid, unsure)
        if unsure:
            self.reason = (f"not settled after {reps} replications: "
                           f"{', '.join(f'{x:g}' for x in unsure)} may still qualify")
            return first
        if first == grid[0]:
            self.settled, self.reason = True, "already reached at the lower bound"
            return first
        below = grid[grid.index(first) - 1]
        if any(a <= below < b or a < first <= b for a, b in self.drops(grid)):
            self.reason = (f"attainment is not monotone between {below:g} and {first:g}; "
                           "reporting the grid level, not bisecting across the drop")
            return first
        return self._bisect(below, first, bisections)

    def _none(self, grid, unsure) -> None:
        best = max(grid, key=lambda x: (self.rows[x]["attainment"], -x))
        b = self.rows[best]
        self.settled = not unsure
        self.reason = (f"no level in [{grid[0]:g}, {grid[-1]:g}] has a lower bound of at least "
                       f"{self.p:.2f}: the best, {best:g}, gives {b['attainment']:.2f} (bounds "
                       f"{b['lower']:.2f}-{b['upper']:.2f})"
                       + (f"; {len(unsure)} levels still uncertain at {self.reps} replications "
                          "(more max_replications may settle them)" if unsure else ""))
        self.best = best
        return None

    def _bisect(self, left: float, right: float, bisections: int) -> float:
        self.settled = True
        self.reason = f"bracketed between {left:g} and {right:g}"
        for _ in range(bisections):
            mid = (left + right) / 2
            reps = self.reps
            self.evaluate([mid], reps)
            while self.status(mid) == "uncertain" and reps < self.max_reps:
                reps = min(2 * reps, self.max_reps)
                self.evaluate([mid], reps)
            state = self.status(mid)
            if state == "uncertain":
                self.settled = False
                self.reason += (f"; {mid:g} still uncertain after {reps} replications, so the "
                                f"answer lies between {left:g} and {right:g}")
                break
            if state == "qualifies":
                right = mid
            else:
                left = mid
        else:
            self.reason += f", bisected to {right:g}"
        return right


def _result(search: _Search, level: float | None, targets, payer, basis) -> LevelResult:
    scan = search.scan()
    common = dict(required=search.p, confidence=search.confidence, payer=payer, basis=basis,
                  targets=targets, runs=search.runs.runs, non_monotonic=search.drops(search.grid))
    if level is None:
        b = search.rows[search.best]
        return LevelResult(search.lever, None, b["attainment"], b["lower"], b["upper"],
                           b["cost"], search.settled, search.reason, scan,
                           cost_low=b["cost_low"], cost_high=b["cost_high"], gross=b["gross"],
                           net=b["net"], **common)
    r = search.rows[level]
    qualifying = [x for x in sorted(search.rows) if search.status(x) == "qualifies"]
    cheapest = min(qualifying, key=lambda x: (search.rows[x]["cost"], x))
    is_cheapest = search.rows[cheapest]["cost"] >= r["cost"]
    return LevelResult(search.lever, level, r["attainment"], r["lower"], r["upper"], r["cost"],
                       search.settled, search.reason, scan, cost_low=r["cost_low"],
                       cost_high=r["cost_high"], gross=r["gross"], net=r["net"],
                       cheapest=bool(is_cheapest),
                       cheapest_level=level if is_cheapest else cheapest, **common)

