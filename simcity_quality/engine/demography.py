"""Exit and entry of enterprises (docs/ODD.md §7.9): firms leave on licence revocation (§4.4),
closure over the discharge limit (§3.3), bankruptcy or a background hazard; vacated slots are
taken by entrants, which under §3.3 permits are refused when over the discharge limit."""

import numpy as np

from ..scenario import Levers, Scenario
from . import kernels
from .population import Population, draw_firms

# what an exit resets (an entrant's own state is written over the rest)
CLEARED_ON_EXIT = ("counterfeit", "watched", "key_project", "applying", "subsidy_months_left",
                   "subsidy_monthly", "debt_monthly", "debt_months_left")


def exits(pop: Population, sc: Scenario, out, u: np.ndarray, exit_hazard: np.ndarray,
          counts: dict) -> np.ndarray:
    """Firms leave (revoked, closed, bankrupt or by the hazard); ``out``: the month's
    :class:`~.government.InspectionOutcome`; ``u``: the month's two uniform rows. Adds to the
    exit ``counts``; returns the free slots that draw an entrant."""
    if kernels.ENABLED:
        tally = np.zeros(4, dtype=np.int64)
        free = kernels.exits(
            pop.alive, pop.size, pop.credit, pop.output, pop.cash, out.revoked, out.closed,
            u[0], u[1], exit_hazard,
            sc.behaviour.entry_rate, pop.counterfeit, pop.watched, pop.key_project,
            pop.applying, pop.subsidy_months_left, pop.subsidy_monthly, pop.debt_monthly,
            pop.debt_months_left, tally)
        for name, c in zip(("licences_revoked", "closures_over_limit", "bankruptcies",
                            "exits"), tally, strict=True):
            counts[name] += int(c)
        return free
    hazard = exit_hazard[pop.size]
    floor = np.where(pop.credit, -0.5, -0.1) * pop.output  # credit lets firms run deficits
    bankrupt = pop.alive & (pop.cash < floor)
    leaving = pop.alive & (out.revoked | out.closed | bankrupt | (u[0] < hazard))
    counts["licences_revoked"] += int(np.count_nonzero(pop.alive & out.revoked))
    counts["closures_over_limit"] += int(np.count_nonzero(pop.alive & out.closed & ~out.revoked))
    counts["bankruptcies"] += int(np.count_nonzero(bankrupt & ~out.revoked & ~out.closed))
    counts["exits"] += int(np.count_nonzero(leaving))
    gone = np.flatnonzero(leaving)
    if gone.size:
        pop.alive[gone] = False
        for name in CLEARED_ON_EXIT:
            getattr(pop, name)[gone] = 0
    return np.flatnonzero(~pop.alive & (u[1] < sc.behaviour.entry_rate))


def enter(pop: Population, sc: Scenario, lv: Levers, free: np.ndarray,
          rng: np.random.Generator, tables: dict, months_on: int, next_id: int,
          anchors: np.ndarray, counts: dict) -> int:
    """Entrants take the ``free`` slots (drawn from ``rng``, this month's child) with the output
    and discharge technology of their day (``months_on`` months after the start); returns the
    next unused firm id."""
    attrs = draw_firms(sc, free.size, rng, sc.behaviour.entrant_capability_shift, tables)
    attrs["tier"][:] = 0  # entrants hold no titles
    years_on = months_on / 12.0
    attrs["discharge_ratio"] *= (1.0 + sc.environment.discharge_trend) ** years_on
    attrs["output"] *= (1.0 + sc.city.output_growth) ** years_on
    attrs["cash"] = attrs["output"] * sc.city.cash_months / 12.0
    ok = np.ones(free.size, dtype=bool)
    if lv.permits.refuse_over_limit:  # §3.3: no permit over the discharge limit
        ok = attrs["discharge_ratio"] <= 1.0
        counts["permits_refused"] += int(np.count_nonzero(~ok))
    slots = free[ok]
    pop.write(slots, {k: v[ok] for k, v in attrs.items()})
    pop.id[slots] = np.arange(next_id, next_id + slots.size)
    pop.alive[slots] = True
    pop.problem_until[slots] = -1
    pop.clean_count[slots] = 0
    pop.belief[slots] = anchors[pop.sector[slots], 0]
    counts["entrants"] += int(slots.size)
    return next_id + int(slots.size)
