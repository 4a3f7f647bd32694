"""The numeric core of imconv: convolution and correlation of N-D arrays. NumPy/SciPy only.

Conventions (the engine contract; docs/ARCHITECTURE.md has the map):

* Correlation with stride ``s`` and dilation ``d``, per axis:
  ``y[j] = sum_m xp[j*s + m*d] * w[m]``, with ``xp`` the input extended by the padding.
* Convolution is correlation with the kernel flipped along every spatial axis.
* Output size, with ``k_eff = d*(k-1)+1``: ``full`` pads ``k_eff-1`` on both sides,
  ``same`` pads ``k_eff-1-(k_eff-1)//2`` before and ``(k_eff-1)//2`` after (NumPy's and
  SciPy's alignment for even kernels), ``valid`` pads nothing; stride keeps outputs
  ``0, s, 2s, ...``.
* dtype: float64 input computes in float64; anything else in float32. Complex input or
  kernel: complex128 if either is complex128 or the input is float64, else complex64.
* ``origin`` shifts the kernel's anchor as in ``scipy.ndimage``; ``axes`` names the
  spatial axes (others but ``channel_axis`` are a batch); ``nan`` and ``mask`` say what
  non-finite and masked-out inputs mean (``propagate``, or normalized convolution).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imconv.choices import Algorithm, Mode, NanTreatment, Operation, Padding, Reason
from imconv.errors import ShapeError

from . import _tune
from ._geometry import ReceptiveField, Step, output_shape, receptive_field
from ._operator import toeplitz
from ._options import ConvOptions
from ._padding import extend
from ._plan import Layout, Plan, plan
from ._separable import kernel_rank, separable_factors
from ._spec import ConvSpec, check_kernel, make_spec

__all__ = [
    "Algorithm",
    "ConvOptions",
    "ConvSpec",
    "Layout",
    "Mode",
    "NanTreatment",
    "Operation",
    "Padding",
    "Plan",
    "Reason",
    "ReceptiveField",
    "Step",
    "check_kernel",
    "convolve",
    "correlate",
    "forget_choices",
    "kernel_rank",
    "output_shape",
    "pad",
    "plan",
    "receptive_field",
    "separable_factors",
    "toeplitz",
    "verify",
]


def forget_choices() -> None:
    """Drop the autotuned choices this process remembers (the default store of plans)."""
    _tune.MEMORY.clear()


def correlate(
    x: Any,
    w: Any,
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
    algorithm: str = "auto",
    channel_axis: int | None = None,
    bias: Any = None,
    threads: int | None = None,
    origin: int | tuple[int, ...] = 0,
    axes: int | tuple[int, ...] | None = None,
    nan: str = "propagate",
    mask: Any = None,
    autotune: bool = False,
) -> np.ndarray:
    """Correlate ``x`` with the kernel ``w``: ``y[j] = sum_m xp[j*s + m*d] * w[m]``.

    A :func:`plan` made and run once: ``plan(x.shape, w, dtype=x.dtype, ...)(x)``.

    Parameters
    ----------
    x : array_like
        The signal, image or volume, of any number of axes (real or complex); with
        ``channel_axis`` one of them holds ``C`` channels, with ``axes`` some are a batch.
    w : array_like
        Kernel (real or complex) with as many axes as ``x`` has spatial axes (applied to
        every channel on its own), or with ``channel_axis`` a bank of shape
        ``(C_out, C_in, *spatial)``: output channel ``o`` is
        ``sum_i correlate(x[..., i], w[o, i]) + bias[o]``. Never conjugated.
    mode : {"same", "full", "valid"}
        Output size (see :func:`output_shape`): ``same`` keeps ``ceil(n/s)``, ``full``
        gives every overlap, ``valid`` only windows inside the input.
    padding : {"zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"}
        How ``x`` is extended (strip ``a b c d`` by 2): zero ``0 0|a b c d|0 0``, constant
        ``v v|a b c d|v v``, reflect ``c b|a b c d|c b``, symmetric ``b a|a b c d|d c``,
        replicate ``a a|a b c d|d d``, wrap ``c d|a b c d|a b``, mean ``m m|a b c d|m m``.
        Default ``zero``, the mathematical definition.
    cval : float
        The value of ``constant`` padding; ``nan`` (with ``nan="ignore"``) makes the
        border missing data.
    stride, dilation : int or tuple of int
        Per spatial axis, or one for all; at least 1.
    algorithm : {"auto", "direct", "matmul", "fft", "separable"}
        All give the same result to within floating-point error (``1e-10`` of ``max|y|``
        in float64, ``1e-4`` in float32; the same non-finite outputs); ``auto`` picks the
        fastest by a cost model.
    channel_axis : int, optional
        Axis of ``x`` holding channels; the output keeps it in the same place.
    bias : float or array_like, optional
        Added to each output channel (one value, or one per output channel).
    threads : int, optional
        Threads for bands, transforms and the BLAS calls of the stride-1 paths; default
        all cores.
    origin : int or tuple of int
        Shifts the kernel's anchor exactly as ``scipy.ndimage``'s ``origin``: output ``j``
        reads ``xp[j*s + m*d - origin]``. Allowed per axis for correlation:
        ``-(k//2) <= origin <= (k-1)//2`` with ``k = d*(k-1)+1`` the dilated size; for
        convolution the mirror range, and ``convolve(x, w, origin=o) ==
        correlate(x, flip(w), origin=-o)`` (``scipy.ndimage.convolve(..., origin=o)`` for
        odd sizes, ``origin=o-1`` for even ones).
    axes : int or tuple of int, optional
        The spatial axes of ``x``, in the kernel's axis order (``scipy.ndimage``'s
        ``axes``); every other axis except ``channel_axis`` is a batch axis, each of its
        entries filtered on its own. A stack of photos ``(N, H, W, C)`` is
        ``axes=(1, 2), channel_axis=-1``. Default: every axis but ``channel_axis``.
    nan : {"propagate", "ignore"}
        ``propagate``: an output is non-finite exactly when its window holds a non-finite
        input under a non-zero tap, for every algorithm (NaN where a NaN or infinities of
        both signs meet, else the infinity's sign; complex ``nan+nanj``). ``ignore``:
        normalized convolution, non-finite inputs (and a constant border of ``cval=nan``)
        are missing data: ``y = sum(w*x*v) / sum(w*v) * sum(w)`` over the window with
        ``v = 1`` where the input is valid, NaN where no valid input meets a non-zero tap
        (``astropy.convolution.convolve(..., nan_treatment="interpolate",
        normalize_kernel=False)``); ``mean`` padding is the mean of the valid values; a
        bank normalizes each (out, in) kernel on its own.
    mask : array of bool, optional
        ``True`` = valid, of the shape of ``x`` (or without its channel axis): masked-out
        inputs are missing data, as with ``nan="ignore"``, which a mask turns on.
    autotune : bool
        With ``algorithm="auto"``: time the plausible algorithms on a band of this very
        problem and run the fastest; the choice is remembered in this process for every
        later call with the same shapes, kernel rank, options, dtype and threads.

    Returns
    -------
    ndarray
        float64 when ``x`` is float64, else float32; complex128 or complex64 when ``x``
        or ``w`` is complex (see :func:`plan`). Batch and channel axes where they were.

    Raises
    ------
    ShapeError
        0-d or empty arrays, kernel axes not matching (or not matching ``axes``), bank
        channels not matching, bias of the wrong length, ``valid`` with a kernel larger
        than ``x``, a mask of the wrong shape or dtype.
    KernelError
        Non-finite kernel values; a kernel summing to zero (within ``1e-8`` of
        ``sum(|w|)``) with ``nan="ignore"`` or a mask.
    InvalidParameterError
        Unknown mode, padding, algorithm or nan (the message lists the valid ones),
        stride, dilation or threads below 1, a non-finite ``cval`` (but ``nan`` with
        ``nan="ignore"``), an ``origin`` outside its range, ``axes`` that are not
        distinct axes of ``x`` other than ``channel_axis``.

    Notes
    -----
    Under ``nan="ignore"`` an output whose window holds every input is the plain result
    up to rounding (the denominator is ``sum(w)``); the cost is two runs of the algorithm
    (of ``x*v`` and of ``v``) and a few passes over the data.

    Examples
    --------
    >>> correlate([0.0, 1.0, 0.0], [1.0, 2.0, 3.0]).tolist()
    [3.0, 2.0, 1.0]
    >>> correlate([0.0, 1.0, 0.0, 0.0], [1.0, 2.0, 3.0], origin=1).tolist()
    [0.0, 3.0, 2.0, 1.0]
    >>> correlate([1.0, np.nan, 3.0], [1.0, 1.0, 1.0], nan="ignore").tolist()
    [1.5, 6.0, 4.5]
    >>> correlate([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], mask=np.array([True, False, True])).tolist()
    [1.5, 6.0, 4.5]
    >>> correlate([1j, 0.0], [1.0, 1j]).tolist()
    [(-1+0j), 1j]
    """
    options = ConvOptions(
        mode=mode,
        padding=padding,
        cval=cval,
        stride=stride,
        dilation=dilation,
        algorithm=algorithm,
        channel_axis=channel_axis,
        threads=threads,
        origin=origin,
        axes=axes,
        nan=nan,
    )
    return _run(x, w, Operation.CORRELATE, options, bias=bias, mask=mask, autotune=autotune)


def convolve(
    x: Any,
    w: Any,
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
    algorithm: str = "auto",
    channel_axis: int | None = None,
    bias: Any = None,
    threads: int | None = None,
    origin: int | tuple[int, ...] = 0,
    axes: int | tuple[int, ...] | None = None,
    nan: str = "propagate",
    mask: Any = None,
    autotune: bool = False,
) -> np.ndarray:
    """Convolve ``x`` with ``w``: :func:`correlate` with ``w`` flipped on every spatial axis.

    Same parameters, returns and errors as :func:`correlate`; in every mode,
    ``convolve(x, w) == correlate(x, flip(w))``, and with an origin
    ``convolve(x, w, origin=o) == correlate(x, flip(w), origin=-o)`` (whose range is the
    mirror of correlation's: ``-((k-1)//2) <= o <= k//2``).

    Examples
    --------
    >>> convolve([2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full").tolist()
    [2.0, 1.0, 4.0, -1.0, 2.0]
    >>> convolve([2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full", stride=2).tolist()
    [2.0, 4.0, 2.0]
    """
    options = ConvOptions(
        mode=mode,
        padding=padding,
        cval=cval,
        stride=stride,
        dilation=dilation,
        algorithm=algorithm,
        channel_axis=channel_axis,
        threads=threads,
        origin=origin,
        axes=axes,
        nan=nan,
    )
    return _run(x, w, Operation.CONVOLVE, options, bias=bias, mask=mask, autotune=autotune)


def _run(
    x: Any,
    w: Any,
    operation: Operation,
    options: ConvOptions,
    *,
    bias: Any,
    mask: Any,
    autotune: bool,
) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0:
        raise ShapeError(
            f"image must have at least one axis; got {x.item()!r}, a 0-d array (a single number)",
            hint="pass a signal, an image or a volume",
        )
    made = plan(
        x.shape,
        w,
        dtype=x.dtype,
        operation=operation,
        bias=bias,
        mask=mask,
        autotune=autotune,
        options=options,
    )
    return made(x)


def verify(x: Any, w: Any, y: Any, *, correlate: bool = False, **options: Any) -> float:
    """Largest difference of ``y`` from the ``direct`` algorithm on a band, relative to max|y|.

    Parameters
    ----------
    x, w : array_like
        The input and kernel ``y`` was computed from.
    y : array_like
        A result of :func:`convolve` (or :func:`correlate`) with the same options.
    correlate : bool
        ``y`` came from :func:`correlate`.
    **options
        The options ``y`` was computed with (except ``bias`` and ``algorithm``).

    Returns
    -------
    float
        ``max|y - y_direct| / max|y_direct|`` over the first output rows (those that
        read the padded border); within 1e-4 (float32) or 1e-10 (float64) when correct.
    """
    x = np.asarray(x)
    operation = Operation.CORRELATE if correlate else Operation.CONVOLVE
    made = plan(x.shape, w, dtype=x.dtype, operation=operation, algorithm="direct", **options)
    return made.verify(x, y)


def pad(
    x: Any,
    width: int | tuple[Any, ...],
    *,
    padding: str = "zero",
    cval: float = 0.0,
    channel_axis: int | None = None,
) -> np.ndarray:
    """Extend ``x`` by ``width`` on every spatial axis with a padding mode.

    Parameters
    ----------
    x : array_like
    width : int or tuple
        One width for every side, one per axis, or a ``(before, after)`` pair per axis.
    padding, cval, channel_axis
        As in :func:`correlate`.

    Returns
    -------
    ndarray
        ``x``'s compute dtype (see :func:`correlate`).

    Examples
    --------
    >>> pad(np.array([1.0, 2.0, 3.0, 4.0]), 2, padding="reflect").tolist()
    [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]
    """
    x = np.asarray(x)
    point = (1,) * (x.ndim - (channel_axis is not None))
    options = ConvOptions(padding=padding, cval=cval, channel_axis=channel_axis, threads=1)
    spec = make_spec(x.shape, x.dtype, point, options)
    widths = _widths(width, spec.ndim)
    canonical = x[np.newaxis] if spec.channel_axis is None else np.moveaxis(x, spec.channel_axis, 0)
    result = extend(canonical, widths, spec.padding, spec.cval, spec.dtype)
    if spec.channel_axis is None:
        return result[0]
    return np.moveaxis(result, 0, spec.channel_axis)


def _widths(width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """Normalise a pad width (int, per axis, or pairs per axis) to ``((before, after), ...)``."""
    array = np.asarray(width)
    if array.dtype.kind not in "iu" or (array < 0).any():
        raise ShapeError(f"width must be non-negative integers; got {width!r}")
    if array.ndim == 0:
        return ((int(array), int(array)),) * ndim
    if array.shape == (ndim,):
        return tuple((int(v), int(v)) for v in array)
    if array.shape == (ndim, 2):
        return tuple((int(a), int(b)) for a, b in array)
    raise ShapeError(f"width must be an int, {ndim} ints or {ndim} pairs; got {width!r}")
