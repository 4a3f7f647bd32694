"""Cutting one image's output into strips and bands that fit the memory budget.

What a strip holds per row comes from the pipeline itself (:func:`load_of`): the input rows
a strip reads (:meth:`~imconv.stream.Chain.spans`, so halos, strides and several steps are
counted as they will be read), the float bands every step works in (its padded rows and
width), and the stored result. :func:`cut` asks :func:`~imconv.tiles._budget.size_strips`
for the largest bands and strips under the budget and sets them on the pipeline.
"""

from __future__ import annotations

import math

from imconv.errors import ResourceError

from . import _budget
from ._budget import Load, Sizing
from ._pipeline import Pipeline

__all__ = ["cut", "load_of"]


def _middle(pipeline: Pipeline, rows: int) -> tuple[int, int]:
    """``rows`` output rows away from the borders (where a strip reads all its halo)."""
    height = pipeline.output_shape[0]
    rows = max(1, min(rows, height))
    start = max(0, min(height // 2, height - rows))
    return start, start + rows


def _band_bytes(pipeline: Pipeline, rows: int) -> int:
    """Bytes of floats a band of ``rows`` output rows works in, through every step."""
    chain, image = pipeline.chains.chain, pipeline.image
    held, wanted = chain.spans(*_middle(pipeline, rows))
    links = list(chain.links)
    if pipeline.chains.resample is not None:  # resampled channels: their own bands
        _, others = pipeline.chains.resample.spans(*_middle(pipeline, rows))
        wanted = [*wanted, *others]
        links += pipeline.chains.resample.links
    total = held.size * image.width * (image.samples + 1) * 4  # working channels (float32)
    for link, (first, last) in zip(links, wanted, strict=True):
        spec = link.first.spec
        padded = (last - first) * spec.stride[0] + spec.effective_kernel_shape[0]
        wide = math.prod(spec.padded_shape[1:]) * spec.channels_in * spec.dtype.itemsize
        total += int(_budget.BAND_ARRAYS * padded * wide * len(link.plans))
    _, width, channels = pipeline.output_shape
    return total + _budget.MAP_ARRAYS * min(rows, pipeline.output_shape[0]) * width * channels * 4


def load_of(pipeline: Pipeline) -> Load:
    """What a strip of ``pipeline`` holds per row (see :class:`~imconv.tiles._budget.Load`)."""
    one, two = _band_bytes(pipeline, 16), _band_bytes(pipeline, 32)
    slope = max((two - one) // 16, 1)

    def rows_for(rows: int) -> int:
        return int(pipeline.needed(*_middle(pipeline, rows)).size)

    _, width, _ = pipeline.output_shape
    return Load(
        input_row=pipeline.image.row_bytes,
        read_rows=pipeline.image.read_rows,
        rows_for=rows_for,
        band_row=slope,
        band_fixed=max(one - 16 * slope, 0),
        output_row=width * pipeline.stored_samples * pipeline.stored_dtype.itemsize,
    )


def cut(
    pipeline: Pipeline,
    *,
    budget: int,
    workers: int,
    waiting: int,
    parallel: int | None = None,
    chunk_rows: int | None = None,
    band_rows: int | None = None,
) -> Sizing:
    """Size the strips and bands for ``budget`` and set them on ``pipeline``.

    ``workers`` strips are filtered in this process at once, ``waiting`` more stored
    strips are held (finished, or being written), ``parallel`` strips run at once in
    all. A chain that needs whole intermediate images (``mean`` or ``wrap`` over several
    steps) is one strip.

    Raises
    ------
    ResourceError
        Not even one band fits, or the one strip of such a chain does not.
    """
    height = pipeline.output_shape[0]
    multiple = pipeline.band_multiple
    load = load_of(pipeline)
    baseline = _budget.resident_bytes()
    if not pipeline.chains.chain.banded:
        whole = math.ceil(height / multiple) * multiple
        sizing = _budget.size_strips(load, budget=budget, baseline=baseline, workers=1,
                                     waiting=waiting, multiple=multiple, height=height,
                                     band_rows=whole, strip_rows=whole)  # fmt: skip
        if sizing.estimate > budget * _budget.HEADROOM:
            padding = pipeline.recipe.options.padding
            raise ResourceError(
                f"{padding} padding over several steps needs every intermediate image "
                f"whole: about {_budget.show_bytes(sizing.estimate)}, over the memory budget "
                f"{_budget.show_bytes(budget)}",
                hint="choose another `padding`, or filter one step at a time",
            )
    else:
        sizing = _budget.size_strips(load, budget=budget, baseline=baseline, workers=workers,
                                     waiting=waiting, multiple=multiple, height=height,
                                     band_rows=band_rows, strip_rows=chunk_rows,
                                     parallel=parallel)  # fmt: skip
    rows = sizing.strip_rows
    pipeline.strips = tuple((s, min(s + rows, height)) for s in range(0, height, rows))
    pipeline.band_rows, pipeline.cache = sizing.band_rows, sizing.cache
    return sizing
