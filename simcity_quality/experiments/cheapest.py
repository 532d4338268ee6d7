"""The cheapest mix of levers that meets chosen targets with a chosen probability.

``cheapest_mix`` answers the budget holder's question: *what is the least it can cost (this
payer, gross or net of fines) to meet these targets together with at least this probability,
using these levers within these bounds?*

**The rule.** A mix *qualifies* when the one-sided lower Wilson bound of its attainment (the
share of replications in which every chosen target is met) at ``confidence`` is at least
``probability``; it falls *short* when the one-sided upper bound is below ``probability``, and
is *uncertain* otherwise (the rule of :func:`~simcity_quality.experiments.levels.minimum_level`
too). Cost is the mean over replications of the payer's gross or net cost over the horizon
(:mod:`~simcity_quality.results.budget`, the one definition). Every mix runs on the same
replication seeds (common random numbers), so mixes are compared on the same luck.

**The search**, within ``max_runs`` model runs:

1. *Coarse design*: a grid over the lever bounds (``grid_points`` per lever; corners included,
   so the cheapest-looking corner, every lever at its low bound, is always tried), plus the
   scenario's own mix, each at ``replications``.
2. *Settling*: every uncertain mix that could matter (no qualifying mix yet, or cheaper than
   the cheapest qualifying one) gets its replications doubled, up to ``max_replications``
   (the cheapest first, when the runs left do not cover them all); the
   cheapest qualifying mix (the *incumbent*) is confirmed at ``max_replications`` and must still
   qualify, or the next-cheapest takes its place.
3. *Refinement near the cost frontier*: the mixes around the incumbent, at half the previous
   grid spacing, are tried, then settled as in 2; the spacing halves each round until it is
   below ``tolerance`` (a share of each lever's range) or the runs are spent. A neighbour
   whose cost, predicted by a linear fit of cost on the levers over the mixes tried, exceeds
   the incumbent's by more than twice the fit's residual spread is not run: it could not be
   the answer. The others run in order of predicted cost, cheapest first. With no qualifying
   mix, the refinement goes around the mix with the highest attainment (no neighbour is left
   out), unless attainment is flat over everything tried.

**The answer** is the incumbent: its mix, its cost with a 95 % interval, both gross and net,
and its attainment with its one-sided bounds. Mixes whose cost cannot be told from it (the
95 % interval of the paired difference over their common replications contains zero) are
reported as ties; when attainment does not distinguish the mixes tried (their bounds all
overlap) the result says it is flat. When no mix qualifies, the answer says so and gives the
highest attainment reached and its mix. The frontier is the set of mixes tried that no other
mix beats on both cost and attainment.
"""

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results import display
from ..results.progress import progress_bar
from ..results.statistics import paired_interval
from ..scenario import Scenario, load_scenario
from .designs import scaled
from .mix import pareto_frontier
from .options import check_cost, check_levers, check_probability, select_targets, typed
from .runs import Estimate, MixRuns, as_mix, summarise


