"""Calibration: fit the base-year state and behavioural parameters to observed statistics.

``calibrate(scenario, observed, parameters)`` is a method of simulated moments. Each observed
statistic (a *moment*: a statistic at a year, its change between two years, or a COD index
between two years) is simulated with ``replications`` runs that share their seeds at every
parameter value (common random numbers), so the objective is a smooth-ish function of the
parameters rather than of the noise. The weighted residuals ``(simulated - observed) / s``,
with ``s^2`` the observation's variance plus the simulation variance of the mean at the
starting point, are minimised by ``scipy.optimize.least_squares`` inside the search ranges.

Uncertainty comes from the Jacobian of the moments at the estimate (central differences on
common random numbers): the sandwich ``(J'WJ)^-1 J'W S W J (J'WJ)^-1``, where ``S`` is the
observation variance plus the simulation covariance of the averaged moments. Directions of
the parameter space along which the weighted moments hardly move (less than
``flat_threshold`` standard errors across the whole search range) are reported as what the
data cannot pin down; the parameters in them get no standard error, only their search range.

``load_observed(path)`` reads the same inputs from a TOML file (``scenarios/observed/``);
``result.write_scenario(path)`` writes a scenario that ``extends`` the calibrated one, with the
fitted values, their uncertainty as ``[uncertain]`` ranges, and the data cited in comments.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from ..engine.resolution import check_resolution
from ..errors import renamed
from ..results.progress import progress_bar
from ..results.replications import check_seed
from ..scenario import Scenario, flatten, load_scenario
from .moments import _mean_se, _Simulator
from .observed import CalibrationError, check_parameters, parse_observed
from .result import CalibrationResult, _rounded

# ---------------------------------------------------------------------------------------
# calibrate


@renamed(firms="resolution")
def calibrate(scenario: Scenario | str | Path, observed: dict, parameters: dict,
              resolution: int | None = None, replications: int = 20, seed: int = 0,
              start: dict | None = None, executor: str = "serial", workers: int | None = None,
              max_evaluations: int = 40, flat_threshold: float = 1.0,
              correlation_threshold: float = 0.9, progress=True) -> CalibrationResult:
    """Fit ``parameters`` (dotted key -> (low, high)) so simulated statistics match ``observed``.

    Args:
        scenario: the scenario to calibrate (a :class:`Scenario` or a TOML path).
        observed: ``{"statistic@period": value or {"value", "se" or "n", "tolerance",
            "series", "source", "note"}}``; statistics in :data:`STATISTICS`; a period is a year
            or ``"Y1-Y2"`` (a change of a share, or a COD index Y2/Y1) within the run.
        parameters: continuous scenario parameters and their search ranges.
        resolution, replications, seed: the size of each simulation; every parameter value runs the
            same ``replications`` seeds (common random numbers).
        start: starting values (default: the scenario's own, moved into the range).
        executor, workers: how the runs of one batch of parameter values are spread
            (``"serial"``, ``"processes"``, ``"dask"``; the numbers do not depend on it).
        max_evaluations: cap on the optimiser's objective evaluations.
        flat_threshold: a direction of the parameters is flat (not identified) when moving
            across the whole search range changes the weighted moments by less than this
            many standard errors.
        correlation_threshold: identified pairs estimated with a correlation beyond it are
            named too.
        progress: a progress bar counting the model runs (``False``: silent); their number
            depends on how the fit goes, so the bar counts without a total.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before the bar and any run (raises SimcityQualityError)
    check_seed(seed)
    with progress_bar(progress, total=None, desc="calibrate") as bar:
        return _calibrate(sc, observed, parameters, resolution, replications, seed, start,
                          executor, workers, max_evaluations, flat_threshold,
                          correlation_threshold, bar)


def _calibrate(scenario, observed, parameters, resolution, replications, seed, start, executor,
               workers, max_evaluations, flat_threshold, correlation_threshold,
               bar) -> CalibrationResult:
    """:func:`calibrate`, with the progress bar ``bar`` advanced by every batch of runs."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 2:
        raise CalibrationError(f"replications must be a whole number >= 2 (the simulation "
                               f"variance needs two), got {replications!r}.")
    moments = parse_observed(observed, sc)
    base, ranges = check_parameters(sc, parameters)
    keys = list(ranges)
    lo = np.array([ranges[k][0] for k in keys])
    hi = np.array([ranges[k][1] for k in keys])
    span = hi - lo
    flat = flatten(sc.model_dump(exclude={"targets", "uncertain"}))
    start = dict(start or {})
    bad = set(start) - set(keys)
    if bad:
        raise CalibrationError(f"start: key(s) {sorted(bad)} are not among the parameters "
                               f"fitted ({keys}).")
    theta0 = np.array([float(start.get(k, flat[k])) for k in keys])
    if np.any((theta0 < lo) | (theta0 > hi)) and start:
        out = [k for k, t, a, b in zip(keys, theta0, lo, hi, strict=True) if not a <= t <= b]
        raise CalibrationError(f"start: the starting value of {out} lies outside its range.")
    x0 = np.clip((theta0 - lo) / span, 0.0, 1.0)
    obs = np.array([m.value for m in moments])
    obs_se = np.array([m.se for m in moments])

    sim = _Simulator(base, keys, moments, replications, seed, resolution, executor, workers, bar)

    def theta_of(x):
        return lo + np.clip(x, 0.0, 1.0) * span

    # weights fixed at the start, so the objective does not move under the optimiser's feet
    _, sim_se0 = _mean_se(sim([theta_of(x0)])[0], moments)
    scale = np.sqrt(obs_se ** 2 + sim_se0 ** 2)
    scale = np.where(scale > 0, scale, 1e-6)  # an exact observation of a noiseless statistic

    def residuals(x):
        mean, _ = _mean_se(sim([theta_of(x)])[0], moments)
        return (mean - obs) / scale

    step = 0.05  # in units of the search range: wide enough to step over CRN's small jumps

    def jacobian(x):
        pts = [x.copy() for _ in keys]
        signs = []
        for j, p in enumerate(pts):
            sgn = 1.0 if x[j] + step <= 1.0 else -1.0
            p[j] += sgn * step
            signs.append(sgn)
        vals = sim([theta_of(p) for p in [x, *pts]])
        f0 = _mean_se(vals[0], moments)[0]
        cols = [(_mean_se(v, moments)[0] - f0) / (s * step)
                for v, s in zip(vals[1:], signs, strict=True)]
        return np.column_stack(cols) / scale[:, None]

    fit = least_squares(residuals, x0, jac=jacobian, bounds=(0.0, 1.0), method="trf",
                        x_scale=1.0, max_nfev=max_evaluations, xtol=1e-3, ftol=1e-4)
    x_hat = fit.x
    theta_hat = theta_of(x_hat)

    # moments, simulation covariance and a central-difference Jacobian at the estimate
    reps_hat = sim([theta_hat])[0]
    mean_hat, se_hat = _mean_se(reps_hat, moments)
    # simulation variance of each averaged moment; their correlations are left out, since a
    # few replications estimate them too poorly (a spurious correlation would let the sandwich
    # below cancel noise that is really there)
    sim_cov = np.diag(se_hat ** 2)
    plus, minus = [], []
    for j in range(len(keys)):
        up, down = x_hat.copy(), x_hat.copy()
        up[j] = min(1.0, x_hat[j] + step)
        down[j] = max(0.0, x_hat[j] - step)
        plus.append(up)
        minus.append(down)
    vals = sim([theta_of(p) for p in plus + minus])
    cols = []
    for j in range(len(keys)):
        d = plus[j][j] - minus[j][j]
        cols.append((_mean_se(vals[j], moments)[0]
                     - _mean_se(vals[len(keys) + j], moments)[0]) / d)
    j_unit = np.column_stack(cols)  # d moment / d (share of the search range)

    w_half = 1.0 / scale
    js = j_unit * w_half[:, None]  # weighted: standard errors per whole range
    sigma = np.diag(obs_se ** 2) + sim_cov
    sigma_w = sigma * np.outer(w_half, w_half)
    a = js.T @ js
    eigval, eigvec = np.linalg.eigh(a)
    strength = np.sqrt(np.clip(eigval, 0.0, None))
    flat_dirs = [k for k in range(len(keys)) if strength[k] < flat_threshold]
    keep = [k for k in range(len(keys)) if k not in flat_dirs]
    a_pinv = sum((np.outer(eigvec[:, k], eigvec[:, k]) / eigval[k] for k in keep),
                 np.zeros_like(a))
    cov_unit = a_pinv @ js.T @ sigma_w @ js @ a_pinv
    unidentified_idx = sorted({j for k in flat_dirs for j in range(len(keys))
                               if abs(eigvec[j, k]) > 0.3})
    cov_nat = cov_unit * np.outer(span, span)
    se = np.sqrt(np.clip(np.diag(cov_nat), 0.0, None))
    identified = np.array([j not in unidentified_idx for j in range(len(keys))])
    # identified in principle, but the 95 % interval spans the whole search range: not pinned
    # the simulation variance is estimated from `replications` runs, so the interval takes a
    # Student t quantile (replications - 1 degrees of freedom; conservative where the data's
    # own variance dominates) instead of 1.96: with a normal quantile, recoveries at 6
    # replications put the truth more than 3 SE away far more often than 1 in 400
    quantile = float(stats.t.ppf(0.975, replications - 1))
    weak = identified & (2 * quantile * se >= span)
    identified &= ~weak
    ci_low = np.where(identified, np.maximum(lo, theta_hat - quantile * se), lo)
    ci_high = np.where(identified, np.minimum(hi, theta_hat + quantile * se), hi)
    # an estimate at the end of its range (within 2.5 % of it: a budget-limited search stops
    # short of the bound it heads for) is no interior optimum: the sandwich SE does not hold
    at_bound = ((theta_hat - lo <= 0.025 * span) | (hi - theta_hat <= 0.025 * span))
    se = np.where(identified, se, np.nan)

    estimates = pd.DataFrame({
        "parameter": keys, "low": lo, "high": hi, "start": theta0, "estimate": theta_hat,
        "se": se, "ci_low": ci_low, "ci_high": ci_high, "identified": identified,
    })
    fit_table = pd.DataFrame({
        "moment": [m.key for m in moments], "statistic": [m.statistic for m in moments],
        "period": [m.period for m in moments], "kind": [m.kind for m in moments],
        "observed": obs, "observed_se": obs_se, "simulated": mean_hat, "simulation_se": se_hat,
        "difference": mean_hat - obs,
        "tolerance": [np.nan if m.tolerance is None else m.tolerance for m in moments],
    })
    fit_table["within_tolerance"] = [
        (abs(d) <= t) if np.isfinite(t) else None
        for d, t in zip(fit_table["difference"], fit_table["tolerance"], strict=True)]
    ident_keys = [k for k, i in zip(keys, identified, strict=True) if i]
    idx = [keys.index(k) for k in ident_keys]
    cov_df = pd.DataFrame(cov_nat[np.ix_(idx, idx)], index=ident_keys, columns=ident_keys)
    sd = np.sqrt(np.clip(np.diag(cov_df.to_numpy()), 1e-300, None))
    corr_df = pd.DataFrame(cov_df.to_numpy() / np.outer(sd, sd), index=ident_keys,
                           columns=ident_keys)
    sensitivity = pd.DataFrame(js, index=[m.key for m in moments], columns=keys)

    words = _identification_words(keys, lo, hi, js, eigval, eigvec, flat_dirs, corr_df,
                                  flat_threshold, correlation_threshold, len(moments))
    words += [f"`{keys[j]}` moves the statistics, but too little against their noise: its "
              f"standard error ({np.sqrt(cov_nat[j, j]):.3g}) makes a 95 % interval wider than "
              f"its whole search range [{lo[j]:g}, {hi[j]:g}], so the data cannot pin it down."
              for j in np.flatnonzero(weak)]
    words += [f"`{keys[j]}` ended at the "
              f"{'lower' if theta_hat[j] - lo[j] < hi[j] - theta_hat[j] else 'upper'} "
              f"end of its search range [{lo[j]:g}, {hi[j]:g}] ({theta_hat[j]:.4g}): the best fit "
              "may lie outside it, and its standard error assumes an interior optimum; widen "
              "the range (if the value stays plausible) and fit again."
              for j in np.flatnonzero(at_bound)]
    rounded, intervals = _rounded(estimates)
    calibrated = base.override({**rounded, **{f"uncertain.{k}": v for k, v in intervals.items()}},
                               name=f"{sc.name}_calibrated").with_provenance(
        f"{sc.source} calibrated")
    settings = {"resolution": resolution if resolution is not None else sc.city.firms,
                "replications": replications, "seed": seed, "executor": executor,
                "flat_threshold": flat_threshold, "interval_quantile": quantile}
    return CalibrationResult(
        scenario=calibrated, original=sc, moments=moments, estimates=estimates,
        fit=fit_table, covariance=cov_df, correlation=corr_df, sensitivity=sensitivity,
        jacobian=pd.DataFrame(j_unit / span, index=sensitivity.index, columns=keys),
        moment_covariance=pd.DataFrame(sigma, index=sensitivity.index,
                                       columns=sensitivity.index),
        unidentified=words, objective=float(np.sum(residuals(x_hat) ** 2)),
        converged=bool(fit.status > 0), message=str(fit.message), runs=sim.runs,
        settings=settings)


def _identification_words(keys, lo, hi, js, eigval, eigvec, flat_dirs, corr, threshold,
                          corr_threshold, n_moments) -> list[str]:
    """What the data cannot pin down, one sentence each."""
    words = []
    if len(keys) > n_moments:
        words.append(f"{len(keys)} parameters against {n_moments} statistics: at most "
                     f"{n_moments} combinations of them can be identified.")
    col = np.sqrt((js ** 2).sum(axis=0))
    alone = set()
    for j, k in enumerate(keys):
        if col[j] < threshold:
            alone.add(j)
            words.append(f"`{k}` hardly moves the observed statistics: across its whole range "
                         f"[{lo[j]:g}, {hi[j]:g}] they change by {col[j]:.2g} standard errors "
                         f"(less than {threshold:g}); the data cannot pin it down, and its value "
                         "stays near where the search started.")
    for k in flat_dirs:
        v = eigvec[:, k]
        lead = [j for j in range(len(keys)) if abs(v[j]) > 0.3]
        if set(lead) <= alone:
            continue
        # partners with a smaller share of the direction still show what offsets what
        involved = [j for j in np.argsort(-np.abs(v)) if abs(v[j]) > 0.1]
        strength = math.sqrt(max(eigval[k], 0.0))
        moves = ", ".join(f"`{keys[j]}` by {v[j] * (hi[j] - lo[j]):+.3g}" for j in involved)
        names = ", ".join(f"`{keys[j]}`" for j in lead)
        words.append(f"The data do not pin down {names}: moving {moves} together changes the "
                     f"statistics by only {strength:.2g} standard errors (less than "
                     f"{threshold:g}), so any point along that line fits about as well.")
    names = list(corr.index)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = float(corr.iloc[i, j])
            if abs(r) >= corr_threshold:
                words.append(f"`{names[i]}` and `{names[j]}` are estimated with correlation "
                             f"{r:+.2f}: the data pin down mainly a combination of the two "
                             f"(a higher value of one goes with a "
                             f"{'lower' if r < 0 else 'higher'} value of the other).")
    return words


