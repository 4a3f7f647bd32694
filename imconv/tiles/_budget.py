"""The memory budget: parsing ``512MiB``, when an image needs tiles, and the strips' size.

The budget is the whole process's resident memory: the interpreter with its libraries (what
the process holds when the run starts, measured), the tile rows the reader keeps decoded,
and for each strip in flight its input rows, the float bands the chain runs on, and its
stored result, plus the strips waiting to be written and the one being written. The
sizing (:func:`size_strips`) picks the band height and the strip height that keep that sum
under :data:`HEADROOM` of the budget; the constants below were measured on the development
machine (``tracemalloc`` peaks of :meth:`Chain.run` on 30000-wide RGB bands, and
``VmHWM`` of whole runs, see ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from imconv.environment import available_memory
from imconv.errors import InvalidParameterError, ResourceError

__all__ = ["DEFAULT_FRACTION", "Sizing", "parse_memory", "resident_bytes", "size_strips"]

MIB = 1024 * 1024
#: Without a budget, tiles may use this fraction of the memory available when the run
#: starts (``MemAvailable``, or a cgroup's limit), on top of what the process holds.
DEFAULT_FRACTION = 0.5
#: The budget when the platform says nothing about available memory.
FALLBACK_BUDGET = 2048 * MIB
#: The sizing plans for this share of the budget; the rest absorbs the allocator's slack.
HEADROOM = 0.9
#: Float arrays a band holds at once per step, in units of its padded input rows: the
#: padded block, the output, the engine's temporaries (measured: a 30000x3 separable
#: gaussian band of h rows peaks at 3.3 h + 23 rows of floats, ``tracemalloc``).
BAND_ARRAYS = 3.5
#: Float copies of an output band while it is mapped and stored (the range rule, the
#: canvas's clipped copy, Pillow's image and its array), in output floats.
MAP_ARRAYS = 3
#: What each thread filtering strips holds beyond its arrays (its malloc arena, BLAS and
#: FFT scratch): the peaks of 8000x6000 RGB runs at 100-200 MiB budgets exceeded the
#: arrays' estimate by 25-31 MiB with two such threads (``VmHWM``, 2026-12-03).
THREAD_BYTES = 16 * MIB
#: The largest strip worth making: bigger strips only delay the first write.
MAX_STRIP_BYTES = 96 * MIB
#: Strips per strip in flight, at least, where the image is tall enough: the writer works
#: while strips are filtered, and the last strips do not leave workers idle.
STRIPS_PER_WORKER = 4

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*$")


def parse_memory(value: Any) -> int:
    """A memory size in bytes: an int, or text such as ``512MiB``, ``2GB``, ``1.5GiB``.

    Units: B, kB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024), case
    ignored; a bare number is bytes.

    Raises
    ------
    InvalidParameterError
        Not a positive size.

    Examples
    --------
    >>> parse_memory("512MiB"), parse_memory("2GB"), parse_memory(4096)
    (536870912, 2000000000, 4096)
    """
    allowed = "a positive size such as 512MiB, 2GB or a number of bytes"
    if isinstance(value, bool):
        raise InvalidParameterError("memory", value, allowed)
    if isinstance(value, int):
        if value <= 0:
            raise InvalidParameterError("memory", value, allowed)
        return value
    found = _SIZE.match(value) if isinstance(value, str) else None
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in _UNITS:
        raise InvalidParameterError("memory", value, allowed)
    size = int(float(found.group(1)) * _UNITS[unit])
    if size <= 0:
        raise InvalidParameterError("memory", value, allowed)
    return size


def resident_bytes() -> int:
    """This process's resident memory now (``/proc/self/statm``; 0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_resident_bytes() -> int | None:
    """This process's peak resident memory so far (``VmHWM``), or None where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_budget() -> int:
    """What the process holds now plus :data:`DEFAULT_FRACTION` of the available memory."""
    room = available_memory()
    if room is None:
        return FALLBACK_BUDGET
    return resident_bytes() + int(DEFAULT_FRACTION * room)


def show_bytes(count: float) -> str:
    """``536870912`` -> ``'512.0 MiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


