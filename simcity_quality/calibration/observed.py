"""What a calibration is fitted to: the statistics a user can bring, observed values and their
periods (moments), search ranges of parameters, and observed-statistics files
(``scenarios/observed/``)."""


import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScenarioError, SimcityQualityError
from ..scenario import Scenario, flatten, load_scenario
from ..scenario.keys import suggest


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
                                   f"{suggest(name, list(STATISTICS))}; known statistics: "
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
                                   f"{suggest(key, list(flat))} (see docs/parameters.md).")
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
    for key, (lo, hi) in ranges.items():
        for end, v in (("low", lo), ("high", hi)):
            try:  # the value alone (an [uncertain] range of the key moved onto it)
                scenario.override({key: v, **({f"uncertain.{key}": [v, v]}
                                              if key in scenario.uncertain else {})})
            except ScenarioError as exc:
                raise CalibrationError(f"{where}: key `{key}`: the {end} end of the range "
                                       f"[{lo}, {hi}] is not a value the parameter allows "
                                       f"({exc})") from None
    widen = {f"uncertain.{k}": [min(lo, flat[k], scenario.uncertain[k][0]),
                                max(hi, flat[k], scenario.uncertain[k][1])]
             for k, (lo, hi) in ranges.items() if k in scenario.uncertain}
    base = scenario.override(widen) if widen else scenario
    return base.with_provenance(scenario.source), ranges  # the file the result extends


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
    ``[settings]`` (replications, seed, resolution), ``[observed."statistic@period"]`` tables and
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
    bad = set(settings) - {"replications", "seed", "resolution"}
    if bad:
        raise CalibrationError(f"{path}: [settings]: unknown key(s) {sorted(bad)}; expected "
                               "replications, seed, resolution.")
    for k, v in settings.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if k == "seed" else 1):
            raise CalibrationError(f"{path}: key `settings.{k}`: expected a whole number "
                                   f"{'>= 0' if k == 'seed' else '>= 1'}, got {v!r}.")
    moments = parse_observed(data["observed"], sc, where=str(path))
    check_parameters(sc, data["parameters"], where=f"{path}: [parameters]")
    return ObservedFile(path, sc, data["observed"], data["parameters"], settings,
                        data.get("name"), moments)
