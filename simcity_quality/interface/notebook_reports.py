"""Full-size reports: every notebook run with papermill into an output folder, rendered as HTML
beside it, and a manifest (JSON) of what was run.

The checked-in notebooks are small (CI size, checked by nbval); a full study runs the same
notebooks with the parameters of ``notebooks/reports.toml`` (one table per notebook stem, e.g.
``[02_reward_levels]`` with ``FIRMS = 5000``), never over the checked-in files::

    simcity-quality report --out results/reports [--only 02_reward_levels] [--size ci|full]

A notebook that fails is reported (which notebook, which cell, the error) and the run goes on
with the next; the reports already written are kept and the manifest marks each notebook ``ok``
or ``failed``. Running again with ``--only`` updates that notebook's entry and keeps the rest.
"""

import json
import os
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SimcityQualityError

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = PACKAGE_ROOT / "notebooks"
CONFIG = NOTEBOOKS / "reports.toml"
MANIFEST = "manifest.json"
SIZES = ("ci", "full")


def load_report_parameters(path: str | Path = CONFIG) -> dict[str, dict]:
    """The full-size parameters of each notebook: ``{stem: {NAME: value}}`` from a TOML file."""
    path = Path(path)
    if not path.is_file():
        raise SimcityQualityError(f"{path}: report parameter file not found; it holds one table "
                                  "per notebook, e.g. [02_reward_levels] with FIRMS = 5000.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SimcityQualityError(f"{path}: this is not valid TOML ({exc}). Expected one table "
                                  "per notebook, e.g. [02_reward_levels] with FIRMS = 5000.") \
            from None
    for stem, table in data.items():
        if not isinstance(table, dict):
            raise SimcityQualityError(
                f"{path}: key `{stem}`: expected a table of notebook parameters "
                f"([{stem}] with NAME = value lines), got {table!r}.")
        for name, value in table.items():
            if isinstance(value, dict):
                raise SimcityQualityError(
                    f"{path}: key `{stem}.{name}`: expected a value for the notebook's "
                    "`parameters` cell (number, string, boolean or list), got a table.")
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE_ROOT, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def provenance() -> dict:
    """Package version, git commit (None outside a git checkout) and whether the tree differs."""
    from .. import __version__

    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain") if commit else None
    return {"package_version": __version__, "git_commit": commit,
            "git_dirty": None if status is None else bool(status),
            "python": sys.version.split()[0]}


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _select(notebooks_dir: Path, only: list[str] | None) -> list[Path]:
    found = sorted(notebooks_dir.glob("*.ipynb"))
    if only:
        stems = {p.stem: p for p in found}
        wanted = [Path(n).stem for n in only]
        unknown = [n for n in wanted if n not in stems]
        if unknown:
            raise SimcityQualityError(
                f"{notebooks_dir}: no notebook named {', '.join(unknown)}; the notebooks are "
                f"{', '.join(stems) or '(none)'}.")
        found = [stems[n] for n in dict.fromkeys(wanted)]
    if not found:
        raise SimcityQualityError(f"{notebooks_dir}: no notebooks (*.ipynb) to run.")
    return found


