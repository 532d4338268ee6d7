"""§7.13 resolution: weighted agents and one-for-one events among their members
(``engine.resolution``, and the rules that act on members). The Mesa reference simulates every
firm one agent each, so these tests are the engine's alone: each compares a weighted agent
with the firms it stands for, by hand or by brute force."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import ndtri
from states import YEAR, firms

from simcity_quality.categories import SIZE_INDEX
from simcity_quality.engine import demography, government, resolution
from simcity_quality.engine.parameters import exit_parameters
from simcity_quality.engine.population import firm_tables
from simcity_quality.engine.resolution import MEMBER_BITS
from simcity_quality.errors import SimcityQualityError


def weighted(weights) -> object:
    """The rule-test population with these agent weights (0: an empty slot)."""
    pop = firms(len(weights))
    pop.weight[:] = weights
    pop.alive[:] = pop.weight > 0
    return pop


def uniforms_of(seed: int):
    """Uniforms as a function of member codes alone (what a month's key gives)."""
    def at(codes):
        return np.array([np.random.default_rng([seed, int(c)]).random()
                         for c in np.asarray(codes).ravel()])
    return at


def test_members_and_their_codes():
    owner, code = resolution.members(np.array([2.0, 0.0, 3.0, 1.0]), np.array([0, 2, 3]))
    assert owner.tolist() == [0, 0, 2, 2, 2, 3]
    assert (code >> MEMBER_BITS).tolist() == owner.tolist()
    assert (code & (resolution.MAX_WEIGHT - 1)).tolist() == [0, 1, 0, 1, 2, 0]
    counts = resolution.count_by_owner(owner, np.array([1, 0, 1, 1, 0, 1], bool), 4)
    assert counts.tolist() == [1, 0, 2, 1]


def test_split_keeps_every_firm_and_its_state():
    pop = weighted([3.0, 1.0, 2.0, 0.0])
    before = {name: getattr(pop, name).copy() for name in ("capability", "cash", "sector")}
    slots, next_id = resolution.split(pop, np.array([1, 1, 2, 0]), next_id=100)
    # agent 0 keeps two members and one is split off into the free slot 3; agents 1 and 2
    # become their split-off members; the arrays grow for agent 2's second member
    assert pop.weight[:4].tolist() == [2.0, 1.0, 1.0, 1.0]
    assert pop.weight.sum() == 6.0 and pop.weight.size > 4
    assert sorted(slots.tolist()) == sorted([1, 2, 3, 4]) and next_id == 102
    assert pop.id[3] == 100 and pop.id[4] == 101
    for name, values in before.items():
        arr = getattr(pop, name)
        assert arr[3] == values[0] and arr[4] == values[2], name  # copies of their agent
    assert (pop.weight[slots] == 1).all()
    with pytest.raises(ValueError, match="more members"):
        resolution.split(pop, np.array([3, 0, 0, 0, 0]))


def test_split_of_weighted_agents_drawn_once_and_of_single_firms():
    """Weighted agents with one member drawn each: each member goes to a free slot, its
    agent keeps the rest; agents of one firm drawn once stay as they are."""
    pop = weighted([2.0, 3.0, 0.0, 0.0])
    slots, next_id = resolution.split(pop, np.array([1, 1, 0, 0]), next_id=7)
    assert slots.tolist() == [2, 3] and next_id == 9
    assert pop.weight.tolist() == [1.0, 2.0, 1.0, 1.0] and pop.id[[2, 3]].tolist() == [7, 8]
    single = weighted([1.0, 1.0, 0.0])
    slots, next_id = resolution.split(single, np.array([1, 0, 0]), next_id=7)
    assert slots.tolist() == [0] and next_id == 7 and single.weight.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="more members"):
        resolution.split(single, np.array([0, 2, 0]))


def test_free_slots_grow_the_arrays_when_needed():
    pop = weighted([1.0, 0.0, 2.0, 0.0])
    assert resolution.free_slots(pop, 2).tolist() == [1, 3] and pop.weight.size == 4
    slots = resolution.free_slots(pop, 9)
    assert slots.size == 9 and (pop.weight[slots] == 0).all() and len(set(slots)) == 9
    assert pop.weight.size == 11 and pop.id.size == 11 and (pop.id[4:] == -1).all()


