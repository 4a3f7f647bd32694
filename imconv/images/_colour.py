"""Colour spaces the filters can run in: linear light, and luma with chroma.

* **Linear light.** Photos are stored gamma-encoded with the sRGB transfer curve
  (IEC 61966-2-1): a blur of encoded values darkens the bright side of every edge. The
  curve is undone before filtering (8- and 16-bit samples through a lookup table, exactly)
  and redone after, in float32, so 8-bit data does not band. Negative results (edge
  kernels) are encoded as ``-encode(|x|)``, the curve's odd extension, so the range rules
  see the sign.
* **Luma and chroma.** ``Y = Kr R + Kg G + Kb B`` with BT.709's weights (sRGB's primaries),
  ``Cb = (B - Y) / (2 (1 - Kb))``, ``Cr = (R - Y) / (2 (1 - Kr))``: filtering ``Y`` alone
  sharpens or blurs lightness and leaves colour where it was, so no colour fringes; the
  transform is exactly invertible (up to float rounding) and costs three multiply-adds a
  pixel, against Lab's cube roots.

All functions take and return samples in the picture's range (``0..max_value``).
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["luma_chroma", "rgb_from_luma_chroma", "srgb_decode", "srgb_encode"]

KR, KB = 0.2126, 0.0722  # BT.709 luma weights (sRGB primaries)
KG = 1.0 - KR - KB


def _decode_unit(unit: np.ndarray) -> np.ndarray:
    """The sRGB decoding curve on values in 0..1 (float64)."""
    return np.where(unit <= 0.04045, unit / 12.92, ((unit + 0.055) / 1.055) ** 2.4)


@cache
def _table(max_value: int) -> np.ndarray:
    """Linear light of every integer sample 0..max_value, in the picture's range (float32)."""
    levels = np.arange(max_value + 1, dtype=np.float64) / max_value
    return (_decode_unit(levels) * max_value).astype(np.float32)


def srgb_decode(samples: np.ndarray, max_value: float) -> np.ndarray:
    """Linear light of sRGB-encoded ``samples`` (float32, same range).

    Integer samples of 8- and 16-bit images go through an exact lookup table; floats are
    computed (their odd extension for negative values).
    """
    if samples.dtype.kind in "ui" and max_value in (255.0, 65535.0):
        return np.take(_table(int(max_value)), samples)
    unit = np.abs(samples.astype(np.float64) / max_value)
    return (np.sign(samples) * _decode_unit(unit) * max_value).astype(np.float32)


def srgb_encode(values: np.ndarray, max_value: float) -> np.ndarray:
    """sRGB-encoded values of linear light ``values`` (float32, same range; negative values
    encoded as ``-encode(|x|)``)."""
    unit = np.abs(values, dtype=np.float32) * np.float32(1 / max_value)
    low = unit <= np.float32(0.0031308)
    encoded = np.power(unit, np.float32(1 / 2.4), dtype=np.float32)
    encoded *= np.float32(1.055)
    encoded -= np.float32(0.055)
    np.copyto(encoded, unit * np.float32(12.92), where=low)
    encoded *= np.float32(max_value)
    return np.copysign(encoded, values, out=encoded)


def luma_chroma(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` RGB as ``(..., 3)`` Y, Cb, Cr (float32; chroma centred on 0)."""
    rgb = rgb.astype(np.float32, copy=False)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    out = np.empty(rgb.shape, dtype=np.float32)
    luma = out[..., 0]
    np.multiply(red, np.float32(KR), out=luma)
    luma += green * np.float32(KG)
    luma += blue * np.float32(KB)
    np.subtract(blue, luma, out=out[..., 1])
    out[..., 1] *= np.float32(1 / (2 * (1 - KB)))
    np.subtract(red, luma, out=out[..., 2])
    out[..., 2] *= np.float32(1 / (2 * (1 - KR)))
    return out


def rgb_from_luma_chroma(ycc: np.ndarray) -> np.ndarray:
    """The RGB of ``(..., 3)`` Y, Cb, Cr (the inverse of :func:`luma_chroma`)."""
    luma, cb, cr = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    red = luma + cr * np.float32(2 * (1 - KR))
    blue = luma + cb * np.float32(2 * (1 - KB))
    green = (luma - red * np.float32(KR) - blue * np.float32(KB)) * np.float32(1 / KG)
    return np.stack([red, green, blue], axis=-1)
