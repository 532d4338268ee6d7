"""The policy panel without a browser: controls, re-runs on the same seed, what it displays."""

import re

import pytest

from simcity_quality.errors import ScenarioError
from simcity_quality.interface import report
from simcity_quality.interface.panel import (
    LEVERS,
    Lever,
    budget_by_payer,
    parse_levers,
    policy_panel,
)

REWARD = "policy.rewards.city_provincial_award"
INSPECTIONS = "policy.inspection.spot_checks_per_year"
SMALL = {"resolution": 300, "replications": 2, "seed": 11}  # quick: the logic, not the numbers


@pytest.fixture
def panel(plan):
    return policy_panel(plan, **SMALL)


def _cell(html_text: str, row: str, col: str) -> str:
    """The text of one displayed cell, found the way the browser test finds it."""
    m = re.search(rf'data-row="{re.escape(row)}" data-col="{re.escape(col)}"[^>]*>([^<]*)<',
                  html_text)
    assert m, f"no cell {row}/{col} in the displayed table"
    return m.group(1)


def test_controls_start_at_the_scenario_and_take_the_schema_bounds(panel, plan):
    assert set(panel.controls) == {lv.key for lv in LEVERS}
    for key, w in panel.controls.items():
        assert w.value == pytest.approx(plan.get(key)) if key != "policy.inspection.targeting" \
            else w.value == plan.get(key)
    rate = panel.controls["policy.subsidy.interest_subsidy_rate"]
    assert (rate.min, rate.max) == (0, 1)  # the schema's bounds for a share (§3.4)
    assert panel.controls[REWARD].min == 0  # rewards are non-negative amounts
    assert panel.controls[REWARD].max >= 2 * plan.get(REWARD)
    assert set(panel.controls["policy.inspection.targeting"].options) == {"uniform", "tiered"}
    assert all(not w.continuous_update for k, w in panel.controls.items()
               if k != "policy.inspection.targeting")  # re-run on release, not while dragging
    assert panel.runs == 1 and panel.results is panel.reference
    assert 'class="sq-kpi-table"' in panel.targets_html.value
    assert "over the model&#x27;s random noise only" in panel.targets_html.value  # the kind
    assert 'class="sq-budget-table"' in panel.budget_html.value
    assert bytes(panel.chart.value).startswith(b"\x89PNG")


def test_a_higher_city_reward_raises_the_citys_reward_spending(plan):
    # titles are rationed by the city's quota (awards.quota, at any resolution): each
    # replication's city wins provincial awards in 2010-2012, so a higher reward costs more
    panel = policy_panel(plan, resolution=2000, replications=3, seed=11)
    before = panel.budget_table()
    shown_before = _cell(panel.budget_html.value, "city", "rewards")
    panel.controls[REWARD].value = panel.controls[REWARD].max
    after = panel.budget_table()
    assert panel.runs == 2 and panel.error is None
    assert after.loc["city", "rewards"] > before.loc["city", "rewards"]
    assert _cell(panel.budget_html.value, "city", "rewards") != shown_before
    assert "Updated in" in panel.status.value


def test_more_inspections_change_the_displayed_targets_and_cost_more(panel):
    shown_before = panel.targets_html.value
    panel.controls[INSPECTIONS].value = panel.controls[INSPECTIONS].max
    assert panel.targets_html.value != shown_before
    changes = panel.target_table()["change"].dropna()
    assert (changes != 0).any()

    def inspection_cost(res):
        b = res.budget
        return b.loc[b["line"] == "inspection_cost", "yuan"].sum()

    assert inspection_cost(panel.results) > inspection_cost(panel.reference)
    shown = _cell(panel.targets_html.value, "factory_pass_rate", "value")
    assert shown == f"{panel.target_table().loc['factory_pass_rate', 'value']:.3f}"


