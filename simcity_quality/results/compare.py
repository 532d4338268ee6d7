"""Scenario comparison: every KPI and budget line against a reference, paired by replication.

All scenarios run with the same seed, so replication ``r`` of each shares its random numbers
(common random numbers) and the difference ``scenario - reference`` is paired. Intervals are 95 %
t-intervals of the paired differences; a scenario compared with itself has differences, and
intervals, of exactly zero.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.columns import REPORTED, TARGET_KPIS
from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..scenario import Scenario, load_scenario
from .budget import line_totals, wide
from .files import OutputFolder
from .progress import progress_bar
from .replications import Results, check_replications, check_seed, run
from .statistics import paired_interval


def budget_totals(res: Results) -> pd.DataFrame:
    """Per replication, spending over the horizon for each payer and line, and the net totals
    (columns ``payer:line``, ``payer:total``, ``all:total``; yuan, spending positive):
    :func:`~simcity_quality.results.budget.line_totals` in wide form."""
    return wide(line_totals(res.budget))


@dataclass(repr=False)
class Comparison:
    """Results of several scenarios on common random numbers, the first being the reference."""

    results: list[Results]
    differences: pd.DataFrame  # scenario x metric: reference, value, difference, 95 % interval
    attainment: pd.DataFrame  # target x scenario: mean, share of replications meeting it

    @property
    def reference(self) -> Results:
        """The reference scenario's results."""
        return self.results[0]

    @property
    def uncertainty(self) -> str:
        """What the probabilities cover: ``"noise"`` or ``"parameters"``
        (:mod:`~simcity_quality.results.uncertainty`); the same for every scenario."""
        return self.reference.uncertainty

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words (the reference's statement)."""
        return self.reference.describe_uncertainty()

    def _rows(self) -> list[tuple[str, str]]:
        from . import display
        from .budget import cost

        rows = []
        ref = self.reference
        for res in self.results[1:]:
            for payer, basis in (("city", "gross"), ("city", "net"), ("all", "gross"),
                                 ("all", "net")):
                diff = (cost(res.budget, payer, basis) - cost(ref.budget, payer, basis))
                mean, low, high, _ = paired_interval(diff.to_numpy())
                label = f"{res.name} - {ref.name}" if (payer, basis) == ("city", "gross") \
                    else ""
                rows.append((label, display.money(mean, payer, basis, low, high)))
        att = self.attainment[self.attainment["id"] == "all_quantified"]
        rows += [(f"P(all quantified met), {r['scenario']}", f"{r['share_met']:.2f}")
                 for _, r in att.iterrows()]
        return rows

    def _title(self) -> str:
        r = self.reference
        return (f"Comparison of {', '.join(x.name for x in self.results)} against {r.name!r}: "
                f"{len(r.final)} paired replications, seed {r.seed}")

    def __repr__(self) -> str:
        rows = self._rows()
        width = max((len(k) for k, _ in rows), default=0)
        return "\n".join([self._title(), *[f"  {k:<{width}}  {v}" for k, v in rows],
                          f"  - {self.describe_uncertainty()}",
                          "  tables: .differences .attainment; each scenario's: .results"])

    def _repr_html_(self) -> str:
        from . import display

        return display.html_block(self._title(), self._rows(),
                                  [self.describe_uncertainty(),
                                   "tables: .differences .attainment; each scenario's: "
                                   ".results"])

    def write(self, out: str | Path, overwrite: bool = False) -> Path:
        """The comparison tables (``differences``, ``attainment``) and every scenario's tables
        (one subfolder each, named after the scenario), as Parquet and CSV, into the results
        folder ``out`` (see :class:`~.files.OutputFolder`); the report and chart are the
        interface's (:func:`~simcity_quality.interface.report.write_report`)."""
        with OutputFolder(out, "comparison", overwrite, about=self.about()) as folder:
            self.write_tables(folder)
        return Path(out)

    def write_tables(self, folder: OutputFolder) -> None:
        """Every table into a results folder being written (scenarios in subfolders)."""
        for name in ("differences", "attainment"):
            folder.table(getattr(self, name), name)
        for res in self.results:
            res.write_tables(folder, res.name)

    def about(self) -> dict:
        """What a results folder's manifest records of this comparison."""
        return {**self.reference.about(), "scenarios": [r.name for r in self.results]}


def _metrics(res: Results) -> pd.DataFrame:
    kpi_cols = [c for c in (*TARGET_KPIS, *REPORTED) if c in res.final]
    kpis = res.final[kpi_cols].astype(float)
    kpis.index = range(len(kpis))
    budget = budget_totals(res)
    budget.index = range(len(budget))
    return pd.concat([kpis, budget], axis=1)


def differences(reference: Results, other: Results) -> pd.DataFrame:
    """Every KPI and budget figure of ``other`` against ``reference``, paired by replication."""
    if reference.seed != other.seed or len(reference.final) != len(other.final):
        raise SimcityQualityError("paired differences need the same seed and number of "
                                  "replications for both scenarios")
    a, b = _metrics(reference), _metrics(other)
    rows = []
    for col in a.columns.union(b.columns, sort=False):
        ra = a[col] if col in a else pd.Series(0.0, index=a.index)
        rb = b[col] if col in b else pd.Series(0.0, index=b.index)
        mean, lo, hi, n = paired_interval((rb - ra).to_numpy())
        kind = "budget" if ":" in col else ("target_kpi" if col in TARGET_KPIS else "reported")
        rows.append({"scenario": other.name, "reference": reference.name, "metric": col,
                     "kind": kind, "reference_mean": float(np.nanmean(ra)) if n else np.nan,
                     "scenario_mean": float(np.nanmean(rb)) if n else np.nan,
                     "difference": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


@renamed(firms="resolution")
def compare(scenarios: list[Scenario | str | Path], replications: int = 10, seed: int = 0,
            resolution: int | None = None, progress=True,
            uncertainty: str = "noise") -> Comparison:
    """Run every scenario on the same seeds; the first is the reference.

    Returns a :class:`Comparison` with paired differences (and 95 % intervals) of every KPI and
    budget line, and each scenario's probability of meeting each target. ``progress``: one
    progress bar over every scenario's replications (``False``: silent). ``uncertainty``:
    ``"noise"``, or ``"parameters"`` to draw the [uncertain] parameters in each replication
    (the same draws in every scenario, by the parameter rule, so the differences stay paired).
    """
    from .uncertainty import check_uncertainty

    uncertainty = check_uncertainty(uncertainty)
    if len(scenarios) < 1:
        raise SimcityQualityError("compare needs at least one scenario")
    loaded = [sc if isinstance(sc, Scenario) else load_scenario(sc) for sc in scenarios]
    check_replications(replications)
    check_seed(seed)
    for sc in loaded:  # every scenario's resolution is checked before any runs
        check_resolution(resolution, sc)
    names = [sc.name for sc in loaded]
    if len(set(names)) != len(names):
        raise SimcityQualityError(f"scenario names must differ to be compared, got {names}; "
                                  "set `name` in each file.")
    with progress_bar(progress, total=len(loaded) * replications, desc="compare") as bar:
        results = [run(sc, replications=replications, seed=seed, resolution=resolution,
                       progress=bar, uncertainty=uncertainty) for sc in loaded]
    diffs = [differences(results[0], res) for res in results[1:]]
    diff = pd.concat(diffs, ignore_index=True) if diffs else pd.DataFrame(
        columns=["scenario", "reference", "metric", "kind", "reference_mean", "scenario_mean",
                 "difference", "ci_low", "ci_high", "n"])
    att = pd.concat([res.targets.assign(scenario=res.name)[
        ["scenario", "id", "section", "threshold", "quantified_in_plan", "mean", "share_met"]]
        for res in results], ignore_index=True).assign(uncertainty=uncertainty)
    return Comparison(results, diff, att)
