"""The registry of the plan's levers: complete, every key in the schema, settings as the
module says (off, plan, high within the schema's bounds), bad names refused."""

import pytest

from simcity_quality.errors import ScenarioError
from simcity_quality.scenario import valid_keys
from simcity_quality.scenario.plan_levers import (
    HIGH_MULTIPLE,
    LEVER_IDS,
    MULTIPLE,
    PLAN_LEVERS,
    plan_lever,
    upper_bound,
)

# the levers issue 16 names, with their plan sections
EXPECTED = {
    "rewards": "§4.2", "fee_waivers": "§4.2", "procurement": "§3.1", "key_projects": "§3.4",
    "permits": "§3.3", "targeting": "§3.3", "sanction_ladder": "§4.4",
    "inspections": "§3.3, §4.4", "penalties": "§4.4",
    "campaigns": "§4.5", "construction_supervision": "§2.2.2, §3.3",
    "demonstration_contests": "§3.2",
}


def test_every_lever_of_the_plan_is_in_the_registry_once():
    assert LEVER_IDS == tuple(EXPECTED)
    assert {lv.id: lv.section for lv in PLAN_LEVERS} == EXPECTED
    for lv in PLAN_LEVERS:
        assert lv.name and len(lv.description) > 60 and lv.title.startswith(lv.section)
    keys = [k.key for lv in PLAN_LEVERS for k in lv.keys]
    assert len(keys) == len(set(keys)), "a key belongs to one lever only"


def test_levers_sharing_a_mechanism_are_set_together():
    def keys(lever_id):
        return {k.key.rsplit(".", 1)[1] for k in plan_lever(lever_id).keys}

    assert keys("rewards") == {f"{p}_{t}" for p in ("province", "city")
                               for t in ("national_award", "china_famous_brand",
                                         "provincial_award")}
    assert keys("penalties") == {"counterfeit_fine_multiplier", "revocation_probability",
                                 "criminal_referral_probability"}
    assert keys("key_projects") == {"interest_subsidy_rate", "key_projects_per_year"}
    assert keys("demonstration_contests") == {"demonstration_titles_per_year",
                                              "demonstration_reward_yuan"}


def test_every_key_is_a_policy_key_of_the_schema(plan):
    known = set(valid_keys())
    for lv in PLAN_LEVERS:
        for k in lv.keys:
            assert k.key.startswith("policy.") and k.key in known, k.key
            assert "status_quo." + k.key.removeprefix("policy.") in known
            plan.get(k.key)  # the shipped plan has it


def test_off_plan_and_high_differ_and_high_stays_within_the_schema(plan):
    for lv in PLAN_LEVERS:
        s = lv.settings(plan)
        assert s["plan"] == {k.key: plan.get(k.key) for k in lv.keys}
        assert s["off"] != s["plan"], lv.id
        if lv.id == "permits":  # a flag: on is its extreme, and the plan has it on
            assert s["high"] == s["plan"] == {"policy.permits.refuse_over_limit": True}
        else:
            assert s["plan"] != s["high"], lv.id
        for setting in ("off", "high"):  # the schema takes every value
            plan.override(s[setting])
        for k in lv.keys:
            upper = upper_bound(k.key)
            value = s["high"][k.key]
            if upper is not None and not isinstance(value, bool | str | list):
                assert value <= upper, (k.key, value)


def test_high_is_a_multiple_capped_at_the_bound_or_a_natural_extreme(plan):
    high = {k: v for lv in PLAN_LEVERS for k, v in lv.settings(plan)["high"].items()}
    assert high["policy.rewards.city_provincial_award"] == 50_000 * HIGH_MULTIPLE
    assert high["policy.rewards.province_provincial_award"] == 0  # zero in the plan stays zero
    assert high["policy.inspection.spot_checks_per_year"] == 750 * HIGH_MULTIPLE
    assert high["policy.subsidy.key_projects_per_year"] == 60
    assert high["policy.inspection.criminal_referral_probability"] == 0.9
    for capped in ("policy.fees.fee_waiver_share", "policy.subsidy.interest_subsidy_rate",
                   "policy.inspection.revocation_probability",
                   "policy.procurement.preference_share",
                   "policy.construction.supervision_share"):
        assert high[capped] == 1.0, capped  # a share or probability: at most 1
    assert high["policy.inspection.targeting"] == "tiered"
    assert high["policy.construction.targeting"] == "tiered"
    assert high["policy.campaigns.months"] == list(range(1, 13))
    assert plan_lever("rewards").settings(plan, multiple=2)["high"][
        "policy.rewards.province_national_award"] == 2_000_000


def test_off_is_zero_or_the_status_quo_for_levers_the_city_had_before(plan):
    off = {k: v for lv in PLAN_LEVERS for k, v in lv.settings(plan)["off"].items()}
    assert off["policy.inspection.spot_checks_per_year"] == plan.get(
        "status_quo.inspection.spot_checks_per_year") == 500
    assert off["policy.inspection.counterfeit_fine_multiplier"] == 3.0
    assert off["policy.construction.supervision_share"] == 0.3
    assert off["policy.construction.targeting"] == off["policy.inspection.targeting"] == "uniform"
    assert off["policy.campaigns.months"] == [] and off["policy.permits.refuse_over_limit"] is False
    assert off["policy.fees.fee_waiver_share"] == 0
    assert off["policy.subsidy.interest_subsidy_rate"] == 0
    # a key that matters only with its lever on keeps the plan's value
    assert off["policy.procurement.price_premium"] == plan.get("policy.procurement.price_premium")
    assert off["policy.inspection.sanctions"] == "flat"
    assert all(k.high == MULTIPLE for k in plan_lever("rewards").keys)


def test_rules_read_in_words():
    assert plan_lever("rewards").rules() == "off 0; high x3"
    assert plan_lever("fee_waivers").rules(2) == "off 0; high x2, at most 1"
    assert plan_lever("inspections").rules() == "off status quo; high x3"


def test_an_unknown_lever_is_refused_naming_the_levers():
    with pytest.raises(ScenarioError, match="did you mean 'rewards'.*fee_waivers"):
        plan_lever("rewardz")
