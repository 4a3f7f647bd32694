"""Sample values: alpha premultiplication, range mapping, quantisation, montages. NumPy only."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import numpy as np

from imconv.choices import parse_choice
from imconv.errors import InvalidParameterError, ShapeError

__all__ = [
    "RangeRule",
    "default_rule",
    "finite_bounds",
    "map_range",
    "montage",
    "premultiply",
    "quantize",
    "transform_range",
    "unpremultiply",
]

_INTEGER_TYPES = {255.0: np.uint8, 65535.0: np.uint16}


class RangeRule(StrEnum):
    """How filtered values are brought into the output range ``[0, max_value]``.

    ``clip``     values below 0 become 0, above ``max_value`` become ``max_value``.
    ``abs``      the absolute value, then clip (edges of both signs show; zero-sum kernels).
    ``offset``   add mid-grey ``max_value / 2`` (as GIMP's convolution matrix does), then clip.
    ``rescale``  the data's finite minimum..maximum stretched to ``0..max_value``.
    """

    CLIP = "clip"
    ABS = "abs"
    OFFSET = "offset"
    RESCALE = "rescale"


def default_rule(zero_sum: bool) -> RangeRule:
    """Return the range rule used when the user chose none.

    Parameters
    ----------
    zero_sum
        Whether the kernel's weights sum to zero (an edge or derivative kernel, whose
        responses are signed and centred on 0).

    Returns
    -------
    RangeRule
        ``abs`` for zero-sum kernels, so edges of both signs are visible; ``clip`` otherwise.

    Examples
    --------
    >>> default_rule(zero_sum=True), default_rule(zero_sum=False)
    (<RangeRule.ABS: 'abs'>, <RangeRule.CLIP: 'clip'>)
    """
    return RangeRule.ABS if zero_sum else RangeRule.CLIP


def _check_max_value(max_value: Any) -> float:
    """``max_value`` as a positive finite float, or InvalidParameterError."""
    if isinstance(max_value, bool) or not isinstance(max_value, int | float | np.number):
        raise InvalidParameterError("max_value", max_value, "a positive finite number")
    if not (math.isfinite(max_value) and max_value > 0):
        raise InvalidParameterError("max_value", max_value, "a positive finite number")
    return float(max_value)


def _float(values: Any) -> np.ndarray:
    """``values`` as a float array: float64 stays float64, everything else becomes float32."""
    array = np.asarray(values)
    if array.dtype == np.float64:
        return array
    # No copy when already float32: callers copy once (nan_to_num) and work in place; a
    # fresh full-size array costs more in page faults than the arithmetic on it.
    return array.astype(np.float32, copy=False)


def _clip(values: np.ndarray, max_value: float) -> np.ndarray:
    """Clip into ``[0, max_value]``; NaN becomes 0, +inf ``max_value``, -inf 0."""
    finite = np.nan_to_num(values, nan=0.0, posinf=max_value, neginf=0.0)
    return np.clip(finite, 0.0, max_value, out=finite)


def finite_bounds(values: np.ndarray) -> tuple[float, float] | None:
    """The finite minimum and maximum of ``values`` (None when nothing is finite)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


def _rescale(
    values: np.ndarray, max_value: float, bounds: tuple[float, float] | None = None
) -> np.ndarray:
    """Stretch ``bounds`` (default: the finite min..max of ``values``) to ``0..max_value``
    (constant data -> 0)."""
    bounds = finite_bounds(values) if bounds is None else bounds
    if bounds is None:
        return np.zeros_like(values)
    low, high = bounds
    if high <= low:
        return np.where(np.isposinf(values), max_value, 0.0).astype(values.dtype)
    return (values - values.dtype.type(low)) * values.dtype.type(max_value / (high - low))


def _unbounded(
    values: np.ndarray, rule: RangeRule, bounds: tuple[float, float] | None
) -> np.ndarray:
    """The range rules for raw float outputs: only ``abs`` and ``rescale`` (to 0..1) act."""
    if rule is RangeRule.ABS:
        return np.abs(values)
    if rule is RangeRule.RESCALE:
        return _clip(_rescale(values, 1.0, bounds), 1.0)
    return values.copy()


