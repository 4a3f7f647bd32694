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
from .jobs import LISTED, STDIO, TILED_SUFFIXES, Batch, Existing, Job, Naming, is_zarr, writable

__all__ = ["assign_outputs", "check_report"]


def _is_pattern(item: str) -> bool:
    """A glob pattern (wildcards, and no file of that name)."""
    import glob

    return glob.has_magic(item) and not os.path.lexists(item)


def _single_job(source: str, output: str | None, naming: Naming) -> Job:
    """The job of one named input: beside it, into a folder, to a file or to stdout."""
    if source != STDIO and not (Path(source).is_file() or is_zarr(source)):
        raise ImageReadError(f"cannot read {source!r}: no such file or folder")
    name = Path("stdin.png") if source == STDIO else Path(source)
    if output is None:
        if source == STDIO:
            raise InvalidParameterError(
                "output", None, "given when reading stdin (`output` - writes PNG to stdout)"
            )
        return Job(source, str(naming.name(name)))
    if output != STDIO and (
        (Path(output).is_dir() and not is_zarr(output)) or _names_folder(output)
    ):
        return Job(source, str(Path(output) / naming.name(name).name), root=output)
    if naming.extension and output != STDIO and Path(output).suffix.lower() != naming.extension:
        raise InvalidParameterError(
            "format", naming.extension.lstrip("."), f"the suffix of `output` {output!r} or left out"
        )
    if output != STDIO:
        _check_file_output(output)
    return Job(source, output)


def _names_folder(output: str) -> bool:
    """Whether ``output`` is written as a folder (``out/``), existing or not."""
    return output.endswith(("/", os.sep))


def _check_file_output(output: str) -> None:
    """Refuse an output file imconv cannot write (its suffix, a missing folder), before work."""
    from imconv.images import SUPPORTED_SUFFIXES

    path = Path(output)
    suffix = path.suffix.lower()
    if not writable(suffix):
        supported = [*SUPPORTED_SUFFIXES, *sorted(TILED_SUFFIXES)]
        raise ImageWriteError(
            f"cannot write {output!r}: unknown image suffix {suffix or '(none)'!r}; "
            f"supported: {', '.join(supported)}"
        )
    folder = path.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"cannot write {output!r}: output folder {str(folder)!r} {why}")


def _output_folder(output: str | None, inputs: Sequence[str]) -> str | None:
    """The output folder of several inputs, a folder or a pattern (made later when missing);
    None when each output goes beside its input (several named files without ``output``)."""
    if output is None:
        if all(Path(item).is_file() or is_zarr(item) for item in inputs):
            return None
        raise InvalidParameterError(
            "output", None, "a folder (made if missing) when an input is a folder or a pattern"
        )
    if output == STDIO:
        raise InvalidParameterError(
            "output", output, "a folder when there are several inputs, a folder or a pattern"
        )
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise InvalidParameterError(
            "output", output, "a folder when there are several inputs (it is a file)"
        )
    if not path.exists() and not _names_folder(output) and _looks_like_image(path):
        raise InvalidParameterError(
            "output",
            output,
            "a folder when there are several inputs (end it with / to make a folder of that name)",
        )
    return output


def _looks_like_image(path: Path) -> bool:
    """Whether a missing ``path`` has an image suffix (``-o result.png`` for a batch is a slip)."""
    from imconv.images import SUPPORTED_SUFFIXES

    return path.suffix.lower() in SUPPORTED_SUFFIXES


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
        None (beside each input), a file, ``-`` (stdout), or a folder (an existing one, or
        a name ending with ``/``); several inputs, a folder or a pattern write below a
        folder, mirroring the tree, which is made (with its parents) when the jobs run.
        Several named files without ``output`` write beside each input; a folder or a
        pattern needs ``output``.
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
        A folder or pattern without ``output``, a batch's ``output`` that is a file (or
        a missing name with an image suffix), ``-`` mixed with other inputs.
    ImageReadError
        A missing input, a pattern that matches nothing, an unreadable folder.
    ImageWriteError
        An output that would land outside the output folder; an output file whose suffix
        imconv cannot write or whose folder is missing.
    OutputExistsError
        Outputs that exist (unless kept or replaced), an output that is an input, or one
        output for two inputs.
    """
    if STDIO in inputs and len(inputs) > 1:
        raise InvalidParameterError("inputs", STDIO, "the only input when reading stdin")
    first = inputs[0] if inputs else ""
    single = len(inputs) == 1 and (is_zarr(first) or not Path(first).is_dir())
    single = single and not _is_pattern(first)
    if single:
        batch = Batch([_single_job(inputs[0], output, naming)], single=True)
    else:
        folder = _output_folder(output, inputs)
        avoid = [] if folder is None else [Path(folder)]
        found = find_inputs(inputs, selection or Selection(), avoid=avoid)
        if folder is None:
            jobs = [Job(source, str(naming.name(Path(source)))) for source, _ in found.pairs]
        else:
            jobs = [
                Job(source, str(Path(folder) / naming.name(relative)), mirrored=True, root=folder)
                for source, relative in found.pairs
            ]
            _check_inside(jobs, Path(folder))
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


def check_report(
    path: str | os.PathLike[str], jobs: Sequence[Job], *, overwrite: bool = False
) -> None:
    """Refuse a report path that cannot be written, before any work.

    The report is never an input or an output of the jobs, never a folder, never in a
    missing folder (but the output folder the run makes, or one below it), and an existing
    report is replaced only with ``overwrite``.

    Raises
    ------
    OutputExistsError
        The report is an input or an output, or exists (without ``overwrite``).
    ImageWriteError
        The report is a folder, or its folder is missing, not a folder or not writable.
    """
    key = os.path.realpath(path)
    shown = str(path)
    for job in jobs:
        if job.source != STDIO and key == os.path.realpath(job.source):
            raise OutputExistsError(
                f"report {shown!r} is an input; it is never overwritten",
                hint="choose another name for `report`",
            )
        if job.destination != STDIO and key == os.path.realpath(job.destination):
            raise OutputExistsError(
                f"report {shown!r} is also the output of {job.source!r}",
                hint="choose another name for `report`",
            )
    report = Path(path)
    if report.is_dir():
        raise ImageWriteError(f"cannot write the report {shown!r}: it is a folder")
    folder = report.parent
    if not folder.exists() and _made_by_the_run(folder, jobs):
        return
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"cannot write the report {shown!r}: folder {str(folder)!r} {why}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImageWriteError(
            f"cannot write the report {shown!r}: folder {str(folder)!r} is not writable"
        )
    if os.path.lexists(report) and not overwrite:
        raise OutputExistsError(
            f"report {shown!r} exists", hint="use `overwrite` to replace it, or another name"
        )


def _made_by_the_run(folder: Path, jobs: Sequence[Job]) -> bool:
    """Whether ``folder`` is the jobs' output folder, or below it (made when they run)."""
    target = os.path.realpath(folder)
    for root in {job.root for job in jobs if job.root is not None}:
        base = os.path.realpath(root)
        if os.path.commonpath([base, target]) == base:
            return True
    return False
