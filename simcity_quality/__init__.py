"""simcity_quality: an agent-based workbench for a city's quality plan (Mesa).

Public API::

    import simcity_quality as sq
    sc = sq.load_scenario("scenarios/the_plan.toml")
    res = sq.run(sc, replications=20, seed=7)
    res.targets, res.budget, res.timeseries, res.final
    sq.compare([...]), sq.sweep(...), sq.minimum_level(...), sq.optimise_mix(...),
    sq.cheapest_mix(...), sq.decision_relevance(...), sq.regret_table(...)
    sq.lever_audit(...)  # each of sq.PLAN_LEVERS off / plan / high
    sq.run(sc, uncertainty="parameters")  # probabilities over the [uncertain] priors too
    sq.calibrate(...), sq.TARGETS
    sq.briefing(comparison, "briefing.html")  # a self-contained HTML page for a policy reader

The package is in layers, data flowing one way (docs/ODD.md, README "Layout"): ``scenario``
-> ``engine`` (and ``reference``) -> ``results`` -> ``experiments`` -> ``analysis`` ->
``calibration``, ``validation`` -> ``interface``. Names are imported on first use, so that
``import simcity_quality`` (and the command line) starts fast.
"""

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None: the module itself
_PUBLIC = {
    "TARGETS": ("targets", "TARGETS"),
    "ScenarioError": ("errors", "ScenarioError"),
    "SimcityQualityError": ("errors", "SimcityQualityError"),
    "SimcityQualityWarning": ("errors", "SimcityQualityWarning"),
    "Scenario": ("scenario", "Scenario"),
    "load_scenario": ("scenario", "load_scenario"),
    "QualityCityModel": ("engine.model", "QualityCityModel"),
    "Observer": ("engine.observer", "Observer"),
    "Results": ("results", "Results"),
    "run": ("results", "run"),
    "replication_seed": ("results", "replication_seed"),
    "replication_seeds": ("results", "replication_seeds"),
    "Comparison": ("results", "Comparison"),
    "compare": ("results", "compare"),
    "designs": ("experiments.designs", None),
    "sweep": ("experiments", "sweep"),
    "load_results": ("experiments", "load_results"),
    "minimum_level": ("experiments", "minimum_level"),
    "optimise_mix": ("experiments", "optimise_mix"),
    "cheapest_mix": ("experiments", "cheapest_mix"),
    "decision_relevance": ("experiments", "decision_relevance"),
    "regret_table": ("experiments", "regret_table"),
    "parameter_draws": ("results.uncertainty", "parameter_draws"),
    "lever_audit": ("experiments", "lever_audit"),
    "PLAN_LEVERS": ("scenario.plan_levers", "PLAN_LEVERS"),
    "morris": ("experiments", "morris"),
    "sobol": ("experiments", "sobol"),
    "firm_panel": ("experiments.firms", "firm_panel"),
    "calibrate": ("calibration", "calibrate"),
    "CalibrationResult": ("calibration", "CalibrationResult"),
    "report": ("interface.report", None),
    "briefing": ("interface.briefing", "briefing"),
    **{name: (name, None) for name in ("analysis", "calibration", "categories", "engine",
                                        "experiments", "interface", "reference", "results",
                                        "scenario", "targets", "validation")},
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """Import a public name on first use (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'simcity_quality' has no attribute {name!r}")
    module, attr = _PUBLIC[name]
    mod = importlib.import_module(f"{__name__}.{module}")
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])
