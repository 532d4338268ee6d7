"""Paired differences read the way the lever audit reports them: each target's change in
percentage points, each payer's cost change gross and net, and the cost per percentage point.

Both scenarios must have run on the same seed and number of replications (common random
numbers): replication ``r`` of one is compared with replication ``r`` of the other, and the
intervals are 95 % t-intervals of those paired differences
(:func:`~simcity_quality.results.statistics.paired_interval`). Cost is the one definition
(:func:`~simcity_quality.results.budget.cost`): spending over the whole horizon, ``gross``
(spending only) or ``net`` (less the fines and penalties collected), for ``city``,
``province`` or ``all``.

**Cost per percentage point** (:func:`cost_per_point`): for each target, the mean paired cost
difference (yuan) divided by the mean paired change of the target's KPI in percentage points
(a share times 100): ``mean(cost_b - cost_a) / mean(100 (kpi_b - kpi_a))``, the ratio of the
two means. It is NaN ("no effect") when the change's 95 % interval covers zero (or cannot be
computed): a ratio over a change not told from none would mean nothing. A negative value is a
saving per point gained, or a cost per point lost, read with the change's sign.
"""

import numpy as np
import pandas as pd

from ..targets import target_list
from .budget import cost
from .compare import differences
from .replications import Results
from .statistics import paired_interval

POINTS = 100.0  # a share of 1 is 100 percentage points
PAYERS = ("city", "province", "all")  # the city first: it pays for most levers
COST_BASES = ("gross", "net")
TARGET_COLUMNS = ["target", "target_section", "kpi", "threshold", "off_mean", "mean",
                  "off_share_met", "share_met", "change_points", "ci_low", "ci_high", "n",
                  "effect"]
COST_COLUMNS = ["payer", "basis", "off_mean", "mean", "difference", "ci_low", "ci_high", "n"]


def excludes_zero(low, high) -> np.ndarray:
    """Whether each interval ``[low, high]`` lies wholly above or below zero (NaN: no)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(low) & np.isfinite(high) & ((low > 0) | (high < 0))


def target_changes(reference: Results, other: Results) -> pd.DataFrame:
    """Every target's KPI in ``other`` minus ``reference``, paired by replication: one row per
    target (the scenario's thresholds), the means of both (a share), the shares of
    replications meeting it, and the change in percentage points with its 95 % interval and
    whether that interval excludes zero (``effect``). The numbers are those of
    :func:`~simcity_quality.results.compare.differences`, times 100."""
    diff = differences(reference, other).set_index("metric")
    met_ref = reference.targets.set_index("id")["share_met"]
    met = other.targets.set_index("id")["share_met"]
    rows = []
    for t in target_list(other.scenario.targets):
        if not t.modelled:
            continue
        d = diff.loc[t.kpi]
        rows.append({"target": t.id, "target_section": t.section, "kpi": t.kpi,
                     "threshold": t.threshold, "off_mean": d["reference_mean"],
                     "mean": d["scenario_mean"], "off_share_met": met_ref[t.id],
                     "share_met": met[t.id], "change_points": d["difference"] * POINTS,
                     "ci_low": d["ci_low"] * POINTS, "ci_high": d["ci_high"] * POINTS,
                     "n": int(d["n"])})
    out = pd.DataFrame(rows, columns=TARGET_COLUMNS[:-1])
    out["effect"] = excludes_zero(out["ci_low"], out["ci_high"])
    return out


def cost_changes(reference: Results, other: Results, payers=PAYERS,
                 bases=COST_BASES) -> pd.DataFrame:
    """Each payer's cost over the horizon in ``other`` minus ``reference`` (yuan), paired by
    replication: one row per payer and basis (``gross``, ``net``), the mean of each and the
    mean difference with its 95 % interval (:func:`~simcity_quality.results.budget.cost`,
    the one definition)."""
    rows = []
    for payer in payers:
        for basis in bases:
            a = cost(reference.budget, payer, basis)
            b = cost(other.budget, payer, basis)
            mean, low, high, n = paired_interval((b - a).to_numpy())
            rows.append({"payer": payer, "basis": basis, "off_mean": float(a.mean()),
                         "mean": float(b.mean()), "difference": mean, "ci_low": low,
                         "ci_high": high, "n": n})
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def cost_per_point(targets: pd.DataFrame, costs: pd.DataFrame,
                   by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Yuan per percentage point for every target and every payer and basis (module
    docstring): rows of ``targets`` (:func:`target_changes`) matched with rows of ``costs``
    (:func:`cost_changes`) on the columns ``by`` (for example ``("lever", "setting")``).

    Columns: ``by``, target, target_section, change_points, effect, payer, basis,
    cost_difference (yuan), yuan_per_point (NaN where ``effect`` is false).
    """
    by = list(by)
    t = targets[[*by, "target", "target_section", "change_points", "effect"]]
    c = costs[[*by, "payer", "basis", "difference"]].rename(
        columns={"difference": "cost_difference"})
    merged = t.merge(c, on=by, how="inner") if by else t.merge(c, how="cross")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = merged["cost_difference"] / merged["change_points"]
    merged["yuan_per_point"] = ratio.where(merged["effect"], np.nan)
    return merged.reset_index(drop=True)
