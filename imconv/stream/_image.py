"""One image through a recipe, streamed in bands from decode to encode.

``read -> (prepare -> step 1 ... step n -> alpha -> map) per band -> write``: the image is
decoded once (its samples stay in their own type), then for each band of output rows the
input rows it needs are cut from the decoded image, colour is premultiplied by alpha when
alpha goes through the kernels, every step runs on the band (:class:`Chain`), alpha is
resampled or divided out, the range rule maps the band and it is stored, rounded, in the
output image (:class:`~imconv.images.Canvas`), which is encoded once at the end. No
full-size float copy exists: memory is the decoded input, the output, and a few bands.

Two cases need the whole result first: ``rescale`` maps the chain's global minimum and
maximum (a first pass over the bands finds them, a second maps: the steps run twice), and
a ``montage`` of a bank's maps rescales each map on its own (a float result is kept). Times
are recorded by stage (the bands' times summed) in the :class:`ImageRecord`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from imconv import images
from imconv.choices import Algorithm, Padding
from imconv.environment import cores
from imconv.images import RangeRule, Source

from ._chain import Chain
from ._memory import PeakMemory, estimate_peak
from ._recipe import OutputSettings, Recipe
from ._record import ImageRecord, StageTime
from ._routes import Routes
from ._steps import Planner, StepPlans

T = TypeVar("T")

# Rows per band of the first pass over the input for ``mean`` padding's channel means.
MEAN_ROWS = 256
# A chain summing to more than this is not normalized; when more than SATURATED of its
# output clips white under the clip rule, the record says so.
UNNORMALIZED = 1.5
SATURATED = 0.5


@dataclass(frozen=True)
class PlannedStep:
    """What ``--dry-run`` says of one step: its name, shapes, and its plans."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    plans: StepPlans


@dataclass(frozen=True)
class PlannedImage:
    """What ``--dry-run`` says of one image: each step's plans, and the run's peak memory."""

    source: str
    steps: list[PlannedStep]
    memory: PeakMemory


def plan_image(source: str, destination: str, recipe: Recipe) -> PlannedImage:
    """Plan every step for the image at ``source`` from its header, and estimate the peak
    memory of streaming it to ``destination``; nothing is decoded.

    Choices come from the cost model (autotuning would have to run the candidates).
    """
    probed = images.probe(source, max_pixels=recipe.output.max_pixels)
    mode = probed.picture_mode
    routes = Routes.of(recipe, probed.channels, probed.alpha, images.max_value_of(mode),
                       repr(source))  # fmt: skip
    planner = Planner(replace(recipe, autotune=False))
    chain, resample = Chain.of_routes(planner, routes, probed.height, probed.width, probed.dtype)
    steps = []
    shape = chain.links[0].first.shape
    for kernel, link in zip(recipe.kernels, chain.links, strict=True):
        steps.append(PlannedStep(kernel.name, shape, link.output_shape, link))
        shape = link.output_shape
    plan, (height, width, channels), tiled = _output(
        routes, chain, mode, probed.alpha, recipe.output, destination
    )
    if tiled:  # one grey sheet of the maps
        width, channels = width * channels, 1
    stored = images.Canvas.size_of(plan, height=height, width=width, channels=channels)
    workers = recipe.options.threads or cores()
    memory = estimate_peak(probed, chain, resample, stored, workers=workers, montage=tiled)
    return PlannedImage(source, steps, memory)


