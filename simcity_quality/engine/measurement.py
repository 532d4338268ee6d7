"""Measurement: the monthly tallies a run keeps, and the KPIs and breakdowns made from them.

Rates over a period (spot-check and inspection pass rates, the construction rates, COD) need
the counts of every month, so :class:`Tallies` keeps them in preallocated arrays, one row per
month; the KPIs of a month (:meth:`Tallies.measure`) are the trailing twelve months' rates and
the population's levels now, with the definitions of :mod:`.kpis` (docs/ODD.md §7.10).
"""

import operator

import numpy as np
import pandas as pd

from ..categories import EFFORTS, SECTORS, SERVICE_SECTORS, SIZES, TIERS
from ..scenario import Scenario
from . import kpis
from .jit import jit
from .population import KEY_INDUSTRY_CODES, Population
from .wastewater import domestic_cod

# construction counts per month (trailing sums give the §2.2.2 KPIs)
WORK_COUNTS = ("works", "other", "failed", "excellent", "hidden")
_WORK_COUNTS_OF = operator.attrgetter(*WORK_COUNTS)  # a month's WorksMonth, in that order


class Tallies:
    """Counts per month of the national spot checks (overall, by sector, by size), the city's
    inspections, COD discharged (overall, by sector, by size) and completed works (by
    contractor size), for ``years`` of a run of ``scenario``."""

    def __init__(self, scenario: Scenario, years: list[int], cod_coefficients: np.ndarray):
        self.scenario, self.years = scenario, years
        self.cod_coefficients = cod_coefficients
        n = 12 * len(years)
        self.spot = np.zeros((n, 2))  # sampled, passed per month
        self.spot_sector = np.zeros((n, 2, len(SECTORS)))
        self.spot_size = np.zeros((n, 2, len(SIZES)))
        self.city = np.zeros((n, 2))  # inspected, passed
        self.cod = np.zeros(n)  # industrial tonnes per month
        self.cod_sector = np.zeros((n, len(SECTORS)))
        self.cod_size = np.zeros((n, len(SIZES)))
        self.works = np.zeros((n, len(WORK_COUNTS), len(SIZES)))
        self._base_industrial_cod = None
        self._base_cod: float | None = None  # the COD target's base-year total, once complete
        self._domestic: dict[int, tuple[float, float]] = {}  # year -> (domestic COD, removed)

    # -- recording ------------------------------------------------------------------------
    def record_spot_checks(self, t: int, pop: Population, sampled: np.ndarray,
                           passed: np.ndarray) -> None:
        """Month ``t``'s national spot checks (firms sampled and passed per slot, for the
        slots there were when they were drawn), overall and by sector and size."""
        n = sampled.size
        self.spot[t] = sampled.sum(), passed.sum()
        self.spot_sector[t], self.spot_size[t] = 0.0, 0.0
        _checks_by_group(pop.sector[:n], pop.size[:n], sampled, passed, self.spot_sector[t],
                         self.spot_size[t])

    def record_inspections(self, t: int, inspected: int, failed: int) -> None:
        """Month ``t``'s city inspections: how many, and how many failed."""
        self.city[t] = inspected, inspected - failed

    def record_works(self, t: int, contractor_size: np.ndarray, works) -> None:
        """Month ``t``'s completed works (a :class:`~.construction.WorksMonth`, counts for the
        contractors each agent stands for), by size."""
        row = self.works[t]
        row[:] = 0.0
        _works_by_size(contractor_size, _WORK_COUNTS_OF(works), row)

    # -- KPIs -----------------------------------------------------------------------------
    def measure(self, t: int, pop: Population, contractors, service_firms, counts: dict,
                ledger) -> dict:
        """Every KPI, reported count and cumulative spending at the end of month ``t``."""
        sc = self.scenario
        alive, w = pop.alive, pop.weight
        output = pop.output * w  # the output of the city firms each agent stands for
        year_index = t // 12
        pass_prob = pop.pass_probability(sc.behaviour.counterfeit_pass_factor)
        load = kpis.pollution_load(pop.output, self.cod_coefficients[pop.sector])
        cod = np.empty(pop.n_slots)
        self.cod_sector[t], self.cod_size[t] = 0.0, 0.0
        _monthly_cod(load, pop.discharge_ratio, w, alive, pop.sector, pop.size, cod,
                     self.cod_sector[t], self.cod_size[t])
        # np.add.reduce is what ndarray.sum calls, without its Python wrapper (the same sums)
        sum_of = np.add.reduce
        self.cod[t] = sum_of(cod)

        lo = max(0, t - 11)
        spot = sum_of(self.spot[lo:t + 1], axis=0)
        city = sum_of(self.city[lo:t + 1], axis=0)
        sw, cw = service_firms.weight, contractors.weight

        def firms(mask, weight) -> int:
            return int(round(float(np.add.reduce(weight, where=mask))))

        n = np.zeros(len(FIRM_COUNTS) + len(TIERS))
        _firm_counts(alive, w, pop.counterfeit, pop.watched, pop.iso9001, pop.ccc_required,
                     pop.ccc, pop.tier, n)
        n_alive, n_counterfeit, n_watched, n_iso, n_ccc_required, n_ccc = n[:len(FIRM_COUNTS)]
        domestic = self.domestic(t)
        demonstration_units = firms(service_firms.demonstration, sw)

        c = {
            "intl_standard_share": kpis.intl_standard_share(output, pop.intl_std, alive),
            "factory_pass_rate": kpis.factory_pass_rate(output, pass_prob, alive),
            "spot_check_pass_rate": kpis.spot_check_pass_rate(spot[1], spot[0]),
            "key_industry_intl_level_share": kpis.key_industry_intl_level_share(
                output, pop.sector, pop.intl_std, pass_prob, alive, KEY_INDUSTRY_CODES,
                sc.interpretation.intl_advanced_pass_probability),
            "pollution_compliance_rate": kpis.pollution_compliance_rate(
                pop.discharge_ratio, load, alive, sc.interpretation.pollution_compliance_weighting,
                w, pop.discharge_limit),
            "cod_reduction": self.cod_reduction(t),
            **construction_kpis(sum_of(self.works[lo:t + 1], axis=(0, 2))),
            "service_standard_share": kpis.service_standard_share(
                service_firms.standard, sw > 0, sw),
            "city_inspection_pass_rate": kpis.spot_check_pass_rate(city[1], city[0]),
            "iso9001_share": kpis.ratio(n_iso, n_alive),
            "ccc_share": kpis.ratio(n_ccc, n_ccc_required),
            "counterfeiters_active": int(round(n_counterfeit)),
            "firms_alive": int(round(n_alive)),
            "cod_tonnes": float(sum_of(self.cod[lo:t + 1]) * 12 / (t + 1 - lo)),
            # domestic COD after the city's treatment plants, and what they take off (§7.17)
            "domestic_cod_tonnes": domestic[0], "cod_cut_urban_treatment": domestic[1],
            "watched_firms": int(round(n_watched)),
            "contractors_watched": firms(contractors.watched, cw),
            "contractors_cutting_corners": firms(
                contractors.effort == EFFORTS.index("cut_corners"), cw),
            "demonstration_units": demonstration_units,
            "brand_service_projects": demonstration_units,  # the plan's name for the same
        }
        for tier in range(1, len(TIERS)):
            c[f"titles_held_{TIERS[tier]}"] = int(round(n[len(FIRM_COUNTS) + tier]))
        c.update(counts)
        spent = ledger.amounts[: year_index + 1]
        c["spending_province"] = float(sum_of(spent[:, 0], axis=None))
        c["spending_city"] = float(sum_of(spent[:, 1], axis=None))
        c["spending_total"] = c["spending_province"] + c["spending_city"]
        return c

    def _year_cod(self, year: int, monthly: np.ndarray) -> np.ndarray:
        i = (year - self.years[0]) * 12
        return monthly[i:i + 12].sum(axis=0)

    def domestic(self, t: int) -> tuple[float, float]:
        """Domestic COD (t a year) in month ``t``'s year after the treatment plants, and what
        the plants take off (``wastewater.domestic_cod``); NaN until the first year's
        industrial COD, which sizes it, is complete."""
        if t < 11:
            return float("nan"), float("nan")
        if self._base_industrial_cod is None:
            self._base_industrial_cod = float(self._year_cod(self.years[0], self.cod))
        year = self.years[0] + t // 12
        if year not in self._domestic:  # fixed for the year: computed once, read monthly
            self._domestic[year] = domestic_cod(self.scenario, self._base_industrial_cod,
                                                self.years[0], year)
        return self._domestic[year]

    def _cod_total(self, industrial: float, year: int) -> float:
        """COD in the scope of the target (interpretation.cod_scope)."""
        if self.scenario.interpretation.cod_scope == "industrial":
            return industrial
        return industrial + self.domestic(12 * (year - self.years[0]) + 11)[0]

    def cod_reduction(self, t: int) -> float:
        """§2.2.4b: the trailing 12 months' COD against the base year's, once it is complete."""
        base_year = self.scenario.cod_base_year
        base_end = (base_year - self.years[0]) * 12 + 11
        if t < base_end or t < 11:
            return float("nan")
        year = self.years[0] + t // 12
        if self._base_cod is None:  # the base year's months no longer change: summed once
            self._base_cod = self._cod_total(float(self._year_cod(base_year, self.cod)),
                                             base_year)
        base = self._base_cod
        now = self._cod_total(float(self.cod[t - 11:t + 1].sum()), year)
        return kpis.cod_reduction(now, base)

    # -- breakdowns -----------------------------------------------------------------------
    def breakdown(self, t: int, pop: Population, contractors, service_firms) -> pd.DataFrame:
        """Each KPI by sector and by size class at the end of month ``t`` (long format):
        industrial enterprises by sector and size, contractors by grade, service firms by
        service sector and size (column ``population`` says which)."""
        sc = self.scenario
        w = pop.weight
        output = pop.output * w
        pass_prob = pop.pass_probability(sc.behaviour.counterfeit_pass_factor)
        load = kpis.pollution_load(pop.output, self.cod_coefficients[pop.sector])
        lo = max(0, t - 11)
        base_year = sc.cod_base_year
        base_ok = t >= (base_year - self.years[0]) * 12 + 11
        rows = []
        for group, codes, names, spot, cod in (
                ("sector", pop.sector, SECTORS, self.spot_sector, self.cod_sector),
                ("size", pop.size, SIZES, self.spot_size, self.cod_size)):
            sp = spot[lo:t + 1].sum(axis=0)
            cod_now = cod[lo:t + 1].sum(axis=0)
            cod_base = self._year_cod(base_year, cod)
            for code, name in enumerate(names):
                a = pop.alive & (codes == code)
                values = {
                    "intl_standard_share": kpis.intl_standard_share(output, pop.intl_std, a),
                    "factory_pass_rate": kpis.factory_pass_rate(output, pass_prob, a),
                    "spot_check_pass_rate": kpis.spot_check_pass_rate(sp[1, code], sp[0, code]),
                    "key_industry_intl_level_share": kpis.key_industry_intl_level_share(
                        output, pop.sector, pop.intl_std, pass_prob, a, KEY_INDUSTRY_CODES,
                        sc.interpretation.intl_advanced_pass_probability),
                    "pollution_compliance_rate": kpis.pollution_compliance_rate(
                        pop.discharge_ratio, load, a,
                        sc.interpretation.pollution_compliance_weighting, w,
                        pop.discharge_limit),
                    # industrial sources only: a sector's share of domestic COD is undefined
                    "cod_reduction": kpis.cod_reduction(cod_now[code], cod_base[code])
                    if base_ok else float("nan"),
                    "firms": int(round(float(w[a].sum()))),
                }
                rows.extend({"population": "industry", "group_type": group, "group": name,
                             "kpi": k, "value": v} for k, v in values.items())
        # construction by contractor grade; services by service sector and size
        works = self.works[lo:t + 1].sum(axis=0)
        con, sf = contractors, service_firms

        def add(population, group_type, group, values):
            rows.extend({"population": population, "group_type": group_type, "group": group,
                         "kpi": k, "value": v} for k, v in values.items())

        for code, name in enumerate(SIZES):
            add("construction", "size", name, {
                **construction_kpis(works[:, code]),
                "contractors": int(con.weight[con.size == code].sum())})
            add("services", "size", name, {
                "service_standard_share": kpis.service_standard_share(
                    sf.standard, sf.size == code, sf.weight),
                "service_firms": int(sf.weight[sf.size == code].sum())})
        for code, name in enumerate(SERVICE_SECTORS):
            add("services", "sector", name, {
                "service_standard_share": kpis.service_standard_share(
                    sf.standard, sf.sector == code, sf.weight),
                "service_firms": int(sf.weight[sf.sector == code].sum())})
        return pd.DataFrame(rows)


