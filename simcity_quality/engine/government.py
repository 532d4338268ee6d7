"""The government's mechanisms: national spot checks, city inspections and the quality file's
tiers, title awards and rewards, key upgrade projects and interest subsidies, campaigns.

Each function works on the whole population at once and takes its random numbers from the
caller: arrays of full population size, or ``uniforms(rows, slots)``, a source of uniforms
per (row, slot) (the model's is :func:`~simcity_quality.engine.rng.derived_rows` of the
month's key), so that a lever changes what a mechanism does without shifting the random
numbers other mechanisms see.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..categories import GRADES, SECTOR_INDEX, SECTORS, TIERS
from ..scenario import Levers, Scenario
from . import quality_file
from .jit import bit_count, jit, maximum, minimum
from .kpis import pass_probability
from .ledger import REWARD_LINE_BY_TIER, Ledger
from .parameters import frozen, once
from .population import KEY_INDUSTRY_CODES, FirmView, Population, sector_limits
from .resolution import (
    MEMBER_BITS,
    best_by_value,
    binomial_members,
    count_by_owner,
    members,
    members_reaching,
    split,
    top_members,
)
from .shared import (
    MONTHS_PER_YEAR,
    YUAN_PER_MILLION,
    reward_amounts,
    round_half_up,
    stochastic_round,
)

MIN_OUTPUT_FOR_LOG = 1e-6  # million yuan: log10 of an empty firm's output stays finite


# problem-prone product classes for the national rule: key industries and food, by sector code
PROBLEM_PRONE = np.zeros(len(SECTORS), dtype=bool)
PROBLEM_PRONE[KEY_INDUSTRY_CODES] = True
PROBLEM_PRONE[SECTOR_INDEX["food_farm_processing"]] = True


# ---------------------------------------------------------------------------------------
# national supervision spot checks (§2.2.1d): the city does not steer them


def national_sampling_weight(pop: Population, month: int, sc: Scenario) -> np.ndarray:
    """Relative chance of being sampled: problem firms and problem-prone classes more often."""
    nat = sc.national
    w = np.empty(pop.n_slots)
    _sampling_weights(pop.problem_until, pop.sector, month, float(nat.problem_weight),
                      float(nat.problem_sector_weight), PROBLEM_PRONE, w)
    return w


@jit
def _sampling_weights(problem_until: np.ndarray, sector: np.ndarray, month: int,
                      problem_weight: float, problem_sector_weight: float,
                      prone: np.ndarray, out: np.ndarray) -> None:
    """Per slot: ``problem_weight`` if the firm is on the problem list this month (else 1)
    times ``problem_sector_weight`` if its sector is problem-prone (else 1)."""
    for i in range(out.shape[0]):
        w = problem_weight if problem_until[i] >= month else 1.0
        out[i] = w * (problem_sector_weight if prone[sector[i]] else 1.0)


def national_sampling_chance(pop: Population, month: int, sc: Scenario) -> np.ndarray:
    """Each slot's chance of being sampled this month: the yearly sampled share spread over
    the months, times its sampling weight over the mean sampling weight of the city's live
    firms (at most 1)."""
    w = national_sampling_weight(pop, month, sc)
    weighted = np.empty(pop.n_slots)
    # the live firms' (whole-number) weights add up exactly in any order; the weighted sum
    # stays numpy's (its pairwise order)
    total = _firms_weighted(w, pop.weight, pop.alive, weighted)
    mean_w = float(np.add.reduce(weighted) / total) if total > 0 else 1.0
    per_month = sc.national.spot_check_share_per_year / MONTHS_PER_YEAR
    chance = np.empty(pop.n_slots)
    _capped_chances(w, per_month, mean_w, chance)
    return chance


@jit
def _firms_weighted(w: np.ndarray, weight: np.ndarray, alive: np.ndarray,
                    weighted: np.ndarray) -> float:
    """Each slot's sampling weight times its live firms (``w * weight * alive``) into
    ``weighted``; returns the live firms."""
    total = 0.0
    for i in range(w.shape[0]):
        firms = weight[i] * (1.0 if alive[i] else 0.0)
        weighted[i] = w[i] * firms
        total += firms
    return total


@jit
def _capped_chances(w: np.ndarray, per_month: float, mean_w: float, out: np.ndarray) -> None:
    """``out = min(1, per_month * w / mean_w)``, slot by slot."""
    for i in range(w.shape[0]):
        out[i] = minimum(1.0, per_month * w[i] / mean_w)


Uniforms = Callable[[int, np.ndarray], np.ndarray]  # (rows, slots) -> (rows, len(slots))


def national_spot_check(pop: Population, month: int, sc: Scenario, u: np.ndarray,
                        uniforms: Uniforms, next_id: int, moves: np.ndarray | None = None):
    """One month of national spot checks. ``u``: uniforms (n_slots,) deciding how many of each
    agent's members are sampled (for an agent of weight 1: whether it is); ``uniforms``: the
    sampled members' test outcomes (row 0, by member code).

    Returns (sampled, passed, next_id): members sampled and passed per slot, and the next
    unused id. Firms that fail join the problem list and are sampled again for
    ``national.problem_memory_months``; a failing member of a weighted agent is split off.
    Its published grade falls one (:func:`regrade_national`; moves counted into ``moves``).
    """
    n = pop.n_slots
    chance = np.where(pop.alive, national_sampling_chance(pop, month, sc), 0.0)
    sampled = binomial_members(u, pop.weight, chance)
    owner, code = members(sampled, sampled.nonzero()[0])
    ok = uniforms(1, code)[0] < pass_probability(
        pop.capability[owner], pop.counterfeit[owner], sc.behaviour.counterfeit_pass_factor)
    passed = count_by_owner(owner, ok, n)
    # the check is in the file of every firm simulated one each that was sampled (before the
    # split: such an agent keeps its slot) and of every member that failed
    _mark_single_sampled(sampled, pop.weight, pop.file_national_checked)
    failed, next_id = split(pop, sampled - passed, next_id)
    pop.problem_until[failed] = month + sc.national.problem_memory_months
    regrade_national(pop, failed, moves)  # the national result reaches the city's file (§3.3)
    quality_file.record(pop, "national_checked", failed)
    quality_file.record(pop, "national_failed", failed)
    return sampled, passed, next_id


@jit
def _mark_single_sampled(sampled: np.ndarray, weight: np.ndarray, file_checked: np.ndarray):
    """This month's bit in the file of each agent of weight 1 with its member sampled."""
    for i in range(sampled.shape[0]):
        if sampled[i] > 0 and weight[i] == 1:
            file_checked[i] |= np.uint64(1)


# ---------------------------------------------------------------------------------------
# the city's own inspections (§3.3 tiers, §4.4 penalties)


@dataclass
class InspectionOutcome:
    """What one month of city inspections found and did (slot index arrays and sums)."""

    inspected: np.ndarray  # bool per slot
    failed: np.ndarray  # bool per slot
    revoked: np.ndarray  # bool per slot: licence revoked, the firm exits
    closed: np.ndarray  # bool per slot: closed over its discharge limit by the month's source
    # review (:func:`review_sources`, which the model runs with the inspections; §3.3)
    fines_yuan: float
    referrals: int
    # the ladder's steps this month (Product Quality Law art. 17; zero under flat fines):
    # correction orders, public notices (counterfeiting found is named too), suspensions
    corrections: int = 0
    notices: int = 0
    suspensions: int = 0