@dataclass(frozen=True)
class Load:
    """Bytes per row of what a strip holds, from the image and its pipeline.

    Attributes
    ----------
    input_row
        One input row as read (all samples).
    read_rows
        Rows decoded at once (a row of the file's tiles).
    rows_for
        Input rows a strip of ``n`` output rows reads (its halo included).
    band_row, band_fixed
        Bytes of floats a band of ``h`` output rows works in: ``band_row * h + band_fixed``.
    output_row
        One stored output row.
    """

    input_row: int
    read_rows: int
    rows_for: Any
    band_row: int
    band_fixed: int
    output_row: int


@dataclass(frozen=True)
class Sizing:
    """How an image is cut: output rows per band and per strip, strips at once, and the
    memory that takes (estimated)."""

    band_rows: int
    strip_rows: int
    workers: int
    cache: int
    estimate: int
    budget: int
    baseline: int


def _total(load: Load, band: int, strip: int, workers: int, waiting: int, baseline: int) -> int:
    """The estimated peak of a run cutting strips of ``strip`` rows into bands of ``band``:
    the tile rows the reader keeps (one per strip in flight, and one more), each strip in
    flight (its input rows, its bands' floats, its stored result), the stored strips
    waiting or being written."""
    tiles = (workers + 1) * load.read_rows * load.input_row
    held = load.rows_for(strip) * load.input_row
    work = load.band_row * band + load.band_fixed
    stored = strip * load.output_row
    return baseline + tiles + workers * (held + work + stored + THREAD_BYTES) + waiting * stored


def size_strips(
    load: Load,
    *,
    budget: int,
    baseline: int,
    workers: int,
    waiting: int,
    multiple: int,
    height: int,
    band_rows: int | None = None,
    strip_rows: int | None = None,
    parallel: int | None = None,
) -> Sizing:
    """The largest bands (up to ``band_rows``) and strips that fit ``budget``.

    ``workers`` strips are filtered at once in the process, ``waiting`` more stored
    strips are held; ``parallel`` strips run at once in all (a cluster's workers; default
    ``workers``), and there are :data:`STRIPS_PER_WORKER` strips for each where the image
    is tall enough. Bands are a multiple of ``multiple`` (the last step's bit-exact
    rows), strips a multiple of the band; each is at most the output's ``height`` (a
    band rounded up to the multiple).

    Raises
    ------
    ResourceError
        Even a single band of ``multiple`` rows per strip does not fit.
    """
    room = int(budget * HEADROOM)
    wanted = band_rows or max(multiple, 64)
    band = max(multiple, wanted // multiple * multiple)
    band = min(band, math.ceil(height / multiple) * multiple)
    while band > multiple and _total(load, band, band, workers, waiting, baseline) > room:
        band = max(multiple, (band // 2) // multiple * multiple)
    least = _total(load, band, band, workers, waiting, baseline)
    if least > room and strip_rows is None:
        raise ResourceError(
            f"the memory budget {show_bytes(budget)} is too small for this image: the "
            f"process holds {show_bytes(baseline)}, and {workers} strip(s) of {band} row(s) "
            f"need about {show_bytes(least - baseline)} more (runs plan for "
            f"{HEADROOM:.0%} of the budget)",
            hint="raise `memory`, or use fewer `workers`",
        )
    if strip_rows is not None:
        strip = max(band, math.ceil(strip_rows / band) * band)
    else:
        strip = band
        share = -(-height // (STRIPS_PER_WORKER * (parallel or workers)))
        limit = min(height, share, max(band, MAX_STRIP_BYTES // max(load.output_row, 1)))
        while strip + band <= limit and (
            _total(load, band, strip + band, workers, waiting, baseline) <= room
        ):
            strip += band
    estimate = _total(load, band, strip, workers, waiting, baseline)
    return Sizing(band, strip, workers, workers + 1, estimate, budget, baseline)
