"""The scenario schema: every section and key of a scenario file, with unit, bounds and source.

A scenario is a TOML file validated against the schema below (loading: :mod:`.loading`).
Every value's unit, source and description live in the schema (``P(...)``), beside the
numbers in ``scenarios/*.toml``; ``simcity-quality params`` prints them and
``docs/parameters.md`` is generated from them.

Numbers live in the scenario files, not here: the schema has no numeric defaults, so
``baseline.toml`` is the one place a default value is set and every other scenario
``extends`` it. Levers come in two blocks with the same shape: ``[status_quo]`` applies
before ``policy.start_year`` and ``[policy]`` from then on; any lever ``[policy]`` does
not set keeps its status-quo value.
"""

import copy
import hashlib
import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from ..categories import EFFORTS, GRADES, SECTORS, SERVICE_SECTORS, SIZES, TIERS
from ..errors import ScenarioError
from .keys import flatten, suggest
from .priors import UncertainRange


def P(*, unit: str, source: str, description: str, reason: str | None = None,
      strict: bool | None = True, **bounds: Any):
    """A required scenario parameter with its unit, source and description (no default).

    ``strict``: a quoted "50000" or ``true`` is not a number (TOML integers still fill floats);
    pass ``None`` for choice (Literal) fields, where strictness does not apply.
    """
    extra = {"unit": unit, "source": source}
    if reason:
        extra["reason"] = reason
    if strict is not None:
        bounds["strict"] = strict
    return Field(..., description=description, json_schema_extra=extra, **bounds)


class _Strict(BaseModel):
    # allow_inf_nan=False: every float anywhere in a scenario (parameters, grouped values,
    # targets, uncertain ranges) must be a finite number; pydantic refuses inf and nan itself
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)


# a scenario's name is a label that also names its folder (results/NAME, -o OUT/NAME): no path
# separators or control characters, no leading dot or dash, no space at either end
SCENARIO_NAME = re.compile(r"(?![.\-\s])[^/\\\x00-\x1f\x7f]{1,100}(?<!\s)")


class SectorShares(_Strict):
    """Share of industrial enterprises in each sector (§2.2.1e key industries first)."""

    textiles_garments: float = P(unit="share", source="assumption", ge=0, le=1,
                                 description="cotton textiles and garments (§2.2.1e)",
                                 reason="textile machinery and cotton are the plan's named "
                                 "strengths (§3.1); no city census published")
    equipment_manufacturing: float = P(unit="share", source="assumption", ge=0, le=1,
                                       description="equipment manufacturing (§2.2.1e)",
                                       reason="named flagship firms (wheels, pumps, special "
                                       "vehicles, §3.1); no city census published")
    agrochemicals: float = P(unit="share", source="assumption", ge=0, le=1,
                             description="agricultural chemicals (§2.2.1e)",
                             reason="no city census published")
    electronics_electrical: float = P(unit="share", source="assumption", ge=0, le=1,
                                      description="electronics and electrical (§2.2.1e)",
                                      reason="no city census published")
    new_materials: float = P(unit="share", source="assumption", ge=0, le=1,
                             description="new high-tech materials (§2.2.1e)",
                             reason="no city census published")
    food_farm_processing: float = P(unit="share", source="assumption", ge=0, le=1,
                                    description="food and farm-product processing (§2.2.1f)",
                                    reason="an agricultural county-level city (§3.2 demo zones)")
    other: float = P(unit="share", source="assumption", ge=0, le=1,
                     description="all other industry", reason="remainder")

    @model_validator(mode="after")
    def _sums_to_one(self):
        total = sum(getattr(self, s) for s in SECTORS)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"sector shares must add up to 1, they add up to {total:.4f}")
        return self


class SectorCOD(_Strict):
    """COD discharged per million yuan of output by a firm exactly at its discharge standard."""

    textiles_garments: float = P(unit="t/million yuan", source="assumption", ge=0,
                                 description="COD coefficient, textiles (dyeing is COD-heavy)",
                                 reason="relative order of sectors' COD loads; scale is "
                                 "normalised by the COD index, not absolute tonnes")
    equipment_manufacturing: float = P(unit="t/million yuan", source="assumption", ge=0,
                                       description="COD coefficient, equipment",
                                       reason="low-water sector")
    agrochemicals: float = P(unit="t/million yuan", source="assumption", ge=0,
                             description="COD coefficient, agrochemicals",
                             reason="chemicals are COD-heavy")
    electronics_electrical: float = P(unit="t/million yuan", source="assumption", ge=0,
                                      description="COD coefficient, electronics",
                                      reason="low-water sector")
    new_materials: float = P(unit="t/million yuan", source="assumption", ge=0,
                             description="COD coefficient, new materials",
                             reason="moderate")
    food_farm_processing: float = P(unit="t/million yuan", source="assumption", ge=0,
                                    description="COD coefficient, food processing",
                                    reason="food processing is the classic COD source")
    other: float = P(unit="t/million yuan", source="assumption", ge=0,
                     description="COD coefficient, other industry (paper among it)",
                     reason="moderate average")


def _grouped(names: tuple[str, ...], label: str, unit: str, source: str, description: str,
             reason: str | None = None, kind: type = float, **bounds):
    """A field holding one value per size class or tier (of type ``kind``), each value
    checked against bounds."""
    model = create_model(f"{label}_{'_'.join(f'{k}{v}' for k, v in bounds.items())}".replace(
        ".", "p").replace("-", "m"), __base__=_Strict,
        **{n: (kind, Field(..., strict=True, **bounds)) for n in names})
    extra = {"unit": unit, "source": source, "group": list(names)}
    if reason:
        extra["reason"] = reason
    return model, Field(..., description=description, json_schema_extra=extra)


def _by_size(unit: str, source: str, description: str, reason: str | None = None, **bounds):
    """Annotated type for one value per size class (large / medium / small by output)."""
    model, field = _grouped(SIZES, "BySize", unit, source, description, reason, **bounds)
    return Annotated[model, field]


def _by_grade(unit: str, source: str, description: str, reason: str | None = None, **bounds):
    """Annotated type for one value per published grade of the quality file (``GRADES``)."""
    model, field = _grouped(GRADES, "ByGrade", unit, source, description, reason, **bounds)
    return Annotated[model, field]


def _by_effort(unit: str, source: str, description: str, reason: str | None = None, **bounds):
    """Annotated type for one value per construction effort level."""
    model, field = _grouped(EFFORTS, "ByEffort", unit, source, description, reason, **bounds)
    return Annotated[model, field]


def _by_sector(unit: str, source: str, description: str, reason: str | None = None,
               kind: type = float, **bounds):
    """Annotated type for one value per industrial sector (``SECTORS``)."""
    model, field = _grouped(SECTORS, f"BySector{kind.__name__}", unit, source, description,
                            reason, kind=kind, **bounds)
    return Annotated[model, field]


def _by_tier(unit: str, source: str, description: str, reason: str | None = None, **bounds):
    """Annotated type for one value per award tier above none (§3.1, §4.2)."""
    model, field = _grouped(TIERS[1:], "ByTier", unit, source, description, reason, **bounds)
    return Annotated[model, field]


def _flags_by_tier(source: str, description: str, reason: str | None = None):
    """Annotated type for one true/false flag per award tier above none."""
    model, field = _grouped(TIERS[1:], "FlagsByTier", "flag", source, description, reason,
                            kind=bool)
    return Annotated[model, field]