class Clock:
    """Seconds per stage, summed over the bands (of every thread), in the order stages
    were named."""

    def __init__(self, names: list[str]) -> None:
        self.seconds = dict.fromkeys(names, 0.0)
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - began)

    def add(self, name: str, seconds: float) -> None:
        """Count ``seconds`` more for stage ``name`` (a stage not named yet comes last)."""
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class _Stream:
    """What every band of one image shares: its routes, the chains, the padding's fill."""

    def __init__(self, source: Source, recipe: Recipe, planner: Planner) -> None:
        self.source, self.recipe = source, recipe
        name = repr(str(source.path)) if source.path else "the image"
        self.routes = routes = Routes.of(
            recipe, source.channels, source.has_alpha, source.max_value, name
        )
        height, width = source.height, source.width
        self.chain, self.resample = Chain.of_routes(planner, routes, height, width, source.dtype)
        self.steps = [f"step {i + 1}: {k.name}" for i, k in enumerate(recipe.kernels)]
        self.workers = recipe.options.threads or cores()  # bands run side by side
        self._last = threading.local()  # each thread's last rows read
        self.mask = None
        if recipe.mask is not None:  # True = valid, for the first step's input
            self.mask = images.read_mask(recipe.mask, height=height, width=width, image=name)
        self.fill, self.resample_fill = self._fills()
        self.checked: dict[int, str] = {}

    def _work(self, indices: np.ndarray) -> np.ndarray:
        """The working channels of the rows at ``indices`` (the last ones kept: the
        resampling chain reads the rows the filtering chain just read)."""
        key, last = indices.tobytes(), getattr(self._last, "rows", None)
        if last is None or last[0] != key:
            last = self._last.rows = (key, self.routes.prepare(*self.source.rows(indices)))
        return last[1]

    def read(self, indices: np.ndarray) -> np.ndarray:
        """Input rows of the kernels' chain."""
        work = self._work(indices)
        return work if self.routes.plain else work[..., list(self.routes.filtered)]

    def read_resampled(self, indices: np.ndarray) -> np.ndarray:
        """Input rows of the resampling chain."""
        return self._work(indices)[..., list(self.routes.resampled)]

    def _fills(self) -> list[np.ndarray | None]:
        """``mean`` padding of each chain's banded first step (the filtered channels', then
        the resampled ones'): the channel means of its whole input (of its valid samples,
        finite and not masked out, for normalized convolution), in one pass over the image
        (each band's rows prepared once for both)."""
        chains = [(self.chain, self.read), (self.resample, self.read_resampled)]
        padded = self.recipe.options.padding is Padding.MEAN
        wanted = [padded and chain is not None and chain.banded for chain, _ in chains]
        totals: list[Any] = [0.0, 0.0]
        counts: list[Any] = [0.0, 0.0]
        height = self.source.height
        for start in range(0, height if any(wanted) else 0, MEAN_ROWS):
            rows = np.arange(start, min(start + MEAN_ROWS, height))
            for index, (chain, read) in enumerate(chains):
                if not wanted[index]:
                    continue
                band = read(rows)
                if chain.links[0].first.normalized:
                    valid = np.isfinite(band)
                    if self.mask is not None:
                        valid &= self.mask[rows][..., np.newaxis]
                    band = np.where(valid, band, 0)
                    counts[index] = counts[index] + valid.sum(axis=(0, 1))
                totals[index] = totals[index] + band.sum(axis=(0, 1), dtype=np.float64)
        fills: list[np.ndarray | None] = []
        for index, (chain, _) in enumerate(chains):
            if not wanted[index]:
                fills.append(None)
                continue
            first = chain.links[0].first
            count = counts[index] if first.normalized else height * self.source.width
            with np.errstate(invalid="ignore", divide="ignore"):  # no valid sample: NaN
                means = np.asarray(totals[index]) / count
            fills.append(means.astype(first.spec.dtype))
        return fills

    def _check(
        self,
        index: int,
        link: StepPlans,
        block: np.ndarray,
        rows: np.ndarray | None,
        first: int,
        last: int,
        made: np.ndarray,
    ) -> None:
        """``verify``: a step's first band against ``direct``, once per step."""
        if index in self.checked:
            return
        if link.kernel.is_set:
            self.checked[index] = "not verified (a kernel set)"
            return
        given = self.fill if index == 0 else None
        valid = None
        if index == 0 and self.mask is not None:
            valid = self.mask if rows is None else self.mask[rows]
        direct = link.first.with_algorithm(Algorithm.DIRECT)
        reference = direct.run_band(block, first, last, rows=rows, fill=given, mask=valid)
        scale = float(np.nanmax(np.abs(reference), initial=0.0)) or 1.0
        error = float(np.nanmax(np.abs(made - reference), initial=0.0)) / scale
        self.checked[index] = f"verified against direct: max error {error:.2g} of max|y|"

    def band(
        self, start: int, stop: int, clock: Clock, *, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Output rows ``start:stop``: colour in the picture's range, alpha in 0..1 (or None);
        ``threads``: what each step may use (default: its plan's)."""

        def read(rows: np.ndarray) -> np.ndarray:
            with clock("prepare"):
                return self.read(rows)

        seconds = [0.0] * len(self.steps)
        check = self._check if self.recipe.verify else None
        result = self.chain.run(read, start, stop, fill=self.fill, seconds=seconds,
                                check=check, mask=self.mask, threads=threads)  # fmt: skip
        for name, spent in zip(self.steps, seconds, strict=True):
            clock.add(name, spent)
        with clock("alpha"):
            resampled = None
            if self.resample is not None:
                resampled = self.resample.run(self.read_resampled, start, stop,
                                              fill=self.resample_fill, threads=threads)  # fmt: skip
            return self.routes.assemble(result, resampled)

    def stages(self, clock: Clock) -> list[StageTime]:
        """The clock's stages, each step with its algorithm and why (and ``verify``'s word)."""
        found = []
        for name, seconds in clock.seconds.items():
            if name == "alpha" and self.routes.plain:
                continue
            timing = StageTime(name, seconds)
            if name in self.steps:
                index = self.steps.index(name)
                timing.algorithm, timing.reason = self.chain.links[index].describe()
                if index in self.checked:
                    timing.reason = f"{timing.reason}; {self.checked[index]}"
            found.append(timing)
        return found

    def tuned(self) -> dict[str, str]:
        """The autotuning measurements the chains' plans made."""
        links = [*self.chain.links, *(self.resample.links if self.resample else ())]
        return {key: value for link in links for key, value in link.tuned().items()}


def filter_pixels(
    pixels: np.ndarray, recipe: Recipe, planner: Planner, record: ImageRecord
) -> np.ndarray:
    """Run every step on ``pixels`` (``(H, W)`` or ``(H, W, C)``), in bands; ``(H', W', C')``.

    Each step is a stage of ``record`` (its bands' times summed).
    """
    data = pixels if pixels.ndim == 3 else pixels[..., np.newaxis]
    chain = Chain.make(planner, data.shape, data.dtype)
    seconds = [0.0] * len(chain.links)

    def read(rows: np.ndarray) -> np.ndarray:
        return data[rows]

    parts = [chain.run(read, start, stop, seconds=seconds) for start, stop in chain.bands()]
    for index, (kernel, link) in enumerate(zip(recipe.kernels, chain.links, strict=True)):
        algorithm, reason = link.describe()
        name = f"step {index + 1}: {kernel.name}"
        record.stages.append(StageTime(name, seconds[index], algorithm, reason))
        record.tuned.update(link.tuned())
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _bounds(
    stream: _Stream, bands: list[tuple[int, int]], clock: Clock
) -> tuple[float, float] | None:
    """The finite minimum and maximum of the whole result (a first pass over the bands)."""

    def bounds_of(start: int, stop: int, threads: int | None) -> tuple[float, float] | None:
        return images.finite_bounds(stream.band(start, stop, clock, threads=threads)[0])

    found = [f for f in _each_band(bands, stream.workers, bounds_of) if f is not None]
    if not found:
        return None
    return min(f[0] for f in found), max(f[1] for f in found)


def _each_band(
    bands: list[tuple[int, int]], workers: int, work: Callable[[int, int, int | None], T]
) -> list[T]:
    """``work(start, stop, threads)`` for every band, in order: one at a time with the
    plans' threads, or ``workers`` bands side by side with one thread each (the engine
    releases the GIL; the bits are the same). An error or Ctrl-C stops the bands not begun.
    """
    if workers <= 1 or len(bands) <= 1:
        return [work(start, stop, None) for start, stop in bands]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(bands)))
    try:
        futures = [pool.submit(work, start, stop, 1) for start, stop in bands]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def process_file(
    source: str,
    destination: str,
    recipe: Recipe,
    planner: Planner,
    *,
    inside: str | None = None,
) -> ImageRecord:
    """Read ``source``, run the recipe band by band, write ``destination``.

    ``planner`` keeps the plans of each step and image geometry (across the files of a
    batch); the record says what each stage took and what the plans decided. ``inside``
    (a batch's output folder): the output must stay in it, checked as it is written.
    """
    settings = recipe.output
    began = time.perf_counter()
    record = ImageRecord(source, output=destination)
    with record.stage("read"):
        image = images.open_image(source, max_pixels=settings.max_pixels)
    try:
        record.height, record.width, record.channels = image.shape
        record.mode, record.notes = image.mode, image.notes
        stream = _Stream(image, recipe, planner)
        canvas, clock = _write_bands(stream, record, destination)
        record.stages += stream.stages(clock)
        record.tuned.update(stream.tuned())
        with record.stage("write"):
            inputs = [image.path] if image.path else []
            images.save_canvas(canvas, destination, quality=settings.quality,
                               compress_level=settings.compress_level,
                               overwrite=settings.overwrite, inputs=inputs,
                               inside=None if inside is None else Path(inside))  # fmt: skip
    finally:
        image.close()
    record.elapsed = time.perf_counter() - began
    return record