def _parameters(notebooks: list[Path], size: str, config: Path) -> dict[str, dict]:
    """Each notebook's parameters for ``size``, checked against its `parameters` cell."""
    if size == "ci":
        return {nb.stem: {} for nb in notebooks}  # the checked-in defaults
    import papermill

    table = load_report_parameters(config)
    out = {}
    for nb in notebooks:
        if nb.stem not in table:
            raise SimcityQualityError(
                f"{config}: no table [{nb.stem}] for notebook {nb}; add one with the notebook's "
                f"full-size parameters (e.g. FIRMS = 5000), or run it with --size ci.")
        known = papermill.inspect_notebook(str(nb))
        unknown = sorted(set(table[nb.stem]) - set(known))
        if unknown:
            raise SimcityQualityError(
                f"{config}: table [{nb.stem}] sets {', '.join(unknown)}, which the `parameters` "
                f"cell of {nb} does not define (it defines "
                f"{', '.join(known) or 'nothing: tag one cell `parameters`'}).")
        out[nb.stem] = dict(table[nb.stem])
    return out


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _render_html(notebook: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def _failure(exc: Exception, written: Path) -> dict:
    """Where and why a notebook failed: the cell (its index in the written notebook, which
    papermill prefixes with an error banner) and the exception."""
    from papermill.exceptions import PapermillExecutionError

    err = {"cell_index": None, "execution_count": None, "cell_first_line": None,
           "ename": type(exc).__name__, "evalue": str(exc)}
    if isinstance(exc, PapermillExecutionError):
        err.update(execution_count=exc.exec_count, ename=exc.ename, evalue=exc.evalue)
    if written.is_file():
        import nbformat

        cells = nbformat.read(written, as_version=4).cells
        for i, cell in enumerate(cells):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                err.update(cell_index=i, execution_count=cell.get("execution_count"),
                           cell_first_line=first)
                break
    return err


def describe_failure(entry: dict) -> str:
    """One line naming the notebook, the failing cell and the error of a manifest entry."""
    err = entry["error"]
    where = (f"cell {err['cell_index']} of {entry['output']} ({err['cell_first_line']!r})"
             if err.get("cell_index") is not None else entry["output"])
    return f"{entry['notebook']} failed at {where}: {err['ename']}: {err['evalue']}"


def run_reports(out: str | Path = "results/reports", only: list[str] | None = None,
                size: str = "full", notebooks_dir: str | Path = NOTEBOOKS,
                config: str | Path | None = None, timeout: float | None = None,
                log=print) -> dict:
    """Run the notebooks of ``notebooks_dir`` with papermill into ``out``, render each as HTML
    there, and write ``out/manifest.json``; returns the manifest.

    ``size="full"`` takes each notebook's parameters from ``config`` (default
    ``reports.toml`` beside the notebooks; a notebook without a table is an error, checked before
    anything runs); ``size="ci"`` runs the checked-in defaults. ``only`` limits the run to the
    named notebooks (stems). Notebooks run with their folder as working directory, as under
    nbval. ``timeout`` limits each cell (seconds). A failing notebook does not stop the others:
    its entry has ``status = "failed"`` and the cell and error; ``last_run`` lists the
    notebooks of this call (entries of earlier calls into the same folder are kept).
    """
    if size not in SIZES:
        raise SimcityQualityError(f"size must be one of {', '.join(SIZES)}, got {size!r}.")
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise SimcityQualityError(f"{notebooks_dir}: the notebooks folder does not exist.")
    out = Path(out)
    if _inside(out, notebooks_dir):
        raise SimcityQualityError(
            f"{out}: the output folder is inside the notebooks folder {notebooks_dir}; reports "
            "must never be written over or beside the checked-in notebooks. Choose a folder "
            "under results/, e.g. results/reports.")
    if out.exists() and not out.is_dir():
        raise SimcityQualityError(f"{out}: the output path exists and is not a folder.")
    config = Path(config) if config is not None else notebooks_dir / "reports.toml"
    chosen = _select(notebooks_dir, only)
    params = _parameters(chosen, size, config)  # every check before the first run

    import papermill

    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest = {"notebooks": {}}
    if manifest_path.is_file():  # a partial run (--only) keeps the other notebooks' entries
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            log(f"warning: {manifest_path} was not valid JSON; starting a new manifest")
        manifest.setdefault("notebooks", {})
    prov = provenance()
    manifest.update(prov)
    manifest["config"] = str(config) if size == "full" else None
    manifest["last_run"] = [nb.stem for nb in chosen]
    engine_args = {"execution_timeout": timeout} if timeout else {}
    for nb in chosen:
        target = out / nb.name
        shown = ", ".join(f"{k}={v!r}" for k, v in params[nb.stem].items()) or "defaults"
        log(f"running {nb.stem} ({size}: {shown}) -> {target}")
        entry = {"notebook": nb.stem, "source": str(nb), "output": str(target), "html": None,
                 "size": size, "parameters": params[nb.stem], **prov, "started": _now(),
                 "finished": None, "seconds": None, "status": "running", "error": None}
        manifest["notebooks"][nb.stem] = entry
        _write_json(manifest_path, manifest)
        for stale in (target, target.with_suffix(".html")):  # never report an older run's file
            stale.unlink(missing_ok=True)
        t0 = time.perf_counter()
        try:
            papermill.execute_notebook(str(nb), str(target), parameters=params[nb.stem],
                                       kernel_name="python3", cwd=str(nb.parent),
                                       progress_bar=False, log_output=False, **engine_args)
            entry["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported in the manifest, not lost
            entry["status"] = "failed"
            entry["error"] = _failure(exc, target)
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        entry["finished"] = _now()
        if target.is_file():  # papermill writes the notebook, with the error, even on failure
            try:
                entry["html"] = str(_render_html(target))
            except Exception as exc:  # noqa: BLE001 - the notebook is still there
                entry["html_error"] = f"{type(exc).__name__}: {exc}"
        manifest["updated"] = entry["finished"]
        _write_json(manifest_path, manifest)
        log(describe_failure(entry) if entry["status"] == "failed"
            else f"  ok in {entry['seconds']:.0f} s, HTML {entry['html']}")
    return manifest


def failed(manifest: dict, names: list[str] | None = None) -> list[dict]:
    """Entries of ``manifest`` (optionally only ``names``) whose notebook failed."""
    return [e for n, e in manifest["notebooks"].items()
            if e["status"] != "ok" and (names is None or n in names)]
