"""Built-in executors: where the runs of a sweep execute (this process, a process pool, or Dask)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Executor, Params, RunTask
from benchmark.execution import execute_task

log = logging.getLogger(__name__)


def die_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker when the sweep's process dies (Linux).

    A killed ``bench run`` would otherwise leave its workers training on, unseen, for minutes.
    Their runs are lost either way (a run folder is complete or absent) and resume next time.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


class Local(Executor):
    """This machine: one run after another in this process, or ``processes`` runs at once."""

    name = "local"

    class Params(Params):
        processes: int = Field(1, ge=1, description="runs at the same time (each in its own process)")

    @property
    def parallel(self) -> int:
        return self.params.processes

    def map(self, tasks: list[RunTask]) -> Iterator[dict[str, Any]]:
        if self.params.processes == 1:
            for task in tasks:
                yield execute_task(task)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited torch/OpenCV threads
        with ProcessPoolExecutor(self.params.processes, mp_context=context, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(execute_task, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


class Dask(Executor):
    """A Dask cluster: the scheduler at ``address``, or a LocalCluster of ``workers`` processes.

    Needs the optional extra: pip install 'bench[dask]'. Every worker must see the same results
    folder and feature store paths (one machine, or a shared file system).
    """

    name = "dask"

    class Params(Params):
        address: str | None = Field(None, description="scheduler address, e.g. tcp://10.0.0.5:8786; None: a LocalCluster")
        workers: int = Field(2, ge=1, description="LocalCluster worker processes")

    @property
    def parallel(self) -> int:
        return self.params.workers if self.params.address is None else 0

    def map(self, tasks: list[RunTask]) -> Iterator[dict[str, Any]]:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError:
            from benchmark.errors import UsageError

            raise UsageError("the dask executor needs Dask: pip install 'bench[dask]'") from None
        if self.params.address:
            client, cluster = Client(self.params.address), None
        else:
            cluster = LocalCluster(n_workers=self.params.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            # pure=False: two identical configs are still two runs; retries would rerun a failure
            futures = client.map(execute_task, tasks, pure=False)
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@hookimpl
def bench_register_executors() -> list[type[Executor]]:
    return [Local, Dask]
