"""The command line, a thin layer over the public API: ``simcity-quality --help``.

Every failure is one paragraph on stderr and exit 2, never a traceback: user errors
(:class:`SimcityQualityError`), files that cannot be read or written, a sweep that stopped
part-way (with the command that resumes it). An interruption (Ctrl-C) exits 130 saying what was
kept; a closed pipe (``| head``) ends quietly. Notes (:func:`~simcity_quality.errors.note`)
print as ``note:`` lines.
"""

import argparse
import logging
import math
import os
import shlex
import sys
from pathlib import Path

from ..errors import NOTES, SimcityQualityError

# a default output folder named after many scenarios is shortened past this many characters
_DEFAULT_NAME_LENGTH = 120


def _cmd_run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only
    from ..results import run
    from ..scenario import load_scenario
    from .report import format_text, write_report

    scenarios = [load_scenario(p) for p in args.scenario]  # validate all before running any
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise SimcityQualityError(f"scenario names must differ to be written side by side, "
                                  f"got {names}; set `name` in each file.")
    _check_sizes(scenarios, args)
    folder = _output_folder(args, names, "run")  # checked before anything runs
    results = []
    with folder:
        for sc in scenarios:
            res = run(sc, replications=args.replications, seed=args.seed,
                      resolution=args.resolution, progress=not args.quiet,
                      uncertainty=args.uncertainty)
            print(format_text(res))
            res.write_tables(folder, res.name)  # each scenario's tables as soon as it is done
            results.append(res)
        report = write_report(results, folder)
    print(f"Tables, chart and report written to {folder.path}/ ({report.name}, "
          "kpis_vs_targets.png)")
    return 0


