"""The numeric core of imconv: convolution and correlation of N-D arrays. NumPy/SciPy only.

Conventions (DESIGN.md section 2):

* Correlation with stride ``s`` and dilation ``d``, per axis:
  ``y[j] = sum_m xp[j*s + m*d] * w[m]``, with ``xp`` the input extended by the padding.
* Convolution is correlation with the kernel flipped along every spatial axis.
* Output size, with ``k_eff = d*(k-1)+1``: ``full`` pads ``k_eff-1`` on both sides,
  ``same`` pads ``k_eff-1-(k_eff-1)//2`` before and ``(k_eff-1)//2`` after (NumPy's and
  SciPy's alignment for even kernels), ``valid`` pads nothing; stride keeps outputs
  ``0, s, 2s, ...``.
* dtype: float64 input computes in float64; anything else in float32.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Mode, Padding
from imconv.errors import InvalidParameterError, ShapeError

from . import _direct, _fft, _matmul, _separable, _tune
from ._geometry import ReceptiveField, Step, output_shape, receptive_field
from ._operator import toeplitz
from ._padding import extend
from ._plan import Choice, folds_channels, kernel_ranks, operations, peak_memory
from ._plan import choose_algorithm as _model_choice
from ._separable import kernel_rank, separable_factors
from ._spec import ConvSpec, check_kernel, make_spec

__all__ = [
    "Algorithm",
    "Choice",
    "ConvSpec",
    "Mode",
    "Padding",
    "ReceptiveField",
    "Step",
    "choose_algorithm",
    "convolve",
    "correlate",
    "forget_choices",
    "kernel_rank",
    "output_shape",
    "pad",
    "receptive_field",
    "remember_choices",
    "separable_factors",
    "toeplitz",
    "tuned_choices",
    "verify",
]

# The measured choices of autotuning in this process (key -> algorithm), to keep on disk.
tuned_choices = _tune.remembered
remember_choices = _tune.remember
forget_choices = _tune.forget

_ALGORITHMS = {
    Algorithm.DIRECT: _direct.correlate,
    Algorithm.MATMUL: _matmul.correlate,
    Algorithm.FFT: _fft.correlate,
    Algorithm.SEPARABLE: _separable.correlate,
}


def _channels_first(x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """View of ``x`` as ``(C, *spatial)`` (not a copy)."""
    return x[np.newaxis] if spec.channel_axis is None else np.moveaxis(x, spec.channel_axis, 0)


def _restore(result: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """A canonical ``(C, *spatial)`` result with the channel axis put back where it was."""
    if spec.channel_axis is None:
        return result[0]
    # A view, not a copy: the channel axis goes back where it was without moving data.
    return np.moveaxis(result, 0, spec.channel_axis)


def _prepare(
    x: np.ndarray, w: Any, flip: bool, options: dict[str, Any]
) -> tuple[ConvSpec, np.ndarray]:
    """Validate; return the spec and the kernel in the compute dtype, flipped if asked."""
    w = np.asarray(w)
    check_kernel(w)
    spec = make_spec(x.shape, x.dtype, w.shape, **options)
    kernel = w.astype(spec.dtype)
    if flip:
        kernel = np.flip(kernel, axis=tuple(range(-spec.ndim, 0)))
    return spec, kernel


def _bias(bias: Any, spec: ConvSpec) -> np.ndarray:
    """Bias as a ``(C_out, 1, ...)`` array that broadcasts over the canonical output."""
    values = np.asarray(bias)
    if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise InvalidParameterError("bias", bias, "finite real numbers")
    if values.ndim > 1 or (values.ndim == 1 and values.size != spec.channels_out):
        raise ShapeError(
            f"bias must be a number or have one value per output channel "
            f"({spec.channels_out}); got shape {values.shape}"
        )
    return values.astype(spec.dtype).reshape((-1,) + (1,) * spec.ndim)


def _choose(
    spec: ConvSpec, kernel: np.ndarray, x: np.ndarray, autotune: bool
) -> tuple[Choice, Callable[[], np.ndarray]]:
    """The cost model's choice, or with ``autotune`` a measured (or remembered) one, and
    the padded image, made once and only when someone needs it (a remembered choice
    needs no padding; a measurement's padding is reused by the run)."""
    padded = functools.cache(lambda: _padded(x, spec))
    if autotune and spec.algorithm is Algorithm.AUTO:
        return _tune.measure(spec, kernel, padded, _ALGORITHMS), padded
    return _model_choice(spec, kernel), padded


def _padded(x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The canonical image extended by the spec's padding, in the compute dtype."""
    return extend(_channels_first(x, spec), spec.pad_widths, spec.padding, spec.cval, spec.dtype)


def _channels_last(
    x: np.ndarray, kernel: np.ndarray, spec: ConvSpec, algorithm: Algorithm
) -> np.ndarray:
    """Correlation of ``(..., C)`` data as it lies: no transposition to channels-first.

    A photo arrives as (H, W, C); moving C first costs a strided copy as long as a 3x3
    convolution. Padded as an (H, W, C) volume (width 0 on C), it goes to ``fft`` with the
    channels as a batch, or to ``direct``/``separable`` as a volume correlated with a
    (k, k, 1) kernel: every channel filtered alone, the output already (H', W', C).
    """
    widths = (*spec.pad_widths, (0, 0))
    padded = extend(x[np.newaxis], widths, spec.padding, spec.cval, spec.dtype)[0]
    if algorithm is Algorithm.FFT:
        return _fft.correlate(padded, kernel, spec, channels_last=True)
    folded = dataclasses.replace(
        spec,
        input_shape=(*spec.input_shape, spec.channels_in),
        kernel_shape=(*spec.kernel_shape, 1),
        channels_in=1,
        channels_out=1,
        stride=(*spec.stride, 1),
        dilation=(*spec.dilation, 1),
        channel_axis=None,
    )
    return _ALGORITHMS[algorithm](padded[np.newaxis], kernel[..., np.newaxis], folded)[0]


def _run(
    x: Any, w: Any, flip: bool, bias: Any, autotune: bool, options: dict[str, Any]
) -> np.ndarray:
    x = np.asarray(x)
    spec, kernel = _prepare(x, w, flip, options)
    offset = None if bias is None else _bias(bias, spec)
    choice, padded = _choose(spec, kernel, x, autotune)
    algorithm = choice.algorithm
    if algorithm is not Algorithm.MATMUL and folds_channels(spec):
        result = _channels_last(x, kernel, spec, algorithm)
        return result if offset is None else result + offset.reshape(-1)
    result = _ALGORITHMS[algorithm](padded(), kernel, spec)
    if offset is not None:
        result += offset
    return _restore(result, spec)


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
    autotune: bool = False,
) -> np.ndarray:
    """Correlate ``x`` with the kernel ``w``: ``y[j] = sum_m xp[j*s + m*d] * w[m]``.

    Parameters
    ----------
    x : array_like
        The signal, image or volume, of any number of axes; with ``channel_axis`` one of
        them holds ``C`` channels.
    w : array_like
        Kernel with as many axes as ``x`` has spatial axes (applied to every channel on its
        own), or with ``channel_axis`` a bank of shape ``(C_out, C_in, *spatial)``: output
        channel ``o`` is ``sum_i correlate(x[..., i], w[o, i]) + bias[o]``.
    mode : {"same", "full", "valid"}
        Output size (see :func:`output_shape`): ``same`` keeps ``ceil(n/s)``, ``full``
        gives every overlap, ``valid`` only windows inside the input.
    padding : {"zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"}
        How ``x`` is extended (strip ``a b c d`` by 2): zero ``0 0|a b c d|0 0``, constant
        ``v v|a b c d|v v``, reflect ``c b|a b c d|c b``, symmetric ``b a|a b c d|d c``,
        replicate ``a a|a b c d|d d``, wrap ``c d|a b c d|a b``, mean ``m m|a b c d|m m``.
        Default ``zero``, the mathematical definition.
    cval : float
        The value of ``constant`` padding.
    stride, dilation : int or tuple of int
        Per spatial axis, or one for all; at least 1.
    algorithm : {"auto", "direct", "matmul", "fft", "separable"}
        All give the same result to within floating-point error (``1e-10`` of ``max|y|``
        in float64, ``1e-4`` in float32); ``auto`` picks the fastest by a cost model.
    channel_axis : int, optional
        Axis of ``x`` holding channels; the output keeps it in the same place.
    bias : float or array_like, optional
        Added to each output channel (one value, or one per output channel).
    threads : int, optional
        Threads for bands, transforms and the BLAS calls of the stride-1 paths; default
        all cores.
    autotune : bool
        With ``algorithm="auto"``: time the plausible algorithms on a band of this very
        problem and run the fastest; the choice is remembered in this process for every
        later call with the same shapes, kernel rank, options, dtype and threads.

    Returns
    -------
    ndarray
        float64 when ``x`` is float64, else float32.

    Raises
    ------
    ShapeError
        Empty arrays, kernel axes not matching, bank channels not matching, bias of the
        wrong length, ``valid`` with a kernel larger than ``x``.
    KernelError
        Non-finite kernel values.
    InvalidParameterError
        Unknown mode, padding or algorithm (the message lists the valid ones), stride,
        dilation or threads below 1, non-finite ``cval``.

    Examples
    --------
    >>> correlate([0.0, 1.0, 0.0], [1.0, 2.0, 3.0]).tolist()
    [3.0, 2.0, 1.0]
    """
    options = dict(mode=mode, padding=padding, cval=cval, stride=stride, dilation=dilation,
                   algorithm=algorithm, channel_axis=channel_axis, threads=threads)  # fmt: skip
    return _run(x, w, False, bias, autotune, options)


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
    autotune: bool = False,
) -> np.ndarray:
    """Convolve ``x`` with ``w``: :func:`correlate` with ``w`` flipped on every spatial axis.

    Same parameters, returns and errors as :func:`correlate`; in every mode,
    ``convolve(x, w) == correlate(x, flip(w))``.

    Examples
    --------
    >>> convolve([2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full").tolist()
    [2.0, 1.0, 4.0, -1.0, 2.0]
    >>> convolve([2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full", stride=2).tolist()
    [2.0, 4.0, 2.0]
    """
    options = dict(mode=mode, padding=padding, cval=cval, stride=stride, dilation=dilation,
                   algorithm=algorithm, channel_axis=channel_axis, threads=threads)  # fmt: skip
    return _run(x, w, True, bias, autotune, options)


