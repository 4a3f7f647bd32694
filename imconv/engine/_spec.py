"""The geometry of one convolution: shapes and options resolved into a frozen :class:`ConvSpec`.

:class:`~imconv.engine.ConvOptions` are checked on their own; here they meet the shapes
(per-axis tuples of the right length, a channel axis the image has, ``valid`` with a kernel
that fits). Everything downstream (padding, the four algorithms, the plan) reads per-axis
tuples from the spec and never re-validates. Arrays are described by shape and dtype only,
so a plan can be made (and explained) without the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Mode, NanTreatment, Operation, Padding
from imconv.environment import cores
from imconv.errors import InvalidParameterError, KernelError, ShapeError

from ._axes import Arrangement, arrange
from ._options import ConvOptions, expand

NUMBERS = "biufc"  # bool, integers, floating point, complex


def compute_dtype(dtype: np.dtype, kernel_dtype: np.dtype | None = None) -> np.dtype:
    """The dtype policy.

    Real: float64 input computes in float64, every other real input in float32. Complex
    (the input or the kernel): complex128 if either is complex128 or the input is float64,
    else complex64 (a complex64 input with a float64 kernel stays complex64).
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in NUMBERS:
        raise InvalidParameterError(
            "image dtype", str(dtype), "numeric: bool, integer, floating point or complex"
        )
    kernel = np.dtype(np.float64) if kernel_dtype is None else np.dtype(kernel_dtype)
    double = dtype.kind == "f" and dtype.itemsize == 8  # any byte order
    if dtype.kind != "c" and kernel.kind != "c":
        return np.dtype(np.float64) if double else np.dtype(np.float32)
    wide = double or any(d.kind == "c" and d.itemsize >= 16 for d in (dtype, kernel))
    return np.dtype(np.complex128) if wide else np.dtype(np.complex64)


def extension(mode: Mode, effective_size: int, origin: int = 0) -> tuple[int, int]:
    """Padding (before, after) that ``mode`` adds along one axis for a dilated kernel, its
    anchor shifted by a correlation ``origin`` (``valid`` may then crop: a negative side)."""
    span = effective_size - 1
    if mode is Mode.FULL:
        before, after = span, span
    elif mode is Mode.SAME:
        # Even kernels: one more before than after; NumPy/SciPy's alignment of `same`.
        before, after = span - span // 2, span // 2
    else:
        before, after = 0, 0
    return before + origin, after - origin


@dataclass(frozen=True)
class ConvSpec:
    """Everything about one convolution except the numbers in the arrays.

    Arrays are seen in canonical layout: the image as ``(C_in, *input_shape)``, the
    kernel as ``(C_out, C_in, *kernel_shape)`` when ``bank`` else ``kernel_shape``, the
    output as ``(C_out, *output_shape)``. ``pad_widths`` is the extension of each spatial
    axis; a band of the problem is the same spec with fewer input rows and no extension of
    the first axis (its rows are gathered with their padding by the caller).
    """

    input_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    channels_in: int
    channels_out: int
    bank: bool
    mode: Mode
    padding: Padding
    cval: float
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    algorithm: Algorithm
    channel_axis: int | None
    threads: int
    dtype: np.dtype
    pad_widths: tuple[tuple[int, int], ...]
    nan: NanTreatment = NanTreatment.PROPAGATE
    arrangement: Arrangement | None = None  # the whole input's axes (None: one item)

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.input_shape)

    @property
    def effective_kernel_shape(self) -> tuple[int, ...]:
        """Span of the dilated kernel per axis: ``d*(k-1)+1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_shape, self.dilation, strict=True))

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """Spatial shape of the extended image."""
        return tuple(n + a + b for n, (a, b) in zip(self.input_shape, self.pad_widths, strict=True))

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Spatial shape of the result."""
        return tuple(
            (p - k) // s + 1
            for p, k, s in zip(
                self.padded_shape, self.effective_kernel_shape, self.stride, strict=True
            )
        )

    @property
    def taps(self) -> int:
        """Number of kernel entries per (output, input) channel pair."""
        return math.prod(self.kernel_shape)

    @property
    def output_size(self) -> int:
        """Number of output values per channel."""
        return math.prod(self.output_shape)


