"""Hostile or careless input to scenarios: infinities and NaN, names that are paths, tables
given where a parameter is expected, and city sizes beyond the schema (issue 23, items 1, 6,
7 and the override messages of 9)."""

import math
from pathlib import Path

import pytest

import simcity_quality as sq
from simcity_quality import ScenarioError, SimcityQualityError
from simcity_quality.engine.resolution import check_resolution
from simcity_quality.interface.cli import main
from simcity_quality.scenario import parameter_table

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def float_keys() -> list[str]:
    """Every float parameter the schema defines (grouped members and status-quo levers too)."""
    keys = []
    for row in parameter_table():
        if row["type"] != "float":
            continue
        names = [f"{row['key']}.{m}" for m in row["members"]] or [row["key"]]
        keys += names
        if row["key"].startswith("policy."):
            keys += ["status_quo." + n.removeprefix("policy.") for n in names]
    return keys


def test_the_schema_has_float_keys_in_every_kind_of_table():
    keys = float_keys()
    assert len(keys) > 200
    assert {k.split(".")[0] for k in keys} >= {"city", "policy", "status_quo", "behaviour",
                                                  "market", "construction", "services"}
    assert "city.output_median.large" in keys  # grouped members are included


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_every_float_parameter_refuses_non_finite_numbers_naming_the_key(plan, bad):
    accepted, unnamed = [], []
    for key in float_keys():
        try:
            plan.override({key: bad})
        except ScenarioError as exc:
            if f"`{key}`" not in str(exc) or "finite" not in str(exc):
                unnamed.append((key, str(exc)))
        else:
            accepted.append(key)
    assert not accepted, f"{len(accepted)} float keys accept {bad}: {accepted[:5]}"
    assert not unnamed, unnamed[:3]


def test_inf_in_a_file_is_refused_by_validate_with_exit_2(tmp_path, capsys):
    path = tmp_path / "inf.toml"
    # fine_yuan has only a lower bound, imitation_weight both: inf and nan are refused alike
    path.write_text(f'extends = "{BASELINE}"\nname = "x"\n[policy.inspection]\n'
                    'fine_yuan = inf\n[behaviour]\nimitation_weight = nan\n', encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "policy.inspection.fine_yuan" in err and "behaviour.imitation_weight" in err
    assert str(path) in err and "finite" in err


@pytest.mark.parametrize("changes", [{"targets.factory_pass_rate": math.nan},
                                     {"uncertain.behaviour.imitation_weight": (0.0, math.inf)}])
def test_targets_and_uncertain_ranges_must_be_finite(plan, changes):
    with pytest.raises(ScenarioError, match="finite"):
        plan.override(changes)


# --- names are folder names ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../escaped", "/any/dir", "a/b", "a\\b", "..", ".hidden",
                                  "-rf", "", "x" * 101, "tab\tname", "line\nbreak", " x", "x "])
def test_a_name_that_is_not_a_plain_name_is_refused(plan, name):
    with pytest.raises(ScenarioError) as info:
        plan.override({}, name=name)
    assert "plain name" in str(info.value) and repr(name) in str(info.value)


@pytest.mark.parametrize("name", ["the_plan", "plan-2012", "v1.2", "质量强市", "A",
                                  "rewards x1.5", "Plan (2010)"])
def test_plain_names_are_accepted(plan, name, tmp_path):
    sc = plan.override({}, name=name)
    assert sc.name == name
    res = sq.run(sc, replications=1, resolution=300)
    res.write(tmp_path / "out" / sc.name)  # the name is a folder name
    assert (tmp_path / "out" / name / "final.csv").is_file()


def test_validate_refuses_a_path_as_name_naming_the_file(tmp_path, capsys):
    path = tmp_path / "escape.toml"
    path.write_text(f'extends = "{BASELINE}"\nname = "../../escaped"\n', encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "name" in err and "ok:" not in err


# --- tables and parameters ----------------------------------------------------------------

def test_an_override_may_be_a_nested_dict(plan):
    nested = plan.override({"policy": {"rewards": {"city_provincial_award": 7.0}}})
    dotted = plan.override({"policy.rewards.city_provincial_award": 7.0})
    assert nested.to_dict() == dotted.to_dict()
    assert nested.get("policy.rewards.city_provincial_award") == 7.0


@pytest.mark.parametrize("changes", [{"policy": 5}, {"policy": {"rewards": 5}}])
def test_a_value_for_a_table_says_it_is_a_table(plan, changes):
    with pytest.raises(ScenarioError) as info:
        plan.override(changes)
    msg = str(info.value)
    assert "is a table of parameters" in msg and "did you mean" not in msg


def test_suggestions_never_name_the_key_itself(plan):
    with pytest.raises(ScenarioError) as info:
        plan.get("policy.rewards.nothing")
    assert "(did you mean `policy.rewards.nothing`?)" not in str(info.value)
    with pytest.raises(ScenarioError) as info:
        plan.override({"policy.rewardz": {"city_provincial_award": 1}})
    assert "did you mean `policy.rewards`" in str(info.value)


def test_get_on_a_table_gives_the_table(plan):
    rewards = plan.get("policy.rewards")
    assert rewards["city_provincial_award"] == plan.get("policy.rewards.city_provincial_award")
    assert set(plan.get("policy")) >= {"rewards", "inspection", "start_year"}


# --- the city's size and the resolution ---------------------------------------------------

@pytest.mark.parametrize("resolution", [0, -5, 5_000_001, 10**9, 2.5, "1000", True])
def test_the_resolution_is_bounded_everywhere(plan, resolution):
    for call in (lambda: check_resolution(resolution, plan),
                 lambda: sq.run(plan, replications=1, resolution=resolution),
                 lambda: sq.QualityCityModel(plan, resolution=resolution)):
        with pytest.raises(SimcityQualityError, match="resolution"):
            call()


def test_a_resolution_in_the_file_is_bounded_by_the_citys_size(plan):
    above = plan.override({"city.resolution": plan.city.firms + 1})
    with pytest.raises(SimcityQualityError, match="above the city's size"):
        sq.run(above, replications=1)
    with pytest.raises(ScenarioError, match="city.resolution"):
        plan.override({"city.resolution": 10**9})  # beyond the schema's bound


def test_the_citys_size_in_a_file_or_override_is_bounded(plan):
    with pytest.raises(ScenarioError, match="city.firms"):
        plan.override({"city.firms": 10**12})
