"""Scenarios: the schema (every key with unit, bounds and source), loading TOML files with
``extends`` and clear one-paragraph errors, dotted overrides, and the parameter catalogue.

- :mod:`.schema`: the pydantic models, :class:`Scenario` and its levers;
- :mod:`.loading`: :func:`load_scenario`, :func:`scenario_from_data`, overrides;
- :mod:`.messages`: validation errors as prose naming file and key;
- :mod:`.catalogue`: :func:`parameter_table`, ``docs/parameters.md``, the valid keys;
- :mod:`.plan_levers`: the registry of the plan's levers (keys, off, plan and high settings)
  that the lever audit runs;
- :mod:`.keys`: flattening dotted keys and suggesting the nearest one.
"""

from .catalogue import parameter_table, parameters_markdown, valid_keys
from .keys import flatten
from .loading import load_scenario, scenario_from_data
from .schema import Levers, Scenario

__all__ = ["Levers", "Scenario", "flatten", "load_scenario", "parameter_table",
           "parameters_markdown", "scenario_from_data", "valid_keys"]