class City(_Strict):
    firms: int = P(unit="enterprises", source="assumption", ge=1, le=5_000_000,
                   description="industrial enterprises in the city at the start",
                   reason="a county-level manufacturing city has thousands of industrial firms, "
                   "most of them small; no city census published")
    resolution: int | None = Field(
        None, ge=1, le=5_000_000, strict=True,
        description="industrial enterprises simulated (at most city.firms; empty: all); small "
        "firms without a title are thinned, each simulated one standing for several, and money, "
        "counts and KPIs are still reported for the whole city (docs/ODD.md §7.13)",
        json_schema_extra={"unit": "simulated enterprises", "source": "a setting of the run, "
                           "not of the city"})
    contractors: int = P(unit="contractors", source="assumption", ge=0, le=1_000_000,
                         description="construction contractors building in the city (§2.2.2)",
                         reason="a few hundred qualified builders in a county-level city")
    service_firms: int = P(unit="firms", source="assumption", ge=0, le=5_000_000,
                           description="service firms in the sectors §2.2.3 lists",
                           reason="no city census published")
    base_year: int = P(unit="year", source="seed plan header (written around 2009-2010)",
                       ge=1990, le=2030, description="first simulated year (January)")
    sector_shares: SectorShares
    size_shares: _by_size("share", "assumption", "share of firms by size class",
                                   reason="Chinese industry: about 1 % large, 10 % medium "
                                   "among firms above designated size", ge=0, le=1)
    output_median: _by_size("million yuan/year", "assumption",
                                     "median annual output value by size class",
                                     reason="2003 size classes: large >= 300, medium >= 30 "
                                     "million yuan sales", gt=0)
    output_sigma: float = P(unit="log-sd", source="assumption", ge=0, le=3,
                            description="spread of log output within a size class",
                            reason="heavy-tailed firm sizes")
    output_growth: float = P(unit="1/year", source="docs: notes/modelling.md (10 % GDP growth)",
                             ge=-0.5, le=1, description="real growth of each firm's output")
    capability_mean: _by_size("logit of pass probability", "assumption",
                                       "mean real quality capability by size",
                                       reason="set so the base-year spot-check pass rate "
                                       "is near the national 0.876-0.938 of 2008-2011 "
                                       "(shared/data)", ge=-10, le=10)
    capability_sd: float = P(unit="logit", source="assumption", ge=0, le=5,
                             description="spread of capability within a size class",
                             reason="heterogeneous firms")
    intl_standard_share: _by_size("share", "assumption",
                                           "share of firms producing to international "
                                           "standards at the start (§2.2.1b)",
                                           reason="larger firms export and adopt more; the "
                                           "plan's 60 % target implies a lower start", ge=0,
                                           le=1)
    iso9001_share: _by_size("share", "assumption", "share with ISO 9001 at start "
                                     "(§3.3)", reason="larger firms certify more "
                                     "(buyers ask for it, notes/modelling.md)",
                                     ge=0, le=1)
    ccc_required_sectors: list[Literal[SECTORS]] = P(  # type: ignore[valid-type]
        unit="sector list", source="§3.3 (CCC where mandatory)",
        description="sectors whose products need CCC certification")
    ccc_share: float = P(unit="share", source="assumption", ge=0, le=1,
                         description="share of firms in CCC sectors holding CCC at the start",
                         reason="mandatory, so most comply")
    tier_share: _by_tier("share", "shared/data (1,957 China Famous Brand products "
                                  "2001-2007)", "share of firms holding each title at the start",
                                  ge=0, le=1)
    credit_access: _by_size("probability", "assumption",
                                     "probability a firm has access to bank credit",
                                     reason="small private firms in China were credit-"
                                     "constrained", ge=0, le=1)
    cash_months: float = P(unit="months of output", source="assumption", ge=0, le=60,
                           description="cash held at the start, in months of output",
                           reason="working capital")
    margin_mean: float = P(unit="share of output", source="assumption", ge=-1, le=1,
                           description="mean profit margin on output",
                           reason="a thin manufacturing margin")
    margin_sd: float = P(unit="share of output", source="assumption", ge=0, le=1,
                         description="spread of margins", reason="heterogeneous firms")
    moral_cost_mean: float = P(unit="logit utility", source="docs: notes/modelling.md "
                               "(Hokamp and Pickhardt 2010: honest and selfish types)",
                               ge=0, le=50, description="mean reluctance to counterfeit")
    moral_cost_sd: float = P(unit="logit utility", source="docs: notes/modelling.md", ge=0, le=50,
                             description="spread of reluctance to counterfeit")
    title_holder_size_weight: _by_size("relative weight", "assumption", "how much more often "
                                       "a firm of each size holds a title at the start "
                                       "(weights over their mean in the cohort)",
                                       reason="titles go to large firms first; about 1 % of "
                                       "firms are large", ge=0, le=1000)
    city_fees_yuan: float = P(unit="yuan/year", source="Guangdong Bureau of Quality and "
                              "Technical Supervision (2014), Zhanjiang fee reductions: 4.7 M yuan "
                              "of metrology fees for 430 firms and 2.8 M of inspection fees for "
                              "490 (about 5,000-11,000 yuan a firm; as read in the bureau's "
                              "report)", ge=0, le=1e7,
                              description="the city's own metrology-verification and product-"
                              "testing fees a fee-paying firm pays a year (§4.2: what the city "
                              "can reduce or waive)")
    fee_paying_share: _by_size("share of firms", "assumption (Zhanjiang 2014: 430-490 fee-"
                               "paying firms in a city of 7 M people; most small firms have no "
                               "instruments to verify)", "share of the city's firms of each "
                               "size that pay the city's metrology and testing fees", ge=0, le=1)


class Horizon(_Strict):
    end_year: int = P(unit="year", source="§2.2 (all targets 'by 2012')", ge=1990, le=2100,
                      description="last simulated year (to December)")


class Rewards(_Strict):
    province_national_award: float = P(unit="yuan per title", source="§4.2", ge=0,
                                       description="province: national quality award or China "
                                       "World Famous Brand")
    province_china_famous_brand: float = P(unit="yuan per title", source="§4.2", ge=0,
                                           description="province: China Famous Brand product "
                                           "or China Well-known Trademark")
    province_provincial_award: float = P(unit="yuan per title", source="assumption", ge=0,
                                         description="province: provincial-level award",
                                         reason="§4.2 names no provincial money for it; a lever "
                                         "to try")
    city_national_award: float = P(unit="yuan per title", source="§4.2", ge=0,
                                   description="city: national-level quality or brand award "
                                   "(national quality award, China World Famous Brand)")
    city_china_famous_brand: float = P(unit="yuan per title", source="§4.2", ge=0,
                                       description="city: national-level brand title (China "
                                       "Famous Brand product, China Well-known Trademark)")
    city_provincial_award: float = P(unit="yuan per title", source="§4.2", ge=0,
                                     description="city: provincial-level quality or brand award")
    stack_city_and_province: bool = P(unit="flag", source="§4.2 (reading)",
                                      description="both payers pay for the same title; if false "
                                      "the city pays only where the province pays nothing")
    province_start_year: int = P(unit="year", source="§4.2 (year left blank)", ge=1990, le=2100,
                                 description="first year the province's rewards are paid")


