"""Shared fixtures: the shipped scenarios, loaded once per test session."""

from pathlib import Path

import pytest

import simcity_quality as sq

SCEN = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="session")
def baseline():
    """scenarios/baseline.toml: the city before the plan."""
    return sq.load_scenario(SCEN / "baseline.toml")


@pytest.fixture(scope="session")
def plan():
    """scenarios/the_plan.toml: the plan as written."""
    return sq.load_scenario(SCEN / "the_plan.toml")
