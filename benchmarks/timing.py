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


def describe_machine() -> str:
    """One line for a results header: processor, cores, Python and library versions."""
    from imconv.environment import machine, versions

    where = machine()
    libraries = ", ".join(f"{k} {v}" for k, v in versions("numpy", "scipy", "pillow").items())
    return f"{where['machine']} {where['processor']}, {where['cores']} cores, {libraries}"
