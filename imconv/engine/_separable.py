"""Separable algorithm: the kernel as a sum of outer products of 1-D vectors, via the SVD.

A 2-D kernel ``W = U S V^T`` is ``sum_r s_r u_r v_r^T``; each term is a pass of ``u_r``
down the columns then ``v_r`` along the rows, ``k0 + k1`` taps per output instead of
``k0 * k1``. N-D kernels are unfolded as ``(k0, k1*...*kn)`` and the right factors split
again, so every kernel is an exact sum of terms (rank 1 for a Gaussian or a box). Singular
values at or below ``s_max * max(shape) * eps(float64)`` (the tolerance of
``numpy.linalg.matrix_rank``) are dropped: they are rounding noise, not kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ._bands import CACHE_BYTES, Workspace, band_rows, output_array, run_bands, scratch
from ._spec import ConvSpec


def separable_factors(kernel: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Split ``kernel`` into terms: ``kernel == sum(outer(*term) for term in terms)``.

    Parameters
    ----------
    kernel : ndarray
        A real kernel of any number of axes.

    Returns
    -------
    list of tuple of ndarray
        One tuple of float64 1-D vectors per term, one vector per axis. A rank-1 (separable)
        2-D kernel gives one term; an all-zero kernel gives none.

    Examples
    --------
    >>> terms = separable_factors(np.array([[3.0, 4, 5], [6, 8, 10], [9, 12, 15]]))
    >>> len(terms)
    1
    >>> np.allclose(np.outer(*terms[0]), [[3, 4, 5], [6, 8, 10], [9, 12, 15]])
    True
    """
    kernel = np.asarray(kernel)
    eps = np.finfo(kernel.dtype if kernel.dtype.kind == "f" else np.float64).eps
    return _factors(kernel.astype(np.float64), float(eps))


def _factors(kernel: np.ndarray, eps: float) -> list[tuple[np.ndarray, ...]]:
    """The terms of a float64 kernel, singular values below the ``eps`` tolerance dropped."""
    if kernel.ndim == 1:
        return [(kernel.copy(),)] if kernel.any() else []
    matrix = kernel.reshape(kernel.shape[0], -1)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    tolerance = s[0] * max(matrix.shape) * eps
    terms = []
    for i in np.flatnonzero(s > tolerance):
        # Sign chosen so each column factor's largest entry is positive (SVD's is arbitrary).
        scale = math.sqrt(s[i]) * (1.0 if u[np.argmax(np.abs(u[:, i])), i] > 0 else -1.0)
        rest = (vt[i] * scale).reshape(kernel.shape[1:])
        terms += [(u[:, i] * scale, *sub) for sub in _factors(rest, eps)]
    return terms


def kernel_rank(kernel: np.ndarray) -> int:
    """Number of separable terms the ``separable`` algorithm runs (the matrix rank in 2-D)."""
    return len(separable_factors(kernel))


def correlate_axis(
    image: np.ndarray, vector: np.ndarray, axis: int, stride: int, dilation: int, threads: int
) -> np.ndarray:
    """Valid 1-D correlation of ``image`` (``(C, *spatial)``) along spatial ``axis``."""
    k_eff = dilation * (len(vector) - 1) + 1
    length = (image.shape[axis + 1] - k_eff) // stride + 1
    shape = list(image.shape)
    shape[axis + 1] = length
    out = output_array(tuple(shape), image.dtype, threads)
    row_bytes = 3 * image.dtype.itemsize * math.prod(shape) // shape[1]
    rows = band_rows(row_bytes, CACHE_BYTES, shape[1])
    taps = [(m, weight) for m, weight in enumerate(vector) if weight]

    def compute(start: int, stop: int, workspace: Workspace) -> None:
        acc = out[:, start:stop]
        product = scratch(workspace, "product", acc.shape, image.dtype)
        index = [slice(None), slice(start, stop)] + [slice(None)] * (image.ndim - 2)
        count, offset = (stop - start, start * stride) if axis == 0 else (length, 0)
        if not taps:
            acc[...] = 0
        for number, (m, weight) in enumerate(taps):
            first = offset + m * dilation
            index[axis + 1] = slice(first, first + (count - 1) * stride + 1, stride)
            np.multiply(image[tuple(index)], weight, out=acc if number == 0 else product)
            if number:
                acc += product

    run_bands(compute, shape[1], rows, threads)
    return out


def correlate(image: np.ndarray, kernel: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel."""
    out = np.zeros((spec.channels_out, *spec.output_shape), dtype=spec.dtype)
    pairs = (
        [(o, i) for o in range(spec.channels_out) for i in range(spec.channels_in)]
        if spec.bank
        else [(slice(None), slice(None))]
    )
    for o, i in pairs:
        sub_kernel = kernel[o, i] if spec.bank else kernel
        source = image[i : i + 1] if spec.bank else image
        for term in separable_factors(sub_kernel):
            result = source
            for axis, vector in enumerate(term):
                result = correlate_axis(
                    result,
                    vector.astype(spec.dtype),
                    axis,
                    spec.stride[axis],
                    spec.dilation[axis],
                    spec.threads,
                )
            out[o] += result[0] if spec.bank else result
    return out