def choose_algorithm(
    x: Any, w: Any, *, correlate: bool = False, autotune: bool = False, **options: Any
) -> Choice:
    """The algorithm that ``convolve(x, w, **options)`` would run, why, and its cost.

    Parameters
    ----------
    x, w : array_like
        As for :func:`convolve`. Only ``x``'s shape and dtype matter unless ``autotune``
        (a zero-strided ``numpy.broadcast_to`` array plans a large image for free).
    correlate : bool
        Plan :func:`correlate` instead (the same choice, the kernel flipped).
    autotune : bool
        Measure the candidates on ``x`` (see :func:`correlate`) instead of estimating.
    **options
        Any keyword of :func:`convolve` except ``bias``.

    Returns
    -------
    Choice
        The algorithm, where the choice came from (requested, model, measured, cache),
        a sentence saying why, the estimates, operations and peak memory.
    """
    x = np.asarray(x)
    spec, kernel = _prepare(x, w, not correlate, options)
    choice, _ = _choose(spec, kernel, x, autotune)
    return dataclasses.replace(
        choice,
        operations=operations(spec, choice.algorithm, kernel_ranks(spec, kernel)),
        peak_bytes=peak_memory(spec, choice.algorithm),
    )


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
        The options ``y`` was computed with (except ``bias``, ``algorithm``).

    Returns
    -------
    float
        ``max|y - y_direct| / max|y_direct|`` over the first output rows (those that
        read the padded border); within 1e-4 (float32) or 1e-10 (float64) when correct.
    """
    x = np.asarray(x)
    spec, kernel = _prepare(x, w, not correlate, {**options, "algorithm": "direct"})
    result = _channels_first(np.asarray(y), spec) if spec.channel_axis is not None else y[None]
    return _tune.verify(spec, kernel, _padded(x, spec), np.asarray(result), _direct.correlate)


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
    spec = make_spec(x.shape, x.dtype, point, padding=padding, cval=cval,
                     channel_axis=channel_axis, threads=1)  # fmt: skip
    widths = _widths(width, spec.ndim)
    result = _restore(extend(_channels_first(x, spec), widths, spec.padding, spec.cval,
                             spec.dtype), spec)  # fmt: skip
    # Like numpy.pad, always a new array (zero widths would otherwise return x itself).
    return result.copy() if np.shares_memory(result, x) else result


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
