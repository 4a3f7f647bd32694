"""Direct algorithm: sliding accumulation of shifted, strided views, in cache-sized bands.

For each kernel tap ``m`` the band of output adds ``w[m] * xp[j*s + m*d]`` for all its
outputs ``j`` at once (one vectorised multiply-add per tap). Strided views read only the
inputs that the kept outputs need, so stride costs nothing it throws away. Zero taps are
skipped (the lecture's blur has 5 non-zero taps of 9).
"""

from __future__ import annotations

import itertools

import numpy as np

from ._bands import CACHE_BYTES, band_rows, input_rows, run_bands
from ._spec import ConvSpec


def tap_view(
    band: np.ndarray, tap: tuple[int, ...], spec: ConvSpec, out_shape: tuple[int, ...]
) -> np.ndarray:
    """View of ``band`` (``(C, *spatial)``) holding, for each output, the input at ``tap``."""
    index = [slice(None)]
    for m, d, s, n in zip(tap, spec.dilation, spec.stride, out_shape, strict=True):
        index.append(slice(m * d, m * d + (n - 1) * s + 1, s))
    return band[tuple(index)]


def correlate(image: np.ndarray, kernel: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel."""
    out = np.zeros((spec.channels_out, *spec.output_shape), dtype=spec.dtype)
    rest = spec.output_shape[1:]
    row_bytes = spec.dtype.itemsize * int(np.prod(rest)) * (spec.channels_in + spec.channels_out)
    rows = band_rows(row_bytes, CACHE_BYTES, spec.output_shape[0])
    taps = list(itertools.product(*(range(k) for k in spec.kernel_shape)))

    def compute(start: int, stop: int) -> None:
        band = image[:, input_rows(spec, start, stop)]
        acc = out[:, start:stop]
        shape = (stop - start, *rest)
        if spec.bank:
            for tap in taps:
                weights = kernel[(slice(None), slice(None), *tap)]
                if weights.any():
                    view = tap_view(band, tap, spec, shape)
                    acc += np.tensordot(weights, view, axes=(1, 0))
            return
        scratch = np.empty(acc.shape, dtype=spec.dtype)
        for tap in taps:
            weight = kernel[tap]
            if weight:
                np.multiply(tap_view(band, tap, spec, shape), weight, out=scratch)
                acc += scratch

    run_bands(compute, spec.output_shape[0], rows, spec.threads)
    return out
