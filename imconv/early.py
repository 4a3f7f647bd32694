"""What the ``imconv`` process does first: decode its photo early, keep freed memory.

The photo of ``imconv apply KERNEL PHOTO`` is decoded while the program is still starting.

The command line starts (:func:`start`) before it imports its own modules, Typer and
Rich; a thread imports the image modules (NumPy, Pillow) and decodes the photo, which
Pillow does without the GIL, so decoding overlaps the imports (12 MP JPEG on 2 cores:
about 60 ms of a 0.7 s run). :func:`~imconv.images.open_image` then claims the decoded
image (:func:`claim`) when it opens the same file, unchanged since (device, inode, size,
modification time); otherwise it decodes as usual, and the run forgets what nobody
claimed (:func:`forget`). Failures here are silent: the reader's own decode reports them.

:func:`hold_freed_memory` asks glibc to keep freed blocks of up to 32 MiB for reuse
instead of unmapping them: every band allocates its float buffers again, and memory
returned to the kernel comes back as page faults (12 MP blur: 0.26 s of system time
became 0.14 s, about 80 ms of wall time, for 4 MiB more peak). The command line and batch
workers call it; a library caller's process is left as it is.

Standard library only: this module is imported before anything else.
"""

from __future__ import annotations

import ctypes
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["claim", "forget", "hold_freed_memory", "photo_argument", "start"]

# Suffixes worth decoding early: what a photo on the command line usually is.
SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"})

Key = tuple[int, int, int, int]

# glibc's mallopt parameters, and what they are set to.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest: blocks up to it come from the heap
_TRIM_THRESHOLD = 128 * 1024 * 1024  # free memory kept at the top of the heap


@dataclass
class _Decoding:
    path: str
    key: Key
    decode: Callable[[str], Any]
    done: threading.Event = field(default_factory=threading.Event)
    image: Any = None  # a loaded PIL.Image.Image, or None when decoding failed


_slot: _Decoding | None = None
_lock = threading.Lock()


def _key(path: str) -> Key | None:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def photo_argument(arguments: list[str]) -> str | None:
    """The photo of ``apply KERNEL PHOTO ...`` (the argument right after the kernel), when
    it is a regular file with a photo's suffix; else None."""
    if len(arguments) < 3 or arguments[0] != "apply":
        return None
    kernel, photo = arguments[1], arguments[2]
    if kernel.startswith("-") or photo.startswith("-"):
        return None
    if os.path.splitext(photo)[1].lower() not in SUFFIXES or _key(photo) is None:
        return None
    return photo


def start(path: str, decode: Callable[[str], Any]) -> None:
    """``decode(path)`` on a thread of its own (it imports what it needs there), for
    :func:`claim`."""
    global _slot
    key = _key(path)
    if key is None:
        return
    slot = _Decoding(path, key, decode)
    with _lock:
        _slot = slot
    threading.Thread(target=_decode, args=(slot,), name="imconv-early-decode", daemon=True).start()


def _decode(slot: _Decoding) -> None:
    try:
        slot.image = slot.decode(slot.path)
    except BaseException:  # the reader decodes again and reports
        slot.image = None
    finally:
        slot.done.set()


def claim(path: str) -> Any:
    """The image decoded early from ``path`` (once), if it is this file unchanged; else None."""
    global _slot
    with _lock:
        slot = _slot
        if slot is None or _key(path) != slot.key:
            return None
        _slot = None
    slot.done.wait()
    return slot.image


def forget() -> None:
    """Drop an image decoded early that nobody claimed (waits for its thread)."""
    global _slot
    with _lock:
        slot, _slot = _slot, None
    if slot is not None:
        slot.done.wait()
        if slot.image is not None:
            slot.image.close()


def hold_freed_memory() -> bool:
    """Keep freed blocks for reuse (glibc's ``mallopt``); False where there is no glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
