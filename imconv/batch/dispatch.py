"""Run a batch's jobs where asked: this process, a local pool, or a Dask cluster.

:func:`run_batch` sits above the runners (:mod:`.pool`, :mod:`.cluster`) and gathers what
each job came to into a :class:`~imconv.batch.results.BatchResult`; nothing below imports
it. No terminal code here: the caller renders progress from each job's outcome.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from imconv import early
from imconv.choices import LOCAL_SCHEDULER as LOCAL
from imconv.environment import cores

from .jobs import Batch, Job
from .pool import BatchTask, run_serial
from .results import BatchResult, OnOutcome, OnStrip, Outcome


def worker_count(jobs: int, workers: int | None, scheduler: str | None) -> int:
    """Processes a batch runs on: as asked (default: the cores), at most one per job on
    this machine (a pool or a local cluster); on a running cluster, its own (0: unknown)."""
    if scheduler is not None and scheduler != LOCAL:
        return workers or 0
    return max(1, min(workers or cores(), jobs))


def run_batch(
    batch: Batch,
    task: BatchTask,
    *,
    workers: int,
    scheduler: str | None = None,
    on_outcome: OnOutcome | None = None,
    on_strip: OnStrip | None = None,
) -> BatchResult:
    """Run every job of ``batch``; a failing job is recorded, not fatal; Ctrl-C stops cleanly.

    Parameters
    ----------
    batch
        From :func:`~imconv.batch.outputs.assign_outputs` (or ``Batch(jobs)``).
    task
        The recipe every job runs (its threads already decided for ``workers``).
    workers
        Processes (:func:`worker_count`). One runs the jobs in this process; more run a
        process pool, or a Dask ``LocalCluster`` with ``scheduler="local"``.
    scheduler
        ``"local"`` or the address of a Dask scheduler (``tcp://host:port``); None runs
        on this machine.
    on_outcome
        Called in this process with each job's :class:`Outcome` as it finishes.
    on_strip
        Called with each :class:`~imconv.tiles.TileProgress` of an image filtered tile by
        tile in this process (``workers=1``, no scheduler).

    Returns
    -------
    BatchResult
        In job order, with the batch's counts of files left out. ``interrupted`` is set
        when Ctrl-C stopped the run: finished outputs stay, no partial file is left, the
        jobs not finished are listed in ``unfinished``.

    Notes
    -----
    The local pool starts its workers with ``spawn``, which imports the ``__main__``
    module again in each worker: a script calling this function keeps its work under
    ``if __name__ == "__main__":``.
    """
    start = time.perf_counter()
    outcomes, interrupted = _run(
        batch.jobs,
        task,
        workers=workers,
        scheduler=scheduler,
        report=on_outcome or (lambda outcome: None),
        on_strip=on_strip,
    )
    result = BatchResult(
        skipped=batch.skipped,
        excluded=batch.excluded,
        existing=len(batch.existing),
        interrupted=interrupted,
        workers=workers,
        scheduler=scheduler,
    )
    result.add(outcomes, batch.jobs)
    result.seconds = time.perf_counter() - start
    return result


def _run(
    jobs: Sequence[Job],
    task: BatchTask,
    *,
    workers: int,
    scheduler: str | None,
    report: OnOutcome,
    on_strip: OnStrip | None = None,
) -> tuple[list[Outcome], bool]:
    """Run the jobs where asked: the outcomes, and whether Ctrl-C stopped them."""
    if scheduler is not None or workers > 1:
        early.forget()  # the workers decode their own files
    if scheduler is not None:
        if not jobs:
            return [], False
        from .cluster import run_on_dask  # Dask and its logging only when asked for

        return run_on_dask(jobs, task, scheduler=scheduler, workers=workers or None, report=report)
    if workers == 1:
        return run_serial(jobs, task, report=report, on_strip=on_strip)
    from .processes import run_pool  # multiprocessing only for several processes

    return run_pool(jobs, task, workers=workers, report=report)
