"""KPI functions: pure functions of population arrays, one per target of §2.2 (hand-testable).

Each takes plain arrays (alive firms only are counted) and returns a share in [0, 1], or NaN
where nothing is there to measure. Output weights are annual output values.
"""

import numpy as np


def _weighted_share(flag: np.ndarray, weight: np.ndarray, mask: np.ndarray) -> float:
    total = float(np.add.reduce(weight, where=mask))
    if total <= 0:
        return float("nan")
    return float(np.add.reduce(weight, where=mask & flag)) / total


def pass_probability(capability: np.ndarray, counterfeit: np.ndarray,
                     counterfeit_pass_factor: float) -> np.ndarray:
    """Chance a product batch passes a test: logistic of capability, cut for counterfeiters."""
    p = 1.0 / (1.0 + np.exp(-capability))
    return np.where(counterfeit, p * counterfeit_pass_factor, p)


def intl_standard_share(output, intl_std, alive) -> float:
    """§2.2.1b: share of industrial output made to international or advanced foreign standards."""
    return _weighted_share(intl_std, output, alive)


def factory_pass_rate(output, pass_prob, alive) -> float:
    """§2.2.1c: output-weighted expected pass rate of products leaving the factory."""
    total = float(np.add.reduce(output, where=alive))
    if total <= 0:
        return float("nan")
    return float(np.add.reduce(output * pass_prob, where=alive)) / total


def spot_check_pass_rate(passed: int, sampled: int) -> float:
    """§2.2.1d: passes over samples of the national supervision spot checks in the period."""
    return passed / sampled if sampled > 0 else float("nan")


def key_industry_intl_level_share(output, sector, intl_std, pass_prob, alive,
                                  key_codes, advanced_pass_probability: float) -> float:
    """§2.2.1e: share of key-industry output on international standards at advanced level."""
    # (np.maximum.reduce: what np.max and ndarray.max call, without their Python wrappers)
    largest = max(np.maximum.reduce(key_codes), np.maximum.reduce(sector, initial=0))
    is_key = np.zeros(int(largest) + 1, dtype=bool)
    is_key[key_codes] = True  # a lookup table: much faster than np.isin on every call
    key = alive & is_key[sector]
    at_level = intl_std & (pass_prob >= advanced_pass_probability)
    return _weighted_share(at_level, output, key)


def pollution_load(output, cod_coefficient_by_firm) -> np.ndarray:
    """Pollution load of each source: COD it would discharge exactly at its standard (t/yr)."""
    return output * cod_coefficient_by_firm


def cod_discharge(output, cod_coefficient_by_firm, discharge_ratio) -> np.ndarray:
    """COD each firm discharges (tonnes per year)."""
    return output * cod_coefficient_by_firm * discharge_ratio


def pollution_compliance_rate(discharge_ratio, load, alive, weighting: str,
                              firms=None, limit=1.0) -> float:
    """§2.2.4a: share of industrial pollution sources within their discharge standard.

    ``weighting="load"`` weights sources by pollution load (as national wastewater compliance
    is reported); ``"count"`` counts each source once. Sources with no load are not sources.
    ``firms``: how many firms each entry stands for (default one each); ``load`` is per firm.
    ``limit``: each source's discharge limit in the unit of ``discharge_ratio`` (default the
    base year's standard, 1).
    """
    firms = np.ones_like(load) if firms is None else firms
    sources = alive & (load > 0)
    weight = load * firms if weighting == "load" else firms
    return _weighted_share(discharge_ratio <= limit, weight, sources)


def cod_reduction(cod_now: float, cod_base: float) -> float:
    """§2.2.4b: cut in COD discharge against the base year (positive = less COD)."""
    if not cod_base > 0:
        return float("nan")
    return 1.0 - cod_now / cod_base


def share(flag, alive, firms=None) -> float:
    """Share of alive firms with a flag (certification shares and the like); ``firms``: how
    many firms each entry stands for (default one each)."""
    if firms is None:
        n = int(np.count_nonzero(alive))
        return float(np.count_nonzero(flag & alive)) / n if n else float("nan")
    return ratio(float(np.add.reduce(firms, where=alive & flag)),
                 float(np.add.reduce(firms, where=alive)))


def ratio(part: float, total: float) -> float:
    """``part / total`` (a share of firms counted beforehand), NaN where ``total`` is 0."""
    return part / total if total > 0 else float("nan")


def construction_standard_share(works: float, hidden: float) -> float:
    """§2.2.2a: share of completed works meeting national standards (no hidden defect)."""
    return 1.0 - hidden / works if works > 0 else float("nan")


def construction_acceptance_rate(other_works: float, failed: float) -> float:
    """§2.2.2b: one-time acceptance pass rate of works other than large and medium projects."""
    return 1.0 - failed / other_works if other_works > 0 else float("nan")


def construction_excellence_rate(other_works: float, excellent: float) -> float:
    """§2.2.2c: share of those works rated excellent."""
    return excellent / other_works if other_works > 0 else float("nan")


def service_standard_share(standard: np.ndarray, mask: np.ndarray | None = None,
                           firms=None) -> float:
    """§2.2.3: share of service firms applying service standards (``firms``: how many each
    entry stands for)."""
    if mask is None:
        mask = np.ones(standard.shape, dtype=bool)
    return share(standard, mask, firms)
