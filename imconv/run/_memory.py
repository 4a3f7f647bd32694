"""Refuse, before any work, a run that cannot fit in memory (``dilation`` 1000000).

The least memory filtering an image can take is known from its header and the recipe
alone, without planning (a plan itself allocates indices as long as the padded image):
the decoded input (a byte a sample), the output (a byte a sample), and one band of the
largest step's input with its halo: ``k_eff`` rows of the padded width, in float32. When
that lower bound exceeds the memory available, the run would end in a ``MemoryError``
(or swap the machine to a halt): it stops with a :class:`~imconv.errors.ResourceError`
naming the file, what it needs and what there is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from imconv.batch import STDIO, Job
from imconv.engine import output_shape
from imconv.environment import available_memory
from imconv.errors import ImconvError, ResourceError
from imconv.stream import Recipe

__all__ = ["check_memory", "least_bytes", "show_bytes"]

# float32: every step computes in it (float64 only for float64 arrays, never from files).
_SAMPLE = 4


@dataclass(frozen=True)
class _Image:
    """An input's name and the shape filtering sees: (height, width, channels)."""

    source: str
    shape: tuple[int, int, int]


def show_bytes(count: float) -> str:
    """``1536`` -> ``'1.5 KiB'``, up to PiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} PiB"


def _pairs(value: int | tuple[int, ...]) -> tuple[int, int]:
    """A per-axis option as (rows, columns)."""
    return (value, value) if isinstance(value, int) else (value[0], value[-1])


def least_bytes(shape: tuple[int, int, int], recipe: Recipe) -> int:
    """The least memory filtering an image of ``(H, W, C)`` with ``recipe`` takes, in bytes.

    Raises
    ------
    ShapeError
        ``valid`` with a kernel larger than the image (the stream says so per file).
    """
    options = recipe.options
    height, width, channels = shape
    dilation = _pairs(options.dilation)
    band = 0
    current = (height, width, channels)
    widen = {"same": 1, "full": 2}.get(str(options.mode), 0)  # pads (k_eff - 1) this often
    for kernel in recipe.kernels:
        taps = zip(dilation, kernel.spatial_shape, strict=True)
        rows, columns = (d * (k - 1) + 1 for d, k in taps)
        padded = current[1] + widen * (columns - 1)
        band = max(band, rows * padded * current[2] * _SAMPLE)
        out_rows, out_columns = output_shape(
            current[:2],
            kernel.spatial_shape,
            mode=str(options.mode),
            stride=options.stride,
            dilation=options.dilation,
        )
        out_channels = kernel.shape[0] if kernel.is_bank else current[2]
        current = (out_rows, out_columns, out_channels)
    return height * width * channels + current[0] * current[1] * current[2] + band


def _probed(jobs: Sequence[Job], max_pixels: int | None) -> list[_Image]:
    """The shapes of the inputs whose headers can be read (the others fail when read)."""
    from imconv.images import probe

    found = []
    for job in jobs:
        if job.source == STDIO:
            continue
        try:
            header = probe(job.source, max_pixels=max_pixels)
        except Exception:
            continue
        found.append(_Image(job.source, (header.height, header.width, header.channels)))
    return found


def check_memory(jobs: Sequence[Job], recipe: Recipe, *, available: int | None = None) -> None:
    """Refuse the run when an input needs more memory than there is, before any work.

    Parameters
    ----------
    jobs
        The run's jobs (standard input, unreadable files and images over the pixel limit
        are left to fail when read).
    recipe
        The chain and its options.
    available
        Bytes available (default: :func:`imconv.environment.available_memory`).

    Raises
    ------
    ResourceError
        The first input whose least memory (:func:`least_bytes`) exceeds ``available``.
    """
    room = available_memory() if available is None else available
    if room is None:
        return
    for image in _probed(jobs, recipe.output.max_pixels):
        try:
            needed = least_bytes(image.shape, recipe)
        except ImconvError:
            continue
        if needed > room:
            height, width, _ = image.shape
            raise ResourceError(
                f"filtering {image.source!r} ({width}x{height}) needs at least "
                f"{show_bytes(needed)} of memory; {show_bytes(room)} is available",
                hint="check `dilation`, `mode` and the kernel's size",
            )
