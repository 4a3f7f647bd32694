"""An image decoded once and read band by band: rows in their own type, no full-size copy.

:func:`open_image` decodes the file with Pillow (EXIF orientation applied, the mode
normalised to one of :data:`~imconv.images.MODES`), and the :class:`Source` hands out rows:
``uint8`` for the 8-bit modes, ``uint16`` for ``I;16``, ``int32`` for ``I``, ``float32``
for ``F``, always ``(rows, W, C)``, and alpha separately. Pillow keeps the decoded image
(4 bytes a pixel for RGB); each band is cut from it (``crop``), so no float copy of the
whole image exists. :func:`probe` reads only the header: the shape a dry run plans for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps

from imconv import early
from imconv.errors import ImageReadError

from ._picture import Picture, icc_fits, max_value_of
from ._read import (
    _DECODE_ERRORS,
    _DEEP_MODES,
    _describe,
    _normalise_mode,
    _open_error,
    _orientation_reset,
    _pixel_limit,
    check_max_pixels,
)

__all__ = ["Probe", "Source", "open_image", "probe"]

_ORIENTATION = 0x0112
# White in the single-channel modes Pillow does not convert to "L" without clipping.
_MASK_WHITE = {"I;16": 65535.0, "I;16B": 65535.0, "I": 65535.0, "F": 1.0}
# EXIF orientations that swap width and height (transposes and quarter turns).
_TURNED = {5, 6, 7, 8}
_ALPHA_MODES = ("LA", "RGBA")
# The stored type of the colour samples of the deep modes (the others: uint8).
_SAMPLE_TYPES = {"I;16": np.uint16, "I": np.int32, "F": np.float32}


@dataclass(frozen=True)
class Probe:
    """What the header says: the shape filtering will see (after orientation) and the mode."""

    height: int
    width: int
    channels: int
    mode: str
    alpha: bool

    @property
    def picture_mode(self) -> str:
        """The mode :func:`open_image` reads the file as (one of :data:`MODES`)."""
        if self.mode in _DEEP_MODES:
            return _DEEP_MODES[self.mode]
        if self.channels == 1:
            return "LA" if self.alpha else "L"
        return "RGBA" if self.alpha else "RGB"

    @property
    def dtype(self) -> np.dtype:
        """The stored type of the colour samples, as :attr:`Source.dtype` will be."""
        return np.dtype(_SAMPLE_TYPES.get(self.picture_mode, np.uint8))


@dataclass(eq=False)
class Source:
    """A decoded image, read band by band.

    Attributes
    ----------
    mode
        The normalised mode (:data:`~imconv.images.MODES`): ``L``, ``LA``, ``RGB``,
        ``RGBA``, ``I;16``, ``I`` or ``F``.
    original_mode, icc_profile, exif, format, path, notes
        As :class:`~imconv.images.Picture` has them (EXIF with orientation reset).
    """

    image: Image.Image
    mode: str
    original_mode: str = ""
    icc_profile: bytes | None = None
    exif: bytes | None = None
    format: str | None = None
    path: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def height(self) -> int:
        """Rows ``H``."""
        return self.image.height

    @property
    def width(self) -> int:
        """Columns ``W``."""
        return self.image.width

    @property
    def channels(self) -> int:
        """Colour channels ``C`` (alpha not counted)."""
        return {"L": 1, "LA": 1, "RGB": 3, "RGBA": 3}.get(self.mode, 1)

    @property
    def has_alpha(self) -> bool:
        """Whether an alpha plane comes with the colour."""
        return self.mode in _ALPHA_MODES

    @property
    def max_value(self) -> float | None:
        """The top of the sample range: 255, 65535, or None for raw ``I`` and ``F``."""
        return max_value_of(self.mode)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(H, W, C)``."""
        return (self.height, self.width, self.channels)

    def band(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows ``start:stop``: colour ``(n, W, C)`` in the stored type, and alpha ``(n, W)``
        as ``uint8`` (or None)."""
        samples = np.asarray(self.image.crop((0, start, self.width, stop)))
        if samples.ndim == 2:
            return samples[..., np.newaxis], None
        if not self.has_alpha:
            return samples, None
        return samples[..., :-1], samples[..., -1]

    def rows(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows at ``indices`` (sorted, unique): one crop per run of consecutive rows."""
        indices = np.asarray(indices)
        if indices.size == 0:
            empty = np.zeros((0, self.width, self.channels), dtype=self.dtype)
            return empty, (np.zeros((0, self.width), np.uint8) if self.has_alpha else None)
        if indices[-1] - indices[0] == indices.size - 1:
            return self.band(int(indices[0]), int(indices[-1]) + 1)
        breaks = np.flatnonzero(np.diff(indices) != 1) + 1
        runs = np.split(indices, breaks)
        parts = [self.band(int(run[0]), int(run[-1]) + 1) for run in runs]
        colour = np.concatenate([p[0] for p in parts])
        alpha = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
        return colour, alpha

    @property
    def dtype(self) -> np.dtype:
        """The stored type of the colour samples."""
        return np.dtype(_SAMPLE_TYPES.get(self.mode, np.uint8))

    def picture(self) -> Picture:
        """The whole image as a :class:`~imconv.images.Picture` (float32 samples)."""
        colour, alpha = self.band(0, self.height)
        pixels = colour[..., 0] if self.channels == 1 else colour
        plane = None if alpha is None else alpha.astype(np.float32) / np.float32(255.0)
        return Picture(pixels.astype(np.float32), plane, self.mode, self.original_mode,
                       self.icc_profile, self.exif, self.format, self.path,
                       notes=self.notes)  # fmt: skip

    def close(self) -> None:
        """Free the decoded image."""
        self.image.close()


def _prepared(image: Image.Image, path: Path | None) -> Source:
    """Orient and normalise a fully loaded image."""
    original_mode, fmt = image.mode, image.format
    icc = image.info.get("icc_profile")
    exif = _orientation_reset(image.info.get("exif"))
    notes: list[str] = []
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notes.append(f"first of {frames} frames read")
    if image.getexif().get(_ORIENTATION, 1) != 1:  # else exif_transpose copies it whole
        image = ImageOps.exif_transpose(image)
    image, mode, converted = _normalise_mode(image)
    notes += converted
    if icc and not icc_fits(icc, mode):
        notes.append(f"ICC profile dropped: it does not describe {mode} data")
        icc = None
    return Source(image, mode, original_mode, icc, exif, fmt, path, tuple(notes))


@contextmanager
def _errors(name: str, max_pixels: int | None) -> Iterator[int | None]:
    """Pillow's errors as one-line ImageReadErrors naming the file, under the pixel limit."""
    with _pixel_limit(max_pixels) as active:
        try:
            yield active
        except ImageReadError as error:
            raise ImageReadError(f"cannot read {name}: {error.message}") from error
        except (*_DECODE_ERRORS, Image.DecompressionBombWarning) as error:
            raise _open_error(error, name, active) from error


def open_image(source: str | Path | IO[bytes], *, max_pixels: int | None = None) -> Source:
    """Decode an image file (or standard input) for reading band by band.

    Parameters
    ----------
    source
        A path, ``"-"`` for standard input, or a binary file object (read to the end).
    max_pixels
        The decompression-bomb guard (see :func:`~imconv.images.read_image`).

    Returns
    -------
    Source
        Holding the decoded image (Pillow closes a single-frame file once decoded).

    Raises
    ------
    ImageReadError
        As :func:`~imconv.images.read_image`.
    """
    limit = check_max_pixels(max_pixels)
    name, path, target = _describe(source)
    decoded = None if path is None else early.claim(str(path))  # before the limit's lock
    with _errors(name, limit) as active:
        if decoded is not None and active is not None and _pixels(decoded) > active:
            decoded.close()  # over this caller's limit: decoding again says so
            decoded = None
        image = decoded or Image.open(target)
        try:
            image.load()
            return _prepared(image, path)
        except BaseException:
            image.close()
            raise


def decode_file(path: str | Path) -> Image.Image:
    """The decoded image file at ``path``, under Pillow's pixel limit (for
    :mod:`imconv.early`, which hands it to :func:`open_image`)."""
    with _pixel_limit(None):
        image = Image.open(path)
        try:
            image.load()
        except BaseException:
            image.close()
            raise
        return image


def _pixels(image: Image.Image) -> int:
    width, height = image.size
    return width * height


def _header_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation an opened image's header gives, without decoding it (Pillow's
    ``getexif`` of a PNG decodes the whole image to look for an ``eXIf`` chunk after the
    pixels: such a late chunk is not seen here, only when the image is read)."""
    if image.format == "PNG" and "exif" not in image.info:
        return None
    return image.getexif().get(_ORIENTATION)


def probe(source: str | Path, *, max_pixels: int | None = None) -> Probe:
    """The shape and mode of an image from its header (nothing decoded).

    Raises
    ------
    ImageReadError
        The file is missing, not an image, or over the pixel limit.
    """
    limit = check_max_pixels(max_pixels)
    name, _, target = _describe(source)
    with _errors(name, limit), Image.open(target) as image:
        width, height = image.size
        if _header_orientation(image) in _TURNED:
            width, height = height, width
        bands = image.getbands()
        alpha = "A" in bands or "a" in bands or image.has_transparency_data
        colour = 1 if len([b for b in bands if b not in ("A", "a", "X")]) == 1 else 3
        if image.mode in ("P", "PA"):
            colour = 3
        return Probe(height, width, colour, image.mode, alpha)


def read_mask(
    source: str | Path, *, height: int, width: int, image: str = "the image"
) -> np.ndarray:
    """The mask image at ``source`` as ``(height, width)`` booleans: ``True`` (valid) where
    it is light (at least half of white: 128 of 255, 32768 of 65535, 0.5 for float masks;
    colour as its luma, alpha ignored), ``False`` where it is dark.

    Raises
    ------
    ImageReadError
        As :func:`open_image`, or the mask is not ``width`` x ``height`` pixels (``image``
        names the picture it must match).
    """
    name = repr(str(source))
    with _errors(f"the mask {name}", None), Image.open(source) as opened:
        upright = ImageOps.exif_transpose(opened)
        deep = upright.mode in _MASK_WHITE
        white = _MASK_WHITE.get(upright.mode, 255.0)
        grey = np.asarray(upright if deep else upright.convert("L"), dtype=np.float32)
    if grey.shape != (height, width):
        raise ImageReadError(
            f"the mask {name} is {grey.shape[1]}x{grey.shape[0]} pixels and {image} "
            f"{width}x{height}: a mask must have the image's size (white = valid)"
        )
    return grey >= white / 2
