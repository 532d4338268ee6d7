"""Calibration: fit the base-year state and behavioural parameters to observed statistics.

``calibrate(scenario, observed, parameters)`` is a method of simulated moments. Each observed
statistic (a *moment*: a statistic at a year, its change between two years, or a COD index
between two years) is simulated with ``replications`` runs that share their seeds at every
parameter value (common random numbers), so the objective is a smooth-ish function of the
parameters rather than of the noise. The weighted residuals ``(simulated - observed) / s``,
with ``s^2`` the observation's variance plus the simulation variance of the mean at the
starting point, are minimised by ``scipy.optimize.least_squares`` inside the search ranges.

Uncertainty comes from the Jacobian of the moments at the estimate (central differences on
common random numbers): the sandwich ``(J'WJ)^-1 J'W S W J (J'WJ)^-1``, where ``S`` is the
observation variance plus the simulation covariance of the averaged moments. Directions of
the parameter space along which the weighted moments hardly move (less than
``flat_threshold`` standard errors across the whole search range) are reported as what the
data cannot pin down; the parameters in them get no standard error, only their search range.

``load_observed(path)`` reads the same inputs from a TOML file (``scenarios/observed/``);
``result.write_scenario(path)`` writes a scenario that ``extends`` the calibrated one, with the
fitted values, their uncertainty as ``[uncertain]`` ranges, and the data cited in comments.
"""

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from .errors import ScenarioError, SimcityQualityError
from .scenario import Scenario, _suggest, flatten, load_scenario


class CalibrationError(SimcityQualityError, ValueError):
    """Observed statistics, parameter ranges or an observed file that cannot be used."""


# ---------------------------------------------------------------------------------------
# the statistics a user can bring


@dataclass(frozen=True)
class Statistic:
    """An observable the model produces each December (calendar-year values)."""

    name: str
    kind: str  # "share": a level or a change between years; "cod": an index between years
    description: str


_TITLES = {"provincial_award_share": "provincial_award",
           "china_famous_brand_share": "china_famous_brand",
           "national_award_share": "national_award"}

STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("spot_check_pass_rate", "share", "national supervision spot-check pass rate over "
              "the calendar year (§2.2.1d; passes / samples under the national sampling rule)"),
    Statistic("factory_pass_rate", "share", "output-weighted expected pass rate of products "
              "leaving the factory, in December (§2.2.1c)"),
    Statistic("construction_acceptance_rate", "share", "one-time acceptance pass rate of "
              "works other than large and medium projects over the calendar year (§2.2.2b)"),
    Statistic("iso9001_share", "share", "share of live enterprises holding ISO 9001, December"),
    Statistic("ccc_share", "share", "share of enterprises needing CCC that hold it, December"),
    Statistic("provincial_award_share", "share", "share of live enterprises holding a "
              "provincial award as their highest title, December"),
    Statistic("china_famous_brand_share", "share", "share of live enterprises holding a China "
              "Famous Brand as their highest title, December"),
    Statistic("national_award_share", "share", "share of live enterprises holding a national "
              "award or China World Famous Brand, December"),
    Statistic("cod_index", "cod", "industrial COD discharged in the second year over the first "
              "(calendar-year totals)"),
    Statistic("total_cod_index", "cod", "industrial plus domestic COD in the second year over "
              "the first (routine national statistics scope; domestic COD from "
              "environment.non_industrial_cod_ratio and _trend)"),
)}


@dataclass(frozen=True)
class Moment:
    """One observed statistic at a period, with its precision and where it comes from."""

    key: str  # as written: "spot_check_pass_rate@2010", "cod_index@2009-2010"
    statistic: str
    start: int | None  # first year of a change or an index; None for a level
    year: int
    value: float
    se: float  # standard error of the observation (0: taken as exact)
    tolerance: float | None  # fixed in advance: |simulated - observed| allowed
    series: str = ""
    source: str = ""
    note: str = ""

    @property
    def kind(self) -> str:
        """``level``, ``change`` (difference between years) or ``index`` (ratio)."""
        if self.start is None:
            return "level"
        return "index" if STATISTICS[self.statistic].kind == "cod" else "change"

    @property
    def period(self) -> str:
        """The period as written after ``@``."""
        return str(self.year) if self.start is None else f"{self.start}-{self.year}"


