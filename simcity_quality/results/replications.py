"""Running a scenario: replications on the seed rule, and the result tables.

**The seed rule**, in one place (:func:`replication_seed`): replication ``r`` of an experiment
with seed ``s`` runs on ``numpy.random.SeedSequence(s, spawn_key=(r,))``, the ``r``-th child of
``SeedSequence(s)``, whatever the scenario, design point or executor. Two scenarios run with the
same seed therefore share replication seeds (and, through the model's per-mechanism streams,
their random numbers), so their differences are paired.

:func:`run_replication` runs one replication and :func:`replication_tables` turns the finished
model into that replication's rows; :func:`run` (``sq.run``), the sweep workers and the
searches all go through these two.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.model import QualityCityModel
from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..scenario import Scenario, load_scenario
from ..targets import target_list
from .budget import line_totals
from .files import OutputFolder
from .progress import progress_bar

TABLES = ("timeseries", "final", "budget", "breakdown", "targets")


def check_seed(seed, what: str = "seed") -> int:
    """``seed`` as an int, refused unless it is a whole number >= 0 (what numpy's
    ``SeedSequence`` takes); ``what`` names it in the message."""
    if isinstance(seed, np.integer):
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimcityQualityError(f"{what} must be a whole number >= 0 (numpy's SeedSequence "
                                  f"takes no negative seeds), got {seed!r}.")
    return seed


def check_replications(replications) -> int:
    """``replications`` as an int, refused unless it is a whole number >= 1."""
    if isinstance(replications, np.integer):
        replications = int(replications)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise SimcityQualityError(f"replications must be a whole number >= 1, got "
                                  f"{replications!r}.")
    return replications


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication`` of an experiment with seed ``seed`` (the seed
    rule: ``SeedSequence(seed, spawn_key=(replication,))``, the same at every design point)."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The seeds of replications ``0 .. replications - 1`` (:func:`replication_seed`)."""
    return [replication_seed(seed, r) for r in range(replications)]


@dataclass(repr=False)
class Results:
    """The tables of one scenario run over replications (see README, Python API)."""

    scenario: Scenario
    seed: int
    resolution: int  # industrial enterprises simulated (the city is city.firms)
    timeseries: pd.DataFrame  # replication x month: KPIs, counts, cumulative spending
    final: pd.DataFrame  # replication: values at the end of the horizon
    budget: pd.DataFrame  # replication x year x payer x line, yuan
    breakdown: pd.DataFrame  # replication x group_type x group x kpi: end-of-horizon values
    uncertainty: str = "noise"  # what the probabilities cover (results.uncertainty)
    draws: pd.DataFrame = field(default_factory=pd.DataFrame)  # replication x drawn parameter
    targets: pd.DataFrame = field(init=False)

    def __post_init__(self):
        self.targets = attainment(self.final, self.scenario)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name

    def _rows(self) -> list[tuple[str, str]]:
        from . import display
        from .budget import cost
        from .statistics import mean_interval, wilson_interval

        rows = []
        for _, t in self.targets.iterrows():
            if not t["modelled"] and t["id"] != "all_quantified":
                continue
            met = int(round(t["share_met"] * len(self.final)))
            lo, hi = wilson_interval(met, len(self.final))
            label = f"P({t['id']} met)" + ("" if t["id"] == "all_quantified"
                                           else f" {t['section']}")
            rows.append((label, display.probability(t["share_met"], float(lo), float(hi),
                                                    "95 %")))
        for payer in ("city", "all"):
            for basis in ("gross", "net"):
                mean, low, high = mean_interval(cost(self.budget, payer, basis).to_numpy())
                first = (payer, basis) == ("city", "gross")
                rows.append(("cost over the horizon" if first else "",
                             display.money(mean, payer, basis, low, high)))
        return rows

    def _title(self) -> str:
        return (f"Results of {self.name!r}: {len(self.final)} replications, seed {self.seed}, "
                f"{self.describe_resolution()}")

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words: the model's noise only, or the noise and
        the [uncertain] parameters drawn from their priors."""
        from .uncertainty import describe_uncertainty

        return describe_uncertainty(self.uncertainty, len(self.draws.columns))

    def describe_resolution(self) -> str:
        """How many of the city's firms were simulated, in words (money and counts are always
        for the whole city)."""
        city = self.scenario.city.firms
        if self.resolution >= city:
            return f"all {city:,} firms of the city simulated"
        return f"{self.resolution:,} of the city's {city:,} firms simulated (money for the city)"

    def __repr__(self) -> str:
        from . import display

        return (display.text_block(self._title(), self._rows(), [self.describe_uncertainty()])
                + f"\n  {self._tables()}")

    def _tables(self) -> str:
        return ("tables: .targets .final .timeseries .budget .breakdown"
                + (" .draws" if self.uncertainty == "parameters" else ""))

    def _repr_html_(self) -> str:
        from . import display

        return display.html_block(self._title(), self._rows(),
                                  [self.describe_uncertainty(), self._tables()])

    def budget_by_payer(self) -> pd.DataFrame:
        """Total spending over the horizon by payer and line: mean across replications (yuan)."""
        per_rep = line_totals(self.budget, bases=())
        return per_rep.groupby(["payer", "line"])["yuan"].mean().unstack("payer").fillna(0.0)

    def write(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write every table as Parquet and CSV into the results folder ``out`` (created if
        needed; :class:`~.files.OutputFolder` says when an existing folder is replaced and when
        ``overwrite`` is needed)."""
        with OutputFolder(out, "results", overwrite, about=self.about()) as folder:
            self.write_tables(folder)
        return Path(out)

    def write_tables(self, folder: OutputFolder, sub: str = "") -> None:
        """Every table, as Parquet and CSV, into ``sub`` of a results folder being written
        (with ``uncertainty="parameters"`` also each replication's parameter draws)."""
        for name in TABLES:
            folder.table(getattr(self, name), name, sub)
        if self.uncertainty == "parameters":
            folder.table(self.draws.reset_index(), "draws", sub)

    def about(self) -> dict:
        """What a results folder's manifest records of this run."""
        return {"scenarios": [self.name], "seed": self.seed, "resolution": self.resolution,
                "replications": int(self.final.shape[0]), "uncertainty": self.uncertainty}


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


