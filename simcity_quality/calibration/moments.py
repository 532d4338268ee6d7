"""Simulating the observed statistics: each moment per replication on common random numbers,
through the sweep executors, and their means and standard errors."""


import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError, renamed
from ..results.progress import progress_bar
from ..scenario import Scenario, load_scenario
from .observed import _TITLES, CalibrationError, Moment, parse_observed

# ---------------------------------------------------------------------------------------
# simulation of the moments


def _december_values(ts: pd.DataFrame, scenario: Scenario) -> dict[int, dict[str, float]]:
    """Per year of one replication: each statistic's value in December."""
    first = scenario.city.base_year
    dec = ts[ts["step"] % 12 == 0]
    out: dict[int, dict[str, float]] = {}
    for _, row in dec.iterrows():
        year = first + int(row["step"]) // 12 - 1
        alive = float(row["firms_alive"])
        vals = {n: float(row[n]) for n in ("spot_check_pass_rate", "factory_pass_rate",
                                           "construction_acceptance_rate", "iso9001_share",
                                           "ccc_share")}
        for stat, tier in _TITLES.items():
            vals[stat] = float(row[f"titles_held_{tier}"]) / alive if alive else math.nan
        industrial = float(row["cod_tonnes"])  # trailing 12 months in December: the year
        # domestic COD as the model computes it for the industrial_and_domestic scope, after
        # any treatment plants (ODD 7.17)
        vals["cod_index"] = industrial
        vals["total_cod_index"] = industrial + float(row["domestic_cod_tonnes"])
        out[year] = vals
    return out


def _moment_values(by_year: dict[int, dict[str, float]], moments: list[Moment]) -> np.ndarray:
    out = np.empty(len(moments))
    for i, m in enumerate(moments):
        now = by_year[m.year][m.statistic]
        if m.start is None:
            out[i] = now
        elif m.kind == "index":
            before = by_year[m.start][m.statistic]
            out[i] = now / before if before > 0 else math.nan
        else:
            out[i] = now - by_year[m.start][m.statistic]
    return out


class _Simulator:
    """Moments per (point, replication) on common random numbers, cached by point."""

    def __init__(self, base: Scenario, keys: list[str], moments: list[Moment], replications: int,
                 seed: int, resolution: int | None, executor: str, workers: int | None, bar=None):
        from ..experiments.sweep import EXECUTORS, _workers

        if executor not in EXECUTORS:
            raise CalibrationError(f"executor must be one of {EXECUTORS}, got {executor!r}.")
        self.base, self.keys, self.moments = base, keys, moments
        self.replications, self.seed, self.resolution = replications, seed, resolution
        self.executor, self.n_workers = executor, _workers(executor, workers)
        self.cache: dict[tuple, np.ndarray] = {}
        self.runs = 0
        self.bar = bar  # a progress bar advanced by each batch of runs, or None

    def __call__(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        """Arrays (replications x moments), one per parameter vector."""
        from ..experiments.sweep import run_batches

        todo = {}
        for theta in thetas:
            k = tuple(float(v) for v in theta)
            if k not in self.cache and k not in todo:
                todo[k] = len(todo)
        if todo:
            points = list(todo)
            batches = [[(p, r, dict(zip(self.keys, points[p], strict=True)))
                        for r in range(self.replications)] for p in range(len(points))]
            values = np.full((len(points), self.replications, len(self.moments)), np.nan)
            args = (self.base.file_data(), self.base.source)
            for _, result in run_batches(self.executor, batches, args,
                                         (self.seed, self.resolution, True), self.n_workers):
                if len(result["failures"]):
                    raise SimcityQualityError("calibration: a run failed: "
                                              + result["failures"]["error"].iloc[0])
                for (p, r), ts in result["timeseries"].groupby(["point", "replication"]):
                    values[p, r] = _moment_values(_december_values(ts, self.base),
                                                  self.moments)
                if self.bar is not None:
                    self.bar.update(len(result["finals"]))
            self.runs += len(points) * self.replications
            for k, p in todo.items():
                self.cache[k] = values[p]
        return [self.cache[tuple(float(v) for v in theta)] for theta in thetas]


def _mean_se(values: np.ndarray, moments: list[Moment]) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(values)
    n = ok.sum(axis=0)
    empty = [m.key for m, k in zip(moments, n, strict=True) if k == 0]
    if empty:
        raise CalibrationError(f"calibration: the model produced no value for {empty} in any "
                               "replication (nothing sampled or measured that year); use more "
                               "a higher resolution or another statistic.")
    mean = np.nanmean(values, axis=0)
    sd = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(len(moments))
    return mean, np.nan_to_num(sd) / np.sqrt(n)


@renamed(firms="resolution")
def simulate_moments(scenario: Scenario | str | Path, observed: dict, replications: int = 20,
                     seed: int = 0, resolution: int | None = None, progress=True) -> pd.DataFrame:
    """Simulate the observed statistics under a scenario: one row per moment with the
    observed value, the simulated mean, its standard error and whether it is within the
    moment's tolerance (to check a calibrated scenario on fresh seeds). ``progress``: a
    progress bar of the runs (``False``: silent)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 2:
        raise CalibrationError(f"replications must be a whole number >= 2, got "
                               f"{replications!r}.")
    moments = parse_observed(observed, sc)
    with progress_bar(progress, total=replications, desc="simulate_moments") as bar:
        sim = _Simulator(sc, [], moments, replications, seed, resolution, "serial", None, bar)
        mean, se = _mean_se(sim([np.array([])])[0], moments)
    table = pd.DataFrame({"moment": [m.key for m in moments],
                          "observed": [m.value for m in moments], "simulated": mean,
                          "simulation_se": se,
                          "tolerance": [np.nan if m.tolerance is None else m.tolerance
                                        for m in moments]})
    table["difference"] = table["simulated"] - table["observed"]
    table["within_tolerance"] = table["difference"].abs() <= table["tolerance"]
    return table


