"""ImageMagick user-defined kernel strings, as ``-morphology Convolve`` reads them.

The syntax (MagickCore ``AcquireKernelInfo``/``ParseKernelArray``) is
``WxH[+X+Y][@><]:v,v,v ...``: ``W*H`` values in row order, separated by commas and/or
spaces. ``W:`` (or ``xH:``) means a square kernel. ``nan`` or ``-`` marks a tap that is
not part of the neighbourhood; ImageMagick skips it when convolving, which is weight 0
here. ``+X+Y`` is the origin (``+0+0`` is the top-left tap; default ``(W-1)//2,
(H-1)//2``).

The default origin is exactly imconv's ``same`` anchor for convolution, odd or even sizes
(ImageMagick's Convolve reflects the kernel about its origin, as :func:`convolve` does). Any
other origin is realised by padding the kernel with zeros until the origin is its centre,
so ``3x3+0+0:...`` gives the same output as ImageMagick.

**Kernel lists and rotations.** ``;`` separates kernels (empty entries are ignored). A
flag expands one kernel into its rotations, clockwise, the origin turning with the
values, exactly as ImageMagick lists them (``-define morphology:showKernel=1``):

* ``@``: 45-degree turns of a 3x3 kernel (its ring moves one tap), until it repeats;
* ``>``: 90-degree turns of a square or 1-D kernel, until it repeats;
* ``<``: the kernel, then turned 180, 270 and 90 degrees (no repeats dropped).

**How a list is combined.** ImageMagick's default ``morphology:compose`` for Convolve is
``None``: "re-iterate", each kernel applied to the result of the one before
(``MorphologyApply`` in MagickCore/morphology.c: no method-specific default is set for
Convolve, and an undefined compose becomes ``NoCompositeOp``, "then re-iterate";
``convert -morphology Convolve '3x3:...;3x3:...'`` agrees). Successive convolutions are
one convolution, so by default a list reads as **one linear kernel**: the full
convolution of the list, its origin the sum of theirs (this equals ImageMagick's result
away from the border, where ImageMagick re-extends the image after each pass and rounds
between passes). With ``combine`` (ImageMagick's ``-define
morphology:compose=Lighten``, ``Darken``, ``Plus`` are ``max``, ``min``, ``sum``) the list
is a kernel set: every kernel applied to the image, the responses combined per pixel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from imconv.errors import KernelError

from ._combine import parse_combine
from ._kernel import Kernel
from ._limits import MAX_SIDE
from ._rotate import rotate45
from ._values import NUMBER

__all__ = ["parse_imagemagick"]

_FLAGS = "@<>!%^"
_GEOMETRY = re.compile(
    rf"(?P<w>\d+)?(?:x(?P<h>\d*))?(?P<before>[{_FLAGS}]*)(?P<origin>[+-]\d+[+-]\d+)?"
    rf"(?P<after>[{_FLAGS}]*)"
)


@dataclass(frozen=True)
class _Entry:
    """One ImageMagick kernel: values (NaN where not in the neighbourhood) and origin."""

    values: np.ndarray
    x: int
    y: int

    def same(self, other: _Entry) -> bool:
        """ImageMagick's ``SameKernelInfo``: shape, origin and values (NaN where NaN)."""
        return (self.x, self.y) == (other.x, other.y) and (
            self.values.shape == other.values.shape
            and np.array_equal(self.values, other.values, equal_nan=True)
        )

    def turned(self, degrees: int) -> _Entry:
        """Turned clockwise by 45, 90 or 180 degrees, the origin with the values."""
        marker = np.zeros(self.values.shape)
        marker[self.y, self.x] = 1.0
        if degrees == 45:
            values, marker = rotate45(self.values), rotate45(marker)
        else:
            values, marker = np.rot90(self.values, -degrees // 90), np.rot90(marker, -degrees // 90)
        y, x = (int(i) for i in np.argwhere(marker)[0])
        return _Entry(np.ascontiguousarray(values), x, y)

    def centred(self) -> np.ndarray:
        """Weights (NaN taps 0) zero-padded so that the origin is imconv's anchor."""
        return _at_origin(np.nan_to_num(self.values, nan=0.0), self.x, self.y)


def parse_imagemagick(text: str, *, combine: str | None = None) -> Kernel | None:
    """An ImageMagick kernel string (or list) as a Kernel; None for other text.

    Parameters
    ----------
    text : str
        ``WxH[+X+Y][@><]: values`` entries, separated by ``;``.
    combine : {None, "magnitude", "max", "min", "sum"}
        None: ImageMagick's default for Convolve, every kernel applied in turn, which is
        one linear kernel. A rule: the list as a kernel set combined by it (see the
        module docstring).

    Raises
    ------
    KernelError
        Wrong number of values, a bad value, origin or flag, a rotation the kernel's
        shape does not allow, a combined kernel over 4097 taps a side, or ``combine``
        for a single kernel.

    Examples
    --------
    >>> parse_imagemagick("3: 0,1,0 1,4,1 0,1,0").weights.tolist()
    [[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]]
    >>> parse_imagemagick("3x3@: -1,0,1 -2,0,2 -1,0,1", combine="max").shape
    (8, 3, 3)
    """
    stripped = text.strip()
    pieces = [piece for piece in stripped.split(";") if piece.strip()]
    if not pieces or _entry_geometry(pieces[0]) is None:
        return None
    where = f"ImageMagick kernel {stripped if len(stripped) <= 40 else stripped[:37] + '...'!r}"
    entries = [entry for piece in pieces for entry in _expand(piece, where)]
    if combine is not None:
        if len(entries) == 1:
            raise KernelError(
                f"{where}: combine applies to a list of kernels; this is one kernel",
                hint="give several kernels separated by ';', or a rotation flag '@', '>' or '<'",
            )
        return Kernel.from_parts([e.centred() for e in entries], combine=parse_combine(combine),
                                 name=stripped, description="ImageMagick kernel list",
                                 slug="custom")  # fmt: skip
    weights, description = _chain(entries, where), "ImageMagick kernel"
    if len(entries) > 1:
        description = f"ImageMagick list of {len(entries)} kernels, applied in turn"
    try:
        return Kernel(weights, stripped, description, slug="custom")
    except KernelError as error:
        raise KernelError(f"{where}: {error.message}", hint=error.hint) from None


def _entry_geometry(piece: str) -> re.Match[str] | None:
    """The geometry of ``WxH...:values``, or None when ``piece`` is not of that form."""
    geometry, colon, _ = piece.strip().partition(":")
    found = _GEOMETRY.fullmatch(geometry.strip())
    if not colon or found is None or not (found["w"] or found["h"]):
        return None
    return found


def _expand(piece: str, where: str) -> list[_Entry]:
    """One ``;``-separated entry, with its rotations when it has a flag."""
    found = _entry_geometry(piece)
    if found is None:
        raise KernelError(f"{where}: {piece.strip()!r} is not a 'WxH[+X+Y][@><]: values' kernel")
    flags = found["before"] + found["after"]
    if len(flags) > 1 or (flags and flags not in "@<>"):
        raise KernelError(
            f"{where}: geometry flags {flags!r} are not supported",
            hint="'@', '>' and '<' (one of them) expand a kernel into its rotations",
        )
    width = int(found["w"] or found["h"])
    height = int(found["h"] or width)
    values = _values(piece.partition(":")[2], width * height, where).reshape(height, width)
    x, y = (width - 1) // 2, (height - 1) // 2
    if found["origin"]:
        x, y = (int(v) for v in re.findall(r"[+-]\d+", found["origin"]))
        if not (0 <= x < width and 0 <= y < height):
            raise KernelError(
                f"{where}: origin {found['origin']!r} must lie inside the {width}x{height} "
                f"kernel, +0+0 being the top-left tap"
            )
    return _rotations(_Entry(values, x, y), flags, where)


def _rotations(entry: _Entry, flag: str, where: str) -> list[_Entry]:
    """ImageMagick's ``ExpandRotateKernelInfo`` (``@``, ``>``) and
    ``ExpandMirrorKernelInfo`` (``<``)."""
    height, width = entry.values.shape
    if flag == "@" and (height, width) != (3, 3):
        raise KernelError(f"{where}: '@' turns a 3x3 kernel by 45 degrees; got {width}x{height}")
    if flag in "<>" and flag and height != width and 1 not in (height, width):
        raise KernelError(
            f"{where}: {flag!r} turns a square or 1-D kernel by 90 degrees; got {width}x{height}"
        )
    if flag == "<":
        flipped = entry.turned(180)
        quarter = flipped.turned(90)
        return [entry, flipped, quarter, quarter.turned(180)]
    if not flag:
        return [entry]
    found = [entry]
    while not (turned := found[-1].turned(45 if flag == "@" else 90)).same(entry):
        found.append(turned)
    return found


def _values(rest: str, count: int, where: str) -> np.ndarray:
    """The ``count`` values after the colon; ``nan`` and ``-`` become NaN."""
    tokens = [t for t in re.split(r"[\s,]+", rest.strip()) if t]
    if len(tokens) != count:
        raise KernelError(f"{where}: the size needs {count} values; got {len(tokens)}")
    skipped = [t.lower() in ("nan", "-") for t in tokens]
    if all(skipped):
        raise KernelError(f"{where}: every value is 'nan'; at least one must be a number")
    for token, skip in zip(tokens, skipped, strict=True):
        if not skip and not NUMBER.fullmatch(token):
            raise KernelError(f"{where}: {token!r} is not a number")
    return np.array([np.nan if skip else float(t) for t, skip in zip(tokens, skipped, strict=True)])


def _chain(entries: list[_Entry], where: str) -> np.ndarray:
    """The one kernel that applying ``entries`` in turn amounts to: their full convolution,
    with the sum of their origins as its origin, centred."""
    height = sum(e.values.shape[0] - 1 for e in entries) + 1
    width = sum(e.values.shape[1] - 1 for e in entries) + 1
    if max(height, width) > MAX_SIDE:
        raise KernelError(
            f"{where}: the kernels applied in turn make one kernel of {width}x{height} taps; "
            f"at most {MAX_SIDE} a side"
        )
    from scipy.signal import convolve2d

    weights = np.nan_to_num(entries[0].values, nan=0.0)
    x, y = entries[0].x, entries[0].y
    for entry in entries[1:]:
        with np.errstate(over="ignore", invalid="ignore"):  # Kernel refuses an overflow
            weights = convolve2d(weights, np.nan_to_num(entry.values, nan=0.0))
        x, y = x + entry.x, y + entry.y
    return _at_origin(weights, x, y)


def _at_origin(weights: np.ndarray, x: int, y: int) -> np.ndarray:
    """Zero-pad ``weights`` so that the tap at column ``x``, row ``y`` is the anchor."""
    height, width = weights.shape
    if (x, y) == ((width - 1) // 2, (height - 1) // 2):
        return weights
    pads = []
    for at, size in ((y, height), (x, width)):
        centre = max(at, size - 1 - at)
        pads.append((centre - at, centre - (size - 1 - at)))
    return np.pad(weights, pads)
