"""What a measurement ran on: the machine and the library versions (for reports and caches)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
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


def _meminfo_available() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """What this process's cgroup memory limit still lets it allocate, in bytes (cgroup v2
    ``memory.max``, or v1 ``memory.limit_in_bytes``); None without a limit."""
    for folder, limit_name, usage_name in _cgroup_files():
        try:
            limit = (folder / limit_name).read_text().strip()
            usage = int((folder / usage_name).read_text())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 62:
            return None
        return max(0, int(limit) - usage)
    return None


def _cgroup_files() -> list[tuple[Path, str, str]]:
    """Where this process's cgroup memory limit and usage may be read, most specific first."""
    root = Path("/sys/fs/cgroup")
    found = []
    try:
        with open("/proc/self/cgroup", encoding="ascii") as listing:
            for line in listing:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if controllers == "":
                    found.append((root / path.lstrip("/"), "memory.max", "memory.current"))
                elif "memory" in controllers.split(","):
                    folder = root / "memory"
                    found.append((folder / path.lstrip("/"), *_V1))
                    found.append((folder, *_V1))
    except (OSError, ValueError):
        pass
    return found


_V1 = ("memory.limit_in_bytes", "memory.usage_in_bytes")


def available_memory() -> int | None:
    """Bytes this process can still allocate without swapping: the system's available
    memory (``MemAvailable``, else free pages from ``sysconf``), lowered to what a cgroup
    memory limit leaves; None where the platform does not say."""
    found = _meminfo_available()
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            found = None
    room = _cgroup_room()
    if room is not None:
        found = room if found is None else min(found, room)
    return found


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
    from importlib.metadata import PackageNotFoundError, version  # 30 ms: when asked

    found = {"python": platform.python_version()}
    for name in distributions:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found
