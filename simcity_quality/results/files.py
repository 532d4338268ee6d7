"""Writing results: tables (Parquet and CSV side by side, each written whole or not at all) and
results folders that know what they hold.

A results folder (what ``run`` and ``compare`` write, :class:`OutputFolder`) carries
``manifest.json``, which lists every file written into it. Writing the same kind of result
into it again replaces it whole: the files the old manifest lists that the new result does not
write are removed, so nothing stale stays; files it does not list (a user's notes) are never
touched. A non-empty folder of another kind, or without a manifest, is written into only with
``overwrite=True``; a sweep's result store never. Every path is checked to stay inside the
folder, so no name can write elsewhere.
"""

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SimcityQualityError

FORMAT = "simcity_quality.results_folder"
VERSION = 1
MANIFEST = "manifest.json"
# a sweep's result store (simcity_quality.experiments.store) is written here too: never mixed
STORE_FORMAT = "simcity_quality.result_store"


def atomic(writer: Callable, path: Path, **kwargs) -> None:
    """Call ``writer(tmp, **kwargs)`` on a temporary name in the same folder, then rename it to
    ``path``: a crash never leaves half a file. The temporary name keeps the suffix, so writers
    that infer the format from it (matplotlib) still work."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        writer(tmp, **kwargs)
        tmp.replace(path)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """``folder/name.parquet`` and ``folder/name.csv`` (the folder is created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic(df.to_parquet, folder / f"{name}.parquet", index=False)
    atomic(df.to_csv, folder / f"{name}.csv", index=False)


def inside(folder: Path, relative: str | Path) -> Path:
    """``folder / relative``, refused unless it stays inside ``folder`` (after following any
    symbolic link): a name can never make a writer escape the folder it was given."""
    path = Path(folder) / relative
    base = Path(folder).resolve()
    target = path.resolve()
    if Path(relative).is_absolute() or target == base or not target.is_relative_to(base):
        raise SimcityQualityError(
            f"{path}: refusing to write outside the output folder {folder} (the name "
            f"{str(relative)!r} points elsewhere); nothing was written there.")
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_folder_manifest(folder: Path) -> dict | None:
    """The manifest of a folder this package wrote, or ``None`` when there is none; a manifest
    that is not ours, or is unreadable, comes back as ``{"format": None}``."""
    file = Path(folder) / MANIFEST
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"format": None}
    return data if isinstance(data, dict) else {"format": None}


