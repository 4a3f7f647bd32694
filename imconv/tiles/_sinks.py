"""Where filtered strips go: a tiled BigTIFF or a Zarr folder, written whole or not at all.

Strips arrive in order (:func:`whole_tile_rows` regroups them into whole rows of the
output's tiles). A TIFF is written tile by tile, in order, by ``tifffile`` into a
temporary file of the destination's folder that is synced and renamed over the
destination at the end (:func:`imconv.images.write_atomic`); a Zarr array is written into
a temporary folder beside the destination, renamed into place at the end. An error or
Ctrl-C while writing removes the temporary file or folder: no partial output is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import numpy as np

from imconv import images
from imconv.choices import parse_choice
from imconv.errors import ImageWriteError, InvalidParameterError, OutputExistsError

from ._source import TiledImage, kind_of

__all__ = ["TIFF_SUFFIXES", "Compression", "Target", "check_destination", "whole_tile_rows"]

#: Suffixes written as tiled BigTIFF; ``.zarr`` is a Zarr folder.
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8")
ZARR_SUFFIX = ".zarr"
#: The output's tiles (TIFF tiles, Zarr chunks): square, a multiple of 16 (TIFF's rule).
DEFAULT_TILE = 256


class Compression(StrEnum):
    """How output tiles are compressed: ``none`` (the default: fastest), ``deflate``
    (zlib, readable everywhere), ``zstd`` (fast and small; TIFF readers need libtiff 4.0.10
    or later), ``lzw`` (TIFF only)."""

    NONE = "none"
    DEFLATE = "deflate"
    ZSTD = "zstd"
    LZW = "lzw"


_TIFF_CODECS = {Compression.NONE: None, Compression.DEFLATE: "zlib",
                Compression.ZSTD: "zstd", Compression.LZW: "lzw"}  # fmt: skip


def check_tile(tile: Any) -> int:
    """``tile`` as a positive multiple of 16, or InvalidParameterError."""
    if isinstance(tile, bool) or not isinstance(tile, int) or tile <= 0 or tile % 16:
        raise InvalidParameterError("tile", tile, "a positive multiple of 16 (pixels a side)")
    return tile


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


@dataclass(frozen=True)
class Target:
    """The output: its path, kind (``"tiff"`` or ``"zarr"``), compression and tiles."""

    path: Path
    kind: str
    compression: Compression
    tile: int


def check_destination(
    destination: str | Path,
    *,
    source: str | Path,
    overwrite: bool,
    compression: Any = None,
    tile: Any = DEFAULT_TILE,
) -> Target:
    """Decide the output before any work: its kind by suffix, and that it may be written.

    Raises
    ------
    InvalidParameterError
        A suffix other than .tif/.tiff/.btf/.tf8/.zarr, a bad ``compression`` or ``tile``.
    OutputExistsError
        The output exists and ``overwrite`` is false, or it is the input.
    ImageWriteError
        The folder is missing or is not a folder.
    """
    path = Path(destination)
    suffix = path.suffix.lower()
    if suffix == ZARR_SUFFIX:
        kind = "zarr"
    elif suffix in TIFF_SUFFIXES:
        kind = "tiff"
    else:
        raise InvalidParameterError(
            "destination", str(destination),
            f"a path ending in {', '.join(TIFF_SUFFIXES)} (tiled BigTIFF) or .zarr (a Zarr "
            "folder) for an image filtered tile by tile",
        )  # fmt: skip
    chosen = parse_choice(Compression, compression or Compression.NONE, "compression")
    if kind == "zarr" and chosen is Compression.LZW:
        raise InvalidParameterError("compression", str(chosen), "none, deflate or zstd for Zarr")
    folder = path.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"cannot write {str(path)!r}: output folder {str(folder)!r} {why}")
    if path.exists() or path.is_symlink():
        if _same_file(path, Path(source)):
            raise OutputExistsError(
                f"refusing to write {str(path)!r}: it is the input image",
                hint="choose another output name; inputs are never overwritten",
            )
        if not overwrite:
            raise OutputExistsError(
                f"output {str(path)!r} already exists", hint="use `overwrite` to replace it"
            )
        if kind == "zarr" and path.is_dir() and kind_of(path) != "zarr":
            raise OutputExistsError(
                f"refusing to replace {str(path)!r}: it is a folder but not a Zarr array",
                hint="choose another output name",
            )
        if kind == "tiff" and path.is_dir():
            raise ImageWriteError(f"cannot write {str(path)!r}: it is a folder")
    return Target(path, kind, chosen, check_tile(tile))


def whole_tile_rows(strips: Iterable[np.ndarray], rows: int) -> Iterator[np.ndarray]:
    """The strips (in order) regrouped into blocks of whole rows of tiles ``rows`` high
    (the last block may be shorter); a strip already a whole number of them passes as is."""
    pending: list[np.ndarray] = []
    count = 0
    for strip in strips:
        pending.append(strip)
        count += len(strip)
        if count < rows:
            continue
        block = np.concatenate(pending) if len(pending) > 1 else pending[0]
        cut = count // rows * rows
        yield block[:cut]
        rest = block[cut:]
        pending, count = ([rest], len(rest)) if len(rest) else ([], 0)
    if count:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


@dataclass(frozen=True)
class Layout:
    """What the output stores: its shape, sample type, photometric and alpha."""

    height: int
    width: int
    samples: int
    dtype: np.dtype
    photometric: str
    alpha: bool
    icc_profile: bytes | None = None


def output_layout(
    image: TiledImage, shape: tuple[int, int, int], samples: int, dtype: np.dtype, alpha: bool
) -> Layout:
    """The output's layout: the input's photometric where the channels are the input's
    (RGB stays RGB, min-is-white stays so), else RGB for three colour channels and grey
    otherwise; the ICC profile kept when the channels are."""
    height, width, _ = shape
    colour = samples - alpha
    if colour == image.channels and image.photometric != "palette":
        photometric, icc = image.photometric, image.icc_profile
    else:
        photometric, icc = ("rgb" if colour == 3 else "minisblack"), None
    if photometric == "rgb" and colour != 3:
        photometric = "minisblack"
    return Layout(height, width, samples, dtype, photometric, alpha, icc)


Blocks = Iterable[np.ndarray]


def _tiff_tiles(blocks: Blocks, tile: int, samples: int) -> Iterator[np.ndarray]:
    """Each block's tiles, left to right, top to bottom (tifffile pads the edge ones)."""
    for block in blocks:
        for top in range(0, block.shape[0], tile):
            for left in range(0, block.shape[1], tile):
                piece = block[top : top + tile, left : left + tile]
                yield piece[..., 0] if samples == 1 else piece


