"""Analysis of finished runs: pure functions of results, which never run the model. Each is
usable on stored results (a sweep's store), on ``sq.run`` results, or on a plain table of
per-replication finals.

- :mod:`.attainment`: the probability of meeting each target (and all together), with Wilson
  intervals (:func:`wilson_interval`); replications needed for a chosen interval width.
- :mod:`.budget`: spending by payer and line per year and cumulative with intervals; the
  reform-minus-baseline difference paired by replication, per year or over the horizon
  (gross, revenue, net); cost per percentage point gained.
- :mod:`.discovery`: PRIM boxes and CART rules for where the plan misses a target.
- :mod:`.firms`: reading a firm panel (who was inspected, firms worth following, a story).
- :mod:`.plots`: black-and-white charts of the above.

The searches that run the model (minimum level, best mix, sensitivity) are in
:mod:`simcity_quality.experiments`.
"""

from ..results.statistics import wilson_interval
from .attainment import attainment, replications_needed
from .budget import budget_difference, budget_summary, cost_per_point, paired_cost
from .discovery import PrimResult, cart_rules, missed_cases, prim

__all__ = [
    "PrimResult", "attainment", "budget_difference", "budget_summary", "cart_rules",
    "cost_per_point", "missed_cases", "paired_cost", "prim", "replications_needed",
    "wilson_interval",
]
