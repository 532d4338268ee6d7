"""The engine: the city model on arrays, one implementation of each rule.

- :mod:`.model`: :class:`QualityCityModel` (a ``mesa.Model``), the monthly step and its order;
- :mod:`.population`, :mod:`.construction`, :mod:`.services`: the state of enterprises,
  contractors and service firms, and how it is created;
- :mod:`.behaviour`: the enterprises' decisions; :mod:`.government`: spot checks,
  inspections, titles, key projects and subsidies;
- :mod:`.finance`: production and finances; :mod:`.demography`: exit and entry;
- :mod:`.measurement`: the monthly tallies, KPIs (:mod:`.kpis`) and breakdowns;
- :mod:`.ledger`: the budget ledger; :mod:`.record`: the monthly time series;
- :mod:`.observer`: the documented hook for following a run's decisions and inspections;
- :mod:`.rng`: derived uniforms; :mod:`.kernels`: compiled loops.
"""

from .model import QualityCityModel
from .observer import Observer

__all__ = ["Observer", "QualityCityModel"]
