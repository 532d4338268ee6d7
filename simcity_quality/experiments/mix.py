"""The best mix of levers under a budget: differential evolution on CRN-averaged runs.

Each candidate mix is run on the same ``replications`` seeds (common random numbers), so the
search compares mixes, not luck. The objective is the probability that every chosen target is
met (``objective="all"``), one target's probability (its id), or a KPI's mean (its column). A
mix whose expected spending exceeds ``budget`` is penalised in proportion to the excess. Every
evaluated mix is kept: the cost-versus-objective frontier (Pareto set) comes from all of them.
A generation of candidates is evaluated at once, through the experiments executors.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results.statistics import wilson_interval
from ..scenario import Scenario, load_scenario
from ..targets import target_list
from .sensitivity import run_points


@dataclass
class MixResult:
    """What ``optimise_mix`` found."""

    best: dict  # lever -> value
    objective: float
    low: float  # interval of the objective (Wilson for probabilities, t for means)
    high: float
    cost: float  # expected spending of the best mix (yuan)
    runs_used: int
    evaluations: pd.DataFrame = field(repr=False)  # every mix tried
    frontier: pd.DataFrame = field(repr=False)  # the cost-versus-objective Pareto set


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


def _model_evaluator(sc: Scenario, objective: str, replications: int, seed: int,
                     resolution: int | None, executor: str, payer: str, **sweep_args):
    tlist = {t.id: t for t in target_list(sc.targets) if t.modelled}
    if objective == "all":
        chosen = [t for t in tlist.values() if t.quantified_in_plan]
    elif objective in tlist:
        chosen = [tlist[objective]]
    else:
        chosen = None  # a KPI mean
    cost_col = {"all": "all:total", "city": "city:total", "province": "province:total"}[payer]

    def evaluate(points: pd.DataFrame) -> pd.DataFrame:
        f = run_points(sc, points, replications, seed, resolution, executor, **sweep_args)
        if chosen is None:
            if objective not in f:
                raise SimcityQualityError(f"unknown objective {objective!r}")
            g = f.groupby("point")
            out = pd.DataFrame({"objective": g[objective].mean(),
                                "sd": g[objective].std(ddof=1), "n": g.size()})
            half = 1.96 * out["sd"] / np.sqrt(out["n"])
            out["low"], out["high"] = out["objective"] - half, out["objective"] + half
        else:
            met = np.ones(len(f), dtype=bool)
            for t in chosen:
                met &= np.array([t.met(v) for v in f[t.kpi]], dtype=bool)
            g = f.assign(_met=met).groupby("point")
            out = pd.DataFrame({"met": g["_met"].sum(), "n": g.size()})
            out["objective"] = out["met"] / out["n"]
            out["low"], out["high"] = wilson_interval(out["met"], out["n"])
        out["cost"] = f.groupby("point")[cost_col].mean()
        return out.reindex(range(len(points)))[["objective", "low", "high", "cost"]]

    return evaluate


@renamed(firms="resolution")
def optimise_mix(scenario: Scenario | str, levers: dict[str, tuple[float, float]],
                 budget: float, objective: str = "all", replications: int = 10,
                 max_runs: int = 2000, seed: int = 0, resolution: int | None = None,
                 payer: str = "all", executor: str = "serial", penalty: float = 2.0,
                 evaluator=None, include_scenario: bool = True, **sweep_args) -> MixResult:
    """Best mix of ``levers`` (dotted key -> (low, high)) whose expected spending by ``payer``
    stays within ``budget`` yuan over the horizon, within ``max_runs`` model runs.

    ``evaluator`` (for tests and custom models) maps a DataFrame of mixes to columns
    ``objective, low, high, cost``; by default the model is run through the sweep executors.
    With ``include_scenario`` (the default) the scenario's own mix (its values of ``levers``,
    clipped to the bounds) is one of the first generation, so on the same random numbers the
    answer is never worse than the scenario as written when that mix is within the budget.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)
    if not levers:
        raise SimcityQualityError("optimise_mix needs at least one lever with bounds")
    if payer not in ("all", "city", "province"):
        raise SimcityQualityError(f"payer must be all, city or province, got {payer!r}")
    names = list(levers)
    bounds = [tuple(map(float, levers[k])) for k in names]
    evaluate = evaluator or _model_evaluator(sc, objective, replications, seed, resolution,
                                             executor, payer, **sweep_args)
    d = len(names)
    # every mix costs `replications` runs; aim for at least four generations
    allowed = max_runs // max(1, replications) if evaluator is None else max_runs
    popsize = max(4, min(15, allowed // (4 * d)))
    generation = max(5, popsize * d)  # scipy's population is at least 5
    if allowed < generation:
        raise SimcityQualityError(f"max_runs={max_runs} allows {allowed} mixes at "
                                  f"{replications} replications; one generation needs "
                                  f"{generation}")
    maxiter = allowed // generation - 1
    seen: list[pd.DataFrame] = []

    def f(x):  # x: (d, S), one column per candidate of the generation
        pts = pd.DataFrame(x.T, columns=names)
        for k in names:
            if isinstance(sc.get(k), int):
                pts[k] = np.round(pts[k]).astype(int)
        got = evaluate(pts)
        seen.append(pd.concat([pts.reset_index(drop=True), got.reset_index(drop=True)],
                              axis=1))
        excess = np.maximum(0.0, got["cost"].to_numpy() - budget) / max(abs(budget), 1.0)
        return -got["objective"].to_numpy() + penalty * excess

    # the scenario's own mix replaces one member of the first generation (scipy's x0)
    x0 = np.array([min(max(float(sc.get(k)), lo), hi) for k, (lo, hi) in zip(names, bounds,
                                                                              strict=True)])
    differential_evolution(f, bounds, vectorized=True, updating="deferred", popsize=popsize,
                           maxiter=maxiter, seed=seed, polish=False, tol=0,
                           init="latinhypercube", x0=x0 if include_scenario else None)
    table = pd.concat(seen, ignore_index=True)
    within = table[table["cost"] <= budget]
    if within.empty:
        raise SimcityQualityError(f"no mix tried stays within the budget of {budget:,.0f} yuan; "
                                  f"the cheapest cost {table['cost'].min():,.0f}")
    best = within.sort_values(["objective", "cost"], ascending=[False, True]).iloc[0]
    return MixResult({k: best[k] for k in names}, float(best["objective"]), float(best["low"]),
                     float(best["high"]), float(best["cost"]),
                     runs_used=len(table) * (replications if evaluator is None else 1),
                     evaluations=table, frontier=pareto_frontier(table))
