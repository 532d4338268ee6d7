"""The plan's levers in one place: the registry the lever audit runs (``sq.lever_audit``,
``simcity-quality levers``).

Each :class:`PlanLever` names a lever in the plan's terms with its section, the dotted
``[policy]`` keys it sets together, and how its three settings are made from a scenario:

- **off**: the lever without the plan. Zero (false, uniform targeting, no campaign months)
  where the city had none of it before the plan; for the three levers the city already used
  before the plan (the number of city inspections, the §4.4 penalties, the supervision of
  construction works) the level of the scenario's ``[status_quo]``, so that *plan minus off*
  is what the plan's change of that lever buys, not the worth of having inspections at all. A
  key that matters only while its lever is on (the price premium of preferred purchases, the
  grades' inspection weights) is left at the plan's value.
- **plan**: the scenario's own ``[policy]`` values.
- **high**: the plan's values times ``multiple`` (:data:`HIGH_MULTIPLE`, 3, as in
  ``scenarios/subsidy_heavy.toml``), capped at the key's upper bound in the schema (shares and
  probabilities at 1); or a natural extreme: a flag on, tiered targeting, a campaign every
  month. A key the plan has at zero stays at zero. Where the plan already has every key of a
  lever at its extreme (permit refusal: the flag is on) high is the plan, and the audit says so
  rather than running it again.

Keys that act through one mechanism are set together: the six reward amounts (province and
city, by tier), the three penalties (fine multiplier, revocation, referral), the subsidy's rate
and number of key projects, the contests' number of titles and reward.
"""

from dataclasses import dataclass
from typing import Any

from ..errors import ScenarioError
from .catalogue import field_meta
from .keys import suggest
from .schema import Scenario

HIGH_MULTIPLE = 3.0  # high = plan x this, capped at the schema's bound (subsidy_heavy's x3)
STATUS_QUO = "status_quo"  # off: the [status_quo] value of the same key
PLAN = "plan"  # off: left at the plan's value (it matters only while the lever is on)
MULTIPLE = "multiple"  # high: the plan's value x the multiple, capped at the schema's bound
SETTINGS = ("off", "plan", "high")
# high for §3.1's price premium: local bias raised procurement cost by 6.4 % (Tang, Wang and
# Wu 2025, "Local favoritism in China's public procurement: information frictions or incentive
# distortion?", Journal of Urban Economics 145:103716)
LOCAL_BIAS_PREMIUM = 0.064


@dataclass(frozen=True)
class LeverKey:
    """One dotted ``[policy]`` key of a lever and how its off and high values are made:
    ``off`` a value, :data:`STATUS_QUO` or :data:`PLAN`; ``high`` :data:`MULTIPLE` or a value
    (a natural extreme)."""

    key: str
    off: Any = 0.0
    high: Any = MULTIPLE

    def off_value(self, scenario: Scenario) -> Any:
        """The key's value with the lever off, in ``scenario``."""
        if self.off == STATUS_QUO:
            return scenario.get("status_quo." + self.key.removeprefix("policy."))
        if self.off == PLAN:
            return scenario.get(self.key)
        return self.off

    def high_value(self, plan_value: Any, multiple: float) -> Any:
        """The key's high value from the plan's: a multiple capped at the schema's upper bound
        (whole numbers stay whole), or the natural extreme."""
        if self.high != MULTIPLE:
            return self.high
        value = round(float(plan_value) * multiple, 12)  # 0.3 x 3 is 0.9, not 0.8999...
        upper = upper_bound(self.key)
        if upper is not None:
            value = min(value, float(upper))
        whole = isinstance(plan_value, int) and not isinstance(plan_value, bool)
        return int(round(value)) if whole else value

    def describe(self) -> tuple[str, str]:
        """How off and high are made, in words: ``("0", "x3, at most 1")``."""
        words = {STATUS_QUO: "status quo", PLAN: "as the plan"}
        off = words[self.off] if self.off in (STATUS_QUO, PLAN) else _text(self.off)
        if self.high == MULTIPLE:
            upper = upper_bound(self.key)
            high = "x{m}" + (f", at most {upper:g}" if upper is not None else "")
        else:
            high = _text(self.high)
        return off, high


def upper_bound(key: str) -> float | None:
    """The schema's upper bound (``le``) of a ``[policy]`` key, or ``None``."""
    meta = field_meta(key)
    return None if meta is None else meta["bounds"].get("le")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "every month" if value == list(range(1, 13)) else (
            "none" if not value else ", ".join(str(v) for v in value))
    if isinstance(value, float | int):
        return f"{value:,.6g}"
    return str(value)


