"""A deliberately naive reference for the engine contract (README, The Python library).

Written straight from the definition, one output and one tap at a time, in float64:

    y[j] = sum_m xp[j*s + m*d] * w[m]

with ``xp`` the input extended by ``numpy.pad``. It imports nothing from imconv, so a
mistake shared by the engine's helpers cannot hide here. Slow on purpose: keep arrays tiny.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

PADDINGS = ("zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean")
MODES = ("full", "same", "valid")

# numpy.pad's name for each padding mode that it implements as the contract defines it.
_NUMPY_PAD = {"reflect": "reflect", "symmetric": "symmetric", "replicate": "edge", "wrap": "wrap"}


def _per_axis(value: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    return (int(value),) * ndim if np.ndim(value) == 0 else tuple(int(v) for v in value)


def pad_widths(
    mode: str, kernel_shape: Sequence[int], dilation: Sequence[int]
) -> list[tuple[int, int]]:
    """(before, after) extension per axis for ``mode`` with a dilated kernel."""
    widths = []
    for k, d in zip(kernel_shape, dilation, strict=True):
        span = d * (k - 1)  # k_eff - 1
        if mode == "full":
            widths.append((span, span))
        elif mode == "same":
            widths.append((span - span // 2, span // 2))
        elif mode == "valid":
            widths.append((0, 0))
        else:
            raise ValueError(mode)
    return widths


def extend(
    x: np.ndarray, widths: Sequence[tuple[int, int]], padding: str, cval: float
) -> np.ndarray:
    """``x`` (float64, one channel) extended by ``widths`` with ``padding``, via numpy.pad."""
    if padding in _NUMPY_PAD:
        return np.pad(x, widths, mode=_NUMPY_PAD[padding])
    value = {"zero": 0.0, "constant": cval, "mean": float(np.mean(x))}[padding]
    return np.pad(x, widths, mode="constant", constant_values=value)


def correlate_one(
    x: np.ndarray,
    w: np.ndarray,
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
) -> np.ndarray:
    """Correlation of one channel ``x`` with a kernel ``w`` of the same ndim, by loops."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    assert x.ndim == w.ndim
    s = _per_axis(stride, x.ndim)
    d = _per_axis(dilation, x.ndim)
    xp = extend(x, pad_widths(mode, w.shape, d), padding, cval)
    k_eff = [di * (k - 1) + 1 for k, di in zip(w.shape, d, strict=True)]
    out_shape = [(p - ke) // si + 1 for p, ke, si in zip(xp.shape, k_eff, s, strict=True)]
    y = np.zeros(out_shape, dtype=np.float64)
    for j in itertools.product(*(range(n) for n in out_shape)):
        total = 0.0
        for m in itertools.product(*(range(k) for k in w.shape)):
            at = tuple(jj * si + mm * di for jj, mm, si, di in zip(j, m, s, d, strict=True))
            total += xp[at] * w[m]
        y[j] = total
    return y


def correlate(
    x: np.ndarray,
    w: np.ndarray,
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    channel_axis: int | None = None,
    bias: float | Sequence[float] | None = None,
) -> np.ndarray:
    """The contract's correlation, with channels: a per-channel kernel or a bank with bias.

    With ``channel_axis`` and ``w.ndim == x.ndim - 1`` every channel is correlated with
    ``w``; with ``w.ndim == x.ndim + 1`` ``w`` is a bank ``(C_out, C_in, *spatial)`` and
    output channel ``o`` is ``sum_i correlate_one(x_i, w[o, i]) + bias[o]``.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    opts = dict(mode=mode, padding=padding, cval=cval, stride=stride, dilation=dilation)
    if channel_axis is None:
        y = correlate_one(x, w, **opts)
        return y + (0.0 if bias is None else float(np.asarray(bias).reshape(-1)[0]))
    axis = channel_axis % x.ndim
    channels = [np.take(x, i, axis=axis) for i in range(x.shape[axis])]
    if w.ndim == x.ndim - 1:
        outs = [correlate_one(c, w, **opts) for c in channels]
    else:
        outs = []
        for o in range(w.shape[0]):
            acc = sum(correlate_one(c, w[o, i], **opts) for i, c in enumerate(channels))
            outs.append(acc)
    if bias is not None:
        b = np.broadcast_to(np.asarray(bias, dtype=np.float64), (len(outs),))
        outs = [out + b[o] for o, out in enumerate(outs)]
    return np.stack(outs, axis=axis)


def flip(w: np.ndarray, spatial: int | None = None) -> np.ndarray:
    """``w`` reversed along its last ``spatial`` axes (all axes when None)."""
    w = np.asarray(w)
    n = w.ndim if spatial is None else spatial
    return np.flip(w, axis=tuple(range(w.ndim - n, w.ndim))) if n else w


def convolve(x: np.ndarray, w: np.ndarray, **options: object) -> np.ndarray:
    """The contract's convolution: correlation with the kernel flipped on every spatial axis."""
    x = np.asarray(x)
    w = np.asarray(w)
    spatial = x.ndim if options.get("channel_axis") is None else x.ndim - 1
    return correlate(x, flip(w, spatial), **options)  # type: ignore[arg-type]


def assert_close(
    got: np.ndarray, expected: np.ndarray, *, rtol: float, floor: float = 0.0, context: str = ""
) -> None:
    """``got`` has ``expected``'s shape and is within ``rtol * max|expected|`` everywhere.

    This is the contract's tolerance between algorithms: relative to the largest output
    value, not elementwise (values near zero come from cancellation, and are compared on
    the scale of the whole output). ``floor`` is a lower bound on that scale, for outputs
    that vanish while the inputs do not (rounding then scales with the inputs).
    """
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{context}: shape {got.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), floor)
    error = float(np.max(np.abs(got.astype(np.float64) - expected), initial=0.0))
    assert error <= rtol * scale, (
        f"{context}: max error {error:.3g} > {rtol:g} * max|y| = {rtol * scale:.3g}"
    )