GRADE_A, GRADE_B, GRADE_C, GRADE_D = range(len(GRADES))


def grade_quotas(k: int, members: list[float], weights: list[float]) -> list[int]:
    """The month's ``k`` inspections shared among the grades (best first) in proportion to
    each grade's eligible firms (``members``) times its inspection weight, rounded so that
    they add up to ``k`` (each grade gets the rounded cumulative share less the previous
    grades' rounded cumulative share; none when no grade has weight)."""
    total = 0.0
    for n, w in zip(members, weights, strict=True):
        total += n * w
    if total <= 0.0:
        return [0] * len(members)
    out, cum, before = [], 0.0, 0
    for n, w in zip(members, weights, strict=True):
        cum += n * w
        upto = round_half_up(k * cum / total)
        out.append(upto - before)
        before = upto
    return out


def choose_inspected(pop: Population, lv: Levers, k: int, keys: Uniforms,
                     next_id: int) -> tuple[np.ndarray, int]:
    """Which ``k`` of the city's firms the city inspects this month: at random, or graded by
    the published grade of the quality file (``targeting = "tiered"``: the ``k`` are shared
    among the grades by :func:`grade_quotas` with ``grade_inspection_weight``, each grade's
    share drawn at random among its firms, worst grade first, and what a grade cannot fill
    drawn among all the others). Firms are drawn as members (engine/resolution.py): a member
    of a weighted agent drawn is split off into an agent of its own, so every inspection is of
    one firm. ``keys``: uniforms by member code (row 0). Returns (inspected, a bool per slot;
    the next unused id)."""
    insp = lv.inspection
    eligible = pop.alive & (pop.tier == 0) if insp.exempt_award_holders else pop.alive
    counts = np.zeros(pop.n_slots, dtype=np.int64)
    base = np.zeros(pop.n_slots)  # uniform values, nothing added

    def member_u(codes):
        return keys(1, codes)[0]

    def draw(slots, k):
        if k > 0:  # (top_members would draw no uniform either)
            counts[slots] += top_members(slots, pop.weight, k, base, 0.0, member_u,
                                         normal=False)

    if insp.targeting == "tiered":
        weights = once(insp.grade_inspection_weight, _by_grade)
        # each grade's eligible slots (in slot order) and members, in one pass; whole-number
        # weights: the sums by grade are exact in any order
        by_grade, starts, members = _eligible_by_grade(pop.grade, eligible, pop.weight,
                                                       len(GRADES))
        quotas = grade_quotas(k, members.tolist(), weights)
        for g in range(len(GRADES) - 1, -1, -1):  # the worst grade first
            # (no grade's draw touches another's slots: each draws among all its own)
            draw(by_grade[starts[g]:starts[g + 1]], quotas[g])
        k -= int(counts.sum())
    if k > 0:
        draw((eligible & (counts == 0)).nonzero()[0], k)
    slots, next_id = split(pop, counts, next_id)
    inspected = np.zeros(pop.n_slots, dtype=bool)
    inspected[slots] = True
    return inspected, next_id


@jit
def _eligible_by_grade(grade: np.ndarray, eligible: np.ndarray, weight: np.ndarray,
                       n_grades: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The eligible slots grouped by grade (grade ``g``'s are ``slots[starts[g]:starts[g +
    1]]``, in slot order) and each grade's eligible members (weights added in slot order)."""
    members = np.zeros(n_grades)
    starts = np.zeros(n_grades + 1, dtype=np.int64)
    for i in range(grade.shape[0]):
        if eligible[i]:
            starts[grade[i] + 1] += 1
            if weight[i] != 0:
                members[grade[i]] += weight[i]
    for g in range(n_grades):
        starts[g + 1] += starts[g]
    slots = np.empty(starts[n_grades], dtype=np.int64)
    filled = starts[:n_grades].copy()
    for i in range(grade.shape[0]):
        if eligible[i]:
            slots[filled[grade[i]]] = i
            filled[grade[i]] += 1
    return slots, starts, members


def _by_grade(record) -> list[float]:
    """The record's number for each grade, A first."""
    return [float(getattr(record, g)) for g in GRADES]


def regrade(grade: np.ndarray, clean_count: np.ndarray, failed: np.ndarray,
            found_cf: np.ndarray, iso9001: np.ndarray,
            clean_to_leave: int) -> tuple[np.ndarray, np.ndarray]:
    """The published grades (0..3 = A..D) and clean-inspection counts after a city inspection
    (§3.3; docs/ODD.md §7.5): counterfeiting found puts a firm at D; any other failure (a
    failed product test, a missing CCC) one grade worse (at most D); a clean inspection counts,
    and ``clean_to_leave`` clean inspections in a row raise the grade by one, to A only with
    ISO 9001 (otherwise B). A failure or a move resets the count; a firm at its best grade
    counts nothing (:func:`regraded`, firm by firm)."""
    grade, clean_count = np.asarray(grade), np.asarray(clean_count)
    new, count = np.empty_like(grade), np.empty_like(clean_count)
    _regrade_all(grade, clean_count, np.asarray(failed), np.asarray(found_cf),
                 np.asarray(iso9001), clean_to_leave, new, count)
    return new, count


@jit(inline=True)
def regraded(grade: int, clean_count: int, failed: bool, found_cf: bool, iso9001: bool,
             clean_to_leave: int) -> tuple[int, int]:
    """One firm's published grade and clean count after a city inspection (:func:`regrade`)."""
    best = GRADE_A if iso9001 else GRADE_B
    count = 0 if failed else clean_count + 1
    up = not failed and grade > best and count >= clean_to_leave
    if found_cf:
        new = GRADE_D
    elif failed:
        new = min(grade + 1, GRADE_D)
    elif up:
        new = grade - 1
    else:
        new = grade
    if up or grade <= best:
        count = 0
    return new, count


@jit
def _regrade_all(grade: np.ndarray, clean_count: np.ndarray, failed: np.ndarray,
                 found_cf: np.ndarray, iso9001: np.ndarray, clean_to_leave: int,
                 new: np.ndarray, count: np.ndarray) -> None:
    """:func:`regraded` for every entry, into ``new`` and ``count``."""
    for i in range(grade.shape[0]):
        new[i], count[i] = regraded(int(grade[i]), int(clean_count[i]), failed[i],
                                    found_cf[i], iso9001[i], clean_to_leave)


def count_moves(moves: np.ndarray | None, before: np.ndarray, after: np.ndarray) -> None:
    """Add each firm's move from grade ``before`` to ``after`` (firms of agents of weight 1)
    to ``moves`` (grades x grades; None: not counted); staying is not a move
    (:func:`count_move`, firm by firm)."""
    if moves is not None:
        _count_all_moves(moves, before, after)


@jit(inline=True)
def count_move(moves: np.ndarray, before: int, after: int) -> None:
    """One firm's move from grade ``before`` to ``after`` added to ``moves`` (none if it
    stays)."""
    if before != after:
        moves[before, after] += 1.0


