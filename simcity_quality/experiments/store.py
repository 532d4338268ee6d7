"""The result store: a folder that a sweep fills as work completes, and that survives crashes.

::

    STORE/manifest.json        what was asked (scenario and its hash, design, seed, replications,
                               resolution), package and dependency versions, start and end times
    STORE/design.parquet       the design points (index ``point``)
    STORE/finals/part-*.parquet      one row per finished run: KPIs and budget totals
    STORE/timeseries/part-*.parquet  one row per run and month
    STORE/failures/part-*.parquet    runs that raised, with their error
    STORE/done/part-*.json     commit markers: a batch counts only once its marker exists

Every file is written to a temporary name and renamed, and a batch's marker is written last,
so a sweep killed at any moment (kill -9 included) leaves only complete, committed batches;
``--resume`` runs what no marker covers. Reading sorts by (point, replication), so a resumed
sweep reads exactly like an uninterrupted one.
"""

import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..errors import SimcityQualityError

FORMAT = "simcity_quality.result_store"
VERSION = 1
TABLES = ("finals", "timeseries", "failures")
_COMPARED = ("scenario_hash", "design_hash", "seed", "replications", "resolution",
             "timeseries", "uncertainty")
_DEFAULTS = {"uncertainty": "noise"}  # what a store written before the key was there holds


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions of Python, this package and its main dependencies."""
    out = {"python": platform.python_version()}
    for pkg in ("simcity_quality", "mesa", "numpy", "pandas", "scipy", "pyarrow", "pydantic",
                "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


class ResultStore:
    """A sweep's folder. Use :meth:`open` to create or resume one, :func:`load_results` to read."""

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, manifest: dict, design: pd.DataFrame,
             resume: bool) -> "ResultStore":
        """Create a new store, or resume a matching one; refuse anything else untouched."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise SimcityQualityError(f"{path}: the result store path exists and is not a "
                                      "folder; nothing was written.")
        existing = read_manifest(path) if (path / "manifest.json").exists() else None
        if existing is None and path.exists() and any(path.iterdir()):
            raise SimcityQualityError(
                f"{path}: this folder is not empty and has no manifest.json, so it is not a "
                "simcity_quality result store; refusing to write into it (nothing was "
                "changed). Choose an empty or new folder.")
        if existing is not None:
            if not resume:
                raise SimcityQualityError(
                    f"{path}: already holds a sweep (started {existing.get('started')}); pass "
                    "--resume (resume=True) to finish it, or choose another folder. Nothing "
                    "was changed.")
            diff = [k for k in _COMPARED
                    if existing.get(k, _DEFAULTS.get(k)) != manifest.get(k, _DEFAULTS.get(k))]
            if diff:
                detail = "; ".join(f"{k}: store has {existing.get(k, _DEFAULTS.get(k))!r}, "
                                   f"this sweep {manifest.get(k)!r}" for k in diff)
                raise SimcityQualityError(
                    f"{path}: cannot resume, the stored sweep differs from this one ({detail}). "
                    "Nothing was changed; use another folder for a different sweep.")
            store = cls(path, existing)
            store.manifest["resumed"] = [*existing.get("resumed", []), _now()]
            store.manifest["finished"] = None
            store._write_manifest()
            return store
        for sub in ("", *TABLES, "done"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        store = cls(path, {**manifest, "started": _now(), "finished": None})
        _atomic_parquet(design.reset_index(), path / "design.parquet")
        store._write_manifest()
        return store

    def _write_manifest(self) -> None:
        data = json.dumps(self.manifest, indent=2, sort_keys=True, default=str).encode()
        _atomic_write_bytes(self.path / "manifest.json", data)

    # -- writing ------------------------------------------------------------------------
    def completed(self) -> set[tuple[int, int]]:
        """(point, replication) of every committed run, finished or failed."""
        done = set()
        for marker in sorted((self.path / "done").glob("part-*.json")):
            try:
                runs = json.loads(marker.read_text())["runs"]
            except (json.JSONDecodeError, KeyError, OSError) as exc:
                raise SimcityQualityError(f"{marker}: unreadable commit marker ({exc}); the "
                                          "store is damaged.") from None
            done.update((int(p), int(r)) for p, r in runs)
        return done

    def write_batch(self, name: str, runs: list[tuple[int, int]], tables: dict) -> None:
        """Write one batch's tables, then its commit marker (last, so it commits the batch)."""
        for table in TABLES:
            df = tables.get(table)
            if df is not None and len(df):
                _atomic_parquet(df, self.path / table / f"part-{name}.parquet")
        marker = json.dumps({"runs": [list(r) for r in runs]}).encode()
        _atomic_write_bytes(self.path / "done" / f"part-{name}.json", marker)

    def finish(self, stats: dict) -> None:
        """Record the end time and counts."""
        self.manifest.update(stats)
        self.manifest["finished"] = _now()
        self._write_manifest()


