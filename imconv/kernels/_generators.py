"""Kernel generators: the Python functions that preset files name with ``generator = "..."``.

Each takes keyword arguments only (fixed ``[args]`` from the preset file, then the typed
``[params]`` the user may set) and returns a float64 array. A preset file can only name a
function registered here, so a preset never runs arbitrary code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from imconv.errors import KernelError

__all__ = ["GENERATORS", "box", "edge", "gaussian", "gaussian_1d", "log", "motion", "unsharp"]

GENERATORS: dict[str, Callable[..., np.ndarray]] = {}


def _register(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    GENERATORS[function.__name__] = function
    return function


def _default_size(sigma: float) -> int:
    """Odd size covering three standard deviations on each side: ``2*ceil(3*sigma)+1``."""
    return 2 * math.ceil(3 * sigma) + 1


def _centred(size: int) -> np.ndarray:
    """Tap positions relative to the kernel centre (half-integers for even sizes)."""
    return np.arange(size) - (size - 1) / 2


def gaussian_1d(sigma: float, size: int | None = None) -> np.ndarray:
    """Sampled 1-D Gaussian of standard deviation ``sigma``, normalised to sum 1.

    Examples
    --------
    >>> gaussian_1d(1.0).shape
    (7,)
    """
    x = _centred(size or _default_size(sigma))
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


@_register
def gaussian(*, sigma: float, size: int | None = None) -> np.ndarray:
    """Gaussian blur: the outer product of :func:`gaussian_1d` with itself (exactly rank 1).

    ``size`` defaults to ``2*ceil(3*sigma)+1``; the kernel sums to 1.

    Examples
    --------
    >>> k = gaussian(sigma=1.0)
    >>> k.shape, round(float(k.sum()), 12)
    ((7, 7), 1.0)
    """
    g = gaussian_1d(sigma, size)
    return np.outer(g, g)


@_register
def box(*, size: int) -> np.ndarray:
    """Mean filter: ``size x size`` ones divided by ``size**2`` (rank 1).

    Examples
    --------
    >>> box(size=2).tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    return np.full((size, size), 1.0 / (size * size))


@_register
def edge(*, smooth: Sequence[float], derivative: Sequence[float], axis: str) -> np.ndarray:
    """An edge operator as data: a smoothing vector across ``axis`` times a derivative along it.

    This is how scikit-image builds Sobel, Scharr and Prewitt: ``axis="x"`` gives
    ``outer(smooth, derivative)`` (the derivative runs along each row), ``axis="y"`` gives
    ``outer(derivative, smooth)``. The kernel is rank 1 and sums to ``sum(smooth) *
    sum(derivative)``, zero for a derivative.

    Examples
    --------
    >>> edge(smooth=[1, 2, 1], derivative=[1, 0, -1], axis="x").tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]
    """
    vectors = [np.asarray(v, dtype=np.float64) for v in (smooth, derivative)]
    if any(v.ndim != 1 or v.size == 0 for v in vectors) or axis not in ("x", "y"):
        raise KernelError(
            f"edge needs 1-D 'smooth' and 'derivative' vectors and axis 'x' or 'y'; "
            f"got smooth={smooth!r}, derivative={derivative!r}, axis={axis!r}"
        )
    s, d = vectors
    return np.outer(s, d) if axis == "x" else np.outer(d, s)


@_register
def log(*, sigma: float, size: int | None = None) -> np.ndarray:
    """Laplacian of Gaussian ``(r**2 - 2*sigma**2) / sigma**4 * G(r)``, made exactly zero-sum.

    The sampled kernel is shifted by its mean so that flat regions give exactly 0, as
    MATLAB's ``fspecial('log')`` does; the centre is negative, like ``laplacian``.
    """
    x = _centred(size or _default_size(sigma))
    r2 = x[:, np.newaxis] ** 2 + x[np.newaxis, :] ** 2
    g = np.exp(-r2 / (2 * sigma**2)) / (2 * np.pi * sigma**2)
    kernel = (r2 - 2 * sigma**2) / sigma**4 * g
    return kernel - kernel.mean()


@_register
def unsharp(*, sigma: float, amount: float, size: int | None = None) -> np.ndarray:
    """Unsharp mask ``identity + amount * (identity - gaussian)``; sums to 1.

    Examples
    --------
    >>> k = unsharp(sigma=1.0, amount=1.0)
    >>> k.shape, round(float(k.sum()), 12)
    ((7, 7), 1.0)
    """
    blur = gaussian(sigma=sigma, size=size)
    identity = np.zeros_like(blur)
    identity[(blur.shape[0] - 1) // 2, (blur.shape[1] - 1) // 2] = 1.0
    return identity + amount * (identity - blur)


@_register
def motion(*, length: int, angle: float, method: str = "antialias") -> np.ndarray:
    """Motion blur: a line of ``length`` pixels through the centre, normalised to sum 1.

    ``angle`` is in degrees, counter-clockwise from the +x axis as seen on screen (rows
    grow downwards, so 90 is vertical and 45 runs from bottom-left to top-right); the line
    runs from ``-(length-1)/2`` to ``(length-1)/2`` pixels about the centre.
    ``method="antialias"`` (the default) puts ``length`` samples one pixel apart and spreads
    each bilinearly over its four neighbouring pixels. ``"nearest"`` gives equal weight to
    every pixel the line passes nearest to (a hard, connected, aliased line; for an even
    length it is half a pixel off centre). At multiples of 90 degrees and an odd length both
    give the plain ``1/length`` line. The kernel is square and odd-sized.

    Examples
    --------
    >>> (motion(length=3, angle=0) * 3).tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    theta = math.radians(angle)
    dense = method == "nearest" and length > 1
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, 8 * length if dense else length)
    # Rounding removes cos(90 deg) ~ 6e-17 residue that would leak weight across pixels.
    cols = np.round(t * math.cos(theta), 9)
    rows = np.round(-t * math.sin(theta), 9)
    radius = math.ceil(max(np.abs(cols).max(), np.abs(rows).max()))
    kernel = np.zeros((2 * radius + 2, 2 * radius + 2))
    if method == "nearest":
        hits = (
            np.floor(rows + radius + 0.5).astype(int),
            np.floor(cols + radius + 0.5).astype(int),
        )
        kernel[hits] = 1.0
    else:
        _splat(kernel, rows + radius, cols + radius)
    kernel = kernel[:-1, :-1]
    return kernel / kernel.sum()


def _splat(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Add a unit weight at each (row, col), split bilinearly over the 4 nearest pixels."""
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            np.add.at(kernel, (r0 + dr, c0 + dc), wr * wc)
