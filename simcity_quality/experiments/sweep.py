"""``sweep``: every design point times every replication, on an executor, into a result store.

Runs are ordered replication-major (every point's replication 0, then every point's
replication 1, ...), so a partial sweep still covers the whole design. Runs are batched into
tasks long enough that executor overhead stays small; results are written as batches complete,
so memory stays flat whatever the number of runs. The seed of (point, replication) depends on
the experiment seed and the replication only, so results are bit-identical whatever the
executor and the number of workers.
"""

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import pandas as pd

from ..errors import SimcityQualityError, renamed
from ..results.progress import progress_bar
from ..results.uncertainty import check_uncertainty
from ..scenario import Scenario, load_scenario
from .designs import Design
from .store import FORMAT, VERSION, ExperimentResults, ResultStore, load_results, versions
from .worker import run_batch

EXECUTORS = ("serial", "processes", "dask")
PARAMETER_RULE = ("with uncertainty 'parameters', parameter KEY in replication r takes its "
                  "prior's quantile at u = (SeedSequence(seed, spawn_key=(r, 2**32 - 1, "
                  "zlib.crc32(KEY))).generate_state(1, uint64)[0] >> 11) / 2**53, the same at "
                  "every design point; keys the design sets are not drawn")


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
          timeseries: bool = True, progress=True, uncertainty: str = "noise") -> ExperimentResults:
    """Run ``design`` x ``replications`` of ``scenario`` into the result store ``store``.

    Args:
        executor: ``"serial"``, ``"processes"`` (local, ``workers`` defaults to all cores) or
            ``"dask"`` (a ``LocalCluster`` on 127.0.0.1, or the running scheduler at
            ``scheduler``, e.g. ``"tls://host:8786"``, with ``security`` a
            ``distributed.security.Security`` for TLS; ``scheduler`` may also be a connected
            ``distributed.Client``, which is left open, to reuse one cluster across sweeps).
        resume: finish a sweep the store already holds (only missing runs are run).
        batch_size: runs per task (default: enough tasks to keep every worker busy).
        progress: show a progress bar (tqdm; terminal or notebook); ``False`` silences it
            (:mod:`~simcity_quality.results.progress`).
        uncertainty: ``"noise"`` (the [uncertain] parameters at the scenario's values, or at
            the design's where it sets them) or ``"parameters"``: each run also draws the
            [uncertain] parameters the design does not set, by the parameter rule
            (:mod:`~simcity_quality.results.uncertainty`), the same draws at every point.

    Returns the store read back (:class:`ExperimentResults`).
    """
    _refuse_while_a_worker_starts()
    uncertainty = check_uncertainty(uncertainty)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if executor not in EXECUTORS:
        raise SimcityQualityError(f"executor must be one of {EXECUTORS}, got {executor!r}.")
    if not isinstance(replications, int) or replications < 1:
        raise SimcityQualityError(f"replications must be a whole number >= 1, got "
                                  f"{replications!r}.")
    table = design.resolve(sc)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "scenario_name": sc.name, "scenario_source": sc.source,
        "scenario_hash": sc.content_hash(), "scenario": sc.file_data(),
        "design": design.describe(), "design_hash": _hash(table.to_dict(orient="split")),
        "points": len(table), "replications": replications, "seed": seed, "resolution": resolution,
        "timeseries": timeseries, "versions": versions(),
        "seed_rule": "replication r uses numpy SeedSequence(seed, spawn_key=(r,)), the r-th "
                     "child of SeedSequence(seed), at every design point",
        "uncertainty": uncertainty,
    }
    if uncertainty == "parameters":
        manifest["parameter_rule"] = PARAMETER_RULE
    st = ResultStore.open(store, manifest, table, resume)
    todo = _tasks(table, replications, st.completed())
    n_workers = _workers(executor, workers)
    size = batch_size or max(1, min(16, -(-len(todo) // (4 * n_workers)) if todo else 1))
    batches = list(_batches(todo, size))
    args = (sc.file_data(), sc.source)
    with progress_bar(progress, total=len(todo), desc="sweep") as bar:
        for batch, result in _execute(executor, batches, args, seed, resolution, timeseries,
                                      n_workers, scheduler, security, uncertainty):
            st.write_batch(_batch_name(batch), [(p, r) for p, r, _ in batch], result)
            bar.update(len(batch))
    res = load_results(st.path)  # finals and failures only: the time series stay on disk
    st.finish({"runs_finished": len(res.finals), "runs_failed": len(res.failures),
               "runs_missing": res.missing_runs})
    res.manifest = st.manifest
    return res


def run_tasks(scenario: Scenario, tasks: list[tuple[int, int, dict]], seed: int,
              resolution: int | None, executor: str = "serial", workers: int | None = None,
              scheduler=None, security=None, batch_size: int | None = None,
              timeseries: bool = False,
              uncertainty: str = "noise") -> Iterator[tuple[list, dict]]:
    """Run ``(point, replication, overrides)`` tasks on an executor without a store, yielding
    ``(batch, result)`` as batches complete (``result`` as :func:`~.worker.run_batch` gives
    it). What the searches use to run chosen replications of chosen mixes; the seed rule is
    the sweep's, so a task gives the same numbers here as in any sweep."""
    if executor not in EXECUTORS:
        raise SimcityQualityError(f"executor must be one of {EXECUTORS}, got {executor!r}.")
    n_workers = _workers(executor, workers)
    size = batch_size or max(1, min(16, -(-len(tasks) // (4 * n_workers)) if tasks else 1))
    batches = list(_batches(tasks, size))
    args = (scenario.file_data(), scenario.source)
    yield from _execute(executor, batches, args, seed, resolution, timeseries, n_workers, scheduler,
                        security, check_uncertainty(uncertainty))


def _workers(executor: str, workers: int | None) -> int:
    if executor == "serial":
        return 1
    if workers is not None and workers < 1:
        raise SimcityQualityError(f"workers must be at least 1, got {workers}.")
    return workers or len(os.sched_getaffinity(0))


def _execute(executor, batches, args, seed, resolution, timeseries, n_workers, scheduler, security,
             uncertainty="noise"):
    """Yield (batch, result) as batches complete."""
    call = (seed, resolution, timeseries, uncertainty)
    if executor == "serial":
        for batch in batches:
            yield batch, run_batch(*args, _plain(batch), *call)
    elif executor == "processes":
        yield from _processes(batches, args, call, n_workers)
    else:
        yield from _dask(batches, args, call, n_workers, scheduler, security)


def _plain(batch):
    return [(int(p), int(r), o) for p, r, o in batch]


def _processes(batches, args, call, n_workers):
    # `import mesa` (3.3) forces "spawn" on the whole process: choose the context explicitly.
    # forkserver: workers fork from a clean server that has the package imported once.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simcity_quality.experiments.worker"])
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        pending = {}
        queue = iter(batches)
        # keep a bounded number of tasks in flight, so memory stays flat
        for batch in queue:
            pending[pool.submit(run_batch, *args, _plain(batch), *call)] = batch
            if len(pending) >= 2 * n_workers:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                batch = pending.pop(fut)
                yield batch, fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(run_batch, *args, _plain(nxt), *call)] = nxt


def _dask(batches, args, call, n_workers, scheduler, security):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own_client = not isinstance(scheduler, Client)
    if not own_client:
        client = scheduler
    elif scheduler is None:
        # never expose a scheduler by accident: it runs whatever code it is sent
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0",
                               silence_logs=40)
        client = Client(cluster)
    else:
        try:
            client = (Client(scheduler, security=security, timeout=30) if security
                      else Client(scheduler, timeout=30))
        except (OSError, TimeoutError) as exc:  # CommClosedError is an OSError
            raise SimcityQualityError(
                f"could not connect to the Dask scheduler at {scheduler!r} ({exc}). Check the "
                "address; a scheduler started with TLS needs tls:// and the certificates "
                "(--tls-ca, --tls-cert, --tls-key; see docs/experiments.md).") from None
    try:
        in_flight = 2 * max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        queue = iter(batches)
        futures = {}
        for batch in queue:
            futures[client.submit(run_batch, *args, _plain(batch), *call, pure=False)] = batch
            if len(futures) >= in_flight:
                break
        ac = as_completed(list(futures))
        for fut in ac:
            batch = futures.pop(fut)
            result = fut.result()
            fut.release()
            yield batch, result
            nxt = next(queue, None)
            if nxt is not None:
                new = client.submit(run_batch, *args, _plain(nxt), *call, pure=False)
                futures[new] = nxt
                ac.add(new)
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
