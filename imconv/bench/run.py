"""Algorithm timing comparisons: every algorithm, and peers when asked, over kernel sizes.

:func:`run_bench` times each :class:`~imconv.bench.contenders.Contender` (imconv's
algorithms, and the functions a user would otherwise call, from :mod:`.contenders`) on one image
with a seeded random non-separable ``k x k`` kernel per size: convolution, ``same`` size,
reflect padding (``c b|a b c d|c b``). Each cell is one warm-up run, then ``repeat`` timed
runs. The :class:`~imconv.bench.comparison.BenchResult` holds every time and gives the median and
spread, the winner per size and the crossover sizes, as JSON and CSV. Nothing here draws or
prints: Rich tables live in :mod:`imconv.report`, charts in :mod:`imconv.bench.plot`.

Skip rule (:data:`SKIP_RULE`): a contender whose time grows with the kernel's area is not
run at size ``k`` when one run is expected to take longer than ``budget`` seconds.

Example::

    chosen, missing = contenders_for(parse_algorithms("auto,direct,fft"), peers=True)
    result = run_bench(bench_image(random_size=(640, 480)), chosen, sizes=(3, 7, 15))
    result.winners(), result.crossovers(), result.to_json()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imconv.environment import available_memory, cores
from imconv.errors import InvalidParameterError, ResourceError

from .comparison import BenchResult, Timing
from .contenders import Contender, environment

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_REPEAT",
    "DEFAULT_SIZES",
    "SKIP_RULE",
    "BenchImage",
    "bench_image",
    "bench_threads",
    "default_sample",
    "expected_seconds",
    "measure",
    "parse_shape",
    "parse_sizes",
    "random_kernel",
    "run_bench",
]

# The defaults make a quick run (seconds on two cores): a few sizes, three timed runs, and
# no single run of a contender whose time grows with k^2 expected over a quarter second.
DEFAULT_SIZES = (3, 7, 15, 31)
DEFAULT_REPEAT = 3
DEFAULT_BUDGET = 0.25
# The default image: this sample when the package sits in a source checkout (or the
# current folder is one); elsewhere a seeded random image of the same size (convolution
# time does not depend on the values).
SAMPLE_NAME = "astronaut.png"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / SAMPLE_NAME
SAMPLE_SHAPE = (512, 512)
# Bytes per pixel an RGB image being timed takes at least: the float32 image and a result.
_LEAST_BYTES_PER_PIXEL = 2 * 3 * 4
# Longest side of a random image (2**20: the widest image formats hold 2**16 or 2**32).
_LARGEST_SIDE = 1 << 20
SKIP_RULE = (
    "a contender whose work grows with the kernel's area (direct, matmul, separable on a "
    "full-rank kernel, scipy.ndimage.convolve, Pillow) is skipped at size k when one run is "
    "expected to exceed the budget: its fastest run at the previous size times (k/k_prev)^2 "
    "(the fastest, so that one disturbed run does not skip every larger size), or before any "
    "measurement imconv's cost-model estimate"
)


@dataclass(frozen=True)
class BenchImage:
    """The image timed: float32 ``(H, W, C)`` pixels and where they came from."""

    pixels: np.ndarray
    source: str


def expected_seconds(
    contender: Contender, size: int, previous: Timing | None, estimate: float | None
) -> float | None:
    """One run's expected seconds under :data:`SKIP_RULE`; None where the rule does not apply
    (contenders whose time does not grow with the kernel's area, nothing to go by)."""
    if not contender.grows_with_area:
        return None
    if previous is not None and previous.minimum is not None:
        return previous.minimum * (size / previous.size) ** 2
    return estimate


def measure(
    run: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, ...]:
    """Seconds of each of ``repeat`` calls of ``run()``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = clock()
        run()
        times.append(clock() - start)
    return tuple(times)


def random_kernel(size: int, seed: int = 0) -> np.ndarray:
    """A ``size x size`` float32 standard-normal kernel: full rank (not separable) with
    probability 1; the same for a given ``(seed, size)`` whatever other sizes are timed."""
    return np.random.default_rng([seed, size]).standard_normal((size, size)).astype(np.float32)


def _check_memory(width: int, height: int) -> None:
    """Refuse a random image that cannot fit in memory, before allocating it."""
    needed = width * height * _LEAST_BYTES_PER_PIXEL
    room = available_memory()
    if room is not None and needed > room:
        raise ResourceError(
            f"timing on a random {width}x{height} image needs at least "
            f"{needed / 2**30:.1f} GiB of memory; {room / 2**30:.1f} GiB is available",
            hint="choose a smaller `random` size",
        )


def _random_image(width: int, height: int, seed: int) -> BenchImage:
    _check_memory(width, height)
    rng = np.random.default_rng(seed)
    pixels = rng.random((height, width, 3), dtype=np.float32) * np.float32(255)
    return BenchImage(pixels, f"random {width}x{height} RGB (seed {seed})")


def default_sample() -> Path | None:
    """The sample photograph timed by default: ``samples/astronaut.png`` beside the package
    (a source checkout) or in the current folder (a checkout where it was installed from);
    None for an installed package run elsewhere."""
    for candidate in (SAMPLE, Path.cwd() / "samples" / SAMPLE_NAME):
        if candidate.is_file():
            return candidate
    return None


def bench_image(
    path: str | Path | None = None,
    *,
    random_size: tuple[int, int] | None = None,
    seed: int = 0,
    max_pixels: int | None = None,
) -> BenchImage:
    """The image to time on, as float32 ``(H, W, C)`` (alpha dropped).

    Parameters
    ----------
    path
        An image file. None: ``samples/astronaut.png`` (512x512 RGB) when there is a
        source checkout (:func:`default_sample`), else a seeded random image of that size.
    random_size
        ``(width, height)``: a seeded random RGB image in 0..255 instead of a file.
    seed
        Seed of the random image.
    max_pixels
        The decompression-bomb limit of the file (default: Pillow's).

    Raises
    ------
    ImageReadError
        The file cannot be read, or has more pixels than ``max_pixels``.
    ResourceError
        A random image larger than the memory available (checked before allocating).
    """
    if random_size is not None:
        return _random_image(*random_size, seed)
    sample = default_sample() if path is None else Path(path)
    if sample is None:
        return _random_image(SAMPLE_SHAPE[1], SAMPLE_SHAPE[0], seed)
    from imconv.images import read_image

    pixels = read_image(sample, max_pixels=max_pixels).pixels
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    shown = f"samples/{SAMPLE_NAME}" if path is None else str(path)
    return BenchImage(np.ascontiguousarray(pixels, dtype=np.float32), shown)


def bench_threads(requested: int | None) -> tuple[int | None, str | None]:
    """Threads for the contenders: as asked, at most the cores; and a warning when capped
    (more threads than cores only makes every contender slower)."""
    if requested is not None and requested > cores():
        return cores(), f"`threads` {requested} is more than the {cores()} cores: using {cores()}"
    return requested, None


def _cell(
    contender: Contender,
    data: Any,
    kernel: np.ndarray,
    *,
    repeat: int,
    expected: float | None,
    budget: float,
    clock: Callable[[], float],
) -> Timing:
    """Time one contender on one kernel, or say why not."""
    size = kernel.shape[0]
    if reason := contender.unsupported(data, size):
        return Timing(contender.name, size, status="unsupported", note=reason)
    if expected is not None and expected > budget:
        note = f"expected {expected:.3g} s per run > budget {budget:g} s"
        return Timing(contender.name, size, status="skipped", note=note)
    try:
        times = measure(lambda: contender.run(data, kernel), repeat=repeat, clock=clock)
    except Exception as error:
        if contender.kind != "peer":
            raise
        return Timing(
            contender.name, size, status="failed", note=f"{type(error).__name__}: {error}"
        )
    return Timing(contender.name, size, times)


def run_bench(
    image: BenchImage,
    contenders: Sequence[Contender],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeat: int = DEFAULT_REPEAT,
    threads: int | None = None,
    seed: int = 0,
    budget: float = DEFAULT_BUDGET,
    missing: Sequence[str] = (),
    progress: Callable[[str, int], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Time every contender at every size (see the module docstring for the protocol).

    Parameters
    ----------
    image
        From :func:`bench_image`.
    contenders
        From :func:`.contenders.algorithm_contenders` and
        :func:`.contenders.peer_contenders`.
    sizes
        Kernel sizes ``k`` (``k x k`` kernels), timed in increasing order.
    repeat
        Timed runs per cell, after one warm-up run.
    threads
        What the contenders were built with (recorded); default all cores.
    seed
        Seed of the kernels (:func:`random_kernel`).
    budget
        Seconds: the longest single run :data:`SKIP_RULE` lets a contender attempt.
    missing
        Peers that are not installed, one line each (recorded).
    progress
        Called with the contender's name and the size before each cell.
    clock
        The timer (tests pass a fake one).

    Returns
    -------
    BenchResult
    """
    from imconv.engine import plan

    threads = cores() if threads is None else threads
    prepared = {c.name: c.prepare(image.pixels) for c in contenders}
    timings: list[Timing] = []
    last: dict[str, Timing] = {}
    for size in sorted(set(sizes)):
        kernel = random_kernel(size, seed)
        modelled = plan(
            image.pixels.shape,
            kernel,
            dtype=image.pixels.dtype,
            padding="reflect",
            channel_axis=-1,
            threads=threads,
        )
        for contender in contenders:
            if progress is not None:
                progress(contender.name, size)
            estimate = modelled.estimates.get(contender.algorithm) if contender.algorithm else None
            expected = expected_seconds(contender, size, last.get(contender.name), estimate)
            timing = _cell(
                contender,
                prepared[contender.name],
                kernel,
                repeat=repeat,
                expected=expected,
                budget=budget,
                clock=clock,
            )
            if contender.name == "auto" and timing.status == "ok":
                timing = _with_choice(timing, contender, image.pixels, kernel, threads)
            timings.append(timing)
            if timing.status == "ok":
                last[contender.name] = timing
    return BenchResult(
        image.source,
        image.pixels.shape,
        tuple(sorted(set(sizes))),
        list(contenders),
        timings,
        repeat,
        threads,
        seed,
        budget,
        SKIP_RULE,
        list(missing),
        environment(contenders),
    )


def _with_choice(
    timing: Timing, contender: Contender, pixels: np.ndarray, kernel: np.ndarray, threads: int
) -> Timing:
    """``timing`` with the algorithm ``auto`` ran (asked after it ran: autotuning has its
    measurement by then)."""
    from dataclasses import replace

    from imconv.engine import plan

    made = plan(
        pixels.shape,
        kernel,
        dtype=pixels.dtype,
        padding="reflect",
        channel_axis=-1,
        threads=threads,
        autotune=contender.autotune,
    )
    return replace(timing, algorithm=str(made.algorithm), note=f"{made.reason}: {made.explanation}")


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"3,5,7"`` -> ``(3, 5, 7)``: positive integers up to the kernel size limit
    (:data:`imconv.kernels.MAX_SIDE`), sorted, without repeats."""
    from imconv.kernels import MAX_SIDE

    try:
        sizes = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        sizes = set()
    if not sizes or min(sizes) < 1 or max(sizes) > MAX_SIDE:
        raise InvalidParameterError(
            "sizes", text, f"positive integers up to {MAX_SIDE} separated by commas"
        )
    return tuple(sorted(sizes))


def parse_shape(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)`` (width, height)."""
    parts = text.lower().split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        width = height = 0
    if max(width, height) > _LARGEST_SIDE:
        raise InvalidParameterError(
            "random", text, f"a size WIDTHxHEIGHT with sides up to {_LARGEST_SIDE}"
        )
    if width < 1 or height < 1:
        raise InvalidParameterError("random", text, "a size WIDTHxHEIGHT such as 640x480")
    return width, height
