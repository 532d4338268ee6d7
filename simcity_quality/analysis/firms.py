"""Reading a firm panel (:func:`simcity_quality.experiments.firms.firm_panel`): who the city
inspected, firms worth following, and one firm's story tied to the rules (docs/ODD.md §7.2,
§7.5, §7.7, §7.9). Pure functions of the panel; nothing here runs the model."""

import numpy as np
import pandas as pd

from ..categories import GRADES
from ..engine.kpis import pass_probability
from ..experiments.firms import FirmPanel


def inspections_by_group(panel: FirmPanel) -> pd.DataFrame:
    """Who the city inspected over the run: for the watched and normal tiers of the quality
    file, for its published grades (where the panel has them) and for title holders and others
    (as at the start of each month), the number of inspections, their share of all
    inspections, the firm-months in the group, inspections per firm and year, the share of
    those inspections that failed, the share of the group's firm-months counterfeiting, and
    the sanctions its inspections brought (:func:`_sanctions`; §3.3, §4.4, §7.5)."""
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
    if "grade" in m:
        groups["grade"] = np.array(GRADES)[_grade_before(m)]
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
                         if n_insp else np.nan,
                         "counterfeiting": float(m.loc[sel, "counterfeit"].mean()),
                         **_sanctions(m, sel, n_insp)})
    return pd.DataFrame(rows)


def _sanctions(m: pd.DataFrame, sel: np.ndarray, n_insp: int) -> dict:
    """What the group's inspections cost it (§4.4): the mean paid at an inspection (fines and
    criminal costs, yuan), the share of inspections the quality file records as sanctioned (a
    fine, revocation or referral) and the licences revoked; NaN where the panel lacks them."""
    insp = sel & m["inspected"].to_numpy(dtype=bool)
    out = {}
    for key, column, how in (("paid_per_inspection_yuan", "paid_at_inspection_yuan", "mean"),
                             ("sanctioned_share", "file_sanctioned", "mean"),
                             ("revocations", "revoked", "sum")):
        if column not in m or not n_insp:
            out[key] = np.nan
            continue
        values = m.loc[insp if how == "mean" else sel, column].astype(float)
        out[key] = float(values.mean() if how == "mean" else values.sum())
    return out


def _grade_before(m: pd.DataFrame) -> np.ndarray:
    """Each firm's published grade (0-3, A-D) at the start of its month: its end-of-month grade
    the month before; in its first month, that month's."""
    prev = m.groupby("id", sort=False)["grade"].shift(1)
    return prev.fillna(m["grade"]).astype(int).to_numpy()


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
    upgraded = m["decision"].astype(str).str.contains(r"(?:^|\+)upgrade(?:\+|$)")
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
                         f"{r.p_counterfeit:.1%}; invested in: {r.decision}")
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
