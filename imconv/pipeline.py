"""A chain of filter steps applied to one image, timed stage by stage.

``read -> prepare -> step 1 ... step n -> map -> write``: the pipeline reads an image,
premultiplies colour by alpha, runs each kernel step through the engine (recording the
algorithm used and why), maps the result to the output range and writes it atomically.
It holds no terminal code: :mod:`imconv.report` renders its records.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from imconv import images, tuning
from imconv.choices import Algorithm, Mode, Padding, parse_choice
from imconv.engine import Choice, choose_algorithm, output_shape, verify
from imconv.errors import InvalidParameterError
from imconv.kernels import Kernel


class AlphaRule(StrEnum):
    """What happens to an alpha channel.

    ``auto`` filters alpha with the kernel (colour premultiplied) unless the chain sums to
    zero (edge kernels), where alpha is kept; ``filter`` always filters it; ``keep`` leaves
    its values untouched (only resampled to the output geometry). Alpha is always kept for
    banks, magnitude kernels and kernels with a bias.
    """

    AUTO = "auto"
    FILTER = "filter"
    KEEP = "keep"


@dataclass(frozen=True)
class StepOptions:
    """How one kernel is applied: the engine's options, with the CLI's defaults."""

    mode: Mode = Mode.SAME
    padding: Padding = Padding.REFLECT
    cval: float = 0.0
    stride: int | tuple[int, ...] = 1
    dilation: int | tuple[int, ...] = 1
    correlate: bool = False
    algorithm: Algorithm = Algorithm.AUTO
    autotune: bool = False
    verify: bool = False

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`imconv.convolve` (without the kernel)."""
        return dict(mode=self.mode, padding=self.padding, cval=self.cval, stride=self.stride,
                    dilation=self.dilation, algorithm=self.algorithm)  # fmt: skip


@dataclass(frozen=True)
class FilterStep:
    """One kernel and the options it runs with."""

    kernel: Kernel
    options: StepOptions = field(default_factory=StepOptions)


@dataclass
class StageTime:
    """Wall time of one stage; kernel steps also say which algorithm ran and why."""

    stage: str
    seconds: float
    algorithm: str | None = None
    reason: str | None = None


@dataclass
class ImageRecord:
    """What happened to one image: sizes, stages and their times, the output written."""

    source: str
    output: str | None = None
    width: int = 0
    height: int = 0
    channels: int = 0
    mode: str = ""
    output_shape: tuple[int, ...] = ()
    range_rule: str = ""
    stages: list[StageTime] = field(default_factory=list)

    @property
    def megapixels(self) -> float:
        """Input size in millions of pixels."""
        return self.width * self.height / 1e6

    @property
    def seconds(self) -> float:
        """Total of the stage times."""
        return sum(stage.seconds for stage in self.stages)

    @contextmanager
    def stage(self, name: str) -> Iterator[StageTime]:
        """Time the body as stage ``name``; the body may fill in algorithm and reason."""
        timing = StageTime(name, 0.0)
        start = time.perf_counter()
        try:
            yield timing
        finally:
            timing.seconds = time.perf_counter() - start
            self.stages.append(timing)


def chain_sum(steps: Sequence[FilterStep]) -> float:
    """Sum of the composed kernel of a chain (the product of the steps' sums).

    A magnitude kernel (``sobel``) counts as non-zero: its output is never negative.
    """
    total = 1.0
    for step in steps:
        total *= 1.0 if step.kernel.combine else step.kernel.sum
    return total


def is_zero_sum(steps: Sequence[FilterStep]) -> bool:
    """Whether the chain responds to edges only (a flat image maps to zero)."""
    return any(step.kernel.is_zero_sum and not step.kernel.combine for step in steps)


def check_stride(shape: tuple[int, ...], stride: int | tuple[int, ...]) -> None:
    """Refuse a stride longer than the image: it would keep a single row or column."""
    strides = (stride, stride) if isinstance(stride, int) else stride
    if any(s > n for s, n in zip(strides, shape[:2], strict=True)):
        height, width = shape[:2]
        raise InvalidParameterError(
            "--stride", stride, f"at most the image size ({height} rows, {width} columns)"
        )