def parse_observed(observed: dict, scenario: Scenario, where: str = "observed") -> list[Moment]:
    """Check and read the observed statistics: ``{"statistic@period": value or {...}}``.

    A value is a number, or a table with ``value`` and optionally ``se`` (or ``n``, a sample
    size, for a binomial standard error of a share), ``tolerance``, ``series``, ``source``,
    ``note``. A period is a year (a level) or ``"Y1-Y2"`` (a change of a share in points, or a
    COD index Y2 over Y1); every year must lie within the run. Errors name ``where`` and the key.
    """
    if not isinstance(observed, dict) or not observed:
        raise CalibrationError(f"{where}: expected a table of observed statistics such as "
                               "{'spot_check_pass_rate@2010': 0.876}, got "
                               f"{observed!r}.")
    first, last = scenario.city.base_year, scenario.horizon.end_year
    moments = []
    for key, entry in observed.items():
        where_key = f"{where}: observed key `{key}`"
        if not isinstance(key, str) or key.count("@") != 1:
            raise CalibrationError(f"{where_key}: expected `statistic@period`, e.g. "
                                   "`spot_check_pass_rate@2010` or `cod_index@2009-2010`.")
        name, period = key.split("@")
        if name not in STATISTICS:
            raise CalibrationError(f"{where_key}: unknown statistic `{name}`"
                                   f"{_suggest(name, list(STATISTICS))}; known statistics: "
                                   f"{', '.join(STATISTICS)}.")
        stat = STATISTICS[name]
        try:
            years = [int(p) for p in period.split("-")]
        except ValueError:
            years = []
        if len(years) not in (1, 2):
            raise CalibrationError(f"{where_key}: the period `{period}` is not a year (2010) "
                                   "or a span of two years (2009-2010).")
        bad = [y for y in years if not first <= y <= last]
        if bad:
            raise CalibrationError(f"{where_key}: the year {bad[0]} lies outside the run "
                                   f"({first}-{last}, city.base_year to horizon.end_year of "
                                   f"{scenario.source}); expected years within it.")
        if len(years) == 2 and years[0] >= years[1]:
            raise CalibrationError(f"{where_key}: the span `{period}` must run from an earlier "
                                   "to a later year.")
        if stat.kind == "cod" and len(years) != 2:
            raise CalibrationError(f"{where_key}: a COD index compares two years; write it "
                                   f"as `{name}@Y1-Y2` (COD of Y2 over COD of Y1).")
        start, year = (None, years[0]) if len(years) == 1 else years
        spec = entry if isinstance(entry, dict) else {"value": entry}
        unknown = set(spec) - {"value", "se", "n", "tolerance", "series", "source", "note"}
        if unknown:
            raise CalibrationError(f"{where_key}: unknown field(s) {sorted(unknown)}; expected "
                                   "value, se or n, tolerance, series, source, note.")
        value = _number(spec.get("value"), f"{where_key}: field `value`")
        kind = "level" if start is None else ("index" if stat.kind == "cod" else "change")
        if kind == "level" and not 0 <= value <= 1:
            raise CalibrationError(f"{where_key}: value {value} is not a share between 0 and 1 "
                                   "(shares, not percentages).")
        if kind == "change" and not -1 <= value <= 1:
            raise CalibrationError(f"{where_key}: value {value} is not a change of a share "
                                   "(between -1 and 1; 0.02 is two percentage points).")
        if kind == "index" and not 0 < value <= 10:
            raise CalibrationError(f"{where_key}: value {value} is not a COD index (a positive "
                                   "ratio such as 0.97 for a 3 % fall).")
        if "se" in spec and "n" in spec:
            raise CalibrationError(f"{where_key}: give `se` or `n`, not both.")
        se = 0.0
        if "se" in spec:
            se = _number(spec["se"], f"{where_key}: field `se`")
            if se < 0:
                raise CalibrationError(f"{where_key}: field `se` must be >= 0, got {se}.")
        elif "n" in spec:
            n = _number(spec["n"], f"{where_key}: field `n`")
            if kind != "level" or n < 1:
                raise CalibrationError(f"{where_key}: field `n` (a sample size >= 1) gives a "
                                       "binomial standard error for a share at one year only.")
            se = math.sqrt(value * (1 - value) / n)
        tol = spec.get("tolerance")
        if tol is not None:
            tol = _number(tol, f"{where_key}: field `tolerance`")
            if tol <= 0:
                raise CalibrationError(f"{where_key}: field `tolerance` must be > 0, got {tol}.")
        text = {f: spec.get(f, "") for f in ("series", "source", "note")}
        for f, v in text.items():
            if not isinstance(v, str):
                raise CalibrationError(f"{where_key}: field `{f}` must be text, got {v!r}.")
        moments.append(Moment(key, name, start, year, value, se, tol, **text))
    return moments


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{what}: expected a finite number, got {value!r}.")
    return float(value)