@dataclass(repr=False)
class CheapestMix:
    """What :func:`cheapest_mix` found (module docstring). Money is in yuan over the horizon.

    ``mix`` is ``None`` when no mix tried qualifies; ``best_mix`` and ``best_attainment`` are
    then the highest attainment reached. ``cost`` is on ``basis`` for ``payer``; ``gross`` and
    ``net`` are both bases. ``attainment``'s ``low`` and ``high`` are its one-sided bounds at
    ``confidence``. ``evaluations`` holds every mix tried, ``frontier`` the cost-against-
    attainment frontier of them, ``ties`` the qualifying mixes whose cost cannot be told from
    the answer's.
    """

    mix: dict | None
    cost: Estimate | None
    gross: Estimate | None
    net: Estimate | None
    attainment: Estimate | None
    replications: int  # at the answer
    best_mix: dict
    best_attainment: Estimate
    flat: bool
    settled: bool
    notes: list[str]
    evaluations: pd.DataFrame
    frontier: pd.DataFrame
    ties: pd.DataFrame
    payer: str = "city"
    basis: str = "gross"
    probability: float = 0.8
    confidence: float = 0.95
    targets: list[str] = field(default_factory=list)
    runs_used: int = 0
    uncertainty: str = "noise"  # what the probabilities cover (results.uncertainty)
    drawn: int = 0  # [uncertain] parameters drawn in each replication
    condition: str = ""  # the part of a parameter's range searched within, if any
    runs_reused: int = 0  # runs this search used that another search had made

    @property
    def qualified(self) -> bool:
        """Whether a mix within the bounds qualifies."""
        return self.mix is not None

    def _title(self) -> str:
        given = f" given {self.condition}" if self.condition else ""
        return (f"Cheapest mix: P(all of {', '.join(self.targets)} met{given}) >= "
                f"{self.probability:.2f} (one-sided {display.percent(self.confidence)} Wilson "
                f"bound), least {self.payer} {self.basis} cost")

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        return describe_uncertainty(self.uncertainty, self.drawn)

    def _rows(self) -> list[tuple[str, str]]:
        level = display.percent(2 * self.confidence - 1)
        reused = f" (and {self.runs_reused} made by other searches)" if self.runs_reused else ""
        runs = ("runs", f"{len(self.evaluations)} mixes tried, {self.runs_used} runs{reused}; "
                        f"frontier of {len(self.frontier)}")
        if self.mix is None:
            b = self.best_attainment
            return [("answer", "no mix within the bounds qualifies"),
                    ("best attainment reached", display.probability(b.value, b.low, b.high,
                                                                    level)),
                    *[(k, display.lever_value(k, v)) for k, v in self.best_mix.items()], runs]
        other = "net" if self.basis == "gross" else "gross"
        c, o, a = self.cost, getattr(self, other), self.attainment
        return [*[(k, display.lever_value(k, v)) for k, v in self.mix.items()],
                ("cost", display.money(c.value, self.payer, self.basis, c.low, c.high)),
                (f"{other} cost", display.money(o.value, self.payer, other, o.low, o.high)),
                ("attainment", display.probability(a.value, a.low, a.high, level)
                 + f", {self.replications} replications"), runs]

    def __repr__(self) -> str:
        return display.text_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])

    def _repr_html_(self) -> str:
        return display.html_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])


@renamed(firms="resolution")
def cheapest_mix(scenario: Scenario | str, levers: dict[str, tuple[float, float]], targets=None,
                 probability: float = 0.8, confidence: float = 0.95, payer: str = "city",
                 cost: str = "gross", replications: int = 20, max_replications: int = 80,
                 max_runs: int = 2000, seed: int = 0, resolution: int | None = None,
                 grid_points: int | None = None, tolerance: float = 1 / 32,
                 include_scenario: bool = True, executor: str = "serial",
                 workers: int | None = None, progress=True, evaluator=None,
                 uncertainty: str = "noise") -> CheapestMix:
    """The least expected cost of a mix of ``levers`` (dotted key -> (low, high)) at which every
    target in ``targets`` is met in the same replication with probability at least
    ``probability`` (module docstring: the rule, the search, the answer).

    Args:
        targets: target ids or plan sections (``"§2.2.1c"``); default every target the plan
            quantifies. Unknown names are refused before anything runs.
        confidence: a mix qualifies when the one-sided lower Wilson bound of its attainment at
            this confidence is at least ``probability``.
        payer, cost: whose cost is minimised (``"city"``, ``"province"``, ``"all"``) and on
            which basis (``"gross"`` spending or ``"net"`` of fines collected); both bases are
            reported.
        replications, max_replications: replications of a new mix, and the most any mix gets
            while its qualification is uncertain (and the answer's confirmation).
        max_runs: model runs allowed in all.
        resolution: how many of the city's firms are simulated (money for the whole city).
        grid_points: per lever in the coarse design (default 9, 5, 3 for one, two, three
            levers, 2 beyond).
        tolerance: refinement stops when the spacing is below this share of each range.
        include_scenario: also try the scenario's own mix (clipped to the bounds).
        executor, workers: how runs are spread (``"serial"``, ``"processes"``, ``"dask"``).
        progress: a progress bar of the runs (``False``: silent).
        evaluator: a stand-in for the model (:mod:`~simcity_quality.experiments.runs`).
        uncertainty: ``"noise"`` (the [uncertain] parameters at the scenario's values), or
            ``"parameters"``: every replication also draws them from their priors (the same
            draws for every mix), so a mix qualifies when it meets the probability over what
            is not known: the robust cheapest mix (docs/uncertainty.md).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before anything runs
    options = check_search(sc, levers, targets, probability, confidence, payer, cost,
                           replications, max_replications, tolerance, uncertainty)
    with progress_bar(progress, total=max_runs, desc="cheapest_mix") as bar:
        runs = MixRuns(sc, list(options.bounds), options.targets, options.payer, seed,
                       resolution, bar, executor, workers, evaluator,
                       uncertainty=options.uncertainty)
        return search_within(runs, options, replications, max_replications, max_runs,
                             grid_points, tolerance, include_scenario)


@dataclass
class SearchOptions:
    """A cheapest-mix search's checked choices (:func:`check_search`)."""

    bounds: dict[str, tuple[float, float]]
    targets: list
    probability: float
    confidence: float
    payer: str
    basis: str
    uncertainty: str


