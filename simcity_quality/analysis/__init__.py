"""Analysis of finished runs, each function usable on stored results (a sweep's store), on
``sq.run`` results, or on a plain table of per-replication finals.

- :mod:`.attainment`: the probability of meeting each target (and all together), with Wilson
  intervals; replications needed for a chosen interval width.
- :mod:`.budget`: spending by payer and line per year and cumulative with intervals; the
  reform-minus-baseline difference paired by replication; cost per percentage point gained.
- :mod:`.levels`: the cheapest level of one lever that reaches chosen targets.
- :mod:`.mix`: the best mix of levers under a budget, and the cost-versus-attainment frontier.
- :mod:`.sensitivity`: Morris screening and Sobol indices over the uncertain parameters.
- :mod:`.discovery`: PRIM boxes and CART rules for where the plan misses a target.
"""

from .attainment import attainment, replications_needed, wilson_interval
from .budget import budget_difference, budget_summary, cost_per_point
from .discovery import PrimResult, cart_rules, missed_cases, prim
from .levels import LevelResult, minimum_level
from .mix import MixResult, optimise_mix, pareto_frontier
from .sensitivity import morris, sobol, sobol_indices_of

__all__ = [
    "LevelResult", "MixResult", "PrimResult", "attainment", "budget_difference",
    "budget_summary", "cart_rules", "cost_per_point", "minimum_level", "missed_cases", "morris",
    "optimise_mix", "pareto_frontier", "prim", "replications_needed", "sobol",
    "sobol_indices_of", "wilson_interval",
]