def test_thinning_keeps_the_individual_firms_and_each_size_class_total():
    rng = np.random.default_rng(3)
    individual = np.zeros(1000, bool)
    individual[:40] = True
    strata = np.r_[np.zeros(40, int), np.ones(160, int), np.full(800, 2)]  # size classes
    w = resolution.thinning(1000, individual, 200, rng, strata)
    assert (w[:40] == 1).all() and w.sum() == 1000 and (w > 0).sum() == 200
    for label, n in ((1, 160), (2, 800)):
        sampled = w[(strata == label) & (w > 0)]
        assert sampled.sum() == n  # a sampled firm stands for firms of its own class only
        assert sampled.max() - sampled.min() <= 1  # whole numbers as equal as they can be
        assert abs(sampled.size - 160 * n / 960) <= 1  # each class sampled in proportion
    assert (resolution.thinning(1000, individual, 1000, rng, strata) == 1).all()
    with pytest.raises(SimcityQualityError, match="resolution 41 is too low.* need 42;"):
        resolution.thinning(1000, individual, 41, rng, strata)
    # largest remainder: quotas 1 + 10 * (0.38, 0.62) = (4.8, 7.2) give samples of 5 and 7
    uneven = resolution.thinning(1000, np.zeros(1000, bool), 12, rng, np.r_[np.ones(380, int),
                                                                          np.full(620, 2)])
    assert [(uneven[:380] > 0).sum(), (uneven[380:] > 0).sum()] == [5, 7]
    # near the full size a small class is not given more agents than it has firms
    near = resolution.thinning(1000, np.zeros(1000, bool), 990, rng,
                               np.r_[np.zeros(3, int), np.ones(997, int)])
    assert (near > 0).sum() == 990 and near.sum() == 1000 and (near[:3] == 1).all()
    # two classes of one firm each take one agent and the large class the rest
    tiny = resolution.thinning(12, np.zeros(12, bool), 11, rng, np.r_[0, 1, np.full(10, 2)])
    assert tiny[:2].tolist() == [1, 1] and (tiny[2:] > 0).sum() == 9 and tiny.sum() == 12
    # one agent for each class first, however small its share
    two = resolution.thinning(1001, np.zeros(1001, bool), 2, rng, np.r_[0, np.ones(1000, int)])
    assert two[0] == 1 and (two[1:] > 0).sum() == 1 and two.sum() == 1001
    one_each = resolution.thinning(1000, individual, 42, rng, strata)
    assert sorted(one_each[40:][one_each[40:] > 0]) == [160, 800]
    means = resolution.mean_weights(w, strata, 4)
    assert means.tolist() == [1, round(160 / (w[40:200] > 0).sum()),
                              round(800 / (w[200:] > 0).sum()), 1]


def _brute_force_top(slots, weight, k, base, spread, at, normal=True):
    """Every member's value drawn in full (the same order statistics), the k best counted."""
    values, owners = [], []
    for j, s in enumerate(slots):
        code0 = int(s) << MEMBER_BITS
        v = at(np.array([code0]))[0] ** (1.0 / weight[s])
        for i in range(int(weight[s])):
            if i:
                v *= at(np.array([code0 + i]))[0] ** (1.0 / (weight[s] - i))
            values.append(base[s] + (spread * ndtri(v) if normal else v))
            owners.append(j)
    best = np.argsort(values)[::-1][:k]
    return np.bincount(np.array(owners)[best], minlength=slots.size)


def test_top_members_are_the_best_of_all_members():
    weight = np.array([1.0, 4.0, 2.0, 7.0, 1.0, 3.0])
    base = np.array([0.3, 0.0, 0.2, -0.1, 0.5, 0.1])
    slots = np.array([0, 1, 3, 4, 5])
    at = uniforms_of(5)
    for normal, k in ((n, k) for n in (True, False) for k in range(17)):
        lazy = resolution.top_members(slots, weight, k, base, 0.4, at, normal)
        assert lazy.tolist() == _brute_force_top(slots, weight, k, base, 0.4, at,
                                                 normal).tolist(), k
        assert lazy.sum() == min(k, 16) and (lazy <= weight[slots]).all()


