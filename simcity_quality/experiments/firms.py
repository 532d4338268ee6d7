"""Follow enterprises month by month: their state, what they decided and what the city did to
them (docs/ODD.md §7.2, §7.5, §7.7).

``QualityCityModel(track=...)`` keeps the monthly *state* of firms chosen before the run. To pick
firms by what happens to them (caught counterfeiting, winning a title) the whole population has
to be watched, and the events of a month (the option chosen, an inspection and its outcome) are
not part of the state. :func:`firm_panel` runs one replication and records both for every firm
through the engine's observer hook (:mod:`simcity_quality.engine.observer`), which only reads:
the run, and its random numbers, are those of replication ``replication`` of
``sq.run(scenario, seed=seed, resolution=resolution)`` (a test checks this). What to make of a
panel is in :mod:`simcity_quality.analysis.firms`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..categories import SECTORS, SIZES, TIERS
from ..engine.behaviour import counterfeit_probability, invested_options, perceived_penalty
from ..engine.model import QualityCityModel
from ..engine.observer import Observer
from ..engine.quality_file import EVENTS, FIELDS
from ..errors import SimcityQualityError, renamed
from ..results.replications import replication_seed
from ..scenario import Scenario, load_scenario

# state kept per firm and month (a subset of population.Population, docs/ODD.md §2)
STATE = ("sector", "size", "output", "cash", "capability", "intl_std", "iso9001", "ccc_required",
         "ccc", "tier",
         "applying", "counterfeit", "moral_cost", "watched", "clean_count", "grade",
         "belief",
         "key_project", "discharge_ratio")


@dataclass
class FirmPanel:
    """One replication followed firm by firm.

    ``months`` has one row per firm and month in which the firm was alive at the start of the
    month: ``step`` (1 = first month), ``date``, ``id``; the state at the end of the month
    (``STATE``; missing if the firm left during the month); what happened during the month:

    - ``reviewed``, ``decision`` (the investments made, names of ``categories.OPTIONS``
      joined by ``"+"`` in that order; ``"nothing"`` when the firm reviewed and made none, ``""``
      when it did not review), ``belief_at_decision``, ``p_counterfeit`` (the chance the counterfeit
      rule gave it, §7.2) and ``perceived_penalty`` (million yuan a year) when it reviewed;
    - ``inspected``, ``watched_when_inspected``, ``tier_when_inspected``,
      ``counterfeit_when_inspected``, ``no_ccc_when_inspected`` (a CCC required and missing: a
      sure failure), ``failed``, ``caught_counterfeiting``, ``revoked``,
      ``closed`` and ``paid_at_inspection_yuan`` (fines, criminal costs and ordered abatement,
      §7.5);
    - ``title_won`` (a title tier gained in the December round, §7.7) and ``exited``;
    - ``file_<event>`` for each event of the firm's quality file (``engine.quality_file.EVENTS``):
      whether it was entered in the file this month (national checks and their failures, city
      inspections, failures, counterfeits found, sanctions, titles won, certificates).
    """

    months: pd.DataFrame
    model: QualityCityModel

    def firm(self, firm_id: int) -> pd.DataFrame:
        """The months of one firm, in order."""
        rows = self.months[self.months["id"] == firm_id]
        if rows.empty:
            raise KeyError(f"no enterprise with id {firm_id} in this run")
        return rows.reset_index(drop=True)

    def quality_file(self, firm_id: int) -> pd.DataFrame:
        """The firm's quality file as dated events (one row per month and event, oldest first),
        as the engine kept it month by month."""
        f = self.firm(firm_id)
        cols = [f"file_{e}" for e in EVENTS]
        long = f.melt(id_vars=["step", "date"], value_vars=cols, var_name="event")
        long = long[long["value"].astype(bool)].drop(columns="value")
        long["event"] = long["event"].str.removeprefix("file_")
        order = {e: i for i, e in enumerate(EVENTS)}
        return (long.assign(_o=long["event"].map(order)).sort_values(["step", "_o"])
                .drop(columns="_o").reset_index(drop=True))

    def summary(self) -> pd.DataFrame:
        """One row per firm: its sector, size, output (million yuan a year) and moral cost in
        its first month, months alive, months counterfeiting (at the end of a month),
        inspections, failures, times caught counterfeiting, titles won, upgrades, and whether
        it left; with its sector, size and first tier."""
        m = self.months
        g = m.groupby("id", sort=True)
        out = pd.DataFrame({
            "sector": g["sector"].first(), "size": g["size"].first(),
            "output_m_yuan": g["output"].first(), "moral_cost": g["moral_cost"].first(),
            "first_tier": g["tier_at_start"].first(), "months": g.size(),
            "months_counterfeiting": g["counterfeit"].sum(),
            "inspections": g["inspected"].sum(), "failures": g["failed"].sum(),
            "caught_counterfeiting": g["caught_counterfeiting"].sum(),
            "months_watched": g["watched"].sum(),
            "upgrades": g["decision"].agg(lambda d: int((d == "upgrade").sum())),
            "titles_won": g["title_won"].sum(), "exited": g["exited"].any(),
        })
        return out


class _PanelObserver(Observer):
    """Records, per slot, what the month's decisions and inspections did (read only)."""

    def __init__(self):
        self.calls = {"decisions": 0, "inspections": 0}

    def reset(self, n: int):
        """Forget last month (``n``: the population's slots)."""
        self.decision = np.full(n, -1, dtype=np.int8)
        self.belief_at_decision = np.full(n, np.nan)
        self.p_counterfeit = np.full(n, np.nan)
        self.penalty = np.full(n, np.nan)
        self.inspected = np.zeros(n, dtype=bool)
        self.watched_when = np.zeros(n, dtype=bool)
        self.tier_when = np.zeros(n, dtype=np.int8)
        self.cf_when = np.zeros(n, dtype=bool)
        self.no_ccc_when = np.zeros(n, dtype=bool)
        self.failed = np.zeros(n, dtype=bool)
        self.caught = np.zeros(n, dtype=bool)
        self.revoked = np.zeros(n, dtype=bool)
        self.closed = np.zeros(n, dtype=bool)
        self.paid = np.zeros(n)

    def before_decisions(self, model):
        pop, sc, lv = model.pop, model.scenario, model.levers
        # what the rule sees before it runs (the same arrays it reads)
        self._belief = pop.belief.copy()
        year = model.years[0] + (model.steps - 1) // 12
        self._p_cf = counterfeit_probability(
            pop, lv, sc, model.grade_value, model.years_unpreferred, model.years_untitled,
            model.years_unsubsidised, model.key_project_rate, year, model.win_belief,
            [np.nan, *model.title_cutoffs.values()])
        self._penalty = perceived_penalty(pop, lv, sc)

    def after_decisions(self, model, decisions):
        self.calls["decisions"] += 1
        reviewed = decisions.invested >= 0
        self.decision = decisions.invested.copy()
        self.belief_at_decision = np.where(reviewed, self._belief, np.nan)
        self.p_counterfeit = np.where(reviewed, self._p_cf, np.nan)
        self.penalty = np.where(reviewed, self._penalty, np.nan)

    def before_inspections(self, model):
        pop = model.pop
        self._before = (pop.counterfeit.copy(), pop.watched.copy(), pop.tier.copy(),
                        pop.cash.copy())
        self.no_ccc_when = pop.ccc_required & ~pop.ccc

    def after_inspections(self, model, outcome):
        self.calls["inspections"] += 1
        pop = model.pop
        cf, watched, tier, cash = self._before
        self.inspected = outcome.inspected.copy()
        self.watched_when, self.tier_when, self.cf_when = watched, tier, cf
        self.failed = outcome.failed.copy()
        # an inspection stops a counterfeiter only when it finds the counterfeit (§7.5)
        self.caught = outcome.inspected & cf & ~pop.counterfeit
        self.revoked = outcome.revoked.copy()
        self.closed = outcome.closed.copy()
        self.paid = np.where(outcome.inspected, (cash - pop.cash) * 1e6, 0.0)


