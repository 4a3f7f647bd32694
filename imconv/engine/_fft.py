"""FFT algorithm: real FFTs at fast lengths, overlap-save in bands along the first axis.

Correlation with ``w`` is linear convolution with ``flip(w)``; a circular convolution of
length ``L >= block + k_eff - 1`` equals the linear one on the ``block`` outputs that
follow the first ``k_eff - 1`` (overlap-save), so each band of output rows needs one
forward transform of its input rows, a product with the kernel's transform (computed
once), and one inverse. All channels go in one ``rfftn`` call with ``workers=threads``;
float32 stays complex64. Complex data takes the complex transforms (``fftn``) at their
fast lengths. Dilation zero-stuffs the kernel; stride subsamples the result (the FFT
cannot skip outputs, so strided FFT does the dense work).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._bands import Memo, Workspace, input_rows, output_array, run_bands
from ._spec import ConvSpec

# Band budget, in padded input elements over all channels. Measured on the development
# machine (2-core AMD EPYC VM, 2026-11-30), 1411x1411 RGB float32, k = 7 / 15 / 51, ms with
# 2 threads: 256K 28 / 49 / 54, 512K 28 / 47 / 76, 1M 43 / 63 / 75, 4M 100 / 74 / 98.
# Transforms that fit in L2 beat one big transform, as long as the overlap stays small.
BLOCK_ELEMENTS = 1 << 19


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


def _transforms(spec: ConvSpec) -> tuple[Any, Any]:
    """The forward and inverse transforms for the spec's dtype: real or complex."""
    import scipy.fft

    if spec.dtype.kind == "c":
        return scipy.fft.fftn, scipy.fft.ifftn
    return scipy.fft.rfftn, scipy.fft.irfftn


def _spectrum(
    kernel: np.ndarray,
    spec: ConvSpec,
    lengths: tuple[int, ...],
    channels_last: bool,
    memo: Memo | None,
) -> np.ndarray:
    """The transform of the flipped, dilated kernel at ``lengths`` (kept in ``memo``)."""
    key = ("spectrum", lengths, channels_last)
    if memo is not None and key in memo:
        return memo[key]
    axes = tuple(range(-spec.ndim, 0))
    flipped = np.flip(dilate(kernel, spec.dilation), axis=axes)
    forward, _ = _transforms(spec)
    spectrum = forward(flipped, s=lengths, axes=axes, workers=spec.threads)
    if channels_last:
        spectrum = spectrum[..., np.newaxis]
    if memo is not None:
        memo[key] = spectrum
    return spectrum


def block_rows(spec: ConvSpec) -> int:
    """Dense output rows per overlap-save band: the budget, but at least 2x the overlap."""
    padded = spec.padded_shape
    dense_rows = padded[0] - spec.effective_kernel_shape[0] + 1
    row_elements = spec.channels_in * math.prod(padded[1:])
    overlap = spec.effective_kernel_shape[0] - 1
    fits = BLOCK_ELEMENTS // max(row_elements, 1) - overlap
    return max(1, min(dense_rows, max(fits, 2 * overlap)))


Blocks = tuple[int, tuple[int, ...]]


def blocks(spec: ConvSpec) -> Blocks:
    """Output rows per overlap-save band, and the transform lengths of a band.

    The band's first length is a fast length; the band takes all the output rows whose
    inputs fit in it.
    """
    import scipy.fft

    k0, s0 = spec.effective_kernel_shape[0], spec.stride[0]
    real = spec.dtype.kind != "c"
    first = scipy.fft.next_fast_len(block_rows(spec) + k0 - 1, real=real)
    rows = max(1, (first - k0) // s0 + 1)
    lengths = (first, *(scipy.fft.next_fast_len(n, real=real) for n in spec.padded_shape[1:]))
    return rows, lengths


def correlate(
    image: np.ndarray,
    kernel: np.ndarray,
    spec: ConvSpec,
    *,
    channels_last: bool = False,
    memo: Memo | None = None,
    geometry: Blocks | None = None,
    watch: list[bool] | None = None,
) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel.

    With ``channels_last`` the image is ``(*padded, C)`` and so is the result (per-channel
    kernels only): transforms run over the leading axes with the channels as a contiguous
    batch, which pocketfft handles faster than channels-first, and no transposition of
    the photo is needed at all. The kernel's transform is kept in ``memo`` (per length),
    so that the bands of a plan transform the kernel once. ``geometry`` (from
    :func:`blocks`) fixes the bands and lengths: a plan passes its whole problem's, so that
    a band of the image whose first row is a multiple of the rows per band is computed
    exactly as the whole image computes those rows. ``watch``, when given, receives for
    each band whether its input was finite: the zero-frequency bin of its transform (the
    sum of the band's inputs) is NaN or infinite whenever one of them is.
    """
    forward, inverse = _transforms(spec)
    kernel_axes = tuple(range(-spec.ndim, 0))
    axes = tuple(range(spec.ndim)) if channels_last else kernel_axes
    k_eff = spec.effective_kernel_shape
    s0 = spec.stride[0]
    rows, lengths = blocks(spec) if geometry is None else geometry
    bands = -(-spec.output_shape[0] // rows)
    workers = 1 if bands > 1 else spec.threads  # threads take bands, or split the one

    spectrum = _spectrum(kernel, spec, lengths, channels_last, memo)
    lead = () if channels_last else (slice(None),)
    if channels_last:
        shape = (*spec.output_shape, spec.channels_out)
    else:
        shape = (spec.channels_out, *spec.output_shape)
    out = output_array(shape, spec.dtype, spec.threads)
    crop = tuple(
        slice(k - 1, k - 1 + (n - 1) * s + 1, s)
        for k, n, s in zip(k_eff[1:], spec.output_shape[1:], spec.stride[1:], strict=True)
    )

    zero = (0,) * spec.ndim + (slice(None),) if channels_last else (slice(None),) + (0,) * spec.ndim

    def compute(start: int, stop: int, workspace: Workspace) -> None:
        band = image[(*lead, input_rows(spec, start, stop))]
        transform = forward(band, s=lengths, axes=axes, workers=workers)
        if watch is not None:
            watch.append(bool(np.isfinite(transform[zero]).all()))
        if spec.bank:
            transform = np.einsum("i...,oi...->o...", transform, spectrum)
        else:
            transform *= spectrum
        result = inverse(transform, s=lengths, axes=axes, workers=workers)
        kept = slice(k_eff[0] - 1, k_eff[0] - 1 + (stop - start - 1) * s0 + 1, s0)
        out[(*lead, slice(start, stop))] = result[(*lead, kept, *crop)]

    run_bands(compute, spec.output_shape[0], rows, spec.threads)
    return out