@jit
def _count_all_moves(moves: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
    """:func:`count_move` for every entry, in order."""
    for j in range(before.shape[0]):
        count_move(moves, int(before[j]), int(after[j]))


def regrade_national(pop: Population, failed: np.ndarray,
                     moves: np.ndarray | None = None) -> None:
    """A failed national spot check (``failed``: slots) makes the firm's grade one worse (at
    most D) and resets its clean count; the watched tier is grades C and D. The moves are
    counted into ``moves`` (:func:`count_moves`)."""
    before = pop.grade[failed]  # (a copy)
    _lower_grades(failed, pop.grade, pop.clean_count, pop.watched)
    count_moves(moves, before, pop.grade[failed])


@jit
def _lower_grades(failed: np.ndarray, grade: np.ndarray, clean_count: np.ndarray,
                  watched: np.ndarray) -> None:
    """:func:`regrade_national`'s rule for each slot of ``failed``."""
    for i in failed:
        grade[i] = min(int(grade[i]) + 1, GRADE_D)
        clean_count[i] = 0
        watched[i] = grade[i] >= GRADE_C


def grade_values(moves: np.ndarray, exposure: np.ndarray, flow: np.ndarray,
                 discount_rate: float, horizon_years: float) -> np.ndarray:
    """Per grade (0..3 = A..D), the present value of what the published grade costs a firm
    over its horizon, as a share of a year's output (docs/ODD.md §7.5), as firms learn it from
    the grades the city gave over the last year: ``moves[g, h]`` firms moved from grade g to
    h, ``exposure[g]`` firm-months at grade g. The monthly rates are ``moves[g, h] /
    exposure[g]`` (none from a grade nobody held) and staying is the rest; ``flow``: the yearly
    cost of each grade (``market.grade_sales_loss``). ``v = sum over months m < round(12 H) of
    d^m P^m flow / 12``, with ``d = (1 + discount_rate)^(-1/12)``."""
    n = flow.size
    rates = np.zeros((n, n))
    for g in range(n):
        if exposure[g] > 0:
            rates[g] = moves[g] / exposure[g]
        rates[g, g] = 0.0
        rates[g, g] = 1.0 - rates[g].sum()
    months = round_half_up(horizon_years * MONTHS_PER_YEAR)
    monthly = (1.0 + discount_rate) ** (-1.0 / MONTHS_PER_YEAR)
    # P^m flow / 12 for m = 0, 1, ..., one row a month; then the discounted rows summed in
    # month order (a reduction over the first axis adds row after row)
    expected = np.empty((months, n))
    if months:
        expected[0] = np.asarray(flow, dtype=np.float64) / MONTHS_PER_YEAR
    for m in range(1, months):
        np.matmul(rates, expected[m - 1], out=expected[m])
    discount = np.array([monthly ** m for m in range(months)])
    return np.add.reduce(discount[:, None] * expected, axis=0, initial=0.0)


def ladder_step(file_failed: np.ndarray, memory_months: int) -> np.ndarray:
    """The step of the Product Quality Law's ladder (art. 17) a failure this month is on: one
    more than the failed city inspections in the file's last ``memory_months`` months (this
    month's failure not yet recorded). 1: correction order and re-inspection; 2: public
    notice; 3: suspension for rectification; 4 and more: licence revoked."""
    recent = quality_file.within_mask(memory_months)
    return np.bitwise_count(np.asarray(file_failed, dtype=np.uint64) & recent).astype(
        np.int64) + 1


def city_inspection(pop: Population, lv: Levers, sc: Scenario, inspected: np.ndarray,
                    uniforms: Uniforms, moves: np.ndarray | None = None) -> InspectionOutcome:
    """One month of city inspections (of the firms :func:`choose_inspected` drew, each an agent
    of weight 1) with their consequences. ``uniforms``: the inspected firms' outcomes by slot
    (rows 0-3: detection, product test, revocation, criminal referral). Only inspected firms
    are computed.

    A firm fails on counterfeiting found (with ``detection_probability``), a failed product
    test or a missing CCC. Under ``sanctions = "flat"`` every failure is fined ``fine_yuan``
    (counterfeiting ``counterfeit_fine_multiplier`` times it). Under ``"ladder"`` (Product
    Quality Law arts. 17, 49-50) counterfeiting is fined ``counterfeit_goods_multiple`` times
    the goods' value (``goods_value_share`` of a year's output) and publicly named; any other
    failure climbs the ladder of :func:`ladder_step`: a correction order (the re-inspection
    comes from the worse grade's inspection weight), a public notice, a suspension
    (``suspension_months`` of margin lost), then revocation. A public notice costs
    ``market.notice_sales_loss`` of a year's output beyond the fine. Fines (with the discharge
    fine over the limit) are capped by cash; counterfeiting found may still cost the licence
    and a criminal referral. The grade moves by :func:`regrade` (moves counted into
    ``moves``, :func:`count_moves`).
    """
    insp = lv.inspection
    idx = inspected.nonzero()[0]
    u = uniforms(4, idx)
    # the pass chance's exp stays numpy's (a compiled exp may differ in the last bit)
    pass_prob = pass_probability(pop.capability[idx], pop.counterfeit[idx],
                                 sc.behaviour.counterfeit_pass_factor)
    n = pop.n_slots
    failed, revoked = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    fine = np.empty(idx.size)
    tallies = np.zeros(len(INSPECTION_TALLIES), dtype=np.int64)
    counted = moves is not None
    _inspect(idx, u, pass_prob, _inspected_firms(pop), inspection_rules(insp, sc),
             moves if counted else _NO_MOVES, counted, failed, revoked, fine, tallies)
    referrals, corrections, notices, suspensions = tallies.tolist()
    return InspectionOutcome(inspected, failed, revoked, np.zeros(n, dtype=bool),
                             float(np.add.reduce(fine)), referrals, corrections=corrections,
                             notices=notices, suspensions=suspensions)


INSPECTION_TALLIES = ("referrals", "corrections", "notices", "suspensions")
_NO_MOVES = np.zeros((len(GRADES), len(GRADES)))  # moves not counted (never written)


class InspectionRules(NamedTuple):
    """The numbers of :func:`city_inspection`'s rules under one year's levers (what the
    compiled pass :func:`_inspect` takes; :func:`inspection_rules` makes it)."""

    detection_probability: float  # counterfeiting found when inspected
    ladder: bool  # sanctions = "ladder" (Product Quality Law arts. 17, 49-50), else "flat"
    ladder_memory: np.uint64  # the quality file's bits of the ladder's memory (0: flat)
    goods_fine_share: float  # counterfeiting's fine under the ladder, share of a year's output
    notice_sales_loss: float  # a public notice's cost, share of a year's output
    suspension_months: float  # margin lost to a suspension
    fine_yuan: float  # a flat fine
    counterfeit_fine_yuan: float  # a flat fine for counterfeiting found
    discharge_fine_yuan: float  # added when the source is over its discharge limit
    revocation_probability: float  # the licence revoked when counterfeiting is found
    criminal_referral_probability: float  # and a criminal referral
    criminal_cost_million: float  # what a referral costs the firm
    clean_inspections_to_leave: int  # clean inspections in a row that raise the grade


def inspection_rules(insp, sc: Scenario) -> InspectionRules:
    """:class:`InspectionRules` of the levers' ``inspection`` section in scenario ``sc``."""
    ladder = insp.sanctions == "ladder"
    return InspectionRules(
        detection_probability=insp.detection_probability, ladder=ladder,
        ladder_memory=(quality_file.within_mask(insp.ladder_memory_months) if ladder
                       else np.uint64(0)),
        goods_fine_share=insp.counterfeit_goods_multiple * insp.goods_value_share,
        notice_sales_loss=sc.market.notice_sales_loss,
        suspension_months=insp.suspension_months, fine_yuan=insp.fine_yuan,
        counterfeit_fine_yuan=insp.fine_yuan * insp.counterfeit_fine_multiplier,
        discharge_fine_yuan=insp.discharge_fine_yuan,
        revocation_probability=insp.revocation_probability,
        criminal_referral_probability=insp.criminal_referral_probability,
        criminal_cost_million=sc.behaviour.criminal_cost_yuan / YUAN_PER_MILLION,
        clean_inspections_to_leave=insp.clean_inspections_to_leave)


# the firm's arrays the city inspection reads or writes (population.FirmView)
_inspected_firms = FirmView(
    "InspectedFirms", __name__, "counterfeit", "ccc_required", "ccc", "cash", "output",
    "margin", "discharge_ratio", "discharge_limit", "grade", "clean_count", "iso9001",
    "watched", "belief", "file_inspected", "file_inspection_failed", "file_counterfeit_found",
    "file_sanctioned")
InspectedFirms = _inspected_firms.record


@jit
def _inspect(idx: np.ndarray, u: np.ndarray, pass_prob: np.ndarray, f: InspectedFirms,
             r: InspectionRules, moves: np.ndarray, counted: bool, failed: np.ndarray,
             revoked: np.ndarray, fine: np.ndarray, tallies: np.ndarray) -> None:
    """:func:`city_inspection`'s rules for each inspected slot ``idx[j]`` (outcome draws
    ``u[:, j]``, pass chance ``pass_prob[j]``), in slot order: the firm's state ``f`` and
    quality file updated in place, ``failed`` and ``revoked`` marked (bool per slot), its
    fine into ``fine[j]``, and referrals, correction orders, notices and suspensions counted
    into ``tallies`` (``INSPECTION_TALLIES``); the grade's moves into ``moves`` if
    ``counted``. The arithmetic is the vectorised rule's, operation by operation."""
    # the firm's arrays as local names, read once (engine/jit.py)
    counterfeit, ccc_required, ccc, cash = f.counterfeit, f.ccc_required, f.ccc, f.cash
    output, margin, discharge_ratio, discharge_limit = (f.output, f.margin, f.discharge_ratio,
                                                        f.discharge_limit)
    grade, clean_count, iso9001, watched, belief = (f.grade, f.clean_count, f.iso9001,
                                                    f.watched, f.belief)
    file_inspected, file_inspection_failed = f.file_inspected, f.file_inspection_failed
    file_counterfeit_found, file_sanctioned = f.file_counterfeit_found, f.file_sanctioned
    one = np.uint64(1)
    for j in range(idx.shape[0]):
        i = idx[j]
        found_cf = counterfeit[i] and u[0, j] < r.detection_probability
        failed_i = found_cf or u[1, j] >= pass_prob[j] or (ccc_required[i] and not ccc[i])

        # fines are capped by what the firm can pay (limited liability); a public notice, a
        # suspension cost the firm sales and brand value beyond the fine (Jarrell and
        # Peltzman 1985)
        out = maximum(output[i], 0.0)
        ability = maximum(cash[i], 0.0) * YUAN_PER_MILLION
        if r.ladder:
            step = bit_count(file_inspection_failed[i] & r.ladder_memory) + 1 if (
                failed_i and not found_cf) else 0
            fine_j = r.goods_fine_share * out * YUAN_PER_MILLION if found_cf else 0.0
            noticed = found_cf or step >= 2
            loss = ((r.notice_sales_loss * out if noticed else 0.0)
                    + (maximum(margin[i], 0.0) * out * r.suspension_months / MONTHS_PER_YEAR
                       if step == 3 else 0.0))
            laddered_out = step >= 4
            tallies[1] += step == 1
            tallies[2] += noticed
            tallies[3] += step == 3
        else:
            fine_j = r.counterfeit_fine_yuan if found_cf else (r.fine_yuan if failed_i
                                                             else 0.0)
            noticed = False
            loss = 0.0
            laddered_out = False
        over_limit = discharge_ratio[i] > discharge_limit[i]
        fine_j = fine_j + (r.discharge_fine_yuan if over_limit else 0.0)
        fine_j = minimum(fine_j, ability)
        c = cash[i] - (fine_j / YUAN_PER_MILLION + loss)
        revoked_i = (found_cf and u[2, j] < r.revocation_probability) or laddered_out
        referred = found_cf and u[3, j] < r.criminal_referral_probability
        if referred:
            c -= r.criminal_cost_million
            tallies[0] += 1
        cash[i] = c
        fine[j] = fine_j
        if found_cf:
            counterfeit[i] = False

        # the quality file's published grade (§3.3); the watched tier is grades C and D
        before = int(grade[i])
        new, count = regraded(before, int(clean_count[i]), failed_i, found_cf, iso9001[i],
                              r.clean_inspections_to_leave)
        if counted:
            count_move(moves, before, new)
        grade[i] = new
        clean_count[i] = count
        watched[i] = new >= GRADE_C
        belief[i] = 1.0  # an inspection makes inspection salient (lapse of time)
        file_inspected[i] |= one
        if failed_i:
            file_inspection_failed[i] |= one
        if found_cf:
            file_counterfeit_found[i] |= one
        if fine_j > 0 or revoked_i or referred or noticed:
            file_sanctioned[i] |= one
        failed[i] = failed_i
        revoked[i] = revoked_i


# ---------------------------------------------------------------------------------------
# discharge standards and the review of every source (§2.2.4, §3.3)


def tighten_standards(pop: Population, sc: Scenario, year: int) -> None:
    """January: each source's discharge limit becomes its sector's limit for existing sources
    in ``year`` where that is tighter (``environment.standard_limit`` from
    ``standard_year_existing``); an entrant keeps the new-source limit it came in with."""
    limits = sector_limits(sc, year, new_source=False)
    np.minimum(pop.discharge_limit, limits[pop.sector], out=pop.discharge_limit)


@dataclass
class SourceReview:
    """What one month's review of discharge sources found and did (bool per slot, firms)."""

    reviewed: np.ndarray  # drawn for the routine review, or an order due this month
    ordered: np.ndarray  # found over the limit: fined and given a deadline-treatment order
    closed: np.ndarray  # over the limit when its order fell due, under permit refusal: closed
    lifted: np.ndarray  # within its limit again: the order is lifted
    fines_yuan: float  # fines charged (capped by what each firm can pay)
    cod_closed: float  # COD a year (t) of the sources closed


def review_sources(pop: Population, lv: Levers, sc: Scenario, month: int, u: np.ndarray,
                   cod_coefficients: np.ndarray) -> SourceReview:
    """The environment bureau's month (§3.3; the Water Pollution Prevention Law of 2008, art.
    74): every live source is reviewed with chance ``1 / interpretation.source_review_months``
    (``u``: a uniform per slot), and a source whose deadline-treatment order falls due
    (``deadline <= month``) is re-examined.

    A reviewed source over its limit (``discharge_ratio > discharge_limit``) with no order is
    fined ``environment.fine_fee_multiple`` times the discharge fee it owes a year and ordered
    to get within its limit in ``environment.deadline_months``. An order that falls due with
    the source still over its limit closes it under ``permits.refuse_over_limit``; otherwise
    the source is fined again and the order renewed. A source within its limit has its order
    lifted. Fines are capped by the firm's cash (limited liability). An agent of weight ``w``
    is reviewed with its members (they share its state).
    """
    env = sc.environment
    n = pop.n_slots
    reviewed, ordered = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    closed, lifted = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    fines, cod_closed = np.empty(n), np.zeros(n)  # per slot, times its weight
    _review_sources(_reviewed_sources(pop), cod_coefficients, u, month,
                    1.0 / sc.interpretation.source_review_months,
                    bool(lv.permits.refuse_over_limit), env.discharge_fee_yuan_per_tonne,
                    env.fine_fee_multiple, month + env.deadline_months,
                    reviewed, ordered, closed, lifted, fines, cod_closed)
    # the sums stay numpy's (their pairwise order)
    return SourceReview(reviewed, ordered, closed, lifted, float(np.add.reduce(fines)),
                        float(np.add.reduce(cod_closed, where=closed)))


_reviewed_sources = FirmView("ReviewedSources", __name__, "alive", "deadline", "cash", "weight",
                             "discharge_ratio", "discharge_limit", "output", "sector")
ReviewedSources = _reviewed_sources.record


@jit
def _review_sources(f: ReviewedSources, cod_coefficients: np.ndarray, u: np.ndarray, month: int,
                    review_chance: float, refuse_over_limit: bool, fee_per_tonne: float,
                    fine_fee_multiple: float, order_due: int, reviewed: np.ndarray,
                    ordered: np.ndarray, closed: np.ndarray, lifted: np.ndarray,
                    fines: np.ndarray, cod_closed: np.ndarray) -> None:
    """:func:`review_sources` slot by slot of the firms ``f``: who is reviewed, ordered,
    closed and lifted, the fines charged (cash and ``deadline`` updated in place; an order
    falls due in month ``order_due``), and per slot its fine and its closed COD times its
    weight (``fines``, ``cod_closed``: the closed slots' only)."""
    # the arrays as local names, read once (engine/jit.py)
    alive, deadline, cash, weight = f.alive, f.deadline, f.cash, f.weight
    discharge_ratio, discharge_limit = f.discharge_ratio, f.discharge_limit
    output, sector = f.output, f.sector
    for i in range(alive.shape[0]):
        open_order = deadline[i] >= 0
        due = alive[i] and open_order and deadline[i] <= month
        reviewed[i] = due or (alive[i] and u[i] < review_chance)
        over = discharge_ratio[i] > discharge_limit[i]
        lifted[i] = reviewed[i] and open_order and not over
        missed = due and over
        closed[i] = missed and refuse_over_limit
        ordered[i] = reviewed[i] and over and (not open_order or (missed and not closed[i]))
        load = output[i] * cod_coefficients[sector[i]]
        fine = 0.0
        if ordered[i]:
            fee_owed = fee_per_tonne * discharge_ratio[i] * load
            fine = minimum(fine_fee_multiple * fee_owed,
                           maximum(cash[i], 0.0) * YUAN_PER_MILLION)
            cash[i] -= fine / YUAN_PER_MILLION
            deadline[i] = order_due
        elif lifted[i] or closed[i]:
            deadline[i] = -1
        fines[i] = fine * weight[i]
        if closed[i]:
            cod_closed[i] = load * discharge_ratio[i] * weight[i]


def book_inspections(ledger: Ledger, year: int, lv: Levers, sc: Scenario,
                     out: InspectionOutcome) -> None:
    """The city pays for the month's inspections (§3.3, §4.2: the city budget funds quality
    work); their fines go to the treasury ``interpretation.quality_fines_treasury`` names (the
    province's under the vertical management of quality supervision from 1999-2000)."""
    n = int(np.count_nonzero(out.inspected))
    ledger.book(year, "city", "inspection_cost", n * lv.inspection.cost_per_inspection_yuan)
    ledger.book(year, sc.interpretation.quality_fines_treasury, "fines_collected",
                -out.fines_yuan)


def book_source_review(ledger: Ledger, year: int, review: SourceReview) -> None:
    """The environment bureau's fines for sources over their limit are the city's revenue
    (§3.3; the bureaus were the local governments' until the 2016 reform)."""
    ledger.book(year, "city", "discharge_fines", -review.fines_yuan)


def update_beliefs(pop: Population, anchors: np.ndarray, inspected: np.ndarray,
                   behaviour) -> np.ndarray:
    """Beliefs drift back towards the inspection rate firms see among peers.

    ``anchors`` (sectors x 2 tiers) track the annualised inspection rate seen in each sector
    and tier; returns the updated anchors.
    """
    n_tiers = anchors.shape[1]  # normal, watched
    n_groups = anchors.size
    alive_n, seen = np.zeros(n_groups), np.zeros(n_groups)
    _firms_seen(pop.sector, pop.watched, n_tiers, pop.alive, inspected, pop.weight, alive_n,
                seen)
    rate = np.divide(seen * MONTHS_PER_YEAR, alive_n, out=np.zeros(n_groups), where=alive_n > 0)
    flat = anchors.ravel()
    flat = np.where(alive_n > 0, flat + behaviour.peer_learning * (np.minimum(rate, 1.0) - flat),
                    flat)
    _drift_beliefs(pop.belief, pop.sector, pop.watched, n_tiers, inspected, flat,
                   behaviour.belief_decay)
    return flat.reshape(anchors.shape)


@jit
def _firms_seen(sector: np.ndarray, watched: np.ndarray, n_tiers: int, alive: np.ndarray,
                inspected: np.ndarray, weight: np.ndarray, alive_n: np.ndarray,
                seen: np.ndarray) -> None:
    """Adds each slot's live firms and inspected firms (agents' weights) to its group
    (``sector * n_tiers + watched``), in slot order."""
    for i in range(sector.shape[0]):
        group = sector[i] * n_tiers + watched[i]
        if alive[i] and weight[i] != 0:
            alive_n[group] += weight[i]
        if inspected[i] and weight[i] != 0:
            seen[group] += weight[i]


@jit
def _drift_beliefs(belief: np.ndarray, sector: np.ndarray, watched: np.ndarray, n_tiers: int,
                   inspected: np.ndarray, anchor: np.ndarray, decay: float) -> None:
    """Each firm not inspected this month moves ``decay`` of the way from its belief towards
    the anchor of its group (``sector * n_tiers + watched``)."""
    for i in range(belief.shape[0]):
        if not inspected[i]:
            belief[i] += decay * (anchor[sector[i] * n_tiers + watched[i]] - belief[i])


# ---------------------------------------------------------------------------------------
# titles and one-time rewards (§3.1, §4.2)


@dataclass
class AwardRound:
    """One December round (§3.1, §4.2): per tier, applicants, candidates recommended (under
    ``awards.judging = "cutoff"``; the quota's winners under ``"quota"``), winners, the judges'
    score of every eligible applicant (NaN for other slots), and the cut-off (the field's
    under ``"cutoff"``; the lowest winning score under ``"quota"``, where tiers without a
    winner have none)."""

    applied: dict[int, int]
    recommended: dict[int, int]
    won: dict[int, int]
    scores: dict[int, np.ndarray]
    cutoff: dict[int, float]


def judging_base(pop: Population, aw, capability: np.ndarray | None = None) -> np.ndarray:
    """Each slot's judging score before the judges' noise (§3.1): ``capability +
    certification_bonus * ISO 9001 + size_bonus * log10(output)`` (``aw``: the scenario's
    ``awards``; ``capability``: instead of the firms' own, e.g. after an upgrade)."""
    cap = pop.capability if capability is None else capability
    return (cap + aw.certification_bonus * pop.iso9001
            + aw.size_bonus * np.log10(np.maximum(pop.output, MIN_OUTPUT_FOR_LOG)))


# the firm's arrays the titles' rules read or write (population.FirmView)
_title_holders = FirmView("TitleHolders", __name__, "alive", "tier", "title_expires", "applying",
                          "capability", "iso9001", "grade", "file_national_failed",
                          "file_counterfeit_found")
TitleHolders = _title_holders.record


class TitleConditions(NamedTuple):
    """The titles' conditions of the scenario's ``awards`` section (:func:`title_eligible`),
    as the compiled passes take them."""

    min_capability: np.ndarray  # per tier (index 0: no title)
    iso_required: np.ndarray  # per tier: ISO 9001 certification required
    max_grade: int  # the worst published grade a title holder may have (0..3 = A..D)
    record_mask: np.uint64  # the quality file's bits of the last clean_record_months


def title_eligible(pop: Population, tier, aw, capability: np.ndarray | None = None) -> np.ndarray:
    """Whether each slot's firm meets the conditions of title ``tier`` (one tier, or a tier
    per slot, 1-3; ``aw``: the scenario's ``awards``): capability (its own, or
    ``capability``) at least ``min_capability`` of the tier, ISO 9001 where the tier requires
    it (``iso_required``), no failed national spot check in the last
    ``clean_record_months`` of its quality file, and a published grade no worse than
    ``max_grade`` (§3.3). The award round, the re-examination of titles
    at expiry and the firms' own decisions (``behaviour.investment_utilities``) read the same
    conditions."""
    cap = pop.capability if capability is None else capability
    tier = np.broadcast_to(np.asarray(tier, dtype=np.int64), cap.shape)
    out = np.empty(cap.shape, dtype=bool)
    _title_eligible_all(cap, tier, _title_holders(pop), once(aw, _title_conditions), out)
    return out


@jit(inline=True)
def in_good_standing(national_failed: np.uint64, grade: int, record_mask: np.uint64,
                     max_grade: int) -> bool:
    """The titles' conditions on a firm's quality file (:func:`title_eligible`): no failed
    national spot check in the file's bits ``record_mask`` (the last
    ``clean_record_months``) and a published grade no worse than ``max_grade``."""
    return (national_failed & record_mask) == 0 and grade <= max_grade


@jit(inline=True)
def eligible_at(capability: float, min_capability: float, iso_required: bool, iso9001: bool,
                national_failed: np.uint64, grade: int, record_mask: np.uint64,
                max_grade: int) -> bool:
    """Whether a firm of ``capability`` meets the conditions of a title needing
    ``min_capability`` and ISO 9001 if ``iso_required`` (:func:`title_eligible`, firm by
    firm; numbers, not the tables: an inlined helper reading an array after a branch costs
    a reference count per call, engine/jit.py)."""
    return (capability >= min_capability and (iso9001 or not iso_required)
            and in_good_standing(national_failed, grade, record_mask, max_grade))


@jit
def _title_eligible_all(capability: np.ndarray, tier: np.ndarray, f: TitleHolders,
                        c: TitleConditions, out: np.ndarray) -> None:
    """:func:`eligible_at` for every slot of the firms ``f`` (with ``capability``, for the
    title of ``tier``), into ``out``."""
    iso9001, national_failed, grade = f.iso9001, f.file_national_failed, f.grade
    min_capability, iso_required = c.min_capability, c.iso_required
    record_mask, max_grade = c.record_mask, c.max_grade
    for i in range(out.shape[0]):
        t = tier[i]
        out[i] = eligible_at(capability[i], min_capability[t], iso_required[t], iso9001[i],
                             national_failed[i], grade[i], record_mask, max_grade)


def _title_conditions(aw) -> TitleConditions:
    """:class:`TitleConditions` of ``aw`` (made once per scenario, ``parameters.once``)."""
    return TitleConditions(
        frozen([-np.inf, *(getattr(aw.min_capability, t) for t in TIERS[1:])]),
        frozen([False, *(bool(getattr(aw.iso_required, t)) for t in TIERS[1:])]),
        GRADES.index(aw.max_grade), quality_file.within_mask(aw.clean_record_months))


def field_cutoffs(pop: Population, aw) -> np.ndarray:
    """Per tier (index 0 unused, NaN), the field's cut-off in the base year (docs/ODD.md
    §7.7): the province's or nation's judges pass a candidate of the city's base-year quality
    at its recommendation rank with the chance ``field_pass_rate``. That candidate is the
    firm ranked ``ceil(recommendations)`` (at least first) by :func:`judging_base` among the
    live firms eligible for the tier at the start (members counted by weight; if none is
    eligible, every live firm as if raised to the tier's capability), so the cut-off is
    ``its score - judging_noise * ndtri(field_pass_rate)``. It is fixed before any lever acts,
    so it is the same under every scenario sharing the city."""
    from scipy.special import ndtri

    out = np.full(len(TIERS), np.nan)
    base = judging_base(pop, aw)
    for t in range(1, len(TIERS)):
        pool = pop.alive & title_eligible(pop, t, aw)
        score = base
        if not pool.any():
            pool = pop.alive
            score = base + np.maximum(getattr(aw.min_capability, TIERS[t]) - pop.capability, 0.0)
        if not pool.any():
            continue
        order = np.argsort(-score[pool], kind="stable")
        ranked, members_above = score[pool][order], np.cumsum(pop.weight[pool][order])
        rank = max(1, int(np.ceil(getattr(aw.recommendations, TIERS[t]))))
        j = min(int(np.searchsorted(members_above, rank)), ranked.size - 1)
        out[t] = ranked[j] - aw.judging_noise * ndtri(getattr(aw.field_pass_rate, TIERS[t]))
    return out


def year_cutoffs(field: np.ndarray, aw, years_on: int) -> np.ndarray:
    """The field's cut-offs ``years_on`` years after the base year: the base-year cut-offs
    (:func:`field_cutoffs`) raised by ``awards.cutoff_drift`` a year."""
    return field + aw.cutoff_drift * years_on


def held_title_expiry(tier: np.ndarray, validity_months: int, u: np.ndarray) -> np.ndarray:
    """The month index (0: the base year's January) at which each title held at the start is
    re-examined: a holder is at a uniformly drawn point of its title's validity
    (``awards.held_title_validity_months``), so its title is re-examined at
    ``floor(u * validity)``; -1 for firms without a title. ``u``: a uniform per slot."""
    due = np.floor(np.asarray(u) * validity_months).astype(np.int32)
    return np.where(np.asarray(tier) > 0, due, -1).astype(np.int32)


@dataclass
class TitleReview:
    """What the month's review of titles held did (slot indices)."""

    withdrawn: np.ndarray  # a failed national spot check or counterfeiting found this month
    lapsed: np.ndarray  # re-examined at expiry and no longer eligible, or its tier closed
    renewed: np.ndarray  # re-examined at expiry and kept for another validity period


def review_titles(pop: Population, sc: Scenario, month: int,
                  open_round: np.ndarray | None = None) -> TitleReview:
    """Titles withdrawn, lapsed and renewed this month (§3.1; docs/ODD.md §7.7), read from each
    holder's quality file and its title's expiry.

    A title is withdrawn when the file records this month a failed national spot check
    (``national_failed``) or counterfeit goods found by a city inspection
    (``counterfeit_found``). A title due (``title_expires <= month``) is re-examined: the firm
    keeps it for ``awards.title_validity_months`` more if it still meets the tier's conditions
    (:func:`title_eligible`) and the tier still holds rounds this year (``open_round``, per
    tier; None: all do), and loses it otherwise. A firm that loses its title holds none
    (tier 0) and loses the application it had made on it (``applying`` cleared).
    """
    aw = sc.awards
    is_open = _ALL_OPEN if open_round is None else np.asarray(open_round, dtype=bool)
    return TitleReview(*_review_titles(_title_holders(pop), once(aw, _title_conditions),
                                       is_open,
                                       quality_file.within_mask(1), month,
                                       month + aw.title_validity_months))


_ALL_OPEN = np.ones(len(TIERS), dtype=bool)  # every tier holds rounds
WITHDRAWN, LAPSED, RENEWED = 1, 2, 3  # a title's review this month (0: not reviewed)


@jit
def _review_titles(f: TitleHolders, c: TitleConditions, open_round: np.ndarray,
                   this_month: np.uint64, month: int, renewed_until: int):
    """:func:`review_titles` slot by slot (each title's review reads its own firm alone):
    the titles withdrawn, lapsed and renewed (slots, in slot order), their firms' state
    ``f`` updated in place. ``this_month``: the quality file's bit of this month."""
    # the arrays as local names, read once (engine/jit.py)
    alive, tier, title_expires, applying = f.alive, f.tier, f.title_expires, f.applying
    capability, iso9001, grade = f.capability, f.iso9001, f.grade
    national_failed, counterfeit_found = f.file_national_failed, f.file_counterfeit_found
    min_capability, iso_required = c.min_capability, c.iso_required
    record_mask, max_grade = c.record_mask, c.max_grade
    review = np.zeros(tier.shape[0], dtype=np.int8)
    n = np.zeros(RENEWED + 1, dtype=np.int64)
    for i in range(tier.shape[0]):
        if not alive[i] or tier[i] <= 0:
            continue
        t = tier[i]
        if (national_failed[i] & this_month) != 0 or (counterfeit_found[i] & this_month) != 0:
            review[i] = WITHDRAWN
        elif title_expires[i] <= month:  # due: re-examined
            needs, iso_needed = min_capability[t], iso_required[t]
            ok = open_round[t] and eligible_at(capability[i], needs, iso_needed, iso9001[i],
                                               national_failed[i], grade[i], record_mask,
                                               max_grade)
            review[i] = RENEWED if ok else LAPSED
        else:
            continue
        n[review[i]] += 1
        if review[i] == RENEWED:
            title_expires[i] = renewed_until
        else:  # the title lost, and the application made on it
            tier[i] = 0
            title_expires[i] = -1
            applying[i] = 0
    withdrawn = np.empty(n[WITHDRAWN], dtype=np.int64)
    lapsed = np.empty(n[LAPSED], dtype=np.int64)
    renewed = np.empty(n[RENEWED], dtype=np.int64)
    n[:] = 0
    for i in range(tier.shape[0]):
        r = review[i]
        if r == WITHDRAWN:
            withdrawn[n[r]] = i
        elif r == LAPSED:
            lapsed[n[r]] = i
        elif r == RENEWED:
            renewed[n[r]] = i
        n[r] += 1
    return withdrawn, lapsed, renewed


def award_titles(pop: Population, lv: Levers, sc: Scenario, year: int, ledger: Ledger,
                 noise: Uniforms, u: np.ndarray, next_id: int, month: int,
                 cutoff: np.ndarray | None = None,
                 open_round: np.ndarray | None = None) -> tuple[AwardRound, int]:
    """The yearly award round: applicants judged, winners paid once per title.

    From the highest tier down, applicants meeting the tier's conditions
    (:func:`title_eligible`) are scored by :func:`judging_base` plus judging noise
    (``noise(rows, codes)``, row ``tier - 1``: a uniform per member, turned into a standard
    normal). Under ``awards.judging = "cutoff"`` the city recommends the ``recommendations``
    (rounded with ``u[tier - 1]``) with the best scores before noise (what the city knows of
    its firms), and those whose score with noise reaches the field's cut-off
    ``cutoff[tier]`` (:func:`year_cutoffs`) win; under ``"quota"`` the best ``quota`` (rounded
    the same way) by score with noise win. A tier with no round this year (``open_round``; None:
    all open) has no winner. An agent of weight ``w`` applies as ``w`` firms with their own
    noise; a winning member is split off. A title won in month ``month`` (its index) is
    re-examined ``awards.title_validity_months`` later. Returns the round and the next unused
    id.
    """
    aw = sc.awards
    by_cutoff = aw.judging == "cutoff"
    result = AwardRound({}, {}, {}, {}, {})
    for t in range(len(TIERS) - 1, 0, -1):  # the highest title first
        base = judging_base(pop, aw)  # on the arrays as the higher tiers' splits left them
        applicants = pop.alive & (pop.applying == t)
        is_open = open_round is None or bool(open_round[t])
        eligible = applicants & title_eligible(pop, t, aw) & is_open
        k = stochastic_round(getattr(aw.recommendations if by_cutoff else aw.quota, TIERS[t]),
                             u[t - 1])
        slots = eligible.nonzero()[0]

        def member_u(codes, row=t - 1):
            return noise(row + 1, codes)[row]

        result.scores[t] = best_member_score(pop, slots, base, aw.judging_noise, member_u)
        result.applied[t] = int(pop.weight[applicants].sum())  # before splits grow the arrays
        counts = np.zeros(pop.n_slots, dtype=np.int64)
        if by_cutoff:  # the city recommends by what it knows; the field's judges add noise
            bar = float(cutoff[t])
            chosen = best_by_value(slots, pop.weight, k, base)
            result.recommended[t] = int(chosen.sum())
            counts[slots] = members_reaching(slots, chosen, base, aw.judging_noise, bar, member_u)
            result.cutoff[t] = bar
        else:
            counts[slots], last = top_members(slots, pop.weight, k, base, aw.judging_noise,
                                              member_u, with_cutoff=True)
            result.recommended[t] = int(counts.sum())
            if np.isfinite(last):
                result.cutoff[t] = float(last)
        winners, next_id = split(pop, counts, next_id)
        pop.tier[winners] = t
        pop.title_expires[winners] = month + aw.title_validity_months
        quality_file.record(pop, "title_won", winners)
        province, city = reward_amounts(lv, year, t)
        line = REWARD_LINE_BY_TIER[t]
        if winners.size:
            ledger.book(year, "province", line, province * winners.size)
            ledger.book(year, "city", line, city * winners.size)
            pop.cash[winners] += (province + city) / YUAN_PER_MILLION
        result.won[t] = int(winners.size)
    pop.applying[:] = 0
    return result, next_id


def title_contenders(pop: Population, aw, open_round: np.ndarray, cutoff: np.ndarray,
                     upgrade_gain: float) -> np.ndarray:
    """Whether each slot's firm is a contender for its next title (docs/ODD.md §7.7): the
    tier holds rounds (``open_round``), the firm is eligible for it or would be after one
    quality upgrade (``upgrade_gain``), and its judging score (after that upgrade, if it needs
    it) is within one ``judging_noise`` of the tier's cut-off ``cutoff`` (NaN: none yet, so
    no contender)."""
    n = pop.n_slots
    judged, bar, possible = np.empty(n), np.empty(n), np.empty(n, dtype=bool)
    _contender_capability(_title_holders(pop), once(aw, _title_conditions),
                          np.asarray(open_round, dtype=bool),
                          np.asarray(cutoff, dtype=np.float64), upgrade_gain, judged, bar,
                          possible)
    # each firm's score on the capability it is judged with (one judging_base, not two)
    score = judging_base(pop, aw, capability=judged)
    _near_the_bar(possible, score, bar, aw.judging_noise)
    return possible


@jit
def _contender_capability(f: TitleHolders, c: TitleConditions, open_round: np.ndarray,
                          cutoff: np.ndarray, upgrade_gain: float, judged: np.ndarray,
                          bar: np.ndarray, possible: np.ndarray) -> None:
    """Per slot of the firms ``f``, for its next title (at most the highest): the capability
    it is judged with (its own if eligible now, else after the upgrade) into ``judged``, the
    tier's cut-off into ``bar``, and whether it could contend (alive, below the top, the
    tier open, eligible now or after the upgrade) into ``possible``."""
    # the arrays as local names, read once (engine/jit.py)
    alive, tier, capability, iso9001 = f.alive, f.tier, f.capability, f.iso9001
    national_failed, grade = f.file_national_failed, f.grade
    min_capability, iso_required = c.min_capability, c.iso_required
    record_mask, max_grade = c.record_mask, c.max_grade
    top = len(TIERS) - 1
    for i in range(tier.shape[0]):
        nxt = min(int(tier[i]) + 1, top)
        needs, iso_needed = min_capability[nxt], iso_required[nxt]
        raised = capability[i] + upgrade_gain
        now = eligible_at(capability[i], needs, iso_needed, iso9001[i], national_failed[i],
                          grade[i], record_mask, max_grade)
        after = eligible_at(raised, needs, iso_needed, iso9001[i], national_failed[i],
                            grade[i], record_mask, max_grade)
        judged[i] = capability[i] if now else raised
        bar[i] = cutoff[nxt]
        possible[i] = alive[i] and tier[i] < top and open_round[nxt] and (now or after)


@jit
def _near_the_bar(possible, score, bar, judging_noise) -> None:
    """Keeps in ``possible`` the slots whose score is within ``judging_noise`` of their
    ``bar`` (none where it is NaN)."""
    for i in range(possible.shape[0]):
        if possible[i]:
            possible[i] = abs(score[i] - bar[i]) <= judging_noise


def best_member_score(pop: Population, slots: np.ndarray, base: np.ndarray, spread: float,
                      uniform_at) -> np.ndarray:
    """Per slot, the score of the agent's best member (``base + spread * ndtri(v)``, the
    largest of its members' uniforms, as :func:`~.resolution.top_members` draws it); NaN
    for slots not in ``slots``. For an agent of weight 1 it is its own score."""
    from scipy.special import ndtri

    out = np.full(pop.weight.size, np.nan)
    if slots.size:
        v = uniform_at(slots.astype(np.int64) << MEMBER_BITS) ** (1.0 / pop.weight[slots])
        out[slots] = base[slots] + spread * ndtri(v)
    return out


def learn_win_rates(win_belief: np.ndarray, result: AwardRound, learning: float) -> None:
    """After an award round, each tier's perceived chance of winning moves ``learning`` of
    the way towards the round's winners over applicants (tiers nobody applied for keep
    theirs)."""
    for tier, applied in result.applied.items():
        if applied:
            win_belief[tier] += learning * (result.won[tier] / applied - win_belief[tier])


def record_cutoffs(cutoff: np.ndarray, result: AwardRound) -> None:
    """After an award round, each tier's last winning cut-off (``cutoff``, index 0 unused;
    NaN until a tier has had a winner) becomes the round's; tiers without a winner keep
    theirs. The ``own_score`` belief rule reads it (docs/ODD.md §7.7)."""
    for tier, value in result.cutoff.items():
        cutoff[tier] = value


def campaign(pop: Population, sc: Scenario, lv: Levers, year: int, ledger: Ledger) -> None:
    """§4.5 awareness campaign: every firm's perceived chance of an inspection rises by
    ``behaviour.campaign_belief_boost`` of its distance to certainty; the city pays for it."""
    pop.belief += sc.behaviour.campaign_belief_boost * (1.0 - pop.belief)
    ledger.book(year, "city", "campaign_cost", lv.campaigns.cost_per_campaign_yuan)


def select_key_projects(pop: Population, lv: Levers, u_round: float, noise: Uniforms,
                        next_id: int) -> tuple[np.ndarray, int, float]:
    """January: the city picks this year's ``subsidy.key_projects_per_year`` key upgrade
    projects (rounded with ``u_round``) among the firms that can carry one (with credit, or any
    firm when selection brings the loan, ``subsidy.key_project_loan``), have no subsidy
    running and a published grade no worse than ``subsidy.max_grade``.

    The priority rule's weights are the scenario's: ``subsidy.priority_size_weight`` times
    log10 output plus ``subsidy.priority_capability_weight`` times capability (the plan serves
    'key enterprises'), plus a standard normal noise per member (``noise(rows, codes)``, row
    0); a member of a weighted agent picked is split off. Returns each eligible slot's best
    priority (NaN for the others), the next unused id and the selection rate firms learn
    (docs/ODD.md §7.5): the projects chosen per eligible firm (members counted; 0 if none is
    eligible).
    """
    k = stochastic_round(lv.subsidy.key_projects_per_year, u_round)
    pop.key_project[:] = False
    s = lv.subsidy
    can_borrow = pop.credit | s.key_project_loan
    eligible = (pop.alive & can_borrow & (pop.subsidy_months_left == 0)
                & (pop.grade <= GRADES.index(s.max_grade)))  # firms in good standing (§3.3)
    base = (s.priority_size_weight * np.log10(np.maximum(pop.output, MIN_OUTPUT_FOR_LOG))
            + s.priority_capability_weight * pop.capability)
    slots = eligible.nonzero()[0]

    def member_u(codes):
        return noise(1, codes)[0]

    priority = best_member_score(pop, slots, base, 1.0, member_u)
    counts = np.zeros(pop.n_slots, dtype=np.int64)
    counts[slots] = top_members(slots, pop.weight, k, base, 1.0, member_u)
    candidates = float(pop.weight[slots].sum())  # before the picked members are split off
    rate = float(counts.sum()) / candidates if candidates > 0 else 0.0
    chosen, next_id = split(pop, counts, next_id)
    pop.key_project[chosen] = True
    return priority, next_id, rate


def pay_subsidies(pop: Population) -> float:
    """Monthly interest-subsidy payments on running key-project loans; returns yuan paid."""
    running = pop.alive & (pop.subsidy_months_left > 0)
    paid = float((pop.subsidy_monthly * pop.weight).sum(where=running))
    pop.subsidy_months_left[running] -= 1
    pop.subsidy_monthly[pop.subsidy_months_left == 0] = 0.0
    return paid
