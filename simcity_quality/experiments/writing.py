"""Writing a result store: :class:`ResultStore` creates or resumes one under its lock, commits
batches, and records the end.

Creating: the folder and its lock first, then the manifest (from that moment the folder is a
store that ``--resume`` completes, whatever else a kill left out), then the subfolders and
``design.parquet``. Resuming: the store is checked (:func:`~.integrity.inspect_store`, every
checksum), and what cannot be used (damaged, foreign or duplicate batches, uncommitted parts,
temporary files) is moved to ``quarantine/TIME/``, so its runs are run again and nothing is
deleted. A batch is committed by its marker, written after its parts.
"""

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..errors import SimcityQualityError
from .integrity import StoreCheck, inspect_store
from .lock import Holder, StoreLock, refuse_if_locked
from .store import (
    DESIGN,
    MANIFEST,
    MARKERS,
    QUARANTINE,
    TABLES,
    VERSION,
    atomic_write,
    now,
    parquet_bytes,
    part_info,
    read_manifest,
    write_json,
)

# what must match for --resume to continue a stored sweep
COMPARED = ("scenario_hash", "design_hash", "seed", "replications", "resolution",
            "timeseries", "uncertainty")
DEFAULTS = {"uncertainty": "noise"}  # what a store written before the key was there holds
# what a store being created may already hold (a kill during creation, before the manifest)
_LAYOUT = (*TABLES, MARKERS, QUARANTINE)


class ResultStore:
    """A sweep's folder, open for writing under its lock. Use :meth:`open` (a context manager:
    the lock is released on leaving it) and :func:`~.reading.load_results` to read."""

    def __init__(self, path: Path, manifest: dict, lock: StoreLock):
        self.path = path
        self.manifest = manifest
        self.lock = lock
        self.moved: list[str] = []  # what resuming moved to quarantine

    @property
    def stale_lock(self) -> Holder | None:
        """The crashed sweep whose lock this one took over, if any."""
        return self.lock.stale

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, manifest: dict, design: pd.DataFrame, resume: bool,
             command: str = "") -> "ResultStore":
        """Create a new store, or resume a matching one; refuse anything else untouched."""
        path = Path(path)
        _refuse_foreign_folder(path)
        if (path / MANIFEST).exists():  # refusals come before the lock: the store is untouched
            refuse_if_locked(path)
            _check_resumable(path, read_manifest(path), manifest, resume)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SimcityQualityError(f"{path}: cannot create the result store here "
                                      f"({exc.strerror or exc}); nothing was written.") from None
        lock = StoreLock(path).acquire(command)
        try:
            if (path / MANIFEST).exists():
                store = cls._resume(path, read_manifest(path), manifest, design, resume, lock)
            else:
                _refuse_foreign_folder(path)  # again, under the lock
                store = cls._create(path, manifest, design, lock)
        except BaseException:
            lock.release()
            raise
        return store

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.lock.release()

    @classmethod
    def _create(cls, path: Path, manifest: dict, design: pd.DataFrame,
                lock: StoreLock) -> "ResultStore":
        data = parquet_bytes(design.reset_index())
        store = cls(path, {**manifest, "version": VERSION, "sweep_id": uuid.uuid4().hex,
                           "design_file": part_info(DESIGN, data, len(design)),
                           "started": now(), "finished": None}, lock)
        _writing(store._write_manifest)  # first: from now on --resume completes this store
        _writing(lambda: store._layout(data))
        return store

    @classmethod
    def _resume(cls, path: Path, existing: dict, manifest: dict, design: pd.DataFrame,
                resume: bool, lock: StoreLock) -> "ResultStore":
        check = _check_resumable(path, existing, manifest, resume)  # again, under the lock
        store = cls(path, existing, lock)
        data = parquet_bytes(design.reset_index())
        _writing(lambda: store._repair(check, data))
        store.manifest["resumed"] = [*existing.get("resumed", []), now()]
        store.manifest["finished"] = None
        store.manifest.pop("parts", None)  # listed again when the sweep finishes
        _writing(store._write_manifest)
        return store

    def _layout(self, design_bytes: bytes) -> None:
        """The subfolders and the design file, where missing (a creation cut short)."""
        for sub in (*TABLES, MARKERS):
            (self.path / sub).mkdir(exist_ok=True)
        if not (self.path / DESIGN).is_file():
            atomic_write(self.path / DESIGN, design_bytes, flush=True)

    def _repair(self, check: StoreCheck, design_bytes: bytes) -> None:
        """Move what cannot be used to quarantine (markers first, so nothing half-moved is
        still committed), then complete the layout; a damaged design file is written again
        from this sweep's design (its hash matched the manifest's)."""
        claimed = {p["file"] for b in check.batches for p in b.parts.values()}
        moving = sorted(check.bad_markers)
        moving += sorted({p.file for p in check.problems if p.file not in claimed
                          and p.file not in moving and p.file != MANIFEST})
        moving += [f for f in check.uncommitted if f not in moving]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        for rel in moving:
            source = self.path / rel
            if source.exists():
                target = self.path / QUARANTINE / stamp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)
                self.moved.append(rel)
        if any(p.file == DESIGN for p in check.problems):  # missing or moved: write anew
            self.manifest["design_file"] = part_info(DESIGN, design_bytes,
                                                     self.manifest["points"])
        self._layout(design_bytes)

    def _write_manifest(self) -> None:
        write_json(self.path / MANIFEST, self.manifest, flush=True)

    # -- writing ------------------------------------------------------------------------
    def completed(self) -> set[tuple[int, int]]:
        """(point, replication) of every run committed now, finished or failed."""
        check = inspect_store(self.path, self.manifest, ())
        return {run for b in check.batches for run in b.runs}

    def write_batch(self, name: str, runs: list[tuple[int, int]], tables: dict) -> None:
        """Write one batch's parts, then its commit marker (last, so it commits the batch)."""
        parts = {}
        for table in TABLES:
            df = tables.get(table)
            if df is not None and len(df):
                rel = f"{table}/part-{name}.parquet"
                data = parquet_bytes(df)
                atomic_write(self.path / rel, data)
                parts[table] = part_info(rel, data, len(df))
        marker = {"sweep_id": self.manifest["sweep_id"], "runs": [list(r) for r in runs],
                  "parts": parts}
        write_json(self.path / MARKERS / f"part-{name}.json", marker)

    def finish(self, stats: dict) -> None:
        """Record the end time, the counts and every committed part (rows and checksum)."""
        check = inspect_store(self.path, self.manifest, ())
        self.manifest.update(stats)
        self.manifest["parts"] = {b.marker: {"runs": len(b.runs), **b.parts}
                                  for b in check.batches}
        self.manifest["finished"] = now()
        self._write_manifest()


