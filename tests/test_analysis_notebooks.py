"""Following enterprises firm by firm (``experiments.firms`` runs the panel through the engine's
observer hook, ``analysis.firms`` reads it; notebooks 04 and 06)."""

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.analysis import firms
from simcity_quality.errors import SimcityQualityError
from simcity_quality.experiments import firms as panels
from simcity_quality.experiments.equivalence import small_city


def _numbers(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if isinstance(v, int | float)}


def test_following_every_firm_leaves_the_run_as_it_was(plan):
    # the same run as replication 1 of sq.run, and the same again when repeated
    city = small_city(plan, 400)
    final = sq.run(city, replications=2, seed=3).final.iloc[1]
    for _ in range(2):
        got = _numbers(panels.firm_panel(city, seed=3, replication=1).model.summary())
        for k in final.index.drop("replication"):
            assert got[k] == pytest.approx(final[k], nan_ok=True), k


def test_the_recorded_events_add_up_to_the_models_counts(plan):
    panel = panels.firm_panel(small_city(plan, 500), seed=5)
    m, counts = panel.months, panel.model.counts
    assert int(m["inspected"].sum()) == counts["city_inspections"] > 0
    made = m["decision"].astype(str).str.split("+")
    for option, count in (("apply_title", "brand_applications"), ("upgrade", "quality_upgrades"),
                          ("certify", "certifications"), ("abate", "abatements"),
                          ("intl_standard", "intl_standard_adoptions")):
        assert int(made.apply(lambda d, o=option: o in d).sum()) == counts[count] > 0, option
    assert (m.loc[~m["reviewed"], "decision"] == "").all()
    assert (m.loc[m["reviewed"], "decision"] != "").all()
    assert int(m["revoked"].sum()) == counts["licences_revoked"]
    assert int(m["title_won"].sum()) == sum(counts[f"titles_won_{t}"] for t in
                                             ("provincial_award", "china_famous_brand",
                                              "national_award"))
    # a counterfeiter caught was counterfeiting and inspected; only inspections fail firms
    assert not (m["caught_counterfeiting"] & ~m["counterfeit_when_inspected"]).any()
    # a counterfeiter found stops (ODD §7.5); one inspected but not found carries on
    caught = m["caught_counterfeiting"] & ~m["exited"]
    assert caught.any() and not m.loc[caught, "counterfeit"].any()
    missed = m["counterfeit_when_inspected"] & ~m["caught_counterfeiting"] & ~m["exited"]
    assert m.loc[missed, "counterfeit"].all()
    assert not (m["failed"] & ~m["inspected"]).any()
    # the quality file's grade (ODD §7.5): a firm failing an inspection ends the month at B or
    # worse (if still there), a counterfeiter found at D; the watched tier is C and D
    stayed = m[m["failed"] & ~m["exited"]]
    assert len(stayed) and (stayed["grade"] >= 1).all()
    assert (m.loc[caught, "grade"] == 3).all()
    assert (m["watched"] == (m["grade"] >= 2)).all()
    # the counterfeit rule's chance is recorded exactly for the firms that reviewed
    assert m.loc[m["reviewed"], "p_counterfeit"].between(0, 1).all()
    assert m.loc[~m["reviewed"], "p_counterfeit"].isna().all()
    # a firm's months run without gaps until it leaves
    for _, f in m.groupby("id"):
        steps = f["step"].to_numpy()
        assert (np.diff(steps) == 1).all()
        assert not f["exited"].iloc[:-1].any()


def test_a_changed_engine_is_reported_not_followed_wrongly(plan, monkeypatch):
    class Silent(panels.QualityCityModel):
        def step(self):  # a month in which the engine tells the observer nothing
            pass

    monkeypatch.setattr(panels, "QualityCityModel", Silent)
    with pytest.raises(SimcityQualityError, match="observer"):
        panels.firm_panel(small_city(plan, 200), seed=1)
    with pytest.raises(SimcityQualityError,
                       match=r"full resolution .* small_city\(scenario, 200\)"):
        panels.firm_panel(plan, seed=1, resolution=200)
    with pytest.raises(SimcityQualityError, match="whole-number seed"):
        panels.firm_panel(plan, seed=sq.replication_seeds(1, 1)[0])


def test_tiered_targeting_aims_inspections_at_the_watched_tier(plan):
    def watched_over_normal(sc):
        t = firms.inspections_by_group(panels.firm_panel(small_city(sc, 800), seed=2))
        t = t[t["grouping"] == "quality file"].set_index("group")
        assert t["share_of_inspections"].sum() == pytest.approx(1.0)
        return t.loc["watched", "inspections_per_firm_year"] / t.loc[
            "normal", "inspections_per_firm_year"]

    # graded: grades C and D (the watched tier) inspected 10 and 20 times as often as B
    tiered = plan.override({"policy.inspection.grade_inspection_weight.C": 10.0,
                            "policy.inspection.grade_inspection_weight.D": 20.0})
    uniform = plan.override({"policy.inspection.targeting": "uniform"})
    assert watched_over_normal(tiered) > 6
    assert watched_over_normal(uniform) < 3


