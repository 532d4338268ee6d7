"""The command line, a thin layer over the public API: ``simcity-quality --help``."""

import argparse
import sys
from pathlib import Path

from .errors import SimcityQualityError


def _cmd_run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only
    from .report import format_text, write_report
    from .runner import run
    from .scenario import load_scenario

    scenarios = [load_scenario(p) for p in args.scenario]  # validate all before running any
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise SimcityQualityError(f"scenario names must differ to be written side by side, "
                                  f"got {names}; set `name` in each file.")
    out = _out_folder(args.out, names)
    results = []
    for sc in scenarios:
        res = run(sc, replications=args.replications, seed=args.seed, firms=args.firms)
        print(format_text(res))
        results.append(res)
    report = write_report(results, out)
    print(f"Tables, chart and report written to {out}/ ({report.name}, kpis_vs_targets.png)")
    return 0


def _cmd_compare(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only
    from .compare import compare
    from .report import format_comparison
    from .scenario import load_scenario

    scenarios = [load_scenario(p) for p in args.scenario]  # validate all before running any
    out = _out_folder(args.out, [sc.name for sc in scenarios])
    comp = compare(scenarios, replications=args.replications, seed=args.seed, firms=args.firms)
    print(format_comparison(comp))
    report = comp.write(out)
    print(f"Tables, chart and report written to {out}/ ({report.name}, differences.csv, "
          "kpis_vs_targets.png)")
    return 0


def _out_folder(out: str | None, names: list[str]) -> Path:
    path = Path(out) if out else Path("results") / "_".join(names)
    if path.exists() and not path.is_dir():
        raise SimcityQualityError(f"{path}: the output path exists and is not a folder.")
    return path


def _cmd_validate(args) -> int:
    from .scenario import load_scenario

    bad = 0
    for path in args.files:
        try:
            sc = load_scenario(path)
        except SimcityQualityError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
        else:
            print(f"ok: {path} (scenario {sc.name!r})")
    return 2 if bad else 0


def _cmd_targets(args) -> int:
    from .targets import TARGETS

    cols = ["id", "section", "kpi", "comparison", "threshold", "year", "quantified_in_plan",
            "modelled", "wording_en"]
    print(TARGETS[cols].to_string(index=False))
    return 0


def _cmd_params(args) -> int:
    from .scenario import parameter_table, parameters_markdown

    if args.markdown:
        print(parameters_markdown(), end="")
        return 0
    for row in parameter_table():
        src = row["source"] + (f" ({row['reason']})" if row["reason"] else "")
        print(f"{row['key']} [{row['unit']}]: {row['description']}. Source: {src}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="simcity-quality",
                                description="Quality-city plan workbench (agent-based, Mesa).")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run scenarios; print targets and budget; write tables")
    r.add_argument("scenario", nargs="+", help="scenario TOML file(s)")
    r.add_argument("-r", "--replications", type=int, default=10)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--firms", type=int, default=None, help="override city.firms")
    r.add_argument("-o", "--out", default=None, help="output folder (default results/NAME)")
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="scenarios against the first, paired by replication")
    c.add_argument("scenario", nargs="+", help="scenario TOML files; the first is the reference")
    c.add_argument("-r", "--replications", type=int, default=10)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--firms", type=int, default=None, help="override city.firms")
    c.add_argument("-o", "--out", default=None, help="output folder (default results/A_B)")
    c.set_defaults(func=_cmd_compare)
    v = sub.add_parser("validate", help="check scenario files (exit 0, or 2 with the errors)")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=_cmd_validate)
    t = sub.add_parser("targets", help="the target table with its sections")
    t.set_defaults(func=_cmd_targets)
    pa = sub.add_parser("params", help="every scenario parameter with unit and source")
    pa.add_argument("--markdown", action="store_true",
                    help="print docs/parameters.md (the generated reference)")
    pa.set_defaults(func=_cmd_params)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one clear paragraph and exit 2, without a traceback."""
    args = build_parser().parse_args(argv)
    if getattr(args, "replications", 1) is not None and getattr(args, "replications", 1) < 1:
        print("error: --replications must be at least 1", file=sys.stderr)
        return 2
    if getattr(args, "firms", None) is not None and args.firms < 1:
        print("error: --firms must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except SimcityQualityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
