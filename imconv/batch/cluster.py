"""Run a batch on a Dask distributed cluster (the optional extra ``imconv[dask]``).

Each file is one task running :func:`imconv.batch.pool.run_job` on a worker, which reads
the input and writes the output itself (the workers must see the same files as this
machine, at the same paths) through a temporary file and a rename. Each task's
:class:`~imconv.batch.Outcome` comes back here, in the order the tasks finish, for the
progress bar, the summary and the report. When a worker dies, the scheduler runs its tasks
again on another worker; the temporary files it leaves are removed at the end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from imconv.cluster import check_scheduler, connect, distributed
from imconv.errors import ImconvError

from .jobs import Job
from .pool import BatchTask, remove_temporaries, run_job
from .results import OnOutcome, Outcome


def require(address: str) -> None:
    """Check ``scheduler`` before any work: its form, and that Dask is installed."""
    check_scheduler(address)
    distributed()


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
    package = distributed()
    keys = [f"imconv-{task.token}-{index}" for index in range(len(jobs))]
    outcomes: list[Outcome] = []
    futures: list[Any] = []
    try:
        futures = client.map(run_job, range(len(jobs)), jobs, task=task, key=keys, pure=False)
        where = {future.key: index for index, future in enumerate(futures)}
        for future in package.as_completed(futures):
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
