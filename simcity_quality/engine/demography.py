"""Exit and entry of enterprises (docs/ODD.md §7.9): firms leave on licence revocation (§4.4),
closure over the discharge limit (§3.3), bankruptcy or a background hazard; vacated slots are
taken by entrants, which under §3.3 permits are refused when over the discharge limit."""

import operator
from typing import NamedTuple

import numpy as np

from ..scenario import Levers, Scenario
from . import quality_file
from .jit import jit
from .parameters import ExitParameters
from .population import (
    FirmArrays,
    NewFirms,
    Population,
    draw_firms,
    entrant_limits,
    initial_grade,
)
from .resolution import binomial_members, free_slots
from .shared import MONTHS_PER_YEAR


@jit
def leave(alive: np.ndarray, credit: np.ndarray, output: np.ndarray, cash: np.ndarray,
          weight: np.ndarray, counterfeit: np.ndarray, watched: np.ndarray,
          key_project: np.ndarray, applying: np.ndarray, subsidy_months_left: np.ndarray,
          subsidy_monthly: np.ndarray, debt_monthly: np.ndarray, debt_months_left: np.ndarray,
          deadline: np.ndarray, revoked: np.ndarray, closed: np.ndarray,
          hazard_exits: np.ndarray, p: ExitParameters, counts: np.ndarray) -> float:
    """Alive firms leave on licence revocation (§4.4), closure over the discharge limit (§3.3),
    bankruptcy (cash below the floor its credit allows) or the size's monthly hazard
    (``hazard_exits``: how many of an agent's members the hazard takes); what an exit resets
    is cleared. An agent's members leave together on the shared reasons and one by one by the
    hazard. ``counts`` (added to, in firms): revoked, closed, bankrupt, all exits. Returns the
    firms alive after the exits (a sum of whole numbers: the same in any order). The firm's
    arrays are :data:`EXIT_STATE` of the population (only those: a kernel's every array
    argument costs its unboxing)."""
    still = 0.0
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        taken = float(hazard_exits[i])
        floor = -(p.bankruptcy_floor_with_credit if credit[i]
                  else p.bankruptcy_floor_without_credit) * output[i]
        bankrupt = cash[i] < floor
        if revoked[i]:
            counts[0] += weight[i]
        elif closed[i]:
            counts[1] += weight[i]
        elif bankrupt:
            counts[2] += weight[i]
        if not (revoked[i] or closed[i] or bankrupt) and taken < weight[i]:
            counts[3] += taken
            weight[i] -= taken
            still += weight[i]
        elif revoked[i] or closed[i] or bankrupt or taken > 0:
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
        else:
            still += weight[i]
    return still


# the firm's state :func:`leave` reads or clears, in the order of its arguments
EXIT_STATE = operator.attrgetter(
    "alive", "credit", "output", "cash", "weight", "counterfeit", "watched", "key_project",
    "applying", "subsidy_months_left", "subsidy_monthly", "debt_monthly", "debt_months_left",
    "deadline")


@jit
def _hazards(alive: np.ndarray, size: np.ndarray, p: ExitParameters) -> np.ndarray:
    """Each slot's monthly exit hazard (its size's; 0 for an empty slot)."""
    out = np.zeros(alive.shape[0])
    for i in range(alive.shape[0]):
        if alive[i]:
            out[i] = p.exit_hazard[size[i]]
    return out


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


def exits(pop: Population, out, u: np.ndarray, p: ExitParameters, counts: dict) -> float:
    """Firms leave (:func:`leave`); ``out``: the month's
    :class:`~.government.InspectionOutcome`; ``u``: a uniform per slot for the hazard (an
    agent of weight ``w`` loses a binomial number of its members). Adds to the exit
    ``counts`` (firms); returns the firms alive after the exits."""
    tally = np.zeros(len(EXIT_COUNTS))
    hazard_exits = binomial_members(u, pop.weight, _hazards(pop.alive, pop.size, p))
    # slots made after the inspections (December's award winners split off weighted agents)
    # were not inspected: neither revoked nor closed (the kernel reads one flag per slot)
    still = leave(*EXIT_STATE(pop), per_slot(out.revoked, pop.n_slots),
                  per_slot(out.closed, pop.n_slots), hazard_exits, p, tally)
    for name, c in zip(EXIT_COUNTS, tally.tolist(), strict=True):
        counts[name] += int(round(c))
    return still


def entrant_attributes(sc: Scenario, k: int, rng: np.random.Generator, tables: dict,
                       months_on: int) -> dict:
    """Attributes of ``k`` entrants (drawn from ``rng``, this month's child) with the output
    and discharge technology of their day, ``months_on`` months after the start, and the
    discharge limit for new sources of their year."""
    years_on = months_on / MONTHS_PER_YEAR
    attrs = draw_firms(sc, k, rng, sc.behaviour.entrant_capability_shift, tables,
                       output_factor=(1.0 + sc.city.output_growth) ** years_on,
                       discharge_factor=(1.0 + sc.environment.discharge_trend) ** years_on)
    # a new source meets the standard for new sources of the year it enters (and any tighter
    # one for existing sources)
    year = sc.city.base_year + max(months_on - 1, 0) // MONTHS_PER_YEAR
    attrs["discharge_limit"] = entrant_limits(sc, year)[attrs["sector"]]
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
    out = np.empty(u.shape[0])
    _thin(attrs["size"], size_weight, u, out)
    return out


