"""Plots of the analysis, readable in black-and-white print: greys, hatches, line styles and
error bars rather than colour alone. Each function returns a matplotlib Figure."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

STYLES = ["-", "--", ":", "-."]
GREYS = ["0.15", "0.45", "0.7", "0.85"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "--", "oo"]


def fan_chart(results, kpi: str, threshold: float | None = None, ax=None):
    """One KPI over time for each Results: median line, 50 % and 90 % bands, the threshold."""
    results = results if isinstance(results, list) else [results]
    fig, ax = _axes(ax, (6, 3.5))
    for i, res in enumerate(results):
        g = res.timeseries.groupby("date")[kpi]
        q = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        ax.fill_between(q.index, q[0.05], q[0.95], color=GREYS[i % 4], alpha=0.25, lw=0)
        ax.fill_between(q.index, q[0.25], q[0.75], color=GREYS[i % 4], alpha=0.45, lw=0)
        ax.plot(q.index, q[0.5], color="black", ls=STYLES[i % 4], label=res.name)
    if threshold is None:
        t = results[0].targets.set_index("kpi")
        threshold = float(t.loc[kpi, "threshold"]) if kpi in t.index else None
    if threshold is not None:
        ax.axhline(threshold, color="black", lw=1.5, ls=(0, (6, 2)), label="target")
    ax.set_title(f"{kpi}: median, 50 % and 90 % of replications")
    ax.legend(fontsize=8)
    return fig


def attainment_bars(table: pd.DataFrame, group: str | None = None, ax=None):
    """Probability of meeting each target with its interval (from ``analysis.attainment``)."""
    fig, ax = _axes(ax, (7, 3.8))
    groups = [None] if group is None else list(table[group].unique())
    targets = list(dict.fromkeys(table["target"]))
    width = 0.8 / len(groups)
    x = np.arange(len(targets))
    for i, gval in enumerate(groups):
        t = table if gval is None else table[table[group] == gval]
        t = t.set_index("target").reindex(targets)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, t["probability"], width, color=GREYS[i % 4], edgecolor="black",
               hatch=HATCHES[i % len(HATCHES)], label=None if gval is None else str(gval))
        ax.errorbar(pos, t["probability"], yerr=[(t["probability"] - t["low"]).clip(lower=0),
                                                 (t["high"] - t["probability"]).clip(lower=0)],
                    fmt="none", ecolor="black", capsize=3)
    ax.set_xticks(x, targets, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("probability met")
    if group is not None:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def budget_stack(summary: pd.DataFrame, payer: str = "city", ax=None):
    """Spending per year stacked by line (from ``analysis.budget_summary``), million yuan."""
    fig, ax = _axes(ax, (8, 3.8))
    s = summary[(summary["payer"] == payer) & (summary["line"] != "total")]
    wide = s.pivot(index="year", columns="line", values="mean").fillna(0.0) / 1e6
    wide = wide.loc[:, (wide != 0).any()]
    pos_base = np.zeros(len(wide))
    neg_base = np.zeros(len(wide))
    for i, line in enumerate(wide.columns):
        v = wide[line].to_numpy()
        base = np.where(v >= 0, pos_base, neg_base)
        ax.bar(wide.index, v, bottom=base, color=GREYS[i % 4], edgecolor="black",
               hatch=HATCHES[i % len(HATCHES)], label=line)
        pos_base += np.where(v >= 0, v, 0)
        neg_base += np.where(v < 0, v, 0)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("million yuan (spending +, revenue -)")
    ax.set_title(f"Budget of the {payer} by line")
    ax.set_xticks(wide.index, [str(y) for y in wide.index])
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def frontier_plot(evaluations: pd.DataFrame, frontier: pd.DataFrame, budget: float | None = None,
                  ax=None, cost_label: str = "expected spending"):
    """Every mix tried (grey) and the cost-versus-objective frontier (black, with intervals);
    ``cost_label`` names the cost (e.g. ``"city gross cost"``)."""
    fig, ax = _axes(ax, (6, 3.8))
    ax.scatter(evaluations["cost"] / 1e6, evaluations["objective"], s=10, color="0.6",
               label="mixes tried")
    ax.errorbar(frontier["cost"] / 1e6, frontier["objective"],
                yerr=[frontier["objective"] - frontier["low"],
                      frontier["high"] - frontier["objective"]],
                color="black", marker="o", capsize=3, label="frontier")
    if budget is not None:
        ax.axvline(budget / 1e6, color="black", ls="--", label="budget")
    ax.set_xlabel(f"{cost_label}, million yuan")
    ax.set_ylabel("objective")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cheapest_mix_plot(result, ax=None):
    """A ``cheapest_mix`` search: every mix tried by cost and attainment (filled: qualifies,
    open: short or uncertain), its one-sided bounds, the explored frontier, the required
    probability and the answer (a star), or the best reached when nothing qualifies."""
    fig, ax = _axes(ax, (6, 3.8))
    t = result.evaluations
    x = t["cost"] / 1e6
    ax.errorbar(x, t["attainment"], yerr=[t["attainment"] - t["lower"],
                                          t["upper"] - t["attainment"]],
                fmt="none", ecolor="0.75", lw=0.8)
    q = t["status"] == "qualifies"
    ax.scatter(x[~q], t.loc[~q, "attainment"], s=18, facecolor="white", edgecolor="0.3",
               label="short or uncertain")
    ax.scatter(x[q], t.loc[q, "attainment"], s=18, color="0.3", label="qualifies")
    f = result.frontier
    ax.step(f["cost"] / 1e6, f["attainment"], where="post", color="black", lw=1,
            label="frontier")
    ax.axhline(result.probability, color="black", ls="--", lw=1, label="required")
    if result.mix is not None:
        ax.plot([result.cost.value / 1e6], [result.attainment.value], marker="*", ms=14,
                color="black", ls="none", label="cheapest qualifying")
    else:
        at = np.logical_and.reduce([t[k] == v for k, v in result.best_mix.items()])
        best = t[at].iloc[0]
        ax.plot([best["cost"] / 1e6], [best["attainment"]], marker="X", ms=10, color="black",
                ls="none", label="best reached (none qualifies)")
    basis = "gross" if result.basis == "gross" else "net of fines"
    ax.set_xlabel(f"{result.payer} cost over the horizon ({basis}), million yuan")
    ax.set_ylabel("P(targets met), one-sided bounds")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def sensitivity_bars(table: pd.DataFrame, output: str, ax=None):
    """Morris mu* with intervals for one output, against the replication noise."""
    fig, ax = _axes(ax, (6, 3.8))
    t = table[table["output"] == output].sort_values("mu_star")
    y = np.arange(len(t))
    ax.barh(y, t["mu_star"], color="0.6", edgecolor="black")
    ax.errorbar(t["mu_star"], y, xerr=[t["mu_star"] - t["mu_star_low"],
                                       t["mu_star_high"] - t["mu_star"]],
                fmt="none", ecolor="black", capsize=3)
    if "noise_sd" in t:
        ax.axvline(float(t["noise_sd"].iloc[0]), color="black", ls=":", label="noise sd")
        ax.legend(fontsize=8)
    ax.set_yticks(y, t["parameter"], fontsize=8)
    ax.set_xlabel(f"mu* of {output} (per full range)")
    fig.tight_layout()
    return fig


def prim_tradeoff(result, ax=None):
    """PRIM's peeling trajectory: coverage against density, the chosen box marked."""
    fig, ax = _axes(ax, (5, 3.8))
    t = result.trajectory
    ax.plot(t["coverage"], t["density"], color="black", marker=".", lw=1)
    c = t.loc[result.chosen]
    ax.plot([c["coverage"]], [c["density"]], marker="s", ms=9, mfc="none", mec="black",
            label=f"chosen box ({int(c['n_restricted'])} parameters)")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _axes(ax, size):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax
