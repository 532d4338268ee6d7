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
from typing import NamedTuple

import numpy as np

from ..categories import EFFORTS, EXCELLENT, FAIL, HIDDEN, PLAIN, SIZES, WORK_OUTCOMES
from ..scenario import Levers, Scenario
from .jit import jit
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
            "work_value_yuan": frozen(np.array([getattr(c.work_value_million, s) for s in SIZES])
                                      * YUAN_PER_MILLION)}


def _works_tables(c) -> dict[str, np.ndarray]:
    """The works a contractor of each size class completes a year, and the shares of other
    works and large projects (:func:`draw_works`; built once per scenario)."""
    return {"works_per_year": frozen([getattr(c.works_per_year, s) for s in SIZES]),
            "split": frozen([1.0 - c.large_project_share, c.large_project_share])}


class ConstructionRules(NamedTuple):
    """The numbers of the contractors' rules under one year's levers (:func:`choose_effort`,
    :func:`outcome_probabilities`, :func:`draw_works`), as their compiled passes take them
    (:func:`construction_rules` makes it)."""

    supervision_share: float  # of works the station follows
    tiered: bool  # targeting = "tiered": watched contractors followed more
    watched_supervision_share: float  # at least this share of a watched contractor's works
    correction_share: float  # of defects found under supervision that are corrected
    acceptance_detection: float  # of remaining defects one-time acceptance finds
    excellence_rating: np.ndarray  # by effort: a defect-free work's chance of excellence
    effort_cost: np.ndarray  # by effort, share of contract value
    work_value_yuan: np.ndarray  # by size class
    rework_cost: float  # share of contract value
    failure_penalty_yuan: float  # a failed acceptance's penalty
    record_cost: float  # a record's cost, share of contract value
    rewarded_share: float  # of works inside the excellence target's scope (not large ones)
    excellence_reward_yuan: float  # the city's reward for an excellent work
    logit_scale: float  # of the effort choice
    works_per_year: np.ndarray  # by size class
    split: np.ndarray  # shares of other works and of large and medium projects


def construction_rules(c, cl) -> ConstructionRules:
    """:class:`ConstructionRules` of the scenario's ``construction`` section ``c`` under the
    levers' ``construction`` section ``cl``."""
    tb, wt = once(c, _tables), once(c, _works_tables)
    return ConstructionRules(
        supervision_share=cl.supervision_share, tiered=cl.targeting == "tiered",
        watched_supervision_share=cl.watched_supervision_share,
        correction_share=c.correction_share, acceptance_detection=c.acceptance_detection,
        excellence_rating=tb["excellence_rating"], effort_cost=tb["effort_cost"],
        work_value_yuan=tb["work_value_yuan"], rework_cost=c.rework_cost,
        failure_penalty_yuan=cl.failure_penalty_yuan, record_cost=c.record_cost,
        rewarded_share=1.0 - c.large_project_share,
        excellence_reward_yuan=cl.excellence_reward_yuan, logit_scale=c.logit_scale,
        works_per_year=wt["works_per_year"], split=wt["split"])


def supervision_share(con: Contractors, lv: Levers) -> np.ndarray:
    """Share of each contractor's works the station follows (tiered: watched ones more)."""
    cl = lv.construction
    out = np.empty(con.size.shape[0])
    _shares_followed(con.watched, cl.supervision_share, cl.targeting == "tiered",
                     cl.watched_supervision_share, out)
    return out


@jit(inline=True)
def _share_followed(watched: bool, share: float, tiered: bool, watched_share: float) -> float:
    """The share of one contractor's works the station follows: under tiered targeting a
    watched contractor's at least ``watched_share`` (``np.maximum``'s choice, NaN first)."""
    if tiered and watched and (watched_share >= share or np.isnan(watched_share)):
        return watched_share
    return share


@jit
def _shares_followed(watched: np.ndarray, share: float, tiered: bool, watched_share: float,
                     out: np.ndarray) -> None:
    for i in range(watched.shape[0]):
        out[i] = _share_followed(watched[i], share, tiered, watched_share)


@jit(inline=True)
def _work_outcome(defect_odds: float, corrected: float, detection: float,
                  rating: float) -> tuple[float, float, float, float]:
    """The chances (fail, hidden, excellent, plain pass) of one work, given ``exp`` of the
    logit of a defect-free work (``defect_odds``) and the share of defects corrected under
    supervision (``corrected``: supervision share x correction share)."""
    q = 1.0 / (1.0 + defect_odds)  # chance of a defect
    remaining = q * (1.0 - corrected)
    fail = remaining * detection
    hidden = remaining - fail
    excellent = (1.0 - remaining) * rating
    plain = 1.0 - fail - hidden - excellent
    # np.maximum(plain, 0.0) (never NaN or -0.0 here: a difference of sums of chances)
    return fail, hidden, excellent, plain if plain >= 0.0 else 0.0


