"""Split the first spatial axis of the output into bands and run them on a thread pool.

NumPy ufuncs, BLAS and ``scipy.fft`` release the GIL, so bands computed by threads run in
parallel; each band writes a disjoint slice of the output, so no locking is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ._spec import ConvSpec

# Per-thread working set aimed at by the direct and separable bands: L2-sized, measured
# best between 128 KiB and 1 MiB on the development machine (2-core x86_64, 2026-11-30).
CACHE_BYTES = 512 * 1024


def band_rows(row_bytes: int, budget: int, total_rows: int) -> int:
    """Rows per band so that a band's working set stays near ``budget`` bytes (at least 1)."""
    return max(1, min(total_rows, budget // max(row_bytes, 1)))


def input_rows(spec: ConvSpec, start: int, stop: int) -> slice:
    """Rows of the padded image that output rows ``start:stop`` read on the first axis."""
    s, d, k = spec.stride[0], spec.dilation[0], spec.kernel_shape[0]
    return slice(start * s, (stop - 1) * s + d * (k - 1) + 1)


def run_bands(
    compute: Callable[[int, int], None], total_rows: int, rows: int, threads: int
) -> None:
    """Call ``compute(start, stop)`` over ``range(total_rows)`` in bands of ``rows`` rows."""
    bounds = [(a, min(a + rows, total_rows)) for a in range(0, total_rows, rows)]
    if threads <= 1 or len(bounds) == 1:
        for a, b in bounds:
            compute(a, b)
        return
    # A pool per call: cheap next to a convolution, and safe across fork() in batch workers.
    with ThreadPoolExecutor(max_workers=min(threads, len(bounds))) as pool:
        for future in [pool.submit(compute, a, b) for a, b in bounds]:
            future.result()
