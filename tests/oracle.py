"""A deliberately naive reference for the engine contract (README, The Python library).

Written straight from the definition, one output and one tap at a time, in float64 (or
complex128):

    y[j] = sum_m xp[j*s + m*d - origin] * w[m]

with ``xp`` the input extended by ``numpy.pad``, over the non-zero taps (so a NaN under a
zero tap stays out, as the contract's ``nan="propagate"`` says). With ``nan="ignore"``
(or a mask) it is normalized convolution, ``sum(w*x*v) / sum(w*v) * sum(w)`` over the
valid inputs of each window, NaN where none meets a non-zero tap. It imports nothing from
imconv, so a mistake shared by the engine's helpers cannot hide here. Slow on purpose:
keep arrays tiny.
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
    x: np.ndarray,
    widths: Sequence[tuple[int, int]],
    padding: str,
    cval: float,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """``x`` (one channel) extended by ``widths`` with ``padding``, via numpy.pad; ``mean``
    over the ``valid`` values when given."""
    if padding in _NUMPY_PAD:
        return np.pad(x, widths, mode=_NUMPY_PAD[padding])
    if padding == "mean":
        value = np.mean(x) if valid is None else (np.mean(x[valid]) if valid.any() else np.nan)
    else:
        value = {"zero": 0.0, "constant": cval}[padding]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _wide(a: object) -> np.ndarray:
    array = np.asarray(a)
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def correlate_one(
    x: np.ndarray,
    w: np.ndarray,
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    origin: int | Sequence[int] = 0,
    nan: str = "propagate",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Correlation of one channel ``x`` with a kernel ``w`` of the same ndim, by loops."""
    x, w = _wide(x), _wide(w)
    assert x.ndim == w.ndim
    s = _per_axis(stride, x.ndim)
    d = _per_axis(dilation, x.ndim)
    o = _per_axis(origin, x.ndim)
    normalized = nan == "ignore" or mask is not None
    valid = np.isfinite(x) & (True if mask is None else np.asarray(mask, dtype=bool))
    # Pad generously: numpy.pad's extension at a position does not depend on the width.
    widths = pad_widths(mode, w.shape, d)
    wide = [ke + abs(oo) for ke, oo in zip(w.shape, o, strict=True)]
    big = [di * ke for di, ke in zip(d, wide, strict=True)]
    xp = extend(x, [(b, b) for b in big], padding, cval, valid if normalized else None)
    vp = np.pad(
        valid,
        [(b, b) for b in big],
        mode=_NUMPY_PAD.get(padding, "constant"),
        **({} if padding in _NUMPY_PAD else {"constant_values": True}),
    )
    shift = [b - before - oo for b, (before, _), oo in zip(big, widths, o, strict=True)]
    k_eff = [di * (k - 1) + 1 for k, di in zip(w.shape, d, strict=True)]
    padded = [n + a + b for n, (a, b) in zip(x.shape, widths, strict=True)]
    out_shape = [(p - ke) // si + 1 for p, ke, si in zip(padded, k_eff, s, strict=True)]
    y = np.zeros(out_shape, dtype=np.result_type(x, w))
    taps = [m for m in itertools.product(*(range(k) for k in w.shape)) if w[m] != 0]
    with np.errstate(all="ignore"):  # inf - inf is NaN, as the contract wants
        _loop(y, xp, vp, w, taps, s, d, shift, normalized)
    return y


def _loop(y, xp, vp, w, taps, s, d, shift, normalized) -> None:
    """Every output of ``y`` by the definition (see :func:`correlate_one`)."""
    for j in itertools.product(*(range(n) for n in y.shape)):
        total, weight, seen = 0.0, 0.0, False
        for m in taps:
            at = tuple(
                jj * si + mm * di + sh for jj, mm, si, di, sh in zip(j, m, s, d, shift, strict=True)
            )
            if not normalized:
                total += xp[at] * w[m]
            elif vp[at] and np.isfinite(xp[at]):
                total, weight, seen = total + xp[at] * w[m], weight + w[m], True
        if normalized:
            total = total / weight * w.sum() if seen else np.nan
        y[j] = total


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
    origin: int | Sequence[int] = 0,
    nan: str = "propagate",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The contract's correlation, with channels: a per-channel kernel or a bank with bias.

    With ``channel_axis`` and ``w.ndim == x.ndim - 1`` every channel is correlated with
    ``w``; with ``w.ndim == x.ndim + 1`` ``w`` is a bank ``(C_out, C_in, *spatial)`` and
    output channel ``o`` is ``sum_i correlate_one(x_i, w[o, i]) + bias[o]`` (under
    ``nan="ignore"`` each pair normalized on its own; all-zero pairs add nothing). ``mask``
    has the shape of ``x`` without its channel axis.
    """
    x, w = _wide(x), _wide(w)
    opts = dict(
        mode=mode,
        padding=padding,
        cval=cval,
        stride=stride,
        dilation=dilation,
        origin=origin,
        nan=nan,
        mask=mask,
    )
    if channel_axis is None:
        y = correlate_one(x, w, **opts)
        return y + (0.0 if bias is None else np.asarray(bias).reshape(-1)[0])
    axis = channel_axis % x.ndim
    channels = [np.take(x, i, axis=axis) for i in range(x.shape[axis])]
    if w.ndim == x.ndim - 1:
        outs = [correlate_one(c, w, **opts) for c in channels]
    else:
        outs = []
        for o in range(w.shape[0]):
            parts = [
                correlate_one(c, w[o, i], **opts) for i, c in enumerate(channels) if w[o, i].any()
            ]
            outs.append(sum(parts) if parts else 0.0 * correlate_one(channels[0], w[o, 0], **opts))
    if bias is not None:
        b = np.broadcast_to(np.asarray(bias), (len(outs),))
        outs = [out + b[o] for o, out in enumerate(outs)]
    return np.stack(outs, axis=axis)


def flip(w: np.ndarray, spatial: int | None = None) -> np.ndarray:
    """``w`` reversed along its last ``spatial`` axes (all axes when None)."""
    w = np.asarray(w)
    n = w.ndim if spatial is None else spatial
    return np.flip(w, axis=tuple(range(w.ndim - n, w.ndim))) if n else w


def convolve(x: np.ndarray, w: np.ndarray, **options: object) -> np.ndarray:
    """The contract's convolution: correlation with the kernel flipped on every spatial axis
    and the origin mirrored."""
    x = np.asarray(x)
    w = np.asarray(w)
    spatial = x.ndim if options.get("channel_axis") is None else x.ndim - 1
    origin = options.pop("origin", 0)
    mirrored = tuple(-int(o) for o in np.broadcast_to(origin, (spatial,)))
    return correlate(x, flip(w, spatial), origin=mirrored, **options)  # type: ignore[arg-type]


def assert_close(
    got: np.ndarray, expected: np.ndarray, *, rtol: float, floor: float = 0.0, context: str = ""
) -> None:
    """``got`` has ``expected``'s shape and is within ``rtol * max|expected|`` everywhere.

    This is the contract's tolerance between algorithms: relative to the largest output
    value, not elementwise (values near zero come from cancellation, and are compared on
    the scale of the whole output). ``floor`` is a lower bound on that scale, for outputs
    that vanish while the inputs do not (rounding then scales with the inputs).
    """
    got = _wide(got)
    expected = _wide(expected)
    assert got.shape == expected.shape, f"{context}: shape {got.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), floor)
    error = float(np.max(np.abs(got - expected), initial=0.0))
    assert error <= rtol * scale, (
        f"{context}: max error {error:.3g} > {rtol:g} * max|y| = {rtol * scale:.3g}"
    )
