"""Municipal wastewater treatment, a lever outside the plan's text (docs/ODD.md §7.17).

Each January the city may commission ``urban_wastewater.plants_per_year`` treatment plants
(none in the status quo or the plan). A plant runs from then to the horizon, treats
``treatment_load_factor`` of its ``treatment_plant_m3_per_day`` and removes
``treatment_cod_removed_kg_per_m3`` of COD from each cubic metre. The plants together take at
most ``treatment_max_removal_share`` of the domestic COD off. The city pays
``treatment_cost_yuan_per_tonne`` for every tonne the plants are built to remove, including
tonnes that are no longer there to remove. Domestic COD counts toward the §2.2.4b cut only when
``interpretation.cod_scope`` includes it. Both the plants and their cost are deterministic and
are counted for the whole city at every resolution.
"""

from ..scenario import Scenario
from .shared import DAYS_PER_YEAR, KG_PER_TONNE


def plants_running(sc: Scenario, year: int) -> int:
    """Treatment plants running in ``year``: those commissioned each January from the run's
    first year (``city.base_year``) to ``year``, by the levers in force in each year."""
    return sum(sc.levers_for(y).urban_wastewater.plants_per_year
               for y in range(sc.city.base_year, year + 1))


def plant_capacity_tonnes(sc: Scenario) -> float:
    """COD (t a year) one plant is built to remove: the water it treats times the COD each
    cubic metre loses."""
    env = sc.environment
    return (env.treatment_plant_m3_per_day * env.treatment_load_factor * DAYS_PER_YEAR
            * env.treatment_cod_removed_kg_per_m3 / KG_PER_TONNE)


def treatment_cost_yuan(sc: Scenario, year: int) -> float:
    """What the running plants cost the city in ``year`` (yuan): the tonnes they are built to
    remove times the levelised cost per tonne."""
    return (plants_running(sc, year) * plant_capacity_tonnes(sc)
            * sc.environment.treatment_cost_yuan_per_tonne)


def domestic_cod(sc: Scenario, base_industrial: float, first_year: int,
                 year: int) -> tuple[float, float]:
    """Domestic COD (t a year) in ``year`` after the plants, and what the plants take off.
    Without plants it is the base year's industrial COD ``base_industrial`` times
    ``non_industrial_cod_ratio``, moved by ``non_industrial_cod_trend`` a year since
    ``first_year``. The plants take off their capacity, at most ``treatment_max_removal_share``
    of that."""
    env = sc.environment
    before = (base_industrial * env.non_industrial_cod_ratio
              * (1.0 + env.non_industrial_cod_trend) ** (year - first_year))
    removed = min(plants_running(sc, year) * plant_capacity_tonnes(sc),
                  env.treatment_max_removal_share * before)
    return before - removed, removed
