"""The work on whole strips: the tasks the runner runs, and the first passes' parts.

:func:`run_strip` filters one output strip: it reads exactly the input rows the chains
need for it (:meth:`~imconv.stream.Chain.spans`: the halo and, for ``wrap``, the far rows
included) in one go, runs the chains on bands of rows starting on absolute multiples of
the band (so on the last step's bit-exact rows), maps and stores each band into the
strip's stored samples. :func:`strip_bounds` is ``rescale``'s first pass over a strip,
:func:`row_sums` ``mean`` padding's over rows of the input, :func:`warm_up` a first band
run before the budget is shared out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv import images
from imconv.choices import Padding
from imconv.stream import Clock

from ._pipeline import Pipeline
from ._reader import reader_for

__all__ = ["MEAN_ROWS", "StripResult", "means_from", "row_sums", "run_strip", "strip_bounds"]

# Rows per band of the means pass: the stream's (``MEAN_ROWS``), so that the float64 sums
# are added in the same order and give the stream's means bit for bit.
MEAN_ROWS = 256


@dataclass
class StripResult:
    """One filtered strip: its index, its stored samples ``(rows, W', S')`` and the seconds
    each stage took on it."""

    index: int
    pixels: np.ndarray
    seconds: dict[str, float]


def _taker(block: np.ndarray, held: np.ndarray) -> Any:
    """``take(indices)`` over a block holding the input rows ``held`` (sorted)."""

    def take(indices: np.ndarray) -> np.ndarray:
        positions = np.searchsorted(held, indices)
        if positions.size and positions[-1] - positions[0] == positions.size - 1:
            return block[positions[0] : positions[-1] + 1]
        return block[positions]

    return take


def _read(pipeline: Pipeline, held: np.ndarray, clock: Clock) -> np.ndarray:
    with clock("read"):
        return reader_for(pipeline.image, cache=pipeline.cache).take(held)


def _bands(pipeline: Pipeline, start: int, stop: int) -> list[tuple[int, int]]:
    """Bands of ``band_rows`` on absolute multiples of it (so on the bit-exact rows)."""
    step = pipeline.band_rows
    edges = [start, *range((start // step + 1) * step, stop, step), stop]
    return list(itertools.pairwise(edges))


def run_strip(pipeline: Pipeline, index: int) -> StripResult:
    """Filter output strip ``index``: read its input rows, run the chains band by band,
    map and store (a task of the local threads or of a Dask worker).

    Parameters
    ----------
    pipeline
        The image's pipeline, its strips cut (``filter_tiled`` and ``filtered_array`` cut
        them); on a worker, a pickled copy (its plans rebuilt once per process).
    index
        The strip, ``0 <= index < len(pipeline.strips)``.

    Returns
    -------
    StripResult
        The strip's stored samples ``(rows, W', S')`` in the output's type, and the
        seconds each stage took on it.
    """
    start, stop = pipeline.strips[index]
    clock = Clock(pipeline.stages)
    held = pipeline.needed(start, stop)
    take = _taker(_read(pipeline, held, clock), held)
    width = pipeline.output_shape[1]
    out = np.empty((stop - start, width, pipeline.stored_samples), pipeline.stored_dtype)
    for first, last in _bands(pipeline, start, stop):
        colour, alpha = pipeline.band(take, first, last, clock)
        with clock("map"):
            out[first - start : last - start] = pipeline.store(pipeline.map(colour), alpha)
    return StripResult(index, out, clock.seconds)


def warm_up(pipeline: Pipeline) -> None:
    """Run the chain once on the first rows, so that what a first run loads (SciPy's
    modules, BLAS's buffers, the FFT's plans) is held before the budget is shared out."""
    if not pipeline.chains.chain.banded:  # one strip, the whole image: nothing to share
        return
    stop = min(pipeline.output_shape[0], pipeline.band_multiple)
    held = pipeline.needed(0, stop)
    take = _taker(reader_for(pipeline.image, cache=pipeline.cache).take(held), held)
    chains = pipeline.chains
    if needs_means(pipeline):  # any constant will do before the means are known
        pipeline.fill = np.zeros(
            len(pipeline.routes.filtered), chains.chain.links[0].first.spec.dtype
        )
        if chains.resample is not None:
            dtype = chains.resample.links[0].first.spec.dtype
            pipeline.resample_fill = np.zeros(len(pipeline.routes.resampled), dtype)
    try:
        colour, alpha = pipeline.band(take, 0, stop, Clock(pipeline.stages))
        pipeline.store(pipeline.map(colour), alpha)
    finally:
        pipeline.fill = pipeline.resample_fill = None


def strip_bounds(pipeline: Pipeline, index: int) -> tuple[tuple[float, float] | None, dict]:
    """The finite minimum and maximum of strip ``index``'s result (``rescale``'s first
    pass), and the seconds it took."""
    start, stop = pipeline.strips[index]
    clock = Clock(pipeline.stages)
    held = pipeline.needed(start, stop)
    take = _taker(_read(pipeline, held, clock), held)
    low, high = np.inf, -np.inf
    for first, last in _bands(pipeline, start, stop):
        colour, _ = pipeline.band(take, first, last, clock)
        found = images.finite_bounds(colour)
        if found is not None:
            low, high = min(low, found[0]), max(high, found[1])
    return ((low, high) if low <= high else None), clock.seconds


def row_sums(pipeline: Pipeline, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The float64 sums per channel of each :data:`MEAN_ROWS` band of input rows
    ``start:stop`` (``start`` on a multiple of it): of the kernels' working channels, and
    of the resampled ones."""
    reader = reader_for(pipeline.image, cache=pipeline.cache)
    sums, others = [], []
    for first in range(start, stop, MEAN_ROWS):
        work = pipeline.work(reader.rows(first, min(first + MEAN_ROWS, stop)))
        sums.append(pipeline.filtered(work).sum(axis=(0, 1), dtype=np.float64))
        if pipeline.routes.resampled:
            others.append(pipeline.resampled(work).sum(axis=(0, 1), dtype=np.float64))
    return np.array(sums), (np.array(others) if others else None)


def needs_means(pipeline: Pipeline) -> bool:
    """Whether ``mean`` padding needs the input's channel means (a banded chain)."""
    return pipeline.recipe.options.padding is Padding.MEAN and pipeline.chains.chain.banded


def _added(rows: list[np.ndarray]) -> Any:
    """Band sums added one after another from 0.0, as the stream adds them."""
    total: Any = 0.0
    for row in rows:
        total = total + row
    return np.asarray(total)


def means_from(pipeline: Pipeline, parts: list[tuple[np.ndarray, np.ndarray | None]]) -> None:
    """Set the fills from the band sums of every chunk, in row order."""
    pixels = pipeline.image.height * pipeline.image.width
    chains = pipeline.chains
    sums = [row for part, _ in parts for row in part]
    pipeline.fill = (_added(sums) / pixels).astype(chains.chain.links[0].first.spec.dtype)
    if chains.resample is not None:
        others = [row for _, part in parts for row in (part if part is not None else ())]
        dtype = chains.resample.links[0].first.spec.dtype
        pipeline.resample_fill = (_added(others) / pixels).astype(dtype)
