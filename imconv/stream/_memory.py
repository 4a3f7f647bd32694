"""What one image's run will hold at its peak, estimated from the header and the plans.

The stream holds the decoded input and the output image whole (Pillow keeps both, at the
bytes per pixel of their modes), a band in flight on each thread (the engine's estimate
for each step's band, :meth:`~imconv.engine.Plan.band_bytes`, and the float copies the
range rule and the store make of the band's result), and for a ``montage`` the whole
float result. Below all of it sits the interpreter with NumPy, Pillow, Rich, Typer and
imconv loaded. ``--dry-run`` prints the estimate; ``tests/test_memory_estimate.py`` holds
it within 20% of the peak resident memory measured on real runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from imconv import images

from ._chain import Chain

MIB = 1024 * 1024
# The process before any image: Python, NumPy, Pillow, Rich, Typer and imconv's modules
# (peak RSS of `imconv apply blur` on a 1x1 PNG, 2026-12-03, benchmarks/RESULTS.md).
INTERPRETER = 44 * MIB
# Float copies of a band's result alive as it is mapped and stored: the result and the
# range rule's clipped copy (the stored band of the output type is smaller; fitted on the
# cases of tests/test_memory_estimate.py).
MAP_COPIES = 2


@dataclass(frozen=True)
class PeakMemory:
    """The estimated peak resident memory of one image's run, in parts (bytes)."""

    interpreter: int
    decoded: int
    output: int
    band: int
    bands_in_flight: int
    whole: int = 0

    @property
    def total(self) -> int:
        """The sum of the parts."""
        return (
            self.interpreter + self.decoded + self.output
            + self.band * self.bands_in_flight + self.whole
        )  # fmt: skip


def _largest_step(chain: Chain, rows: int) -> int:
    """The largest step's memory for a band of ``rows`` output rows in the middle of the
    image (the steps' bands live one after the other; a kernel set's parts side by side)."""
    start = (chain.output_shape[0] - rows) // 2 // rows * rows
    _, spans = chain.spans(start, start + rows)
    return max(
        sum(plan.band_bytes(max(last - first, 1)) for plan in link.plans)
        for link, (first, last) in zip(chain.links, spans, strict=True)
    )


def band_bytes(chain: Chain, resample: Chain | None = None) -> int:
    """The memory of one band in flight: its largest step (of the filtered channels, or
    of those only resampled), and the mapped copies of its result."""
    height, width, channels = chain.output_shape
    rows = min(chain.band_height(), height)
    steps = _largest_step(chain, rows)
    if resample is not None:
        steps = max(steps, _largest_step(resample, rows))
        channels += resample.output_shape[2]
    return steps + MAP_COPIES * rows * width * channels * 4


def estimate_peak(
    probe: images.Probe,
    chain: Chain,
    resample: Chain | None,
    output: int,
    *,
    workers: int,
    montage: bool = False,
) -> PeakMemory:
    """The estimated peak resident memory of streaming one image.

    Parameters
    ----------
    probe
        The input's header.
    chain, resample
        The steps planned for the filtered channels, and for the channels only resampled
        (or None).
    output
        The bytes the output image holds (:meth:`~imconv.images.Canvas.size_of`).
    workers
        Bands run side by side.
    montage
        Whether the whole float result is kept (a bank's maps tiled into one sheet).
    """
    decoded = images.image_bytes(probe.picture_mode, probe.height, probe.width)
    height, width, channels = chain.output_shape
    whole = height * width * channels * 4 if montage else 0
    in_flight = max(1, min(workers, len(chain.bands())))
    band = band_bytes(chain, resample)
    return PeakMemory(INTERPRETER, decoded, output, band, in_flight, whole)
