"""Which uncertainty matters for the decision: the cheapest mix within each part of each
uncertain parameter's range, what knowing the parameter would save, and the regret table.

Sensitivity analysis (Morris, Sobol) says which parameters move an outcome; this module says
which would change the *decision*, the reward level or mix to fund, and what it would be worth
to pin one down before the budget is set. Everything runs with ``uncertainty="parameters"``:
replication ``r`` draws every [uncertain] parameter from its prior by the parameter rule
(:mod:`~simcity_quality.results.uncertainty`), the same draws for every mix.

**Parts of a range.** The range of parameter ``j`` is cut into ``parts`` parts of equal width
(thirds by default); part ``k`` holds the replications whose draw of ``j`` falls in it (the
first ``n`` of them, in replication order: a :class:`~.runs.PartRuns` view). As the draws are
independent, those replications hold ``j`` within the part and draw the others from their
priors, so a share of them is the probability *given* that ``j`` lies in the part. Its weight
``w_k`` is the prior's probability of the part.

**decision_relevance** runs, all on the same remembered runs (a run one search made is free to
every other):

1. the *robust cheapest mix* over the whole ensemble (``cheapest_mix`` with
   ``uncertainty="parameters"``);
2. for each parameter and part, the cheapest mix meeting the probability within the part (the
   same search on the part's replications);
3. the *decision table*: every mix those searches recommended (with the scenario's own, and
   the best reached where a search found none) on the
   first ``max_replications`` replications of every part of every parameter, judged by the
   searches' one-sided Wilson rule. From it, for each parameter: the part's cheapest mix
   ``m_k`` (the cheapest qualifying in part ``k``), the mix ``m*`` meeting the probability in
   *every* part at the least expected cost ``sum_k w_k cost_k(m)``, how much the lever values
   and the cost of ``m_k`` change across the parts, and the **expected value of knowing** the
   parameter (which part holds) before choosing:

       ``EVK = sum_k w_k (cost_k(m*) - cost_k(m_k))``

   the expected saving from choosing, after learning the part, the cheapest mix meeting the
   probability within it, against the mix that meets it within every part. ``m*`` qualifies
   in every part, so ``cost_k(m_k) <= cost_k(m*)`` and the value is never negative. Its 95 %
   interval is from the paired differences (the same replications in a part for both mixes).
   When no mix tried meets the probability in every part the value has no money figure: the
   budget holder needs to know the part to know whether (or how) the targets can be met.

A parameter is **worth measuring first** when knowing which part holds would measurably
change what to fund: one part's cheapest mix clearly falls short in another part (its
one-sided upper bound below the probability; this covers a part where no mix within the
bounds qualifies), or two parts' cheapest mixes cross (each meets the probability in the
other's part and costs more there, both paired 95 % intervals excluding zero). Differences
between the parts' answers within the noise of finding them do not count, however they move
EVK: a parameter may move the outcome (the cost, a KPI) a great deal and still not change what
to fund. EVK is what learning the part is worth, computed on the mixes the searches found and
with their noise (choosing the cheapest of several noisy answers flatters each part a little,
so a parameter that changes nothing still shows a small value); knowing the value exactly,
rather than its part, could be worth more.

**regret_table** is the decision table of mixes you choose: for each mix, parameter and part,
the cost and the attainment with its bounds, and the regret, the extra cost over the cheapest
of the listed mixes that meets the probability in that part.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, renamed
from ..results import display
from ..results.progress import progress_bar
from ..scenario import Scenario, load_scenario
from .cheapest import CheapestMix, SearchOptions, check_search, search_within
from .runs import MixRuns, PartRuns, summarise

MIN_PART_WEIGHT = 0.02  # a part with less prior probability cannot be conditioned on


# --- checks ----------------------------------------------------------------------------------

def check_parameters(sc: Scenario, parameters, levers, parts: int) -> dict[str, list[tuple]]:
    """``{parameter: [(low, high, weight), ...]}``: the parts of each parameter's range, with
    their prior probabilities, checked before anything runs."""
    if not sc.uncertain:
        raise SimcityQualityError(f"{sc.source}: the scenario declares no [uncertain] "
                                  "parameters, so there is nothing whose relevance to measure.")
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 2:
        raise SimcityQualityError(f"parts must be a whole number of at least 2 (the parts of "
                                  f"each range, e.g. 3 for thirds), got {parts!r}.")
    names = ([k for k in sc.uncertain if k not in levers] if parameters is None
             else [parameters] if isinstance(parameters, str) else list(parameters))
    unknown = [k for k in names if k not in sc.uncertain]
    if unknown:
        from .options import _nearest

        raise SimcityQualityError(
            f"parameter(s) {unknown}{_nearest(unknown[0], sc.uncertain)}: not declared under "
            f"[uncertain] in {sc.source}; the uncertain parameters are "
            f"{', '.join(sc.uncertain)}.")
    both = [k for k in names if k in levers]
    if both:
        raise SimcityQualityError(f"{both}: a lever is set by the search, so it cannot also "
                                  "be an uncertain parameter whose parts are examined.")
    if not names:
        raise SimcityQualityError("give at least one uncertain parameter to examine.")
    out = {}
    for key in names:
        prior = sc.uncertain[key]
        lo, hi = prior
        if not lo < hi:
            raise SimcityQualityError(f"uncertain.{key}: its range [{lo:g}, {hi:g}] is a single "
                                      "value, which has no parts.")
        edges = np.linspace(lo, hi, parts + 1)
        weights = np.diff(prior.cdf(edges))
        for k, w in enumerate(weights):
            if w < MIN_PART_WEIGHT:
                raise SimcityQualityError(
                    f"uncertain.{key}: its {prior.describe()} prior puts {w:.1%} of its "
                    f"probability in part {k + 1} of {parts} ([{edges[k]:.4g}, "
                    f"{edges[k + 1]:.4g}]), too little to condition on (at least "
                    f"{MIN_PART_WEIGHT:.0%}); use fewer parts.")
        out[key] = [(float(edges[k]), float(edges[k + 1]), float(weights[k]))
                    for k in range(parts)]
    return out


def _views(base: MixRuns, parts: dict[str, list[tuple]]) -> dict[tuple[str, int], PartRuns]:
    return {(key, k): PartRuns(base, key, lo, hi, last=k == len(spec) - 1)
            for key, spec in parts.items() for k, (lo, hi, _) in enumerate(spec)}


# --- the decision table ----------------------------------------------------------------------

def _judge(frame: pd.DataFrame, options: SearchOptions) -> dict:
    s = summarise(frame, options.basis, options.confidence)
    s["status"] = ("qualifies" if s["lower"] >= options.probability
                   else "short" if s["upper"] < options.probability else "uncertain")
    return s


def _decision_table(views: dict, parts: dict, candidates: dict[str, dict], replications: int,
                    options: SearchOptions) -> tuple[pd.DataFrame, dict]:
    """Every candidate on the first ``replications`` replications of every part: one row per
    (candidate, parameter, part) with cost, attainment and status; and the frames (for
    paired differences)."""
    rows, frames = [], {}
    for (key, k), view in views.items():
        lo, hi, w = parts[key][k]
        got = view.outcomes(list(candidates.values()), replications)
        for (name, mix), frame in zip(candidates.items(), got, strict=True):
            frames[(name, key, k)] = frame
            s = _judge(frame, options)
            rows.append({"mix": name, **mix, "parameter": key, "part": k + 1, "low": lo,
                         "high": hi, "weight": w, "n": s["n"], "met": s["met"],
                         "attainment": s["attainment"], "attainment_low": s["lower"],
                         "attainment_high": s["upper"], "status": s["status"],
                         "cost": s["cost"], "cost_low": s["cost_low"],
                         "cost_high": s["cost_high"], "gross": s["gross"], "net": s["net"]})
    table = pd.DataFrame(rows)
    best = (table[table["status"] == "qualifies"].sort_values("cost", kind="stable")
            .groupby(["parameter", "part"])["cost"].first())
    table["regret"] = [row.cost - best[(row.parameter, row.part)]
                       if row.status == "qualifies" else np.nan
                       for row in table.itertuples()]
    table["shortfall"] = np.maximum(0.0, options.probability - table["attainment"])
    return table, frames


def _relevance_of(key: str, table: pd.DataFrame, frames: dict, levers: dict,
                  options: SearchOptions) -> tuple[dict, pd.DataFrame]:
    """One parameter's row of the relevance table, and its rows per part."""
    mine = table[table["parameter"] == key]
    names = list(dict.fromkeys(mine["mix"]))
    n_parts = int(mine["part"].max())
    weights = mine.groupby("part")["weight"].first()
    qualifies = mine.pivot(index="mix", columns="part", values="status") == "qualifies"
    cost = mine.pivot(index="mix", columns="part", values="cost")
    expected = (cost * weights).sum(axis=1)
    everywhere = [m for m in names if bool(qualifies.loc[m].all())]
    robust = min(everywhere, key=lambda m: (expected[m], names.index(m))) if everywhere else None
    part_rows, best_of = [], {}
    for k in range(1, n_parts + 1):
        ok = [m for m in names if qualifies.loc[m, k]]
        best = min(ok, key=lambda m, k=k: (cost.loc[m, k], names.index(m))) if ok else None
        best_of[k] = best
        row = mine[(mine["part"] == k)].iloc[0]
        out = {"parameter": key, "part": k, "low": row["low"], "high": row["high"],
               "weight": row["weight"], "n": int(row["n"]), "mix": best,
               **dict.fromkeys(levers, np.nan), "cost": np.nan, "attainment": np.nan,
               "attainment_low": np.nan, "attainment_high": np.nan, "saving": np.nan,
               "saving_se": np.nan}
        if best is not None:
            b = mine[(mine["part"] == k) & (mine["mix"] == best)].iloc[0]
            out.update({lever: b[lever] for lever in levers})
            out.update(cost=b["cost"], attainment=b["attainment"],
                       attainment_low=b["attainment_low"], attainment_high=b["attainment_high"])
        if robust is not None and best is not None:
            diff = (frames[(robust, key, k - 1)][options.basis].to_numpy()
                    - frames[(best, key, k - 1)][options.basis].to_numpy())
            out["saving"] = float(diff.mean())
            out["saving_se"] = (float(diff.std(ddof=1) / math.sqrt(diff.size))
                                if diff.size > 1 else np.nan)
        part_rows.append(out)
    parts = pd.DataFrame(part_rows)
    status = mine.pivot(index="mix", columns="part", values="status")
    row = {"parameter": key, "parts": n_parts, "robust_mix": robust,
           "robust_cost": float(expected[robust]) if robust is not None else np.nan,
           "decision_changes": _changes_measurably(key, best_of, status, frames, options)}
    feasible = parts.dropna(subset=["cost"])  # the parts with a qualifying mix
    for lever, (lo, hi) in levers.items():
        values = feasible[lever]
        spread = float(values.max() - values.min()) if len(values) > 1 else np.nan
        row[f"change:{lever}"] = spread
        row[f"change_share:{lever}"] = spread / (hi - lo)
    row["cost_change"] = (float(feasible["cost"].max() - feasible["cost"].min())
                          if len(feasible) > 1 else np.nan)
    row["parts_without_mix"] = int(sum(b is None for b in best_of.values()))
    if robust is not None and row["parts_without_mix"] == 0:
        w = parts["weight"].to_numpy()
        value = float((w * parts["saving"]).sum())
        se = float(np.sqrt(np.nansum((w * parts["saving_se"]) ** 2)))
        row.update(value=value, value_low=value - 1.96 * se, value_high=value + 1.96 * se)
    else:
        row.update(value=np.nan, value_low=np.nan, value_high=np.nan)
    row["measure_first"] = bool(row["decision_changes"])
    return row, parts


