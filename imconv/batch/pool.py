"""Run a batch's jobs on this machine: in this process, or on a pool of worker processes.

Every job runs through :func:`run_job`, here or in a worker: it makes the job's mirrored
folders (never through a link leading out of the output folder, checked again as the file
is written), filters the file with :func:`imconv.stream.process_file` (which writes
through a temporary file and a rename) and returns an
:class:`~imconv.batch.results.Outcome`; errors are returned, never raised, so one file
never stops the others.

The pool starts its workers with ``spawn``: a fresh interpreter that imports NumPy after
the BLAS thread variables are set to 1, so that N workers run N threads, not N x cores.
The recipe goes to each worker once, when it starts, and each worker plans every step
once per image geometry. Ctrl-C (in this process, or in the whole process group
from a terminal) stops the workers' current files at once, each removing its temporary
file, lets no new file start, and keeps every file already written; so does SIGINT sent
to one worker. A worker started with SIGINT ignored keeps ignoring it. A worker that dies
(SIGKILL, out of memory) breaks the pool: the files it and the others had not finished
run again on a fresh pool, once (see :class:`_Rounds`).

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

from imconv import early
from imconv.errors import ImageWriteError, ImconvError, OutputClosedError, ResourceError

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
    ``tiles`` sends every image tile by tile (:func:`imconv.tiles.filter_tiled`), else
    only those that would not fit in ``memory`` (bytes; None: the default budget) or are
    Zarr folders (:func:`imconv.tiles.needs_tiles`).
    """

    recipe: Recipe
    store: dict[str, str] = field(default_factory=dict)
    memory: int | None = None
    tiles: bool = False
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.time)


_planners: dict[str, Planner] = {}
# Inputs checked against the default memory budget (those imconv.tiles can read by tiles).
_TILED_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8")


def _planner(task: BatchTask) -> Planner:
    """This process's planner for the batch (one per batch, kept while the process lives)."""
    from imconv.stream import Planner

    if task.token not in _planners:
        _planners.clear()  # one batch at a time per process
        _planners[task.token] = Planner(task.recipe, store=dict(task.store))
    return _planners[task.token]


