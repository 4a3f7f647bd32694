"""Writing a :class:`Picture` (or an array) atomically, in the format its suffix names."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from imconv.errors import ImageWriteError, ImconvError, InvalidParameterError, OutputExistsError

from ._canvas import Canvas
from ._formats import OutputPlan, plan_output
from ._picture import Picture
from ._values import montage as _tile

__all__ = [
    "DEFAULT_QUALITY",
    "check_compress_level",
    "check_quality",
    "save_canvas",
    "write_atomic",
    "write_image",
]

#: JPEG and WebP quality when none is given (Pillow's own default, 75, visibly softens edges).
DEFAULT_QUALITY = 95

_ENCODE_ERRORS = (OSError, ValueError, KeyError, TypeError)
_DTYPE_MODES = {np.dtype(np.uint16): "I;16", np.dtype(np.int32): "I"}


def _as_picture(image: Any, like: Picture | None, alpha: Any) -> Picture:
    """A Picture for ``image``: its samples, with ``like``'s metadata when given."""
    if isinstance(image, Picture):
        base = image if like is None else like
        return base.with_pixels(image.pixels, alpha=image.alpha if alpha is None else alpha)
    if like is not None:
        return like.with_pixels(image, alpha=alpha)
    array = np.asarray(image)
    mode = _DTYPE_MODES.get(array.dtype, "") if array.ndim == 2 else ""
    return Picture(array, alpha=alpha, mode=mode)


def _montage_of(picture: Picture) -> Picture:
    """The picture's channels tiled as one 8-bit grey image (alpha dropped)."""
    if picture.pixels.ndim == 2:
        return picture
    sheet = _tile(picture.pixels)
    return dataclasses.replace(picture, pixels=sheet, alpha=None, mode="L", icc_profile=None)


def check_compress_level(level: Any) -> int | None:
    """``level`` as an int in 0..9 (PNG's zlib effort; None: Pillow's default, 6)."""
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or not 0 <= level <= 9:
        raise InvalidParameterError("compress_level", level, "an integer from 0 to 9")
    return int(level)


def check_quality(quality: Any) -> int:
    """``quality`` as an int in 1..100 (None: the default), or InvalidParameterError."""
    if quality is None:
        return DEFAULT_QUALITY
    if isinstance(quality, bool) or not isinstance(quality, int | np.integer):
        raise InvalidParameterError("quality", quality, "an integer from 1 to 100")
    if not 1 <= quality <= 100:
        raise InvalidParameterError("quality", quality, "an integer from 1 to 100")
    return int(quality)