class Inspection(_Strict):
    spot_checks_per_year: float = P(unit="inspections/year", source="§3.3, §4.4", ge=0,
                                    description="the city's own product inspections per year "
                                    "(the enforcement lever; for the whole city)")
    targeting: Literal["uniform", "tiered"] = P(unit="rule", strict=None,
                                                source="§3.3 (tiered supervision)",
                                                description="whom the city inspects")
    grade_inspection_weight: _by_grade(
        "relative inspections per firm", "§3.3 (tiered supervision); docs: notes/modelling.md "
        "(Harrington 1988; Friesen 2003)", "under tiered targeting, how often a firm of each "
        "published grade is inspected relative to the others (the month's inspections are "
        "shared among the grades in proportion to firms x weight)", ge=0, le=1000)
    clean_inspections_to_leave: int = P(unit="inspections", source="docs: notes/modelling.md "
                                        "(Harrington 1988)", ge=1, le=20,
                                        description="consecutive clean city inspections that "
                                        "raise a firm's grade by one (to A only with ISO 9001)")
    sanctions: Literal["ladder", "flat"] = P(
        unit="rule", strict=None, source="Product Quality Law of the PRC (2000 revision), "
        "arts. 17, 49-50", description="ladder: a failed check is ordered corrected and "
        "re-inspected, a repeat within ladder_memory_months is published, then suspended, then "
        "revoked; counterfeiting is fined a multiple of the goods' value; flat: fine_yuan for "
        "every failed check, x counterfeit_fine_multiplier for counterfeiting")
    ladder_memory_months: int = P(unit="months", source="Product Quality Law art. 17 (reading: "
                                  "a repeat failure of the same firm)", ge=1, le=60,
                                  description="failed city inspections within this many months "
                                  "count as repeats on the ladder",
                                  reason="the law names no window; a year of spot-check rounds")
    goods_value_share: float = P(unit="share of a year's output", source="assumption", gt=0,
                                 le=1, description="value of the goods a counterfeiting case "
                                 "concerns (the base of the art. 49-50 fine)",
                                 reason="the law counts the goods of the case, sold and "
                                 "unsold: read as the batch and stock of one product line "
                                 "found, about two days of output; a month of output would "
                                 "fine the city's counterfeiters about 200 M yuan in the "
                                 "plan's first year")
    counterfeit_goods_multiple: float = P(unit="x goods' value", source="Product Quality Law "
                                          "arts. 49-50 (fines of 0.5 to 3 times the goods' "
                                          "value)", ge=0.5, le=3,
                                          description="fine for counterfeiting found under the "
                                          "ladder, a multiple of the goods' value")
    suspension_months: float = P(unit="months", source="Product Quality Law art. 17 (suspension "
                                 "of production for rectification)", ge=0, le=12,
                                 description="months of margin lost when a third failure "
                                 "within the memory suspends production",
                                 reason="the law names no length; a quarter")
    exempt_award_holders: bool = P(unit="flag", source="docs: notes/modelling.md (Sanlu 2008)",
                                   description="award holders exempt from city inspection")
    fine_yuan: float = P(unit="yuan", source="§4.4", ge=0,
                         description="fine for a product failing a city inspection")
    counterfeit_fine_multiplier: float = P(unit="x fine", source="§4.4 ('from severe')", ge=0,
                                           description="fine multiple when counterfeiting is found")
    revocation_probability: float = P(unit="probability", source="§4.4", ge=0, le=1,
                                      description="licence revoked when counterfeiting is found")
    criminal_referral_probability: float = P(unit="probability", source="§4.4", ge=0, le=1,
                                             description="case sent to the judiciary when "
                                             "counterfeiting is found")
    detection_probability: float = P(unit="probability", source="§1 (weak testing capacity)",
                                     ge=0, le=1, description="an inspection of a counterfeiter "
                                     "finds it")
    cost_per_inspection_yuan: float = P(unit="yuan", source="assumption", ge=0,
                                        description="city's cost of one inspection (sampling, "
                                        "testing)", reason="testing fees of a few thousand yuan "
                                        "a sample")
    discharge_fine_yuan: float = P(unit="yuan", source="§2.2.4a, §3.3", ge=0,
                                   description="fine when an inspected firm is over its "
                                   "discharge standard")


class Subsidy(_Strict):
    interest_subsidy_rate: float = P(unit="share of interest", source="§3.4", ge=0, le=1,
                                     description="share of a key project's loan interest the "
                                     "city pays")
    key_projects_per_year: float = P(unit="projects/year", source="§3.4", ge=0,
                                     description="technical-upgrade projects chosen as key "
                                     "projects each year (for the whole city)")
    loan_interest_rate: float = P(unit="1/year", source="assumption", ge=0, le=1,
                                  description="interest rate on upgrade loans",
                                  reason="about the bank lending rates of the period")
    loan_years: int = P(unit="years", source="assumption", ge=1, le=30,
                        description="term of an upgrade loan", reason="medium-term loan")
    loan_share: float = P(unit="share of cost", source="Tianjin 2005 technical-upgrade "
                          "projects: 1.167 bn of loans for 2.349 bn invested (Tianjin Daily, "
                          "2005-09-15, as read in a copy)", ge=0, le=1,
                          description="share of an investment financed by a loan (firms with "
                          "credit)")
    key_project_loan: bool = P(unit="flag", source="§3.4 (reading); the 2009 technical-upgrade "
                               "interest-subsidy rules read (Tianjin, Liaoning, Shaanxi) pay on "
                               "a bank loan already signed", description="selection as a key "
                               "project brings the upgrade's loan to a firm without bank credit "
                               "(directed credit, Banerjee and Duflo 2014); false: only firms "
                               "with credit can be key projects")
    priority_capability_weight: float = P(unit="per logit", source="§3.4 ('key "
                                          "enterprises'); weight an assumption", ge=0, le=100,
                                          description="weight of capability in the city's "
                                          "ranking of key projects",
                                          reason="the plan serves key (large, capable) firms")
    priority_size_weight: float = P(unit="per log10 million yuan", source="§3.4 ('key "
                                    "enterprises'); the period's rules set minimum project "
                                    "sizes (10-20 M yuan, Tianjin 2005-2009)", ge=0, le=100,
                                    description="weight of log10 output in the city's ranking "
                                    "of key projects (0: size does not count)")

    max_grade: Literal[GRADES] = P(unit="grade", strict=None, source="§3.3 (quality files "
                                   "grade firms; reading: the plan's support goes to firms in "
                                   "good standing)", description="the worst published grade "
                                   "of a firm the city still selects as a key project (firms "
                                   "weigh the time a worse grade keeps them beyond it, "
                                   "docs/ODD.md §7.5)")


class Fees(_Strict):
    fee_waiver_share: float = P(unit="share", source="§4.2 (fees reduced or waived)", ge=0, le=1,
                                description="share of the city's own fees (city.city_fees_yuan: "
                                "metrology verification, product testing) it waives, paying its "
                                "institutes from the budget; certification bodies' and "
                                "application costs are not the city's to waive")


class Procurement(_Strict):
    preference_share: float = P(unit="share", source="§3.1", ge=0, le=1,
                                description="share of government purchases where branded "
                                "products are preferred")
    price_premium: float = P(unit="share of price", source="assumption", ge=0, le=1,
                             description="extra price paid for a preferred branded product",
                             reason="'at equal terms' (§3.1) implies a small premium")
    max_grade: Literal[GRADES] = P(
        unit="grade", strict=None,
        source="§3.1 'at equal terms' with the §3.3 quality files; Government Procurement Law "
        "of the PRC (2002), art. 22(5): a supplier has no major illegal record in its business "
        "in the three years before (as read in copies)",
        description="the worst published grade of the quality file with which a title "
        "holder's products are preferred in government purchases (D: no condition; C: "
        "counterfeiting found, which puts a firm at D, excludes it)")


class Permits(_Strict):
    refuse_over_limit: bool = P(unit="flag", source="§3.3", description="sources over their "
                                "discharge limit may not produce: entrants over it are refused, "
                                "and a source still over it when its deadline-treatment order "
                                "falls due is closed (without it the order is renewed with a "
                                "new fine)")


class UrbanWastewater(_Strict):
    """Municipal wastewater treatment: outside the plan's text (its levers are the firms'),
    a lever for the domestic part of the COD cut when ``interpretation.cod_scope`` includes
    it (docs/ODD.md §7.17; sizes and cost in docs/data/urban_wastewater_cost.md)."""

    plants_per_year: int = P(
        unit="plants/year", ge=0, le=20,
        source="outside the plan: over 70 % of China's new COD removal of 2006-2010 came from "
        "urban wastewater treatment (MEP statement on 2010, as reposted; "
        "docs/data/urban_wastewater_cost.md)",
        description="municipal treatment plants the city commissions each January while these "
        "levers apply (each of environment.treatment_plant_m3_per_day); not a lever of the plan")


