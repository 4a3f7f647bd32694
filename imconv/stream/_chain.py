"""A recipe's steps on one input geometry, run band by band through the whole chain.

For a band of output rows of the last step, :meth:`Chain.run` works backwards through the
steps (each plan's :meth:`~imconv.engine.Plan.band_rows` names the input rows a band
reads, its halo included, through the padding at the image's border), reads just the
input rows the first step needs, then runs every step on its band: only bands exist, never
a whole intermediate image. Intermediate rows in the halos are computed by both bands that
need them, a few percent of the work, instead of being held.

A chain of several steps whose padding needs the whole of an intermediate image (``mean``:
its channel means; ``wrap``: its far border) runs as one band; so does ``IMCONV_BAND_ROWS``
larger than the image. ``IMCONV_BAND_ROWS=N`` (tests) sets the band height of every run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imconv.choices import Padding

from ._routes import Routes
from ._steps import Planner, StepPlans

# A band's working set, in bytes of one row of every step's output. Bands run side by side
# on every core, each holding about 8x this (input rows, padded block, result, stored
# rows). Measured on the 2-core development VM, 12 MP RGB blur, whole process: 22, 44 and
# 88-row bands (1, 2, 4 MiB) took the same wall time within the noise (0.6-0.9 s), with
# peaks of 144, 151 and 165 MiB (`IMCONV_BAND_ROWS`, benchmarks/endtoend.py).
BAND_BYTES = 1024 * 1024
# A band is at least this many times the rows the steps' halos recompute.
HALO_SHARE = 8

Reader = Callable[[np.ndarray], np.ndarray]
# Called with (step index, its plans, input block, rows it holds, first, last, output).
Check = Callable[[int, StepPlans, np.ndarray, np.ndarray | None, int, int, np.ndarray], None]


@dataclass
class Chain:
    """The plans of every step for one input shape, and how the image is cut in bands.

    Attributes
    ----------
    links
        Each step's plans, in order (a kernel set has a plan per part).
    banded
        False when a step's padding needs a whole intermediate image: one band then.
    """

    links: tuple[StepPlans, ...]
    banded: bool

    @classmethod
    def make(
        cls, planner: Planner, shape: tuple[int, ...], dtype: np.dtype, *, resample: bool = False
    ) -> Chain:
        """The chain of ``planner``'s recipe on ``(H, W, C)`` input of ``dtype``
        (``resample``: the steps' delta kernels, which move samples to the output's
        geometry without changing them)."""
        links = []
        for index in range(len(planner.recipe.kernels)):
            link = planner.step(index, shape, dtype, resample=resample)
            links.append(link)
            shape, dtype = link.output_shape, np.dtype(np.float32)
        padding = planner.recipe.options.padding
        whole = len(links) > 1 and padding in (Padding.MEAN, Padding.WRAP)
        return cls(tuple(links), banded=not whole)

    @classmethod
    def of_routes(
        cls, planner: Planner, routes: Routes, height: int, width: int, dtype: np.dtype
    ) -> tuple[Chain, Chain | None]:
        """The chain of the filtered channels of an image of samples of ``dtype`` (as they
        lie when no colour work is needed, else float32), and the chain of the channels
        only resampled (None when there are none)."""
        shape = (height, width, len(routes.filtered))
        chain = cls.make(planner, shape, dtype if routes.plain else np.dtype(np.float32))
        if not routes.resampled:
            return chain, None
        shape = (height, width, len(routes.resampled))
        return chain, cls.make(planner, shape, np.dtype(np.float32), resample=True)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """``(H', W', C')`` of the last step's result."""
        return self.links[-1].output_shape

    def band_height(self, requested: int | None = None) -> int:
        """Output rows per band: the working set near :data:`BAND_BYTES`, well above the
        halo, on the last step's bit-exact multiple; ``requested`` (or the environment's
        ``IMCONV_BAND_ROWS``) overrides."""
        total = self.output_shape[0]
        override = requested or int(os.environ.get("IMCONV_BAND_ROWS", "0") or 0)
        if not self.banded:
            return total
        if override > 0:
            return min(override, total)
        row_bytes = sum(4 * link.output_shape[1] * link.output_shape[2] for link in self.links)
        halo = sum(sum(link.first.halo[0]) for link in self.links)
        rows = max(BAND_BYTES // max(row_bytes, 1), HALO_SHARE * halo, 16)
        multiple = self.links[-1].first.band_multiple
        return min(total, -(-rows // multiple) * multiple)

    def bands(self, requested: int | None = None) -> list[tuple[int, int]]:
        """``(start, stop)`` output rows of every band, in order."""
        total, height = self.output_shape[0], self.band_height(requested)
        return [(start, min(start + height, total)) for start in range(0, total, height)]

    def spans(self, start: int, stop: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The input rows the first step reads for output rows ``start:stop`` (sorted,
        unique), and the output rows each step must produce.

        An intermediate band starts and ends on a multiple of its step's
        :attr:`~imconv.engine.Plan.band_multiple` (or at that step's last row): a few more
        rows are computed than the next step reads, and every cut of the image gives the
        whole image's samples (an FFT step transforms the same blocks as on the whole image).
        """
        wanted = [(start, stop)]
        for index in range(len(self.links) - 1, 0, -1):
            needed = self.links[index].first.band_rows(*wanted[0])
            valid = needed[needed >= 0]
            if not valid.size:
                wanted.insert(0, (0, 0))
                continue
            previous = self.links[index - 1]
            multiple, rows = previous.first.band_multiple, previous.output_shape[0]
            first = int(valid.min()) // multiple * multiple
            last = min(-(-(int(valid.max()) + 1) // multiple) * multiple, rows)
            wanted.insert(0, (first, last))
        needed = self.links[0].first.band_rows(*wanted[0]) if wanted[0][1] else np.arange(0)
        return sorted_unique(needed[needed >= 0]), wanted

    def run(
        self,
        read: Reader,
        start: int,
        stop: int,
        *,
        fill: np.ndarray | None = None,
        seconds: list[float] | None = None,
        check: Check | None = None,
        mask: np.ndarray | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        """Output rows ``start:stop`` of the last step.

        Parameters
        ----------
        read
            Gives the input rows at the indices it is called with (sorted, unique), as
            ``(n, W, C)``.
        fill
            The first step's padding constant per channel (the input's channel means for
            ``mean`` padding; the plan's own for the other paddings).
        seconds
            Each step's time is added to its entry.
        check
            Called after each step with what it read and made (``verify``).
        mask
            ``(H, W)`` booleans of the first step's whole input (``True`` = valid), for
            plans that run normalized convolution.
        threads
            Threads each step may use (default: its plan's); one when bands run side by
            side.
        """
        held, wanted = self.spans(start, stop)
        block = read(held)
        rows: np.ndarray | None = held
        for index, (link, (first, last)) in enumerate(zip(self.links, wanted, strict=True)):
            began = time.perf_counter()
            if first == last:  # nothing of this step is read (only padding below)
                block = np.zeros((0, *link.output_shape[1:]), dtype=np.float32)
            else:
                if rows is not None and rows.size == link.first.shape[0]:
                    rows = None  # the whole input: the plan takes its own means
                given = fill if index == 0 else None
                valid = mask[held] if index == 0 and mask is not None else None
                made = link.run_band(
                    block, first, last, rows=rows, fill=given, mask=valid, threads=threads
                )
                if check is not None:
                    check(index, link, block, rows, first, last, made)
                block = made
            rows = np.arange(first, last)
            if seconds is not None:
                seconds[index] += time.perf_counter() - began
        return block


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct ``values``, sorted (``np.unique`` without its import of ``numpy.ma``)."""
    ordered = np.sort(values)
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]
