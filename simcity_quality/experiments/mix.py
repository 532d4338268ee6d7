"""The best mix of levers under a budget: differential evolution on CRN-averaged runs.

Each candidate mix is run on the same ``replications`` seeds (common random numbers), so the
search compares mixes, not luck. **Objectives** (``objective=``):

- ``"all"``: the probability that every target the plan quantifies is met in the same
  replication (with a 95 % Wilson interval);
- a target id or plan section (``"factory_pass_rate"``, ``"§2.2.1c"``): the probability that
  that target is met (Wilson interval);
- a KPI column (:data:`~simcity_quality.experiments.options.OBJECTIVE_KPIS`, e.g.
  ``"factory_pass_rate"`` is a target, ``"iso9001_share"`` a KPI): its mean at the end of the
  horizon (95 % t-interval).

**Cost** is the payer's (``payer="city"``, ``"province"`` or ``"all"``) ``cost="gross"``
spending or ``"net"`` cost after the fines and penalties it collects, the one definition of
:mod:`~simcity_quality.results.budget`; a mix whose expected cost exceeds ``budget`` is
penalised in proportion to the excess. The first generation holds the cheapest corner (every
lever at its low bound) and, with ``include_scenario``, the scenario's own mix.

**The answer** is the mix within the budget with the highest objective (exact ties: the
cheapest). Mixes whose objective lies inside the best's interval are *tied* with it; when every
mix tried within the budget is tied, the objective is *flat* over what was tried: the search
warns (:class:`~simcity_quality.errors.SimcityQualityWarning`) and returns the cheapest of them,
since the objective cannot tell them apart. Every evaluated mix is kept: the cost-versus-
objective frontier (Pareto set) comes from all of them. A generation of candidates is evaluated
at once, through the experiments executors.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution
from scipy.stats import qmc

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, SimcityQualityWarning, renamed
from ..results import display
from ..results.progress import progress_bar
from ..results.statistics import mean_interval, wilson_interval
from ..scenario import Scenario, load_scenario
from .designs import scaled
from .options import check_cost, check_levers, check_objective, typed
from .runs import MixRuns, as_mix


@dataclass(repr=False)
class MixResult:
    """What ``optimise_mix`` found. ``cost`` is on ``basis`` for ``payer`` (yuan over the
    horizon); ``gross`` and ``net`` are both bases (NaN from a stand-in evaluator that gives
    only ``cost``). ``tied`` lists the mixes within the budget whose objective lies inside the
    best's interval; ``flat`` is true when that is every mix tried within the budget."""

    best: dict  # lever -> value
    objective: float
    low: float  # interval of the objective (Wilson for probabilities, t for means)
    high: float
    cost: float  # expected cost of the best mix (yuan)
    runs_used: int
    evaluations: pd.DataFrame  # every mix tried
    frontier: pd.DataFrame  # the cost-versus-objective Pareto set
    flat: bool = False
    tied: pd.DataFrame = field(default_factory=pd.DataFrame)
    budget: float = np.nan
    objective_name: str = "all"
    payer: str = "city"
    basis: str = "gross"
    gross: float = np.nan
    net: float = np.nan
    notes: list[str] = field(default_factory=list)
    uncertainty: str = "noise"  # what the probabilities cover (results.uncertainty)
    drawn: int = 0  # [uncertain] parameters drawn in each replication

    def describe_uncertainty(self) -> str:
        """What the objective's probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        return describe_uncertainty(self.uncertainty, self.drawn)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(k, display.lever_value(k, v)) for k, v in self.best.items()]
        rows.append((f"objective ({self.objective_name})",
                     display.probability(self.objective, self.low, self.high, "95 %")))
        rows.append(("cost", display.money(self.cost, self.payer, self.basis)))
        other = "net" if self.basis == "gross" else "gross"
        if np.isfinite(getattr(self, other)):
            rows.append((f"{other} cost", display.money(getattr(self, other), self.payer,
                                                        other)))
        rows.append(("budget", display.money(self.budget, self.payer, self.basis)))
        rows.append(("runs", f"{len(self.evaluations)} mixes tried, {self.runs_used} runs; "
                             f"{len(self.tied)} tied with the best"))
        return rows

    def _title(self) -> str:
        return f"Best mix within the budget, maximising {self.objective_name}"

    def __repr__(self) -> str:
        return display.text_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])

    def _repr_html_(self) -> str:
        return display.html_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])


def pareto_frontier(table: pd.DataFrame, cost: str = "cost",
                    value: str = "objective") -> pd.DataFrame:
    """Rows not dominated by a cheaper-or-equal row with a higher-or-equal value."""
    t = table.sort_values([cost, value], ascending=[True, False])
    best = -np.inf
    keep = []
    for idx, row in t.iterrows():
        if row[value] > best:
            keep.append(idx)
            best = row[value]
    return t.loc[keep].reset_index(drop=True)


def _model_evaluator(chosen, replications: int, runs: MixRuns):
    """Mixes -> objective with its interval, and gross, net and chosen cost, on the model."""
    names = runs.levers

    def evaluate(points: pd.DataFrame) -> pd.DataFrame:
        mixes = [dict(zip(names, row, strict=True)) for row in points[names].to_numpy()]
        rows = []
        for f in runs.outcomes(mixes, replications):
            if chosen is None:  # a KPI mean
                obj, low, high = mean_interval(f["value"].to_numpy(dtype=float))
            else:
                met, n = int(f["met"].sum()), len(f)
                lo, hi = wilson_interval(met, n)
                obj, low, high = met / n, float(lo), float(hi)
            rows.append({"objective": obj, "low": low, "high": high,
                         "gross": float(f["gross"].mean()), "net": float(f["net"].mean())})
        return pd.DataFrame(rows)

    return evaluate


@renamed(firms="resolution")
def optimise_mix(scenario: Scenario | str, levers: dict[str, tuple[float, float]],
                 budget: float, objective: str = "all", replications: int = 10,
                 max_runs: int = 2000, seed: int = 0, resolution: int | None = None,
                 payer: str = "city", cost: str = "gross", executor: str = "serial",
                 penalty: float = 2.0, evaluator=None, include_scenario: bool = True,
                 progress=True, uncertainty: str = "noise", **sweep_args) -> MixResult:
    """Best mix of ``levers`` (dotted key -> (low, high)) whose expected cost to ``payer`` on
    ``cost`` basis stays within ``budget`` yuan over the horizon, within ``max_runs`` model
    runs (module docstring: objectives, cost, ties and flatness).

    Args:
        objective: ``"all"``, a target id or section, or a KPI column; refused at once if
            unknown, with the valid names listed.
        payer, cost: ``"city"`` / ``"province"`` / ``"all"``; ``"gross"`` or ``"net"``.
        resolution: how many of the city's firms are simulated (money for the whole city).
        evaluator: (tests, custom models) maps a DataFrame of mixes to columns ``objective,
            low, high, cost`` (and optionally ``gross``, ``net``); by default the model is run
            through the sweep executors.
        include_scenario: the scenario's own mix (clipped to the bounds) is in the first
            generation, so on the same random numbers the answer is never worse than the
            scenario as written when that mix is within the budget.
        progress: a progress bar of the runs (``False``: silent).
        uncertainty: ``"noise"``, or ``"parameters"``: every replication also draws the
            [uncertain] parameters (the levers apart) from their priors, the same draws for
            every mix. A stand-in ``evaluator`` takes mixes only and cannot draw them, so it
            is refused with ``"parameters"``.
        sweep_args: ``workers``, ``scheduler``, ``security``, ``batch_size`` for the executor.
    """
    from ..results.uncertainty import check_uncertainty, drawn_keys

    uncertainty = check_uncertainty(uncertainty)
    if evaluator is not None and uncertainty == "parameters":
        raise SimcityQualityError(
            "optimise_mix: a stand-in evaluator maps mixes to an objective and cannot draw "
            "the [uncertain] parameters, so uncertainty='parameters' needs the model (no "
            "evaluator); cheapest_mix and minimum_level pass the draws to theirs.")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before anything runs
    bounds_by_key = check_levers(sc, levers)
    payer, cost = check_cost(payer, cost)
    chosen = check_objective(sc, objective)
    names = list(bounds_by_key)
    bounds = list(bounds_by_key.values())
    allowed = max_runs // max(1, replications) if evaluator is None else max_runs
    generation = _generation(allowed, len(names), max_runs, replications)
    with progress_bar(progress, total=max_runs, desc="optimise_mix") as bar:
        if evaluator is None:
            workers = sweep_args.pop("workers", None)
            runs = MixRuns(sc, names, chosen or [], payer, seed, resolution, bar, executor, workers,
                           value=None if chosen is not None else objective,
                           uncertainty=uncertainty, **sweep_args)
            evaluate = _model_evaluator(chosen, replications, runs)
        else:
            evaluate = evaluator
        seen = _differential_evolution(sc, names, bounds, evaluate, budget, cost, penalty,
                                       generation, allowed // generation - 1, seed,
                                       include_scenario, bar if evaluator is not None else None)
    table = pd.concat(seen, ignore_index=True)
    res = _answer(table, names, budget, objective, payer, cost,
                  runs_used=len(table) * (replications if evaluator is None else 1),
                  digits=".2f" if chosen is not None else ".3g")
    res.uncertainty = uncertainty
    res.drawn = len(drawn_keys(sc, names)) if uncertainty == "parameters" else 0
    return res


def _generation(allowed: int, d: int, max_runs: int, replications: int) -> int:
    """Mixes per generation: every mix costs ``replications`` runs; aim for at least four
    generations."""
    popsize = max(4, min(15, allowed // (4 * d)))
    generation = max(5, popsize * d)  # scipy's population is at least 5
    if allowed < generation:
        raise SimcityQualityError(f"max_runs={max_runs} allows {allowed} mixes at "
                                  f"{replications} replications; one generation needs "
                                  f"{generation}")
    return generation


def _first_generation(sc: Scenario, names, bounds, size: int, seed: int,
                      include_scenario: bool) -> np.ndarray:
    """A Latin hypercube of ``size`` mixes with the cheapest corner (every lever at its low
    bound) and, if asked, the scenario's own mix (clipped) in place of its first members."""
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    pop = scaled(qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(size),
                 lo, hi)
    pop[0] = lo
    if include_scenario:
        pop[1] = np.clip([float(sc.get(k)) for k in names], lo, hi)
    return pop