def _spatial(
    image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], channel_axis: int | None
) -> tuple[tuple[int, ...], tuple[int, ...], int, int, bool, int | None]:
    """Split the shapes: spatial image and kernel shapes, C_in, C_out, bank, the channel axis."""
    if channel_axis is None:
        if len(kernel_shape) != len(image_shape):
            raise ShapeError(
                f"kernel must have as many axes as the image ({len(image_shape)}); got kernel "
                f"shape {kernel_shape} for image shape {image_shape}",
                hint="pass channel_axis= for multi-channel images",
            )
        return image_shape, kernel_shape, 1, 1, False, None
    if not -len(image_shape) <= channel_axis < len(image_shape) or len(image_shape) < 2:
        raise InvalidParameterError(
            "channel_axis",
            channel_axis,
            f"an axis of the image (shape {image_shape}) that leaves at least one other",
        )
    axis = channel_axis % len(image_shape)
    channels = image_shape[axis]
    spatial = image_shape[:axis] + image_shape[axis + 1 :]
    if len(kernel_shape) == len(spatial):
        return spatial, kernel_shape, channels, channels, False, axis
    if len(kernel_shape) == len(spatial) + 2:
        if kernel_shape[1] != channels:
            raise ShapeError(
                f"kernel bank must have shape (C_out, C_in={channels}, ...) to match the "
                f"image's {channels} channels; got kernel shape {kernel_shape}"
            )
        return spatial, kernel_shape[2:], channels, kernel_shape[0], True, axis
    raise ShapeError(
        f"kernel must have {len(spatial)} axes (one kernel for every channel) or "
        f"{len(spatial) + 2} (a bank (C_out, C_in, ...)); got kernel shape {kernel_shape}"
    )


ZERO_D = "got a 0-d array (a single number)"


def _check_shapes(image_shape: tuple[int, ...], kernel_shape: tuple[int, ...]) -> None:
    if len(image_shape) == 0:
        raise ShapeError(
            f"image must have at least one axis; {ZERO_D}",
            hint="pass a signal, an image or a volume",
        )
    if 0 in image_shape:
        raise ShapeError(f"image must be a non-empty array; got shape {image_shape}")
    if len(kernel_shape) == 0:
        raise ShapeError(
            f"kernel must have at least one axis per spatial axis of the image; {ZERO_D}",
            hint="to scale by a number, give it one axis per image axis: [[2.0]] for 2-D",
        )
    if 0 in kernel_shape:
        raise ShapeError(f"kernel must be a non-empty array; got shape {kernel_shape}")


def _arranged(
    image_shape: tuple[int, ...], options: ConvOptions
) -> tuple[Arrangement, tuple[int, ...], int | None]:
    """The arrangement, the item's shape and the item's channel axis (checked)."""
    channel = options.channel_axis
    if channel is not None:
        if not -len(image_shape) <= channel < len(image_shape) or len(image_shape) < 2:
            raise InvalidParameterError(
                "channel_axis",
                channel,
                f"an axis of the image (shape {image_shape}) that leaves at least one other",
            )
        channel %= len(image_shape)
    arrangement = arrange(image_shape, options.axes, channel)
    return arrangement, arrangement.item_shape, arrangement.item_channel_axis