def check_search(sc: Scenario, levers, targets, probability, confidence, payer, cost,
                 replications, max_replications, tolerance, uncertainty) -> SearchOptions:
    """Every choice of a cheapest-mix search checked before anything runs."""
    from ..results.uncertainty import check_uncertainty

    uncertainty = check_uncertainty(uncertainty)
    bounds = check_levers(sc, levers)
    probability = check_probability("probability", probability)
    confidence = check_probability("confidence", confidence, above=0.5)
    payer, cost = check_cost(payer, cost)
    chosen = select_targets(sc, targets)
    if not 1 <= replications <= max_replications:
        raise SimcityQualityError(f"need 1 <= replications <= max_replications, got "
                                  f"{replications} and {max_replications}.")
    if not 0 < tolerance < 1:
        raise SimcityQualityError(f"tolerance is a share of each lever's range, between 0 "
                                  f"and 1; got {tolerance}.")
    return SearchOptions(bounds, chosen, probability, confidence, payer, cost, uncertainty)


def search_within(runs, options: SearchOptions, replications: int, max_replications: int,
                  max_runs: int, grid_points: int | None, tolerance: float,
                  include_scenario: bool, condition: str = "") -> CheapestMix:
    """One cheapest-mix search on ``runs`` (a :class:`~.runs.MixRuns`, or a
    :class:`~.runs.PartRuns` view for a search within a part of a parameter's range, whose
    ``condition`` the answer names); ``max_runs`` counts the runs this search makes."""
    from ..results.uncertainty import drawn_keys

    search = _Search(runs.sc, runs, options.bounds, options.probability, options.confidence,
                     options.basis, replications, max_replications, max_runs)
    search.run(_grid_points(len(options.bounds), grid_points), tolerance, include_scenario)
    res = search.result(options.payer, [t.id for t in options.targets])
    res.uncertainty = options.uncertainty
    res.drawn = (len(drawn_keys(runs.sc, options.bounds))
                 if options.uncertainty == "parameters" else 0)
    res.condition = condition
    res.runs_reused = len(runs.used) - res.runs_used
    return res


def _grid_points(d: int, grid_points: int | None) -> int:
    if grid_points is None:
        return {1: 9, 2: 5, 3: 3}.get(d, 2)
    if grid_points < 2:
        raise SimcityQualityError(f"grid_points must be at least 2 (the bounds), got "
                                  f"{grid_points}.")
    return grid_points


