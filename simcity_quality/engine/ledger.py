"""The budget ledger: every yuan the province and the city pay or receive, by year and line.

Sign convention, once and everywhere: **spending is positive, revenue is negative** (fines
collected enter as negative amounts). Totals are sums of lines, so lines add up to the totals
by construction.
"""

import numpy as np
import pandas as pd

PAYERS = ("province", "city")

# line -> payers that can book on it
LINES: dict[str, tuple[str, ...]] = {
    "reward_national_award": ("province", "city"),  # §4.2
    "reward_china_famous_brand": ("province", "city"),  # §4.2
    "reward_provincial_award": ("province", "city"),  # §4.2
    "interest_subsidy": ("city",),  # §3.4
    "fee_waiver": ("city",),  # §4.2
    "procurement_preference": ("city",),  # §3.1, extra price paid for preferred brands
    "inspection_cost": ("city",),  # §3.3, §4.4
    "campaign_cost": ("city",),  # §4.5
    # §4.4, revenue (negative): the quality bureau's fines, to interpretation.quality_fines_treasury
    "fines_collected": ("province", "city"),
    "discharge_fines": ("city",),  # §3.3, §7.17: the environment bureau's, revenue (negative)
    "construction_supervision": ("city",),  # §2.2.2, §3.3
    "construction_penalties": ("city",),  # §2.2.2b, revenue (negative)
    "reward_excellent_works": ("city",),  # §2.2.2c (a lever; the plan names none)
    "reward_service_demonstration": ("city",),  # §3.2
    "service_standard_grant": ("city",),  # §2.2.3 (a lever; the plan names none)
    "urban_wastewater_treatment": ("city",),  # outside the plan: treatment plants (§2.2.4b)
}
LINE_NAMES = tuple(LINES)
_PAYER_INDEX = {payer: i for i, payer in enumerate(PAYERS)}  # positions, looked up per booking
_LINE_INDEX = {line: i for i, line in enumerate(LINE_NAMES)}
# booked as negative amounts
REVENUE_LINES = ("fines_collected", "discharge_fines", "construction_penalties")
REWARD_LINE_BY_TIER = {1: "reward_provincial_award", 2: "reward_china_famous_brand",
                       3: "reward_national_award"}


class Ledger:
    """Amounts in yuan, indexed by (year, payer, line)."""

    def __init__(self, years: list[int]):
        self.years = list(years)
        self._year_index = {y: i for i, y in enumerate(self.years)}
        self.amounts = np.zeros((len(self.years), len(PAYERS), len(LINE_NAMES)))

    def book(self, year: int, payer: str, line: str, yuan: float) -> None:
        """Book an amount (spending positive, revenue negative)."""
        if payer not in LINES[line]:
            raise ValueError(f"{payer} does not pay on ledger line {line}")
        self.amounts[self._year_index[year], _PAYER_INDEX[payer], _LINE_INDEX[line]] += yuan

    def total(self, year: int | None = None, payer: str | None = None) -> float:
        """Net spending, optionally for one year and/or payer."""
        a = self.amounts
        if year is not None:
            a = a[self._year_index[year]]
        else:
            a = a.sum(axis=0)
        if payer is not None:
            a = a[PAYERS.index(payer)]
        return float(a.sum())

    def frame(self) -> pd.DataFrame:
        """Long table: year, payer, line, yuan (every valid payer-line pair, zeros included)."""
        rows = []
        for yi, year in enumerate(self.years):
            for line, payers in LINES.items():
                for payer in payers:
                    rows.append((year, payer, line,
                                 self.amounts[yi, PAYERS.index(payer), LINE_NAMES.index(line)]))
        return pd.DataFrame(rows, columns=["year", "payer", "line", "yuan"])
