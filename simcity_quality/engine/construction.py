"""Construction contractors and their works (§2.2.2), vectorised over contractors.

Each month a contractor completes a Poisson number of works, some of them large or medium
projects (outside the acceptance and excellence targets, §2.2.2b). It builds them with the effort
it last chose (cut corners, standard, excellence): effort shifts the chance that a work has a
defect. The quality supervision station follows a share of works during construction and has
their defects corrected; one-time acceptance finds most remaining defects (the work fails, is
reworked, the contractor pays a penalty and gets a record in the quality file); a defect that
slips through leaves a completed work below national standards. A defect-free work is rated
excellent with a chance that rises with effort.

Per work, given the defect chance ``q``, supervision share ``s``, correction ``c`` and detection
``d``: remaining defect ``r = q (1 - s c)``; failed acceptance ``r d``; hidden defect
``r (1 - d)``; excellent ``(1 - r) x rating``. Outcomes are drawn as independent Poisson counts
per (other or large work, outcome), which is a Poisson number of works split multinomially.
"""

from dataclasses import dataclass, fields

import numpy as np

from ..categories import EFFORTS, EXCELLENT, FAIL, HIDDEN, SIZES
from ..scenario import Levers, Scenario
from .parameters import frozen, once
from .resolution import field_names, thinning
from .shared import MONTHS_PER_YEAR, YUAN_PER_MILLION


@dataclass
class Contractors:
    """Contractor state as arrays (one slot per agent; contractors do not enter or exit)."""

    weight: np.ndarray  # float64 (whole numbers): the city's contractors this agent stands for
    size: np.ndarray  # int8 qualification grade (SIZES)
    capability: np.ndarray  # float64, logit of a defect-free work at standard effort
    effort: np.ndarray  # int8 index into EFFORTS
    watched: np.ndarray  # bool, a record in the quality file (§3.3)
    clean_works: np.ndarray  # int16, works passing first time since the record

    def nbytes(self) -> int:
        """Memory held by the state arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def take(self, slots: np.ndarray) -> "Contractors":
        """A copy of the given contractors (for work on a subset)."""
        return Contractors(**{name: getattr(self, name)[slots]
                              for name in field_names(Contractors)})


def create_contractors(sc: Scenario, agents: int, rng: np.random.Generator,
                       thin_rng: np.random.Generator) -> Contractors:
    """The city's base-year contractors (``city.contractors``, drawn from ``rng``) with a
    clean file, at standard effort until the model draws their first effort choice under the
    status quo, as ``agents`` agents: a sample by grade (from ``thin_rng``) standing for all
    with weights."""
    c = sc.construction
    n = sc.city.contractors
    p = np.array([getattr(c.size_shares, s) for s in SIZES])
    size = rng.choice(len(SIZES), size=n, p=p / p.sum()).astype(np.int8)
    mean = np.array([getattr(c.capability_mean, s) for s in SIZES])[size]
    capability = mean + c.capability_sd * rng.standard_normal(n)
    agents = max(agents, np.unique(size).size)  # one agent at least for each grade
    weight = thinning(n, np.zeros(n, dtype=bool), agents, thin_rng, size, "contractors")
    keep = weight > 0
    k = int(keep.sum())
    return Contractors(weight=weight[keep], size=size[keep], capability=capability[keep],
                       effort=np.full(k, EFFORTS.index("standard"), dtype=np.int8),
                       watched=np.zeros(k, dtype=bool),
                       clean_works=np.zeros(k, dtype=np.int16))


def _tables(c) -> dict[str, np.ndarray]:
    """``construction``'s numbers by effort and by size class that the effort choice and a
    work's outcome read, as arrays (built once per scenario, :func:`~.parameters.once`)."""
    return {"effort_shift": frozen([getattr(c.effort_shift, e) for e in EFFORTS]),
            "excellence_rating": frozen([getattr(c.excellence_rating, e) for e in EFFORTS]),
            "effort_cost": frozen([getattr(c.effort_cost, e) for e in EFFORTS]),
            "work_value_million": frozen([getattr(c.work_value_million, s) for s in SIZES])}


def _works_tables(c) -> dict[str, np.ndarray]:
    """The works a contractor of each size class completes a year, and the shares of other
    works and large projects (:func:`draw_works`; built once per scenario)."""
    return {"works_per_year": frozen([getattr(c.works_per_year, s) for s in SIZES]),
            "split": frozen([1.0 - c.large_project_share, c.large_project_share])}


def supervision_share(con: Contractors, lv: Levers) -> np.ndarray:
    """Share of each contractor's works the station follows (tiered: watched ones more)."""
    cl = lv.construction
    base = np.full(con.size.shape[0], cl.supervision_share)
    if cl.targeting == "tiered":
        base = np.where(con.watched, np.maximum(cl.watched_supervision_share, base), base)
    return base


