"""Reports of finished runs: target tables, the budget by payer, KPI-against-target charts.

Only reads :class:`~simcity_quality.results.Results`; nothing here changes a result.
"""

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..results import Results
from ..results.files import OutputFolder


def target_table(res: Results) -> pd.DataFrame:
    """The target table of a run, rounded for reading: value, threshold, share met."""
    t = res.targets
    t = t[t["modelled"]].copy()
    return pd.DataFrame({
        "target": t["id"], "section": t["section"],
        "value": t["mean"].round(3), "sd": t["sd"].round(3),
        "threshold": t["threshold"].round(3),
        "in_plan": np.where(t["quantified_in_plan"], "yes", "reading"),
        "share_met": t["share_met"].round(2),
    }).reset_index(drop=True)


def targets_side_by_side(results: list[Results]) -> pd.DataFrame:
    """Threshold, then each scenario's mean value and share of replications meeting it."""
    first = target_table(results[0]).set_index("target")
    table = first[["section", "threshold"]].copy()
    for res in results:
        t = target_table(res).set_index("target")
        table[f"{res.name} value"] = t["value"]
        table[f"{res.name} met"] = t["share_met"]
    return table


def budget_table(res: Results) -> pd.DataFrame:
    """Spending over the whole horizon by line and payer (mean over replications, million yuan).

    Spending is positive, revenue (fines) negative; the total row is the sum of the lines.
    """
    b = res.budget_by_payer() / 1e6
    b["total"] = b.sum(axis=1)
    b.loc["total"] = b.sum(axis=0)
    return b.round(2)


def format_text(res: Results) -> str:
    """The plain-text report of one scenario (what the CLI prints)."""
    n_rep = res.final.shape[0]
    head = (f"Scenario {res.name}: {res.describe_resolution()}, {n_rep} replications, seed "
            f"{res.seed}, {res.scenario.city.base_year}-{res.scenario.horizon.end_year}")
    allq = res.targets.set_index("id").loc["all_quantified", "share_met"]
    return "\n".join([
        head, "",
        "Targets at the end of the horizon (value: mean over replications):",
        target_table(res).to_string(index=False), "",
        f"Share of replications meeting every target the plan quantifies: {allq:.2f}",
        f"Shares met are {res.describe_uncertainty()}.", "",
        "Budget over the horizon, million yuan (spending +, revenue -):",
        budget_table(res).to_string(), "",
    ])


def _panel_path(res: Results, kpi: str, trailing: bool) -> pd.DataFrame:
    """Mean and 5-95 % band of one KPI by month; a trailing-12-month KPI only from the month
    its first full window closes (December of the base year), so the start-up months, rates
    over one to eleven months of samples, are not drawn as if they were comparable."""
    g = res.timeseries.groupby("date")[kpi]
    path = pd.DataFrame({"mean": g.mean(), "low": g.quantile(0.05), "high": g.quantile(0.95)})
    if trailing:
        first_full = pd.Timestamp(res.scenario.city.base_year, 12, 1)
        path = path[pd.to_datetime(path.index) >= first_full]
    return path


def _y_range(paths: list[pd.DataFrame], threshold: float) -> tuple[float, float]:
    """0 to 100 % on every panel (every KPI is a share), widened only if a value falls outside:
    the same honest scale everywhere, never a range cut to the data."""
    lows = [p["low"].min() for p in paths if len(p)] + [threshold, 0.0]
    highs = [p["high"].max() for p in paths if len(p)] + [threshold, 1.0]
    return min(0.0, np.nanmin(lows) - 0.02), max(1.0, np.nanmax(highs) + 0.02)


def _draw_target_panel(ax, results: list[Results], target: pd.Series, colours: list) -> None:
    """One target's panel: each scenario's mean path and band, the threshold, the plan's start."""
    from matplotlib.ticker import PercentFormatter

    from ..targets import plain_name

    plain = plain_name(target["id"])
    paths = [_panel_path(res, target["kpi"], plain.trailing_12_months) for res in results]
    for i, (res, path) in enumerate(zip(results, paths, strict=True)):
        c = colours[i % len(colours)]
        ax.plot(path.index, path["mean"], color=c, label=res.name)
        ax.fill_between(path.index, path["low"], path["high"], color=c, alpha=0.2, linewidth=0)
    thr = results[0].targets.set_index("id").loc[target["id"], "threshold"]
    ax.axhline(thr, color="black", linestyle="--", linewidth=1, label="2012 target")
    first = results[0].scenario
    start = pd.Timestamp(first.policy.start_year, 1, 1)
    ax.axvline(start, color="0.5", linestyle=":", linewidth=1, label="plan's levers start")
    ax.set_xlim(pd.Timestamp(first.city.base_year, 1, 1),
                pd.Timestamp(first.horizon.end_year, 12, 31))
    ax.set_ylim(*_y_range(paths, thr))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(plain.measure, fontsize=7)
    ax.set_title(f"{plain.en} ({target['section']})\n{plain.zh}", fontsize=8.5)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", color="0.9", linewidth=0.6)


