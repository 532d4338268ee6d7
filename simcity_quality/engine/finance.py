"""Production and finances: a month of output, capability drift, cleaner technology, profit,
discharge fees and loan repayment for every enterprise (docs/ODD.md §7.3), and the city's
procurement-preference spending on title holders' products (§3.1)."""

import numpy as np

from ..categories import SIZES
from .jit import jit
from .ledger import Ledger
from .parameters import ProductionParameters
from .population import FirmArrays, Population
from .shared import MONTHS_PER_YEAR, YUAN_PER_MILLION


@jit(inline=True)
def preferred_sales_gain(margin: float, extra_sales: float, premium: float) -> float:
    """What the §3.1 procurement preference adds to a preferred title holder's profit a year,
    as a share of its output: its ``margin`` on the extra government sales and the price
    premium on all of them (the rates of ``parameters.procurement_rates``). The one rule,
    for the profit booked here and for the firms' decisions (``behaviour.procurement_gain``)."""
    return extra_sales * max(margin, 0.0) + premium


@jit
def produce_month(f: FirmArrays, p: ProductionParameters, brand_premium: np.ndarray,
                  cod_coefficients: np.ndarray, firms_by_size: np.ndarray) -> None:
    """Every slot's month: output grows, capability drifts, discharge technology improves;
    alive firms book their profit (margin, title, standards, certification and counterfeiting
    premiums, less what their published grade costs them, and for title holders whose grade
    the preference admits the §3.1 procurement gains) less the discharge fee and the
    city's metrology and testing fees (net of what §4.2 waives), and repay their loans. The
    live firms (agents' weights) are added to ``firms_by_size`` by size class (whole numbers:
    exact sums)."""
    # the record's arrays as local names, read once (engine/jit.py)
    output, capability, discharge_ratio, alive = f.output, f.capability, f.discharge_ratio, f.alive
    margin, tier, intl_std, iso9001 = f.margin, f.tier, f.intl_std, f.iso9001
    counterfeit, sector, size, cash = f.counterfeit, f.sector, f.size, f.cash
    debt_monthly, debt_months_left = f.debt_monthly, f.debt_months_left
    grade, weight = f.grade, f.weight
    for i in range(output.shape[0]):
        output[i] *= p.monthly_growth
        capability[i] += p.monthly_capability_drift
        discharge_ratio[i] *= p.monthly_discharge_trend
        if alive[i]:
            firms_by_size[size[i]] += weight[i]
            share = (margin[i] + brand_premium[tier[i]] + p.intl_premium * intl_std[i]
                     + p.iso_premium * iso9001[i] + p.counterfeit_gain * counterfeit[i]
                     - p.grade_sales_loss[grade[i]])  # the published grade (§3.3)
            if tier[i] > 0 and grade[i] <= p.procurement_max_grade:  # preferred holders (§3.1)
                share += preferred_sales_gain(margin[i], p.procurement_extra_sales,
                                              p.procurement_premium)
            cod = output[i] * cod_coefficients[sector[i]] * discharge_ratio[i]
            fee = (p.discharge_fee_yuan_per_tonne * cod / YUAN_PER_MILLION
                   + p.city_fees_million[size[i]])  # the city's fees, net of any waiver
            cash[i] += (share * output[i] - fee) / MONTHS_PER_YEAR - debt_monthly[i]
        if debt_months_left[i] > 0:
            debt_months_left[i] -= 1
        if debt_months_left[i] == 0:
            debt_monthly[i] = 0.0


def produce(pop: Population, year: int, p: ProductionParameters, brand_premium: np.ndarray,
            cod_coefficients: np.ndarray, ledger: Ledger) -> None:
    """One month of production and finances for every slot; books the city's procurement
    premium on what government buys from preferred title holders (§3.1) and the fees it
    waives (§4.2).
    ``brand_premium``: margin gained per title tier (tier 0 first)."""
    firms_by_size = np.zeros(len(SIZES))  # live firms by size class, owing the fees
    produce_month(pop.arrays(), p, brand_premium, cod_coefficients, firms_by_size)
    branded = pop.alive & (pop.tier > 0) & (pop.grade <= p.procurement_max_grade)  # preferred
    branded_output = float((pop.output * pop.weight).sum(where=branded))
    # the premium the holders earn is what the city pays (the same rate)
    ledger.book(year, "city", "procurement_preference",
                p.procurement_premium * branded_output / MONTHS_PER_YEAR * YUAN_PER_MILLION)
    # §4.2: the city pays its institutes the fees it waives, for every live firm that owes them
    ledger.book(year, "city", "fee_waiver", float(firms_by_size @ p.fees_waived_million)
                / MONTHS_PER_YEAR * YUAN_PER_MILLION)
