"""Experiments: everything that runs the model many times. Designs over scenario keys,
replications on common random numbers, serial / local-process / Dask execution and a
resumable Parquet result store; and the searches built on them.

- :mod:`.designs`, :mod:`.sweep`, :mod:`.worker`, :mod:`.store`: ``sq.sweep`` and
  ``sq.load_results``;
- :mod:`.levels`: the lowest level of one lever that meets targets (``sq.minimum_level``);
- :mod:`.mix`: the best mix of levers under a budget (``sq.optimise_mix``);
- :mod:`.cheapest`: the cheapest mix of levers that meets targets with a required probability
  (``sq.cheapest_mix``);
- :mod:`.audit`: the lever audit, each of the plan's levers off, at the plan and high
  (``sq.lever_audit``; the table as Markdown in :mod:`.audit_markdown`);
- :mod:`.runs`, :mod:`.options`: what the searches share: (mix, replication) runs on common
  random numbers, remembered; the checks of targets, payer, cost basis, objective and levers;
- :mod:`.sensitivity`: Morris screening and Sobol indices over the uncertain parameters;
- :mod:`.firms`: one replication followed firm by firm (``firm_panel``);
- :mod:`.equivalence`: the engine against the Mesa reference.

Running experiments (this package) is kept apart from analysing them
(:mod:`simcity_quality.analysis` reads what ``load_results`` gives: plain DataFrames).
"""

from . import designs
from .audit import LeverAudit, lever_audit
from .cheapest import CheapestMix, cheapest_mix
from .designs import Design
from .levels import LevelResult, minimum_level
from .mix import MixResult, optimise_mix, pareto_frontier
from .sensitivity import morris, sobol, sobol_indices_of
from .store import ExperimentResults, load_results
from .sweep import sweep

__all__ = ["CheapestMix", "Design", "ExperimentResults", "LevelResult", "LeverAudit",
           "MixResult", "cheapest_mix", "designs", "lever_audit", "load_results",
           "minimum_level", "morris", "optimise_mix", "pareto_frontier", "sobol",
           "sobol_indices_of", "sweep"]