def map_range(
    values: Any,
    *,
    rule: RangeRule | str,
    max_value: float | None,
    bounds: tuple[float, float] | None = None,
) -> np.ndarray:
    """Bring filtered values into ``[0, max_value]`` by a range rule.

    Parameters
    ----------
    values
        Any array (an image ``(H, W)`` or ``(H, W, C)`` after filtering).
    rule
        A :class:`RangeRule` or its name (``"clip"``, ``"abs"``, ``"offset"``, ``"rescale"``).
    max_value
        The top of the output range: 255 for 8-bit, 65535 for 16-bit pictures. None (the
        ``max_value`` of ``I`` and ``F`` pictures, which have no fixed range) keeps the values
        as they are, except that ``abs`` takes the absolute value and ``rescale`` maps to
        ``0..1``; to write such a picture into an integer format, pass that format's range,
        ``plan_output(destination, ...).max_value``, instead.
    bounds
        For ``rescale``: the ``(min, max)`` to stretch (a band of an image passes the
        whole image's, :func:`finite_bounds` of every band); default the values' own.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape; float64 for float64 input, float32 otherwise. With a
        ``max_value``, every value is finite and in ``[0, max_value]`` (NaN becomes 0, +inf
        ``max_value``, -inf 0). ``rescale`` uses one minimum and maximum over all channels,
        so colour balance is kept.

    Raises
    ------
    InvalidParameterError
        Unknown ``rule`` or a ``max_value`` that is not a positive finite number.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-5.0, 100.0, 300.0])
    >>> map_range(x, rule="clip", max_value=255).tolist()
    [0.0, 100.0, 255.0]
    >>> map_range(x, rule="abs", max_value=255).tolist()
    [5.0, 100.0, 255.0]
    >>> map_range(np.array([-10.0, 0.0]), rule="offset", max_value=255).tolist()
    [117.5, 127.5]
    >>> map_range(np.array([2.0, 4.0, 6.0]), rule="rescale", max_value=255).tolist()
    [0.0, 127.5, 255.0]
    >>> map_range(np.array([-1.5, 0.25]), rule="abs", max_value=None).tolist()
    [1.5, 0.25]
    """
    rule = parse_choice(RangeRule, rule, "rule")
    if max_value is None:
        return _unbounded(_float(values), rule, bounds)
    data = _float(values)
    return _clip(
        transform_range(data, rule=rule, max_value=max_value, bounds=bounds), float(max_value)
    )