class Campaigns(_Strict):
    months: list[int] = P(unit="months (1-12)", source="§4.5 (15 March, 20 May, Quality Month "
                          "September)", description="months with a city awareness campaign")
    cost_per_campaign_yuan: float = P(unit="yuan", source="assumption", ge=0,
                                      description="cost of one campaign",
                                      reason="media and events of a county-level city")

    @field_validator("months")
    @classmethod
    def _months_valid(cls, months):
        bad = [m for m in months if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months must be between 1 and 12, got {bad}")
        return months


class ConstructionLevers(_Strict):
    supervision_share: float = P(unit="share of works", source="§2.2.2, §3.3", ge=0, le=1,
                                 description="share of works the quality supervision station "
                                 "follows during construction")
    targeting: Literal["uniform", "tiered"] = P(unit="rule", strict=None,
                                                source="§3.3 (quality files, tiered supervision)",
                                                description="whether contractors with a record "
                                                "in the quality file are supervised more")
    watched_supervision_share: float = P(unit="share of works", source="§3.3", ge=0, le=1,
                                         description="supervision share for contractors on the "
                                         "watched tier when targeting is tiered")
    clean_works_to_leave: int = P(unit="works", source="§3.3; notes/modelling.md (Harrington "
                                  "1988)", ge=1, le=1000, description="works passing first-time "
                                  "acceptance a watched contractor needs to leave the tier")
    failure_penalty_yuan: float = P(unit="yuan per work", source="§2.2.2b", ge=0,
                                    description="penalty when a work fails one-time acceptance")
    excellence_reward_yuan: float = P(unit="yuan per work", source="assumption", ge=0,
                                      description="reward for a work rated excellent",
                                      reason="the plan names none; a lever to try (default 0)")
    cost_per_supervised_work_yuan: float = P(unit="yuan per work", source="assumption", ge=0,
                                             description="city's cost of supervising one work",
                                             reason="site visits over a construction period")


class ServiceLevers(_Strict):
    demonstration_titles_per_year: float = P(
        unit="titles/year", source="§3.2 ('service standardisation demonstration unit' "
        "contests)", ge=0, description="demonstration-unit titles awarded each year (for the "
        "whole city)")
    demonstration_reward_yuan: float = P(unit="yuan per title", source="assumption", ge=0,
                                         description="one-time reward for a demonstration unit",
                                         reason="the plan names no amount; set at the city's "
                                         "provincial-award level when contests run")
    standard_subsidy_yuan: float = P(unit="yuan per adopter", source="assumption", ge=0,
                                     description="city grant towards adopting service standards",
                                     reason="a lever to try; the plan names none")


class Levers(_Strict):
    construction: ConstructionLevers
    services: ServiceLevers
    rewards: Rewards
    inspection: Inspection
    subsidy: Subsidy
    fees: Fees
    procurement: Procurement
    permits: Permits
    campaigns: Campaigns
    urban_wastewater: UrbanWastewater


class Policy(Levers):
    start_year: int = P(unit="year", source="assumption", ge=1990, le=2100,
                        description="first year the plan's levers apply",
                        reason="the plan was written around 2009-2010; its first full year")


class National(_Strict):
    spot_check_share_per_year: float = P(unit="share of firms/year", source="shared/data "
                                         "(19,328 firms sampled in 2011)", ge=0, le=1,
                                         description="national supervision spot checks: "
                                         "expected samples per firm per year")
    problem_weight: float = P(unit="x sampling weight", source="shared/data README; "
                              "notes/modelling.md (problem products sampled again)", ge=1,
                              description="sampling weight of a firm whose product failed a "
                              "recent national spot check")
    problem_memory_months: int = P(unit="months", source="assumption", ge=0, le=120,
                                   description="how long a failure keeps a firm on the "
                                   "national problem list", reason="re-sampled within a few "
                                   "rounds")
    problem_sector_weight: float = P(unit="x sampling weight", source="notes/modelling.md",
                                     ge=1, description="sampling weight of key industries and "
                                     "food (problem-prone product classes)")


def _years_by_tier(source: str, description: str, reason: str | None = None):
    """Annotated type for a list of calendar years per award tier above none."""
    year = Annotated[int, Field(ge=1990, le=2100, strict=True)]
    model, field = _grouped(TIERS[1:], "YearsByTier", "years", source, description, reason,
                            kind=list[year])
    return Annotated[model, field]


class Awards(_Strict):
    judging: Literal["cutoff", "quota"] = P(
        unit="rule", strict=None,
        source="AQSIQ (2001), Measures for the Administration of China Famous Brand Products "
        "(AQSIQ Order No. 12; as read in copies; notes/modelling.md): candidates recommended by "
        "local quality bureaus were judged by a national committee, 856 of 1,468 in 2007",
        description="how an award round is judged (docs/ODD.md §7.7): cutoff, the city "
        "recommends its best applicants (recommendations) and those whose score reaches the "
        "field's cut-off win, so the titles won depend on how good the city's firms are; "
        "quota, a fixed number of titles a year for the city (quota), the best applicants "
        "winning whatever their score (the rule before issue 17)")
    quota: _by_tier("titles/year", "shared/data (856 China Famous Brand products in "
                             "2007 nationally)", "titles this city's firms can win a year "
                             "(for the whole city) when judging = quota", ge=0)
    recommendations: _by_tier(
        "candidates/year", "shared/data (1,468 China Famous Brand applicant products in 2007 "
        "over about 2,860 county-level units: 0.51 a year); other tiers assumption",
        "candidates the city may recommend a year for each tier (whole city), its applicants "
        "ranked by the judging score; under judging = cutoff only they can win",
        reason="provincial and national measures limit recommendations by locality; the "
        "provincial figure is set so that at the field's pass rate about the old quota of "
        "three titles a year is won", ge=0)
    field_pass_rate: _by_tier(
        "share", "shared/data (856 of 1,468 China Famous Brand applicant products won in 2007, "
        "AQSIQ 2007 report as reposted); the same share assumed for the other tiers",
        "share of recommended candidates who win in the field (province or nation), used "
        "once to place the cut-off: a candidate of the city's base-year quality at its "
        "recommendation rank wins with this chance (docs/ODD.md §7.7)",
        reason="the pass rates of provincial titles were not found", gt=0, lt=1)
    cutoff_drift: float = P(
        unit="score/year", source="assumption", ge=-5, le=5,
        description="how much the field's cut-off rises a year (other places' firms "
        "improve too); 0 keeps the base-year bar",
        reason="no series of judging scores exists; 0 attributes every change in the city's "
        "wins to its own firms")
    closed_years: _years_by_tier(
        "AQSIQ (2008), announcement of 25 September 2008 stopping China Famous Brand "
        "evaluation (after the Sanlu milk scandal); the §4.2 500,000-yuan tier stayed open "
        "through China Well-known Trademark recognition, the national quality award "
        "continued (notes/modelling.md)",
        "years in which a tier holds no award round (nobody can apply or renew; titles held "
        "keep their validity and then lapse)",
        reason="by default every tier of §4.2 is open in 2009-2012: the China Famous Brand "
        "tier is read as reached through Well-known Trademarks; list 2009-2012 under "
        "china_famous_brand to read it as closed")
    min_capability: _by_tier("logit", "assumption", "capability needed to be "
                                      "eligible for each tier", reason="titles go to firms "
                                      "with proven quality", ge=-10, le=10)
    iso_required: _flags_by_tier("assumption", "ISO 9001 required to apply",
                                 reason="application rules ask for a certified QMS")
    application_cost_yuan: _by_tier("yuan", "assumption", "cost of preparing an "
                                             "application (evaluation itself was free of "
                                             "charge: notes/modelling.md)",
                                             reason="documents, testing and consulting", ge=0)
    judging_noise: float = P(unit="logit", source="assumption", ge=0, le=10,
                             description="noise in the judges' ranking of applicants",
                             reason="titles reward size and lobbying too (rent-seeking, "
                             "notes/modelling.md)")
    certification_bonus: float = P(unit="logit", source="docs: notes/modelling.md (symbolic "
                                   "certification)", ge=0, le=10,
                                   description="judges' score bonus for ISO 9001, real or not")
    size_bonus: float = P(unit="logit per log10 output", source="assumption", ge=0, le=10,
                          description="judges' score bonus for larger firms",
                          reason="flagship firms are named in the plan (§3.1)")
    title_validity_months: int = P(
        unit="months", ge=1, le=120,
        source="AQSIQ (2001), Measures for the Administration of China Famous Brand Products "
        "(中国名牌产品管理办法, AQSIQ Order No. 12; as read in copies): a title is valid "
        "three years; provincial famous-brand measures followed it (assumption for the "
        "other tiers)",
        description="how long a title won in an award round is valid before it is "
        "re-examined (docs/ODD.md §7.7)")
    clean_record_months: int = P(
        unit="months", ge=1, le=64,
        source="AQSIQ (2001), Measures for the Administration of China Famous Brand Products "
        "(AQSIQ Order No. 12; as read in copies; notes/modelling.md): no failed spot check at "
        "provincial level or above in the three years before applying",
        description="months of the quality file (at most the 64 it keeps) in which a failed "
        "national spot check makes a firm ineligible for every title (docs/ODD.md §7.7)")
    max_grade: Literal[GRADES] = P(unit="grade", strict=None, source="AQSIQ (2001), Measures "
                                   "for the Administration of China Famous Brand Products (as "
                                   "read in copies): a clean quality record; §3.3 quality files",
                                   description="the worst published grade of the quality file "
                                   "with which a firm is eligible for a title (and keeps one at "
                                   "re-examination; firms weigh the time a worse grade keeps "
                                   "them beyond it, docs/ODD.md §7.5)")
    held_title_validity_months: int = P(
        unit="months", ge=1, le=120,
        source="AQSIQ (2008), Notice on extending the validity of China Famous Brand "
        "products to five years (质检总局关于中国名牌产品有效期延至五年的通知, "
        "9 July 2008): the titles of 2005-2007 ran to September 2010-2012",
        description="validity of the titles held at the start; each holder is at a "
        "uniformly drawn point of it, so its title is re-examined after a uniform share of "
        "it (docs/ODD.md §7.7)")


class Market(_Strict):
    grade_sales_loss: _by_grade(
        "share of output/year", "Jin, G. Z. and Leslie, P. (2003) 'The Effect of Information "
        "on Product Quality: Evidence from Restaurant Hygiene Grade Cards', Quarterly Journal "
        "of Economics 118(2) (as summarised: revenue about 5.7 % up with an A card, 0.7 % with "
        "a B, 1 % down with a C); GreenWatch (Wang et al. 2004, World Bank PRWP 2889)",
        "profit a firm loses a year, as a share of its output, while its quality file's grade "
        "is published at this grade (buyers read it; margin lost on the sales lost)", ge=0, le=1,
        reason="revenue effects of a few per cent per grade, times a margin of about 0.1-0.2")
    quality_premium: float = P(unit="share of output/year per logit", source="assumption",
                               ge=0, le=1, description="extra profit per unit of capability",
                               reason="buyers pay a little more for reliable goods; "
                               "no estimate for the city")
    intl_premium: float = P(unit="share of output/year", source="assumption", ge=0, le=1,
                            description="extra profit from producing to international standards",
                            reason="export and large-buyer access; no estimate for the city")
    iso_premium: float = P(unit="share of output/year", source="docs: notes/modelling.md "
                           "(buyers drive ISO, Guler et al. 2002)", ge=0, le=1,
                           description="extra profit from ISO 9001 (buyers ask for it)")
    brand_premium: _by_tier("share of output/year", "assumption", "market premium "
                                     "of holding each title", reason="brand value", ge=0, le=1)
    government_purchase_share: float = P(unit="share of output", source="Ministry of Finance, "
                                         "national government procurement 2005-2012 (goods "
                                         "about 0.8 % of GDP; as read in press reports of its "
                                         "yearly statements), of which a share local firms can "
                                         "supply (assumption)", ge=0, le=1,
                                         description="share of a firm's output bought by "
                                         "government")
    procurement_sales_gain: float = P(unit="share of gov. purchases", source="§3.1", ge=0,
                                      le=1, description="extra government sales a branded "
                                      "firm wins where preference applies")
    counterfeit_gain: float = P(unit="share of output/year", source="notes/modelling.md "
                                "(Becker 1968: violate when the gain exceeds p*F)", ge=0, le=1,
                                description="cost saved by shoddy or counterfeit production")
    notice_sales_loss: float = P(unit="share of a year's output", source="Jarrell, G. and "
                                 "Peltzman, S. (1985) 'The Impact of Product Recalls on the "
                                 "Wealth of Sellers', Journal of Political Economy 93(3) (the "
                                 "abstract and summaries read, not the paper); Sanlu 2008 "
                                 "(docs: notes/modelling.md)", ge=0, le=1,
                                 description="sales margin and brand value a firm loses when "
                                 "it is publicly named (a published failure on the ladder, or "
                                 "counterfeiting found), beyond the fine",
                                 reason="shareholder losses after recalls several times the "
                                 "direct costs; a range in [uncertain]")


class Behaviour(_Strict):
    decision_rate: float = P(unit="1/month", source="assumption", ge=0, le=1,
                             description="chance a firm reviews its investments in a month",
                             reason="about once a year")
    logit_scale: float = P(unit="share of output", source="notes/modelling.md (Cason and "
                           "Gangadharan 2006: smooth responses)", gt=0, le=1,
                           description="payoff (share of annual output) worth one logit unit")
    horizon_years: float = P(unit="years", source="assumption", gt=0, le=30,
                             description="years of benefit a firm counts when it invests",
                             reason="short horizons of small firms")
    discount_rate: float = P(unit="1/year", source="assumption", ge=0, le=1,
                             description="rate at which a firm discounts the future value of "
                             "its published grade (the grade's present value over "
                             "horizon_years, docs/ODD.md §7.5)",
                             reason="about the bank lending rate (5.31 % in 2009) plus a risk "
                             "premium")
    imitation_weight: float = P(unit="logit per share", source="notes/modelling.md (Guler et "
                                "al. 2002: mimetic adoption)", ge=0, le=20,
                                description="pull of the sector's adoption share")
    belief_decay: float = P(unit="1/month", source="notes/modelling.md (NetLogo tax model: "
                            "0.2 a period)", ge=0, le=1,
                            description="how fast belief falls back after an inspection")
    peer_learning: float = P(unit="1/month", source="notes/modelling.md (weaker peer effect)",
                             ge=0, le=1, description="how fast belief follows inspections seen "
                             "on peers in the sector and tier")
    campaign_belief_boost: float = P(unit="share of gap to 1", source="§4.5", ge=0, le=1,
                                     description="rise in perceived inspection chance in a "
                                     "campaign month")
    upgrade_cost: float = P(unit="share of output", source="assumption", ge=0, le=5,
                            description="cost of a quality upgrade (technical renovation)",
                            reason="equipment renewal")
    upgrade_gain: float = P(unit="logit", source="assumption", ge=0, le=5,
                            description="capability gained by an upgrade",
                        reason="an upgrade lifts a typical pass rate by a few points")
    capability_drift: float = P(unit="logit/year", source="assumption", ge=-5, le=5,
                                description="capability change without investment (negative: "
                                "equipment ages, standards rise)",
                                reason="without renewal, quality slips slowly")
    intl_cost: float = P(unit="share of output", source="assumption", ge=0, le=5,
                         description="cost of moving production to international standards",
                         reason="new equipment, testing and documentation")
    intl_min_capability: float = P(unit="logit", source="assumption", ge=-10, le=10,
                                   description="capability needed to produce to international "
                                   "standards", reason="about an 88 % pass probability")
    iso_cost_yuan: _by_size("yuan", "NDRC fee schedule for management-system certification "
                            "(计价格〔1999〕212号: 3,000 yuan an audit man-day, 1,000 application "
                            "and 2,000 registration; as read in copies) plus about as much "
                            "consultancy; large firms an assumption", "cost of an ISO 9001 (or "
                            "CCC) certification, paid to certification bodies and consultants, "
                            "not to the city", ge=0, le=1e7)
    iso_substantive_share: float = P(unit="probability", source="notes/modelling.md (about "
                                     "80 % of certified systems effective)", ge=0, le=1,
                                     description="certification comes with a real "
                                     "capability gain")
    iso_gain: float = P(unit="logit", source="assumption", ge=0, le=5,
                        description="capability gained by a substantive certification",
                        reason="a working quality system helps a little")
    abatement_cost: float = P(unit="share of output", source="notes/modelling.md (lumpy "
                              "abatement investments)", ge=0, le=5,
                              description="cost of a COD abatement investment")
    abatement_fraction: float = P(unit="share", source="assumption", ge=0, le=1,
                                  description="cut in discharge per abatement investment",
                                  reason="a treatment facility removes a large share")
    counterfeit_pass_factor: float = P(unit="x pass probability", source="assumption", ge=0,
                                       le=1, description="pass probability of a "
                                       "counterfeiter's product relative to its capability",
                                       reason="shoddy goods fail tests often, not always")
    criminal_cost_yuan: float = P(unit="yuan", source="§4.4", ge=0,
                                  description="cost to a firm's owners of a criminal referral")
    subsidy_additionality: float = P(unit="yuan per yuan", source="Boeing (2016, Research "
                                     "Policy 45(9):1774-1789): one public yuan cut own R&D by "
                                     "half a yuan (additionality 0.5 on average, misuse "
                                     "included); with misuse apart, 0.5 / (1 - 0.2) for the "
                                     "others", ge=-1, le=3,
                                     description="extra total investment per yuan of subsidy "
                                     "for a firm that does not divert it (0: the subsidy "
                                     "replaces own money; 1: it adds to it)")
    subsidy_misuse: float = P(unit="probability", source="Boeing and Peters (ZEW DP 21-081, "
                              "2021; 24-077, 2024): 42 % of Chinese grantees misused R&D "
                              "subsidies in 2001-2011, about one in five after 2006", ge=0, le=1,
                              description="a subsidised firm diverts the subsidy, which then "
                              "adds nothing; its own upgrade still happens")
    exit_hazard: _by_size("1/month", "assumption", "background exit hazard by size",
                                   reason="about 7 % of small firms a year", ge=0, le=1)
    entry_rate: float = P(unit="1/month", source="assumption", ge=0, le=1,
                          description="chance a vacated slot is taken by an entrant in a month",
                          reason="entry roughly replaces exit")
    bankruptcy_floor_with_credit: float = P(unit="share of output/year", source="assumption",
                                            ge=0, le=10, description="cash deficit a firm with "
                                            "bank credit survives before it goes bankrupt",
                                            reason="credit lets firms run deficits for a while")
    bankruptcy_floor_without_credit: float = P(unit="share of output/year",
                                               source="assumption", ge=0, le=10,
                                               description="cash deficit a firm without credit "
                                               "survives before it goes bankrupt",
                                               reason="suppliers' credit only")
    initial_win_belief: float = P(unit="probability", source="assumption", ge=0, le=1,
                                  description="perceived chance that an application for a "
                                  "title (or a demonstration-unit contest entry) wins, before "
                                  "any award round has been seen",
                                  reason="titles are scarce; firms start pessimistic")
    win_belief_learning: float = P(unit="share of gap per round", source="assumption", ge=0,
                                   le=1, description="how far the perceived chance of winning "
                                   "moves towards the last round's win rate",
                                   reason="firms weigh the latest round heavily")
    title_belief: Literal["city_rate", "own_score"] = P(
        unit="rule", strict=None, source="assumption",
        description="how a firm judges its chance of winning a title (docs/ODD.md §7.7): "
        "city_rate, the city-wide winners over applicants (learnt with win_belief_learning); "
        "own_score, the chance that its own judging score beats the tier's last winning "
        "cut-off, with the judges' noise awards.judging_noise (the city rate until a cut-off "
        "has been seen)",
        reason="no survey of how applicants judged their chances; kept as a named choice so "
        "that a result's dependence on it can be seen")
    entrant_capability_shift: float = P(unit="logit", source="assumption", ge=-10, le=10,
                                        description="capability of entrants relative to "
                                        "incumbents of their size",
                                        reason="new small firms start less experienced")


WPPL_2008 = ("Water Pollution Prevention and Control Law of the PRC, revised 28 February 2008, "
             "in force 1 June 2008 (NPC Standing Committee), art. 74")
GB3544 = ("GB 3544-2008, Discharge standard of water pollutants for pulp and paper industry "
          "(MEP and AQSIQ, issued 25 June 2008, in force 1 August 2008)")


class Environment(_Strict):
    cod_coefficient: SectorCOD
    base_year_compliance: float = P(
        unit="share of pollution load", source="Wang H., Bi J., Wheeler D. et al. (2002), "
        "'Environmental performance rating and disclosure: China's GreenWatch program', World "
        "Bank Policy Research Working Paper 2889 (as cited in notes/modelling.md): measured "
        "compliance before disclosure about 75 % in Zhenjiang, 23 % in Hohhot; 96.1 % of "
        "industrial wastewater reported compliant in 2010 "
        "(shared/data, seven basins, self-reported): a range, see [uncertain]", gt=0, lt=1,
        description="share of the base year's pollution load discharged within its standard "
        "(load-weighted); sets the median discharge ratio as "
        "exp(-discharge_ratio_sigma * ndtri(base_year_compliance))")
    discharge_ratio_sigma: float = P(unit="log-sd", source="assumption", ge=0, le=5,
                                     description="spread of discharge ratios",
                                     reason="small firms far worse")
    discharge_trend: float = P(unit="1/year", source="shared/data (national COD -12.45 % "
                               "2005-2010 with 10 % growth); notes/modelling.md (COD in "
                               "2006-2010: most of the cut came from treatment plants and "
                               "closures, here separate mechanisms)", ge=-1, le=1,
                               description="autonomous change of each firm's discharge ratio "
                               "(cleaner technology and output mix, apart from the abatement "
                               "investments and closures the model simulates); its cut is "
                               "reported as cod_cut_trend")
    discharge_fee_yuan_per_tonne: float = P(unit="yuan/t", source="assumption", ge=0,
                                            description="pollutant discharge fee on COD",
                                            reason="order of magnitude of the period's "
                                            "discharge fee; small next to abatement costs")
    fine_fee_multiple: float = P(unit="x yearly discharge fee", source=WPPL_2008 + " (fines of "
                                 "two to five times the discharge fee payable for discharge over "
                                 "the standards; the multiple as read in the law's text, the "
                                 "article number confirmed by the MEP notice of 13 June 2008 on "
                                 "'the amount of pollutant discharge fee payable' in articles 73 "
                                 "and 74, FAOLEX)", ge=2, le=5,
                                 description="fine when a review finds a source over its limit, "
                                 "as a multiple of the discharge fee it owes a year")
    deadline_months: int = P(unit="months", source=WPPL_2008 + " (deadline treatment at most "
                             "one year; closure when it is missed, as read in the law's text)",
                             ge=1, le=12, description="time a deadline-treatment order gives a "
                             "source to get within its limit")
    standard_limit: _by_sector("x base-year standard", GB3544 + ": COD of existing mills from "
                               "Table 1 (e.g. 150 mg/L pulp and paper) to Table 2 (90 mg/L) from "
                               "1 July 2011 (paper is in 'other'); GB 8978-1996 (Integrated "
                               "wastewater discharge standard, SEPA) unchanged for the others in "
                               "the period (limits as read in copies, not verified against the "
                               "official text)", "tightened COD limit relative to the base "
                               "year's standard, by sector (1: unchanged)", gt=0, le=1)
    standard_year_existing: _by_sector("year", GB3544 + " (existing sources from 2011)",
                                       "first year existing sources must meet standard_limit",
                                       kind=int, ge=1990, le=2100)
    standard_year_new: _by_sector("year", GB3544 + " (new sources from August 2008)",
                                  "first year a new source (an entrant) must meet "
                                  "standard_limit", kind=int, ge=1990, le=2100)
    non_industrial_cod_ratio: float = P(unit="x industrial", source="shared/data (2006: "
                                        "industrial 541.5, domestic 886.7)", ge=0, le=10,
                                        description="non-industrial (domestic) COD relative to "
                                        "industrial in the base year")
    non_industrial_cod_trend: float = P(unit="1/year", source="assumption", ge=-1, le=1,
                                        description="yearly change of domestic COD",
                                        reason="treatment plants built in the period")
    # a municipal treatment plant (urban_wastewater.plants_per_year; docs/data/
    # urban_wastewater_cost.md, where each figure's source and how it was read are listed)
    treatment_plant_m3_per_day: float = P(
        unit="m3/day", gt=0, le=1e7,
        source="Jin, Zhang and Tian (2014), 'Current state of sewage treatment in China', "
        "Water Research 66: 85-98 (abstract): 75 % of plants of 10,000-100,000 m3/day; "
        "MOHURD 建城〔2011〕12号 (as reposted): about 48,000 m3/day outside the 36 large cities",
        description="capacity of one new municipal wastewater treatment plant")
    treatment_load_factor: float = P(
        unit="share of capacity", gt=0, le=1,
        source="MOHURD 建城〔2012〕71号 (as reposted): plants ran at 78.7 % of capacity in the "
        "first quarter of 2012", description="share of its capacity a plant treats on average")
    treatment_cod_removed_kg_per_m3: float = P(
        unit="kg/m3", gt=0, le=2,
        source="MEP statement on 2010 (as reposted): urban plants removed 9.2 Mt COD treating "
        "31.8 bn m3 (0.289 kg/m3); MOHURD 建城〔2012〕71号: 258 mg/L in early 2012",
        description="COD a plant removes per cubic metre it treats")
    treatment_max_removal_share: float = P(
        unit="share of domestic COD", gt=0, le=1,
        source="Jin, Zhang and Tian (2014), Water Research 66: 85-98 (abstract): plants remove "
        "81-87.5 % of the COD they receive, by size",
        description="most of the domestic COD discharge that new plants can take off")
    treatment_cost_yuan_per_tonne: float = P(
        unit="yuan per t COD removed", gt=0, le=1e6,
        source="docs/data/urban_wastewater_cost.md: operating cost about 0.8 yuan/m3 plus plant "
        "capital of about 2,280 yuan per m3/day (State Council 国办发〔2012〕24号, as reposted) "
        "annualised over 20 years at 6 %, over 0.289 kg/m3: about 5,000 (2,000 operating only, "
        "12,000 with new sewers)",
        description="what a plant costs the city per tonne of COD it is built to remove "
        "(capital and operation, levelised), paid whether or not that COD is there to remove")


class Construction(_Strict):
    """Contractors and their works (§2.2.2): the world the city's levers act on."""

    works_per_year: _by_size("works/year", "assumption", "completed works per contractor "
                             "and year by qualification grade", reason="a few works a year "
                             "for small builders, dozens for large", ge=0)
    large_project_share: float = P(unit="share of works", source="§2.2.2b", ge=0, le=1,
                                   description="share of works that are large or medium "
                                   "projects (outside the acceptance and excellence targets)")
    size_shares: _by_size("share", "assumption", "share of contractors by qualification grade",
                          reason="most builders hold the lowest grade", ge=0, le=1)
    capability_mean: _by_size("logit", "assumption", "mean chance (logit) that a work built "
                              "with standard effort has no defect",
                              reason="set so the base-year one-time acceptance rate is below "
                              "the 90 % target (§2.2.2b)", ge=-10, le=10)
    capability_sd: float = P(unit="logit", source="assumption", ge=0, le=5,
                             description="spread of contractor capability",
                             reason="heterogeneous builders")
    effort_shift: _by_effort("logit", "assumption", "change in the no-defect logit by effort",
                             reason="cutting corners doubles defects or worse; care halves "
                             "them", ge=-10, le=10)
    effort_cost: _by_effort("share of contract value", "assumption", "cost of each effort "
                            "level relative to standard (negative: a saving)",
                            reason="materials and labour saved or spent", ge=-1, le=1)
    excellence_rating: _by_effort("probability", "assumption", "chance a defect-free work is "
                                  "rated excellent, by effort", reason="excellence is judged "
                                  "on finish beyond the standard", ge=0, le=1)
    correction_share: float = P(unit="probability", source="§3.3 (whole-process supervision)",
                                ge=0, le=1, description="a supervised work's defect is found "
                                "and corrected during construction")
    acceptance_detection: float = P(unit="probability", source="assumption", ge=0, le=1,
                                    description="one-time acceptance finds a remaining defect",
                                    reason="acceptance tests catch most, not all, defects")
    rework_cost: float = P(unit="share of contract value", source="assumption", ge=0, le=5,
                           description="cost of reworking a defective work",
                           reason="demolition and rebuilding of parts")
    record_cost: float = P(unit="share of contract value", source="§3.3 (quality files)", ge=0,
                           le=5, description="contractor's cost of a record in the quality file "
                           "(lost bids)")
    logit_scale: float = P(unit="share of contract value", source="notes/modelling.md "
                           "(smooth responses)", gt=0, le=1,
                           description="payoff per logit unit in the effort choice")
    review_rate: float = P(unit="1/month", source="assumption", ge=0, le=1,
                           description="chance a contractor reconsiders its effort in a month",
                           reason="effort habits change slowly")
    work_value_million: _by_size("million yuan", "assumption", "contract value of a work by "
                                 "grade", reason="small works are small", gt=0)


class _SharesAddUp(_Strict):
    @model_validator(mode="after")
    def _sums_to_one(self):
        total = sum(getattr(self, f) for f in type(self).model_fields)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"shares must add up to 1, they add up to {total:.4f}")
        return self


