"""Decide every output of a batch, and refuse conflicts, before any work.

All output names are decided, and every conflict found, before any image is processed:
an input is never an output, two inputs never share an output, an output never lands
outside the output folder, and existing outputs are an error unless they are to be kept
(``skip_existing``) or replaced (``overwrite``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    OutputExistsError,
)

from .inputs import Selection, find_inputs
from .jobs import LISTED, STDIO, Batch, Existing, Job, Naming

__all__ = ["assign_outputs", "check_report"]


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
            raise InvalidParameterError("output", None, "given when reading stdin (use `output` -)")
        return Job(source, str(naming.name(name)))
    if output != STDIO and Path(output).is_dir():
        return Job(source, str(Path(output) / naming.name(name).name))
    if naming.extension and output != STDIO and Path(output).suffix.lower() != naming.extension:
        raise InvalidParameterError(
            "format", naming.extension.lstrip("."), f"the suffix of `output` {output!r} or left out"
        )
    return Job(source, output)


def assign_outputs(
    inputs: Sequence[str],
    output: str | None,
    *,
    naming: Naming,
    selection: Selection | None = None,
    existing: Existing = Existing.ERROR,
) -> Batch:
    """Decide every job's destination and check them all before any work starts.

    Parameters
    ----------
    inputs
        Files, folders, glob patterns, or ``-`` alone for standard input.
    output
        None (beside the input), a file, ``-`` (stdout), or a folder; several inputs, a
        folder or a pattern need an existing folder, below which the tree is mirrored.
    naming
        Output names (``suffix``, ``format``).
    selection
        Recursion and include/exclude patterns for folders and patterns.
    existing
        What to do with outputs that exist.

    Returns
    -------
    Batch

    Raises
    ------
    InvalidParameterError
        Several inputs or a folder without an output folder, ``-`` mixed with other inputs.
    ImageReadError
        A missing input, a pattern that matches nothing, an unreadable folder.
    ImageWriteError
        An output that would land outside the output folder.
    OutputExistsError
        Outputs that exist (unless kept or replaced), an output that is an input, or one
        output for two inputs.
    """
    if STDIO in inputs and len(inputs) > 1:
        raise InvalidParameterError("inputs", STDIO, "the only input when reading stdin")
    single = len(inputs) == 1 and not Path(inputs[0]).is_dir() and not _is_pattern(inputs[0])
    if single:
        batch = Batch([_single_job(inputs[0], output, naming)], single=True)
    else:
        if output is None or output == STDIO or not Path(output).is_dir():
            raise InvalidParameterError(
                "output", output, "an existing folder when there are several inputs or a folder"
            )
        found = find_inputs(inputs, selection or Selection(), avoid=[Path(output)])
        jobs = [
            Job(source, str(Path(output) / naming.name(relative)), mirrored=True)
            for source, relative in found.pairs
        ]
        _check_inside(jobs, Path(output))
        batch = Batch(jobs, skipped=found.skipped, excluded=found.excluded)
    _check_clashes(batch.jobs)
    batch.jobs, batch.existing = _sort_existing(batch.jobs, existing)
    return batch


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
            hint="use `overwrite` to replace it, or `skip_existing` to keep it",
        )
    if present:
        names = ", ".join(repr(job.destination) for job in present[:LISTED])
        more = f" and {len(present) - LISTED} more" if len(present) > LISTED else ""
        raise OutputExistsError(
            f"{len(present)} outputs exist: {names}{more}",
            hint="use `skip_existing` to keep them and write the others, or `overwrite`",
        )
    return jobs, []


def check_report(path: str | os.PathLike[str], jobs: Sequence[Job]) -> None:
    """Refuse a report path that is an input or an output of the jobs (before any work)."""
    key = os.path.realpath(path)
    for job in jobs:
        if job.source != STDIO and key == os.path.realpath(job.source):
            raise OutputExistsError(
                f"report {str(path)!r} is an input; it is never overwritten",
                hint="choose another name for `report`",
            )
        if job.destination != STDIO and key == os.path.realpath(job.destination):
            raise OutputExistsError(
                f"report {str(path)!r} is also the output of {job.source!r}",
                hint="choose another name for `report`",
            )
