"""One image larger than memory: tiled TIFF and Zarr, filtered strip by strip.

:func:`filter_tiled` reads a tiled or striped TIFF (BigTIFF, OME-TIFF) or a Zarr array
by rows of its tiles, runs the recipe's chain (the stream's :class:`~imconv.stream.Chain`,
so the samples equal the stream's) on full-width strips of output rows, each with exactly
the input rows its halo needs, on threads or on a Dask cluster, and writes a tiled BigTIFF
or a Zarr folder in order, whole or not at all, under a memory budget for the whole
process. :func:`needs_tiles` says when an image should go this way;
:func:`filtered_array` gives the result as a lazy ``dask.array``.

Why full-width strips and explicit rows, not ``dask.array.map_overlap`` on 2-D tiles:

* The chain pads columns itself at the true border (every padding mode, even kernels,
  stride, dilation); full-width strips leave only rows to cut, and
  :meth:`~imconv.stream.Chain.spans` names exactly the input rows a strip of output rows
  reads through every step, the far rows of ``wrap`` included. 2-D tiles would need the
  column halo and the border padding redone here, for every mode.
* ``map_overlap`` with ``boundary="none"`` hands each block its neighbours' rows, but Dask
  (2026.8) computes those neighbours whole: a strip filtered on its own loads three, and a
  whole-array graph cannot feed a writer that must receive tiles in order within a memory
  budget. ``boundary="periodic"`` (``wrap``) only takes symmetric depths. Reading each
  strip's own rows is exact for every mode and stride, reads each tile row about once
  (the reader keeps the last rows decoded), and keeps memory to the strips in flight.

``mean`` padding uses the channel means of the whole input, summed in a first pass in the
stream's order (so they are its means bit for bit); ``rescale`` finds the result's bounds
in a first pass. Chains of several steps with ``mean`` or ``wrap`` padding need every
intermediate image whole: they run as one strip when the budget holds it.
"""

from ._array import filtered_array, open_array
from ._budget import DEFAULT_FRACTION, parse_memory
from ._pipeline import Pipeline
from ._run import TileProgress, TileRecord, filter_tiled, needs_tiles
from ._sinks import Compression
from ._source import TiledImage, open_tiled
from ._strips import StripResult, run_strip

__all__ = [
    "DEFAULT_FRACTION",
    "Compression",
    "Pipeline",
    "StripResult",
    "TileProgress",
    "TileRecord",
    "TiledImage",
    "filter_tiled",
    "filtered_array",
    "needs_tiles",
    "open_array",
    "open_tiled",
    "parse_memory",
    "run_strip",
]
