"""Follow enterprises month by month: their state, what they decided and what the city did to
them (docs/ODD.md §7.2, §7.5, §7.7).

``QualityCityModel(track=...)`` keeps the monthly *state* of firms chosen before the run. To pick
firms by what happens to them (caught counterfeiting, winning a title) the whole population has
to be watched, and the events of a month (the option chosen, an inspection and its outcome) are
not part of the state. :func:`firm_panel` runs one replication and records both for every firm,
by observing the two calls of the monthly step that decide them: ``behaviour.choose`` and
``government.city_inspection``. The observation only reads: the run, and its random numbers,
are those of replication ``replication`` of ``sq.run(scenario, seed=seed, firms=firms)`` (a test
checks this).
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import model as model_module
from ..behaviour import OPTIONS, counterfeit_probability, perceived_penalty
from ..errors import SimcityQualityError
from ..kpis import pass_probability
from ..runner import replication_seeds
from ..scenario import SECTORS, SIZES, TIERS, Scenario, load_scenario

# state kept per firm and month (a subset of population.Population, docs/ODD.md §2)
STATE = ("sector", "size", "output", "cash", "capability", "intl_std", "iso9001", "ccc_required",
         "ccc", "tier",
         "applying", "counterfeit", "moral_cost", "watched", "clean_count", "belief",
         "key_project", "discharge_ratio")


@dataclass
class FirmPanel:
    """One replication followed firm by firm.

    ``months`` has one row per firm and month in which the firm was alive at the start of the
    month: ``step`` (1 = first month), ``date``, ``id``; the state at the end of the month
    (``STATE``; missing if the firm left during the month); what happened during the month:

    - ``reviewed``, ``decision`` (an option of ``behaviour.OPTIONS``, or ``""`` when the firm
      did not review), ``belief_at_decision``, ``p_counterfeit`` (the chance the counterfeit
      rule gave it, §7.2) and ``perceived_penalty`` (million yuan a year) when it reviewed;
    - ``inspected``, ``watched_when_inspected``, ``tier_when_inspected``,
      ``counterfeit_when_inspected``, ``no_ccc_when_inspected`` (a CCC required and missing: a
      sure failure), ``failed``, ``caught_counterfeiting``, ``revoked``,
      ``closed`` and ``paid_at_inspection_yuan`` (fines, criminal costs and ordered abatement,
      §7.5);
    - ``title_won`` (a title tier gained in the December round, §7.7) and ``exited``.
    """

    months: pd.DataFrame
    model: model_module.QualityCityModel

    def firm(self, firm_id: int) -> pd.DataFrame:
        """The months of one firm, in order."""
        rows = self.months[self.months["id"] == firm_id]
        if rows.empty:
            raise KeyError(f"no enterprise with id {firm_id} in this run")
        return rows.reset_index(drop=True)

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


class _Observer:
    """Wraps the step's calls to ``choose`` and ``city_inspection``, recording per slot."""

    def __init__(self, n_slots: int):
        self.n = n_slots
        self.calls = {"choose": 0, "city_inspection": 0}
        self.reset()

    def reset(self):
        n = self.n
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

    def choose(self, original: Callable) -> Callable:
        def wrapped(pop, lv, sc, *args, **kwargs):
            self.calls["choose"] += 1
            # what the rule sees before it runs (the same arrays it reads)
            belief = pop.belief.copy()
            p_cf = counterfeit_probability(pop, lv, sc)
            penalty = perceived_penalty(pop, lv, sc)
            dec = original(pop, lv, sc, *args, **kwargs)
            reviewed = dec.choice >= 0
            self.decision = dec.choice.copy()
            self.belief_at_decision = np.where(reviewed, belief, np.nan)
            self.p_counterfeit = np.where(reviewed, p_cf, np.nan)
            self.penalty = np.where(reviewed, penalty, np.nan)
            return dec
        return wrapped

    def city_inspection(self, original: Callable) -> Callable:
        def wrapped(pop, *args, **kwargs):
            self.calls["city_inspection"] += 1
            cf, watched, tier, cash = (pop.counterfeit.copy(), pop.watched.copy(),
                                       pop.tier.copy(), pop.cash.copy())
            self.no_ccc_when = pop.ccc_required & ~pop.ccc
            out = original(pop, *args, **kwargs)
            self.inspected = out.inspected.copy()
            self.watched_when, self.tier_when, self.cf_when = watched, tier, cf
            self.failed = out.failed.copy()
            # an inspection stops a counterfeiter only when it finds the counterfeit (§7.5)
            self.caught = out.inspected & cf & ~pop.counterfeit
            self.revoked = out.revoked.copy()
            self.closed = out.closed.copy()
            self.paid = np.where(out.inspected, (cash - pop.cash) * 1e6, 0.0)
            return out
        return wrapped