ServiceSectorShares = create_model(
    "ServiceSectorShares", __base__=_SharesAddUp,
    __doc__="Share of service firms in each sector §2.2.3 lists.",
    **{s: (float, P(unit="share", source="assumption", ge=0, le=1,
                    description=f"service firms in {s.replace('_', ' ')} (§2.2.3)",
                    reason="no city census published; commerce dominates county services"))
       for s in SERVICE_SECTORS})


class Services(_Strict):
    """Service firms (§2.2.3, §3.2) and their adoption of service standards."""

    sector_shares: ServiceSectorShares
    size_shares: _by_size("share", "assumption", "share of service firms by size",
                          reason="mostly small", ge=0, le=1)
    standard_share: _by_size("share", "assumption", "share applying service standards at the "
                             "start", reason="larger chains standardise first", ge=0, le=1)
    revenue_median: _by_size("million yuan/year", "assumption", "median yearly revenue",
                             reason="service firms are smaller than factories", gt=0)
    adoption_cost: float = P(unit="share of revenue", source="assumption", ge=0, le=5,
                             description="one-time cost of adopting service standards",
                             reason="training, procedures, certification")
    standard_premium: float = P(unit="share of revenue/year", source="assumption", ge=0, le=1,
                                description="extra profit from applying standards",
                                reason="customers return to standardised services")
    demonstration_pull: float = P(unit="logit per demonstration unit share", source="§3.2 "
                                  "(demonstration units as examples)", ge=0, le=100,
                                  description="extra imitation pull of the sector's "
                                  "demonstration units")
    demonstration_premium: float = P(unit="share of revenue/year", source="assumption", ge=0,
                                     le=1, description="market value of a demonstration title",
                                     reason="a public endorsement")
    judging_noise: float = P(unit="logit", source="assumption", ge=0, le=10,
                             description="noise in choosing demonstration units",
                             reason="contests favour size and visibility too")


