"""Designs over scenario keys: full factorial grid, Latin hypercube, Sobol, Halton, or points.

A design is a table of points (one row each, one column per dotted scenario key). Ranges for
the sampling designs come from the call, ``{"key": (low, high)}``, or, where a key is given
without a range (``{"key": None}`` or a list of keys), from the scenario's ``[uncertain]``
declarations when the design is resolved against a scenario. Keys whose scenario values are
whole numbers are rounded. Points are ordered so that a prefix of the design still spreads
over the space (sampling designs are space-filling in their own order; grids are interleaved).
"""

from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..errors import SimcityQualityError
from ..scenario import Scenario


@dataclass
class Design:
    """A design before it meets a scenario: its kind, keys, ranges or values, and size."""

    kind: str  # "grid", "lhs", "sobol", "halton", "points"
    keys: list[str]
    ranges: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    values: dict[str, list] = field(default_factory=dict)  # grid levels
    n: int = 0
    seed: int = 0
    table: pd.DataFrame | None = None  # explicit points

    def resolve(self, scenario: Scenario) -> pd.DataFrame:
        """The design's points as a DataFrame (index ``point``), checked against the scenario."""
        from ..scenario import valid_keys

        flat_keys = set(_flat_numeric(scenario)) if self.kind != "points" else set(valid_keys())
        for key in self.keys:
            if key not in flat_keys:
                raise SimcityQualityError(
                    f"design key `{key}`: not a numeric parameter of scenario "
                    f"{scenario.name!r} ({scenario.source}); see docs/parameters.md.")
        if self.kind == "grid":
            levels = [self.values[k] for k in self.keys]
            rows = list(product(*levels))
            index = np.array(list(product(*(range(len(v)) for v in levels))), dtype=float)
            index /= np.maximum(np.array([len(v) - 1 for v in levels], dtype=float), 1.0)
            df = pd.DataFrame([rows[i] for i in _spread_order(index)], columns=self.keys)
        elif self.kind == "points":
            df = self.table.copy()
        else:
            bounds = [self._range(k, scenario) for k in self.keys]
            for key, rng in zip(self.keys, bounds, strict=True):  # the range, not a sample
                _check_values(self.kind, key, pd.Series(rng, dtype=float))
            unit = _sample(self.kind, len(self.keys), self.n, self.seed)
            lo = np.array([b[0] for b in bounds])
            hi = np.array([b[1] for b in bounds])
            df = pd.DataFrame(scaled(unit, lo, hi), columns=self.keys)
        for key in df.columns:
            _check_values(self.kind, key, df[key])
        flat = _flat_numeric(scenario)
        for key in df.columns:
            if isinstance(flat.get(key), int) and not isinstance(flat.get(key), bool):
                df[key] = np.round(df[key]).astype(int)
        df.index = pd.RangeIndex(len(df), name="point")
        return df

    def _range(self, key: str, scenario: Scenario) -> tuple[float, float]:
        rng = self.ranges.get(key)
        if rng is None:
            if key not in scenario.uncertain:
                raise SimcityQualityError(
                    f"design key `{key}`: no range given and scenario {scenario.name!r} "
                    f"({scenario.source}) declares none under [uncertain]; pass (low, high).")
            rng = scenario.uncertain[key]
        lo, hi = float(rng[0]), float(rng[1])
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise SimcityQualityError(f"design key `{key}`: range ({lo}, {hi}) must be finite "
                                      "numbers.")
        if not lo <= hi:
            raise SimcityQualityError(f"design key `{key}`: range ({lo}, {hi}) has low above "
                                      "high.")
        return lo, hi

    def describe(self) -> dict:
        """Plain-data description (for the store's manifest)."""
        return {"kind": self.kind, "keys": self.keys, "n": self.n, "seed": self.seed,
                "ranges": {k: list(v) if v else None for k, v in self.ranges.items()},
                "values": self.values}


