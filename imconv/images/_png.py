"""A PNG writer for 16-bit colour, which Pillow cannot store (it has no 48-bit RGB mode).

PNG is a signature, chunks (length, type, data, CRC32), and the image as zlib-compressed
rows, each row prefixed by its filter type. Rows are written with the ``Up`` filter (each
byte minus the byte above it, modulo 256: smooth photos compress well), samples
big-endian, in bands so that no second full-size copy is made.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

import numpy as np

__all__ = ["write_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour types: grey, RGB, grey + alpha, RGBA.
_COLOUR_TYPES = {1: 0, 3: 2, 2: 4, 4: 6}
_UP = 2
_BAND_ROWS = 64


def _chunk(stream: IO[bytes], kind: bytes, data: bytes) -> None:
    stream.write(struct.pack(">I", len(data)))
    stream.write(kind)
    stream.write(data)
    stream.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_png(
    stream: IO[bytes],
    samples: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    level: int = 6,
) -> None:
    """Write ``(H, W, C)`` ``uint16`` (or ``uint8``) samples, C = 1 to 4, as a PNG.

    Parameters
    ----------
    stream
        Where the file's bytes go.
    samples
        Grey, grey and alpha, RGB or RGBA.
    icc_profile
        Written as an ``iCCP`` chunk when given.
    level
        zlib's effort, 0 to 9.
    """
    height, width, channels = samples.shape
    depth = 16 if samples.dtype == np.uint16 else 8
    stream.write(SIGNATURE)
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOUR_TYPES[channels], 0, 0, 0)
    _chunk(stream, b"IHDR", header)
    if icc_profile:
        _chunk(stream, b"iCCP", b"icc\x00\x00" + zlib.compress(icc_profile))
    stored = samples.astype(samples.dtype.newbyteorder(">"), copy=False)
    row_bytes = width * channels * depth // 8
    compressor = zlib.compressobj(level)
    data = bytearray()
    previous = np.zeros(row_bytes, dtype=np.uint8)
    for start in range(0, height, _BAND_ROWS):
        band = np.ascontiguousarray(stored[start : start + _BAND_ROWS]).view(np.uint8)
        band = band.reshape(-1, row_bytes)
        filtered = np.empty((band.shape[0], row_bytes + 1), dtype=np.uint8)
        filtered[:, 0] = _UP
        np.subtract(band[0], previous, out=filtered[0, 1:])
        np.subtract(band[1:], band[:-1], out=filtered[1:, 1:])
        previous = band[-1].copy()
        data += compressor.compress(filtered.tobytes())
    data += compressor.flush()
    _chunk(stream, b"IDAT", bytes(data))
    _chunk(stream, b"IEND", b"")
