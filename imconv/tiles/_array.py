"""Tiled images as lazy ``dask.array`` s: the input by rows of its tiles, the result by strips.

For callers who compose with Dask: :func:`open_array` is the input, chunked on whole rows
of the file's tiles; :func:`filtered_array` is the filtered result, one block per output
strip, each block computed by :func:`~imconv.tiles.run_strip` (its own input rows read
from the file, so a block never needs its neighbours). ``filter_tiled`` runs the same
strips, a few at a time, and writes them in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import ImconvError
from imconv.stream import Planner, Recipe

from . import _budget, _strips
from ._cutting import cut
from ._pipeline import Pipeline
from ._reader import reader_for
from ._runners import INSTALL_HINT, Runner
from ._schedule import first_passes
from ._source import TiledImage, open_tiled

__all__ = ["filtered_array", "open_array"]


def _dask_array() -> Any:
    try:
        import dask.array
    except ImportError as error:
        raise ImconvError("a lazy array needs dask, which is not installed",
                          hint=INSTALL_HINT) from error  # fmt: skip
    return dask.array


class _Rows:
    """An array-like over a tiled image for ``dask.array.from_array``: pickles to the
    header; each process reads through its own reader."""

    def __init__(self, image: TiledImage) -> None:
        self.image = image
        self.shape = (image.height, image.width, image.samples)
        self.dtype = image.dtype
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, *rest = key if isinstance(key, tuple) else (key,)
        start, stop, _ = rows.indices(self.image.height)
        if stop <= start:
            return np.zeros((0, *self.shape[1:]), self.dtype)[(slice(None), *rest)]
        return reader_for(self.image).rows(start, stop)[(slice(None), *rest)]


def open_array(path: str | Path, *, rows: int | None = None) -> Any:
    """The image at ``path`` as a ``dask.array`` ``(H, W, S)`` (alpha as the last sample).

    Parameters
    ----------
    path
        A tiled or striped TIFF, or a Zarr folder (see :func:`~imconv.tiles.open_tiled`).
    rows
        Rows per chunk, rounded up to whole rows of the file's tiles (default: one row
        of tiles); every chunk is the image's whole width.

    Returns
    -------
    dask.array.Array
        The stored samples in their type; each chunk read by the process computing it.
    """
    array = _dask_array()
    image = open_tiled(path)
    step = image.read_rows
    height = max(step, -(-(rows or step) // step) * step)
    chunks = (tuple(min(height, image.height - s) for s in range(0, image.height, height)),
              (image.width,), (image.samples,))  # fmt: skip
    return array.from_array(_Rows(image), chunks=chunks, asarray=False, lock=False,
                            fancy=False, name=f"imconv-tiles-{image.identity[1]:x}")  # fmt: skip


def filtered_array(
    source: str | Path,
    recipe: Recipe,
    *,
    memory: Any = None,
    chunk_rows: int | None = None,
    band_rows: int | None = None,
    planner: Planner | None = None,
) -> Any:
    """The filtered image as a lazy ``dask.array`` ``(H', W', S')`` of stored samples.

    Each block is an output strip of :func:`~imconv.tiles.filter_tiled`'s (the same
    samples), computed by :func:`~imconv.tiles.run_strip` from its own input rows, so the
    blocks can be computed in any order, on any scheduler. ``mean`` padding's means and
    ``rescale``'s bounds are computed now (a pass over the image on this process); the
    strips when the array is.

    Parameters
    ----------
    source, recipe, memory, chunk_rows, band_rows, planner
        As :func:`~imconv.tiles.filter_tiled` (the budget sizes the strips for one at a
        time per thread).

    Returns
    -------
    dask.array.Array
        ``(H', W', S')`` in the output's sample type (alpha as the last sample).

    Raises
    ------
    ImconvError
        Dask is not installed; otherwise as :func:`~imconv.tiles.filter_tiled`.
    """
    array = _dask_array()
    image = open_tiled(source)
    pipeline = Pipeline.make(image, recipe, planner or Planner(recipe))
    budget = _budget.default_budget() if memory is None else _budget.parse_memory(memory)
    cut(pipeline, budget=budget, workers=1, waiting=1, chunk_rows=chunk_rows,
        band_rows=band_rows)  # fmt: skip
    runner = Runner(1)
    try:
        first_passes(pipeline, runner, None, {})
    finally:
        runner.close()
    width = pipeline.output_shape[1]
    chunks = (tuple(stop - start for start, stop in pipeline.strips), (width,),
              (pipeline.stored_samples,))  # fmt: skip

    def block(block_info: Any = None) -> np.ndarray:
        index = block_info[None]["chunk-location"][0]
        return _strips.run_strip(pipeline, index).pixels

    meta = np.empty((0, 0, 0), dtype=pipeline.stored_dtype)
    return array.map_blocks(block, chunks=chunks, dtype=pipeline.stored_dtype, meta=meta,
                            name=f"imconv-filtered-{pipeline.token}")  # fmt: skip