def scaled(unit: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Points of the unit cube mapped onto the box [lo, hi], kept inside it: lo + u (hi - lo)
    can round past hi (0.001 + 1 x 0.009 is 0.010000000000000002), which the scenario's range
    check would refuse."""
    return np.clip(lo + unit * (hi - lo), lo, hi)


def _check_values(kind: str, key: str, values: pd.Series) -> None:
    """Refuse a design whose values of ``key`` are not finite or lie outside the parameter's
    bounds in the schema, before anything runs (a range beyond them would make every run
    fail). Rules that tie several keys together are checked run by run."""
    from ..scenario.catalogue import field_meta

    if values.dtype == bool or not pd.api.types.is_numeric_dtype(values):
        return  # text (a choice key) or flags: each run's validation says what is wrong
    x = values.to_numpy(dtype=float)
    bad = ~np.isfinite(x)
    bounds = (field_meta(key) or {}).get("bounds", {})
    for name, test in (("ge", np.less), ("gt", np.less_equal), ("le", np.greater),
                       ("lt", np.greater_equal)):
        if name in bounds:
            bad |= test(x, bounds[name])
    if not bad.any():
        return
    allowed = ", ".join([f"{k} {_num(v)}" for k, v in bounds.items()] + ["finite"])
    first = _num(x[bad][0])
    where = {"grid": f"the level {first}", "points": f"the value {first} of point "
             f"{values.index[bad][0]}"}.get(kind, f"the range ({_num(x[0])}, {_num(x[-1])})")
    raise SimcityQualityError(
        f"design key `{key}`: {where} goes beyond the parameter's bounds ({allowed}); nothing "
        "was run. See docs/parameters.md for each parameter's bounds.")


def _num(v: float) -> str:
    """A bound or value as a reader wants it: ``5,000,000``, ``0.25``, ``1e+12``, ``inf``."""
    v = float(v)
    return f"{v:,.0f}" if v.is_integer() and abs(v) < 1e9 else f"{v:g}"


def _flat_numeric(scenario: Scenario) -> dict:
    from ..scenario import flatten

    return {k: v for k, v in flatten(scenario.to_dict()).items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def _normalise_ranges(ranges) -> dict[str, tuple[float, float] | None]:
    if isinstance(ranges, list | tuple):
        out = {k: None for k in ranges}
    else:
        out = {k: (tuple(v) if v is not None else None) for k, v in ranges.items()}
    check_keys(out)
    return out


def check_keys(keys) -> None:
    """Refuse, at once, design keys that no scenario has: the message suggests the nearest key
    and lists the valid keys of the same section (all of them: docs/parameters.md)."""
    from ..scenario import valid_keys
    from ..scenario.keys import suggest

    valid = valid_keys()
    bad = [k for k in keys if k not in valid]
    if not bad:
        return
    key = bad[0]
    section = ".".join(key.split(".")[:2])
    siblings = [k for k in valid if k.startswith(section + ".")]
    if siblings:
        listed = f"the keys under `{section}` are {', '.join(siblings)}"
    else:  # list the sections one level up instead of every key
        top = key.split(".")[0]
        depth = 2 if any(k.startswith(top + ".") for k in valid) else 1
        prefix = top + "." if depth == 2 else ""
        names = sorted({".".join(k.split(".")[:depth]) for k in valid
                        if k.startswith(prefix) and "." in k})
        listed = (f"the sections under `{top}` are " if depth == 2 else "the sections are ") \
            + ", ".join(names)
    raise SimcityQualityError(
        f"design key `{key}` is not a scenario parameter{suggest(key, valid)}; {listed} "
        f"(every key: docs/parameters.md, `simcity-quality params`).")


def _sample(kind: str, d: int, n: int, seed: int) -> np.ndarray:
    from ..results.replications import check_seed

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SimcityQualityError(f"a {kind} design needs n >= 1 points, got {n}.")
    seed = check_seed(seed, f"the {kind} design's seed")
    if kind == "lhs":
        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n)
    if kind == "sobol":
        # scrambled Sobol; any n works, powers of two keep its balance properties
        return qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random(n)
    if kind == "halton":
        return qmc.Halton(d=d, scramble=True, seed=np.random.default_rng(seed)).random(n)
    raise SimcityQualityError(f"unknown design kind {kind!r}")


def _spread_order(coords: np.ndarray) -> list[int]:
    """Farthest-point order of grid points: every prefix spreads over the whole grid."""
    n = len(coords)
    order = [0]
    dist = np.linalg.norm(coords - coords[0], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))  # ties: the lowest index, so the order is deterministic
        order.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(coords - coords[nxt], axis=1))
    return order


def grid(levels: dict[str, list]) -> Design:
    """Full factorial grid: every combination of the given levels."""
    if not levels or any(len(v) == 0 for v in levels.values()):
        raise SimcityQualityError("a grid needs at least one key with at least one level")
    check_keys(levels)
    return Design("grid", list(levels), values={k: list(v) for k, v in levels.items()})


def lhs(ranges, n: int, seed: int = 0) -> Design:
    """Latin hypercube of ``n`` points over ``{key: (low, high) or None}`` (or a list of keys)."""
    r = _normalise_ranges(ranges)
    return Design("lhs", list(r), ranges=r, n=n, seed=seed)


def sobol(ranges, n: int, seed: int = 0) -> Design:
    """Scrambled Sobol sequence of ``n`` points (``scipy.stats.qmc``)."""
    r = _normalise_ranges(ranges)
    return Design("sobol", list(r), ranges=r, n=n, seed=seed)


def halton(ranges, n: int, seed: int = 0) -> Design:
    """Scrambled Halton sequence of ``n`` points (``scipy.stats.qmc``)."""
    r = _normalise_ranges(ranges)
    return Design("halton", list(r), ranges=r, n=n, seed=seed)


def points(table: pd.DataFrame | str | Path) -> Design:
    """An explicit list of points: a DataFrame or a CSV file, one column per dotted key."""
    if not isinstance(table, pd.DataFrame):
        path = Path(table)
        if not path.is_file():
            raise SimcityQualityError(f"{path}: design points file not found.")
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise SimcityQualityError(f"{path}: not a readable CSV of design points ({exc}).") \
                from None
    if table.empty or table.shape[1] == 0:
        raise SimcityQualityError("a points design needs at least one row and one column")
    check_keys(list(table.columns))
    return Design("points", list(table.columns), table=table.reset_index(drop=True))