def test_top_members_of_a_large_field_are_the_best_of_all_members():
    # many agents, few picked: only agents whose best member is near the top are considered
    rng = np.random.default_rng(5)
    weight = rng.integers(1, 6, 300).astype(float)
    base = rng.normal(0.0, 0.3, 300)
    slots = np.sort(rng.choice(300, 250, replace=False))
    at = uniforms_of(300)
    for normal, k in ((n, k) for n in (True, False) for k in (1, 7, 60)):
        lazy = resolution.top_members(slots, weight, k, base, 0.4, at, normal)
        assert lazy.tolist() == _brute_force_top(slots, weight, k, base, 0.4, at,
                                                 normal).tolist(), k


def test_top_members_of_agents_of_one_firm_are_the_best_values_ties_to_the_lower_slot():
    """Agents of one member each: the k best values, equal values to the lower slot, and
    the last value taken; a NaN value is never taken. Against agents of several members
    only (no agent of one firm), the brute force still agrees."""
    slots = np.arange(8)
    weight = np.ones(8)
    base = np.array([0.2, 0.5, 0.2, 0.5, 0.1, 0.5, 0.3, 0.2])
    half = lambda codes: np.full(len(codes), 0.5)  # noqa: E731 - every member's uniform
    order = [1, 3, 5, 6, 0, 2, 7, 4]  # by value, equal values by slot
    for k in range(10):
        counts, last = resolution.top_members(slots, weight, k, base, 0.0, half, normal=False,
                                              with_cutoff=True)
        assert np.flatnonzero(counts).tolist() == sorted(order[:k]), k
        assert (np.isnan(last) if k == 0 else last == base[order[min(k, 8) - 1]] + 0.5), k
    rng = np.random.default_rng(8)
    at = uniforms_of(8)
    for field in (np.sort(rng.normal(size=40)), -np.sort(rng.normal(size=40)),
                  rng.normal(size=40).round(1)):
        for k in (1, 3, 39, 40, 41):
            got = resolution.top_members(np.arange(40), np.ones(40), k, field, 0.3, at)
            value = field + 0.3 * ndtri(at(np.arange(40, dtype=np.int64) << MEMBER_BITS))
            assert np.flatnonzero(got).tolist() == sorted(
                np.argsort(-value, kind="stable")[:k].tolist()), k
    unscored = np.array([np.nan, 0.3, 0.5, 0.1])
    assert resolution.top_members(np.arange(4), np.ones(4), 2, unscored, 0.0, half,
                                  normal=False)[0] == 0
    heavy = np.array([2.0, 3.0, 2.0, 4.0])
    for k in range(12):
        got = resolution.top_members(np.arange(4), heavy, k, np.zeros(4), 0.4, at)
        assert got.tolist() == _brute_force_top(np.arange(4), heavy, k, np.zeros(4), 0.4,
                                                at).tolist(), k


def test_a_weighted_agent_wins_as_often_as_the_firms_it_stands_for():
    """One agent of weight 4 against four of weight 1, equal scores: the single best member is
    the weighted agent's half of the time."""
    weight = np.array([4.0, 1.0, 1.0, 1.0, 1.0])
    slots = np.arange(5)
    wins = sum(resolution.top_members(slots, weight, 1, np.zeros(5), 1.0,
                                      lambda c, r=r: np.random.default_rng([r, *c]).random(
                                          len(c)))[0]
               for r in range(4000))
    assert abs(wins / 4000 - 0.5) < 4 * np.sqrt(0.25 / 4000)


def test_best_member_score_is_the_top_members_score():
    pop = weighted([1.0, 5.0, 2.0])
    base, at = np.array([0.0, 0.1, 0.2]), uniforms_of(9)
    slots = np.arange(3)
    best = government.best_member_score(pop, slots, base, 0.5, at)
    u = at(slots.astype(np.int64) << MEMBER_BITS)
    assert best[0] == base[0] + 0.5 * ndtri(u[0])  # one firm: its own score
    assert np.allclose(best, base + 0.5 * ndtri(u ** (1.0 / pop.weight)))
    winner = np.flatnonzero(resolution.top_members(slots, pop.weight, 1, base, 0.5, at))
    assert winner.tolist() == [int(np.argmax(best))]


