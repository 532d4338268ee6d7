"""Two kinds of probability, and the rule that draws a replication's parameters.

``uncertainty="noise"`` (the default, what every result meant before): each replication runs
the ``[uncertain]`` behavioural parameters at the scenario's own values, so a share of
replications meeting a target measures the model's random noise only, not what is unknown
about firms' behaviour.

``uncertainty="parameters"``: each replication also draws every ``[uncertain]`` parameter
from its prior (:mod:`simcity_quality.scenario.priors`; uniform over the range unless the
scenario names one), so the share integrates over what is not known as well as the noise.

**The parameter rule** (:func:`parameter_uniforms`), written once: in replication ``r`` of an
experiment with seed ``s``, parameter ``key`` takes the prior's quantile
(:meth:`~simcity_quality.scenario.priors.UncertainRange.quantile`) at the uniform

    ``u = (SeedSequence(s, spawn_key=(r, PARAMETER_BRANCH, crc32(key))).generate_state(1,
    uint64)[0] >> 11) / 2**53``

with ``PARAMETER_BRANCH = 2**32 - 1`` and ``crc32`` of the key's UTF-8 bytes (``zlib``). It
depends on the seed, the replication and the key's name only: not on the levers, the design
point, the scenario, the other parameters, the executor or the number of workers. So
replication ``r`` of every scenario and lever level draws the same values (common random
numbers extend to the parameters), and a scenario that declares one more uncertain parameter
leaves the draws of the others unchanged. The model's own streams are the children
``(r, i)`` of the replication seed with ``i`` a small stream number (``engine.model.STREAMS``),
so the parameter draws never share numbers with them. A key that a design point or a search
sets (a lever, or a design key) is not drawn: the point's value stands.
"""

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError
from ..scenario import Scenario

UNCERTAINTY = ("noise", "parameters")
PARAMETER_BRANCH = 2**32 - 1


def check_uncertainty(kind) -> str:
    """``"noise"`` or ``"parameters"``, or refused before anything runs."""
    if kind not in UNCERTAINTY:
        raise SimcityQualityError(
            f"uncertainty={kind!r}: expected 'noise' (each replication runs the [uncertain] "
            "parameters at the scenario's values, so a probability measures the model's "
            "random noise only) or 'parameters' (each replication also draws the "
            "[uncertain] parameters from their priors, so a probability covers what is not "
            "known about them too).")
    return kind


def parameter_uniforms(seed: int, replications: Sequence[int], keys: Sequence[str]) -> np.ndarray:
    """The rule's uniforms in [0, 1): shape (replications, keys) (module docstring)."""
    out = np.empty((len(replications), len(keys)))
    tags = [zlib.crc32(k.encode("utf-8")) for k in keys]
    for i, r in enumerate(replications):
        for j, tag in enumerate(tags):
            ss = np.random.SeedSequence(seed, spawn_key=(int(r), PARAMETER_BRANCH, tag))
            out[i, j] = float(ss.generate_state(1, np.uint64)[0] >> np.uint64(11)) * 2.0**-53
    return out


def drawn_keys(scenario: Scenario, exclude: Iterable[str] = ()) -> list[str]:
    """The ``[uncertain]`` parameters a replication draws: all but those set by a lever or a
    design point (``exclude``)."""
    skip = set(exclude)
    return [k for k in scenario.uncertain if k not in skip]


def parameter_draws(scenario: Scenario, seed: int, replications: Sequence[int] | int,
                    exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Each replication's values of the drawn parameters (index ``replication``, one column
    per parameter): the rule's uniforms through each prior's quantile function, whole-number
    parameters rounded."""
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    keys = drawn_keys(scenario, exclude)
    u = parameter_uniforms(seed, reps, keys)
    table = pd.DataFrame(index=pd.Index(reps, name="replication"))
    for j, key in enumerate(keys):
        values = scenario.uncertain[key].quantile(u[:, j])
        current = scenario.get(key)
        if isinstance(current, int) and not isinstance(current, bool):
            table[key] = np.round(values).astype(int)
        else:
            table[key] = values
    return table


def draw_of(draws: pd.DataFrame, replication: int) -> dict:
    """One replication's row of :func:`parameter_draws` as ``{key: value}`` with plain Python
    numbers, each column's type kept (whole-number parameters stay ``int``)."""
    return {k: draws.at[replication, k].item() if isinstance(draws.at[replication, k], np.generic)
            else draws.at[replication, k] for k in draws.columns}


def with_draw(scenario: Scenario, draw: dict) -> Scenario:
    """``scenario`` with one replication's drawn values (validated; the name is kept)."""
    if not draw:
        return scenario
    return scenario.override({k: (v.item() if isinstance(v, np.generic) else v)
                              for k, v in draw.items()})


def describe_uncertainty(kind: str, parameters: int | None = None) -> str:
    """The sentence every result states beside a probability: which kind it is."""
    if kind == "parameters":
        what = (f"the {parameters} [uncertain] behavioural parameters" if parameters is not None
                else "the [uncertain] behavioural parameters")
        return (f"probabilities over the model's noise and {what}, each replication drawing "
                "them from their priors (uncertainty='parameters')")
    return ("probabilities over the model's random noise only, the [uncertain] behavioural "
            "parameters held at the scenario's values (uncertainty='noise'): they do not "
            "cover what is not known about behaviour")