def _changes_measurably(key: str, best_of: dict, status: pd.DataFrame, frames: dict,
                        options: SearchOptions) -> bool:
    """Whether knowing the part would measurably change what to fund: one part's cheapest mix
    clearly falls short in another part (its one-sided upper bound below the probability;
    where the other part has no qualifying mix, the targets cannot be met there on what
    suffices elsewhere), or two parts' cheapest mixes cross (each qualifies in the other's
    part and costs more there, both paired 95 % intervals of the difference excluding zero).
    Differences in the parts' answers that the noise of finding them could make do not
    count, nor does a part whose mixes are all too close to the probability to tell."""
    from ..results.statistics import paired_interval

    parts = [k for k in sorted(best_of) if best_of[k] is not None]
    for k in parts:  # a part's answer that would clearly fail in another part
        for other in best_of:
            if other != k and status.loc[best_of[k], other] == "short":
                return True

    def dearer(mix: str, than: str, part: int) -> bool:  # clearly more expensive in part
        d = (frames[(mix, key, part - 1)][options.basis].to_numpy()
             - frames[(than, key, part - 1)][options.basis].to_numpy())
        _, low, _, _ = paired_interval(d)
        return bool(low > 0)

    for i, k in enumerate(parts):
        for other in parts[i + 1:]:
            a, b = best_of[k], best_of[other]
            if a == b or status.loc[a, other] != "qualifies" or status.loc[b, k] != "qualifies":
                continue
            if dearer(b, a, k) and dearer(a, b, other):
                return True
    return False


