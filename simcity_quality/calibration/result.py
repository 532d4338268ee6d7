"""What a calibration found (:class:`CalibrationResult`): the fit, estimates, identification,
and the calibrated scenario written as a TOML file that ``extends`` the original."""


import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ScenarioError
from ..scenario import Scenario, load_scenario
from .observed import CalibrationError, Moment

# ---------------------------------------------------------------------------------------
# the result


@dataclass(repr=False)
class CalibrationResult:
    """What :func:`calibrate` found. Tables are pandas DataFrames; see ``summary()``."""

    scenario: Scenario  # the calibrated scenario (fitted values and [uncertain] set)
    original: Scenario  # the scenario calibrated (its source is what the file extends)
    moments: list[Moment]
    # parameter, range, start, estimate, se, 95 % interval (Student t, replications - 1 degrees
    # of freedom), identified
    estimates: pd.DataFrame
    fit: pd.DataFrame  # per moment: observed, simulated, SEs, difference, tolerance, within
    covariance: pd.DataFrame  # of the identified parameters (natural units)
    correlation: pd.DataFrame
    sensitivity: pd.DataFrame  # moment change over each parameter's range, in standard errors
    jacobian: pd.DataFrame  # d moment / d parameter at the estimate (natural units)
    moment_covariance: pd.DataFrame  # observation variance + simulation covariance of the means
    unidentified: list[str]  # what the data cannot pin down, in words
    objective: float  # sum of squared weighted residuals at the estimate
    converged: bool
    message: str
    runs: int  # model runs used
    settings: dict = field(default_factory=dict)
    command: str = ""  # how it was made (written into the scenario file)
    inputs: str = ""  # the observed-statistics file, if one was used

    @property
    def all_within_tolerance(self) -> bool:
        """Every moment with a tolerance is simulated within it."""
        w = self.fit["within_tolerance"].dropna()
        return bool(w.astype(bool).all())

    def __repr__(self) -> str:
        return (f"Calibration of {self.original.name!r} ({self.runs} runs"
                f"{'' if self.converged else ', NOT converged'}):\n{self.summary()}")

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"

    def summary(self) -> str:
        """The fit, the estimates and what is not identified, as plain text."""
        lines = ["Fit (observed vs simulated, simulation SE, tolerance fixed in advance):"]
        for _, r in self.fit.iterrows():
            tol = "" if pd.isna(r["tolerance"]) else (
                f"  tolerance {_g(r['tolerance'])}: "
                + ("within" if r["within_tolerance"] else "OUTSIDE"))
            lines.append(f"  {r['moment']}: observed {_g(r['observed'])}, simulated "
                         f"{_g(r['simulated'])} (SE {_g(r['simulation_se'])}){tol}")
        q = self.settings.get("interval_quantile")
        lines.append("Parameters (search range, estimate, SE, 95 % interval"
                     + (f" = estimate +- {q:.2f} SE, Student t):" if q else "):"))
        for _, r in self.estimates.iterrows():
            se = "not identified" if not r["identified"] else f"SE {_g(r['se'])}"
            lines.append(f"  {r['parameter']}: [{_g(r['low'])}, {_g(r['high'])}] -> "
                         f"{_g(r['estimate'])} ({se}; 95 % {_g(r['ci_low'])} to "
                         f"{_g(r['ci_high'])})")
        lines.append("What the data cannot pin down:")
        lines.extend(f"  {s}" for s in self.unidentified or ["nothing: every parameter moves "
                                                             "the statistics"])
        if not self.converged:
            lines.append(f"The optimiser did not report convergence: {self.message}")
        return "\n".join(lines)

    def write_scenario(self, path: str | Path, name: str | None = None,
                       extends: str | Path | None = None) -> Path:
        """Write the calibrated scenario as TOML extending the original (a relative path).

        The file sets the fitted values (rounded to a tenth of their standard error), each
        fitted parameter's 95 % interval as its ``[uncertain]`` range, and cites the observed
        data and how the fit was made in comments. It is loaded back and validated.
        """
        path = Path(path)
        parent = Path(extends) if extends is not None else Path(self.original.source)
        if not parent.is_file():
            raise CalibrationError(f"{path}: the calibrated scenario must extend a scenario "
                                   f"file, and {str(parent)!r} is not one (a scenario built "
                                   "with overrides has no file); pass extends=PATH.")
        path.parent.mkdir(parents=True, exist_ok=True)
        rel = os.path.relpath(parent.resolve(), path.parent.resolve())
        name = name or path.stem
        path.write_text(_scenario_text(self, rel, name), encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as exc:  # a bug, not a user error: say what was written
            raise CalibrationError(f"{path}: the written scenario does not validate: {exc}") \
                from None
        return path


def _g(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.4g}"


def _decimals(se: float, span: float) -> int:
    """Decimal places that keep a tenth of the standard error (or a thousandth of the range)."""
    scale = se / 10 if math.isfinite(se) and se > 0 else span / 1000
    return max(0, -math.floor(math.log10(scale)))


def _toml_value(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def _comment(text: str, width: int = 98) -> list[str]:
    import textwrap

    return ["# " + line for line in textwrap.wrap(text, width - 2, subsequent_indent="    ")]


def _rounded(estimates: pd.DataFrame) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Fitted values rounded to a tenth of their SE, and 95 % intervals rounded outwards."""
    values: dict[str, float] = {}
    uncertain: dict[str, list[float]] = {}
    for _, r in estimates.iterrows():
        se = float(r["se"]) if r["identified"] else math.nan
        d = _decimals(se, r["high"] - r["low"])
        values[r["parameter"]] = round(float(r["estimate"]), d)
        lo = math.floor(r["ci_low"] * 10 ** d) / 10 ** d
        hi = math.ceil(r["ci_high"] * 10 ** d) / 10 ** d
        uncertain[r["parameter"]] = [round(lo, d), round(hi, d)]
    return values, uncertain


def _scenario_text(res: CalibrationResult, extends: str, name: str) -> str:
    st = res.settings
    out = _comment(f"{name}: calibrated by the method of simulated moments "
                   "(simcity_quality.calibration; docs/calibration.md).")
    if res.command:
        out += _comment(f"Made with: {res.command}")
    if res.inputs:
        out += _comment(f"Inputs (statistics, search ranges, and why these): {res.inputs}")
    out += _comment(
        f"Calibrated scenario: {extends}; {st['resolution']} simulated enterprises; "
        f"{st['replications']} "
        f"replications on common random numbers (seed {st['seed']}); weights 1 / (observation "
        "variance + simulation variance of the mean); "
        f"{res.runs} model runs; optimiser: {res.message}")
    out.append("#")
    out.append("# Observed statistics (value, standard error, tolerance fixed before fitting):")
    for m in res.moments:
        tol = "none" if m.tolerance is None else f"{m.tolerance:g}"
        cite = "; ".join(x for x in (f"series {m.series}" if m.series else "", m.note,
                                      f"source: {m.source}" if m.source else "") if x)
        out += _comment(f"  {m.key} = {m.value:g} (se {m.se:.3g}, tolerance {tol})"
                        + (f"; {cite}" if cite else ""))
    out.append("#")
    out.append("# Fit at the estimate (observed, simulated, simulation SE, within tolerance):")
    for _, r in res.fit.iterrows():
        within = "n/a" if pd.isna(r["within_tolerance"]) else (
            "yes" if r["within_tolerance"] else "NO")
        out.append(f"#   {r['moment']}: {_g(r['observed'])}, {_g(r['simulated'])}, "
                   f"{_g(r['simulation_se'])}, {within}")
    out.append("#")
    q = res.settings.get("interval_quantile")
    out.append("# Parameters (search range -> estimate, SE, 95 % interval"
               + (f" = estimate +- {q:.2f} SE, Student t):" if q else "):"))
    values, uncertain = _rounded(res.estimates)
    for _, r in res.estimates.iterrows():
        se = float(r["se"]) if r["identified"] else math.nan
        se_text = f"SE {_g(se)}" if r["identified"] else "not identified by these data"
        out.append(f"#   {r['parameter']}: [{_g(r['low'])}, {_g(r['high'])}] -> "
                   f"{values[r['parameter']]!r}, {se_text}, {_g(r['ci_low'])} to "
                   f"{_g(r['ci_high'])}")
    out.append("#")
    out.append("# What the data cannot pin down:")
    for s in res.unidentified or ["nothing: every fitted parameter moves the statistics."]:
        out += _comment("  " + s)
    out.append("")
    out.append(f"extends = {_toml_value(extends)}")
    out.append(f"name = {_toml_value(name)}")
    desc = (f"{res.original.name} calibrated to "
            + ", ".join(m.key for m in res.moments) + " (see the comments above).")
    out.append(f"description = {_toml_value(desc)}")
    tables: dict[str, dict[str, float]] = {}
    for key, v in values.items():
        table, leaf = key.rsplit(".", 1)
        tables.setdefault(table, {})[leaf] = v
    for table, items in tables.items():
        out.append("")
        out.append(f"[{table}]")
        out += [f"{leaf} = {v!r}" for leaf, v in items.items()]
    out.append("")
    out.append("[uncertain]                      # fitted parameters: their 95 % intervals")
    out += [f'"{k}" = {_toml_value(v)}' for k, v in uncertain.items()]
    return "\n".join(out) + "\n"


