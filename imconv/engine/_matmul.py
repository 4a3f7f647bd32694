"""Matrix-multiply algorithm (im2col / Toeplitz): windows as a matrix, times the kernel.

``sliding_window_view`` gives every window of the padded image as a view; slicing it by
stride (windows) and dilation (taps inside a window) keeps only what is used, and the
reshape copies just those rows into an ``(outputs, taps)`` matrix, one band at a time so
memory stays bounded. A kernel bank becomes one ``(outputs, C_in*taps) @ (C_in*taps,
C_out)`` product on BLAS: the convolutional layer as a single GEMM.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._bands import Memo, Workspace, band_rows, input_rows, output_array, run_bands, scratch
from ._spec import ConvSpec

# Bytes of im2col matrix per band: big enough for BLAS to run at speed, small enough to
# keep memory near input + output (a band never holds more than this, but at least a row).
IM2COL_BYTES = 16 * 1024 * 1024


def windows(band: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """View ``(C, *outputs, *taps)`` of the strided, dilated windows of a padded band."""
    spatial = tuple(range(1, band.ndim))
    view = sliding_window_view(band, spec.effective_kernel_shape, axis=spatial)
    strides = tuple(slice(None, None, s) for s in spec.stride)
    dilations = tuple(slice(None, None, d) for d in spec.dilation)
    index = (slice(None), *strides, *dilations)
    return view[index]


def correlate(
    image: np.ndarray, kernel: np.ndarray, spec: ConvSpec, *, memo: Memo | None = None
) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel.

    (``memo``, the plan's store of derived kernel data, is not needed here.)
    """
    out = output_array((spec.channels_out, *spec.output_shape), spec.dtype, spec.threads)
    ndim, taps = spec.ndim, spec.taps
    row_bytes = spec.dtype.itemsize * math.prod(spec.output_shape[1:]) * spec.channels_in * taps
    rows = band_rows(row_bytes, IM2COL_BYTES, spec.output_shape[0])
    if spec.bank:
        matrix = kernel.reshape(spec.channels_out, spec.channels_in * taps).T
    else:
        vector = kernel.reshape(taps)

    def compute(start: int, stop: int, workspace: Workspace) -> None:
        view = windows(image[:, input_rows(spec, start, stop)], spec)
        band_shape = view.shape[1 : ndim + 1]
        if spec.bank:  # (C_in, *outputs, *taps) -> (*outputs, C_in, *taps) -> (P, C_in*taps)
            view = np.moveaxis(view, 0, ndim)
        cols = scratch(workspace, "cols", view.shape, spec.dtype)
        np.copyto(cols, view)  # the im2col copy, into a buffer reused across bands
        if spec.bank:
            result = cols.reshape(-1, spec.channels_in * taps) @ matrix
            out[:, start:stop] = result.T.reshape(spec.channels_out, *band_shape)
        else:
            result = cols.reshape(-1, taps) @ vector
            out[:, start:stop] = result.reshape(spec.channels_in, *band_shape)

    run_bands(compute, spec.output_shape[0], rows, spec.threads)
    return out
