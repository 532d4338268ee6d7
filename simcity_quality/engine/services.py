"""Service firms (§2.2.3) adopting service standards, and the demonstration-unit contests (§3.2).

A reviewing service firm that does not yet apply service standards adopts them by a binary
logit: the extra profit standards bring, the city's grant, and the chance of winning a
"service standardisation demonstration unit" title (its reward and market value) against the
adoption cost, in units of ``behaviour.logit_scale`` of its revenue; plus imitation of its
sector, where demonstration units pull harder than ordinary adopters. Each December the city
awards the year's demonstration titles among adopters without one. Demonstration units are
counted as the plan's brand service projects.
"""

from dataclasses import dataclass, fields

import numpy as np

from ..categories import SERVICE_SECTORS, SIZES
from ..scenario import Levers, Scenario
from .government import best_member_score
from .jit import jit
from .resolution import split, thinning, top_members
from .shared import YUAN_PER_MILLION, stochastic_round

MIN_REVENUE = 1e-9  # million yuan: keeps payoffs per unit of revenue finite
MIN_REVENUE_FOR_LOG = 1e-6  # million yuan: log10 of an empty firm's revenue stays finite


@dataclass
class ServiceFirms:
    """Service-firm state as arrays (one slot per agent; they do not enter or exit)."""

    weight: np.ndarray  # float64 (whole numbers): city service firms this agent stands for
    sector: np.ndarray  # int8 index into SERVICE_SECTORS
    size: np.ndarray  # int8 index into SIZES
    revenue: np.ndarray  # float64, million yuan per year
    standard: np.ndarray  # bool, applies service standards (§2.2.3)
    demonstration: np.ndarray  # bool, holds a demonstration-unit title (§3.2)

    def nbytes(self) -> int:
        """Memory held by the state arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def create_service_firms(sc: Scenario, agents: int, rng: np.random.Generator,
                         thin_rng: np.random.Generator) -> ServiceFirms:
    """The city's base-year service firms (``city.service_firms``, drawn from ``rng``) as
    ``agents`` agents: a sample by size class (from ``thin_rng``) standing for all with
    weights."""
    sv = sc.services
    n = sc.city.service_firms
    sector_p = np.array([getattr(sv.sector_shares, s) for s in SERVICE_SECTORS])
    size_p = np.array([getattr(sv.size_shares, s) for s in SIZES])
    sector = rng.choice(len(SERVICE_SECTORS), size=n, p=sector_p).astype(np.int8)
    size = rng.choice(len(SIZES), size=n, p=size_p / size_p.sum()).astype(np.int8)
    med = np.array([getattr(sv.revenue_median, s) for s in SIZES])[size]
    revenue = med * np.exp(sc.city.output_sigma * rng.standard_normal(n))
    adopt_p = np.array([getattr(sv.standard_share, s) for s in SIZES])[size]
    standard = rng.random(n) < adopt_p
    agents = max(agents, np.unique(size).size)  # one agent at least for each size class
    weight = thinning(n, np.zeros(n, dtype=bool), agents, thin_rng, size, "service firms")
    keep = weight > 0
    return ServiceFirms(weight=weight[keep], sector=sector[keep], size=size[keep],
                        revenue=revenue[keep], standard=standard[keep],
                        demonstration=np.zeros(int(keep.sum()), dtype=bool))


def adopt_standards(firms: ServiceFirms, lv: Levers, sc: Scenario, win_belief: float,
                    u_review: np.ndarray, uniforms) -> tuple[np.ndarray, np.ndarray]:
    """One month of adoption decisions; returns who adopted (bool per firm) and each
    reviewing non-adopter's chance of adopting (NaN for the others).

    ``u_review``: uniforms (n,) deciding who reviews; ``uniforms(rows, slots)``: the reviewers'
    adoption draws (row 0). Only reviewing non-adopters are computed.
    """
    sv, b, sl = sc.services, sc.behaviour, lv.services
    cand = (~firms.standard & (firms.weight > 0) & (u_review < b.decision_rate)).nonzero()[0]
    adopted = np.zeros(firms.standard.shape[0], dtype=bool)
    chance = np.full(firms.standard.shape[0], np.nan)
    if cand.size == 0:
        return adopted, chance
    util = np.empty(cand.size)
    _adoption_utilities(cand, firms.sector, firms.weight, firms.revenue, firms.standard,
                        firms.demonstration, len(SERVICE_SECTORS), sv.standard_premium,
                        sl.standard_subsidy_yuan / YUAN_PER_MILLION, win_belief,
                        sl.demonstration_reward_yuan / YUAN_PER_MILLION,
                        sv.demonstration_premium, sv.adoption_cost, b.horizon_years,
                        b.logit_scale, b.imitation_weight, sv.demonstration_pull, util)
    p = 1.0 / (1.0 + np.exp(-util))
    adopted[cand[uniforms(1, cand)[0] < p]] = True
    firms.standard[adopted] = True
    chance[cand] = p
    return adopted, chance


@jit
def _adoption_utilities(cand: np.ndarray, sector: np.ndarray, weight: np.ndarray,
                        revenue: np.ndarray, standard: np.ndarray, demonstration: np.ndarray,
                        n_sectors: int, standard_premium: float, grant_million: float,
                        win_belief: float, reward_million: float, demonstration_premium: float,
                        adoption_cost: float, horizon_years: float, logit_scale: float,
                        imitation_weight: float, demonstration_pull: float,
                        util: np.ndarray) -> None:
    """The candidates' (``cand``) logit utility of adopting service standards into ``util``:
    the standards' premium over the horizon, the city's grant and, with the perceived chance
    of winning, a demonstration title's reward and premium, less the adoption cost, per unit
    of ``logit_scale`` of revenue; plus the pull of the shares of the firm's sector applying
    standards (``imitation_weight``) and holding a demonstration title
    (``demonstration_pull``). One pass over the firms sums each sector's firms (agents'
    weights, whole numbers, in slot order), what the shares need."""
    total = np.zeros(n_sectors)
    with_standard = np.zeros(n_sectors)
    demonstrating = np.zeros(n_sectors)
    for i in range(sector.shape[0]):
        w = weight[i]
        if w != 0:
            total[sector[i]] += w
            if standard[i]:
                with_standard[sector[i]] += w
            if demonstration[i]:
                demonstrating[sector[i]] += w
    for s in range(n_sectors):  # shares of the sector's firms (none in an empty sector)
        with_standard[s] = with_standard[s] / total[s] if total[s] > 0 else 0.0
        demonstrating[s] = demonstrating[s] / total[s] if total[s] > 0 else 0.0
    H = horizon_years
    for j in range(cand.shape[0]):
        i = cand[j]
        rev = max(revenue[i], MIN_REVENUE)
        gain = (standard_premium * rev * H + grant_million
                + win_belief * (reward_million + demonstration_premium * rev * H)
                - adoption_cost * rev)
        util[j] = (gain / (logit_scale * rev) + imitation_weight * with_standard[sector[i]]
                   + demonstration_pull * demonstrating[sector[i]])


@dataclass
class Contest:
    """One December's demonstration-unit contest (§3.2)."""

    winners: np.ndarray  # slots of the winning service firms (agents of weight 1)
    eligible: int  # adopters without a title who could win (city firms)
    scores: np.ndarray  # the judges' score of each eligible agent's best member (NaN: others)
    win_belief: float  # the perceived chance of winning after this round


