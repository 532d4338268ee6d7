"""Resolution: how many agents stand for the city, and one-for-one events among them.

The scenario's ``city.firms``, ``city.contractors`` and ``city.service_firms`` are the city. A
run's *resolution* sets how many industrial agents are simulated (at most ``city.firms``).
Large firms (a few carry much of the city's output) and title holders are simulated one agent
each at every resolution, and so, later, is every firm a count-limited event picks out. The
rest (medium and small firms without a title) are thinned by size class: a random sample of
each class is simulated, each agent standing for ``weight`` identical city firms of its class
(weights are whole numbers that add up to the firms they stand for; each class's sample is as
large as its share of the firms). Contractors and service firms are thinned the same way, by
size class, in proportion to the resolution.

Money, counts and KPIs are always for the city: every per-firm quantity is multiplied by the
agent's weight. Count-limited events (the city's inspections, national spot checks, title
awards, key projects, demonstration contests, exits by the background hazard) act on *members*:
an agent of weight ``w`` takes part as ``w`` firms, each with its own random number (derived
from the month's key, the agent's slot and the member's index), and a member that an event
picks out is split off into an agent of its own (:func:`split`), so that one title, one
inspection or one key project always stands for one firm. Members of a weighted agent share
every decision (they are identical firms), which is the approximation thinning makes.
"""

import functools
import heapq
from dataclasses import fields

import numpy as np

from ..errors import SimcityQualityError
from ..scenario import Scenario
from .jit import jit

MEMBER_BITS = 24  # a member's code: slot * 2**24 + its index in the agent (weights < 2**24)
MAX_WEIGHT = 1 << MEMBER_BITS


