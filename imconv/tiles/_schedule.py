"""Tasks on a runner, a few at a time, their results in order; the first passes.

:func:`in_order` keeps at most ``window`` tasks submitted and not yet handed on, and hands
results on in task order (the writer needs strips in order; a later strip finished early
waits, which the window bounds). The first passes run over the same runner: ``mean``
padding's channel means (:func:`find_means`) and ``rescale``'s bounds
(:func:`find_bounds`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv import images
from imconv.errors import ImconvError

from . import _strips
from ._pipeline import Pipeline
from ._runners import Runner

__all__ = ["TileProgress", "first_passes", "in_order"]

# Failures of the cluster itself (not of the strip's work), named without importing it.
_CLUSTER_FAILURES = ("KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError")


@dataclass(frozen=True)
class TileProgress:
    """How far a tiled run is, given to the caller's ``progress`` after each strip.

    Attributes
    ----------
    phase
        ``"means"`` (``mean`` padding's first pass), ``"bounds"`` (``rescale``'s first
        pass) or ``"filter"``.
    done, total
        Strips (or chunks, in a first pass) finished, and how many there are.
    tiles_done, tiles_total
        Output tiles written (``"filter"``; 0 in the first passes).
    megapixels
        Input megapixels covered so far in this phase.
    seconds
        Since the phase began.
    """

    phase: str
    done: int
    total: int
    tiles_done: int
    tiles_total: int
    megapixels: float
    seconds: float

    @property
    def rate(self) -> float:
        """Input megapixels per second so far."""
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[TileProgress], None]


def _result(future: Any) -> Any:
    """A task's result; the cluster's own failures (a strip whose workers kept dying, a
    lost connection) become an ImconvError."""
    try:
        return future.result()
    except (ImconvError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:
        name = type(error).__name__
        if name in _CLUSTER_FAILURES:
            raise ImconvError(
                f"the Dask cluster could not filter a strip: {name}: {error}"
            ) from error
        raise


def in_order(
    runner: Runner,
    function: Callable[[Any, Any], Any],
    shared: Any,
    tasks: list[Any],
    *,
    window: int,
    waited: list[float] | None = None,
) -> Iterator[Any]:
    """``function(shared, task)`` of every task, in order, at most ``window`` submitted
    and not handed on; seconds spent waiting are added to ``waited[0]``. Closing the
    iterator early (an error, Ctrl-C) cancels what is still queued."""
    pending: deque[Any] = deque()
    following = iter(tasks)
    try:
        for task in following:
            pending.append(runner.submit(function, shared, task))
            if len(pending) >= window:
                break
        while pending:
            began = time.perf_counter()
            result = _result(pending.popleft())
            if waited is not None:
                waited[0] += time.perf_counter() - began
            task = next(following, None)
            if task is not None:
                pending.append(runner.submit(function, shared, task))
            yield result
    finally:
        for future in pending:
            future.cancel()


def add_seconds(seconds: dict[str, float], found: dict[str, float]) -> None:
    """Add a task's stage times to the run's."""
    for name, spent in found.items():
        seconds[name] = seconds.get(name, 0.0) + spent


def _sums(pipeline: Pipeline, chunk: tuple[int, int]) -> Any:
    return _strips.row_sums(pipeline, *chunk)


def find_means(
    pipeline: Pipeline, runner: Runner, progress: Progress | None, seconds: dict[str, float]
) -> None:
    """``mean`` padding: the input's channel means, from float64 sums of its row bands."""
    height, step = pipeline.image.height, _strips.MEAN_ROWS
    rows = max(step, pipeline.strips[0][1] // step * step if pipeline.strips else step)
    chunks = [(start, min(start + rows, height)) for start in range(0, height, rows)]
    began = time.perf_counter()
    parts = []
    shared = runner.share(pipeline)
    found = in_order(runner, _sums, shared, chunks, window=runner.slots + 1)
    for done, part in enumerate(found, start=1):
        parts.append(part)
        if progress is not None:
            covered = min(done * rows, height) * pipeline.image.width / 1e6
            progress(TileProgress("means", done, len(chunks), 0, 0, covered,
                                  time.perf_counter() - began))  # fmt: skip
    _strips.means_from(pipeline, parts)
    seconds["means"] = time.perf_counter() - began


def find_bounds(
    pipeline: Pipeline, runner: Runner, progress: Progress | None, seconds: dict[str, float]
) -> tuple[float, float] | None:
    """``rescale``: the finite minimum and maximum of the whole result (the chain runs on
    every strip; the second pass runs it again, as the stream does)."""
    low, high = np.inf, -np.inf
    began = time.perf_counter()
    count = len(pipeline.strips)
    shared = runner.share(pipeline)
    found = in_order(runner, _strips.strip_bounds, shared, list(range(count)),
                     window=runner.slots + 1)  # fmt: skip
    for done, (bounds, spent) in enumerate(found, start=1):
        add_seconds(seconds, spent)
        if bounds is not None:
            low, high = min(low, bounds[0]), max(high, bounds[1])
        if progress is not None:
            covered = pipeline.image.megapixels * done / count
            progress(TileProgress("bounds", done, count, 0, 0, covered,
                                  time.perf_counter() - began))  # fmt: skip
    return (float(low), float(high)) if low <= high else None


def first_passes(
    pipeline: Pipeline, runner: Runner, progress: Progress | None, seconds: dict[str, float]
) -> None:
    """The passes the run needs before the strips: ``mean``'s means, ``rescale``'s bounds."""
    if _strips.needs_means(pipeline):
        find_means(pipeline, runner, progress, seconds)
    mapping = pipeline.mapping
    if mapping.mapped and mapping.rule is images.RangeRule.RESCALE:
        mapping.bounds = find_bounds(pipeline, runner, progress, seconds)
