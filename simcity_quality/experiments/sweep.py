"""``sweep``: every design point times every replication, on an executor, into a result store.

Runs are ordered replication-major (every point's replication 0, then every point's
replication 1, ...), so a partial sweep still covers the whole design. Runs are batched into
tasks long enough that executor overhead stays small; results are written as batches complete,
so memory stays flat whatever the number of runs. The seed of (point, replication) depends on
the experiment seed and the replication only, so results are bit-identical whatever the
executor and the number of workers.

Everything is checked before the store is touched: arguments, the design against the schema's
bounds, every point's number of simulated enterprises, the connection to a Dask scheduler. The
store is then held under its lock for the whole sweep (:mod:`.lock`); workers end with the
sweep's main process (:func:`.worker.end_with`); a worker that dies, a write that fails or an
interruption stops the sweep with one paragraph saying how ``--resume`` completes it.
"""

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..engine.resolution import check_resolution
from ..errors import SimcityQualityError, note, renamed
from ..results.progress import progress_bar
from ..results.replications import check_replications, check_seed
from ..results.uncertainty import check_uncertainty
from ..scenario import Scenario, load_scenario
from .designs import Design
from .reading import ExperimentResults, load_results
from .store import FORMAT, VERSION, versions
from .worker import end_with, run_batch
from .writing import ResultStore

EXECUTORS = ("serial", "processes", "dask")
# design keys that bound the resolution of a point
_CITY_SIZE = ("city.firms", "city.resolution")
PARAMETER_RULE = ("with uncertainty 'parameters', parameter KEY in replication r takes its "
                  "prior's quantile at u = (SeedSequence(seed, spawn_key=(r, 2**32 - 1, "
                  "zlib.crc32(KEY))).generate_state(1, uint64)[0] >> 11) / 2**53, the same at "
                  "every design point; keys the design sets are not drawn")


class SweepInterrupted(SimcityQualityError):
    """A sweep stopped part-way (a worker died, a write failed); ``--resume`` completes it."""


class _WorkerLost(Exception):
    """An executor lost a worker process (killed, or out of memory)."""


