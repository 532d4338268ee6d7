"""Analysis of finished runs, each function usable on stored results (a sweep's store), on
``sq.run`` results, or on a plain table of per-replication finals.

- :mod:`.attainment`: the probability of meeting each target (and all together), with Wilson
  intervals; replications needed for a chosen interval width.
- :mod:`.budget`: spending by payer and line per year and cumulative with intervals; the
  reform-minus-baseline difference paired by replication; cost per percentage point gained.
- :mod:`.levels`: the cheapest level of one lever that reaches chosen targets.
"""

from .attainment import attainment, replications_needed, wilson_interval
from .budget import budget_difference, budget_summary, cost_per_point
from .levels import LevelResult, minimum_level

__all__ = ["LevelResult", "attainment", "budget_difference", "budget_summary", "cost_per_point",
           "minimum_level", "replications_needed", "wilson_interval"]
