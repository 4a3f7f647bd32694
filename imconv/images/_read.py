"""Reading images with Pillow into a :class:`Picture`."""

from __future__ import annotations

import io
import struct
import sys
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageOps

from imconv.errors import ImageReadError, InvalidParameterError

from ._picture import Picture, icc_fits

__all__ = ["check_max_pixels", "read_image"]

#: Pillow's decompression-bomb guard: the warning (made an error below) over the limit, the
#: error at twice the limit (raised by ``Image.open`` before anything is decoded).
_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

#: Errors Pillow raises for files that are not images, are damaged, or are too large (the
#: bomb error: every reader that catches these reports it as one line, see _open_error).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)

_ORIENTATION = 0x0112
_DEEP_MODES = {"I;16": "I;16", "I;16B": "I;16", "I;16L": "I;16", "I;16N": "I;16"}
_DEEP_MODES |= {"I": "I", "F": "F"}
_DIRECT = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "RGBX": "RGB"}
_DIRECT |= {"RGBA": "RGBA", "RGBa": "RGBA", "PA": "RGBA"}

# Image.MAX_IMAGE_PIXELS is process-wide: one reader at a time may change it.
_LIMIT_LOCK = threading.Lock()


def check_max_pixels(max_pixels: Any) -> int | None:
    """``max_pixels`` as a positive int or None, or InvalidParameterError."""
    if max_pixels is None:
        return None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int | np.integer):
        raise InvalidParameterError("max_pixels", max_pixels, "a positive integer or None")
    if max_pixels <= 0:
        raise InvalidParameterError("max_pixels", max_pixels, "a positive integer or None")
    return int(max_pixels)


@contextmanager
def _pixel_limit(max_pixels: int | None) -> Iterator[int | None]:
    """Within the block, images over the limit raise (Pillow's warning becomes an error)."""
    with _LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        if max_pixels is not None:
            Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield Image.MAX_IMAGE_PIXELS
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _stream_bytes(stream: IO[bytes], name: str) -> io.BytesIO:
    """All of a binary stream, in memory (standard input cannot seek)."""
    data = stream.read()
    if not isinstance(data, bytes | bytearray):
        raise ImageReadError(f"cannot read {name}: the stream is not binary")
    return io.BytesIO(data)


def _describe(source: Any) -> tuple[str, Path | None, Any]:
    """The name used in messages, the source path (None for streams), and what to open."""
    if isinstance(source, str) and source == "-":
        return "<stdin>", None, _stream_bytes(sys.stdin.buffer, "<stdin>")
    if isinstance(source, str | Path):
        return repr(str(source)), Path(source), Path(source)
    if hasattr(source, "read"):
        name = repr(getattr(source, "name", "<stream>"))
        return name, None, _stream_bytes(source, name)
    raise InvalidParameterError("source", source, "a path, '-' or a binary file object")


def _open_error(error: BaseException, name: str, limit: int | None) -> ImageReadError:
    """A one-line ImageReadError for why Pillow could not open or decode ``name``."""
    if isinstance(error, _BOMBS):
        return ImageReadError(
            f"cannot read {name}: it has more pixels than the limit of {limit:,}",
            hint="raise the limit with `max_pixels` if you trust the file",
        )
    if isinstance(error, FileNotFoundError):
        return ImageReadError(f"cannot read {name}: no such file")
    if isinstance(error, IsADirectoryError):
        return ImageReadError(f"cannot read {name}: it is a folder, not an image")
    if isinstance(error, PermissionError):
        return ImageReadError(f"cannot read {name}: permission denied")
    if isinstance(error, Image.UnidentifiedImageError):
        return ImageReadError(f"cannot read {name}: not an image, or a format Pillow cannot read")
    detail = " ".join(str(error).split()) or type(error).__name__
    return ImageReadError(f"cannot read {name}: truncated or corrupt image ({detail})")


def _orientation_reset(exif: Any) -> bytes | None:
    """The EXIF block with Orientation set to 1, or None when absent or unreadable."""
    if not isinstance(exif, bytes) or not exif:
        return None
    parsed = Image.Exif()
    try:
        parsed.load(exif)
    except _DECODE_ERRORS:
        return None
    if _ORIENTATION in parsed:
        parsed[_ORIENTATION] = 1
    return parsed.tobytes()


