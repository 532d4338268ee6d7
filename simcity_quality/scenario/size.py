"""How many enterprises a run simulates, checked in one place.

``city.firms`` is the city's size, bounded by the schema. A run may simulate another number of
enterprises (``firms=`` in the API, ``--firms`` on the command line); the whole city then
scales by ``firms / city.firms``: contractors, service firms and the count levers (docs/ODD.md).
Every entry point (``sq.run``, ``compare``, ``sweep`` and its design points, ``minimum_level``,
``optimise_mix``, ``calibrate``, ``firm_panel``, the panel, the model itself) calls
:func:`simulated_firms`, so the number, and the scaled counts of contractors and service firms,
stay within the bounds the schema sets on the city's own counts: no run allocates a population
larger than a scenario file could ask for.
"""

from typing import Any

import numpy as np

from ..errors import SimcityQualityError
from .schema import City

# the argument's name in messages (one place to change when the argument is renamed)
ARGUMENT = "firms"
# the city's counts that scale with the number of simulated enterprises
SCALED = ("contractors", "service_firms")


def count_bounds(key: str) -> tuple[int, int]:
    """The schema's (lowest, highest) value of the city count ``city.<key>``."""
    lo = hi = None
    for meta in City.model_fields[key].metadata:  # pydantic's Ge and Le constraints
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    assert lo is not None and hi is not None, f"city.{key} needs both bounds in the schema"
    return int(lo), int(hi)


def simulated_firms(scenario: Any, firms: Any = None) -> int:
    """The number of enterprises a run of ``scenario`` simulates: ``firms`` if given, else
    ``city.firms``; refused with a :class:`SimcityQualityError` unless it is a whole number
    within the schema's bounds on ``city.firms`` and the contractors and service firms it
    scales to stay within theirs."""
    if firms is None:
        return int(scenario.city.firms)
    lo, hi = count_bounds("firms")
    if isinstance(firms, np.integer):
        firms = int(firms)
    if isinstance(firms, bool) or not isinstance(firms, int) or not lo <= firms <= hi:
        raise SimcityQualityError(
            f"{ARGUMENT}={firms!r}: the number of simulated enterprises must be a whole number "
            f"from {lo:,} to {hi:,} (the bounds on city.firms in the schema).")
    scale = firms / scenario.city.firms
    for key in SCALED:
        count = int(round(getattr(scenario.city, key) * scale))
        top = count_bounds(key)[1]
        if count > top:
            raise SimcityQualityError(
                f"{ARGUMENT}={firms:,} simulates {scale:,.4g} times the city of "
                f"{scenario.name!r} ({scenario.city.firms:,} enterprises), which scales its "
                f"{getattr(scenario.city, key):,} city.{key} to {count:,}, above the bound of "
                f"{top:,}; simulate fewer enterprises.")
    return firms
