"""The policy panel: move a lever of the plan in a notebook, see the 2012 targets and the budget.

``policy_panel(scenario)`` returns a :class:`PolicyPanel`; display it in a notebook cell. It has
sliders for the §4.2 reward amounts, the §3.4 interest-subsidy rate and the city's inspections per
year, a dropdown for whom the city inspects (§3.3), and a free field for any other lever
(``key = value``). When a control is released the panel re-runs the scenario with those levers at
a quick size, always on the same seed: the replications share their random numbers with the
previous run (common random numbers), so what changes on screen is the lever's effect, not noise.

It shows a chart of every modelled target (value against threshold, and where it stood when the
panel opened), a table of the targets (class ``sq-kpi-table``) and the budget by payer in million
yuan (class ``sq-budget-table``). A bad lever value is reported in the status line
(class ``sq-status``), never as a traceback.
"""

import html
import io
import math
import re
import time
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import BaseModel

from ..engine.ledger import REVENUE_LINES
from ..engine.resolution import check_resolution
from ..errors import ScenarioError, SimcityQualityError, renamed
from ..results import Results, run
from ..results.budget import line_totals
from ..scenario import Scenario, load_scenario, parameter_table
from . import report


@dataclass(frozen=True)
class Lever:
    """One control of the panel: a scenario key, its label, and the slider's step.

    ``upper`` is the slider's top where the scenario schema sets no upper bound (yuan amounts,
    inspection counts); it is raised to twice the scenario's own value when that is higher, so
    every shipped scenario sits inside the range. Keys with a choice (``Literal``) become a
    dropdown.
    """

    key: str
    label: str
    step: float = 1.0
    upper: float | None = None


# The panel's levers. The upper ends of unbounded sliders are four times the amounts §4.2 names
# (scenarios/the_plan.toml; twice what rewards_doubled.toml tries), and for inspections six
# times the status quo's 500 a year (scenarios/baseline.toml), the range README's optimise_mix
# example explores. The subsidy rate keeps the schema's own bounds (0-1, §3.4).
LEVERS: tuple[Lever, ...] = (
    Lever("policy.rewards.city_provincial_award", "City reward, provincial award (yuan, §4.2)",
          10_000, 200_000),
    Lever("policy.rewards.city_china_famous_brand",
          "City reward, China Famous Brand (yuan, §4.2)", 10_000, 400_000),
    Lever("policy.rewards.city_national_award", "City reward, national award (yuan, §4.2)",
          10_000, 400_000),
    Lever("policy.rewards.province_china_famous_brand",
          "Province reward, China Famous Brand (yuan, §4.2)", 50_000, 2_000_000),
    Lever("policy.rewards.province_national_award",
          "Province reward, national award (yuan, §4.2)", 50_000, 4_000_000),
    Lever("policy.subsidy.interest_subsidy_rate", "Interest subsidy, share of interest (§3.4)",
          0.05),
    Lever("policy.inspection.spot_checks_per_year", "City inspections per year (§3.3, §4.4)",
          50, 3_000),
    Lever("policy.inspection.targeting", "Whom the city inspects (§3.3)"),
)

_EXTRA_FIELD = "more levers"  # the free field's name in error messages


def _schema_field(key: str):
    """The pydantic field behind a dotted scenario key (for its type and bounds)."""
    model: type[BaseModel] = Scenario
    parts = key.split(".")
    for i, part in enumerate(parts):
        if part not in model.model_fields:
            raise ScenarioError(f"panel lever `{key}`: no such scenario parameter (expected a "
                                "dotted key that `simcity-quality params` lists).")
        field = model.model_fields[part]
        if i == len(parts) - 1:
            return field
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            break
    raise ScenarioError(f"panel lever `{key}`: `{part}` is not a table of parameters.")


def _bounds(key: str) -> dict[str, float]:
    row = next((r for r in parameter_table() if r["key"] == key), None)
    if row is None or row["members"]:
        raise ScenarioError(f"panel lever `{key}`: expected a single-valued scenario parameter "
                            "(a number or a choice), as `simcity-quality params` lists.")
    return row["bounds"]


