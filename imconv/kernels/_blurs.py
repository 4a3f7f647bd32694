"""Generators of smoothing and band-pass kernels: Gaussian, box, binomial, disk, DoG, LoG,
unsharp mask.

Separable ones (gaussian, box, binomial, dog) return their exact separable terms: the
weights are computed *as* the outer products, so the terms add up to them bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from imconv.errors import InvalidParameterError

from ._generated import (
    SIGMA,
    SIZE,
    Generated,
    centred,
    default_size,
    gaussian_1d,
    outer_terms,
    register,
)
from ._limits import MAX_SIDE
from ._params import argument

__all__ = ["binomial", "box", "disk", "dog", "gaussian", "log", "unsharp"]


@register(SIGMA, SIZE)
def gaussian(*, sigma: float, size: int | None = None) -> Generated:
    """Gaussian blur: the outer product of :func:`gaussian_1d` with itself (exactly rank 1).

    ``size`` defaults to ``2*ceil(3*sigma)+1``; the kernel sums to 1.

    Examples
    --------
    >>> k = gaussian(sigma=1.0).weights
    >>> k.shape, round(float(k.sum()), 12)
    ((7, 7), 1.0)
    """
    g = gaussian_1d(sigma, size)
    weights, factors = outer_terms((g, g))
    return Generated(weights, factors)


@register(SIZE)
def box(*, size: int) -> Generated:
    """Mean filter: ``size x size`` ones divided by ``size**2`` (rank 1: a column of ones
    times a row of ``1/size**2``).

    Examples
    --------
    >>> box(size=2).weights.tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    weights, factors = outer_terms((np.ones(size), np.full(size, 1.0 / (size * size))))
    return Generated(weights, factors)


@register(argument("order", "int", ge=0, le=MAX_SIDE - 1))
def binomial(*, order: int) -> Generated:
    """Binomial blur of ``order`` n: the outer product of ``C(n, k) / 2**n``, ``k = 0..n``
    (``(n+1) x (n+1)`` taps, sums to 1; order 2 is ``[1, 2, 1] / 4``). Order ``2r`` is
    ImageMagick's ``Binomial:r`` divided by its sum; a Gaussian of variance ``n/4`` in
    the limit. Coefficients are exact integers divided in Python, so each is the float
    nearest to its true value.

    Examples
    --------
    >>> (binomial(order=2).weights * 16).tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    coefficients, denominator = [1], 2**order
    for k in range(order):
        coefficients.append(coefficients[-1] * (order - k) // (k + 1))
    b = np.array([c / denominator for c in coefficients])
    weights, factors = outer_terms((b, b))
    return Generated(weights, factors)


@register(argument("radius", "float", gt=0, le=(MAX_SIDE - 1) / 2))
def disk(*, radius: float) -> Generated:
    """Disk (pillbox) blur: equal weights on the taps within ``radius`` of the centre
    (``u**2 + v**2 <= radius**2``), ``2*floor(radius)+1`` taps a side, summing to 1. The
    taps are ImageMagick's ``Disk:radius`` shape (its convolution kernel divided by its
    sum); not separable.

    Examples
    --------
    >>> (disk(radius=1).weights * 5).tolist()
    [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
    """
    reach = math.floor(radius)
    u = np.arange(-reach, reach + 1, dtype=np.float64)
    inside = (u[:, np.newaxis] ** 2 + u[np.newaxis, :] ** 2) <= radius * radius
    return Generated(inside / np.count_nonzero(inside))


@register(
    argument("sigma1", "float", ge=SIGMA.bounds[0][1], le=SIGMA.bounds[1][1]),
    argument("sigma2", "float", ge=SIGMA.bounds[0][1], le=SIGMA.bounds[1][1]),
)
def dog(*, sigma1: float, sigma2: float) -> Generated:
    """Difference of Gaussians ``gaussian(sigma1) - gaussian(sigma2)``, ``sigma1 < sigma2``:
    each at its default size ``2*ceil(3*sigma)+1``, the smaller zero-padded to the larger.
    Both sum to 1, so the difference sums to 0 within rounding (a band-pass, positive
    centre; the ``abs`` range rule). Exactly rank 2.

    This is scikit-image's ``difference_of_gaussians(image, sigma1, sigma2,
    truncate=3.0)`` where ``round(3*sigma) == ceil(3*sigma)``.

    Examples
    --------
    >>> k = dog(sigma1=1.0, sigma2=1.6).weights
    >>> k.shape, abs(float(k.sum())) < 1e-15, float(k[5, 5]) > 0
    ((11, 11), True, True)
    """
    if not sigma2 > sigma1:
        raise InvalidParameterError("sigma2", sigma2, f"a number > sigma1 ({sigma1:g})")
    wide = gaussian_1d(sigma2)
    narrow = gaussian_1d(sigma1)
    pad = (wide.size - narrow.size) // 2
    narrow = np.pad(narrow, pad)
    weights, factors = outer_terms((narrow, narrow), (-wide, wide))
    return Generated(weights, factors)


@register(SIGMA, SIZE)
def log(*, sigma: float, size: int | None = None) -> Generated:
    """Laplacian of Gaussian ``(r**2 - 2*sigma**2) / sigma**4 * G(r)``, made exactly zero-sum.

    The sampled kernel is shifted by its mean so that flat regions give exactly 0, as
    MATLAB's ``fspecial('log')`` does; the centre is negative, like ``laplacian``.
    """
    x = centred(size or default_size(sigma))
    r2 = x[:, np.newaxis] ** 2 + x[np.newaxis, :] ** 2
    g = np.exp(-r2 / (2 * sigma**2)) / (2 * np.pi * sigma**2)
    kernel = (r2 - 2 * sigma**2) / sigma**4 * g
    return Generated(kernel - kernel.mean())


@register(SIGMA, argument("amount", "float", ge=0, le=1000), SIZE)
def unsharp(*, sigma: float, amount: float, size: int | None = None) -> Generated:
    """Unsharp mask ``identity + amount * (identity - gaussian)``; sums to 1.

    Examples
    --------
    >>> k = unsharp(sigma=1.0, amount=1.0).weights
    >>> k.shape, round(float(k.sum()), 12)
    ((7, 7), 1.0)
    """
    blur = gaussian(sigma=sigma, size=size).weights
    identity = np.zeros_like(blur)
    identity[(blur.shape[0] - 1) // 2, (blur.shape[1] - 1) // 2] = 1.0
    return Generated(identity + amount * (identity - blur))
