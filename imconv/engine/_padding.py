"""The padding modes: extend a canonical ``(C, *spatial)`` image past its border.

See :class:`imconv.engine.Padding` for the letter strips. Extensions wider than the image
follow ``numpy.pad`` (reflect and symmetric repeat their pattern, wrap tiles).
"""

from __future__ import annotations

import numpy as np

from ._spec import Padding

# The modes numpy.pad implements exactly as the contract defines them.
_NUMPY_MODES = {
    Padding.REFLECT: "reflect",
    Padding.SYMMETRIC: "symmetric",
    Padding.REPLICATE: "edge",
    Padding.WRAP: "wrap",
}


def fill_values(image: np.ndarray, padding: Padding, cval: float) -> np.ndarray:
    """The constant each channel is extended with, shape ``(C,)`` (constant-like modes)."""
    channels = image.shape[0]
    if padding is Padding.MEAN:
        # Accumulate in float64: a float32 running sum over megapixels loses digits.
        axes = tuple(range(1, image.ndim))
        return image.mean(axis=axes, dtype=np.float64).astype(image.dtype)
    value = 0.0 if padding is Padding.ZERO else cval
    return np.full(channels, value, dtype=image.dtype)


def extend(
    image: np.ndarray,
    widths: tuple[tuple[int, int], ...],
    padding: Padding,
    cval: float = 0.0,
) -> np.ndarray:
    """Return ``image`` (shape ``(C, *spatial)``) extended by ``widths`` per spatial axis.

    The input is never written to; when every width is zero it is returned as it is.
    """
    if not any(a or b for a, b in widths):
        return image
    full_widths = ((0, 0), *widths)
    if padding in _NUMPY_MODES:
        return np.pad(image, full_widths, mode=_NUMPY_MODES[padding])

    shape = tuple(n + a + b for n, (a, b) in zip(image.shape, full_widths, strict=True))
    out = np.empty(shape, dtype=image.dtype)
    centre = tuple(slice(a, a + n) for n, (a, _) in zip(image.shape, full_widths, strict=True))
    out[centre] = image
    fill = fill_values(image, padding, cval).reshape((-1,) + (1,) * (image.ndim - 1))
    # Fill the slabs outside the centre, one axis at a time (corners get filled twice).
    for axis, (before, after) in enumerate(full_widths):
        if before:
            out[(slice(None),) * axis + (slice(0, before),)] = fill
        if after:
            out[(slice(None),) * axis + (slice(shape[axis] - after, None),)] = fill
    return out
