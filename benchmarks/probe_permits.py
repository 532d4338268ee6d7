"""Probe: why permit refusal (§3.3) lowers key-industry international level (§2.2.1e).

Runs the plan with and without ``policy.permits.refuse_over_limit`` on the same seeds, every
firm of the city simulated. At the end of 2012 it compares the key-industry output, the part of
it on international standards, and the part also passing at
``interpretation.intl_advanced_pass_probability``. An observer counts, for the key industries,
the firms that build a treatment plant, the upgrades made by firms that have built one, and
the upgrades made by the others. The figures in docs/findings.md ("§3.3 permit refusal") come
from this script.

Usage: ``python benchmarks/probe_permits.py [--replications 8]`` (about 40 s a replication pair
on two shared cores).
"""

import argparse

import numpy as np

import simcity_quality as sq
from simcity_quality.categories import OPTIONS
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.engine.observer import Observer
from simcity_quality.engine.population import KEY_INDUSTRY_CODES

UPGRADE, ABATE = OPTIONS.index("upgrade"), OPTIONS.index("abate")


class KeyIndustryInvestments(Observer):
    """Upgrades in the key industries by firms that have built a treatment plant, and by the
    others, and how many key-industry firms built one. Slots are read at decision time; at
    full size every agent is one firm."""

    def __init__(self):
        self.abated = set()  # ids of key-industry firms that built a plant
        self.upgrades_abaters = self.upgrades_others = 0
        self.upgraded_output = 0.0  # output (M yuan) of the key-industry firms upgrading

    def after_decisions(self, model, decisions):
        pop, made = model.pop, decisions.invested
        key = np.isin(pop.sector[:made.size], KEY_INDUSTRY_CODES) & (made > 0)
        for slot in np.flatnonzero(key):
            bits, firm = int(made[slot]), int(pop.id[slot])
            if bits & (1 << (ABATE - 1)):
                self.abated.add(firm)
            if bits & (1 << (UPGRADE - 1)):
                self.upgraded_output += float(pop.output[slot] * pop.weight[slot])
                if firm in self.abated:
                    self.upgrades_abaters += 1
                else:
                    self.upgrades_others += 1


def one_run(sc, seed: int) -> dict[str, float]:
    obs = KeyIndustryInvestments()
    m = QualityCityModel(sc, seed=seed, observer=obs)
    first_entrant = int(m.pop.id[m.pop.alive].max()) + 1  # ids after the base year's firms
    m.run_model()
    p = m.pop
    entrant = p.id >= first_entrant
    key = p.alive & np.isin(p.sector, KEY_INDUSTRY_CODES)
    out = p.output * p.weight
    passing = p.pass_probability(sc.behaviour.counterfeit_pass_factor)
    at_level = p.intl_std & (passing >= sc.interpretation.intl_advanced_pass_probability)
    return {
        "key-industry output (M yuan)": out[key].sum(),
        "of it on international standards": out[key & p.intl_std].sum(),
        "of it at international advanced level": out[key & at_level].sum(),
        "§2.2.1e share": out[key & at_level].sum() / out[key].sum(),
        "key-industry capability (output-weighted)": np.average(p.capability[key],
                                                                weights=out[key]),
        "of it at the level, entrants since 2009": out[key & at_level & entrant].sum(),
        "key-industry output of entrants since 2009": out[key & entrant].sum(),
        "of it counterfeiting now": out[key & p.counterfeit].sum(),
        "of it on standards, counterfeiting now": out[key & p.intl_std & p.counterfeit].sum(),
        "of it on standards, honest, below the level": out[key & p.intl_std & ~p.counterfeit
                                                           & ~at_level].sum(),
        "key-industry cash (M yuan, output-weighted)": np.average(p.cash[key],
                                                                  weights=out[key]),
        "key-industry firms that built a plant": len(obs.abated),
        "key-industry upgrades by them": obs.upgrades_abaters,
        "key-industry upgrades by the others": obs.upgrades_others,
        "key-industry upgrades, all": obs.upgrades_abaters + obs.upgrades_others,
        "key-industry upgrades, output of the upgraders": obs.upgraded_output,
        "upgrades, all firms": m.counts["quality_upgrades"],
        "abatements, all firms": m.counts["abatements"],
        "closures over the limit": m.counts["closures_over_limit"],
        "bankruptcies": m.counts["bankruptcies"], "entrants": m.counts["entrants"],
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=int, default=8)
    args = ap.parse_args(argv)
    plan = sq.load_scenario("scenarios/the_plan.toml")
    off = plan.override({"policy.permits.refuse_over_limit": False})
    runs = {name: [one_run(sc, seed) for seed in range(args.replications)]
            for name, sc in (("refusal", plan), ("no refusal", off))}
    print(f"{args.replications} paired replications (seeds 0-{args.replications - 1}), every "
          "firm simulated; end of 2012; difference refusal - no refusal with its 95 % interval")
    for stat in runs["refusal"][0]:
        a = np.array([r[stat] for r in runs["refusal"]])
        b = np.array([r[stat] for r in runs["no refusal"]])
        d = a - b
        half = 1.96 * d.std(ddof=1) / np.sqrt(d.size)
        print(f"{stat:44s} {b.mean():12.4f} -> {a.mean():12.4f}   {d.mean():+11.4f} "
              f"({d.mean() - half:+.4f} to {d.mean() + half:+.4f})")


if __name__ == "__main__":
    main()
