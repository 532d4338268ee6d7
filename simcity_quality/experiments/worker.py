"""What a worker does: run a batch of (point, replication) runs and return plain tables.

Module-level functions only, so they pickle by reference to local processes and Dask workers
(every worker needs the package installed). A run that raises is returned as a failure record.
"""

import traceback

import numpy as np
import pandas as pd

from ..model import QualityCityModel
from ..scenario import scenario_from_data


def run_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``r``: the ``r``-th child of ``SeedSequence(seed)``, whatever
    the design point (common random numbers); ``sq.run`` with the same seed gives replication
    ``r`` the same numbers."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def run_batch(scenario_data: dict, source: str, tasks: list[tuple[int, int, dict]], seed: int,
              firms: int | None, timeseries: bool) -> dict:
    """Run tasks ``(point, replication, overrides)``; return finals, time series and failures."""
    base = scenario_from_data(scenario_data, source)
    finals, series, failures = [], [], []
    for point, rep, overrides in tasks:
        try:
            sc = base.override(overrides) if overrides else base
            model = QualityCityModel(sc, seed=run_seed(seed, rep), firms=firms)
            model.run_model()
            ts = model.datacollector.get_model_vars_dataframe()
            ts.insert(0, "step", np.arange(1, len(ts) + 1, dtype=np.int64))
            budget = model.ledger_frame()
            totals = budget.groupby(["payer", "line"])["yuan"].sum()
            row = ts.iloc[-1].drop("step").to_dict()
            row.update({f"{p}:{ln}": v for (p, ln), v in totals.items()})
            row.update({f"{p}:total": v for p, v in totals.groupby(level=0).sum().items()})
            row["all:total"] = float(totals.sum())
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
