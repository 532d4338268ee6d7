"""Columnar state of the industrial enterprises, and how a population is created.

Enterprises live in fixed slots of numpy arrays (one array per attribute) so the monthly step is
vectorised. A firm that exits frees its slot; an entrant takes a free slot with a new ``id``.
Units: output, cash and debt in million yuan; rewards, fines and subsidies in yuan.
"""

import operator
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from ..categories import KEY_INDUSTRIES, SECTOR_INDEX, SECTORS, SIZE_INDEX, SIZES, TIERS
from ..scenario import Scenario
from . import quality_file
from .jit import jit
from .kpis import pass_probability
from .parameters import frozen, once
from .resolution import thinning
from .shared import MONTHS_PER_YEAR, median_discharge_ratio, standard_limit

KEY_INDUSTRY_CODES = np.array([SECTOR_INDEX[s] for s in KEY_INDUSTRIES], dtype=np.int8)


def sector_limits(sc: Scenario, year: int, new_source: bool) -> np.ndarray:
    """The COD limit in force in ``year`` by sector code, for existing or new sources
    (:func:`~.shared.standard_limit`; read-only, built once per year and kind of source)."""
    return once(sc.environment, _sector_limits, year, new_source)


def _sector_limits(env, year: int, new_source: bool) -> np.ndarray:
    return frozen([standard_limit(env, s, year, new_source) for s in SECTORS])


def entrant_limits(sc: Scenario, year: int) -> np.ndarray:
    """The COD limit an entrant of each sector (code) meets in ``year``: the standard for new
    sources of the year, or any tighter one for existing sources (read-only, built once per
    year)."""
    return once(sc.environment, _entrant_limits, year)


def _entrant_limits(env, year: int) -> np.ndarray:
    return frozen(np.minimum(_sector_limits(env, year, True), _sector_limits(env, year, False)))


def sector_cod_coefficients(sc: Scenario) -> np.ndarray:
    """COD (t per million yuan) at the discharge standard, indexed by sector code."""
    return np.array([getattr(sc.environment.cod_coefficient, s) for s in SECTORS])


@dataclass
class Population:
    """Every enterprise attribute as an array over slots (see docs/ODD.md, state variables)."""

    id: np.ndarray  # int64, unique over the run; an exited firm's id stays until its slot is reused
    alive: np.ndarray  # bool
    weight: np.ndarray  # float64 (whole numbers): city firms this agent stands for; 0: empty slot
    sector: np.ndarray  # int8, index into SECTORS
    size: np.ndarray  # int8, index into SIZES
    output: np.ndarray  # float64, million yuan per year
    margin: np.ndarray  # float64, profit share of output
    cash: np.ndarray  # float64, million yuan
    credit: np.ndarray  # bool, access to bank credit
    capability: np.ndarray  # float64, logit of the product pass probability (real quality)
    intl_std: np.ndarray  # bool, main products made to international standards (§2.2.1b)
    iso9001: np.ndarray  # bool, certified (can be symbolic: kept apart from capability)
    ccc_required: np.ndarray  # bool, products need CCC (§3.3)
    ccc: np.ndarray  # bool
    tier: np.ndarray  # int8, award tier 0..3 (TIERS)
    title_expires: np.ndarray  # int32, month index at which the title is re-examined; -1: none
    applying: np.ndarray  # int8, tier applied for this year (0 = none)
    discharge_ratio: np.ndarray  # float64, COD discharge relative to the base year's standard
    discharge_limit: np.ndarray  # float64, the limit in force for it (same unit; 1 at the start)
    deadline: np.ndarray  # int32, month a deadline-treatment order falls due; -1: none (§3.3)
    counterfeit: np.ndarray  # bool, shoddy or counterfeit production this month (§4.4)
    moral_cost: np.ndarray  # float64, reluctance to counterfeit (logit units)
    watched: np.ndarray  # bool, closely watched tier of the quality file (§3.3)
    clean_count: np.ndarray  # int8, clean inspections since the grade last moved
    grade: np.ndarray  # int8, published grade of the quality file, 0..3 = A..D (GRADES; §3.3)
    belief: np.ndarray  # float64, subjective chance of a city inspection within a year
    problem_until: np.ndarray  # int32, month until which the national rule re-samples the firm
    key_project: np.ndarray  # bool, chosen as a key upgrade project this year (§3.4)
    subsidy_monthly: np.ndarray  # float64, yuan of interest subsidy the city pays each month
    subsidy_months_left: np.ndarray  # int16
    debt_monthly: np.ndarray  # float64, million yuan repaid each month
    debt_months_left: np.ndarray  # int16
    # the quality file (engine/quality_file.py): uint64 each, bit k set if the event happened
    # k months ago
    file_national_checked: np.ndarray
    file_national_failed: np.ndarray
    file_inspected: np.ndarray
    file_inspection_failed: np.ndarray
    file_counterfeit_found: np.ndarray
    file_sanctioned: np.ndarray
    file_title_won: np.ndarray
    file_certified: np.ndarray

    @property
    def n_slots(self) -> int:
        """Number of slots (alive or empty)."""
        return self.id.shape[0]

    def nbytes(self) -> int:
        """Memory held by the state arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def column_names(self) -> list[str]:
        """Names of the state arrays."""
        return [f.name for f in fields(self)]

    def pass_probability(self, counterfeit_pass_factor: float) -> np.ndarray:
        """Chance a product batch passes a test (see :func:`kpis.pass_probability`)."""
        return pass_probability(self.capability, self.counterfeit, counterfeit_pass_factor)

    def arrays(self) -> "FirmArrays":
        """The same arrays as a named tuple, which the compiled rules take (``f.cash[i]``)."""
        return FirmArrays._make(_ALL_ARRAYS(self))

    def write(self, slots: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Write attribute values into the given slots (used for entrants)."""
        for name, value in values.items():
            getattr(self, name)[slots] = value


