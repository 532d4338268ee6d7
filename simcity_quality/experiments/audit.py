"""The lever audit: each of the plan's levers off, at the plan and high, every other lever at
the plan, on common random numbers; what each moves and what it costs (``sq.lever_audit``,
``simcity-quality levers SCENARIO``).

The levers and how their settings are made are the registry
:data:`~simcity_quality.scenario.plan_levers.PLAN_LEVERS` (off: the lever without the plan;
high: a multiple of the plan's values capped at the schema's bounds, or a natural extreme).
The scenario runs once as it is (the plan) and once per lever and setting with only that
lever's keys changed; every run uses the seed rule
(:func:`~simcity_quality.results.replication_seed`), so replication ``r`` of every scenario
shares its random numbers and each difference against *off* is paired. Every scenario is built
and validated before the first run, so a bad lever name, a scenario that leaves a lever off,
or a value the schema refuses stops the audit at once.

Reported, against the lever off, for the plan's setting and the high one:

- ``effects``: every target's change in percentage points with its 95 % interval
  (:func:`~simcity_quality.results.paired.target_changes`, the numbers of
  :func:`~simcity_quality.results.compare.differences`);
- ``costs``: the change of each payer's cost (city, province, all) over the horizon, gross and
  net of fines, with 95 % intervals (the one cost definition,
  :func:`~simcity_quality.results.budget.cost`);
- ``cost_per_point``: the mean cost change over the mean change of each target in percentage
  points, NaN ("no effect") where that change's interval covers zero
  (:func:`~simcity_quality.results.paired.cost_per_point`);
- ``differences``: every KPI, reported count and budget line, for tracing a mechanism.

Common random numbers tell very small changes from zero. A change whose interval excludes zero
but which is smaller than :data:`NEGLIGIBLE_POINTS` (a tenth of a percentage point, invisible
against any threshold of §2.2) is kept in every table, with its cost per point, but the printed
summaries call it negligible rather than say the lever moves the target (``material``: the
interval excludes zero and the change is at least that large).
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results import Results, display, run
from ..results.compare import differences
from ..results.paired import cost_changes, cost_per_point, target_changes
from ..results.progress import progress_bar
from ..scenario import Scenario, load_scenario
from ..scenario.plan_levers import (
    HIGH_MULTIPLE,
    OUTSIDE_PLAN_LEVERS,
    PLAN_LEVERS,
    PlanLever,
    plan_lever,
)

SETTINGS_RUN = ("plan", "high")  # compared against off
NEGLIGIBLE_POINTS = 0.1  # a change told from zero but under this (points) is negligible
MONEY_COLUMNS = (("city", "gross"), ("city", "net"), ("all", "gross"), ("all", "net"))
OUTPUTS = (".csv", ".parquet")


@dataclass(repr=False)
class LeverAudit:
    """What :func:`lever_audit` found (module docstring). Money is in yuan over the horizon,
    changes of targets in percentage points; every difference is a setting minus the lever off,
    paired by replication, with a 95 % t-interval.

    ``settings``: each lever's keys with their off, plan and high values; ``high_is_plan``: the
    levers whose high setting is the plan's (already at its extreme: not run twice);
    ``results``: every run, by scenario name (``"the_plan"``, ``"the_plan [rewards off]"``).
    """

    scenario: Scenario
    seed: int
    replications: int
    resolution: int
    multiple: float
    levers: list[PlanLever]
    settings: pd.DataFrame
    effects: pd.DataFrame
    costs: pd.DataFrame
    cost_per_point: pd.DataFrame
    differences: pd.DataFrame
    high_is_plan: list[str] = field(default_factory=list)
    results: dict[str, Results] = field(default_factory=dict)
    uncertainty: str = "noise"  # what the shares met cover (results.uncertainty)

    # -- reading ------------------------------------------------------------------------
    def describe_uncertainty(self) -> str:
        """What the shares of replications meeting a target cover, in words."""
        from ..results.uncertainty import describe_uncertainty, drawn_keys

        drawn = (len(drawn_keys(self.scenario, {})) if self.uncertainty == "parameters"
                 else None)
        return describe_uncertainty(self.uncertainty, drawn)

    def describe_resolution(self) -> str:
        """How many of the city's firms were simulated, in words."""
        city = self.scenario.city.firms
        if self.resolution >= city:
            return f"all {city:,} firms of the city simulated"
        return f"{self.resolution:,} of the city's {city:,} firms simulated (money for the city)"

    def _targets_where(self, mask) -> dict[str, list[str]]:
        hit = self.effects[mask]
        return {lv.id: list(dict.fromkeys(hit.loc[hit["lever"] == lv.id, "target"]))
                for lv in self.levers}

    def moved(self) -> dict[str, list[str]]:
        """Per lever id, the targets it moves (at the plan's setting or the high one): the
        change's 95 % interval excludes zero and the change is at least
        :data:`NEGLIGIBLE_POINTS`; an empty list: the lever moves no target that much."""
        return self._targets_where(self.effects["material"])

    def negligible(self) -> dict[str, list[str]]:
        """Per lever id, the targets whose change is told from zero but smaller than
        :data:`NEGLIGIBLE_POINTS` at every setting where it is told."""
        moved = self.moved()
        told = self._targets_where(self.effects["effect"])
        return {k: [t for t in v if t not in moved[k]] for k, v in told.items()}

    def no_effect(self) -> list[str]:
        """The levers that change no target at either setting (every interval covers
        zero)."""
        return [k for k, v in self._targets_where(self.effects["effect"]).items() if not v]

    def table(self) -> pd.DataFrame:
        """Everything in one long table (what ``-o`` writes): one row per lever, setting and
        measure; ``kind`` ``"target"`` (change in percentage points, with the yuan per point
        of each payer and basis) or ``"cost"`` (change in yuan)."""
        per_point = self.cost_per_point.assign(
            col=lambda d: d["payer"] + "_" + d["basis"] + "_yuan_per_point").pivot_table(
            index=["lever", "setting", "target"], columns="col", values="yuan_per_point",
            dropna=False, sort=False).reset_index()
        per_point.columns.name = None
        e = self.effects.drop(columns="material").rename(
            columns={"target": "metric", "change_points": "difference",
                     "target_section": "metric_section"})
        e = e.assign(kind="target", unit="percentage points").merge(
            per_point.rename(columns={"target": "metric"}), on=["lever", "setting", "metric"],
            how="left")
        c = self.costs.assign(kind="cost", unit="yuan",
                              metric=self.costs["payer"] + ":" + self.costs["basis"],
                              metric_section="")
        c["effect"] = _excludes_zero(c)
        first = ["lever", "section", "setting", "kind", "metric", "metric_section", "unit",
                 "off_mean", "mean", "difference", "ci_low", "ci_high", "n", "effect"]
        rest = [x for x in e.columns if x.endswith("_per_point")]
        return pd.concat([e[first + rest], c[first]], ignore_index=True)

    def write(self, path: str | Path) -> Path:
        """:meth:`table` as CSV or Parquet, by the file's extension."""
        path = check_output(path)
        from ..results.files import atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        table = self.table()
        atomic(table.to_csv if path.suffix == ".csv" else table.to_parquet, path, index=False)
        return path

    # -- printing -----------------------------------------------------------------------
    def _title(self) -> str:
        return (f"Lever audit of {self.scenario.name!r}: {self.replications} paired "
                f"replications, seed {self.seed}, {self.describe_resolution()}")

    def _legend(self) -> str:
        return (f"each lever off, at the plan and high (x{self.multiple:g} or its extreme), the "
                "other levers at the plan; change against off in percentage points of each "
                "target's KPI (* its 95 % interval excludes zero; ~ it does, but the change "
                f"is under {NEGLIGIBLE_POINTS:g} points; 0 no change in any replication) and "
                "of the cost over the horizon, million yuan")

    def matrix(self) -> tuple[list[str], list[list[str]]]:
        """The printed table: a header and one row per lever and setting."""
        targets = list(dict.fromkeys(self.effects["target_section"]))
        header = ["lever", "setting", *targets,
                  *[f"{p} {'gross' if b == 'gross' else 'net'}" for p, b in MONEY_COLUMNS]]
        rows = []
        for lv in self.levers:
            for i, setting in enumerate(s for s in SETTINGS_RUN
                                        if not (s == "high" and lv.id in self.high_is_plan)):
                eff = self.effects[(self.effects["lever"] == lv.id)
                                   & (self.effects["setting"] == setting)]
                eff = eff.set_index("target_section")
                cost = self.costs[(self.costs["lever"] == lv.id)
                                  & (self.costs["setting"] == setting)].set_index(
                                      ["payer", "basis"])
                rows.append([lv.id if i == 0 else "", setting,
                             *[_points(eff.loc[t]) for t in targets],
                             *[display.million(cost.loc[(p, b), "difference"])
                               for p, b in MONEY_COLUMNS]])
        return header, rows

    def _notes(self) -> list[str]:
        notes = ["shares met: " + self.describe_uncertainty()]
        moved, small = self.moved(), self.negligible()
        quiet = self.no_effect()
        if quiet:
            notes.append("change no target (every interval covers zero, at the plan and "
                         "high): " + ", ".join(quiet))
        tiny = [f"{k} ({', '.join(small[k])})" for k in small if small[k] and not moved[k]]
        if tiny:
            notes.append(f"change targets only by less than {NEGLIGIBLE_POINTS:g} points "
                         "(told from zero on common random numbers, too little to matter): "
                         + "; ".join(tiny))
        for k in self.high_is_plan:
            notes.append(f"{k}: the plan already has it at its extreme, so high is the plan")
        for lv in self.levers:
            if moved[lv.id]:
                cpp = self.cost_per_point
                notes.append(f"{lv.id} moves {', '.join(moved[lv.id])}" + _per_point_text(
                    cpp[(cpp["lever"] == lv.id) & cpp["material"]]))
        notes += [f"{lv.id}: {lv.title}; {lv.rules(self.multiple)}" for lv in self.levers]
        notes.append("tables: .effects .costs .cost_per_point .settings .differences "
                     ".table(); every run: .results")
        return notes

    def __repr__(self) -> str:
        header, rows = self.matrix()
        return "\n".join([self._title(), _wrap(self._legend()), _plain(header, rows),
                          *[f"  - {n}" for n in self._notes()]])

    def _repr_html_(self) -> str:
        header, rows = self.matrix()
        return display.html_table(self._title(), header, rows, [self._legend(), *self._notes()])

    def to_markdown(self) -> str:
        """The audit as Markdown: settings, effects with intervals, costs, cost per point
        (what ``benchmarks/lever_audit.py`` writes into docs/findings.md)."""
        from .audit_markdown import markdown

        return markdown(self)


