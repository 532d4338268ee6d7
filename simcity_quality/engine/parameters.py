"""The scenario's numbers as named records for the compiled rules, gathered in one place.

A compiled (numba) rule cannot read a pydantic scenario, so each mechanism gets a
``typing.NamedTuple`` of plain numbers (and small arrays indexed by title tier), with names in
the plan's terms. They are built here from the scenario and the levers in force, once per
year (:class:`ParameterCache`), so the rules read ``p.upgrade_gain`` rather than a position in
an array.
"""

from itertools import repeat
from typing import NamedTuple

import numpy as np

from ..categories import GRADES, SIZES, TIERS
from ..scenario import Levers, Scenario
from .shared import MONTHS_PER_YEAR, YUAN_PER_MILLION, reward_amounts


class DecisionParameters(NamedTuple):
    """What a reviewing enterprise weighs (docs/ODD.md §7.2); money in million yuan."""

    decision_rate: float
    logit_scale: float
    horizon_years: float
    imitation_weight: float
    # §4.4 counterfeiting: the gain against the expected sanction
    counterfeit_gain: float
    counterfeit_fine_million: float
    revocation_probability: float
    referral_cost_million: float  # referral probability x criminal cost
    detection_probability: float
    ladder: bool  # inspection.sanctions == "ladder" (Product Quality Law arts. 17, 49-50)
    goods_fine_share: float  # the ladder's counterfeiting fine, share of a year's output
    notice_sales_loss: float  # sales and brand value lost on a public notice, share of output
    suspension_months: float  # the ladder's suspension for rectification (art. 17)
    ladder_memory_mask: np.uint64  # the quality file's bits of the ladder's memory
    # the published grade's present value per grade (share of a year's output, 0..3 = A..D),
    # from the grade moves the firms saw last year (government.grade_values; zero until then)
    grade_value: np.ndarray
    # per grade, the discounted years a firm starting there spends at grades worse than the
    # procurement preference admits (procurement.max_grade), over its horizon (same rates)
    years_unpreferred: np.ndarray
    # the same at grades worse than a title admits (awards.max_grade) and than a key project
    # admits (subsidy.max_grade)
    years_untitled: np.ndarray
    years_unsubsidised: np.ndarray
    # key projects chosen per eligible firm at the last January selection (zero until then)
    key_project_rate: float
    # §3.4 loans and the key-project interest subsidy
    loan_share: float
    loan_years: float
    loan_interest_rate: float
    interest_subsidy_rate: float
    key_project_loan: bool  # selection brings the upgrade's loan to a firm without credit
    subsidy_additionality: float
    subsidy_misuse: float
    # the investments
    upgrade_cost: float
    upgrade_gain: float
    quality_premium: float
    intl_cost: float
    intl_premium: float
    intl_min_capability: float
    certification_cost_million: np.ndarray  # ISO 9001 or CCC, by size class
    failed_check_fine_million: float  # what a missing CCC costs when inspected
    iso_premium: float
    iso_substantive_share: float
    iso_gain: float
    abatement_cost: float
    abatement_fraction: float
    discharge_fee_yuan_per_tonne: float
    discharge_fine_million: float
    refuse_over_limit: bool
    fine_fee_multiple: float  # a review's fine, x the yearly discharge fee owed (§3.3)
    fines_per_year: float  # fines a year over the limit while orders are renewed
    # §3.1 procurement preference for title holders (procurement_rates)
    procurement_extra_sales: float  # preference x purchase share x sales gain
    procurement_premium: float  # price premium x purchase share x (1 + sales gain) x preference
    procurement_max_grade: int  # the worst published grade (0..3 = A..D) still preferred


class TitleTable(NamedTuple):
    """Per title tier (index 0 = no title, 1-3 the tiers of §4.2), for applications."""

    min_capability: np.ndarray
    iso_required: np.ndarray  # bool
    open_round: np.ndarray  # bool: the tier holds an award round this year (awards.closed_years)
    reward_million: np.ndarray  # province plus city, paid once to a winner
    brand_premium: np.ndarray  # margin a title adds, share of output a year
    application_cost_million: np.ndarray
    clean_record_mask: np.uint64  # the quality file's bits a failed national check must avoid
    own_score: bool  # behaviour.title_belief == "own_score": own score against the cut-off
    judging_noise: float  # the judges' score: capability + bonuses + judging_noise x N(0, 1)
    certification_bonus: float
    size_bonus: float
    max_grade: int  # the worst published grade (0..3 = A..D) eligible for a title (§3.3)


class ProductionParameters(NamedTuple):
    """A month of production and finances (docs/ODD.md §7.3)."""

    monthly_growth: float
    monthly_capability_drift: float
    monthly_discharge_trend: float
    intl_premium: float
    iso_premium: float
    counterfeit_gain: float
    grade_sales_loss: np.ndarray  # profit lost a year per published grade, share of output
    procurement_extra_sales: float  # preference x purchase share x sales gain
    procurement_premium: float  # price premium x purchase share x (1 + sales gain) x preference
    procurement_max_grade: int  # the worst published grade (0..3 = A..D) still preferred
    discharge_fee_yuan_per_tonne: float
    city_fees_million: np.ndarray  # by size class: the city's fees a firm pays a year, net
    fees_waived_million: np.ndarray  # by size class: what the city waives of them a year


