"""The answers the library gives for the plan, at a size two cores can afford.

Prints Markdown for docs/findings.md: attainment of every target (plan and baseline), the cost
to each payer, the lowest city reward for a provincial-level title at which the product-quality
targets (§2.2.1b-d) are met with 90 % probability (or why none is), and a Morris screening of
the declared uncertain parameters. Usage:
``python benchmarks/findings.py [--resolution 2000] [--replications 50] [--trajectories 8]``.
"""

import argparse
from pathlib import Path

import simcity_quality as sq
from simcity_quality import analysis as an

SCEN = Path(__file__).resolve().parents[1] / "scenarios"
PRODUCT = ["intl_standard_share", "factory_pass_rate", "spot_check_pass_rate"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--resolution", type=int, default=2000)
    ap.add_argument("--replications", type=int, default=50)
    ap.add_argument("--trajectories", type=int, default=8)
    ap.add_argument("--seed", type=int, default=2012)
    args = ap.parse_args()
    base, plan = sq.load_scenario(SCEN / "baseline.toml"), sq.load_scenario(SCEN / "the_plan.toml")
    kw = dict(seed=args.seed, resolution=args.resolution)
    print(f"Resolution: {args.resolution:,} simulated enterprises (money and counts for the "
          "whole city), "
          f"{args.replications} replications, seed {args.seed}.\n")

    comp = sq.compare([base, plan], replications=args.replications, **kw)
    att = an.attainment(comp)
    wide = att.pivot(index="target", columns="scenario", values=["probability", "low", "high"])
    print("## Attainment at the end of 2012 (probability met, 95 % Wilson interval)\n")
    print("| target | baseline | the plan |\n|---|---|---|")
    for t in dict.fromkeys(att["target"]):
        cells = [f"{wide.loc[t, ('probability', s)]:.2f} ({wide.loc[t, ('low', s)]:.2f}-"
                 f"{wide.loc[t, ('high', s)]:.2f})" for s in ("baseline", "the_plan")]
        print(f"| {t} | {cells[0]} | {cells[1]} |")

    print("\n## Cost of the plan, 2009-2012 cumulative (million yuan; spending +, revenue -)\n")
    diff = an.budget_difference(comp.results[1], comp.results[0]).query(
        "year == 2012 and line == 'total'")
    print("| payer | the plan | baseline | plan minus baseline (95 % interval) |")
    print("|---|---|---|---|")
    for _, r in diff.iterrows():
        print(f"| {r.payer} | {r.reform / 1e6:.2f} | {r.baseline / 1e6:.2f} | "
              f"{r.difference / 1e6:.2f} ({r.low / 1e6:.2f} to {r.high / 1e6:.2f}) |")

    print("\n## Lowest city reward for a provincial-level title (§4.2) meeting §2.2.1b-d "
          "with 90 % probability\n")
    lvl = sq.minimum_level(plan, "policy.rewards.city_provincial_award", targets=PRODUCT,
                           probability=0.9, bounds=(0, 500_000), grid_points=5,
                           replications=20, max_replications=40, **kw)
    print("```\n" + lvl.scan.round(3).to_string(index=False) + "\n```")
    print(f"\nAnswer: {'no level' if lvl.level is None else f'{lvl.level:,.0f} yuan'}: "
          f"{lvl.reason}.")
    per_target = an.attainment(sq.run(plan.override(
        {"policy.rewards.city_provincial_award": 500_000}), replications=20, **kw))
    print("\nAt 500,000 yuan, per product target: " + "; ".join(
        f"{r.target} {r.probability:.2f}" for r in per_target.itertuples()
        if r.target in PRODUCT))

    print("\n## Morris screening of the uncertain parameters (the plan)\n")
    outputs = ["factory_pass_rate", "spot_check_pass_rate", "construction_acceptance_rate",
               "cod_reduction"]
    mor = sq.morris(plan, outputs, trajectories=args.trajectories, replications=3,
                    executor="processes", **kw)
    for out in outputs:
        t = mor[mor["output"] == out].head(4)
        noise = t["noise_sd"].iloc[0]
        tops = ", ".join(f"{r.parameter} ({r.mu_star:.3f})" for r in t.itertuples())
        print(f"- {out} (noise sd of a 3-replication mean {noise:.3f}): {tops}")


if __name__ == "__main__":
    main()