def test_binomial_members():
    u = (np.arange(2000) + 0.5) / 2000  # evenly spread: the mean is the distribution's
    one = resolution.binomial_members(u, np.ones(2000), 0.3)
    assert (one == (u < 0.3)).all()
    for w in (2, 9, 40):
        drawn = resolution.binomial_members(u, np.full(2000, float(w)), np.full(2000, 0.3))
        assert abs(drawn.mean() - 0.3 * w) < 0.01 * w
        assert (np.diff(drawn) <= 0).all() and 0 <= drawn.min() < drawn.max() <= w
    p = np.where(np.arange(2000) % 2 == 0, 0.2, 0.6)  # a chance per agent
    assert (resolution.binomial_members(u, np.ones(2000), p) == (u < p)).all()
    assert resolution.binomial_members(u[:3], np.zeros(3), 0.9).tolist() == [0, 0, 0]


def test_a_weighted_agent_exits_member_by_member(sc):
    """The hazard takes a binomial share of an agent's members; a shared reason (revoked,
    closed, bankrupt) takes them all; the counts are of firms."""
    pop = weighted([10.0, 10.0, 10.0, 1.0])
    pop.cash[:] = pop.output  # nobody bankrupt
    ep = exit_parameters(sc)
    revoked = np.array([False, True, False, False])
    out = SimpleNamespace(revoked=revoked, closed=np.zeros(4, bool))
    u = np.array([1e-9, 0.5, 1.0 - 1e-12, 1e-9])  # agent 0: the most the hazard can take
    counts = dict.fromkeys(demography.EXIT_COUNTS, 0)
    taken = resolution.binomial_members(u, pop.weight.copy(), ep.exit_hazard[pop.size])
    demography.exits(pop, out, u, ep, counts)
    assert counts["licences_revoked"] == 10 and counts["bankruptcies"] == 0
    assert counts["exits"] == 10 + taken[0] + taken[2] + taken[3]
    assert pop.weight[0] == 10 - taken[0] and 0 < taken[0] < 10 and pop.alive[0]
    assert not pop.alive[1] and pop.weight[1] == 0
    assert pop.weight[2] == 10 and taken[2] == 0
    assert not pop.alive[3]


def test_slots_split_off_after_the_inspections_are_neither_revoked_nor_closed(sc):
    """December's award round splits winners off weighted agents after the month's
    inspections, so the population has more slots than the inspection's flags: the new
    slots were not inspected (they once made the exit kernel read past the flags, giving
    runs that differed from process to process)."""
    pop = weighted([10.0, 1.0, 1.0, 1.0])
    pop.cash[:] = pop.output  # nobody bankrupt
    ep = exit_parameters(sc)
    out = SimpleNamespace(revoked=np.array([False, True]), closed=np.array([False, False]))
    u = np.full(4, 1.0 - 1e-12)  # the hazard takes nobody
    counts = dict.fromkeys(demography.EXIT_COUNTS, 0)
    demography.exits(pop, out, u, ep, counts)
    assert pop.alive.tolist() == [True, False, True, True]
    assert counts["licences_revoked"] == 1 and counts["exits"] == 1
    flags = demography.per_slot(np.array([True, False]), 5)
    assert flags.tolist() == [True, False, False, False, False]
    with pytest.raises(ValueError, match="never removed"):
        demography.per_slot(np.zeros(6, bool), 5)


def test_entrants_at_a_resolution(sc):
    """An entrant is kept one in its size class's weight, each then standing for that many;
    the counts (entrants, permits refused) are of firms."""
    n = 600
    attrs = demography.entrant_attributes(sc, n, np.random.default_rng(4), firm_tables(sc), 24)
    u = (np.arange(n) % 10 + 0.5) / 10
    w = demography.thin_entrants(attrs, np.array([1, 2, 5]), u)
    size = attrs["size"]
    assert (w[size == SIZE_INDEX["large"]] == 1).all()
    for s_, keep in ((SIZE_INDEX["medium"], 0.5), (SIZE_INDEX["small"], 0.2)):
        kept = w[size == s_] > 0
        assert set(w[size == s_]) == {0.0, [2, 5][s_ - 1] * 1.0}
        assert (kept == (u[size == s_] < keep)).all()
    attrs["discharge_ratio"][::4] = 1.4
    pop = weighted([0.0] * 10)
    counts = {"permits_refused": 0, "entrants": 0}
    lv = SimpleNamespace(permits=SimpleNamespace(refuse_over_limit=True))
    next_id = demography.admit(pop, lv, attrs, w, 0, np.full((7, 2), 0.2), counts)
    over = attrs["discharge_ratio"] > attrs["discharge_limit"]  # the new sources' limit
    assert counts["permits_refused"] == w[over].sum()
    assert counts["entrants"] == w[~over].sum() == pop.weight.sum()
    assert next_id == ((w > 0) & ~over).sum() == pop.alive.sum()


