"""Exit and entry of enterprises (docs/ODD.md §7.9): firms leave on licence revocation (§4.4),
closure over the discharge limit (§3.3), bankruptcy or a background hazard; vacated slots are
taken by entrants, which under §3.3 permits are refused when over the discharge limit."""

import numpy as np

from ..scenario import Levers, Scenario
from . import quality_file
from .jit import jit
from .parameters import ExitParameters
from .population import FirmArrays, Population, draw_firms, initial_grade, sector_limits
from .resolution import binomial_members, free_slots
from .shared import MONTHS_PER_YEAR


@jit
def leave(f: FirmArrays, revoked: np.ndarray, closed: np.ndarray, hazard_exits: np.ndarray,
          p: ExitParameters, counts: np.ndarray) -> None:
    """Alive firms leave on licence revocation (§4.4), closure over the discharge limit (§3.3),
    bankruptcy (cash below the floor its credit allows) or the size's monthly hazard
    (``hazard_exits``: how many of an agent's members the hazard takes); what an exit resets
    is cleared. An agent's members leave together on the shared reasons and one by one by the
    hazard. ``counts`` (added to, in firms): revoked, closed, bankrupt, all exits."""
    # the record's arrays as local names, read once (engine/jit.py)
    alive, credit, output, cash, weight = f.alive, f.credit, f.output, f.cash, f.weight
    counterfeit, watched, key_project = f.counterfeit, f.watched, f.key_project
    applying, subsidy_months_left = f.applying, f.subsidy_months_left
    subsidy_monthly, debt_monthly = f.subsidy_monthly, f.debt_monthly
    debt_months_left, deadline = f.debt_months_left, f.deadline
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        floor = -(p.bankruptcy_floor_with_credit if credit[i]
                  else p.bankruptcy_floor_without_credit) * output[i]
        bankrupt = cash[i] < floor
        if revoked[i]:
            counts[0] += weight[i]
        elif closed[i]:
            counts[1] += weight[i]
        elif bankrupt:
            counts[2] += weight[i]
        if not (revoked[i] or closed[i] or bankrupt) and hazard_exits[i] < weight[i]:
            counts[3] += hazard_exits[i]
            weight[i] -= hazard_exits[i]
        elif revoked[i] or closed[i] or bankrupt or hazard_exits[i] > 0:
            counts[3] += weight[i]
            alive[i] = False
            weight[i] = 0.0
            counterfeit[i] = False
            watched[i] = False
            key_project[i] = False
            deadline[i] = -1
            applying[i] = 0
            subsidy_months_left[i] = 0
            subsidy_monthly[i] = 0.0
            debt_monthly[i] = 0.0
            debt_months_left[i] = 0


EXIT_COUNTS = ("licences_revoked", "closures_over_limit", "bankruptcies", "exits")


def per_slot(flags: np.ndarray, n_slots: int) -> np.ndarray:
    """A month's per-slot flags for ``n_slots`` slots: slots made since (beyond the flags'
    length) are ``False``."""
    if flags.size == n_slots:
        return flags
    if flags.size > n_slots:
        raise ValueError(f"{flags.size} flags for {n_slots} slots: slots are never removed")
    out = np.zeros(n_slots, dtype=bool)
    out[:flags.size] = flags
    return out


def exits(pop: Population, out, u: np.ndarray, p: ExitParameters, counts: dict) -> None:
    """Firms leave (:func:`leave`); ``out``: the month's
    :class:`~.government.InspectionOutcome`; ``u``: a uniform per slot for the hazard (an
    agent of weight ``w`` loses a binomial number of its members). Adds to the exit
    ``counts`` (firms)."""
    tally = np.zeros(len(EXIT_COUNTS))
    hazard = np.where(pop.alive, p.exit_hazard[pop.size], 0.0)
    hazard_exits = binomial_members(u, pop.weight, hazard).astype(np.float64)
    # slots made after the inspections (December's award winners split off weighted agents)
    # were not inspected: neither revoked nor closed (the kernel reads one flag per slot)
    leave(pop.arrays(), per_slot(out.revoked, pop.n_slots), per_slot(out.closed, pop.n_slots),
          hazard_exits, p, tally)
    for name, c in zip(EXIT_COUNTS, tally, strict=True):
        counts[name] += int(round(c))