def test_exempt_title_holders_are_not_inspected_once_the_plan_starts(plan):
    # the status quo's inspections raised so that some title holders are inspected in 2009
    exempt = plan.override({"policy.inspection.exempt_award_holders": True,
                            "status_quo.inspection.spot_checks_per_year": 2500})
    m = panels.firm_panel(small_city(exempt, 800), seed=4).months
    start = plan.get("policy.start_year")
    holders = m["inspected"] & (m["tier_when_inspected"] > 0)
    assert holders[m["date"].dt.year < start].any()  # the status quo inspects them
    assert not holders[m["date"].dt.year >= start].any()


# --- picking and telling, on a hand-made panel -----------------------------------------------

def _months(rows: list[dict]) -> pd.DataFrame:
    """A panel of firm-months with every column the helpers read; ``rows`` override defaults."""
    base = {"capability": 2.0, "counterfeit": False, "watched": False, "belief": 0.1,
            "cash": 1.0, "tier": "none", "tier_at_start": "none", "reviewed": False,
            "decision": "", "belief_at_decision": np.nan, "p_counterfeit": np.nan,
            "inspected": False, "watched_when_inspected": False,
            "counterfeit_when_inspected": False, "no_ccc_when_inspected": False,
            "failed": False, "caught_counterfeiting": False, "revoked": False, "closed": False,
            "paid_at_inspection_yuan": 0.0, "title_won": False, "exited": False}
    out = []
    for r in rows:
        row = {**base, **r}
        row["date"] = pd.Timestamp(2009 + (row["step"] - 1) // 12,
                                   (row["step"] - 1) % 12 + 1, 1) + pd.offsets.MonthEnd(0)
        out.append(row)
    return pd.DataFrame(out)


def _firm(firm_id, steps, over=None):
    """Rows of one firm over ``steps``, with ``over[step]`` changing the defaults."""
    return [{"id": firm_id, "step": s, **(over or {}).get(s, {})} for s in steps]


def test_inspections_by_grade_read_the_grade_at_the_months_start():
    # firm 1 is at grade B in January and C from February on (its end-of-month grade), inspected
    # in February (counted at B, its grade at the month's start) and in March (at C), failing in
    # March and counterfeiting from March; firm 2 stays at A, inspected once
    grade1 = {1: 1, **{s: 2 for s in range(2, 13)}}
    rows = _firm(1, range(1, 13), {s: {"grade": grade1[s], "counterfeit": s >= 3,
                                       **({"inspected": True} if s == 2 else {}),
                                       **({"inspected": True, "failed": True} if s == 3 else {})}
                                   for s in range(1, 13)})
    rows += _firm(2, range(1, 13), {s: {"grade": 0, **({"inspected": True} if s == 5 else {})}
                                    for s in range(1, 13)})
    t = firms.inspections_by_group(panels.FirmPanel(_months(rows), model=None))
    g = t[t["grouping"] == "grade"].set_index("group")
    assert g["inspections"].to_dict() == {"A": 1, "B": 1, "C": 1}
    assert g["firm_months"].to_dict() == {"A": 12, "B": 2, "C": 10}
    assert (g.loc["C", "failure_rate"], g.loc["B", "failure_rate"]) == (1.0, 0.0)
    assert g.loc["C", "counterfeiting"] == 1.0 and g.loc["A", "counterfeiting"] == 0.0
    assert g.loc["B", "counterfeiting"] == 0.0
    # the sanctions: firm 1's failed March inspection cost it 30,000 yuan and was sanctioned
    rows[2].update(paid_at_inspection_yuan=30_000.0, file_sanctioned=True)
    for r in rows:
        r.setdefault("paid_at_inspection_yuan", 0.0)
        r.setdefault("file_sanctioned", False)
    g = firms.inspections_by_group(panels.FirmPanel(_months(rows), model=None))
    g = g[g["grouping"] == "grade"].set_index("group")
    assert g.loc["C", "paid_per_inspection_yuan"] == 30_000.0
    assert (g.loc["C", "sanctioned_share"], g.loc["B", "sanctioned_share"]) == (1.0, 0.0)
    assert g["revocations"].sum() == 0


