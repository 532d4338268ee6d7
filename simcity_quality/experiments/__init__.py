"""Experiments: everything that runs the model many times. Designs over scenario keys,
replications on common random numbers, serial / local-process / Dask execution and a
resumable Parquet result store; and the searches built on them.

- :mod:`.designs`, :mod:`.sweep`, :mod:`.worker`: ``sq.sweep``;
- :mod:`.store` (the format), :mod:`.writing`, :mod:`.lock`, :mod:`.integrity`, :mod:`.reading`:
  the result store, ``sq.load_results`` and ``simcity-quality check``;
- :mod:`.levels`: the lowest level of one lever that meets targets (``sq.minimum_level``);
- :mod:`.mix`: the best mix of levers under a budget (``sq.optimise_mix``);
- :mod:`.cheapest`: the cheapest mix of levers that meets targets with a required probability
  (``sq.cheapest_mix``);
- :mod:`.audit`: the lever audit, each of the plan's levers off, at the plan and high
  (``sq.lever_audit``; the table as Markdown in :mod:`.audit_markdown`);
- :mod:`.relevance`: which uncertain parameter would change the decision, and what knowing
  it is worth (``sq.decision_relevance``); the regret table of candidate mixes in each part of
  each uncertain range (``sq.regret_table``);
- :mod:`.runs`, :mod:`.options`: what the searches share: (mix, replication) runs on common
  random numbers, remembered (and views onto the replications of one part of a parameter's
  range); the checks of targets, payer, cost basis, objective and levers;
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
from .integrity import inspect_store
from .levels import LevelResult, minimum_level
from .mix import MixResult, optimise_mix, pareto_frontier
from .reading import ExperimentResults, load_results
from .relevance import DecisionRelevance, RegretTable, decision_relevance, regret_table
from .sensitivity import morris, sobol, sobol_indices_of
from .sweep import SweepInterrupted, sweep

__all__ = ["CheapestMix", "DecisionRelevance", "Design", "ExperimentResults", "LevelResult",
           "LeverAudit", "MixResult", "RegretTable", "SweepInterrupted", "cheapest_mix",
           "decision_relevance", "designs", "inspect_store", "lever_audit", "load_results",
           "minimum_level", "morris", "optimise_mix", "pareto_frontier", "regret_table",
           "sobol", "sobol_indices_of", "sweep"]
