"""What a batch's jobs came to: an :class:`Outcome` per job, gathered in a :class:`BatchResult`.

Outcomes are made where the job ran (this process, a pool worker, a Dask worker) and sent
back here; errors travel with their class, message, hint and the worker's stack as text.
No terminal code here: :mod:`imconv.report` renders them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imconv.errors import ImconvError

from .jobs import Job

if TYPE_CHECKING:  # NumPy loads in workers only after their set-up (see .pool)
    from imconv.stream import ImageRecord
    from imconv.tiles import TileProgress


class WorkerError(Exception):
    """The stack of an error raised in a worker process, as text: the cause given to the
    error when it is rebuilt here, so that ``--traceback`` shows where it happened."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _revive(cls: type, args: tuple, state: dict[str, Any], stack: str | None) -> BaseException:
    """Rebuild an error sent from a worker without calling its constructor."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    if stack:
        error.__cause__ = WorkerError(stack)
    return error


def _revive_outcome(index: int, job: Job, record: Any, error: tuple | None) -> Outcome:
    return Outcome(index, job, record, None if error is None else _revive(*error))


@dataclass
class Outcome:
    """What one job came to: a record, an error, or neither (interrupted before it ended).

    Outcomes cross process boundaries: the error goes with its class, message, hint and
    the worker's stack as text (some error classes cannot be rebuilt from their message).
    """

    index: int
    job: Job
    record: ImageRecord | None = None
    error: ImconvError | None = None

    @property
    def interrupted(self) -> bool:
        """The job was stopped before it finished."""
        return self.record is None and self.error is None

    def __reduce__(self) -> tuple[Any, ...]:
        error = None
        if self.error is not None:
            stack = None
            if self.error.__traceback__ is not None:
                stack = "".join(traceback.format_exception(self.error))
            elif self.error.__cause__ is not None:
                stack = str(self.error.__cause__)
            error = (type(self.error), self.error.args, dict(vars(self.error)), stack)
        return (_revive_outcome, (self.index, self.job, self.record, error))


@dataclass
class BatchResult:
    """What a run produced: one record per finished job, one reason per failed one.

    ``errors`` holds the exception of each failure, in the order of ``failures`` (for its
    hint, and its stack with ``--traceback``). Records and failures follow the order of
    the jobs, whatever order they finished in.
    """

    records: list[ImageRecord] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0  # files that are not images
    errors: list[ImconvError] = field(default_factory=list)
    excluded: int = 0  # files left out by --include/--exclude
    existing: int = 0  # outputs that existed and were kept
    interrupted: bool = False
    unfinished: list[Job] = field(default_factory=list)  # jobs that did not finish
    seconds: float = 0.0  # wall time of the run
    workers: int = 1
    scheduler: str | None = None

    @property
    def not_done(self) -> int:
        """How many jobs did not finish (interrupted, or never started)."""
        return len(self.unfinished)

    def fail(self, source: str, error: ImconvError) -> None:
        """Record that the job reading ``source`` failed with ``error``."""
        self.failures.append((source, str(error)))
        self.errors.append(error)

    @property
    def megapixels(self) -> float:
        """Input megapixels of the finished jobs."""
        return sum(record.megapixels for record in self.records)

    @property
    def files_per_second(self) -> float:
        """Finished files per second of wall time."""
        return len(self.records) / self.seconds if self.seconds > 0 else 0.0

    @property
    def megapixels_per_second(self) -> float:
        """Input megapixels per second of wall time."""
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    def add(self, outcomes: Sequence[Outcome], jobs: Sequence[Job]) -> None:
        """Gather the outcomes of ``jobs`` (in job order); the jobs without a finished
        outcome (interrupted, or never started) are ``unfinished``."""
        finished = set()
        for outcome in sorted(outcomes, key=lambda outcome: outcome.index):
            if outcome.interrupted or outcome.index in finished:
                continue
            finished.add(outcome.index)
            if outcome.record is not None:
                self.records.append(outcome.record)
            elif outcome.error is not None:
                self.fail(outcome.job.source, outcome.error)
        self.unfinished = [job for index, job in enumerate(jobs) if index not in finished]


#: Called in the process that runs the batch with each job's outcome as it finishes.
OnOutcome = Callable[[Outcome], None]
#: Called in the process that filters an image tile by tile after each strip is written.
OnStrip = Callable[["TileProgress"], None]
