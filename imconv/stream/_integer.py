"""Exact integer arithmetic for 8-bit photos and small integer kernels, in int16 bands.

The lecture's blur is ``[[0,1,0],[1,4,1],[0,1,0]] / 8``: on 8-bit samples every product
and sum is an integer below 2**15, and dividing by 8 is a shift. libvips filters this way
by default (``--precision integer``). Here a band of the decoded image stays in its own
type: its rows and columns are gathered through the padding's index pattern (uint8), each
non-zero tap adds ``weight * samples`` into an int16 sum, and the sum is divided by the
power of two, rounded half to even, clipped to 0..255 and stored as uint8. Half the memory
traffic of float32, no float copy of the band, no float map.

The sums are the float path's, bit for bit: with weights ``k / 2**p`` the float32 engine
computes every product and partial sum exactly too (at most 2**15 in magnitude, in steps of
``2**-p``), whatever the order of its sums (``direct``'s taps or ``matmul``'s BLAS blocks).
So the first step of a chain runs this way where that holds: each part of the kernel (a
set's parts each) has weights that times ``2**p`` (``p <= 8``) are integers with
``sum(|k|) * 255`` below 2**15, no bias; the samples are 8-bit and the kernels take them as
stored (no linear light, luma or alpha work); ``same`` mode without stride, dilation or
origin, any padding but ``mean`` (a constant that is an integer in 0..255); the model chose
``direct`` or ``matmul`` (small kernels: larger ones go to ``separable`` or ``fft``, faster
than a pass per tap); no ``algorithm`` forced, no autotuning, no ``verify``, no mask.

The step's response is then ``sums / 2**p`` in float32 (a set's parts combined as usual),
and the rest of the chain and the range rule run as before. A one-step chain of one kernel
written with the ``clip`` rule to an 8-bit output goes further (the stream's store): the
int16 sums are divided by the shift with rounding half to even, clipped and stored, and no
float array exists at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imconv.choices import Algorithm, Mode, NanTreatment, Operation, Padding
from imconv.engine import Plan
from imconv.engine._padding import index_map

from ._recipe import Recipe

# The largest power of two a kernel's weights may be divided by.
MAX_SHIFT = 8
INT16_MAX = np.iinfo(np.int16).max


@dataclass(frozen=True)
class IntegerKernel:
    """One kernel as integer taps on uint8 samples, and the shift that divides their sum.

    Attributes
    ----------
    taps
        ``(row, column, weight)`` of each non-zero tap of the kernel as it is correlated
        (flipped for convolution), offsets into the padded band.
    shift
        The sum is divided by ``2**shift``.
    plan
        The part's engine plan: its geometry and which input rows a band reads.
    columns
        The input column each padded column reads (``-1``: the constant).
    fill
        The constant of ``zero`` and ``constant`` padding.
    """

    taps: tuple[tuple[int, int, int], ...]
    shift: int
    plan: Plan
    columns: np.ndarray
    fill: int

    def pad(self, block: np.ndarray, held: np.ndarray, start: int, stop: int) -> np.ndarray:
        """The padded band of output rows ``start:stop`` as int16, from ``block``: the input
        rows ``held`` (sorted, unique; those the band reads) as uint8 ``(m, W, C)``. Rows
        and columns follow the padding's index pattern, cast in one copy; the few border
        columns are gathered from the copy; constants are filled in."""
        rows = self.plan.band_rows(start, stop)
        width = self.plan.shape[1]
        before = self.plan.halo[1][0]
        padded = np.empty((len(rows), len(self.columns), block.shape[2]), np.int16)
        where = np.searchsorted(held, np.maximum(rows, 0))
        inside = len(where) == len(held) and bool((where == np.arange(len(where))).all())
        padded[:, before : before + width] = block if inside else block[where]
        border = np.r_[0:before, before + width : len(self.columns)]
        sources = self.columns[border]
        padded[:, border] = padded[:, before + np.maximum(sources, 0)]
        if (sources < 0).any():
            padded[:, border[sources < 0]] = self.fill
        if (rows < 0).any():
            padded[rows < 0] = self.fill
        return padded

    def sums(self, padded: np.ndarray, count: int) -> np.ndarray:
        """Each output's weighted sum of its window, int16 ``(count, W, C)``."""
        width = self.plan.shape[1]
        total = np.empty((count, width, padded.shape[2]), np.int16)
        scratch = np.empty_like(total)
        for index, (row, column, weight) in enumerate(self.taps):
            window = padded[row : row + count, column : column + width]
            if index == 0:
                np.multiply(window, weight, out=total)
            elif weight == 1:
                np.add(total, window, out=total)
            elif weight == -1:
                np.subtract(total, window, out=total)
            else:
                np.multiply(window, weight, out=scratch)
                np.add(total, scratch, out=total)
        return total

    def response(self, block: np.ndarray, held: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Output rows ``start:stop`` as the float32 plan gives them: ``sums / 2**shift``."""
        total = self.sums(self.pad(block, held, start, stop), stop - start)
        return np.multiply(total, np.float32(2.0**-self.shift), dtype=np.float32)

    def rounded(self, total: np.ndarray) -> np.ndarray:
        """``total / 2**shift`` rounded half to even and clipped to 0..255 (in ``total``'s
        int16, for the canvas to store as uint8).

        ``(t + 2**(p-1) - 1 + (floor(t / 2**p) & 1)) >> p`` is the quotient rounded half
        to even: a remainder below one half stays down, above it goes up, and exactly one
        half goes up only from an odd quotient."""
        if self.shift:
            odd = np.right_shift(total, self.shift)
            np.bitwise_and(odd, 1, out=odd)
            np.add(total, odd, out=odd)
            np.add(odd, np.int16((1 << (self.shift - 1)) - 1), out=odd)
            np.right_shift(odd, self.shift, out=odd)
            total = odd
        return np.clip(total, 0, 255, out=total)


def integer_kernels(
    recipe: Recipe, parts: Sequence[np.ndarray], plans: Sequence[Plan], dtype: np.dtype
) -> tuple[IntegerKernel, ...]:
    """The integer form of a first step's parts on samples of ``dtype``, one per part; empty
    where the float path must run (see the module's conditions)."""
    options = recipe.options
    if (
        np.dtype(dtype) != np.uint8
        or recipe.verify
        or recipe.autotune
        or recipe.mask is not None
        or options.algorithm is not Algorithm.AUTO
        or options.nan is not NanTreatment.PROPAGATE
        or options.mode is not Mode.SAME
        or options.padding is Padding.MEAN
        or any(value != 1 for value in np.ravel(options.stride))
        or any(value != 1 for value in np.ravel(options.dilation))
        or any(value != 0 for value in np.ravel(options.origin))
        or options.axes is not None
    ):
        return ()
    fill = 0.0 if options.padding is Padding.ZERO else float(options.cval)
    if not (fill.is_integer() and 0 <= fill <= 255):
        return ()
    kernels = []
    for weights, plan in zip(parts, plans, strict=True):
        if weights.ndim != 2 or plan.algorithm not in (Algorithm.DIRECT, Algorithm.MATMUL):
            return ()
        scaled = _integer_weights(weights)
        if scaled is None:
            return ()
        taps, shift = scaled
        if recipe.operation is Operation.CONVOLVE:
            taps = taps[::-1, ::-1]
        nonzero = tuple(
            (int(row), int(column), int(taps[row, column]))
            for row, column in zip(*np.nonzero(taps), strict=True)
        )
        columns = index_map(plan.shape[1], plan.halo[1], options.padding)
        kernels.append(IntegerKernel(nonzero, shift, plan, columns, int(fill)))
    return tuple(kernels)


def _integer_weights(weights: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(k, p)`` with ``weights == k / 2**p``, ``k`` integers small enough for int16 sums
    of 8-bit samples (and the rounding's half added), ``p`` as small as it can be; None
    when there are none."""
    for shift in range(MAX_SHIFT + 1):
        scaled = np.asarray(weights, dtype=np.float64) * (1 << shift)
        if np.array_equal(scaled, np.round(scaled)):
            if np.abs(scaled).sum() * 255 + (1 << shift) > INT16_MAX:
                return None
            return scaled.astype(np.int16), shift
    return None