# --- results ---------------------------------------------------------------------------------

@dataclass(repr=False)
class DecisionRelevance:
    """What :func:`decision_relevance` found (module docstring). Money in yuan over the horizon,
    on ``basis`` for ``payer``.

    ``table``: one row per parameter, most valuable to know first: the expected value of
    knowing it (``value`` with a 95 % interval ``value_low``-``value_high``; NaN when no mix
    meets the probability in every part), the mix meeting it in every part (``robust_mix``,
    a name of ``mixes``) and its expected cost, how far each lever's recommended value moves
    across the parts (``change:LEVER``, and as a share of the lever's range), how far the
    part's cheapest cost moves (``cost_change``; both NaN when fewer than two parts have a
    qualifying mix), and ``measure_first``. ``parts``: each
    parameter's parts with their weight, replications, cheapest mix and the saving of
    choosing it over the robust one. ``regret``: the decision table (every mix in every part).
    ``mixes``: the mixes of the table by name. ``ensemble``: the robust cheapest mix over the
    whole ensemble; ``searches``: the search within each (parameter, part).
    """

    table: pd.DataFrame
    parts: pd.DataFrame
    regret: pd.DataFrame
    mixes: dict[str, dict]
    ensemble: CheapestMix
    searches: dict[tuple[str, int], CheapestMix]
    levers: dict[str, tuple[float, float]]
    targets: list[str]
    probability: float
    confidence: float
    payer: str
    basis: str
    replications: int  # per part in the decision table
    runs_used: int  # model runs made in all
    runs_asked: int  # (mix, replication) outcomes the searches and the table used, together
    drawn: int = 0
    notes: list[str] = field(default_factory=list)

    def measure_first(self) -> list[str]:
        """The parameters worth pinning down before the budget is set, most valuable first."""
        return list(self.table.loc[self.table["measure_first"], "parameter"])

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        return describe_uncertainty("parameters", self.drawn)

    def _title(self) -> str:
        return (f"Decision relevance: which uncertain parameter would change the cheapest mix "
                f"meeting P(all of {', '.join(self.targets)} met) >= {self.probability:.2f} "
                f"(least {self.payer} {self.basis} cost), and what knowing it is worth")

    def describe_value(self, parameter: str) -> str:
        """The value of knowing ``parameter`` in words: money with its interval, or why there is
        no money figure."""
        row = self.table.set_index("parameter").loc[parameter]
        return self._value_text(row)

    def _value_text(self, row) -> str:
        if not np.isfinite(row["value"]):
            missing = int(row["parts_without_mix"])
            if missing == row["parts"]:
                return "none: no mix meets it in any part"
            return ("no mix meets it in every part" + (f" ({missing} part(s) with none at all)"
                                                      if missing else ""))
        return display.money(row["value"], self.payer, self.basis, row["value_low"],
                             row["value_high"])

    def _rows(self) -> list[tuple[str, str]]:
        e = self.ensemble
        if e.mix is not None:
            robust = "; ".join(display.lever_value(k, v) for k, v in e.mix.items())
            robust += f" at {display.money(e.cost.value, self.payer, self.basis)}"
        else:
            robust = "no mix within the bounds qualifies over the ensemble"
        rows = [("robust mix (ensemble)", robust)]
        for _, r in self.table.iterrows():
            if np.isfinite(r["cost_change"]):
                moves = ", ".join(f"{k.split('.')[-1]} {r[f'change_share:{k}']:.0%}"
                                  for k in self.levers)
                change = (f"lever change across parts {moves} of range; cheapest cost moves "
                          f"{display.million(r['cost_change'])} M yuan")
            else:
                change = "fewer than two parts have a qualifying mix to compare"
            rows.append((r["parameter"], f"value of knowing {self._value_text(r)}; {change}"))
        first = self.measure_first()
        rows.append(("measure these first", ", ".join(first) if first else
                     "none: no parameter would change the decision measurably"))
        rows.append(("runs", f"{self.runs_used} model runs made; the {len(self.searches) + 1} "
                     f"searches and the decision table used {self.runs_asked} run outcomes, "
                     f"{self.runs_asked - self.runs_used} of them reused"))
        return rows

    def __repr__(self) -> str:
        return display.text_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])

    def _repr_html_(self) -> str:
        return display.html_block(self._title(), self._rows(),
                                  [*self.notes, self.describe_uncertainty()])


