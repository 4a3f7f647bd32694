"""Wall-time helpers shared by the benchmark scripts (run them from the repository root)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO


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


@dataclass(frozen=True)
class ProcessRun:
    """One finished child process: wall and CPU seconds, peak resident MiB, exit status."""

    wall_s: float
    peak_mib: float
    user_s: float
    system_s: float
    status: int


def reset_peak_rss() -> bool:
    """Lower this process's peak-RSS mark to its current RSS; False where Linux cannot.

    A child's ``ru_maxrss`` starts from its parent's peak at fork/exec (Linux copies the
    old address space's high-water mark into the new program's), so a launcher that once
    held a big image would lend that peak to every process it starts.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as marks:
            marks.write("5")
    except OSError:
        return False
    return True


def run_process(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    stderr: IO[bytes] | None = None,
) -> ProcessRun:
    """Run ``command`` to completion; its wall time, peak RSS (``os.wait4``) and CPU time.

    The peak is the largest resident set of the process and of each descendant it waited
    for (not their sum). Standard output is discarded, standard error goes to ``stderr``.
    """
    reset_peak_rss()
    start = time.perf_counter()
    quiet = subprocess.DEVNULL
    child = subprocess.Popen(command, cwd=cwd, stdin=quiet, stdout=quiet, stderr=stderr or quiet)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    return ProcessRun(wall, peak, usage.ru_utime, usage.ru_stime, child.returncode)
