"""The result store's format: a folder that a sweep fills as work completes, that survives
crashes and that checks itself.

::

    STORE/manifest.json        what was asked (scenario and its hash, design, seed, replications,
                               resolution), the sweep's id, the design file's rows and checksum,
                               package versions, start and end times; once the sweep has
                               finished, every part with its rows and checksum
    STORE/lock                 held by the sweep writing the store (:mod:`.lock`)
    STORE/design.parquet       the design points (index ``point``)
    STORE/finals/part-*.parquet      one row per finished run: KPIs and budget totals
    STORE/timeseries/part-*.parquet  one row per run and month
    STORE/failures/part-*.parquet    runs that raised, with their error
    STORE/done/part-*.json     commit markers: a batch counts only once its marker exists; the
                               marker lists the batch's runs and its parts with their rows,
                               size and SHA-256
    STORE/quarantine/TIME/...  what ``--resume`` moved aside: damaged, foreign or uncommitted
                               parts (never deleted)

Every file is written to a temporary name and renamed, and a batch's marker is written last,
so a sweep killed at any moment (kill -9 included) leaves only complete, committed batches.
The manifest is the first file of a new store, and is flushed to disk, so a store killed while
being created is completed by ``--resume``. Writing is in :mod:`.writing`, checking in
:mod:`.integrity`, reading in :mod:`.reading`; docs/experiments.md states the guarantees and
the tests that check them.
"""

import contextlib
import hashlib
import io
import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..errors import SimcityQualityError
from ..results.files import STORE_FORMAT

FORMAT = STORE_FORMAT
VERSION = 2  # 2: the sweep id, checksums and rows of every part; 1: no checksums
READABLE = (1, 2)
TABLES = ("finals", "timeseries", "failures")
MARKERS = "done"
QUARANTINE = "quarantine"
MANIFEST = "manifest.json"
DESIGN = "design.parquet"
# what a manifest must hold for the store to be read, by format version
REQUIRED = {1: ("points", "replications"),
            2: ("points", "replications", "seed", "sweep_id", "design_hash", "scenario_hash",
                "design_file")}


def now() -> str:
    """The time, UTC, to the second (for manifests)."""
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


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as a Parquet file in memory (so it is hashed exactly as written)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def part_info(relative: str, data: bytes, rows: int) -> dict:
    """What a marker and the manifest record of one part."""
    return {"file": relative, "rows": int(rows), "bytes": len(data), "sha256": sha256(data)}


def atomic_write(path: Path, data: bytes, flush: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary name in the same folder, then
    renamed over ``path``. With ``flush`` the file and its folder are flushed to disk first, so
    the file survives a power cut too (the manifest); parts and markers are not flushed one by
    one: a kill does not need it, and after a power cut their checksums find whatever the disk
    lost, which ``--resume`` runs again."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if flush:
                fh.flush()
                os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    if flush:
        fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: dict, flush: bool = False) -> None:
    """A JSON file written atomically (:func:`atomic_write`)."""
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode(), flush)


def read_manifest(path: str | Path) -> dict:
    """A store's manifest, checked to be one of ours and to hold what reading needs."""
    path = Path(path)
    file = path / MANIFEST
    if not path.is_dir():
        raise SimcityQualityError(f"{path}: no such result store folder.")
    if not file.is_file():
        raise SimcityQualityError(f"{path}: not a simcity_quality result store (no "
                                  f"{MANIFEST}).")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SimcityQualityError(f"{file}: the manifest is not valid JSON ({exc}); the store "
                                  "is damaged or foreign. Nothing was changed.") from None
    except OSError as exc:
        raise SimcityQualityError(f"{file}: cannot be read ({exc.strerror or exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SimcityQualityError(f"{file}: not a simcity_quality result store manifest "
                                  f"(expected format {FORMAT!r}). Nothing was changed.")
    version = manifest.get("version")
    if version not in READABLE:
        readable = ", ".join(map(str, READABLE))
        raise SimcityQualityError(f"{file}: store format version {version!r}; this version of "
                                  f"simcity_quality reads versions {readable}.")
    missing = [k for k in REQUIRED[version] if k not in manifest]
    bad = [k for k in ("points", "replications") if k in manifest and not (
        isinstance(manifest[k], int) and not isinstance(manifest[k], bool) and manifest[k] >= 1)]
    if missing or bad:
        what = "; ".join([*(f"`{k}` is missing" for k in missing),
                          *(f"`{k}` is {manifest[k]!r}, not a whole number >= 1" for k in bad)])
        raise SimcityQualityError(f"{file}: the manifest is damaged ({what}); the store cannot "
                                  "be read. Nothing was changed.")
    return manifest
