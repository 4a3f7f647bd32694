"""Run a batch on a Dask distributed cluster (the optional extra ``imconv[dask]``).

Each file is one task running :func:`imconv.batch.pool.run_job` on a worker, which reads
the input and writes the output itself (the workers must see the same files as this
machine, at the same paths) through a temporary file and a rename. Each task's
:class:`~imconv.batch.Outcome` comes back here, in the order the tasks finish, for the
progress bar, the summary and the report. When a worker dies, the scheduler runs its tasks
again on another worker; the temporary files it leaves are removed at the end.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from imconv.choices import LOCAL_SCHEDULER
from imconv.environment import cores
from imconv.errors import ImconvError, InvalidParameterError

from .jobs import Job
from .pool import BatchTask, remove_temporaries, run_job
from .results import OnOutcome, Outcome

LOCAL = LOCAL_SCHEDULER
INSTALL_HINT = "pip install 'imconv[dask]'"
CONNECT_TIMEOUT = "10s"


def check_scheduler(address: str) -> str:
    """``local``, or a scheduler address with its protocol (``tcp://host:8786``)."""
    if address != LOCAL and "://" not in address:
        raise InvalidParameterError(
            "scheduler", address, "'local' or a Dask scheduler address such as tcp://host:8786"
        )
    return address


def _distributed() -> Any:
    """The ``distributed`` package, or an error that says how to install it."""
    try:
        import distributed
    except ImportError as error:
        raise ImconvError(
            "`scheduler` needs Dask (dask and distributed), which is not installed",
            hint=INSTALL_HINT,
        ) from error
    return distributed


def require(address: str) -> None:
    """Check ``scheduler`` before any work: its form, and that Dask is installed."""
    check_scheduler(address)
    _distributed()


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
def connect(address: str, *, workers: int | None = None) -> Iterator[Any]:
    """A Dask client of the scheduler at ``address``, or of a ``LocalCluster`` for the run.

    The local cluster has ``workers`` processes (default: the number of cores) of one
    thread each and listens on 127.0.0.1 only (see :func:`local_options`).
    """
    distributed = _distributed()
    check_scheduler(address)
    with contextlib.ExitStack() as stack:
        if address == LOCAL:
            with _children_ignore_ctrl_c():
                cluster = stack.enter_context(distributed.LocalCluster(**local_options(workers)))
            target: Any = cluster
        else:
            target = address
        try:
            client = stack.enter_context(distributed.Client(target, timeout=CONNECT_TIMEOUT))
        except OSError as error:
            raise ImconvError(
                f"cannot reach the Dask scheduler at {address!r}: {error}",
                hint="start one with 'dask scheduler', or use `scheduler` local",
            ) from error
        yield client


def _outcome(future: Any, index: int, job: Job) -> Outcome:
    """The outcome a finished task holds, or a failure saying why the cluster gave up."""
    try:
        return future.result()
    except Exception as error:  # KilledWorker: its workers died too often; lost connection
        return Outcome(
            index,
            job,
            error=ImconvError(
                f"the Dask cluster could not run this file: {type(error).__name__}: {error}"
            ),
        )


def run_with_client(
    client: Any, jobs: Sequence[Job], task: BatchTask, *, report: OnOutcome
) -> tuple[list[Outcome], bool]:
    """Submit one task per job to ``client``; report outcomes as tasks finish.

    Returns the outcomes and True when Ctrl-C stopped the run (the tasks not started are
    cancelled; tasks already running on workers finish on their own).
    """
    distributed = _distributed()
    keys = [f"imconv-{task.token}-{index}" for index in range(len(jobs))]
    outcomes: list[Outcome] = []
    futures: list[Any] = []
    try:
        futures = client.map(run_job, range(len(jobs)), jobs, task=task, key=keys, pure=False)
        where = {future.key: index for index, future in enumerate(futures)}
        for future in distributed.as_completed(futures):
            index = where[future.key]
            outcomes.append(_outcome(future, index, jobs[index]))
            report(outcomes[-1])
    except KeyboardInterrupt:
        client.cancel(futures)
        return outcomes, True
    return outcomes, False


def run_on_dask(
    jobs: Sequence[Job],
    task: BatchTask,
    *,
    scheduler: str,
    workers: int | None = None,
    report: OnOutcome,
) -> tuple[list[Outcome], bool]:
    """Run the jobs on a Dask cluster (``local``, or a scheduler's address).

    Returns the outcomes and True when Ctrl-C stopped the run.
    """
    start = time.time()
    try:
        with connect(scheduler, workers=workers) as client:
            return run_with_client(client, jobs, task, report=report)
    finally:
        remove_temporaries(jobs, since=start)
