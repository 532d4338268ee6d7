"""simcity_quality: an agent-based workbench for a city's quality plan (Mesa).

Public API::

    import simcity_quality as sq
    sc = sq.load_scenario("scenarios/the_plan.toml")
    res = sq.run(sc, replications=20, seed=7)
    res.targets, res.budget, res.timeseries, res.final
    sq.TARGETS
"""

from . import analysis, reference, report
from .calibration import CalibrationResult, calibrate
from .compare import Comparison, compare
from .errors import ScenarioError, SimcityQualityError
from .experiments import designs, load_results, sweep
from .model import QualityCityModel
from .runner import Results, replication_seeds, run
from .scenario import Scenario, load_scenario
from .targets import TARGETS

minimum_level = analysis.minimum_level
optimise_mix = analysis.optimise_mix

__all__ = [
    "TARGETS", "CalibrationResult", "Comparison", "QualityCityModel", "Results", "Scenario",
    "ScenarioError", "SimcityQualityError", "analysis", "calibrate", "compare", "designs",
    "load_results", "load_scenario",
    "minimum_level", "optimise_mix", "reference", "replication_seeds", "report", "run", "sweep",
]
__version__ = "0.1.0"
