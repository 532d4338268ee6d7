"""A result store checks itself: which batches are committed and intact, and what is missing,
damaged, foreign or left uncommitted.

A batch counts when its commit marker (``done/part-NAME.json``) is readable, belongs to this
sweep (its ``sweep_id`` is the manifest's), covers runs of the design that no earlier batch
covers, and every part it lists exists with the recorded size and, where checked, SHA-256. A
finished sweep's manifest lists every part too; a batch it lists without a marker is reported
as missing, a marker it does not list as foreign. Parts no marker covers, and temporary files,
are what a kill leaves behind: ignored by readers, moved aside by ``--resume``.

:func:`inspect_store` does the checking; ``load_results``, ``--resume`` and
``simcity-quality check`` all go through it.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from .lock import Holder, lock_holder
from .store import DESIGN, MARKERS, QUARANTINE, TABLES, read_manifest, sha256


@dataclass
class Problem:
    """One thing wrong with a store: ``kind`` (missing, damaged, foreign, duplicate), the file
    (relative to the store), what is wrong, and the batch marker it makes unusable."""

    kind: str
    file: str
    detail: str
    marker: str | None = None
    runs: int = 0

    def describe(self) -> str:
        """``finals/part-x.parquet: missing (4 runs)``."""
        return f"{self.file}: {self.detail}" + (f" ({self.runs} runs)" if self.runs else "")


@dataclass
class Batch:
    """A committed batch: its marker, its (point, replication) runs, its parts by table."""

    marker: str
    runs: list[tuple[int, int]]
    parts: dict[str, dict] = field(default_factory=dict)


@dataclass
class StoreCheck:
    """What :func:`inspect_store` found."""

    path: Path
    manifest: dict
    batches: list[Batch]
    problems: list[Problem]
    uncommitted: list[str]
    holder: Holder | None
    hashed: tuple[str, ...]  # tables whose parts' checksums were computed

    @property
    def verifiable(self) -> bool:
        """Whether the store records checksums (format 2 on)."""
        return self.manifest.get("version", 1) >= 2

    @property
    def expected_runs(self) -> int:
        """Runs the sweep asked for (points x replications)."""
        return int(self.manifest["points"]) * int(self.manifest["replications"])

    @property
    def committed_runs(self) -> int:
        """Runs in intact, committed batches."""
        return sum(len(b.runs) for b in self.batches)

    @property
    def missing_runs(self) -> int:
        """Runs no intact batch holds: not yet run, or in a damaged batch."""
        return self.expected_runs - self.committed_runs

    @property
    def bad_markers(self) -> set[str]:
        """Markers whose batches cannot be used."""
        return {p.marker for p in self.problems if p.marker}

    def state(self) -> str:
        """``being written``, ``finished``, ``interrupted`` or ``damaged``."""
        if self.holder is not None:
            return "being written"
        if self.problems:
            return "damaged"
        if self.manifest.get("finished") and not self.missing_runs:
            return "finished"
        return "interrupted"

    def rows(self, table: str) -> int:
        """Rows of ``table`` in the intact batches (as their markers record them)."""
        return sum(int(b.parts[table].get("rows", 0)) for b in self.batches if table in b.parts)

    def summary(self) -> str:
        """What ``simcity-quality check`` prints."""
        m = self.manifest
        lines = [f"{self.path}: result store (format {m.get('version')}), scenario "
                 f"{m.get('scenario_name')!r}, {m['points']} points x {m['replications']} "
                 f"replications = {self.expected_runs} runs, seed {m.get('seed')}"]
        state = self.state()
        if state == "being written":
            lines.append(f"state: being written by {self.holder.describe()}")
        elif state == "finished":
            lines.append(f"state: finished {m.get('finished')}")
        else:
            lines.append(f"state: {state} (no sweep is writing it)")
        lines.append(f"committed: {self.committed_runs} runs in {len(self.batches)} batches "
                     f"({self.rows('finals')} finished, {self.rows('failures')} failed); "
                     f"missing: {self.missing_runs}")
        if not self.verifiable:
            lines.append("checksums: none (written by an earlier version, format 1): its parts "
                         "cannot be verified")
        else:
            parts = sum(len(b.parts) for b in self.batches)
            checked = ", ".join(self.hashed) or "none"
            lines.append(f"checksums: {parts} parts of intact batches; SHA-256 computed for "
                         f"{checked}")
        if self.problems:
            lines.append(f"problems ({len(self.problems)}):")
            lines += [f"  {p.kind}: {p.describe()}" for p in self.problems]
        if self.uncommitted:
            lines.append(f"uncommitted, ignored by readers ({len(self.uncommitted)}; --resume "
                         f"moves them to {QUARANTINE}/): " + ", ".join(self.uncommitted[:5])
                         + (" ..." if len(self.uncommitted) > 5 else ""))
        if state != "finished" and state != "being written":
            command = m.get("command")
            lines.append("to finish it: " + (f"{command} --resume" if command else
                                             "run the same sweep again with --resume"))
        return "\n".join(lines)


def inspect_store(path: str | Path, manifest: dict | None = None,
                  checksums: tuple[str, ...] = TABLES) -> StoreCheck:
    """Check the store at ``path``: committed batches, problems and uncommitted files.

    ``checksums``: the tables whose parts are hashed (every part's existence and size are
    checked regardless); readers that hash what they read pass fewer.
    """
    path = Path(path)
    manifest = manifest if manifest is not None else read_manifest(path)
    version = manifest.get("version", 1)
    problems: list[Problem] = []
    hashed = tuple(checksums) if version >= 2 else ()
    if version >= 2:
        problems += _check_design(path, manifest)
    batches: list[Batch] = []
    seen: dict[tuple[int, int], str] = {}
    for file in sorted((path / MARKERS).glob("part-*.json")):
        rel = f"{MARKERS}/{file.name}"
        batch, found = (_batch_v2(path, file, rel, manifest, hashed) if version >= 2
                        else _batch_v1(path, file, rel))
        if batch is not None:
            twice = [r for r in batch.runs if r in seen]
            if twice:
                found.append(Problem("duplicate", rel, f"commits {len(twice)} runs already "
                                     f"committed by {seen[twice[0]]}", rel, len(batch.runs)))
        problems += found
        if batch is not None and not found:
            batches.append(batch)
            seen.update(dict.fromkeys(batch.runs, rel))
    problems += _against_manifest_listing(manifest, batches, problems)
    claimed = {p["file"] for b in batches for p in b.parts.values()}
    uncommitted = _uncommitted(path, claimed, {p.file for p in problems})
    return StoreCheck(path, manifest, batches, problems, uncommitted, lock_holder(path), hashed)


def _check_design(path: Path, manifest: dict) -> list[Problem]:
    info = manifest["design_file"]
    file = path / DESIGN
    if not file.is_file():
        return [Problem("missing", DESIGN, "missing: the design points are gone")]
    data = file.read_bytes()
    if len(data) != info.get("bytes") or sha256(data) != info.get("sha256"):
        return [Problem("damaged", DESIGN, "damaged: its checksum is not the one recorded")]
    return []


def _read_marker(file: Path, rel: str) -> tuple[dict | None, list[Problem]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [Problem("damaged", rel, f"unreadable commit marker ({exc})", rel)]
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return None, [Problem("damaged", rel, "not a commit marker (no list of runs)", rel)]
    return data, []


def _runs(data: dict, manifest: dict) -> list[tuple[int, int]] | None:
    """The marker's runs, or ``None`` when any is not a (point, replication) of the design."""
    out = []
    for run in data["runs"]:
        if not (isinstance(run, list) and len(run) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in run)):
            return None
        p, r = run
        if not (0 <= p < manifest["points"] and 0 <= r < manifest["replications"]):
            return None
        out.append((p, r))
    return out