def _hash(obj) -> str:
    blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _tasks(design: pd.DataFrame, replications: int, done: set) -> list[tuple[int, int, dict]]:
    records = {int(p): {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
               for p, row in design.to_dict(orient="index").items()}
    return [(p, r, records[p]) for r in range(replications) for p in design.index
            if (int(p), r) not in done]


def _batches(tasks: list, size: int) -> Iterator[list]:
    for i in range(0, len(tasks), size):
        yield tasks[i:i + size]


def _batch_name(batch: list) -> str:
    p, r, _ = batch[0]
    return f"r{r:05d}-p{p:07d}-n{len(batch):04d}"


def _refuse_while_a_worker_starts() -> None:
    """A worker process starts by importing the script that started the sweep; a script
    without an ``if __name__ == "__main__":`` guard would then start the sweep again inside
    the worker (and find its own store already made). Say so instead, in the worker's error
    (the sweep's main process then reports its pool as broken)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SimcityQualityError(
            "sweep() was called again while a worker process was importing the script that "
            "started it: put the code that runs a sweep (executor 'processes' or 'dask') under "
            "`if __name__ == \"__main__\":` in a script (notebooks need nothing). The store "
            "the first call made holds no results of this attempt; rerun the guarded script "
            "with resume=True (or --resume) to finish it, or remove the folder.")


@renamed(firms="resolution")
def sweep(scenario: Scenario | str | Path, design: Design, replications: int = 10,
          seed: int = 0, store: str | Path = "results/sweep", executor: str = "processes",
          workers: int | None = None, scheduler: str | None = None, security=None,
          resolution: int | None = None, resume: bool = False, batch_size: int | None = None,
          timeseries: bool = True, progress=True,
          command: str | None = None, uncertainty: str = "noise") -> ExperimentResults:
    """Run ``design`` x ``replications`` of ``scenario`` into the result store ``store``.

    Args:
        executor: ``"serial"``, ``"processes"`` (local, ``workers`` defaults to all cores) or
            ``"dask"`` (a ``LocalCluster`` on 127.0.0.1, or the running scheduler at
            ``scheduler``, e.g. ``"tls://host:8786"``, with ``security`` a
            ``distributed.security.Security`` for TLS; ``scheduler`` may also be a connected
            ``distributed.Client``, which is left open, to reuse one cluster across sweeps).
        resume: finish a sweep the store already holds (only missing runs are run; damaged or
            foreign parts are moved to ``quarantine/`` and their runs run again).
        batch_size: runs per task (default: enough tasks to keep every worker busy).
        progress: show a progress bar (tqdm; terminal or notebook); ``False`` silences it
            (:mod:`~simcity_quality.results.progress`).
        command: the command line that started the sweep (recorded in the manifest and used
            in messages that say how to resume it).
        uncertainty: ``"noise"`` (the [uncertain] parameters at the scenario's values, or at
            the design's where it sets them) or ``"parameters"``: each run also draws the
            [uncertain] parameters the design does not set, by the parameter rule
            (:mod:`~simcity_quality.results.uncertainty`), the same draws at every point.

    Returns the store read back (:class:`ExperimentResults`).
    """
    _refuse_while_a_worker_starts()
    uncertainty = check_uncertainty(uncertainty)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    replications, seed = check_replications(replications), check_seed(seed)
    _check_arguments(executor, batch_size, scheduler, security)
    table = design.resolve(sc)
    _check_points(sc, table, resolution)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "scenario_name": sc.name, "scenario_source": sc.source,
        "scenario_hash": sc.content_hash(), "scenario": sc.file_data(),
        "design": design.describe(), "design_hash": _hash(table.to_dict(orient="split")),
        "points": len(table), "replications": replications, "seed": seed,
        "resolution": resolution,
        "timeseries": timeseries, "versions": versions(), "command": command,
        "seed_rule": "replication r uses numpy SeedSequence(seed, spawn_key=(r,)), the r-th "
                     "child of SeedSequence(seed), at every design point",
        "uncertainty": uncertainty,
    }
    if uncertainty == "parameters":
        manifest["parameter_rule"] = PARAMETER_RULE
    n_workers = _workers(executor, workers)
    with _executor(executor, n_workers, scheduler, security) as execute:  # connect first
        with ResultStore.open(store, manifest, table, resume, command or "") as st:
            _tell(st)
            _run(st, execute, table, replications, (sc.file_data(), sc.source),
                 (seed, resolution, timeseries, uncertainty), batch_size, n_workers, progress,
                 command)
            res = load_results(st.path)  # finals and failures: the time series stay on disk
            st.finish({"runs_finished": len(res.finals), "runs_failed": len(res.failures),
                       "runs_missing": res.missing_runs})
    res.manifest = st.manifest
    return res


def _run(st: ResultStore, execute, table, replications, args, call, batch_size, n_workers,
         progress, command) -> None:
    """Run what the store does not hold yet, committing each batch as it completes."""
    todo = _tasks(table, replications, st.completed())
    size = batch_size or max(1, min(16, -(-len(todo) // (4 * n_workers)) if todo else 1))
    with progress_bar(progress, total=len(todo), desc="sweep") as bar:
        try:
            for batch, result in execute(list(_batches(todo, size)), args, call):
                try:
                    st.write_batch(_batch_name(batch), [(p, r) for p, r, _ in batch], result)
                except OSError as exc:
                    raise SweepInterrupted(_stopped(
                        st, f"a batch could not be written ({exc.filename}: "
                            f"{exc.strerror or exc})", command)) from None
                bar.update(len(batch))
        except _WorkerLost as exc:
            raise SweepInterrupted(_stopped(
                st, f"a worker process ended abruptly ({exc}; killed, or out of memory)",
                command)) from None


def _stopped(st: ResultStore, what: str, command: str | None) -> str:
    """The paragraph of a sweep that stopped part-way: what happened, what is kept, and the
    command that completes it."""
    done = len(st.completed())
    total = st.manifest["points"] * st.manifest["replications"]
    if command:
        again = command if " --resume" in f" {command} " else f"{command} --resume"
        how = f"`{again}`"
    else:
        how = "the same sq.sweep call with resume=True"
    return (f"{st.path}: the sweep stopped: {what}. The {done} of {total} runs committed so "
            f"far are kept; {how} runs the other {total - done} and gives the same results as "
            "an uninterrupted sweep.")


def _check_arguments(executor, batch_size, scheduler, security) -> None:
    if executor not in EXECUTORS:
        raise SimcityQualityError(f"executor must be one of {EXECUTORS}, got {executor!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, int) or batch_size < 1):
        raise SimcityQualityError(f"batch_size (--batch-size) must be a whole number >= 1, got "
                                  f"{batch_size!r}.")
    if scheduler is not None and executor != "dask":
        raise SimcityQualityError(f"a scheduler (--scheduler) is used by the dask executor "
                                  f"only; this sweep's executor is {executor!r} (pass "
                                  "--executor dask).")
    if isinstance(scheduler, str) and scheduler.startswith("tls://") and security is None:
        raise SimcityQualityError(
            f"the scheduler {scheduler!r} speaks TLS, which needs the certificates: pass "
            "--tls-ca, --tls-cert and --tls-key (security=distributed.security.Security(...) "
            "from Python; see docs/experiments.md). Nothing was run.")


def _check_points(sc: Scenario, table: pd.DataFrame, resolution: int | None) -> None:
    """The resolution, checked for the scenario and for every point whose city size or
    resolution the design changes (a resolution is at most the city's firms)."""
    check_resolution(resolution, sc)
    varied = [k for k in _CITY_SIZE if k in table.columns]
    for values in table[varied].drop_duplicates().itertuples(index=False) if varied else ():
        city = sc.city.model_copy(update={k.split(".")[1]: int(v)
                                          for k, v in zip(varied, values, strict=True)})
        check_resolution(resolution, sc.model_copy(update={"city": city}),
                         "resolution" if resolution is not None else "city.resolution")


def _workers(executor: str, workers: int | None) -> int:
    if executor == "serial":
        return 1
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SimcityQualityError(f"workers must be a whole number >= 1, got {workers!r}.")
    return workers or len(os.sched_getaffinity(0))


def _tell(st: ResultStore) -> None:
    """Notes on what opening the store found (the command line prints them)."""
    if st.stale_lock is not None:
        note(f"{st.path}: took over the lock left by {st.stale_lock.describe()}, which ended "
             "without releasing it (a crash or kill).")
    if st.moved:
        note(f"{st.path}: moved {len(st.moved)} files that cannot be used (damaged, foreign or "
             "uncommitted) to quarantine/; their runs are run again: "
             + ", ".join(st.moved[:5]) + (" ..." if len(st.moved) > 5 else ""))


def run_batches(executor: str, batches: list, args: tuple, call: tuple, n_workers: int,
                scheduler=None, security=None) -> Iterator[tuple[list, dict]]:
    """(batch, result) as batches of ``(point, replication, overrides)`` complete on an
    executor, without a store (calibration's runs); ``args`` = (scenario data, source),
    ``call`` = (seed, resolution, timeseries)."""
    with _executor(executor, n_workers, scheduler, security) as execute:
        try:
            yield from execute(batches, args, call)
        except _WorkerLost as exc:
            raise SimcityQualityError(f"a worker process ended abruptly ({exc}; killed, or out "
                                      "of memory); the runs were stopped.") from None


def run_tasks(scenario: Scenario, tasks: list[tuple[int, int, dict]], seed: int,
              resolution: int | None, executor: str = "serial", workers: int | None = None,
              scheduler=None, security=None, batch_size: int | None = None,
              timeseries: bool = False,
              uncertainty: str = "noise") -> Iterator[tuple[list, dict]]:
    """Run ``(point, replication, overrides)`` tasks on an executor without a store, yielding
    ``(batch, result)`` as batches complete (``result`` as :func:`~.worker.run_batch` gives
    it). What the searches use to run chosen replications of chosen mixes; the seed rule is
    the sweep's, so a task gives the same numbers here as in any sweep."""
    _check_arguments(executor, batch_size, scheduler, security)
    n_workers = _workers(executor, workers)
    size = batch_size or max(1, min(16, -(-len(tasks) // (4 * n_workers)) if tasks else 1))
    args = (scenario.file_data(), scenario.source)
    yield from run_batches(executor, list(_batches(tasks, size)), args,
                           (seed, resolution, timeseries, check_uncertainty(uncertainty)),
                           n_workers, scheduler, security)


@contextmanager
def _executor(executor, n_workers, scheduler, security):
    """A function ``execute(batches, args, call)`` yielding (batch, result) as batches
    complete; a Dask client is connected on entering, before the store is touched."""
    if executor == "serial":
        yield lambda batches, args, call: ((b, run_batch(*args, _plain(b), *call))
                                           for b in batches)
    elif executor == "processes":
        yield lambda batches, args, call: _processes(batches, args, call, n_workers)
    else:
        with _dask_client(n_workers, scheduler, security) as client:
            yield lambda batches, args, call: _dask(client, batches, args, call, n_workers)


def _plain(batch):
    return [(int(p), int(r), o) for p, r, o in batch]


def _processes(batches, args, call, n_workers):
    # `import mesa` (3.3) forces "spawn" on the whole process: choose the context explicitly.
    # forkserver: workers fork from a clean server that has the package imported once; they
    # end with this process (end_with), and inherit none of its descriptors (the store lock)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simcity_quality.experiments.worker"])
    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=end_with,
                               initargs=(os.getpid(),))
    clean = False
    pending = {}

    def submit(batch) -> str | None:
        # a worker that died between two batches breaks the pool, and the next submit raises
        # what result() would have: both are the same lost worker
        try:
            pending[pool.submit(run_batch, *args, _plain(batch), *call)] = batch
        except BrokenProcessPool:
            return f"before point {batch[0][0]} replication {batch[0][1]} could start"
        return None

    try:
        queue = iter(batches)
        lost = None
        # keep a bounded number of tasks in flight, so memory stays flat
        for batch in queue:
            lost = submit(batch)
            if lost or len(pending) >= 2 * n_workers:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                batch = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    lost = lost or (f"while running point {batch[0][0]} replication "
                                    f"{batch[0][1]} and {len(batch) - 1} runs more")
                    continue
                # a batch that finished before the worker was lost is still committed
                yield batch, result
                nxt = None if lost else next(queue, None)
                if nxt is not None:
                    lost = submit(nxt)
        if lost:
            raise _WorkerLost(lost)
        clean = True
    finally:
        # on an error or interruption, do not wait for batches whose results are not wanted
        pool.shutdown(wait=clean, cancel_futures=not clean)


@contextmanager
def _dask_client(n_workers, scheduler, security):
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler  # the caller's: left open
        return
    cluster = None
    if scheduler is None:
        # never expose a scheduler by accident: it runs whatever code it is sent
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0",
                               silence_logs=40)
        client = Client(cluster)
        from .daskworkers import EndWithSweep

        client.register_plugin(EndWithSweep(os.getpid()))
    else:
        try:  # waits dask's distributed.comm.timeouts.connect (30 s unless configured)
            client = Client(scheduler, security=security) if security else Client(scheduler)
        except (OSError, TimeoutError, TypeError, ValueError) as exc:  # CommClosedError: OSError
            raise SimcityQualityError(
                f"could not connect to the Dask scheduler at {scheduler!r} ({exc}); nothing "
                "was run or written. Check the address; a scheduler started with TLS needs "
                "tls:// and the certificates (--tls-ca, --tls-cert, --tls-key; see "
                "docs/experiments.md).") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask(client, batches, args, call, n_workers):
    from distributed import KilledWorker, as_completed

    in_flight = 2 * max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
    queue = iter(batches)
    futures = {}
    for batch in queue:
        futures[client.submit(run_batch, *args, _plain(batch), *call, pure=False)] = batch
        if len(futures) >= in_flight:
            break
    ac = as_completed(list(futures))
    try:
        for fut in ac:
            batch = futures.pop(fut)
            try:
                result = fut.result()
            except KilledWorker as exc:
                raise _WorkerLost(f"Dask gave up on point {batch[0][0]} replication "
                                  f"{batch[0][1]}: {exc}") from None
            fut.release()
            yield batch, result
            nxt = next(queue, None)
            if nxt is not None:
                new = client.submit(run_batch, *args, _plain(nxt), *call, pure=False)
                futures[new] = nxt
                ac.add(new)
    finally:
        for fut in futures:  # what is still running is not wanted any more
            fut.cancel()
