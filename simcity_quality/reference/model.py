"""A reference version of the city model, written the way a Mesa tutorial would write it.

:class:`ReferenceCityModel` implements the same rules as the fast engine
(:class:`~simcity_quality.engine.model.QualityCityModel`), but with one ``mesa.Agent`` per
industrial :class:`Enterprise`, per construction :class:`Contractor` and per
:class:`ServiceFirm`, each carrying its state as plain attributes and acting through readable
methods. The government's mechanisms are methods of the model. It exists to check the engine:
the two must agree *in distribution* (they do not share random numbers), and it reads as the
specification of firm behaviour. Each method names the plan section it models (plan:
``docs/plan/quality_city_plan.en.md``) and the engine function it mirrors.

It deliberately does not call the engine's ``behaviour``, ``government``, ``construction``,
``services`` or ``population`` functions (that would make the check circular). It reuses only
definitions: the scenario, the KPI functions of :mod:`kpis`, the :class:`~ledger.Ledger`, the
targets and the category constants.

**Synchronous updating.** The engine updates whole arrays phase by phase, so in every phase each
firm acts on the state the previous phase left, and whatever a phase needs to know about *other*
firms (sector shares for imitation, the mean national sampling weight, belief anchors, award
rankings) is measured before any firm acts. This model does the same: such population-level
quantities are computed by the model before ``shuffle_do`` runs the phase, and a firm's own action
touches only its own state, so the shuffled activation order does not matter.

**Order within a month** (as ``QualityCityModel.step``): standards and key projects (January) ->
campaign -> firm decisions -> production -> national spot checks -> city inspections -> review of
discharge sources -> beliefs -> titles
reviewed -> award round (December) -> interest subsidies -> exit and entry -> construction ->
services -> measurement.

Usage::

    sc = load_scenario("scenarios/the_plan.toml")
    m = ReferenceCityModel(sc.override({"city.firms": 1000}), seed=1)
    m.run_model()
    m.datacollector.get_model_vars_dataframe()
"""

import heapq
import math
from statistics import NormalDist
from types import SimpleNamespace
from typing import NamedTuple

import mesa
import numpy as np
from mesa.agent import AgentSet

from ..categories import (
    EFFORTS,
    EXCELLENT,
    FAIL,
    FILE_FIELDS,
    FILE_MONTHS,
    GRADES,
    HIDDEN,
    KEY_INDUSTRIES,
    SECTORS,
    SERVICE_SECTORS,
    SIZES,
    TIERS,
    WORK_OUTCOMES,
)
from ..engine import kpis
from ..engine.columns import CUMULATIVE, REPORTED, TARGET_KPIS
from ..engine.ledger import REWARD_LINE_BY_TIER, Ledger
from ..engine.shared import (
    DAYS_PER_YEAR,
    KG_PER_TONNE,
    MONTHS_PER_YEAR,
    YUAN_PER_MILLION,
    interest_subsidy_yuan,
    median_discharge_ratio,
    reward_amounts,
    round_half_up,
    standard_limit,
    stochastic_round,
)
from ..scenario import Levers, Scenario

GRADE_A, GRADE_B, GRADE_C, GRADE_D = range(len(GRADES))  # the quality file's grades (§3.3)
GRADE_CODE = {g: i for i, g in enumerate(GRADES)}  # a grade's name -> its code
KEY_SECTORS = frozenset(SECTORS.index(s) for s in KEY_INDUSTRIES)
FILE_WORD = (1 << FILE_MONTHS) - 1  # a quality-file word keeps FILE_MONTHS months
FOOD = SECTORS.index("food_farm_processing")
# sectors the national spot checks sample more often (key industries and food)
PRONE_SECTORS = KEY_SECTORS | {FOOD}
CUT_CORNERS = EFFORTS.index("cut_corners")


def logistic(x: float) -> float:
    """1 / (1 + e^-x), without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def gumbel(rnd) -> float:
    """A standard Gumbel draw (taste shock of a multinomial logit)."""
    return -math.log(rnd.expovariate(1.0))


def by_size(group) -> list[float]:
    """A per-size-class parameter table as a list indexed by size code."""
    return [float(getattr(group, s)) for s in SIZES]


def by_tier(group) -> list[float]:
    """A per-tier parameter table as a list indexed by tier 0..3 (tier 0 holds 0)."""
    return [0.0, *(float(getattr(group, t)) for t in TIERS[1:])]


def top_k(agents: list, score, k: int) -> list:
    """The ``k`` agents with the highest score (all of them if there are fewer)."""
    if k <= 0:
        return []
    return sorted(agents, key=score, reverse=True)[:k]


MIN_OUTPUT = 1e-9  # million yuan: keeps payoffs per unit of output finite for an empty firm
MIN_OUTPUT_FOR_LOG = 1e-6  # million yuan: log10 of an empty firm's output stays finite
OPTIONS = ("nothing", "upgrade", "intl_standard", "certify", "abate", "apply_title")
INVESTMENTS = OPTIONS[1:]  # each decided on its own by a binary logit


class DecisionDraws(NamedTuple):
    """The random numbers of one firm's monthly decision (``Enterprise.decide``)."""

    review: float  # reviews if below decision_rate
    counterfeit: float  # counterfeits if below the logit probability
    misuse: float  # a subsidised project is misused if below subsidy_misuse
    substantive: float  # an ISO 9001 certificate is substantive if below iso_substantive_share
    adopt: tuple  # one uniform per investment (OPTIONS[1:] order): made if below its chance


class Review(NamedTuple):
    """What one review found, for carrying out its chosen investments (``Enterprise.decide``):
    each investment's full cost (million yuan), the shares borrowed, the key-project subsidy,
    whether a CCC is missing and the next title."""

    cost: dict
    loan_share: float
    upgrade_loan: float  # a key project's loan share when selection brings the loan
    subsidised: bool
    subsidy: float
    needs_ccc: bool
    nxt: int


class WorkDraws(NamedTuple):
    """One contractor's completed works of a month, counted by outcome (WORK_OUTCOMES)."""

    other: tuple  # works other than large and medium projects (the §2.2.2 targets' scope)
    large: tuple  # large and medium projects
    supervised: int  # works the supervision station followed


class InspectionDraws(NamedTuple):
    """The random numbers of one city inspection (``Enterprise.undergo_inspection``)."""

    detection: float  # a counterfeit is found if below detection_probability
    product_test: float  # the product fails if at or above its pass probability
    revocation: float  # the licence is revoked (counterfeit found) if below the probability
    referral: float  # referred to the judiciary (counterfeit found) if below the probability


# =============================================================================================
# agents