def transform_range(
    values: np.ndarray,
    *,
    rule: RangeRule,
    max_value: float,
    bounds: tuple[float, float] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A range rule's transform of float ``values`` without the final clip: ``abs``,
    ``offset`` or ``rescale`` (``clip`` returns ``values`` itself). With ``out`` (which may
    be ``values``) it is written there. Storing the result in an integer image clips it
    (:class:`~imconv.images.Canvas` does), so the clip is done once, as values are rounded.
    """
    top = _check_max_value(max_value)
    if rule is RangeRule.ABS:
        return np.abs(values, out=out)
    if rule is RangeRule.OFFSET:
        return np.add(values, values.dtype.type(top / 2), out=out)
    if rule is RangeRule.RESCALE:
        scaled = _rescale(values, top, bounds)
        if out is None:
            return scaled
        out[...] = scaled
        return out
    if out is None or out is values:
        return values
    np.copyto(out, values)
    return out


def quantize(values: Any, *, max_value: float) -> np.ndarray:
    """Convert to unsigned integers without wrap-around: clip, round, then cast.

    Parameters
    ----------
    values
        Any real array.
    max_value
        255 (returns ``uint8``) or 65535 (returns ``uint16``).

    Returns
    -------
    numpy.ndarray
        Same shape; values rounded half to even (``numpy.rint``) after clipping to
        ``[0, max_value]``; NaN becomes 0.

    Examples
    --------
    >>> import numpy as np
    >>> quantize(np.array([-5.0, 127.5, 300.0, np.nan]), max_value=255).tolist()
    [0, 128, 255, 0]
    """
    top = _check_max_value(max_value)
    if top not in _INTEGER_TYPES:
        raise InvalidParameterError("max_value", max_value, "255 or 65535")
    # float32 holds every integer up to 2**24 exactly, so 8- and 16-bit rounding is exact
    # without a float64 copy of the image.
    data = _clip(_float(values), top)
    return np.rint(data, out=data).astype(_INTEGER_TYPES[top])


def _alpha_for(pixels: np.ndarray, alpha: Any) -> np.ndarray:
    """``alpha`` as a float array broadcastable against ``pixels``, or ShapeError."""
    weights = _float(alpha)
    if weights.shape != pixels.shape[:2] or pixels.ndim not in (2, 3):
        raise ShapeError(
            f"alpha must have the shape (H, W) of the pixels; got alpha {weights.shape} "
            f"for pixels {pixels.shape}"
        )
    return weights[..., None] if pixels.ndim == 3 else weights


def premultiply(pixels: Any, alpha: Any) -> np.ndarray:
    """Multiply colour by alpha, so that filtering does not bleed hidden colour.

    A blur averages neighbours; transparent pixels often hold black (or garbage) colour, which
    leaks into the visible edge as a dark halo. Filtering ``colour * alpha`` and ``alpha``
    with the same kernel, then dividing (:func:`unpremultiply`), weights each neighbour by how
    visible it is. The CLI filters alpha with the same kernel by default, or leaves alpha
    untouched on request (then colour is filtered straight, without premultiplication).

    Parameters
    ----------
    pixels
        ``(H, W)`` or ``(H, W, C)`` straight (not premultiplied) colour.
    alpha
        ``(H, W)`` opacity in ``0..1``.

    Returns
    -------
    numpy.ndarray
        ``pixels * alpha`` (alpha broadcast over channels); float64 if either input is
        float64, else float32.

    Examples
    --------
    >>> import numpy as np
    >>> premultiply(np.array([[200.0, 100.0]]), np.array([[0.5, 0.0]])).tolist()
    [[100.0, 0.0]]
    """
    colour = _float(pixels)
    return colour * _alpha_for(colour, alpha)


def unpremultiply(pixels: Any, alpha: Any) -> np.ndarray:
    """Divide premultiplied colour by alpha where alpha > 0; 0 where alpha <= 0 or NaN.

    Parameters
    ----------
    pixels
        ``(H, W)`` or ``(H, W, C)`` premultiplied colour.
    alpha
        ``(H, W)`` opacity (after the same filtering as the colour).

    Returns
    -------
    numpy.ndarray
        Straight colour, same shape as ``pixels``; float64 if either input is float64.

    Examples
    --------
    >>> import numpy as np
    >>> unpremultiply(np.array([[100.0, 0.0]]), np.array([[0.5, 0.0]])).tolist()
    [[200.0, 0.0]]
    """
    colour = _float(pixels)
    weights = _alpha_for(colour, alpha)
    weights = np.broadcast_to(weights, colour.shape)
    out = np.zeros(colour.shape, dtype=np.result_type(colour, weights))
    return np.divide(colour, weights, out=out, where=weights > 0)


def montage(channels: Any, *, separator: float = 255.0) -> np.ndarray:
    """Tile the feature maps of a kernel bank into one grey image for viewing.

    Parameters
    ----------
    channels
        ``(H, W, C)`` feature maps (channel last, as images are), or one ``(H, W)`` map.
    separator
        Value of the 1-pixel lines between tiles.

    Returns
    -------
    numpy.ndarray
        float32 ``(rows*H + rows-1, cols*W + cols-1)`` with ``cols = ceil(sqrt(C))`` and
        ``rows = ceil(C / cols)``; map ``c`` fills row ``c // cols``, column ``c % cols``,
        each map rescaled on its own to ``0..255`` (a constant map is 0); unused tiles are 0.

    Examples
    --------
    >>> import numpy as np
    >>> montage(np.zeros((4, 5, 3))).shape
    (9, 11)
    """
    maps = _float(channels)
    if maps.ndim == 2:
        maps = maps[..., None]
    if maps.ndim != 3 or 0 in maps.shape:
        raise ShapeError(f"channels must be a non-empty (H, W, C) array; got shape {maps.shape}")
    height, width, count = maps.shape
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    sheet = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1), separator, np.float32)
    for index in range(rows * cols):
        top, left = (index // cols) * (height + 1), (index % cols) * (width + 1)
        tile = _clip(_rescale(maps[..., index], 255.0), 255.0) if index < count else 0.0
        sheet[top : top + height, left : left + width] = tile
    return sheet
