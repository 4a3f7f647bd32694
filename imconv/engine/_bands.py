"""Split the first spatial axis of the output into bands and run them on a thread pool.

NumPy ufuncs, BLAS and ``scipy.fft`` release the GIL, so bands computed by threads run in
parallel; each band writes a disjoint slice of the output, so no locking is needed. Each
thread takes every ``threads``-th band and keeps its scratch arrays in a workspace across
its bands: allocating a fresh scratch per band costs an mmap, page faults and an munmap
(glibc serves blocks over 128 KiB that way), and munmap's TLB shootdowns stall the other
threads, which measured slower with two threads than with one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._spec import ConvSpec

# Per-band working set (output rows of every channel, plus the input they read), measured
# on the development machine (2-core AMD EPYC VM, 2 MiB L2 per core, 2026-11-30) with a 7x7
# direct kernel on a 1411x1411 RGB float32 image: 256 KiB 160 ms / 162 ms (1 / 2 threads),
# 1 MiB 118 / 92, 4 MiB 99 / 56, 16 MiB 176 / 122. Small bands lose to the GIL hand-off
# between threads at every NumPy call, large ones to cache misses.
CACHE_BYTES = 4 * 1024 * 1024

Workspace = dict[str, np.ndarray]
#: A plan's store of what it derived from its kernel (separable terms, FFT spectra), so
#: that running the plan on many bands derives each once.
Memo = dict[Any, Any]


# OpenBLAS's ?axpy runs blocks of VECTOR elements with fused multiply-adds and a shorter
# remainder without: a result would depend on where a call ends, by an ulp. The stride-1
# paths make every call whole blocks, reading and writing into the SLACK after the
# engine's arrays, so that a band of an image and the whole image give the same bits
# (measured on NumPy's and SciPy's OpenBLAS 0.3.31, floats and doubles, 2026-12-03).
VECTOR = 32
SLACK = 2 * VECTOR


def empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array with :data:`SLACK` zeroed elements after its end."""
    size = int(np.prod(shape))
    buffer = np.empty(size + SLACK, dtype=dtype)
    buffer[size:] = 0
    return buffer[:size].reshape(shape)


def room(array: np.ndarray) -> int:
    """Elements that can be read from ``array``'s first element to the end of its memory."""
    owner = array if array.base is None else array.base
    if not isinstance(owner, np.ndarray) or not array.size:
        return array.size
    end = owner.__array_interface__["data"][0] + owner.nbytes
    return (end - array.__array_interface__["data"][0]) // array.itemsize


def band_rows(row_bytes: int, budget: int, total_rows: int) -> int:
    """Rows per band so that a band's working set stays near ``budget`` bytes (at least 1)."""
    return max(1, min(total_rows, budget // max(row_bytes, 1)))


def input_rows(spec: ConvSpec, start: int, stop: int) -> slice:
    """Rows of the padded image that output rows ``start:stop`` read on the first axis."""
    s, d, k = spec.stride[0], spec.dilation[0], spec.kernel_shape[0]
    return slice(start * s, (stop - 1) * s + d * (k - 1) + 1)


def output_array(shape: tuple[int, ...], dtype: Any, threads: int) -> np.ndarray:
    """An output array for banded work, its pages already mapped when threads will fill it.

    The first write to a fresh page faults; faults taken by two threads at once serialise
    (measured on the development VM: a 2-thread direct 7x7 ran 101 ms with faults in the
    workers, 56 ms with the pages touched first here, 97 ms on one thread).
    """
    out = np.empty(shape, dtype=dtype)
    if threads > 1:
        out.fill(0)
    return out


def scratch(workspace: Workspace, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array of ``shape``, reusing the workspace's buffer when it fits."""
    size = int(np.prod(shape))
    buffer = workspace.get(name)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = workspace[name] = np.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)


def run_bands(
    compute: Callable[[int, int, Workspace], None], total_rows: int, rows: int, threads: int
) -> None:
    """Call ``compute(start, stop, workspace)`` over ``range(total_rows)`` in bands."""
    bounds = [(a, min(a + rows, total_rows)) for a in range(0, total_rows, rows)]
    workers = min(threads, len(bounds))

    def work(first: int) -> None:
        workspace: Workspace = {}
        for start, stop in bounds[first::workers]:
            compute(start, stop, workspace)

    if workers <= 1:
        work(0)
        return
    # A pool per call: cheap next to a convolution, and safe across fork() in batch workers.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, first) for first in range(workers)]:
            future.result()
