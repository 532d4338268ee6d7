"""The one definition of cost (results/budget.py) against what each former aggregation returned.

Before the layering (issue 13) the budget was summed in six places, tied by an unwritten
``"payer:line"`` contract. Each ``_former_*`` function below is that code as it stood
(commit 8e3d485: ``Results.budget_by_payer``, ``compare.budget_totals``, the sweep worker,
``analysis.budget._with_totals``, ``panel.budget_by_payer`` and notebook 02's
``titles_and_cost``); every caller now goes through ``line_totals``, and on a fixed run each
gives what it gave before.
"""

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.analysis.budget import budget_summary
from simcity_quality.engine.ledger import REVENUE_LINES
from simcity_quality.experiments.worker import run_batch
from simcity_quality.interface.panel import budget_by_payer
from simcity_quality.results import budget
from simcity_quality.results.compare import budget_totals


@pytest.fixture(scope="module")
def run(plan):
    return sq.run(plan, replications=3, seed=11, resolution=500)


def _former_results_budget_by_payer(res):
    per_rep = res.budget.groupby(["replication", "payer", "line"])["yuan"].sum()
    return per_rep.groupby(["payer", "line"]).mean().unstack("payer").fillna(0.0)


def _former_compare_budget_totals(res):
    b = res.budget
    lines = b.pivot_table(index="replication", columns=["payer", "line"], values="yuan",
                          aggfunc="sum")
    lines.columns = [f"{p}:{ln}" for p, ln in lines.columns]
    payers = b.groupby(["replication", "payer"])["yuan"].sum().unstack("payer")
    payers.columns = [f"{p}:total" for p in payers.columns]
    out = pd.concat([lines, payers], axis=1)
    out["all:total"] = b.groupby("replication")["yuan"].sum()
    return out


def _former_worker_row(one_replication_budget):
    totals = one_replication_budget.groupby(["payer", "line"])["yuan"].sum()
    row = {f"{p}:{ln}": v for (p, ln), v in totals.items()}
    row.update({f"{p}:total": v for p, v in totals.groupby(level=0).sum().items()})
    row["all:total"] = float(totals.sum())
    return row


def _former_with_totals(b):
    lines = b[["replication", "year", "payer", "line", "yuan"]]
    per_payer = lines.groupby(["replication", "year", "payer"], as_index=False)["yuan"].sum()
    per_payer["line"] = "total"
    everyone = lines.groupby(["replication", "year"], as_index=False)["yuan"].sum()
    everyone["payer"], everyone["line"] = "all", "total"
    return pd.concat([lines, per_payer, everyone], ignore_index=True)


def _former_panel_budget_by_payer(res):
    b = res.budget
    kind = np.where(b["line"].isin(REVENUE_LINES), "revenue",
                    np.where(b["line"].str.startswith("reward_"), "rewards", "other_spending"))
    per_rep = b.assign(kind=kind).groupby(["replication", "payer", "kind"])["yuan"].sum()
    table = per_rep.groupby(["payer", "kind"]).mean().unstack("kind").fillna(0.0) / 1e6
    table = table.reindex(columns=["rewards", "other_spending", "revenue"], fill_value=0.0)
    table = table.reindex(["city", "province"], fill_value=0.0)
    table["net"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    table.index.name, table.columns.name = "payer", None
    return table.round(2)


def _former_title_rewards(res):
    per_rep = res.budget.groupby(["replication", "payer", "line"])["yuan"].sum().unstack(
        ["payer", "line"], fill_value=0.0)
    reward_lines = [c for c in per_rep.columns if c[1].startswith("reward_")
                    and c[1] not in ("reward_excellent_works", "reward_service_demonstration")]
    return per_rep[reward_lines].T.groupby(level="payer").sum().T


def _close(a, b):
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-6,
                                  check_names=False, check_dtype=False)


