"""A batch: name every output, refuse conflicts before any work, run the jobs, collect.

All output names are decided, and every conflict found, before any image is processed:
an input is never an output, two inputs never share an output, an output never lands
outside ``-o DIR``, and existing outputs are an error unless they are to be kept
(``--skip-existing``) or replaced (``--overwrite``). :func:`run_batch` then runs the jobs
in this process, on a local process pool or on a Dask cluster, and gathers what each job
came to (:mod:`imconv.results`). No terminal code here: the caller renders progress from
the :class:`Outcome` of each job and the result at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    OutputExistsError,
)
from imconv.inputs import STDIO, Selection, find_images, find_inputs
from imconv.results import BatchResult, Outcome, Report, WorkerError

__all__ = [
    "STDIO",
    "BatchResult",
    "Existing",
    "Job",
    "Naming",
    "Outcome",
    "Plan",
    "Selection",
    "WorkerError",
    "check_report",
    "find_images",
    "plan_jobs",
    "run_batch",
]

# An error message lists at most this many existing outputs, then says how many more.
LISTED = 5


@dataclass(frozen=True)
class Job:
    """One image to filter: where it comes from and where its result goes."""

    source: str
    destination: str
    mirrored: bool = False  # the destination's folders below -o DIR may be created


class Existing(StrEnum):
    """What happens to outputs that already exist: an error, kept, or replaced."""

    ERROR = "error"
    SKIP = "skip"
    OVERWRITE = "overwrite"

    @classmethod
    def from_flags(cls, *, overwrite: bool, skip_existing: bool) -> Existing:
        """The policy of ``--overwrite`` / ``--skip-existing`` (not both)."""
        if overwrite and skip_existing:
            raise InvalidParameterError(
                "--overwrite", "--skip-existing", "given without --skip-existing (replace "
                "existing outputs or keep them, not both)"
            )  # fmt: skip
        return cls.OVERWRITE if overwrite else cls.SKIP if skip_existing else cls.ERROR


@dataclass(frozen=True)
class Naming:
    """How outputs are named: ``photo.jpg`` -> ``photo<tag><extension or .jpg>``."""

    tag: str
    extension: str | None = None

    @classmethod
    def parse(cls, *, slug: str, suffix: str | None = None, format: str | None = None) -> Naming:
        """``--suffix`` (default ``_<slug>``) and ``--format`` (``png`` or ``.png``), checked."""
        tag = f"_{slug}" if suffix is None else suffix
        if any(char in tag for char in ("/", "\\", os.sep, "\0")):
            raise InvalidParameterError("--suffix", suffix, "text without path separators")
        if format is None:
            return cls(tag)
        from imconv.images import SUPPORTED_SUFFIXES

        extension = "." + format.lower().lstrip(".")
        if extension not in SUPPORTED_SUFFIXES:
            choices = ", ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
            raise InvalidParameterError("--format", format, f"one of {choices}")
        return cls(tag, extension)

    def name(self, source: Path) -> Path:
        """The output for ``source`` in the same folder."""
        return source.with_name(f"{source.stem}{self.tag}{self.extension or source.suffix}")


@dataclass
class Plan:
    """The jobs to run and what planning left out."""

    jobs: list[Job]
    skipped: int = 0  # files that are not images
    excluded: int = 0  # files left out by --include/--exclude
    existing: list[Job] = field(default_factory=list)  # outputs kept by --skip-existing
    single: bool = False  # one named input: its failure is the run's error


def _is_pattern(item: str) -> bool:
    """A glob pattern (wildcards, and no file of that name)."""
    import glob

    return glob.has_magic(item) and not os.path.lexists(item)


def _single_job(source: str, output: str | None, naming: Naming) -> Job:
    """The job of one named input: beside it, into a folder, to a file or to stdout."""
    if source != STDIO and not Path(source).is_file():
        raise ImageReadError(f"cannot read {source!r}: no such file or folder")
    name = Path("stdin.png") if source == STDIO else Path(source)
    if output is None:
        if source == STDIO:
            raise InvalidParameterError("-o", None, "given when reading stdin (use -o -)")
        return Job(source, str(naming.name(name)))
    if output != STDIO and Path(output).is_dir():
        return Job(source, str(Path(output) / naming.name(name).name))
    if naming.extension and output != STDIO and Path(output).suffix.lower() != naming.extension:
        raise InvalidParameterError(
            "--format", naming.extension.lstrip("."), f"the suffix of -o {output!r} or left out"
        )
    return Job(source, output)


def plan_jobs(
    inputs: Sequence[str],
    output: str | None,
    *,
    naming: Naming,
    selection: Selection | None = None,
    existing: Existing = Existing.ERROR,
) -> Plan:
    """Decide every job's destination and check them all before any work starts.

    Parameters
    ----------
    inputs
        Files, folders, glob patterns, or ``-`` alone for standard input.
    output
        None (beside the input), a file, ``-`` (stdout), or a folder; several inputs, a
        folder or a pattern need an existing folder, below which the tree is mirrored.
    naming
        Output names (``--suffix``, ``--format``).
    selection
        Recursion and include/exclude patterns for folders and patterns.
    existing
        What to do with outputs that exist.

    Returns
    -------
    Plan

    Raises
    ------
    InvalidParameterError
        Several inputs or a folder without ``-o DIR``, ``-`` mixed with other inputs.
    ImageReadError
        A missing input, a pattern that matches nothing, an unreadable folder.
    ImageWriteError
        An output that would land outside the output folder.
    OutputExistsError
        Outputs that exist (unless kept or replaced), an output that is an input, or one
        output for two inputs.
    """
    if STDIO in inputs and len(inputs) > 1:
        raise InvalidParameterError("INPUT", STDIO, "the only input when reading stdin")
    single = len(inputs) == 1 and not Path(inputs[0]).is_dir() and not _is_pattern(inputs[0])
    if single:
        plan = Plan([_single_job(inputs[0], output, naming)], single=True)
    else:
        if output is None or output == STDIO or not Path(output).is_dir():
            raise InvalidParameterError(
                "-o", output, "an existing folder when there are several inputs or a folder"
            )
        found = find_inputs(inputs, selection or Selection(), avoid=[Path(output)])
        jobs = [Job(source, str(Path(output) / naming.name(relative)), mirrored=True)
                for source, relative in found.pairs]  # fmt: skip
        _check_inside(jobs, Path(output))
        plan = Plan(jobs, skipped=found.skipped, excluded=found.excluded)
    _check_clashes(plan.jobs)
    plan.jobs, plan.existing = _sort_existing(plan.jobs, existing)
    return plan


def _check_inside(jobs: Sequence[Job], folder: Path) -> None:
    """Refuse an output that would land outside ``folder`` (through a link, or ``..``)."""
    root = os.path.realpath(folder)
    for job in jobs:
        target = os.path.realpath(job.destination)
        if os.path.commonpath([root, target]) != root:
            raise ImageWriteError(
                f"output {job.destination!r} would be written outside the output folder "
                f"{str(folder)!r} (at {target!r})"
            )


def _check_clashes(jobs: Sequence[Job]) -> None:
    """Refuse an output that is an input, or that two inputs would both write."""
    sources = {os.path.realpath(job.source) for job in jobs if job.source != STDIO}
    seen: dict[str, str] = {}
    for job in jobs:
        if job.destination == STDIO:
            continue
        key = os.path.realpath(job.destination)
        if key in sources:
            raise OutputExistsError(
                f"output {job.destination!r} is an input; it is never overwritten"
            )
        if key in seen:
            raise OutputExistsError(
                f"inputs {seen[key]!r} and {job.source!r} would both write {job.destination!r}"
            )
        seen[key] = job.source


def _sort_existing(jobs: list[Job], existing: Existing) -> tuple[list[Job], list[Job]]:
    """The jobs to run and those whose output exists and is kept; or the error listing them."""
    if existing is Existing.OVERWRITE:
        return jobs, []
    present = [j for j in jobs if j.destination != STDIO and os.path.lexists(j.destination)]
    if existing is Existing.SKIP:
        kept = set(map(id, present))
        return [job for job in jobs if id(job) not in kept], present
    if len(present) == 1:
        raise OutputExistsError(
            f"output {present[0].destination!r} exists",
            hint="use --overwrite to replace it, or --skip-existing to keep it",
        )
    if present:
        names = ", ".join(repr(job.destination) for job in present[:LISTED])
        more = f" and {len(present) - LISTED} more" if len(present) > LISTED else ""
        raise OutputExistsError(
            f"{len(present)} outputs exist: {names}{more}",
            hint="use --skip-existing to keep them and write the others, or --overwrite",
        )
    return jobs, []


def check_report(path: str | os.PathLike[str], jobs: Sequence[Job]) -> None:
    """Refuse a report path that is an input or an output of the jobs (before any work)."""
    key = os.path.realpath(path)
    for job in jobs:
        if job.source != STDIO and key == os.path.realpath(job.source):
            raise OutputExistsError(
                f"report {str(path)!r} is an input; it is never overwritten",
                hint="choose another name for --report",
            )
        if job.destination != STDIO and key == os.path.realpath(job.destination):
            raise OutputExistsError(
                f"report {str(path)!r} is also the output of {job.source!r}",
                hint="choose another name for --report",
            )


def run_batch(
    plan: Plan,
    steps: Sequence[Any],
    settings: Any,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_outcome: Report | None = None,
) -> BatchResult:
    """Run every job of ``plan``; a failing job is recorded, not fatal; Ctrl-C stops cleanly.

    Parameters
    ----------
    plan
        From :func:`plan_jobs` (or ``Plan(jobs)``).
    steps, settings
        The :class:`~imconv.pipeline.FilterStep` chain and
        :class:`~imconv.pipeline.OutputSettings`, parsed once for the whole batch.
    workers
        Processes (default: the number of cores, at most one per job). One runs the jobs
        in this process with the engine on ``settings.threads``; more run a process pool
        whose workers use one engine thread each unless ``settings.threads`` says more.
    scheduler
        ``"local"`` for a Dask ``LocalCluster`` of ``workers`` processes, or the address
        of a Dask scheduler (``tcp://host:port``); None runs on this machine.
    on_outcome
        Called in this process with each job's :class:`Outcome` as it finishes.

    Returns
    -------
    BatchResult
        In job order, with the plan's counts of files left out. ``interrupted`` is set
        when Ctrl-C stopped the run: finished outputs stay, no partial file is left, the
        jobs not finished are counted in ``not_done``.

    Notes
    -----
    The local pool starts its workers with ``spawn``, which imports the ``__main__``
    module again in each worker: a script calling this function keeps its work under
    ``if __name__ == "__main__":``.
    """
    start = time.perf_counter()
    workers, outcomes, interrupted = _run(plan.jobs, steps, settings, workers=workers,
                                          scheduler=scheduler, report=on_outcome)  # fmt: skip
    result = BatchResult(skipped=plan.skipped, excluded=plan.excluded,
                         existing=len(plan.existing), interrupted=interrupted, workers=workers,
                         scheduler=scheduler)  # fmt: skip
    result.add(outcomes, len(plan.jobs))
    result.seconds = time.perf_counter() - start
    return result


def _run(
    jobs: Sequence[Job],
    steps: Sequence[Any],
    settings: Any,
    *,
    workers: int | None,
    scheduler: str | None,
    report: Report | None,
) -> tuple[int, list[Outcome], bool]:
    """Run the jobs where asked; the workers used, the outcomes, whether interrupted."""
    from imconv import executors

    task = executors.BatchTask(tuple(steps), settings)
    report = report or (lambda outcome: None)
    if scheduler is not None:
        from imconv import cluster

        count = workers or (executors.cores() if scheduler == cluster.LOCAL else 0)
        if not jobs:
            return count, [], False
        return count, *cluster.run_on_dask(jobs, task, scheduler=scheduler, workers=workers,
                                           report=report)  # fmt: skip
    count = max(1, min(workers or executors.cores(), len(jobs)))
    runner = executors.run_serial if count == 1 else executors.run_pool
    return count, *runner(jobs, task, workers=count, report=report)