@renamed(firms="resolution")
def firm_panel(scenario: Scenario | str, seed: int = 0, replication: int = 0,
               resolution: int | None = None) -> FirmPanel:
    """Run replication ``replication`` of ``scenario`` under ``seed`` (the same run as in
    ``sq.run(scenario, seed=seed)`` or ``sq.compare`` at full resolution) and record every
    enterprise month by month: see :class:`FirmPanel`.

    A panel follows firms, so every firm is simulated as one agent: ``resolution`` can only
    be the city's size (None: the same). For a quicker panel, follow a smaller city,
    ``experiments.equivalence.small_city(scenario, 800)``. Costs about three times a plain run
    (the state of every firm is copied each month).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if resolution is not None and resolution != sc.city.firms:
        raise SimcityQualityError(
            f"firm_panel follows every firm one agent each, so it runs {sc.source} at full "
            f"resolution (its city.firms, {sc.city.firms:,}), not at resolution={resolution!r}"
            f"; for a quicker panel follow a smaller city: small_city(scenario, "
            f"{resolution if isinstance(resolution, int) else 800}) from "
            "simcity_quality.experiments.equivalence.")
    if not isinstance(seed, int | np.integer) or not isinstance(replication, int | np.integer) \
            or replication < 0:
        raise SimcityQualityError(
            f"firm_panel needs a whole-number seed and a replication >= 0, got seed={seed!r}, "
            f"replication={replication!r}.")
    obs = _PanelObserver()
    model = QualityCityModel(sc, seed=replication_seed(int(seed), int(replication)),
                             observer=obs)
    pop = model.pop
    frames = []
    while not model.finished:
        alive_start, id_start, tier_start = pop.alive.copy(), pop.id.copy(), pop.tier.copy()
        obs.reset(pop.n_slots)
        model.step()
        t = model.steps - 1
        same = pop.alive & (pop.id == id_start)
        slots = np.flatnonzero(alive_start)
        cols = {"step": t + 1, "date": model.date(t), "id": id_start[slots]}
        for name in STATE:
            v = getattr(pop, name)[slots]
            cols[name] = np.where(same[slots], v, np.nan) if v.dtype.kind == "f" else v
        cols["tier_at_start"] = tier_start[slots]
        cols["reviewed"] = obs.decision[slots] >= 0
        cols["decision"] = obs.decision[slots]
        cols["belief_at_decision"] = obs.belief_at_decision[slots]
        cols["p_counterfeit"] = obs.p_counterfeit[slots]
        cols["perceived_penalty"] = obs.penalty[slots]
        cols["inspected"] = obs.inspected[slots]
        cols["watched_when_inspected"] = obs.inspected[slots] & obs.watched_when[slots]
        cols["tier_when_inspected"] = np.where(obs.inspected[slots], obs.tier_when[slots], -1)
        cols["counterfeit_when_inspected"] = obs.inspected[slots] & obs.cf_when[slots]
        cols["no_ccc_when_inspected"] = obs.inspected[slots] & obs.no_ccc_when[slots]
        cols["failed"] = obs.failed[slots]
        cols["caught_counterfeiting"] = obs.caught[slots]
        cols["revoked"] = obs.revoked[slots]
        cols["closed"] = obs.closed[slots]
        cols["paid_at_inspection_yuan"] = obs.paid[slots]
        cols["exited"] = ~same[slots]
        cols["title_won"] = same[slots] & (pop.tier[slots] > tier_start[slots])
        for name in FIELDS:  # entered in the file this month
            cols[name] = same[slots] & (getattr(pop, name)[slots] & np.uint64(1) != 0)
        frames.append(pd.DataFrame(cols))
    if obs.calls["decisions"] != model.n_months or obs.calls["inspections"] != model.n_months:
        raise SimcityQualityError(
            f"firm_panel observed {obs.calls} calls in {model.n_months} months: the engine's "
            "monthly step no longer reports its decisions and inspections to the observer "
            "once a month; simcity_quality/experiments/firms.py must follow it.")
    months = pd.concat(frames, ignore_index=True)
    # readable codes; the state of a firm that left during the month is missing
    masks, codes = np.unique(months["decision"].to_numpy(), return_inverse=True)
    labels = ["" if m < 0 else "+".join(invested_options(m)) or "nothing" for m in masks]
    months["decision"] = pd.Categorical.from_codes(codes, labels)
    left = months["exited"].to_numpy()
    for name, labels in (("sector", SECTORS), ("size", SIZES)):
        months[name] = np.asarray(labels)[months[name].to_numpy()]
    for name in ("tier", "tier_at_start"):
        labels = np.asarray(TIERS, dtype=object)[months[name].to_numpy()]
        months[name] = np.where(left & (name == "tier"), None, labels)
    for name in ("intl_std", "iso9001", "ccc_required", "ccc", "counterfeit", "watched",
                 "key_project"):
        months[name] = months[name].astype("boolean").mask(left)
    for name in ("applying", "clean_count"):
        months[name] = months[name].astype("Int64").mask(left)
    return FirmPanel(months, model)


