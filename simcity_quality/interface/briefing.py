"""A briefing on a comparison: one self-contained HTML page for a policy reader.

``sq.briefing(comparison, "briefing.html")`` (and ``simcity-quality compare ... --briefing
briefing.html``) writes what was compared (each scenario's description and the keys that
differ from the reference, with the plan sections they come from), the targets in plain words
in English and Chinese, the chance of meeting each with its interval, the paired effect on
every target, the paired cost by payer and line (gross, revenue and net, million yuan), charts
with labelled axes, what the number of replications and the simulated size mean for
precision, and the model's main limits, read from ``docs/ODD.md`` §8. Charts are PNG images
inlined as base64, so the page is one file that opens anywhere. Every sentence that states a
result is computed from the comparison, so no seed or size can contradict it.

Only reads results: nothing here runs the model.
"""

import base64
import datetime as dt
import html
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..results import Comparison, Results
from ..targets import plain_name
from .briefing_charts import (
    LINE_NAMES,
    PAYER_NAMES,
    attainment_chart,
    cost_chart,
    effect_chart,
    target_label,
)

ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
LIMITS_HEADING = "## 8. What is not modelled"
PLAN_ZH = "做好质量兴市工作的方案"
PLAN_EN = "Plan for doing the work of Building the City on Quality"
BASIS_LINES = ("gross", "revenue", "total")
STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; color: #1a1a1a;
       max-width: 1120px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em;
     border-bottom: 1px solid #bbb; padding-bottom: 0.15em; }