def _write_bands(
    stream: _Stream, record: ImageRecord, destination: str
) -> tuple[images.Canvas, Clock]:
    """Every band through the chain, mapped and stored in the output image; the stages'
    times."""
    recipe, image = stream.recipe, stream.source
    settings = recipe.output
    plan, (height, width, channels), tiled = _output(
        stream.routes, stream.chain, image.mode, image.has_alpha, settings, destination
    )
    record.output_shape = (height, width, channels)
    # The range to map into: the picture's own (8/16-bit), else the output's; none for
    # outputs that store floats (.npy, float TIFF), which get the raw result.
    top = None if plan.max_value is None or tiled else (image.max_value or plan.max_value)
    rule = settings.range_rule or images.default_rule(recipe.zero_sum)
    mapped = not tiled and (top is not None or settings.range_rule is not None)
    record.range_rule = str(rule) if mapped else "none"
    clock = Clock(["prepare", *stream.steps, "alpha", "map"])
    bands = stream.chain.bands()
    bounds = _bounds(stream, bands, clock) if mapped and rule is RangeRule.RESCALE else None
    if tiled:  # each map rescaled on its own: the whole float result first
        whole = np.empty((height, width, channels), np.float32)

        def keep(start: int, stop: int, threads: int | None) -> None:
            whole[start:stop] = stream.band(start, stop, clock, threads=threads)[0]

        _each_band(bands, stream.workers, keep)
        with clock("map"):
            sheet = images.montage(whole)
            canvas = images.Canvas(plan, height=sheet.shape[0], width=sheet.shape[1], channels=1)
            canvas.put(0, sheet[..., np.newaxis])
        return canvas, clock
    canvas = images.Canvas(plan, height=height, width=width, channels=channels,
                           icc_profile=image.icc_profile, exif=image.exif)  # fmt: skip
    gain = _gain(recipe) if mapped and rule is RangeRule.CLIP and top is not None else None
    eight_bit = plan.mode in ("L", "RGB") and plan.scale == 1.0 and top == plan.max_value == 255
    link = stream.chain.links[0]
    whole_integer = (  # one kernel in int16 from decode to store: no float array at all
        len(stream.chain.links) == 1 and len(link.integers) == 1 and not link.kernel.is_set
        and mapped and rule is RangeRule.CLIP and eight_bit and gain is None
    )  # fmt: skip
    integer = link.integers[0] if whole_integer else None

    def read(rows: np.ndarray) -> np.ndarray:
        with clock("prepare"):
            return stream.read(rows)

    def store(start: int, stop: int, threads: int | None) -> int:
        """One band filtered, mapped and stored; how many of its samples clip white."""
        if integer is not None:
            held, _ = stream.chain.spans(start, stop)
            block = read(held)
            with clock(stream.steps[0]):
                sums = integer.sums(integer.pad(block, held, start, stop), stop - start)
            with clock("map"):
                canvas.put_stored(start, integer.rounded(sums))
            return 0
        colour, alpha = stream.band(start, stop, clock, threads=threads)
        with clock("map"):
            clipped = int(np.count_nonzero(colour > top)) if gain is not None else 0
            if mapped and top is None:  # floats stored raw: abs, or rescale to 0..1
                colour = images.map_range(colour, rule=rule, max_value=None, bounds=bounds)
            elif mapped:  # the canvas clips as it rounds: the rule's transform, in place
                colour = images.transform_range(colour, rule=rule, max_value=top,
                                                bounds=bounds, out=colour)  # fmt: skip
            canvas.put(start, colour, alpha)
        return clipped

    clipped = sum(_each_band(bands, stream.workers, store))
    share = clipped / max(height * width * channels, 1)
    if gain is not None and share > SATURATED:
        record.notes += (
            f"the kernels sum to {gain:g}, not 1: {share:.0%} of the output is clipped to "
            "white; `normalize` divides a kernel by its sum",
        )
    return canvas, clock


