"""Wall-time helpers shared by the benchmark scripts (run them from the repository root)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wall_times(run: Callable[[], object], repeat: int, *, warm_up: bool = True) -> list[float]:
    """Seconds of each of ``repeat`` calls of ``run``, after one untimed call if asked."""
    if warm_up:
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times