def check_parameters(scenario: Scenario, parameters: dict,
                     where: str = "parameters") -> tuple[Scenario, dict[str, tuple[float, float]]]:
    """Check parameter keys and search ranges; return the scenario to search from and ranges.

    Keys must be continuous numeric scenario parameters; both ends of a range must be values
    the parameter allows. Any ``[uncertain]`` range of a searched key is widened to the
    search range, so every value tried validates.
    """
    if not isinstance(parameters, dict) or not parameters:
        raise CalibrationError(f"{where}: expected a table of parameters to fit with their "
                               "search ranges, e.g. {'city.capability_mean.small': (1.5, 3.5)}, "
                               f"got {parameters!r}.")
    flat = flatten(scenario.model_dump(exclude={"targets", "uncertain"}))
    ranges: dict[str, tuple[float, float]] = {}
    for key, rng in parameters.items():
        where_key = f"{where}: key `{key}`"
        if key not in flat:
            raise CalibrationError(f"{where_key}: no such scenario parameter"
                                   f"{_suggest(key, list(flat))} (see docs/parameters.md).")
        value = flat[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CalibrationError(f"{where_key}: only numeric parameters can be fitted; this "
                                   f"one is {value!r}.")
        if isinstance(value, int):
            raise CalibrationError(f"{where_key}: a whole-number parameter; calibration fits "
                                   "continuous parameters only (the objective would be flat "
                                   "between whole numbers).")
        if (not isinstance(rng, list | tuple) or len(rng) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           and math.isfinite(v) for v in rng)):
            raise CalibrationError(f"{where_key}: expected a search range [low, high] of two "
                                   f"numbers, got {rng!r}.")
        lo, hi = float(rng[0]), float(rng[1])
        if not lo < hi:
            raise CalibrationError(f"{where_key}: the range [{lo}, {hi}] must have low below "
                                   "high.")
        ranges[key] = (lo, hi)
    widen = {f"uncertain.{k}": [min(lo, flat[k], scenario.uncertain[k][0]),
                                max(hi, flat[k], scenario.uncertain[k][1])]
             for k, (lo, hi) in ranges.items() if k in scenario.uncertain}
    base = scenario.override(widen) if widen else scenario
    for key, (lo, hi) in ranges.items():
        for end, v in (("low", lo), ("high", hi)):
            try:
                base.override({key: v})
            except ScenarioError as exc:
                raise CalibrationError(f"{where}: key `{key}`: the {end} end of the range "
                                       f"[{lo}, {hi}] is not a value the parameter allows "
                                       f"({exc})") from None
    object.__setattr__(base, "_source", scenario.source)  # the file the result extends
    return base, ranges


# ---------------------------------------------------------------------------------------
# simulation of the moments