def _defect_odds(con: Contractors, shift: np.ndarray) -> np.ndarray:
    """``exp(capability + shift)`` per contractor (``shift`` (n,)) or per effort and contractor
    (``shift`` (efforts, 1)): numpy's exp, element by element the same whatever the shape."""
    return np.exp(con.capability + shift)


def outcome_probabilities(con: Contractors, lv: Levers, sc: Scenario,
                          effort: np.ndarray) -> np.ndarray:
    """Per contractor, the chances (fail, hidden, excellent, plain pass) of one work."""
    c = sc.construction
    out = np.empty((con.size.shape[0], len(WORK_OUTCOMES)))
    _outcome_chances(_defect_odds(con, once(c, _tables)["effort_shift"][effort]), con.watched,
                     effort, construction_rules(c, lv.construction), out)
    return out


@jit
def _outcome_chances(odds: np.ndarray, watched: np.ndarray, effort: np.ndarray,
                     r: ConstructionRules, out: np.ndarray) -> None:
    """:func:`outcome_probabilities` contractor by contractor (``odds``: :func:`_defect_odds`
    at each one's ``effort``)."""
    rating = r.excellence_rating  # read once (engine/jit.py)
    for i in range(odds.shape[0]):
        corrected = _share_followed(watched[i], r.supervision_share, r.tiered,
                                    r.watched_supervision_share) * r.correction_share
        out[i, FAIL], out[i, HIDDEN], out[i, EXCELLENT], out[i, PLAIN] = _work_outcome(
            odds[i], corrected, r.acceptance_detection, rating[effort[i]])


def choose_effort(con: Contractors, lv: Levers, sc: Scenario, u: np.ndarray,
                  gumbel: np.ndarray) -> np.ndarray:
    """Reviewing contractors pick an effort by logit over the expected payoff per work.

    Payoff (share of contract value): minus the effort's cost, minus expected rework and, when
    acceptance fails, the penalty and the record's cost, plus the expected reward for excellence.
    ``u``: uniforms (n,); ``gumbel``: (efforts, n). Returns the utilities (efforts, n), NaN for
    contractors that did not review.
    """
    c = sc.construction
    utilities = np.full((len(EFFORTS), con.size.shape[0]), np.nan)
    # every contractor's odds at every effort (rows), in one call of numpy's exp: the kernel
    # reads only the reviewing contractors' columns
    odds = _defect_odds(con, once(c, _tables)["effort_shift"][:, None])
    _choose_efforts(u < c.review_rate, odds, con.size, con.watched,
                    construction_rules(c, lv.construction), gumbel, con.effort, utilities)
    return utilities


@jit
def _choose_efforts(reviewing: np.ndarray, odds: np.ndarray, size: np.ndarray,
                    watched: np.ndarray, r: ConstructionRules, gumbel: np.ndarray,
                    effort: np.ndarray, utilities: np.ndarray) -> None:
    """:func:`choose_effort`'s payoffs and choice, contractor by contractor; the efforts by
    ``np.argmax`` of utility plus shock (the first of equal ones, a NaN first)."""
    # the record's arrays and numbers as local names, read once (engine/jit.py)
    rating, effort_cost, value = r.excellence_rating, r.effort_cost, r.work_value_yuan
    detection, rework, penalty = r.acceptance_detection, r.rework_cost, r.failure_penalty_yuan
    record, rewarded, reward = r.record_cost, r.rewarded_share, r.excellence_reward_yuan
    logit_scale = r.logit_scale
    for i in range(reviewing.shape[0]):
        if not reviewing[i]:
            continue
        v = value[size[i]]
        s_corr = _share_followed(watched[i], r.supervision_share, r.tiered,
                                 r.watched_supervision_share) * r.correction_share
        best, best_draw = 0, np.nan
        for e in range(odds.shape[0]):
            q = 1.0 / (1.0 + odds[e, i])  # chance of a defect
            remaining = q * (1.0 - s_corr)
            fail = remaining * detection
            excellent = (1.0 - remaining) * rating[e]
            cost = (effort_cost[e] + q * s_corr * rework
                    + fail * (rework + penalty / v + record)
                    - excellent * rewarded * reward / v)
            util = -cost / logit_scale
            utilities[e, i] = util
            draw = util + gumbel[e, i]
            # np.argmax's test: a later draw wins only if above; a NaN wins and stays
            if e == 0 or not (np.isnan(best_draw) or draw <= best_draw):
                best, best_draw = e, draw
        effort[i] = best


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

    def totals(self) -> tuple[int, int, int, int]:
        """All contractors' works, works followed, failed acceptances and excellent works."""
        return _totals(self.works, self.supervised, self.failed_all, self.excellent)


