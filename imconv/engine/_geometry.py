"""Sizes without data: the output shape of one convolution, the receptive field of a chain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from imconv.errors import InvalidParameterError

from ._options import ConvOptions, expand, per_axis
from ._spec import make_spec


def output_shape(
    input_shape: Iterable[int],
    kernel_shape: Iterable[int],
    *,
    mode: str = "same",
    stride: int | Iterable[int] = 1,
    dilation: int | Iterable[int] = 1,
) -> tuple[int, ...]:
    """Spatial shape of ``correlate(x, w, ...)`` for ``x.shape == input_shape``.

    With ``k_eff = d*(k-1)+1``: ``same`` gives ``ceil(n/s)``, ``full`` gives
    ``ceil((n+k_eff-1)/s)`` and ``valid`` gives ``floor((n-k_eff)/s)+1``.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        Spatial shapes, of equal length.
    mode : {"same", "full", "valid"}
    stride, dilation : int or sequence of int
        Per axis, or one for all.

    Returns
    -------
    tuple of int

    Raises
    ------
    ShapeError
        ``valid`` with a dilated kernel larger than the input.

    Examples
    --------
    >>> output_shape((100, 100), (3, 3), mode="full", stride=2)
    (51, 51)
    >>> output_shape((3,), (3,), mode="full")
    (5,)
    """
    options = ConvOptions(mode=mode, stride=stride, dilation=dilation, threads=1)
    return make_spec(tuple(input_shape), np.float64, tuple(kernel_shape), options).output_shape


class Step(NamedTuple):
    """One layer of a chain: kernel size, stride and dilation (each an int or per axis)."""

    size: Any
    stride: Any = 1
    dilation: Any = 1


class ReceptiveField(NamedTuple):
    """What one output of a chain sees.

    Attributes
    ----------
    size
        Input pixels spanned per axis.
    jump
        Input pixels between neighbouring outputs per axis (the product of the strides).
    """

    size: tuple[int, ...]
    jump: tuple[int, ...]


def _as_step(step: Any) -> Step:
    if isinstance(step, Step):
        return step
    if isinstance(step, np.ndarray):
        return Step(step.shape)
    return Step(step)


def receptive_field(steps: Iterable[Any]) -> ReceptiveField:
    """Receptive field of a chain of kernels applied one after the other.

    Each step adds ``(k_eff - 1) * jump`` to the field, where ``jump`` is the product of
    the strides before it: ``r = 1 + sum_i d_i (k_i - 1) prod_{j<i} s_j`` per axis.

    Parameters
    ----------
    steps : iterable of Step, int, tuple of int or ndarray
        The kernels in order of application. An int or tuple is a kernel size, an array
        a kernel (its shape is used); use :class:`Step` for stride and dilation.

    Returns
    -------
    ReceptiveField
        ``size`` and ``jump`` per axis.

    Raises
    ------
    InvalidParameterError
        No steps, sizes or strides below 1, or steps with different numbers of axes.

    Notes
    -----
    Two stacked 3x3 kernels see 5x5, not 9x9: their composition is the full convolution
    of the two kernels, of size ``3 + 3 - 1``. The "9x9" of the lecture counts something
    else: ``9 * 9 = 81`` products of a tap of one kernel with a tap of the other, the paths
    from input to output, which land on only 25 distinct pixels. A 9x9 field needs four
    stacked 3x3 kernels (``1 + 4*2``), or a stride: 3x3 with stride 3, then 3x3, gives
    ``1 + 2 + 2*3 = 9``.

    Examples
    --------
    >>> receptive_field([(3, 3), (3, 3)]).size
    (5, 5)
    >>> receptive_field([Step(3, stride=3), Step(3)]).size
    (9,)
    """
    normalised = [_as_step(step) for step in steps]
    if not normalised:
        raise InvalidParameterError("steps", steps, "a non-empty sequence of kernel steps")
    ndim = 1 if np.ndim(normalised[0].size) == 0 else len(normalised[0].size)
    size, jump = [1] * ndim, [1] * ndim
    for step in normalised:
        kernel = expand(per_axis(step.size, "kernel size"), ndim, "kernel size")
        stride = expand(per_axis(step.stride, "stride"), ndim, "stride")
        dilation = expand(per_axis(step.dilation, "dilation"), ndim, "dilation")
        for axis in range(ndim):
            size[axis] += dilation[axis] * (kernel[axis] - 1) * jump[axis]
            jump[axis] *= stride[axis]
    return ReceptiveField(tuple(size), tuple(jump))
