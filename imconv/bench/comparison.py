"""The result of a timing comparison: cells, winners, crossovers, JSON and CSV.

:func:`imconv.bench.run_bench` fills a :class:`BenchResult` with one :class:`Timing` per
contender and kernel size; this module reads it (who won each size, where the winner
changes) and writes it for machines. Times are seconds throughout.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .contenders import Contender

__all__ = ["CSV_COLUMNS", "BenchResult", "Crossover", "Timing", "crossovers", "winners"]

BENCH_VERSION = 1


@dataclass(frozen=True)
class Timing:
    """One contender at one kernel size.

    Attributes
    ----------
    contender, size
        Who ran, on a ``size x size`` kernel.
    times
        Seconds of each timed run (after the warm-up); empty unless ``status`` is ``"ok"``.
    status
        ``"ok"``, ``"skipped"`` (the budget rule), ``"unsupported"`` (the peer cannot do
        this size or image) or ``"failed"`` (a peer raised an error).
    note
        Why it was skipped, unsupported or failed.
    algorithm
        For ``auto``: the algorithm it ran.
    """

    contender: str
    size: int
    times: tuple[float, ...] = ()
    status: str = "ok"
    note: str = ""
    algorithm: str | None = None

    @property
    def median(self) -> float | None:
        """Median seconds, None when not measured."""
        return statistics.median(self.times) if self.times else None

    @property
    def minimum(self) -> float | None:
        """Fastest run in seconds, None when not measured."""
        return min(self.times) if self.times else None

    @property
    def maximum(self) -> float | None:
        """Slowest run in seconds, None when not measured."""
        return max(self.times) if self.times else None

    @property
    def quartiles(self) -> tuple[float, float] | None:
        """First and third quartiles (inclusive method), None when not measured."""
        if len(self.times) < 2:
            return (self.times[0], self.times[0]) if self.times else None
        q1, _, q3 = statistics.quantiles(self.times, n=4, method="inclusive")
        return q1, q3


@dataclass(frozen=True)
class Crossover:
    """The winner changes between two neighbouring measured sizes."""

    below: int
    above: int
    before: str
    after: str


def winners(timings: Iterable[Timing], *, exclude: Sequence[str] = ("auto",)) -> dict[int, str]:
    """The fastest contender per size, by median, among the measured ones.

    ``auto`` is left out by default: it runs one of the algorithms, so it can only tie with
    the winner (the table compares it to the winner instead). Ties go to the first listed.
    Sizes with no measured contender are absent; keys are in increasing size.
    """
    best: dict[int, Timing] = {}
    for timing in timings:
        median = timing.median
        if median is None or timing.contender in exclude:
            continue
        if timing.size not in best or median < best[timing.size].median:  # type: ignore[operator]
            best[timing.size] = timing
    return {size: best[size].contender for size in sorted(best)}


def crossovers(winners: Mapping[int, str]) -> list[Crossover]:
    """Where the winner changes, between neighbouring sizes of ``winners`` (sorted by size)."""
    sizes = sorted(winners)
    return [
        Crossover(below, above, winners[below], winners[above])
        for below, above in itertools.pairwise(sizes)
        if winners[below] != winners[above]
    ]


@dataclass
class BenchResult:
    """Every timing of a benchmark run, with what is needed to read and repeat it."""

    image: str
    shape: tuple[int, ...]
    sizes: tuple[int, ...]
    contenders: list[Contender]
    timings: list[Timing]
    repeat: int
    threads: int
    seed: int
    budget: float
    skip_rule: str = ""
    missing: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    def timing(self, contender: str, size: int) -> Timing | None:
        """The timing of ``contender`` at ``size``, if it was part of the run."""
        for timing in self.timings:
            if timing.contender == contender and timing.size == size:
                return timing
        return None

    def winners(self) -> dict[int, str]:
        """The fastest contender per size, ``auto`` not counted (see :func:`winners`)."""
        return winners(self.timings)

    def crossovers(self) -> list[Crossover]:
        """Where the winner changes (see :func:`crossovers`)."""
        return crossovers(self.winners())

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (seconds throughout)."""
        won = self.winners()
        return {
            "bench_version": BENCH_VERSION,
            "image": {"source": self.image, "shape": list(self.shape), "dtype": "float32"},
            "problem": {
                "operation": "convolve",
                "mode": "same",
                "padding": "reflect",
                "kernels": "random standard normal k x k (non-separable)",
            },
            "sizes": list(self.sizes),
            "repeat": self.repeat,
            "warmup": 1,
            "threads": self.threads,
            "seed": self.seed,
            "budget_s": self.budget,
            "skip_rule": self.skip_rule,
            "contenders": [c.describe() for c in self.contenders],
            "missing": list(self.missing),
            "results": [_timing_dict(t, won.get(t.size) == t.contender) for t in self.timings],
            "winners": [{"size": size, "contender": name} for size, name in won.items()],
            "crossovers": [vars(c) for c in self.crossovers()],
            **self.environment,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text, ending in a newline."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        """One row per contender and size: :data:`CSV_COLUMNS`."""
        won = self.winners()
        stream = io.StringIO()
        writer = csv.DictWriter(stream, CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for timing in self.timings:
            row = _timing_dict(timing, won.get(timing.size) == timing.contender)
            kind = next(c.kind for c in self.contenders if c.name == timing.contender)
            writer.writerow(
                {**row, "kind": kind, "runs": len(timing.times), "threads": self.threads}
            )
        return stream.getvalue()


CSV_COLUMNS = (
    "size",
    "contender",
    "kind",
    "status",
    "algorithm",
    "median_s",
    "min_s",
    "max_s",
    "q1_s",
    "q3_s",
    "runs",
    "threads",
    "winner",
    "note",
)


def _timing_dict(timing: Timing, winner: bool) -> dict[str, Any]:
    quartiles = timing.quartiles or (None, None)
    return {
        "size": timing.size,
        "contender": timing.contender,
        "status": timing.status,
        "algorithm": timing.algorithm,
        "median_s": timing.median,
        "min_s": timing.minimum,
        "max_s": timing.maximum,
        "q1_s": quartiles[0],
        "q3_s": quartiles[1],
        "times_s": list(timing.times),
        "winner": winner,
        "note": timing.note,
    }
