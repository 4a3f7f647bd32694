"""Non-finite inputs: ``nan="propagate"`` kept exact for every algorithm, ``nan="ignore"``
(and masks) as normalized convolution.

``propagate``: an output is non-finite exactly when its window holds a non-finite input
under a non-zero tap. Direct sums of the non-zero taps get that by themselves, but an FFT
spreads one NaN over its whole band, a rank-r separable pass or a GEMM over zero taps
spreads it past the window, and ``inf - inf`` turns an infinity into NaN. The plan runs a
band as usual and keeps the result when it is exact (see ``Plan._exact``: free for direct
and FFT, one reduction of the result otherwise); else the band's non-finite inputs are
set to zero, the algorithm runs again on finite data, and the outputs whose window meets
them under a non-zero tap are set from exact footprint counts (``_footprint``): NaN when
a NaN is met or infinities of both signs meet, else the infinity's sign (``+inf * w`` for
``w > 0`` counts as ``+inf``), as IEEE sums give them. Complex outputs become ``nan+nanj``.

``ignore``: ``y = sum(w*x*v) / sum(w*v) * sum(w)`` over each window, ``v`` = 1 where the
input is valid (finite, and True in the mask; the border too unless ``cval`` is NaN): two
runs of the algorithm, on ``x*v`` with ``w`` and on ``v`` with ``w / sum(w)``, and one
division. Where no valid input meets a non-zero tap the output is NaN; that is decided
exactly, by footprint counts, at the few outputs whose denominator is within rounding of
zero (one reduction tells whether there are any).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _footprint
from ._bands import empty
from ._spec import ConvSpec

Execute = Callable[[np.ndarray], np.ndarray]  # the algorithm on a padded array, as laid


def all_finite(array: np.ndarray) -> bool:
    """Whether ``array`` holds only finite numbers: one sum (NaN and infinities survive it;
    no copy of a strided result), and the exact test only when the sum is not finite (it
    may have overflowed)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(array)
    return bool(np.isfinite(total)) or bool(np.isfinite(array).all())


def _channels_first(array: np.ndarray, channels_last: bool) -> np.ndarray:
    return np.moveaxis(array, -1, 0) if channels_last else array


def _not_nan(dtype: np.dtype) -> complex:
    return complex(np.nan, np.nan) if dtype.kind == "c" else np.nan


def _nonzero(kernel: np.ndarray) -> np.ndarray:
    return kernel != 0


def _positive(kernel: np.ndarray) -> np.ndarray:
    return kernel > 0


def _negative(kernel: np.ndarray) -> np.ndarray:
    return kernel < 0


def _counts(
    marks: np.ndarray,
    kernel: np.ndarray,
    spec: ConvSpec,
    out_shape: tuple[int, ...],
    support: Callable[[np.ndarray], np.ndarray],
    where: np.ndarray | None = None,
) -> np.ndarray:
    """``(C_out, *outputs)`` counts of ``marks`` under ``support(kernel slice)``, summed over
    a bank's input channels; only at ``where`` when given."""
    if not spec.bank:
        if where is None:
            sums = _footprint.prefix_sums(marks, spec.dilation)
            return _footprint.window_counts(
                sums, _footprint.boxes(support(kernel)), spec, out_shape
            )
        return _footprint.counts_at(marks, support(kernel), spec, where)
    counts = np.zeros((spec.channels_out, *out_shape), dtype=np.int64)
    sums = _footprint.prefix_sums(marks, spec.dilation) if where is None else None
    for o in range(spec.channels_out):
        for i in range(spec.channels_in):
            chosen = support(kernel[o, i])
            if not chosen.any():
                continue
            if sums is None:
                counts[o] += _footprint.counts_at(marks[i : i + 1], chosen, spec, where[o : o + 1])[
                    0
                ]
            else:
                boxes = _footprint.boxes(chosen)
                counts[o] += _footprint.window_counts(sums[i : i + 1], boxes, spec, out_shape)[0]
    return counts


