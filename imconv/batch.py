"""Find the inputs, name the outputs, run the jobs and collect what happened.

All output names are decided, and every conflict found, before any image is processed:
an input is never an output, two inputs never share an output, an existing output is an
error unless overwriting was asked for. No terminal code here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    ImconvError,
    InvalidParameterError,
    OutputExistsError,
)

STDIO = "-"

# Suffixes Pillow reads that a folder scan picks up (other files are skipped and counted).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
    | {".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".ico"}
)


@dataclass(frozen=True)
class Job:
    """One image to filter: where it comes from and where its result goes."""

    source: str
    destination: str
    mirrored: bool = False  # the destination's folders below -o DIR may be created


@dataclass
class BatchResult:
    """What a run produced: one record per finished job, one reason per failed one.

    ``errors`` holds the exception of each failure, in the order of ``failures`` (for its
    hint, and its stack with ``--traceback``).
    """

    records: list = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    errors: list[ImconvError] = field(default_factory=list)

    def fail(self, source: str, error: ImconvError) -> None:
        """Record that the job reading ``source`` failed with ``error``."""
        self.failures.append((source, str(error)))
        self.errors.append(error)


def default_output(source: Path, slug: str, suffix: str | None = None) -> Path:
    """``dir/photo.jpg`` -> ``dir/photo_<slug>.jpg`` (or with another suffix)."""
    return source.with_name(f"{source.stem}_{slug}{suffix or source.suffix}")


def find_images(folder: Path, *, recursive: bool) -> tuple[list[Path], int]:
    """Image files under ``folder`` (sorted; hidden files skipped) and the count skipped."""
    found, skipped = [], 0
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, names in walker:
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(root) / name
            if name.startswith(".") or not path.is_file():
                continue
            if path.suffix.lower() in IMAGE_SUFFIXES:
                found.append(path)
            else:
                skipped += 1
    return found, skipped


def plan_jobs(
    inputs: Sequence[str],
    output: str | None,
    *,
    slug: str,
    suffix: str | None = None,
    recursive: bool = False,
    overwrite: bool = False,
) -> tuple[list[Job], int]:
    """Decide every job's destination and check them all before any work starts.

    Returns the jobs and the number of non-image files skipped in folders.

    Raises
    ------
    InvalidParameterError
        Several inputs or a folder without ``-o DIR``, a missing input, ``-`` mixed with
        other inputs.
    OutputExistsError
        An output that exists (without ``overwrite``), is an input, or is shared.
    """
    if STDIO in inputs and len(inputs) > 1:
        raise InvalidParameterError("INPUT", STDIO, "the only input when reading stdin")
    pairs, skipped = _sources(inputs, recursive=recursive)
    single = len(inputs) == 1 and not Path(inputs[0]).is_dir()
    if single:
        source, name = pairs[0]
        if output is None:
            if source == STDIO:
                raise InvalidParameterError("-o", None, "given when reading stdin (use -o -)")
            destination = str(default_output(Path(source), slug, suffix))
        elif output != STDIO and Path(output).is_dir():
            destination = str(default_output(Path(output) / name, slug, suffix))
        else:
            destination = output
        jobs = [Job(source, destination)]
    else:
        if output is None or output == STDIO or not Path(output).is_dir():
            raise InvalidParameterError(
                "-o", output, "an existing folder when there are several inputs or a folder"
            )
        jobs = [Job(str(s), str(default_output(Path(output) / rel, slug, suffix)), mirrored=True)
                for s, rel in pairs]  # fmt: skip
    _check(jobs, overwrite=overwrite)
    return jobs, skipped


def _sources(inputs: Iterable[str], *, recursive: bool) -> tuple[list[tuple[str, Path]], int]:
    """Each input file with its path relative to the output folder (the mirrored tree)."""
    pairs: list[tuple[str, Path]] = []
    skipped = 0
    for item in inputs:
        path = Path(item)
        if item == STDIO:
            pairs.append((STDIO, Path("stdin.png")))
        elif path.is_dir():
            found, count = find_images(path, recursive=recursive)
            skipped += count
            pairs += [(str(p), p.relative_to(path)) for p in found]
        elif path.is_file():
            pairs.append((item, Path(path.name)))
        else:
            raise ImageReadError(f"cannot read {item!r}: no such file or folder")
    return pairs, skipped


def _check(jobs: Sequence[Job], *, overwrite: bool) -> None:
    """Refuse outputs that are inputs, shared by two inputs, or exist (unless overwriting)."""
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
        if not overwrite and os.path.lexists(job.destination):
            raise OutputExistsError(
                f"output {job.destination!r} exists", hint="use --overwrite to replace it"
            )


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


def run_jobs(jobs: Sequence[Job], process: Callable[[Job], object]) -> BatchResult:
    """Run ``process`` on every job in order; a failing job is recorded, not fatal."""
    result = BatchResult()
    for job in jobs:
        try:
            if job.mirrored:
                Path(job.destination).parent.mkdir(parents=True, exist_ok=True)
            result.records.append(process(job))
        except ImconvError as error:
            result.fail(job.source, error)
        except OSError as error:
            wrapped = ImageWriteError(str(error))
            wrapped.__cause__ = error
            result.fail(job.source, wrapped)
    return result
