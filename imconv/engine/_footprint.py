"""Exact footprint counts: how many marked inputs each output's window holds under a
kernel's support (its non-zero taps, or its positive or negative ones).

The NaN-aware paths need exact answers where floating point has none: "does a non-finite
input meet a non-zero tap of this window" (``nan="propagate"``), "does any valid input"
(``nan="ignore"``). Counting by correlation in floating point would round (FFT) and cost a
kernel's worth of work per class. Instead the support is cut into boxes, the marks are
summed into N-D prefix sums (integers: exact), and each box's count at every output is
``2**ndim`` slices of the prefix sums: a dense ``31x31`` kernel is one box, four slices.
Strides and dilations are prefix sums over the residues of the dilation, sliced by stride.

Arrays are channels-first: marks ``(C, *padded)``, counts ``(C, *outputs)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ._spec import ConvSpec

Box = tuple[tuple[int, ...], tuple[int, ...]]  # [start, stop) per axis

# Counting the marks of a few outputs one window at a time beats prefix sums over the
# whole band while (outputs x taps) stays under this many elements per output of the band.
GATHER_RATIO = 2


def boxes(support: np.ndarray) -> list[Box]:
    """Disjoint boxes covering the True entries of ``support`` (greedy, in C order: runs
    along the last axis, grown along the earlier ones while they stay full)."""
    remaining = np.array(support, dtype=bool)
    found: list[Box] = []
    while remaining.any():
        start = tuple(int(i) for i in np.argwhere(remaining)[0])
        stop = [i + 1 for i in start]
        for axis in reversed(range(remaining.ndim)):
            while stop[axis] < remaining.shape[axis]:
                grown = [slice(a, b) for a, b in zip(start, stop, strict=True)]
                grown[axis] = slice(stop[axis], stop[axis] + 1)
                if not remaining[tuple(grown)].all():
                    break
                stop[axis] += 1
        remaining[tuple(slice(a, b) for a, b in zip(start, stop, strict=True))] = False
        found.append((start, tuple(stop)))
    return found


def prefix_sums(marks: np.ndarray, dilation: Sequence[int]) -> np.ndarray:
    """``(C, *padded)`` marks as int64 prefix sums along every spatial axis, over each
    residue class of the axis's dilation, with ``d`` zeros before each axis."""
    shape = (marks.shape[0], *(n + d for n, d in zip(marks.shape[1:], dilation, strict=True)))
    sums = np.zeros(shape, dtype=np.int64)
    sums[(slice(None), *(slice(d, None) for d in dilation))] = marks
    for axis, d in enumerate(dilation, start=1):
        for residue in range(d):
            index = [slice(None)] * sums.ndim
            index[axis] = slice(residue, None, d)
            view = sums[tuple(index)]
            np.cumsum(view, axis=axis, out=view)
    return sums


def window_counts(
    sums: np.ndarray, found: Sequence[Box], spec: ConvSpec, out_shape: Sequence[int]
) -> np.ndarray:
    """``(C, *outputs)``: the marks under ``found`` (boxes of tap indices) in each window."""
    counts = np.zeros((sums.shape[0], *out_shape), dtype=np.int64)
    steps = zip(spec.stride, spec.dilation, out_shape, strict=True)
    geometry = list(steps)
    for start, stop in found:
        for corner in itertools.product((True, False), repeat=len(geometry)):
            index = [slice(None)]
            for high, m0, m1, (s, d, n) in zip(corner, start, stop, geometry, strict=True):
                first = (m1 if high else m0) * d
                index.append(slice(first, first + (n - 1) * s + 1, s))
            if sum(not high for high in corner) % 2:
                counts -= sums[tuple(index)]
            else:
                counts += sums[tuple(index)]
    return counts


def counts_at(
    marks: np.ndarray, support: np.ndarray, spec: ConvSpec, where: np.ndarray
) -> np.ndarray:
    """The marks under ``support`` in the windows of the outputs ``where`` is True (same
    shape as the outputs, ``(C, *outputs)``); zero elsewhere."""
    chosen = np.nonzero(where)
    counts = np.zeros(where.shape, dtype=np.int64)
    counts[chosen] = counts_of(marks, support, spec, chosen, where.shape)
    return counts


def counts_of(
    marks: np.ndarray,
    support: np.ndarray,
    spec: ConvSpec,
    chosen: tuple[np.ndarray, ...],
    shape: tuple[int, ...],
) -> np.ndarray:
    """The marks under ``support`` in the windows of the outputs ``chosen`` (indices into
    outputs of ``shape``, ``(C, *outputs)``), one count per output: windows one by one when
    they are few, prefix sums over the whole band otherwise."""
    taps = np.argwhere(support)
    if len(chosen[0]) * len(taps) > GATHER_RATIO * int(np.prod(shape)):
        sums = prefix_sums(marks, spec.dilation)
        return window_counts(sums, boxes(support), spec, shape[1:])[chosen]
    index = [chosen[0][:, np.newaxis]]
    for axis, (s, d) in enumerate(zip(spec.stride, spec.dilation, strict=True)):
        index.append(chosen[axis + 1][:, np.newaxis] * s + taps[np.newaxis, :, axis] * d)
    return np.count_nonzero(marks[tuple(index)], axis=1)
