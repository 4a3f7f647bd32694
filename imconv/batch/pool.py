"""Run a batch's jobs on this machine: in this process, or on a pool of worker processes.

Every job runs through :func:`run_job`, here or in a worker: it makes the job's mirrored
folders, filters the file with :func:`imconv.stream.process_file` (which writes through a
temporary file and a rename) and returns an :class:`~imconv.batch.results.Outcome`; errors
are returned, never raised, so one file never stops the others.

The pool starts its workers with ``spawn``: a fresh interpreter that imports NumPy after
the BLAS thread variables are set to 1, so that N workers run N threads, not N x cores.
The recipe goes to each worker once, when it starts, and each worker plans every step
once per image geometry. Ctrl-C (in this process, or in the whole process group
from a terminal) stops the workers' current files at once, each removing its temporary
file, lets no new file start, and keeps every file already written.

This module imports no NumPy at import time: workers import it after their set-up.
"""

from __future__ import annotations

import _thread
import contextlib
import multiprocessing
import os
import pickle
import re
import signal
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imconv.errors import ImageWriteError, ImconvError

from .jobs import STDIO, Job
from .results import OnOutcome, Outcome

if TYPE_CHECKING:  # NumPy loads in a worker after its BLAS threads are set (see above)
    from imconv.stream import Planner, Recipe

# Thread pools of the numeric libraries, sized from these when NumPy loads.
BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# The names imconv.images.write_atomic gives its temporary files (tempfile's 8 random
# characters between the output's stem and suffix, after a dot).
_TEMPORARY = re.compile(r"^\.(?P<stem>.+)\.[a-z0-9_]{8}(?P<suffix>\.[^.]*)?$")


@dataclass(frozen=True)
class BatchTask:
    """What every job of a batch shares: the recipe, and the autotuning choices known.

    ``token`` names the batch in worker processes, which keep one
    :class:`~imconv.stream.Planner` per batch; ``started`` is when the batch began (a
    timestamp), to recognise the outputs it wrote; ``store`` is a copy of the autotuning
    store as the batch began (measurements made in workers come back in the records).
    """

    recipe: Recipe
    store: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.time)


_planners: dict[str, Planner] = {}


def _planner(task: BatchTask) -> Planner:
    """This process's planner for the batch (one per batch, kept while the process lives)."""
    from imconv.stream import Planner

    if task.token not in _planners:
        _planners.clear()  # one batch at a time per process
        _planners[task.token] = Planner(task.recipe, store=dict(task.store))
    return _planners[task.token]


def _make_folder(folder: Path) -> None:
    """Create a mirrored output folder (and its parents), or say why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageWriteError(
            f"cannot create the output folder {str(folder)!r}: {error.strerror or error}"
        ) from error


def _unexpected(error: BaseException) -> ImconvError:
    """An error imconv did not foresee, as a per-file failure (its cause kept)."""
    wrapped = ImconvError(
        f"unexpected {type(error).__name__}: {error}",
        hint="this is a bug in imconv; --traceback shows where",
    )
    wrapped.__cause__ = error
    return wrapped


def _written_since(path: str, since: float) -> bool:
    """Whether ``path`` is a file made since ``since`` (a timestamp; 1 s of clock slack)."""
    try:
        return os.stat(path).st_mtime >= since - 1
    except OSError:
        return False


def _recipe_for(job: Job, task: BatchTask) -> Recipe:
    """The job's recipe: a rerun may replace the output its first run wrote.

    Deciding the outputs refused existing ones (unless replacing them), so an output made
    since the batch began comes from this job: a cluster that lost a finished task's result
    (its worker died) runs the task again, and it writes the same file again.
    """
    recipe = task.recipe
    if recipe.output.overwrite or job.destination == STDIO:
        return recipe
    if _written_since(job.destination, task.started):
        return replace(recipe, output=replace(recipe.output, overwrite=True))
    return recipe


def run_job(index: int, job: Job, task: BatchTask) -> Outcome:
    """Filter one file; its error is returned in the outcome, not raised.

    Ctrl-C (``KeyboardInterrupt``) is not caught: the temporary file is removed on the
    way out and the caller stops the batch.
    """
    from imconv.stream import Planner, process_file

    try:
        if job.mirrored:
            _make_folder(Path(job.destination).parent)
        planner = _planner(task)
        recipe = _recipe_for(job, task)
        if recipe is not task.recipe:
            planner = Planner(recipe, store=planner.store)
        record = process_file(job.source, job.destination, recipe, planner)
        return Outcome(index, job, record=record)
    except ImconvError as error:
        return Outcome(index, job, error=error)
    except OSError as error:
        wrapped = ImageWriteError(str(error))
        wrapped.__cause__ = error
        return Outcome(index, job, error=wrapped)
    except Exception as error:
        return Outcome(index, job, error=_unexpected(error))


def run_serial(
    jobs: Sequence[Job], task: BatchTask, *, workers: int = 1, report: OnOutcome
) -> tuple[list[Outcome], bool]:
    """Run the jobs one after the other in this process; True when Ctrl-C stopped them."""
    outcomes: list[Outcome] = []
    try:
        for index, job in enumerate(jobs):
            outcomes.append(run_job(index, job, task))
            report(outcomes[-1])
    except KeyboardInterrupt:
        return outcomes, True
    return outcomes, False


class _Worker:
    """The state of a pool worker: its task, and whether it is filtering or stopping."""

    task: BatchTask | None = None
    busy = False
    stopping = False


def _on_interrupt(signum: int, frame: Any) -> None:
    """SIGINT in a worker: stop the current file (once), and take no new one."""
    first = not _Worker.stopping
    _Worker.stopping = True
    if _Worker.busy and first:
        raise KeyboardInterrupt


def _watch(stop: Any) -> None:
    """Wait for the batch's stop event, then interrupt the worker's main thread."""
    stop.wait()
    _thread.interrupt_main(signal.SIGINT)


def _start_worker(payload: bytes, stop: Any) -> None:
    """Pool initializer: one BLAS thread, the SIGINT handler, then the task (NumPy loads)."""
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")
    signal.signal(signal.SIGINT, _on_interrupt)
    threading.Thread(target=_watch, args=(stop,), daemon=True).start()
    _Worker.task = pickle.loads(payload)


def _run_in_worker(index: int, job: Job) -> Outcome:
    """A pool worker's job: the file, or an interrupted outcome when stopping."""
    if _Worker.stopping or _Worker.task is None:
        return Outcome(index, job)
    _Worker.busy = True
    try:
        return run_job(index, job, _Worker.task)
    except KeyboardInterrupt:
        return Outcome(index, job)
    finally:
        _Worker.busy = False