class Interpretation(_Strict):
    cod_base_year: int | None = Field(
        None, description="base year of the COD cut (§2.2.4b leaves it blank); empty means the "
        "year before policy.start_year", json_schema_extra={"unit": "year",
                                                            "source": "§2.2.4b (blank)"})
    cod_scope: Literal["industrial", "industrial_and_domestic"] = P(
        unit="scope", strict=None, source="shared/data README (scope matters)",
        description="which COD sources the 15 % cut covers")
    pollution_compliance_weighting: Literal["load", "count"] = P(
        unit="rule", strict=None, source="shared/data (compliance reported by wastewater volume)",
        description="weight sources by pollution load or count each source once (§2.2.4a)")
    intl_advanced_pass_probability: float = P(
        unit="probability", source="§2.2.1e ('international advanced level', undefined)",
        ge=0, le=1, description="pass probability at which a key-industry firm on "
        "international standards counts as at international advanced level")
    source_review_months: int = P(
        unit="months", source="§3.3 (reading); the period had no national discharge permits "
        "(they came in 2016): sources declared their discharge yearly and were monitored",
        ge=1, le=120, description="interval at which the environment bureau reviews each "
        "industrial source's discharge against its limit (each source reviewed with chance "
        "1 / source_review_months a month)")
    quality_fines_treasury: Literal["province", "city"] = P(
        unit="payer", strict=None,
        source="State Council 国发〔1999〕8号 (quality and technical supervision managed "
        "vertically below the province from 1999-2000); a province's implementing rules: "
        "'罚没收入按照罚缴分离的原则，由当地银行代收缴入省级国库' (read in a repost; "
        "docs/ODD.md §7.11); the plan does not say",
        description="whose treasury receives the fines of the quality and technical "
        "supervision bureau's inspections (§3.3, §4.4): the province's, as under vertical "
        "management, or the city's")