# the state arrays under the same names, as compiled code can receive them
FirmArrays = NamedTuple("FirmArrays", [(f.name, np.ndarray) for f in fields(Population)])
# reads them all in one call (cheaper than a getattr each, three times a month)
_ALL_ARRAYS = operator.attrgetter(*FirmArrays._fields)


class FirmView:
    """Some of the firm's arrays under their names, for a compiled rule that reads only
    those: a kernel unboxes every array it is given at each call (the whole
    :data:`FirmArrays` record costs about 5 µs), so a monthly rule takes the ones it needs.
    ``FirmView("InspectedFirms", __name__, "cash", "grade")`` makes the record type
    ``.record`` (which must be bound to that name in that module, where numba's cache finds
    it); ``view(pop)`` reads it from a population."""

    def __init__(self, name: str, module: str, *names: str):
        unknown = set(names) - set(FirmArrays._fields)
        if unknown:
            raise ValueError(f"{name}: the population has no arrays {sorted(unknown)}")
        self.record = NamedTuple(name, [(n, np.ndarray) for n in names])
        self.record.__module__ = module
        self._read = operator.attrgetter(*names)

    def __call__(self, pop: Population):
        """The record of ``pop``'s arrays."""
        return self.record._make(self._read(pop))


class FirmTables(NamedTuple):
    """The scenario's base-year distributions of firms (:func:`draw_firms`), arrays by sector
    or size code and the city's numbers, as the compiled passes take them."""

    sector_cdf: np.ndarray  # cumulative shares of firms by sector
    size_cdf: np.ndarray  # and by size class
    output_median: np.ndarray  # by size class (million yuan a year)
    capability_mean: np.ndarray  # by size class
    intl_standard_share: np.ndarray  # by size class
    iso9001_share: np.ndarray  # by size class
    credit_access: np.ndarray  # by size class
    ccc_required: np.ndarray  # by sector: the sector's products need the CCC mark
    title_holder_size_weight: np.ndarray  # by size class: larger firms hold titles more often
    tier_share: np.ndarray  # the share of all firms holding each title, by tier (none: 0)
    output_sigma: float  # of log output
    discharge_ratio_sigma: float  # of the log discharge ratio
    median_discharge_ratio: float  # the base year's median discharge ratio
    cash_months: float  # months of output held as cash
    margin_mean: float
    margin_sd: float
    capability_sd: float
    ccc_share: float  # firms needing the CCC mark that hold it
    moral_cost_mean: float
    moral_cost_sd: float


