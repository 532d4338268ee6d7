"""Checking the engine against the Mesa reference, two ways.

- Whole runs: the same scenario run by both on their own seeds, end-of-horizon values compared
  in distribution (:func:`final_values`; ``tests/reference/test_reference.py``,
  ``benchmarks/equivalence.py``; the statistics are
  :func:`~simcity_quality.results.statistics.compare_samples`).
- Rule by rule: a hand-made engine state copied into reference agents (:func:`twin_reference`),
  so that ``tests/rules/`` can run each mechanism in both on the same random numbers and
  compare choices, outcomes and utilities exactly.
"""

from dataclasses import dataclass

import numpy as np

from ..engine.columns import TARGET_KPIS
from ..engine.construction import Contractors
from ..engine.population import Population
from ..engine.quality_file import FIELDS as FILE_FIELDS
from ..engine.services import ServiceFirms
from ..reference.model import Contractor, Enterprise, ReferenceCityModel, ServiceFirm
from ..scenario import Scenario

COMPARED = (*TARGET_KPIS, "spending_province", "spending_city", "spending_total")


def small_city(scenario: Scenario, firms: int) -> Scenario:
    """``scenario`` shrunk to a city of ``firms`` industrial firms: contractors, service firms
    and every count lever (inspections, key projects, title quotas and recommendations,
    demonstration titles) in
    the same proportion, so the small city is a miniature of the scenario's. The Mesa
    reference simulates every firm, so the equivalence check and the speed benchmark run
    such a city at full resolution."""
    c = scenario.city
    share = firms / c.firms
    service_share = round(c.service_firms * share) / c.service_firms if c.service_firms else 0.0
    changes: dict = {
        "city.firms": firms,
        "city.contractors": round(c.contractors * share),
        "city.service_firms": round(c.service_firms * share),
        "city.resolution": None,
    }
    for tier, quota in scenario.awards.quota.model_dump().items():
        changes[f"awards.quota.{tier}"] = quota * share
    for tier, candidates in scenario.awards.recommendations.model_dump().items():
        changes[f"awards.recommendations.{tier}"] = candidates * share
    for levers in ("status_quo", "policy"):
        lv = getattr(scenario, levers)
        changes[f"{levers}.inspection.spot_checks_per_year"] = (
            lv.inspection.spot_checks_per_year * share)
        changes[f"{levers}.subsidy.key_projects_per_year"] = (
            lv.subsidy.key_projects_per_year * share)
        changes[f"{levers}.services.demonstration_titles_per_year"] = (
            lv.services.demonstration_titles_per_year * service_share)
    return scenario.override(changes, name=scenario.name)


def final_values(model_cls, scenario: Scenario, seeds,
                 columns=COMPARED) -> dict[str, np.ndarray]:
    """End-of-horizon values of ``columns`` (default: target KPIs and spending), one per seed,
    of the whole city (every firm simulated)."""
    rows = []
    for seed in seeds:
        m = model_cls(scenario, seed=seed)
        m.run_model()
        rows.append([float(m.current[k]) for k in columns])
        if hasattr(m, "release"):
            m.release()
    values = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    return {k: values[:, i] for i, k in enumerate(columns)}


# ---------------------------------------------------------------------------------------
# rule by rule: one hand-made state in both implementations (tests/rules/)

ENTERPRISE_STATE = ("sector", "size", "output", "margin", "cash", "credit", "capability",
                    "intl_std", "iso9001", "ccc_required", "ccc", "tier", "title_expires",
                    "applying", "discharge_ratio", "discharge_limit", "deadline", "counterfeit",
                    "moral_cost", "watched",
                    "clean_count", "grade", "belief", "problem_until", "key_project",
                    "subsidy_monthly",
                    "subsidy_months_left", "debt_monthly", "debt_months_left", *FILE_FIELDS)
CONTRACTOR_STATE = ("size", "capability", "effort", "watched", "clean_works")
SERVICE_STATE = ("sector", "size", "revenue", "standard", "demonstration")


@dataclass
class Twin:
    """A reference model holding the same agents as an engine state: ``firms[slot]`` is the
    :class:`~simcity_quality.reference.Enterprise` of the engine's slot ``slot`` (alive slots
    only), ``contractors[i]`` and ``service_firms[i]`` those of index ``i``."""

    model: ReferenceCityModel
    firms: dict
    contractors: list
    service_firms: list

    def enterprise_values(self, name: str, slots) -> np.ndarray:
        """An attribute of the enterprises at ``slots``, in that order."""
        return np.array([getattr(self.firms[int(s)], name) for s in slots])

    def contractor_values(self, name: str) -> np.ndarray:
        """An attribute of every contractor, in index order."""
        return np.array([getattr(c, name) for c in self.contractors])

    def service_values(self, name: str) -> np.ndarray:
        """An attribute of every service firm, in index order."""
        return np.array([getattr(f, name) for f in self.service_firms])


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def twin_reference(scenario: Scenario, pop: Population, contractors: Contractors | None = None,
                   service_firms: ServiceFirms | None = None) -> Twin:
    """A :class:`ReferenceCityModel` of ``scenario`` whose agents carry exactly the engine's
    state: one Enterprise per alive slot of ``pop`` (with every state attribute), one
    Contractor and ServiceFirm per entry of ``contractors`` and ``service_firms`` (the city
    is sized to them; every agent stands for one firm)."""
    sized = scenario.override({
        "city.firms": max(int(pop.alive.sum()), 1),
        "city.contractors": 0 if contractors is None else int(contractors.size.size),
        "city.service_firms": 0 if service_firms is None else int(service_firms.size.size),
    }, name=scenario.name)
    model = ReferenceCityModel(sized, seed=0)
    for agent in list(model.agents):
        agent.remove()
    by_slot = {}
    for slot in np.flatnonzero(pop.alive):
        attrs = {name: _plain(getattr(pop, name)[slot]) for name in ENTERPRISE_STATE}
        firm = Enterprise(model, attrs, belief=attrs["belief"])
        firm.__dict__.update(attrs)
        by_slot[int(slot)] = firm
    cons = []
    if contractors is not None:
        for i in range(contractors.size.shape[0]):
            c = Contractor(model, int(contractors.size[i]), float(contractors.capability[i]))
            c.__dict__.update({n: _plain(getattr(contractors, n)[i]) for n in CONTRACTOR_STATE})
            cons.append(c)
    services = []
    if service_firms is not None:
        sf = service_firms
        for i in range(sf.size.shape[0]):
            f = ServiceFirm(model, int(sf.sector[i]), int(sf.size[i]), float(sf.revenue[i]),
                            bool(sf.standard[i]))
            f.__dict__.update({n: _plain(getattr(sf, n)[i]) for n in SERVICE_STATE})
            services.append(f)
    return Twin(model, by_slot, cons, services)
