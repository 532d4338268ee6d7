"""Statistics of replicated runs, in one place: paired t-intervals and t-intervals of a mean,
Wilson intervals and one-sided Wilson bounds for probabilities, Holm's correction, and the
two-sample comparison of engine and reference."""

import math

import numpy as np
from scipy import stats

from ..errors import SimcityQualityError


def paired_interval(diff: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of paired differences with its t-interval: (mean, low, high, n). NaNs are dropped."""
    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(d.mean())
    if n == 1:
        return (mean, np.nan, np.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def wilson_interval(successes, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (works at 0 and n successes); ``level``
    is the confidence level, a share strictly between 0 and 1 (0.95, not 95)."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise SimcityQualityError(f"level must be a confidence level strictly between 0 and 1 "
                                  f"(0.95 for 95 %), got {level!r}.")
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(successes == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(successes == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def wilson_bounds(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Wilson score bounds at ``confidence``: ``(lower, upper)``.

    ``lower`` is the bound the true probability exceeds with ``confidence`` (and ``upper`` the
    one it stays below); together they form the two-sided interval at ``2 * confidence - 1``
    (90 % for the default 95 %). The searches call a mix qualified for a required probability
    ``q`` when ``lower >= q``, and clearly short of it when ``upper < q``.
    """
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be between 0.5 and 1, got {confidence}")
    return wilson_interval(successes, n, level=2 * confidence - 1)


def mean_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` with its Student t-interval: ``(mean, low, high)``; NaNs are
    dropped. One finite value gives an interval of NaN (no spread to estimate), identical
    values an interval of zero width."""
    mean, low, high, _ = paired_interval(values, level)
    return mean, low, high


def holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone)."""
    order = sorted(range(len(pvalues)), key=pvalues.__getitem__)
    adjusted, running = [1.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def compare_samples(engine: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                    alpha: float = 0.01, max_se: float = 3.0) -> list[dict]:
    """Per column: means, the difference in standard errors (of the difference), the
    two-sample KS p-value, its Holm-adjusted value across the finite columns, and a verdict.

    A column is compared only where both samples are finite in every replication.
    """
    rows = []
    for k in engine:
        a, b = engine[k], reference[k]
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            rows.append({"kpi": k, "engine_mean": np.nanmean(a) if np.isfinite(a).any()
                         else np.nan, "reference_mean": np.nanmean(b) if np.isfinite(b).any()
                         else np.nan, "diff_se": np.nan, "ks_p": np.nan, "holm_p": np.nan,
                         "ok": None})
            continue
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        diff = b.mean() - a.mean()
        z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
        ks_p = 1.0 if (a.min() == a.max() == b.min() == b.max()) else stats.ks_2samp(a, b).pvalue
        rows.append({"kpi": k, "engine_mean": a.mean(), "reference_mean": b.mean(),
                     "diff_se": z, "ks_p": float(ks_p)})
    finite = [r for r in rows if "ok" not in r]
    for r, adj in zip(finite, holm([r["ks_p"] for r in finite]), strict=True):
        r["holm_p"] = adj
        # a Python bool: callers count failures with ``is False`` (numpy's bool is not False)
        r["ok"] = bool(abs(r["diff_se"]) <= max_se and adj >= alpha)
    return rows