@jit
def _thin(size: np.ndarray, size_weight: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
    for i in range(u.shape[0]):
        w = np.float64(size_weight[size[i]])
        out[i] = w if u[i] < 1.0 / w else 0.0


# the month's entrants' attributes that :func:`_settle` writes into their slots, an array each:
# those :func:`~.population.draw_firms` draws but the title (not kept: see :func:`admit`), and
# the discharge limit of their year (:func:`entrant_attributes`)
Entrants = NamedTuple("Entrants", [(name, np.ndarray) for name in NewFirms._fields
                                   if name != "tier"] + [("discharge_limit", np.ndarray)])
_ENTRANT_VALUES = operator.itemgetter(*Entrants._fields)
_FILE_COLUMNS = operator.attrgetter(*quality_file.FIELDS)


def admit(pop: Population, lv: Levers, attrs: dict, weight: np.ndarray, next_id: int,
          anchors: np.ndarray, counts: dict) -> int:
    """Entrants with ``attrs`` (each standing for ``weight`` firms; 0: not simulated) take free
    slots, with no title and their sector's normal-tier inspection belief, unless under §3.3
    permits an entrant is over the discharge limit and refused; returns the next unused id."""
    ok = np.empty(weight.shape[0], dtype=bool)
    n_ok, refused, admitted = _permitted(weight, attrs["discharge_ratio"],
                                         attrs["discharge_limit"],
                                         lv.permits.refuse_over_limit, ok)
    if lv.permits.refuse_over_limit:  # §3.3: no permit over the discharge limit
        counts["permits_refused"] += int(refused)
    slots = free_slots(pop, n_ok)
    _settle(slots, ok, weight, next_id, anchors, initial_grade(attrs["iso9001"]),
            Entrants._make(_ENTRANT_VALUES(attrs)), pop.arrays(), _FILE_COLUMNS(pop))
    counts["entrants"] += int(admitted)
    return next_id + int(slots.size)


@jit
def _permitted(weight: np.ndarray, discharge_ratio: np.ndarray, discharge_limit: np.ndarray,
               refuse_over_limit: bool, ok: np.ndarray) -> tuple[int, float, float]:
    """Which entrants take a slot (``ok``): those simulated (weight above 0) and, when
    ``refuse_over_limit`` (§3.3 permits), within the discharge limit. Returns how many, and
    the firms refused a permit and admitted (sums of whole numbers: the same in any order)."""
    n_ok, refused, admitted = 0, 0.0, 0.0
    for i in range(weight.shape[0]):
        ok[i] = weight[i] > 0
        if refuse_over_limit and discharge_ratio[i] > discharge_limit[i]:
            if ok[i]:
                refused += weight[i]
            ok[i] = False
        if ok[i]:
            n_ok += 1
            admitted += weight[i]
    return n_ok, refused, admitted


@jit
def _settle(slots: np.ndarray, ok: np.ndarray, weight: np.ndarray, next_id: int,
            anchors: np.ndarray, grade_of: np.ndarray, e: Entrants, f: FirmArrays,
            files: tuple) -> None:
    """The admitted entrants (``ok``; ``e``: every entrant's attributes) take ``slots`` of
    the firms' arrays ``f`` in order, with new ids from ``next_id``: no title (the one drawn
    is not kept), an empty quality file (``files``: its arrays) graded by ``grade_of``
    (:func:`~.population.initial_grade`), and their sector's normal-tier belief."""
    # the arrays as local names, read once (engine/jit.py)
    sector, size, output, margin, cash = f.sector, f.size, f.output, f.margin, f.cash
    credit, capability, intl_std, iso9001 = f.credit, f.capability, f.intl_std, f.iso9001
    ccc_required, ccc, discharge_ratio = f.ccc_required, f.ccc, f.discharge_ratio
    moral_cost, discharge_limit, slot_weight, tier = (f.moral_cost, f.discharge_limit,
                                                      f.weight, f.tier)
    title_expires, slot_id, alive, problem_until = (f.title_expires, f.id, f.alive,
                                                    f.problem_until)
    deadline, clean_count, grade, belief = f.deadline, f.clean_count, f.grade, f.belief
    sector_of, size_of, output_of, margin_of, cash_of = (e.sector, e.size, e.output, e.margin,
                                                         e.cash)
    credit_of, capability_of, intl_std_of = e.credit, e.capability, e.intl_std
    iso9001_of, ccc_required_of, ccc_of = e.iso9001, e.ccc_required, e.ccc
    discharge_ratio_of, moral_cost_of = e.discharge_ratio, e.moral_cost
    discharge_limit_of = e.discharge_limit
    j = 0
    for i in range(ok.shape[0]):
        if not ok[i]:
            continue
        s = slots[j]
        sector[s], size[s], output[s] = sector_of[i], size_of[i], output_of[i]
        margin[s], cash[s], credit[s] = margin_of[i], cash_of[i], credit_of[i]
        capability[s], intl_std[s], iso9001[s] = capability_of[i], intl_std_of[i], iso9001_of[i]
        ccc_required[s], ccc[s] = ccc_required_of[i], ccc_of[i]
        discharge_ratio[s], moral_cost[s] = discharge_ratio_of[i], moral_cost_of[i]
        discharge_limit[s] = discharge_limit_of[i]
        slot_weight[s] = weight[i]
        tier[s] = 0  # entrants hold no titles
        title_expires[s] = -1
        slot_id[s] = next_id + j
        alive[s] = True
        problem_until[s] = -1
        deadline[s] = -1
        clean_count[s] = 0
        grade[s] = grade_of[i]  # an empty file (§3.3)
        for file in files:  # an entrant's file starts empty
            file[s] = 0
        belief[s] = anchors[sector_of[i], 0]
        j += 1
