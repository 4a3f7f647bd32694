"""Start-up time of the ``imconv`` command: ``imconv --help`` wall time (target < 0.3 s).

Run from the repository root with the project installed::

    python benchmarks/startup.py [--repeat 10]

Prints the median and best of ``--repeat`` runs of ``imconv --help`` and of
``python -c pass`` (the interpreter's own start-up) for comparison.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_times(command: list[str], repeat: int) -> list[float]:
    """Seconds for each of ``repeat`` runs of ``command`` (output discarded)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    imconv = shutil.which("imconv") or str(Path(sys.executable).parent / "imconv")
    for label, command in [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("imconv --help", [imconv, "--help"]),
        ("imconv --version", [imconv, "--version"]),
    ]:
        times = wall_times(command, args.repeat)
        print(f"{label:18s} median {statistics.median(times):.3f} s  best {min(times):.3f} s")


if __name__ == "__main__":
    main()
