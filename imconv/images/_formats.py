"""Output formats by suffix, and the plan of how a picture is stored in one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imconv.errors import ImageWriteError

from ._picture import channels_to_mode, max_value_of

__all__ = ["DEPTHS", "SUPPORTED_SUFFIXES", "OutputPlan", "plan_output"]


@dataclass(frozen=True)
class _Format:
    """What one Pillow format can store: modes, ICC and EXIF, a quality setting."""

    name: str
    modes: frozenset[str]
    metadata: bool = False
    quality: bool = False


_8BIT = frozenset({"L", "RGB"})
_PNG = _Format("PNG", _8BIT | {"LA", "RGBA", "I;16"}, metadata=True)
_JPEG = _Format("JPEG", _8BIT, metadata=True, quality=True)
_TIFF = _Format("TIFF", _8BIT | {"LA", "RGBA", "I;16", "I", "F"}, metadata=True)
_WEBP = _Format("WEBP", _8BIT | {"LA", "RGBA"}, metadata=True, quality=True)
_NPY = _Format("NPY", frozenset())
_FORMATS = {
    ".png": _PNG,
    ".jpg": _JPEG,
    ".jpeg": _JPEG,
    ".tif": _TIFF,
    ".tiff": _TIFF,
    ".webp": _WEBP,
    ".bmp": _Format("BMP", _8BIT),
    ".gif": _Format("GIF", _8BIT),
    ".ppm": _Format("PPM", _8BIT | {"I;16"}),
    ".pgm": _Format("PPM", _8BIT | {"I;16"}),
    ".pnm": _Format("PPM", _8BIT | {"I;16"}),
    ".tga": _Format("TGA", _8BIT | {"LA", "RGBA"}),
    ".npy": _NPY,
}

#: The output suffixes understood, lower case; matching ignores case.
SUPPORTED_SUFFIXES = tuple(sorted(_FORMATS))


@dataclass(frozen=True)
class OutputPlan:
    """How a picture is stored in an output file.

    Attributes
    ----------
    format
        Pillow's format name (``"PNG"``, ``"TIFF"``...), or ``"NPY"`` for raw float32 arrays.
    mode
        The Pillow mode written; None for ``.npy``. ``"F"`` with ``pages`` for multi-page TIFF.
    max_value
        The top of the stored range (255 or 65535); None for raw ``I``, ``F`` and ``.npy``.
    scale
        Factor applied to the samples before they are stored (``255/65535`` when a 16-bit
        picture goes to an 8-bit-only format); 1.0 otherwise. Values are then clipped to
        ``[0, max_value]`` and rounded, so integers never wrap.
    alpha
        Whether alpha is stored.
    flatten
        Whether alpha was composited over white because the format stores none (JPEG, BMP...).
    pages
        Whether each channel is a page of a multi-page TIFF (channel counts other than 1/3/4).
    """

    format: str
    mode: str | None
    max_value: float | None
    scale: float = 1.0
    alpha: bool = False
    flatten: bool = False
    pages: bool = False


def _format_of(destination: Any) -> _Format:
    """The format chosen by the destination's suffix (``"-"`` is PNG), or ImageWriteError."""
    if isinstance(destination, str) and destination == "-":
        return _PNG
    suffix = Path(destination).suffix.lower()
    if suffix not in _FORMATS:
        raise ImageWriteError(
            f"cannot write {str(destination)!r}: unknown image suffix {suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return _FORMATS[suffix]


def _deep_target(mode: str, fmt: _Format) -> str:
    """The deepest single-channel mode ``fmt`` stores for ``mode`` samples."""
    candidates = (mode, "I;16", "L") if mode != "I;16" else (mode, "L")
    return next(candidate for candidate in candidates if candidate in fmt.modes)


#: Output depths: 8-bit, 16-bit and 32-bit float samples.
DEPTHS = ("8", "16", "32f")
# 16-bit colour, which only the PNG writer of imconv stores (Pillow cannot).
_DEEP_COLOUR = {"LA": "LA;16", "RGB": "RGB;16", "RGBA": "RGBA;16"}


def _with_depth(
    destination: Any, fmt: _Format, wanted: str, mode: str, depth: str
) -> tuple[_Format, str]:
    """The format and target mode for an explicit output ``depth``, or ImageWriteError."""
    name = str(destination)
    if depth == "8":
        return fmt, wanted
    if depth == "16":
        if wanted == "L" and "I;16" in fmt.modes:
            return fmt, "I;16"
        if wanted in _DEEP_COLOUR and fmt is _PNG:
            return fmt, _DEEP_COLOUR[wanted]
        raise ImageWriteError(
            f"cannot write 16-bit {wanted} to {name!r}: {fmt.name} stores 16-bit "
            + ("grey only" if "I;16" in fmt.modes else "samples in no mode imconv writes"),
            hint="write .png (16-bit grey and colour) or .tiff/.pgm (16-bit grey)",
        )
    if fmt is not _TIFF:
        raise ImageWriteError(
            f"cannot write 32-bit float samples to {name!r}: {fmt.name} stores integers",
            hint="write .tiff or .npy",
        )
    return fmt, "F"


def plan_output(
    destination: str | Path,
    *,
    channels: int,
    alpha: bool = False,
    mode: str = "L",
    depth: str | None = None,
) -> OutputPlan:
    """Decide the format, mode and scaling used to store a picture at ``destination``.

    Parameters
    ----------
    destination
        The output path (only its suffix matters) or ``"-"`` (PNG on standard output).
    channels
        Number of colour channels of the samples, alpha not counted.
    alpha
        Whether a separate alpha plane comes with them.
    mode
        The picture's mode (:attr:`Picture.mode`), whose bit depth is kept where possible.
    depth : {"8", "16", "32f"}, optional
        The output's depth instead of the picture's: 16-bit grey in PNG, TIFF and PGM and
        16-bit colour in PNG (written by imconv: Pillow stores no 16-bit colour), 32-bit
        float in TIFF (a page per channel for colour) and ``.npy``.

    Returns
    -------
    OutputPlan

    Raises
    ------
    ImageWriteError
        Unknown suffix (the message lists the supported ones), or a channel count other than
        1, 3 or 4 for a format other than TIFF and ``.npy``.

    Notes
    -----
    Depth: ``I;16`` stays 16-bit in PNG, TIFF and PGM and is scaled by 255/65535 elsewhere;
    ``I`` and ``F`` stay as they are in TIFF, become ``I;16`` in PNG and PGM and ``L``
    elsewhere (clipped, not scaled: map them first with :func:`map_range`). Colour and alpha
    are always 8-bit, as Pillow stores them. Alpha goes where the format has it (PNG, TIFF,
    WebP, TGA), otherwise it is composited over white. ``.npy`` stores the float32 pixels
    exactly as they are, without alpha.

    Examples
    --------
    >>> plan_output("out.jpg", channels=1, mode="I;16").scale == 255 / 65535
    True
    >>> plan_output("out.png", channels=1, mode="I;16").mode
    'I;16'
    """
    fmt = _format_of(destination)
    if fmt is _NPY:
        return OutputPlan("NPY", None, None)
    wanted = channels_to_mode(channels, alpha=alpha)
    if depth is not None and wanted is not None:
        fmt, target = _with_depth(destination, fmt, wanted, mode, depth)
        if target == "F":
            return OutputPlan("TIFF", "F", None, pages=wanted != "L")
        source_max, target_max = max_value_of(mode), max_value_of(target)
        scale = target_max / source_max if source_max and target_max else 1.0
        has_alpha = target.startswith(("LA", "RGBA"))
        return OutputPlan(fmt.name, target, target_max, scale, has_alpha)
    if wanted is None:
        if fmt is _TIFF:
            return OutputPlan("TIFF", "F", None, pages=True)
        raise ImageWriteError(
            f"cannot write {channels} channels to {str(destination)!r}: {fmt.name} holds 1, 3 "
            "or 4 channels",
            hint="write .tiff (one page per channel) or .npy, or view them as a montage",
        )
    deep = wanted == "L" and mode in ("I;16", "I", "F")
    target = _deep_target(mode, fmt) if deep else wanted
    flatten = target in ("LA", "RGBA") and target not in fmt.modes
    if flatten:
        target = target[:-1]
    source_max, target_max = max_value_of(mode), max_value_of(target)
    scale = 1.0
    if source_max is not None and target_max is not None and source_max != target_max:
        scale = target_max / source_max
    return OutputPlan(fmt.name, target, target_max, scale, target in ("LA", "RGBA"), flatten)


def carries_metadata(format_name: str) -> bool:
    """Whether the format stores ICC profiles and EXIF (PNG, JPEG, TIFF, WebP)."""
    return format_name in {_PNG.name, _JPEG.name, _TIFF.name, _WEBP.name}


def takes_quality(format_name: str) -> bool:
    """Whether the format has a quality setting (JPEG, WebP)."""
    return format_name in {_JPEG.name, _WEBP.name}
