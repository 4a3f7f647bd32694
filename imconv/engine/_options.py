"""Every option of a convolution, validated once into the frozen :class:`ConvOptions`.

The value crosses every layer unchanged (command line, ``imconv.apply``, a batch job, the
image stream, the engine's plan): nobody downstream re-parses or re-checks it. What can
only be checked against shapes (a per-axis tuple of the wrong length, a channel axis the
image does not have) is checked once more, when a plan is made for a shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Mode, NanTreatment, Padding, parse_choice
from imconv.errors import InvalidParameterError

PerAxis = int | tuple[int, ...]
Axes = tuple[int, ...] | None


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= 1


def per_axis(value: Any, name: str) -> PerAxis:
    """One positive integer, or a non-empty tuple of them (one per spatial axis)."""
    allowed = "a positive integer or a tuple of them, one per axis"
    if _positive(value):
        return int(value)
    if isinstance(value, str) or np.ndim(value) != 1:
        raise InvalidParameterError(name, value, allowed)
    items = tuple(value)
    if not items or not all(_positive(item) for item in items):
        raise InvalidParameterError(name, value, allowed)
    return tuple(int(item) for item in items)


def _integer(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def _origin(value: Any) -> PerAxis:
    """One integer (any sign), or a non-empty tuple of them; ranges wait for the kernel."""
    allowed = "an integer or a tuple of them, one per axis"
    if _integer(value):
        return int(value)
    if isinstance(value, str) or np.ndim(value) != 1:
        raise InvalidParameterError("origin", value, allowed)
    items = tuple(value)
    if not items or not all(_integer(item) for item in items):
        raise InvalidParameterError("origin", value, allowed)
    return tuple(int(item) for item in items)


def _axes(value: Any) -> Axes:
    """None, one integer axis, or a non-empty tuple of distinct ones (checked on a shape later)."""
    allowed = "None, an integer axis or a tuple of distinct integer axes"
    if value is None:
        return None
    if _integer(value):
        return (int(value),)
    if isinstance(value, str) or np.ndim(value) != 1:
        raise InvalidParameterError("axes", value, allowed)
    items = tuple(value)
    if not items or not all(_integer(item) for item in items):
        raise InvalidParameterError("axes", value, allowed)
    return tuple(int(item) for item in items)


def _cval(value: Any, nan: NanTreatment) -> float:
    allowed = "a finite number (or nan with nan='ignore': the border as missing data)"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError("cval", value, allowed) from None
    if math.isnan(number) and nan is NanTreatment.IGNORE:
        return number
    if not math.isfinite(number):
        raise InvalidParameterError("cval", value, allowed)
    return number


def _channel_axis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidParameterError("channel_axis", value, "an integer axis or None")
    return int(value)


def threads_option(value: Any) -> int | None:
    """``threads``: a positive integer, or None (every core)."""
    if value is None:
        return None
    if not _positive(value):
        raise InvalidParameterError("threads", value, "a positive integer or None")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class ConvOptions:
    """The options of :func:`imconv.convolve`, :func:`imconv.correlate` and :func:`imconv.plan`.

    Keyword arguments only, every field with its default; validated on construction
    (``InvalidParameterError`` naming the parameter). Choices are normalised to their
    enums, ``stride`` and ``dilation`` to an int or a tuple of ints.

    Parameters
    ----------
    mode : {"same", "full", "valid"}
        Output size.
    padding : {"zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"}
        Border extension (strip ``a b c d`` by 2): zero ``0 0|a b c d|0 0``, constant
        ``v v|a b c d|v v``, reflect ``c b|a b c d|c b``, symmetric ``b a|a b c d|d c``,
        replicate ``a a|a b c d|d d``, wrap ``c d|a b c d|a b``, mean ``m m|a b c d|m m``.
        The library's default is ``zero``, the mathematical definition.
    cval : float
        The value of ``constant`` padding: finite, or ``nan`` with ``nan="ignore"`` (the
        border is then missing data, astropy's ``boundary="fill", fill_value=nan``).
    stride, dilation : int or tuple of int
        One for every spatial axis, or one per axis; at least 1.
    algorithm : {"auto", "direct", "matmul", "fft", "separable"}
    channel_axis : int, optional
        The axis holding channels.
    threads : int, optional
        Threads for bands, transforms and BLAS; None means every core.
    origin : int or tuple of int
        Shifts the kernel's anchor as ``scipy.ndimage`` does (one for every spatial axis,
        or one per axis). Correlation allows ``-(k//2) <= origin <= (k-1)//2`` per axis
        (``k`` the dilated kernel's size), convolution the mirror range; checked when a
        plan is made.
    axes : int or tuple of int, optional
        The spatial axes (the kernel's axes, in its order), as ``scipy.ndimage``'s
        ``axes=``; every other axis but ``channel_axis`` is a batch axis, filtered
        independently. None: every axis but ``channel_axis``.
    nan : {"propagate", "ignore"}
        ``propagate``: an output is non-finite exactly when its window holds a non-finite
        input under a non-zero tap (every algorithm). ``ignore``: non-finite inputs are
        missing data, normalized convolution (see :func:`imconv.correlate`).

    Examples
    --------
    >>> ConvOptions(stride=(2, 3), padding="Reflect").padding
    <Padding.REFLECT: 'reflect'>
    """

    mode: Mode = Mode.SAME
    padding: Padding = Padding.ZERO
    cval: float = 0.0
    stride: PerAxis = 1
    dilation: PerAxis = 1
    algorithm: Algorithm = Algorithm.AUTO
    channel_axis: int | None = None
    threads: int | None = None
    origin: PerAxis = 0
    axes: Axes = None
    nan: NanTreatment = NanTreatment.PROPAGATE

    def __post_init__(self) -> None:
        nan = parse_choice(NanTreatment, self.nan, "nan")
        checked = {
            "mode": parse_choice(Mode, self.mode, "mode"),
            "padding": parse_choice(Padding, self.padding, "padding"),
            "cval": _cval(self.cval, nan),
            "stride": per_axis(self.stride, "stride"),
            "dilation": per_axis(self.dilation, "dilation"),
            "algorithm": parse_choice(Algorithm, self.algorithm, "algorithm"),
            "channel_axis": _channel_axis(self.channel_axis),
            "threads": threads_option(self.threads),
            "origin": _origin(self.origin),
            "axes": _axes(self.axes),
            "nan": nan,
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order."""
        return tuple(field.name for field in fields(cls))


def expand(
    value: PerAxis, ndim: int, name: str, kind: str = "a positive integer"
) -> tuple[int, ...]:
    """A per-axis option as one value per spatial axis (``ndim`` of them)."""
    if isinstance(value, int):
        return (value,) * ndim
    if len(value) != ndim:
        raise InvalidParameterError(name, value, f"{kind} or a tuple of {ndim}")
    return value
