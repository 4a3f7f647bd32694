"""One job of a batch, as this process or any worker runs it; the batch in this process.

Every job runs through :func:`run_job`, here, in a worker process
(:mod:`imconv.batch.processes`) or on a Dask worker: it makes the job's mirrored
folders (never through a link leading out of the output folder, checked again as the file
is written), filters the file with :func:`imconv.stream.process_file` (which writes
through a temporary file and a rename) and returns an
:class:`~imconv.batch.results.Outcome`; errors are returned, never raised, so one file
never stops the others.

This module imports no NumPy (nor multiprocessing) at import time: workers import it after
their set-up.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from imconv.errors import ImageWriteError, ImconvError, OutputClosedError, ResourceError

from .jobs import STDIO, Job
from .results import OnOutcome, OnStrip, Outcome

if TYPE_CHECKING:  # NumPy loads in a worker after its BLAS threads are set (.processes)
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


def make_folder(folder: Path, root: str | None = None) -> None:
    """Create an output folder (and its parents) when missing, inside ``root`` when given,
    or say why it cannot be."""
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


def unexpected_error(error: BaseException) -> ImconvError:
    """An error imconv did not foresee, as a per-file failure (its cause kept)."""
    wrapped = ImconvError(
        f"unexpected {type(error).__name__}: {error}",
        hint="this is a bug in imconv; `traceback` shows where",
    )
    wrapped.__cause__ = error
    return wrapped


def written_since(path: str, since: float) -> bool:
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
    if written_since(job.destination, task.started):
        return replace(recipe, output=replace(recipe.output, overwrite=True))
    return recipe


def run_job(index: int, job: Job, task: BatchTask, *, on_strip: OnStrip | None = None) -> Outcome:
    """Filter one file; its error is returned in the outcome, not raised (``on_strip``:
    called after each strip of an image filtered tile by tile).

    Ctrl-C (``KeyboardInterrupt``) is not caught: the temporary file is removed on the
    way out and the caller stops the batch.
    """
    from imconv.stream import Planner, process_file

    try:
        if job.mirrored:
            make_folder(Path(job.destination).parent, job.root)
        else:
            _check_inside(Path(job.destination).parent, job.root)
        planner = _planner(task)
        recipe = _recipe_for(job, task)
        if recipe is not task.recipe:
            planner = Planner(recipe, store=planner.store)
        if by_tiles(job.source, task):
            from imconv.tiles import filter_tiled

            record = filter_tiled(job.source, job.destination, recipe, memory=task.memory,
                                  planner=planner, progress=on_strip)  # fmt: skip
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
        return Outcome(index, job, error=unexpected_error(error))


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
    jobs: Sequence[Job], task: BatchTask, *, report: OnOutcome, on_strip: OnStrip | None = None
) -> tuple[list[Outcome], bool]:
    """Run the jobs one after the other in this process; True when Ctrl-C stopped them
    (``on_strip``: the progress of an image filtered tile by tile)."""
    outcomes: list[Outcome] = []
    try:
        for index, job in enumerate(jobs):
            outcomes.append(run_job(index, job, task, on_strip=on_strip))
            report(outcomes[-1])
    except KeyboardInterrupt:
        return outcomes, True
    return outcomes, False


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
