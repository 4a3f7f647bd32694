"""Writing a :class:`Picture` (or an array) atomically, in the format its suffix names."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from imconv.errors import ImageWriteError, ImconvError, InvalidParameterError, OutputExistsError

from ._formats import OutputPlan, carries_metadata, plan_output, takes_quality
from ._picture import Picture, icc_fits
from ._values import montage as _tile
from ._values import quantize

__all__ = ["DEFAULT_QUALITY", "check_quality", "write_atomic", "write_image"]

#: JPEG and WebP quality when none is given (Pillow's own default, 75, visibly softens edges).
DEFAULT_QUALITY = 95

_ENCODE_ERRORS = (OSError, ValueError, KeyError, TypeError)
_INT32 = np.iinfo(np.int32)
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


def check_quality(quality: Any) -> int:
    """``quality`` as an int in 1..100 (None: the default), or InvalidParameterError."""
    if quality is None:
        return DEFAULT_QUALITY
    if isinstance(quality, bool) or not isinstance(quality, int | np.integer):
        raise InvalidParameterError("quality", quality, "an integer from 1 to 100")
    if not 1 <= quality <= 100:
        raise InvalidParameterError("quality", quality, "an integer from 1 to 100")
    return int(quality)


def _colour_and_alpha(picture: Picture, plan: OutputPlan) -> tuple[np.ndarray, np.ndarray | None]:
    """Scaled colour samples and alpha in 0..1 (a fourth channel counts as alpha)."""
    colour = picture.pixels
    if colour.ndim == 3 and colour.shape[2] == 1:
        colour = colour[..., 0]
    alpha = picture.alpha
    if alpha is None and colour.ndim == 3 and colour.shape[2] == 4:
        colour, alpha = colour[..., :3], colour[..., 3] * np.float32(plan.scale / 255.0)
    if plan.scale != 1.0:
        colour = colour * np.float32(plan.scale)
    if alpha is not None:
        alpha = np.clip(np.nan_to_num(alpha), 0.0, 1.0)
    return colour, alpha


def _stored(samples: np.ndarray, plan: OutputPlan) -> np.ndarray:
    """Samples in the dtype of the plan's mode: clipped and rounded for integer modes."""
    if plan.mode == "F":
        return samples.astype(np.float32)
    if plan.mode == "I":
        finite = np.nan_to_num(samples.astype(np.float64), nan=0.0)
        return np.rint(np.clip(finite, _INT32.min, _INT32.max)).astype(np.int32)
    return quantize(samples, max_value=plan.max_value or 255.0)


def _to_pillow(picture: Picture, plan: OutputPlan) -> Image.Image:
    """The Pillow image stored for ``picture`` under ``plan``."""
    colour, alpha = _colour_and_alpha(picture, plan)
    if alpha is not None and plan.flatten:
        weight = alpha[..., None] if colour.ndim == 3 else alpha
        top = np.float32(plan.max_value or 255.0)
        colour = colour * weight + top * (1 - weight)
    samples = _stored(colour, plan)
    if plan.alpha and alpha is not None:
        plane = quantize(alpha * 255.0, max_value=255.0)
        samples = np.dstack([samples, plane])
    return Image.fromarray(np.ascontiguousarray(samples))


def _save(picture: Picture, plan: OutputPlan, stream: IO[bytes], quality: int) -> None:
    """Encode ``picture`` into ``stream`` according to ``plan``."""
    if plan.format == "NPY":
        np.save(stream, picture.pixels, allow_pickle=False)
        return
    if plan.pages:
        channels = np.moveaxis(picture.pixels, -1, 0)
        pages = [Image.fromarray(np.ascontiguousarray(page)) for page in channels]
        pages[0].save(stream, format="TIFF", save_all=True, append_images=pages[1:])
        return
    options: dict[str, Any] = {}
    if carries_metadata(plan.format):
        if icc_fits(picture.icc_profile, plan.mode):
            options["icc_profile"] = picture.icc_profile
        if picture.exif:
            options["exif"] = picture.exif
    if takes_quality(plan.format):
        options["quality"] = quality
    _to_pillow(picture, plan).save(stream, format=plan.format, **options)


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


def write_atomic(path: Path, encode: Callable[[IO[bytes]], None]) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over ``path``."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
            dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix, delete=False
        )
    except OSError as error:
        raise ImageWriteError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} is not writable "
            f"({error.strerror or error})"
        ) from error
    try:
        with handle:
            encode(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, _file_mode(path))
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Persist the rename (where the platform can sync a folder; best effort)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


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
            f"output {str(path)!r} already exists", hint="use --overwrite to replace it"
        )


def _encoder(
    picture: Picture, plan: OutputPlan, name: str, quality: int
) -> Callable[[IO[bytes]], None]:
    """A function encoding ``picture`` into a stream; encoder failures become ImageWriteError."""

    def encode(stream: IO[bytes]) -> None:
        try:
            _save(picture, plan, stream, quality)
        except ImconvError:
            raise
        except _ENCODE_ERRORS as error:
            detail = " ".join(str(error).split()) or type(error).__name__
            raise ImageWriteError(f"cannot write {name}: {plan.format} ({detail})") from error

    return encode


def write_image(
    image: Picture | np.ndarray,
    destination: str | Path | IO[bytes],
    *,
    like: Picture | None = None,
    alpha: np.ndarray | None = None,
    quality: int | None = None,
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
    level = check_quality(quality)
    if isinstance(destination, Path) or (isinstance(destination, str) and destination != "-"):
        path = Path(destination)
        plan = plan_output(
            path, channels=picture.channels, alpha=picture.has_alpha, mode=picture.mode
        )
        inputs = [p.source for p in (picture, like) if p is not None and p.source is not None]
        _check_destination(path, inputs, overwrite=overwrite)
        write_atomic(path, _encoder(picture, plan, repr(str(path)), level))
        return plan
    stream = sys.stdout.buffer if isinstance(destination, str) else destination
    if not hasattr(stream, "write"):
        raise InvalidParameterError(
            "destination", destination, "a path, '-' or a binary file object"
        )
    plan = plan_output("-", channels=picture.channels, alpha=picture.has_alpha, mode=picture.mode)
    buffer = io.BytesIO()
    _encoder(picture, plan, "<stdout>", level)(buffer)
    stream.write(buffer.getvalue())
    stream.flush()
    return plan
