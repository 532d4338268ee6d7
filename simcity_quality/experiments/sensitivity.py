"""Sensitivity of chosen outcomes to the declared uncertain parameters: Morris screening and
Sobol indices (``scipy.stats.sobol_indices``).

Stochastic noise is kept from posing as sensitivity in two ways: every design point is run on
the same replication seeds (common random numbers), so the outcome is a deterministic function
of the parameters, averaged over ``replications``; and the report gives the outcome's spread
across replications at a reference point (``noise_sd``) to set the effects against.
Model runs go through the experiments executors (serial, processes, Dask).
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SimcityQualityError, renamed
from ..results.progress import progress_bar
from ..scenario import Scenario, load_scenario
from . import designs
from .designs import scaled
from .options import check_outputs
from .sweep import sweep


def _ranges(sc: Scenario, parameters) -> dict[str, tuple[float, float]]:
    if parameters is None:
        parameters = list(sc.uncertain)
    if isinstance(parameters, list | tuple):
        parameters = {k: None for k in parameters}
    out = {}
    for key, rng in parameters.items():
        if rng is None:
            if key not in sc.uncertain:
                raise SimcityQualityError(f"`{key}`: no range given and none declared under "
                                          f"[uncertain] in {sc.source}")
            rng = sc.uncertain[key]
        out[key] = (float(rng[0]), float(rng[1]))
    if not out:
        raise SimcityQualityError(f"{sc.source}: no uncertain parameters to analyse")
    return out


def run_points(sc: Scenario, points: pd.DataFrame, replications: int, seed: int,
               resolution: int | None, executor: str = "serial", store: str | Path | None = None,
               progress=False, **sweep_args) -> pd.DataFrame:
    """Per-run finals of every point x replication on CRN seeds, through the sweep executors
    (into ``store``, or a temporary one); a failed run is an error here. ``progress``: a bar
    (or an enclosing one to advance; :mod:`~simcity_quality.results.progress`)."""
    with tempfile.TemporaryDirectory() as tmp:
        res = sweep(sc, designs.points(points.reset_index(drop=True)), replications=replications,
                    seed=seed, store=store or Path(tmp) / "store", executor=executor,
                    resolution=resolution, timeseries=False, progress=progress, **sweep_args)
    if len(res.failures):
        first = res.failures.iloc[0]
        raise SimcityQualityError(f"{len(res.failures)} runs failed, e.g. point "
                                  f"{first['point']}: {first['error']}")
    return res.finals


def evaluate_points(sc: Scenario, points: pd.DataFrame, outputs: list[str], replications: int,
                    seed: int, resolution: int | None, executor: str = "serial",
                    store: str | Path | None = None, progress=False,
                    **sweep_args) -> pd.DataFrame:
    """Mean of ``outputs`` over CRN replications at each point (rows in ``points`` order)."""
    finals = run_points(sc, points, replications, seed, resolution, executor, store, progress,
                        **sweep_args)
    missing = [o for o in outputs if o not in finals]
    if missing:
        raise SimcityQualityError(f"unknown outputs {missing}")
    return finals.groupby("point")[outputs].mean().reindex(range(len(points)))


# --- Morris ----------------------------------------------------------------------------------

def morris_design(d: int, trajectories: int, levels: int = 4, seed: int = 0) -> np.ndarray:
    """Morris (1991) trajectories in the unit cube: shape (trajectories * (d + 1), d).

    Each trajectory starts at a random grid point and moves one factor at a time by
    ``delta = levels / (2 (levels - 1))``, in random order and direction.
    """
    rng = np.random.default_rng(seed)
    delta = levels / (2 * (levels - 1))
    grid = np.arange(levels) / (levels - 1)
    rows = []
    for _ in range(trajectories):
        x = rng.choice(grid[grid <= 1 - delta + 1e-12], size=d)
        up = rng.random(d) < 0.5
        # start where every chosen move stays inside [0, 1]
        x = np.where(up, x, x + delta)
        rows.append(x.copy())
        for i in rng.permutation(d):
            x[i] = x[i] + delta if up[i] else x[i] - delta
            rows.append(x.copy())
    return np.clip(np.array(rows), 0.0, 1.0)


def morris_indices(unit: np.ndarray, y: np.ndarray, names: list[str], n_boot: int = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """mu* (mean absolute elementary effect), mu and sigma per factor, from Morris trajectories
    (``unit`` as made by :func:`morris_design`), with a bootstrap 95 % interval of mu*.
    Effects are per unit of the factor's range."""
    d = unit.shape[1]
    steps = unit.reshape(-1, d + 1, d)
    ys = np.asarray(y, dtype=float).reshape(-1, d + 1)
    effects = np.full((steps.shape[0], d), np.nan)
    for t in range(steps.shape[0]):
        for k in range(d):
            change = steps[t, k + 1] - steps[t, k]
            i = int(np.argmax(np.abs(change)))
            effects[t, i] = (ys[t, k + 1] - ys[t, k]) / change[i]
    rng = np.random.default_rng(seed)
    rows = []
    for i, name in enumerate(names):
        e = effects[:, i][np.isfinite(effects[:, i])]
        boot = np.abs(e[rng.integers(0, e.size, (n_boot, e.size))]).mean(axis=1)
        rows.append((name, np.abs(e).mean(), e.mean(), e.std(ddof=1) if e.size > 1 else np.nan,
                     np.quantile(boot, 0.025), np.quantile(boot, 0.975)))
    return pd.DataFrame(rows, columns=["parameter", "mu_star", "mu", "sigma", "mu_star_low",
                                       "mu_star_high"])