class Enterprise(mesa.Agent):
    """An industrial enterprise (docs/ODD.md, enterprise state). Money in million yuan.

    Attributes are those of ``population.Population``, one value each: ``sector``, ``size``
    (codes into SECTORS, SIZES), ``output`` (a year), ``margin``, ``cash``, ``credit``,
    ``capability`` (logit of the pass probability), ``intl_std``, ``iso9001``, ``ccc_required``,
    ``ccc``, ``tier`` (award title 0..3), ``applying``, ``discharge_ratio``, ``counterfeit``,
    ``moral_cost``, ``watched`` and ``clean_count`` (the quality file), ``belief`` (subjective
    chance of a city inspection within a year), ``problem_until``, ``key_project``,
    ``subsidy_monthly`` (yuan), ``subsidy_months_left``, ``debt_monthly``, ``debt_months_left``,
    and the quality file ``file_<event>`` (an int whose bit k is set if the event happened k
    months ago; ``engine/quality_file.py``).
    """

    def __init__(self, model: "ReferenceCityModel", attrs: dict, belief: float):
        super().__init__(model)
        self.title_expires = -1  # month index at which the title is re-examined (§7.7)
        self.deadline = -1  # month a deadline-treatment order falls due (§3.3); -1: none
        self.__dict__.update(attrs)
        self.applying = 0
        self.counterfeit = False
        self.watched = False
        self.clean_count = 0
        self.grade = GRADE_A if self.iso9001 else GRADE_B  # an empty file (§3.3)
        self.belief = belief
        self.problem_until = -1
        self.key_project = False
        self.subsidy_monthly = 0.0
        self.subsidy_months_left = 0
        self.debt_monthly = 0.0
        self.debt_months_left = 0
        for name in FILE_FIELDS:
            setattr(self, name, 0)
        # this month's inspection outcome, read by the belief update and the exit step
        self.inspected_in = -1
        self.licence_revoked = False
        self.closed = False

    # -- state the government sees ---------------------------------------------------------
    def pass_probability(self) -> float:
        """Chance a product batch passes a test: logistic of capability, cut for a
        counterfeiter (``kpis.pass_probability``, ODD §7.1)."""
        p = logistic(self.capability)
        return p * self.model.p.counterfeit_pass_factor if self.counterfeit else p

    def pollution_load(self) -> float:
        """COD (t/yr) the firm would discharge exactly at its standard (§2.2.4)."""
        return self.output * self.model.p.cod_coefficient[self.sector]

    # -- §4.4: counterfeit or not ----------------------------------------------------------
    def perceived_penalty(self, lv: Levers) -> float:
        """Expected yearly cost (million yuan) of counterfeiting under the firm's *own* belief
        of being inspected: the fine capped by its cash, the chance of losing its licence and
        its value with it, and a criminal referral (``behaviour.perceived_penalty``)."""
        p, insp = self.model.p, lv.inspection
        firm_value = max(self.margin, 0.0) * self.output * p.horizon_years
        if insp.sanctions == "ladder":  # arts. 49-50: a multiple of the goods' value, named
            goods = insp.goods_value_share * max(self.output, 0.0)
            fine = (min(insp.counterfeit_goods_multiple * goods, max(self.cash, 0.0))
                    + p.notice_sales_loss * max(self.output, 0.0))
        else:
            fine = min(insp.fine_yuan * insp.counterfeit_fine_multiplier / YUAN_PER_MILLION,
                       max(self.cash, 0.0))
        loss_if_caught = (fine + insp.revocation_probability * firm_value
                          + insp.criminal_referral_probability * p.criminal_cost_yuan
                          / YUAN_PER_MILLION)
        return self.belief * insp.detection_probability * loss_if_caught

    def preferred_sales_gain(self, lv: Levers) -> float:
        """What the §3.1 preference adds to this firm's profit a year while it is preferred, a
        share of its output: its margin on the extra government sales and the price premium
        on all of them (``finance.preferred_sales_gain``); production, the grade's value and
        an application all read it here."""
        pref = lv.procurement.preference_share
        p = self.model.p
        extra_sales = pref * p.government_purchase_share * p.procurement_sales_gain
        premium = self.model.procurement_premium_rate(lv)
        return extra_sales * max(self.margin, 0.0) + premium

    def procurement_gain(self, lv: Levers) -> float:
        """What the §3.1 preference earns this firm a year as a title holder; zero without a
        title (``behaviour.procurement_gain``)."""
        return 0.0 if self.tier == 0 else self.preferred_sales_gain(lv)

    def title_gain(self, lv: Levers, year: int | None) -> float:
        """What competing for its next title is worth to the firm a year while its grade is
        no worse than ``awards.max_grade``, a share of its output (``behaviour.title_gain``;
        ODD §7.5): one year's application, the win chance times the prize less the
        application's cost (at least zero), as its application weighs them, judged at its
        capability, or after one upgrade if it is that far short; zero at the top tier, in a
        year without the tier's round, without ISO 9001 where required or with a failed
        national spot check on record. ``year``: the round's year (None: no prospect)."""
        nxt = self.tier + 1
        if year is None or nxt >= len(TIERS) or not self.model.round_open(nxt, year):
            return 0.0
        if not self.meets_record_conditions(nxt):
            return 0.0
        p = self.model.p
        capability = self.capability
        if capability < p.min_capability[nxt]:  # the prospect through one more upgrade
            capability += p.upgrade_gain
            if capability < p.min_capability[nxt]:
                return 0.0
        out = max(self.output, MIN_OUTPUT)
        cost = p.application_cost_yuan[nxt] / YUAN_PER_MILLION
        chance = self.win_chance(nxt, capability)
        return max(chance * self.title_prize(lv, year, nxt) - cost, 0.0) / out

    def key_project_gain(self, lv: Levers) -> float:
        """What the chance of a key project is worth to the firm a year while its grade is no
        worse than ``subsidy.max_grade``, a share of its output (``behaviour.key_project_gain``;
        ODD §7.5): the learnt selection rate times the interest subsidy on a key project's
        upgrade loan; zero if it could not carry one (no credit, and no loan with
        selection)."""
        s, p = lv.subsidy, self.model.p
        if not (self.credit or s.key_project_loan):
            return 0.0
        subsidy = (interest_subsidy_yuan(p.upgrade_cost * s.loan_share, lv) / YUAN_PER_MILLION
                   * s.loan_years)
        return self.model.key_project_rate * subsidy

    def grade_loss(self, lv: Levers, worse: int, year: int | None = None) -> float:
        """The present value (share of a year's output) the firm loses by moving from its
        grade to ``worse``: the learnt value of the sales lost, and each gate's yearly value
        times the learnt years the move adds beyond it: for a title holder the procurement
        preference (``procurement.max_grade``), the next title's prospect in ``year``
        (``awards.max_grade``; :meth:`title_gain`) and a key project's chance
        (``subsidy.max_grade``; :meth:`key_project_gain`) (``behaviour.grade_loss``). A gate
        the move adds no years beyond costs nothing, and its value is not worked out."""
        m, grade = self.model, self.grade
        loss = m.grade_value[worse] - m.grade_value[grade]
        added = m.years_unpreferred[worse] - m.years_unpreferred[grade]
        if added:
            loss += self.procurement_gain(lv) * added
        added = m.years_untitled[worse] - m.years_untitled[grade]
        if added:
            loss += self.title_gain(lv, year) * added
        added = m.years_unsubsidised[worse] - m.years_unsubsidised[grade]
        if added:
            loss += self.key_project_gain(lv) * added
        return loss

    def grade_stake(self, lv: Levers, year: int | None = None) -> float:
        """Expected yearly cost (million yuan) of the grade D that counterfeiting found would
        give the firm, under its belief: what moving to D loses (:meth:`grade_loss`, the
        title prospect of ``year``), times its output (``behaviour.grade_stake_of``)."""
        return (self.belief * lv.inspection.detection_probability
                * self.grade_loss(lv, GRADE_D, year) * max(self.output, 0.0))

    def upgrade_grade_value(self, lv: Levers, year: int | None = None) -> float:
        """What an upgrade is worth through the grade over the horizon: the belief times the
        fall in the failure chance times what falling one grade loses (the title prospect of
        ``year``), times output and horizon (``behaviour.upgrade_grade_value``)."""
        p = self.model.p
        drop = self.grade_loss(lv, min(self.grade + 1, GRADE_D), year)
        safer = logistic(self.capability + p.upgrade_gain) - logistic(self.capability)
        return self.belief * safer * drop * max(self.output, 0.0) * p.horizon_years

    def failure_cost(self, lv: Levers, year: int | None = None) -> float:
        """What a failed inspection other than counterfeiting would cost the firm (million
        yuan; ``behaviour.failure_cost``): the flat fine, or on the ladder its next step's
        cost (nothing, a notice, a notice and a suspension, its value when revoked), and
        under both the loss of falling one grade (the title prospect of ``year``)."""
        insp, output = lv.inspection, max(self.output, 0.0)
        margin = max(self.margin, 0.0)
        cost = self.grade_loss(lv, min(self.grade + 1, GRADE_D), year) * output
        if insp.sanctions != "ladder":
            return cost + insp.fine_yuan / YUAN_PER_MILLION
        recent = self.file_inspection_failed & ((1 << insp.ladder_memory_months) - 1)
        step = recent.bit_count() + 1
        notice = self.model.p.notice_sales_loss * output
        if step == 2:
            cost += notice
        elif step == 3:
            cost += notice + margin * output * insp.suspension_months / MONTHS_PER_YEAR
        elif step >= 4:  # the licence revoked: the firm's value is lost
            cost += margin * output * self.model.p.horizon_years
        return cost

    def counterfeit_probability(self, lv: Levers, year: int | None = None) -> float:
        """Binary logit of shoddy or counterfeit production (§4.4;
        ``behaviour.counterfeit_probability``): the gain against the perceived penalty and the
        grade at stake (with the title prospect of ``year``), in logit units, less its moral
        cost."""
        p = self.model.p
        out = max(self.output, MIN_OUTPUT)
        utility = ((p.counterfeit_gain * out - self.perceived_penalty(lv)
                    - self.grade_stake(lv, year)) / (p.logit_scale * out))
        return logistic(utility - self.moral_cost)

    # -- the monthly decision (behaviour.choose) -------------------------------------------
    def decide(self, lv: Levers, year: int, draws: DecisionDraws | None = None) -> None:
        """One month's decision (``behaviour.choose``; ODD §7.2); ``draws``: its random
        numbers (default: from the model's generator).

        With chance ``decision_rate`` the firm reviews: it re-decides whether to counterfeit
        (§4.4), then decides on each investment by a binary logit of its net payoff over
        ``horizon_years``, in units of ``logit_scale`` of its output: a quality upgrade (§3.4,
        with the interest subsidy if it is a key project; its quality premium then raises the
        margin); international standards (§2.2.1b, imitating its sector); certification, a
        missing CCC or else ISO 9001 (§3.3); COD abatement (§2.2.4, fees, and fines and closure
        if over the limit); an application for the next award title (§3.1 brand pipeline, §4.2
        rewards, §3.1 procurement). The chosen ones are carried out the most valuable first
        while the firm can pay its own share of each (``behaviour.decide``).
        """
        model, p = self.model, self.model.p
        review = draws.review if draws is not None else model.random.random()
        # a source under a deadline-treatment order reconsiders abatement, and only it, monthly
        abatement_only = review >= p.decision_rate
        if abatement_only and self.deadline < 0:
            return
        if draws is None:
            rnd = model.random
            draws = DecisionDraws(review, rnd.random(), rnd.random(), rnd.random(),
                                  tuple([rnd.random() for _ in INVESTMENTS]))
        if not abatement_only:
            self.counterfeit = draws.counterfeit < self.counterfeit_probability(lv, year)
        reviews = not abatement_only  # weighs every investment, not abatement alone

        out = max(self.output, MIN_OUTPUT)
        unit = p.logit_scale * out
        H = p.horizon_years
        loan_share = lv.subsidy.loan_share if self.credit else 0.0
        own = 1.0 - loan_share  # share of a cost paid from cash now; the rest is a loan
        margin = max(self.margin, 0.0)
        utility = {"nothing": 0.0}

        # a quality upgrade (§3.4); a key project's interest subsidy counts over the loan, and
        # when selection brings the loan a key project borrows whatever its credit
        cost_up = p.upgrade_cost * out
        subsidised = self.key_project and (self.credit or lv.subsidy.key_project_loan)
        upgrade_loan = lv.subsidy.loan_share if subsidised else loan_share
        subsidy = (interest_subsidy_yuan(cost_up * upgrade_loan, lv) / YUAN_PER_MILLION
                   * lv.subsidy.loan_years
                   if subsidised else 0.0)
        if reviews and self.cash >= (1.0 - upgrade_loan) * cost_up:
            utility["upgrade"] = (p.quality_premium * p.upgrade_gain * out * H - cost_up
                                  + subsidy + self.upgrade_grade_value(lv, year)) / unit

        # international standards (§2.2.1b), with a pull towards what the sector does
        cost_intl = p.intl_cost * out
        if (reviews and not self.intl_std and self.capability >= p.intl_min_capability
                and self.cash >= own * cost_intl):
            utility["intl_standard"] = ((p.intl_premium * out * H - cost_intl) / unit
                                        + p.imitation_weight * model.intl_share[self.sector])

        # certification (§3.3): a missing CCC avoids a sure failure; else ISO 9001
        needs_ccc = self.ccc_required and not self.ccc
        cost_cert = p.iso_cost_yuan[self.size] / YUAN_PER_MILLION
        if reviews and (needs_ccc or not self.iso9001) and self.cash >= cost_cert:
            if needs_ccc:
                benefit = self.belief * self.failure_cost(lv, year) * H
                imitation = 0.0
            else:
                benefit = p.iso_premium * out * H
                imitation = p.imitation_weight * model.iso_share[self.sector]
            utility["certify"] = (benefit - cost_cert) / unit + imitation

        # COD abatement (§2.2.4): a treatment plant saves fees; over the limit it avoids the
        # product inspection's fine, and if it brings the source within its limit, the review's
        # sanctions: closure under permit refusal, else a fine at each renewed order (§3.3)
        load = self.pollution_load()
        cut = self.discharge_ratio * p.abatement_fraction * load
        gain = p.discharge_fee_yuan_per_tonne * cut / YUAN_PER_MILLION * H
        if self.discharge_ratio > self.discharge_limit:
            gain += self.belief * lv.inspection.discharge_fine_yuan / YUAN_PER_MILLION * H
            if self.discharge_ratio * (1.0 - p.abatement_fraction) <= self.discharge_limit:
                if lv.permits.refuse_over_limit:
                    gain += margin * out * H
                else:
                    fee_owed = p.discharge_fee_yuan_per_tonne * self.discharge_ratio * load
                    fines_per_year = MONTHS_PER_YEAR / p.deadline_months
                    gain += (fines_per_year * p.fine_fee_multiple * fee_owed / YUAN_PER_MILLION
                             * H)
        cost_ab = p.abatement_cost * out
        if self.cash >= own * cost_ab:
            utility["abate"] = (gain - cost_ab) / unit

        # an application for the next title (§3.1, §4.2), valued at the perceived win chance
        nxt = self.tier + 1
        cost_apply = 0.0
        if reviews and self.tier < len(TIERS) - 1 and model.round_open(nxt, year):
            prize = self.title_prize(lv, year, nxt)
            value = self.win_chance(nxt, self.capability) * prize
            cost_apply = p.application_cost_yuan[nxt] / YUAN_PER_MILLION
            iso_ok = self.meets_other_conditions(nxt)
            eligible = self.capability >= p.min_capability[nxt] and iso_ok
            if self.applying == 0 and eligible and self.cash >= cost_apply:
                utility["apply_title"] = (value - cost_apply) / unit
            # an upgrade is worth what it adds to the title's prospect (the brand pipeline,
            # §3.1: "mature a batch, recommend a batch"): the prospect once upgraded, if that
            # makes the firm eligible, less the prospect now, if it is eligible now
            upgraded = self.capability + p.upgrade_gain
            if "upgrade" in utility and iso_ok and p.min_capability[nxt] <= upgraded:
                gain = max(0.0, self.win_chance(nxt, upgraded) * prize - cost_apply)
                if eligible:
                    gain -= max(0.0, value - cost_apply)
                utility["upgrade"] += gain / unit

        # a binary logit for each investment; the chosen ones, the most valuable first (equal
        # ones in OPTIONS order), while the firm can pay its own share of each
        self.last_utilities = utility  # for tests and followers
        chosen = [o for o, u in zip(INVESTMENTS, draws.adopt, strict=False) if o in utility
                  and u < logistic(utility[o])]
        chosen.sort(key=lambda o: -utility[o])
        review = Review(
            cost={"upgrade": cost_up, "intl_standard": cost_intl, "certify": cost_cert,
                  "abate": cost_ab, "apply_title": cost_apply},
            loan_share=loan_share, upgrade_loan=upgrade_loan, subsidised=subsidised,
            subsidy=subsidy, needs_ccc=needs_ccc, nxt=nxt)
        own_share = {"upgrade": 1.0 - upgrade_loan, "intl_standard": own, "abate": own,
                     "certify": 1.0, "apply_title": 1.0}  # the last two are paid from cash
        self.last_invested = []
        for option in chosen:
            if self.cash < review.cost[option] * own_share[option]:
                continue
            self.last_invested.append(option)
            self.carry_out(option, review, draws, lv)

    def carry_out(self, option: str, review: "Review", draws: DecisionDraws,
                  lv: Levers) -> None:
        """The effects and payments of one chosen investment (``behaviour._carry_out``)."""
        model, p = self.model, self.model.p
        loan_share, cost_up = review.loan_share, review.cost["upgrade"]
        subsidy = review.subsidy
        if option == "upgrade":
            self.borrow_and_pay(cost_up, review.upgrade_loan, lv)
            gain = p.upgrade_gain
            if review.subsidised:  # §3.4: additionality uncertain, the subsidy may be misused
                if draws.misuse >= p.subsidy_misuse:  # a diverted subsidy adds nothing
                    gain = max(0.0, p.upgrade_gain * (
                        1.0 + p.subsidy_additionality * (subsidy / cost_up if cost_up > 0
                                                         else 0.0)))
                yearly = interest_subsidy_yuan(cost_up * review.upgrade_loan, lv)
                self.subsidy_monthly = yearly / MONTHS_PER_YEAR
                self.subsidy_months_left = lv.subsidy.loan_years * MONTHS_PER_YEAR
                self.debt_monthly -= yearly / MONTHS_PER_YEAR / YUAN_PER_MILLION
                self.key_project = False  # one subsidised project per selection
                model.counts["key_projects_subsidised"] += 1
            self.capability += gain
            self.margin += p.quality_premium * gain  # the premium it was chosen for, earned
            model.counts["quality_upgrades"] += 1
        elif option == "intl_standard":
            self.borrow_and_pay(review.cost["intl_standard"], loan_share, lv)
            self.intl_std = True
            model.counts["intl_standard_adoptions"] += 1
        elif option == "certify":
            self.cash -= review.cost["certify"]
            self.record("certified")
            if review.needs_ccc:
                self.ccc = True
            else:
                self.iso9001 = True
                if draws.substantive < p.iso_substantive_share:  # otherwise symbolic
                    self.capability += p.iso_gain
            model.counts["certifications"] += 1
        elif option == "abate":
            model.counts["cod_cut_abatement"] += (self.discharge_ratio * p.abatement_fraction
                                                  * self.pollution_load())
            self.borrow_and_pay(review.cost["abate"], loan_share, lv)
            self.discharge_ratio *= 1.0 - p.abatement_fraction
            model.counts["abatements"] += 1
        elif option == "apply_title":
            self.applying = review.nxt
            self.cash -= review.cost["apply_title"]
            model.counts["brand_applications"] += 1

    def borrow_and_pay(self, cost: float, loan_share: float, lv: Levers) -> None:
        """Pay the own share now; the loan share, with simple interest, is repaid monthly over
        ``loan_years``. What is still owed on a running loan is folded into the new schedule
        (``pay`` in ``behaviour.choose``)."""
        s = lv.subsidy
        debt = cost * loan_share
        self.cash -= cost - debt
        months = s.loan_years * MONTHS_PER_YEAR
        owed = (self.debt_monthly * self.debt_months_left
                + debt * (1.0 + s.loan_interest_rate * s.loan_years))
        if owed > 0:
            self.debt_monthly = owed / months
            self.debt_months_left = months

    # -- production and finances (QualityCityModel._produce) --------------------------------
    def produce(self, lv: Levers) -> None:
        """One month of output growth, capability drift, cleaner technology, profit, discharge
        fee and loan repayment (``QualityCityModel._produce``; ODD §7.3). A title holder whose
        grade the preference admits gets the margin on extra government sales and the price
        premium (§3.1 procurement)."""
        model, p = self.model, self.model.p
        self.output = output = self.output * p.monthly_growth
        self.capability += p.capability_drift / MONTHS_PER_YEAR
        self.discharge_ratio = ratio = self.discharge_ratio * p.monthly_discharge_trend
        tier, grade, margin = self.tier, self.grade, self.margin
        share = (margin + p.brand_premium[tier] + p.intl_premium * self.intl_std
                 + p.iso_premium * self.iso9001 + p.counterfeit_gain * self.counterfeit
                 - p.grade_sales_loss[grade])  # what the published grade costs (§3.3)
        if tier > 0 and grade <= GRADE_CODE[lv.procurement.max_grade]:
            share += self.preferred_sales_gain(lv)
            model.branded_output += output
        fees_owed = p.city_fees_yuan * p.fee_paying_share[self.size] / YUAN_PER_MILLION
        waived = lv.fees.fee_waiver_share * fees_owed  # §4.2: the city pays it to its institutes
        model.fee_waived += waived * YUAN_PER_MILLION / MONTHS_PER_YEAR
        fee = (p.discharge_fee_yuan_per_tonne * self.pollution_load() * ratio
               / YUAN_PER_MILLION + fees_owed - waived)
        self.cash += (share * output - fee) / MONTHS_PER_YEAR - self.debt_monthly
        if self.debt_months_left > 0:
            self.debt_months_left -= 1
        if self.debt_months_left == 0:
            self.debt_monthly = 0.0

    # -- §2.2.1d national supervision spot checks -----------------------------------------
    def sampling_weight(self, t: int) -> float:
        """National sampling weight: problem firms and problem-prone sectors more often
        (``government.national_sampling_weight``)."""
        p = self.model.p
        w = p.problem_weight if self.problem_until >= t else 1.0
        return w * (p.problem_sector_weight if self.sector in PRONE_SECTORS else 1.0)

    def sampling_chance(self, t: int, mean_weight: float) -> float:
        """The chance the national spot checks sample this firm this month: the yearly
        sampled share spread over the months, times its weight over the mean weight
        (``government.national_sampling_chance``)."""
        return min(1.0, self.model.p.monthly_sampled_share * self.sampling_weight(t)
                   / mean_weight)

    def title_prize(self, lv: Levers, year: int, tier: int) -> float:
        """What winning title ``tier`` in ``year`` is worth to the firm over its horizon
        (million yuan; ``behaviour.title_prize``): the province's and city's rewards, the
        brand premium on its output, and the extra government sales at the margin with the
        price premium on all of them (§3.1), which a first title brings while the grade is
        admitted."""
        p, pref = self.model.p, lv.procurement
        out, H = max(self.output, MIN_OUTPUT), p.horizon_years
        province, city = reward_amounts(lv, year, tier)
        procurement = 0.0
        if self.tier == 0 and self.grade <= GRADE_CODE[pref.max_grade]:
            procurement = self.preferred_sales_gain(lv) * out * H
        return (province + city) / YUAN_PER_MILLION + p.brand_premium[tier] * out * H + procurement

    def win_chance(self, tier: int, capability: float) -> float:
        """The firm's perceived chance that an application for ``tier`` wins, were its
        capability ``capability`` (``behaviour.win_chance``; ODD §7.7): the city-wide belief
        under ``city_rate`` (and while no cut-off has been seen); under ``own_score`` the
        chance that its judging score with the judges' normal noise beats the tier's last
        winning cut-off."""
        model, aw = self.model, self.model.scenario.awards
        cutoff = model.title_cutoff[tier]
        if model.scenario.behaviour.title_belief == "city_rate" or math.isnan(cutoff):
            return model.win_belief[tier]
        score = self.judging_base(capability)
        spread = aw.judging_noise * math.sqrt(2.0)
        if spread <= 0:  # no judging noise: the cut-off decides
            return 1.0 if score > cutoff else 0.0
        return math.erfc(-(score - cutoff) / spread) / 2.0  # the normal distribution function

    def judging_base(self, capability: float) -> float:
        """The judges' score before their noise, were the firm's capability ``capability``:
        capability plus the certification bonus for ISO 9001 plus the size bonus per log10
        of output (``government.judging_base``)."""
        p = self.model.p
        return (capability + p.certification_bonus * self.iso9001
                + p.size_bonus * math.log10(max(self.output, MIN_OUTPUT_FOR_LOG)))

    def is_contender(self, year: int) -> bool:
        """Whether the firm contends for its next title (``government.title_contenders``;
        ODD §7.7): the tier holds rounds this year, the firm is eligible or one quality upgrade
        short, and its judging score (after that upgrade if it needs it) is within one
        judging noise of the tier's cut-off."""
        model, p = self.model, self.model.p
        nxt = self.tier + 1
        if nxt >= len(TIERS) or not model.round_open(nxt, year):
            return False
        cutoff = model.title_cutoff[nxt]
        if math.isnan(cutoff):
            return False
        capability = self.capability
        if not self.eligible_for(nxt):  # then one quality upgrade short, or out
            capability += p.upgrade_gain
            if capability < p.min_capability[nxt] or not self.meets_other_conditions(nxt):
                return False
        return abs(self.judging_base(capability) - cutoff) <= p.judging_noise

    def eligible_for(self, tier: int) -> bool:
        """Whether the firm meets the conditions of title ``tier`` (§3.1): capability at least
        the tier's ``min_capability``, and :meth:`meets_other_conditions`
        (``government.title_eligible``)."""
        p = self.model.p
        return (self.capability >= p.min_capability[tier] and self.meets_other_conditions(tier))

    def meets_other_conditions(self, tier: int) -> bool:
        """A title's conditions other than capability: :meth:`meets_record_conditions` and a
        published grade no worse than ``awards.max_grade``."""
        good_standing = self.grade <= self.model.p.title_max_grade  # the grade (§3.3)
        return good_standing and self.meets_record_conditions(tier)

    def meets_record_conditions(self, tier: int) -> bool:
        """A title's conditions other than capability and the grade: ISO 9001 where the tier
        requires it and no failed national spot check in the file's last
        ``clean_record_months``."""
        p = self.model.p
        clean = not self.file_national_failed & p.clean_record_mask
        return clean and (self.iso9001 or not p.iso_required[tier])

    def lose_title(self) -> None:
        """The title is withdrawn or lapses: no title, and no application built on it."""
        self.tier, self.title_expires, self.applying = 0, -1, 0

    # -- the quality file (engine/quality_file.py) ------------------------------------------
    def age_file(self) -> None:
        """A month passes: every event in the file is a month older (the oldest falls off)."""
        file = self.__dict__  # the file's words are plain attributes
        for name in FILE_FIELDS:
            file[name] = (file[name] << 1) & FILE_WORD

    def record(self, event: str) -> None:
        """Mark ``event`` this month in the firm's file."""
        setattr(self, f"file_{event}", getattr(self, f"file_{event}") | 1)

    def face_national_check(self, t: int, mean_weight: float,
                            draws: tuple[float, float] | None = None) -> None:
        """Maybe sampled by the national spot check; a failure puts the firm on the problem
        list for ``problem_memory_months`` (``government.national_spot_check``; ODD §7.4).
        ``draws``: (sampled if below the chance, passes if below the pass probability)."""
        model = self.model
        u_sample = draws[0] if draws is not None else model.random.random()
        if u_sample >= self.sampling_chance(t, mean_weight):
            return
        nat, rnd = model.scenario.national, model.random
        u_pass = draws[1] if draws is not None else rnd.random()
        passed = u_pass < self.pass_probability()
        model.record_spot_check(passed)
        self.record("national_checked")
        if not passed:
            self.problem_until = t + nat.problem_memory_months
            self.record("national_failed")
            # the national result reaches the city's file: a grade worse (§3.3)
            before = self.grade
            self.grade = min(self.grade + 1, GRADE_D)
            self.clean_count = 0
            self.watched = self.grade >= GRADE_C
            if self.grade != before:
                model.grade_moves[before][self.grade] += 1

    # -- §3.3, §4.4 city inspection ---------------------------------------------------------
    def undergo_inspection(self, lv: Levers, t: int,
                           draws: InspectionDraws | None = None) -> None:
        """The city inspects this firm (``government.city_inspection``; ODD §7.5); ``draws``:
        its random numbers (default: from the model's generator).

        Fails on a counterfeit found, a failed product test or a missing CCC; pays fines capped
        by its cash (§4.4): flat, or on the Product Quality Law's ladder (arts. 17, 49-50:
        correction, public notice, suspension, revocation; counterfeiting a multiple of the
        goods' value and named), a public notice costing sales beyond the fine; a
        counterfeiter found may lose its licence and be referred to the judiciary, and stops;
        the published grade moves (§3.3; ``government.regrade``).
        """
        model, p, rnd = self.model, self.model.p, self.random
        if draws is None:
            draws = InspectionDraws(rnd.random(), rnd.random(), rnd.random(), rnd.random())
        insp = lv.inspection
        pass_prob = self.pass_probability()
        found_cf = self.counterfeit and draws.detection < insp.detection_probability
        product_fail = draws.product_test >= pass_prob
        failed = found_cf or product_fail or (self.ccc_required and not self.ccc)

        over_limit = self.discharge_ratio > self.discharge_limit
        output = max(self.output, 0.0)
        step = 0  # the ladder's step of a failure other than counterfeiting (art. 17)
        market_loss = 0.0
        if insp.sanctions == "ladder":
            if failed and not found_cf:
                recent = self.file_inspection_failed & ((1 << insp.ladder_memory_months) - 1)
                step = recent.bit_count() + 1
            fine = (insp.counterfeit_goods_multiple * insp.goods_value_share * output
                    * YUAN_PER_MILLION if found_cf else 0.0)
            noticed = found_cf or step >= 2
            if noticed:  # a public notice costs sales and brand value (Jarrell, Peltzman 1985)
                market_loss += p.notice_sales_loss * output
                model.counts["public_notices"] += 1
            if step == 1:  # a correction order and re-inspection
                model.counts["correction_orders"] += 1
            if step == 3:  # suspended for rectification
                market_loss += max(self.margin, 0.0) * output * insp.suspension_months / 12
                model.counts["suspensions"] += 1
        else:
            fine = insp.fine_yuan if failed else 0.0
            if found_cf:
                fine = insp.fine_yuan * insp.counterfeit_fine_multiplier
            noticed = False
        if over_limit:
            fine += insp.discharge_fine_yuan
        fine = min(fine, max(self.cash, 0.0) * YUAN_PER_MILLION)  # limited liability
        self.cash -= fine / YUAN_PER_MILLION + market_loss
        model.fines_yuan += fine

        sanctioned = fine > 0 or noticed
        self.licence_revoked = step >= 4  # the ladder's last step
        if found_cf:
            self.licence_revoked = draws.revocation < insp.revocation_probability
            if draws.referral < insp.criminal_referral_probability:
                self.cash -= p.criminal_cost_yuan / YUAN_PER_MILLION
                model.counts["criminal_referrals"] += 1
                sanctioned = True
            self.counterfeit = False
            self.record("counterfeit_found")
        sanctioned |= self.licence_revoked
        self.record("inspected")
        if failed:
            self.record("inspection_failed")
        if sanctioned:
            self.record("sanctioned")

        # the quality file's published grade (§3.3): counterfeiting found, D; another
        # failure, a grade worse; enough clean inspections in a row, a grade better (to A only
        # with ISO 9001); the watched tier is C and D
        best = GRADE_A if self.iso9001 else GRADE_B
        before = self.grade
        if found_cf:
            self.grade, self.clean_count = GRADE_D, 0
        elif failed:
            self.grade, self.clean_count = min(self.grade + 1, GRADE_D), 0
        elif self.grade > best:
            self.clean_count += 1
            if self.clean_count >= insp.clean_inspections_to_leave:
                self.grade, self.clean_count = self.grade - 1, 0
        else:
            self.clean_count = 0
        self.watched = self.grade >= GRADE_C
        if self.grade != before:
            model.grade_moves[before][self.grade] += 1
        self.belief = 1.0  # an inspection makes inspection salient
        self.inspected_in = t
        model.record_inspection(failed)

    # -- §3.3 the review of discharge sources ----------------------------------------------
    def undergo_review(self, lv: Levers, t: int, drawn: bool) -> None:
        """The environment bureau reviews this source if ``drawn`` (the month's routine
        review) or its deadline-treatment order falls due (``government.review_sources``; ODD
        §7.17; Water Pollution Prevention Law 2008, art. 74). Over its limit with no order: a
        fine of ``fine_fee_multiple`` times the discharge fee it owes a year (capped by its
        cash) and an order due in ``deadline_months``. Over it when the order falls due:
        closed under permit refusal, else fined and ordered again. Within it: order lifted."""
        due = 0 <= self.deadline <= t
        if not (drawn or due):
            return
        model, env = self.model, self.model.scenario.environment
        over = self.discharge_ratio > self.discharge_limit
        if not over:
            self.deadline = -1  # within its limit: any order is lifted
            return
        if due and lv.permits.refuse_over_limit:  # §3.3: may not go on producing
            self.closed = True
            self.deadline = -1
            model.cod_closed += self.pollution_load() * self.discharge_ratio
            return
        if self.deadline >= 0 and not due:
            return  # an order is running: the source has until its deadline
        fee_owed = env.discharge_fee_yuan_per_tonne * self.discharge_ratio * self.pollution_load()
        fine = min(env.fine_fee_multiple * fee_owed, max(self.cash, 0.0) * YUAN_PER_MILLION)
        self.cash -= fine / YUAN_PER_MILLION
        self.deadline = t + env.deadline_months
        model.review_fines_yuan += fine
        model.counts["deadline_orders"] += 1

    def update_belief(self, t: int) -> None:
        """An uninspected firm's belief drifts towards its peers' anchor (sector x supervision
        tier; ``government.update_beliefs``; ODD §7.6)."""
        if self.inspected_in == t:
            return
        model = self.model
        anchor = model.anchors[self.sector][self.watched]  # watched: the second column
        self.belief += model.p.belief_decay * (anchor - self.belief)

    # -- §3.4 interest subsidies ------------------------------------------------------------
    def receive_interest_subsidy(self) -> None:
        """The city pays this month's interest subsidy on a key-project loan
        (``government.pay_subsidies``)."""
        if self.subsidy_months_left > 0:
            self.model.subsidy_paid += self.subsidy_monthly
            self.subsidy_months_left -= 1
        if self.subsidy_months_left == 0:
            self.subsidy_monthly = 0.0

    # -- exit (QualityCityModel._exit_and_entry) ---------------------------------------------
    def consider_exit(self, draw: float | None = None) -> None:
        """Leave on licence revocation (§4.4), closure over the discharge limit (§3.3),
        bankruptcy (cash below the floor its credit allows, a share of output) or the size's
        monthly exit hazard (``demography.leave``; ODD §7.9); ``draw``: the hazard's uniform."""
        model = self.model
        p = model.p
        u = draw if draw is not None else model.random.random()
        hazard = u < p.exit_hazard[self.size]
        floor = (p.bankruptcy_floor_with_credit if self.credit
                 else p.bankruptcy_floor_without_credit)
        bankrupt = self.cash < -floor * self.output
        if not (self.licence_revoked or self.closed or bankrupt or hazard):
            return
        counts = model.counts
        if self.licence_revoked:
            counts["licences_revoked"] += 1
        elif self.closed:
            counts["closures_over_limit"] += 1
        elif bankrupt:
            counts["bankruptcies"] += 1
        counts["exits"] += 1
        self.remove()