def _outcome(future: Future, index: int, job: Job, *, stopping: bool) -> Outcome:
    """The outcome a finished future holds; a lost worker fails the job (unless stopping)."""
    if future.cancelled():
        return Outcome(index, job)
    error = future.exception()
    if error is None:
        return future.result()
    if stopping or isinstance(error, KeyboardInterrupt):
        return Outcome(index, job)
    if isinstance(error, BrokenProcessPool):
        return Outcome(
            index,
            job,
            error=ImconvError(
                "a worker process died before this file was done (killed, or out of memory)"
            ),
        )
    return Outcome(index, job, error=_unexpected(error))


def _collect(
    pending: dict[Future, int], jobs: Sequence[Job], outcomes: list[Outcome], report: OnOutcome
) -> None:
    """Report each future's outcome as it finishes."""
    for future in as_completed(pending):
        index = pending.pop(future)
        outcomes.append(_outcome(future, index, jobs[index], stopping=False))
        report(outcomes[-1])


def _drain(pending: dict[Future, int], jobs: Sequence[Job], outcomes: list[Outcome]) -> bool:
    """After Ctrl-C: cancel what has not started, wait for the workers to stop their
    current files; False if a second Ctrl-C cut the wait short."""
    for future in pending:
        future.cancel()
    try:
        wait(pending)
    except KeyboardInterrupt:
        return False
    outcomes += [_outcome(f, i, jobs[i], stopping=True) for f, i in pending.items()]
    return True


def run_pool(
    jobs: Sequence[Job], task: BatchTask, *, workers: int, report: OnOutcome
) -> tuple[list[Outcome], bool]:
    """Run the jobs on ``workers`` processes; True when Ctrl-C stopped them."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    payload = pickle.dumps(task)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(payload, stop)
    )
    outcomes: list[Outcome] = []
    pending: dict[Future, int] = {}
    start, patient, interrupted = time.time(), True, False
    try:
        for index, job in enumerate(jobs):
            pending[pool.submit(_run_in_worker, index, job)] = index
        _collect(pending, jobs, outcomes, report)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        patient = _drain(pending, jobs, outcomes)
    finally:
        pool.shutdown(wait=patient, cancel_futures=True)
    remove_temporaries(jobs, since=start)
    return outcomes, interrupted


def _temporaries(folder: Path, names: set[tuple[str, str]], since: float) -> list[Path]:
    """Temporary files in ``folder`` for the given output (stem, suffix) pairs, made since."""
    try:
        with os.scandir(folder) as listing:
            entries = [entry for entry in listing if entry.name.startswith(".")]
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if not match or (match["stem"], match["suffix"] or "") not in names:
            continue
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_mtime >= since - 1:
                found.append(Path(entry.path))
    return found


def remove_temporaries(jobs: Sequence[Job], *, since: float) -> list[Path]:
    """Remove the temporary files of the jobs' outputs left by killed workers.

    A worker killed while writing (out of memory, SIGKILL, a Dask worker restarted)
    cannot remove its temporary file; the rerun of its job wrote the output whole. Only
    files named as :func:`imconv.images.write_atomic` names them, for these outputs, and
    made since ``since`` (a timestamp) are removed. Returns what was removed.
    """
    folders: dict[Path, set[tuple[str, str]]] = defaultdict(set)
    for job in jobs:
        if job.destination != STDIO:
            path = Path(job.destination)
            folders[path.parent].add((path.stem, path.suffix))
    removed = []
    for folder, names in folders.items():
        for path in _temporaries(folder, names, since):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
