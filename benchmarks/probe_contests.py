"""The probe behind the findings' readings of the title contests and permit refusal.

docs/findings.md explains the lever audit's rows for the §4.2 rewards (under both rules firms
judge their chance of a title by, ``behaviour.title_belief``) and for §3.3 permit refusal
through the mechanisms (docs/ODD.md §7.7, §7.17). This script prints the counts those readings
quote: per setting, the means over the first ``--replications`` of the audit's own
replications (``QualityCityModel(scenario, seed=SeedSequence(seed, spawn_key=(r,)))``, which is
how ``sq.run`` seeds replication r), every firm of the city simulated, over 2009-2012.

Usage: ``python benchmarks/probe_contests.py [--replications 5] [--seed 0]``
"""

import argparse
from pathlib import Path

import numpy as np

import simcity_quality as sq
from simcity_quality.categories import TIERS
from simcity_quality.scenario.plan_levers import PLAN_LEVERS

ROOT = Path(__file__).resolve().parents[1]
TITLE_COUNTS = ("brand_applications", "title_recommendations", "titles_won_provincial_award",
                "titles_won_china_famous_brand", "titles_won_national_award",
                "titles_withdrawn", "titles_lapsed", "title_contenders", "contender_upgrades",
                "contender_intl_adoptions", "quality_upgrades", "intl_standard_share",
                "factory_pass_rate", "spot_check_pass_rate")
PERMIT_COUNTS = ("cod_reduction", "pollution_compliance_rate", "deadline_orders",
                 "closures_over_limit", "permits_refused", "cod_cut_abatement",
                 "cod_cut_closures", "cod_cut_trend", "abatements")


def lever(lever_id):
    """The registry entry of one of the plan's levers."""
    return next(lv for lv in PLAN_LEVERS if lv.id == lever_id)


def runs(scenario, replications: int, seed: int):
    """Final records and models of the first ``replications`` replications."""
    out = []
    for r in range(replications):
        model = sq.QualityCityModel(scenario,
                                    seed=np.random.SeedSequence(seed, spawn_key=(r,)))
        model.run_model()
        out.append(model)
    return out


def mean_final(models, columns) -> dict:
    """Each column's mean final value over the runs."""
    return {c: float(np.mean([m.current[c] for m in models])) for c in columns}


def show(label: str, values: dict) -> None:
    print(f"  {label}: " + ", ".join(f"{k} {v:,.3f}" for k, v in values.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    plan = sq.load_scenario(ROOT / "scenarios" / "the_plan.toml")
    rewards = lever("rewards")
    for rule in ("own_score", "city_rate"):
        ruled = plan.override({"behaviour.title_belief": rule}, name=plan.name)
        print(f"§4.2 rewards, title_belief = {rule}")
        for setting in ("off", "plan", "high"):
            sc = ruled.override(rewards.settings(ruled)[setting], name=plan.name)
            models = runs(sc, args.replications, args.seed)
            show(setting, mean_final(models, TITLE_COUNTS))
            if setting == "plan":
                cut = models[0].title_cutoffs
                print("  cut-offs: " + ", ".join(f"{t} {c:.3f}" for t, c in cut.items()))
    permits = lever("permits")
    print("§3.3 permit refusal")
    for setting in ("off", "plan"):
        sc = plan.override(permits.settings(plan)[setting], name=plan.name)
        show(setting, mean_final(runs(sc, args.replications, args.seed), PERMIT_COUNTS))
    print(f"tiers: {', '.join(TIERS[1:])}")


if __name__ == "__main__":
    main()