def _normalise_mode(image: Image.Image) -> tuple[Image.Image, str, list[str]]:
    """Convert ``image`` to one of the Picture modes; say what was converted."""
    mode = image.mode
    if mode in _DEEP_MODES:
        return image, _DEEP_MODES[mode], []
    if mode in ("L", "RGB") and image.has_transparency_data:
        target = "LA" if mode == "L" else "RGBA"
        note = f"{mode} with a transparent colour key read as {target}"
        return image.convert(target), target, [note]
    if mode in _DIRECT:
        target = _DIRECT[mode]
        notes = [] if target == mode else [f"{mode} read as {target}"]
        return (image if target == mode else image.convert(target)), target, notes
    if mode == "P":
        target = "RGBA" if image.has_transparency_data else "RGB"
        return image.convert(target), target, [f"palette image read as {target}"]
    target = "RGBA" if "A" in image.getbands() else "RGB"
    try:
        converted = image.convert(target)
    except ValueError as error:
        raise ImageReadError(f"unsupported image mode {mode!r}") from error
    naive = " (without colour management)" if mode == "CMYK" else ""
    return converted, target, [f"{mode} converted to {target}{naive}"]


def _samples(image: Image.Image, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Float32 pixels and the separate alpha plane (0..1) of a normalised image."""
    array = np.asarray(image)
    if mode not in ("LA", "RGBA"):
        return array.astype(np.float32), None
    alpha = array[..., -1].astype(np.float32) / np.float32(255.0)
    colour = array[..., 0] if mode == "LA" else array[..., :3]
    return colour.astype(np.float32), alpha


def _to_picture(image: Image.Image, path: Path | None) -> Picture:
    """Orient, normalise and sample a fully loaded image."""
    original_mode, fmt = image.mode, image.format
    icc = image.info.get("icc_profile")
    exif = _orientation_reset(image.info.get("exif"))
    notes: list[str] = []
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notes.append(f"first of {frames} frames read")
    image, mode, converted = _normalise_mode(ImageOps.exif_transpose(image))
    notes += converted
    if icc and not icc_fits(icc, mode):
        notes.append(f"ICC profile dropped: it does not describe {mode} data")
        icc = None
    pixels, alpha = _samples(image, mode)
    return Picture(pixels, alpha, mode, original_mode, icc, exif, fmt, path, notes=tuple(notes))


def read_image(source: str | Path | IO[bytes], *, max_pixels: int | None = None) -> Picture:
    """Read an image file (or standard input) into a :class:`Picture`.

    Parameters
    ----------
    source
        A path, ``"-"`` for standard input, or a binary file object (read to the end).
    max_pixels
        The decompression-bomb guard: images with more pixels are refused. None keeps
        Pillow's limit (``PIL.Image.MAX_IMAGE_PIXELS``, about 89 million by default); the
        limit is changed only while this image opens and is restored afterwards.

    Returns
    -------
    Picture
        float32 pixels ``(H, W)`` or ``(H, W, C)`` in the natural range of the mode, the
        alpha plane separately, and the metadata that writing needs.

    Raises
    ------
    ImageReadError
        Missing file, not an image, truncated or corrupt (the image is fully decoded to find
        out), over the pixel limit, or a mode that cannot be converted; the one-line message
        names the file.
    InvalidParameterError
        ``max_pixels`` is not a positive integer or None.

    Notes
    -----
    The EXIF orientation is applied, then reset to 1 in the kept EXIF block. Modes are read
    as: ``L``, ``LA``, ``RGB``, ``RGBA``, ``F`` as they are; ``1`` as ``L`` (0 or 255);
    ``I;16``/``I;16B``/``I;16L`` as ``I;16`` (0..65535); ``I`` as raw values (exact up to
    2**24 in float32); ``P`` as ``RGBA`` when it has transparency, else ``RGB``; ``L``/``RGB``
    with a transparent colour key as ``LA``/``RGBA``; ``CMYK`` and every other mode Pillow
    converts as ``RGB`` (``RGBA`` when it has an alpha band), naively, without colour
    management. An ICC profile whose colour space no longer matches (a CMYK profile) is
    dropped. Of an animation or multi-page file, the first frame is read. The input file is
    only ever opened for reading. Pillow's limit is process-wide, so threads read one image
    at a time (a lock); processes are independent.
    """
    limit = check_max_pixels(max_pixels)
    name, path, target = _describe(source)
    with _pixel_limit(limit) as active:
        try:
            with Image.open(target) as image:
                image.load()
                return _to_picture(image, path)
        except ImageReadError as error:
            raise ImageReadError(f"cannot read {name}: {error.message}") from error
        except (*_DECODE_ERRORS, Image.DecompressionBombWarning) as error:
            raise _open_error(error, name, active) from error