def _control(lever: Lever, scenario: Scenario) -> widgets.ValueWidget:
    """The widget for one lever, at the scenario's value, its range from the schema's bounds."""
    field = _schema_field(lever.key)
    bounds = _bounds(lever.key)
    value = scenario.get(lever.key)
    style = {"description_width": "330px"}  # the labels name the plan's sections
    layout = widgets.Layout(width="700px")
    choices = typing.get_args(field.annotation) if typing.get_origin(
        field.annotation) is typing.Literal else ()
    if choices:
        return widgets.Dropdown(options=list(choices), value=value, description=lever.label,
                                style=style, layout=layout)
    if field.annotation not in (int, float):
        raise ScenarioError(f"panel lever `{lever.key}`: expected a number or a choice, the "
                            f"scenario holds {field.annotation.__name__}.")
    low = bounds.get("ge", bounds.get("gt", 0.0))
    high = bounds.get("le", bounds.get("lt"))
    if high is None:
        if lever.upper is None:
            raise ScenarioError(f"panel lever `{lever.key}`: the scenario sets no upper bound, "
                                "so the Lever needs an `upper` for the slider.")
        high = max(lever.upper, 2 * value)
    whole = float(lever.step).is_integer() and float(low).is_integer()
    cls = widgets.IntSlider if whole else widgets.FloatSlider
    extra = {"readout_format": ",d"} if whole else {"readout_format": ".2f"}
    if whole:
        high = int(math.ceil(high / lever.step) * lever.step)
        low, value = int(low), int(round(value))
    return cls(value=value, min=low, max=high, step=lever.step, description=lever.label,
               continuous_update=False, style=style, layout=layout, **extra)


def parse_levers(text: str) -> dict[str, Any]:
    """``"key = value; key = value"`` (or one pair a line) as a dict of overrides.

    Values are TOML values: numbers, ``true``/``false``, quoted words or lists.
    """
    changes: dict[str, Any] = {}
    for part in re.split(r"[;\n]", text):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        try:
            if not eq or not key or not value.strip():
                raise ValueError
            changes[key] = tomllib.loads(f"v = {value.strip()}")["v"]
        except (ValueError, tomllib.TOMLDecodeError):
            raise ScenarioError(
                f"panel field `{_EXTRA_FIELD}`: `{part}`: expected `key = value` with a dotted "
                "scenario key and a TOML value (a number, true/false, a quoted word), pairs "
                "separated by `;`, for example `policy.fees.fee_waiver_share = 0.8`.") from None
    return changes


