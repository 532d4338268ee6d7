"""Checking the engine against the Mesa reference: the same scenario run by both on their own
seeds, end-of-horizon values compared in distribution (``tests/reference/test_reference.py``,
``benchmarks/equivalence.py``; the statistics are
:func:`~simcity_quality.results.statistics.compare_samples`)."""

import numpy as np

from ..engine.columns import TARGET_KPIS
from ..scenario import Scenario

COMPARED = (*TARGET_KPIS, "spending_province", "spending_city", "spending_total")


def final_values(model_cls, scenario: Scenario, seeds, firms: int,
                 columns=COMPARED) -> dict[str, np.ndarray]:
    """End-of-horizon values of ``columns`` (default: target KPIs and spending), one per seed."""
    rows = []
    for seed in seeds:
        m = model_cls(scenario, seed=seed, firms=firms)
        m.run_model()
        rows.append([float(m.current[k]) for k in columns])
        if hasattr(m, "release"):
            m.release()
    values = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    return {k: values[:, i] for i, k in enumerate(columns)}
