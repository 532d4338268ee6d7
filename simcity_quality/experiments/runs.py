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
``value`` when the search needs it). With ``uncertainty="parameters"`` it is called as
``(mixes, replications, draws)``, ``draws`` a DataFrame indexed by replication with each
replication's values of the drawn [uncertain] parameters (the parameter rule of
:mod:`~simcity_quality.results.uncertainty`, the levers left out), which the stand-in's
outcome should depend on as the model's would.

With ``uncertainty="parameters"`` replication ``r`` of every mix also draws the [uncertain]
parameters (not the levers) by the parameter rule, so the draws are shared across mixes as
the seeds are. A :class:`PartRuns` view presents the replications whose draw of one parameter
falls in one part of its range as replications ``0, 1, 2, ...`` of their own, on the same
remembered runs: a search within a part reuses every run another search made.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..results.uncertainty import check_uncertainty
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
                 uncertainty: str = "noise", **run_args):
        self.sc, self.levers, self.targets = scenario, list(levers), list(targets)
        self.columns = cost_columns(payer)
        self.seed, self.resolution, self.bar = seed, resolution, bar
        self.executor, self.workers, self.evaluator = executor, workers, evaluator
        self.value, self.run_args = value, run_args
        self.uncertainty = check_uncertainty(uncertainty)
        self.cache: dict[tuple, dict[int, tuple]] = {}  # mix -> replication -> outcome
        self.runs = 0
        self.used: set[tuple] = set()  # (mix, replication) pairs asked for through this object
        self._draws = pd.DataFrame()  # replication x drawn parameter, as far as computed

    def key(self, mix) -> tuple:
        """A mix as a hashable tuple of its values, typed as the scenario holds them."""
        return tuple(typed(self.sc, k, float(mix[k])) for k in self.levers)

    def done(self, mix) -> int:
        """Replications ``0, 1, ...`` already run of ``mix`` (the unbroken run from 0)."""
        have = self.cache.get(self.key(mix), {})
        n = 0
        while n in have:
            n += 1
        return n

    def outcomes(self, mixes: list, replications) -> list[pd.DataFrame]:
        """Replications ``0 .. replications - 1`` (or the replication numbers listed) of every
        mix (rows: ``replication``, ``met``, ``gross``, ``net`` and ``value`` if asked),
        running only those not run before."""
        ids = list(range(replications)) if isinstance(replications, int) else list(replications)
        keys = [self.key(m) for m in mixes]
        todo: dict[tuple, list[int]] = {}
        for k in keys:
            have = self.cache.setdefault(k, {})
            missing = [r for r in ids if r not in have]
            if missing and k not in todo:
                todo[k] = missing
            self.used.update((k, r) for r in ids)
        if todo:
            self._run(todo)
        return [self._frame(k, ids) for k in keys]

    def draws(self, replications) -> pd.DataFrame:
        """The drawn parameter values of ``replications`` (a list), levers left out (empty
        columns for ``uncertainty="noise"``)."""
        from ..results.uncertainty import parameter_draws

        reps = [int(r) for r in replications]
        if self.uncertainty != "parameters":
            return pd.DataFrame(index=pd.Index(reps, name="replication"))
        new = [r for r in reps if r not in self._draws.index]
        if new:
            fresh = parameter_draws(self.sc, self.seed, new, exclude=self.levers)
            self._draws = fresh if self._draws.empty else pd.concat([self._draws, fresh])
        return self._draws.loc[reps]

    def _frame(self, key: tuple, ids: list[int]) -> pd.DataFrame:
        have = self.cache[key]
        names = [*OUTCOMES, *(["value"] if self.value else [])]
        rows = [(r, *have[r]) for r in ids]
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
            if self.uncertainty == "parameters":
                got = self.evaluator(points, list(reps), self.draws(reps))
            else:
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
                                       self.workers, uncertainty=self.uncertainty,
                                       **self.run_args):
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


class PartRuns:
    """The replications whose draw of one [uncertain] parameter falls in one part of its range,
    as replications ``0, 1, 2, ...`` of their own, on the runs of ``base`` (a
    :class:`MixRuns` with ``uncertainty="parameters"``): local replication ``i`` is the
    ``i``-th replication number (in order) whose value of ``key`` lies in ``[low, high)``
    (``[low, high]`` for the last part). It offers what a search uses of :class:`MixRuns`
    (``key``, ``done``, ``outcomes``, ``runs``); ``runs`` counts the runs made through this
    view, so runs another search made first are free here.

    Since the draws of the parameters are independent, these replications draw the other
    parameters from their priors and ``key`` from its prior within the part: a probability
    over them is the probability given that the parameter lies in the part. Without ``key``
    the view is every replication, with its own account of runs.
    """

    SCAN = 256  # replication numbers examined at a time
    LIMIT = 1_000_000  # replication numbers examined at most

    def __init__(self, base: MixRuns, key: str | None = None, low: float = -np.inf,
                 high: float = np.inf, last: bool = True):
        self.base, self.key_name, self.low, self.high, self.last = base, key, low, high, last
        self.levers, self.sc = base.levers, base.sc
        self.ids: list[int] = []
        self.scanned = 0
        self.runs = 0
        self.used: set[tuple] = set()

    def label(self) -> str:
        """``"market.counterfeit_gain in [0.01, 0.0267)"`` (``""``: every replication)."""
        if self.key_name is None:
            return ""
        close = "]" if self.last else ")"
        return f"{self.key_name} in [{self.low:.4g}, {self.high:.4g}{close}"

    def replications(self, n: int) -> list[int]:
        """The first ``n`` replication numbers of the part."""
        from ..results.uncertainty import parameter_draws

        if self.key_name is None:  # the whole ensemble: a view that keeps its own account
            return list(range(n))
        while len(self.ids) < n:
            if self.scanned >= self.LIMIT:
                raise SimcityQualityError(
                    f"{self.label()}: fewer than {n} of the first {self.LIMIT:,} replications "
                    "draw a value in this part of the range; its prior puts too little "
                    "probability there to condition on (use fewer parts).")
            chunk = list(range(self.scanned, self.scanned + self.SCAN))
            values = parameter_draws(self.sc, self.base.seed, chunk)[self.key_name]
            inside = (values >= self.low) & ((values <= self.high) if self.last
                                             else (values < self.high))
            self.ids.extend(int(r) for r in values.index[inside.to_numpy()])
            self.scanned += self.SCAN
        return self.ids[:n]

    def key(self, mix) -> tuple:
        """A mix as the base's hashable key."""
        return self.base.key(mix)

    def done(self, mix) -> int:
        """Local replications ``0, 1, ...`` of ``mix`` already run (on any search's account)."""
        have = self.base.cache.get(self.base.key(mix), {})
        n = 0
        while True:
            ids = self.replications(n + 1)
            if ids[n] not in have:
                return n
            n += 1

    def outcomes(self, mixes: list, replications: int) -> list[pd.DataFrame]:
        """Local replications ``0 .. replications - 1`` of every mix (their ``replication``
        column holds the replication numbers), running only what no search ran before."""
        ids = self.replications(replications)
        before = self.base.runs
        frames = self.base.outcomes(mixes, ids)
        self.runs += self.base.runs - before
        self.used.update((self.base.key(m), r) for m in mixes for r in ids)
        return frames


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