@dataclass(repr=False)
class RegretTable:
    """What :func:`regret_table` found: ``table`` has one row per mix, parameter and part:
    the part's range and prior weight, replications, attainment with its one-sided bounds,
    status under the searches' rule, cost with its 95 % interval (gross and net too), and
    ``regret``, the extra cost over the cheapest listed mix meeting the probability in that
    part (NaN where the mix itself does not), and ``shortfall`` below the probability."""

    table: pd.DataFrame
    mixes: dict[str, dict]
    probability: float
    confidence: float
    payer: str
    basis: str
    targets: list[str]
    runs_used: int
    drawn: int = 0

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        return describe_uncertainty("parameters", self.drawn)

    def _title(self) -> str:
        return (f"Regret table: {len(self.mixes)} mixes in each part of "
                f"{self.table['parameter'].nunique()} uncertain parameters' ranges, P(all of "
                f"{', '.join(self.targets)} met) >= {self.probability:.2f}, {self.payer} "
                f"{self.basis} cost")

    def summary(self) -> pd.DataFrame:
        """One row per mix and parameter: its cost in each part (M yuan) and whether it
        meets the probability there (``*`` after the cost when it falls short)."""
        t = self.table.assign(cell=[f"{c / 1e6:,.2f}{'' if s == 'qualifies' else '*'}"
                                    for c, s in zip(self.table["cost"], self.table["status"],
                                                    strict=True)])
        return t.pivot(index=["parameter", "mix"], columns="part", values="cell")

    def __repr__(self) -> str:
        names = "\n".join(f"  {name}: " + "; ".join(display.lever_value(k, v)
                                                   for k, v in mix.items())
                          for name, mix in self.mixes.items())
        return (f"{self._title()}\n{names}\n"
                f"  cost in each part, M yuan ({self.payer}, {self.basis}); * : short of "
                f"{self.probability:.2f} there\n"
                + "\n".join("  " + line for line in self.summary().to_string().splitlines())
                + f"\n  {self.runs_used} model runs made\n  - {self.describe_uncertainty()}")

    def _repr_html_(self) -> str:
        rows = [(name, "; ".join(display.lever_value(k, v) for k, v in mix.items()))
                for name, mix in self.mixes.items()]
        return (display.html_block(self._title(), rows, [self.describe_uncertainty(),
                                                         f"{self.runs_used} model runs made"])
                + self.summary().to_html())