@jit
def _monthly_cod(load: np.ndarray, discharge_ratio: np.ndarray, weight: np.ndarray,
                 alive: np.ndarray, sector: np.ndarray, size: np.ndarray, cod: np.ndarray,
                 by_sector: np.ndarray, by_size: np.ndarray) -> None:
    """Each slot's COD this month into ``cod`` (tonnes: its load at its discharge ratio, for
    the firms it stands for; 0 if not alive), added to its sector's and size class's sums in
    slot order (a zero leaves a sum as it is)."""
    for i in range(load.shape[0]):
        c = (load[i] * discharge_ratio[i] * weight[i] if alive[i] else 0.0) / 12.0
        cod[i] = c
        if c != 0:
            by_sector[sector[i]] += c
            by_size[size[i]] += c


@jit
def _checks_by_group(sector: np.ndarray, size: np.ndarray, sampled: np.ndarray,
                     passed: np.ndarray, by_sector: np.ndarray, by_size: np.ndarray) -> None:
    """Adds each slot's sampled and passed members to rows 0 and 1 of ``by_sector`` at its
    sector and of ``by_size`` at its size class, in slot order, as ``bincount_weights`` of
    each would (one pass for the four; most slots are not sampled)."""
    for i in range(sampled.shape[0]):
        if sampled[i] != 0:
            by_sector[0, sector[i]] += sampled[i]
            by_size[0, size[i]] += sampled[i]
        if passed[i] != 0:
            by_sector[1, sector[i]] += passed[i]
            by_size[1, size[i]] += passed[i]


