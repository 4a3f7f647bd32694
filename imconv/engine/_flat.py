"""Stride-1 correlation on the padded grid: every tap is one BLAS axpy over a contiguous run.

Lay the output on the padded image's grid (the same strides, with only the first ``O_a``
positions of each axis kept). Output position ``q`` then reads input position ``q + off``
for a tap at offset ``off = sum_a m_a d_a G_a`` (``G`` the grid strides), so a whole band
of outputs is ``out[b0:b1] += w * x[b0+off : b1+off]``: one fused multiply-add over
contiguous memory, ``?axpy`` in BLAS, on ``threads`` OpenBLAS threads (see ``_blas``).
Measured per tap on 900k float32 elements: 59 us, against 200 us for NumPy's
multiply-then-add. Positions between
kept ones (the last ``k-1`` of each row) are computed and never shown: a few percent more
work for contiguous runs. Bands are cut in the flat index, about one L2 each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _blas
from ._bands import VECTOR, room

# Output elements per band, in bytes: about one L2 (2 MiB on the development machine);
# measured for 3x3 on 1500x2000x3 float32: 1 MiB 20.7 ms, 2 MiB 13.3 ms, 4 MiB 11.9 ms.
FLAT_BAND_BYTES = 2 * 1024 * 1024

Taps = Sequence[tuple[int, complex]]  # (flat offset, weight), zero weights left out


def grid_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a C-contiguous array of ``shape``."""
    return tuple(math.prod(shape[a + 1 :]) for a in range(len(shape)))


def extent(shape: Sequence[int], grid: Sequence[int]) -> int:
    """Flat length that holds every kept position of ``shape`` laid on ``grid``."""
    return sum((n - 1) * g for n, g in zip(shape, grid, strict=True)) + 1


def grid_view(flat: np.ndarray, shape: Sequence[int], grid: Sequence[int]) -> np.ndarray:
    """The kept positions of ``flat`` (``(C, length)``) as a ``(C, *shape)`` strided view."""
    item = flat.itemsize
    strides = (flat.strides[0], *(g * item for g in grid))
    return np.lib.stride_tricks.as_strided(flat, (flat.shape[0], *shape), strides)


def _whole(flat: np.ndarray) -> np.ndarray:
    """A contiguous 1-D array seen to the end of its memory (its slack included)."""
    return np.lib.stride_tricks.as_strided(flat, (room(flat),), (flat.itemsize,))


def correlate_runs(
    sources: Sequence[tuple[np.ndarray, Taps]], out: np.ndarray, *, threads: int = 1
) -> None:
    """``out[q] = sum w * source[q + off]`` over every source and tap, for all of ``out``.

    ``out`` is cut in segments of about one L2 (:data:`FLAT_BAND_BYTES`), shared among
    ``threads`` threads; each BLAS call runs on its own thread and covers whole blocks of
    :data:`~._bands.VECTOR` elements when the arrays' slack allows (the engine's own arrays
    have it), computing a few values past the end that nobody reads: no value's rounding
    depends on where a call ends, so any cut of an image gives the same bits.
    """
    axpy = _blas.axpy(out.dtype)
    band = max(VECTOR, FLAT_BAND_BYTES // out.itemsize // VECTOR * VECTOR)
    target = _whole(out)
    inputs = [(_whole(source), taps) for source, taps in sources]
    reach = min([target.size, *(s.size - max(o for o, _ in t) for s, t in inputs if t)])
    starts = list(range(0, out.size, band))

    def segment(start: int) -> None:
        stop = min(start + band, out.size)
        whole = start + -(-(stop - start) // VECTOR) * VECTOR
        stop = whole if whole <= reach else stop
        values, first = target[start:stop], True
        for source, taps in inputs:
            for offset, weight in taps:
                run = source[start + offset : stop + offset]
                if first:
                    np.multiply(run, weight, out=values)
                    first = False
                else:
                    axpy(run, values, weight)
        if first:  # no taps: an all-zero kernel
            values.fill(0)

    def work(first: int, step: int) -> None:
        with _blas.on_this_thread():
            for start in starts[first::step]:
                segment(start)

    workers = min(threads, len(starts)) if _blas.releases_gil() else 1
    if workers <= 1:
        work(0, 1)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, first, workers) for first in range(workers)]:
            future.result()


def offsets(kernel: np.ndarray, dilation: Sequence[int], grid: Sequence[int]) -> Taps:
    """The non-zero taps of ``kernel`` as (flat offset on ``grid``, weight)."""
    return [
        (sum(m * d * g for m, d, g in zip(tap, dilation, grid, strict=True)), kernel[tap].item())
        for tap in zip(*np.nonzero(kernel), strict=True)
    ]