def propagate(
    padded: np.ndarray,
    execute: Execute,
    kernel: np.ndarray,
    spec: ConvSpec,
    *,
    channels_last: bool,
) -> np.ndarray:
    """The algorithm on a band holding non-finite values, with exactly their footprint
    non-finite. ``padded`` (the plan's own copy) is zeroed where it was not finite."""
    canonical = _channels_first(padded, channels_last)
    bad = ~np.isfinite(canonical)
    real = padded.dtype.kind != "c"
    nan = np.isnan(canonical) if real else bad
    infinite = real and bool((bad & ~nan).any())
    positive = np.isposinf(canonical) if infinite else None  # (before the zeroing below)
    np.copyto(padded, 0, where=~np.isfinite(padded))
    result = execute(padded)
    out = _channels_first(result, channels_last)
    out_shape = out.shape[1:]
    hit = _counts(bad, kernel, spec, out_shape, _nonzero) > 0
    if not hit.any():
        return result
    if not infinite:
        out[hit] = _not_nan(padded.dtype)
        return result
    negative = bad & ~nan & ~positive

    def under(marks: np.ndarray, sign: int) -> np.ndarray:
        support = _positive if sign > 0 else _negative
        return _counts(marks, kernel, spec, out_shape, support, hit)

    nans = _counts(nan, kernel, spec, out_shape, _nonzero, hit)
    up = under(positive, 1) + under(negative, -1)
    down = under(positive, -1) + under(negative, 1)
    value = np.where(up > 0, np.inf, -np.inf)
    value[(nans > 0) | ((up > 0) & (down > 0))] = np.nan
    out[hit] = value[hit]
    return result


def tolerance(kernel: np.ndarray, dtype: np.dtype) -> float:
    """Below this ``|sum(w*v) / sum(w)|`` a window may hold no valid input (the rounding of
    the sums, with room to spare: a window this close to empty is only tested exactly)."""
    eps = np.finfo(np.dtype(dtype)).eps
    return float(np.sqrt(eps) * np.abs(kernel).sum() / abs(kernel.sum()))


def weigh(padded: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Zero ``padded`` where not ``valid`` (in place) and return ``v`` as numbers (with the
    engine's slack, as the algorithms' bit-exact bands need)."""
    np.copyto(padded, 0, where=~valid)
    weights = empty(padded.shape, padded.dtype)
    np.copyto(weights, valid)
    return weights


def _small(denominator: np.ndarray, kernel: np.ndarray, limit: float) -> tuple[np.ndarray, ...]:
    """The indices where ``|denominator| <= limit``: after one reduction, and without the
    absolute value, when the kernel's weights share a sign (the denominator, divided by the
    kernel's sum, is then non-negative)."""
    if denominator.dtype.kind == "c":
        return np.nonzero(np.abs(denominator) <= limit)
    if (kernel >= 0).all() or (kernel <= 0).all():
        if denominator.min() > limit:
            return tuple(np.zeros(0, dtype=np.intp) for _ in range(denominator.ndim))
        return np.nonzero(denominator <= limit)
    return np.nonzero(np.abs(denominator) <= limit)


def normalized(
    padded: np.ndarray,
    weights: np.ndarray,
    execute: Execute,
    execute_weights: Execute,
    kernel: np.ndarray,
    spec: ConvSpec,
    *,
    channels_last: bool,
) -> np.ndarray:
    """``sum(w*x*v) / sum(w*v) * sum(w)`` over each window (one kernel for every channel);
    NaN where no valid input meets a non-zero tap.

    ``padded`` is ``x*v`` and ``weights`` is ``v`` (:func:`weigh`); ``execute_weights`` runs
    the algorithm with ``w / sum(w)``, so that one division gives the result.
    """
    numerator = execute(padded)
    denominator = execute_weights(weights)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        np.divide(numerator, denominator, out=numerator)
    limit = tolerance(kernel, padded.dtype)
    seen = _channels_first(denominator, channels_last)
    chosen = _small(seen, kernel, limit)
    if len(chosen[0]):
        marks = _channels_first(weights, channels_last)
        counts = _footprint.counts_of(marks, kernel != 0, spec, chosen, seen.shape)
        empty_windows = tuple(index[counts == 0] for index in chosen)
        _channels_first(numerator, channels_last)[empty_windows] = _not_nan(padded.dtype)
    return numerator