class Contractor(mesa.Agent):
    """A construction contractor (§2.2.2): ``size`` (qualification grade), ``capability``
    (logit of a defect-free work at standard effort), ``effort`` (code into EFFORTS), and its
    quality-file record ``watched`` / ``clean_works`` (§3.3)."""

    def __init__(self, model: "ReferenceCityModel", size: int, capability: float):
        super().__init__(model)
        self.size = size
        self.capability = capability
        self.effort = EFFORTS.index("standard")
        self.watched = False
        self.clean_works = 0

    def supervision_share(self, lv: Levers) -> float:
        """Share of its works the supervision station follows; tiered: more if watched
        (``construction.supervision_share``)."""
        cl = lv.construction
        if cl.targeting == "tiered" and self.watched:
            return max(cl.watched_supervision_share, cl.supervision_share)
        return cl.supervision_share

    def outcome_probabilities(self, lv: Levers, effort: int) -> tuple[float, ...]:
        """Chances (fail, hidden defect, excellent, plain pass) of one work at ``effort``
        (``construction.outcome_probabilities``): a defect, unless the station corrects it,
        is found at acceptance with ``acceptance_detection``, or else slips through."""
        c = self.model.scenario.construction
        p = self.model.p
        q = logistic(-(self.capability + p.effort_shift[effort]))  # chance of a defect
        remaining = q * (1.0 - self.supervision_share(lv) * c.correction_share)
        fail = remaining * c.acceptance_detection
        hidden = remaining - fail
        excellent = (1.0 - remaining) * p.excellence_rating[effort]
        return fail, hidden, excellent, max(1.0 - fail - hidden - excellent, 0.0)

    def choose_effort(self, lv: Levers, always: bool = False,
                      draws: tuple | None = None) -> None:
        """With chance ``review_rate`` (or ``always``), pick an effort by logit over the
        expected payoff per work as a share of contract value: the effort's cost, rework of
        corrected defects, failure's rework, penalty and record, the excellence reward
        (``construction.choose_effort``). ``draws``: (review uniform, one Gumbel shock per
        effort)."""
        c, cl, p, rnd = self.model.scenario.construction, lv.construction, self.model.p, self.random
        review = draws[0] if draws is not None else rnd.random()
        if not always and review >= c.review_rate:
            return
        shocks = draws[1] if draws is not None else [gumbel(rnd) for _ in EFFORTS]
        value = p.work_value_million[self.size] * YUAN_PER_MILLION
        s_corr = self.supervision_share(lv) * c.correction_share
        best, best_effort, utilities = -math.inf, self.effort, []
        for e in range(len(EFFORTS)):
            fail, _, excellent, _ = self.outcome_probabilities(lv, e)
            corrected = logistic(-(self.capability + p.effort_shift[e])) * s_corr
            cost = (p.effort_cost[e] + corrected * c.rework_cost
                    + fail * (c.rework_cost + cl.failure_penalty_yuan / value + c.record_cost)
                    - excellent * (1.0 - c.large_project_share)  # only other works are rewarded
                    * cl.excellence_reward_yuan / value)
            utilities.append(-cost / c.logit_scale)
            noisy = utilities[-1] + shocks[e]
            if noisy > best:
                best, best_effort = noisy, e
        self.effort = best_effort
        self.last_utilities = utilities  # for tests and followers

    def draw_works(self, lv: Levers) -> "WorkDraws":
        """This month's completed works (Poisson), each large/medium or not, supervised or
        not, with one outcome of ``outcome_probabilities``, counted by kind and outcome."""
        model, c, p, rnd = self.model, self.model.scenario.construction, self.model.p, self.random
        n = int(model.rng.poisson(p.works_per_year[self.size] / MONTHS_PER_YEAR))
        share = self.supervision_share(lv)
        probs = self.outcome_probabilities(lv, self.effort)
        other, large, supervised = [0] * len(WORK_OUTCOMES), [0] * len(WORK_OUTCOMES), 0
        for _ in range(n):
            outcome = rnd.choices(range(len(WORK_OUTCOMES)), weights=probs)[0]
            (large if rnd.random() < c.large_project_share else other)[outcome] += 1
            supervised += rnd.random() < share
        return WorkDraws(tuple(other), tuple(large), supervised)

    def complete_works(self, lv: Levers, works: "WorkDraws | None" = None) -> None:
        """This month's completed works (``works``, default :meth:`draw_works`) counted for the
        §2.2.2 targets (works other than large and medium projects), the supervision station
        paid for those it followed; a failed acceptance is a record in the quality file and
        clean works clear it (``construction.complete_works``; §2.2.2, §3.3)."""
        model = self.model
        works = works if works is not None else self.draw_works(lv)
        other, large, supervised = works
        n = sum(other) + sum(large)
        failed_all = other[FAIL] + large[FAIL]
        tally = model.works_tally[self.size]  # works, other, failed, excellent, hidden
        tally[0] += n
        tally[1] += sum(other)  # targets §2.2.2b-c count works other than large, medium ones
        tally[2] += other[FAIL]
        tally[3] += other[EXCELLENT]
        tally[4] += other[HIDDEN] + large[HIDDEN]
        model.excellent_works += other[EXCELLENT]
        model.counts["works_completed"] += n
        model.counts["works_supervised"] += supervised
        model.supervised_works += supervised
        model.failed_works += failed_all
        if failed_all > 0:
            self.watched = True
            self.clean_works = 0
        elif self.watched:
            self.clean_works += n
            if self.clean_works >= lv.construction.clean_works_to_leave:
                self.watched = False
                self.clean_works = 0


