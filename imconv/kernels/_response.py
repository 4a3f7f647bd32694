"""The frequency response of a kernel: ``|H|``, the magnitude of its 2-D DFT, as MATLAB's
``freqz2`` shows it.

Convolving with ``w`` multiplies the image's spectrum by ``H = DFT(w)``; ``|H(f)|`` is the
gain at spatial frequency ``f``: 1 everywhere for the identity, a Dirichlet kernel
``|sin(pi*n*f)/(n*sin(pi*f))|`` per axis for an ``n``-tap box, 0 at ``f = 0`` for every
zero-sum (edge) kernel. The magnitude does not depend on where the kernel is anchored, nor
on convolution versus correlation (a flip conjugates ``H`` of a real kernel).
"""

from __future__ import annotations

import numpy as np

from imconv.errors import InvalidParameterError, KernelError

from ._limits import MAX_SIDE

__all__ = ["frequency_response", "radial_profile"]


def frequency_response(
    weights: np.ndarray, *, size: int = 64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``|H|`` of a 2-D kernel on a centred grid of frequencies.

    Parameters
    ----------
    weights : array_like
        A real 2-D kernel ``(kh, kw)``.
    size : int
        DFT length per axis: the kernel is zero-padded to ``max(size, kh) x max(size,
        kw)`` (64x64 by default, as ``freqz2``; larger kernels are never cut).

    Returns
    -------
    fy, fx : ndarray
        Frequencies in cycles per pixel along rows and columns, ascending from -0.5 (the
        Nyquist frequency) to just below 0.5, 0 at index ``n // 2`` (``fftshift`` order).
    magnitude : ndarray
        ``|H|`` of shape ``(len(fy), len(fx))``, float64, centred like ``fy``/``fx``:
        ``magnitude[n // 2, m // 2]`` is the gain at ``f = 0``, ``|sum(weights)|``.

    Raises
    ------
    KernelError
        Weights that are not a finite real 2-D array.
    InvalidParameterError
        ``size`` not an integer from 1 to 4097.

    Examples
    --------
    >>> fy, fx, h = frequency_response(np.ones((1, 1)), size=4)
    >>> fx.tolist(), h.tolist()[0]
    ([-0.5, -0.25, 0.0, 0.25], [1.0, 1.0, 1.0, 1.0])
    """
    array = np.asarray(weights)
    if array.ndim != 2 or array.dtype.kind not in "biuf" or not np.isfinite(array).all():
        raise KernelError(
            f"frequency response needs a finite real 2-D kernel; got shape {array.shape} "
            f"dtype {array.dtype}"
        )
    if (
        isinstance(size, bool)
        or not isinstance(size, int | np.integer)
        or not 1 <= size <= MAX_SIDE
    ):
        raise InvalidParameterError("size", size, f"an integer from 1 to {MAX_SIDE}")
    shape = (max(int(size), array.shape[0]), max(int(size), array.shape[1]))
    spectrum = np.fft.fft2(array.astype(np.float64), s=shape)
    magnitude = np.fft.fftshift(np.abs(spectrum))
    fy = np.fft.fftshift(np.fft.fftfreq(shape[0]))
    fx = np.fft.fftshift(np.fft.fftfreq(shape[1]))
    return fy, fx, magnitude


def radial_profile(
    fy: np.ndarray, fx: np.ndarray, magnitude: np.ndarray, *, bins: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of ``magnitude`` over rings of equal radial frequency.

    Parameters
    ----------
    fy, fx, magnitude : ndarray
        As :func:`frequency_response` returns them.
    bins : int
        Rings of equal width from 0 to 0.5 cycles per pixel (the corners beyond 0.5 are
        left out).

    Returns
    -------
    radius, mean : ndarray
        The centre of each ring (cycles per pixel) and the mean ``|H|`` in it; NaN for a
        ring no grid point falls in.

    Examples
    --------
    >>> radius, mean = radial_profile(*frequency_response(np.ones((1, 1)), size=16), bins=4)
    >>> radius.tolist(), mean.tolist()
    ([0.0625, 0.1875, 0.3125, 0.4375], [1.0, 1.0, 1.0, 1.0])
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidParameterError("bins", bins, "a positive integer")
    radius = np.hypot(fy[:, np.newaxis], fx[np.newaxis, :])
    edges = np.linspace(0.0, 0.5, bins + 1)
    which = np.minimum(np.digitize(radius, edges) - 1, bins - 1)  # 0.5 is in the last ring
    inside = radius <= 0.5
    counts = np.bincount(which[inside], minlength=bins)
    sums = np.bincount(which[inside], weights=magnitude[inside], minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return (edges[:-1] + edges[1:]) / 2, mean