.zh { font-family: "Noto Sans CJK SC", "Noto Sans CJK JP", sans-serif; }
.subtitle { font-size: 1.15em; margin-top: 0; } .meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; white-space: nowrap; }
tr.basis td { font-weight: bold; background: #fafafa; }
img { max-width: 100%; } figure { margin: 1em 0; }
figcaption { font-size: 0.9em; color: #444; }
.edge { color: #8a4b00; } code { font-size: 0.95em; }
"""


# -- inputs --------------------------------------------------------------------------------
def model_limits(odd: str | Path | None = None) -> list[str]:
    """The bullets of the ODD's section 8, "What is not modelled", as Markdown strings (the
    briefing's "main limits"; written once, in docs/ODD.md)."""
    path = Path(odd) if odd is not None else ODD
    if not path.is_file():
        raise SimcityQualityError(f"{path}: the model description (ODD) was not found; the "
                                  "briefing reads the model's limits from its section "
                                  f"'{LIMITS_HEADING[3:]}'. Pass odd= the path of docs/ODD.md.")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(LIMITS_HEADING)), None)
    bullets: list[str] = []
    for line in lines[start + 1:] if start is not None else []:
        if line.startswith("## "):
            break
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    if not bullets:
        raise SimcityQualityError(f"{path}: no section '{LIMITS_HEADING[3:]}' with a list of "
                                  "limits ('- ' bullets); the briefing reads the model's "
                                  "limits from there.")
    return bullets


def differing_keys(reference, scenario) -> pd.DataFrame:
    """The scenario keys whose values differ from the reference's: key, the source the
    catalogue gives (a plan section, a reading or an assumption), unit, description, and both
    values. Levers under ``status_quo`` that equal the reference's are not listed."""
    from ..scenario.catalogue import field_meta
    from ..scenario.keys import flatten

    ref, other = flatten(reference.to_dict()), flatten(scenario.to_dict())
    rows = []
    for key in sorted(set(ref) | set(other)):
        if key in ("name", "description") or ref.get(key) == other.get(key):
            continue
        meta = field_meta(key) or {}
        rows.append({"key": key, "source": meta.get("source", ""), "unit": meta.get("unit", ""),
                     "description": meta.get("description", ""),
                     "reference": ref.get(key), "scenario": other.get(key)})
    return pd.DataFrame(rows, columns=["key", "source", "unit", "description", "reference",
                                       "scenario"])


# -- formatting ----------------------------------------------------------------------------
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _md(text: str) -> str:
    """Inline Markdown of the ODD (bold, code) as HTML, everything else escaped."""
    out = _e(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _zh(text: str) -> str:
    return f'<span class="zh" lang="zh-Hans">{_e(text)}</span>'


def _myuan(yuan: float) -> str:
    return "n/a" if not np.isfinite(yuan) else f"{yuan / 1e6:,.2f}"


def _pct(share: float, decimals: int = 1) -> str:
    return "n/a" if not np.isfinite(share) else f"{100 * share:.{decimals}f}"


def _value(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _cell(text: str, num: bool = False, **data) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{_e(v)}"' for k, v in data.items())
    return f'<td{" class=num" if num else ""}{attrs}>{text}</td>'


def _interval(low: float, high: float, fmt, unit: str = "", **data) -> str:
    """``low to high`` as two tagged spans (the browser test reads them back)."""
    return (f'<span data-field="low"{_data(data)}>{fmt(low)}</span> to '
            f'<span data-field="high"{_data(data)}>{fmt(high)}</span>{unit}')


def _data(data: dict) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{_e(v)}"' for k, v in data.items())


def _table(header: list[str], rows: list[str], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _png(fig) -> str:
    """A figure as an inline PNG (base64), closed afterwards."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig, alt: str, caption: str) -> str:
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{_png(fig)}">'
            f"<figcaption>{caption}</figcaption></figure>")


# -- tables of numbers ---------------------------------------------------------------------
def attainment_table(comparison: Comparison, level: float = 0.95) -> pd.DataFrame:
    """Per scenario and modelled target: the mean value at the end of the horizon with a
    t-interval of the mean, its spread across replications, and the probability of meeting
    the target with a Wilson interval (``analysis.attainment``); ``edge`` marks a target whose
    threshold lies within one standard deviation of the mean, where meeting it in a
    replication is close to a coin flip."""
    from ..analysis import attainment
    from ..results.statistics import paired_interval

    att = attainment(comparison, level=level)
    rows = []
    for res in comparison.results:
        t = res.targets.set_index("id")
        for _, a in att[att["scenario"] == res.name].iterrows():
            tid = a["target"]
            values = (res.final[t.loc[tid, "kpi"]].to_numpy(dtype=float)
                      if tid != "all_quantified" else np.array([np.nan]))
            mean, lo, hi, _ = paired_interval(values, level)
            sd = float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1 else np.nan
            edge = bool(np.isfinite(sd) and abs(mean - a["threshold"]) < sd)
            rows.append({"scenario": res.name, "target": tid, "section": a["section"],
                         "threshold": a["threshold"], "mean": mean, "mean_low": lo,
                         "mean_high": hi, "sd": sd, "probability": a["probability"],
                         "low": a["low"], "high": a["high"], "n": a["n"], "edge": edge})
    return pd.DataFrame(rows)


def effect_table(comparison: Comparison, scenario: str) -> pd.DataFrame:
    """One scenario against the reference on every target KPI: both means, the paired
    difference and its 95 % interval (shares), and whether the interval excludes zero."""
    d = comparison.differences
    d = d[(d["scenario"] == scenario) & (d["kind"] == "target_kpi")].copy()
    d["excludes_zero"] = (d["ci_low"] > 0) | (d["ci_high"] < 0)
    return d[["metric", "reference_mean", "scenario_mean", "difference", "ci_low", "ci_high",
              "excludes_zero"]].reset_index(drop=True)


def cost_table(comparison: Comparison, scenario: str) -> pd.DataFrame:
    """One scenario against the reference, over the horizon, paired by replication: each
    payer's lines, then gross, revenue and net (``analysis.paired_cost``; yuan)."""
    from ..analysis import paired_cost

    res = next(r for r in comparison.results if r.name == scenario)
    return paired_cost(res, comparison.reference)


# -- sections ------------------------------------------------------------------------------
def _scenario_of(comparison: Comparison, name: str) -> Results:
    return next(r for r in comparison.results if r.name == name)


def _others(comparison: Comparison) -> list[Results]:
    return comparison.results[1:]


def _header(comparison: Comparison) -> str:
    from .. import __version__

    ref = comparison.reference
    names = ", ".join(r.name for r in _others(comparison)) or ref.name
    return (f"<header><h1>Briefing: {_e(names)} against {_e(ref.name)}</h1>"
            f'<p class="subtitle">{_zh(PLAN_ZH)}, the "{PLAN_EN}": does it reach its 2012 '
            "targets, and what does it cost the city and the province?</p>"
            f'<p class="meta">Written {dt.date.today().isoformat()} by simcity_quality '
            f"{_e(__version__)}, an agent-based model of the city's industrial enterprises, "
            "construction contractors and service firms (docs/ODD.md). Every number below "
            "is computed from the runs it describes.</p></header>")


def _sentence_targets(att: pd.DataFrame, name: str) -> str:
    """Which targets a scenario meets in most replications, misses in most, or leaves open
    (the 95 % interval of the chance includes one half)."""
    t = att[(att["scenario"] == name) & (att["target"] != "all_quantified")]
    groups = {"met in most replications": t[t["low"] > 0.5],
              "missed in most": t[t["high"] < 0.5],
              "open (the 95 % interval of the chance includes one half)":
                  t[(t["low"] <= 0.5) & (t["high"] >= 0.5)]}
    parts = []
    for label, g in groups.items():
        if len(g):
            listed = ", ".join(f"{_e(plain_name(r.target).en)} ({_pct(r.probability, 0)} %)"
                               for r in g.itertuples())
            parts.append(f"{label}: {listed}")
    every = att[(att["scenario"] == name) & (att["target"] == "all_quantified")].iloc[0]
    return (f"<li><strong>{_e(name)}</strong>. Targets " + "; ".join(parts)
            + f". Every target the plan quantifies is met together in "
            f"{_pct(every.probability, 0)} % of replications "
            f"(95 % interval {_pct(every.low, 0)} to {_pct(every.high, 0)} %).</li>")


def _sentence_effect_and_cost(comparison: Comparison, res: Results) -> str:
    """What a scenario changes against the reference (only effects whose interval excludes
    zero are named as changes) and what it costs each payer, net and gross."""
    ref = comparison.reference.name
    eff = effect_table(comparison, res.name)
    moved = eff[eff["excludes_zero"]]
    named = ", ".join(f"{_e(plain_name(r.metric).en)} by "
                      f"{100 * r.difference:+.1f} points ({100 * r.ci_low:+.1f} to "
                      f"{100 * r.ci_high:+.1f})" for r in moved.itertuples())
    unclear = len(eff) - len(moved)
    cost = cost_table(comparison, res.name).set_index(["payer", "line"])
    city_net, city_gross = cost.loc[("city", "total")], cost.loc[("city", "gross")]
    prov_net = cost.loc[("province", "total")]
    change = (f"changes {named} (percentage points, 95 % intervals)" if len(moved)
              else "changes no target KPI by more than its 95 % interval can tell from zero")
    rest = (f"; for the other {unclear} of {len(eff)} target KPIs the 95 % interval of the "
            "change includes zero" if unclear and len(moved) else "")
    return (f"<li><strong>{_e(res.name)}</strong> against {_e(ref)}, paired: {change}{rest}. "
            f"It costs the city {_myuan(city_net.difference)} M yuan net "
            f"({_myuan(city_net.low)} to {_myuan(city_net.high)}), "
            f"{_myuan(city_gross.difference)} M yuan gross, and the province "
            f"{_myuan(prov_net.difference)} M yuan net, over "
            f"{res.scenario.city.base_year}-{res.scenario.horizon.end_year}.</li>")


def _summary(comparison: Comparison, att: pd.DataFrame) -> str:
    items = [_sentence_targets(att, r.name) for r in comparison.results]
    items += [_sentence_effect_and_cost(comparison, r) for r in _others(comparison)]
    return ("<section id='summary'><h2>In short</h2><ul>" + "".join(items) + "</ul>"
            "<p>Chances are shares of replications, with 95 % Wilson intervals; changes and "
            "costs are paired differences with 95 % t-intervals (see "
            "<a href='#precision'>How precise</a>).</p>"
            + _uncertainty_note(comparison) + "</section>")


def _uncertainty_note(comparison: Comparison) -> str:
    """Which kind of probability the chances are (noise only, or noise and the uncertain
    parameters), in one tagged paragraph, with what the other kind would add."""
    kind = comparison.uncertainty
    text = comparison.describe_uncertainty()
    text = _e(text[0].upper() + text[1:])
    if kind == "noise":
        text += (". A chance of 90 % here does not mean 90 % whatever firms turn out to be "
                 "like: to cover that, compare with <code>--uncertainty parameters</code> "
                 "(docs/uncertainty.md)")
    else:
        text += (". The chances therefore cover what is not known about firms' behaviour "
                 "within the declared priors, not only the model's random noise "
                 "(docs/uncertainty.md)")
    return (f'<p class="uncertainty" data-field="uncertainty" data-kind="{_e(kind)}">'
            f"<strong>What the chances cover.</strong> {text}.</p>")


def _shown_path(source: str) -> str:
    """A scenario's file relative to the working folder when it lies inside it."""
    try:
        return str(Path(source).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return source


def _compared(comparison: Comparison) -> str:
    ref = comparison.reference
    parts = ["<section id='compared'><h2>What was compared</h2>",
             f"<p><strong>{_e(ref.name)}</strong> (the reference, from "
             f"<code>{_e(_shown_path(ref.scenario.source))}</code>): "
             f"{_e(ref.scenario.description)}</p>"]
    for res in _others(comparison):
        keys = differing_keys(ref.scenario, res.scenario)
        rows = [("<tr>" + _cell(f"<code>{_e(k.key)}</code>") + _cell(_e(k.source))
                 + _cell(_e(k.description)) + _cell(_e(_value(k.reference)), num=True)
                 + _cell(_e(_value(k.scenario)), num=True) + _cell(_e(k.unit)) + "</tr>")
                for k in keys.itertuples()]
        parts.append(f"<p><strong>{_e(res.name)}</strong> (from "
                     f"<code>{_e(_shown_path(res.scenario.source))}</code>): "
                     f"{_e(res.scenario.description)} "
                     f"It differs from {_e(ref.name)} in {len(keys)} keys:</p>")
        parts.append(_table(["key", "plan section or source", "what it is", _e(ref.name),
                             _e(res.name), "unit"], rows))
    parts.append("<p>Each scenario's levers under <code>[policy]</code> apply from "
                 f"{ref.scenario.policy.start_year}; before that every scenario runs the "
                 "status quo, so all start from the same city.</p></section>")
    return "".join(parts)


def _targets(comparison: Comparison) -> str:
    t = comparison.reference.targets
    t = t[t["modelled"] & (t["id"] != "all_quantified")]
    rows = [("<tr>" + _cell(_e(r.section)) + _cell(_e(plain_name(r.id).en))
             + _cell(_zh(r.wording_zh)) + _cell(_e(r.wording_en))
             + _cell(f"{_pct(r.threshold, 0)} %", num=True)
             + _cell("the plan" if r.quantified_in_plan else _e(r.threshold_note))
             + "</tr>") for r in t.itertuples()]
    return ("<section id='targets'><h2>The targets (§2.2, by 2012)</h2>"
            "<p>The plan's own words in Chinese, then in English. Where the plan gives no "
            "figure, the threshold is a documented reading (a scenario may change it under "
            "<code>[targets]</code>).</p>"
            + _table(["plan", "target", "plan's wording", "in English", "threshold",
                      "threshold from"], rows) + "</section>")


def _chance_cells(a: pd.Series) -> str:
    """A scenario's value (with the interval of its mean) and chance of meeting one target."""
    tags = {"scenario": a["scenario"], "target": a["target"]}
    value = ""
    if a["target"] != "all_quantified":
        value = (f'<span data-field="mean"{_data(tags)}>{_pct(a["mean"])}</span> % '
                 f'<small>({_interval(a["mean_low"], a["mean_high"], _pct, " %")})</small>')
    edge = (" <span class='edge' title='threshold within one standard deviation of the mean'>"
            "on the edge</span>" if a["edge"] else "")
    chance = (f'<span data-field="probability"{_data(tags)}>{_pct(a["probability"], 0)}</span>'
              f" % <small>({_interval(a['low'], a['high'], _pct0, ' %', **tags)})</small>{edge}")
    return _cell(value, num=True) + _cell(chance, num=True)


def _pct0(share: float) -> str:
    return _pct(share, 0)


def _edge_note(att: pd.DataFrame) -> str:
    edges = att[att["edge"]]
    if edges.empty:
        return ""
    listed = ", ".join(f"{_e(plain_name(r.target).en)} ({_e(r.scenario)})"
                       for r in edges.itertuples())
    return ("<p class='edge'>On the edge: the threshold lies within one standard deviation of "
            "the mean, so whether a replication meets the target is close to a coin flip, and "
            "the chance shown estimates that flip rather than a result to quote; quote the "
            f"value and its interval instead. Here: {listed}.</p>")


def _attainment(comparison: Comparison, att: pd.DataFrame) -> str:
    names = [r.name for r in comparison.results]
    header = ["target", "threshold"]
    for n in names:
        header += [f"{_e(n)}: value (95 % interval of the mean)", f"{_e(n)}: chance met"]
    rows = []
    for tid in dict.fromkeys(att["target"]):
        mine = att[att["target"] == tid]
        first = mine.iloc[0]
        threshold = "" if tid == "all_quantified" else f"{_pct(first['threshold'], 0)} %"
        cells = [_cell(_e(target_label(tid, first["section"]))), _cell(threshold, num=True)]
        cells += [_chance_cells(mine[mine["scenario"] == n].iloc[0]) for n in names]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ("<section id='attainment'><h2>Will the targets be met?</h2>"
            "<p>The value is the KPI at the end of the horizon, mean over replications, with "
            "the 95 % interval of that mean. The chance is the share of replications in "
            "which the target is met, with its 95 % Wilson interval: "
            + _e(comparison.describe_uncertainty()) + ".</p>"
            + _table(header, rows) + _edge_note(att)
            + _figure(attainment_chart(att), "Chance of meeting each target, per scenario",
                      "The chance of meeting each target by the end of the horizon: dots are "
                      "shares of replications, bars their 95 % Wilson intervals.")
            + "</section>")


def _effects(comparison: Comparison) -> str:
    ref = comparison.reference.name
    sections = dict(zip(comparison.reference.targets["id"],
                        comparison.reference.targets["section"], strict=True))
    parts = ["<section id='effects'><h2>The effect on each target, paired</h2>",
             "<p>Scenario minus reference at the end of the horizon, replication by "
             "replication on the same random numbers, in percentage points with the 95 % "
             "interval of the paired difference. An interval that includes zero means this "
             "many replications cannot tell the effect from none.</p>"]
    for res in _others(comparison):
        eff = effect_table(comparison, res.name)
        rows = []
        for r in eff.itertuples():
            tags = {"scenario": res.name, "metric": r.metric}
            rows.append("<tr>" + _cell(_e(target_label(r.metric, sections[r.metric])))
                        + _cell(f"{_pct(r.reference_mean)} %", num=True)
                        + _cell(f"{_pct(r.scenario_mean)} %", num=True)
                        + _cell(f"{100 * r.difference:+.1f}", num=True, field="difference",
                                **tags)
                        + _cell(_interval(r.ci_low, r.ci_high, _points, "", **tags), num=True)
                        + _cell("yes" if r.excludes_zero else "no") + "</tr>")
        parts.append(f"<h3>{_e(res.name)} against {_e(ref)}</h3>")
        parts.append(_table(["target", _e(ref), _e(res.name), "difference, points",
                             "95 % interval", "distinguishable from zero"], rows))
        parts.append(_figure(effect_chart(eff, res.name, ref, sections),
                             f"Paired effect of {res.name} on each target",
                             f"{_e(res.name)} minus {_e(ref)} on each target KPI, percentage "
                             "points; bars are 95 % intervals of the paired difference."))
    return "".join(parts) + "</section>"


def _points(share: float) -> str:
    return f"{100 * share:+.1f}"


def _cost_rows(cost: pd.DataFrame, scenario: str) -> list[str]:
    rows = []
    for r in cost.itertuples():
        tags = {"scenario": scenario, "payer": r.payer, "line": r.line}
        cls = " class='basis'" if r.line in BASIS_LINES else ""
        rows.append(f"<tr{cls}>" + _cell(_e(PAYER_NAMES.get(r.payer, r.payer)))
                    + _cell(_e(LINE_NAMES.get(r.line, r.line)))
                    + _cell(_myuan(r.baseline), num=True, field="reference", **tags)
                    + _cell(_myuan(r.reform), num=True, field="scenario", **tags)
                    + _cell(_myuan(r.difference), num=True, field="difference", **tags)
                    + _cell(_interval(r.low, r.high, _myuan, "", **tags), num=True) + "</tr>")
    return rows


def _cost(comparison: Comparison) -> str:
    ref = comparison.reference
    years = f"{ref.scenario.city.base_year}-{ref.scenario.horizon.end_year}"
    parts = ["<section id='cost'><h2>What it costs, and who pays</h2>",
             f"<p>Million yuan over {years}, mean over replications; spending is positive, "
             "revenue (fines and penalties collected) negative. <em>Gross</em> is all "
             "spending, <em>net</em> is spending less revenue; the lines add up to them. The "
             "difference is paired by replication, with its 95 % interval. Lines neither "
             "scenario uses are left out.</p>"]
    for res in _others(comparison):
        cost = cost_table(comparison, res.name)
        order = {"city": 0, "province": 1, "all": 2}
        cost = cost.assign(_p=cost["payer"].map(order),
                           _b=cost["line"].isin(BASIS_LINES)).sort_values(
            ["_p", "_b"], kind="stable").drop(columns=["_p", "_b"])
        parts.append(f"<h3>{_e(res.name)} against {_e(ref.name)}</h3>")
        parts.append(_table(["payer", "line", _e(ref.name), _e(res.name), "difference",
                             "95 % interval"], _cost_rows(cost, res.name)))
        parts.append(_figure(cost_chart(cost, res.name, ref.name),
                             f"Paired cost of {res.name} by payer and line",
                             f"{_e(res.name)} minus {_e(ref.name)} by payer and line over "
                             f"{years}, million yuan; dark bars are each payer's net total, "
                             "error bars 95 % intervals of the paired difference."))
    return "".join(parts) + "</section>"


def _paths(comparison: Comparison) -> str:
    from .report import figure_kpis_vs_targets

    sc = comparison.reference.scenario
    return ("<section id='paths'><h2>The paths to 2012</h2>"
            + _figure(figure_kpis_vs_targets(comparison.results),
                      "Each target's KPI month by month, per scenario",
                      "One panel per target, named in English and Chinese: the mean over "
                      "replications, the band holding 90 % of them, the target dashed, and "
                      f"the start of the plan's levers ({sc.policy.start_year}) dotted. Every "
                      "panel runs from 0 to 100 % over the same years. Rates over the last 12 "
                      f"months start in December {sc.city.base_year}, when their first full "
                      "window closes.") + "</section>")


def replications_for_half_width(half_width: float, level: float = 0.95,
                                probability: float = 0.5) -> int:
    """The fewest replications whose Wilson interval at ``probability`` is at most
    ``half_width`` either side (the widest case is a probability of one half)."""
    from ..results.statistics import wilson_interval

    def narrow_enough(n: int) -> bool:
        lo, hi = wilson_interval(probability * n, n, level)
        return bool((hi - lo) / 2 <= half_width)

    high = 1
    while not narrow_enough(high):  # the width falls as n grows: double, then bisect
        high *= 2
    low = high // 2 + 1 if high > 1 else 1
    while low < high:
        mid = (low + high) // 2
        if narrow_enough(mid):
            high = mid
        else:
            low = mid + 1
    return high


def _resolution(res: Results) -> str:
    """What the simulated size means for the money and counts shown."""
    city = res.scenario.city
    if res.resolution >= city.firms:
        return (f"<li>The runs simulated the whole city of the scenario: {res.resolution:,} "
                "industrial enterprises, with its contractors and service firms.</li>")
    return (f"<li><strong>Resolution.</strong> The runs simulated {res.resolution:,} of the "
            f"city's {city.firms:,} industrial enterprises (docs/ODD.md §7.13): large firms, "
            "title holders and every firm a count-limited mechanism picks out (an inspection, "
            "a title, a key project) are simulated one each; the other medium and small firms "
            "are a sample of each size, each standing for several identical ones. Money, "
            "counts and targets are for the whole city; a lower resolution makes them noisier, not "
            "smaller.</li>")


def _precision(comparison: Comparison, att: pd.DataFrame) -> str:
    from ..results.statistics import wilson_interval

    ref = comparison.reference
    n = len(ref.final)
    lo, hi = wilson_interval(n / 2, n)
    need = replications_for_half_width(0.05)
    widest = att.assign(width=att["high"] - att["low"]).sort_values("width").iloc[-1]
    items = [
        f"<li><strong>{n} replications</strong> of each scenario, seed {ref.seed}. A "
        "replication is one run of the city from January "
        f"{ref.scenario.city.base_year} to December {ref.scenario.horizon.end_year} with its "
        "own random numbers. The same seed gives the same numbers on any machine.</li>",
        "<li><strong>Common random numbers.</strong> Replication r of every scenario uses the "
        "same random numbers (the same firms, the same luck), so the difference between two "
        "scenarios in a replication is the effect of their levers, and the paired "
        "intervals are far narrower than the spread of either scenario.</li>",
        f"<li><strong>Chances.</strong> With {n} replications, a chance estimated at 50 % has "
        f"a 95 % interval from {_pct(float(lo), 0)} to {_pct(float(hi), 0)} %; narrowing "
        f"it to 5 points either side takes about {need} replications. The widest interval "
        f"here is {_e(plain_name(widest.target).en)} under {_e(widest.scenario)}: "
        f"{_pct(widest.low, 0)} to {_pct(widest.high, 0)} %.</li>",
        _resolution(ref),
    ]
    return ("<section id='precision'><h2>How precise these numbers are</h2><ul>"
            + "".join(items) + "</ul></section>")


def _limits(odd: str | Path | None) -> str:
    items = "".join(f"<li>{_md(b)}</li>" for b in model_limits(odd))
    return ("<section id='limits'><h2>The model's main limits</h2>"
            "<p>From the model description (docs/ODD.md, §8 \"What is not modelled\"); the "
            "results above say nothing about these.</p><ul>" + items + "</ul></section>")


def reproduce_command(comparison: Comparison, briefing: str = "briefing.html") -> str | None:
    """The command line that reruns this comparison and writes the briefing, or None when a
    scenario was not loaded from a file (built with ``override`` in Python)."""
    sources = [r.scenario.source for r in comparison.results]
    if not all(s.endswith(".toml") and Path(s).is_file() for s in sources):
        return None
    ref = comparison.reference
    city = ref.scenario.city
    default = city.resolution or city.firms
    resolution = "" if ref.resolution == default else f" --resolution {ref.resolution}"
    return (f"simcity-quality compare {' '.join(sources)} -r {len(ref.final)} --seed "
            f"{ref.seed}{resolution} --briefing {briefing}")


def _reproduce(comparison: Comparison) -> str:
    cmd = reproduce_command(comparison)
    how = (f"<p>To run it again: <code>{_e(cmd)}</code></p>" if cmd else
           "<p>At least one scenario was built in Python rather than loaded from a file, so "
           "no command line reproduces it; its source is named above.</p>")
    return ("<section id='reproduce'><h2>Reproducing this briefing</h2>" + how
            + "<p>The tables behind it are written by <code>Comparison.write</code> (and by "
            "<code>simcity-quality compare -o FOLDER</code>): differences, attainment and each "
            "scenario's tables, as Parquet and CSV.</p></section>")


# -- the page ------------------------------------------------------------------------------
def briefing_html(comparison: Comparison, odd: str | Path | None = None) -> str:
    """The briefing as one HTML document (charts inlined as base64 PNG)."""
    if not isinstance(comparison, Comparison):
        raise SimcityQualityError(f"a briefing needs a Comparison (sq.compare), got "
                                  f"{type(comparison).__name__}.")
    limits = _limits(odd)  # read first: a missing ODD fails before any chart is drawn
    att = attainment_table(comparison)
    names = " and ".join(r.name for r in comparison.results)
    body = [_header(comparison), _summary(comparison, att), _compared(comparison),
            _precision(comparison, att), _targets(comparison), _attainment(comparison, att),
            _effects(comparison), _cost(comparison), _paths(comparison), limits,
            _reproduce(comparison)]
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Briefing: {_e(names)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def briefing(comparison: Comparison, path: str | Path, odd: str | Path | None = None) -> Path:
    """Write the briefing on ``comparison`` (``sq.compare``) to ``path``, an ``.html`` file:
    one self-contained page (module docstring). The file appears whole or not at all.
    ``odd``: the model description whose §8 lists the limits (default docs/ODD.md)."""
    path = Path(path)
    check_briefing_path(path)
    page = briefing_html(comparison, odd)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def check_briefing_path(path: str | Path) -> None:
    """Refuse a briefing path that is not an ``.html`` file (checked before any run)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise SimcityQualityError(f"{path}: a briefing is an HTML page; give a file name "
                                  "ending in .html, for example results/demo/briefing.html.")
    if path.is_dir():
        raise SimcityQualityError(f"{path}: this is a folder; give the briefing's file name, "
                                  f"for example {path / 'briefing.html'}.")