class ServiceFirm(mesa.Agent):
    """A service firm (§2.2.3): ``sector`` (SERVICE_SECTORS), ``size``, ``revenue`` (million
    yuan a year), ``standard`` (applies service standards), ``demonstration`` (holds a
    "service standardisation demonstration unit" title, §3.2)."""

    def __init__(self, model: "ReferenceCityModel", sector: int, size: int, revenue: float,
                 standard: bool):
        super().__init__(model)
        self.sector = sector
        self.size = size
        self.revenue = revenue
        self.standard = standard
        self.demonstration = False

    def consider_standards(self, lv: Levers, draws: tuple[float, float] | None = None) -> None:
        """A reviewing firm without standards adopts them by binary logit: premium, grant,
        perceived chance of a demonstration title, cost; imitation of its sector where
        demonstration units pull harder (``services.adopt_standards``; §2.2.3, §3.2).
        ``draws``: (reviews if below decision_rate, adopts if below the logit probability)."""
        if self.standard:
            return
        model, p, rnd = self.model, self.model.p, self.random
        u_review, u_adopt = draws if draws is not None else (rnd.random(), rnd.random())
        if u_review >= p.decision_rate:
            return
        sv, sl = model.scenario.services, lv.services
        rev = max(self.revenue, MIN_OUTPUT)
        H = p.horizon_years
        gain = (sv.standard_premium * rev * H + sl.standard_subsidy_yuan / YUAN_PER_MILLION
                + model.demo_win_belief * (sl.demonstration_reward_yuan / YUAN_PER_MILLION
                                           + sv.demonstration_premium * rev * H)
                - sv.adoption_cost * rev)
        utility = (gain / (p.logit_scale * rev)
                   + p.imitation_weight * model.service_std_share[self.sector]
                   + sv.demonstration_pull * model.service_demo_share[self.sector])
        self.last_chance = logistic(utility)  # for tests and followers
        if u_adopt < self.last_chance:
            self.standard = True
            model.counts["service_adoptions"] += 1
            model.service_grants += sl.standard_subsidy_yuan


