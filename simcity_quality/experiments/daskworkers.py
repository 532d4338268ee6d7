"""Dask workers that end with the sweep: a worker plugin for a ``LocalCluster`` the sweep started.

In a module of its own, so that ``distributed`` is imported only where Dask is used.
"""

from distributed.diagnostics.plugin import WorkerPlugin

from .worker import end_with


class EndWithSweep(WorkerPlugin):
    """:func:`~.worker.end_with` in every worker of the cluster, also those its nannies restart
    (``distributed`` ends a nanny's workers with the nanny too; this does not rely on that)."""

    idempotent = True

    def __init__(self, pid: int):
        self.pid = pid

    def setup(self, worker) -> None:
        """Called by Dask in each worker as it starts."""
        end_with(self.pid)