class Planner:
    """Algorithm choices remembered for a batch: each step is planned once per image
    geometry (shape, dtype, engine threads), not once per file.

    Examples
    --------
    >>> planner = Planner()
    >>> step = FilterStep(Kernel([[0, 1, 0], [1, 4, 1], [0, 1, 0]], name="blur"))
    >>> image = np.zeros((8, 8, 1), dtype=np.float32)
    >>> planner.choose(image, step, 1) is planner.choose(image, step, 1)
    True
    """

    def __init__(self) -> None:
        self._choices: dict[tuple[Any, ...], Choice] = {}

    def choose(self, pixels: np.ndarray, step: FilterStep, threads: int | None) -> Choice:
        """The algorithm for ``step`` on ``(H, W, C)`` pixels like these (planned once)."""
        key = (step, pixels.shape, pixels.dtype.str, threads)
        if key not in self._choices:
            self._choices[key] = plan_step(pixels, step, threads)
        return self._choices[key]


def plan_step(pixels: np.ndarray, step: FilterStep, threads: int | None) -> Choice:
    """The engine's choice of algorithm for one step on ``(H, W, C)`` pixels.

    With ``autotune`` the choice is measured on the pixels, or read from the on-disk cache
    (loaded once per process); a new measurement is saved there at once, so the other
    workers of a batch and later runs reuse it.
    """
    kernel, autotune = step.kernel, step.options.autotune
    first = kernel.weights[0] if kernel.combine else kernel.weights
    if autotune:
        tuning.load_once()
    choice = choose_algorithm(pixels, first, correlate=step.options.correlate, channel_axis=-1,
                              threads=threads, autotune=autotune,
                              **step.options.engine_options())  # fmt: skip
    if choice.source == "measured":
        tuning.save()
    return choice


def verify_step(
    pixels: np.ndarray, step: FilterStep, result: np.ndarray, threads: int | None
) -> str:
    """``--verify``: the step's result against ``direct`` on a band, as a sentence."""
    if step.kernel.combine or step.kernel.bias is not None:
        return "not verified (magnitude or biased kernel)"
    options = step.options.engine_options()
    del options["algorithm"]
    error = verify(pixels, step.kernel.weights, result, correlate=step.options.correlate,
                   channel_axis=-1, threads=threads, **options)  # fmt: skip
    return f"verified against direct: max error {error:.2g} of max|y|"


def run_step(
    pixels: np.ndarray,
    step: FilterStep,
    threads: int | None,
    timing: StageTime,
    planner: Planner | None = None,
) -> np.ndarray:
    """Apply one step to ``(H, W, C)`` float pixels; record the algorithm in ``timing``."""
    check_stride(pixels.shape, step.options.stride)
    options = step.options.engine_options()
    kernel, correlate = step.kernel, step.options.correlate
    if planner is None:
        choice = plan_step(pixels, step, threads)
    else:
        choice = planner.choose(pixels, step, threads)
    options["algorithm"] = choice.algorithm
    timing.algorithm, timing.reason = str(choice.algorithm), choice.reason
    result = kernel.apply(pixels, correlate=correlate, channel_axis=-1, threads=threads, **options)
    if step.options.verify:
        timing.reason = f"{timing.reason}; {verify_step(pixels, step, result, threads)}"
    return result


def filter_pixels(
    pixels: np.ndarray,
    steps: Sequence[FilterStep],
    *,
    threads: int | None = None,
    record: ImageRecord | None = None,
    planner: Planner | None = None,
) -> np.ndarray:
    """Run every step on ``pixels`` (``(H, W)`` or ``(H, W, C)``); return ``(H', W', C')``."""
    record = record or ImageRecord("<array>")
    result = pixels if pixels.ndim == 3 else pixels[..., np.newaxis]
    for number, step in enumerate(steps, start=1):
        with record.stage(f"step {number}: {step.kernel.name}") as timing:
            result = run_step(result, step, threads, timing, planner)
    return result