# =============================================================================================
# the model


class ReferenceCityModel(mesa.Model):
    """The city, one agent per firm, from ``city.base_year`` to the end of ``horizon.end_year``.

    Args:
        scenario: a validated :class:`~simcity_quality.scenario.Scenario`; every one of its
            ``city.firms``, ``city.contractors`` and ``city.service_firms`` is an agent (the
            reference has no resolution: use a small city to keep it quick).
        seed: an int or ``numpy.random.SeedSequence``; seeds ``self.random`` (Python) and
            ``self.rng`` (numpy), the only sources of randomness.
    """

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence | int = 0):
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        words = ss.generate_state(4, np.uint32)
        super().__init__(seed=sum(int(w) << (32 * i) for i, w in enumerate(words)))
        self.scenario = sc = scenario
        self.n_firms = sc.city.firms
        self.years = list(range(sc.city.base_year, sc.horizon.end_year + 1))
        self.n_months = 12 * len(self.years)
        self.ledger = Ledger(self.years)
        self.p = self._parameters(sc)

        # government and market memory (docs/ODD.md, model-level state)
        sq_rate = min(1.0, sc.status_quo.inspection.spot_checks_per_year / self.n_firms)
        self.anchors = [[sq_rate, sq_rate] for _ in SECTORS]  # sector x (normal, watched)
        # perceived chance an application for each tier wins (index 0: no title)
        self.win_belief = [sc.behaviour.initial_win_belief] * len(TIERS)
        # the cut-off firms judge their chances against (§7.7): the field's under judging =
        # "cutoff" (set each month from field_cutoff), the last winning score under "quota"
        self.title_cutoff = [math.nan] * len(TIERS)
        # the grades' moves firms saw this year, the firm-months at each grade, and the
        # present value of each grade they learnt from last year's (zero until then; §7.5)
        self.grade_moves = [[0] * len(GRADES) for _ in GRADES]
        self.grade_exposure = [0.0] * len(GRADES)
        self.grade_value = [0.0] * len(GRADES)
        self.years_unpreferred = [0.0] * len(GRADES)
        # the same beyond the titles' and the key projects' grades, and the key projects
        # chosen per eligible firm at the last January selection (§7.5)
        self.years_untitled = [0.0] * len(GRADES)
        self.years_unsubsidised = [0.0] * len(GRADES)
        self.key_project_rate = 0.0
        self.demo_win_belief = sc.behaviour.initial_win_belief
        self.inspection_carry = 0.0
        self.counts = dict.fromkeys(CUMULATIVE, 0)
        self.spot = np.zeros((self.n_months, 2))  # national samples, passes per month
        self.city_checks = np.zeros((self.n_months, 2))  # city inspections, passes per month
        self.cod = np.zeros(self.n_months)  # industrial COD (t) per month
        self.works = np.zeros((self.n_months, 5))  # works, other, failed, excellent, hidden
        self._base_industrial_cod = None
        self.current: dict[str, float] = {}

        self._create_enterprises(sq_rate)
        self.field_cutoff = self.field_cutoffs()
        self._create_contractors()
        self._create_service_firms()

        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self.columns()})

    # -- parameters and creation --------------------------------------------------------------
    @staticmethod
    def _parameters(sc: Scenario) -> SimpleNamespace:
        """Scenario values firms read every month, as plain numbers and lists by code."""
        b, m, aw, env, c = sc.behaviour, sc.market, sc.awards, sc.environment, sc.construction
        return SimpleNamespace(
            **{k: getattr(b, k) for k in (
                "decision_rate", "logit_scale", "horizon_years", "imitation_weight",
                "belief_decay", "peer_learning", "campaign_belief_boost", "upgrade_cost",
                "upgrade_gain", "capability_drift", "intl_cost", "intl_min_capability",
                "iso_substantive_share", "iso_gain",
                "abatement_cost", "abatement_fraction", "counterfeit_pass_factor",
                "criminal_cost_yuan", "subsidy_additionality", "subsidy_misuse", "entry_rate",
                "entrant_capability_shift", "bankruptcy_floor_with_credit",
                "bankruptcy_floor_without_credit", "win_belief_learning")},
            **{k: getattr(m, k) for k in (
                "quality_premium", "intl_premium", "iso_premium", "government_purchase_share",
                "procurement_sales_gain", "counterfeit_gain", "notice_sales_loss")},
            exit_hazard=by_size(b.exit_hazard),
            grade_sales_loss=[float(getattr(m.grade_sales_loss, g)) for g in GRADES],
            iso_cost_yuan=by_size(b.iso_cost_yuan),
            city_fees_yuan=sc.city.city_fees_yuan,
            fee_paying_share=by_size(sc.city.fee_paying_share),
            brand_premium=by_tier(m.brand_premium),
            min_capability=by_tier(aw.min_capability),
            iso_required=[False, *(bool(getattr(aw.iso_required, t)) for t in TIERS[1:])],
            application_cost_yuan=by_tier(aw.application_cost_yuan),
            quota=by_tier(aw.quota),
            recommendations=by_tier(aw.recommendations),
            field_pass_rate=by_tier(aw.field_pass_rate),
            cod_coefficient=[float(getattr(env.cod_coefficient, s)) for s in SECTORS],
            discharge_fee_yuan_per_tonne=env.discharge_fee_yuan_per_tonne,
            fine_fee_multiple=env.fine_fee_multiple, deadline_months=env.deadline_months,
            monthly_growth=(1.0 + sc.city.output_growth) ** (1 / MONTHS_PER_YEAR),
            monthly_discharge_trend=(1.0 + env.discharge_trend) ** (1 / MONTHS_PER_YEAR),
            problem_weight=sc.national.problem_weight,
            problem_sector_weight=sc.national.problem_sector_weight,
            monthly_sampled_share=sc.national.spot_check_share_per_year / MONTHS_PER_YEAR,
            # the titles' gates: the grade (code), the spot-check record's months (a bit mask
            # of the quality file) and the years without a round, per tier
            title_max_grade=GRADE_CODE[aw.max_grade],
            clean_record_mask=(1 << aw.clean_record_months) - 1,
            closed_years=[frozenset(), *(frozenset(getattr(aw.closed_years, t))
                                         for t in TIERS[1:])],
            certification_bonus=aw.certification_bonus, size_bonus=aw.size_bonus,
            judging_noise=aw.judging_noise,
            works_per_year=by_size(c.works_per_year),
            work_value_million=by_size(c.work_value_million),
            effort_shift=[float(getattr(c.effort_shift, e)) for e in EFFORTS],
            effort_cost=[float(getattr(c.effort_cost, e)) for e in EFFORTS],
            excellence_rating=[float(getattr(c.excellence_rating, e)) for e in EFFORTS],
        )

    def draw_enterprise(self, sector: int, size: int, tier_weight: float,
                        capability_shift: float = 0.0) -> dict:
        """Attributes of one new firm from the base-year distributions (``population.
        draw_firms``; ODD §5). ``tier_weight``: the size's title weight
        (``city.title_holder_size_weight``) over its mean in the cohort, so titles go to large
        firms first."""
        c, env, rnd = self.scenario.city, self.scenario.environment, self.random
        output = getattr(c.output_median, SIZES[size]) * math.exp(c.output_sigma * rnd.gauss())
        capability = (getattr(c.capability_mean, SIZES[size]) + capability_shift
                      + c.capability_sd * rnd.gauss())
        u, tier, cum = rnd.random(), 0, 0.0
        for t in range(len(TIERS) - 1, 0, -1):  # the highest title first
            share = getattr(c.tier_share, TIERS[t])
            if cum * tier_weight <= u < (cum + share) * tier_weight:
                tier = t
                break
            cum += share
        ccc_required = SECTORS[sector] in c.ccc_required_sectors
        return {
            "sector": sector, "size": size, "output": output,
            "margin": c.margin_mean + c.margin_sd * rnd.gauss(),
            "cash": output * c.cash_months / MONTHS_PER_YEAR,
            "credit": rnd.random() < getattr(c.credit_access, SIZES[size]),
            "capability": capability,
            "intl_std": rnd.random() < getattr(c.intl_standard_share, SIZES[size]),
            "iso9001": rnd.random() < getattr(c.iso9001_share, SIZES[size]),
            "ccc_required": ccc_required,
            "ccc": ccc_required and rnd.random() < c.ccc_share,
            "tier": tier,
            "discharge_ratio": median_discharge_ratio(env) * math.exp(
                env.discharge_ratio_sigma * rnd.gauss()),
            "discharge_limit": standard_limit(env, SECTORS[sector], self.scenario.city.base_year,
                                              False),
            "moral_cost": max(0.0, c.moral_cost_mean + c.moral_cost_sd * rnd.gauss()),
        }

    def _draw_sector_and_size(self, k: int) -> tuple[list[int], list[int]]:
        c = self.scenario.city
        sectors = self.random.choices(range(len(SECTORS)),
                                      weights=[getattr(c.sector_shares, s) for s in SECTORS], k=k)
        sizes = self.random.choices(range(len(SIZES)), weights=by_size(c.size_shares), k=k)
        return sectors, sizes

    def _create_enterprises(self, belief: float) -> None:
        """The base-year population (``population.create_population``), every firm with the
        status-quo belief; counterfeiting drawn once under the first year's levers, and the
        expiry of titles held (``QualityCityModel.__init__``)."""
        sectors, sizes = self._draw_sector_and_size(self.n_firms)
        weights = by_size(self.scenario.city.title_holder_size_weight)
        mean_weight = sum(weights[s] for s in sizes) / max(len(sizes), 1)
        for sector, size in zip(sectors, sizes, strict=True):
            Enterprise(self, self.draw_enterprise(sector, size, weights[size] / mean_weight),
                       belief)
        lv = self.scenario.levers_for(self.years[0])
        for firm in self.enterprises:
            firm.counterfeit = self.random.random() < firm.counterfeit_probability(lv)
        # a title held at the start is at a uniform point of its validity: re-examined after a
        # uniform share of it (``government.held_title_expiry``)
        held = self.scenario.awards.held_title_validity_months
        for firm in self.enterprises:
            if firm.tier > 0:
                firm.title_expires = math.floor(self.random.random() * held)

    def _create_contractors(self) -> None:
        """Base-year contractors (``construction.create_contractors``); each chooses its effort
        once under the first year's levers."""
        c = self.scenario.construction
        n = self.scenario.city.contractors
        sizes = self.random.choices(range(len(SIZES)), weights=by_size(c.size_shares), k=n)
        for size in sizes:
            Contractor(self, size, getattr(c.capability_mean, SIZES[size])
                       + c.capability_sd * self.random.gauss())
        lv = self.scenario.levers_for(self.years[0])
        self.contractors.shuffle_do("choose_effort", lv, always=True)

    def _create_service_firms(self) -> None:
        """Base-year service firms (``services.create_service_firms``)."""
        sv, rnd = self.scenario.services, self.random
        n = self.scenario.city.service_firms
        sectors = rnd.choices(range(len(SERVICE_SECTORS)),
                              weights=[getattr(sv.sector_shares, s) for s in SERVICE_SECTORS], k=n)
        sizes = rnd.choices(range(len(SIZES)), weights=by_size(sv.size_shares), k=n)
        for sector, size in zip(sectors, sizes, strict=True):
            revenue = getattr(sv.revenue_median, SIZES[size]) * math.exp(
                self.scenario.city.output_sigma * rnd.gauss())
            ServiceFirm(self, sector, size, revenue,
                        rnd.random() < getattr(sv.standard_share, SIZES[size]))

    # -- agent sets -------------------------------------------------------------------------
    def _agents_of(self, cls) -> AgentSet:
        return self.agents_by_type.get(cls) or AgentSet([], random=self.random)

    @property
    def enterprises(self) -> AgentSet:
        """The enterprises operating now."""
        return self._agents_of(Enterprise)

    @property
    def contractors(self) -> AgentSet:
        """The construction contractors."""
        return self._agents_of(Contractor)

    @property
    def service_firms(self) -> AgentSet:
        """The service firms."""
        return self._agents_of(ServiceFirm)

    @staticmethod
    def columns() -> list[str]:
        """Columns of the monthly time series (as ``QualityCityModel.columns``)."""
        return [*TARGET_KPIS, *REPORTED, "spending_province", "spending_city", "spending_total"]

    @property
    def finished(self) -> bool:
        """Whether the horizon has been reached."""
        return self.steps >= self.n_months

    def run_model(self) -> None:
        """Step to the end of the horizon."""
        while not self.finished:
            self.step()

    def summary(self) -> dict:
        """The last measured values."""
        return dict(self.current)

    def release(self) -> None:
        """Let Python free this model once it is no longer used. Mesa 3.3.1 keeps a reference
        to every model in the class-level ``Agent._ids`` counter, so models with agents are
        never garbage-collected (mesa issue #3179, fixed upstream by pull request #3180)."""
        mesa.Agent._ids.pop(self, None)

    # -- the month ----------------------------------------------------------------------------
    def step(self) -> None:
        """One month, in the engine's order (``QualityCityModel.step``; ODD §3)."""
        t = self.steps - 1
        year, month = self.years[0] + t // 12, t % 12 + 1
        lv = self.scenario.levers_for(year)
        for firm in self.enterprises:
            firm.age_file()
        if month == 1:
            self.tighten_standards(year)
            self.select_key_projects(lv)
        if month in lv.campaigns.months:
            self.run_campaign(lv, year)
        if self.scenario.awards.judging == "cutoff":  # this year's bar in the field
            drift = self.scenario.awards.cutoff_drift * (year - self.years[0])
            self.title_cutoff = [c + drift for c in self.field_cutoff]
        self.firm_decisions(lv, year)
        self.production(lv, year)
        self.count_grade_exposure()
        self.national_spot_checks(t)
        self.city_inspections(lv, year, t)
        if month == 12:  # firms learn what each grade is worth from this year's moves
            self.learn_grade_values(lv)
        self.review_sources(lv, year, t)
        self.update_beliefs(t)
        self.review_titles(t)
        if month == 12:
            self.award_round(lv, year)
        self.pay_interest_subsidies(year)
        self.exit_and_entry(lv)
        self.construction_supervision(lv, year, t)
        self.service_standards(lv, year, month)
        self.measure(t)
        self.datacollector.collect(self)

    def count_grade_exposure(self) -> None:
        """Add this month's firms at each grade to the year's firm-months."""
        exposure = self.grade_exposure
        for firm in self.enterprises:
            exposure[firm.grade] += 1

    def grade_values(self, flow: list[float] | None = None) -> list[float]:
        """Per grade, the present value over the firms' horizon of what the published grade
        costs, a share of a year's output, from this year's moves (``government.grade_values``;
        ODD §7.5): monthly rates moves / firm-months (none from a grade nobody held), staying
        the rest; the sum over round(12 H) months of the discounted expected monthly cost.
        ``flow``: each grade's yearly cost (default ``market.grade_sales_loss``)."""
        n, b = len(GRADES), self.scenario.behaviour
        rates = [[0.0] * n for _ in range(n)]
        for g in range(n):
            for h in range(n):
                if h != g and self.grade_exposure[g] > 0:
                    rates[g][h] = self.grade_moves[g][h] / self.grade_exposure[g]
            rates[g][g] = 1.0 - sum(rates[g])
        monthly = (1.0 + b.discount_rate) ** (-1.0 / MONTHS_PER_YEAR)
        flow = self.p.grade_sales_loss if flow is None else flow
        expected = [c / MONTHS_PER_YEAR for c in flow]
        value = [0.0] * n
        for m in range(round_half_up(b.horizon_years * MONTHS_PER_YEAR)):
            value = [v + monthly ** m * e for v, e in zip(value, expected, strict=True)]
            expected = [sum(rates[g][h] * expected[h] for h in range(n)) for g in range(n)]
        return value

    def learn_grade_values(self, lv: Levers) -> None:
        """December: the grades' values become this year's (:meth:`grade_values`), and the
        years beyond each gate with them: the procurement preference's grade
        (``lv.procurement.max_grade``), the titles' (``awards.max_grade``) and the key
        projects' (``lv.subsidy.max_grade``); the year's moves and firm-months start again."""
        self.grade_value = self.grade_values()
        self.years_unpreferred = self.years_beyond(lv.procurement.max_grade)
        self.years_untitled = self.years_beyond(self.scenario.awards.max_grade)
        self.years_unsubsidised = self.years_beyond(lv.subsidy.max_grade)
        self.grade_moves = [[0] * len(GRADES) for _ in GRADES]
        self.grade_exposure = [0.0] * len(GRADES)

    def years_beyond(self, max_grade: str) -> list[float]:
        """Per grade, the discounted years a firm starting there spends at grades worse than
        ``max_grade`` (:meth:`grade_values` with a year's cost of 1 at each of them)."""
        gate = GRADE_CODE[max_grade]
        return self.grade_values([float(g > gate) for g in range(len(GRADES))])

    def select_key_projects(self, lv: Levers, draws: tuple | None = None) -> None:
        """§3.4, January: the city picks this year's key technical-upgrade projects among firms
        that can carry one (credit, or any when selection brings the loan) and have no running
        subsidy, by the scenario's size and capability weights, with noise
        (``government.select_key_projects``). Last year's unused flags lapse. ``draws``: (the
        quota's rounding uniform, {firm: normal noise})."""
        if draws is None:
            draws = (self.random.random(), {f: self.random.gauss() for f in self.enterprises})
        u_round, z = draws
        k = stochastic_round(lv.subsidy.key_projects_per_year, u_round)
        s = lv.subsidy
        priority = {}
        for firm in self.enterprises:
            firm.key_project = False
            if ((firm.credit or s.key_project_loan) and firm.subsidy_months_left == 0
                    and firm.grade <= GRADE_CODE[s.max_grade]):  # good standing (§3.3)
                priority[firm] = (s.priority_size_weight
                                  * math.log10(max(firm.output, MIN_OUTPUT_FOR_LOG))
                                  + s.priority_capability_weight * firm.capability + z[firm])
        chosen = top_k(list(priority), priority.get, k)
        for firm in chosen:
            firm.key_project = True
        # the chance of selection firms learn (§7.5): projects chosen per eligible firm
        self.key_project_rate = len(chosen) / len(priority) if priority else 0.0
        self.last_priority = priority  # for tests and followers

    def run_campaign(self, lv: Levers, year: int) -> None:
        """§4.5 awareness campaign: every firm's inspection belief rises (inline in
        ``QualityCityModel.step``)."""
        boost = self.p.campaign_belief_boost
        for firm in self.enterprises:
            firm.belief += boost * (1.0 - firm.belief)
        self.ledger.book(year, "city", "campaign_cost",
                         lv.campaigns.cost_per_campaign_yuan)

    def sector_shares(self, agents, flag: str, n_sectors: int) -> list[float]:
        """Share of ``agents`` in each sector with attribute ``flag`` set (what a firm sees of
        its sector, for imitation; ``behaviour.sector_shares``)."""
        total, have = [0] * n_sectors, [0] * n_sectors
        for a in agents:
            sector = a.sector
            total[sector] += 1
            if getattr(a, flag):
                have[sector] += 1
        return [h / n if n else 0.0 for h, n in zip(have, total, strict=True)]

    def firm_decisions(self, lv: Levers, year: int, draws: dict | None = None) -> None:
        """Every firm decides on the state at the start of the phase (``behaviour.choose``);
        the city books the fees it waives (§4.2). ``draws``: {firm: DecisionDraws} (default:
        each firm draws its own)."""
        firms = self.enterprises
        everyone = list(firms)  # the phase's firms, walked several times before they act
        self.intl_share = self.sector_shares(everyone, "intl_std", len(SECTORS))
        self.iso_share = self.sector_shares(everyone, "iso9001", len(SECTORS))
        contenders = [f for f in everyone if f.is_contender(year)]
        self.counts["title_contenders"] = len(contenders)
        for firm in everyone:
            firm.last_invested = []
        if draws is None:
            firms.shuffle_do("decide", lv, year)
        else:
            for firm in everyone:
                firm.decide(lv, year, draws[firm])
        for firm in contenders:  # what the contenders did
            self.counts["contender_upgrades"] += "upgrade" in firm.last_invested
            self.counts["contender_intl_adoptions"] += "intl_standard" in firm.last_invested

    def production(self, lv: Levers, year: int) -> None:
        """Production and finances; the city pays the §3.1 procurement price premium on what
        it buys from title holders and its institutes the fees it waives (§4.2;
        ``finance.produce``)."""
        self.branded_output = self.fee_waived = 0.0
        self.enterprises.shuffle_do("produce", lv)
        # what the autonomous trend took off the month's COD a year (t)
        cod = sum(f.pollution_load() * f.discharge_ratio for f in self.enterprises)
        self.counts["cod_cut_trend"] += (1.0 / self.p.monthly_discharge_trend - 1.0) * cod
        self.ledger.book(year, "city", "fee_waiver", self.fee_waived)
        # the premium the preferred holders earn is what the city pays (§3.1)
        self.ledger.book(year, "city", "procurement_preference",
                         self.procurement_premium_rate(lv) * self.branded_output
                         / MONTHS_PER_YEAR * YUAN_PER_MILLION)

    def procurement_premium_rate(self, lv: Levers) -> float:
        """The §3.1 price premium on all the government buys from a preferred title holder,
        a share of its output a year: what the holder earns and the city pays."""
        pref = lv.procurement.preference_share
        return (lv.procurement.price_premium * self.p.government_purchase_share
                * (1.0 + self.p.procurement_sales_gain) * pref)

    def national_spot_checks(self, t: int, draws: dict | None = None) -> None:
        """§2.2.1d: the national regulator's monthly samples, weighted towards problem firms
        and sectors against the mean weight of all firms (``government.national_spot_check``).
        ``draws``: {firm: (sample uniform, test uniform)}."""
        firms = self.enterprises
        weights = [f.sampling_weight(t) for f in firms]
        mean_weight = sum(weights) / len(weights) if weights else 1.0
        if draws is None:
            firms.shuffle_do("face_national_check", t, mean_weight)
        else:
            for firm in firms:
                firm.face_national_check(t, mean_weight, draws[firm])

    def record_spot_check(self, passed: bool) -> None:
        """Count one national sample of this month."""
        row = self.spot[self.steps - 1]
        row[0] += 1
        row[1] += passed

    def choose_inspected(self, lv: Levers, k: int,
                         keys: dict | None = None) -> list[Enterprise]:
        """Whom the city inspects: ``k`` firms at random (those with the smallest of a uniform
        key each, ``keys`` or drawn); tiered targeting (§3.3 graded files) shares the ``k`` among
        the grades in proportion to firms x ``grade_inspection_weight`` (the rounded
        cumulative share less the previous grades'), drawn at random within each grade from
        the worst, the rest at random among the others (``government.choose_inspected``)."""
        insp = lv.inspection
        eligible = [f for f in self.enterprises if f.tier == 0 or not insp.exempt_award_holders]
        if keys is None:
            keys = {f: self.random.random() for f in eligible}
        chosen = []
        if insp.targeting == "tiered":  # graded: the k shared among the grades
            weights = [getattr(insp.grade_inspection_weight, g) for g in GRADES]
            by_grade = [[f for f in eligible if f.grade == g] for g in range(len(GRADES))]
            total = sum(len(firms) * w for firms, w in zip(by_grade, weights, strict=True))
            cum, before, quota = 0.0, 0, [0] * len(GRADES)
            for g in range(len(GRADES)):
                if total > 0:
                    cum += len(by_grade[g]) * weights[g]
                    upto = round_half_up(k * cum / total)
                    quota[g], before = upto - before, upto
            for g in reversed(range(len(GRADES))):  # the worst grade first
                chosen += heapq.nsmallest(quota[g], by_grade[g], key=keys.get)
            k -= len(chosen)
        picked = set(chosen)
        rest = [f for f in eligible if f not in picked]
        return chosen + heapq.nsmallest(max(0, k), rest, key=keys.get)

    def city_inspections(self, lv: Levers, year: int, t: int, keys: dict | None = None,
                         draws: dict | None = None) -> None:
        """§3.3, §4.4: this month's share of the yearly inspection count (fractions carried
        over); the city pays for them and collects the fines (``government.city_inspection``).
        ``keys``: {firm: selection uniform}; ``draws``: {firm: InspectionDraws}."""
        self.inspection_carry += lv.inspection.spot_checks_per_year / MONTHS_PER_YEAR
        k = math.floor(self.inspection_carry)
        self.inspection_carry -= k
        inspected = self.choose_inspected(lv, k, keys)
        self.fines_yuan = 0.0
        if draws is None:
            AgentSet(inspected, random=self.random).shuffle_do("undergo_inspection", lv, t)
        else:
            for firm in inspected:
                firm.undergo_inspection(lv, t, draws[firm])
        n = len(inspected)
        self.counts["city_inspections"] += n
        self.ledger.book(year, "city", "inspection_cost",
                         n * lv.inspection.cost_per_inspection_yuan)
        # §4.4 fines to the treasury of interpretation.quality_fines_treasury (the province's
        # under vertical management); the inspections are the city's (§4.2)
        self.ledger.book(year, self.scenario.interpretation.quality_fines_treasury,
                         "fines_collected", -self.fines_yuan)

    def tighten_standards(self, year: int) -> None:
        """January (§2.2.4): a source's limit becomes its sector's limit for existing sources
        this year where that is tighter (``government.tighten_standards``)."""
        env = self.scenario.environment
        for firm in self.enterprises:
            firm.discharge_limit = min(firm.discharge_limit,
                                       standard_limit(env, SECTORS[firm.sector], year, False))

    def review_sources(self, lv: Levers, year: int, t: int, draws: dict | None = None) -> None:
        """§3.3: each source is reviewed with chance ``1 / source_review_months`` (``draws``:
        {firm: uniform}) or when its order falls due (``Enterprise.undergo_review``); the
        city collects the fines."""
        rate = 1.0 / self.scenario.interpretation.source_review_months
        self.review_fines_yuan = self.cod_closed = 0.0
        rnd = self.random
        for firm in self.enterprises:
            u = draws[firm] if draws is not None else rnd.random()
            firm.undergo_review(lv, t, u < rate)
        self.counts["cod_cut_closures"] += self.cod_closed
        self.ledger.book(year, "city", "discharge_fines", -self.review_fines_yuan)

    def record_inspection(self, failed: bool) -> None:
        """Count one city inspection of this month."""
        row = self.city_checks[self.steps - 1]
        row[0] += 1
        row[1] += not failed

    def update_beliefs(self, t: int) -> None:
        """Each sector x supervision-tier anchor moves towards the annualised inspection rate
        seen among its firms this month; uninspected firms drift towards their anchor
        (``government.update_beliefs``)."""
        alive = [[0, 0] for _ in SECTORS]
        seen = [[0, 0] for _ in SECTORS]
        for f in self.enterprises:
            sector, watched = f.sector, f.watched
            alive[sector][watched] += 1
            if f.inspected_in == t:
                seen[sector][watched] += 1
        for s in range(len(SECTORS)):
            for w in (0, 1):
                if alive[s][w]:
                    rate = min(seen[s][w] * MONTHS_PER_YEAR / alive[s][w], 1.0)
                    self.anchors[s][w] += self.p.peer_learning * (rate - self.anchors[s][w])
        self.enterprises.shuffle_do("update_belief", t)

    def round_open(self, tier: int, year: int) -> bool:
        """Whether title ``tier`` holds an award round in ``year`` (``awards.closed_years``;
        ``parameters.open_rounds``)."""
        return year not in self.p.closed_years[tier]

    def field_cutoffs(self) -> list[float]:
        """Per tier (index 0: NaN), the field's base-year cut-off (``government.field_cutoffs``;
        ODD §7.7): the judging score, before noise, of the firm ranked ``ceil(recommendations)``
        (at least first) among those eligible now (if none is, among all firms as if raised
        to the tier's capability), less ``judging_noise`` times the standard normal quantile
        of ``field_pass_rate``, so that such a candidate wins with that chance."""
        aw, p = self.scenario.awards, self.p
        out = [math.nan] * len(TIERS)
        for t in range(1, len(TIERS)):
            pool = [f.judging_base(f.capability) for f in self.enterprises if f.eligible_for(t)]
            if not pool:
                pool = [f.judging_base(max(f.capability, p.min_capability[t]))
                        for f in self.enterprises]
            if not pool:
                continue
            pool.sort(reverse=True)
            rank = max(1, math.ceil(p.recommendations[t]))
            out[t] = (pool[min(rank, len(pool)) - 1]
                      - aw.judging_noise * NormalDist().inv_cdf(p.field_pass_rate[t]))
        return out

    def review_titles(self, t: int, year: int | None = None) -> None:
        """§3.1: a title is withdrawn when the holder's file shows this month a failed national
        spot check or counterfeit goods found; a title due for re-examination is kept for
        another ``title_validity_months`` if the firm still qualifies and its tier still holds
        rounds this year, and lapses otherwise (``government.review_titles``)."""
        validity = self.scenario.awards.title_validity_months
        year = self.years[0] + t // 12 if year is None else year
        for f in self.enterprises:
            if f.tier == 0:
                continue
            if f.file_national_failed & 1 or f.file_counterfeit_found & 1:
                f.lose_title()
                self.counts["titles_withdrawn"] += 1
            elif f.title_expires <= t:
                if f.eligible_for(f.tier) and self.round_open(f.tier, year):
                    f.title_expires = t + validity
                else:
                    f.lose_title()
                    self.counts["titles_lapsed"] += 1

    def award_round(self, lv: Levers, year: int, draws: dict | None = None) -> None:
        """§3.1, §4.2, December: from the highest tier down, for each tier holding a round this
        year, the applicants who still qualify are scored by capability, certification, size
        and noise. Under ``awards.judging = "cutoff"`` the city recommends its best applicants
        by their score before noise (the recommendations stochastically rounded) and those whose
        score reaches the field's cut-off win; under ``"quota"`` the quota (stochastically
        rounded) of best scores wins and the lowest winning score becomes the tier's cut-off.
        Winners take the title and the one-time rewards of province and city; perceived win
        chances follow win ratios (``government.award_titles``). ``draws``: per tier, (the
        rounding uniform, {firm: normal judging noise})."""
        aw, p = self.scenario.awards, self.p
        firms = list(self.enterprises)
        if draws is None:
            draws = {t: (self.random.random(), {f: self.random.gauss() for f in firms
                                                if f.applying == t})
                     for t in range(1, len(TIERS))}
        self.last_scores = {}
        for t in range(len(TIERS) - 1, 0, -1):
            applicants = [f for f in firms if f.applying == t]
            is_open = self.round_open(t, year)
            eligible = [f for f in applicants if is_open and f.eligible_for(t)]
            u_round, noise = draws[t]
            score = {f: f.judging_base(f.capability) + aw.judging_noise * noise[f]
                     for f in eligible}
            self.last_scores[t] = score  # for tests and followers
            if aw.judging == "cutoff":
                # the city recommends by what it knows of its firms (their score before the
                # judges' noise); the field's judges pass those reaching the cut-off
                k = stochastic_round(p.recommendations[t], u_round)
                ranked = sorted(eligible, key=lambda f: -f.judging_base(f.capability))
                recommended = ranked[:k]
                self.counts["title_recommendations"] += len(recommended)
                winners = [f for f in recommended if score[f] >= self.title_cutoff[t]]
            else:
                k = stochastic_round(p.quota[t], u_round)
                winners = top_k(eligible, score.get, k)
            province, city = reward_amounts(lv, year, t)
            for f in winners:
                f.tier = t
                f.title_expires = self.steps - 1 + aw.title_validity_months
                f.cash += (province + city) / YUAN_PER_MILLION
                f.record("title_won")
            if winners:
                self.ledger.book(year, "province", REWARD_LINE_BY_TIER[t],
                                 province * len(winners))
                self.ledger.book(year, "city", REWARD_LINE_BY_TIER[t], city * len(winners))
            self.counts[f"titles_won_{TIERS[t]}"] += len(winners)
            if winners and aw.judging == "quota":  # the cut-off firms read under own_score
                self.title_cutoff[t] = min(score[f] for f in winners)
            if applicants:
                self.win_belief[t] += p.win_belief_learning * (len(winners) / len(applicants)
                                                               - self.win_belief[t])
        for f in firms:
            f.applying = 0

    def pay_interest_subsidies(self, year: int) -> None:
        """§3.4: the city pays the month's interest subsidies (``government.pay_subsidies``),
        and a month of its treatment plants (outside the plan; ``wastewater``)."""
        self.subsidy_paid = 0.0
        self.enterprises.shuffle_do("receive_interest_subsidy")
        self.ledger.book(year, "city", "interest_subsidy", self.subsidy_paid)
        # a month of the city's treatment plants (outside the plan), for the tonnes they are
        # built to remove at the levelised cost per tonne
        self.ledger.book(year, "city", "urban_wastewater_treatment",
                         self.plants_running(year) * self.plant_tonnes()
                         * self.scenario.environment.treatment_cost_yuan_per_tonne
                         / MONTHS_PER_YEAR)

    def exit_and_entry(self, lv: Levers) -> None:
        """Firms leave; then every empty slot of the city (it holds at most the initial number
        of firms) is filled with chance ``entry_rate`` by an entrant with the output and
        discharge technology of its day and no title; under §3.3 permits an entrant over the
        discharge limit is refused (``QualityCityModel._exit_and_entry``; ODD §7.9)."""
        self.enterprises.shuffle_do("consider_exit")
        sc, p, rnd = self.scenario, self.p, self.random
        empty = self.n_firms - len(self.enterprises)
        n_entrants = sum(rnd.random() < p.entry_rate for _ in range(empty))
        sectors, sizes = self._draw_sector_and_size(n_entrants)
        years_on = self.steps / MONTHS_PER_YEAR
        for sector, size in zip(sectors, sizes, strict=True):
            attrs = self.draw_enterprise(sector, size, 0.0, p.entrant_capability_shift)
            attrs["discharge_ratio"] *= (1.0 + sc.environment.discharge_trend) ** years_on
            year = self.years[0] + max(self.steps - 1, 0) // MONTHS_PER_YEAR
            name = SECTORS[sector]
            attrs["discharge_limit"] = min(standard_limit(sc.environment, name, year, True),
                                           standard_limit(sc.environment, name, year, False))
            attrs["output"] *= (1.0 + sc.city.output_growth) ** years_on
            attrs["cash"] = attrs["output"] * sc.city.cash_months / MONTHS_PER_YEAR
            self.admit_entrant(lv, attrs)

    def admit_entrant(self, lv: Levers, attrs: dict) -> Enterprise | None:
        """An entrant with attributes ``attrs`` (drawn for its day) starts with no title and
        its sector's normal-tier inspection belief, unless under §3.3 permits it is over the
        discharge limit and refused (``demography.admit``)."""
        if lv.permits.refuse_over_limit and attrs["discharge_ratio"] > attrs["discharge_limit"]:
            self.counts["permits_refused"] += 1
            return None
        firm = Enterprise(self, {**attrs, "tier": 0}, belief=self.anchors[attrs["sector"]][0])
        self.counts["entrants"] += 1
        return firm

    def construction_supervision(self, lv: Levers, year: int, t: int) -> None:
        """§2.2.2, §3.3: contractors choose effort and complete works; the city pays the
        supervision station, collects penalties for failed acceptance and pays any excellence
        reward (``QualityCityModel._construction``)."""
        con = self.contractors
        con.shuffle_do("choose_effort", lv)
        self.works_tally = [[0] * 5 for _ in SIZES]
        self.supervised_works = self.failed_works = self.excellent_works = 0
        con.shuffle_do("complete_works", lv)
        self.works[t] = np.sum(self.works_tally, axis=0)
        cl = lv.construction
        self.ledger.book(year, "city", "construction_supervision",
                         cl.cost_per_supervised_work_yuan * self.supervised_works)
        self.ledger.book(year, "city", "construction_penalties",
                         -cl.failure_penalty_yuan * self.failed_works)
        self.ledger.book(year, "city", "reward_excellent_works",
                         cl.excellence_reward_yuan * self.excellent_works)

    def service_standards(self, lv: Levers, year: int, month: int,
                          draws: dict | None = None) -> None:
        """§2.2.3: service firms adopt standards (the city pays any grant); §3.2, December:
        the demonstration-unit contest among adopters without a title, by size and noise
        (``QualityCityModel._services``). ``draws``: {firm: (review, adopt) uniforms}."""
        firms = self.service_firms
        n = len(SERVICE_SECTORS)
        everyone = list(firms)
        self.service_std_share = self.sector_shares(everyone, "standard", n)
        self.service_demo_share = self.sector_shares(everyone, "demonstration", n)
        self.service_grants = 0.0
        if draws is None:
            firms.shuffle_do("consider_standards", lv)
        else:
            for firm in everyone:
                firm.consider_standards(lv, draws[firm])
        self.ledger.book(year, "city", "service_standard_grant", self.service_grants)
        if month == 12:
            self.demonstration_contest(lv, year)

    def demonstration_contest(self, lv: Levers, year: int, draws: tuple | None = None) -> None:
        """§3.2, December: the year's demonstration titles (stochastically rounded) go
        to the largest adopters without one, with noise; the city pays each winner's reward
        (``services.award_demonstrations``). ``draws``: (the rounding uniform, {firm: normal
        judging noise})."""
        sl, firms = lv.services, self.service_firms
        eligible = [f for f in firms if f.standard and not f.demonstration]
        if draws is None:
            draws = (self.random.random(), {f: self.random.gauss() for f in eligible})
        u_round, z = draws
        k = stochastic_round(sl.demonstration_titles_per_year, u_round)
        noise = self.scenario.services.judging_noise
        score = {f: math.log10(max(f.revenue, MIN_OUTPUT_FOR_LOG)) + noise * z[f]
                 for f in eligible}
        self.last_contest_scores = score  # for tests and followers
        winners = top_k(eligible, score.get, k)
        for f in winners:
            f.demonstration = True
        self.ledger.book(year, "city", "reward_service_demonstration",
                         sl.demonstration_reward_yuan * len(winners))
        if eligible:
            self.demo_win_belief += self.p.win_belief_learning * (
                len(winners) / len(eligible) - self.demo_win_belief)

    # -- measurement (QualityCityModel._measure) ---------------------------------------------
    def measure(self, t: int) -> None:
        """KPIs of §2.2 with the definitions of :mod:`kpis`, trailing 12-month rates, counts
        and cumulative spending (``QualityCityModel._measure``; ODD §7.10)."""
        sc = self.scenario
        firms = list(self.enterprises)
        n = len(firms)
        output = np.fromiter((f.output for f in firms), float, n)
        sector = np.fromiter((f.sector for f in firms), np.int8, n)
        intl = np.fromiter((f.intl_std for f in firms), bool, n)
        pass_prob = np.fromiter((f.pass_probability() for f in firms), float, n)
        ratio = np.fromiter((f.discharge_ratio for f in firms), float, n)
        load = np.fromiter((f.pollution_load() for f in firms), float, n)
        limit = np.fromiter((f.discharge_limit for f in firms), float, n)
        alive = np.ones(n, dtype=bool)
        self.cod[t] = float((load * ratio).sum()) / MONTHS_PER_YEAR

        lo = max(0, t - 11)
        spot = self.spot[lo:t + 1].sum(axis=0)
        city = self.city_checks[lo:t + 1].sum(axis=0)
        works, other, failed, excellent, hidden = self.works[lo:t + 1].sum(axis=0)
        contractors = list(self.contractors)
        services = list(self.service_firms)
        key_codes = np.array(sorted(KEY_SECTORS), dtype=np.int8)
        c = {
            "intl_standard_share": kpis.intl_standard_share(output, intl, alive),
            "factory_pass_rate": kpis.factory_pass_rate(output, pass_prob, alive),
            "spot_check_pass_rate": kpis.spot_check_pass_rate(spot[1], spot[0]),
            "key_industry_intl_level_share": kpis.key_industry_intl_level_share(
                output, sector, intl, pass_prob, alive, key_codes,
                sc.interpretation.intl_advanced_pass_probability),
            "pollution_compliance_rate": kpis.pollution_compliance_rate(
                ratio, load, alive, sc.interpretation.pollution_compliance_weighting, None,
                limit),
            "cod_reduction": self._cod_reduction(t),
            "construction_standard_share": kpis.construction_standard_share(works, hidden),
            "construction_acceptance_rate": kpis.construction_acceptance_rate(other, failed),
            "construction_excellence_rate": kpis.construction_excellence_rate(other, excellent),
            "service_standard_share": kpis.service_standard_share(
                np.fromiter((f.standard for f in services), bool, len(services))),
            "city_inspection_pass_rate": kpis.spot_check_pass_rate(city[1], city[0]),
            "iso9001_share": kpis.share(np.fromiter((f.iso9001 for f in firms), bool, n), alive),
            "ccc_share": kpis.share(np.fromiter((f.ccc for f in firms), bool, n),
                                    np.fromiter((f.ccc_required for f in firms), bool, n)),
            "counterfeiters_active": sum(f.counterfeit for f in firms),
            "firms_alive": n,
            "cod_tonnes": float(self.cod[lo:t + 1].sum() * 12 / (t + 1 - lo)),
            **dict(zip(("domestic_cod_tonnes", "cod_cut_urban_treatment"), self.domestic(t),
                       strict=True)),
            "watched_firms": sum(f.watched for f in firms),
            "contractors_watched": sum(con.watched for con in contractors),
            "contractors_cutting_corners": sum(con.effort == CUT_CORNERS for con in contractors),
            "demonstration_units": sum(f.demonstration for f in services),
            "brand_service_projects": sum(f.demonstration for f in services),
        }
        for tier in range(1, len(TIERS)):
            c[f"titles_held_{TIERS[tier]}"] = sum(f.tier == tier for f in firms)
        c.update(self.counts)
        spent = self.ledger.amounts[: t // 12 + 1]
        c["spending_province"] = float(spent[:, 0].sum())
        c["spending_city"] = float(spent[:, 1].sum())
        c["spending_total"] = c["spending_province"] + c["spending_city"]
        self.current = c

    def _year_cod(self, year: int) -> float:
        i = (year - self.years[0]) * 12
        return float(self.cod[i:i + 12].sum())

    def plants_running(self, year: int) -> int:
        """Municipal treatment plants running in ``year`` (outside the plan): those the levers
        of each year from the first commissioned in January (``wastewater.plants_running``)."""
        return sum(self.scenario.levers_for(y).urban_wastewater.plants_per_year
                   for y in range(self.years[0], year + 1))

    def plant_tonnes(self) -> float:
        """COD (t a year) one treatment plant is built to remove: capacity x load x 365 days
        x kg removed per m3 (``wastewater.plant_capacity_tonnes``)."""
        env = self.scenario.environment
        treated_m3 = env.treatment_plant_m3_per_day * env.treatment_load_factor * DAYS_PER_YEAR
        return treated_m3 * env.treatment_cod_removed_kg_per_m3 / KG_PER_TONNE

    def domestic(self, t: int) -> tuple[float, float]:
        """Domestic COD (t a year) in month ``t``'s year after the plants, and what they take
        off: the first year's industrial COD x ``non_industrial_cod_ratio``, moved by its
        trend, less the plants' capacity, which takes at most ``treatment_max_removal_share``
        of it (``wastewater.domestic_cod``); NaN until the first year is complete."""
        if t < 11:
            return float("nan"), float("nan")
        env, year = self.scenario.environment, self.years[0] + t // 12
        if self._base_industrial_cod is None:
            self._base_industrial_cod = self._year_cod(self.years[0])
        before = (self._base_industrial_cod * env.non_industrial_cod_ratio
                  * (1.0 + env.non_industrial_cod_trend) ** (year - self.years[0]))
        removed = min(self.plants_running(year) * self.plant_tonnes(),
                      env.treatment_max_removal_share * before)
        return before - removed, removed

    def _cod_total(self, industrial: float, year: int) -> float:
        """COD in the target's scope (``interpretation.cod_scope``): industrial, or plus the
        domestic part after the treatment plants (:meth:`domestic`)."""
        if self.scenario.interpretation.cod_scope == "industrial":
            return industrial
        return industrial + self.domestic(12 * (year - self.years[0]) + 11)[0]

    def _cod_reduction(self, t: int) -> float:
        """§2.2.4b: the trailing 12 months' COD against the base year's, once it is complete."""
        base_year = self.scenario.cod_base_year
        if t < (base_year - self.years[0]) * 12 + 11 or t < 11:
            return float("nan")
        base = self._cod_total(self._year_cod(base_year), base_year)
        now = self._cod_total(float(self.cod[t - 11:t + 1].sum()), self.years[0] + t // 12)
        return kpis.cod_reduction(now, base)


def _reporter(name: str):
    return lambda model: model.current.get(name, np.nan)