def _cmd_compare(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only
    from ..results import compare
    from ..scenario import load_scenario
    from .report import format_comparison, write_report

    scenarios = [load_scenario(p) for p in args.scenario]  # validate all before running any
    _check_sizes(scenarios, args)
    folder = _output_folder(args, [sc.name for sc in scenarios], "compare")
    if args.briefing:  # refuse a bad path or a missing model description before running
        from .briefing import check_briefing_path, model_limits

        check_briefing_path(args.briefing)
        model_limits()
    comp = compare(scenarios, replications=args.replications, seed=args.seed,
                   resolution=args.resolution, progress=not args.quiet,
                   uncertainty=args.uncertainty)
    print(format_comparison(comp))
    with folder:
        comp.write_tables(folder)  # the tables first: whatever happens next, they are kept
        report = write_report(comp.results, folder, comparison=comp)
        if args.briefing:
            page = _write_briefing(comp, Path(args.briefing), folder)
    print(f"Tables, chart and report written to {folder.path}/ ({report.name}, "
          "differences.csv, kpis_vs_targets.png)")
    if args.briefing:
        print(f"Briefing written to {page}")
    return 0


def _write_briefing(comp, path: Path, folder) -> Path:
    """The briefing page; inside the results folder it is one of the folder's files (listed in
    its manifest, so a later comparison without a briefing removes it), elsewhere a file of
    its own."""
    from .briefing import briefing

    base = folder.path.resolve()
    if path.resolve().is_relative_to(base):
        return folder.file(path.resolve().relative_to(base), lambda tmp: briefing(comp, tmp))
    return briefing(comp, path)


def _check_sizes(scenarios, args) -> None:
    """Seed and number of simulated enterprises, checked before any run or any file."""
    from ..engine.resolution import check_resolution
    from ..results.replications import check_replications, check_seed

    check_replications(args.replications)
    check_seed(args.seed, "--seed")
    for sc in scenarios:
        check_resolution(args.resolution, sc, "--resolution")


def _output_folder(args, names: list[str], kind: str):
    """The results folder of ``run`` or ``compare``: ``-o``, or ``results/NAME_NAME``
    (scenario names are plain names, so the default stays inside ``results/``)."""
    from ..results.files import OutputFolder

    default = "_".join(names)
    if len(default) > _DEFAULT_NAME_LENGTH:
        default = f"{names[0]}_and_{len(names) - 1}_more"
    path = Path(args.out) if args.out else Path("results") / default
    return OutputFolder(path, kind, overwrite=args.overwrite,
                        about={"scenarios": names, "replications": args.replications,
                               "seed": args.seed, "resolution": args.resolution,
                               "command": args.command_line})


def _design_from_args(args, sc):
    from ..experiments import designs

    chosen = [x for x in ("grid", "lhs", "sobol", "halton", "points")
              if getattr(args, x) is not None]
    if len(chosen) != 1:
        raise SimcityQualityError("give exactly one design: --grid KEY=V1,V2 (repeatable), "
                                  "--lhs N, --sobol N, --halton N or --points FILE.")
    kind = chosen[0]
    if kind == "grid":
        levels = {}
        for spec in args.grid:
            key, sep, vals = spec.partition("=")
            if not sep or not vals:
                raise SimcityQualityError(f"--grid {spec!r}: expected KEY=V1,V2,...")
            levels[key] = [_number(v, f"--grid {key}") for v in vals.split(",")]
        return designs.grid(levels)
    if kind == "points":
        return designs.points(args.points)
    ranges = {}
    for spec in args.key or []:
        key, sep, rng = spec.partition("=")
        if sep:
            lo, colon, hi = rng.partition(":")
            if not colon:
                raise SimcityQualityError(f"--key {spec!r}: expected KEY or KEY=LOW:HIGH")
            ranges[key] = (_number(lo, f"--key {key}"), _number(hi, f"--key {key}"))
        else:
            ranges[key] = None
    if not ranges:
        ranges = {k: None for k in sc.uncertain}  # every declared uncertain parameter
    if not ranges:
        raise SimcityQualityError(f"{sc.source}: no --key given and the scenario declares no "
                                  "[uncertain] ranges to sample.")
    return getattr(designs, kind)(ranges, n=getattr(args, kind), seed=args.seed)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SimcityQualityError(f"{what}: {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise SimcityQualityError(f"{what}: {text!r} is not a finite number.")
    return int(value) if value.is_integer() and "." not in text else value


def _cmd_sweep(args) -> int:
    from ..experiments import sweep
    from ..results.replications import check_seed
    from ..scenario import load_scenario

    sc = load_scenario(args.scenario)
    check_seed(args.seed, "--seed")
    design = _design_from_args(args, sc)
    security = None
    if args.tls_ca or args.tls_cert or args.tls_key:
        if not (args.tls_ca and args.tls_cert and args.tls_key):
            raise SimcityQualityError("TLS needs all three of --tls-ca, --tls-cert, --tls-key.")
        from distributed.security import Security

        security = Security(tls_ca_file=args.tls_ca, tls_client_cert=args.tls_cert,
                            tls_client_key=args.tls_key, require_encryption=True)
    res = sweep(sc, design, replications=args.replications, seed=args.seed, store=args.out,
                executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                security=security, resolution=args.resolution, resume=args.resume,
                batch_size=args.batch_size, progress=not args.quiet,
                command=args.command_line, uncertainty=args.uncertainty)
    print(f"{len(res.finals)} runs finished, {len(res.failures)} failed, {res.missing_runs} "
          f"missing, in {res.path}/ (load with sq.load_results)")
    if len(res.failures) and not len(res.finals):  # nothing to analyse: a failure, not a sweep
        first = res.failures.iloc[0]
        raise SimcityQualityError(
            f"every run of the sweep failed ({len(res.failures)} runs, recorded in "
            f"{res.path}/failures/), for example point {first['point']} replication "
            f"{first['replication']}: {first['error']}")
    for _, row in res.failures.head(5).iterrows():
        print(f"  failed: point {row['point']} replication {row['replication']}: "
              f"{row['error']}", file=sys.stderr)
    return 0


def _cmd_attainment(args) -> int:
    from ..analysis import attainment
    from ..experiments import load_results

    res = load_results(args.store, skip_damaged=args.skip_damaged)
    table = attainment(res, level=args.level)
    cols = ["point", "target", "threshold", "mean", "n", "met", "probability", "low", "high"]
    print(f"Attainment in {res.path}/ ({len(res.finals)} runs; {res.missing_runs} missing): "
          f"probability of meeting each target, {args.level:.0%} Wilson interval; "
          f"{res.describe_uncertainty()}")
    print(table[cols].round(3).to_string(index=False))
    if args.out:
        from ..results.files import atomic

        atomic(table.to_csv, Path(args.out), index=False)
        print(f"written to {args.out}")
    return 0


def _cmd_check(args) -> int:
    from ..experiments import inspect_store

    check = inspect_store(args.store)
    print(check.summary())
    return 1 if check.problems else 0


def _targets_arg(text: str | None):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _search_args(args) -> dict:
    """The keyword arguments minimum-level and cheapest-mix share."""
    return dict(targets=_targets_arg(args.targets), probability=args.probability,
                confidence=args.confidence, payer=args.payer, cost=args.cost,
                replications=args.replications, max_replications=args.max_replications,
                seed=args.seed, resolution=args.resolution, executor=args.executor,
                workers=args.workers, progress=not args.quiet)


def _uncertainty_option(p) -> None:
    p.add_argument("--uncertainty", choices=["noise", "parameters"], default="noise",
                   help="what a probability covers: 'noise' (the [uncertain] parameters at "
                   "the scenario's values) or 'parameters' (each replication also draws them "
                   "from their priors; docs/uncertainty.md)")


def _cmd_minimum_level(args) -> int:
    from ..experiments import minimum_level

    res = minimum_level(args.scenario, args.lever, bounds=tuple(args.bounds),
                        grid_points=args.grid_points, bisections=args.bisections,
                        uncertainty=args.uncertainty, **_search_args(args))
    scan = _scan_text(res)
    print(f"Every level tried (low, high: one-sided {args.confidence:.0%} Wilson bounds; cost "
          f"over the horizon, {res.payer}, million yuan):")
    print(scan)
    print(res)
    return 0


def _scan_text(res) -> str:
    """minimum_level's scan as a plain table: levels as given, shares to three decimals,
    money in million yuan (gross and net of fines)."""
    header = ["level", "n", "met", "probability", "low", "high", "gross", "net"]
    rows = [[f"{r.level:,.6g}", str(int(r.n)), str(int(r.met)), f"{r.probability:.3f}",
             f"{r.low:.3f}", f"{r.high:.3f}", f"{r.gross / 1e6:,.2f}", f"{r.net / 1e6:,.2f}"]
            for r in res.scan.itertuples()]
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                     for row in [header, *rows])


def _levers_arg(specs: list[str]) -> dict[str, tuple[float, float]]:
    levers = {}
    for spec in specs:
        key, sep, rng = spec.partition("=")
        lo, colon, hi = rng.partition(":")
        if not (sep and colon and key):
            raise SimcityQualityError(f"--lever {spec!r}: expected KEY=LOW:HIGH, e.g. "
                                      "policy.subsidy.interest_subsidy_rate=0:1")
        levers[key] = (_number(lo, f"--lever {key}"), _number(hi, f"--lever {key}"))
    return levers


def _cmd_cheapest_mix(args) -> int:
    from ..experiments import cheapest_mix

    res = cheapest_mix(args.scenario, _levers_arg(args.lever), max_runs=args.max_runs,
                       grid_points=args.grid_points, tolerance=args.tolerance,
                       uncertainty=args.uncertainty, **_search_args(args))
    print(res)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        res.evaluations.to_csv(out, index=False)
        print(f"every mix tried written to {out}")
    return 0


def _cmd_decision_relevance(args) -> int:
    from ..experiments.relevance import decision_relevance

    res = decision_relevance(args.scenario, _levers_arg(args.lever), parameters=args.parameter,
                             parts=args.parts, max_runs=args.max_runs,
                             grid_points=args.grid_points, tolerance=args.tolerance,
                             **_search_args(args))
    print(res)
    print()
    print(_relevance_text(res))
    if args.out:
        from ..results.files import atomic

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("table", "parts", "regret"):  # each file whole or not at all
            atomic(getattr(res, name).to_csv, out / f"{name}.csv", index=False)
        print(f"the relevance table, the parts and the regret table written to {out}/ "
              "(table.csv, parts.csv, regret.csv)")
    return 0


def _relevance_text(res) -> str:
    """Each parameter's parts as a plain table: range, prior weight, the part's cheapest mix,
    its cost (M yuan) and the saving against the mix meeting the probability in every part."""
    levers = list(res.levers)
    header = ["parameter", "part", "range", "weight", *[k.split(".")[-1] for k in levers],
              "cost", "saving"]
    rows = []
    for _, d in res.parts.iterrows():
        has = isinstance(d["mix"], str)
        saving = d["saving"]
        rows.append([d["parameter"], str(d["part"]), f"{d['low']:.4g}-{d['high']:.4g}",
                     f"{d['weight']:.2f}",
                     *[f"{d[k]:,.6g}" if has else "none" for k in levers],
                     f"{d['cost'] / 1e6:,.2f}" if has else "-",
                     f"{saving / 1e6:,.2f}" if has and saving == saving else "-"])
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    return (f"Cheapest mix in each part ({res.payer} {res.basis} cost, M yuan; saving: against "
            "the mix meeting the probability in every part):\n"
            + "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                        for row in [header, *rows]))


def _cmd_levers(args) -> int:
    from ..experiments.audit import check_output, lever_audit

    if args.out:
        check_output(args.out)  # a bad file name is refused before anything runs
    extra = {} if args.multiple is None else {"multiple": args.multiple}
    audit = lever_audit(args.scenario, replications=args.replications, seed=args.seed,
                        resolution=args.resolution, levers=args.lever, progress=not args.quiet,
                        uncertainty=args.uncertainty, **extra)
    print(audit)
    if args.out:
        print(f"table written to {audit.write(args.out)}")
    return 0


def _cmd_calibrate(args) -> int:
    from ..calibration import calibrate, load_observed

    spec = load_observed(args.observed)  # checked in full before any run
    settings = {"replications": 20, "seed": 0, "resolution": None, **spec.settings}
    for key in ("replications", "seed", "resolution"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    res = calibrate(spec.scenario, spec.observed, spec.parameters,
                    resolution=settings["resolution"], replications=settings["replications"],
                    seed=settings["seed"],
                    executor=args.executor, workers=args.workers, progress=not args.quiet)
    flags = [f"--{k} {getattr(args, k)}" for k in ("replications", "seed", "resolution")
             if getattr(args, k) is not None]
    res.command = " ".join(["simcity-quality calibrate", args.observed, "-o", args.out, *flags])
    res.inputs = args.observed
    print(res.summary())
    path = res.write_scenario(args.out, name=spec.name)
    print(f"calibrated scenario written to {path}")
    return 0


def _cmd_validate(args) -> int:
    from ..scenario import load_scenario

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
    from ..targets import target_list

    cols = ["id", "section", "kpi", "comparison", "threshold", "year", "quantified_in_plan",
            "modelled", "wording_en"]
    rows = [[str(getattr(t, c)) for c in cols] for t in target_list()]
    print(_plain_table(cols, rows))
    return 0


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, the last one left-aligned (no pandas needed)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) if i < len(header) - 1 else cell
                               for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
                     for r in [header, *rows])


def _cmd_params(args) -> int:
    from ..scenario import parameter_table, parameters_markdown

    if args.markdown:
        print(parameters_markdown(), end="")
        return 0
    for row in parameter_table():
        src = row["source"] + (f" ({row['reason']})" if row["reason"] else "")
        print(f"{row['key']} [{row['unit']}]: {row['description']}. Source: {src}")
    return 0


def _cmd_report(args) -> int:
    from .notebook_reports import NOTEBOOKS, describe_failure, failed, run_reports

    manifest = run_reports(out=args.out, only=args.only, size=args.size,
                           notebooks_dir=args.notebooks or NOTEBOOKS, config=args.config,
                           timeout=args.timeout)
    names = manifest["last_run"]
    bad = failed(manifest, names)
    print(f"{len(names) - len(bad)} of {len(names)} notebooks ran; reports, HTML and "
          f"manifest.json in {args.out}/")
    for entry in bad:
        print(f"failed: {describe_failure(entry)}", file=sys.stderr)
    return 1 if bad else 0


def _size_options(p, replications: int | None = 10, quiet: bool = True) -> None:
    """``-r``, ``--seed``, ``--resolution`` (and ``-q``) as every running command takes them."""
    p.add_argument("-r", "--replications", type=int, default=replications,
                   **({"help": "default: the file's [settings], else 20"}
                      if replications is None else {}))
    p.add_argument("--seed", type=int, default=None if replications is None else 0)
    p.add_argument("--resolution", type=int, default=None,
                   help="simulated firms (default: the scenario's city.resolution, else all "
                   "city.firms); money and counts are for the whole city")
    p.add_argument("--firms", type=int, default=None, help=argparse.SUPPRESS)  # refused
    if quiet:
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_run_and_compare(sub) -> None:
    r = sub.add_parser("run", help="run scenarios; print targets and budget; write tables")
    r.add_argument("scenario", nargs="+", help="scenario TOML file(s)")
    _size_options(r)
    r.add_argument("-o", "--out", default=None, help="output folder (default results/NAME)")
    r.add_argument("--overwrite", action="store_true", help="write into a non-empty folder "
                   "that holds no results of `run` (the same kind is always replaced whole)")
    _uncertainty_option(r)
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="scenarios against the first, paired by replication")
    c.add_argument("scenario", nargs="+", help="scenario TOML files; the first is the reference")
    _size_options(c)
    c.add_argument("-o", "--out", default=None, help="output folder (default results/A_B)")
    c.add_argument("--overwrite", action="store_true", help="write into a non-empty folder "
                   "that holds no results of `compare` (the same kind is always replaced whole)")
    c.add_argument("--briefing", default=None, metavar="FILE.html",
                   help="also write a self-contained HTML briefing for a policy reader")
    _uncertainty_option(c)
    c.set_defaults(func=_cmd_compare)