def _output(
    routes: Routes,
    chain: Chain,
    mode: str,
    alpha: bool,
    settings: OutputSettings,
    destination: str,
) -> tuple[images.OutputPlan, tuple[int, int, int], bool]:
    """How the result of ``chain`` on a picture of ``mode`` is stored at ``destination``:
    the output plan, the result's ``(H, W, C)`` (alpha apart), and whether it is a
    ``montage`` of a bank's maps (stored as one grey sheet)."""
    height, width, channels = chain.output_shape
    if not routes.plain:  # the working channels are the image's, alpha apart
        channels = routes.colours
    tiled = settings.montage and channels > 1
    plan = images.plan_output(destination, channels=1 if tiled else channels,
                              alpha=alpha and not tiled, mode="L" if tiled else mode,
                              depth=None if tiled else settings.depth)  # fmt: skip
    return plan, (height, width, channels), tiled


def _gain(recipe: Recipe) -> float | None:
    """The chain's sum when it is far from 1 (a kernel not normalized), else None: the
    output then saturates (a kernel set's output is not a sum)."""
    if any(kernel.is_set or kernel.is_bank for kernel in recipe.kernels):
        return None
    gain = float(np.prod([kernel.sum for kernel in recipe.kernels]))
    return gain if gain > UNNORMALIZED else None