def test_pick_firms_chooses_by_the_rules_not_by_id():
    rows = [
        # two caught counterfeiters: 7 counterfeited longer than 3
        *_firm(3, range(1, 4), {1: {"counterfeit": True},
                                   3: {"inspected": True, "caught_counterfeiting": True}}),
        *_firm(7, range(1, 5), {s: {"counterfeit": True} for s in (1, 2, 3)}
               | {4: {"inspected": True, "caught_counterfeiting": True}}),
        # two title winners: 9 upgraded twice before winning, 2 once; 2's later upgrades
        # (after the win) do not count
        *_firm(2, range(1, 6), {1: {"decision": "upgrade"}, 2: {"title_won": True},
                                   4: {"decision": "upgrade"}, 5: {"decision": "upgrade"}}),
        *_firm(9, range(1, 5), {1: {"decision": "upgrade"}, 2: {"decision": "upgrade"},
                                   3: {"title_won": True}}),
        # watched firms: 7 (already picked) was inspected most; then 5 over 4
        *_firm(5, range(1, 4), {s: {"watched": True, "inspected": True} for s in (1, 2)}),
        *_firm(4, range(1, 4), {1: {"watched": True, "inspected": True}}),
    ]
    months = _months(rows)
    months.loc[months["id"] == 7, ["watched", "inspected"]] = True
    picks = firms.pick_firms(panels.FirmPanel(months, model=None)).set_index("role")["id"]
    assert picks.to_dict() == {"caught": 7, "title": 9, "watched": 5}
    # from a later year, firms whose events all came before are not picked
    later = firms.pick_firms(panels.FirmPanel(months, model=None), from_year=2010)
    assert later.empty


def test_firm_story_ties_each_event_to_the_firm_state():
    rows = _firm(11, range(1, 8), {
        1: {"reviewed": True, "decision": "upgrade", "belief_at_decision": 0.12,
            "p_counterfeit": 0.034},
        2: {"inspected": True, "failed": True, "no_ccc_when_inspected": True, "watched": True,
            "belief": 1.0, "paid_at_inspection_yuan": 30000.0},
        3: {"inspected": True, "failed": True, "no_ccc_when_inspected": True, "watched": True,
            "watched_when_inspected": True, "belief": 1.0, "paid_at_inspection_yuan": 30000.0},
        4: {"inspected": True, "failed": True, "no_ccc_when_inspected": True, "watched": True,
            "watched_when_inspected": True, "belief": 1.0, "paid_at_inspection_yuan": 30000.0,
            "cash": 0.9},
        5: {"title_won": True, "tier": "provincial_award", "counterfeit": True},
        7: {"inspected": True, "caught_counterfeiting": True, "failed": True, "revoked": True,
            "exited": True, "paid_at_inspection_yuan": 150000.0},
    })
    story = firms.firm_story(panels.FirmPanel(_months(rows), model=None), 11,
                             counterfeit_pass_factor=0.5)
    assert list(story["month"]) == ["2009-01", "2009-02", "2009-03 to 2009-04", "2009-05",
                                    "2009-07"]
    assert list(story["months"]) == [1, 1, 2, 1, 1]
    text = list(story["what happened"])
    assert "12% chance" in text[0] and "3.4%" in text[0] and "invested in: upgrade" in text[0]
    assert text[1] == "inspected on the normal tier: failed, no CCC certificate, paid 30,000 yuan"
    assert text[2].startswith("inspected on the watched tier")
    assert story["cash_m_yuan"].iloc[2] == pytest.approx(0.9)  # the state at the run's end
    assert text[3] == "won the provincial_award title"
    # a counterfeiter's products pass half as often (ODD §7.1)
    honest = 1 / (1 + np.exp(-2.0))
    assert story["pass_probability"].iloc[0] == pytest.approx(honest)
    assert story["pass_probability"].iloc[3] == pytest.approx(0.5 * honest)
    assert "counterfeit found" in text[4] and "licence revoked" in text[4]
    assert np.isnan(story["pass_probability"].iloc[4])
    with pytest.raises(KeyError):
        panels.FirmPanel(_months(rows), model=None).firm(12)


def test_inspections_by_group_counts_each_tier_as_the_city_saw_it():
    # firm 1 is watched throughout and inspected every other month, failing three times;
    # firm 2 is on the normal tier and inspected once. A firm's group in a month is its tier at
    # the month's start, so firm 1's first month counts as normal.
    insp = {s: {"inspected": True, "watched_when_inspected": True, "failed": s <= 6}
            for s in (2, 4, 6, 8, 10, 12)}
    rows = _firm(1, range(1, 13), {s: {"watched": True, **insp.get(s, {})} for s in range(1, 13)})
    rows += _firm(2, range(1, 13), {5: {"inspected": True}})
    t = firms.inspections_by_group(panels.FirmPanel(_months(rows), model=None))
    t = t.set_index(["grouping", "group"])
    watched, normal = t.loc[("quality file", "watched")], t.loc[("quality file", "normal")]
    assert (watched["inspections"], watched["firm_months"]) == (6, 11)
    assert (normal["inspections"], normal["firm_months"]) == (1, 13)
    assert watched["share_of_inspections"] == pytest.approx(6 / 7)
    assert watched["inspections_per_firm_year"] == pytest.approx(12 * 6 / 11)
    assert (watched["failure_rate"], normal["failure_rate"]) == (0.5, 0.0)
    assert t.loc[("title", "no title"), "inspections"] == 7