def _batch_v1(path: Path, file: Path, rel: str) -> tuple[Batch | None, list[Problem]]:
    """A format-1 marker: runs only; its parts are those of the same name (not verifiable)."""
    data, problems = _read_marker(file, rel)
    if data is None:
        return None, problems
    try:
        runs = [(int(p), int(r)) for p, r in data["runs"]]
    except (TypeError, ValueError):
        return None, [Problem("damaged", rel, "its runs are not (point, replication) pairs", rel)]
    parts = {t: {"file": f"{t}/{file.stem}.parquet"} for t in TABLES
             if (path / t / f"{file.stem}.parquet").is_file()}
    return Batch(rel, runs, parts), []


def _batch_v2(path: Path, file: Path, rel: str, manifest: dict,
              hashed: tuple[str, ...]) -> tuple[Batch | None, list[Problem]]:
    data, problems = _read_marker(file, rel)
    if data is None:
        return None, problems
    if data.get("sweep_id") != manifest["sweep_id"]:
        return None, [Problem("foreign", rel, f"commit marker of another sweep (sweep id "
                              f"{data.get('sweep_id')!r}, this store's is "
                              f"{manifest['sweep_id']!r})", rel, len(data["runs"]))]
    runs = _runs(data, manifest)
    if runs is None:
        return None, [Problem("foreign", rel, "commits runs that are not in this sweep's "
                              "design", rel, len(data["runs"]))]
    parts = data.get("parts")
    if not isinstance(parts, dict) or set(parts) - set(TABLES):
        return None, [Problem("damaged", rel, "its list of parts is unreadable", rel)]
    batch = Batch(rel, runs, parts)
    for table, info in parts.items():
        problems += _check_part(path, table, file.stem, info, table in hashed, rel, len(runs))
    return batch, problems


