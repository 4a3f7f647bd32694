"""The :class:`Picture` value object: float pixels, separate alpha, and what writing needs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import InvalidParameterError, ShapeError

__all__ = ["MODES", "Picture", "channels_to_mode", "icc_fits", "image_bytes", "max_value_of"]

#: The modes a :class:`Picture` holds: 8-bit families, then the single-channel deep modes.
MODES = ("L", "LA", "RGB", "RGBA", "I;16", "I", "F")

_MAX_VALUES: dict[str, float | None] = {
    "L": 255.0,
    "LA": 255.0,
    "RGB": 255.0,
    "RGBA": 255.0,
    "I;16": 65535.0,
    "I": None,
    "F": None,
    # 16-bit colour outputs (written by imconv's PNG writer; never read as such).
    "LA;16": 65535.0,
    "RGB;16": 65535.0,
    "RGBA;16": 65535.0,
}

_KEEP: Any = object()


# Bytes per pixel of a Pillow image of each mode: RGB is stored in 4, like RGBA.
_PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "LA": 4, "RGB": 4, "RGBA": 4, "I": 4, "F": 4}


def image_bytes(mode: str, height: int, width: int) -> int:
    """The memory a Pillow image of ``mode`` and size holds for its pixels (4 bytes a pixel
    for modes not listed).

    Examples
    --------
    >>> image_bytes("RGB", 3000, 4000) // 2**20, image_bytes("L", 3000, 4000) // 2**20
    (45, 11)
    """
    return height * width * _PILLOW_BYTES.get(mode, 4)


def max_value_of(mode: str) -> float | None:
    """Return the top of the sample range of ``mode``: 255, 65535, or None (raw I and F).

    Examples
    --------
    >>> max_value_of("RGBA"), max_value_of("I;16"), max_value_of("F")
    (255.0, 65535.0, None)
    """
    if mode not in _MAX_VALUES:
        raise InvalidParameterError("mode", mode, "one of " + ", ".join(MODES))
    return _MAX_VALUES[mode]


def channels_to_mode(channels: int, *, alpha: bool = False) -> str | None:
    """Return the 8-bit Pillow mode that holds ``channels`` colour channels (plus alpha).

    Parameters
    ----------
    channels
        Number of colour channels ``C`` (a kernel bank's ``C_out``).
    alpha
        Whether a separate alpha plane comes with them.

    Returns
    -------
    str or None
        ``L``/``LA`` for 1, ``RGB``/``RGBA`` for 3, ``RGBA`` for 4 without alpha (the fourth
        channel is written as alpha). None for any other count: such results can only be
        written as a multi-page TIFF (one mode ``F`` page per channel), as ``.npy``, or
        through :func:`montage`.

    Examples
    --------
    >>> channels_to_mode(1), channels_to_mode(3, alpha=True), channels_to_mode(8)
    ('L', 'RGBA', None)
    """
    if channels == 1:
        return "LA" if alpha else "L"
    if channels == 3:
        return "RGBA" if alpha else "RGB"
    if channels == 4 and not alpha:
        return "RGBA"
    return None


def icc_fits(icc: bytes | None, mode: str | None) -> bool:
    """Whether an ICC profile's colour space (header bytes 16..20) can describe ``mode`` data."""
    if not icc or len(icc) < 20:
        return False
    space = icc[16:20]
    return (space == b"GRAY" and mode in ("L", "LA", "I;16")) or (
        space == b"RGB " and mode in ("RGB", "RGBA")
    )


def _as_pixels(pixels: Any) -> np.ndarray:
    """``pixels`` as a float32 ``(H, W)`` or ``(H, W, C)`` array, or ShapeError."""
    array = np.asarray(pixels)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InvalidParameterError("pixels", array.dtype, "a real numeric array")
    if np.iscomplexobj(array):
        raise InvalidParameterError("pixels", array.dtype, "a real numeric array")
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise ShapeError(f"pixels must be a non-empty (H, W) or (H, W, C) array; got {array.shape}")
    return array.astype(np.float32, copy=False)


def _as_alpha(alpha: Any, pixels: np.ndarray) -> np.ndarray | None:
    """``alpha`` as float32 ``(H, W)`` matching ``pixels``, or None."""
    if alpha is None:
        return None
    plane = np.asarray(alpha, dtype=np.float32)
    if plane.shape != pixels.shape[:2]:
        raise ShapeError(
            f"alpha must have the shape (H, W) of the pixels; got alpha {plane.shape} "
            f"for pixels {pixels.shape}"
        )
    return plane


@dataclass(frozen=True, eq=False)
class Picture:
    """An image as float samples plus what is needed to write it back faithfully.

    Layout: ``pixels`` is float32 ``(H, W)`` for single-channel images and ``(H, W, C)`` for
    colour, in the natural range of ``mode`` (0..255 for 8-bit modes, 0..65535 for ``I;16``,
    raw values for ``I`` and ``F``). Colour is straight, not premultiplied. Alpha, when there
    is one, is separate: float32 ``(H, W)`` in 0..1.

    Parameters
    ----------
    pixels
        The samples, converted to float32.
    alpha
        Opacity ``(H, W)`` in 0..1, or None for an opaque image.
    mode
        The mode the image was read in after conversion, one of :data:`MODES`: ``L``, ``LA``,
        ``RGB``, ``RGBA`` (8-bit), ``I;16`` (16-bit), ``I`` (32-bit integer) or ``F`` (32-bit
        float). Outputs keep its bit depth where the format allows. Empty: derived from the
        channels and alpha as an 8-bit mode.
    original_mode
        The mode stored in the file (``P``, ``CMYK``, ``1``, ``I;16B``...); defaults to ``mode``.
    icc_profile
        The ICC profile bytes, kept when writing to formats that carry one.
    exif
        The EXIF block, with Orientation reset to 1 because it was already applied.
    format
        Pillow's name of the source format (``"PNG"``, ``"JPEG"``...), None for arrays.
    source
        The file it came from; None for standard input and arrays. Never overwritten.
    notes
        One line per conversion made while reading (``"CMYK converted to RGB ..."``).
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    mode: str = ""
    original_mode: str = ""
    icc_profile: bytes | None = None
    exif: bytes | None = None
    format: str | None = None
    source: Path | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pixels = _as_pixels(self.pixels)
        alpha = _as_alpha(self.alpha, pixels)
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        mode = self.mode or channels_to_mode(channels, alpha=alpha is not None) or "L"
        max_value_of(mode)
        object.__setattr__(self, "pixels", pixels)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "original_mode", self.original_mode or mode)
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))

    @property
    def max_value(self) -> float | None:
        """The top of the sample range: 255, 65535, or None for raw ``I`` and ``F`` values."""
        return max_value_of(self.mode)

    @property
    def height(self) -> int:
        """Number of rows ``H``."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Number of columns ``W``."""
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        """Number of colour channels ``C`` (1 for an ``(H, W)`` array); alpha not counted."""
        return 1 if self.pixels.ndim == 2 else int(self.pixels.shape[2])

    @property
    def has_alpha(self) -> bool:
        """Whether a separate alpha plane is present."""
        return self.alpha is not None

    def with_pixels(self, pixels: Any, *, alpha: Any = _KEEP) -> Picture:
        """Return a copy holding new samples (a filter's result) and the same metadata.

        Parameters
        ----------
        pixels
            The new ``(H, W)`` or ``(H, W, C)`` samples, in this picture's range.
        alpha
            The new alpha plane, None to drop it; by default the current one is kept (its
            shape must then match the new pixels).

        Returns
        -------
        Picture
            Same mode, profile, EXIF, format, source and notes.
        """
        new_alpha = self.alpha if alpha is _KEEP else alpha
        return dataclasses.replace(self, pixels=pixels, alpha=new_alpha)