def test_moving_back_reproduces_the_first_run_exactly(panel):
    """Same seed on every run: returning to the start gives the start's numbers, not new noise."""
    start_table = panel.targets_html.value
    panel.controls[INSPECTIONS].value = panel.controls[INSPECTIONS].max
    panel.controls["policy.inspection.targeting"].value = "uniform"
    assert panel.targets_html.value != start_table
    panel.controls[INSPECTIONS].value = int(panel.scenario.get(INSPECTIONS))
    panel.controls["policy.inspection.targeting"].value = panel.scenario.get(
        "policy.inspection.targeting")
    assert panel.overrides() == {}
    assert panel.targets_html.value == start_table
    assert (panel.target_table()["change"].dropna() == 0).all()
    assert panel.results.final.equals(panel.reference.final)


def test_an_unchanged_lever_does_not_rerun(panel):
    panel.update()
    panel.controls[REWARD].value = panel.controls[REWARD].value  # no change event at all
    assert panel.runs == 1


def test_a_bad_override_shows_in_the_panel_not_as_a_traceback(panel):
    shown = panel.targets_html.value
    panel.extra.value = "policy.fees.fee_waiver_share = 3"
    assert panel.error is not None and panel.runs == 1
    assert "sq-error" in panel.status.value
    assert "policy.fees.fee_waiver_share" in panel.status.value
    assert "between 0 and 1" in panel.status.value
    assert panel.targets_html.value == shown  # the last good run stays on screen
    panel.extra.value = "policy.fees.fee_wavier_share = 0.3"
    assert "did you mean `policy.fees.fee_waiver_share`" in panel.status.value
    panel.extra.value = ""  # put right: the message goes, nothing to re-run
    assert panel.error is None and "sq-error" not in panel.status.value and panel.runs == 1


def test_the_free_field_applies_any_lever(panel):
    panel.extra.value = "policy.fees.fee_waiver_share = 1.0; policy.rewards.city_provincial_award" \
                        " = 150000"
    assert panel.error is None and panel.runs == 2
    assert panel.overrides()["policy.fees.fee_waiver_share"] == 1.0
    b = panel.results.budget
    fee_now = b.loc[b["line"] == "fee_waiver", "yuan"].sum()
    b0 = panel.reference.budget
    assert fee_now > b0.loc[b0["line"] == "fee_waiver", "yuan"].sum()  # the plan waives half


def test_parse_levers_reads_toml_values_and_rejects_malformed_pairs():
    assert parse_levers("a.b = 1; c.d = true\ne.f = \"tiered\"\n") == {
        "a.b": 1, "c.d": True, "e.f": "tiered"}
    assert parse_levers("  ") == {}
    for bad in ("policy.fees.fee_waiver_share 0.3", "= 3", "policy.x =", "policy.x = tiered"):
        with pytest.raises(ScenarioError, match="more levers.*expected `key = value`"):
            parse_levers(bad)


def test_levers_that_cannot_be_a_control_are_refused_clearly(plan):
    with pytest.raises(ScenarioError, match="policy.rewards.nope.*no such scenario parameter"):
        policy_panel(plan, levers=(Lever("policy.rewards.nope", "x", 1, 10),), **SMALL)
    with pytest.raises(ScenarioError, match="fine_yuan.*no upper bound.*upper"):
        policy_panel(plan, levers=(Lever("policy.inspection.fine_yuan", "fine", 1000),), **SMALL)
    with pytest.raises(ScenarioError, match="size_shares.*single-valued"):
        policy_panel(plan, levers=(Lever("city.size_shares", "sizes", 0.1),), **SMALL)


def test_budget_by_payer_adds_up_to_the_ledger(panel):
    table = budget_by_payer(panel.results)
    parts = table[["rewards", "other_spending", "revenue"]].sum(axis=1)
    assert (parts - table["net"]).abs().max() < 0.02  # rounding to 0.01 in each cell
    assert table.loc["total", "net"] == pytest.approx(
        table.loc["city", "net"] + table.loc["province", "net"], abs=0.02)
    ledger = report.budget_table(panel.results)  # the report's own line-by-payer table
    assert table.loc["total", "net"] == pytest.approx(ledger.loc["total", "total"], abs=0.02)
    assert table.loc["city", "revenue"] <= 0 and table.loc["province", "other_spending"] == 0
