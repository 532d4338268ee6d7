"""The choices every search takes, checked before anything runs: the targets, who pays and on
what basis, the objective, and the levers with their bounds. A wrong name is refused at once
with the valid ones listed (not after minutes of model runs).
"""

import difflib

from ..engine.columns import REPORTED, TARGET_KPIS
from ..errors import SimcityQualityError
from ..results.budget import COST_PAYERS, GROSS, NET, column
from ..scenario import Scenario
from ..targets import Target, target_list

COST_BASES = ("gross", "net")  # what a search may minimise or keep within a budget
OBJECTIVE_KPIS = tuple(dict.fromkeys((*TARGET_KPIS, *REPORTED)))  # KPI means optimise_mix takes


def _listing(names) -> str:
    return ", ".join(names)


def _nearest(name: str, names) -> str:
    close = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def select_targets(scenario: Scenario, targets=None) -> list[Target]:
    """The targets a search must meet together, with the scenario's threshold overrides.

    ``targets``: ``None`` or ``"all"`` (every target the plan quantifies that the model
    computes), one target, or a list; a target is named by its id (``"factory_pass_rate"``) or
    its plan section (``"§2.2.1c"``). Anything else is refused, listing the valid names.
    """
    modelled = [t for t in target_list(scenario.targets) if t.modelled]
    if targets is None or targets == "all":
        return [t for t in modelled if t.quantified_in_plan]
    names = [targets] if isinstance(targets, str) else list(targets)
    if not names:
        raise SimcityQualityError("targets: give at least one target id (or None for every "
                                  "target the plan quantifies).")
    by_name = {t.id: t for t in modelled} | {t.section: t for t in modelled}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        valid = [f"{t.id} ({t.section})" for t in modelled]
        raise SimcityQualityError(
            f"unknown target(s) {unknown}{_nearest(unknown[0], by_name)}; the targets are "
            f"named by id or plan section: {_listing(valid)}, or 'all' for every target the "
            "plan quantifies.")
    chosen = list(dict.fromkeys(by_name[n].id for n in names))
    return [t for t in modelled if t.id in chosen]


def check_cost(payer: str, cost: str) -> tuple[str, str]:
    """``(payer, basis)`` checked: payer ``city``, ``province`` or ``all``; cost ``gross``
    (what the payer pays out) or ``net`` (after the fines and penalties it collects)."""
    if payer not in COST_PAYERS:
        raise SimcityQualityError(f"payer {payer!r}{_nearest(payer, COST_PAYERS)}: expected one "
                                  f"of {_listing(COST_PAYERS)} (all: both payers added).")
    if cost not in COST_BASES:
        raise SimcityQualityError(f"cost {cost!r}{_nearest(cost, COST_BASES)}: expected 'gross' "
                                  "(spending only) or 'net' (spending less the fines and "
                                  "penalties collected).")
    return payer, cost


def cost_columns(payer: str) -> dict[str, str]:
    """The sweep finals' columns of one payer's cost: ``{"gross": "city:gross", "net":
    "city:total"}`` (:mod:`~simcity_quality.results.budget`, the one definition)."""
    return {"gross": column(payer, GROSS), "net": column(payer, NET)}


def check_objective(scenario: Scenario, objective: str) -> list[Target] | None:
    """What ``optimise_mix`` maximises: ``"all"`` (every quantified target met together), one
    target (its id or section: the probability it is met) or a KPI (its mean, a column of
    :data:`OBJECTIVE_KPIS`). Returns the targets for a probability, ``None`` for a KPI mean."""
    modelled = {t.id: t for t in target_list(scenario.targets) if t.modelled}
    sections = {t.section: t for t in modelled.values()}
    if objective == "all":
        return select_targets(scenario, "all")
    if objective in modelled or objective in sections:
        return select_targets(scenario, [objective])
    if objective in OBJECTIVE_KPIS:
        return None
    raise SimcityQualityError(
        f"unknown objective {objective!r}"
        f"{_nearest(objective, [*modelled, *OBJECTIVE_KPIS])}: expected 'all' (every target the "
        f"plan quantifies, met together), a target id or section ({_listing(modelled)}), or a "
        f"KPI whose mean to maximise ({_listing(k for k in OBJECTIVE_KPIS if k not in modelled)}"
        ").")


def check_outputs(outputs) -> list[str]:
    """Outputs Morris and Sobol may analyse: a KPI or count of the monthly record (its value at
    the end of the horizon) or a budget column ``payer:line`` (``city:gross``, ...)."""
    from ..engine.model import QualityCityModel

    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    recorded = QualityCityModel.columns()
    bad = [o for o in outputs if o not in recorded
           and not (":" in o and o.split(":", 1)[0] in COST_PAYERS)]
    if bad or not outputs:
        raise SimcityQualityError(
            f"unknown output(s) {bad}{_nearest(bad[0], recorded) if bad else ''}: expected "
            f"columns of the model's record ({_listing(recorded)}) or budget columns "
            "'payer:line' such as 'city:gross', 'city:total' (net), 'all:total'.")
    return outputs


def check_levers(scenario: Scenario, levers: dict) -> dict[str, tuple[float, float]]:
    """``{dotted key: (low, high)}`` checked against the scenario: numeric parameters with low
    below high, and the scenario able to take both bounds (the schema's limits)."""
    if not levers:
        raise SimcityQualityError("give at least one lever with its bounds, e.g. "
                                  "{'policy.subsidy.interest_subsidy_rate': (0, 1)}.")
    from ..scenario.keys import flatten

    numeric = {k for k, v in flatten(scenario.to_dict()).items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    out = {}
    for key, rng in levers.items():
        if key not in numeric:
            raise SimcityQualityError(
                f"lever `{key}`{_nearest(key, numeric)}: not a numeric parameter of scenario "
                f"{scenario.name!r} ({scenario.source}); the parameters are listed in "
                "docs/parameters.md (`simcity-quality params`).")
        try:
            lo, hi = (float(x) for x in rng)
        except (TypeError, ValueError):
            raise SimcityQualityError(f"lever `{key}`: bounds must be two numbers (low, high), "
                                      f"got {rng!r}.") from None
        if not lo < hi:
            raise SimcityQualityError(f"lever `{key}`: bounds ({lo:g}, {hi:g}) must have low "
                                      "below high.")
        for bound in (lo, hi):  # the schema's own limits, e.g. a share above 1
            scenario.override({key: typed(scenario, key, bound)})
        out[key] = (lo, hi)
    return out


def typed(scenario: Scenario, key: str, value: float):
    """``value`` as the scenario holds ``key``: rounded for whole-number parameters."""
    current = scenario.get(key)
    return int(round(value)) if isinstance(current, int) and not isinstance(current, bool) \
        else float(value)


def check_probability(name: str, value: float, above: float = 0.0) -> float:
    """A probability strictly between ``above`` and 1: ``probability`` (above 0) or the
    ``confidence`` of a one-sided bound (above 0.5)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SimcityQualityError(f"{name} must be a number between 0 and 1, got "
                                  f"{value!r}.") from None
    if not above < v < 1:
        raise SimcityQualityError(f"{name} must be between {above:g} and 1 (a share, not a "
                                  f"percentage), got {value!r}.")
    return v

