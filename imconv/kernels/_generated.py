"""The generator registry: what a generator returns, and the arguments each one takes.

A generator is a Python function of keyword arguments only that a preset file names with
``generator = "..."``; a preset file can name nothing else, so a preset never runs
arbitrary code. Each generator is registered with a :class:`~imconv.kernels._params.
PresetParam` per argument (its kind and hard limits), against which a preset file's
``[args]`` and ``[params]`` and the user's values are all checked before the generator
runs; a generator checks only what one argument alone cannot say (``dog``'s
``sigma2 > sigma1``, ``gabor``'s extent) and raises
:class:`~imconv.errors.InvalidParameterError` naming the argument.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._limits import MAX_SIDE
from ._params import PresetParam, argument
from ._terms import Terms

__all__ = [
    "ARGUMENTS",
    "GENERATORS",
    "SIGMA",
    "SIZE",
    "Generated",
    "centred",
    "default_size",
    "gaussian_1d",
    "outer_terms",
    "python_name",
    "register",
]


@dataclass(frozen=True)
class Generated:
    """What a generator makes: weights, and what it knows about them.

    Attributes
    ----------
    weights
        A 2-D kernel, or with ``combine`` a kernel set ``(P, kh, kw)``.
    factors
        Exact separable terms per part when the generator knows them (the outer products
        add up to ``weights`` bit for bit), else None.
    combine, absolute
        The rule of a kernel set (see :class:`~imconv.kernels.Kernel`).
    """

    weights: np.ndarray
    factors: tuple[Terms, ...] | None = None
    combine: str | None = None
    absolute: bool = False


GENERATORS: dict[str, Callable[..., Generated]] = {}
"""Every generator by name."""

ARGUMENTS: dict[str, dict[str, PresetParam]] = {}
"""Every generator's arguments by name (as preset files write them: ``lambda``)."""

SIGMA = argument("sigma", "float", ge=0.05, le=682.5)
"""A standard deviation in pixels. At most 682.5, so that the default size
``2*ceil(3*sigma)+1`` is at most 4097; at least 0.05, below which a Gaussian is the
identity to float64 precision (its first neighbour weighs ``exp(-200)``)."""

SIZE = argument("size", "int", ge=1, le=MAX_SIDE)
"""A side in pixels, at most 4097."""


def register(
    *arguments: PresetParam,
) -> Callable[[Callable[..., Generated]], Callable[..., Generated]]:
    """Register a generator under its function name, with ``arguments`` (one per keyword
    argument; a Python keyword such as ``lambda`` is the argument ``lambda_``)."""

    def decorate(function: Callable[..., Generated]) -> Callable[..., Generated]:
        GENERATORS[function.__name__] = function
        ARGUMENTS[function.__name__] = {a.name: a for a in arguments}
        return function

    return decorate


def python_name(key: str) -> str:
    """The keyword argument for a preset key: ``lambda`` -> ``lambda_``."""
    return f"{key}_" if keyword.iskeyword(key) else key


def default_size(sigma: float) -> int:
    """Odd size covering three standard deviations on each side: ``2*ceil(3*sigma)+1``."""
    return 2 * math.ceil(3 * sigma) + 1


def centred(size: int) -> np.ndarray:
    """Tap positions relative to the kernel centre (half-integers for even sizes)."""
    return np.arange(size) - (size - 1) / 2


def gaussian_1d(sigma: float, size: int | None = None) -> np.ndarray:
    """Sampled 1-D Gaussian of standard deviation ``sigma``, normalised to sum 1.

    Examples
    --------
    >>> gaussian_1d(1.0).shape
    (7,)
    """
    x = centred(size or default_size(sigma))
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def outer_terms(*pairs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, tuple[Terms]]:
    """Weights ``sum(outer(c, r))`` (added in order) and those terms as exact factors."""
    weights = np.outer(*pairs[0])
    for column, row in pairs[1:]:
        weights = weights + np.outer(column, row)
    return weights, (tuple(pairs),)