class PolicyPanel:
    """Sliders for the plan's main levers, re-running the scenario on the same seed on change.

    Display ``panel`` (or ``panel.widget``) in a notebook. ``results`` holds the latest run,
    ``reference`` the run of the scenario as given; ``target_table()`` and ``budget_table()``
    are what the panel shows, as DataFrames.
    """

    def __init__(self, scenario: Scenario | str | Path, resolution: int = 2000,
                 replications: int = 8, seed: int = 0, levers: tuple[Lever, ...] = LEVERS):
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        check_resolution(resolution, self.scenario)  # before any widget is built
        self.resolution, self.replications, self.seed = resolution, replications, seed
        self.levers = tuple(levers)
        self.controls: dict[str, widgets.ValueWidget] = {
            lv.key: _control(lv, self.scenario) for lv in self.levers}
        self.extra = widgets.Text(
            value="", description="More levers (key = value; ...)", continuous_update=False,
            placeholder="e.g. policy.fees.fee_waiver_share = 0.8",
            style={"description_width": "330px"}, layout=widgets.Layout(width="700px"))
        self.status = widgets.HTML()
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.targets_html = widgets.HTML(layout=widgets.Layout(margin="0 24px 0 0"))
        self.budget_html = widgets.HTML()
        self.error: str | None = None
        self.seconds: float | None = None
        self.runs = 0
        self._last: dict | None = None
        self.reference: Results = self._run({})
        self.results: Results = self.reference
        self._last = {}
        self._render()
        for w in (*self.controls.values(), self.extra):
            w.observe(self._on_change, names="value")
        self.widget = widgets.VBox(
            [widgets.HTML(f"<b>{html.escape(self.scenario.name)}</b>: {resolution:,} of the "
                          f"city's {self.scenario.city.firms:,} enterprises simulated (money for "
                          f"the whole city), {replications} replications, seed {seed} (the "
                          "same random numbers on every run)"),
             *self.controls.values(),
             self.extra, self.status, self.chart,
             widgets.HBox([self.targets_html, self.budget_html],
                          layout=widgets.Layout(align_items="flex-start"))])
        self.widget.add_class("sq-policy-panel")

    def _ipython_display_(self):  # so that `panel` on the last line of a cell shows the widget
        from IPython.display import display
        display(self.widget)

    def overrides(self) -> dict[str, Any]:
        """The levers as the controls now set them, plus the free field's pairs."""
        changes: dict[str, Any] = {}
        for key, w in self.controls.items():
            current = self.scenario.get(key)
            value = w.value
            if isinstance(current, float):
                value = float(value)
            if value != current:  # unchanged levers keep the scenario's own (status quo) setting
                changes[key] = value
        changes.update(parse_levers(self.extra.value))
        return changes

    def _run(self, changes: dict[str, Any]) -> Results:
        sc = self.scenario.override(changes) if changes else self.scenario
        t0 = time.perf_counter()
        res = run(sc, replications=self.replications, seed=self.seed, resolution=self.resolution,
                  progress=False)  # the panel shows its own status line
        self.seconds = time.perf_counter() - t0
        self.runs += 1
        return res

    def update(self) -> bool:
        """Re-run with the controls' levers (skipped if nothing changed) and redraw.

        Returns False, with the message in the status line, when the levers are not valid.
        """
        try:
            changes = self.overrides()
            if changes == self._last:  # e.g. a bad entry put back: clear its message
                self.error = None
                self.status.value = self._done_status()
                return True
            self.status.value = '<div class="sq-status sq-running">running...</div>'
            self.results = self._run(changes)
        except SimcityQualityError as exc:
            self.error = str(exc)
            self.status.value = ('<div class="sq-status sq-error" style="color:#a00">'
                                 f"Not run: {html.escape(self.error)}</div>")
            return False
        self._last = changes
        self.error = None
        self._render()
        return True

    def _on_change(self, _change) -> None:
        try:
            self.update()
        except Exception as exc:  # a bug, not a user error: show it where the user looks
            self.status.value = ('<div class="sq-status sq-error" style="color:#a00">'
                                 f"Failed: {html.escape(type(exc).__name__)}: "
                                 f"{html.escape(str(exc))}</div>")
            raise

    # ---- what the panel shows -----------------------------------------------------------

    def target_table(self) -> pd.DataFrame:
        """Each 2012 target: mean value, change since the panel opened, threshold, share met."""
        now = report.target_table(self.results).set_index("target")
        start = report.target_table(self.reference).set_index("target")
        return pd.DataFrame({
            "section": now["section"], "value": now["value"],
            "change": (now["value"] - start["value"]).round(3),
            "threshold": now["threshold"], "share_met": now["share_met"],
        })

    def budget_table(self) -> pd.DataFrame:
        """Spending 2009-2012 by payer, million yuan, mean over replications: §4.2 rewards,
        other spending, revenue from fines and penalties (negative) and the net total."""
        return budget_by_payer(self.results)

    def _render(self) -> None:
        self.targets_html.value = (
            _table_html(self.target_table(), "sq-kpi-table", "target", _KPI_FORMATS)
            + '<div class="sq-uncertainty" style="font-size:85%">share_met: share of '
            f"replications meeting the target; {html.escape(self.results.describe_uncertainty())}"
            "</div>")
        self.budget_html.value = ("<div><b>Budget 2009-2012, million yuan</b> (mean; revenue "
                                  "negative)</div>" + _table_html(self.budget_table(),
                                                                 "sq-budget-table", "payer"))
        self.chart.value = _chart_png(self.results, self.reference)
        self.status.value = self._done_status()

    def _done_status(self) -> str:
        return (f'<div class="sq-status sq-done">Updated in {self.seconds:.2f} s '
                f"(run {self.runs}).</div>")