def figure_kpis_vs_targets(results: list[Results]):
    """One panel per modelled target: each scenario's mean path with the band holding 90 % of
    replications, and the threshold. Every panel spans the same years and 0-100 %; rates over
    the trailing 12 months start in December of the base year, when their first full window
    closes. Titles in English and Chinese (the CJK font of :mod:`.fonts`). Returns the figure."""
    from .fonts import chart_fonts

    first = results[0]
    targets = first.targets[first.targets["modelled"] & (first.targets["kpi"] != "")]
    n = len(targets)
    cols = 3
    rows = int(np.ceil(n / cols))
    with plt.rc_context({"font.family": chart_fonts()}):
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows + 0.6),
                                 squeeze=False)
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, (_, t) in zip(axes.ravel(), targets.iterrows(), strict=False):
            _draw_target_panel(ax, results, t, colours)
        for ax in axes.ravel()[n:]:
            ax.axis("off")
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8,
                   frameon=False)
        fig.suptitle("The 2012 targets (§2.2): mean over replications, 90 % of replications "
                     "shaded, target dashed", fontsize=10)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_kpis_vs_targets(results: list[Results], path: str | Path) -> Path:
    """:func:`figure_kpis_vs_targets` saved as a PNG at ``path``."""
    fig = figure_kpis_vs_targets(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def difference_table(comp, scenario: str) -> pd.DataFrame:
    """One scenario against the reference: every target KPI and budget line, with the paired
    difference and its 95 % interval (budget in million yuan, spending +)."""
    d = comp.differences
    d = d[(d["scenario"] == scenario) & d["kind"].isin(["target_kpi", "budget"])].copy()
    d = d[~((d["kind"] == "budget") & (d["reference_mean"] == 0) & (d["scenario_mean"] == 0)
            & (d["ci_low"] == 0) & (d["ci_high"] == 0))]  # lines neither scenario uses
    money = d["kind"] == "budget"
    cols = ["reference_mean", "scenario_mean", "difference", "ci_low", "ci_high"]
    d.loc[money, cols] = d.loc[money, cols] / 1e6
    d["metric"] = np.where(money, d["metric"] + " (M yuan)", d["metric"])
    out = d.set_index("metric")[cols]
    out.columns = [comp.reference.name, scenario, "difference", "95% low", "95% high"]
    return out.round(3)


def format_comparison(comp) -> str:
    """The plain-text comparison report (what ``simcity-quality compare`` prints)."""
    ref = comp.reference
    head = (f"Comparison against {ref.name}: {ref.describe_resolution()}, "
            f"{len(ref.final)} replications on common random numbers, seed {ref.seed}")
    parts = [head, "", "Targets at the end of the horizon (value: mean; met: share of "
             "replications meeting it):", targets_side_by_side(comp.results).to_string(),
             f"Shares met are {comp.describe_uncertainty()}.", ""]
    for res in comp.results[1:]:
        parts += [f"{res.name} minus {ref.name}, paired by replication, 95 % intervals:",
                  difference_table(comp, res.name).to_string(), ""]
    for res in comp.results:
        parts += [f"Budget of {res.name} over the horizon, million yuan (spending +, revenue -):",
                  budget_table(res).to_string(), ""]
    return "\n".join(parts)


def write_report(results: list[Results], out: str | Path | OutputFolder,
                 comparison=None) -> Path:
    """The chart and ``report.md`` of finished runs, into ``out``: a results folder being
    written (:class:`~simcity_quality.results.files.OutputFolder`, as the command line does,
    with the tables written by ``Results.write_tables`` and ``Comparison.write_tables``), or a
    folder path (a results folder of kind ``report``)."""
    if not isinstance(out, OutputFolder):
        with OutputFolder(out, "report") as folder:
            return write_report(results, folder, comparison)
    png = out.file("kpis_vs_targets.png",
                   lambda tmp: _save_figure(figure_kpis_vs_targets(results), tmp))
    text = ["# simcity_quality report", ""]
    if comparison is not None:
        text += ["```", format_comparison(comparison), "```", ""]
    else:
        for res in results:
            text += ["```", format_text(res), "```", ""]
    text += [f"![KPIs against targets]({png.name})", ""]
    return out.file("report.md", lambda tmp: tmp.write_text("\n".join(text), encoding="utf-8"))


def _save_figure(fig, path: Path) -> None:
    fig.savefig(path, dpi=110)
    plt.close(fig)
