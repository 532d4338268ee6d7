"""Rule-level tests: each mechanism run by the engine and by the Mesa reference on the same
hand-made state and the same random numbers (``states.py`` builds them).
``benchmarks/mutation_check.py`` runs these tests against perturbed copies of each rule."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import states` in the tests

from states import rule_scenario  # noqa: E402


@pytest.fixture(scope="session")
def sc():
    """The plan with every behavioural parameter away from zero (see states.rule_scenario)."""
    return rule_scenario()
