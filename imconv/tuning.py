"""Autotuning decisions kept on disk, so later runs and every file of a batch reuse them.

The engine measures and remembers choices in memory (``imconv.engine.tuned_choices``);
this module loads them from and saves them to ``autotune.json`` in the user cache folder:
``$IMCONV_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/imconv``, else ``~/.cache/imconv``.
Entries are keyed by the problem (shapes, kernel rank, options, dtype, threads); the file
also names the machine and library versions, and entries from another machine or version
are ignored, since the fastest algorithm depends on both.
"""

from __future__ import annotations

import json
import os
import platform
from functools import cache
from pathlib import Path
from typing import Any

FILE_NAME = "autotune.json"
FORMAT_VERSION = 1


def cache_folder() -> Path:
    """The folder holding the autotuning cache (not created here)."""
    if override := os.environ.get("IMCONV_CACHE_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "imconv"


def cache_file() -> Path:
    """The autotuning cache file."""
    return cache_folder() / FILE_NAME


def machine() -> dict[str, Any]:
    """What the measurements depend on besides the problem: processor and library versions."""
    from imconv.environment import processor, versions

    found = versions("numpy", "scipy")
    return {
        "machine": platform.machine(),
        "processor": processor(),
        "cores": os.cpu_count(),
        "numpy": found["numpy"],
        "scipy": found["scipy"],
    }


def _read() -> dict[str, Any]:
    """The cache file's content, or an empty cache if it is missing, unreadable or stale."""
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        return {}
    if data.get("machine") != machine() or not isinstance(data.get("choices"), dict):
        return {}
    return data["choices"]


def load() -> int:
    """Give the engine the cached choices for this machine; the number loaded."""
    from imconv.engine import remember_choices

    choices = _read()
    remember_choices(choices)
    return len(choices)


@cache
def load_once() -> int:
    """:func:`load`, once per process (every worker of a batch loads it for itself)."""
    return load()


def save() -> int:
    """Merge the engine's choices into the cache file (atomically); the number stored.

    A cache that cannot be written (read-only home, full disk) only costs the next run a
    measurement, so it is skipped silently.
    """
    from imconv.engine import tuned_choices
    from imconv.images import write_atomic

    choices = {**_read(), **tuned_choices()}
    document = {"format": FORMAT_VERSION, "machine": machine(), "choices": choices}
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    try:
        cache_folder().mkdir(parents=True, exist_ok=True)
        write_atomic(cache_file(), lambda stream: stream.write(text.encode("utf-8")))
    except OSError:
        return 0
    return len(choices)


def clear() -> int:
    """Delete the cache file and the engine's memory; the number of entries dropped."""
    from imconv.engine import forget_choices, tuned_choices

    dropped = len({**_read(), **tuned_choices()})
    forget_choices()
    cache_file().unlink(missing_ok=True)
    return dropped