def entrant_attributes(sc: Scenario, k: int, rng: np.random.Generator, tables: dict,
                       months_on: int) -> dict:
    """Attributes of ``k`` entrants (drawn from ``rng``, this month's child) with the output
    and discharge technology of their day, ``months_on`` months after the start, and the
    discharge limit for new sources of their year."""
    attrs = draw_firms(sc, k, rng, sc.behaviour.entrant_capability_shift, tables)
    years_on = months_on / MONTHS_PER_YEAR
    attrs["discharge_ratio"] *= (1.0 + sc.environment.discharge_trend) ** years_on
    # a new source meets the standard for new sources of the year it enters (and any tighter
    # one for existing sources)
    year = sc.city.base_year + max(months_on - 1, 0) // MONTHS_PER_YEAR
    attrs["discharge_limit"] = np.minimum(sector_limits(sc, year, new_source=True),
                                          sector_limits(sc, year, new_source=False))[
        attrs["sector"]]
    attrs["output"] *= (1.0 + sc.city.output_growth) ** years_on
    attrs["cash"] = attrs["output"] * sc.city.cash_months / MONTHS_PER_YEAR
    return attrs


def entrants(vacancies: int, p: ExitParameters, rng: np.random.Generator) -> int:
    """How many firms enter this month: each of the city's ``vacancies`` (firms that left and
    were not replaced) is taken with chance ``entry_rate``."""
    return int(rng.binomial(max(vacancies, 0), p.entry_rate))


def thin_entrants(attrs: dict, size_weight: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Weights of entrants at the run's resolution: an entrant of size class ``s`` is kept
    with chance ``1 / size_weight[s]`` (``u``: a uniform each) and then stands for
    ``size_weight[s]`` firms, so that entrants are thinned as the city's firms of their
    size are (1: simulated one each; 0: not simulated)."""
    w = size_weight[attrs["size"]].astype(np.float64)
    return np.where(u < 1.0 / w, w, 0.0)


def admit(pop: Population, lv: Levers, attrs: dict, weight: np.ndarray, next_id: int,
          anchors: np.ndarray, counts: dict) -> int:
    """Entrants with ``attrs`` (each standing for ``weight`` firms; 0: not simulated) take free
    slots, with no title and their sector's normal-tier inspection belief, unless under §3.3
    permits an entrant is over the discharge limit and refused; returns the next unused id."""
    ok = weight > 0
    if lv.permits.refuse_over_limit:  # §3.3: no permit over the discharge limit
        over = attrs["discharge_ratio"] > attrs["discharge_limit"]
        counts["permits_refused"] += int(weight[ok & over].sum())
        ok &= ~over
    slots = free_slots(pop, int(ok.sum()))
    pop.write(slots, {k: v[ok] for k, v in attrs.items()})
    pop.weight[slots] = weight[ok]
    pop.tier[slots] = 0  # entrants hold no titles
    pop.title_expires[slots] = -1
    pop.id[slots] = np.arange(next_id, next_id + slots.size)
    pop.alive[slots] = True
    pop.problem_until[slots] = -1
    pop.deadline[slots] = -1
    pop.clean_count[slots] = 0
    pop.grade[slots] = initial_grade(pop.iso9001[slots])  # an empty file (§3.3)
    for name in quality_file.FIELDS:  # an entrant's file starts empty
        getattr(pop, name)[slots] = 0
    pop.belief[slots] = anchors[pop.sector[slots], 0]
    counts["entrants"] += int(weight[ok].sum())
    return next_id + int(slots.size)
