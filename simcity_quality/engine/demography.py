"""Exit and entry of enterprises (docs/ODD.md §7.9): firms leave on licence revocation (§4.4),
closure over the discharge limit (§3.3), bankruptcy or a background hazard; vacated slots are
taken by entrants, which under §3.3 permits are refused when over the discharge limit."""

import numpy as np

from ..scenario import Levers, Scenario
from .jit import jit
from .parameters import ExitParameters
from .population import FirmArrays, Population, draw_firms
from .shared import MONTHS_PER_YEAR


@jit
def leave(f: FirmArrays, revoked: np.ndarray, closed: np.ndarray, u_exit: np.ndarray,
          p: ExitParameters, counts: np.ndarray) -> None:
    """Alive firms leave on licence revocation (§4.4), closure over the discharge limit (§3.3),
    bankruptcy (cash below the floor its credit allows) or the size's monthly hazard; what an
    exit resets is cleared. ``counts`` (added to): revoked, closed, bankrupt, all exits."""
    for i in range(f.alive.shape[0]):
        if not f.alive[i]:
            continue
        floor = -(p.bankruptcy_floor_with_credit if f.credit[i]
                  else p.bankruptcy_floor_without_credit) * f.output[i]
        bankrupt = f.cash[i] < floor
        if revoked[i]:
            counts[0] += 1
        elif closed[i]:
            counts[1] += 1
        elif bankrupt:
            counts[2] += 1
        if revoked[i] or closed[i] or bankrupt or u_exit[i] < p.exit_hazard[f.size[i]]:
            counts[3] += 1
            f.alive[i] = False
            f.counterfeit[i] = False
            f.watched[i] = False
            f.key_project[i] = False
            f.applying[i] = 0
            f.subsidy_months_left[i] = 0
            f.subsidy_monthly[i] = 0.0
            f.debt_monthly[i] = 0.0
            f.debt_months_left[i] = 0


EXIT_COUNTS = ("licences_revoked", "closures_over_limit", "bankruptcies", "exits")


def exits(pop: Population, out, u: np.ndarray, p: ExitParameters, counts: dict) -> np.ndarray:
    """Firms leave (:func:`leave`); ``out``: the month's
    :class:`~.government.InspectionOutcome`; ``u``: the month's two uniform rows (exit, entry).
    Adds to the exit ``counts``; returns the free slots that draw an entrant."""
    tally = np.zeros(len(EXIT_COUNTS), dtype=np.int64)
    leave(pop.arrays(), out.revoked, out.closed, u[0], p, tally)
    for name, c in zip(EXIT_COUNTS, tally, strict=True):
        counts[name] += int(c)
    return np.flatnonzero(~pop.alive & (u[1] < p.entry_rate))


def entrant_attributes(sc: Scenario, k: int, rng: np.random.Generator, tables: dict,
                       months_on: int) -> dict:
    """Attributes of ``k`` entrants (drawn from ``rng``, this month's child) with the output
    and discharge technology of their day, ``months_on`` months after the start."""
    attrs = draw_firms(sc, k, rng, sc.behaviour.entrant_capability_shift, tables)
    years_on = months_on / MONTHS_PER_YEAR
    attrs["discharge_ratio"] *= (1.0 + sc.environment.discharge_trend) ** years_on
    attrs["output"] *= (1.0 + sc.city.output_growth) ** years_on
    attrs["cash"] = attrs["output"] * sc.city.cash_months / MONTHS_PER_YEAR
    return attrs


def admit(pop: Population, lv: Levers, free: np.ndarray, attrs: dict, next_id: int,
          anchors: np.ndarray, counts: dict) -> int:
    """Entrants with ``attrs`` take the ``free`` slots, with no title and their sector's
    normal-tier inspection belief, unless under §3.3 permits an entrant is over the discharge
    limit and refused; returns the next unused firm id."""
    ok = np.ones(free.size, dtype=bool)
    if lv.permits.refuse_over_limit:  # §3.3: no permit over the discharge limit
        ok = attrs["discharge_ratio"] <= 1.0
        counts["permits_refused"] += int(np.count_nonzero(~ok))
    slots = free[ok]
    pop.write(slots, {k: v[ok] for k, v in attrs.items()})
    pop.tier[slots] = 0  # entrants hold no titles
    pop.id[slots] = np.arange(next_id, next_id + slots.size)
    pop.alive[slots] = True
    pop.problem_until[slots] = -1
    pop.clean_count[slots] = 0
    pop.belief[slots] = anchors[pop.sector[slots], 0]
    counts["entrants"] += int(slots.size)
    return next_id + int(slots.size)
