"""What a worker does: run a batch of (point, replication) runs and return plain tables.

Module-level functions only, so they pickle by reference to local processes and Dask workers
(every worker needs the package installed). A run that raises is returned as a failure record.

Workers the sweep starts end with the sweep's main process (:func:`end_with`): a sweep killed
with kill -9 leaves no idle worker, forkserver or resource tracker behind.

A run's final row holds every KPI at the end of the horizon and its budget over the horizon in
the one cost definition (:mod:`~simcity_quality.results.budget`): each ``payer:line``, and for
each payer (``province``, ``city``, ``all``) the net ``payer:total``, the gross
``payer:gross`` (spending only) and the ``payer:revenue`` (fines and penalties collected,
negative), so a search can count cost either way.
"""

import os
import select
import threading
import time
import traceback

import numpy as np
import pandas as pd

from ..results.budget import GROSS, NET, REVENUE, line_totals, wide
from ..results.replications import run_replication
from ..results.uncertainty import draw_of, parameter_draws
from ..scenario import scenario_from_data


def _budget_columns(budget: pd.DataFrame) -> dict[str, float]:
    """One run's budget over the horizon: every ``payer:line`` and the net totals (the columns
    and order sweeps have always had), then the gross and revenue columns."""
    totals = wide(line_totals(budget, bases=(NET, GROSS, REVENUE))).iloc[0]
    added = [c for c in totals.index if c.endswith((f":{GROSS}", f":{REVENUE}"))]
    kept = [c for c in totals.index if c not in added]
    return totals[kept + added].to_dict()


def run_batch(scenario_data: dict, source: str, tasks: list[tuple[int, int, dict]], seed: int,
              resolution: int | None, timeseries: bool, uncertainty: str = "noise") -> dict:
    """Run tasks ``(point, replication, overrides)``; return finals, time series and failures.

    With ``uncertainty="parameters"`` each run also takes its replication's draw of the
    [uncertain] parameters the overrides do not set (the parameter rule,
    :mod:`~simcity_quality.results.uncertainty`)."""
    base = scenario_from_data(scenario_data, source)
    finals, series, failures = [], [], []
    for point, rep, overrides in tasks:
        try:
            if uncertainty == "parameters":
                drawn = parameter_draws(base, seed, [rep], exclude=overrides)
                overrides = {**draw_of(drawn, rep), **overrides}
            sc = base.override(overrides) if overrides else base
            # the seed rule: replication `rep` is the same run at every design point (CRN)
            model = run_replication(sc, seed, rep, resolution)
            ts = model.record.get_model_vars_dataframe()
            ts.insert(0, "step", np.arange(1, len(ts) + 1, dtype=np.int64))
            budget = model.ledger_frame().assign(replication=rep)
            row = ts.iloc[-1].drop("step").to_dict()
            row.update(_budget_columns(budget))
            finals.append({"point": point, "replication": rep, **row})
            if timeseries:
                ts.insert(0, "replication", rep)
                ts.insert(0, "point", point)
                series.append(ts)
        except Exception as exc:  # recorded, and the sweep goes on
            failures.append({"point": point, "replication": rep,
                             "error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc(limit=5)})
    return {
        "finals": pd.DataFrame(finals),
        "timeseries": pd.concat(series, ignore_index=True) if series else pd.DataFrame(),
        "failures": pd.DataFrame(failures),
    }


def end_with(pid: int) -> None:
    """End this process as soon as process ``pid`` (the sweep's main process) ends, however it
    ends: a worker initializer. A thread waits on a pidfd, which becomes readable when that
    process exits (Linux 5.3 on), or else checks every half second; then ``os._exit``, since
    nothing a worker holds needs saving (its results only count once the main process has
    committed them)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:  # already gone
        os._exit(1)
    except (OSError, AttributeError):  # no pidfd here: poll instead
        fd = None

    def watch():
        if fd is not None:
            select.select([fd], [], [])
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-sweep", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True

