"""Images stored in tiles: tiled or striped TIFF (BigTIFF, OME-TIFF) and Zarr arrays.

:func:`open_tiled` reads the header only (tifffile, zarr) into a :class:`TiledImage`: the
shape, the sample type, alpha, the photometric interpretation and the file's own tiles.
A :class:`TiledImage` is small and pickles to a path and a header, so Dask workers
receive it and read the file themselves (``_reader``). JPEG, PNG and the other formats
decoded whole are refused with how to convert them.

What the samples mean follows the stream's reading of the same pixels (:data:`MODE`):
8-bit grey and RGB with or without alpha, 16-bit grey (``I;16``), 32-bit integers (``I``)
and floats (``F``) are the modes :mod:`imconv.images` reads; other layouts (16-bit colour,
float colour, more channels) are filtered channel by channel and kept in their type.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import ImageReadError, ImconvError

__all__ = ["TiledImage", "kind_of", "open_tiled"]

TIFF = "tiff"
ZARR = "zarr"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_HINT_INSTALL = "pip install 'imconv[tiles]'"
# Sample types read: unsigned 8/16-bit, 32-bit integers (one channel) and floats.
_TYPES = ("uint8", "uint16", "int32", "float32", "float64")
# The stream's mode for (sample type, colour channels, alpha).
MODE = {
    ("uint8", 1, False): "L",
    ("uint8", 1, True): "LA",
    ("uint8", 3, False): "RGB",
    ("uint8", 3, True): "RGBA",
    ("uint16", 1, False): "I;16",
    ("int32", 1, False): "I",
    ("float32", 1, False): "F",
}
_TOPS = {"uint8": 255.0, "uint16": 65535.0}
_NATIVE = "<" if sys.byteorder == "little" else ">"


def kind_of(path: str | Path) -> str | None:
    """``"tiff"`` or ``"zarr"`` by content (TIFF magic bytes, a Zarr folder), else None."""
    where = Path(path)
    if where.is_dir():
        marks = ("zarr.json", ".zarray")
        return ZARR if any((where / mark).is_file() for mark in marks) else None
    try:
        with open(where, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return None
    return TIFF if head in _TIFF_MAGIC else None


@dataclass(frozen=True)
class TiledImage:
    """The header of a tiled image: what :func:`open_tiled` found, nothing decoded.

    Attributes
    ----------
    path
        The file (TIFF) or folder (Zarr).
    kind
        ``"tiff"`` or ``"zarr"``.
    height, width
        Rows and columns.
    samples
        Samples per pixel, alpha included.
    dtype
        The sample type (native byte order).
    alpha
        Whether the last sample is (unassociated) alpha.
    chunk_rows, chunk_columns
        The file's tiles (a strip is a tile as wide as the image; Zarr: its chunks).
    photometric
        The TIFF photometric interpretation (``"minisblack"``, ``"rgb"``, ...): written
        back to a TIFF output.
    planar
        The samples lie in separate planes (``SYX``/``CYX``): each chunk is read plane by
        plane and the samples moved last.
    contiguous
        ``(offset, bytes per row)`` of uncompressed TIFF strips stored in order, read by
        rows.
    raw_tiles
        Uncompressed TIFF tiles (samples interleaved, this machine's byte order): read
        with one ``os.pread`` per tile, no codec.
    compression
        The file's compression, for the record.
    icc_profile
        The TIFF's ICC profile (written back to a TIFF output).
    identity
        ``(size, mtime_ns)`` of the file when opened: a worker refuses a changed file.
    notes
        What reading converts (as the stream's records say).
    """

    path: str
    kind: str
    height: int
    width: int
    samples: int
    dtype: np.dtype
    alpha: bool = False
    chunk_rows: int = 1
    chunk_columns: int = 1
    photometric: str = "minisblack"
    planar: bool = False
    contiguous: tuple[int, int] | None = None
    raw_tiles: bool = False
    compression: str = "none"
    icc_profile: bytes | None = None
    identity: tuple[int, int] = (0, 0)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def channels(self) -> int:
        """Colour channels ``C`` (alpha not counted)."""
        return self.samples - self.alpha

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(H, W, C)``, the shape the chain filters."""
        return (self.height, self.width, self.channels)

    @property
    def mode(self) -> str | None:
        """The stream's mode for these samples (``RGB``, ``I;16``...), or None when the
        layout is none of the stream's (16-bit colour, float colour, more channels)."""
        return MODE.get((self.dtype.name, self.channels, self.alpha))

    @property
    def max_value(self) -> float | None:
        """The top of the sample range: 255, 65535, or None (integers ``I``, floats)."""
        return _TOPS.get(self.dtype.name) if self.dtype.name != "int32" else None

    @property
    def megapixels(self) -> float:
        """Millions of pixels."""
        return self.height * self.width / 1e6

    @property
    def row_bytes(self) -> int:
        """Bytes of one row of samples as read."""
        return self.width * self.samples * self.dtype.itemsize

    @property
    def read_rows(self) -> int:
        """Rows decoded at once: a row of the file's tiles (1 for rows read directly)."""
        return 1 if self.contiguous else self.chunk_rows


def requires(name: str) -> Any:
    """Import ``tifffile`` or ``zarr``, or say how to install them."""
    try:
        return __import__(name)
    except ImportError as error:
        raise ImconvError(
            f"reading tiled images needs {name}, which is not installed", hint=_HINT_INSTALL
        ) from error


def identity_of(path: Path) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file: a reader refuses a file changed since its header."""
    status = path.stat()
    return (status.st_size, status.st_mtime_ns)


def _check_type(path: str, dtype: np.dtype) -> np.dtype:
    """The native sample type, or ImageReadError for types the chain does not read."""
    native = dtype.newbyteorder("=")
    if native.name not in _TYPES:
        raise ImageReadError(
            f"cannot filter {path!r}: samples of type {native.name} are not read tile by "
            f"tile (allowed: {', '.join(_TYPES)})"
        )
    return native


def _photometric(page: Any) -> str:
    """The page's photometric interpretation in tifffile's lower-case name."""
    value = page.photometric
    return str(getattr(value, "name", value)).lower()


def _tiff_layout(path: str, series: Any, page: Any) -> tuple[int, int, int, bool]:
    """``(height, width, samples, planar)`` from a TIFF series' axes, or ImageReadError."""
    axes, shape = series.axes, series.shape
    if axes in ("YX",):
        return shape[0], shape[1], 1, False
    if axes in ("YXS",):
        return shape[0], shape[1], shape[2], False
    if axes in ("SYX", "CYX"):
        return shape[1], shape[2], shape[0], True
    raise ImageReadError(
        f"cannot filter {path!r}: its first series has axes {axes!r} {tuple(shape)}; "
        "tiles read one 2-D plane of samples (YX, YXS, SYX or CYX)",
        hint="save the plane to filter as its own TIFF",
    )


def _open_tiff(path: Path) -> TiledImage:
    tifffile = requires("tifffile")
    name = str(path)
    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            page = series.pages[0] if series.pages else tiff.pages[0]
            height, width, samples, planar = _tiff_layout(name, series, page)
            dtype = _check_type(name, np.dtype(series.dtype))
            photometric = _photometric(page)
            if photometric == "ycbcr":  # decoded to RGB (JPEG tiles)
                photometric = "rgb"
            if photometric == "palette":
                raise ImageReadError(
                    f"cannot filter {name!r}: a palette image is not filtered tile by tile",
                    hint="convert it to RGB first (vips colourspace, or Pillow)",
                )
            extra = tuple(int(e) for e in page.extrasamples)
            if extra and extra[-1] == 1:
                raise ImageReadError(
                    f"cannot filter {name!r}: its alpha is premultiplied (associated)",
                    hint="save it with unassociated alpha",
                )
            # Alpha as the stream has it: 8-bit, after one or three colour channels.
            alpha = bool(extra) and extra[-1] == 2 and samples in (2, 4) and dtype == np.uint8
            tiled = bool(page.is_tiled)
            rows = page.tilelength if tiled else min(page.rowsperstrip or height, height)
            columns = page.tilewidth if tiled else width
            contiguous = None
            if page.is_contiguous and not tiled and not planar and page.dataoffsets:
                contiguous = (int(page.dataoffsets[0]), width * samples * dtype.itemsize)
            raw = (tiled and not planar and int(page.compression) == 1
                   and int(page.predictor) == 1 and page.tiledepth == 1
                   and page.bitspersample == 8 * dtype.itemsize)  # fmt: skip
            icc = page.tags.get(34675)
            profile = None if icc is None else bytes(icc.value)
            compression = str(getattr(page.compression, "name", page.compression)).lower()
            notes = ("first plane of a multi-page file read",) if len(series.pages) > 1 else ()
            byteorder = tiff.byteorder
    except ImconvError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise ImageReadError(f"cannot read {name!r} as TIFF: {error}") from error
    if byteorder not in ("=", _NATIVE):
        contiguous, raw = None, False  # read through zarr, which swaps the bytes
    return TiledImage(name, TIFF, height, width, samples, dtype, alpha=alpha,
                      chunk_rows=rows, chunk_columns=columns, photometric=photometric,
                      planar=planar, contiguous=contiguous, raw_tiles=raw,
                      compression=compression, icc_profile=profile,
                      identity=identity_of(path), notes=notes)  # fmt: skip


def _open_zarr(path: Path) -> TiledImage:
    zarr = requires("zarr")
    name = str(path)
    try:
        array = zarr.open_array(str(path), mode="r")
    except Exception as error:  # zarr raises its own types for a group or a bad folder
        raise ImageReadError(
            f"cannot read {name!r} as Zarr: {error}",
            hint="a .zarr image is one array at the folder's root, (H, W) or (H, W, C)",
        ) from error
    if array.ndim not in (2, 3):
        raise ImageReadError(
            f"cannot filter {name!r}: a Zarr image is (H, W) or (H, W, C); got shape "
            f"{tuple(array.shape)}"
        )
    dtype = _check_type(name, np.dtype(array.dtype))
    height, width = array.shape[:2]
    samples = array.shape[2] if array.ndim == 3 else 1
    saved = dict(array.attrs).get("imconv", {})
    alpha = bool(saved.get("alpha", False)) and samples in (2, 4)
    photometric = saved.get("photometric") or ("rgb" if samples - alpha == 3 else "minisblack")
    chunks = array.chunks
    compression = ",".join(type(c).__name__ for c in getattr(array, "compressors", ())) or "none"
    stamp = identity_of(path / ("zarr.json" if (path / "zarr.json").exists() else ".zarray"))
    return TiledImage(name, ZARR, height, width, samples, dtype, alpha=alpha,
                      chunk_rows=chunks[0], chunk_columns=chunks[1],
                      photometric=str(photometric), compression=compression,
                      identity=stamp)  # fmt: skip


def open_tiled(path: str | Path) -> TiledImage:
    """Read the header of a tiled TIFF or a Zarr array; nothing is decoded.

    Parameters
    ----------
    path
        A TIFF file (tiled or striped, BigTIFF, OME-TIFF: the first series, its full
        resolution) or a Zarr folder holding one array at its root, ``(H, W)`` or
        ``(H, W, C)`` with channels last.

    Returns
    -------
    TiledImage

    Raises
    ------
    ImageReadError
        A missing file, another format (JPEG, PNG... with how to convert them), or samples
        that cannot be filtered (type, axes, palette, premultiplied alpha).
    ImconvError
        tifffile or zarr is missing (``pip install 'imconv[tiles]'``).
    """
    where = Path(os.path.abspath(path))  # workers of a cluster read it from their own folder
    if not where.exists():
        raise ImageReadError(f"cannot read {str(path)!r}: no such file or folder")
    kind = kind_of(where)
    if kind == TIFF:
        return _open_tiff(where)
    if kind == ZARR:
        return _open_zarr(where)
    raise _not_tiled(str(path))


def _not_tiled(name: str) -> ImageReadError:
    """The error for a format that cannot be read by parts, with how to convert it."""
    stem = Path(name).with_suffix("").name or "image"
    suffix = Path(name).suffix.lower()
    what = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP"}.get(suffix)
    why = f"{what} is decoded whole" if what else "it is neither a TIFF file nor a Zarr folder"
    return ImageReadError(
        f"cannot filter {name!r} tile by tile: {why}",
        hint=f"convert it to a tiled TIFF first, e.g. `vips tiffsave {name} {stem}.tif --tile "
        "--tile-width 256 --tile-height 256 --bigtiff`, and filter that",
    )
