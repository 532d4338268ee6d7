"""Reading a result store back: :func:`load_results` and :class:`ExperimentResults`.

Readers take no lock and see only committed batches, so a store can be read while its sweep
runs. Every part read is checked against the checksum its marker records (the bytes are hashed
as they are read, so checking costs no second read); a missing, damaged or foreign part is
named and the store refused, unless ``skip_damaged=True`` reads the intact batches only. A
store written before checksums existed (format 1) loads with a note that it cannot be verified.
"""

import io
from pathlib import Path

import pandas as pd

from ..errors import SimcityQualityError, note
from .integrity import Batch, Problem, StoreCheck, inspect_store
from .store import DESIGN, read_manifest, sha256

_SHOWN = 6  # problems named in one message


def damage_message(path: Path, problems: list[Problem]) -> str:
    """One paragraph naming what is wrong with a store and the ways on."""
    named = "; ".join(p.describe() for p in problems[:_SHOWN])
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return (f"{path}: the result store is damaged: {named}{more}. Nothing was changed. "
            f"`simcity-quality check {path}` lists every problem; the sweep's command with "
            "--resume (sq.sweep(..., resume=True)) moves the damaged parts aside to quarantine/ "
            "and runs their runs again; load_results(path, skip_damaged=True) reads the intact "
            "batches only.")


class ExperimentResults:
    """A sweep read back as plain DataFrames keyed by (point, replication).

    ``design``, ``finals`` (one row per finished run) and ``failures`` are read at once; the
    much larger ``timeseries`` (one row per run and month) is read when first used.
    ``problems`` lists what was skipped with ``skip_damaged=True``; ``verified`` says whether
    every part read was checked against its checksum.
    """

    def __init__(self, path: Path, manifest: dict, check: StoreCheck | None = None,
                 skip_damaged: bool = False):
        self.path = Path(path)
        self.manifest = manifest
        self.check = check if check is not None else inspect_store(path, manifest, ())
        self.skip_damaged = skip_damaged
        self.problems: list[Problem] = list(self.check.problems)
        if self.problems and not skip_damaged:
            raise SimcityQualityError(damage_message(self.path, self.problems))
        self.verified = self.check.verifiable
        self._batches: list[Batch] = list(self.check.batches)
        self.design = _read_parquet(self.path / DESIGN).set_index("point")
        if len(self.design) != int(manifest["points"]):
            raise SimcityQualityError(damage_message(self.path, [Problem(
                "damaged", DESIGN, f"damaged: {len(self.design)} points, the manifest records "
                f"{manifest['points']}")]))
        self.finals = self._table("finals")
        self.failures = self._table("failures")
        self._timeseries = None
        if self.problems:
            note(damage_message(self.path, self.problems).replace(
                "the result store is damaged", "skipped (skip_damaged=True)", 1))
        if not self.verified:
            note(f"{self.path}: written by an earlier version of simcity_quality (store "
                  "format 1), whose parts carry no checksums: it is read as it is and cannot "
                  "be verified.")

    @property
    def timeseries(self) -> pd.DataFrame:
        """One row per run and month (read from the store on first use)."""
        if self._timeseries is None:
            self._timeseries = self._table("timeseries")
        return self._timeseries

    def _table(self, table: str) -> pd.DataFrame:
        frames, skipped = [], []
        for batch in self._batches:
            info = batch.parts.get(table)
            if info is None:
                continue
            try:
                frames.append(_read_part(self.path, info, self.verified, batch))
            except _Damaged as exc:
                if not self.skip_damaged:
                    raise SimcityQualityError(damage_message(self.path, [exc.problem])) from None
                skipped.append(exc.problem)
        if skipped:
            self.problems += skipped
            note(damage_message(self.path, skipped).replace(
                "the result store is damaged", "skipped (skip_damaged=True)", 1))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["point", "replication"])
        keys = ["point", "replication"] + (["step"] if "step" in df else [])
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    @property
    def expected_runs(self) -> int:
        """Runs the sweep asked for (points x replications)."""
        return int(self.manifest["points"]) * int(self.manifest["replications"])

    @property
    def missing_runs(self) -> int:
        """Runs not committed (a partial or interrupted sweep, or skipped as damaged)."""
        return self.expected_runs - len(self.finals) - len(self.failures)

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


def load_results(path: str | Path, skip_damaged: bool = False) -> ExperimentResults:
    """Read a result store: manifest, design, finals and failures (time series on first use).

    A missing, damaged or foreign part is named in a :class:`SimcityQualityError`; with
    ``skip_damaged=True`` the intact batches are read and the rest listed in ``problems``.
    """
    path = Path(path)
    manifest = read_manifest(path)
    return ExperimentResults(path, manifest, inspect_store(path, manifest, ()), skip_damaged)


class _Damaged(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.describe())
        self.problem = problem


def _read_part(path: Path, info: dict, verify: bool, batch: Batch) -> pd.DataFrame:
    """One part, its bytes checked against the marker's checksum and its rows counted."""
    rel = info["file"]
    try:
        data = (path / rel).read_bytes()
    except FileNotFoundError:
        raise _Damaged(Problem("missing", rel, "missing", batch.marker, len(batch.runs))) \
            from None
    if verify and sha256(data) != info.get("sha256"):
        raise _Damaged(Problem("damaged", rel, "damaged: its checksum is not the one recorded",
                               batch.marker, len(batch.runs)))
    try:
        df = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise _Damaged(Problem("damaged", rel, f"cannot be read as Parquet ({exc})",
                               batch.marker, len(batch.runs))) from None
    if verify and len(df) != info.get("rows"):
        raise _Damaged(Problem("damaged", rel, f"damaged: {len(df)} rows, the marker records "
                               f"{info.get('rows')}", batch.marker, len(batch.runs)))
    return df


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except FileNotFoundError:
        raise SimcityQualityError(f"{file}: missing from the result store; the store is "
                                  "damaged.") from None
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise SimcityQualityError(f"{file}: cannot be read as Parquet ({exc}); the store is "
                                  "damaged.") from None

