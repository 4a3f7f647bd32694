"""The floor of a Python tool (issue 9): decode a JPEG, blur it with the lecture's kernel, encode.

Run from anywhere, with NumPy and Pillow installed (``benchmarks/endtoend.py`` runs it as
its ``python`` contender)::

    python benchmarks/baseline_blur.py INPUT OUTPUT [--quality 90] [--band-rows 64]

Plain NumPy and Pillow on one thread, no SciPy and no imconv: Pillow decodes the image
(RGB or L); each band of ``--band-rows`` rows, with one row of halo above and below, is
copied out of it (``crop``, then ``numpy.asarray``), blurred with the kernel
``[[0,1,0],[1,4,1],[0,1,0]]/8`` and reflect padding (``c b|a b c d|c b``) in int16 (the
sums fit: at most 8 x 255), rounded half to even as ``numpy.rint`` does (so the pixels
equal imconv's ``apply blur``), and pasted into the output image; Pillow encodes that
(JPEG at ``--quality``, Pillow's default chroma subsampling). No full-size array exists:
the decoded image and the output image, Pillow's own, are the only whole copies.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image


def rows_of(image: Image.Image, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of ``image`` as a (rows, W, C) uint8 array: a band-sized copy."""
    band = np.asarray(image.crop((0, start, image.width, stop)))
    return band.reshape(stop - start, image.width, -1)


def halo_rows(image: Image.Image, start: int, stop: int) -> np.ndarray:
    """Rows ``start - 1`` to ``stop`` (reflected at the edges) as (rows + 2, W, C) int16."""
    height = image.height
    parts = [rows_of(image, max(start - 1, 0), min(stop + 1, height))]
    if start == 0:
        parts.insert(0, rows_of(image, 1, 2))  # reflect: row -1 is row 1
    if stop == height:
        parts.append(rows_of(image, height - 2, height - 1))  # and row H is row H - 2
    return np.concatenate(parts, dtype=np.int16)


def blur_rows(rows: np.ndarray) -> np.ndarray:
    """The blur of the middle rows of ``rows`` (int16, one halo row above and below), uint8."""
    centre = rows[1:-1]
    total = centre << 2
    total += rows[:-2]
    total += rows[2:]
    total[:, 1:] += centre[:, :-1]
    total[:, :-1] += centre[:, 1:]
    total[:, 0] += centre[:, 1]  # reflect: column -1 is column 1
    total[:, -1] += centre[:, -2]
    # total / 8 rounded half to even: (8q + r + 3 + (q & 1)) >> 3 adds one when r > 4,
    # or when r == 4 and q is odd.
    odd = (total >> 3) & 1
    total += 3
    total += odd
    total >>= 3
    return total.astype(np.uint8)


def blur(image: Image.Image, band_rows: int) -> Image.Image:
    """The lecture's blur of an L or RGB ``image`` (at least 2x2), band by band."""
    out = Image.new(image.mode, image.size)
    for start in range(0, image.height, band_rows):
        band = blur_rows(halo_rows(image, start, min(start + band_rows, image.height)))
        out.paste(Image.fromarray(band[:, :, 0] if band.shape[2] == 1 else band), (0, start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--band-rows", type=int, default=64)
    args = parser.parse_args()
    with Image.open(args.input) as image:
        picture = image if image.mode in ("L", "RGB") else image.convert("RGB")
        if min(picture.size) < 2:
            parser.error(f"the image must be at least 2x2 pixels; got {picture.size}")
        result = blur(picture, args.band_rows)
    result.save(args.output, quality=args.quality)


if __name__ == "__main__":
    main()
