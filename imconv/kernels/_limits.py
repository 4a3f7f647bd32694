"""What a kernel may be: the size and value limits, checked before anything is built on it.

* **Size.** At most :data:`MAX_SIDE` (4097) taps a side. Generators check their size
  parameters against it *before* allocating (``box:size``, ``gaussian:sigma``,
  ``motion:length``, ``disk:radius``, ...), so a huge value is a one-line error, never a
  ``MemoryError``; every kernel, from a file or text too, is checked again on creation.
* **Values.** Finite, and small enough that no response can overflow float32 (the type
  the engine computes in for every input but float64) on 16-bit input: the *gain*, the
  sum of absolute weights plus ``|bias|``, times 65535 must not exceed float32's maximum
  (about 3.4e38), so the gain is at most :data:`MAX_GAIN` (about 5.19e33). The gain of a
  bank is that of its largest output channel; the gain of a kernel set adds up its parts
  (a bound for every combine rule: max, min, sum and magnitude are all at most the sum of
  the absolute responses).

Messages use the engine's wording for the same faults (``imconv.engine`` checks arrays
given to it directly).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imconv.errors import KernelError

__all__ = ["MAX_GAIN", "MAX_SIDE", "check_bias", "check_gain", "check_weights", "gain"]

MAX_SIDE = 4097
"""Most taps a kernel may have along one side."""

MAX_GAIN = float(np.finfo(np.float32).max) / 65535.0
"""Largest sum of absolute weights (plus ``|bias|``) of one output: 65535 times it fits
float32."""


def _readonly(values: Any) -> np.ndarray:
    """A float64 copy that cannot be written to."""
    array: np.ndarray = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def check_weights(weights: Any, *, stacked: bool) -> np.ndarray:
    """Weights as a read-only float64 copy; KernelError unless real, finite, non-empty, of
    the right number of axes (``stacked``: a kernel set ``(parts, kh, kw)``) and of at
    most :data:`MAX_SIDE` taps a side."""
    array = np.asarray(weights)
    if array.dtype.kind not in "biuf":
        raise KernelError(
            f"kernel dtype must be real: bool, integer or floating point; got {str(array.dtype)!r}"
        )
    if array.ndim not in ((3,) if stacked else (2, 4)):
        what = (
            "a stack (parts, kh, kw) for a kernel set"
            if stacked
            else "2-D (kh, kw) or a 4-D bank (C_out, C_in, kh, kw)"
        )
        raise KernelError(f"kernel must be {what}; got shape {array.shape}")
    if array.size == 0:
        raise KernelError(f"kernel must be a non-empty array; got shape {array.shape}")
    if max(array.shape[-2:]) > MAX_SIDE:
        raise KernelError(f"kernel must be at most {MAX_SIDE} taps a side; got shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise KernelError(
            f"kernel must contain only finite numbers; got {float(array[where])!r} at index {where}"
        )
    return _readonly(array)


def check_bias(bias: Any, weights: np.ndarray, *, stacked: bool) -> np.ndarray | None:
    """Bias as float64: one value per output channel for a bank, a 0-d offset for 2-D;
    KernelError for a kernel set (sets take none) or a bad shape or value."""
    if bias is None:
        return None
    try:
        values = np.asarray(bias)
    except ValueError:  # ragged nested lists
        raise KernelError(
            f"bias must be a number or a flat list of numbers; got {bias!r}"
        ) from None
    if stacked or values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise KernelError(
            f"bias must be finite real numbers, and a kernel set has none; got {bias!r}"
        )
    if weights.ndim == 4 and values.shape != (weights.shape[0],):
        raise KernelError(
            f"bias must have one value per output channel ({weights.shape[0]}); "
            f"got shape {values.shape}"
        )
    if weights.ndim == 2:
        if values.size != 1:
            raise KernelError(f"bias of a 2-D kernel must be one number; got {bias!r}")
        values = values.reshape(())
    return _readonly(values)


def gain(weights: np.ndarray, bias: np.ndarray | None) -> float:
    """The largest response per unit input: see the module docstring; may be ``inf``."""
    with np.errstate(over="ignore"):
        if weights.ndim == 4:
            per_output = np.abs(weights).sum(axis=(1, 2, 3))
            if bias is not None:
                per_output = per_output + np.abs(bias)
            return float(per_output.max())
        total = float(np.abs(weights).sum())
        return total + (float(np.abs(bias)) if bias is not None else 0.0)


def check_gain(weights: np.ndarray, bias: np.ndarray | None) -> None:
    """KernelError when a response could overflow float32 on 16-bit input."""
    value = gain(weights, bias)
    if not value <= MAX_GAIN:
        raise KernelError(
            f"kernel must have a sum of absolute weights (plus |bias|) of at most "
            f"{MAX_GAIN:.3g}, so that a 16-bit image's response fits float32; got {value:.3g}",
            hint="scale the kernel down",
        )