def run_replication(scenario: Scenario, seed: int, replication: int,
                    resolution: int | None = None, track=(), observer=None) -> QualityCityModel:
    """Replication ``replication`` of ``scenario`` under the experiment seed ``seed`` (the seed
    rule), run to the end of the horizon; returns the finished model."""
    model = QualityCityModel(scenario, seed=replication_seed(seed, replication),
                             resolution=resolution, track=track, observer=observer)
    model.run_model()
    return model


def replication_tables(model: QualityCityModel, replication: int) -> dict[str, pd.DataFrame]:
    """A finished replication's rows of the result tables: ``timeseries`` (one row a month,
    with ``replication``, ``step`` and ``date``), ``final`` (its last month), ``budget`` (year,
    payer, line, yuan) and ``breakdown`` (KPIs by group at the end)."""
    ts = model.record.get_model_vars_dataframe()
    ts.insert(0, "date", [model.date(i) for i in range(len(ts))])
    ts.insert(0, "step", np.arange(1, len(ts) + 1))
    ts.insert(0, "replication", replication)
    budget = model.ledger_frame()
    budget.insert(0, "replication", replication)
    breakdown = model.breakdown()
    breakdown.insert(0, "replication", replication)
    return {"timeseries": ts, "final": ts.iloc[[-1]].drop(columns=["step", "date"]),
            "budget": budget, "breakdown": breakdown}


@renamed(firms="resolution")
def run(scenario: Scenario | str | Path, replications: int = 10, seed: int = 0,
        resolution: int | None = None, progress=True, uncertainty: str = "noise") -> Results:
    """Run ``replications`` of a scenario (a :class:`Scenario` or a TOML path).

    ``resolution``: how many of the city's firms are simulated (default ``city.resolution``,
    else all); money, counts and KPIs are for the whole city whatever it is. Replication ``r``
    runs on :func:`replication_seed`. ``progress``: a progress bar of the replications
    (``False``: silent; :mod:`~simcity_quality.results.progress`).
    ``uncertainty``: ``"noise"`` (the [uncertain] parameters at the scenario's values) or
    ``"parameters"`` (each replication draws them from their priors by the parameter rule of
    :mod:`~simcity_quality.results.uncertainty`; the draws are in ``.draws``).
    """
    from .uncertainty import check_uncertainty, draw_of, parameter_draws, with_draw

    uncertainty = check_uncertainty(uncertainty)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    replications = check_replications(replications)
    seed = check_seed(seed)
    resolution = check_resolution(resolution, sc)
    draws = (parameter_draws(sc, seed, replications) if uncertainty == "parameters"
             else pd.DataFrame(index=pd.RangeIndex(replications, name="replication")))
    tables = []
    with progress_bar(progress, total=replications, desc=f"run {sc.name}") as bar:
        for r in range(replications):
            drawn = with_draw(sc, draw_of(draws, r))
            tables.append(replication_tables(run_replication(drawn, seed, r, resolution), r))
            bar.update(1)

    def stacked(name):
        return pd.concat([t[name] for t in tables], ignore_index=True)

    return Results(sc, seed, resolution, stacked("timeseries"), stacked("final"),
                   stacked("budget"), stacked("breakdown"), uncertainty=uncertainty,
                   draws=draws)
