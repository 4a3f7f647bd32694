"""Direct algorithm: sliding accumulation of shifted, strided views, in cache-sized bands.

For each kernel tap ``m`` the band of output adds ``w[m] * xp[j*s + m*d]`` for all its
outputs ``j`` at once (one vectorised multiply-add per tap). Strided views read only the
inputs that the kept outputs need, so stride costs nothing it throws away. Zero taps are
skipped (the lecture's blur has 5 non-zero taps of 9).
"""

from __future__ import annotations

import itertools

import numpy as np

from ._bands import CACHE_BYTES, Workspace, band_rows, input_rows, output_array, run_bands, scratch
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
    out = output_array((spec.channels_out, *spec.output_shape), spec.dtype, spec.threads)
    rest = spec.output_shape[1:]
    row_bytes = spec.dtype.itemsize * int(np.prod(rest)) * (spec.channels_in + spec.channels_out)
    rows = band_rows(row_bytes, CACHE_BYTES, spec.output_shape[0])
    taps = [
        tap
        for tap in itertools.product(*(range(k) for k in spec.kernel_shape))
        if kernel[(Ellipsis, *tap)].any()  # zero taps cost nothing
    ]

    def compute(start: int, stop: int, workspace: Workspace) -> None:
        band = image[:, input_rows(spec, start, stop)]
        acc = out[:, start:stop]
        shape = (stop - start, *rest)
        if not taps:
            acc[...] = 0
        for number, tap in enumerate(taps):
            view = tap_view(band, tap, spec, shape)
            if spec.bank:
                product = np.tensordot(kernel[(slice(None), slice(None), *tap)], view, (1, 0))
            else:
                product = scratch(workspace, "product", acc.shape, spec.dtype)
                np.multiply(view, kernel[tap], out=acc if number == 0 else product)
            if number == 0 and spec.bank:
                acc[...] = product
            elif number > 0:
                acc += product

    run_bands(compute, spec.output_shape[0], rows, spec.threads)
    return out