def members(weight: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The members of agents ``slots``: (owner slot per member, member code), agents of
    weight ``w`` giving ``w`` members, in slot order."""
    return _members(weight, np.asarray(slots))


@jit
def _members(weight: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`members` in one compiled pass: agent ``slots[j]``'s members, numbered from 0."""
    total = 0
    for s in slots:
        w = np.int64(weight[s])  # (whole numbers; truncated as astype does)
        if w < 0:
            raise ValueError("an agent's weight cannot be negative")  # (as np.repeat)
        total += w
    owner = np.empty(total, dtype=slots.dtype)
    code = np.empty(total, dtype=np.int64)
    m = 0
    for s in slots:
        for index in range(np.int64(weight[s])):
            owner[m] = s
            code[m] = (np.int64(s) << MEMBER_BITS) + index
            m += 1
    return owner, code


def count_by_owner(owner: np.ndarray, picked: np.ndarray, n_slots: int) -> np.ndarray:
    """Per slot, how many of its members ``picked`` (a bool per member) holds."""
    return np.bincount(owner[picked], minlength=n_slots).astype(np.int64)


def split(state, counts: np.ndarray, next_id: int | None = None) -> tuple[np.ndarray, int]:
    """Split ``counts[s]`` members off each agent ``s`` of ``state`` (a dataclass of arrays
    with a ``weight`` field) into agents of weight 1 with the same state; returns the slots of
    the split-off members (in agent order) and the next unused id.

    An agent whose every member is split off becomes one of them; the others take free slots
    (those of weight 0), the arrays growing when there are too few. ``next_id``: ids for the
    new agents if the state has an ``id`` field.
    """
    agents, kind = _drawn_agents(counts, state.weight)
    if kind == TOO_MANY:
        raise ValueError("cannot split more members off an agent than it has")
    if kind == ONE_FIRM_EACH:  # each agent drawn is one firm, drawn once: it stays as it is
        return agents, next_id
    w = state.weight[agents].astype(np.int64)
    c = counts[agents].astype(np.int64)
    whole = c == w  # the agent becomes one of its split-off members
    copies = np.repeat(agents, c - whole)
    new = free_slots(state, copies.size)
    for name in field_names(type(state)):
        arr = getattr(state, name)
        arr[new] = arr[copies]
    state.weight[agents] -= c
    state.weight[agents[whole]] = 1  # one of its members stays in its slot
    state.weight[new] = 1
    if hasattr(state, "id") and next_id is not None:
        state.id[new] = np.arange(next_id, next_id + new.size)
        next_id += new.size
    # the split-off members, each agent's together
    own = agents[whole]
    slots = np.concatenate([own, new])
    order = np.argsort(np.concatenate([own, copies]), kind="stable")
    return slots[order], next_id


ONE_FIRM_EACH, SOME_TO_SPLIT, TOO_MANY = range(3)  # what :func:`_drawn_agents` found


@jit
def _drawn_agents(counts: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, int]:
    """The agents with members drawn (``counts > 0``, in slot order), and whether each is
    one firm drawn once (``ONE_FIRM_EACH``: nothing to split), some have members to split off
    (``SOME_TO_SPLIT``) or one has more drawn than it has (``TOO_MANY``); for :func:`split`,
    in one pass instead of a numpy call per test."""
    n = 0
    for s in range(counts.shape[0]):
        n += counts[s] > 0
    agents = np.empty(n, dtype=np.int64)
    kind = ONE_FIRM_EACH
    j = 0
    for s in range(counts.shape[0]):
        if counts[s] > 0:
            agents[j] = s
            j += 1
            w = np.int64(weight[s])
            if counts[s] > w:
                kind = TOO_MANY
            elif kind == ONE_FIRM_EACH and w != 1:  # (an agent of one firm is drawn once)
                kind = SOME_TO_SPLIT
    return agents, kind


@functools.cache
def field_names(cls) -> tuple[str, ...]:
    """The field names of dataclass ``cls`` (``dataclasses.fields`` costs more, every time)."""
    return tuple(f.name for f in fields(cls))


def free_slots(state, k: int) -> np.ndarray:
    """``k`` slots of weight 0, growing every array of ``state`` when there are too few."""
    free = (state.weight == 0).nonzero()[0]
    if free.size < k:
        grow(state, max(k - free.size, state.weight.size // 2))
        free = (state.weight == 0).nonzero()[0]
    return free[:k]


def grow(state, extra: int) -> None:
    """Add ``extra`` empty slots (weight 0, not alive, id -1) to every array of ``state``."""
    for f in fields(state):
        arr = getattr(state, f.name)
        fill = -1 if f.name in ("id", "problem_until", "title_expires") else 0
        setattr(state, f.name, np.concatenate([arr, np.full(extra, fill, dtype=arr.dtype)]))


def thinning(n_city: int, individual: np.ndarray, agents: int, rng: np.random.Generator,
             strata: np.ndarray, what: str = "firms") -> np.ndarray:
    """Weights for a city of ``n_city`` units drawn in full: the ``individual`` ones (a bool
    per unit) get weight 1; the others are sampled stratum by stratum (``strata``: a label per
    unit, the size class), ``agents`` agents in all, each stratum's sample as large as its
    share of the units (at least one) and sharing its units in whole-number weights, so that a
    sampled firm only ever stands for firms of its own stratum; the rest get 0 (not
    simulated)."""
    weight = np.zeros(n_city)
    weight[individual] = 1.0
    rest = (~individual).nonzero()[0]
    m = agents - int(individual.sum())
    if rest.size == 0 or m >= rest.size:
        weight[rest] = 1.0
        return weight
    labels, sizes = np.unique(strata[rest], return_counts=True)
    if m < labels.size:
        raise SimcityQualityError(
            f"resolution {agents:,} is too low: this city's {int(individual.sum()):,} {what} "
            "that take part in count-limited mechanisms one agent each (large firms and title "
            f"holders) and at least one agent for each of the {labels.size} size classes "
            f"of the others need {int(individual.sum()) + labels.size:,}; the resolution can "
            f"be at most the city's size, {n_city:,}.")
    # each stratum's share of the sample: the whole part of its share of m - L agents (L
    # strata), then one more each in order of the largest remainder, and round again while
    # agents are left (never more agents than a stratum has firms); so every stratum has one
    quota = (m - labels.size) * sizes / sizes.sum()
    share = np.minimum(np.floor(quota).astype(np.int64), sizes)
    order = np.argsort(-(quota - share), kind="stable")
    while share.sum() < m:
        for j in order:
            if share.sum() < m and share[j] < sizes[j]:
                share[j] += 1
    for label, n_s, m_s in zip(labels, sizes, share, strict=True):
        units = rest[strata[rest] == label]
        chosen = rng.choice(units, size=m_s, replace=False)
        base, extra = divmod(int(n_s), int(m_s))
        weight[chosen] = base
        weight[chosen[:extra]] += 1
    return weight


def mean_weights(weight: np.ndarray, strata: np.ndarray, n_strata: int) -> np.ndarray:
    """Per stratum (size class), the mean weight of its agents, rounded to a whole number
    (1 where nothing is thinned): the weight an entrant of that stratum is kept at."""
    total = np.bincount(strata, weights=weight, minlength=n_strata)
    agents = np.bincount(strata, weights=weight > 0, minlength=n_strata)
    return np.maximum(1, np.round(np.divide(total, agents, out=np.ones(n_strata),
                                            where=agents > 0))).astype(np.int64)


def proportional(n_city: int, resolution: int, n_city_firms: int) -> int:
    """Agents for ``n_city`` contractors or service firms at ``resolution`` industrial agents
    for ``n_city_firms`` city firms (at least one where the city has any)."""
    if n_city == 0:
        return 0
    return min(n_city, max(1, round(n_city * resolution / n_city_firms)))


def check_resolution(resolution, sc: Scenario, where: str = "resolution") -> int:
    """The run's resolution: ``resolution`` if given (a whole number from 1 to the city's
    firms), else ``city.resolution``, else the city's size."""
    city = sc.city
    value = resolution if resolution is not None else (city.resolution or city.firms)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SimcityQualityError(
            f"{where} must be a whole number of simulated firms >= 1, got {value!r}.")
    if value > city.firms:
        raise SimcityQualityError(
            f"{where} {value:,} is above the city's size: {sc.source} has city.firms = "
            f"{city.firms:,}; a resolution is how many of them are simulated, at most all.")
    return int(value)


def top_members(slots: np.ndarray, weight: np.ndarray, k: int, base: np.ndarray,
                spread: float, uniform_at, normal: bool = True, with_cutoff: bool = False):
    """How many of each agent's members are among the ``k`` best of all members of ``slots``.

    A member's value is ``base[slot] + spread * ndtri(v)`` (``normal``; else ``base + v``)
    with ``v`` its own uniform: an agent of weight ``w`` has ``w`` members, whose uniforms are
    drawn from the largest down (the largest of ``w`` uniforms is ``u ** (1 / w)``, the next
    that times ``u' ** (1 / (w - 1))``, ...), each ``u`` being ``uniform_at(codes)`` of the
    member's code, so only the members that come near the top are ever drawn. Raising ``k``
    only adds members (common random numbers). Returns counts aligned with ``slots``, and
    with ``with_cutoff`` also the value of the last member taken (NaN if none is).
    """
    from scipy.special import ndtri

    counts = np.zeros(slots.size, dtype=np.int64)
    last = np.nan
    if k <= 0 or slots.size == 0:
        return (counts, last) if with_cutoff else counts
    w = weight[slots].astype(np.int64)
    codes0 = (slots.astype(np.int64) << MEMBER_BITS)
    single = _one_member_each(w)
    v = uniform_at(codes0)
    if not single:  # the largest of one uniform is itself (u ** 1.0 == u): no power taken
        v = v ** (1.0 / w)
    value = base[slots] + (spread * ndtri(v) if normal else v)
    take = min(k, int(w.sum()))
    if single:
        # agents of one member each (every agent at full resolution): the ``take`` best
        # values, ties to the lower index, as the stable sort below orders them, in one
        # compiled pass (none if a value is NaN: the sort's order is then numpy's)
        best = np.empty(take, dtype=np.int64)
        if _best_values(value, best):
            counts[best] = 1
            last = float(value[best[-1]])
            return (counts, last) if with_cutoff else counts
    # only an agent whose best member is among the ``take`` best first members can supply one
    # of the ``take`` best members (the others are beaten ``take`` times over), so the heap
    # starts from those alone: the same members in the same order, without a Python object
    # for every agent of the city each month
    if take < slots.size:
        kth = np.partition(value, -take)[-take]  # the take-th largest first member
        candidates = (value >= kth).nonzero()[0]
    else:
        candidates = np.arange(slots.size)
    if w[candidates].max() == 1:
        # agents of one member each (every agent at full resolution) have no next member to
        # draw: the heap would pop the ``take`` best values, ties to the lower index, which a
        # stable sort gives without a Python object per candidate
        best = candidates[np.argsort(-value[candidates], kind="stable")[:take]]
        counts[best] = 1
        last = float(value[best[-1]])
        return (counts, last) if with_cutoff else counts
    # the heap and the tallies in Python numbers (the same values): cheaper than numpy scalars
    js = candidates.tolist()
    heap = list(zip((-value[candidates]).tolist(), js, v[candidates].tolist(), strict=True))
    heapq.heapify(heap)
    members_of = dict(zip(js, w[candidates].tolist(), strict=True))
    taken = dict.fromkeys(js, 0)
    for _ in range(take):
        neg, j, vj = heapq.heappop(heap)
        taken[j] += 1
        last = -neg
        left = members_of[j] - taken[j]
        if left > 0:  # the agent's next member, below this one
            u = uniform_at(np.array([codes0[j] + taken[j]]))[0]
            vn = vj * u ** (1.0 / left)
            score = base[slots[j]] + (spread * ndtri(vn) if normal else vn)
            heapq.heappush(heap, (-score, j, vn))
    counts[js] = list(taken.values())
    return (counts, last) if with_cutoff else counts


@jit
def _one_member_each(w: np.ndarray) -> bool:
    """Whether every agent has one member (``w == 1`` throughout)."""
    for i in range(w.shape[0]):
        if w[i] != 1:
            return False
    return True


@jit
def _best_values(value: np.ndarray, best: np.ndarray) -> bool:
    """The indices of the ``best.size`` largest entries of ``value`` into ``best``, largest
    first and equal values by index (the order of a stable sort of ``-value``), kept by
    insertion; False (``best`` unfinished) if a value is NaN."""
    take = best.shape[0]
    kept = np.empty(take + 1, dtype=np.int64)  # the best so far, and room for the next value
    filled = 0
    for j in range(value.shape[0]):
        x = value[j]
        if np.isnan(x):
            return False
        pos = filled
        while pos > 0 and x > value[kept[pos - 1]]:  # past the strictly smaller only
            kept[pos] = kept[pos - 1]
            pos -= 1
        kept[pos] = j
        if filled < take:  # (else the value at ``take``, the worst, drops out)
            filled += 1
    best[:] = kept[:take]
    return True


def best_by_value(slots: np.ndarray, weight: np.ndarray, k: int, value: np.ndarray) -> np.ndarray:
    """How many of each agent's members are among the ``k`` members of ``slots`` with the
    highest ``value`` (a value per slot, shared by an agent's members; ties go to the lower
    slot). Returns counts aligned with ``slots``."""
    counts = np.zeros(slots.size, dtype=np.int64)
    if k <= 0 or slots.size == 0:
        return counts
    order = np.argsort(-value[slots], kind="stable")
    w = weight[slots][order].astype(np.int64)
    before = np.cumsum(w) - w  # members of better agents
    counts[order] = np.clip(k - before, 0, w)
    return counts


def members_reaching(slots: np.ndarray, counts: np.ndarray, base: np.ndarray, spread: float,
                     floor: float, uniform_at) -> np.ndarray:
    """Of the first ``counts`` members of each agent in ``slots``, how many score at least
    ``floor``, a member's score being ``base[slot] + spread * ndtri(u)`` with ``u`` the
    uniform ``uniform_at(codes)`` of its member code (slot << MEMBER_BITS plus its number)."""
    from scipy.special import ndtri

    out = np.zeros(slots.size, dtype=np.int64)
    taken = (counts > 0).nonzero()[0]
    if taken.size == 0:
        return out
    owner = np.repeat(taken, counts[taken])
    number = np.arange(owner.size) - np.repeat(np.cumsum(counts[taken]) - counts[taken],
                                               counts[taken])
    codes = (slots[owner].astype(np.int64) << MEMBER_BITS) + number
    score = base[slots[owner]] + spread * ndtri(uniform_at(codes))
    np.add.at(out, owner, score >= floor)
    return out


def binomial_members(u: np.ndarray, weight: np.ndarray, p: np.ndarray) -> np.ndarray:
    """How many of an agent's ``weight`` members an event with chance ``p`` each takes, from
    one uniform ``u`` per agent (the inverse of the binomial distribution; for weight 1 it is
    ``u < p``)."""
    w = weight.astype(np.int64)
    if np.shape(p) != w.shape:  # one chance for all (a chance per agent is used as it is:
        p = np.broadcast_to(p, w.shape)  # broadcast_to costs more than the kernel)
    out = np.zeros(w.size, dtype=np.int64)
    if _single_members(u, w, p, out):
        from scipy.stats import binom  # only weighted agents need it

        many = (w != 1) & (w > 0)
        out[many] = binom.ppf(1.0 - u[many], w[many], p[many]).astype(np.int64)
    return out


@jit
def _single_members(u: np.ndarray, w: np.ndarray, p: np.ndarray, out: np.ndarray) -> bool:
    """``out[i] = u[i] < p[i]`` for each agent of weight 1; whether any agent has more
    members."""
    weighted = False
    for i in range(w.shape[0]):
        if w[i] == 1:
            out[i] = u[i] < p[i]
        elif w[i] > 0:
            weighted = True
    return weighted
