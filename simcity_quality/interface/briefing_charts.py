"""The briefing's charts: attainment with Wilson intervals, paired effects in percentage
points and paired cost by payer and line, each with labelled axes and units, drawn with the
fonts of :mod:`.fonts` (the paths chart is :func:`.report.figure_kpis_vs_targets`)."""

import numpy as np
import pandas as pd

from ..targets import plain_name

# ledger lines in plain words, with the plan sections they come from (engine/ledger.py)
LINE_NAMES = {
    "reward_national_award": "rewards for national awards (§4.2)",
    "reward_china_famous_brand": "rewards for China Famous Brand titles (§4.2)",
    "reward_provincial_award": "rewards for provincial awards (§4.2)",
    "interest_subsidy": "interest subsidies on key projects (§3.4)",
    "fee_waiver": "fees waived (§4.2)",
    "procurement_preference": "procurement preference, extra price paid (§3.1)",
    "inspection_cost": "city product inspections (§3.3, §4.4)",
    "campaign_cost": "awareness campaigns (§4.5)",
    "fines_collected": "quality inspection fines collected (§4.4; revenue)",
    "discharge_fines": "fines on sources over their discharge limit (§3.3; revenue)",
    "construction_supervision": "supervision of construction works (§2.2.2, §3.3)",
    "construction_penalties": "penalties on failed works (§2.2.2b; revenue)",
    "reward_excellent_works": "rewards for excellent works (§2.2.2c)",
    "reward_service_demonstration": "rewards for service demonstration units (§3.2)",
    "service_standard_grant": "grants for service standards (§2.2.3)",
    "urban_wastewater_treatment": "municipal wastewater treatment plants (outside the plan; "
                                  "§2.2.4b)",
    "gross": "gross: all spending",
    "revenue": "revenue: fines and penalties",
    "total": "net: spending less revenue",
}
PAYER_NAMES = {"city": "City", "province": "Province", "all": "Both payers"}


def _chart_context():
    import matplotlib.pyplot as plt

    from .fonts import chart_fonts

    return plt.rc_context({"font.family": chart_fonts(), "font.size": 9})


def target_label(tid: str, section: str) -> str:
    """A target's short English name with its plan section, e.g. "Factory pass rate
    (§2.2.1c)"."""
    return f"{plain_name(tid).en} ({section})"


def attainment_chart(table: pd.DataFrame):
    """The chance of meeting each target, per scenario, with its Wilson interval (0-100 %)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    scenarios = list(dict.fromkeys(table["scenario"]))
    targets = list(dict.fromkeys(table["target"]))
    with _chart_context():
        fig, ax = plt.subplots(figsize=(9, 0.42 * len(targets) + 1.4))
        for i, name in enumerate(scenarios):
            t = table[table["scenario"] == name].set_index("target").reindex(targets)
            y = np.arange(len(targets)) + (i - (len(scenarios) - 1) / 2) * 0.22
            err = [(t["probability"] - t["low"]).clip(lower=0),
                   (t["high"] - t["probability"]).clip(lower=0)]
            ax.errorbar(t["probability"], y, xerr=err, fmt="o", capsize=3, label=name)
        sections = table.drop_duplicates("target").set_index("target")["section"]
        ax.set_yticks(np.arange(len(targets)),
                      [target_label(tid, sections[tid]) for tid in targets])
        ax.invert_yaxis()
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("chance of meeting the target by the end of the horizon\n"
                      "(share of replications, 95 % Wilson interval)")
        ax.grid(axis="x", color="0.9")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(scenarios),
                  frameon=False)
        fig.tight_layout()
    return fig


def effect_chart(effects: pd.DataFrame, scenario: str, reference: str, sections: dict):
    """Paired differences on every target KPI in percentage points, with 95 % intervals and
    the zero line (the axis always includes zero)."""
    import matplotlib.pyplot as plt

    with _chart_context():
        fig, ax = plt.subplots(figsize=(9, 0.42 * len(effects) + 1.2))
        y = np.arange(len(effects))
        diff = 100 * effects["difference"]
        err = [100 * (effects["difference"] - effects["ci_low"]),
               100 * (effects["ci_high"] - effects["difference"])]
        ax.errorbar(diff, y, xerr=err, fmt="o", color="black", capsize=3)
        ax.axvline(0, color="0.4", linewidth=1)
        ax.set_yticks(y, [target_label(m, sections[m]) for m in effects["metric"]])
        ax.invert_yaxis()
        ends = np.abs(100 * effects[["difference", "ci_low", "ci_high"]].to_numpy(dtype=float))
        ends = ends[np.isfinite(ends)]  # one replication has no interval
        span = max(float(ends.max()) if ends.size else 0.0, 0.5) * 1.15
        ax.set_xlim(-span, span)
        ax.set_xlabel(f"{scenario} minus {reference} at the end of the horizon,\n"
                      "percentage points (paired, 95 % interval)")
        ax.grid(axis="x", color="0.9")
        fig.tight_layout()
    return fig


def cost_chart(cost: pd.DataFrame, scenario: str, reference: str):
    """Paired extra spending by payer and line over the horizon, million yuan, with 95 %
    intervals (spending positive, revenue negative); the net totals last."""
    import matplotlib.pyplot as plt

    lines = cost[(cost["payer"] != "all") & ~cost["line"].isin(("gross", "revenue"))]
    lines = lines[(lines["difference"] != 0) | (lines["line"] == "total")]
    labels = [f"{PAYER_NAMES[p]}: {LINE_NAMES.get(ln, ln)}" for p, ln in
              zip(lines["payer"], lines["line"], strict=True)]
    with _chart_context():
        fig, ax = plt.subplots(figsize=(9, 0.36 * len(lines) + 1.3))
        y = np.arange(len(lines))
        diff = lines["difference"] / 1e6
        err = [(lines["difference"] - lines["low"]) / 1e6,
               (lines["high"] - lines["difference"]) / 1e6]
        colours = ["0.25" if ln == "total" else "0.6" for ln in lines["line"]]
        ax.barh(y, diff, color=colours, xerr=err, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"{scenario} minus {reference}, million yuan over the horizon\n"
                      "(spending +, revenue -; paired, 95 % interval)")
        ax.grid(axis="x", color="0.9")
        fig.tight_layout()
    return fig