@dataclass(frozen=True)
class PlanLever:
    """A lever of the plan: ``id`` (what ``levers=`` and ``--lever`` take), ``name`` in the
    plan's terms, its plan ``section``, the ``keys`` it sets together, and what it does in
    the model (``description``)."""

    id: str
    name: str
    section: str
    keys: tuple[LeverKey, ...]
    description: str

    @property
    def title(self) -> str:
        """``"§4.2 one-time rewards ..."``: section and name, as tables print them."""
        return f"{self.section} {self.name}"

    def settings(self, scenario: Scenario, multiple: float = HIGH_MULTIPLE) -> dict[str, dict]:
        """``{"off": {key: value}, "plan": {...}, "high": {...}}`` for ``scenario`` (module
        docstring). A key the scenario lacks is refused (:class:`ScenarioError`)."""
        plan = {k.key: scenario.get(k.key) for k in self.keys}
        return {"off": {k.key: k.off_value(scenario) for k in self.keys},
                "plan": plan,
                "high": {k.key: k.high_value(plan[k.key], multiple) for k in self.keys}}

    def rules(self, multiple: float = HIGH_MULTIPLE) -> str:
        """How off and high are made, in a few words: ``"off 0; high x3"``."""
        made = [k.describe() for k in self.keys]
        offs, highs = dict.fromkeys(o for o, _ in made), dict.fromkeys(h for _, h in made)
        return (f"off {' / '.join(offs)}; high "
                f"{' / '.join(highs).replace('{m}', f'{multiple:g}')}")


def _keys(prefix: str, names: tuple[str, ...], **rule) -> tuple[LeverKey, ...]:
    return tuple(LeverKey(f"policy.{prefix}.{n}", **rule) for n in names)


REWARD_AMOUNTS = ("province_national_award", "province_china_famous_brand",
                  "province_provincial_award", "city_national_award", "city_china_famous_brand",
                  "city_provincial_award")

PLAN_LEVERS: tuple[PlanLever, ...] = (
    PlanLever(
        "rewards", "one-time rewards for titles (all six amounts)", "§4.2",
        _keys("rewards", REWARD_AMOUNTS),
        "The province's and the city's one-time rewards for a provincial award, a China Famous "
        "Brand and a national award, paid to the winners of the December award round; they "
        "enter a firm's payoff of applying for a title (and of an upgrade that makes it "
        "eligible), weighed by its perceived chance of winning."),
    PlanLever(
        "fee_waivers", "fees reduced or waived", "§4.2", _keys("fees", ("fee_waiver_share",)),
        "The share of certification and title-application fees the city pays; it lowers the "
        "cost of ISO 9001, CCC and applications by the fee share of their cost."),
    PlanLever(
        "procurement", "government procurement preference for branded products", "§3.1",
        (LeverKey("policy.procurement.preference_share"),
         LeverKey("policy.procurement.price_premium", off=PLAN, high=LOCAL_BIAS_PREMIUM)),
        "The share of government purchases where title holders' products are bought first, "
        "and the price premium paid on them. The plan buys first 'at equal terms' (no "
        "premium) and has the share at its bound (1), so high is the preference paid for: "
        "a premium as large as the cost of local favouritism measured in Chinese procurement "
        "auctions. Title holders gain sales and margin; the city pays the premium."),
    PlanLever(
        "key_projects", "key technical-upgrade projects with loan-interest subsidy (rate and "
        "count)", "§3.4", _keys("subsidy", ("interest_subsidy_rate", "key_projects_per_year")),
        "Each January the city flags key projects among firms with credit; a flagged firm "
        "that upgrades gets the subsidised share of its loan's interest (perceived in its "
        "upgrade payoff), and its upgrade may be misused."),
    PlanLever(
        "permits", "no production over discharge limits (permit refusal)", "§3.3",
        (LeverKey("policy.permits.refuse_over_limit", off=False, high=True),),
        "Entrants over their discharge limit are refused, and a source the environment "
        "bureau's review finds still over its limit when its deadline-treatment order falls "
        "due is closed (off: the order is renewed with a new fine, as the 2008 law's fines "
        "apply either way); firms weigh closure in their abatement investment. A flag: on is "
        "its extreme, which the plan already has."),
    PlanLever(
        "targeting", "tiered supervision by the enterprise quality files' published grades "
        "(targeting of inspections at an equal inspection budget)", "§3.3",
        (LeverKey("policy.inspection.targeting", off="uniform", high="tiered"),
         LeverKey("policy.inspection.grade_inspection_weight.C", off=PLAN),
         LeverKey("policy.inspection.grade_inspection_weight.D", off=PLAN)),
        "Graded targeting shares the city's inspections among the published grades A-D in "
        "proportion to firms times each grade's inspection weight (a firm at D inspected six "
        "times as often as one at B, at the same number of inspections); uniform inspects at "
        "random. High triples the weights of grades C and D (a steeper gradient at the same "
        "budget)."),
    PlanLever(
        "sanction_ladder", "the Product Quality Law's sanction ladder for failed checks "
        "against a flat fine for every failure", "§4.4",
        (LeverKey("policy.inspection.sanctions", off="flat", high="ladder"),
         LeverKey("policy.inspection.counterfeit_goods_multiple", off=PLAN, high=3.0)),
        "Under the ladder a failed check is ordered corrected (and re-inspected through the "
        "worse grade), a repeat within a year publicly named, then suspended, then revoked; "
        "counterfeiting is fined a multiple of the goods' value and named (arts. 17, 49-50), a "
        "public notice costing the firm sales beyond the fine. Flat fines every failure "
        "fine_yuan. High fines counterfeiting the law's maximum, three times the goods' value."),
    PlanLever(
        "inspections", "the number of city inspections", "§3.3, §4.4",
        (LeverKey("policy.inspection.spot_checks_per_year", off=STATUS_QUO),),
        "The city's own product inspections a year (the status quo had some: off is its "
        "level). Inspections find failures and counterfeiters, fine them and make firms "
        "believe an inspection more likely."),
    PlanLever(
        "penalties", "severe penalties for counterfeiting (fine multiplier, licence "
        "revocation, criminal referral)", "§4.4",
        _keys("inspection", ("counterfeit_fine_multiplier", "revocation_probability",
                             "criminal_referral_probability"), off=STATUS_QUO),
        "What a counterfeiter found by a city inspection risks: a multiple of the fine, the "
        "loss of its licence (exit), a criminal referral; they enter the firm's perceived "
        "penalty of counterfeiting, weighed by its belief of being inspected."),
    PlanLever(
        "campaigns", "awareness campaigns (15 March, 20 May, Quality Month)", "§4.5",
        (LeverKey("policy.campaigns.months", off=[], high=list(range(1, 13))),),
        "In each campaign month every firm's perceived chance of an inspection rises part of "
        "the way to certainty; the city pays for each campaign. High: a campaign every month."),
    PlanLever(
        "construction_supervision", "supervision of construction works, tiered by the "
        "contractors' quality file", "§2.2.2, §3.3",
        (LeverKey("policy.construction.supervision_share", off=STATUS_QUO),
         LeverKey("policy.construction.targeting", off="uniform", high="tiered")),
        "The share of works the supervision station follows and corrects during construction "
        "(the status quo followed some: off is its level), and whether contractors with a "
        "failed acceptance are followed more; contractors choose their effort knowing it."),
    PlanLever(
        "demonstration_contests", "service standardisation demonstration-unit contests "
        "(number and reward)", "§3.2",
        _keys("services", ("demonstration_titles_per_year", "demonstration_reward_yuan")),
        "Each December the city names demonstration units among service firms that apply "
        "standards and rewards them; the chance of a title (and its reward) enters a service "
        "firm's payoff of adopting standards, and demonstration units pull their sector."),
)