class ExitParameters(NamedTuple):
    """Exit and entry (docs/ODD.md §7.9)."""

    exit_hazard: np.ndarray  # per size class, a month
    bankruptcy_floor_with_credit: float
    bankruptcy_floor_without_credit: float
    entry_rate: float


_ONCE: dict[tuple, tuple[object, object]] = {}


def once(record, build, *args):
    """``build(record, *args)``, made once per scenario record and kept while it is cached.

    Scenario records are frozen, so a table built from one never changes; the monthly rules
    read the same small tables (a number per category, tier or grade) every month, and
    building one (a ``getattr`` per category and a new array) costs more than using it. The
    cache holds the record itself, so its ``id`` cannot be reused by another record while
    the entry lives. Arrays returned are shared: callers must not write into them (make
    them read-only in ``build``).
    """
    key = (id(record), build, *args)
    hit = _ONCE.get(key)
    if hit is None or hit[0] is not record:
        if len(_ONCE) >= 1 << 12:  # many scenarios in one process: start again
            _ONCE.clear()
        hit = _ONCE[key] = (record, build(record, *args))
    return hit[1]


def frozen(values) -> np.ndarray:
    """``np.array(values)``, read-only (a table :func:`once` shares)."""
    out = np.array(values)
    out.flags.writeable = False
    return out


def as_numbers(values):
    """``values`` (a record of this module, or an array) with each array as a tuple of the
    same numbers, for a compiled per-firm loop: numba counts the references to every array an
    inlined helper is given, not to tuples of numbers."""
    if isinstance(values, np.ndarray):
        return tuple(values.tolist())
    if not any(map(isinstance, values, repeat(np.ndarray))):  # no generator: runs monthly
        return values
    return type(values)(*(as_numbers(v) if isinstance(v, np.ndarray) else v for v in values))


def decision_parameters(sc: Scenario, lv: Levers) -> DecisionParameters:
    """The decision rule's numbers under levers ``lv``."""
    b, m, insp, s = sc.behaviour, sc.market, lv.inspection, lv.subsidy
    return DecisionParameters(
        decision_rate=b.decision_rate, logit_scale=b.logit_scale, horizon_years=b.horizon_years,
        imitation_weight=b.imitation_weight,
        counterfeit_gain=m.counterfeit_gain,
        counterfeit_fine_million=insp.fine_yuan * insp.counterfeit_fine_multiplier
        / YUAN_PER_MILLION,
        revocation_probability=insp.revocation_probability,
        referral_cost_million=insp.criminal_referral_probability * b.criminal_cost_yuan
        / YUAN_PER_MILLION,
        detection_probability=insp.detection_probability,
        ladder=insp.sanctions == "ladder",
        goods_fine_share=insp.counterfeit_goods_multiple * insp.goods_value_share,
        notice_sales_loss=m.notice_sales_loss,
        suspension_months=float(insp.suspension_months),
        ladder_memory_mask=np.uint64((1 << insp.ladder_memory_months) - 1),
        grade_value=np.zeros(len(GRADES)), years_unpreferred=np.zeros(len(GRADES)),
        years_untitled=np.zeros(len(GRADES)), years_unsubsidised=np.zeros(len(GRADES)),
        key_project_rate=0.0,
        loan_share=s.loan_share, loan_years=float(s.loan_years),
        loan_interest_rate=s.loan_interest_rate, interest_subsidy_rate=s.interest_subsidy_rate,
        key_project_loan=bool(s.key_project_loan),
        subsidy_additionality=b.subsidy_additionality, subsidy_misuse=b.subsidy_misuse,
        upgrade_cost=b.upgrade_cost, upgrade_gain=b.upgrade_gain,
        quality_premium=m.quality_premium,
        intl_cost=b.intl_cost, intl_premium=m.intl_premium,
        intl_min_capability=b.intl_min_capability,
        certification_cost_million=np.array([getattr(b.iso_cost_yuan, z) for z in SIZES])
        / YUAN_PER_MILLION,
        failed_check_fine_million=insp.fine_yuan / YUAN_PER_MILLION,
        iso_premium=m.iso_premium, iso_substantive_share=b.iso_substantive_share,
        iso_gain=b.iso_gain,
        abatement_cost=b.abatement_cost, abatement_fraction=b.abatement_fraction,
        discharge_fee_yuan_per_tonne=sc.environment.discharge_fee_yuan_per_tonne,
        discharge_fine_million=insp.discharge_fine_yuan / YUAN_PER_MILLION,
        refuse_over_limit=bool(lv.permits.refuse_over_limit),
        fine_fee_multiple=sc.environment.fine_fee_multiple,
        fines_per_year=MONTHS_PER_YEAR / sc.environment.deadline_months,
        **procurement_rates(sc, lv),
        procurement_max_grade=GRADES.index(lv.procurement.max_grade),
    )


