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
from typing import Any

import numpy as np

from . import _flat
from ._bands import (
    CACHE_BYTES,
    SLACK,
    Memo,
    Workspace,
    band_rows,
    empty,
    output_array,
    run_bands,
    scratch,
)
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
        One tuple of float64 1-D vectors per term (complex128 for a complex kernel), one
        vector per axis. A rank-1 (separable) 2-D kernel gives one term; an all-zero
        kernel gives none.

    Examples
    --------
    >>> terms = separable_factors(np.array([[3.0, 4, 5], [6, 8, 10], [9, 12, 15]]))
    >>> len(terms)
    1
    >>> np.allclose(np.outer(*terms[0]), [[3, 4, 5], [6, 8, 10], [9, 12, 15]])
    True
    """
    kernel = np.asarray(kernel)
    eps = np.finfo(kernel.dtype if kernel.dtype.kind in "fc" else np.float64).eps
    wide = np.complex128 if kernel.dtype.kind == "c" else np.float64
    return _factors(kernel.astype(wide), float(eps))


def _factors(kernel: np.ndarray, eps: float) -> list[tuple[np.ndarray, ...]]:
    """The terms of a float64 kernel, singular values below the ``eps`` tolerance dropped."""
    if kernel.ndim == 1:
        return [(kernel.copy(),)] if kernel.any() else []
    if np.count_nonzero(kernel) == 1:  # a scaled, shifted delta (1x1 too): exact, no SVD
        where = np.argwhere(kernel)[0]
        units = [np.zeros(n, dtype=kernel.dtype) for n in kernel.shape]
        for unit, index in zip(units, where, strict=True):
            unit[index] = 1
        units[0][where[0]] = kernel[tuple(where)]
        return [tuple(units)]
    matrix = kernel.reshape(kernel.shape[0], -1)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    tolerance = s[0] * max(matrix.shape) * eps
    terms = []
    for i in np.flatnonzero(s > tolerance):
        # Phase chosen so each column factor's largest entry is positive (SVD's is arbitrary;
        # for a real kernel, a sign).
        lead = u[np.argmax(np.abs(u[:, i])), i]
        phase = lead / abs(lead)
        column = u[:, i] * (math.sqrt(s[i]) / phase)
        rest = (vt[i] * (math.sqrt(s[i]) * phase)).reshape(kernel.shape[1:])
        if kernel.dtype.kind != "c":
            column, rest = column.real, rest.real
        terms += [(column, *sub) for sub in _factors(rest, eps)]
    return terms


def terms(
    kernel: np.ndarray, memo: Memo | None = None, index: int = 0
) -> list[tuple[np.ndarray, ...]]:
    """:func:`separable_factors` of one spatial kernel, kept in ``memo`` under ``index``.

    A trailing 1-tap axis (a channels-last volume's kernel ``(k, k, 1)``) adds a unit factor
    to the terms of the kernel without it, so both share one SVD.
    """
    if kernel.ndim > 1 and kernel.shape[-1] == 1:
        return [(*term, np.ones(1)) for term in terms(kernel[..., 0], memo, index)]
    key = ("terms", index, kernel.shape)
    if memo is None:
        return separable_factors(kernel)
    if key not in memo:
        memo[key] = separable_factors(kernel)
    return memo[key]


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


def correlate(
    image: np.ndarray, kernel: np.ndarray, spec: ConvSpec, *, memo: Memo | None = None
) -> np.ndarray:
    """Valid strided, dilated correlation of the padded canonical image with the kernel.

    The kernel's terms come from ``memo`` (the plan's) when it holds them.
    """
    if all(s == 1 for s in spec.stride):
        return correlate_flat(image, kernel, spec, memo=memo)
    out = np.zeros((spec.channels_out, *spec.output_shape), dtype=spec.dtype)
    for index, (o, i, sub_kernel) in enumerate(_pairs(kernel, spec)):
        source = image[i : i + 1] if spec.bank else image
        for term in terms(sub_kernel, memo, index):
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


def _pairs(kernel: np.ndarray, spec: ConvSpec) -> list[tuple[Any, Any, np.ndarray]]:
    """(output channel, input channel, 2-D kernel) to run; all channels at once if no bank."""
    if not spec.bank:
        return [(slice(None), slice(None), kernel)]
    return [(o, i, kernel[o, i]) for o in range(spec.channels_out) for i in range(spec.channels_in)]


def _chain(
    source: np.ndarray, term: tuple[np.ndarray, ...], spec: ConvSpec, out: np.ndarray
) -> None:
    """One term's 1-D passes, axis after axis, on the padded grid (stride 1), into ``out``."""
    grid = _flat.grid_strides(spec.padded_shape)
    kept = list(spec.padded_shape)
    # 1-tap factors (a channel axis seen as spatial, or a 1-wide kernel) are only a scale:
    # fold them into the first real pass instead of spending a pass on each.
    passes = [(axis, vector) for axis, vector in enumerate(term) if len(vector) > 1]
    scale = math.prod(vector[0].item() for vector in term if len(vector) == 1)
    axis, vector = passes[0] if passes else (0, np.ones(1))
    passes[:1] = [(axis, vector * scale)]
    for number, (axis, vector) in enumerate(passes, start=1):
        d = spec.dilation[axis]
        kept[axis] -= d * (len(vector) - 1)
        taps = [(m * d * grid[axis], v.item()) for m, v in enumerate(vector) if v]
        last = number == len(passes)
        result = out if last else empty((_flat.extent(kept, grid),), spec.dtype)
        _flat.correlate_runs([(source, taps)], result, threads=spec.threads)
        source = result


def correlate_flat(
    image: np.ndarray, kernel: np.ndarray, spec: ConvSpec, *, memo: Memo | None = None
) -> np.ndarray:
    """Stride-1 separable correlation: each 1-D pass is BLAS axpys on the padded grid.

    A single term (rank 1, the common case) writes its last pass straight into the output;
    more terms go through a scratch row and are added.
    """
    grid = _flat.grid_strides(spec.padded_shape)
    length = _flat.extent(spec.output_shape, grid)
    if spec.bank:
        jobs = [
            (o, i, terms(kernel[o, i], memo, o * spec.channels_in + i))
            for o in range(spec.channels_out)
            for i in range(spec.channels_in)
        ]
    else:  # the same kernel on every channel: decompose it once
        shared = terms(kernel, memo)
        jobs = [(c, c, shared) for c in range(spec.channels_in)]
    flat = np.empty((spec.channels_out, length + SLACK), dtype=spec.dtype)[:, :length]
    started = [False] * spec.channels_out
    scratch = None
    for o, i, found in jobs:
        for term in found:
            if not started[o]:
                _chain(image[i].reshape(-1), term, spec, flat[o])
                started[o] = True
                continue
            scratch = empty((length,), spec.dtype) if scratch is None else scratch
            _chain(image[i].reshape(-1), term, spec, scratch)
            flat[o] += scratch
    for o in range(spec.channels_out):
        if not started[o]:  # an all-zero kernel
            flat[o].fill(0)
    return _flat.grid_view(flat, spec.output_shape, grid)
