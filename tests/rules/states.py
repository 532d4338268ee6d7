"""Hand-made states for the rule-level tests, and comparisons of engine and reference.

Every parameter a rule uses is set away from zero and from the values where a term vanishes
(``rule_scenario``), and the states mix firms on both sides of every condition (with and
without credit, cash, titles, ISO, CCC, over and under the discharge limit, key projects,
running loans), so that dropping a term, flipping a comparison or scaling a parameter in
either implementation changes what some firm does (``benchmarks/mutation_check.py``).
"""

from pathlib import Path

import numpy as np

from simcity_quality.categories import EFFORTS, OPTIONS, SECTORS, SERVICE_SECTORS, SIZES, TIERS
from simcity_quality.engine.construction import Contractors
from simcity_quality.engine.population import empty_population
from simcity_quality.engine.quality_file import FIELDS as FILE_FIELDS
from simcity_quality.engine.services import ServiceFirms
from simcity_quality.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2011  # a plan year: the plan's levers are in force


def rule_scenario(**changes):
    """The plan with every behavioural parameter a rule reads away from zero (so that no
    term vanishes) and tiered, permit-refusing supervision; ``changes`` on top."""
    plan = load_scenario(ROOT / "scenarios" / "the_plan.toml")
    return plan.override({
        "behaviour.subsidy_additionality": 0.7,
        "behaviour.capability_drift": -0.2,
        "behaviour.iso_gain": 0.3,
        "policy.inspection.targeting": "tiered",
        "policy.permits.refuse_over_limit": True,
        "policy.procurement.price_premium": 0.02,
        "policy.services.standard_subsidy_yuan": 20_000,
        "policy.construction.excellence_reward_yuan": 50_000,
        "policy.construction.targeting": "tiered",
        # just above the plan's 0.6 for all works, so both shares decide the watched ones
        "policy.construction.watched_supervision_share": 0.63,
        "market.procurement_sales_gain": 0.3,
        "environment.discharge_trend": -0.1,
        # key projects without credit borrow too (directed credit), so both kinds are selected
        "policy.subsidy.key_project_loan": True,
        # the city-wide belief; tests of the own_score rule ask for it
        "behaviour.title_belief": "city_rate",
        **changes,
    })


def firms(n: int = 120, seed: int = 0):
    """An engine population of ``n`` alive firms with attributes on both sides of every
    condition the rules test."""
    rng = np.random.default_rng(seed)
    pop = empty_population(n)
    pop.id[:] = np.arange(n)
    pop.alive[:] = True
    pop.weight[:] = 1.0  # each agent one firm: the reference has no weights
    pop.sector[:] = rng.integers(0, len(SECTORS), n)
    pop.size[:] = rng.integers(0, len(SIZES), n)
    pop.output[:] = np.exp(rng.normal(np.log(15.0), 1.3, n))
    pop.margin[:] = rng.normal(0.04, 0.06, n)  # some negative
    pop.cash[:] = pop.output * rng.uniform(-0.3, 0.6, n)  # some in deficit, some short of cash
    pop.credit[:] = rng.random(n) < 0.6
    pop.capability[:] = rng.normal(2.6, 0.9, n)
    pop.intl_std[:] = rng.random(n) < 0.3
    pop.iso9001[:] = rng.random(n) < 0.4
    pop.ccc_required[:] = rng.random(n) < 0.4
    pop.ccc[:] = pop.ccc_required & (rng.random(n) < 0.5)
    pop.tier[:] = rng.integers(0, len(TIERS), n)
    pop.applying[:] = np.where(rng.random(n) < 0.2, np.minimum(pop.tier + 1, len(TIERS) - 1), 0)
    pop.discharge_ratio[:] = np.exp(rng.normal(np.log(0.9), 0.5, n))  # many over the limit
    pop.counterfeit[:] = rng.random(n) < 0.3
    pop.moral_cost[:] = np.abs(rng.normal(1.0, 1.0, n))
    pop.watched[:] = rng.random(n) < 0.3
    pop.clean_count[:] = np.where(pop.watched, rng.integers(0, 2, n), 0)
    pop.belief[:] = rng.uniform(0.02, 1.0, n)
    pop.problem_until[:] = np.where(rng.random(n) < 0.3, 30, -1)
    pop.key_project[:] = rng.random(n) < 0.35
    running = rng.random(n) < 0.3
    pop.subsidy_monthly[:] = np.where(running, rng.uniform(100, 5000, n), 0.0)
    pop.subsidy_months_left[:] = np.where(running, rng.integers(1, 4, n), 0)
    owing = rng.random(n) < 0.4
    pop.debt_monthly[:] = np.where(owing, pop.output * rng.uniform(0.001, 0.01, n), 0.0)
    pop.debt_months_left[:] = np.where(owing, rng.integers(1, 4, n), 0)
    for name in FILE_FIELDS:  # a history in every firm's quality file, this month still empty
        bits = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
        getattr(pop, name)[:] = np.where(rng.random(n) < 0.5, bits, 0)
    if n >= 6:  # edge cases: capability just below a title's threshold, within one upgrade
        pop.capability[:6] = [2.3, 2.4, 2.85, 2.9, 3.3, 3.4]
        pop.tier[:6] = [0, 0, 1, 1, 2, 2]
        pop.iso9001[:6] = True
        pop.applying[:6] = 0
        pop.cash[:6] = pop.output[:6]
    # titles re-examined from two years before YEAR's summer to three years after it
    pop.title_expires[:] = np.where(pop.tier > 0, rng.integers(6, 66, n), -1)
    # a tightened discharge standard for some (§2.2.4), and deadline-treatment orders running
    # or falling due around YEAR's summer (§3.3)
    pop.discharge_limit[:] = np.where(rng.random(n) < 0.3, 0.6, 1.0)
    pop.deadline[:] = np.where(rng.random(n) < 0.3, rng.integers(26, 36, n), -1)
    # published grades A-D of the quality file (§3.3), from a stream of their own so that the
    # attributes above keep their draws; the watched tier is C and D
    grades = np.random.default_rng(seed + 10_000).choice(4, n, p=[0.25, 0.4, 0.2, 0.15])
    pop.grade[:] = grades
    if n >= 6:
        pop.grade[:6] = 1  # the title thresholds' edge cases keep a good standing
    pop.watched[:] = pop.grade >= 2
    return pop