class OutputFolder:
    """A results folder being written: checked when made (before any run, so a refusal costs
    nothing), written with :meth:`table` and :meth:`file`, completed on leaving the ``with``
    block. Until then its manifest lists every file already there or written so far, so a
    crash part-way leaves nothing that the next writing of the same kind would not remove.

    Args:
        path: the folder (created if needed).
        kind: what it holds: ``"run"`` and ``"compare"`` (the command line), ``"results"``
            (``Results.write``), ``"comparison"`` (``Comparison.write``), ``"report"``.
        overwrite: write into a non-empty folder of another kind or without a manifest (files
            the new result writes replace those of the same names; a folder of another kind
            that has a manifest is replaced whole). Never into a sweep's result store.
        about: plain data recorded in the manifest (scenarios, seed, command).
    """

    def __init__(self, path: str | Path, kind: str, overwrite: bool = False,
                 about: dict[str, Any] | None = None):
        self.path = Path(path)
        self.kind = kind
        self.about = dict(about or {})
        self._old: list[str] = []  # what the folder's manifest listed before this writing
        self._written: list[str] = []
        self._check(overwrite)

    # -- before anything is written -----------------------------------------------------
    def _check(self, overwrite: bool) -> None:
        path = self.path
        if path.exists() and not path.is_dir():
            raise SimcityQualityError(f"{path}: the output path exists and is not a folder; "
                                      "nothing was written.")
        manifest = read_folder_manifest(path) if path.is_dir() else None
        if manifest is not None and manifest.get("format") == STORE_FORMAT:
            raise SimcityQualityError(
                f"{path}: this folder is a sweep's result store; results of `{self.kind}` are "
                "never written into one (not even with --overwrite), so nothing was changed. "
                "Choose another folder.")
        ours = manifest is not None and manifest.get("format") == FORMAT
        if ours and manifest.get("kind") == self.kind:
            self._old = _listed(manifest)
        elif path.is_dir() and any(path.iterdir()):
            if not overwrite:
                what = (f"holds results of another kind ({manifest.get('kind')!r})" if ours
                        else "is not empty and has no simcity_quality manifest")
                raise SimcityQualityError(
                    f"{path}: this folder {what}; refusing to write `{self.kind}` results "
                    "into it, so nothing was changed. Choose another folder, or pass "
                    "--overwrite (overwrite=True) to write into it anyway.")
            self._old = _listed(manifest) if ours else []
        _probe(path)

    # -- writing ------------------------------------------------------------------------
    def table(self, df: pd.DataFrame, name: str, sub: str = "") -> None:
        """``sub/name.parquet`` and ``sub/name.csv`` in the folder, each written whole."""
        for suffix, write in ((".parquet", df.to_parquet), (".csv", df.to_csv)):
            self.file(Path(sub) / f"{name}{suffix}", lambda tmp, w=write: w(tmp, index=False))

    def file(self, relative: str | Path, write: Callable[[Path], Any]) -> Path:
        """Write ``relative`` with ``write(temporary_path)``, then rename it into place; the
        manifest lists it before it exists. Returns the file's path."""
        path = inside(self.path, relative)
        rel = path.relative_to(self.path).as_posix()
        if rel not in self._written:
            self._written.append(rel)
            if rel not in self._old:
                self._write_manifest(complete=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic(write, path)
        except OSError as exc:
            raise SimcityQualityError(
                f"{path}: could not be written ({exc.strerror or exc}); the files written "
                f"before it in {self.path} are complete and listed in its {MANIFEST}.") from None
        return path

    def __enter__(self) -> "OutputFolder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.complete()

    def complete(self) -> None:
        """Remove what the old manifest listed and this writing did not write (the stale
        files of an earlier result), then write the final manifest."""
        for rel in self._old:
            if rel not in self._written:
                stale = inside(self.path, rel)
                if stale.is_file() or stale.is_symlink():
                    stale.unlink()
                _remove_empty_parents(stale.parent, self.path)
        self._old = []
        self._write_manifest(complete=True)

    def _write_manifest(self, complete: bool) -> None:
        listed = self._written + [f for f in self._old if f not in self._written]
        data = {"format": FORMAT, "version": VERSION, "kind": self.kind, "written": _now(),
                "complete": complete, **self.about, "files": listed}
        blob = json.dumps(data, indent=2, default=str).encode()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic(Path.write_bytes, self.path / MANIFEST, data=blob)
        except OSError as exc:
            raise SimcityQualityError(f"{self.path / MANIFEST}: could not be written "
                                      f"({exc.strerror or exc}).") from None


def _listed(manifest: dict) -> list[str]:
    files = manifest.get("files", [])
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _probe(path: Path) -> None:
    """Create the folder (and missing parents) and a scratch file in it, then remove them: a
    folder that cannot be written to is found before any run, not after, and a refusal later
    leaves nothing behind."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path, prefix=".write-test-")
        os.close(fd)
        os.unlink(name)
        for folder in missing:  # deepest first: the folders the probe made, empty again
            folder.rmdir()
    except OSError as exc:
        raise SimcityQualityError(
            f"{path}: cannot write results into this folder ({exc.strerror or exc}); nothing "
            "was run. Choose a folder you can write to (-o).") from None


def _remove_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``root`` while they are empty."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): stop here
            return
        folder = folder.parent
