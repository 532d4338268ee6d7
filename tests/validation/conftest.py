"""Validation suite (issue 8): CI sizes, shared by the checks in this folder.

Sizes are chosen so the whole folder runs in about a minute on two shared cores; the full-size
version of every check is ``benchmarks/validation.py`` (output in docs/validation.md).
"""

import pytest

from simcity_quality import validation as v

# enforcement and award checks: the default 5,000-firm city, paired over 20 replications
FIRMS = 5000
REPLICATIONS = 20
# the 22-year ISO runs: a smaller city, fewer replications (the fitted rate varies little)
ISO_FIRMS = 2000
ISO_REPLICATIONS = 8


@pytest.fixture(scope="session")
def size():
    """Keyword arguments sizing the enforcement and award checks."""
    return {"resolution": FIRMS, "replications": REPLICATIONS}


@pytest.fixture(scope="session")
def scenarios():
    """The shipped baseline and plan scenarios."""
    return v.default_scenarios()


@pytest.fixture(scope="session")
def iso_checks(scenarios):
    """The two ISO 9001 diffusion checks, computed from one set of runs."""
    return v.iso_diffusion(scenarios[0], resolution=ISO_FIRMS, replications=ISO_REPLICATIONS)
