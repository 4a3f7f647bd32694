"""What a run of ``imconv apply`` (or :func:`imconv.apply`) came to, and its exit status."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imconv.batch import BatchResult, Job
from imconv.errors import ExitStatus, ImconvError, OutputClosedError, status_of
from imconv.stream import ImageRecord, PlannedImage, Recipe


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
        A dry run's plans and peak memory estimate per file; nothing was computed or
        written.
    error
        The error that stopped the run before any work, if any.
    report
        The JSON report written, if any.
    jobs
        Every input with its output, as decided before any work.
    warnings
        What the run adjusted or doubts, one sentence each, parameters in backticks
        (``workers`` capped at the cores, outputs written as PNG...); per-file notes are
        in :attr:`notes`.
    """

    recipe: Recipe | None = None
    batch: BatchResult | None = None
    single: bool = False
    threads: int = 0
    workers: int = 0
    scheduler: str | None = None
    planned: list[PlannedImage] = field(default_factory=list)
    error: ImconvError | None = None
    report: Path | None = None
    jobs: list[Job] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[ImageRecord]:
        """One record per file written, in input order."""
        return [] if self.batch is None else self.batch.records

    @property
    def notes(self) -> list[tuple[str, str]]:
        """``(input, note)`` for what reading or filtering a file lost or changed (the
        first frame of an animation, CMYK without colour management...), once per file."""
        found = []
        for record in self.records:
            found += [(record.source, note) for note in dict.fromkeys(record.notes)]
        return found

    @property
    def unfinished(self) -> list[Job]:
        """The jobs whose output is missing: interrupted, or never started."""
        return [] if self.batch is None else list(self.batch.unfinished)

    @property
    def errors(self) -> list[ImconvError]:
        """The error that stopped the run, or each failed file's."""
        if self.error is not None:
            return [self.error]
        return [] if self.batch is None else list(self.batch.errors)

    @property
    def exit_status(self) -> ExitStatus:
        """0 success, 1 error, 2 usage, 3 some files of a batch failed, 130 interrupted,
        141 standard output closed early. Never 0 while a planned output is missing."""
        if self.error is not None:
            return status_of(self.error)
        batch = self.batch
        if batch is None:
            return ExitStatus.SUCCESS
        if batch.interrupted:
            return ExitStatus.INTERRUPTED
        if self.single:
            if batch.errors:
                return status_of(batch.errors[0]) if _closed(batch.errors[0]) else ExitStatus.ERROR
            return ExitStatus.ERROR if batch.unfinished else ExitStatus.SUCCESS
        return ExitStatus.PARTIAL if batch.failures or batch.unfinished else ExitStatus.SUCCESS

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
        raise ImconvError(f"{len(self.unfinished)} files were not done (interrupted)")


def _closed(error: ImconvError) -> bool:
    """Whether the error is standard output closed early (``| head``): status 141."""
    return isinstance(error, OutputClosedError)