def test_results_budget_by_payer_is_unchanged(run):
    _close(run.budget_by_payer(), _former_results_budget_by_payer(run))


def test_comparison_columns_are_unchanged(run):
    new, old = budget_totals(run), _former_compare_budget_totals(run)
    assert list(new.columns) == list(old.columns)  # the order the comparison prints
    _close(new, old)


def test_sweep_finals_are_unchanged(plan, run):
    b = run_batch(plan.file_data(), plan.source, [(0, r, {}) for r in range(3)], 11, 500, False)
    finals = b["finals"].set_index("replication")
    for r in range(3):
        old = _former_worker_row(run.budget[run.budget["replication"] == r])
        for col, value in old.items():
            assert finals.loc[r, col] == pytest.approx(value, rel=1e-12, abs=1e-6), col
        new_cols = [c for c in finals.columns if ":" in c]
        # the columns sweeps always had, in their order, then gross and revenue per payer
        assert new_cols[:len(old)] == list(old)
        added = [f"{p}:{basis}" for basis in ("gross", "revenue")
                 for p in ("city", "province", "all")]
        assert sorted(new_cols[len(old):]) == sorted(added)
        for p in ("city", "province", "all"):
            mine = run.budget[run.budget["replication"] == r]
            if p != "all":
                mine = mine[mine["payer"] == p]
            revenue = mine.loc[mine["line"].isin(REVENUE_LINES), "yuan"].sum()
            assert finals.loc[r, f"{p}:revenue"] == pytest.approx(revenue, abs=1e-6)
            assert revenue < 0 if p != "province" else revenue <= 0
            assert finals.loc[r, f"{p}:gross"] == pytest.approx(
                finals.loc[r, f"{p}:total"] - revenue, rel=1e-12, abs=1e-6)


def test_yearly_totals_are_unchanged(run):
    keys = ["replication", "year", "payer", "line"]
    new = budget.line_totals(run.budget, by=("replication", "year"))
    old = _former_with_totals(run.budget)
    merged = new.merge(old, on=keys, how="outer", suffixes=("_new", "_old"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert np.allclose(merged["yuan_new"], merged["yuan_old"], rtol=1e-12, atol=1e-6)
    assert len(budget_summary(run)) == len(old.groupby(["year", "payer", "line"]))


def test_panel_budget_is_unchanged(run):
    _close(budget_by_payer(run), _former_panel_budget_by_payer(run))


def test_title_rewards_are_unchanged(run):
    title_lines = {"reward_provincial_award", "reward_china_famous_brand",
                   "reward_national_award"}
    t = budget.line_totals(run.budget, group=dict.fromkeys(title_lines, "title_rewards"),
                           bases=())
    new = t[t["line"] == "title_rewards"].pivot(index="replication", columns="payer",
                                                values="yuan")
    _close(new, _former_title_rewards(run))


def test_gross_revenue_and_net_add_up(run):
    for payer in budget.COST_PAYERS:
        gross = budget.cost(run.budget, payer, "gross")
        revenue = budget.cost(run.budget, payer, "revenue")
        net = budget.cost(run.budget, payer, "net")
        assert np.allclose(gross + revenue, net, rtol=1e-12, atol=1e-6)
        assert (revenue <= 0).all() and (gross >= 0).all()
    city_fines = run.budget.query("payer == 'city' and line in @REVENUE_LINES")
    assert budget.cost(run.budget, "city", "revenue").sum() == pytest.approx(
        city_fines["yuan"].sum())
    both = budget.cost(run.budget, "city", "net") + budget.cost(run.budget, "province", "net")
    assert np.allclose(budget.cost(run.budget, "all", "net"), both, rtol=1e-12)


def test_unknown_payer_or_basis_is_refused(run):
    with pytest.raises(ValueError, match="expected one of"):
        budget.cost(run.budget, "county")
    with pytest.raises(ValueError, match="expected one of"):
        budget.cost(run.budget, "city", "cash")
