"""The runs a search asks for: chosen replications of chosen mixes, on common random numbers,
each run once and remembered.

A *mix* is a value for each lever (dotted scenario keys). Replication ``r`` of every mix runs on
the same seed (the seed rule, :func:`~simcity_quality.results.replication_seed`), so mixes are
compared on the same luck, and asking for more replications of a mix later runs only the new
ones. Each run gives one row: whether every chosen target was met in it (``met``), the payer's
``gross`` and ``net`` cost over the horizon (the one cost definition, yuan), and optionally one
KPI's final ``value``.

A search can be given a stand-in ``evaluator`` instead of the model (tests, other models): a
function of ``(mixes, replications)``, ``mixes`` a DataFrame with one column per lever and
``replications`` a list of replication numbers, returning one row per mix and replication with
columns ``point`` (the row of ``mixes``), ``replication``, ``met``, ``gross``, ``net`` (and
``value`` when the search needs it).
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..scenario import Scenario
from ..targets import Target
from .options import cost_columns, typed

OUTCOMES = ("met", "gross", "net")


class Estimate(NamedTuple):
    """A number with its interval: ``value``, ``low``, ``high`` (``float(e)`` is the value)."""

    value: float
    low: float
    high: float

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return f"{self.value:.6g} ({self.low:.6g} to {self.high:.6g})"


class MixRuns:
    """Outcomes of (mix, replication) runs, on the model or a stand-in ``evaluator``.

    ``runs`` counts the runs made (cached ones are free); ``bar`` (a progress bar, see
    :mod:`~simcity_quality.results.progress`) is advanced by one per run.
    """

    def __init__(self, scenario: Scenario, levers: list[str], targets: list[Target],
                 payer: str, seed: int, resolution: int | None, bar, executor: str = "serial",
                 workers: int | None = None, evaluator=None, value: str | None = None,
                 **run_args):
        self.sc, self.levers, self.targets = scenario, list(levers), list(targets)
        self.columns = cost_columns(payer)
        self.seed, self.resolution, self.bar = seed, resolution, bar
        self.executor, self.workers, self.evaluator = executor, workers, evaluator
        self.value, self.run_args = value, run_args
        self.cache: dict[tuple, dict[int, tuple]] = {}  # mix -> replication -> outcome
        self.runs = 0

    def key(self, mix) -> tuple:
        """A mix as a hashable tuple of its values, typed as the scenario holds them."""
        return tuple(typed(self.sc, k, float(mix[k])) for k in self.levers)

    def done(self, mix) -> int:
        """Replications already run of ``mix``."""
        return len(self.cache.get(self.key(mix), {}))

    def outcomes(self, mixes: list, replications: int) -> list[pd.DataFrame]:
        """Replications ``0 .. replications - 1`` of every mix (rows: ``replication``, ``met``,
        ``gross``, ``net`` and ``value`` if asked), running only those not run before."""
        keys = [self.key(m) for m in mixes]
        todo: dict[tuple, list[int]] = {}
        for k in keys:
            have = self.cache.setdefault(k, {})
            missing = [r for r in range(replications) if r not in have]
            if missing and k not in todo:
                todo[k] = missing
        if todo:
            self._run(todo)
        return [self._frame(k, replications) for k in keys]

    def _frame(self, key: tuple, replications: int) -> pd.DataFrame:
        have = self.cache[key]
        names = [*OUTCOMES, *(["value"] if self.value else [])]
        rows = [(r, *have[r]) for r in range(replications)]
        return pd.DataFrame(rows, columns=["replication", *names])

    def _run(self, todo: dict[tuple, list[int]]) -> None:
        mixes = list(todo)
        if self.evaluator is not None:
            self._run_evaluator(mixes, todo)
        else:
            self._run_model(mixes, todo)

    def _run_evaluator(self, mixes: list[tuple], todo: dict[tuple, list[int]]) -> None:
        # one call per distinct set of replications, so a stand-in sees whole batches
        by_reps: dict[tuple, list[tuple]] = {}
        for k in mixes:
            by_reps.setdefault(tuple(todo[k]), []).append(k)
        for reps, group in by_reps.items():
            points = pd.DataFrame(group, columns=self.levers)
            got = self.evaluator(points, list(reps))
            self._check_stand_in(got, len(group) * len(reps))
            for row in got.itertuples(index=False):
                self._store(group[int(row.point)], int(row.replication), row._asdict())
            self.runs += len(group) * len(reps)
            self.bar.update(len(group) * len(reps))

    def _check_stand_in(self, got: pd.DataFrame, expected: int) -> None:
        need = {"point", "replication", *OUTCOMES, *(["value"] if self.value else [])}
        missing = need - set(got.columns)
        if missing or len(got) != expected:
            raise SimcityQualityError(
                f"the evaluator must return one row per mix and replication ({expected}) with "
                f"columns {sorted(need)}; got {len(got)} rows, missing {sorted(missing)}.")

    def _run_model(self, mixes: list[tuple], todo: dict[tuple, list[int]]) -> None:
        from .sweep import run_tasks

        tasks = [(p, r, dict(zip(self.levers, k, strict=True)))
                 for r in sorted({r for k in mixes for r in todo[k]})
                 for p, k in enumerate(mixes) if r in todo[k]]  # replication-major, as sweeps
        for batch, result in run_tasks(self.sc, tasks, self.seed, self.resolution, self.executor,
                                       self.workers, **self.run_args):
            if len(result["failures"]):
                first = result["failures"].iloc[0]
                mix = dict(zip(self.levers, mixes[int(first["point"])], strict=True))
                raise SimcityQualityError(
                    f"a run failed at mix {mix}, replication {first['replication']}: "
                    f"{first['error']}")
            for row in result["finals"].to_dict(orient="records"):
                self._store(mixes[int(row["point"])], int(row["replication"]),
                            self._outcome(row))
            self.runs += len(batch)
            self.bar.update(len(batch))

    def _outcome(self, final: dict) -> dict:
        """One run's outcome from its final row (KPIs and budget columns)."""
        met = all(t.met(float(final[t.kpi])) for t in self.targets)
        out = {"met": met, "gross": float(final[self.columns["gross"]]),
               "net": float(final[self.columns["net"]])}
        if self.value:
            out["value"] = float(final[self.value])
        return out

    def _store(self, key: tuple, replication: int, outcome: dict) -> None:
        values = [bool(outcome["met"]), float(outcome["gross"]), float(outcome["net"])]
        if self.value:
            values.append(float(outcome["value"]))
        self.cache.setdefault(key, {})[replication] = tuple(values)