def firm_tables(sc: Scenario) -> FirmTables:
    """:class:`FirmTables` of ``sc`` (build once and pass them when drawing often)."""
    c = sc.city
    size_p = np.array([getattr(c.size_shares, s) for s in SIZES])
    ccc = np.zeros(len(SECTORS), dtype=bool)
    ccc[[SECTOR_INDEX[s] for s in c.ccc_required_sectors]] = True

    def by_size(record) -> np.ndarray:
        return np.array([getattr(record, s) for s in SIZES])

    return FirmTables(
        sector_cdf=_cdf(np.array([getattr(c.sector_shares, s) for s in SECTORS])),
        size_cdf=_cdf(size_p / size_p.sum()),
        output_median=by_size(c.output_median), capability_mean=by_size(c.capability_mean),
        intl_standard_share=by_size(c.intl_standard_share),
        iso9001_share=by_size(c.iso9001_share), credit_access=by_size(c.credit_access),
        ccc_required=ccc, title_holder_size_weight=by_size(c.title_holder_size_weight),
        tier_share=np.array([0.0, *(getattr(c.tier_share, t) for t in TIERS[1:])]),
        output_sigma=c.output_sigma,
        discharge_ratio_sigma=sc.environment.discharge_ratio_sigma,
        median_discharge_ratio=once(sc.environment, median_discharge_ratio),
        cash_months=c.cash_months, margin_mean=c.margin_mean, margin_sd=c.margin_sd,
        capability_sd=c.capability_sd, ccc_share=c.ccc_share,
        moral_cost_mean=c.moral_cost_mean, moral_cost_sd=c.moral_cost_sd)


