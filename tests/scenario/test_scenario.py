"""Scenario files: loading, ``extends``, validation errors, overrides (simcity_quality/scenario.py).

Every error must be a ``ScenarioError`` whose message names the file, the key and what was
expected, so a user can fix the file without reading code.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simcity_quality import ScenarioError, load_scenario
from simcity_quality.scenario import Scenario, parameter_table
from simcity_quality.targets import TARGET_IDS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
THE_PLAN = SCENARIOS / "the_plan.toml"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def write(tmp_path: Path, body: str, name: str = "bad.toml", extends: Path | None = BASELINE):
    """A scenario file in tmp_path extending ``extends`` (absolute path) with ``body``."""
    head = f'extends = "{extends}"\n' if extends is not None else ""
    path = tmp_path / name
    path.write_text(head + 'name = "test"\n' + body, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def plan() -> Scenario:
    return load_scenario(THE_PLAN)


# ---------------------------------------------------------------------------------------
# shipped scenarios


def test_there_are_shipped_scenarios():
    names = {p.name for p in SHIPPED}
    assert {"baseline.toml", "the_plan.toml"} <= names
    assert len(SHIPPED) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads(path):
    sc = load_scenario(path)
    assert isinstance(sc, Scenario)
    assert sc.name == path.stem  # names differ, so scenarios can be written side by side
    assert sc.source == str(path)
    assert sc.city.base_year <= sc.policy.start_year <= sc.horizon.end_year + 1


def test_shipped_scenarios_inherit_through_extends(plan):
    base = load_scenario(BASELINE)
    doubled = load_scenario(SCENARIOS / "rewards_doubled.toml")
    city_only = load_scenario(SCENARIOS / "city_rewards_only.toml")
    heavy = load_scenario(SCENARIOS / "enforcement_heavy.toml")
    assert doubled.policy.rewards.city_provincial_award == (
        2 * plan.policy.rewards.city_provincial_award)
    assert city_only.policy.rewards.province_national_award == 0
    # city_rewards_only sets only province rewards: the city's come from the_plan.toml
    assert city_only.policy.rewards.city_national_award == plan.policy.rewards.city_national_award
    assert heavy.policy.inspection.spot_checks_per_year == 1500
    # ... and the plan's other inspection levers come through the chain
    assert heavy.policy.inspection.revocation_probability == plan.policy.inspection \
        .revocation_probability
    # the world the city does not steer comes from baseline.toml
    assert heavy.awards == base.awards and heavy.behaviour == base.behaviour


# ---------------------------------------------------------------------------------------
# bad files: file, key, expectation in the message


def test_unknown_key_suggests_nearest(tmp_path):
    path = write(tmp_path, "[policy.rewards]\ncity_provincal_award = 5\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "policy.rewards.city_provincal_award" in msg
    assert "unknown key" in msg
    assert "did you mean `policy.rewards.city_provincial_award`" in msg


def test_unknown_leaf_in_grouped_table_suggests_member(tmp_path):
    path = write(tmp_path, "[awards.quota]\nnational = 0.05\n")
    msg = error_of(path)
    assert str(path) in msg and "did you mean `awards.quota.national_award`" in msg


@pytest.mark.parametrize(("table", "nearest"), [("policy.reward", "policy.rewards"),
                                                ("horizn", "horizon")])
def test_misspelt_table_name_suggests_the_table(tmp_path, table, nearest):
    path = write(tmp_path, f"[{table}]\nend_year = 2012\n")
    msg = error_of(path)
    assert str(path) in msg and f"`{table}`" in msg
    assert f"did you mean `{nearest}" in msg


def test_wrong_type_string_for_number(tmp_path):
    path = write(tmp_path, '[policy.rewards]\ncity_provincial_award = "lots"\n')
    msg = error_of(path)
    assert str(path) in msg
    assert "policy.rewards.city_provincial_award" in msg
    assert "valid number" in msg and "'lots'" in msg
    assert "yuan per title" in msg  # the unit, from the schema


def test_wrong_type_string_for_integer(tmp_path):
    path = write(tmp_path, '[city]\nfirms = "many"\n')
    msg = error_of(path)
    assert str(path) in msg and "city.firms" in msg and "integer" in msg and "'many'" in msg


@pytest.mark.parametrize("value", ['"50000"', "true"], ids=["quoted_number", "boolean"])
def test_wrong_type_not_silently_coerced(tmp_path, value):
    path = write(tmp_path, f"[policy.rewards]\ncity_provincial_award = {value}\n")
    msg = error_of(path)
    assert str(path) in msg and "policy.rewards.city_provincial_award" in msg


def test_negative_amount(tmp_path):
    path = write(tmp_path, "[policy.rewards]\ncity_provincial_award = -5\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "policy.rewards.city_provincial_award" in msg
    assert "non-negative" in msg and "-5" in msg


def test_probability_above_one(tmp_path):
    path = write(tmp_path, "[policy.subsidy]\ninterest_subsidy_rate = 1.5\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "policy.subsidy.interest_subsidy_rate" in msg
    assert "<= 1" in msg and "1.5" in msg


def test_probability_below_zero_names_status_quo_key(tmp_path):
    path = write(tmp_path, "[status_quo.inspection]\nrevocation_probability = -0.1\n")
    msg = error_of(path)
    assert str(path) in msg and "status_quo.inspection.revocation_probability" in msg
    assert "-0.1" in msg


def test_share_above_one_hints_at_percentages(tmp_path):
    path = write(tmp_path, "[status_quo.fees]\nfee_waiver_share = 50\n")
    msg = error_of(path)
    assert str(path) in msg and "fee_waiver_share" in msg
    assert "not percentages" in msg


def test_end_year_before_base_year(tmp_path):
    path = write(tmp_path, "[horizon]\nend_year = 2005\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "horizon.end_year" in msg and "city.base_year" in msg
    assert "2005" in msg and "before" in msg


def test_model_level_error_does_not_dump_the_whole_scenario(tmp_path):
    path = write(tmp_path, "[horizon]\nend_year = 2005\n")
    msg = error_of(path)
    # an unrelated parameter has no place in a one-paragraph error about the horizon
    assert "discharge_fee_yuan_per_tonne" not in msg


def test_policy_start_year_outside_horizon(tmp_path):
    path = write(tmp_path, "[policy]\nstart_year = 2020\n")
    msg = error_of(path)
    assert str(path) in msg and "policy.start_year" in msg and "2020" in msg


def test_missing_extends_file(tmp_path):
    path = write(tmp_path, "", extends=Path("no_such_parent.toml"))
    msg = error_of(path)
    assert str(path) in msg
    assert "extends" in msg
    assert "no_such_parent.toml" in msg and "does not exist" in msg


def test_extends_relative_to_the_file(tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    path = write(tmp_path, "[policy.rewards]\ncity_provincial_award = 1234\n",
                 extends=Path("baseline.toml"))
    assert load_scenario(path).policy.rewards.city_provincial_award == 1234


def test_extends_cycle(tmp_path):
    write(tmp_path, "", name="a.toml", extends=Path("b.toml"))
    b = write(tmp_path, "", name="b.toml", extends=Path("a.toml"))
    msg = error_of(b)
    assert "extends" in msg and "circle" in msg


def test_malformed_toml(tmp_path):
    path = write(tmp_path, "[policy\nstart_year = 2010\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "not valid TOML" in msg and "line 3" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    msg = error_of(path)
    assert str(path) in msg and "not found" in msg


def test_missing_required_key_without_extends(tmp_path):
    path = write(tmp_path, "[horizon]\nend_year = 2012\n", extends=None)
    msg = error_of(path)
    assert str(path) in msg and "city" in msg and "missing" in msg


def test_error_names_the_file_that_set_the_key(tmp_path):
    """A bad value in the middle of an extends chain is blamed on that file, not the leaf."""
    mid = write(tmp_path, "[policy.rewards]\ncity_provincial_award = -1\n", name="mid.toml")
    leaf = write(tmp_path, "[policy.inspection]\nfine_yuan = 1\n", name="leaf.toml",
                 extends=mid)
    msg = error_of(leaf)
    assert str(mid) in msg and "policy.rewards.city_provincial_award" in msg


def test_group_error_names_the_file_that_changed_the_group(tmp_path):
    path = write(tmp_path, "[city.sector_shares]\nother = 0.5\n")
    msg = error_of(path)
    assert "city.sector_shares" in msg and "add up to 1" in msg
    assert str(path) in msg


def test_scenario_error_is_a_value_error():
    assert issubclass(ScenarioError, ValueError)


# ---------------------------------------------------------------------------------------
# [policy] and [status_quo]


def test_policy_levers_not_set_keep_status_quo(plan):
    # the_plan.toml sets neither of these under [policy]
    assert plan.policy.inspection.fine_yuan == plan.status_quo.inspection.fine_yuan == 30000
    assert plan.policy.subsidy.loan_interest_rate == plan.status_quo.subsidy.loan_interest_rate
    assert plan.policy.rewards.province_provincial_award == 0
    # ... while the ones it sets differ
    assert plan.policy.inspection.spot_checks_per_year == 750
    assert plan.status_quo.inspection.spot_checks_per_year == 500


def test_status_quo_change_in_child_flows_into_unset_policy(tmp_path):
    body = "[status_quo.inspection]\nfine_yuan = 12345\nspot_checks_per_year = 100\n"
    path = write(tmp_path, body, extends=THE_PLAN)
    sc = load_scenario(path)
    assert sc.status_quo.inspection.fine_yuan == 12345
    assert sc.policy.inspection.fine_yuan == 12345  # not set under [policy] anywhere
    assert sc.policy.inspection.spot_checks_per_year == 750  # set in the_plan.toml's [policy]


def test_levers_for_switches_at_start_year(plan):
    start = plan.policy.start_year
    assert plan.levers_for(start - 1) is plan.status_quo
    assert plan.levers_for(start) is plan.policy
    assert plan.levers_for(plan.horizon.end_year) is plan.policy
    assert plan.levers_for(start - 1).inspection.spot_checks_per_year == 500
    assert plan.levers_for(start).inspection.spot_checks_per_year == 750
    later = plan.override({"policy.start_year": 2011})
    assert later.levers_for(2010).inspection.spot_checks_per_year == 500
    assert later.levers_for(2011).inspection.spot_checks_per_year == 750


def test_cod_base_year_defaults_to_year_before_start(baseline):
    assert baseline.interpretation.cod_base_year is None
    assert baseline.cod_base_year == baseline.policy.start_year - 1 == 2009
    late = baseline.override({"policy.start_year": 2012})
    assert late.cod_base_year == 2011
    explicit = late.override({"interpretation.cod_base_year": 2010})
    assert explicit.cod_base_year == 2010
    with pytest.raises(ScenarioError, match="cod_base_year"):
        baseline.override({"interpretation.cod_base_year": 2030})


# ---------------------------------------------------------------------------------------
# overrides


def test_override_returns_new_validated_scenario(plan):
    before_hash = plan.content_hash()
    before = plan.to_dict()
    new = plan.override({"policy.rewards.city_provincial_award": 70000,
                         "behaviour.imitation_weight": 2.0}, name="plan_70k")
    assert isinstance(new, Scenario) and new is not plan
    assert new.policy.rewards.city_provincial_award == 70000
    assert new.behaviour.imitation_weight == 2.0
    assert new.name == "plan_70k"
    assert new.get("policy.rewards.city_provincial_award") == 70000
    # the original is unchanged
    assert plan.policy.rewards.city_provincial_award == 50000
    assert plan.behaviour.imitation_weight == 1.0
    assert plan.name == "the_plan"
    assert plan.to_dict() == before and plan.content_hash() == before_hash
    assert new.content_hash() != before_hash
    # everything else is carried over
    assert new.policy.inspection == plan.policy.inspection and new.city == plan.city


def test_override_with_targets_and_uncertain(plan):
    new = plan.override({"targets.factory_pass_rate": 0.85,
                         "uncertain.behaviour.imitation_weight": [0.5, 2.5]})
    assert new.targets == {"factory_pass_rate": 0.85}
    assert new.uncertain["behaviour.imitation_weight"] == (0.5, 2.5)
    assert plan.targets == {}
    assert plan.uncertain["behaviour.imitation_weight"] == (0.0, 3.0)


def test_override_unknown_key(plan):
    with pytest.raises(ScenarioError) as info:
        plan.override({"policy.rewards.city_provincal_award": 5})
    msg = str(info.value)
    assert str(THE_PLAN) in msg
    assert "policy.rewards.city_provincal_award" in msg
    assert "city_provincial_award" in msg.split("did you mean", 1)[1]


def test_override_unknown_section(plan):
    with pytest.raises(ScenarioError, match="no such parameter"):
        plan.override({"polcy.rewards.city_provincial_award": 5})


@pytest.mark.parametrize(("key", "value", "expect"), [
    ("policy.rewards.city_provincial_award", -5, "non-negative"),
    ("policy.subsidy.interest_subsidy_rate", 1.5, "<= 1"),
    ("policy.rewards.city_provincial_award", "lots", "valid number"),
    ("horizon.end_year", 2005, "before"),
    ("policy.campaigns.months", [13], "between 1 and 12"),
])
def test_override_bad_value(plan, key, value, expect):
    with pytest.raises(ScenarioError) as info:
        plan.override({key: value})
    msg = str(info.value)
    assert str(THE_PLAN) in msg and key in msg and expect in msg
    assert plan.get(key) != value  # the original is untouched


def test_override_status_quo_equals_same_change_in_a_file(tmp_path, baseline):
    path = write(tmp_path, "[status_quo.inspection]\nfine_yuan = 12345\n", name="child.toml")
    from_file = load_scenario(path)
    from_override = baseline.override({"status_quo.inspection.fine_yuan": 12345}, name="test")
    assert from_file.policy.inspection.fine_yuan == 12345
    assert from_override.policy.inspection.fine_yuan == 12345


# ---------------------------------------------------------------------------------------
# [targets] and [uncertain]


def test_targets_file_override_applies(tmp_path):
    path = write(tmp_path, "[targets]\nfactory_pass_rate = 0.85\n")
    sc = load_scenario(path)
    assert sc.targets == {"factory_pass_rate": 0.85}


def test_targets_unknown_id(tmp_path):
    path = write(tmp_path, "[targets]\nfactory_pass_rat = 0.85\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "targets.factory_pass_rat" in msg and "no such target" in msg
    assert "did you mean `factory_pass_rate`" in msg
    assert "factory_pass_rate" in TARGET_IDS


def test_targets_threshold_above_one(tmp_path):
    path = write(tmp_path, "[targets]\nfactory_pass_rate = 90\n")
    msg = error_of(path)
    assert str(path) in msg and "targets.factory_pass_rate" in msg
    assert "outside [0, 1]" in msg


@pytest.mark.parametrize(("changes", "expect"), [
    ({"targets.nope": 0.5}, "no such target"),
    ({"targets.cod_reduction": 1.5}, "outside [0, 1]"),
])
def test_targets_bad_override(baseline, changes, expect):
    with pytest.raises(ScenarioError, match=expect.replace("[", r"\[")):
        baseline.override(changes)


def test_uncertain_unknown_key(tmp_path):
    path = write(tmp_path, '[uncertain]\n"behaviour.imitation_weigth" = [0.0, 3.0]\n')
    msg = error_of(path)
    assert str(path) in msg
    assert "uncertain.behaviour.imitation_weigth" in msg and "no such parameter" in msg
    assert "did you mean `behaviour.imitation_weight`" in msg


def test_uncertain_value_outside_range(tmp_path):
    # baseline.toml has behaviour.imitation_weight = 1.0
    path = write(tmp_path, '[uncertain]\n"behaviour.imitation_weight" = [2.0, 3.0]\n')
    msg = error_of(path)
    assert str(path) in msg
    assert "uncertain.behaviour.imitation_weight" in msg and "outside" in msg
    assert "[2.0, 3.0]" in msg


def test_uncertain_value_moved_outside_its_range(tmp_path):
    path = write(tmp_path, "[behaviour]\nimitation_weight = 5.0\n")
    msg = error_of(path)
    assert "uncertain.behaviour.imitation_weight" in msg and "5.0" in msg


def test_uncertain_low_above_high_and_non_numeric(baseline):
    with pytest.raises(ScenarioError, match="low above high"):
        baseline.override({"uncertain.behaviour.imitation_weight": [3.0, 0.0]})
    with pytest.raises(ScenarioError, match="only numeric"):
        baseline.override({"uncertain.interpretation.cod_scope": [0.0, 1.0]})


def test_uncertain_merges_with_parent(tmp_path, baseline):
    path = write(tmp_path, '[uncertain]\n"city.output_growth" = [0.05, 0.15]\n')
    sc = load_scenario(path)
    assert sc.uncertain["city.output_growth"] == (0.05, 0.15)
    assert set(baseline.uncertain) < set(sc.uncertain)


def test_uncertain_table_with_a_prior_and_its_source_loads(tmp_path):
    path = write(tmp_path, '[uncertain]\n"market.counterfeit_gain" = { range = [0.01, 0.06], '
                 'prior = "truncated_normal", mean = 0.03, sd = 0.01, source = "a survey" }\n')
    prior = load_scenario(path).uncertain["market.counterfeit_gain"]
    assert prior == (0.01, 0.06) and prior.prior == "truncated_normal"
    assert prior.params == {"mean": 0.03, "sd": 0.01} and prior.source == "a survey"
    assert load_scenario(path).priors["market.counterfeit_gain"] == prior


@pytest.mark.parametrize(("entry", "expect"), [
    ('{ range = [0.01, 0.06], prior = "gaussian", source = "s" }',
     "prior 'gaussian' is not a distribution this model draws from; expected one of uniform, "
     "triangular, truncated_normal, beta, log_uniform"),
    ('{ range = [0.01, 0.06], prior = "triangular", source = "s" }',
     "a triangular prior takes `mode` besides `range` and `source`; missing ['mode']"),
    ('{ range = [0.01, 0.06], prior = "triangular", mode = 0.03, sd = 1.0, source = "s" }',
     "unexpected ['sd']"),
    ('{ range = [0.01, 0.06], prior = "triangular", mode = 0.09, source = "s" }',
     "mode 0.09 lies outside its range [0.01, 0.06]"),
    ('{ range = [0.01, 0.06], prior = "truncated_normal", mean = 0.03, sd = 0.0, source = "s" }',
     "sd must be above 0"),
    ('{ range = [0.01, 0.06], prior = "truncated_normal", mean = 9.0, sd = 0.01, source = "s" }',
     "puts no probability on its range"),
    ('{ range = [0.01, 0.06], prior = "beta", alpha = -1.0, beta = 2.0, source = "s" }',
     "shapes must be above 0"),
    ('{ range = [0.01, 0.06], prior = "triangular", mode = 0.03 }',
     "a prior needs its `source`"),
    ('{ range = [0.01, 0.06], prior = "triangular", mode = "high", source = "s" }',
     "`mode` must be a finite number, got 'high'"),
    ('{ prior = "uniform", source = "s" }', "a prior table needs `range = [low, high]`"),
    ('"wide"', "expected a range [low, high] or a table"),
    ('[0.01]', "expected a range [low, high] or a table"),
])
def test_a_prior_that_is_not_a_distribution_is_refused_naming_file_and_key(tmp_path, entry,
                                                                           expect):
    path = write(tmp_path, f'[uncertain]\n"market.counterfeit_gain" = {entry}\n')
    msg = error_of(path)
    assert str(path) in msg and "uncertain.market.counterfeit_gain" in msg
    assert expect in msg
    assert msg.count("uncertain.market.counterfeit_gain") == 1  # one paragraph, named once


def test_a_log_uniform_prior_needs_a_positive_range(tmp_path):
    path = write(tmp_path, '[uncertain]\n"environment.discharge_trend" = { range = [-0.2, '
                 '-0.04], prior = "log_uniform", source = "s" }\n')
    assert "needs a positive range" in error_of(path)


@pytest.mark.parametrize(("entry", "expect"), [
    ('"behaviour.subsidy_misuse" = [0.2, 1.4]', "it must be >= 0, <= 1; probability"),
    ('"behaviour.logit_scale" = [0.0, 0.03]', "it must be > 0, <= 1"),
    ('"behaviour.subsidy_misuse" = { range = [-0.1, 0.6], prior = "triangular", mode = 0.4, '
     'source = "s" }', "[-0.1, 0.6] reaches values the parameter cannot take"),
])
def test_an_uncertain_range_beyond_the_schema_bounds_is_refused(tmp_path, entry, expect):
    path = write(tmp_path, f"[uncertain]\n{entry}\n")
    msg = error_of(path)
    assert str(path) in msg and "every value in it can be drawn" in msg
    assert expect in msg


def test_the_shipped_priors_name_their_sources(baseline):
    named = {k: v for k, v in baseline.uncertain.items() if v.prior != "uniform"}
    assert named, "baseline.toml declares priors"
    for key, prior in named.items():
        assert prior.source.strip(), key
        assert prior[0] <= prior.params.get("mode", prior[0]) <= prior[1]


# ---------------------------------------------------------------------------------------
# parameter metadata


def test_parameter_table_rows_have_unit_and_source():
    rows = parameter_table()
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) and len(rows) > 50
    assert "policy.rewards.city_provincial_award" in keys
    assert not any(k.startswith("status_quo.") for k in keys)  # documented once, as policy.*
    no_unit = [r["key"] for r in rows if not str(r["unit"]).strip()]
    no_source = [r["key"] for r in rows if not str(r["source"]).strip()]
    assert no_unit == [] and no_source == []


def test_parameter_table_assumptions_have_reasons():
    missing = [r["key"] for r in parameter_table()
               if r["source"].strip() == "assumption" and not r["reason"].strip()]
    assert missing == []


def test_parameter_table_covers_every_scenario_value(baseline):
    """Every value in a scenario is documented by a row (or is a member of a grouped row)."""
    from simcity_quality.scenario import flatten

    rows = parameter_table()
    documented = set()
    for r in rows:
        documented.add(r["key"])
        documented.update(f"{r['key']}.{m}" for m in r["members"])
    flat = flatten(baseline.model_dump(exclude={"targets", "uncertain", "name", "description",
                                                "status_quo"}))
    assert set(flat) - documented == set()


# ---------------------------------------------------------------------------------------
# the command line


def test_cli_validate_error_exit_code_and_no_traceback(tmp_path):
    if importlib.util.find_spec("simcity_quality.interface.cli") is None:
        pytest.skip("simcity_quality/interface/cli.py does not exist yet")
    bad = write(tmp_path, "[policy.rewards]\ncity_provincal_award = 5\n")
    proc = subprocess.run([sys.executable, "-m", "simcity_quality", "validate", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    assert str(bad) in out and "city_provincial_award" in out


def test_cli_validate_good_file(tmp_path):
    if importlib.util.find_spec("simcity_quality.interface.cli") is None:
        pytest.skip("simcity_quality/interface/cli.py does not exist yet")
    proc = subprocess.run([sys.executable, "-m", "simcity_quality", "validate",
                           str(BASELINE)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