def _add_sweep(sub) -> None:
    w = sub.add_parser("sweep", help="a design x replications into a resumable result store")
    w.add_argument("scenario")
    w.add_argument("--grid", action="append", metavar="KEY=V1,V2,...")
    w.add_argument("--lhs", type=int, metavar="N")
    w.add_argument("--sobol", type=int, metavar="N")
    w.add_argument("--halton", type=int, metavar="N")
    w.add_argument("--points", metavar="FILE", help="CSV of points, one column per key")
    w.add_argument("--key", action="append", metavar="KEY[=LOW:HIGH]",
                   help="sampled key (default range: the scenario's [uncertain])")
    _size_options(w)
    _executor_options(w, default="processes")
    w.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    w.add_argument("--tls-ca", default=None)
    w.add_argument("--tls-cert", default=None)
    w.add_argument("--tls-key", default=None)
    w.add_argument("--batch-size", type=int, default=None)
    w.add_argument("-o", "--out", required=True, help="result store folder")
    w.add_argument("--resume", action="store_true", help="finish the sweep in --out")
    _uncertainty_option(w)
    w.set_defaults(func=_cmd_sweep)
    a = sub.add_parser("attainment", help="chance of meeting each target, per design point of "
                       "a sweep's result store")
    a.add_argument("store")
    a.add_argument("--level", type=float, default=0.95)
    a.add_argument("-o", "--out", default=None, help="also write the table as CSV")
    a.add_argument("--skip-damaged", action="store_true",
                   help="read the intact batches of a damaged store (named in a note)")
    a.set_defaults(func=_cmd_attainment)
    ck = sub.add_parser("check", help="a result store's state: committed, missing, damaged or "
                        "foreign parts (exit 0 intact, 1 problems found, 2 not a store)")
    ck.add_argument("store")
    ck.set_defaults(func=_cmd_check)