def test_inspections_are_of_single_firms(sc):
    """Every inspected agent is one firm split off its agent, the city's firms are kept, and
    a bigger inspection budget inspects a superset (per agent, at least as many members)."""
    lv = sc.override({"policy.inspection.targeting": "uniform",
                      "policy.inspection.exempt_award_holders": False}).levers_for(YEAR)
    keys = uniforms_of(11)
    by_agent = []
    for k in (5, 20):
        pop = weighted([20.0, 1.0, 1.0, 8.0, 30.0, 1.0])
        pop.capability[:6] = np.arange(6)  # marks each agent's members (copies keep it)
        inspected, next_id = government.choose_inspected(
            pop, lv, k, lambda rows, c: keys(c)[None], 100)
        assert inspected.sum() == k and (pop.weight[inspected] == 1).all()
        assert pop.weight.sum() == 61 and next_id > 100
        by_agent.append(np.bincount(pop.capability[inspected].astype(int), minlength=6))
    assert (by_agent[0] <= by_agent[1]).all() and by_agent[1][[0, 4]].sum() > 0


def test_best_by_value_takes_whole_agents_then_part_of_the_next():
    """Hand-computed: agents of weights 2, 3, 1 valued 5, 7, 6; the 4 best members are the
    3 of the agent at 7 and the one at 6; 5 take one of the agent at 5 too; none or no
    agents take none; equal values go to the lower slot first."""
    slots, weight = np.array([0, 1, 2]), np.array([2, 3, 1])
    value = np.array([5.0, 7.0, 6.0])
    assert resolution.best_by_value(slots, weight, 4, value).tolist() == [0, 3, 1]
    assert resolution.best_by_value(slots, weight, 5, value).tolist() == [1, 3, 1]
    assert resolution.best_by_value(slots, weight, 9, value).tolist() == [2, 3, 1]
    assert resolution.best_by_value(slots, weight, 0, value).tolist() == [0, 0, 0]
    assert resolution.best_by_value(slots[:0], weight, 3, value).size == 0
    tied = np.array([6.0, 6.0, 6.0])
    assert resolution.best_by_value(slots, weight, 3, tied).tolist() == [2, 1, 0]


def test_members_reaching_a_floor_draw_their_own_noise():
    """Hand-computed: of agent slot 1's first 2 members (uniforms 0.9 and 0.1 by member
    number) and slot 3's 1 member (0.6), at base 6, 5 and spread 1, the floor 5.2 is reached
    by slot 1's first member only (6 - 1.28 < 5.2 < 6 + 1.28; 5 + 0.25 > 5.2 for slot 3):
    so [1, 1]; an agent given no members reaches nothing."""
    table = {(1, 0): 0.9, (1, 1): 0.1, (3, 0): 0.6}

    def at(codes):
        return np.array([table[(int(c) >> MEMBER_BITS, int(c) & ((1 << MEMBER_BITS) - 1))]
                         for c in codes])

    slots = np.array([1, 3, 4])
    base = np.array([0.0, 6.0, 0.0, 5.0, 9.0])
    got = resolution.members_reaching(slots, np.array([2, 1, 0]), base, 1.0, 5.2, at)
    assert 5.0 + ndtri(0.6) > 5.2 > 6.0 + ndtri(0.1)
    assert got.tolist() == [1, 1, 0]
    got = resolution.members_reaching(slots, np.array([2, 1, 0]), base, 1.0, 5.3, at)
    assert got.tolist() == [1, 0, 0]  # 5 + ndtri(0.6) = 5.25 falls short
    assert resolution.members_reaching(slots, np.zeros(3, dtype=np.int64), base, 1.0, 0.0,
                                       at).tolist() == [0, 0, 0]