def outcome_probabilities(con: Contractors, lv: Levers, sc: Scenario,
                          effort: np.ndarray) -> np.ndarray:
    """Per contractor, the chances (fail, hidden, excellent, plain pass) of one work."""
    c = sc.construction
    tb = once(c, _tables)
    shift = tb["effort_shift"][effort]
    rating = tb["excellence_rating"][effort]
    q = 1.0 / (1.0 + np.exp(con.capability + shift))  # chance of a defect
    remaining = q * (1.0 - supervision_share(con, lv) * c.correction_share)
    fail = remaining * c.acceptance_detection
    hidden = remaining - fail
    excellent = (1.0 - remaining) * rating
    plain = 1.0 - fail - hidden - excellent
    return np.stack([fail, hidden, excellent, np.maximum(plain, 0.0)], axis=1)


def choose_effort(con: Contractors, lv: Levers, sc: Scenario, u: np.ndarray,
                  gumbel: np.ndarray) -> np.ndarray:
    """Reviewing contractors pick an effort by logit over the expected payoff per work.

    Payoff (share of contract value): minus the effort's cost, minus expected rework and, when
    acceptance fails, the penalty and the record's cost, plus the expected reward for excellence.
    ``u``: uniforms (n,); ``gumbel``: (efforts, n). Returns the utilities (efforts, n), NaN for
    contractors that did not review.
    """
    c, cl = sc.construction, lv.construction
    utilities = np.full((len(EFFORTS), con.size.shape[0]), np.nan)
    reviewing = (u < c.review_rate).nonzero()[0]
    if reviewing.size == 0:
        return utilities
    gumbel = gumbel[:, reviewing]
    con_all, con = con, con.take(reviewing)  # only reviewing contractors are computed
    tb = once(c, _tables)
    value = tb["work_value_million"][con.size] * YUAN_PER_MILLION
    s_corr = supervision_share(con, lv) * c.correction_share
    # all efforts at once: rows are efforts, columns reviewing contractors
    shift = tb["effort_shift"][:, None]
    rating = tb["excellence_rating"][:, None]
    effort_cost = tb["effort_cost"][:, None]
    q = 1.0 / (1.0 + np.exp(con.capability + shift))  # chance of a defect
    remaining = q * (1.0 - s_corr)
    fail = remaining * c.acceptance_detection
    excellent = (1.0 - remaining) * rating
    cost = (effort_cost + q * s_corr * c.rework_cost
            + fail * (c.rework_cost + cl.failure_penalty_yuan / value + c.record_cost)
            - excellent * (1.0 - c.large_project_share)  # rewarded works only
            * cl.excellence_reward_yuan / value)
    util = -cost / c.logit_scale
    con_all.effort[reviewing] = np.argmax(util + gumbel, axis=0).astype(np.int8)
    utilities[:, reviewing] = util
    return utilities


@dataclass
class WorksMonth:
    """Counts of one month's completed works, per contractor (int arrays)."""

    works: np.ndarray  # all completed works
    other: np.ndarray  # works other than large and medium projects (the targets' scope)
    failed: np.ndarray  # other works failing one-time acceptance
    excellent: np.ndarray  # other works rated excellent
    hidden: np.ndarray  # all works completed below national standards
    failed_all: np.ndarray  # all works failing one-time acceptance (penalised)
    supervised: np.ndarray  # all works followed by the station


def draw_works(con: Contractors, lv: Levers, sc: Scenario,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """This month's completed works per contractor: counts (contractors, 2, outcomes), the
    second axis other works and large or medium projects, and how many the station followed.

    Poisson splitting: a Poisson number of works split at random into (other, large) x
    outcome is the same as independent Poisson counts per cell, drawn in one call.
    """
    c = sc.construction
    tb = once(c, _works_tables)
    rate = (tb["works_per_year"][con.size] * con.weight
            / MONTHS_PER_YEAR)  # an agent's works are those of every contractor it stands for
    p = outcome_probabilities(con, lv, sc, con.effort)
    split = tb["split"]
    counts = rng.poisson(rate[:, None, None] * split[None, :, None] * p[:, None, :])
    supervised = rng.binomial(counts.sum(axis=(1, 2)), supervision_share(con, lv))
    return counts, supervised


def complete_works(con: Contractors, lv: Levers, counts: np.ndarray,
                   supervised: np.ndarray) -> WorksMonth:
    """Book this month's works (:func:`draw_works`) and update the quality file: a failed
    acceptance is a record (the contractor is watched), and enough works passing first time
    clear it (§2.2.2, §3.3)."""
    out_other, out_large = counts[:, 0], counts[:, 1]
    other = out_other.sum(axis=1)
    works = other + out_large.sum(axis=1)
    failed_all = out_other[:, FAIL] + out_large[:, FAIL]
    got_record = failed_all > 0
    con.watched[got_record] = True
    con.clean_works[got_record] = 0
    clean = ~got_record & con.watched  # every work passed first time
    con.clean_works[clean] += works[clean].astype(np.int16)
    leave = clean & (con.clean_works >= lv.construction.clean_works_to_leave)
    con.watched[leave] = False
    con.clean_works[leave] = 0
    return WorksMonth(works=works, other=other, failed=out_other[:, FAIL],
                      excellent=out_other[:, EXCELLENT],
                      hidden=out_other[:, HIDDEN] + out_large[:, HIDDEN],
                      failed_all=failed_all, supervised=supervised)
