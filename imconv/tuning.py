"""Autotuning choices kept on disk, so later runs and every file of a batch reuse them.

:class:`DiskStore` is the store the command line gives the engine's plans: a mapping from
a problem's key (shapes, kernel rank, options, dtype, threads) to the algorithm measured
fastest, read once from ``autotune.json`` in the user cache folder (``$IMCONV_CACHE_DIR``
if set, else ``$XDG_CACHE_HOME/imconv``, else ``~/.cache/imconv``) and written once at the
end of a run. The file also names the machine and library versions; entries from another
machine or version are ignored, since the fastest algorithm depends on both.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from imconv.errors import ImconvError

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


def _read(path: Path) -> dict[str, str]:
    """The file's choices, or none if it is missing, unreadable, stale or another machine's."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        return {}
    choices = data.get("choices")
    if data.get("machine") != machine() or not isinstance(choices, dict):
        return {}
    return {str(k): str(v) for k, v in choices.items()}


class DiskStore(MutableMapping[str, str]):
    """The autotuning choices of this machine, read once from ``path`` (default: the cache).

    Choices set here are written by :meth:`save`, merged with what the file holds then
    (another run may have added some meanwhile).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = cache_file() if path is None else Path(path)
        self._choices = _read(self.path)
        self._new: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        return self._choices[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._choices[key] = self._new[key] = value

    def __delitem__(self, key: str) -> None:
        del self._choices[key]
        self._new.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._choices)

    def __len__(self) -> int:
        return len(self._choices)

    def save(self) -> int:
        """Merge the new choices into the file (atomically); the number stored there.

        A cache that cannot be written (read-only home, full disk) only costs the next run
        a measurement, so it is skipped silently. Nothing new: nothing is written.
        """
        if not self._new:
            return len(self._choices)
        from imconv.images import write_atomic

        choices = {**_read(self.path), **self._new}
        document = {"format": FORMAT_VERSION, "machine": machine(), "choices": choices}
        text = json.dumps(document, indent=1, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, lambda stream: stream.write(text.encode("utf-8")))
        except OSError:
            return 0
        self._new.clear()
        return len(choices)


def clear() -> int:
    """Delete the cache file and this process's choices; the number of entries dropped.

    Raises
    ------
    ImconvError
        The cache path is a folder, or the file cannot be removed (nothing is removed
        then but this process's choices).
    """
    from imconv.engine import forget_choices

    path = cache_file()
    dropped = len(_read(path))
    forget_choices()
    if path.is_dir() and not path.is_symlink():
        raise ImconvError(
            f"cannot clear the autotuning cache {str(path)!r}: it is a folder, not imconv's file",
            hint="remove or rename that folder yourself, or set IMCONV_CACHE_DIR",
        )
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        raise ImconvError(
            f"cannot clear the autotuning cache {str(path)!r}: {error.strerror or error}"
        ) from error
    return dropped
