"""Production and finances: a month of output, capability drift, cleaner technology, profit,
discharge fees and loan repayment for every enterprise (docs/ODD.md §7.3), and the city's
procurement-preference spending on title holders' products (§3.1)."""

import numpy as np

from ..scenario import Levers, Scenario
from . import kernels, kpis
from .ledger import Ledger
from .population import Population


def produce(pop: Population, lv: Levers, sc: Scenario, year: int, brand_premium: np.ndarray,
            cod_coefficients: np.ndarray, ledger: Ledger) -> None:
    """One month of production and finances for every slot; books the city's procurement
    premium. ``brand_premium``: margin gained per title tier (tier 0 first)."""
    m, b = sc.market, sc.behaviour
    pref = lv.procurement.preference_share
    if kernels.ENABLED:
        kernels.produce(
            pop.alive, pop.sector, pop.tier, pop.margin, pop.intl_std, pop.iso9001,
            pop.counterfeit, pop.output, pop.capability, pop.discharge_ratio, pop.cash,
            pop.debt_monthly, pop.debt_months_left, (1.0 + sc.city.output_growth) ** (1 / 12),
            b.capability_drift / 12.0, (1.0 + sc.environment.discharge_trend) ** (1 / 12),
            brand_premium,
            m.intl_premium, m.iso_premium, m.counterfeit_gain,
            pref * m.government_purchase_share * m.procurement_sales_gain,
            (lv.procurement.price_premium * m.government_purchase_share
             * (1.0 + m.procurement_sales_gain) * pref),
            cod_coefficients, sc.environment.discharge_fee_yuan_per_tonne)
        branded = pop.alive & (pop.tier > 0)
    else:
        alive = pop.alive
        pop.output *= (1.0 + sc.city.output_growth) ** (1 / 12)
        pop.capability += b.capability_drift / 12.0
        pop.discharge_ratio *= (1.0 + sc.environment.discharge_trend) ** (1 / 12)
        brand = brand_premium[pop.tier]
        share = (pop.margin + brand + m.intl_premium * pop.intl_std + m.iso_premium * pop.iso9001
                 + m.counterfeit_gain * pop.counterfeit)
        # procurement preference for branded products (§3.1)
        branded = alive & (pop.tier > 0)
        extra_sales = pref * m.government_purchase_share * m.procurement_sales_gain
        # preferred firms win extra government sales and are paid the price premium on them
        premium = (lv.procurement.price_premium * m.government_purchase_share
                   * (1.0 + m.procurement_sales_gain) * pref)
        share = share + np.where(branded, extra_sales * np.maximum(pop.margin, 0.0) + premium,
                                 0.0)
        cod = kpis.cod_discharge(pop.output, cod_coefficients[pop.sector], pop.discharge_ratio)
        fee = sc.environment.discharge_fee_yuan_per_tonne * cod / 1e6
        pop.cash += np.where(alive, (share * pop.output - fee) / 12.0 - pop.debt_monthly, 0.0)
        paying = pop.debt_months_left > 0
        pop.debt_months_left[paying] -= 1
        pop.debt_monthly[pop.debt_months_left == 0] = 0.0
    gov_bought = float(pop.output.sum(where=branded)) * m.government_purchase_share * (
        1.0 + m.procurement_sales_gain) * pref
    ledger.book(year, "city", "procurement_preference",
                lv.procurement.price_premium * gov_bought / 12.0 * 1e6)