def alpha_kernel(step: FilterStep) -> FilterStep:
    """A delta kernel with the step's geometry: resamples alpha like the step, values kept."""
    shape = step.kernel.weights.shape[-2:]
    delta = np.zeros(shape)
    # "same" pads k - 1 - (k - 1) // 2 before, so the correlation tap k // 2 reads the pixel
    # itself (even kernels too); convolution flips the kernel, so it stores the tap flipped.
    delta[tuple(k // 2 for k in shape)] = 1.0
    if not step.options.correlate:
        delta = np.flip(delta)
    return FilterStep(Kernel(delta, name="alpha"), step.options)


@dataclass(frozen=True)
class OutputSettings:
    """How results become files: range rule, alpha, quality, overwriting, limits."""

    range_rule: images.RangeRule | None = None
    alpha: AlphaRule = AlphaRule.AUTO
    quality: int | None = None
    montage: bool = False
    overwrite: bool = False
    max_pixels: int | None = None
    threads: int | None = None

    @classmethod
    def parse(cls, *, range_rule: str | None, alpha: str, **rest: Any) -> OutputSettings:
        """Build settings from the command line's strings (validating the choices)."""
        rule = None if range_rule is None else parse_choice(images.RangeRule, range_rule, "--range")
        return cls(range_rule=rule, alpha=parse_choice(AlphaRule, alpha, "--alpha"), **rest)


def _filters_alpha(steps: Sequence[FilterStep], rule: AlphaRule) -> bool:
    """Whether alpha goes through the kernels (and colour is premultiplied).

    Only plain 2-D kernels without a bias can: a bias offsets colour values, and added to
    alpha (0..1) it would make every pixel opaque.
    """
    linear = all(
        not step.kernel.combine and step.kernel.weights.ndim == 2 and step.kernel.bias is None
        for step in steps
    )
    if rule is AlphaRule.FILTER:
        return linear
    return rule is AlphaRule.AUTO and linear and not is_zero_sum(steps)


@dataclass(frozen=True)
class PlannedStep:
    """What ``--dry-run`` says of one step: shapes, the algorithm and why, its cost."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    choice: Choice


def dry_run(job: Any, steps: Sequence[FilterStep], settings: OutputSettings) -> list[PlannedStep]:
    """Plan every step of ``job`` without computing: the image is read for its shape only.

    Choices come from the cost model (autotuning would have to run the candidates).
    """
    picture = images.read_image(job.source, max_pixels=settings.max_pixels)
    shape = picture.pixels.shape if picture.pixels.ndim == 3 else (*picture.pixels.shape, 1)
    planned = []
    for step in steps:
        modelled = FilterStep(step.kernel, replace(step.options, autotune=False))
        choice = plan_step(np.broadcast_to(np.float32(0), shape), modelled, settings.threads)
        kernel, options = step.kernel, step.options
        spatial = output_shape(shape[:2], kernel.weights.shape[-2:], mode=options.mode,
                               stride=options.stride, dilation=options.dilation)  # fmt: skip
        channels = kernel.weights.shape[0] if kernel.is_bank else shape[2]
        planned.append(PlannedStep(kernel.name, shape, (*spatial, channels), choice))
        shape = (*spatial, channels)
    return planned


def process_file(
    job: Any,
    steps: Sequence[FilterStep],
    settings: OutputSettings,
    *,
    planner: Planner | None = None,
) -> ImageRecord:
    """Read ``job.source``, run the steps, map the range, write ``job.destination``.

    ``planner`` remembers the algorithm chosen for each step and image geometry across
    the files of a batch; without it every call plans afresh.
    """
    record = ImageRecord(job.source, output=job.destination)
    with record.stage("read"):
        picture = images.read_image(job.source, max_pixels=settings.max_pixels)
    pixels, alpha = picture.pixels, picture.alpha
    record.height, record.width = pixels.shape[:2]
    record.channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    record.mode = picture.mode
    through = alpha is not None and _filters_alpha(steps, settings.alpha)
    with record.stage("prepare"):
        if through:
            pixels = images.premultiply(pixels, alpha)
    result = filter_pixels(pixels, steps, threads=settings.threads, record=record, planner=planner)
    if alpha is not None:
        with record.stage("alpha"):
            alpha_steps = steps if through else [alpha_kernel(step) for step in steps]
            filtered = filter_pixels(alpha, alpha_steps, threads=settings.threads,
                                     planner=planner)  # fmt: skip
            alpha = np.clip(filtered[..., 0], 0, 1)
            if through:
                result = images.unpremultiply(result, alpha)
    channels = result.shape[-1]
    # A montage of several maps is one grey image, and montage() rescales each map itself.
    tiled = settings.montage and channels > 1
    plan = images.plan_output(job.destination, channels=1 if tiled else channels,
                              alpha=alpha is not None and not tiled,
                              mode="L" if tiled else picture.mode)  # fmt: skip
    # The range to map into: the picture's own (8/16-bit), else the output's; none for
    # outputs that store floats (.npy, float TIFF), which get the raw result.
    top = None if plan.max_value is None or tiled else (picture.max_value or plan.max_value)
    rule = settings.range_rule or images.default_rule(is_zero_sum(steps))
    record.range_rule, record.output_shape = str(rule), result.shape
    with record.stage("map"):
        if top is not None or settings.range_rule is not None:
            result = images.map_range(result, rule=rule, max_value=top)
        else:
            record.range_rule = "none"
    with record.stage("write"):
        images.write_image(result[..., 0] if channels == 1 else result, job.destination,
                           like=picture, alpha=alpha, quality=settings.quality,
                           overwrite=settings.overwrite, montage=settings.montage)  # fmt: skip
    return record