def procurement_rates(sc: Scenario, lv: Levers) -> dict[str, float]:
    """The §3.1 preference's two rates, each a share of a preferred holder's output a year:
    the extra government sales it brings (``procurement_extra_sales``, earning the firm's
    margin) and the price premium on all the government buys from it
    (``procurement_premium``, which the city pays). One definition for the firm's profit,
    its decisions and the city's ledger."""
    m, pref = sc.market, lv.procurement.preference_share
    return {"procurement_extra_sales": pref * m.government_purchase_share
            * m.procurement_sales_gain,
            "procurement_premium": (lv.procurement.price_premium * m.government_purchase_share
                                    * (1.0 + m.procurement_sales_gain) * pref)}


def open_rounds(aw, year: int) -> np.ndarray:
    """Per tier (index 0 unused, False), whether it holds an award round in ``year``
    (``aw``: the scenario's ``awards``; ``closed_years`` lists the years it does not)."""
    return np.array([False, *(year not in getattr(aw.closed_years, t) for t in TIERS[1:])])


def title_table(sc: Scenario, lv: Levers, year: int) -> TitleTable:
    """Per tier: eligibility, rewards in ``year`` and application costs under ``lv``."""
    aw = sc.awards
    tiers = TIERS[1:]

    def by_tier(group):
        return np.array([0.0, *(float(getattr(group, t)) for t in tiers)])

    rewards = [sum(reward_amounts(lv, year, t)) / YUAN_PER_MILLION
               for t in range(1, len(TIERS))]
    return TitleTable(
        min_capability=by_tier(aw.min_capability),
        iso_required=np.array([False, *(bool(getattr(aw.iso_required, t)) for t in tiers)]),
        open_round=open_rounds(aw, year),
        reward_million=np.array([0.0, *rewards]),
        brand_premium=by_tier(sc.market.brand_premium),
        application_cost_million=by_tier(aw.application_cost_yuan) / YUAN_PER_MILLION,
        clean_record_mask=np.uint64((1 << aw.clean_record_months) - 1),
        own_score=sc.behaviour.title_belief == "own_score",
        judging_noise=aw.judging_noise, certification_bonus=aw.certification_bonus,
        size_bonus=aw.size_bonus, max_grade=GRADES.index(aw.max_grade),
    )


def production_parameters(sc: Scenario, lv: Levers) -> ProductionParameters:
    """A month of production under levers ``lv``."""
    m = sc.market
    fees = np.array([sc.city.city_fees_yuan * getattr(sc.city.fee_paying_share, z)
                     for z in SIZES]) / YUAN_PER_MILLION  # expected fees a firm of each size owes
    waived = lv.fees.fee_waiver_share * fees
    return ProductionParameters(
        monthly_growth=(1.0 + sc.city.output_growth) ** (1 / 12),
        monthly_capability_drift=sc.behaviour.capability_drift / 12.0,
        monthly_discharge_trend=(1.0 + sc.environment.discharge_trend) ** (1 / 12),
        intl_premium=m.intl_premium, iso_premium=m.iso_premium,
        counterfeit_gain=m.counterfeit_gain,
        grade_sales_loss=np.array([getattr(m.grade_sales_loss, g) for g in GRADES]),
        **procurement_rates(sc, lv),
        procurement_max_grade=GRADES.index(lv.procurement.max_grade),
        discharge_fee_yuan_per_tonne=sc.environment.discharge_fee_yuan_per_tonne,
        city_fees_million=fees - waived, fees_waived_million=waived,
    )


def exit_parameters(sc: Scenario) -> ExitParameters:
    """Exit hazards and bankruptcy floors (fixed for the run)."""
    b = sc.behaviour
    return ExitParameters(
        exit_hazard=np.array([getattr(b.exit_hazard, s) for s in SIZES]),
        bankruptcy_floor_with_credit=b.bankruptcy_floor_with_credit,
        bankruptcy_floor_without_credit=b.bankruptcy_floor_without_credit,
        entry_rate=b.entry_rate,
    )


class ParameterCache:
    """The records of a run, built once per year (the levers change only between years)."""

    def __init__(self, sc: Scenario):
        self.scenario = sc
        self._by_year: dict[int, tuple] = {}
        self.exits = exit_parameters(sc)

    def for_year(self, year: int) -> tuple[DecisionParameters, TitleTable, ProductionParameters]:
        """(decisions, titles, production) for ``year``; the decisions' and titles' small
        arrays as tuples, as the decision rule takes them (:func:`as_numbers`)."""
        if year not in self._by_year:
            lv = self.scenario.levers_for(year)
            self._by_year[year] = (as_numbers(decision_parameters(self.scenario, lv)),
                                   as_numbers(title_table(self.scenario, lv, year)),
                                   production_parameters(self.scenario, lv))
        return self._by_year[year]