def _december_values(ts: pd.DataFrame, scenario: Scenario) -> dict[int, dict[str, float]]:
    """Per year of one replication: each statistic's value in December."""
    first = scenario.city.base_year
    dec = ts[ts["step"] % 12 == 0]
    env = scenario.environment
    out: dict[int, dict[str, float]] = {}
    base_industrial = None
    for _, row in dec.iterrows():
        year = first + int(row["step"]) // 12 - 1
        alive = float(row["firms_alive"])
        vals = {n: float(row[n]) for n in ("spot_check_pass_rate", "factory_pass_rate",
                                           "construction_acceptance_rate", "iso9001_share",
                                           "ccc_share")}
        for stat, tier in _TITLES.items():
            vals[stat] = float(row[f"titles_held_{tier}"]) / alive if alive else math.nan
        industrial = float(row["cod_tonnes"])  # trailing 12 months in December: the year
        if base_industrial is None:
            base_industrial = industrial
        # domestic COD as the model's industrial_and_domestic scope computes it (ODD 7.10)
        domestic = (base_industrial * env.non_industrial_cod_ratio
                    * (1.0 + env.non_industrial_cod_trend) ** (year - first))
        vals["cod_index"] = industrial
        vals["total_cod_index"] = industrial + domestic
        out[year] = vals
    return out


def _moment_values(by_year: dict[int, dict[str, float]], moments: list[Moment]) -> np.ndarray:
    out = np.empty(len(moments))
    for i, m in enumerate(moments):
        now = by_year[m.year][m.statistic]
        if m.start is None:
            out[i] = now
        elif m.kind == "index":
            before = by_year[m.start][m.statistic]
            out[i] = now / before if before > 0 else math.nan
        else:
            out[i] = now - by_year[m.start][m.statistic]
    return out