def _check_part(path: Path, table: str, stem: str, info, hash_it: bool, marker: str,
                runs: int) -> list[Problem]:
    expected = f"{table}/{stem}.parquet"  # parts are named after their marker, nothing else
    if not isinstance(info, dict) or info.get("file") != expected:
        return [Problem("damaged", marker, f"lists a {table} part other than {expected}",
                        marker, runs)]
    file = path / expected
    if not file.is_file():
        return [Problem("missing", expected, "missing", marker, runs)]
    size = file.stat().st_size
    if size != info.get("bytes"):
        return [Problem("damaged", expected, f"damaged: {size} bytes, the marker records "
                        f"{info.get('bytes')}", marker, runs)]
    if hash_it and sha256(file.read_bytes()) != info.get("sha256"):
        return [Problem("damaged", expected, "damaged: its checksum is not the one recorded",
                        marker, runs)]
    return []


def _against_manifest_listing(manifest: dict, batches: list[Batch],
                              problems: list[Problem]) -> list[Problem]:
    """A finished sweep's manifest lists every batch: compare it with the markers found."""
    listed = manifest.get("parts")
    if not isinstance(listed, dict):
        return []
    found = {b.marker for b in batches} | {p.marker for p in problems if p.marker}
    out = [Problem("missing", marker, "commit marker missing (the manifest lists this batch)",
                   None, int(entry.get("runs", 0)) if isinstance(entry, dict) else 0)
           for marker, entry in listed.items() if marker not in found]
    out += [Problem("foreign", b.marker, "not listed in the manifest of this finished sweep "
                    "(added after it finished)", b.marker, len(b.runs))
            for b in batches if b.marker not in listed]
    # such a batch is no longer intact
    bad = {p.marker for p in out if p.marker}
    batches[:] = [b for b in batches if b.marker not in bad]
    return out


def _uncommitted(path: Path, claimed: set[str], reported: set[str]) -> list[str]:
    """Part files no intact batch claims (and no problem names), and temporary files."""
    out = []
    for table in TABLES:
        for file in sorted((path / table).glob("part-*.parquet")):
            rel = f"{table}/{file.name}"
            if rel not in claimed and rel not in reported:
                out.append(rel)
    for folder in ("", *TABLES, MARKERS):
        for file in sorted((path / folder).glob(".*.tmp")):
            out.append(f"{folder}/{file.name}".lstrip("/"))
    return out