def _executor_options(p, default: str = "serial") -> None:
    p.add_argument("--executor", choices=["serial", "processes", "dask"], default=default)
    p.add_argument("--workers", type=int, default=None)


def _search_options(p, probability: float, grid_points: int | None,
                    max_replications: int) -> None:
    """What minimum-level and cheapest-mix share: targets, the rule, who pays, sizes."""
    p.add_argument("--targets", default=None, help="comma-separated target ids or plan "
                   "sections, e.g. factory_pass_rate or §2.2.1c (default: all the plan "
                   "quantifies)")
    p.add_argument("--probability", type=float, default=probability,
                   help="required probability that the targets are met together")
    p.add_argument("--confidence", type=float, default=0.95, help="a level or mix qualifies "
                   "when the one-sided lower Wilson bound at this confidence reaches "
                   "--probability")
    p.add_argument("--payer", choices=["city", "province", "all"], default="city")
    p.add_argument("--cost", choices=["gross", "net"], default="gross",
                   help="gross spending, or net of the fines and penalties collected")
    p.add_argument("--grid-points", type=int, default=grid_points,
                   help="levels (per lever) of the first scan")
    _size_options(p, replications=20)
    p.add_argument("--max-replications", type=int, default=max_replications)
    _executor_options(p)


def _mix_search_options(x) -> None:
    """What cheapest-mix and decision-relevance share besides the search options."""
    x.add_argument("--lever", action="append", required=True, metavar="KEY=LOW:HIGH",
                   help="a lever and its bounds (repeat for each lever)")
    _search_options(x, probability=0.8, grid_points=None, max_replications=80)
    x.add_argument("--max-runs", type=int, default=2000, help="model runs allowed in all "
                   "(decision-relevance: per search)")
    x.add_argument("--tolerance", type=float, default=1 / 32,
                   help="refinement stops below this share of each lever's range")


