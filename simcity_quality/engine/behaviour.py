"""The enterprises' decision rule: beliefs, payoffs and a logit choice (docs/ODD.md §7.2).

Each month a random share of firms reviews (``behaviour.decision_rate``). A reviewing firm

1. decides whether to produce shoddy or counterfeit goods (§4.4): the gain against the
   expected penalty under its *subjective* inspection probability, minus its moral cost (a
   binary logit; Becker 1968, beliefs keep the chance of being caught apart from the fine);
2. decides on each investment separately, by a binary logit of its net payoff against not
   making it: quality upgrade (§3.4), international standards (§2.2.1b), certification (ISO
   9001 or a missing CCC, §3.3), COD abatement (§2.2.4), an application for the next title
   (§3.1, §4.2). The chosen ones are carried out the most valuable first while the firm can
   pay its own share of each from its cash (the rest borrowed where it has credit), so one
   investment takes another's place only through the firm's cash, never by construction.

Payoffs are in million yuan and divided by ``logit_scale * output``: a payoff worth
``logit_scale`` of a year's output is one logit unit, so rewards matter more to small firms.
Imitation adds a pull towards what the firm's sector already does (Guler et al. 2002).

The rule is written once, firm by firm, and compiled (:func:`decide`); the readable
per-agent version is ``reference.Enterprise.decide``, and ``tests/rules/`` runs both on the
same uniforms.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..categories import GRADES, INVESTMENTS, OPTIONS, SECTORS, TIERS
from ..scenario import Levers, Scenario
from .finance import preferred_sales_gain
from .jit import jit
from .parameters import (
    DecisionParameters,
    TitleTable,
    as_numbers,
    decision_parameters,
    once,
    title_table,
)
from .population import FirmArrays, Population
from .shared import MONTHS_PER_YEAR, YUAN_PER_MILLION

NOTHING, UPGRADE, INTL, CERTIFY, ABATE, APPLY = range(len(OPTIONS))
TOP_TIER = len(TIERS) - 1
WORST_GRADE = len(GRADES) - 1  # D: where counterfeiting found puts a firm (§3.3)
MIN_OUTPUT = 1e-9  # million yuan: keeps payoffs per unit of output finite for an empty firm
MIN_OUTPUT_FOR_LOG = 1e-6  # million yuan: as the judges take log10 of output (government.py)


# the firms (agents' weights) making each investment in a month, as ``decide`` counts them
COUNTS = ("certifications", *(f"applications_{t}" for t in TIERS[1:]), "quality_upgrades",
          "intl_standard_adoptions", "abatements", "cod_cut_abatement")


def invested_options(mask) -> list[str]:
    """The investments (names of ``OPTIONS``) in a bit mask of :attr:`Decisions.invested`."""
    return [o for k, o in enumerate(INVESTMENTS) if int(mask) >= 0 and int(mask) >> k & 1]


@dataclass
class Decisions:
    """What reviewing firms decided this month."""

    invested: np.ndarray  # int8 per slot: bit k-1 set if investment OPTIONS[k] was made (0:
    # none), -1 where the firm did not review
    subsidised: np.ndarray  # bool per slot: took a key-project loan with interest subsidy
    reviewers: np.ndarray  # slots that reviewed, in slot order
    utilities: np.ndarray  # (reviewers, options): each investment's net payoff in logit units
    # (column 0, not investing, is 0; -inf: not open to the firm)
    counts: dict  # firms (agents' weights) making each investment (``COUNTS``)

    @property
    def applications(self) -> float:
        """Firms applying for a title this month."""
        return sum(v for k, v in self.counts.items() if k.startswith("applications_"))


# ---------------------------------------------------------------------------------------
# §4.4 counterfeit or not


@jit(inline=True)
def perceived_penalty_of(f: FirmArrays, i: int, p: DecisionParameters) -> float:
    """Expected yearly cost (million yuan) of counterfeiting to firm ``i`` under its belief:
    the fine (capped by its cash: limited liability; under the sanction ladder a multiple of
    the goods' value, plus the market loss of the public notice), the chance of losing its
    licence and the firm's value with it, and a criminal referral, if caught."""
    # the firm's state, read before the branch (engine/jit.py)
    margin, output, cash, belief = f.margin[i], f.output[i], f.cash[i], f.belief[i]
    firm_value = max(margin, 0.0) * output * p.horizon_years
    if p.ladder:  # a multiple of the goods' value, and the public notice's market loss
        fine = (min(p.goods_fine_share * max(output, 0.0), max(cash, 0.0))
                + p.notice_sales_loss * max(output, 0.0))
    else:
        fine = min(p.counterfeit_fine_million, max(cash, 0.0))
    loss_if_caught = fine + p.revocation_probability * firm_value + p.referral_cost_million
    return belief * p.detection_probability * loss_if_caught


@jit(inline=True)
def procurement_gain(tier: int, margin: float, p: DecisionParameters) -> float:
    """What the §3.1 procurement preference earns a title holder (``tier`` > 0) a year, as a
    share of its output, while its grade is admitted: the margin on the extra government sales
    and the price premium on all of them (``finance.preferred_sales_gain``, as production
    pays it)."""
    if tier == 0:
        return 0.0
    return preferred_sales_gain(margin, p.procurement_extra_sales, p.procurement_premium)


@jit(inline=True)
def title_prize(tier: int, grade: int, margin: float, out: float, titles: TitleTable,
                p: DecisionParameters) -> float:
    """What winning the title after ``tier`` is worth to a firm (million yuan over its
    horizon), as its application weighs it: the province's and city's reward, the brand
    premium on its output ``out`` over the horizon and, for a first title while its grade is
    admitted, the §3.1 procurement preference (any title is preferred; a higher one adds
    nothing)."""
    nxt = tier + 1
    H = p.horizon_years
    procurement = 0.0
    if tier == 0 and grade <= p.procurement_max_grade:
        procurement = procurement_gain(nxt, margin, p) * out * H
    return titles.reward_million[nxt] + titles.brand_premium[nxt] * out * H + procurement


@jit(inline=True)
def title_gain(tier: int, capability: float, iso9001: bool, national_failed: np.uint64,
               output: float, grade: int, margin: float, titles: TitleTable,
               win_belief: np.ndarray, cutoff: np.ndarray, p: DecisionParameters) -> float:
    """What competing for its next title is worth to a firm a year while its published grade
    is no worse than ``awards.max_grade``, as a share of its output (docs/ODD.md §7.5): one
    year's application, ``max(win chance x prize - application cost, 0)``, with the win
    chance, prize (:func:`title_prize`) and cost its application weighs
    (:func:`investment_utilities`). The prize already counts the title's brand premium over
    the horizon; the round is yearly, so this is the value of one year's chance, each year
    beyond the grade's gate forfeits one, and :func:`grade_loss` weighs it by the learnt
    discounted years there: the application the firm would weigh this year, not a model of
    the whole race (it overstates a near-certain winner's loss, who would stop competing for
    the tier once it won, and leaves out the tier after it). Only the
    conditions other than the grade count here (ISO 9001 where required, a clean national
    record): the grade's are in those years. A firm one quality upgrade short of the tier's
    capability is judged at its capability after that upgrade (a contender's prospect,
    ``government.title_contenders``); zero if it is further short, at the top tier or if the
    tier holds no round this year. Takes the firm's numbers, not its arrays (engine/jit.py)."""
    if tier >= TOP_TIER or not titles.open_round[tier + 1]:
        return 0.0
    nxt = tier + 1
    if not ((iso9001 or not titles.iso_required[nxt])
            and (national_failed & titles.clean_record_mask) == 0):
        return 0.0
    judged = capability
    if capability < titles.min_capability[nxt]:  # one upgrade short: the prospect through it
        judged = capability + p.upgrade_gain
        if judged < titles.min_capability[nxt]:
            return 0.0
    out = max(output, MIN_OUTPUT)
    chance = win_chance_of(iso9001, output, titles, win_belief, cutoff, nxt, judged)
    prize = title_prize(tier, grade, margin, out, titles, p)
    return max(chance * prize - titles.application_cost_million[nxt], 0.0) / out


@jit(inline=True)
def key_project_gain(credit: bool, p: DecisionParameters) -> float:
    """What the chance of a key project is worth to a firm a year while its published grade is
    no worse than ``subsidy.max_grade``, as a share of its output (docs/ODD.md §7.5): the
    city's selection rate at the last January selection (``p.key_project_rate``: projects
    chosen per eligible firm) times the interest subsidy a key project's upgrade loan gets
    (:func:`_key_project_subsidy` on the upgrade's cost per unit of output); zero for a firm
    that could not carry one (no credit, and selection brings no loan)."""
    return p.key_project_rate * _key_project_subsidy(True, credit, p, p.upgrade_cost)


@jit(inline=True)
def grade_loss(grade: int, worse: int, tier: int, margin: float, credit: bool, title: float,
               p: DecisionParameters) -> float:
    """The present value (a share of a year's output) a firm at ``grade`` loses by moving to
    ``worse``, as it has learnt the grades' moves (docs/ODD.md §7.5): the sales a worse grade
    loses (``p.grade_value``) and, for each gate the grade keeps, its yearly value times the
    learnt discounted years the worse grade adds beyond it: for a title holder the
    procurement preference (:func:`procurement_gain`, ``p.years_unpreferred``), the chance of
    its next title (``title``, :func:`title_gain`; ``p.years_untitled``) and the chance of a
    key project (:func:`key_project_gain` with its ``credit``; ``p.years_unsubsidised``)."""
    return (p.grade_value[worse] - p.grade_value[grade]
            + procurement_gain(tier, margin, p)
            * (p.years_unpreferred[worse] - p.years_unpreferred[grade])
            + title * (p.years_untitled[worse] - p.years_untitled[grade])
            + key_project_gain(credit, p)
            * (p.years_unsubsidised[worse] - p.years_unsubsidised[grade]))


@jit(inline=True)
def grade_stake_of(f: FirmArrays, i: int, p: DecisionParameters, title: float) -> float:
    """Expected yearly cost (million yuan) to firm ``i`` of the grade counterfeiting found
    would give it (D) under its belief: what it would lose by moving from its grade to D
    (:func:`grade_loss`, with its yearly title prospect ``title``), times its output."""
    # the firm's state, read before grade_loss's branches (engine/jit.py)
    grade, tier, margin, credit = f.grade[i], f.tier[i], f.margin[i], f.credit[i]
    belief, output = f.belief[i], f.output[i]
    loss = grade_loss(grade, WORST_GRADE, tier, margin, credit, title, p)
    return belief * p.detection_probability * loss * max(output, 0.0)


@jit(inline=True)
def counterfeit_utility_of(f: FirmArrays, i: int, p: DecisionParameters,
                           title: float) -> float:
    """Logit utility of counterfeiting for firm ``i``: the gain less the perceived penalty and
    the grade at stake (:func:`grade_stake_of`, with its yearly title prospect ``title``) in
    logit units, less the firm's moral cost."""
    # the firm's state, read before the helpers' branches (engine/jit.py)
    out, moral_cost = max(f.output[i], MIN_OUTPUT), f.moral_cost[i]
    gain = p.counterfeit_gain * out
    return ((gain - perceived_penalty_of(f, i, p) - grade_stake_of(f, i, p, title))
            / (p.logit_scale * out) - moral_cost)


@jit(inline=True)
def _logistic(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


@jit
def _counterfeit_probabilities(f: FirmArrays, p: DecisionParameters, titles: TitleTable,
                               win_belief: np.ndarray, cutoff: np.ndarray, out: np.ndarray,
                               penalty: np.ndarray) -> None:
    # the firm's numbers the title prospect reads, taken before the loop (engine/jit.py)
    tier, capability, iso9001, output = f.tier, f.capability, f.iso9001, f.output
    national_failed, grade, margin = f.file_national_failed, f.grade, f.margin
    for i in range(out.shape[0]):
        title = title_gain(tier[i], capability[i], iso9001[i], national_failed[i], output[i],
                           grade[i], margin[i], titles, win_belief, cutoff, p)
        out[i] = _logistic(counterfeit_utility_of(f, i, p, title))
        penalty[i] = perceived_penalty_of(f, i, p)


def counterfeit_probability(pop: Population, lv: Levers, sc: Scenario,
                            grade_value: np.ndarray | None = None,
                            years_unpreferred: np.ndarray | None = None,
                            years_untitled: np.ndarray | None = None,
                            years_unsubsidised: np.ndarray | None = None,
                            key_project_rate: float | None = None,
                            year: int | None = None, win_belief: np.ndarray | None = None,
                            cutoff: np.ndarray | None = None) -> np.ndarray:
    """Chance each slot's firm would counterfeit if it reviewed now (binary logit, §4.4);
    ``grade_value``, ``years_unpreferred``, ``years_untitled``, ``years_unsubsidised``,
    ``key_project_rate``: what firms learnt of the grades and the key projects (the model's
    properties of those names; None: nothing yet, zeros); ``year``: the year whose award
    rounds the firms weigh (None: no title prospect), with the perceived chances
    ``win_belief`` per tier (default ``behaviour.initial_win_belief``) and each tier's
    ``cutoff`` (default: none seen)."""
    return _counterfeit_and_penalty(pop, lv, sc, grade_value, years_unpreferred,
                                    years_untitled, years_unsubsidised, key_project_rate, year,
                                    win_belief, cutoff)[0]


def perceived_penalty(pop: Population, lv: Levers, sc: Scenario) -> np.ndarray:
    """Expected yearly cost (million yuan) of counterfeiting under each firm's own belief."""
    return _counterfeit_and_penalty(pop, lv, sc)[1]


def _counterfeit_and_penalty(pop, lv, sc, grade_value=None, years_unpreferred=None,
                             years_untitled=None, years_unsubsidised=None,
                             key_project_rate=None, year=None, win_belief=None,
                             cutoff=None) -> tuple[np.ndarray, np.ndarray]:
    prob, penalty = np.empty(pop.n_slots), np.empty(pop.n_slots)
    p = decision_parameters(sc, lv)
    learnt = {"grade_value": grade_value, "years_unpreferred": years_unpreferred,
              "years_untitled": years_untitled, "years_unsubsidised": years_unsubsidised}
    p = p._replace(**{k: np.asarray(v, dtype=np.float64) for k, v in learnt.items()
                      if v is not None})
    if key_project_rate is not None:
        p = p._replace(key_project_rate=float(key_project_rate))
    titles = title_table(sc, lv, sc.city.base_year if year is None else year)
    if year is None:  # no award round weighed: no title prospect
        titles = titles._replace(open_round=np.zeros_like(titles.open_round))
    if win_belief is None:
        win_belief = np.full(len(TIERS), sc.behaviour.initial_win_belief)
    if cutoff is None:
        cutoff = np.full(len(TIERS), np.nan)
    _counterfeit_probabilities(pop.arrays(), p, titles, np.asarray(win_belief, dtype=np.float64),
                               np.asarray(cutoff, dtype=np.float64), prob, penalty)
    return prob, penalty


# ---------------------------------------------------------------------------------------
# the investments


@jit(inline=True)
def upgrade_grade_value(grade: int, capability: float, belief: float, output: float,
                        tier: int, margin: float, credit: bool, title: float,
                        p: DecisionParameters) -> float:
    """What a quality upgrade is worth to a firm through its published grade ``grade`` (million
    yuan over its horizon): under its ``belief`` of an inspection a year, the fall in its
    failure chance (``logistic(capability)`` before and after ``upgrade_gain``) times what it
    would lose by falling a grade (:func:`grade_loss`, with its title ``tier``, ``margin``,
    ``credit`` and yearly title prospect ``title``), times its ``output`` and horizon. It
    takes the firm's numbers, not its arrays (engine/jit.py)."""
    worse = min(grade + 1, WORST_GRADE)
    drop = grade_loss(grade, worse, tier, margin, credit, title, p)
    safer = _logistic(capability + p.upgrade_gain) - _logistic(capability)
    return belief * safer * drop * max(output, 0.0) * p.horizon_years


@jit(inline=True)
def failure_cost(file_failed: np.uint64, margin: float, output: float, grade: int, tier: int,
                 credit: bool, title: float, p: DecisionParameters) -> float:
    """What a failed city inspection other than counterfeiting (a missing CCC, say) costs a
    firm (million yuan): under flat fines ``fine_yuan``; on the Product Quality Law's ladder
    (art. 17; ``government.ladder_step``) nothing at a correction order, a public notice's
    sales at the second step, with a suspension's margin at the third, the firm's value
    (its margin over the horizon) when its licence is revoked; and under both, what falling a
    grade loses (:func:`grade_loss`, with its ``credit`` and yearly title prospect
    ``title``)."""
    out = max(output, 0.0)
    worse = min(grade + 1, WORST_GRADE)
    cost = grade_loss(grade, worse, tier, margin, credit, title, p) * out
    if not p.ladder:
        return cost + p.failed_check_fine_million
    recent = file_failed & p.ladder_memory_mask
    step = 1
    while recent:  # one more step for each failed city inspection in the ladder's memory
        recent &= recent - np.uint64(1)
        step += 1
    if step == 2:
        cost += p.notice_sales_loss * out
    elif step == 3:
        cost += (p.notice_sales_loss + max(margin, 0.0) * p.suspension_months
                 / MONTHS_PER_YEAR) * out
    elif step >= 4:
        cost += max(margin, 0.0) * out * p.horizon_years
    return cost


@jit(inline=True)
def _loan_share(credit: bool, p: DecisionParameters) -> float:
    """Share of an investment's cost a firm borrows (only firms with credit borrow)."""
    return p.loan_share if credit else 0.0


@jit(inline=True)
def _is_subsidised_project(key_project: bool, credit: bool, p: DecisionParameters) -> bool:
    """A key project (§3.4) with its loan: the firm has credit, or selection brings the loan
    (``subsidy.key_project_loan``)."""
    return key_project and (credit or p.key_project_loan)


@jit(inline=True)
def _upgrade_loan_share(key_project: bool, credit: bool, p: DecisionParameters) -> float:
    """Share of an upgrade's cost a firm borrows: a key project borrows it whatever its
    credit when selection brings the loan."""
    return (p.loan_share if _is_subsidised_project(key_project, credit, p)
            else _loan_share(credit, p))


@jit(inline=True)
def _key_project_subsidy(key_project: bool, credit: bool, p: DecisionParameters,
                         cost_up: float) -> float:
    """Interest subsidy (million yuan, over the loan's term) a key project gets on its upgrade
    loan (§3.4); zero for other firms. (These helpers take the firm's flags, not its arrays:
    binding the arrays in a call costs more than the arithmetic, docs/performance.md.)"""
    if not _is_subsidised_project(key_project, credit, p):
        return 0.0
    loan = cost_up * _upgrade_loan_share(key_project, credit, p)
    return p.interest_subsidy_rate * p.loan_interest_rate * loan * p.loan_years


@jit
def win_chance(f: FirmArrays, i: int, titles: TitleTable, win_belief: np.ndarray,
               cutoff: np.ndarray, tier: int, capability: float) -> float:
    """Firm ``i``'s perceived chance that an application for ``tier`` wins, were its
    capability ``capability`` (docs/ODD.md §7.7; :func:`win_chance_of` its ISO 9001 and
    output)."""
    return win_chance_of(f.iso9001[i], f.output[i], titles, win_belief, cutoff, tier,
                         capability)


@jit(inline=True)
def win_chance_of(iso9001: bool, output: float, titles: TitleTable, win_belief: np.ndarray,
                  cutoff: np.ndarray, tier: int, capability: float) -> float:
    """A firm's perceived chance that an application for ``tier`` wins, were its capability
    ``capability``, given whether it holds ISO 9001 and its ``output``. ``city_rate``: the
    city-wide belief ``win_belief[tier]``. ``own_score``: the chance that its judging score,
    ``capability + certification_bonus * ISO 9001 + size_bonus * log10(output)`` plus
    ``judging_noise`` times a standard normal, beats the tier's last winning cut-off
    ``cutoff[tier]``; the city-wide belief while no cut-off has been seen (NaN)."""
    if not titles.own_score or np.isnan(cutoff[tier]):
        return win_belief[tier]
    score = (capability + titles.certification_bonus * iso9001
             + titles.size_bonus * np.log10(max(output, MIN_OUTPUT_FOR_LOG)))
    gap = score - cutoff[tier]
    spread = titles.judging_noise * math.sqrt(2.0)
    if spread <= 0.0:  # no judging noise: the cut-off decides
        return 1.0 if gap > 0.0 else 0.0
    return math.erfc(-gap / spread) / 2.0  # the normal distribution function


@jit(inline=True)
def investment_utilities(f: FirmArrays, i: int, p: DecisionParameters, titles: TitleTable,
                         imitation_intl: float, imitation_iso: float, win_belief: np.ndarray,
                         cutoff: np.ndarray, cod_coefficients: np.ndarray, title: float,
                         util: np.ndarray) -> None:
    """Each investment's net payoff for reviewing firm ``i`` in logit units into ``util``
    (``-inf``: not open to it; column 0, not investing, is 0).

    Costs are paid from cash now except the share a firm with credit borrows; an option whose
    own share the firm cannot pay is closed. ``imitation_*``: the pull of the firm's sector;
    ``win_belief``, ``cutoff``: per tier, what :func:`win_chance` reads; ``title``: the firm's
    yearly title prospect (:func:`title_gain`), which the grade it keeps guards.
    """
    # the firm's state, read before any branch: arrays read inside the branches below keep
    # the whole record referenced across them, which costs more than the arithmetic (jit.py)
    output, cash, credit, key_project = f.output[i], f.cash[i], f.credit[i], f.key_project[i]
    capability, margin, belief = f.capability[i], f.margin[i], f.belief[i]
    intl_std, iso9001, ccc_required, ccc = f.intl_std[i], f.iso9001[i], f.ccc_required[i], f.ccc[i]
    size, sector, tier, applying = f.size[i], f.sector[i], f.tier[i], f.applying[i]
    discharge_ratio, national_failed = f.discharge_ratio[i], f.file_national_failed[i]
    discharge_limit, grade = f.discharge_limit[i], f.grade[i]
    inspection_failed = f.file_inspection_failed[i]
    out = max(output, MIN_OUTPUT)
    unit = p.logit_scale * out
    H = p.horizon_years
    own = 1.0 - _loan_share(credit, p)  # share of a cost paid from cash now
    util[:] = -np.inf
    util[NOTHING] = 0.0

    # a quality upgrade (§3.4), with a key project's interest subsidy over the loan's term
    cost_up = p.upgrade_cost * out
    if cash >= (1.0 - _upgrade_loan_share(key_project, credit, p)) * cost_up:
        util[UPGRADE] = (p.quality_premium * p.upgrade_gain * out * H - cost_up
                         + _key_project_subsidy(key_project, credit, p, cost_up)
                         + upgrade_grade_value(grade, capability, belief, output, tier,
                                               margin, credit, title, p)
                         ) / unit  # the grade kept (§3.3)

    # international standards (§2.2.1b), with a pull towards what the sector does
    cost_intl = p.intl_cost * out
    if not intl_std and capability >= p.intl_min_capability and cash >= own * cost_intl:
        util[INTL] = (p.intl_premium * out * H - cost_intl) / unit + imitation_intl

    # certification (§3.3): a missing CCC avoids a sure failure when inspected (what it costs
    # on the firm's step of the sanctions, and the grade it would lose); else ISO 9001
    needs_ccc = ccc_required and not ccc
    cost_cert = p.certification_cost_million[size]
    if (needs_ccc or not iso9001) and cash >= cost_cert:
        if needs_ccc:
            benefit = belief * failure_cost(inspection_failed, margin, output, grade, tier,
                                            credit, title, p) * H
            util[CERTIFY] = (benefit - cost_cert) / unit
        else:
            benefit = p.iso_premium * out * H
            util[CERTIFY] = (benefit - cost_cert) / unit + imitation_iso

    # COD abatement (§2.2.4): a treatment plant (lumpy: a share of output, a share of the
    # discharge) saves fees; over the limit, the product inspection's fine is avoided, and if
    # the plant brings the source within its limit the review's sanctions are: fines at each
    # renewed deadline order, or closure when permits are refused (§3.3)
    load = output * cod_coefficients[sector]
    cut = discharge_ratio * p.abatement_fraction * load
    gain = p.discharge_fee_yuan_per_tonne * cut / YUAN_PER_MILLION * H
    if discharge_ratio > discharge_limit:
        gain += belief * p.discharge_fine_million * H
        if discharge_ratio * (1.0 - p.abatement_fraction) <= discharge_limit:
            if p.refuse_over_limit:
                gain += max(margin, 0.0) * out * H
            else:
                fee_owed = p.discharge_fee_yuan_per_tonne * discharge_ratio * load
                gain += (p.fines_per_year * p.fine_fee_multiple * fee_owed / YUAN_PER_MILLION
                         * H)
    cost_ab = p.abatement_cost * out
    if cash >= own * cost_ab:
        util[ABATE] = (gain - cost_ab) / unit

    # an application for the next title (§3.1, §4.2), valued at the perceived win chance,
    # while that title holds award rounds (awards.closed_years)
    if tier < TOP_TIER and titles.open_round[tier + 1]:
        nxt = tier + 1
        # the rewards, the brand premium and, for a first title, the procurement preference
        prize = title_prize(tier, grade, margin, out, titles, p)
        value = win_chance_of(iso9001, output, titles, win_belief, cutoff, nxt,
                              capability) * prize
        cost = titles.application_cost_million[nxt]
        # the title's conditions other than capability: ISO 9001 where required, no failed
        # national spot check in the quality file's recent months and a published grade no
        # worse than the title's (government.title_eligible)
        iso_ok = ((iso9001 or not titles.iso_required[nxt])
                  and (national_failed & titles.clean_record_mask) == 0
                  and grade <= titles.max_grade)  # a file in good standing (§3.3)
        eligible = capability >= titles.min_capability[nxt] and iso_ok
        if applying == 0 and eligible and cash >= cost:
            util[APPLY] = (value - cost) / unit
        # an upgrade is worth what it adds to the title's prospect (the brand pipeline, §3.1:
        # "mature a batch, recommend a batch"): the prospect after it (if it makes the firm
        # eligible) less the prospect now (if the firm is eligible now). Under city_rate only
        # an upgrade that makes the firm eligible adds anything.
        after = capability + p.upgrade_gain
        if util[UPGRADE] > -np.inf and iso_ok and titles.min_capability[nxt] <= after:
            chance = win_chance_of(iso9001, output, titles, win_belief, cutoff, nxt, after)
            gain = max(chance * prize - cost, 0.0)
            if eligible:
                gain -= max(value - cost, 0.0)
            util[UPGRADE] += gain / unit


@jit(inline=True)
def _borrow_and_pay(cash: np.ndarray, debt_monthly: np.ndarray, debt_months_left: np.ndarray,
                    i: int, p: DecisionParameters, cost: float, share: float) -> None:
    """Pay the own share now; the loan ``share``, with simple interest, is repaid monthly over
    ``loan_years``. What is still owed on a running loan is folded into the new schedule, so
    the total repaid is exact."""
    debt = cost * share
    cash[i] -= cost - debt
    months = p.loan_years * MONTHS_PER_YEAR
    owed = (debt_monthly[i] * debt_months_left[i]
            + debt * (1.0 + p.loan_interest_rate * p.loan_years))
    if owed > 0:
        debt_monthly[i] = owed / months
        debt_months_left[i] = int(months)


@jit(inline=True)
def _carry_out(f: FirmArrays, i: int, choice: int, p: DecisionParameters, titles: TitleTable,
               u_misuse: float, u_substantive: float) -> bool:
    """The chosen option's effects and payments for firm ``i``; returns whether it took a
    subsidised key-project loan."""
    # the arrays written and the state read, before any branch (see investment_utilities)
    cash, debt_monthly, debt_months_left = f.cash, f.debt_monthly, f.debt_months_left
    capability, margin, key_project = f.capability, f.margin, f.key_project
    subsidy_monthly, subsidy_months_left = f.subsidy_monthly, f.subsidy_months_left
    intl_std, iso9001, ccc, file_certified = f.intl_std, f.iso9001, f.ccc, f.file_certified
    discharge_ratio, applying = f.discharge_ratio, f.applying
    out, credit, size, tier = max(f.output[i], MIN_OUTPUT), f.credit[i], f.size[i], f.tier[i]
    ccc_required = f.ccc_required[i]
    subsidised = False
    if choice == UPGRADE:
        cost_up = p.upgrade_cost * out
        subsidy = _key_project_subsidy(key_project[i], credit, p, cost_up)
        share = _upgrade_loan_share(key_project[i], credit, p)
        _borrow_and_pay(cash, debt_monthly, debt_months_left, i, p, cost_up, share)
        gain = p.upgrade_gain
        # §3.4: additionality uncertain, misuse possible
        if _is_subsidised_project(key_project[i], credit, p):
            subsidised = True
            if u_misuse >= p.subsidy_misuse:  # a diverted subsidy adds nothing to the upgrade
                extra = subsidy / cost_up if cost_up > 0 else 0.0
                gain = max(0.0, p.upgrade_gain * (1.0 + p.subsidy_additionality * extra))
            yearly_yuan = (p.interest_subsidy_rate * p.loan_interest_rate
                           * cost_up * share * YUAN_PER_MILLION)
            subsidy_monthly[i] = yearly_yuan / MONTHS_PER_YEAR
            subsidy_months_left[i] = int(p.loan_years * MONTHS_PER_YEAR)
            debt_monthly[i] -= yearly_yuan / MONTHS_PER_YEAR / YUAN_PER_MILLION
            key_project[i] = False  # one subsidised project per selection
        capability[i] += gain
        # the quality premium the upgrade was chosen for is earned: the margin rises by it
        margin[i] += p.quality_premium * gain
    elif choice == INTL:
        _borrow_and_pay(cash, debt_monthly, debt_months_left, i, p, p.intl_cost * out,
                        _loan_share(credit, p))
        intl_std[i] = True
    elif choice == CERTIFY:
        cash[i] -= p.certification_cost_million[size]
        file_certified[i] |= np.uint64(1)  # the quality file (engine/quality_file.py)
        if ccc_required and not ccc[i]:
            ccc[i] = True
        else:
            iso9001[i] = True
            if u_substantive < p.iso_substantive_share:  # otherwise symbolic
                capability[i] += p.iso_gain
    elif choice == ABATE:
        _borrow_and_pay(cash, debt_monthly, debt_months_left, i, p, p.abatement_cost * out,
                        _loan_share(credit, p))
        discharge_ratio[i] *= 1.0 - p.abatement_fraction
    elif choice == APPLY:
        nxt = tier + 1
        applying[i] = nxt
        cash[i] -= titles.application_cost_million[nxt]
    return subsidised


@jit(inline=True)
def affordable(f: FirmArrays, i: int, option: int, p: DecisionParameters,
               titles: TitleTable) -> bool:
    """Whether firm ``i`` can pay its own share of ``option`` from its cash now."""
    # read before any branch (see investment_utilities)
    out, cash, credit = max(f.output[i], MIN_OUTPUT), f.cash[i], f.credit[i]
    key_project, size, tier = f.key_project[i], f.size[i], f.tier[i]
    own = 1.0 - _loan_share(credit, p)
    if option == UPGRADE:
        share = _upgrade_loan_share(key_project, credit, p)
        return cash >= (1.0 - share) * p.upgrade_cost * out
    if option == INTL:
        return cash >= own * p.intl_cost * out
    if option == CERTIFY:
        return cash >= p.certification_cost_million[size]
    if option == ABATE:
        return cash >= own * p.abatement_cost * out
    return cash >= titles.application_cost_million[tier + 1]


@jit
def by_value(util: np.ndarray, order: np.ndarray) -> None:
    """The investments (1 ..) into ``order``, the highest net payoff first (ties in
    ``OPTIONS`` order)."""
    n = 0
    for o in range(1, util.shape[0]):
        k = n
        while k > 0 and util[order[k - 1]] < util[o]:  # stable: equal ones keep their order
            order[k] = order[k - 1]
            k -= 1
        order[k] = o
        n += 1


@jit
def decide(reviewers: np.ndarray, f: FirmArrays, p: DecisionParameters, titles: TitleTable,
           imitation_intl: np.ndarray, imitation_iso: np.ndarray, win_belief: np.ndarray,
           cutoff: np.ndarray, cod_coefficients: np.ndarray, u: np.ndarray, adopt: np.ndarray,
           abatement_only: np.ndarray, invested: np.ndarray, subsidised: np.ndarray,
           counts: np.ndarray, utilities: np.ndarray) -> None:
    """One month of decisions of the ``reviewers`` (slots), firm by firm.

    ``u``: (3, reviewers) uniforms for the counterfeit draw, subsidy misuse and whether ISO
    9001 is substantive; ``adopt``: (investments, reviewers) uniforms, investment ``k`` being
    chosen when its uniform is below the logistic of its net payoff; ``imitation_*``: the
    pull of each reviewer's sector; ``abatement_only``: per reviewer, whether it reviews only
    because a deadline-treatment order is open, when it reconsiders abatement alone (no
    counterfeit draw, no other investment). The chosen investments are carried out the most
    valuable first while the firm can pay its own share. Writes ``invested`` (bit mask) and
    ``subsidised`` per slot, the net payoffs per reviewer, and counts the firms (agents'
    weights) in the order of :data:`COUNTS`. :func:`choose` passes the records' small arrays,
    ``win_belief``, ``cutoff`` and ``cod_coefficients`` as tuples (``parameters.as_numbers``).
    """
    order = np.empty(utilities.shape[1] - 1, dtype=np.int64)
    counterfeit, weight, tier = f.counterfeit, f.weight, f.tier  # read once (engine/jit.py)
    discharge_ratio, output, sector = f.discharge_ratio, f.output, f.sector
    capability, iso9001, national_failed = f.capability, f.iso9001, f.file_national_failed
    grade, margin = f.grade, f.margin
    for j in range(reviewers.shape[0]):
        i = reviewers[j]
        # the yearly title prospect the grade guards, once for both choices (they see the
        # same state: the counterfeit draw changes none of what it reads)
        title = title_gain(tier[i], capability[i], iso9001[i], national_failed[i], output[i],
                           grade[i], margin[i], titles, win_belief, cutoff, p)
        if not abatement_only[j]:
            counterfeit[i] = u[0, j] < _logistic(counterfeit_utility_of(f, i, p, title))
        util = utilities[j]
        investment_utilities(f, i, p, titles, imitation_intl[j], imitation_iso[j], win_belief,
                             cutoff, cod_coefficients, title, util)
        if abatement_only[j]:
            for o in range(1, util.shape[0]):
                if o != ABATE:
                    util[o] = -np.inf
        by_value(util, order)
        mask = 0
        for o in order:
            if (util[o] == -np.inf or adopt[o - 1, j] >= _logistic(util[o])
                    or not affordable(f, i, o, p, titles)):
                continue
            mask |= 1 << (o - 1)
            if o == CERTIFY:
                counts[0] += weight[i]
            elif o == APPLY:
                counts[tier[i] + 1] += weight[i]
            elif o == UPGRADE:
                counts[TOP_TIER + 1] += weight[i]
            elif o == INTL:
                counts[TOP_TIER + 2] += weight[i]
            else:  # an abatement: its firms, and the COD a year it removes (t)
                counts[TOP_TIER + 3] += weight[i]
                counts[TOP_TIER + 4] += (weight[i] * discharge_ratio[i] * p.abatement_fraction
                                         * output[i] * cod_coefficients[sector[i]])
            if _carry_out(f, i, o, p, titles, u[1, j], u[2, j]):
                subsidised[i] = True
        invested[i] = mask


@jit
def investments_made(among: np.ndarray, invested: np.ndarray, weight: np.ndarray,
                     bits: np.ndarray, out: np.ndarray) -> None:
    """Adds to ``out[k]`` the firms (agents' weights) of the slots ``among`` picks (a bool per
    slot) whose investments this month (``Decisions.invested``, -1 for firms that did not
    review) include bit ``bits[k]`` (``INVESTMENTS``). Weights are whole numbers, so the sums
    are exact in any order."""
    for i in range(among.shape[0]):
        if among[i] and invested[i] > 0:
            for k in range(bits.shape[0]):
                if (invested[i] >> bits[k]) & 1 == 1:
                    out[k] += weight[i]


def sector_pull(flag: np.ndarray, pop: Population, n_sectors: int,
                slots: np.ndarray) -> np.ndarray:
    """For each of ``slots``, the share of the city's live firms in its sector with ``flag``
    (what a firm sees of its sector, for imitation)."""
    total, have = np.zeros(n_sectors), np.zeros(n_sectors)
    _sector_firms(pop.sector, pop.weight, pop.alive, flag, total, have)
    share = np.divide(have, total, out=np.zeros(n_sectors), where=total > 0)
    return share[pop.sector[slots]]


@jit
def _sector_firms(sector: np.ndarray, weight: np.ndarray, alive: np.ndarray, flag: np.ndarray,
                  total: np.ndarray, have: np.ndarray) -> None:
    """Adds each live firm's weight to ``total`` of its sector, and to ``have`` if it has
    ``flag`` (in slot order, as ``np.bincount`` of the live firms would)."""
    for i in range(sector.shape[0]):
        if alive[i]:
            total[sector[i]] += weight[i]
            if flag[i]:
                have[sector[i]] += weight[i]


# the rows of a month's decision draws: then one uniform per investment (DRAWS + INVESTMENTS)
DRAWS = ("review", "counterfeit", "misuse", "substantive")


def _cod_numbers(cod_coefficient) -> tuple:
    """``sector_cod_coefficients`` (from the scenario's ``environment.cod_coefficient``) as
    numbers for :func:`decide`, made once per scenario (:func:`~.parameters.once`)."""
    return as_numbers(np.array([getattr(cod_coefficient, s) for s in SECTORS]))


def choose(pop: Population, sc: Scenario, lv: Levers, p: DecisionParameters,
           titles: TitleTable, win_belief: np.ndarray, uniforms, n_sectors: int,
           cutoff: np.ndarray | None = None) -> Decisions:
    """One month of decisions. ``uniforms(rows, slots)``: each slot's draws (rows as
    ``DRAWS``, then one uniform per investment, in ``OPTIONS[1:]`` order; the model's are
    :func:`~simcity_quality.engine.rng.derived_rows` of the month's key); ``win_belief``: the
    perceived chance of winning per tier (index 0 unused); ``cutoff``: each tier's last
    winning cut-off (NaN, or None for all: none seen), read under ``own_score``. An agent of
    weight ``w`` decides for its ``w`` identical firms at once.

    Only reviewing firms are computed. Which slots review depends on their review draw alone
    (a source under a deadline-treatment order also reconsiders abatement, and only it, every
    month), never on a lever, and a slot's draws depend only on (key, slot), so the noise each
    firm draws stays the same across scenarios (common random numbers).
    """
    alive = np.flatnonzero(pop.alive)
    routine = uniforms(1, alive)[0] < p.decision_rate
    # a source under a deadline-treatment order (§3.3) reconsiders abatement every month
    under_order = pop.deadline[alive] >= 0
    reviewers = alive[routine | under_order]
    abatement_only = ~routine[routine | under_order]
    draws = uniforms(len(DRAWS) + len(INVESTMENTS), reviewers)
    w = p.imitation_weight
    pull_intl = w * sector_pull(pop.intl_std, pop, n_sectors, reviewers)
    pull_iso = w * sector_pull(pop.iso9001, pop, n_sectors, reviewers)
    invested = np.full(pop.n_slots, -1, dtype=np.int8)
    invested[reviewers] = 0
    subsidised = np.zeros(pop.n_slots, dtype=bool)
    counts = np.zeros(len(COUNTS))
    utilities = np.empty((reviewers.size, len(OPTIONS)))
    if cutoff is None:
        cutoff = np.full(win_belief.shape[0], np.nan)
    decide(reviewers, pop.arrays(), as_numbers(p), as_numbers(titles), pull_intl, pull_iso,
           as_numbers(np.asarray(win_belief, dtype=np.float64)),
           as_numbers(np.asarray(cutoff, dtype=np.float64)),
           once(sc.environment.cod_coefficient, _cod_numbers),
           np.ascontiguousarray(draws[1:len(DRAWS)]), np.ascontiguousarray(draws[len(DRAWS):]),
           abatement_only, invested, subsidised, counts, utilities)
    return Decisions(invested, subsidised, reviewers, utilities,
                     dict(zip(COUNTS, counts.tolist(), strict=True)))
