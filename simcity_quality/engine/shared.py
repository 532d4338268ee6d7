"""Small arithmetic both implementations use (the engine and the Mesa reference), defined once.

These are definitions, not behaviour: rounding a yearly quota, the yearly interest subsidy on
a loan, what the province and the city pay for a title. The behavioural rules themselves are
written twice on purpose (``engine/`` and ``reference/``) so that each checks the other.
"""

import math
from statistics import NormalDist

from ..scenario import Levers

YUAN_PER_MILLION = 1e6  # money in the state is in million yuan; rewards, fines, fees in yuan
DAYS_PER_YEAR = 365  # a treatment plant's capacity is per day (engine/wastewater.py)
KG_PER_TONNE = 1000
MONTHS_PER_YEAR = 12


def round_half_up(x: float) -> int:
    """``x`` rounded to the nearest whole number, halves up (not to even, as ``round``)."""
    return int(math.floor(2 * x + 1)) // 2  # floor(x + 1/2), in whole numbers


def stochastic_round(x: float, u: float) -> int:
    """``x`` rounded down, or up with the chance of its fraction (``u`` uniform in [0, 1)): a
    yearly quota of 0.5 gives one title every other year on average."""
    whole = math.floor(x)
    return int(whole) + int(u < x - whole)


def interest_subsidy_yuan(loan_million, lv: Levers):
    """Yearly interest subsidy (yuan) the city pays on a key project's loan of
    ``loan_million`` (a number or an array): the subsidised share of the interest (§3.4)."""
    s = lv.subsidy
    return s.interest_subsidy_rate * s.loan_interest_rate * loan_million * YUAN_PER_MILLION


def reward_amounts(lv: Levers, year: int, tier: int) -> tuple[float, float]:
    """(province, city) yuan paid once for a title of ``tier`` (1-3) won in ``year`` (§4.2).

    The province pays from ``rewards.province_start_year`` on; without
    ``rewards.stack_city_and_province`` the city pays only where the province pays nothing.
    """
    r = lv.rewards
    province = (0.0, r.province_provincial_award, r.province_china_famous_brand,
                r.province_national_award)[tier]
    city = (0.0, r.city_provincial_award, r.city_china_famous_brand, r.city_national_award)[tier]
    if year < r.province_start_year:
        province = 0.0
    if not r.stack_city_and_province and province > 0:
        city = 0.0
    return float(province), float(city)


def median_discharge_ratio(env) -> float:
    """The base year's median discharge ratio for ``environment.base_year_compliance`` (the
    share of pollution load within its standard): ratios are lognormal with log-sd
    ``discharge_ratio_sigma`` and independent of output, so the load within standard is
    ``P(ratio <= 1)`` and the median ``exp(-sigma * ndtri(compliance))``."""
    return math.exp(-env.discharge_ratio_sigma * NormalDist().inv_cdf(env.base_year_compliance))


def standard_limit(env, sector: str, year: int, new_source: bool) -> float:
    """The COD limit a source of ``sector`` must meet in ``year``, relative to the base year's
    standard (``environment.standard_limit``): the tightened limit once its year for existing
    sources (or, for a new source, for new sources) has come, else 1."""
    due = getattr(env.standard_year_new if new_source else env.standard_year_existing, sector)
    return float(getattr(env.standard_limit, sector)) if year >= due else 1.0