@contextmanager
def _observing(observer: _Observer):
    saved = {name: getattr(model_module, name) for name in ("choose", "city_inspection")}
    try:
        model_module.choose = observer.choose(saved["choose"])
        model_module.city_inspection = observer.city_inspection(saved["city_inspection"])
        yield observer
    finally:
        for name, fn in saved.items():
            setattr(model_module, name, fn)


def firm_panel(scenario: Scenario | str, seed: int = 0, replication: int = 0,
               firms: int | None = None) -> FirmPanel:
    """Run replication ``replication`` of ``scenario`` under ``seed`` (the same run as in
    ``sq.run(scenario, seed=seed, firms=firms)`` or ``sq.compare``) and record every enterprise
    month by month: see :class:`FirmPanel`.

    Takes the seed as a number, not a ``SeedSequence``: a ``SeedSequence`` handed to a model is
    spawned from, and a second model given the same object would draw other numbers.

    Costs about three times a plain run (the state of every firm is copied each month).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not isinstance(seed, int | np.integer) or not isinstance(replication, int | np.integer) \
            or replication < 0:
        raise SimcityQualityError(
            f"firm_panel needs a whole-number seed and a replication >= 0, got seed={seed!r}, "
            f"replication={replication!r}.")
    ss = replication_seeds(int(seed), int(replication) + 1)[int(replication)]
    model = model_module.QualityCityModel(sc, seed=ss, firms=firms)
    pop = model.pop
    obs = _Observer(pop.n_slots)
    frames = []
    with _observing(obs):
        while not model.finished:
            alive_start, id_start, tier_start = pop.alive.copy(), pop.id.copy(), pop.tier.copy()
            obs.reset()
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
            frames.append(pd.DataFrame(cols))
    if obs.calls["choose"] != model.n_months or obs.calls["city_inspection"] != model.n_months:
        raise SimcityQualityError(
            f"firm_panel observed {obs.calls} calls in {model.n_months} months: the model's "
            "monthly step no longer calls behaviour.choose and government.city_inspection "
            "through simcity_quality.model once a month; simcity_quality/analysis/firms.py must "
            "follow the engine's new structure.")
    months = pd.concat(frames, ignore_index=True)
    # readable codes; the state of a firm that left during the month is missing
    months["decision"] = pd.Categorical.from_codes(months["decision"].to_numpy() + 1,
                                                   ["", *OPTIONS])
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


def inspections_by_group(panel: FirmPanel) -> pd.DataFrame:
    """Who the city inspected over the run: for the watched and normal tiers of the quality
    file, and for title holders and others (as at the start of each month), the number of
    inspections, their share of all inspections, the firm-months in the group, inspections per
    firm and year, and the share of those inspections that failed (§3.3, §7.5)."""
    m = panel.months
    # the group a firm-month belongs to, as seen when the city chose whom to inspect
    m = m.assign(
        watched_at=np.where(m["inspected"], m["watched_when_inspected"], _watched_before(m)),
    )
    rows = []
    groups = {
        "quality file": np.where(m["watched_at"], "watched", "normal"),
        "title": np.where(m["tier_at_start"] != "none", "title holder", "no title"),
    }
    total = int(m["inspected"].sum())
    for kind, labels in groups.items():
        for label in sorted(set(labels)):
            sel = labels == label
            n_insp = int(m.loc[sel, "inspected"].sum())
            rows.append({"grouping": kind, "group": label, "inspections": n_insp,
                         "share_of_inspections": n_insp / total if total else np.nan,
                         "firm_months": int(sel.sum()),
                         "inspections_per_firm_year": 12 * n_insp / sel.sum() if sel.any()
                         else np.nan,
                         "failure_rate": float(m.loc[sel & m["inspected"], "failed"].mean())
                         if n_insp else np.nan})
    return pd.DataFrame(rows)


def _watched_before(m: pd.DataFrame) -> np.ndarray:
    """Whether each firm was on the watched tier at the start of its month (its end-of-month
    state the month before; False in its first month, as every firm starts on the normal tier)."""
    prev = m.groupby("id", sort=False)["watched"].shift(1)
    return prev.fillna(False).astype(bool).to_numpy()


def pick_firms(panel: FirmPanel, from_year: int | None = None) -> pd.DataFrame:
    """Contrasting enterprises chosen by rules on what happened to them (from ``from_year``,
    default the whole run), never by id, so the choice follows the run:

    - ``caught``: caught counterfeiting by a city inspection; the one that had counterfeited the
      most months before (ties: smallest id);
    - ``title``: won a title after choosing at least one upgrade; the one with the most upgrades
      (ties: smallest id); failing that, any title winner;
    - ``watched``: spent months on the watched tier of the quality file (not picked above); the
      one inspected most often (ties: smallest id).

    One row per role found: ``role``, ``id`` and ``rule``; a role no firm fits is left out.
    """
    m = panel.months
    if from_year is not None:
        m = m[m["date"].dt.year >= from_year]
    picked: list[dict] = []

    def best(score: pd.Series, role: str, rule: str):
        score = score[~score.index.isin([p["id"] for p in picked])]
        if len(score):
            top = score[score == score.max()].index.min()  # ties: smallest id
            picked.append({"role": role, "id": int(top), "rule": rule})

    g = m.groupby("id", sort=True)
    caught = g["caught_counterfeiting"].any()
    cf_months = g["counterfeit"].sum()
    best(cf_months[caught[caught].index], "caught",
         "caught counterfeiting; the most months counterfeiting")
    upgraded = m["decision"] == "upgrade"
    # upgrades chosen before (or in) the month of the firm's first title won
    won_step = m[m["title_won"]].groupby("id")["step"].min()
    before = m[upgraded & m["id"].isin(won_step.index)]
    before = before[before["step"] <= before["id"].map(won_step)]
    n_up = before.groupby("id").size()
    if len(n_up):
        best(n_up, "title", "won a title after upgrading; the most upgrades before it")
    elif len(won_step):
        best(pd.Series(1, index=won_step.index), "title", "won a title")
    watched_months = g["watched"].sum()
    watched = watched_months[watched_months > 0].index
    best(g["inspected"].sum()[watched], "watched",
         "on the watched tier; the most city inspections")
    return pd.DataFrame(picked, columns=["role", "id", "rule"])


def firm_story(panel: FirmPanel, firm_id: int, counterfeit_pass_factor: float) -> pd.DataFrame:
    """The months in which something happened to one firm, each with its state and a sentence
    tying what happened to the rules (docs/ODD.md §7.2 decisions, §7.5 inspections, §7.7
    titles, §7.9 exit). ``counterfeit_pass_factor`` (``behaviour.counterfeit_pass_factor``)
    turns capability into the pass probability of its products (§7.1). Consecutive months in
    which the same thing happened are one row (``months`` > 1), showing the state at the end."""
    f = panel.firm(firm_id)
    rows = []
    for r in f.itertuples(index=False):
        parts = []
        if r.reviewed:
            parts.append(f"reviewed: believed a {r.belief_at_decision:.0%} chance of a city "
                         f"inspection within a year, so the counterfeit rule gave "
                         f"{r.p_counterfeit:.1%}; chose {r.decision}")
        if r.inspected:
            tier = "watched" if r.watched_when_inspected else "normal"
            if r.caught_counterfeiting:
                outcome = "counterfeit found"
            elif r.failed and r.no_ccc_when_inspected:
                outcome = "failed, no CCC certificate"
            elif r.failed:
                outcome = "failed the product test"
            else:
                outcome = "passed"
            parts.append(f"inspected on the {tier} tier: {outcome}"
                         + (f", paid {r.paid_at_inspection_yuan:,.0f} yuan"
                            if r.paid_at_inspection_yuan > 0 else ""))
        if r.title_won:
            parts.append(f"won the {r.tier} title")
        if r.exited:
            parts.append("licence revoked, left the market" if r.revoked else
                         "closed over its discharge limit" if r.closed else "left the market")
        if not parts:
            continue
        text = "; ".join(parts)
        month = r.date.strftime("%Y-%m")
        if rows and rows[-1]["what happened"] == text and rows[-1]["next"] == r.step:
            # the same event as last month: extend that row to this month
            rows[-1].update(month=rows[-1]["month"][:7] + " to " + month,
                            months=rows[-1]["months"] + 1, next=r.step + 1)
            rows[-1].update(_state(r, counterfeit_pass_factor))
            continue
        rows.append({"month": month, "months": 1, "next": r.step + 1,
                     **_state(r, counterfeit_pass_factor), "what happened": text})
    return pd.DataFrame(rows, columns=["month", "months", "pass_probability", "belief",
                                       "counterfeiting", "watched", "cash_m_yuan",
                                       "what happened"])


def _state(r, counterfeit_pass_factor: float) -> dict:
    """A firm-month's state at the end of the month, for the story table (missing if the firm
    left during the month)."""
    if r.exited:
        return {"pass_probability": np.nan, "belief": np.nan, "counterfeiting": None,
                "watched": None, "cash_m_yuan": np.nan}
    counterfeit = bool(r.counterfeit)
    return {"pass_probability": float(pass_probability(r.capability, counterfeit,
                                                       counterfeit_pass_factor)),
            "belief": r.belief, "counterfeiting": counterfeit, "watched": bool(r.watched),
            "cash_m_yuan": r.cash}
