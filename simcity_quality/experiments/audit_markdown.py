"""The lever audit as Markdown (:meth:`~.audit.LeverAudit.to_markdown`): the settings, every
target's change with its interval, each payer's cost, and the cost per point; what
``benchmarks/lever_audit.py`` writes into docs/findings.md."""

import math

from ..results import display
from ..results.paired import PAYERS
from .audit import NEGLIGIBLE_POINTS, SETTINGS_RUN, change_text

BASES = ("gross", "net")


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "every month" if v == list(range(1, 13)) else (
            ", ".join(str(x) for x in v) if v else "none")
    if isinstance(v, int | float):
        return f"{v:,.6g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def _interval(mean: float, low: float, high: float, scale: float = 1.0, mark="") -> str:
    if not math.isfinite(mean):
        return "n/a"
    text = change_text(mean / scale) if scale == 1.0 else f"{mean / scale:+.2f}"
    if mark == "bold":
        text = f"**{text}**"
    elif mark:
        text += mark
    if math.isfinite(low) and math.isfinite(high):
        lo, hi = low / scale, high / scale
        if scale == 1.0:
            text += f" ({change_text(lo, sign=False)} to {change_text(hi, sign=False)})"
        else:
            text += f" ({lo:.2f} to {hi:.2f})"
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]]


def _rows_of(audit):
    for lv in audit.levers:
        for setting in SETTINGS_RUN:
            if not (setting == "high" and lv.id in audit.high_is_plan):
                yield lv, setting


def settings_table(audit) -> list[str]:
    """Each lever's keys with their off, plan and high values."""
    rows = []
    for lv in audit.levers:
        s = audit.settings[audit.settings["lever"] == lv.id]
        for i, r in enumerate(s.itertuples()):
            high = "= plan" if r.high_is_plan else _value(r.high)
            rows.append([f"{lv.id} ({lv.section})" if i == 0 else "",
                         r.key.removeprefix("policy."), _value(r.off), _value(r.plan), high])
    return _table(["lever", "key (policy.)", "off", "plan", "high"], rows)


def effects_table(audit) -> list[str]:
    """Every target's change against off, percentage points, 95 % interval (bold: excludes
    zero; "0": no change in any replication)."""
    sections = list(dict.fromkeys(audit.effects["target_section"]))
    rows = []
    for lv, setting in _rows_of(audit):
        e = audit.effects[(audit.effects["lever"] == lv.id)
                          & (audit.effects["setting"] == setting)].set_index("target_section")
        cells = []
        for sec in sections:
            r = e.loc[sec]
            if r["change_points"] == 0 and r["ci_low"] == 0 and r["ci_high"] == 0:
                cells.append("0")
            else:
                mark = "bold" if r["material"] else ("†" if r["effect"] else "")
                cells.append(_interval(r["change_points"], r["ci_low"], r["ci_high"],
                                       mark=mark))
        rows.append([lv.id, setting, *cells])
    return _table(["lever", "setting", *sections], rows)


def costs_table(audit) -> list[str]:
    """Each payer's cost change over the horizon, million yuan, gross and net of fines."""
    rows = []
    for lv, setting in _rows_of(audit):
        c = audit.costs[(audit.costs["lever"] == lv.id)
                        & (audit.costs["setting"] == setting)].set_index(["payer", "basis"])
        rows.append([lv.id, setting, *[
            _interval(c.loc[(p, b), "difference"], c.loc[(p, b), "ci_low"],
                      c.loc[(p, b), "ci_high"], scale=1e6)
            for p in PAYERS for b in BASES]])
    return _table(["lever", "setting", *[f"{p} {b}" for p in PAYERS for b in BASES]], rows)


def per_point_table(audit) -> list[str]:
    """Million yuan per percentage point, for the changes a lever makes (told from zero and
    at least :data:`~.audit.NEGLIGIBLE_POINTS`)."""
    cpp = audit.cost_per_point
    rows = []
    for lv, setting in _rows_of(audit):
        s = cpp[(cpp["lever"] == lv.id) & (cpp["setting"] == setting) & cpp["material"]]
        e = audit.effects[(audit.effects["lever"] == lv.id)
                          & (audit.effects["setting"] == setting)].set_index("target")
        for target in dict.fromkeys(s["target"]):
            t = s[s["target"] == target].set_index(["payer", "basis"])
            r = e.loc[target]
            rows.append([lv.id, setting, f"{target} ({r['target_section']})",
                         _interval(r["change_points"], r["ci_low"], r["ci_high"]),
                         f"{r['off_share_met']:.2f} to {r['share_met']:.2f}",
                         *[display.million(t.loc[(p, b), "yuan_per_point"])
                           for p in ("city", "all") for b in BASES]])
    if not rows:
        return ["No lever moves a target by an amount its interval tells from zero."]
    return _table(["lever", "setting", "target", "change (points)", "met, off to setting",
                   "city gross", "city net", "all gross", "all net"], rows)


def markdown(audit) -> str:
    """The whole audit as Markdown sections (headings at level 3)."""
    moved, small, quiet = audit.moved(), audit.negligible(), audit.no_effect()
    tiny = [f"{k} ({', '.join(small[k])})" for k in small if small[k] and not moved[k]]
    lines = [f"{audit._title()}; high is the plan's values x{audit.multiple:g}, capped at the "
             "schema's bounds, or a natural extreme.", "",
             "### Settings", "", *settings_table(audit), "",
             "### Change of every target against the lever off (percentage points, 95 % "
             "interval)", "",
             "Bold: the interval excludes zero (the lever moves the target); †: it excludes "
             f"zero but the change is under {NEGLIGIBLE_POINTS:g} points (negligible); 0: no "
             "change in any replication.", "",
             *effects_table(audit), "",
             "### Change of cost against the lever off (million yuan over the horizon, "
             "95 % interval)", "", *costs_table(audit), "",
             "### Cost per percentage point (million yuan a point)", "",
             "The mean cost change over the mean change of the target, for the changes a lever "
             "makes (bold above; `cost_per_point` holds every one); negative where the lever "
             "saves money while raising the target, or costs money while lowering it. \"Met\": "
             "the share of replications meeting the target with the lever off and at the "
             "setting.", "",
             *per_point_table(audit), ""]
    lines.append("Levers that change no target at either setting (every interval covers "
                 "zero): " + (", ".join(quiet) if quiet else "none") + ".")
    if tiny:
        lines.append(f"Levers that change targets only by less than {NEGLIGIBLE_POINTS:g} "
                     "points: " + "; ".join(tiny) + ".")
    for k in audit.high_is_plan:
        lines.append(f"{k}: the plan already has it at its extreme, so high is the plan.")
    return "\n".join(lines) + "\n"

