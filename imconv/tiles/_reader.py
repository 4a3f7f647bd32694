"""Reading a tiled image's rows, in each process that filters strips.

A :class:`TiledReader` opens the file once per process (:func:`reader_for`; a Dask worker
opens its own, from the header it received) and hands out rows. Rows are decoded a whole
row of the file's tiles at a time (a tile cannot be decoded in part): uncompressed tiles
with one ``os.pread`` each, compressed ones through zarr (``tifffile``'s ``aszarr`` store
for TIFF); the last few tile rows decoded are kept, so that the halo rows two neighbouring
strips share are decoded once. Uncompressed TIFF strips are read row by row
(``os.pread``): no mapping, so no resident pages left behind.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import ImageReadError

from ._source import TIFF, TiledImage, identity_of, requires

__all__ = ["TiledReader", "close_reader", "reader_for"]


class TiledReader:
    """Rows of one tiled image, in this process: an open file and the last tile rows read.

    Thread-safe: the strips of a local run share one reader (and its cache).
    """

    def __init__(self, image: TiledImage, *, cache: int = 2) -> None:
        self.image, self.cache = image, max(cache, 1)
        self._lock = threading.Lock()
        self._held: OrderedDict[int, np.ndarray] = OrderedDict()
        self._array: Any = None
        self._store: Any = None
        self._tiles: tuple[tuple[int, ...], int, int] | None = None
        self._descriptor: int | None = None
        self._open()

    def _open(self) -> None:
        image = self.image
        path = Path(image.path)
        try:
            found = identity_of(path if image.kind == TIFF else self._stamp_path(path))
        except OSError as error:
            why = error.strerror or error
            raise ImageReadError(f"cannot read {image.path!r}: {why}") from error
        if found != image.identity:
            raise ImageReadError(f"cannot read {image.path!r}: it changed after it was opened")
        if image.contiguous is not None:
            self._descriptor = os.open(path, os.O_RDONLY)
            return
        if image.raw_tiles:
            tifffile = requires("tifffile")
            with tifffile.TiffFile(path) as tiff:
                page = tiff.series[0].pages[0]
                self._tiles = (tuple(page.dataoffsets), page.tilelength, page.tilewidth)
            self._descriptor = os.open(path, os.O_RDONLY)
            return
        zarr = requires("zarr")
        if image.kind == TIFF:
            tifffile = requires("tifffile")
            self._store = tifffile.imread(str(path), aszarr=True, series=0, level=0)
            self._array = zarr.open_array(self._store, mode="r")
        else:
            self._array = zarr.open_array(str(path), mode="r")

    @staticmethod
    def _stamp_path(path: Path) -> Path:
        return path / ("zarr.json" if (path / "zarr.json").exists() else ".zarray")

    def close(self) -> None:
        """Close the file (a reader is not used after)."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._held.clear()

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as ``(n, W, S)`` samples in the native type (a new array)."""
        image = self.image
        if image.contiguous is not None:
            return self._pread(start, stop)
        step = image.chunk_rows
        parts = []
        for index in range(start // step, (stop - 1) // step + 1):
            chunk = self._chunk(index)
            first = index * step
            parts.append(chunk[max(start - first, 0) : stop - first])
        return np.concatenate(parts) if len(parts) > 1 else parts[0].copy()

    def take(self, indices: np.ndarray) -> np.ndarray:
        """The rows at ``indices`` (sorted, unique), one read per run of consecutive rows."""
        indices = np.asarray(indices)
        if indices.size == 0:
            return np.zeros((0, self.image.width, self.image.samples), self.image.dtype)
        breaks = np.flatnonzero(np.diff(indices) != 1) + 1
        runs = np.split(indices, breaks)
        parts = [self.rows(int(run[0]), int(run[-1]) + 1) for run in runs]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _pread(self, start: int, stop: int) -> np.ndarray:
        offset, row = self.image.contiguous or (0, 0)
        size = (stop - start) * row
        data = os.pread(self._descriptor, size, offset + start * row)
        if len(data) != size:
            raise ImageReadError(f"cannot read {self.image.path!r}: the file is truncated")
        shape = (stop - start, self.image.width, self.image.samples)
        return np.frombuffer(bytearray(data), dtype=self.image.dtype).reshape(shape)

    def _chunk(self, index: int) -> np.ndarray:
        """Tile row ``index`` decoded, ``(rows, W, S)``, from the cache or the file."""
        with self._lock:
            if index in self._held:
                self._held.move_to_end(index)
                return self._held[index]
        image = self.image
        lo, hi = index * image.chunk_rows, min((index + 1) * image.chunk_rows, image.height)
        if self._tiles is not None:
            return self._keep(index, self._raw_tile_row(index, hi - lo))
        try:
            data = self._array[:, lo:hi] if image.planar else self._array[lo:hi]
        except Exception as error:  # codecs raise their own types for damaged tiles
            raise ImageReadError(
                f"cannot read rows {lo}..{hi - 1} of {image.path!r}: {error}"
            ) from error
        data = np.asarray(data)
        if image.planar:
            data = np.moveaxis(data, 0, -1)
        elif data.ndim == 2:
            data = data[..., np.newaxis]
        return self._keep(index, np.ascontiguousarray(data, dtype=image.dtype))

    def _keep(self, index: int, data: np.ndarray) -> np.ndarray:
        """Hold tile row ``index`` among the last :attr:`cache` read."""
        with self._lock:
            self._held[index] = data
            while len(self._held) > self.cache:
                self._held.popitem(last=False)
        return data

    def _raw_tile_row(self, index: int, rows: int) -> np.ndarray:
        """Tile row ``index`` of uncompressed tiles, one ``pread`` per tile (tiles are
        stored whole, padded at the image's edges)."""
        image = self.image
        offsets, tall, wide = self._tiles or ((), 1, 1)
        across = -(-image.width // wide)
        out = np.empty((rows, image.width, image.samples), image.dtype)
        size = tall * wide * image.samples * image.dtype.itemsize
        for column in range(across):
            data = os.pread(self._descriptor, size, offsets[index * across + column])
            if len(data) != size:
                raise ImageReadError(f"cannot read {image.path!r}: the file is truncated")
            tile = np.frombuffer(data, image.dtype).reshape(tall, wide, image.samples)
            left = column * wide
            out[:, left : left + wide] = tile[:rows, : image.width - left]
        return out


_READERS: dict[tuple[str, tuple[int, int]], TiledReader] = {}
_READERS_LOCK = threading.Lock()


def reader_for(image: TiledImage, *, cache: int = 2) -> TiledReader:
    """This process's reader of ``image`` (opened once, kept for the next strips).

    Raises
    ------
    ImageReadError
        The file cannot be opened here (a worker that does not see the path), or it
        changed since its header was read.
    """
    key = (image.path, image.identity)
    with _READERS_LOCK:
        reader = _READERS.get(key)
        if reader is None:
            for old in [k for k in _READERS if k[0] == image.path]:
                _READERS.pop(old).close()
            reader = _READERS[key] = TiledReader(image, cache=cache)
        reader.cache = max(reader.cache, cache)
        return reader


def close_reader(image: TiledImage) -> None:
    """Close this process's reader of ``image``, if any (the end of a run here: its
    decoded tile rows are freed)."""
    with _READERS_LOCK:
        reader = _READERS.pop((image.path, image.identity), None)
    if reader is not None:
        reader.close()
