"""Results of replicated runs: the seed rule, one replication's tables, a scenario's
:class:`Results`, paired comparisons, the budget (the one definition of cost) and the
statistics used on them.

- :mod:`.replications`: :func:`run` (``sq.run``), :func:`replication_seed`, :class:`Results`;
- :mod:`.compare`: :func:`compare` (``sq.compare``), paired differences;
- :mod:`.budget`: :func:`~.budget.line_totals`, :func:`~.budget.cost` and the ``payer:line``
  columns;
- :mod:`.paired`: paired changes of targets (percentage points) and of each payer's cost,
  and the cost per point (what the lever audit reports);
- :mod:`.statistics`: paired t-intervals, Wilson intervals, Holm, engine-reference tests;
- :mod:`.uncertainty`: the two kinds of probability (``uncertainty="noise"`` or
  ``"parameters"``) and the rule that draws a replication's [uncertain] parameters;
- :mod:`.files`: atomic Parquet and CSV tables.
"""

from .compare import Comparison, compare
from .replications import Results, replication_seed, replication_seeds, run

__all__ = ["Comparison", "Results", "compare", "replication_seed", "replication_seeds", "run"]