def read_manifest(path: str | Path) -> dict:
    """A store's manifest, checked to be one of ours."""
    path = Path(path)
    file = path / "manifest.json"
    if not path.is_dir():
        raise SimcityQualityError(f"{path}: no such result store folder.")
    if not file.is_file():
        raise SimcityQualityError(f"{path}: not a simcity_quality result store (no "
                                  "manifest.json).")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SimcityQualityError(f"{file}: the manifest is not valid JSON ({exc}); the store "
                                  "is damaged or foreign. Nothing was changed.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SimcityQualityError(f"{file}: not a simcity_quality result store manifest "
                                  f"(expected format {FORMAT!r}). Nothing was changed.")
    if manifest.get("version") != VERSION:
        raise SimcityQualityError(f"{file}: store format version {manifest.get('version')!r}; "
                                  f"this version of simcity_quality reads version {VERSION}.")
    return manifest


class ExperimentResults:
    """A sweep read back as plain DataFrames keyed by (point, replication).

    ``design``, ``finals`` (one row per finished run) and ``failures`` are read at once; the
    much larger ``timeseries`` (one row per run and month) is read when first used.
    """

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest
        self.design = _read(self.path / "design.parquet").set_index("point")
        self._committed = {m.stem for m in (self.path / "done").glob("part-*.json")}
        self.finals = self._table("finals")
        self.failures = self._table("failures")
        self._timeseries = None

    @property
    def timeseries(self) -> pd.DataFrame:
        """One row per run and month (read from the store on first use)."""
        if self._timeseries is None:
            self._timeseries = self._table("timeseries")
        return self._timeseries

    def _table(self, table: str) -> pd.DataFrame:
        parts = [f for f in sorted((self.path / table).glob("part-*.parquet"))
                 if f.stem in self._committed]
        frames = [_read(f) for f in parts]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["point", "replication"])
        keys = ["point", "replication"] + (["step"] if "step" in df else [])
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    @property
    def uncertainty(self) -> str:
        """What the sweep's probabilities cover: ``"noise"`` or ``"parameters"`` (stores
        written before the choice existed hold ``"noise"``)."""
        return self.manifest.get("uncertainty", "noise")

    def scenario(self):
        """The swept scenario, rebuilt from the manifest."""
        from ..scenario import scenario_from_data

        return scenario_from_data(self.manifest["scenario"], self.manifest["scenario_source"])

    def describe_uncertainty(self) -> str:
        """What the probabilities cover, in words."""
        from ..results.uncertainty import describe_uncertainty

        drawn = None
        if self.uncertainty == "parameters":
            drawn = len([k for k in self.scenario().uncertain if k not in self.design.columns])
        return describe_uncertainty(self.uncertainty, drawn)

    def draws(self) -> pd.DataFrame:
        """Each run's drawn parameter values (one row per (point, replication) of ``finals``;
        no columns for a noise-only sweep): the parameter rule of
        :mod:`~simcity_quality.results.uncertainty`, recomputed from the manifest."""
        from ..results.uncertainty import parameter_draws

        runs = self.finals[["point", "replication"]]
        if self.uncertainty != "parameters" or runs.empty:
            return runs.copy()
        table = parameter_draws(self.scenario(), int(self.manifest["seed"]),
                                sorted(set(runs["replication"].astype(int))),
                                exclude=self.design.columns)
        return runs.join(table, on="replication")

    @property
    def expected_runs(self) -> int:
        """Runs the sweep asked for (points x replications)."""
        return int(self.manifest["points"]) * int(self.manifest["replications"])

    @property
    def missing_runs(self) -> int:
        """Runs not yet committed (a partial or interrupted sweep)."""
        return self.expected_runs - len(self.finals) - len(self.failures)

    def __repr__(self) -> str:
        m = self.manifest
        return (f"<ExperimentResults {self.path}: scenario {m.get('scenario_name')!r}, "
                f"{m.get('points')} points x {m.get('replications')} replications, seed "
                f"{m.get('seed')}, uncertainty {self.uncertainty!r}; {len(self.finals)} runs "
                f"finished, {len(self.failures)} failed, {self.missing_runs} missing>")

    def with_design(self) -> pd.DataFrame:
        """Finals joined with their design values (one row per run), and, for a sweep with
        ``uncertainty="parameters"``, the values each run drew for the other [uncertain]
        parameters: every run's inputs beside its outcomes."""
        out = self.design.join(self.finals.set_index("point"), how="right").reset_index()
        if self.uncertainty == "parameters" and len(out):
            drawn = self.draws().drop(columns=["point", "replication"])
            out = pd.concat([out, drawn.reset_index(drop=True)], axis=1)
        return out


def load_results(path: str | Path) -> ExperimentResults:
    """Read a result store: manifest, design, finals and failures (time series on first use)."""
    path = Path(path)
    return ExperimentResults(path, read_manifest(path))


def _read(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except FileNotFoundError:
        raise SimcityQualityError(f"{file}: missing from the result store; the store is "
                                  "damaged.") from None
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise SimcityQualityError(f"{file}: cannot be read as Parquet ({exc}); the store is "
                                  "damaged.") from None
