"""One image larger than memory, from its tiles to a tiled output: :func:`filter_tiled`.

The flow: the header (:func:`open_tiled`) -> the destination checked -> the chain planned
once on the image's geometry (:class:`Pipeline`) -> the strips sized for the memory
budget -> ``mean`` padding's channel means (a first pass over the input) -> ``rescale``'s
bounds (a first pass over the results) -> the strips filtered on the runner (threads, or
Dask workers), a few at a time, handed to the writer in order -> the output renamed into
place -> the record.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imconv import images
from imconv.environment import cores
from imconv.errors import ImconvError, InvalidParameterError, ResourceError
from imconv.stream import ImageRecord, Planner, Recipe, StageTime

from . import _budget, _sinks, _strips
from ._budget import Sizing
from ._cutting import cut
from ._pipeline import Pipeline
from ._reader import close_reader
from ._runners import Runner, check_scheduler, open_runner
from ._schedule import Progress, TileProgress, add_seconds, first_passes, in_order
from ._source import kind_of, open_tiled

#: Strips filtered at once by threads when ``workers`` is not given (at most the cores):
#: whole strips in parallel, each engine on one thread, measured faster than one strip at a
#: time on every core (the engine's threads meet at every band; strips never do), for
#: twice the strips' memory (benchmarks/RESULTS.md, "tiles").
STRIPS_AT_ONCE = 2

__all__ = ["TileRecord", "filter_tiled", "needs_tiles"]


@dataclass
class TileRecord(ImageRecord):
    """An :class:`~imconv.stream.ImageRecord` of a tiled run, with how it was cut.

    Stage times are summed over the strips, which run several at once (see
    :class:`~imconv.stream.ImageRecord`).

    Attributes
    ----------
    strips, strip_rows, band_rows
        Output strips, rows per strip and per band.
    tile
        The output's tiles (or Zarr chunks), pixels a side.
    workers, scheduler
        Strips at once and where: ``"threads"``, ``"a local Dask cluster"`` or the
        scheduler's address.
    memory_budget, memory_estimate, memory_baseline
        The budget, the sizing's estimate of the peak, and what the process held before
        the strips (all in bytes).
    peak_memory
        The process's peak resident memory (``VmHWM``; None where unknown). On a cluster
        it is this process's (the writer's), not the workers'.
    compression
        The output's compression.
    """

    strips: int = 0
    strip_rows: int = 0
    band_rows: int = 0
    tile: int = 0
    workers: int = 0
    scheduler: str = "threads"
    memory_budget: int = 0
    memory_estimate: int = 0
    memory_baseline: int = 0
    peak_memory: int | None = None
    compression: str = "none"

    def tiling(self) -> dict[str, object] | None:
        """How the run cut the image, its memory budget, estimate and peak (bytes)."""
        names = ("strips", "strip_rows", "band_rows", "tile", "workers", "scheduler",
                 "memory_budget", "memory_estimate", "memory_baseline", "peak_memory",
                 "compression")  # fmt: skip
        return {name: getattr(self, name) for name in names}


# --- when an image needs tiles ------------------------------------------------------------

# Bytes per pixel Pillow keeps for a decoded 8-bit image: grey, or colour and/or alpha.
_PILLOW_PIXEL = {False: 1, True: 4}


def _stream_bytes(height: int, width: int, channels: int, itemsize: int, alpha: bool) -> int:
    """What the stream holds of one image: the decoded input and the stored output (as
    Pillow keeps them), or the float working copy when that is larger."""
    pixel = _PILLOW_PIXEL[channels > 1 or alpha] if itemsize == 1 else itemsize * (channels + alpha)
    decoded = height * width * pixel
    floats = height * width * (channels + alpha) * 4
    return max(2 * decoded, floats)


def needs_tiles(path: str | Path, memory: Any = None) -> bool:
    """Whether the image at ``path`` should be filtered tile by tile.

    True for a Zarr folder (the stream cannot read one), and for any image whose decoded
    pixels and output (as the stream holds them), or its float working copy, would exceed
    ``memory``. Only headers are read.

    Parameters
    ----------
    path
        An image file or a Zarr folder.
    memory
        The budget (bytes or text such as ``"512MiB"``); default: what the process holds
        now plus :data:`~imconv.tiles.DEFAULT_FRACTION` of the available memory.

    Returns
    -------
    bool
        False also when the header cannot be read (the stream reports the error).
    """
    budget = _budget.default_budget() if memory is None else _budget.parse_memory(memory)
    kind = kind_of(path)
    if kind == "zarr":
        return True
    room = budget - _budget.resident_bytes()
    try:
        if kind == "tiff":
            image = open_tiled(path)
            size = _stream_bytes(image.height, image.width, image.channels,
                                 image.dtype.itemsize, image.alpha)  # fmt: skip
        else:
            header = images.probe(str(path), max_pixels=2**62)
            size = _stream_bytes(header.height, header.width, header.channels, 1, header.alpha)
    except (ImconvError, OSError):
        return False
    return size > room


def filter_tiled(
    source: str | Path,
    destination: str | Path,
    recipe: Recipe,
    *,
    memory: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
    band_rows: int | None = None,
    tile: int = _sinks.DEFAULT_TILE,
    compression: str | None = None,
    planner: Planner | None = None,
) -> TileRecord:
    """Filter a tiled TIFF or a Zarr array tile by tile into a tiled BigTIFF or Zarr.

    The output's samples equal those :func:`imconv.stream.process_file` writes for the
    same pixels (the same plans, bands on the same bit-exact rows, the same range rule
    and rounding), whatever the budget, the strips, the scheduler or the workers.

    Parameters
    ----------
    source
        A TIFF (tiled or striped, BigTIFF, OME-TIFF; its first series at full resolution)
        or a Zarr folder with one ``(H, W)`` or ``(H, W, C)`` array at its root. JPEG,
        PNG and other formats decoded whole are refused with how to convert them.
    destination
        ``.tif``/``.tiff``/``.btf``/``.tf8``: a tiled BigTIFF (the input's photometric
        and sample type kept as the stream keeps them); ``.zarr``: a Zarr v3 folder.
        Written through a temporary file or folder and renamed: whole or not at all.
    recipe
        The chain and its options, as for the stream (``montage`` is refused;
        ``recipe.output.overwrite`` allows replacing an existing output).
    memory
        The budget for the whole process's resident memory, in bytes or as text
        (``"512MiB"``, ``"2GB"``); default: what the process holds plus
        :data:`~imconv.tiles.DEFAULT_FRACTION` of the available memory. With a cluster,
        each worker's strips are sized by it too.
    scheduler
        None: threads of this process; ``"local"``: a Dask LocalCluster on 127.0.0.1 for
        the run; ``"tcp://host:port"``: a running Dask cluster, whose workers must read
        ``source`` at the same path.
    workers
        Strips filtered at once by threads (default 1: the engine's own threads use the
        cores), or the LocalCluster's worker processes (default: one per core).
    progress
        Called with a :class:`TileProgress` after each strip is written (and after each
        part of a first pass).
    chunk_rows, band_rows
        Output rows per strip and per band (tests force small ones); default: the largest
        the budget allows. Bands are rounded to the last step's bit-exact multiple
        (:attr:`imconv.engine.Plan.band_multiple`), strips to a multiple of the band.
    tile
        Output tiles (TIFF) or chunks (Zarr), pixels a side: a multiple of 16.
    compression
        ``"none"`` (default), ``"deflate"``, ``"zstd"`` or ``"lzw"`` (TIFF only).
    planner
        Keeps the plans and autotuning choices (default: a new one for ``recipe``).

    Returns
    -------
    TileRecord
        Sizes, stage times (read, means, prepare, each step with its algorithm, alpha,
        map, write), the cut (strips, rows, tile, workers, scheduler), the budget, the
        estimate and the measured peak resident memory of this process.

    Raises
    ------
    ImageReadError
        The source cannot be read tile by tile (the message says how to convert it), or
        the cluster's workers cannot read it.
    OutputExistsError, ImageWriteError
        As :func:`imconv.images.save_canvas`; nothing is left behind.
    InvalidParameterError
        A bad ``memory``, ``scheduler``, ``workers``, ``tile``, ``compression``,
        ``destination`` suffix, or ``montage``.
    ResourceError
        The budget cannot hold even one band of the chain.
    KeyboardInterrupt
        Ctrl-C: the runner is stopped and no output is left.

    Examples
    --------
    >>> from imconv.kernels import load_kernel                     # doctest: +SKIP
    >>> recipe = Recipe(kernels=(load_kernel("gaussian:sigma=3"),))  # doctest: +SKIP
    >>> filter_tiled("slide.tif", "out.tif", recipe, memory="512MiB")  # doctest: +SKIP
    """
    began = time.perf_counter()
    if recipe.mask is not None:
        raise InvalidParameterError("mask", recipe.mask, "left out for images filtered by tiles")
    image = open_tiled(source)
    target = _sinks.check_destination(destination, source=source, tile=tile,
                                      overwrite=recipe.output.overwrite,
                                      compression=compression)  # fmt: skip
    budget = _budget.default_budget() if memory is None else _budget.parse_memory(memory)
    scheduler = check_scheduler(scheduler)
    record = TileRecord(str(source), output=str(destination), width=image.width,
                        height=image.height, channels=image.channels,
                        mode=image.mode or f"{image.dtype.name}x{image.samples}",
                        notes=image.notes, tile=target.tile, memory_budget=budget,
                        compression=str(target.compression))  # fmt: skip
    threads, strips = _thread_rule(recipe, scheduler, workers)
    pipeline = Pipeline.make(image, recipe, planner or Planner(recipe), threads=threads)
    record.output_shape = pipeline.output_shape
    record.range_rule = str(pipeline.mapping.rule) if pipeline.mapping.mapped else "none"
    if recipe.verify:
        record.notes = (*record.notes, "verify is not run on tiles")
    seconds: dict[str, float] = {}
    local = scheduler is None
    cuts = {"budget": budget, "chunk_rows": chunk_rows, "band_rows": band_rows}
    try:
        if local:
            sizing, strips = _cut_here(pipeline, strips, fixed=workers is not None, **cuts)
        with open_runner(scheduler, workers=strips if local else workers) as runner:
            runner.check_readable(image.path)
            if not local:  # each worker holds one strip; this process the window's
                sizing = cut(pipeline, workers=1, waiting=runner.slots + 1,
                             parallel=runner.slots, **cuts)  # fmt: skip
            record.scheduler, record.workers = runner.label, runner.slots
            first_passes(pipeline, runner, progress, seconds)
            _write(pipeline, runner, target, progress, seconds)
    finally:  # the plans and decoded tile rows of this run are not kept in this process
        pipeline.release()
        close_reader(image)
    _finish(record, pipeline, sizing, seconds, time.perf_counter() - began)
    return record


def _cut_here(
    pipeline: Pipeline, strips: int, *, fixed: bool, budget: int, **cuts: Any
) -> tuple[Sizing, int]:
    """Size the strips of a run on this process's threads (after a first band has loaded
    what the chain needs); a budget too small for ``strips`` at once falls back to one
    strip at a time on every core, unless ``workers`` was given."""
    _strips.warm_up(pipeline)
    try:
        return cut(pipeline, budget=budget, workers=strips, waiting=2, **cuts), strips
    except ResourceError:
        if fixed or strips == 1:
            raise
    pipeline.use_threads(pipeline.recipe.options.threads * strips)
    return cut(pipeline, budget=budget, workers=1, waiting=2, **cuts), 1


def _thread_rule(recipe: Recipe, scheduler: str | None, workers: Any) -> tuple[int, int]:
    """The engine threads of each strip, and the strips filtered at once in this process.

    Threads of this process: ``workers`` strips at once (default :data:`STRIPS_AT_ONCE`,
    at most the cores), each with the cores shared out (unless the recipe sets
    ``threads``); a cluster's workers are single-threaded processes: one engine thread.
    The algorithms are chosen for the recipe's own threads all the same (as the stream
    chooses them), so the samples do not depend on this.
    """
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise InvalidParameterError("workers", workers, "a positive integer or None")
    strips = (workers or min(STRIPS_AT_ONCE, cores())) if scheduler is None else 1
    threads = recipe.options.threads or max(1, cores() // strips)
    return threads, strips


def _tiles_done(stop: int, height: int, tile: int, across: int) -> int:
    """Output tiles wholly written once rows up to ``stop`` are."""
    rows = math.ceil(height / tile) if stop >= height else stop // tile
    return rows * across


def _write(pipeline: Pipeline, runner: Runner, target: _sinks.Target,
           progress: Progress | None, seconds: dict[str, float]) -> None:  # fmt: skip
    """Filter every strip on the runner, a few at a time, and write them in order."""
    height, width, _ = pipeline.output_shape
    image = pipeline.image
    count, across = len(pipeline.strips), math.ceil(width / target.tile)
    alpha = image.alpha and pipeline.plan is not None and bool(pipeline.plan.alpha)
    layout = _sinks.output_layout(image, pipeline.output_shape, pipeline.stored_samples,
                                  pipeline.stored_dtype, alpha)  # fmt: skip
    waited = [0.0]
    began = time.perf_counter()
    shared = runner.share(pipeline)

    def strips() -> Iterator[np.ndarray]:
        results = in_order(runner, _strips.run_strip, shared, list(range(count)),
                           window=runner.slots + 1, waited=waited)  # fmt: skip
        with contextlib.closing(results):  # queued strips cancelled at once
            for done, result in enumerate(results, start=1):
                add_seconds(seconds, result.seconds)
                yield result.pixels
                if progress is not None:
                    stop = pipeline.strips[result.index][1]
                    tiles = _tiles_done(stop, height, target.tile, across)
                    progress(TileProgress("filter", done, count, tiles,
                                          math.ceil(height / target.tile) * across,
                                          image.megapixels * stop / height,
                                          time.perf_counter() - began))  # fmt: skip

    _sinks.write(_sinks.whole_tile_rows(strips(), target.tile), layout, target)
    seconds["write"] = time.perf_counter() - began - waited[0]


def _finish(record: TileRecord, pipeline: Pipeline, sizing: Sizing,
            seconds: dict[str, float], elapsed: float) -> None:  # fmt: skip
    """Fill the record: stages in the stream's order, the cut, memory, wall time."""
    described = dict(zip(pipeline.steps, pipeline.described, strict=True))
    for name in ["read", "means", "prepare", *pipeline.steps, "alpha", "map", "write"]:
        if name not in seconds or (name == "alpha" and not pipeline.image.alpha):
            continue
        stage = StageTime(name, seconds[name])
        if name in described:
            stage.algorithm, stage.reason = described[name]
        record.stages.append(stage)
    record.tuned.update(pipeline.tuned)
    record.strips, record.strip_rows = len(pipeline.strips), sizing.strip_rows
    record.band_rows, record.memory_estimate = sizing.band_rows, sizing.estimate
    record.memory_baseline = sizing.baseline
    record.peak_memory = _budget.peak_resident_bytes()
    record.elapsed = elapsed