def _file_mode(path: Path) -> int:
    """Permissions for the new file: those of the file replaced, else 0o666 less the umask."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o7777
    try:
        status = Path("/proc/self/status").read_text()
        umask = int(next(line for line in status.splitlines() if line.startswith("Umask:"))[6:], 8)
    except (OSError, StopIteration, ValueError):
        umask = 0o022
    return 0o666 & ~umask


def _open_folder(folder: Path, inside: Path | None) -> int:
    """A descriptor of ``folder``. With ``inside``, the folder is walked down to from
    ``inside``'s real path one component at a time, following no link: a link made or
    swapped into the output tree cannot lead the write outside it."""
    flags = os.O_RDONLY | os.O_DIRECTORY
    target = os.path.realpath(folder)
    try:
        if inside is None:
            return os.open(target, flags)
        base = os.path.realpath(inside)
        if os.path.commonpath([base, target]) != base:
            raise ImageWriteError(
                f"refusing to write into {str(folder)!r}: it leads outside the output folder "
                f"{str(inside)!r} (to {target!r})"
            )
        descriptor = os.open(base, flags)
        for part in Path(target).relative_to(base).parts:
            try:
                inner = os.open(part, flags | os.O_NOFOLLOW, dir_fd=descriptor)
            finally:
                os.close(descriptor)
            descriptor = inner
        return descriptor
    except OSError as error:
        raise ImageWriteError(
            f"cannot write into {str(folder)!r}: {error.strerror or error}"
        ) from error


def _temporary(folder: int, path: Path) -> tuple[str, int]:
    """A new hidden file beside ``path`` (``.stem.XXXXXXXX.suffix``) in the ``folder``
    descriptor: its name and a writable descriptor."""
    for _ in range(100):
        name = f".{path.stem}.{os.urandom(4).hex()}{path.suffix}"
        try:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return name, os.open(name, flags, 0o600, dir_fd=folder)
        except FileExistsError:
            continue
    raise ImageWriteError(f"cannot write {str(path)!r}: no free temporary name")  # pragma: no cover


def write_atomic(
    path: Path, encode: Callable[[IO[bytes]], None], *, inside: Path | None = None
) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over ``path``.

    The folder is opened once and the temporary file created, synced and renamed through
    that descriptor; with ``inside``, the folder's real path must lie inside ``inside``'s
    (a batch's output folder), checked as it is opened.
    """
    path = Path(path)
    try:
        folder = _open_folder(path.parent, inside)
    except ImageWriteError as error:
        if inside is not None:
            raise
        raise ImageWriteError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} is not writable "
            f"({error.message.split(': ', 1)[-1]})"
        ) from error
    try:
        try:
            name, descriptor = _temporary(folder, path)
        except OSError as error:
            raise ImageWriteError(
                f"cannot write {str(path)!r}: folder {str(path.parent)!r} is not writable "
                f"({error.strerror or error})"
            ) from error
        try:
            # Named as the temporary file (TIFF pages read back: a read-write handle).
            with open(name, "w+b", opener=lambda _name, _flags: descriptor) as handle:
                encode(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(name, _file_mode(path), dir_fd=folder)
            os.replace(name, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=folder)
            raise
        with contextlib.suppress(OSError):
            os.fsync(folder)  # persist the rename (best effort)
    finally:
        os.close(folder)


def _same_file(path: Path, other: Path) -> bool:
    """Whether both name the same existing file (links included)."""
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _check_destination(path: Path, inputs: list[Path], *, overwrite: bool) -> None:
    """Refuse a missing folder, a folder as output, the input itself, or an existing file."""
    folder = path.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"cannot write {str(path)!r}: output folder {str(folder)!r} {why}")
    if path.is_dir():
        raise ImageWriteError(f"cannot write {str(path)!r}: it is a folder")
    if not path.exists():
        return
    if any(_same_file(path, source) for source in inputs):
        raise OutputExistsError(
            f"refusing to write {str(path)!r}: it is the input image",
            hint="choose another output name; inputs are never overwritten",
        )
    if not overwrite:
        raise OutputExistsError(
            f"output {str(path)!r} already exists", hint="use `overwrite` to replace it"
        )


def _encoder(
    canvas: Canvas, name: str, quality: int, compress_level: int | None
) -> Callable[[IO[bytes]], None]:
    """A function encoding ``canvas`` into a stream; encoder failures become ImageWriteError."""

    def encode(stream: IO[bytes]) -> None:
        try:
            canvas.encode(stream, quality=quality, compress_level=compress_level)
        except ImconvError:
            raise
        except _ENCODE_ERRORS as error:
            detail = " ".join(str(error).split()) or type(error).__name__
            raise ImageWriteError(
                f"cannot write {name}: {canvas.plan.format} ({detail})"
            ) from error

    return encode


