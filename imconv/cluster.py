"""A Dask cluster for one run: a ``LocalCluster`` started for it, or a running scheduler.

Batches (:mod:`imconv.batch.cluster`, one task per file) and images larger than memory
(:mod:`imconv.tiles`, one task per strip) connect the same way: ``"local"`` starts
single-threaded worker processes that listen on 127.0.0.1 only, an address such as
``tcp://host:8786`` joins a running scheduler. Dask (the optional extra ``imconv[dask]``)
is imported only when a run asks for it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

from imconv.choices import LOCAL_SCHEDULER
from imconv.environment import cores
from imconv.errors import ImconvError, InvalidParameterError

__all__ = ["CONNECT_TIMEOUT", "DASK_HINT", "LOCAL", "check_scheduler", "connect",
           "distributed", "local_options"]  # fmt: skip

LOCAL = LOCAL_SCHEDULER
DASK_HINT = "pip install 'imconv[dask]'"
CONNECT_TIMEOUT = "10s"


def check_scheduler(address: Any, *, threads: bool = False) -> Any:
    """``local``, or a scheduler address with its protocol (``tcp://host:8786``); with
    ``threads``, None too (this process's threads, no cluster)."""
    if address is None and threads:
        return None
    if address != LOCAL and (not isinstance(address, str) or "://" not in address):
        allowed = "'local' or a Dask scheduler address such as tcp://host:8786"
        raise InvalidParameterError(
            "scheduler", address, f"None (threads), {allowed}" if threads else allowed
        )
    return address


def distributed(hint: str = DASK_HINT) -> Any:
    """The ``distributed`` package, or an error whose ``hint`` says how to install it."""
    try:
        import distributed as package
    except ImportError as error:
        raise ImconvError(
            "`scheduler` needs Dask (dask and distributed), which is not installed", hint=hint
        ) from error
    return package


def local_options(workers: int | None = None) -> dict[str, Any]:
    """``LocalCluster`` options: ``workers`` single-threaded processes on 127.0.0.1 only.

    The scheduler's HTTP server (health and metrics routes, which it starts even without a
    dashboard) listens on a free port of 127.0.0.1 rather than on 8787, which another
    cluster or a dashboard may hold; no dashboard is served.
    """
    return dict(
        n_workers=workers or cores(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=logging.ERROR,
    )


@contextlib.contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Processes started inside ignore SIGINT: a terminal's Ctrl-C reaches the whole process
    group, and the client, not each worker, stops the run (the cluster closes after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def connect(address: str, *, workers: int | None = None, hint: str = DASK_HINT) -> Iterator[Any]:
    """A Dask client of the scheduler at ``address``, or of a ``LocalCluster`` for the run
    (``workers`` processes, default the number of cores; see :func:`local_options`),
    closed with the cluster at the end. ``hint`` says how to install Dask when it is
    missing."""
    package = distributed(hint)
    check_scheduler(address)
    with contextlib.ExitStack() as stack:
        if address == LOCAL:
            with _children_ignore_ctrl_c():
                cluster = stack.enter_context(package.LocalCluster(**local_options(workers)))
            target: Any = cluster
        else:
            target = address
        try:
            client = stack.enter_context(package.Client(target, timeout=CONNECT_TIMEOUT))
        except OSError as error:
            raise ImconvError(
                f"cannot reach the Dask scheduler at {address!r}: {error}",
                hint="start one with 'dask scheduler', or use `scheduler` local",
            ) from error
        yield client
