"""Generators of oriented kernels: edge operators, motion blur, Gabor, and rotated kernel
sets (libvips ``compass``, ImageMagick ``Kirsch``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from imconv.errors import InvalidParameterError

from ._combine import COMBINES, stack_parts
from ._generated import SIGMA, SIZE, Generated, centred, register
from ._limits import MAX_SIDE
from ._params import argument
from ._rotate import rotations
from ._terms import Terms

__all__ = ["compass", "edge", "gabor", "motion"]


@register(
    argument("smooth", "vector"),
    argument("derivative", "vector"),
    argument("axis", "str", choices=("x", "y")),
)
def edge(*, smooth: Sequence[float], derivative: Sequence[float], axis: str) -> Generated:
    """An edge operator as data: a smoothing vector across ``axis`` times a derivative along it.

    This is how scikit-image builds Sobel, Scharr and Prewitt: ``axis="x"`` gives
    ``outer(smooth, derivative)`` (the derivative runs along each row), ``axis="y"`` gives
    ``outer(derivative, smooth)``. The kernel is rank 1 and sums to ``sum(smooth) *
    sum(derivative)``, zero for a derivative.

    Examples
    --------
    >>> edge(smooth=[1, 2, 1], derivative=[1, 0, -1], axis="x").weights.tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]
    """
    s, d = (np.asarray(v, dtype=np.float64) for v in (smooth, derivative))
    for key, vector in (("smooth", s), ("derivative", d)):
        if vector.ndim != 1 or not 1 <= vector.size <= MAX_SIDE:
            raise InvalidParameterError(key, list(vector.ravel()[:8]), f"1 to {MAX_SIDE} numbers")
    return Generated(np.outer(s, d) if axis == "x" else np.outer(d, s))


@register(
    argument("length", "int", ge=1, le=MAX_SIDE),
    argument("angle", "float"),
    argument("method", "str", choices=("antialias", "nearest")),
)
def motion(*, length: int, angle: float, method: str = "antialias") -> Generated:
    """Motion blur: a line of ``length`` pixels through the centre, normalised to sum 1.

    ``angle`` is in degrees, counter-clockwise from the +x axis as seen on screen (rows
    grow downwards, so 90 is vertical and 45 runs from bottom-left to top-right); the line
    runs from ``-(length-1)/2`` to ``(length-1)/2`` pixels about the centre.
    ``method="antialias"`` (the default) puts ``length`` samples one pixel apart and spreads
    each bilinearly over its four neighbouring pixels. ``"nearest"`` gives equal weight to
    every pixel the line passes nearest to (a hard, connected, aliased line; for an even
    length it is half a pixel off centre). At multiples of 90 degrees and an odd length both
    give the plain ``1/length`` line. The kernel is square and odd-sized, at most
    ``length`` taps a side; when the line lies in one row or column (0, 90, 180, 270
    degrees) its exact separable term is known.

    Examples
    --------
    >>> (motion(length=3, angle=0).weights * 3).tolist()
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
    kernel = kernel / kernel.sum()
    return Generated(kernel, _line_terms(kernel))