def summarise(frame: pd.DataFrame, basis: str, confidence: float) -> dict:
    """One mix's replications as numbers a search decides by: replications ``n``, ``met``,
    ``attainment`` with its one-sided Wilson bounds at ``confidence`` (``lower``, ``upper``),
    and the mean ``cost`` on ``basis`` with a 95 % t-interval, and the mean gross and net."""
    from ..results.statistics import mean_interval, wilson_bounds

    n = len(frame)
    met = int(frame["met"].sum())
    lower, upper = wilson_bounds(met, n, confidence)
    out = {"n": n, "met": met, "attainment": met / n, "lower": float(lower),
           "upper": float(upper)}
    for name in ("gross", "net"):
        mean, low, high = mean_interval(frame[name].to_numpy(dtype=float))
        out[name], out[f"{name}_low"], out[f"{name}_high"] = mean, low, high
    out["cost"], out["cost_low"], out["cost_high"] = (out[basis], out[f"{basis}_low"],
                                                      out[f"{basis}_high"])
    return out


def as_mix(levers: list[str], values) -> dict:
    """``{lever: value}`` with plain Python numbers (no ``np.float64`` in what users read)."""
    return {k: (v.item() if isinstance(v, np.generic) else v)
            for k, v in zip(levers, values, strict=True)}