def contractors(n: int = 60, seed: int = 1) -> Contractors:
    """Contractors of every grade and effort, some with a record in the quality file."""
    rng = np.random.default_rng(seed)
    watched = rng.random(n) < 0.4
    return Contractors(weight=np.ones(n), size=rng.integers(0, len(SIZES), n).astype(np.int8),
                       capability=rng.normal(1.5, 1.0, n),
                       effort=rng.integers(0, len(EFFORTS), n).astype(np.int8),
                       watched=watched,
                       clean_works=np.where(watched, rng.integers(0, 8, n), 0).astype(np.int16))


def service_firms(n: int = 80, seed: int = 2) -> ServiceFirms:
    """Service firms of every sector and size, some applying standards, a few titled."""
    rng = np.random.default_rng(seed)
    standard = rng.random(n) < 0.4
    return ServiceFirms(weight=np.ones(n),
                        sector=rng.integers(0, len(SERVICE_SECTORS), n).astype(np.int8),
                        size=rng.integers(0, len(SIZES), n).astype(np.int8),
                        revenue=np.exp(rng.normal(np.log(3.0), 1.0, n)),
                        standard=standard,
                        demonstration=standard & (rng.random(n) < 0.2))


def forced_gumbel(k: int, seed: int, n_options: int = len(OPTIONS)) -> np.ndarray:
    """Gumbel shocks (options, k) with a large extra pull on option ``j % n_options`` for the
    ``j``-th column, so that every option is taken by some firm where it is open."""
    g = np.random.default_rng(seed).gumbel(size=(n_options, k))
    g[np.arange(k) % n_options, np.arange(k)] += 30.0
    return g


def assert_same(engine, reference, what: str, rtol: float = 1e-12) -> None:
    """Arrays equal (exactly for bools and integers, to ``rtol`` for floats; -inf and NaN
    alike)."""
    a, b = np.asarray(engine), np.asarray(reference)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        bad = np.flatnonzero(a != b)
    else:
        a, b = a.astype(float), b.astype(float)
        same = (a == b) | np.isclose(a, b, rtol=rtol, atol=1e-300) | (np.isnan(a) & np.isnan(b))
        bad = np.flatnonzero(~same)
    assert bad.size == 0, (f"{what} differ at {bad[:5].tolist()}: engine {a[bad[:5]].tolist()}, "
                           f"reference {b[bad[:5]].tolist()}")


def edge_uniforms(p, seed: int) -> np.ndarray:
    """Uniforms for draws compared as ``u < p``: a third of them just above ``p`` (by 5 %) and
    a third just below it (by 5 %), so that scaling ``p`` by 10 % either way changes some
    outcome; the rest at random."""
    p = np.broadcast_to(np.asarray(p, dtype=float), np.shape(p))
    rng = np.random.default_rng(seed)
    u = rng.random(p.shape)
    which = rng.integers(0, 3, p.shape)
    u = np.where(which == 0, np.minimum(p * 1.05, 1 - 1e-9), u)
    u = np.where(which == 1, p * 0.95, u)
    return u


def with_nan(values: dict, keys) -> np.ndarray:
    """``values[k]`` for each of ``keys`` (NaN where missing): a reference's dict of scores
    in the engine's slot order."""
    return np.array([values.get(k, np.nan) for k in keys], dtype=float)