# --- the functions ---------------------------------------------------------------------------

def _scenario_mix(sc: Scenario, bounds: dict) -> dict:
    from .options import typed

    return {k: typed(sc, k, min(max(float(sc.get(k)), lo), hi)) for k, (lo, hi) in bounds.items()}


def _named_mixes(sc: Scenario, mixes) -> dict[str, dict]:
    """``{name: mix}`` from a dict of named mixes, a list of mixes or of search results, each
    value checked against the scenario (its schema bounds) before anything runs."""
    from .options import typed

    if isinstance(mixes, dict):
        items = list(mixes.items())
    elif isinstance(mixes, list | tuple):
        items = [(f"mix {i + 1}", m) for i, m in enumerate(mixes)]
    else:
        raise SimcityQualityError(f"mixes: expected {{name: {{lever: value}}}} or a list of "
                                  f"mixes or cheapest_mix results, got {type(mixes).__name__}.")
    out: dict[str, dict] = {}
    for name, m in items:
        if isinstance(m, CheapestMix):
            if m.mix is None:
                raise SimcityQualityError(f"{name}: that search found no qualifying mix, so it "
                                          "has none to put in the table.")
            m = m.mix
        if not isinstance(m, dict) or not m:
            raise SimcityQualityError(f"{name}: a mix is {{lever: value}}, got {m!r}.")
        first = next(iter(out.values()), None)
        if first is not None and set(m) != set(first):
            raise SimcityQualityError(f"{name}: every mix sets the same levers "
                                      f"({', '.join(first)}); this one sets {', '.join(m)}.")
        for k, v in m.items():  # a numeric parameter the scenario can take at this value
            _check_value(sc, k, v)
        out[str(name)] = {k: typed(sc, k, float(v)) for k, v in m.items()}
    if not out:
        raise SimcityQualityError("give at least one mix for the regret table.")
    return out


