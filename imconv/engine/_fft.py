"""FFT algorithm: real FFTs at fast lengths, overlap-save in bands along the first axis.

Correlation with ``w`` is linear convolution with ``flip(w)``; a circular convolution of
length ``L >= block + k_eff - 1`` equals the linear one on the ``block`` outputs that
follow the first ``k_eff - 1`` (overlap-save), so each band of output rows needs one
forward transform of its input rows, a product with the kernel's transform (computed
once), and one inverse. All channels go in one ``rfftn`` call with ``workers=threads``;
float32 stays complex64. Dilation zero-stuffs the kernel; stride subsamples the result
(the FFT cannot skip outputs, so strided FFT does the dense work).
"""

from __future__ import annotations

import math

import numpy as np

from ._spec import ConvSpec

# Band budget, in padded input elements over all channels: beyond ~4M elements (16 MiB of
# float32, 32 MiB of complex64 spectrum) a whole-image transform stops getting faster per
# element on the development machine, and memory keeps growing.
BLOCK_ELEMENTS = 1 << 22


def dilate(kernel: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The kernel with ``d - 1`` zeros between taps on each spatial (trailing) axis."""
    if all(d == 1 for d in dilation):
        return kernel
    ndim = len(dilation)
    lead = kernel.shape[: kernel.ndim - ndim]
    spatial = kernel.shape[kernel.ndim - ndim :]
    shape = lead + tuple(d * (k - 1) + 1 for k, d in zip(spatial, dilation, strict=True))
    stuffed = np.zeros(shape, dtype=kernel.dtype)
    stuffed[(Ellipsis, *(slice(None, None, d) for d in dilation))] = kernel
    return stuffed


def block_rows(spec: ConvSpec) -> int:
    """Dense output rows per overlap-save band (whole image when it fits the budget)."""
    padded = spec.padded_shape
    dense_rows = padded[0] - spec.effective_kernel_shape[0] + 1
    row_elements = spec.channels_in * math.prod(padded[1:])
    overlap = spec.effective_kernel_shape[0] - 1
    fits = BLOCK_ELEMENTS // max(row_elements, 1) - overlap
    # Never let the overlap dominate: a band at least 4x the overlap.
    return max(1, min(dense_rows, max(fits, 4 * overlap)))


def correlate(image: np.ndarray, kernel: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel."""
    import scipy.fft

    ndim = spec.ndim
    axes = tuple(range(-ndim, 0))
    k_eff = spec.effective_kernel_shape
    dense_shape = tuple(p - k + 1 for p, k in zip(spec.padded_shape, k_eff, strict=True))
    # Bands start on output rows that stride keeps, so each band subsamples from its row 0.
    s0 = spec.stride[0]
    block = block_rows(spec)
    step = max(s0, block - block % s0)
    lengths = (step + k_eff[0] - 1, *spec.padded_shape[1:])
    lengths = tuple(scipy.fft.next_fast_len(n, real=True) for n in lengths)

    flipped = np.flip(dilate(kernel, spec.dilation), axis=axes)
    spectrum = scipy.fft.rfftn(flipped, s=lengths, axes=axes, workers=spec.threads)
    out = np.empty((spec.channels_out, *spec.output_shape), dtype=spec.dtype)
    crop_rest = tuple(
        slice(k - 1, k - 1 + n, s)
        for k, n, s in zip(k_eff[1:], dense_shape[1:], spec.stride[1:], strict=True)
    )

    for dense_start in range(0, dense_shape[0], step):
        dense_stop = min(dense_start + step, dense_shape[0])
        start, stop = -(-dense_start // s0), -(-dense_stop // s0)
        band = image[:, dense_start : dense_stop - 1 + k_eff[0]]
        transform = scipy.fft.rfftn(band, s=lengths, axes=axes, workers=spec.threads)
        if spec.bank:
            transform = np.einsum("i...,oi...->o...", transform, spectrum)
        else:
            transform *= spectrum
        result = scipy.fft.irfftn(transform, s=lengths, axes=axes, workers=spec.threads)
        rows = slice(k_eff[0] - 1, k_eff[0] - 1 + dense_stop - dense_start, s0)
        out[:, start:stop] = result[(slice(None), rows, *crop_rest)]
    return out
