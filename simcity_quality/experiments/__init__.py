"""Experiments at scale: designs over scenario keys, replications on common random numbers,
serial / local-process / Dask execution, and a resumable Parquet result store.

Running experiments (this package) is kept apart from analysing them (``load_results`` gives
plain DataFrames that any analysis, pandas or DuckDB, can read).
"""

from . import designs
from .designs import Design
from .store import ExperimentResults, load_results
from .sweep import sweep

__all__ = ["Design", "ExperimentResults", "designs", "load_results", "sweep"]
