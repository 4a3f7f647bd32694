"""Where strips are filtered: threads of this process, or the workers of a Dask cluster.

A runner submits tasks and hands back futures (``result()``, ``cancel()``). Threads share
this process's plans and reader; a Dask cluster (``scheduler="local"`` starts a
``LocalCluster`` of single-threaded worker processes on 127.0.0.1 for the run, an address
such as ``tcp://host:8786`` joins a running one) receives the pipeline once per worker
(scattered) and each worker reads the input path itself. When a worker dies, the
scheduler runs its strips again on another: strips are pure (they read the input and
return samples; only this process writes), so a retried strip gives the same samples.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from imconv import cluster
from imconv.errors import ImageReadError

__all__ = ["LOCAL", "Runner", "open_runner"]

LOCAL = cluster.LOCAL
THREADS = "threads"
INSTALL_HINT = "pip install 'imconv[tiles]'"


class Runner:
    """Threads of this process: ``workers`` strips filtered at once."""

    label = THREADS

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="imconv-tiles")

    @property
    def slots(self) -> int:
        """Strips that run at once."""
        return self.workers

    def share(self, value: Any) -> Any:
        """``value`` as the tasks receive it (threads share it as is)."""
        return value

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)``; a future."""
        return self._pool.submit(function, *args)

    def check_readable(self, path: str) -> None:
        """Nothing to check: this process opened the file."""

    def close(self) -> None:
        """Stop: queued tasks are cancelled, running ones finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskRunner(Runner):
    """The workers of a Dask cluster, through a ``distributed.Client``."""

    def __init__(self, client: Any, label: str) -> None:
        self.client, self.label = client, label
        self.workers = max(sum(client.nthreads().values()), 1)

    @property
    def slots(self) -> int:
        """Worker threads of the cluster now."""
        return max(sum(self.client.nthreads().values()), 1)

    def share(self, value: Any) -> Any:
        """``value`` scattered to every worker once (a future the tasks resolve)."""
        return self.client.scatter(value, broadcast=True, hash=False)

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on a worker; a ``distributed`` future."""
        return self.client.submit(function, *args, pure=False)

    def check_readable(self, path: str) -> None:
        """Raise when a worker cannot read ``path`` (they read the input themselves)."""
        found = self.client.run(_readable, path)
        blind = {worker: why for worker, why in found.items() if why}
        if blind:
            worker, why = next(iter(sorted(blind.items())))
            raise ImageReadError(
                f"the Dask workers cannot read {path!r} ({len(blind)} of {len(found)}; "
                f"{worker}: {why})",
                hint="the workers read the input themselves: give a path they all see "
                "(a shared file system), or run without `scheduler`",
            )

    def close(self) -> None:
        """Nothing: the client and its cluster are closed by :func:`open_runner`."""


def _readable(path: str) -> str:
    """On a worker: ``""`` when ``path`` can be opened for reading, else why not."""
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as handle:
                handle.read(1)
    except OSError as error:
        return error.strerror or str(error)
    return ""


def check_scheduler(scheduler: str | None) -> str | None:
    """None (threads), ``local``, or a scheduler address with its protocol."""
    return cluster.check_scheduler(scheduler, threads=True)


@contextlib.contextmanager
def open_runner(scheduler: str | None, *, workers: int | None) -> Iterator[Runner]:
    """Threads (``scheduler=None``), a LocalCluster for the run (``"local"``), or a
    running cluster (an address): a :class:`Runner`, closed at the end."""
    scheduler = check_scheduler(scheduler)
    if scheduler is None:
        runner = Runner(workers or 1)
        try:
            yield runner
        finally:
            runner.close()
        return
    label = "a local Dask cluster" if scheduler == LOCAL else scheduler
    with cluster.connect(scheduler, workers=workers, hint=INSTALL_HINT) as client:
        yield DaskRunner(client, label)