@jit
def _works_by_size(size: np.ndarray, counts: tuple, out: np.ndarray) -> None:
    """Adds each contractor's counts (``counts[k]``: an array of count ``WORK_COUNTS[k]``) to
    ``out[k, its size]``, in slot order, as ``bincount_weights`` of each count would (one pass
    for all)."""
    for i in range(size.shape[0]):
        s = size[i]
        for k in range(len(counts)):
            if counts[k][i] != 0:
                out[k, s] += counts[k][i]


# firms (agents' weights) counted once a month by ``_firm_counts``; then one per title tier
FIRM_COUNTS = ("alive", "counterfeit", "watched", "iso9001", "ccc_required", "ccc")


@jit
def _firm_counts(alive: np.ndarray, weight: np.ndarray, counterfeit: np.ndarray,
                 watched: np.ndarray, iso9001: np.ndarray, ccc_required: np.ndarray,
                 ccc: np.ndarray, tier: np.ndarray, out: np.ndarray) -> None:
    """Adds the live firms into ``out`` (``FIRM_COUNTS``, then one per tier), in one pass.
    Weights are whole numbers, so the sums are exact, as summing each mask gives them."""
    for i in range(alive.shape[0]):
        if alive[i]:
            w = weight[i]
            out[0] += w
            out[1] += w * counterfeit[i]
            out[2] += w * watched[i]
            out[3] += w * iso9001[i]
            if ccc_required[i]:
                out[4] += w
                out[5] += w * ccc[i]
            out[len(FIRM_COUNTS) + tier[i]] += w


def construction_kpis(counts: np.ndarray) -> dict[str, float]:
    """§2.2.2 KPIs from summed counts in WORK_COUNTS order."""
    works, other, failed, excellent, hidden = counts
    return {
        "construction_standard_share": kpis.construction_standard_share(works, hidden),
        "construction_acceptance_rate": kpis.construction_acceptance_rate(other, failed),
        "construction_excellence_rate": kpis.construction_excellence_rate(other, excellent),
    }