def budget_by_payer(res: Results) -> pd.DataFrame:
    """Spending over the horizon by payer (rows city, province, total), million yuan, mean over
    replications: rewards (§4.2 and other reward lines), other spending, revenue (negative) and
    net. Lines come from the ledger, so the columns add up to ``net``."""
    kind = {line: "revenue" if line in REVENUE_LINES
            else "rewards" if line.startswith("reward_") else "other_spending"
            for line in res.budget["line"].unique()}
    per_rep = line_totals(res.budget, group=kind, bases=())
    table = (per_rep.groupby(["payer", "line"])["yuan"].mean().unstack("line").fillna(0.0)
             / 1e6)
    table = table.reindex(columns=["rewards", "other_spending", "revenue"], fill_value=0.0)
    table = table.reindex(["city", "province"], fill_value=0.0)
    table["net"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    table.index.name, table.columns.name = "payer", None
    return table.round(2)


_KPI_FORMATS = {"value": "{:.3f}", "change": "{:+.3f}", "threshold": "{:.3f}",
                "share_met": "{:.2f}"}


def _table_html(df: pd.DataFrame, css: str, index_name: str,
                formats: dict[str, str] | None = None) -> str:
    """A plain HTML table with stable classes: each cell carries its row and column names
    (``data-row``, ``data-col``), so a browser test can read a value."""
    formats = formats or {}
    cols = list(df.columns)
    head = "".join(f'<th style="padding:1px 6px">{html.escape(c)}</th>'
                   for c in [index_name, *cols])
    rows = []
    for idx, row in df.iterrows():
        name = html.escape(str(idx))
        cells = [f'<td class="sq-row-name" style="text-align:left">{name}</td>']
        for c in cols:
            v = row[c]
            if isinstance(v, float | np.floating):
                text = "" if math.isnan(v) else formats.get(c, "{:,.2f}").format(v)
            else:
                text = str(v)
            cells.append(f'<td class="sq-cell" data-row="{name}" data-col="{html.escape(c)}" '
                         f'style="padding:1px 6px">{html.escape(text)}</td>')
        rows.append(f'<tr data-row="{name}">{"".join(cells)}</tr>')
    style = "border-collapse:collapse;font-size:12px;font-family:monospace;text-align:right"
    return (f'<table class="{css}" style="{style}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _chart_png(res: Results, reference: Results) -> bytes:
    """Each modelled target: the mean with the 5-95 % range over replications (filled), where it
    stood when the panel opened (grey ring), and the threshold (red bar). PNG bytes."""
    t = res.targets
    t = t[t["modelled"] & (t["kpi"] != "")].reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    fig = Figure(figsize=(9, 0.32 * len(t) + 1.2), dpi=90)
    ax = fig.add_subplot()
    for finals, now in ((reference.final, False), (res.final, True)):
        vals = [finals[k].to_numpy(dtype=float) for k in t["kpi"]]
        mean = np.array([np.nanmean(v) for v in vals])
        if now:
            lo = np.array([np.nanquantile(v, 0.05) for v in vals])
            hi = np.array([np.nanquantile(v, 0.95) for v in vals])
            ax.hlines(y, lo, hi, color="black", lw=2, zorder=2)
            ax.plot(mean, y, "o", ms=6, color="black", ls="none", label="now", zorder=3)
        else:  # a larger grey ring, so it stays visible under an unchanged value
            ax.plot(mean, y, "o", ms=11, mfc="none", mec="0.55", mew=1.5, ls="none",
                    label="when the panel opened", zorder=4)
    ax.plot(t["threshold"], y, "|", ms=16, mew=2.5, color="#c00", label="2012 target", zorder=1)
    ax.set_yticks(y, [f"{i} ({s})" for i, s in zip(t["id"], t["section"], strict=True)],
                  fontsize=8)
    ax.set_xlabel("value at the end of 2012 (bar: 5-95 % of replications)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="0.9")
    ax.legend(fontsize=7, loc="lower left", ncols=3, bbox_to_anchor=(0, 1.0), frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@renamed(firms="resolution")
def policy_panel(scenario: Scenario | str | Path, resolution: int = 2000, replications: int = 8,
                 seed: int = 0, levers: tuple[Lever, ...] = LEVERS) -> PolicyPanel:
    """A :class:`PolicyPanel` for ``scenario`` (a Scenario or a TOML path), already run once.

    ``resolution`` and ``replications`` set the quick size (2,000 enterprises and 8 replications
    update in about a second, docs/interactive.md); ``seed`` is shared by every re-run.
    """
    return PolicyPanel(scenario, resolution=resolution, replications=replications, seed=seed,
                       levers=levers)
