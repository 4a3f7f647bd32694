"""What a run of ``imconv apply`` (or :func:`imconv.apply`) came to, and its exit status."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imconv.batch import BatchResult
from imconv.errors import ExitStatus, ImconvError, status_of
from imconv.stream import ImageRecord, PlannedStep, Recipe


@dataclass
class RunResult:
    """Everything a run did: per-file outcomes, threads and workers, timings, exit status.

    Attributes
    ----------
    recipe
        The validated chain and options (None when the run stopped before it was made).
    batch
        What the files came to (None when the run stopped before any work, or a dry run).
    single
        One named input: its failure is the run's error (status 1), not a partial batch.
    threads, workers, scheduler
        Engine threads per image, processes, and the Dask scheduler (None: this machine).
    planned
        A dry run's plans: ``(input, steps)`` per file; nothing was computed or written.
    error
        The error that stopped the run before any work, if any.
    report
        The JSON report written, if any.
    """

    recipe: Recipe | None = None
    batch: BatchResult | None = None
    single: bool = False
    threads: int = 0
    workers: int = 0
    scheduler: str | None = None
    planned: list[tuple[str, list[PlannedStep]]] = field(default_factory=list)
    error: ImconvError | None = None
    report: Path | None = None

    @property
    def records(self) -> list[ImageRecord]:
        """One record per file written, in input order."""
        return [] if self.batch is None else self.batch.records

    @property
    def errors(self) -> list[ImconvError]:
        """The error that stopped the run, or each failed file's."""
        if self.error is not None:
            return [self.error]
        return [] if self.batch is None else list(self.batch.errors)

    @property
    def exit_status(self) -> ExitStatus:
        """0 success, 1 error, 2 usage, 3 some files of a batch failed, 130 interrupted."""
        if self.error is not None:
            return status_of(self.error)
        batch = self.batch
        if batch is None:
            return ExitStatus.SUCCESS
        if batch.interrupted:
            return ExitStatus.INTERRUPTED
        if self.single:
            return ExitStatus.ERROR if batch.errors else ExitStatus.SUCCESS
        return ExitStatus.PARTIAL if batch.failures else ExitStatus.SUCCESS

    def check(self) -> RunResult:
        """Raise the run's first error unless it succeeded; return the result otherwise.

        Raises
        ------
        ImconvError
            The error that stopped the run, the first failed file's, or an interruption.
        """
        if self.exit_status is ExitStatus.SUCCESS:
            return self
        if self.errors:
            raise self.errors[0]
        raise ImconvError("interrupted before every file was done")