class _Simulator:
    """Moments per (point, replication) on common random numbers, cached by point."""

    def __init__(self, base: Scenario, keys: list[str], moments: list[Moment], replications: int,
                 seed: int, firms: int | None, executor: str, workers: int | None):
        from .experiments.sweep import EXECUTORS, _workers

        if executor not in EXECUTORS:
            raise CalibrationError(f"executor must be one of {EXECUTORS}, got {executor!r}.")
        self.base, self.keys, self.moments = base, keys, moments
        self.replications, self.seed, self.firms = replications, seed, firms
        self.executor, self.n_workers = executor, _workers(executor, workers)
        self.cache: dict[tuple, np.ndarray] = {}
        self.runs = 0

    def __call__(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        """Arrays (replications x moments), one per parameter vector."""
        from .experiments.sweep import _execute

        todo = {}
        for theta in thetas:
            k = tuple(float(v) for v in theta)
            if k not in self.cache and k not in todo:
                todo[k] = len(todo)
        if todo:
            points = list(todo)
            batches = [[(p, r, dict(zip(self.keys, points[p], strict=True)))
                        for r in range(self.replications)] for p in range(len(points))]
            values = np.full((len(points), self.replications, len(self.moments)), np.nan)
            args = (self.base.file_data(), self.base.source)
            for _, result in _execute(self.executor, batches, args, self.seed, self.firms, True,
                                      self.n_workers, None, None):
                if len(result["failures"]):
                    raise SimcityQualityError("calibration: a run failed: "
                                              + result["failures"]["error"].iloc[0])
                for (p, r), ts in result["timeseries"].groupby(["point", "replication"]):
                    values[p, r] = _moment_values(_december_values(ts, self.base),
                                                  self.moments)
            self.runs += len(points) * self.replications
            for k, p in todo.items():
                self.cache[k] = values[p]
        return [self.cache[tuple(float(v) for v in theta)] for theta in thetas]


def _mean_se(values: np.ndarray, moments: list[Moment]) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(values)
    n = ok.sum(axis=0)
    empty = [m.key for m, k in zip(moments, n, strict=True) if k == 0]
    if empty:
        raise CalibrationError(f"calibration: the model produced no value for {empty} in any "
                               "replication (nothing sampled or measured that year); use more "
                               "firms or another statistic.")
    mean = np.nanmean(values, axis=0)
    sd = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(len(moments))
    return mean, np.nan_to_num(sd) / np.sqrt(n)


def simulate_moments(scenario: Scenario | str | Path, observed: dict, replications: int = 20,
                     seed: int = 0, firms: int | None = None) -> pd.DataFrame:
    """Simulate the observed statistics under a scenario: one row per moment with the
    observed value, the simulated mean, its standard error and whether it is within the
    moment's tolerance (to check a calibrated scenario on fresh seeds)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 2:
        raise CalibrationError(f"replications must be a whole number >= 2, got "
                               f"{replications!r}.")
    moments = parse_observed(observed, sc)
    sim = _Simulator(sc, [], moments, replications, seed, firms, "serial", None)
    mean, se = _mean_se(sim([np.array([])])[0], moments)
    table = pd.DataFrame({"moment": [m.key for m in moments],
                          "observed": [m.value for m in moments], "simulated": mean,
                          "simulation_se": se,
                          "tolerance": [np.nan if m.tolerance is None else m.tolerance
                                        for m in moments]})
    table["difference"] = table["simulated"] - table["observed"]
    table["within_tolerance"] = table["difference"].abs() <= table["tolerance"]
    return table


# ---------------------------------------------------------------------------------------
# the result


@dataclass
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
        f"Calibrated scenario: {extends}; {st['firms']} enterprises; {st['replications']} "
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


# ---------------------------------------------------------------------------------------
# calibrate


def calibrate(scenario: Scenario | str | Path, observed: dict, parameters: dict,
              firms: int | None = None, replications: int = 20, seed: int = 0,
              start: dict | None = None, executor: str = "serial", workers: int | None = None,
              max_evaluations: int = 40, flat_threshold: float = 1.0,
              correlation_threshold: float = 0.9) -> CalibrationResult:
    """Fit ``parameters`` (dotted key -> (low, high)) so simulated statistics match ``observed``.

    Args:
        scenario: the scenario to calibrate (a :class:`Scenario` or a TOML path).
        observed: ``{"statistic@period": value or {"value", "se" or "n", "tolerance",
            "series", "source", "note"}}``; statistics in :data:`STATISTICS`; a period is a year
            or ``"Y1-Y2"`` (a change of a share, or a COD index Y2/Y1) within the run.
        parameters: continuous scenario parameters and their search ranges.
        firms, replications, seed: the size of each simulation; every parameter value runs the
            same ``replications`` seeds (common random numbers).
        start: starting values (default: the scenario's own, moved into the range).
        executor, workers: how the runs of one batch of parameter values are spread
            (``"serial"``, ``"processes"``, ``"dask"``; the numbers do not depend on it).
        max_evaluations: cap on the optimiser's objective evaluations.
        flat_threshold: a direction of the parameters is flat (not identified) when moving
            across the whole search range changes the weighted moments by less than this
            many standard errors.
        correlation_threshold: identified pairs estimated with a correlation beyond it are
            named too.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 2:
        raise CalibrationError(f"replications must be a whole number >= 2 (the simulation "
                               f"variance needs two), got {replications!r}.")
    if firms is not None and (not isinstance(firms, int) or firms < 1):
        raise CalibrationError(f"firms must be a whole number >= 1, got {firms!r}.")
    moments = parse_observed(observed, sc)
    base, ranges = check_parameters(sc, parameters)
    keys = list(ranges)
    lo = np.array([ranges[k][0] for k in keys])
    hi = np.array([ranges[k][1] for k in keys])
    span = hi - lo
    flat = flatten(sc.model_dump(exclude={"targets", "uncertain"}))
    start = dict(start or {})
    bad = set(start) - set(keys)
    if bad:
        raise CalibrationError(f"start: key(s) {sorted(bad)} are not among the parameters "
                               f"fitted ({keys}).")
    theta0 = np.array([float(start.get(k, flat[k])) for k in keys])
    if np.any((theta0 < lo) | (theta0 > hi)) and start:
        out = [k for k, t, a, b in zip(keys, theta0, lo, hi, strict=True) if not a <= t <= b]
        raise CalibrationError(f"start: the starting value of {out} lies outside its range.")
    x0 = np.clip((theta0 - lo) / span, 0.0, 1.0)
    obs = np.array([m.value for m in moments])
    obs_se = np.array([m.se for m in moments])

    sim = _Simulator(base, keys, moments, replications, seed, firms, executor, workers)

    def theta_of(x):
        return lo + np.clip(x, 0.0, 1.0) * span

    # weights fixed at the start, so the objective does not move under the optimiser's feet
    _, sim_se0 = _mean_se(sim([theta_of(x0)])[0], moments)
    scale = np.sqrt(obs_se ** 2 + sim_se0 ** 2)
    scale = np.where(scale > 0, scale, 1e-6)  # an exact observation of a noiseless statistic

    def residuals(x):
        mean, _ = _mean_se(sim([theta_of(x)])[0], moments)
        return (mean - obs) / scale

    step = 0.05  # in units of the search range: wide enough to step over CRN's small jumps

    def jacobian(x):
        pts = [x.copy() for _ in keys]
        signs = []
        for j, p in enumerate(pts):
            sgn = 1.0 if x[j] + step <= 1.0 else -1.0
            p[j] += sgn * step
            signs.append(sgn)
        vals = sim([theta_of(p) for p in [x, *pts]])
        f0 = _mean_se(vals[0], moments)[0]
        cols = [(_mean_se(v, moments)[0] - f0) / (s * step)
                for v, s in zip(vals[1:], signs, strict=True)]
        return np.column_stack(cols) / scale[:, None]

    fit = least_squares(residuals, x0, jac=jacobian, bounds=(0.0, 1.0), method="trf",
                        x_scale=1.0, max_nfev=max_evaluations, xtol=1e-3, ftol=1e-4)
    x_hat = fit.x
    theta_hat = theta_of(x_hat)

    # moments, simulation covariance and a central-difference Jacobian at the estimate
    reps_hat = sim([theta_hat])[0]
    mean_hat, se_hat = _mean_se(reps_hat, moments)
    # simulation variance of each averaged moment; their correlations are left out, since a
    # few replications estimate them too poorly (a spurious correlation would let the sandwich
    # below cancel noise that is really there)
    sim_cov = np.diag(se_hat ** 2)
    plus, minus = [], []
    for j in range(len(keys)):
        up, down = x_hat.copy(), x_hat.copy()
        up[j] = min(1.0, x_hat[j] + step)
        down[j] = max(0.0, x_hat[j] - step)
        plus.append(up)
        minus.append(down)
    vals = sim([theta_of(p) for p in plus + minus])
    cols = []
    for j in range(len(keys)):
        d = plus[j][j] - minus[j][j]
        cols.append((_mean_se(vals[j], moments)[0]
                     - _mean_se(vals[len(keys) + j], moments)[0]) / d)
    j_unit = np.column_stack(cols)  # d moment / d (share of the search range)

    w_half = 1.0 / scale
    js = j_unit * w_half[:, None]  # weighted: standard errors per whole range
    sigma = np.diag(obs_se ** 2) + sim_cov
    sigma_w = sigma * np.outer(w_half, w_half)
    a = js.T @ js
    eigval, eigvec = np.linalg.eigh(a)
    strength = np.sqrt(np.clip(eigval, 0.0, None))
    flat_dirs = [k for k in range(len(keys)) if strength[k] < flat_threshold]
    keep = [k for k in range(len(keys)) if k not in flat_dirs]
    a_pinv = sum((np.outer(eigvec[:, k], eigvec[:, k]) / eigval[k] for k in keep),
                 np.zeros_like(a))
    cov_unit = a_pinv @ js.T @ sigma_w @ js @ a_pinv
    unidentified_idx = sorted({j for k in flat_dirs for j in range(len(keys))
                               if abs(eigvec[j, k]) > 0.3})
    cov_nat = cov_unit * np.outer(span, span)
    se = np.sqrt(np.clip(np.diag(cov_nat), 0.0, None))
    identified = np.array([j not in unidentified_idx for j in range(len(keys))])
    # identified in principle, but the 95 % interval spans the whole search range: not pinned
    # the simulation variance is estimated from `replications` runs, so the interval takes a
    # Student t quantile (replications - 1 degrees of freedom; conservative where the data's
    # own variance dominates) instead of 1.96: with a normal quantile, recoveries at 6
    # replications put the truth more than 3 SE away far more often than 1 in 400
    quantile = float(stats.t.ppf(0.975, replications - 1))
    weak = identified & (2 * quantile * se >= span)
    identified &= ~weak
    ci_low = np.where(identified, np.maximum(lo, theta_hat - quantile * se), lo)
    ci_high = np.where(identified, np.minimum(hi, theta_hat + quantile * se), hi)
    # an estimate at the end of its range is no interior optimum: the sandwich SE does not hold
    at_bound = ((theta_hat - lo <= 0.005 * span) | (hi - theta_hat <= 0.005 * span))
    se = np.where(identified, se, np.nan)

    estimates = pd.DataFrame({
        "parameter": keys, "low": lo, "high": hi, "start": theta0, "estimate": theta_hat,
        "se": se, "ci_low": ci_low, "ci_high": ci_high, "identified": identified,
    })
    fit_table = pd.DataFrame({
        "moment": [m.key for m in moments], "statistic": [m.statistic for m in moments],
        "period": [m.period for m in moments], "kind": [m.kind for m in moments],
        "observed": obs, "observed_se": obs_se, "simulated": mean_hat, "simulation_se": se_hat,
        "difference": mean_hat - obs,
        "tolerance": [np.nan if m.tolerance is None else m.tolerance for m in moments],
    })
    fit_table["within_tolerance"] = [
        (abs(d) <= t) if np.isfinite(t) else None
        for d, t in zip(fit_table["difference"], fit_table["tolerance"], strict=True)]
    ident_keys = [k for k, i in zip(keys, identified, strict=True) if i]
    idx = [keys.index(k) for k in ident_keys]
    cov_df = pd.DataFrame(cov_nat[np.ix_(idx, idx)], index=ident_keys, columns=ident_keys)
    sd = np.sqrt(np.clip(np.diag(cov_df.to_numpy()), 1e-300, None))
    corr_df = pd.DataFrame(cov_df.to_numpy() / np.outer(sd, sd), index=ident_keys,
                           columns=ident_keys)
    sensitivity = pd.DataFrame(js, index=[m.key for m in moments], columns=keys)

    words = _identification_words(keys, lo, hi, js, eigval, eigvec, flat_dirs, corr_df,
                                  flat_threshold, correlation_threshold, len(moments))
    words += [f"`{keys[j]}` moves the statistics, but too little against their noise: its "
              f"standard error ({np.sqrt(cov_nat[j, j]):.3g}) makes a 95 % interval wider than "
              f"its whole search range [{lo[j]:g}, {hi[j]:g}], so the data cannot pin it down."
              for j in np.flatnonzero(weak)]
    words += [f"`{keys[j]}` ended at the "
              f"{'lower' if theta_hat[j] - lo[j] < hi[j] - theta_hat[j] else 'upper'} "
              f"end of its search range [{lo[j]:g}, {hi[j]:g}] ({theta_hat[j]:.4g}): the best fit "
              "may lie outside it, and its standard error assumes an interior optimum; widen "
              "the range (if the value stays plausible) and fit again."
              for j in np.flatnonzero(at_bound)]
    rounded, intervals = _rounded(estimates)
    calibrated = base.override({**rounded, **{f"uncertain.{k}": v for k, v in intervals.items()}},
                               name=f"{sc.name}_calibrated")
    object.__setattr__(calibrated, "_source", f"{sc.source} calibrated")
    settings = {"firms": firms if firms is not None else sc.city.firms,
                "replications": replications, "seed": seed, "executor": executor,
                "flat_threshold": flat_threshold, "interval_quantile": quantile}
    return CalibrationResult(
        scenario=calibrated, original=sc, moments=moments, estimates=estimates,
        fit=fit_table, covariance=cov_df, correlation=corr_df, sensitivity=sensitivity,
        jacobian=pd.DataFrame(j_unit / span, index=sensitivity.index, columns=keys),
        moment_covariance=pd.DataFrame(sigma, index=sensitivity.index,
                                       columns=sensitivity.index),
        unidentified=words, objective=float(np.sum(residuals(x_hat) ** 2)),
        converged=bool(fit.status > 0), message=str(fit.message), runs=sim.runs,
        settings=settings)


def _identification_words(keys, lo, hi, js, eigval, eigvec, flat_dirs, corr, threshold,
                          corr_threshold, n_moments) -> list[str]:
    """What the data cannot pin down, one sentence each."""
    words = []
    if len(keys) > n_moments:
        words.append(f"{len(keys)} parameters against {n_moments} statistics: at most "
                     f"{n_moments} combinations of them can be identified.")
    col = np.sqrt((js ** 2).sum(axis=0))
    alone = set()
    for j, k in enumerate(keys):
        if col[j] < threshold:
            alone.add(j)
            words.append(f"`{k}` hardly moves the observed statistics: across its whole range "
                         f"[{lo[j]:g}, {hi[j]:g}] they change by {col[j]:.2g} standard errors "
                         f"(less than {threshold:g}); the data cannot pin it down, and its value "
                         "stays near where the search started.")
    for k in flat_dirs:
        v = eigvec[:, k]
        lead = [j for j in range(len(keys)) if abs(v[j]) > 0.3]
        if set(lead) <= alone:
            continue
        # partners with a smaller share of the direction still show what offsets what
        involved = [j for j in np.argsort(-np.abs(v)) if abs(v[j]) > 0.1]
        strength = math.sqrt(max(eigval[k], 0.0))
        moves = ", ".join(f"`{keys[j]}` by {v[j] * (hi[j] - lo[j]):+.3g}" for j in involved)
        names = ", ".join(f"`{keys[j]}`" for j in lead)
        words.append(f"The data do not pin down {names}: moving {moves} together changes the "
                     f"statistics by only {strength:.2g} standard errors (less than "
                     f"{threshold:g}), so any point along that line fits about as well.")
    names = list(corr.index)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = float(corr.iloc[i, j])
            if abs(r) >= corr_threshold:
                words.append(f"`{names[i]}` and `{names[j]}` are estimated with correlation "
                             f"{r:+.2f}: the data pin down mainly a combination of the two "
                             f"(a higher value of one goes with a "
                             f"{'lower' if r < 0 else 'higher'} value of the other).")
    return words


# ---------------------------------------------------------------------------------------
# observed files


@dataclass
class ObservedFile:
    """The inputs of a calibration read from a TOML file (see ``scenarios/observed/``)."""

    path: Path
    scenario: Scenario
    observed: dict
    parameters: dict
    settings: dict
    name: str | None
    moments: list[Moment]


def load_observed(path: str | Path) -> ObservedFile:
    """Read an observed-statistics file: ``scenario`` (path relative to the file), ``name``,
    ``[settings]`` (replications, seed, firms), ``[observed."statistic@period"]`` tables and
    ``[parameters]`` (dotted key = [low, high]). Errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: observed-statistics file not found (looked for "
                               f"{path.resolve()}).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: this is not valid TOML ({exc}).") from None
    allowed = {"scenario", "name", "settings", "observed", "parameters"}
    unknown = set(data) - allowed
    if unknown:
        raise CalibrationError(f"{path}: unknown key(s) {sorted(unknown)}; expected "
                               f"{sorted(allowed)}.")
    for key in ("scenario", "observed", "parameters"):
        if key not in data:
            raise CalibrationError(f"{path}: key `{key}` is missing (`scenario`: the scenario "
                                   "file to calibrate, relative to this file; `[observed]`: "
                                   "the statistics; `[parameters]`: the search ranges).")
    if not isinstance(data["scenario"], str):
        raise CalibrationError(f"{path}: key `scenario`: expected a file name, got "
                               f"{data['scenario']!r}.")
    scen_path = path.parent / data["scenario"]
    if not scen_path.is_file():
        raise CalibrationError(f"{path}: key `scenario`: the file {data['scenario']!r} does "
                               f"not exist (looked for {scen_path.resolve()}).")
    sc = load_scenario(os.path.relpath(scen_path))
    settings = data.get("settings", {})
    bad = set(settings) - {"replications", "seed", "firms"}
    if bad:
        raise CalibrationError(f"{path}: [settings]: unknown key(s) {sorted(bad)}; expected "
                               "replications, seed, firms.")
    for k, v in settings.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if k == "seed" else 1):
            raise CalibrationError(f"{path}: key `settings.{k}`: expected a whole number "
                                   f"{'>= 0' if k == 'seed' else '>= 1'}, got {v!r}.")
    moments = parse_observed(data["observed"], sc, where=str(path))
    check_parameters(sc, data["parameters"], where=f"{path}: [parameters]")
    return ObservedFile(path, sc, data["observed"], data["parameters"], settings,
                        data.get("name"), moments)
