"""The named choices shared by the engine and the command line, as ``str`` enums.

Kept free of NumPy so that the command line can build its options (and ``--help``)
without importing the numeric stack.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from imconv.errors import UnknownNameError

#: The scheduler address that means "a cluster on this machine, started for the run".
LOCAL_SCHEDULER = "local"


class Mode(StrEnum):
    """Output size: ``full`` (every overlap), ``same`` (as the input), ``valid`` (no padding)."""

    FULL = "full"
    SAME = "same"
    VALID = "valid"


class Padding(StrEnum):
    """How the image is extended past its border (strip ``a b c d`` extended by 2).

    ``zero``      ``0 0|a b c d|0 0``
    ``constant``  ``v v|a b c d|v v``  (``v`` is ``cval``)
    ``reflect``   ``c b|a b c d|c b``  (edge not repeated)
    ``symmetric`` ``b a|a b c d|d c``  (edge repeated)
    ``replicate`` ``a a|a b c d|d d``
    ``wrap``      ``c d|a b c d|a b``
    ``mean``      ``m m|a b c d|m m``  (``m`` is the mean of that channel)
    """

    ZERO = "zero"
    CONSTANT = "constant"
    REFLECT = "reflect"
    SYMMETRIC = "symmetric"
    REPLICATE = "replicate"
    WRAP = "wrap"
    MEAN = "mean"


#: The padding of images in ``imconv apply`` and ``imconv.apply``: photos have no black
#: frame. (The engine's default is ``zero``, the mathematical definition.)
PHOTO_PADDING = Padding.REFLECT


class Algorithm(StrEnum):
    """How the sums are computed; every algorithm gives the same answer."""

    AUTO = "auto"
    DIRECT = "direct"
    MATMUL = "matmul"
    FFT = "fft"
    SEPARABLE = "separable"


class NanTreatment(StrEnum):
    """What non-finite inputs (NaN, inf) mean.

    ``propagate``: an output is non-finite exactly when its window holds a non-finite
    input under a non-zero tap, whatever the algorithm. ``ignore``: they are missing data,
    and the convolution is normalized over the valid inputs of each window.
    """

    PROPAGATE = "propagate"
    IGNORE = "ignore"


class Operation(StrEnum):
    """What a plan computes: convolution flips the kernel on every spatial axis."""

    CONVOLVE = "convolve"
    CORRELATE = "correlate"


class Reason(StrEnum):
    """Where a plan's algorithm came from.

    ``forced``: the caller named it; ``model``: the cost model's estimate; ``measured``:
    autotuning timed the candidates now; ``cache``: a store held an earlier measurement.
    """

    FORCED = "forced"
    MODEL = "model"
    MEASURED = "measured"
    CACHE = "cache"


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: Any, name: str) -> E:
    """Return the member of ``enum`` named by ``value`` (case and spaces ignored)."""
    if isinstance(value, enum):
        return value
    key = value.strip().lower() if isinstance(value, str) else value
    try:
        return enum(key)
    except ValueError:
        raise UnknownNameError(name, value, [m.value for m in enum]) from None
