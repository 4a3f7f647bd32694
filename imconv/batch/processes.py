"""Run a batch's jobs on a pool of worker processes of this machine.

The pool starts its workers with ``spawn``: a fresh interpreter that imports NumPy after
the BLAS thread variables are set to 1, so that N workers run N threads, not N x cores.
The recipe goes to each worker once, when it starts, and each worker plans every step
once per image geometry. Ctrl-C (in this process, or in the whole process group
from a terminal) stops the workers' current files at once, each removing its temporary
file, lets no new file start, and keeps every file already written; so does SIGINT sent
to one worker. A worker started with SIGINT ignored keeps ignoring it. A worker that dies
(SIGKILL, out of memory) breaks the pool: the files it and the others had not finished
run again on a fresh pool, once (see :class:`_Rounds`).

Imported only when a batch runs on several processes (a single photo never pays for
``multiprocessing``); no NumPy at import time.
"""

from __future__ import annotations

import _thread
import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from imconv import early
from imconv.errors import ImconvError

from .jobs import Job
from .pool import (
    BLAS_THREADS,
    BatchTask,
    remove_temporaries,
    run_job,
    unexpected_error,
    written_since,
)
from .results import OnOutcome, Outcome

__all__ = ["run_pool"]


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
    return Outcome(index, job, error=unexpected_error(error))


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
            if written_since(job.destination, self.started):
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