def _differential_evolution(sc, names, bounds, evaluate, budget, basis, penalty, generation,
                            maxiter, seed, include_scenario, bar) -> list[pd.DataFrame]:
    """Run scipy's differential evolution on whole generations; return every mix evaluated."""
    seen: list[pd.DataFrame] = []

    def f(x):  # x: (d, S), one column per candidate of the generation
        pts = pd.DataFrame(x.T, columns=names)
        for k in names:
            pts[k] = [typed(sc, k, v) for v in pts[k]]
        got = evaluate(pts).reset_index(drop=True)
        if "cost" not in got:
            got["cost"] = got[basis]
        if bar is not None:
            bar.update(len(pts))
        seen.append(pd.concat([pts.reset_index(drop=True), got], axis=1))
        excess = np.maximum(0.0, got["cost"].to_numpy() - budget) / max(abs(budget), 1.0)
        return -got["objective"].to_numpy() + penalty * excess

    init = _first_generation(sc, names, bounds, generation, seed, include_scenario)
    differential_evolution(f, bounds, vectorized=True, updating="deferred", maxiter=maxiter,
                           seed=seed, polish=False, tol=0, init=init)
    return seen


def _answer(table: pd.DataFrame, names, budget, objective, payer, basis, runs_used: int,
            digits: str = ".3g") -> MixResult:
    """The best mix within the budget, its ties, and whether the objective was flat
    (``digits``: how objective values read in the notes)."""
    within = table[table["cost"] <= budget]
    if within.empty:
        raise SimcityQualityError(
            f"no mix tried stays within the budget of {display.money(budget, payer, basis)}; "
            f"the cheapest tried costs {display.money(table['cost'].min(), payer, basis)}.")
    ranked = within.sort_values(["objective", "cost"], ascending=[False, True], kind="stable")
    top = ranked.iloc[0]
    tied = ranked[ranked["objective"] >= top["low"]].sort_values("cost", kind="stable")
    flat = len(tied) == len(within)
    notes = []
    best = top
    if flat:
        best = tied.iloc[0]
        values = within["objective"].unique()
        what = (f"every one of the {len(within)} mixes tried within the budget scored "
                f"{values[0]:{digits}}" if len(values) == 1 else
                f"all {len(within)} mixes tried within the budget score within the best's "
                f"interval ({top['low']:{digits}}-{top['high']:{digits}})")
        notes.append(f"the objective is flat over what was tried: {what}; returning the "
                     "cheapest of them (more replications, other levers or another objective "
                     "would tell them apart)")
        warnings.warn(f"optimise_mix: {notes[-1]}.", SimcityQualityWarning, stacklevel=3)
    elif tied["cost"].iloc[0] < top["cost"]:
        cheaper = tied.iloc[0]
        notes.append(f"{len(tied) - 1} other mix(es) score within the best's interval; the "
                     f"cheapest of them costs {display.money(cheaper['cost'], payer, basis)} "
                     f"with objective {cheaper['objective']:{digits}} (see .tied)")
    gross = float(best["gross"]) if "gross" in best else np.nan
    net = float(best["net"]) if "net" in best else np.nan
    return MixResult(as_mix(names, [best[k] for k in names]), float(best["objective"]),
                     float(best["low"]), float(best["high"]), float(best["cost"]), runs_used,
                     table, pareto_frontier(table), flat=flat, tied=tied.reset_index(drop=True),
                     budget=float(budget), objective_name=objective, payer=payer, basis=basis,
                     gross=gross, net=net, notes=notes)