def _add_searches(sub) -> None:
    m = sub.add_parser("minimum-level", help="lowest value of one lever that meets targets "
                       "with a given probability, and whether it is the cheapest",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    m.add_argument("scenario")
    m.add_argument("lever", help="dotted key, e.g. policy.rewards.city_provincial_award")
    m.add_argument("--bounds", nargs=2, type=float, required=True, metavar=("LOW", "HIGH"))
    _search_options(m, probability=0.9, grid_points=7, max_replications=160)
    m.add_argument("--bisections", type=int, default=3,
                   help="halvings of the bracket around the answer")
    _uncertainty_option(m)
    m.set_defaults(func=_cmd_minimum_level)
    x = sub.add_parser("cheapest-mix", help="cheapest mix of levers that meets targets with a "
                       "given probability (docs/experiments.md, Searches)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    x.add_argument("scenario")
    _mix_search_options(x)
    x.add_argument("-o", "--out", default=None, help="write every mix tried as CSV")
    _uncertainty_option(x)
    x.set_defaults(func=_cmd_cheapest_mix)
    d = sub.add_parser("decision-relevance", help="which uncertain parameter would change the "
                       "cheapest mix, and what knowing it is worth (docs/uncertainty.md)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d.add_argument("scenario")
    _mix_search_options(d)
    d.add_argument("--parameter", action="append", default=None, metavar="KEY",
                   help="an [uncertain] parameter to examine (repeatable; default: all)")
    d.add_argument("--parts", type=int, default=3, help="parts of each range (3: thirds)")
    d.add_argument("-o", "--out", default=None,
                   help="folder for table.csv, parts.csv and regret.csv")
    d.set_defaults(func=_cmd_decision_relevance)


def _add_levers(sub) -> None:
    lv = sub.add_parser("levers", help="the lever audit: each of the plan's levers off, at the "
                        "plan and high, on common random numbers; what each moves and costs")
    lv.add_argument("scenario", help="the plan, e.g. scenarios/the_plan.toml")
    _size_options(lv, replications=20)
    lv.add_argument("--lever", action="append", metavar="ID", help="audit only this lever "
                    "(repeatable; e.g. rewards, inspections, penalties; default: every lever)")
    lv.add_argument("--multiple", type=float, default=None, help="high is the plan's values "
                    "times this, capped at the schema's bounds (default 3)")
    lv.add_argument("-o", "--out", default=None, help="write the table as .csv or .parquet")
    _uncertainty_option(lv)
    lv.set_defaults(func=_cmd_levers)


def _add_calibrate(sub) -> None:
    cal = sub.add_parser("calibrate", help="fit parameters to observed statistics (a TOML "
                         "file, e.g. scenarios/observed/national_2009.toml); write a scenario")
    cal.add_argument("observed", help="observed-statistics TOML file")
    cal.add_argument("-o", "--out", required=True, help="calibrated scenario TOML to write")
    _size_options(cal, replications=None)
    _executor_options(cal)
    cal.set_defaults(func=_cmd_calibrate)


def _add_files_and_reports(sub) -> None:
    v = sub.add_parser("validate", help="check scenario files (exit 0, or 2 with the errors)")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=_cmd_validate)
    t = sub.add_parser("targets", help="the target table with its sections")
    t.set_defaults(func=_cmd_targets)
    pa = sub.add_parser("params", help="every scenario parameter with unit and source")
    pa.add_argument("--markdown", action="store_true",
                    help="print docs/parameters.md (the generated reference)")
    pa.set_defaults(func=_cmd_params)
    rp = sub.add_parser("report", help="run the notebooks with papermill into an output folder, "
                        "render HTML, write a manifest")
    rp.add_argument("-o", "--out", default="results/reports",
                    help="output folder, never inside notebooks/ (default results/reports)")
    rp.add_argument("--only", action="append", metavar="NAME",
                    help="run only this notebook (stem, e.g. 02_reward_levels); repeatable")
    rp.add_argument("--size", choices=["ci", "full"], default="full",
                    help="full: parameters from notebooks/reports.toml; ci: the notebooks' own")
    rp.add_argument("--notebooks", default=None, help="notebooks folder (default notebooks/)")
    rp.add_argument("--config", default=None,
                    help="full-size parameters (default reports.toml in the notebooks folder)")
    rp.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell")
    rp.set_defaults(func=_cmd_report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="simcity-quality",
                                description="Quality-city plan workbench (agent-based, Mesa).")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (_add_run_and_compare, _add_sweep, _add_searches, _add_levers, _add_calibrate,
                _add_files_and_reports):
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; every failure prints one clear paragraph and exits 2, without a traceback
    (130 when interrupted; a closed output pipe ends quietly)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["simcity-quality", *argv])
    if getattr(args, "firms", None) is not None:
        print("error: --firms is now --resolution: how many of the city's firms are simulated "
              "(money and counts are always for the whole city, whose size is city.firms in "
              "the scenario).", file=sys.stderr)
        return 2
    notes = logging.StreamHandler(sys.stderr)
    notes.setFormatter(logging.Formatter("note: %(message)s"))
    NOTES.addHandler(notes)
    NOTES.propagate = False
    try:
        return args.func(args)
    except SimcityQualityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`simcity-quality params | head`): stop writing, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as other command-line tools end
    except KeyboardInterrupt:
        print(f"interrupted.{_kept(args)}", file=sys.stderr)
        return 130
    except OSError as exc:  # a file this command could not read or write
        where = exc.filename or "a file"
        print(f"error: {where}: {exc.strerror or exc}; the command stopped (what it had "
              "written before is complete and kept). Check the path and its permissions, "
              "or free some space, and run it again.", file=sys.stderr)
        return 2
    finally:
        NOTES.removeHandler(notes)
        NOTES.propagate = True


def _kept(args) -> str:
    """What an interrupted sweep kept, and how to finish it."""
    if args.command != "sweep" or not (Path(args.out) / "manifest.json").is_file():
        return ""
    from ..experiments import inspect_store

    try:
        check = inspect_store(args.out)
    except SimcityQualityError:
        return ""
    again = args.command_line if args.resume else f"{args.command_line} --resume"
    return (f" {check.committed_runs} of {check.expected_runs} runs are committed in "
            f"{args.out}; `{again}` runs the rest.")


if __name__ == "__main__":
    sys.exit(main())
