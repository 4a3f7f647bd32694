"""Normalise the arguments of a convolution once, into a frozen :class:`ConvSpec`.

Everything downstream (padding, the four algorithms, the planner) reads per-axis tuples
from the spec and never re-validates. Arrays are described by shape and dtype only, so a
plan can be made (and explained) without the data.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Mode, Padding, parse_choice
from imconv.errors import InvalidParameterError, KernelError, ShapeError


def per_axis(value: Any, ndim: int, name: str) -> tuple[int, ...]:
    """Expand an int or a sequence of ints to one positive int per axis."""
    allowed = "a positive integer or a tuple of them, one per axis"
    items = (value,) * ndim if np.ndim(value) == 0 else tuple(value)
    if len(items) != ndim:
        raise InvalidParameterError(name, value, f"a positive integer or a tuple of {ndim}")
    result = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | np.integer) or item < 1:
            raise InvalidParameterError(name, value, allowed)
        result.append(int(item))
    return tuple(result)


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype policy: float64 stays float64, every other real dtype computes in float32."""
    if dtype.kind not in "biuf":
        raise InvalidParameterError(
            "image dtype", str(dtype), "real: bool, integer or floating point"
        )
    double = dtype.kind == "f" and dtype.itemsize == 8  # any byte order
    return np.dtype(np.float64) if double else np.dtype(np.float32)


def default_threads() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def extension(mode: Mode, effective_size: int) -> tuple[int, int]:
    """Padding (before, after) that ``mode`` adds along one axis for a dilated kernel."""
    span = effective_size - 1
    if mode is Mode.FULL:
        return span, span
    if mode is Mode.SAME:
        # Even kernels: one more before than after; NumPy/SciPy's alignment of `same`.
        return span - span // 2, span // 2
    return 0, 0


@dataclass(frozen=True)
class ConvSpec:
    """Everything about one convolution except the numbers in the arrays.

    Arrays are seen in canonical layout: the image as ``(C_in, *input_shape)``, the
    kernel as ``(C_out, C_in, *kernel_shape)`` when ``bank`` else ``kernel_shape``, the
    output as ``(C_out, *output_shape)``.
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

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.input_shape)

    @property
    def effective_kernel_shape(self) -> tuple[int, ...]:
        """Span of the dilated kernel per axis: ``d*(k-1)+1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_shape, self.dilation, strict=True))

    @property
    def pad_widths(self) -> tuple[tuple[int, int], ...]:
        """Extension (before, after) of each spatial axis."""
        return tuple(extension(self.mode, k) for k in self.effective_kernel_shape)

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


def make_spec(
    image_shape: tuple[int, ...],
    image_dtype: Any,
    kernel_shape: tuple[int, ...],
    *,
    mode: Any = "same",
    padding: Any = "zero",
    cval: float = 0.0,
    stride: Any = 1,
    dilation: Any = 1,
    algorithm: Any = "auto",
    channel_axis: int | None = None,
    threads: int | None = None,
) -> ConvSpec:
    """Validate the arguments of ``correlate`` against the array shapes; build the spec."""
    image_shape, kernel_shape = tuple(image_shape), tuple(kernel_shape)
    dtype = compute_dtype(np.dtype(image_dtype))
    if len(image_shape) == 0 or 0 in image_shape:
        raise ShapeError(f"image must be a non-empty array; got shape {image_shape}")
    if len(kernel_shape) == 0 or 0 in kernel_shape:
        raise ShapeError(f"kernel must be a non-empty array; got shape {kernel_shape}")

    if channel_axis is None:
        spatial, channels, bank = image_shape, 1, False
        if len(kernel_shape) != len(spatial):
            raise ShapeError(
                f"kernel must have as many axes as the image ({len(spatial)}); got kernel "
                f"shape {kernel_shape} for image shape {image_shape}",
                hint="pass channel_axis= for multi-channel images",
            )
        spatial_kernel, channels_out = kernel_shape, 1
    else:
        if isinstance(channel_axis, bool) or not isinstance(channel_axis, int | np.integer):
            raise InvalidParameterError("channel_axis", channel_axis, "an integer axis or None")
        if not -len(image_shape) <= channel_axis < len(image_shape) or len(image_shape) < 2:
            raise InvalidParameterError(
                "channel_axis",
                channel_axis,
                f"an axis of the image (shape {image_shape}) that leaves at least one other",
            )
        channel_axis = int(channel_axis) % len(image_shape)
        channels = image_shape[channel_axis]
        spatial = image_shape[:channel_axis] + image_shape[channel_axis + 1 :]
        if len(kernel_shape) == len(spatial):
            spatial_kernel, channels_out, bank = kernel_shape, channels, False
        elif len(kernel_shape) == len(spatial) + 2:
            spatial_kernel, channels_out, bank = kernel_shape[2:], kernel_shape[0], True
            if kernel_shape[1] != channels:
                raise ShapeError(
                    f"kernel bank must have shape (C_out, C_in={channels}, ...) to match the "
                    f"image's {channels} channels; got kernel shape {kernel_shape}"
                )
        else:
            raise ShapeError(
                f"kernel must have {len(spatial)} axes (one kernel for every channel) or "
                f"{len(spatial) + 2} (a bank (C_out, C_in, ...)); got kernel shape {kernel_shape}"
            )

    ndim = len(spatial)
    threads = default_threads() if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise InvalidParameterError("threads", threads, "a positive integer or None")
    try:
        cval = float(cval)
    except (TypeError, ValueError):
        raise InvalidParameterError("cval", cval, "a finite number") from None
    if not math.isfinite(cval):
        raise InvalidParameterError("cval", cval, "a finite number")

    spec = ConvSpec(
        input_shape=spatial,
        kernel_shape=spatial_kernel,
        channels_in=channels,
        channels_out=channels_out,
        bank=bank,
        mode=parse_choice(Mode, mode, "mode"),
        padding=parse_choice(Padding, padding, "padding"),
        cval=cval,
        stride=per_axis(stride, ndim, "stride"),
        dilation=per_axis(dilation, ndim, "dilation"),
        algorithm=parse_choice(Algorithm, algorithm, "algorithm"),
        channel_axis=channel_axis,
        threads=int(threads),
        dtype=dtype,
    )
    if any(p < k for p, k in zip(spec.padded_shape, spec.effective_kernel_shape, strict=True)):
        raise ShapeError(
            f"mode 'valid' needs an image at least as large as the dilated kernel on every "
            f"axis; got image {spec.input_shape} and kernel {spec.effective_kernel_shape}",
            hint="use mode 'same' or 'full', or a smaller kernel or dilation",
        )
    return spec


def check_kernel(kernel: np.ndarray) -> None:
    """Reject kernels that are not real or hold NaN or infinity."""
    if kernel.dtype.kind not in "biuf":
        raise InvalidParameterError(
            "kernel dtype", str(kernel.dtype), "real: bool, integer or floating point"
        )
    if kernel.size and not np.isfinite(kernel).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(kernel))[0])
        raise KernelError(
            f"kernel must contain only finite numbers; got {float(kernel[where])!r} "
            f"at index {where}"
        )