def check_output(path: str | Path) -> Path:
    """``-o``: a ``.csv`` or ``.parquet`` file (refused before anything runs otherwise)."""
    path = Path(path)
    if path.suffix not in OUTPUTS or path.is_dir():
        raise SimcityQualityError(f"{path}: the lever audit writes its table as a .csv or "
                                  ".parquet file; give a file name ending in one of them.")
    return path


def _excludes_zero(frame: pd.DataFrame) -> pd.Series:
    from ..results.paired import excludes_zero

    return pd.Series(excludes_zero(frame["ci_low"], frame["ci_high"]), index=frame.index)


def _exactly_zero(row) -> bool:
    return row["change_points"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0


def change_text(x: float, sign: bool = True) -> str:
    """A change in points: two decimals, or two significant digits below a hundredth
    (``+0.0043``, ``-0.00021``), so a small change never reads as zero."""
    plus = "+" if sign else ""
    return f"{x:{plus}.2g}" if 0 < abs(x) < 0.01 else f"{x:{plus}.2f}"


def _points(row) -> str:
    if _exactly_zero(row):
        return "0"
    if not math.isfinite(row["change_points"]):
        return "n/a"
    mark = "*" if row["material"] else ("~" if row["effect"] else "")
    return change_text(row["change_points"]) + mark


def _per_point_text(cpp: pd.DataFrame) -> str:
    """``" (plan: §2.2.1c 1.23 M yuan a point, city gross; 0.45 all net)"``."""
    parts = []
    for setting in SETTINGS_RUN:
        s = cpp[cpp["setting"] == setting]
        items = []
        for section in dict.fromkeys(s["target_section"]):
            t = s[s["target_section"] == section].set_index(["payer", "basis"])
            items.append(f"{section} {display.million(t.loc[('city', 'gross'), 'yuan_per_point'])}"
                         f" / {display.million(t.loc[('all', 'net'), 'yuan_per_point'])}")
        if items:
            parts.append(f"{setting}: " + ", ".join(items))
    if not parts:
        return ""
    return ("; M yuan a point, city gross / all net: " + "; ".join(parts))


def _plain(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [c.ljust(w) if i < 2 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def _wrap(text: str, width: int = 96) -> str:
    import textwrap

    return "\n".join("  " + line for line in textwrap.wrap(text, width))


# ---------------------------------------------------------------------------------------


def select_levers(levers=None) -> list[PlanLever]:
    """The levers to audit: ``None`` (every lever of the registry), one id or a list of ids;
    an unknown id is refused, listing them."""
    if levers is None:
        return list(PLAN_LEVERS)
    names = [levers] if isinstance(levers, str) else list(levers)
    if not names:
        raise SimcityQualityError("levers: give at least one lever id, or None for every "
                                  "lever of the plan.")
    chosen = [plan_lever(n) for n in dict.fromkeys(names)]
    # the registry's order, the levers outside the plan last
    return [lv for lv in (*PLAN_LEVERS, *OUTSIDE_PLAN_LEVERS) if lv in chosen]


def _check_sizes(replications, multiple) -> float:
    from ..results.replications import check_replications

    check_replications(replications)
    try:
        multiple = float(multiple)
    except (TypeError, ValueError):
        raise SimcityQualityError(f"multiple must be a number above 1, got {multiple!r}.") \
            from None
    if not multiple > 1:
        raise SimcityQualityError(f"multiple must be above 1 (high is the plan's values times "
                                  f"it), got {multiple:g}.")
    return multiple


def _scenarios(sc: Scenario, chosen: list[PlanLever], multiple: float):
    """Every lever's settings and the scenarios to run (off, and high unless it is the plan),
    built and validated before any run."""
    settings = {lv.id: lv.settings(sc, multiple) for lv in chosen}
    unset = [lv.id for lv in chosen if settings[lv.id]["plan"] == settings[lv.id]["off"]]
    if unset:
        outside = [lv for lv in chosen if lv.id in unset and lv in OUTSIDE_PLAN_LEVERS]
        hint = ("" if not outside else " " + " ".join(
            f"{lv.id} is a lever outside the plan, which no scenario of the plan sets: set "
            f"{', '.join(k.key for k in lv.keys)} in the scenario (an override or a file that "
            "extends it) to the level to audit." for lv in outside))
        raise SimcityQualityError(
            f"{sc.source}: the scenario leaves {', '.join(unset)} at the lever's off setting "
            f"(its [policy] does not set {'it' if len(unset) == 1 else 'them'}), so there is "
            "no plan setting to audit; audit a scenario that sets the plan's levers, such as "
            "scenarios/the_plan.toml, or leave these out with levers=[...] (--lever ID)."
            + hint)
    runs, high_is_plan = {}, []
    for lv in chosen:
        for setting in ("off", "high"):
            values = settings[lv.id][setting]
            if setting == "high" and values == settings[lv.id]["plan"]:
                high_is_plan.append(lv.id)
                continue
            runs[(lv.id, setting)] = sc.override(values, name=f"{sc.name} [{lv.id} {setting}]")
    return settings, runs, high_is_plan


def _settings_table(chosen: list[PlanLever], settings: dict, high_is_plan: list[str]):
    rows = [{"lever": lv.id, "section": lv.section, "name": lv.name, "key": k,
             "off": settings[lv.id]["off"][k], "plan": settings[lv.id]["plan"][k],
             "high": settings[lv.id]["high"][k], "high_is_plan": lv.id in high_is_plan}
            for lv in chosen for k in settings[lv.id]["plan"]]
    return pd.DataFrame(rows)


@renamed(firms="resolution")
def lever_audit(scenario: Scenario | str | Path, replications: int = 20, seed: int = 0,
                resolution: int | None = None, levers=None, multiple: float = HIGH_MULTIPLE,
                progress=True, uncertainty: str = "noise") -> LeverAudit:
    """Each of the plan's levers off, at the scenario's setting and high, the others as the
    scenario has them, on common random numbers (module docstring).

    Args:
        scenario: the plan (a :class:`Scenario` or a TOML path), e.g. ``the_plan.toml``.
        replications: paired replications of every scenario (the plan's runs are shared by
            every lever).
        resolution: how many of the city's firms are simulated (default ``city.resolution``,
            else all); money and counts are for the whole city.
        levers: lever ids of :data:`~simcity_quality.scenario.plan_levers.PLAN_LEVERS`
            (default all of them), or of ``OUTSIDE_PLAN_LEVERS`` (asked for by id only: the
            municipal treatment plants, ``"urban_wastewater"``).
        multiple: high is the plan's values times this (capped at the schema's bounds).
        progress: one progress bar over every run (``False``: silent).
        uncertainty: ``"noise"`` (the [uncertain] parameters at the scenario's values) or
            ``"parameters"``: every replication also draws them from their priors, the same
            draws for every lever and setting, so the paired changes and the shares met
            cover what is not known about behaviour (docs/uncertainty.md).

    Returns a :class:`LeverAudit`. Refused before anything runs: an unknown lever, a scenario
    whose ``[policy]`` leaves a chosen lever off, a value the schema refuses, ``firms=``.
    """
    from ..results.uncertainty import check_uncertainty

    uncertainty = check_uncertainty(uncertainty)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    chosen = select_levers(levers)
    multiple = _check_sizes(replications, multiple)
    resolution = check_resolution(resolution, sc)
    settings, to_run, high_is_plan = _scenarios(sc, chosen, multiple)
    kw = dict(replications=replications, seed=seed, resolution=resolution,
              uncertainty=uncertainty)
    with progress_bar(progress, total=replications * (1 + len(to_run)),
                      desc="lever audit") as bar:
        bar.set_postfix_str("plan")
        plan = run(sc, progress=bar, **kw)
        results = {sc.name: plan}
        for (lid, setting), s in to_run.items():
            bar.set_postfix_str(f"{lid} {setting}")
            results[s.name] = run(s, progress=bar, **kw)
    effects, costs, diffs = [], [], []
    for lv in chosen:
        off = results[to_run[(lv.id, "off")].name]
        for setting in SETTINGS_RUN:
            if setting == "high" and lv.id in high_is_plan:
                continue
            res = plan if setting == "plan" else results[to_run[(lv.id, "high")].name]
            tag = {"lever": lv.id, "section": lv.section, "setting": setting}
            effects.append(target_changes(off, res).assign(**tag))
            costs.append(cost_changes(off, res).assign(**tag))
            diffs.append(differences(off, res).assign(**tag))
    front = ["lever", "section", "setting"]
    effects_t, costs_t = (_front(pd.concat(x, ignore_index=True), front)
                          for x in (effects, costs))
    effects_t["material"] = effects_t["effect"] & (effects_t["change_points"].abs()
                                                   >= NEGLIGIBLE_POINTS)
    per_point = cost_per_point(effects_t, costs_t, by=("lever", "setting"))
    per_point = per_point.merge(effects_t[["lever", "setting", "target", "material"]],
                                on=["lever", "setting", "target"], how="left")
    per_point.insert(1, "section", per_point["lever"].map({lv.id: lv.section for lv in chosen}))
    return LeverAudit(sc, seed, replications, resolution, multiple, chosen,
                      _settings_table(chosen, settings, high_is_plan), effects_t, costs_t,
                      per_point, _front(pd.concat(diffs, ignore_index=True), front),
                      high_is_plan, results, uncertainty)


def _front(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    return frame[first + [c for c in frame.columns if c not in first]]