def save_canvas(
    canvas: Canvas,
    destination: str | Path | IO[bytes],
    *,
    quality: int | None = None,
    compress_level: int | None = None,
    overwrite: bool = False,
    inputs: Sequence[Path] = (),
    inside: Path | None = None,
) -> None:
    """Encode a filled :class:`Canvas` to a file (atomically) or to a stream (``"-"``).

    ``inside``: the output folder the file must stay in, checked as it is written (see
    :func:`write_atomic`).

    Raises
    ------
    OutputExistsError
        The output exists and ``overwrite`` is false, or it is one of ``inputs``.
    ImageWriteError
        A missing or unwritable folder, or an encoder failure; no file is left behind.
    """
    level, effort = check_quality(quality), check_compress_level(compress_level)
    if isinstance(destination, Path) or (isinstance(destination, str) and destination != "-"):
        path = Path(destination)
        _check_destination(path, list(inputs), overwrite=overwrite)
        write_atomic(path, _encoder(canvas, repr(str(path)), level, effort), inside=inside)
        return
    stream = sys.stdout.buffer if isinstance(destination, str) else destination
    if not hasattr(stream, "write"):
        raise InvalidParameterError(
            "destination", destination, "a path, '-' or a binary file object"
        )
    buffer = io.BytesIO()
    _encoder(canvas, "<stdout>", level, effort)(buffer)
    stream.write(buffer.getvalue())
    stream.flush()


def write_image(
    image: Picture | np.ndarray,
    destination: str | Path | IO[bytes],
    *,
    like: Picture | None = None,
    alpha: np.ndarray | None = None,
    quality: int | None = None,
    compress_level: int | None = None,
    overwrite: bool = False,
    montage: bool = False,
) -> OutputPlan:
    """Write a picture (or bare samples) to a file, atomically, or as PNG to a stream.

    Parameters
    ----------
    image
        A :class:`Picture` (its alpha is written), or an ``(H, W)``/``(H, W, C)`` array.
        A bare array takes its mode, profile and EXIF from ``like``; without ``like`` it is
        8-bit (0..255), except 2-D ``uint16`` (``I;16``) and ``int32`` (``I``) arrays.
    destination
        A path whose suffix names the format (see :data:`SUPPORTED_SUFFIXES`), ``"-"`` for
        PNG on standard output, or a binary file object (PNG).
    like
        The source picture: its mode (bit depth), ICC profile, EXIF and file name are used.
    alpha
        An ``(H, W)`` alpha plane in 0..1 to write with the samples (for example the filtered
        alpha); None keeps the alpha of a :class:`Picture` and gives bare arrays none.
    quality
        1..100 for JPEG and WebP (default :data:`DEFAULT_QUALITY`); ignored by other formats.
    compress_level
        0..9, PNG's zlib effort (None: Pillow's default, 6); ignored by other formats.
    overwrite
        Replace an existing output. The input file itself is never replaced.
    montage
        Write the channels tiled side by side as one 8-bit grey image (:func:`montage`), the
        way to view a kernel bank's feature maps as PNG; alpha is not written then.

    Returns
    -------
    OutputPlan
        How the picture was stored (format, mode, scale, alpha).

    Raises
    ------
    OutputExistsError
        The output exists and ``overwrite`` is false, or it is the input file.
    ImageWriteError
        Unknown suffix, missing or unwritable folder, or an encoder failure. No file, not
        even a temporary one, is left behind.

    Notes
    -----
    Samples are scaled and converted as :func:`plan_output` says; integer outputs are
    clipped, then rounded, so they never wrap, and NaN becomes 0. ICC profiles and EXIF are
    kept in PNG, JPEG, TIFF and WebP when the profile's colour space matches the output.
    The file is written as a temporary file in the same folder, synced, then renamed over
    the destination, so it appears whole or not at all.
    """
    picture = _as_picture(image, like, alpha)
    if montage:
        picture = _montage_of(picture)
    plan = plan_output(destination if not hasattr(destination, "write") else "-",
                       channels=picture.channels, alpha=picture.has_alpha,
                       mode=picture.mode)  # fmt: skip
    canvas = Canvas(plan, height=picture.height, width=picture.width,
                    channels=picture.channels, icc_profile=picture.icc_profile,
                    exif=picture.exif)  # fmt: skip
    pixels = picture.pixels if picture.pixels.ndim == 3 else picture.pixels[..., np.newaxis]
    canvas.put(0, pixels, picture.alpha)
    inputs = [p.source for p in (picture, like) if p is not None and p.source is not None]
    save_canvas(canvas, destination, quality=quality, compress_level=compress_level,
                overwrite=overwrite, inputs=inputs)  # fmt: skip
    return plan