def demonstration_contest(firms: ServiceFirms, lv: Levers, sc: Scenario, u_round: float,
                          noise, win_belief: float) -> Contest:
    """December: the year's ``services.demonstration_titles_per_year`` (rounded with
    ``u_round``) go to the largest adopters without one, with judging noise (a standard normal
    per member from ``noise(rows, codes)``, row 0); a winning member of a weighted agent is
    split off. Firms' perceived chance of winning moves towards the round's win rate."""
    k = stochastic_round(lv.services.demonstration_titles_per_year, u_round)
    eligible = firms.standard & ~firms.demonstration & (firms.weight > 0)
    base = np.log10(np.maximum(firms.revenue, MIN_REVENUE_FOR_LOG))
    slots = eligible.nonzero()[0]
    spread = sc.services.judging_noise

    def member_u(codes):
        return noise(1, codes)[0]

    scores = best_member_score(firms, slots, base, spread, member_u)
    counts = np.zeros(firms.weight.size, dtype=np.int64)
    counts[slots] = top_members(slots, firms.weight, k, base, spread, member_u)
    n = int(firms.weight[eligible].sum())
    winners, _ = split(firms, counts)
    firms.demonstration[winners] = True
    if n:
        win_belief += sc.behaviour.win_belief_learning * (winners.size / n - win_belief)
    return Contest(winners, n, scores, win_belief)
