"""The budget ledger (simcity_quality/ledger.py) and reward accounting (§4.2)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.categories import TIERS
from simcity_quality.engine import government
from simcity_quality.engine.ledger import (
    LINE_NAMES,
    LINES,
    PAYERS,
    REVENUE_LINES,
    REWARD_LINE_BY_TIER,
    Ledger,
)
from simcity_quality.scenario import load_scenario

TITLE_LINES = list(REWARD_LINE_BY_TIER.values())  # rewards for brand titles (§4.2)

ROOT = Path(__file__).resolve().parents[2]
THE_PLAN = ROOT / "scenarios" / "the_plan.toml"
TIER_NAMES = {t: TIERS[t] for t in (1, 2, 3)}


@pytest.fixture(scope="module")
def plan_res():
    return sq.run(str(THE_PLAN), replications=2, seed=3, resolution=800)


@pytest.fixture(scope="module")
def unstacked_res():
    """The plan with the province paying for every tier, from 2011, not stacked with the city.

    Quotas are raised so that titles of every tier are won in a small run.
    """
    sc = load_scenario(THE_PLAN).override({
        "policy.rewards.stack_city_and_province": False,
        "policy.rewards.province_provincial_award": 200000,
        "policy.rewards.province_start_year": 2011,
        "awards.quota.provincial_award": 30,
        "awards.quota.china_famous_brand": 10,
        "awards.quota.national_award": 5,
    })
    return sq.run(sc, replications=1, seed=3, resolution=800)


def december(ts: pd.DataFrame) -> pd.DataFrame:
    dec = ts[pd.to_datetime(ts["date"]).dt.month == 12].copy()
    dec["year"] = pd.to_datetime(dec["date"]).dt.year
    return dec


def titles_won_by_year(ts_rep: pd.DataFrame, tier: int) -> pd.Series:
    """Titles of ``tier`` won in each year: differences of the cumulative December counts."""
    dec = december(ts_rep).set_index("year")[f"titles_won_{TIER_NAMES[tier]}"]
    return dec.diff().fillna(dec).astype(int)


def expected_rewards(res, rep: int) -> dict[tuple[int, str, str], float]:
    """(year, payer, line) -> yuan: titles won that year times the schedule in force."""
    sc = res.scenario
    ts_rep = res.timeseries[res.timeseries["replication"] == rep]
    out: dict[tuple[int, str, str], float] = {}
    for tier in (1, 2, 3):
        for year, won in titles_won_by_year(ts_rep, tier).items():
            province, city = government.reward_amounts(sc.levers_for(year), year, tier)
            line = REWARD_LINE_BY_TIER[tier]
            out[(year, "province", line)] = won * province
            out[(year, "city", line)] = won * city
    return out


def booked_rewards(res, rep: int) -> dict[tuple[int, str, str], float]:
    b = res.budget
    b = b[(b["replication"] == rep) & b["line"].isin(TITLE_LINES)]
    return {(int(r.year), r.payer, r.line): float(r.yuan) for r in b.itertuples()}


# ---------------------------------------------------------------------------------------
# the Ledger class itself


def test_book_and_totals_by_hand():
    led = Ledger([2010, 2011])
    led.book(2010, "city", "inspection_cost", 3000.0)
    led.book(2010, "city", "inspection_cost", 6000.0)  # bookings on one line accumulate
    led.book(2010, "province", "reward_national_award", 1_000_000.0)
    led.book(2011, "city", "reward_provincial_award", 50_000.0)
    led.book(2011, "city", "fines_collected", -30_000.0)
    assert led.total() == pytest.approx(3000 + 6000 + 1_000_000 + 50_000 - 30_000)
    assert led.total(year=2010) == pytest.approx(3000 + 6000 + 1_000_000)
    assert led.total(year=2011) == pytest.approx(50_000 - 30_000)
    assert led.total(payer="province") == pytest.approx(1_000_000)
    assert led.total(payer="city") == pytest.approx(3000 + 6000 + 50_000 - 30_000)
    assert led.total(year=2010, payer="city") == pytest.approx(3000 + 6000)
    assert led.total(year=2011, payer="province") == 0.0
    frame = led.frame()
    assert frame["yuan"].sum() == pytest.approx(led.total())
    row = frame[(frame.year == 2010) & (frame.payer == "city") & (frame.line == "inspection_cost")]
    assert row["yuan"].tolist() == [9000.0]


def test_frame_lists_every_valid_payer_line_pair_once_per_year():
    led = Ledger([2009, 2010, 2011])
    frame = led.frame()
    pairs = {(line, payer) for line, payers in LINES.items() for payer in payers}
    assert len(frame) == 3 * len(pairs)
    assert set(zip(frame.line, frame.payer, strict=True)) == pairs
    assert (frame["yuan"] == 0).all()
    assert set(LINE_NAMES) == set(frame.line) and set(frame.payer) <= set(PAYERS)


@pytest.mark.parametrize("line", [ln for ln, payers in LINES.items() if "province" not in payers])
def test_book_rejects_payer_not_allowed_on_line(line):
    led = Ledger([2010])
    with pytest.raises(ValueError, match=f"province.*{line}"):
        led.book(2010, "province", line, 1000.0)
    assert led.total() == 0.0  # nothing was booked


def test_book_rejects_unknown_payer():
    led = Ledger([2010])
    with pytest.raises(ValueError):
        led.book(2010, "county", "reward_national_award", 1000.0)
    assert led.total() == 0.0


def test_only_city_lines_besides_rewards_and_the_quality_fines():
    # the province pays rewards (§4.2) and may receive the quality bureau's fines (vertical
    # management, interpretation.quality_fines_treasury); everything else is the city's
    province_lines = {line for line, payers in LINES.items() if "province" in payers}
    assert province_lines == set(REWARD_LINE_BY_TIER.values()) | {"fines_collected"}


# ---------------------------------------------------------------------------------------
# lines add up to totals in a run


def test_run_budget_has_each_year_payer_line(plan_res):
    b = plan_res.budget
    sc = plan_res.scenario
    years = list(range(sc.city.base_year, sc.horizon.end_year + 1))
    assert sorted(b["replication"].unique()) == [0, 1]
    assert sorted(b["year"].unique()) == years
    assert not b.duplicated(["replication", "year", "payer", "line"]).any()


def test_cumulative_spending_at_end_equals_sum_of_budget_rows(plan_res):
    ts, b = plan_res.timeseries, plan_res.budget
    for rep in (0, 1):
        last = ts[ts["replication"] == rep].iloc[-1]
        rows = b[b["replication"] == rep]
        assert last["spending_total"] == pytest.approx(rows["yuan"].sum(), rel=1e-12)
        for payer in PAYERS:
            assert last[f"spending_{payer}"] == pytest.approx(
                rows.loc[rows["payer"] == payer, "yuan"].sum(), rel=1e-12, abs=1e-6)
        # the final table repeats the last step
        fin = plan_res.final[plan_res.final["replication"] == rep].iloc[0]
        assert fin["spending_total"] == pytest.approx(last["spending_total"])


def test_yearly_spending_by_payer_adds_up(plan_res):
    """Per year and payer: the increase of the cumulative spending over each year equals the
    sum of that year's budget lines; totals equal province + city."""
    ts, b = plan_res.timeseries, plan_res.budget
    for rep in (0, 1):
        dec = december(ts[ts["replication"] == rep]).set_index("year")
        rows = b[b["replication"] == rep]
        by = rows.groupby(["year", "payer"])["yuan"].sum().unstack("payer").reindex(
            columns=list(PAYERS), fill_value=0.0)
        for payer in PAYERS:
            yearly = dec[f"spending_{payer}"].diff().fillna(dec[f"spending_{payer}"])
            np.testing.assert_allclose(yearly.to_numpy(), by[payer].to_numpy(),
                                       rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(dec["spending_total"],
                                   dec["spending_province"] + dec["spending_city"], rtol=1e-12)
        # the city spends and collects fines in every year: the check is not vacuous
        assert (by["city"] != 0).all()


# ---------------------------------------------------------------------------------------
# the sign convention


def test_sign_convention(plan_res):
    b = plan_res.budget
    fines = b[b["line"].isin(REVENUE_LINES)]
    others = b[~b["line"].isin(REVENUE_LINES)]
    assert (fines["yuan"] <= 0).all()
    assert (fines["yuan"] < 0).any()  # fines were collected
    assert (others["yuan"] >= 0).all()
    assert (others["yuan"] > 0).any()


# ---------------------------------------------------------------------------------------
# rewards = titles won x the schedule


def test_reward_spending_equals_titles_times_schedule(plan_res):
    sc = plan_res.scenario
    post_plan_titles = 0
    for rep in (0, 1):
        expected = expected_rewards(plan_res, rep)
        booked = booked_rewards(plan_res, rep)
        assert set(booked) == set(expected)
        for key, yuan in expected.items():
            assert booked[key] == pytest.approx(yuan), key
        # per payer totals, as the brief states them
        for payer in ("province", "city"):
            assert sum(v for (_, p, _), v in booked.items() if p == payer) == pytest.approx(
                sum(v for (_, p, _), v in expected.items() if p == payer))
        # the cumulative titles at the end are the per-year sums
        fin = plan_res.final[plan_res.final["replication"] == rep].iloc[0]
        ts_rep = plan_res.timeseries[plan_res.timeseries["replication"] == rep]
        for tier in (1, 2, 3):
            per_year = titles_won_by_year(ts_rep, tier)
            assert per_year.sum() == fin[f"titles_won_{TIER_NAMES[tier]}"]
            post_plan_titles += per_year[per_year.index >= sc.policy.start_year].sum()
    assert post_plan_titles > 0  # some titles earned money: the check is not vacuous


def test_titles_won_before_the_plan_earn_nothing(plan_res):
    sc = plan_res.scenario
    b = plan_res.budget
    before = b[(b["year"] < sc.policy.start_year) & b["line"].isin(TITLE_LINES)]
    assert len(before) > 0 and (before["yuan"] == 0).all()
    for tier in (1, 2, 3):
        assert government.reward_amounts(sc.levers_for(sc.city.base_year),
                                         sc.city.base_year, tier) == (0.0, 0.0)


def test_reward_amounts_follow_the_plan_schedule():
    sc = load_scenario(THE_PLAN)
    lv = sc.levers_for(2010)
    r = lv.rewards
    assert r.stack_city_and_province and r.province_start_year == 2010
    assert government.reward_amounts(lv, 2010, 3) == (r.province_national_award,
                                                      r.city_national_award)
    assert government.reward_amounts(lv, 2010, 2) == (r.province_china_famous_brand,
                                                      r.city_china_famous_brand)
    assert government.reward_amounts(lv, 2010, 1) == (r.province_provincial_award,
                                                      r.city_provincial_award)
    assert government.reward_amounts(lv, 2011, 3) == (1_000_000, 100_000)
    # before province_start_year the province pays nothing; the city still does
    assert government.reward_amounts(lv, 2009, 3) == (0.0, 100_000)


def test_reward_amounts_not_stacked():
    sc = load_scenario(THE_PLAN).override({
        "policy.rewards.stack_city_and_province": False,
        "policy.rewards.province_start_year": 2011,
    })
    lv = sc.levers_for(2011)
    # the province pays for national titles: the city pays nothing for them
    assert government.reward_amounts(lv, 2011, 3) == (1_000_000, 0.0)
    assert government.reward_amounts(lv, 2011, 2) == (500_000, 0.0)
    # no provincial money for provincial awards in the plan: the city pays
    assert government.reward_amounts(lv, 2011, 1) == (0.0, 50_000)
    # before the province starts paying, the city pays
    assert government.reward_amounts(lv, 2010, 3) == (0.0, 100_000)
    assert government.reward_amounts(lv, 2010, 2) == (0.0, 100_000)


def test_run_not_stacked_city_pays_nothing_where_province_pays(unstacked_res):
    res = unstacked_res
    b = res.budget
    rewards = b[b["line"].isin(TITLE_LINES)].pivot_table(
        index=["year", "line"], columns="payer", values="yuan", aggfunc="sum")
    province_paid = rewards["province"] > 0
    assert province_paid.any()  # not vacuous
    assert (rewards.loc[province_paid, "city"] == 0).all()
    # before province_start_year the city paid for titles the province would pay for later
    early = rewards.xs(2010, level="year")
    assert (early["province"] == 0).all() and (early["city"] > 0).any()
    # and the totals still equal titles x schedule, per year, payer and line
    expected = expected_rewards(res, 0)
    booked = booked_rewards(res, 0)
    for key, yuan in expected.items():
        assert booked[key] == pytest.approx(yuan), key


def test_run_stacked_city_pays_on_top_of_province(unstacked_res):
    sc = unstacked_res.scenario.override({"policy.rewards.stack_city_and_province": True})
    stacked = sq.run(sc, replications=1, seed=3, resolution=800)

    def rewards(res, payer, year):
        b = res.budget
        sel = b[b["line"].isin(TITLE_LINES) & (b["payer"] == payer) & (b["year"] == year)]
        return sel["yuan"].sum()

    years = range(sc.policy.rewards.province_start_year, sc.horizon.end_year + 1)
    assert all(rewards(unstacked_res, "city", y) == 0.0 for y in years)
    assert any(rewards(stacked, "province", y) > 0 for y in years)
    assert all(rewards(stacked, "city", y) > 0 for y in years if rewards(stacked, "province", y))
    expected, booked = expected_rewards(stacked, 0), booked_rewards(stacked, 0)
    for key, yuan in expected.items():
        assert booked[key] == pytest.approx(yuan), key


def test_the_fines_treasury_moves_the_quality_fines_between_payers_and_nothing_else(plan_res):
    """interpretation.quality_fines_treasury changes who receives the §4.4 fines, not what the
    firms do: the same seed gives the same firms, the same total, and the fines on the other
    payer; the environment bureau's discharge fines stay the city's."""
    city = sq.run(plan_res.scenario.override({"interpretation.quality_fines_treasury": "city"}),
                  replications=2, seed=3, resolution=800)
    assert plan_res.scenario.interpretation.quality_fines_treasury == "province"  # the default
    firms_only = [c for c in city.timeseries.columns if not c.startswith("spending_")]
    pd.testing.assert_frame_equal(plan_res.timeseries[firms_only], city.timeseries[firms_only])

    def yuan(res, payer, line):
        return res.budget.query("payer == @payer and line == @line")["yuan"].sum()

    fines = yuan(plan_res, "province", "fines_collected")
    assert fines < 0 and yuan(plan_res, "city", "fines_collected") == 0.0
    assert yuan(city, "city", "fines_collected") == pytest.approx(fines, rel=1e-12)
    assert yuan(city, "province", "fines_collected") == 0.0
    assert yuan(plan_res, "city", "discharge_fines") < 0
    assert yuan(city, "city", "discharge_fines") == yuan(plan_res, "city", "discharge_fines")
    assert city.budget["yuan"].sum() == pytest.approx(plan_res.budget["yuan"].sum(), rel=1e-12)