class _Search:
    """The state of one search: every mix tried, in unit coordinates of the lever box."""

    def __init__(self, sc: Scenario, runs: MixRuns, bounds: dict, probability: float,
                 confidence: float, basis: str, replications: int, max_replications: int,
                 max_runs: int):
        self.sc, self.runs, self.names = sc, runs, list(bounds)
        self.lo = np.array([b[0] for b in bounds.values()])
        self.hi = np.array([b[1] for b in bounds.values()])
        self.p, self.confidence, self.basis = probability, confidence, basis
        self.reps, self.max_reps, self.max_runs = replications, max_replications, max_runs
        self.tried: dict[tuple, dict] = {}  # mix key -> {"unit", "round", "n", summary...}
        self.exhausted = False
        self.round = 0

    # -- running ------------------------------------------------------------------------
    def mix_of(self, unit: np.ndarray) -> dict:
        """The lever values at unit coordinates (whole-number levers rounded)."""
        values = scaled(np.clip(unit, 0.0, 1.0), self.lo, self.hi)
        return {k: typed(self.sc, k, v) for k, v in zip(self.names, values, strict=True)}

    def left(self) -> int:
        """Runs still allowed."""
        return self.max_runs - self.runs.runs

    def cost_of(self, keys: list[tuple], reps: int) -> int:
        """Runs that bringing ``keys`` to ``reps`` replications would take."""
        return sum(max(0, reps - self.runs.done(dict(zip(self.names, k, strict=True))))
                   for k in keys)

    def evaluate(self, keys: list[tuple], reps: int) -> None:
        """Bring ``keys`` to ``reps`` replications and summarise them."""
        mixes = [dict(zip(self.names, k, strict=True)) for k in keys]
        for k, frame in zip(keys, self.runs.outcomes(mixes, reps), strict=True):
            self.tried[k].update(summarise(frame, self.basis, self.confidence))

    def add(self, units: list[np.ndarray]) -> None:
        """Try new mixes (those not tried yet) at the starting replications, within budget."""
        new = []
        for u in units:
            k = self.runs.key(self.mix_of(u))
            if k not in self.tried and k not in new:
                new.append(k)
        affordable = max(0, self.left() - self.reserve()) // self.reps
        if len(new) > affordable:
            self.exhausted = True
            new = new[:affordable]
        for k in new:
            unit = (np.array(k, dtype=float) - self.lo) / np.where(self.hi > self.lo,
                                                                   self.hi - self.lo, 1.0)
            self.tried[k] = {"unit": unit, "round": self.round}
        if new:
            self.evaluate(new, self.reps)

    def reserve(self) -> int:
        """Runs kept back to confirm an incumbent at ``max_replications``: the present one if
        it is not confirmed yet, else one that new mixes may bring."""
        inc = self.incumbent()
        current = 0 if inc is None else self.cost_of([inc], self.max_reps)
        return max(current, self.max_reps - self.reps)

    def by_predicted_cost(self, units: list[np.ndarray], incumbent: tuple | None) -> list:
        """``units`` cheapest-predicted first (a linear fit of cost on the unit coordinates of
        the mixes tried), without those predicted to cost clearly more than ``incumbent``."""
        tried = list(self.tried.values())
        x = np.column_stack([np.ones(len(tried)), np.array([t["unit"] for t in tried])])
        y = np.array([t["cost"] for t in tried])
        if len(tried) <= x.shape[1] or not np.isfinite(y).all():
            return units  # too few mixes to fit: run them all
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        spread = 2.0 * float(np.sqrt(np.mean((y - x @ coef) ** 2)))
        predicted = [float(np.concatenate([[1.0], u]) @ coef) for u in units]
        order = sorted(range(len(units)), key=lambda i: predicted[i])
        if incumbent is None:
            return [units[i] for i in order]
        cap = self.tried[incumbent]["cost"] + spread + 1e-9 * abs(self.tried[incumbent]["cost"])
        return [units[i] for i in order if predicted[i] <= cap]

    # -- judging ------------------------------------------------------------------------
    def status(self, k: tuple) -> str:
        """``"qualifies"``, ``"short"`` or ``"uncertain"`` (module docstring)."""
        t = self.tried[k]
        if t["lower"] >= self.p:
            return "qualifies"
        return "short" if t["upper"] < self.p else "uncertain"

    def incumbent(self) -> tuple | None:
        """The cheapest qualifying mix (exact cost ties: the one nearest the low bounds)."""
        q = [k for k in self.tried if "n" in self.tried[k] and self.status(k) == "qualifies"]
        if not q:
            return None
        return min(q, key=lambda k: (self.tried[k]["cost"], float(self.tried[k]["unit"].sum())))

    def best(self) -> tuple:
        """The mix with the highest attainment (ties: the cheapest)."""
        return min(self.tried, key=lambda k: (-self.tried[k]["attainment"],
                                              self.tried[k]["cost"]))

    def flat(self) -> bool:
        """Attainment does not distinguish the mixes tried: all their bounds overlap."""
        t = self.tried.values()
        return max(r["lower"] for r in t) <= min(r["upper"] for r in t)

    # -- the search ---------------------------------------------------------------------
    def run(self, grid_points: int, tolerance: float, include_scenario: bool) -> None:
        """Coarse design, then settling and refinement rounds (module docstring)."""
        d = len(self.names)
        axes = [np.linspace(0.0, 1.0, grid_points)] * d
        coarse = [np.array(u) for u in itertools.product(*axes)]
        if len(coarse) * self.reps > self.max_runs:
            raise SimcityQualityError(
                f"max_runs={self.max_runs} cannot cover the coarse design: {len(coarse)} mixes "
                f"({grid_points} per lever) x {self.reps} replications = "
                f"{len(coarse) * self.reps} runs; raise max_runs or lower grid_points or "
                "replications.")
        if include_scenario:
            own = np.array([float(self.sc.get(k)) for k in self.names])
            coarse.append(np.clip((own - self.lo) / (self.hi - self.lo), 0.0, 1.0))
        self.add(coarse)
        spacing = 1.0 / (grid_points - 1)
        while True:
            self.settle()
            spacing /= 2
            centre = self.incumbent()
            if centre is None:
                if self.flat():
                    break
                centre = self.best()
            if spacing < tolerance:
                break
            if self.exhausted or self.left() <= self.reserve():
                self.exhausted = True  # the runs left are kept for a confirmation
                break
            self.round += 1
            candidates = _neighbours(self.tried[centre]["unit"], spacing)
            self.add(self.by_predicted_cost(candidates, self.incumbent()))
        self.settle()

    def settle(self) -> None:
        """Add replications where qualification is uncertain and could matter, and confirm
        the incumbent at ``max_replications``."""
        while True:
            inc = self.incumbent()
            if inc is not None and self.tried[inc]["n"] < self.max_reps:
                if self.cost_of([inc], self.max_reps) > self.left():
                    self.exhausted = True  # reported: the answer is not confirmed
                    return
                self.evaluate([inc], self.max_reps)  # confirm: it must still qualify
                continue
            cap = None if inc is None else self.tried[inc]["cost"]
            unsure = [k for k, t in self.tried.items()
                      if self.status(k) == "uncertain" and t["n"] < self.max_reps
                      and (cap is None or t["cost"] < cap)]
            if not unsure:
                return
            reps = min(2 * min(self.tried[k]["n"] for k in unsure), self.max_reps)
            # the cheapest first: the answer is the cheapest qualifying mix
            unsure = sorted((k for k in unsure if self.tried[k]["n"] < reps),
                            key=lambda k: self.tried[k]["cost"])
            budget = self.left() - self.reserve()
            while unsure and self.cost_of(unsure, reps) > budget:
                unsure.pop()
                self.exhausted = True
            if not unsure:
                return
            self.evaluate(unsure, reps)

    # -- the answer ---------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """Every mix tried: levers, status, attainment with bounds, costs with intervals."""
        rows = []
        for k, t in self.tried.items():
            row = as_mix(self.names, k)
            row.update({c: t[c] for c in ("round", "n", "met", "attainment", "lower", "upper",
                                          "cost", "cost_low", "cost_high", "gross", "gross_low",
                                          "gross_high", "net", "net_low", "net_high")})
            row["status"] = self.status(k)
            rows.append(row)
        return pd.DataFrame(rows).sort_values("cost", kind="stable").reset_index(drop=True)

    def ties(self, answer: tuple) -> pd.DataFrame:
        """Qualifying mixes whose cost cannot be told from the answer's (95 % interval of the
        paired difference over their common replications contains zero)."""
        keep = []
        a = self._frame(answer)
        for k in self.tried:
            if self.status(k) != "qualifies":
                continue
            b = self._frame(k)
            n = min(len(a), len(b))
            diff = b[self.basis].to_numpy()[:n] - a[self.basis].to_numpy()[:n]
            mean, low, high, _ = paired_interval(diff)
            if mean == 0 or (np.isfinite(low) and low <= 0 <= high):
                keep.append(k)
        rows = [{**as_mix(self.names, k), "cost": self.tried[k]["cost"],
                 "attainment": self.tried[k]["attainment"], "n": self.tried[k]["n"]}
                for k in keep]
        return pd.DataFrame(rows).sort_values("cost", kind="stable").reset_index(drop=True)

    def _frame(self, k: tuple) -> pd.DataFrame:
        return self.runs.outcomes([dict(zip(self.names, k, strict=True))], self.tried[k]["n"])[0]

    def result(self, payer: str, targets: list[str]) -> CheapestMix:
        """The answer, with its notes (ties, flatness, what was not settled)."""
        table = self.table()
        answer, best = self.incumbent(), self.best()
        flat = self.flat()
        notes = self._notes(answer, best, flat)
        ties = self.ties(answer) if answer is not None else pd.DataFrame()
        if answer is not None and len(ties) > 1:
            notes.append(f"{len(ties) - 1} other qualifying mix(es) cost the same within the "
                         "noise (95 % paired interval of the difference contains zero): "
                         "see .ties")
        frontier = pareto_frontier(table, cost="cost", value="attainment")
        b = self.tried[best]
        common = dict(best_mix=as_mix(self.names, best),
                      best_attainment=Estimate(b["attainment"], b["lower"], b["upper"]),
                      flat=flat, settled=self._settled(answer), notes=notes,
                      evaluations=table, frontier=frontier, ties=ties, payer=payer,
                      basis=self.basis, probability=self.p, confidence=self.confidence,
                      targets=targets, runs_used=self.runs.runs)
        if answer is None:
            return CheapestMix(None, None, None, None, None, 0, **common)
        t = self.tried[answer]
        est = {x: Estimate(t[x], t[f"{x}_low"], t[f"{x}_high"]) for x in ("cost", "gross", "net")}
        return CheapestMix(as_mix(self.names, answer), est["cost"], est["gross"], est["net"],
                           Estimate(t["attainment"], t["lower"], t["upper"]), t["n"], **common)

    def _unsure_cheaper(self, answer: tuple | None) -> list[tuple]:
        """Uncertain mixes cheaper than the answer (all uncertain mixes when there is none)."""
        cap = math.inf if answer is None else self.tried[answer]["cost"]
        return [k for k, t in self.tried.items()
                if self.status(k) == "uncertain" and t["cost"] < cap]

    def _settled(self, answer: tuple | None) -> bool:
        """No mix cheaper than the answer is still uncertain, and the answer is confirmed."""
        confirmed = answer is None or self.tried[answer]["n"] >= self.max_reps
        return confirmed and not self._unsure_cheaper(answer)

    def _notes(self, answer, best, flat: bool) -> list[str]:
        notes = []
        if flat:
            values = {round(t["attainment"], 12) for t in self.tried.values()}
            notes.append("attainment is flat over the mixes tried: "
                         + (f"exactly {values.pop():.2f} at every one" if len(values) == 1
                            else "their bounds all overlap, so the levers do not move it "
                                 "measurably within the bounds")
                         + ("; the answer is simply the cheapest qualifying mix"
                            if answer is not None else ""))
        if answer is None:
            b = self.tried[best]
            notes.append(f"no mix within the bounds qualifies: the highest attainment reached "
                         f"is {b['attainment']:.2f} (bounds {b['lower']:.2f}-{b['upper']:.2f}, "
                         f"{b['n']} replications), short of {self.p:.2f}")
        if answer is not None and self.tried[answer]["n"] < self.max_reps:
            notes.append(f"the answer is NOT confirmed: it has {self.tried[answer]['n']} "
                         f"replications, not max_replications={self.max_reps}, because the runs "
                         "ran out")
        unsure = self._unsure_cheaper(answer)
        if unsure:
            at_max = sum(self.tried[k]["n"] >= self.max_reps for k in unsure)
            notes.append(
                f"NOT settled: {len(unsure)} mix(es) "
                + ("cheaper than the answer " if answer is not None else "")
                + f"may still qualify (uncertain); {at_max} of them at max_replications="
                f"{self.max_reps}, where their attainment is too close to {self.p:.2f} to tell"
                + (", the rest because the runs ran out" if at_max < len(unsure) else "")
                + " (see .evaluations, status 'uncertain')")
        if self.exhausted:
            notes.append(f"the search ran out of its max_runs={self.max_runs} before it had "
                         "settled every mix that matters and refined to its tolerance")
        return notes


def _neighbours(centre: np.ndarray, spacing: float) -> list[np.ndarray]:
    """Mixes around ``centre`` at ``spacing`` (unit coordinates): every combination of -1, 0,
    +1 steps for up to three levers, the steps along each lever beyond; moves along one lever
    first."""
    d = len(centre)
    if d <= 3:
        steps = [np.array(s) for s in itertools.product((-1, 0, 1), repeat=d) if any(s)]
    else:
        steps = [sign * np.eye(d)[i] for i in range(d) for sign in (-1, 1)]
    steps.sort(key=lambda s: int(np.abs(s).sum()))
    out = []
    for s in steps:
        u = np.clip(centre + spacing * s, 0.0, 1.0)
        if not np.allclose(u, centre):
            out.append(u)
    return out