# levers the plan's text does not have, which a researcher may weigh against it; audited only
# when asked for by id (the audit of the plan's levers leaves them out)
OUTSIDE_PLAN_LEVERS: tuple[PlanLever, ...] = (
    PlanLever(
        "urban_wastewater", "municipal wastewater treatment plants (outside the plan)",
        "§2.2.4b", (LeverKey("policy.urban_wastewater.plants_per_year", off=0),),
        "Treatment plants the city commissions each January (none in the plan): each removes "
        "the COD of the water it treats from the domestic discharge, which counts toward the "
        "15 % COD cut only when interpretation.cod_scope includes domestic sources; the city "
        "pays a levelised cost for every tonne a plant is built to remove (docs/ODD.md §7.17; "
        "docs/data/urban_wastewater_cost.md)."),
)

LEVER_IDS = tuple(lv.id for lv in PLAN_LEVERS)
OUTSIDE_PLAN_IDS = tuple(lv.id for lv in OUTSIDE_PLAN_LEVERS)


def plan_lever(lever_id: str) -> PlanLever:
    """The lever with this id (:data:`LEVER_IDS`, or one outside the plan,
    :data:`OUTSIDE_PLAN_IDS`); anything else is refused, listing them."""
    for lv in (*PLAN_LEVERS, *OUTSIDE_PLAN_LEVERS):
        if lv.id == lever_id:
            return lv
    known = (*LEVER_IDS, *OUTSIDE_PLAN_IDS)
    hint = suggest(str(lever_id), known).replace("`", "'")
    raise ScenarioError(f"unknown lever {lever_id!r}{hint}; the plan's levers are "
                        f"{', '.join(LEVER_IDS)}, and outside the plan "
                        f"{', '.join(OUTSIDE_PLAN_IDS)} (each with its section and keys in "
                        "simcity_quality/scenario/plan_levers.py).")
