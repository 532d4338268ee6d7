"""Priors of the ``[uncertain]`` parameters: what is believed about a behavioural parameter
nobody has measured for the city, as a distribution over its declared range.

An ``[uncertain]`` entry is either a plain range, uniform over it (the form every scenario
file has used)::

    "market.counterfeit_gain" = [0.01, 0.06]

or a table naming a prior over the range, with its source (required)::

    "behaviour.subsidy_misuse" = { range = [0.2, 0.6], prior = "triangular", mode = 0.42,
                                   source = "notes/modelling.md (Boeing and Peters: 42 % misused)" }

The priors (:data:`PRIORS`), each confined to ``range``:

- ``uniform``: every value in the range equally likely (no parameters);
- ``triangular``: ``mode``, the most likely value, within the range;
- ``truncated_normal``: ``mean`` and ``sd`` (> 0) of a normal cut to the range;
- ``beta``: shapes ``alpha`` and ``beta`` (> 0) of a beta distribution stretched over the range;
- ``log_uniform``: uniform in the logarithm (a positive range; for scale parameters).

A scenario keeps each entry as an :class:`UncertainRange`: the tuple ``(low, high)`` (so code
that unpacks or indexes a range works unchanged) carrying its ``prior``, ``params`` and
``source``. Its :meth:`~UncertainRange.quantile` maps uniforms to values (how the runner draws
a replication's parameters, :mod:`simcity_quality.results.uncertainty`), its
:meth:`~UncertainRange.cdf` gives the prior's mass of a part of the range.
"""

import math

import numpy as np

PRIORS: dict[str, tuple[str, ...]] = {
    "uniform": (),
    "triangular": ("mode",),
    "truncated_normal": ("mean", "sd"),
    "beta": ("alpha", "beta"),
    "log_uniform": (),
}
_TABLE_KEYS = ("range", "prior", "source")


class UncertainRange(tuple):
    """An ``[uncertain]`` entry: the range ``(low, high)`` as a tuple, with its prior.

    It unpacks, indexes and compares like the tuple ``(low, high)``; two entries with the same
    range and different priors differ. ``prior`` is a name of :data:`PRIORS`, ``params`` its
    parameters, ``source`` where the prior comes from (``""`` for a plain range).
    """

    def __new__(cls, low: float, high: float, prior: str = "uniform",
                params: dict | None = None, source: str = ""):
        self = super().__new__(cls, (float(low), float(high)))
        self.prior = prior
        self.params = {k: float(v) for k, v in (params or {}).items()}
        self.source = source
        return self

    def __getnewargs__(self):  # pickling and copying keep the prior
        return (self[0], self[1], self.prior, self.params, self.source)

    def __eq__(self, other):
        if isinstance(other, UncertainRange):
            return (tuple(self) == tuple(other) and self.prior == other.prior
                    and self.params == other.params and self.source == other.source)
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        if self.prior == "uniform" and not self.source:
            return repr(tuple(self))
        return f"UncertainRange({self.describe()})"

    @property
    def low(self) -> float:
        """The lower end of the range."""
        return self[0]

    @property
    def high(self) -> float:
        """The upper end of the range."""
        return self[1]

    def describe(self) -> str:
        """``"triangular over 0.2 to 0.6, mode 0.42"``: the prior in words (source apart)."""
        extra = ", ".join(f"{k} {v:g}" for k, v in self.params.items())
        return (f"{self.prior.replace('_', ' ')} over {self[0]:g} to {self[1]:g}"
                + (f", {extra}" if extra else ""))

    def to_data(self):
        """What a scenario file holds: ``[low, high]`` for a plain range, else the table."""
        if self.prior == "uniform" and not self.source:
            return [self[0], self[1]]
        return {"range": [self[0], self[1]], "prior": self.prior, **self.params,
                "source": self.source}

    # -- the distribution ------------------------------------------------------------------
    def quantile(self, u) -> np.ndarray:
        """The values at probabilities ``u`` in [0, 1) (the inverse of :meth:`cdf`): a uniform
        ``u`` gives a draw from the prior."""
        u = np.asarray(u, dtype=float)
        lo, hi = self
        if hi == lo:
            return np.full(u.shape, lo)
        p = self.params
        if self.prior == "uniform":
            return lo + u * (hi - lo)
        if self.prior == "log_uniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if self.prior == "triangular":
            c = (p["mode"] - lo) / (hi - lo)
            left = lo + np.sqrt(u * c) * (hi - lo)
            right = hi - np.sqrt((1 - u) * (1 - c)) * (hi - lo)
            return np.where(u < c, left, right)
        from scipy import special  # here: loading a scenario does not need scipy

        if self.prior == "truncated_normal":
            a = special.ndtr((lo - p["mean"]) / p["sd"])
            b = special.ndtr((hi - p["mean"]) / p["sd"])
            x = p["mean"] + p["sd"] * special.ndtri(a + u * (b - a))
            return np.clip(x, lo, hi)
        return lo + special.betaincinv(p["alpha"], p["beta"], u) * (hi - lo)  # beta

    def cdf(self, x) -> np.ndarray:
        """The prior's probability of a value at or below ``x`` (0 below the range, 1 above)."""
        x = np.asarray(x, dtype=float)
        lo, hi = self
        if hi == lo:
            return (x >= lo).astype(float)
        z = np.clip(x, lo, hi)
        p = self.params
        if self.prior == "uniform":
            out = (z - lo) / (hi - lo)
        elif self.prior == "log_uniform":
            out = (np.log(z) - math.log(lo)) / (math.log(hi) - math.log(lo))
        elif self.prior == "triangular":
            m = p["mode"]
            with np.errstate(divide="ignore", invalid="ignore"):
                left = (z - lo) ** 2 / ((hi - lo) * (m - lo)) if m > lo else np.zeros_like(z)
                right = (1 - (hi - z) ** 2 / ((hi - lo) * (hi - m)) if m < hi
                         else np.ones_like(z))
            out = np.where(z <= m, left, right)
        else:
            from scipy import special

            if self.prior == "truncated_normal":
                a = special.ndtr((lo - p["mean"]) / p["sd"])
                b = special.ndtr((hi - p["mean"]) / p["sd"])
                out = (special.ndtr((z - p["mean"]) / p["sd"]) - a) / (b - a)
            else:
                out = special.betainc(p["alpha"], p["beta"], (z - lo) / (hi - lo))
        return np.clip(out, 0.0, 1.0)

    # -- reading a scenario file -----------------------------------------------------------
    @classmethod
    def from_data(cls, value) -> "UncertainRange":
        """An entry from what a file holds (a range, or a table with a prior and its source),
        refusing anything else with a message saying what was expected (a ``ValueError``:
        the scenario's validation names the file and key)."""
        if isinstance(value, UncertainRange):
            return value
        if isinstance(value, dict):
            return _from_table(value)
        low, high = _range(value, "expected a range [low, high] or a table {range = [low, "
                                  "high], prior = ..., source = ...}")
        return cls(low, high)

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        """Validated from a file's list or table; written back as the file would hold it."""
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls.from_data,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.to_data()))


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _range(value, expected: str) -> tuple[float, float]:
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{expected}; got {value!r}")
    return _number(value[0], "the range's low end"), _number(value[1], "the range's high end")


