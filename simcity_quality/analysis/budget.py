"""Budget impact: spending by payer and line, per year and cumulative, with intervals; the
reform-minus-baseline difference paired by replication; cost per percentage point gained.

Sign convention (the ledger's, everywhere): spending positive, revenue (fines, penalties)
negative. A difference is reform minus baseline: positive means the reform costs more. Totals
are sums of lines, so the components add up to the total by construction.
"""

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..results import Results
from ..results.budget import cost as net_cost
from ..results.budget import line_totals
from ..results.statistics import paired_interval


def _cumulate(budget: pd.DataFrame) -> pd.DataFrame:
    b = budget.sort_values(["replication", "payer", "line", "year"]).copy()
    b["yuan"] = b.groupby(["replication", "payer", "line"])["yuan"].cumsum()
    return b


def budget_summary(res: Results, cumulative: bool = False, level: float = 0.95) -> pd.DataFrame:
    """Mean spending per year, payer and line across replications, with a t-interval (yuan).

    ``cumulative=True`` gives spending from the base year to the end of each year.
    """
    b = line_totals(res.budget, by=("replication", "year"))
    if cumulative:
        b = _cumulate(b)
    rows = []
    for (year, payer, line), g in b.groupby(["year", "payer", "line"], sort=True):
        # an interval of the mean: the same formula as a paired difference against zero
        mean, lo, hi, n = paired_interval(g["yuan"].to_numpy(), level)
        rows.append((year, payer, line, mean, lo, hi, n))
    return pd.DataFrame(rows, columns=["year", "payer", "line", "mean", "low", "high", "n"])


def _check_paired(reform: Results, baseline: Results) -> None:
    if reform.seed != baseline.seed or len(reform.final) != len(baseline.final):
        raise SimcityQualityError(
            "a paired difference needs both scenarios run with the same seed and number of "
            f"replications (got seeds {reform.seed} and {baseline.seed}, "
            f"{len(reform.final)} and {len(baseline.final)} replications)")


def budget_difference(reform: Results, baseline: Results, cumulative: bool = True,
                      level: float = 0.95) -> pd.DataFrame:
    """Reform minus baseline spending per year, payer and line, paired by replication (yuan).

    Positive: the reform spends more (or collects less). Intervals are t-intervals of the
    paired differences.
    """
    _check_paired(reform, baseline)
    by = ("replication", "year")
    a, b = line_totals(reform.budget, by), line_totals(baseline.budget, by)
    if cumulative:
        a, b = _cumulate(a), _cumulate(b)
    keys = ["replication", "year", "payer", "line"]
    merged = a.merge(b, on=keys, how="outer", suffixes=("_reform", "_baseline")).fillna(0.0)
    merged["diff"] = merged["yuan_reform"] - merged["yuan_baseline"]
    rows = []
    for (year, payer, line), g in merged.groupby(["year", "payer", "line"], sort=True):
        mean, lo, hi, n = paired_interval(g["diff"].to_numpy(), level)
        rows.append((year, payer, line, g["yuan_reform"].mean(), g["yuan_baseline"].mean(),
                     mean, lo, hi, n))
    return pd.DataFrame(rows, columns=["year", "payer", "line", "reform", "baseline",
                                       "difference", "low", "high", "n"])


def cost_per_point(reform: Results, baseline: Results, kpis: list[str] | None = None,
                   payer: str = "all") -> pd.DataFrame:
    """Extra spending (yuan, over the horizon) per percentage point of each KPI gained.

    Ratio of the mean paired cost difference to the mean paired KPI gain (in points of a
    share); ``gain_interval_excludes_zero`` says whether the gain is distinguishable from none
    (where it is not, the ratio means little).
    """
    _check_paired(reform, baseline)
    if kpis is None:
        kpis = [t.kpi for t in reform.targets.itertuples() if t.modelled and t.kpi]
    cost = (net_cost(reform.budget, payer) - net_cost(baseline.budget, payer)).to_numpy()
    c_mean = paired_interval(cost)[0]
    rows = []
    for kpi in kpis:
        gain = (reform.final[kpi] - baseline.final[kpi]).to_numpy(dtype=float) * 100
        g_mean, g_lo, g_hi, n = paired_interval(gain)
        excludes = bool(np.isfinite(g_lo) and (g_lo > 0 or g_hi < 0))
        ratio = c_mean / g_mean if g_mean and np.isfinite(g_mean) else np.nan
        rows.append((kpi, g_mean, g_lo, g_hi, c_mean, ratio, excludes, n))
    return pd.DataFrame(rows, columns=["kpi", "gain_points", "gain_low", "gain_high",
                                       "extra_cost_yuan", "yuan_per_point",
                                       "gain_interval_excludes_zero", "n"])


def paired_cost(reform: Results, baseline: Results, level: float = 0.95) -> pd.DataFrame:
    """Reform minus baseline spending over the whole horizon, paired by replication (yuan):
    every payer's lines, then each payer's ``gross`` (spending only), ``revenue`` (fines and
    penalties, negative) and net ``total``, and the same three for payer ``all``.

    One row per payer and line: the mean of each scenario, the mean paired difference and its
    t-interval. Lines neither scenario books on (zero in every replication of both) are left
    out. The bases come from :func:`~simcity_quality.results.budget.line_totals`, the one
    definition of cost, so lines add up to the totals.
    """
    _check_paired(reform, baseline)
    bases = ("total", "gross", "revenue")
    a = line_totals(reform.budget, bases=bases)
    b = line_totals(baseline.budget, bases=bases)
    keys = ["replication", "payer", "line"]
    merged = a.merge(b, on=keys, how="outer", suffixes=("_reform", "_baseline")).fillna(0.0)
    merged["diff"] = merged["yuan_reform"] - merged["yuan_baseline"]
    rows = []
    for (payer, line), g in merged.groupby(["payer", "line"], sort=False):
        unused = (g["yuan_reform"] == 0).all() and (g["yuan_baseline"] == 0).all()
        if unused and line not in bases:
            continue
        mean, lo, hi, n = paired_interval(g["diff"].to_numpy(), level)
        rows.append((payer, line, g["yuan_reform"].mean(), g["yuan_baseline"].mean(), mean,
                     lo, hi, n))
    return pd.DataFrame(rows, columns=["payer", "line", "reform", "baseline", "difference",
                                       "low", "high", "n"])
