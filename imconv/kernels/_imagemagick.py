"""ImageMagick user-defined kernel strings, as ``-morphology Convolve`` reads them.

The syntax (MagickCore ``AcquireKernelInfo``/``ParseKernelArray``) is
``WxH[+X+Y]:v,v,v ...``: ``W*H`` values in row order, separated by commas and/or spaces.
``W:`` (or ``xH:``) means a square kernel. ``nan`` or ``-`` marks a tap that is not part
of the neighbourhood; ImageMagick skips it when convolving, which is weight 0 here.
``+X+Y`` is the origin (``+0+0`` is the top-left tap; default ``(W-1)//2, (H-1)//2``).

The default origin is exactly imconv's ``same`` anchor for convolution, odd or even sizes
(ImageMagick's Convolve reflects the kernel about its origin, as :func:`convolve` does). Any
other origin is realised by padding the kernel with zeros until the origin is its centre,
so ``3x3+0+0:...`` gives the same output as ImageMagick. Named kernels (``Gaussian:0x2``),
kernel lists (``;``) and the expansion flags ``@``, ``<``, ``>`` are not supported.
"""

from __future__ import annotations

import re

import numpy as np

from imconv.errors import KernelError

from ._kernel import Kernel

__all__ = ["parse_imagemagick"]

_GEOMETRY = re.compile(r"(?P<w>\d+)?(?:x(?P<h>\d*))?(?P<origin>[+-]\d+[+-]\d+)?(?P<flags>[^\d\s]*)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_imagemagick(text: str) -> Kernel | None:
    """An ImageMagick ``WxH[+X+Y]: values`` kernel string as a Kernel; None for other text.

    Raises
    ------
    KernelError
        Wrong number of values, a bad value or origin, or unsupported syntax.

    Examples
    --------
    >>> parse_imagemagick("3: 0,1,0 1,4,1 0,1,0").weights.tolist()
    [[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]]
    """
    geometry, colon, rest = text.strip().partition(":")
    found = _GEOMETRY.fullmatch(geometry.strip())
    if not colon or found is None or not (found["w"] or found["h"]):
        return None
    where = f"ImageMagick kernel {text.strip()!r}"
    if found["flags"]:
        raise KernelError(
            f"{where}: geometry flags {found['flags']!r} are not supported",
            hint="'@', '<' and '>' expand into lists of rotated kernels; give one kernel",
        )
    width = int(found["w"] or found["h"])
    height = int(found["h"] or width)
    values = _values(rest, width * height, where)
    weights = values.reshape(height, width)
    if found["origin"]:
        weights = _at_origin(weights, found["origin"], where)
    return Kernel(weights, text.strip(), "ImageMagick kernel", slug="custom")


def _values(rest: str, count: int, where: str) -> np.ndarray:
    """The ``count`` values after the colon; ``nan`` and ``-`` become 0."""
    body, _, after = rest.partition(";")
    if after.strip():
        raise KernelError(f"{where}: kernel lists (';') are not supported; give one kernel")
    tokens = [t for t in re.split(r"[\s,]+", body.strip()) if t]
    if len(tokens) != count:
        raise KernelError(f"{where}: the size needs {count} values; got {len(tokens)}")
    skipped = [t.lower() in ("nan", "-") for t in tokens]
    if all(skipped):
        raise KernelError(f"{where}: every value is 'nan'; at least one must be a number")
    for token, skip in zip(tokens, skipped, strict=True):
        if not skip and not _NUMBER.fullmatch(token):
            raise KernelError(f"{where}: {token!r} is not a number")
    return np.array([0.0 if skip else float(t) for t, skip in zip(tokens, skipped, strict=True)])


def _at_origin(weights: np.ndarray, origin: str, where: str) -> np.ndarray:
    """Zero-pad ``weights`` so that the tap at ``origin`` (``+X+Y``) is the centre."""
    x, y = (int(v) for v in re.findall(r"[+-]\d+", origin))
    height, width = weights.shape
    if (x, y) == ((width - 1) // 2, (height - 1) // 2):
        return weights
    if not (0 <= x < width and 0 <= y < height):
        raise KernelError(
            f"{where}: origin {origin!r} must lie inside the {width}x{height} kernel, "
            f"+0+0 being the top-left tap"
        )
    pads = []
    for at, size in ((y, height), (x, width)):
        centre = max(at, size - 1 - at)
        pads.append((centre - at, centre - (size - 1 - at)))
    return np.pad(weights, pads)
