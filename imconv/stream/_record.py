"""What happened to one image: its sizes, each stage's time, what each step's plan decided."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StageTime:
    """Wall time of one stage; kernel steps also say which algorithm ran and why."""

    stage: str
    seconds: float
    algorithm: str | None = None
    reason: str | None = None


@dataclass
class ImageRecord:
    """What happened to one image: sizes, stages and their times, the output written.

    ``tuned`` holds the autotuning measurements made while filtering it (problem key ->
    algorithm), for the caller to keep in its store; ``notes`` what reading converted.
    Stage times are summed over the bands, which run on several threads at once: they
    can add up to more than ``elapsed``, the wall time from reading to writing, which
    :attr:`seconds` reports (so megapixels per second are the file's).
    """

    source: str
    output: str | None = None
    width: int = 0
    height: int = 0
    channels: int = 0
    mode: str = ""
    output_shape: tuple[int, ...] = ()
    range_rule: str = ""
    stages: list[StageTime] = field(default_factory=list)
    tuned: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    elapsed: float = 0.0

    @property
    def megapixels(self) -> float:
        """Input size in millions of pixels."""
        return self.width * self.height / 1e6

    @property
    def seconds(self) -> float:
        """The wall time from reading to writing (the stages' sum before it is known)."""
        return self.elapsed or sum(stage.seconds for stage in self.stages)

    def tiling(self) -> dict[str, object] | None:
        """How a tiled run cut the image (for reports); None for a streamed image."""
        return None

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
