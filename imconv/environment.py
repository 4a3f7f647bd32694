"""What a measurement ran on: the machine and the library versions (for reports and caches)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def processor() -> str:
    """The CPU model (``/proc/cpuinfo`` on Linux, where ``platform.processor()`` is empty)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def cores() -> int:
    """The number of cores this process may run on (its CPU affinity, on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """System, release, architecture, processor model and core count."""
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "processor": processor(),
        "cores": os.cpu_count(),
    }


def versions(*distributions: str) -> dict[str, str]:
    """Python's version and each installed distribution's (``"unknown"`` when missing)."""
    found = {"python": platform.python_version()}
    for name in distributions:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found
