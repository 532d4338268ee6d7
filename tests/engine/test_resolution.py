"""Money and counts for the whole city at any resolution (docs/ODD.md §7.13).

The plan run at a resolution of 1,000 agents and at the full 5,000 must describe the same city:
the same means and the same spread of cost by payer, titles won by tier, inspections, key
projects and every target, 20 replications each, two-sample tests with a Holm correction. On
the code before the resolution scheme the 1,000-firm run was a smaller city (quotas,
inspections and key projects scaled by 1,000 / 5,000), and its costs failed these tests by
far.
"""

import numpy as np
import pytest
from scipy import stats

import simcity_quality as sq
from simcity_quality.results import budget
from simcity_quality.results.statistics import holm
from simcity_quality.targets import target_list

REPLICATIONS = 20
ALPHA = 0.05
TITLES = ("provincial_award", "china_famous_brand", "national_award")


def _outcomes(res) -> dict[str, np.ndarray]:
    """Per replication: cost by payer, titles won by tier, inspections, key projects and
    every target KPI at the end of the horizon."""
    out = {f"cost {payer} ({basis})": budget.cost(res.budget, payer, basis).to_numpy()
           for payer in budget.COST_PAYERS for basis in ("net", "gross")}
    final = res.final.sort_values("replication")
    for column in ("city_inspections", "key_projects_subsidised",
                   *(f"titles_won_{t}" for t in TITLES),
                   *(t.kpi for t in target_list(res.scenario.targets))):
        out[column] = final[column].to_numpy(dtype=float)
    return out


def _no_famous_brand_2010_2012(res) -> np.ndarray:
    """Per replication: no China Famous Brand title won in 2010-2012."""
    ts = res.timeseries
    year = ts["date"].dt.year
    won = ts["titles_won_china_famous_brand"]
    by_rep = ts.assign(year=year, won=won).groupby("replication")
    before = by_rep.apply(lambda g: g.loc[g["year"] <= 2009, "won"].max(), include_groups=False)
    after = by_rep.apply(lambda g: g.loc[g["year"] <= 2012, "won"].max(), include_groups=False)
    return (after - before).to_numpy() == 0


@pytest.mark.slow
def test_a_lower_resolution_describes_the_same_city(plan):
    full = sq.run(plan, replications=REPLICATIONS, seed=1515)
    low = sq.run(plan, replications=REPLICATIONS, seed=1515, resolution=1000)
    assert full.resolution == plan.city.firms and low.resolution == 1000
    a, b = _outcomes(full), _outcomes(low)
    names, pvalues = [], []
    for name in a:
        if np.ptp(a[name]) == 0 and np.ptp(b[name]) == 0:
            assert a[name][0] == b[name][0], name  # a constant must be the same constant
            continue
        names += [f"mean {name}", f"sd {name}"]
        pvalues += [stats.ttest_ind(a[name], b[name], equal_var=False).pvalue,
                    stats.levene(a[name], b[name], center="median").pvalue]
    none_full, none_low = _no_famous_brand_2010_2012(full), _no_famous_brand_2010_2012(low)
    table = [[none_full.sum(), (~none_full).sum()], [none_low.sum(), (~none_low).sum()]]
    names.append("share of replications with no China Famous Brand title 2010-2012")
    pvalues.append(stats.fisher_exact(table).pvalue)
    adjusted = holm(pvalues)
    bad = [f"{n}: Holm p = {p:.4f}" for n, p in zip(names, adjusted, strict=True) if p < ALPHA]
    assert not bad, "resolution 1,000 and 5,000 differ:\n" + "\n".join(bad)
    # the tests have power: the city's and all payers' spending are known to 5 % at full
    # resolution (net costs are not: fines and construction penalties offset most spending)
    for payer in ("city", "all"):
        x = a[f"cost {payer} (gross)"]
        half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
        assert half <= 0.05 * abs(x.mean()), (payer, half, x.mean())