@renamed(firms="resolution")
def morris(scenario: Scenario | str, outputs: list[str], parameters=None, trajectories: int = 10,
           levels: int = 4, replications: int = 5, seed: int = 0, resolution: int | None = None,
           executor: str = "serial", progress=True, **sweep_args) -> pd.DataFrame:
    """Morris screening of ``outputs`` over ``parameters`` (default: the scenario's
    ``[uncertain]`` ranges). Returns one row per output and parameter: mu*, mu, sigma, a
    95 % interval of mu*, and ``noise_sd`` (the output's spread across replications at the
    scenario's own values), all in the output's units per full range of the parameter.
    ``progress``: a progress bar of the runs (``False``: silent)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    outputs = check_outputs(outputs)  # before any run
    ranges = _ranges(sc, parameters)
    names = list(ranges)
    unit = morris_design(len(names), trajectories, levels, seed)
    lo = np.array([ranges[k][0] for k in names])
    hi = np.array([ranges[k][1] for k in names])
    points = pd.DataFrame(scaled(unit, lo, hi), columns=names)
    for k in names:  # whole-number parameters stay whole
        if isinstance(sc.get(k), int):
            points[k] = np.round(points[k]).astype(int)
    total = len(points) * replications + max(replications, 2)
    with progress_bar(progress, total=total, desc="morris") as bar:
        means = evaluate_points(sc, points, outputs, replications, seed, resolution, executor,
                                progress=bar, **sweep_args)
        noise = _noise(sc, outputs, replications, seed, resolution, bar)
    frames = []
    for out in outputs:
        table = morris_indices(unit, means[out].to_numpy(), names, seed=seed)
        table.insert(0, "output", out)
        table["noise_sd"] = noise[out]
        frames.append(table)
    return pd.concat(frames, ignore_index=True).sort_values(
        ["output", "mu_star"], ascending=[True, False]).reset_index(drop=True)


def _noise(sc, outputs, replications, seed, resolution, bar=False) -> dict[str, float]:
    """Spread of each output's replication mean at the scenario's own values."""
    from ..results.replications import run

    res = run(sc, replications=max(replications, 2), seed=seed + 1, resolution=resolution,
              progress=bar)
    return {o: float(res.final[o].std(ddof=1) / np.sqrt(replications)) for o in outputs}


# --- Sobol -----------------------------------------------------------------------------------

def sobol_indices_of(func, ranges: dict[str, tuple[float, float]], n: int, seed: int = 0,
                     confidence: float = 0.95, n_resamples: int = 999) -> pd.DataFrame:
    """First-order and total Sobol indices of a vectorised ``func`` (parameters as a DataFrame
    in, one value per row out) with bootstrap intervals, via ``scipy.stats.sobol_indices``."""
    names = list(ranges)
    dists = [stats.uniform(loc=lo, scale=hi - lo) for lo, hi in ranges.values()]

    def wrapped(x):  # scipy passes shape (d, n)
        return np.array(func(pd.DataFrame(x.T, columns=names)), dtype=float)[None, :]  # writable

    res = stats.sobol_indices(func=wrapped, n=n, dists=dists,
                              rng=np.random.default_rng(seed))
    boot = res.bootstrap(confidence_level=confidence, n_resamples=n_resamples)
    first, total = boot.first_order.confidence_interval, boot.total_order.confidence_interval
    return pd.DataFrame({
        "parameter": names,
        "first_order": np.ravel(res.first_order), "first_low": np.ravel(first.low),
        "first_high": np.ravel(first.high),
        "total_order": np.ravel(res.total_order), "total_low": np.ravel(total.low),
        "total_high": np.ravel(total.high),
    })


@renamed(firms="resolution")
def sobol(scenario: Scenario | str, output: str, parameters=None, n: int = 64,
          replications: int = 5, seed: int = 0, resolution: int | None = None,
          executor: str = "serial", progress=True, **sweep_args) -> pd.DataFrame:
    """Sobol first- and total-order indices of one output over the uncertain parameters
    (``n`` a power of two; the model runs ``n * (d + 2) * replications`` times).
    ``progress``: a progress bar of the runs (``False``: silent)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    output = check_outputs([output])[0]  # before any run
    ranges = _ranges(sc, parameters)

    with progress_bar(progress, total=n * (len(ranges) + 2) * replications,
                      desc="sobol") as bar:
        def func(points: pd.DataFrame):
            for k in points:
                if isinstance(sc.get(k), int):
                    points[k] = np.round(points[k]).astype(int)
            return evaluate_points(sc, points, [output], replications, seed, resolution, executor,
                                   progress=bar, **sweep_args)[output].to_numpy()

        table = sobol_indices_of(func, ranges, n, seed)
    table.insert(0, "output", output)
    return table