def _cdf(p: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(p)
    return cdf / cdf[-1]


@jit(inline=True)
def _category(cdf: np.ndarray, u: float) -> int:
    """The category code for a uniform ``u`` given cumulative shares ``cdf``
    (``np.searchsorted(cdf, u, side="right")``, the last category at most)."""
    code = 0
    while code < cdf.shape[0] - 1 and cdf[code] <= u:
        code += 1
    return code


class NewFirms(NamedTuple):
    """The attributes :func:`draw_firms` draws, an array each (one entry per new firm)."""

    sector: np.ndarray
    size: np.ndarray
    output: np.ndarray
    margin: np.ndarray
    cash: np.ndarray
    credit: np.ndarray
    capability: np.ndarray
    intl_std: np.ndarray
    iso9001: np.ndarray
    ccc_required: np.ndarray
    ccc: np.ndarray
    tier: np.ndarray
    discharge_ratio: np.ndarray
    moral_cost: np.ndarray


def draw_firms(sc: Scenario, k: int, rng: np.random.Generator, capability_shift: float = 0.0,
               tables: FirmTables | None = None, *, output_factor: float = 1.0,
               discharge_factor: float = 1.0) -> dict[str, np.ndarray]:
    """Attributes of ``k`` new firms drawn from the scenario's base-year distributions
    (``tables``: :func:`firm_tables` of ``sc``, built here if not given), their output and
    discharge ratios scaled by ``output_factor`` and ``discharge_factor`` (entrants of a later
    day; a factor 1 changes no bit), by name (:class:`NewFirms`' fields)."""
    tb = tables if tables is not None else firm_tables(sc)
    # the draws in the order they have always been made, consecutive ones of a kind in one
    # call (a generator's stream split in two is the same numbers as two calls of half the
    # size; each call costs more than the draws when few firms enter)
    u_class = rng.random((2, k))
    z_firm = rng.standard_normal((2, k))
    u_rest = rng.random((1 + 5, k))  # the title's uniform, then five per firm
    z_rest = rng.standard_normal((3, k))
    sector, size = np.empty(k, dtype=np.int8), np.empty(k, dtype=np.int8)
    log_spread, title_weight = np.empty((2, k)), np.empty(k)
    _firm_classes(tb, u_class, z_firm[0], z_rest[1], sector, size, log_spread, title_weight)
    # the output's and the discharge ratio's lognormal factors in one call of numpy's exp
    # (element by element the same as one call each)
    spread = np.exp(log_spread)
    mean_weight = np.add.reduce(title_weight) / k  # ndarray.mean's own sum
    new = NewFirms(sector=sector, size=size,
                   **{name: np.empty(k) for name in ("output", "margin", "cash", "capability",
                                                     "discharge_ratio", "moral_cost")},
                   **{name: np.empty(k, dtype=bool) for name in ("credit", "intl_std",
                                                                 "iso9001", "ccc_required",
                                                                 "ccc")},
                   tier=np.empty(k, dtype=np.int8))
    _firm_attributes(tb, spread, u_rest, z_firm[1], z_rest, title_weight, mean_weight,
                     output_factor, capability_shift, discharge_factor, new)
    return new._asdict()


@jit
def _firm_classes(tb: FirmTables, u_class: np.ndarray, z_output: np.ndarray,
                  z_discharge: np.ndarray, sector: np.ndarray, size: np.ndarray,
                  log_spread: np.ndarray, title_weight: np.ndarray) -> None:
    """Each new firm's sector and size (categorical draws by inverting the cumulative shares:
    Generator.choice's checks cost more than the draw when few firms enter), the logs of its
    output's and discharge ratio's lognormal factors and its size's weight for titles."""
    sector_cdf, size_cdf, size_weight = tb.sector_cdf, tb.size_cdf, tb.title_holder_size_weight
    for i in range(sector.shape[0]):
        sector[i] = _category(sector_cdf, u_class[0, i])
        size[i] = _category(size_cdf, u_class[1, i])
        log_spread[0, i] = tb.output_sigma * z_output[i]
        log_spread[1, i] = tb.discharge_ratio_sigma * z_discharge[i]
        title_weight[i] = size_weight[size[i]]


@jit
def _firm_attributes(tb: FirmTables, spread: np.ndarray, u_rest: np.ndarray,
                     z_capability: np.ndarray, z_rest: np.ndarray, title_weight: np.ndarray,
                     mean_weight: float, output_factor: float, capability_shift: float,
                     discharge_factor: float, new: NewFirms) -> None:
    """:func:`draw_firms`' attributes firm by firm into ``new``, from its draws (``u_rest``:
    the title's uniform, then credit, international standards, ISO 9001, CCC; ``z_rest``:
    margin, discharge, moral cost) and ``spread`` (``exp`` of :func:`_firm_classes`' logs)."""
    # the arrays as local names, read once (engine/jit.py)
    sector, size, output, cash, margin = new.sector, new.size, new.output, new.cash, new.margin
    capability, credit, intl_std, iso9001 = (new.capability, new.credit, new.intl_std,
                                             new.iso9001)
    ccc_required, ccc, tier = new.ccc_required, new.ccc, new.tier
    discharge_ratio, moral_cost = new.discharge_ratio, new.moral_cost
    output_median, capability_mean = tb.output_median, tb.capability_mean
    credit_access, intl_standard_share = tb.credit_access, tb.intl_standard_share
    iso9001_share, ccc_required_by_sector, tier_share = (tb.iso9001_share, tb.ccc_required,
                                                         tb.tier_share)
    for i in range(sector.shape[0]):
        s = size[i]
        output[i] = output_median[s] * spread[0, i] * output_factor
        cash[i] = output[i] * tb.cash_months / MONTHS_PER_YEAR
        margin[i] = tb.margin_mean + tb.margin_sd * z_rest[0, i]
        capability[i] = (capability_mean[s] + capability_shift
                         + tb.capability_sd * z_capability[i])
        credit[i] = u_rest[1, i] < credit_access[s]
        intl_std[i] = u_rest[2, i] < intl_standard_share[s]
        iso9001[i] = u_rest[3, i] < iso9001_share[s]
        ccc_required[i] = ccc_required_by_sector[sector[i]]
        ccc[i] = ccc_required[i] and u_rest[4, i] < tb.ccc_share
        # titles: large firms first (larger firms hold titles far more often, by their
        # weight over the mean); shares are of all firms, the highest title first
        weight = title_weight[i] / mean_weight
        tier[i] = 0
        cum = 0.0
        for t in range(tier_share.shape[0] - 1, 0, -1):
            if (tier[i] == 0 and u_rest[0, i] >= cum * weight
                    and u_rest[0, i] < (cum + tier_share[t]) * weight):
                tier[i] = t
            cum += tier_share[t]
        discharge_ratio[i] = tb.median_discharge_ratio * spread[1, i] * discharge_factor
        moral = tb.moral_cost_mean + tb.moral_cost_sd * z_rest[2, i]
        moral_cost[i] = 0.0 if 0.0 >= moral else moral  # np.maximum(0.0, moral)


def individually_simulated(attrs: dict) -> np.ndarray:
    """Firms simulated one agent each at every resolution: large firms (a few carry much of
    the city's output) and title holders (engine/resolution.py)."""
    return (attrs["size"] == SIZE_INDEX["large"]) | (attrs["tier"] > 0)


def initial_grade(iso9001: np.ndarray) -> np.ndarray:
    """The grade of an empty quality file: A with ISO 9001 certification, else B."""
    return np.where(np.asarray(iso9001, dtype=bool), 0, 1).astype(np.int8)


def create_population(sc: Scenario, resolution: int, rng: np.random.Generator,
                      thin_rng: np.random.Generator, initial_belief: float) -> Population:
    """The base-year city (``city.firms`` firms drawn from ``rng``, whatever the resolution),
    as ``resolution`` agents: the firms :func:`individually_simulated` one each, a sample of
    the others by size class (drawn from ``thin_rng``) standing for all of them with
    weights."""
    attrs = draw_firms(sc, sc.city.firms, rng)
    weight = thinning(sc.city.firms, individually_simulated(attrs), resolution, thin_rng,
                      attrs["size"])
    keep = weight > 0
    attrs = {k: v[keep] for k, v in attrs.items()}
    n = int(keep.sum())
    pop = Population(
        id=np.arange(n, dtype=np.int64),
        alive=np.ones(n, dtype=bool),
        weight=weight[keep],
        applying=np.zeros(n, dtype=np.int8),
        counterfeit=np.zeros(n, dtype=bool),
        watched=np.zeros(n, dtype=bool),
        clean_count=np.zeros(n, dtype=np.int8),
        grade=initial_grade(attrs["iso9001"]),
        belief=np.full(n, initial_belief),
        problem_until=np.full(n, -1, dtype=np.int32),
        title_expires=np.full(n, -1, dtype=np.int32),  # set by the model (held_title_expiry)
        discharge_limit=sector_limits(sc, sc.city.base_year, False)[attrs["sector"]],
        deadline=np.full(n, -1, dtype=np.int32),
        key_project=np.zeros(n, dtype=bool),
        subsidy_monthly=np.zeros(n),
        subsidy_months_left=np.zeros(n, dtype=np.int16),
        debt_monthly=np.zeros(n),
        debt_months_left=np.zeros(n, dtype=np.int16),
        **{name: np.zeros(n, dtype=np.uint64) for name in quality_file.FIELDS},
        **attrs,
    )
    return pop


def empty_population(n: int) -> Population:
    """A population of ``n`` empty slots (for hand-built test cases)."""
    kinds = {f.name: f for f in fields(Population)}
    dtypes = {"id": np.int64, "alive": bool, "sector": np.int8, "size": np.int8,
              "credit": bool, "intl_std": bool, "iso9001": bool,
              "ccc_required": bool, "ccc": bool, "tier": np.int8, "applying": np.int8,
              "counterfeit": bool, "watched": bool,
              "clean_count": np.int8, "grade": np.int8, "problem_until": np.int32,
              "title_expires": np.int32,
              "deadline": np.int32,
              "key_project": bool,
              "subsidy_months_left": np.int16, "debt_months_left": np.int16,
              **dict.fromkeys(quality_file.FIELDS, np.uint64)}
    arrays = {name: np.zeros(n, dtype=dtypes.get(name, np.float64)) for name in kinds}
    arrays["id"][:] = -1
    arrays["problem_until"][:] = -1
    arrays["title_expires"][:] = -1
    arrays["deadline"][:] = -1
    arrays["discharge_limit"][:] = 1.0
    return Population(**arrays)
