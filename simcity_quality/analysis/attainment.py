"""Attainment: how likely each 2012 target is met, with honest (Wilson) intervals."""

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..results.statistics import wilson_interval
from ..targets import Target, target_list


def _finals_and_targets(results, targets) -> tuple[pd.DataFrame, list[Target], list[str]]:
    """Normalise the accepted inputs to (finals table, targets, grouping columns)."""
    from ..experiments.reading import ExperimentResults
    from ..results import Comparison, Results

    if isinstance(results, Results):
        return results.final, targets or target_list(results.scenario.targets), []
    if isinstance(results, Comparison):
        frames = [r.final.assign(scenario=r.name) for r in results.results]
        return (pd.concat(frames, ignore_index=True),
                targets or target_list(results.reference.scenario.targets), ["scenario"])
    if isinstance(results, ExperimentResults):
        overrides = results.manifest.get("scenario", {}).get("targets", {})
        return results.finals, targets or target_list(overrides), ["point"]
    if isinstance(results, pd.DataFrame):
        return results, targets or target_list(), []
    raise SimcityQualityError(f"attainment needs Results, a Comparison, stored results or a "
                              f"DataFrame of finals, got {type(results).__name__}")


def uncertainty_of(results, stated: str | None = None) -> str:
    """Which kind of probability ``results`` hold: ``"noise"`` or ``"parameters"``, read from
    the result (``sq.run``, ``sq.compare``, a sweep's store); for a plain DataFrame of finals
    the caller's ``stated`` kind, else ``"unstated"``."""
    from ..results.uncertainty import check_uncertainty

    kind = getattr(results, "uncertainty", None)
    if kind is None:
        return check_uncertainty(stated) if stated is not None else "unstated"
    if stated is not None and stated != kind:
        raise SimcityQualityError(f"these results hold probabilities with uncertainty="
                                  f"{kind!r}; uncertainty={stated!r} cannot relabel them.")
    return kind


def attainment(results, targets: list[Target] | None = None, by: list[str] | None = None,
               level: float = 0.95, uncertainty: str | None = None) -> pd.DataFrame:
    """Probability that each target is met at the end of the horizon, with a Wilson interval.

    ``results``: ``sq.run`` Results, a Comparison (grouped by scenario), stored sweep results
    (grouped by design point), or a DataFrame of finals (one row per replication; ``by`` names
    its grouping columns). Only modelled targets are scored; the row ``all_quantified`` is the
    probability that every target the plan quantifies is met in the same replication.

    The column ``uncertainty`` states what each probability covers, read from the results:
    ``"noise"`` (the model's noise, the [uncertain] parameters at the scenario's values) or
    ``"parameters"`` (noise and the parameters drawn from their priors); for a DataFrame of
    finals, the ``uncertainty`` given, else ``"unstated"``.
    """
    kind = uncertainty_of(results, uncertainty)
    finals, tlist, default_by = _finals_and_targets(results, targets)
    by = list(by) if by is not None else default_by
    tlist = [t for t in tlist if t.modelled]
    missing = [t.kpi for t in tlist if t.kpi not in finals]
    if missing:
        raise SimcityQualityError(f"the results have no column for {missing}")
    rows = []
    groups = finals.groupby(by, sort=True) if by else [((), finals)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        met_all = np.ones(len(g), dtype=bool)
        for t in tlist:
            values = g[t.kpi].to_numpy(dtype=float)
            met = np.array([t.met(v) for v in values], dtype=bool)
            if t.quantified_in_plan:
                met_all &= met
            rows.append((*key, t.id, t.section, t.threshold, t.quantified_in_plan,
                         np.nanmean(values) if np.isfinite(values).any() else np.nan,
                         len(g), int(met.sum())))
        rows.append((*key, "all_quantified", "§2.2", np.nan, True, np.nan, len(g),
                     int(met_all.sum())))
    out = pd.DataFrame(rows, columns=[*by, "target", "section", "threshold",
                                      "quantified_in_plan", "mean", "n", "met"])
    out["probability"] = out["met"] / out["n"]
    out["low"], out["high"] = wilson_interval(out["met"], out["n"], level)
    out["uncertainty"] = kind
    return out


def replications_needed(results, width: float = 0.1, level: float = 0.95,
                        max_replications: int = 100_000) -> pd.DataFrame:
    """Replications that would make each target's attainment interval narrower than ``width``.

    Uses the observed probability (a pilot run's); where it is 0 or 1 the Wilson width at
    that proportion is used, which shrinks quickly. Returns one row per target (and group).
    """
    if not 0 < width < 1:
        raise SimcityQualityError(f"width must be between 0 and 1, got {width}")
    table = attainment(results, level=level)
    need = []
    for p in table["probability"].to_numpy():
        lo, hi = 1, max_replications
        if _width(p, hi, level) > width:
            need.append(np.nan)
            continue
        while lo < hi:  # the Wilson width falls as n grows
            mid = (lo + hi) // 2
            if _width(p, mid, level) <= width:
                hi = mid
            else:
                lo = mid + 1
        need.append(lo)
    out = table.drop(columns=["low", "high"]).copy()
    out["current_width"] = table["high"] - table["low"]
    out["replications_needed"] = need
    return out


def _width(p: float, n: int, level: float) -> float:
    lo, hi = wilson_interval(p * n, n, level)
    return float(hi - lo)