def _origins(
    options: ConvOptions,
    effective: tuple[int, ...],
    operation: Operation,
    ordered: Callable[[tuple[int, ...]], tuple[int, ...]],
) -> tuple[int, ...]:
    """The correlation origin per axis (convolution mirrors it), its range checked."""
    ndim = len(effective)
    origin = ordered(expand(options.origin, ndim, "origin", "an integer"))
    convolve = operation is Operation.CONVOLVE
    ranges = [((k - 1) // 2, k // 2) if convolve else (k // 2, (k - 1) // 2) for k in effective]
    if any(not -low <= o <= high for o, (low, high) in zip(origin, ranges, strict=True)):
        shown = ", ".join(f"{-low}..{high}" for low, high in ranges)
        rule = "-((k-1)//2)..k//2" if convolve else "-(k//2)..(k-1)//2"
        raise InvalidParameterError(
            "origin",
            options.origin,
            f"within {rule} per axis for {operation} with a kernel spanning {effective} ({shown})",
        )
    return tuple(-o for o in origin) if convolve else origin


def make_spec(
    image_shape: tuple[int, ...],
    image_dtype: Any,
    kernel_shape: tuple[int, ...],
    options: ConvOptions,
    *,
    kernel_dtype: Any = None,
    operation: Operation = Operation.CORRELATE,
) -> ConvSpec:
    """Resolve ``options`` against the array shapes into a spec (errors name the parameter).

    The spec describes one item (see :mod:`._axes`): without batch axes, the whole input.
    """
    image_shape, kernel_shape = tuple(image_shape), tuple(kernel_shape)
    dtype = compute_dtype(np.dtype(image_dtype), kernel_dtype)
    _check_shapes(image_shape, kernel_shape)
    arrangement, item_shape, item_channel = _arranged(image_shape, options)
    if options.axes is not None and len(kernel_shape) - len(arrangement.spatial) not in (
        0,
        2 if item_channel is not None else 0,
    ):
        raise ShapeError(
            f"kernel must have one axis per entry of axes ({len(arrangement.spatial)}"
            f"{', or 2 more for a bank' if item_channel is not None else ''}); got kernel "
            f"shape {kernel_shape} for axes {options.axes}"
        )
    spatial, spatial_kernel, channels_in, channels_out, bank, axis = _spatial(
        item_shape, kernel_shape, item_channel
    )
    ndim = len(spatial)
    ordered = arrangement.in_kernel_order
    dilation = ordered(expand(options.dilation, ndim, "dilation"))
    effective = tuple(d * (k - 1) + 1 for k, d in zip(spatial_kernel, dilation, strict=True))
    origin = _origins(options, effective, operation, ordered)
    spec = ConvSpec(
        input_shape=spatial,
        kernel_shape=spatial_kernel,
        channels_in=channels_in,
        channels_out=channels_out,
        bank=bank,
        mode=options.mode,
        padding=options.padding,
        cval=options.cval,
        stride=ordered(expand(options.stride, ndim, "stride")),
        dilation=dilation,
        algorithm=options.algorithm,
        channel_axis=axis,
        threads=cores() if options.threads is None else options.threads,
        dtype=dtype,
        pad_widths=tuple(
            extension(options.mode, k, o) for k, o in zip(effective, origin, strict=True)
        ),
        nan=options.nan,
        arrangement=arrangement,
    )
    if any(p < k for p, k in zip(spec.padded_shape, spec.effective_kernel_shape, strict=True)):
        raise ShapeError(
            f"mode 'valid' needs an image at least as large as the dilated kernel on every "
            f"axis; got image {spec.input_shape} and kernel {spec.effective_kernel_shape}",
            hint="use mode 'same' or 'full', or a smaller kernel or dilation",
        )
    return spec


def check_kernel(kernel: np.ndarray) -> None:
    """Reject kernels that are not numbers, have no axis, or hold NaN or infinity."""
    if kernel.dtype.kind not in NUMBERS:
        raise InvalidParameterError(
            "kernel dtype", str(kernel.dtype), "numeric: bool, integer, floating point or complex"
        )
    if kernel.ndim == 0:
        raise ShapeError(
            f"kernel must have at least one axis per spatial axis of the image; got "
            f"{kernel.item()!r}, a 0-d array (a single number)",
            hint="to scale by a number, give it one axis per image axis: [[2.0]] for 2-D",
        )
    if kernel.size and not np.isfinite(kernel).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(kernel))[0])
        raise KernelError(
            f"kernel must contain only finite numbers; got {kernel[where].item()!r} "
            f"at index {where}"
        )