def _make_folder(folder: Path, root: str | None) -> None:
    """Create a mirrored output folder (and its parents) inside ``root``, or say why not."""
    _check_inside(folder, root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageWriteError(
            f"cannot create the output folder {str(folder)!r}: {error.strerror or error}"
        ) from error


def _check_inside(folder: Path, root: str | None) -> None:
    """Refuse a ``folder`` that leads out of the output folder ``root`` (through a link made
    since the outputs were decided): its real path must lie inside ``root``'s."""
    if root is None:
        return
    base, target = os.path.realpath(root), os.path.realpath(folder)
    if os.path.commonpath([base, target]) != base:
        raise ImageWriteError(
            f"refusing to write into {str(folder)!r}: it leads outside the output folder "
            f"{root!r} (to {target!r})"
        )


def _unexpected(error: BaseException) -> ImconvError:
    """An error imconv did not foresee, as a per-file failure (its cause kept)."""
    wrapped = ImconvError(
        f"unexpected {type(error).__name__}: {error}",
        hint="this is a bug in imconv; `traceback` shows where",
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
            _make_folder(Path(job.destination).parent, job.root)
        else:
            _check_inside(Path(job.destination).parent, job.root)
        planner = _planner(task)
        recipe = _recipe_for(job, task)
        if recipe is not task.recipe:
            planner = Planner(recipe, store=planner.store)
        if by_tiles(job.source, task):
            from imconv.tiles import filter_tiled

            record = filter_tiled(job.source, job.destination, recipe, memory=task.memory,
                                  planner=planner)  # fmt: skip
        else:
            record = process_file(job.source, job.destination, recipe, planner, inside=job.root)
        return Outcome(index, job, record=record)
    except ImconvError as error:
        if isinstance(error.__cause__, BrokenPipeError):
            return Outcome(index, job, error=_closed(error.__cause__))
        return Outcome(index, job, error=error)
    except BrokenPipeError as error:
        return Outcome(index, job, error=_closed(error))
    except MemoryError as error:
        return Outcome(index, job, error=_out_of_memory(job, error))
    except OSError as error:
        wrapped = ImageWriteError(str(error))
        wrapped.__cause__ = error
        return Outcome(index, job, error=wrapped)
    except Exception as error:
        return Outcome(index, job, error=_unexpected(error))


def by_tiles(source: str, task: BatchTask) -> bool:
    """Whether the image at ``source`` is filtered tile by tile (see :class:`BatchTask`)."""
    return source != STDIO and (task.tiles or _too_large(source, task.memory))


def _too_large(source: str, memory: int | None) -> bool:
    """Whether ``source`` goes tile by tile: a Zarr folder, or over the memory budget (a
    TIFF under the default budget; any image under a budget given)."""
    if source.endswith(".zarr") and os.path.isdir(source):
        return True
    if memory is None and not source.lower().endswith(_TILED_SUFFIXES):
        return False  # photos: their headers are not read twice, imconv.tiles not loaded
    from imconv.tiles import needs_tiles

    return needs_tiles(source, memory)


def _closed(error: BrokenPipeError) -> OutputClosedError:
    """Standard output (``-``) closed before the image was written whole (``| head``)."""
    closed = OutputClosedError("cannot write '-': standard output was closed (broken pipe)")
    closed.__cause__ = error
    return closed


def _out_of_memory(job: Job, error: MemoryError) -> ResourceError:
    """A file that needed more memory than there was, as a per-file failure."""
    detail = f" ({error})" if str(error) else ""
    found = ResourceError(
        f"not enough memory to filter {job.source!r}{detail}",
        hint="use fewer `workers`, a smaller kernel or `dilation`, or `mode` same",
    )
    found.__cause__ = error
    return found


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
    """The state of a pool worker: its task, the batch's flags of begun jobs, and whether
    it is filtering or stopping."""

    task: BatchTask | None = None
    begun: Any = None  # one byte per job of the batch, set when a worker begins it
    busy = False
    stopping = False


def _on_interrupt(signum: int, frame: Any) -> None:
    """SIGINT in a worker: stop the current file (once), and take no new one."""
    first = not _Worker.stopping
    _Worker.stopping = True
    if _Worker.busy and first:
        raise KeyboardInterrupt


def _watch(stop: Any) -> None:
    """Wait for the batch's stop event, then interrupt the worker's main thread (or, where
    SIGINT is ignored, let its current file finish and take no new one)."""
    stop.wait()
    if signal.getsignal(signal.SIGINT) is _on_interrupt:
        _thread.interrupt_main(signal.SIGINT)
    else:
        _Worker.stopping = True


def _start_worker(payload: bytes, stop: Any, begun: Any) -> None:
    """Pool initializer: one BLAS thread, the SIGINT handler, then the task (NumPy loads).

    A worker started with SIGINT ignored (the command was, as ``imconv ... &`` in a script
    is) keeps ignoring it: an interrupt the command ignores must not stop its workers.
    """
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")
    early.hold_freed_memory()
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_interrupt)
    threading.Thread(target=_watch, args=(stop,), daemon=True).start()
    _Worker.task = pickle.loads(payload)
    _Worker.begun = begun


def _run_in_worker(index: int, job: Job) -> Outcome:
    """A pool worker's job: the file, or an interrupted outcome when stopping."""
    if _Worker.stopping or _Worker.task is None:
        return Outcome(index, job)
    _Worker.begun[index] = 1
    _Worker.busy = True
    try:
        return run_job(index, job, _Worker.task)
    except KeyboardInterrupt:
        return Outcome(index, job)
    finally:
        _Worker.busy = False


def _outcome(future: Future, index: int, job: Job, *, stopping: bool) -> Outcome | None:
    """The outcome a finished future holds; None when its worker died (or the pool was
    broken by another worker's death) before the job was done, unless stopping."""
    if future.cancelled():
        return Outcome(index, job)
    error = future.exception()
    if error is None:
        return future.result()
    if stopping or isinstance(error, KeyboardInterrupt):
        return Outcome(index, job)
    if isinstance(error, BrokenProcessPool):
        return None
    return Outcome(index, job, error=_unexpected(error))


def _drain(pending: dict[Future, int], jobs: Sequence[Job], outcomes: list[Outcome]) -> bool:
    """After Ctrl-C: cancel what has not started, wait for the workers to stop their
    current files; False if a second Ctrl-C cut the wait short."""
    for future in pending:
        future.cancel()
    try:
        wait(pending)
    except KeyboardInterrupt:
        return False
    for future, index in pending.items():
        outcome = _outcome(future, index, jobs[index], stopping=True)
        outcomes.append(outcome or Outcome(index, jobs[index]))
    return True


#: Why a file fails when the workers filtering it died twice.
DIED_TWICE = (
    "a worker process died twice while filtering this file (killed, or out of memory); "
    "the other files were not affected"
)


@dataclass
class _Rounds:
    """A batch on a local pool, in rounds: all jobs, then (once each) those a dead worker
    took with it. ``concurrent.futures`` fails every pending job when one worker dies and
    stops the others, so each round is a fresh pool."""

    jobs: Sequence[Job]
    payload: bytes
    report: OnOutcome
    started: float  # when the batch began (a timestamp): outputs written since are its own
    context: Any = field(default_factory=lambda: multiprocessing.get_context("spawn"))
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stop = self.context.Event()
        self.begun = self.context.Array("b", max(1, len(self.jobs)), lock=False)
        self.attempts = [0] * len(self.jobs)

    def run(self, workers: int) -> bool:
        """Run every job (lost ones once more); True when Ctrl-C stopped the batch."""
        waiting = list(range(len(self.jobs)))
        while waiting:
            # Jobs that were running when a worker died run alone, one at a time: if one
            # of them kills its worker again, it takes no healthy file with it.
            suspects = [index for index in waiting if self.attempts[index]]
            chosen = suspects or waiting
            lost, interrupted = self._round(chosen, 1 if suspects else min(workers, len(chosen)))
            if interrupted:
                return True
            waiting = sorted(set(waiting).difference(chosen) | set(self._again(lost)))
        return False

    def _round(self, indices: list[int], workers: int) -> tuple[list[int], bool]:
        """Run ``indices`` on a fresh pool: the jobs lost with a dead worker, and whether the
        batch was interrupted (Ctrl-C here, or SIGINT to one of the workers)."""
        pool = ProcessPoolExecutor(
            workers,
            mp_context=self.context,
            initializer=_start_worker,
            initargs=(self.payload, self.stop, self.begun),
        )
        pending: dict[Future, int] = {}
        lost: list[int] = []
        patient, interrupted = True, False
        try:
            for number, index in enumerate(indices):
                try:
                    pending[pool.submit(_run_in_worker, index, self.jobs[index])] = index
                except BrokenProcessPool:  # a worker died already: the rest wait their turn
                    lost += indices[number:]
                    break
            for future in as_completed(pending):
                index = pending.pop(future)
                outcome = _outcome(future, index, self.jobs[index], stopping=False)
                if outcome is None:
                    lost.append(index)
                    continue
                self.outcomes.append(outcome)
                self.report(outcome)
                if outcome.interrupted:  # a worker got SIGINT on its own: stop them all
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            interrupted = True
            self.stop.set()
            patient = _drain(pending, self.jobs, self.outcomes)
        finally:
            pool.shutdown(wait=patient, cancel_futures=True)
        return lost, interrupted

    def _again(self, lost: list[int]) -> list[int]:
        """The lost jobs to run once more; those lost a second time fail. A job counts as
        tried when a worker had begun it (all of them, if the worker died between jobs)."""
        begun = [index for index in lost if self.begun[index]]
        for index in begun or lost:
            self.attempts[index] += 1
        again = []
        for index in lost:
            self.begun[index] = 0
            if self.attempts[index] < 2:
                again.append(index)
                continue
            job = self.jobs[index]
            if _written_since(job.destination, self.started):
                # Written whole before its worker died, but never reported: failed, it
                # must not be there (a rerun with skip_existing makes it again).
                with contextlib.suppress(OSError):
                    os.unlink(job.destination)
            outcome = Outcome(index, job, error=ImconvError(DIED_TWICE))
            self.outcomes.append(outcome)
            self.report(outcome)
        return again


def run_pool(
    jobs: Sequence[Job], task: BatchTask, *, workers: int, report: OnOutcome
) -> tuple[list[Outcome], bool]:
    """Run the jobs on ``workers`` processes; True when Ctrl-C stopped them.

    A worker that dies (killed, out of memory) breaks the pool: the jobs it and the other
    workers had not finished run again on a fresh pool, once, those that were running
    one at a time; a job lost twice fails, the others are written. SIGINT to one worker
    stops the whole batch, as Ctrl-C does.
    """
    start = time.time()
    rounds = _Rounds(jobs, pickle.dumps(task), report, task.started)
    interrupted = rounds.run(workers)
    remove_temporaries(jobs, since=start)
    return rounds.outcomes, interrupted


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