def _check_resumable(path: Path, existing: dict, manifest: dict, resume: bool) -> StoreCheck:
    """Refuse to continue a stored sweep that is of an older format or another sweep, or that
    holds runs when ``resume`` is not asked for; else the store's check (every checksum)."""
    if existing["version"] < VERSION:
        raise SimcityQualityError(
            f"{path}: written by an earlier version of simcity_quality (store format "
            f"{existing['version']}, without checksums); load_results still reads it, but "
            "it cannot be resumed. Run the sweep again into a new folder. Nothing was "
            "changed.")
    diff = [k for k in COMPARED
            if existing.get(k, DEFAULTS.get(k)) != manifest.get(k, DEFAULTS.get(k))]
    if diff:
        detail = "; ".join(f"{k}: store has {existing.get(k, DEFAULTS.get(k))!r}, this sweep "
                           f"{manifest.get(k)!r}" for k in diff)
        raise SimcityQualityError(
            f"{path}: cannot resume, the stored sweep differs from this one ({detail}). "
            "Nothing was changed; use another folder for a different sweep.")
    check = inspect_store(path, existing)
    if not resume and check.batches:
        raise SimcityQualityError(
            f"{path}: already holds this sweep ({check.committed_runs} of "
            f"{check.expected_runs} runs, started {existing.get('started')}); pass "
            "--resume (resume=True) to finish it, or choose another folder. Nothing was "
            "changed.")
    return check


def _writing(step) -> None:
    """Run a step that writes into the store; an OS error becomes one clear paragraph."""
    try:
        step()
    except OSError as exc:
        raise SimcityQualityError(
            f"{exc.filename or 'the result store'}: cannot be written ({exc.strerror or exc}); "
            "what the store held before is unchanged. Make the folder writable (or free "
            "space) and run the same command with --resume.") from None


def _refuse_foreign_folder(path: Path) -> None:
    """Refuse a path that is a file, or a non-empty folder that is neither a store nor what a
    kill during a store's creation leaves (the lock, temporary files, empty subfolders)."""
    if path.exists() and not path.is_dir():
        raise SimcityQualityError(f"{path}: the result store path exists and is not a "
                                  "folder; nothing was written.")
    if not path.is_dir() or (path / MANIFEST).exists():
        return
    for entry in path.iterdir():
        ours = (entry.name == "lock" or (entry.name.startswith(".") and entry.name.endswith(
            ".tmp")) or (entry.is_dir() and entry.name in _LAYOUT and not any(entry.iterdir())))
        if not ours:
            raise SimcityQualityError(
                f"{path}: this folder is not empty and has no {MANIFEST}, so it is not a "
                "simcity_quality result store; refusing to write into it (nothing was "
                "changed). Choose an empty or new folder.")