def _from_table(table: dict) -> UncertainRange:
    """A table entry: ``range``, ``prior`` (default uniform), its parameters, ``source``."""
    names = ", ".join(PRIORS)
    if "range" not in table:
        raise ValueError("a prior table needs `range = [low, high]` (the values the parameter "
                         f"can take), `prior` (one of {names}) and `source`; got keys "
                         f"{sorted(table)}")
    low, high = _range(table["range"], "`range` must be [low, high]")
    prior = table.get("prior", "uniform")
    if prior not in PRIORS:
        raise ValueError(f"prior {prior!r} is not a distribution this model draws from; "
                         f"expected one of {names}")
    wanted = PRIORS[prior]
    extra = sorted(set(table) - set(_TABLE_KEYS) - set(wanted))
    missing = [k for k in wanted if k not in table]
    if extra or missing:
        need = ", ".join(f"`{k}`" for k in wanted) or "no parameters"
        raise ValueError(f"a {prior} prior takes {need} besides `range` and `source`; "
                         + (f"missing {missing}" if missing else "")
                         + ("; " if missing and extra else "")
                         + (f"unexpected {extra}" if extra else ""))
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"a prior needs its `source` (a text naming where the {prior} prior "
                         "comes from, e.g. an author-year-title or a notes file), got "
                         f"{source!r}")
    params = {k: _number(table[k], f"`{k}`") for k in wanted}
    _check_prior(prior, low, high, params)
    return UncertainRange(low, high, prior, params, source.strip())


def _check_prior(prior: str, low: float, high: float, p: dict[str, float]) -> None:
    """Refuse a prior that is not a distribution over ``[low, high]``."""
    if prior != "uniform" and not low < high:
        raise ValueError(f"a {prior} prior needs a range with low below high, got "
                         f"[{low:g}, {high:g}]")
    if prior == "triangular" and not low <= p["mode"] <= high:
        raise ValueError(f"the triangular prior's mode {p['mode']:g} lies outside its range "
                         f"[{low:g}, {high:g}]; expected low <= mode <= high")
    if prior == "truncated_normal":
        if not p["sd"] > 0:
            raise ValueError(f"the truncated normal prior's sd must be above 0, got "
                             f"{p['sd']:g}")
        mass = (math.erf((high - p["mean"]) / (p["sd"] * math.sqrt(2)))
                - math.erf((low - p["mean"]) / (p["sd"] * math.sqrt(2)))) / 2
        if not mass > 1e-9:
            raise ValueError(f"the truncated normal prior (mean {p['mean']:g}, sd {p['sd']:g}) "
                             f"puts no probability on its range [{low:g}, {high:g}]; expected "
                             "a mean and sd that reach the range")
    if prior == "beta" and not (p["alpha"] > 0 and p["beta"] > 0):
        raise ValueError(f"the beta prior's shapes must be above 0, got alpha {p['alpha']:g} "
                         f"and beta {p['beta']:g}")
    if prior == "log_uniform" and not low > 0:
        raise ValueError(f"a log_uniform prior needs a positive range, got [{low:g}, "
                         f"{high:g}]")