def _check_within_bounds(key: str, lo: float, hi: float) -> None:
    """Refuse an ``[uncertain]`` range that reaches values the parameter cannot take (its
    schema bounds): a draw there would not be a valid scenario."""
    from .catalogue import field_meta  # the catalogue reads this module

    meta = field_meta(key) or {}
    bounds = meta.get("bounds", {})
    tests = {"ge": lambda b: lo >= b, "gt": lambda b: lo > b, "le": lambda b: hi <= b,
             "lt": lambda b: hi < b}
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    broken = [f"{words[k]} {b}" for k, b in bounds.items() if not tests[k](b)]
    if broken:
        allowed = ", ".join(f"{words[k]} {b}" for k, b in bounds.items())
        raise ValueError(f"uncertain.{key}: range [{lo:g}, {hi:g}] reaches values the "
                         f"parameter cannot take (it must be {allowed}; {meta.get('unit', '')})"
                         "; expected a range within those bounds, since every value in it "
                         "can be drawn")


class Scenario(_Strict):
    """A validated scenario. Build with :func:`load_scenario`; change with :meth:`override`."""

    name: str
    description: str = ""
    city: City
    horizon: Horizon
    status_quo: Levers
    policy: Policy
    national: National
    awards: Awards
    market: Market
    behaviour: Behaviour
    environment: Environment
    construction: Construction
    services: Services
    interpretation: Interpretation
    targets: dict[str, float] = Field(default_factory=dict)
    # each entry a range, uniform over it, or a table with a prior and its source (.priors)
    uncertain: dict[str, UncertainRange] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not SCENARIO_NAME.fullmatch(name):
            raise ValueError(
                f"name: {name!r} cannot be used; a scenario's name is also the name of its "
                "output folder, so it must be a plain name: no `/` or `\\` or control "
                "characters, not starting with `.` or `-` nor starting or ending with a space, "
                "1 to 100 characters (such as `the_plan`)")
        return name

    # where the scenario came from, for error messages and manifests (not part of the content)
    _source: str = "<scenario>"
    _raw: dict = {}  # the merged file content before [status_quo] fills [policy]
    _origins: dict = {}  # dotted key -> file that set it

    @model_validator(mode="after")
    def _check_years_and_tables(self):
        if self.horizon.end_year < self.city.base_year:
            raise ValueError(
                f"horizon.end_year: the end year ({self.horizon.end_year}) is before "
                f"city.base_year ({self.city.base_year}); expected an end year at or after "
                "the base year")
        if not self.city.base_year <= self.policy.start_year <= self.horizon.end_year + 1:
            raise ValueError(
                f"policy.start_year: {self.policy.start_year} must lie between city.base_year "
                f"({self.city.base_year}) and horizon.end_year + 1")
        cod_base = self.interpretation.cod_base_year
        if cod_base is not None and not self.city.base_year <= cod_base <= self.horizon.end_year:
            raise ValueError(f"interpretation.cod_base_year: {cod_base} must lie within the "
                             f"simulated years {self.city.base_year}-{self.horizon.end_year}")
        from ..targets import TARGET_IDS  # local: targets imports nothing from here

        for tid, value in self.targets.items():
            if tid not in TARGET_IDS:
                raise ValueError(f"targets.{tid}: no such target{suggest(tid, TARGET_IDS)}")
            if not 0 <= value <= 1:
                raise ValueError(f"targets.{tid}: threshold {value} is outside [0, 1] "
                                 "(targets are shares, not percentages)")
        flat = flatten(self.model_dump(exclude={"targets", "uncertain"}))
        for key, (lo, hi) in self.uncertain.items():
            if key not in flat:
                raise ValueError(f"uncertain.{key}: no such parameter"
                                 f"{suggest(key, list(flat))}")
            value = flat[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"uncertain.{key}: only numeric parameters can be uncertain")
            if not lo <= hi:
                raise ValueError(f"uncertain.{key}: range [{lo}, {hi}] has low above high")
            _check_within_bounds(key, lo, hi)
            if not lo <= value <= hi:
                raise ValueError(f"uncertain.{key}: value {value} lies outside its declared "
                                 f"range [{lo}, {hi}]")
        return self

    # -- convenience -------------------------------------------------------------------
    @property
    def priors(self) -> dict[str, UncertainRange]:
        """The ``[uncertain]`` parameters with their priors (uniform over the range unless the
        file names one): the same entries as :attr:`uncertain`, which they are."""
        return dict(self.uncertain)

    @property
    def source(self) -> str:
        """The file this scenario was loaded from (or a description of how it was built)."""
        return self._source

    @property
    def cod_base_year(self) -> int:
        """The COD base year in force: explicit, or the year before ``policy.start_year``."""
        explicit = self.interpretation.cod_base_year
        return explicit if explicit is not None else max(self.city.base_year,
                                                         self.policy.start_year - 1)

    def levers_for(self, year: int) -> Levers:
        """The levers in force in ``year``: status quo before ``policy.start_year``."""
        return self.policy if year >= self.policy.start_year else self.status_quo

    def to_dict(self) -> dict:
        """The scenario as plain data (what a TOML file with no ``extends`` would hold)."""
        return self.model_dump(mode="json")

    def file_data(self) -> dict:
        """The scenario's content as a file would hold it (``[policy]`` levers left unset keep
        following ``[status_quo]``); :func:`scenario_from_data` turns it back into this."""
        return copy.deepcopy(self._raw) if self._raw else self.to_dict()

    def content_hash(self) -> str:
        """A stable hash of the scenario's content (for manifests and caching)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def get(self, dotted: str) -> Any:
        """The value at a dotted key, for example ``"policy.rewards.city_provincial_award"``;
        a table's key (``"policy.rewards"``) gives the table as a dict."""
        data = self.to_dict()
        flat = flatten(data)
        if dotted in flat:
            return flat[dotted]
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ScenarioError(f"{self.source}: no parameter `{dotted}`"
                                    f"{suggest(dotted, list(flat))}.")
            node = node[part]
        return node

    def override(self, changes: dict[str, Any], name: str | None = None) -> "Scenario":
        """A new, validated scenario with dotted keys changed; this one is left as it is."""
        # start from the file content, so a status_quo lever still fills an unset policy lever
        from .loading import set_dotted, validate  # loading builds on this module

        raw = copy.deepcopy(self._raw) if self._raw else self.to_dict()
        origins = dict(self._origins)
        for dotted, value in changes.items():
            set_dotted(raw, dotted, value, self.source)
            origins.pop(dotted, None)  # re-insert last: the override is the nearest source
            origins[dotted] = f"{self.source} (override)"
        if name is not None:
            raw["name"] = name
        return validate(raw, f"{self.source} with overrides {sorted(changes)}", origins)

    def with_provenance(self, source: str, raw: dict | None = None,
                        origins: dict[str, str] | None = None) -> "Scenario":
        """A copy that says where it came from: ``source`` (a file or a description), the file
        content ``raw`` it was validated from and, per dotted key, the file that set it (for
        error messages and manifests; none of this is part of the content)."""
        sc = self.model_copy()
        sc._source = source
        sc._raw = copy.deepcopy(raw) if raw is not None else copy.deepcopy(self._raw)
        sc._origins = dict(origins) if origins is not None else dict(self._origins)
        return sc