def _tiff_encoder(blocks: Blocks, layout: Layout, target: Target) -> Callable[[IO[bytes]], None]:
    """Writes the blocks as a tiled BigTIFF into a binary stream."""
    import tifffile

    shape = (layout.height, layout.width) + ((layout.samples,) if layout.samples > 1 else ())
    extra = ["unassalpha"] if layout.alpha else None
    if layout.samples > 1 and extra is None and layout.photometric in ("minisblack", "miniswhite"):
        extra = ["unspecified"] * (layout.samples - 1)
    if layout.photometric == "rgb" and layout.samples > 3 and not layout.alpha:
        extra = ["unspecified"] * (layout.samples - 3)

    def encode(stream: IO[bytes]) -> None:
        # Named here: the stream may be an unnamed descriptor's, which tifffile cannot split.
        handle = tifffile.FileHandle(stream, name=target.path.name)
        with tifffile.TiffWriter(handle, bigtiff=True) as writer:
            writer.write(
                data=_tiff_tiles(blocks, target.tile, layout.samples),
                shape=shape,
                dtype=layout.dtype,
                tile=(target.tile, target.tile),
                photometric=layout.photometric,
                planarconfig="contig" if layout.samples > 1 else None,
                extrasamples=extra,
                compression=_TIFF_CODECS[target.compression],
                iccprofile=layout.icc_profile,
                metadata=None,
                software="imconv",
            )

    return encode


def write_tiff(blocks: Blocks, layout: Layout, target: Target) -> None:
    """Write the blocks (whole tile rows, in order) as a tiled BigTIFF, atomically."""
    encode = _tiff_encoder(blocks, layout, target)
    try:
        images.write_atomic(target.path, encode)
    except ImportError as error:  # a codec of imagecodecs that is not installed
        raise ImageWriteError(
            f"cannot write {str(target.path)!r} with compression {target.compression}: {error}",
            hint="pip install imagecodecs, or choose `compression` none or deflate",
        ) from error


def _zarr_codecs(compression: Compression) -> Any:
    from zarr.codecs import GzipCodec, ZstdCodec

    return {Compression.NONE: None, Compression.DEFLATE: GzipCodec(),
            Compression.ZSTD: ZstdCodec()}[compression]  # fmt: skip


def write_zarr(blocks: Blocks, layout: Layout, target: Target) -> None:
    """Write the blocks (whole tile rows, in order) as a Zarr v3 array in a temporary
    folder beside the destination, then rename it into place."""
    import zarr

    path = target.path
    try:
        temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".zarr"))
    except OSError as error:
        raise ImageWriteError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} is not writable "
            f"({error.strerror or error})"
        ) from error
    try:
        shape = (layout.height, layout.width, layout.samples)
        chunks = (target.tile, target.tile, layout.samples)
        array = zarr.create_array(
            store=str(temporary), shape=shape, chunks=chunks, dtype=layout.dtype,
            compressors=_zarr_codecs(target.compression), fill_value=0, overwrite=True,
            attributes={"imconv": {"alpha": layout.alpha, "photometric": layout.photometric}},
        )  # fmt: skip
        top = 0
        for block in blocks:
            array[top : top + len(block)] = block
            top += len(block)
        _replace_folder(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _replace_folder(temporary: Path, path: Path) -> None:
    """Rename the finished folder over ``path`` (an old one moved aside, then removed)."""
    aside = None
    if path.exists() or path.is_symlink():
        aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.stem}.old."))
        os.replace(path, aside / "old")
    try:
        os.replace(temporary, path)
    except BaseException:
        if aside is not None:
            os.replace(aside / "old", path)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    with contextlib.suppress(OSError):
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write(blocks: Blocks, layout: Layout, target: Target) -> None:
    """Write the blocks to the target (TIFF or Zarr), whole or not at all."""
    if target.kind == "zarr":
        write_zarr(blocks, layout, target)
    else:
        write_tiff(blocks, layout, target)