@jit
def _totals(works: np.ndarray, supervised: np.ndarray, failed_all: np.ndarray,
            excellent: np.ndarray) -> tuple[int, int, int, int]:
    """Sums of four whole-number arrays (the same as numpy's, in any order)."""
    all_works, followed, failed, rated = 0, 0, 0, 0
    for i in range(works.shape[0]):
        all_works += works[i]
        followed += supervised[i]
        failed += failed_all[i]
        rated += excellent[i]
    return all_works, followed, failed, rated


def draw_works(con: Contractors, lv: Levers, sc: Scenario,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """This month's completed works per contractor: counts (contractors, 2, outcomes), the
    second axis other works and large or medium projects, and how many the station followed.

    Poisson splitting: a Poisson number of works split at random into (other, large) x
    outcome is the same as independent Poisson counts per cell, drawn in one call.
    """
    c = sc.construction
    r = construction_rules(c, lv.construction)
    n = con.size.shape[0]
    rates = np.empty((n, len(r.split), len(WORK_OUTCOMES)))
    followed = np.empty(n)
    _work_rates(_defect_odds(con, once(c, _tables)["effort_shift"][con.effort]), con.size,
                con.weight, con.effort, con.watched, r, rates, followed)
    counts = rng.poisson(rates)
    supervised = rng.binomial(_works_of(counts), followed)
    return counts, supervised


@jit
def _work_rates(odds: np.ndarray, size: np.ndarray, weight: np.ndarray, effort: np.ndarray,
                watched: np.ndarray, r: ConstructionRules, rates: np.ndarray,
                followed: np.ndarray) -> None:
    """Per contractor, the mean count of each (other or large work, outcome) this month
    (``rates``) and the share of its works the station follows (``followed``)."""
    # the record's arrays as local names, read once (engine/jit.py)
    rating, works_per_year, split = r.excellence_rating, r.works_per_year, r.split
    for i in range(odds.shape[0]):
        followed[i] = _share_followed(watched[i], r.supervision_share, r.tiered,
                                      r.watched_supervision_share)
        chances = _work_outcome(odds[i], followed[i] * r.correction_share,
                                r.acceptance_detection, rating[effort[i]])
        # an agent's works are those of every contractor it stands for
        rate = works_per_year[size[i]] * weight[i] / MONTHS_PER_YEAR
        for j in range(split.shape[0]):
            for k in range(len(chances)):
                rates[i, j, k] = rate * split[j] * chances[k]


@jit
def _works_of(counts: np.ndarray) -> np.ndarray:
    """Each contractor's works, of every kind and outcome (``counts.sum(axis=(1, 2))``)."""
    out = np.zeros(counts.shape[0], dtype=np.int64)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            for k in range(counts.shape[2]):
                out[i] += counts[i, j, k]
    return out


def complete_works(con: Contractors, lv: Levers, counts: np.ndarray,
                   supervised: np.ndarray) -> WorksMonth:
    """Book this month's works (:func:`draw_works`) and update the quality file: a failed
    acceptance is a record (the contractor is watched), and enough works passing first time
    clear it (§2.2.2, §3.3)."""
    n = counts.shape[0]
    w = WorksMonth(*(np.empty(n, dtype=np.int64) for _ in range(len(fields(WorksMonth)) - 1)),
                   supervised=supervised)
    _complete_works(counts, con.watched, con.clean_works,
                    lv.construction.clean_works_to_leave, w.works, w.other, w.failed,
                    w.excellent, w.hidden, w.failed_all)
    return w


@jit
def _complete_works(counts: np.ndarray, watched: np.ndarray, clean_works: np.ndarray,
                    to_leave: int, works: np.ndarray, other: np.ndarray, failed: np.ndarray,
                    excellent: np.ndarray, hidden: np.ndarray, failed_all: np.ndarray) -> None:
    """:func:`complete_works` contractor by contractor."""
    for i in range(counts.shape[0]):
        other[i], large = 0, 0
        for k in range(counts.shape[2]):
            other[i] += counts[i, 0, k]
            large += counts[i, 1, k]
        works[i] = other[i] + large
        failed[i] = counts[i, 0, FAIL]
        excellent[i] = counts[i, 0, EXCELLENT]
        hidden[i] = counts[i, 0, HIDDEN] + counts[i, 1, HIDDEN]
        failed_all[i] = counts[i, 0, FAIL] + counts[i, 1, FAIL]
        if failed_all[i] > 0:  # a record
            watched[i] = True
            clean_works[i] = 0
        elif watched[i]:  # every work passed first time
            clean_works[i] += works[i]  # int16, as numpy's sum of int16 wraps
            if clean_works[i] >= to_leave:
                watched[i] = False
                clean_works[i] = 0
