"""The padding modes: extend a canonical ``(C, *spatial)`` image past its border.

See :class:`imconv.engine.Padding` for the letter strips. Extensions wider than the image
follow ``numpy.pad`` (reflect and symmetric repeat their pattern, wrap tiles).
"""

from __future__ import annotations

import numpy as np

from imconv.choices import Padding

# The modes numpy.pad implements exactly as the contract defines them.
_NUMPY_MODES = {
    Padding.REFLECT: "reflect",
    Padding.SYMMETRIC: "symmetric",
    Padding.REPLICATE: "edge",
    Padding.WRAP: "wrap",
}


def fill_values(image: np.ndarray, padding: Padding, cval: float) -> np.ndarray:
    """The constant each channel is extended with, shape ``(C,)`` (constant-like modes)."""
    if padding is Padding.MEAN:
        # Accumulate in float64: a float32 running sum over megapixels loses digits.
        axes = tuple(range(1, image.ndim))
        return image.mean(axis=axes, dtype=np.float64).astype(image.dtype)
    value = 0.0 if padding is Padding.ZERO else cval
    return np.full(image.shape[0], value, dtype=image.dtype)


def extend(
    image: np.ndarray,
    widths: tuple[tuple[int, int], ...],
    padding: Padding,
    cval: float = 0.0,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """Return ``image`` (``(C, *spatial)``) extended by ``widths``, as a contiguous array.

    One copy does the cast to ``dtype``, the move to C order and the padding. The input
    is never written to; when nothing needs doing it is returned as it is.
    """
    dtype = image.dtype if dtype is None else np.dtype(dtype)
    if not any(a or b for a, b in widths):
        return np.ascontiguousarray(image, dtype=dtype)
    full_widths = ((0, 0), *widths)
    shape = tuple(n + a + b for n, (a, b) in zip(image.shape, full_widths, strict=True))
    out = np.empty(shape, dtype=dtype)
    centre = tuple(slice(a, a + n) for n, (a, _) in zip(image.shape, full_widths, strict=True))
    out[centre] = image
    for axis, (before, after) in enumerate(full_widths):
        if before or after:
            if padding in _NUMPY_MODES:
                _gather_border(out, axis, image.shape[axis], before, after, padding)
            else:
                _fill_border(out, axis, before, after, fill_values(out[centre], padding, cval))
    return out


def _fill_border(out: np.ndarray, axis: int, before: int, after: int, fill: np.ndarray) -> None:
    """Set the slabs before and after the centre of ``axis`` to each channel's constant."""
    fill = fill.reshape((-1,) + (1,) * (out.ndim - 1))
    lead = (slice(None),) * axis
    out[(*lead, slice(0, before))] = fill
    out[(*lead, slice(out.shape[axis] - after, None))] = fill


def _gather_border(
    out: np.ndarray, axis: int, size: int, before: int, after: int, padding: Padding
) -> None:
    """Fill the slabs of ``axis`` from the centre, with numpy.pad's index pattern.

    The source index of every padded position comes from padding ``arange(size)`` itself,
    so widths larger than the image repeat exactly as ``numpy.pad`` does. Axes are done in
    order over the full extent of the others, so corners come out right.
    """
    source = np.pad(np.arange(size), (before, after), mode=_NUMPY_MODES[padding]) + before
    lead = (slice(None),) * axis
    if before:
        out[(*lead, slice(0, before))] = np.take(out, source[:before], axis=axis)
    if after:
        out[(*lead, slice(before + size, None))] = np.take(out, source[before + size :], axis=axis)