def _splat(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Add a unit weight at each (row, col), split bilinearly over the 4 nearest pixels."""
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            np.add.at(kernel, (r0 + dr, c0 + dc), wr * wc)


def _line_terms(kernel: np.ndarray) -> tuple[Terms] | None:
    """The exact term of a kernel whose weights lie in one row or one column, else None:
    a unit vector times that row (``1.0 * w == w`` and ``0.0 * w == 0``, bit for bit)."""
    rows, cols = np.nonzero(kernel)
    for axis, where in ((0, rows), (1, cols)):
        if where.size and (where == where[0]).all():
            unit = np.zeros(kernel.shape[axis])
            unit[where[0]] = 1.0
            line = kernel[where[0]] if axis == 0 else kernel[:, where[0]]
            return (((unit, line.copy()),) if axis == 0 else ((line.copy(), unit),),)
    return None


@register(
    SIGMA,
    argument("theta", "float"),
    argument("lambda", "float", gt=0),
    argument("gamma", "float", gt=0),
    argument("psi", "float"),
    SIZE,
)
def gabor(
    *, sigma: float, theta: float, lambda_: float, gamma: float, psi: float, size: int | None = None
) -> Generated:
    """Gabor kernel, OpenCV's ``getGaborKernel`` as a convolution kernel.

    ``exp(-(xr**2 + gamma**2 * yr**2) / (2*sigma**2)) * cos(2*pi*xr/lambda + psi)`` with
    ``xr = x*cos(theta) + y*sin(theta)``, ``yr = -x*sin(theta) + y*cos(theta)``; ``x``
    grows to the right and ``y`` downwards from the centre tap, ``theta`` and ``psi`` are
    in radians, ``lambda`` (the wavelength) in pixels; peak 1, not normalised. OpenCV's
    array is this one flipped on both axes, because ``filter2D`` correlates: convolving
    with this kernel is ``filter2D`` with OpenCV's. scikit-image's ``gabor_kernel(1/lambda,
    theta, sigma_x=sigma, sigma_y=sigma/gamma, offset=psi).real`` is the same function
    divided by ``2*pi*sigma**2/gamma``.

    Size: ``size x size`` when given, else ``(2*ny+1) x (2*nx+1)`` with ``nx =
    ceil(max(|3*sigma*cos|, |3*sigma/gamma*sin|))`` and ``ny = ceil(max(|3*sigma*sin|,
    |3*sigma/gamma*cos|))`` (OpenCV rounds where this takes the ceiling).
    """
    sigma_x, sigma_y = sigma, sigma / gamma
    c, s = math.cos(theta), math.sin(theta)
    if size is None:
        reach_x = max(abs(3 * sigma_x * c), abs(3 * sigma_y * s))
        reach_y = max(abs(3 * sigma_x * s), abs(3 * sigma_y * c))
        reach = max(reach_x, reach_y)
        if not 2 * reach + 1 <= MAX_SIDE:
            raise InvalidParameterError(
                "sigma",
                sigma,
                f"small enough, with gamma={gamma:g}, that the kernel (about 6*sigma/min(gamma, "
                f"1) taps a side) is at most {MAX_SIDE} taps a side; or give size",
            )
        x = np.arange(-math.ceil(reach_x), math.ceil(reach_x) + 1, dtype=np.float64)
        y = np.arange(-math.ceil(reach_y), math.ceil(reach_y) + 1, dtype=np.float64)
    else:
        x = y = centred(size)
    xs, ys = x[np.newaxis, :], y[:, np.newaxis]
    xr, yr = xs * c + ys * s, -xs * s + ys * c
    ex, ey = -0.5 / (sigma_x * sigma_x), -0.5 / (sigma_y * sigma_y)
    weights = np.exp(ex * xr * xr + ey * yr * yr) * np.cos(2 * math.pi / lambda_ * xr + psi)
    return Generated(weights)


@register(
    argument("kernel", "matrix"),
    argument("times", "int", ge=1, le=8),
    argument("angle", "int", ge=0, le=315),
    argument("combine", "str", choices=COMBINES),
    argument("absolute", "bool"),
)
def compass(
    *, kernel: np.ndarray, times: int, angle: int, combine: str, absolute: bool = True
) -> Generated:
    """A rotated kernel set, libvips ``compass``: ``kernel`` and ``times - 1`` copies, each
    turned ``angle`` degrees clockwise from the one before (45-degree turns move each ring
    of an odd square kernel, see :mod:`imconv.kernels._rotate`); each response made
    absolute (unless ``absolute`` is false, as ImageMagick's ``Kirsch:@`` with
    ``morphology:compose=Lighten``), then combined by ``combine``.

    libvips correlates: ``vips compass`` with a mask ``M`` is this set built from
    ``flip(M)`` (what imconv reads from ``M``'s ``.mat`` file), because turning commutes
    with the flip.

    Examples
    --------
    >>> k = compass(kernel=np.array([[1.0, 0, -1]] * 3), times=4, angle=90, combine="max")
    >>> k.weights.shape, k.combine, k.absolute
    ((4, 3, 3), 'max', True)
    """
    parts = rotations(np.asarray(kernel, dtype=np.float64), times=times, angle=angle)
    return Generated(stack_parts(parts), combine=combine, absolute=absolute)