def _check_value(sc: Scenario, key: str, value) -> None:
    from ..scenario.keys import flatten
    from .options import _nearest, typed

    numeric = {k for k, v in flatten(sc.to_dict()).items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    if key not in numeric:
        raise SimcityQualityError(f"lever `{key}`{_nearest(key, numeric)}: not a numeric "
                                  f"parameter of scenario {sc.name!r} ({sc.source}).")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SimcityQualityError(f"lever `{key}`: {value!r} is not a number.") from None
    sc.override({key: typed(sc, key, v)})  # the schema's own bounds


def _options(sc: Scenario, bounds: dict, targets, probability, confidence, payer,
             cost) -> SearchOptions:
    from .options import check_cost, check_probability, select_targets

    payer, cost = check_cost(payer, cost)
    return SearchOptions(bounds, select_targets(sc, targets),
                         check_probability("probability", probability),
                         check_probability("confidence", confidence, above=0.5), payer, cost,
                         "parameters")


@renamed(firms="resolution")
def regret_table(scenario: Scenario | str, mixes, targets=None, probability: float = 0.8,
                 parameters=None, parts: int = 3, replications: int = 40,
                 confidence: float = 0.95, payer: str = "city", cost: str = "gross",
                 seed: int = 0, resolution: int | None = None, executor: str = "serial",
                 workers: int | None = None, progress=True, evaluator=None) -> RegretTable:
    """The cost and attainment of a few candidate ``mixes`` in each part (thirds by default)
    of each uncertain parameter's range, and each one's regret there (module docstring).

    Args:
        mixes: ``{name: {lever: value}}``, a list of such mixes, or ``cheapest_mix`` results
            (every mix setting the same levers).
        parameters: the uncertain parameters to cut into parts (default: all but the levers).
        replications: per part (the first replications whose draw falls in it).
        evaluator: a stand-in for the model, called with ``(mixes, replications, draws)``
            (:mod:`~simcity_quality.experiments.runs`).
        Others as :func:`~simcity_quality.experiments.cheapest.cheapest_mix`; the
        replications always draw the [uncertain] parameters (``uncertainty="parameters"``).
    """
    from ..results.uncertainty import drawn_keys

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before anything runs
    named = _named_mixes(sc, mixes)
    levers = list(next(iter(named.values())))
    options = _options(sc, dict.fromkeys(levers, (np.nan, np.nan)), targets, probability,
                       confidence, payer, cost)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise SimcityQualityError(f"replications must be a whole number >= 1 (per part), got "
                                  f"{replications!r}.")
    spec = check_parameters(sc, parameters, levers, parts)
    total = len(named) * len(spec) * parts * replications
    with progress_bar(progress, total=total, desc="regret_table") as bar:
        base = MixRuns(sc, levers, options.targets, options.payer, seed, resolution, bar,
                       executor, workers, evaluator, uncertainty="parameters")
        table, _ = _decision_table(_views(base, spec), spec, named, replications, options)
    return RegretTable(table, named, options.probability, options.confidence, options.payer,
                       options.basis, [t.id for t in options.targets], base.runs,
                       drawn=len(drawn_keys(sc, levers)))


@renamed(firms="resolution")
def decision_relevance(scenario: Scenario | str, levers: dict[str, tuple[float, float]],
                       targets=None, probability: float = 0.8, parameters=None,
                       parts: int = 3, confidence: float = 0.95, payer: str = "city",
                       cost: str = "gross", replications: int = 20,
                       max_replications: int = 80, max_runs: int = 2000, seed: int = 0,
                       resolution: int | None = None, grid_points: int | None = None,
                       tolerance: float = 1 / 32, include_scenario: bool = True,
                       executor: str = "serial", workers: int | None = None, progress=True,
                       evaluator=None) -> DecisionRelevance:
    """For each uncertain parameter, the cheapest mix of ``levers`` meeting the targets with
    ``probability`` within each part of its range, how much the recommended lever values and
    their cost change across the parts, and the expected value of knowing the parameter
    before the budget is set (module docstring). With one lever this is the cheapest level in
    each part (the minimum level, where cost rises with the lever).

    Args:
        levers, targets, probability, confidence, payer, cost, replications,
            max_replications, grid_points, tolerance, include_scenario, executor, workers:
            as :func:`~simcity_quality.experiments.cheapest.cheapest_mix`, for every search.
        parameters: the uncertain parameters to examine (default: every one the scenario
            declares, the levers apart); the others are still drawn in every replication.
        parts: parts of equal width of each range (3: thirds).
        max_runs: model runs each search may make (runs another search made are free); the
            decision table adds at most ``max_replications`` runs per mix and part.
        progress: one progress bar over every search and the table (``False``: silent).
        evaluator: a stand-in for the model, called with ``(mixes, replications, draws)``
            (:mod:`~simcity_quality.experiments.runs`).

    Returns a :class:`DecisionRelevance`: the relevance table (``.table``, ``.parts``), the
    parameters to ``measure_first()``, the decision (regret) table of every mix recommended in
    every part, the robust mix over the ensemble, every search, and the runs used.
    """
    from ..results.uncertainty import drawn_keys

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_resolution(resolution, sc)  # before anything runs
    options = check_search(sc, levers, targets, probability, confidence, payer, cost,
                           replications, max_replications, tolerance, "parameters")
    spec = check_parameters(sc, parameters, options.bounds, parts)
    n_search = 1 + len(spec) * parts
    cap = n_search * max_runs + (n_search + 1) * len(spec) * parts * max_replications
    with progress_bar(progress, total=cap, desc="decision_relevance") as bar:
        base = MixRuns(sc, list(options.bounds), options.targets, options.payer, seed,
                       resolution, bar, executor, workers, evaluator, uncertainty="parameters")
        search = dict(replications=replications, max_replications=max_replications,
                      max_runs=max_runs, grid_points=grid_points, tolerance=tolerance,
                      include_scenario=include_scenario)
        bar.set_postfix_str("the whole ensemble")
        whole = PartRuns(base)
        ensemble = search_within(whole, options, **search)
        views = _views(base, spec)
        searches = {}
        for (key, k), view in views.items():
            bar.set_postfix_str(view.label())
            searches[(key, k + 1)] = search_within(view, options, condition=view.label(),
                                                   **search)
        candidates = _candidates(sc, options.bounds, ensemble, searches, include_scenario)
        bar.set_postfix_str("decision table")
        table, frames = _decision_table(views, spec, candidates, max_replications, options)
    rows, parts_rows = [], []
    for key in spec:
        row, part_table = _relevance_of(key, table, frames, options.bounds, options)
        rows.append(row)
        parts_rows.append(part_table)
    relevance = pd.DataFrame(rows)
    # worth measuring first, then by the value of knowing (a part without any qualifying mix
    # first among those: there knowing decides whether the targets can be met at all)
    unknown = np.where(relevance["measure_first"], np.inf, -np.inf)
    order = relevance.assign(_v=relevance["value"].where(relevance["value"].notna(), unknown))
    relevance = relevance.loc[order.sort_values(["measure_first", "_v"], ascending=False,
                                                kind="stable").index].reset_index(drop=True)
    asked = len(whole.used) + sum(len(v.used) for v in views.values())
    return DecisionRelevance(
        relevance, pd.concat(parts_rows, ignore_index=True), table, candidates, ensemble,
        searches, options.bounds, [t.id for t in options.targets], options.probability,
        options.confidence, options.payer, options.basis, max_replications, base.runs, asked,
        drawn=len(drawn_keys(sc, options.bounds)), notes=_notes(ensemble, searches))


def _candidates(sc: Scenario, bounds: dict, ensemble: CheapestMix, searches: dict,
                include_scenario: bool) -> dict[str, dict]:
    """The mixes of the decision table, named: the ensemble's answer, each part's answer (one
    name per distinct mix), the scenario's own mix, and the best reached by the searches that
    found no qualifying mix."""
    out: dict[str, dict] = {}
    seen: dict[tuple, str] = {}

    def add(name: str, mix: dict | None):
        if mix is None:
            return
        key = tuple(mix[k] for k in bounds)
        if key in seen:
            return
        seen[key] = name
        out[name] = dict(mix)

    add("robust (ensemble)", ensemble.mix)
    for (key, k), res in searches.items():
        add(f"{key} part {k}", res.mix)
    if include_scenario:
        add("scenario", _scenario_mix(sc, bounds))
    # where a search found no qualifying mix, the highest attainment it reached
    add("best reached (ensemble)", ensemble.best_mix)
    for (key, k), res in searches.items():
        if res.mix is None:
            add(f"{key} part {k} (best reached)", res.best_mix)
    return out


def _notes(ensemble: CheapestMix, searches: dict) -> list[str]:
    notes = []
    unsettled = [res.condition for res in searches.values() if not res.settled]
    if not ensemble.settled:
        notes.append("the robust mix over the ensemble is NOT settled (see .ensemble.notes)")
    if unsettled:
        notes.append(f"{len(unsettled)} of the {len(searches)} searches within a part are not "
                     "settled (see .searches); the decision table judges every mix afresh on "
                     "the same replications")
    return notes
