"""Running a scenario: replications with spawned seeds, and the result tables.

``run(scenario, replications, seed)`` spawns one ``SeedSequence`` child per replication from
``seed``; two scenarios run with the same seed therefore share replication seeds (and, through the
model's per-mechanism streams, their random numbers), so their differences are paired.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SimcityQualityError
from .model import QualityCityModel
from .scenario import Scenario, load_scenario
from .targets import target_list


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The seed of each replication: children of ``SeedSequence(seed)``, by index."""
    return np.random.SeedSequence(seed).spawn(replications)


@dataclass
class Results:
    """The tables of one scenario run over replications (see README, Python API)."""

    scenario: Scenario
    seed: int
    firms: int
    timeseries: pd.DataFrame  # replication x month: KPIs, counts, cumulative spending
    final: pd.DataFrame  # replication: values at the end of the horizon
    budget: pd.DataFrame  # replication x year x payer x line, yuan
    breakdown: pd.DataFrame  # replication x group_type x group x kpi: end-of-horizon values
    targets: pd.DataFrame = field(init=False)

    def __post_init__(self):
        self.targets = attainment(self.final, self.scenario)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name

    def budget_by_payer(self) -> pd.DataFrame:
        """Total spending over the horizon by payer and line: mean across replications (yuan)."""
        per_rep = self.budget.groupby(["replication", "payer", "line"])["yuan"].sum()
        return per_rep.groupby(["payer", "line"]).mean().unstack("payer").fillna(0.0)

    def write(self, out: str | Path) -> Path:
        """Write every table as Parquet and CSV into ``out`` (created if needed)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("timeseries", "final", "budget", "breakdown", "targets"):
            df = getattr(self, name)
            _atomic(df.to_parquet, out / f"{name}.parquet", index=False)
            _atomic(df.to_csv, out / f"{name}.csv", index=False)
        return out


def _atomic(writer, path: Path, **kwargs) -> None:
    """Write to a temporary name, then rename: a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    writer(tmp, **kwargs)
    tmp.replace(path)


def attainment(final: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per target: threshold used, mean and spread of the KPI, share of runs meeting it.

    The last row, ``all_quantified``, is the share of replications meeting every target the plan
    quantifies that the model computes.
    """
    rows = []
    met_all = np.ones(len(final), dtype=bool)
    for t in target_list(scenario.targets):
        values = final[t.kpi].to_numpy(dtype=float) if t.kpi in final else np.full(len(final),
                                                                                 np.nan)
        met = np.array([t.met(v) for v in values], dtype=bool)
        if t.quantified_in_plan and t.modelled:
            met_all &= met
        finite = values[np.isfinite(values)]
        rows.append({
            "id": t.id, "section": t.section, "kpi": t.kpi, "comparison": t.comparison,
            "threshold": t.threshold, "year": t.year,
            "quantified_in_plan": t.quantified_in_plan, "modelled": t.modelled,
            "mean": finite.mean() if finite.size else np.nan,
            "sd": finite.std(ddof=1) if finite.size > 1 else np.nan,
            "share_met": met.mean() if t.modelled and len(met) else np.nan,
            "wording_en": t.wording_en, "wording_zh": t.wording_zh,
            "threshold_note": t.threshold_note,
        })
    rows.append({"id": "all_quantified", "section": "§2.2", "kpi": "", "comparison": "",
                 "threshold": np.nan, "year": scenario.horizon.end_year,
                 "quantified_in_plan": True, "modelled": True, "mean": np.nan, "sd": np.nan,
                 "share_met": met_all.mean() if len(final) else np.nan,
                 "wording_en": "every target the plan quantifies that the model computes",
                 "wording_zh": "", "threshold_note": ""})
    return pd.DataFrame(rows)


def run_one(scenario: Scenario, seed: np.random.SeedSequence, firms: int | None = None,
            track=()) -> QualityCityModel:
    """One replication to the end of the horizon; returns the finished model."""
    model = QualityCityModel(scenario, seed=seed, firms=firms, track=track)
    model.run_model()
    return model


def run(scenario: Scenario | str | Path, replications: int = 10, seed: int = 0,
        firms: int | None = None) -> Results:
    """Run ``replications`` of a scenario (a :class:`Scenario` or a TOML path).

    ``firms`` overrides ``city.firms``. Replication ``r`` uses ``SeedSequence(seed).spawn(...)[r]``.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(replications, int) or replications < 1:
        raise SimcityQualityError(f"replications must be a whole number >= 1, got "
                                  f"{replications!r}.")
    if firms is not None and (not isinstance(firms, int) or firms < 1):
        raise SimcityQualityError(f"firms must be a whole number >= 1, got {firms!r}.")
    series, finals, budgets, breakdowns = [], [], [], []
    n_firms = firms if firms is not None else sc.city.firms
    for r, ss in enumerate(replication_seeds(seed, replications)):
        model = run_one(sc, ss, firms)
        ts = model.datacollector.get_model_vars_dataframe()
        ts.insert(0, "date", [model.date(i) for i in range(len(ts))])
        ts.insert(0, "step", np.arange(1, len(ts) + 1))
        ts.insert(0, "replication", r)
        series.append(ts)
        finals.append(ts.iloc[[-1]])
        b = model.ledger_frame()
        b.insert(0, "replication", r)
        budgets.append(b)
        bd = model.breakdown()
        bd.insert(0, "replication", r)
        breakdowns.append(bd)
    timeseries = pd.concat(series, ignore_index=True)
    final = pd.concat(finals, ignore_index=True).drop(columns=["step", "date"])
    return Results(sc, seed, n_firms, timeseries, final, pd.concat(budgets, ignore_index=True),
                   pd.concat(breakdowns, ignore_index=True))
