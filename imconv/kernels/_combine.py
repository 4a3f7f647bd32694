"""Kernel sets: the rules that combine the responses of several kernels per pixel.

A kernel set runs each of its parts as an ordinary linear kernel (one response per part,
in part order) and folds the responses into one image, pixel by pixel and channel by
channel, with a :class:`Combine` rule, after making each response absolute when the set
says so (``absolute``):

============  =============================  ==========================================
rule          result                         used by
============  =============================  ==========================================
magnitude     ``sqrt(r1**2 + r2**2 + ...)``  ``sobel``, ``scharr``, ``prewitt``,
                                             ``roberts``, ``freichen``; compass
                                             ``combine=magnitude``
max           ``max(r1, r2, ...)``           ``kirsch`` (signed: ImageMagick's
                                             ``morphology:compose=Lighten``);
                                             ``compass`` (absolute: libvips ``max``)
min           ``min(r1, r2, ...)``           ImageMagick ``Darken``; libvips ``min``
sum           ``r1 + r2 + ...``              libvips compass ``sum`` (absolute)
============  =============================  ==========================================

``absolute=True`` is libvips ``compass``: each response is replaced by its absolute
value before the rule (it changes nothing for ``magnitude``). A signed ``sum`` is linear:
the set then equals the single kernel that is the sum of its parts.

The fold is pairwise: the result starts as a copy of the first response and each later
response is folded into it in place, so a caller that produces responses one at a time
(a generator) never holds more than the result and one response (absolute values are
taken in chunks of :data:`CHUNK` elements, so no response-sized temporary is made for
contiguous responses). ``magnitude`` folds with ``numpy.hypot``, which cannot overflow
where the squares would. NaN in any response gives NaN at that pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum

import numpy as np

from imconv.errors import InvalidParameterError, ShapeError

__all__ = [
    "CHUNK",
    "COMBINES",
    "Combine",
    "combine_responses",
    "exactly",
    "parse_combine",
    "stack_parts",
]

CHUNK = 1 << 16
"""Elements per chunk when absolute values are folded (512 KiB of float64)."""


class Combine(StrEnum):
    """How the responses of a kernel set become one value per pixel (see the module)."""

    MAGNITUDE = "magnitude"
    MAX = "max"
    MIN = "min"
    SUM = "sum"


COMBINES = tuple(rule.value for rule in Combine)

_FOLDS: dict[Combine, Callable[..., np.ndarray]] = {
    Combine.MAGNITUDE: np.hypot,
    Combine.MAX: np.maximum,
    Combine.MIN: np.minimum,
    Combine.SUM: np.add,
}


def parse_combine(value: object, name: str = "combine") -> Combine:
    """``value`` as a :class:`Combine` (case-insensitive); InvalidParameterError naming
    ``name`` otherwise."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in COMBINES:
        raise InvalidParameterError(name, value, "one of " + ", ".join(COMBINES))
    return Combine(text)


def combine_responses(
    responses: Iterable[np.ndarray], *, combine: str, absolute: bool = False
) -> np.ndarray:
    """Fold the responses of a kernel set's parts into one array, pixel by pixel.

    Parameters
    ----------
    responses : iterable of ndarray
        One real floating-point array per part, all of one shape and one dtype, in part
        order; a generator is consumed one response at a time. Never written to.
    combine : {"magnitude", "max", "min", "sum"}
        The rule (see the module docstring).
    absolute : bool
        Make each response absolute before the rule (libvips ``compass``).

    Returns
    -------
    ndarray
        A new C-ordered array of the responses' shape and dtype.

    Raises
    ------
    InvalidParameterError
        An unknown rule, no responses, or a response that is not real floating point.
    ShapeError
        Responses of different shapes or dtypes.

    Examples
    --------
    >>> x, y = np.array([3.0, -1.0]), np.array([4.0, -2.0])
    >>> combine_responses([x, y], combine="magnitude").tolist()
    [5.0, 2.23606797749979]
    >>> combine_responses([x, y], combine="max").tolist()
    [4.0, -1.0]
    >>> combine_responses([x, y], combine="max", absolute=True).tolist()
    [4.0, 2.0]
    """
    rule = parse_combine(combine)
    iterator = iter(responses)
    first = next(iterator, None)
    if first is None:
        raise InvalidParameterError("responses", [], "at least one array, one per part")
    _check_response(first, first, 0)
    result = np.empty(first.shape, dtype=first.dtype)
    if absolute or rule is Combine.MAGNITUDE:  # the magnitude of one response is |r|
        np.abs(first, out=result)
    else:
        result[...] = first
    for index, response in enumerate(iterator, start=1):
        _check_response(response, first, index)
        _fold(_FOLDS[rule], result, response, absolute=absolute and rule is not Combine.MAGNITUDE)
    return result


def _check_response(response: np.ndarray, first: np.ndarray, index: int) -> None:
    """Response ``index`` is a real floating array of the first one's shape and dtype."""
    if not isinstance(response, np.ndarray) or response.dtype.kind != "f":
        got = getattr(response, "dtype", type(response).__name__)
        raise InvalidParameterError(
            f"responses[{index}]", str(got), "a real floating-point NumPy array"
        )
    if response.shape != first.shape or response.dtype != first.dtype:
        raise ShapeError(
            f"responses must all have one shape and dtype; responses[0] is {first.shape} "
            f"{first.dtype}, responses[{index}] is {response.shape} {response.dtype}"
        )


def _fold(
    fold: Callable[..., np.ndarray], result: np.ndarray, response: np.ndarray, *, absolute: bool
) -> None:
    """``result = fold(result, response)`` in place (``|response|`` when ``absolute``)."""
    if not absolute:
        fold(result, response, out=result)
        return
    if not response.flags.c_contiguous:
        fold(result, np.abs(response), out=result)
        return
    flat_result, flat_response = result.reshape(-1), response.reshape(-1)
    scratch = np.empty(min(CHUNK, flat_response.size), dtype=response.dtype)
    for start in range(0, flat_response.size, CHUNK):
        stop = min(start + CHUNK, flat_response.size)
        part = np.abs(flat_response[start:stop], out=scratch[: stop - start])
        fold(flat_result[start:stop], part, out=flat_result[start:stop])


def stack_parts(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Stack 2-D kernels of different shapes into ``(P, kh, kw)``, each zero-padded to the
    largest shape *keeping its anchor*: the tap that lands on the output pixel in ``same``
    mode, index ``(k - 1) // 2`` per axis, stays the anchor of the padded kernel, so every
    part's response is unchanged (and all responses have one shape).

    Examples
    --------
    >>> stack_parts([np.ones((1, 2)), np.full((3, 3), 2.0)])[0].tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    height = max(part.shape[0] for part in parts)
    width = max(part.shape[1] for part in parts)
    padded = []
    for part in parts:
        pads = []
        for size, target in ((part.shape[0], height), (part.shape[1], width)):
            before = (target - 1) // 2 - (size - 1) // 2
            pads.append((before, target - size - before))
        padded.append(np.pad(np.asarray(part, dtype=np.float64), pads))
    return np.stack(padded)


def exactly(responses: Iterable[np.ndarray], count: int, name: str) -> Iterator[np.ndarray]:
    """Yield ``responses``; ShapeError as soon as there are more or fewer than ``count``."""
    seen = 0
    for response in responses:
        seen += 1
        if seen > count:
            break
        yield response
    if seen != count:
        more = f"more than {count}" if seen > count else str(seen)
        raise ShapeError(f"responses must be one per part of kernel {name!r} ({count}); got {more}")
