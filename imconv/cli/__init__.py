"""The ``imconv`` command: parse, call the library, render, return an exit status.

No logic lives here: kernels come from :mod:`imconv.kernels`, the work from
:mod:`imconv.run`, tables from :mod:`imconv.report`. Every
:class:`~imconv.errors.ImconvError` becomes one line on stderr and an exit status in
:func:`run_guarded`, the only place that does so.

The names below load on first use (PEP 562): :func:`main` starts decoding the photo of
``imconv apply KERNEL PHOTO`` (:mod:`imconv.early`) before Typer, Rich and the commands
are imported.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from imconv import early

_EXPORTS = ("ExitStatus", "app", "fail", "parse_pair", "run_guarded", "stderr", "stdout")

__all__ = [*_EXPORTS, "main"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        importlib.import_module("imconv.cli._apply")  # the commands register on `app`
        importlib.import_module("imconv.cli._commands")
        value = getattr(importlib.import_module("imconv.cli._app"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'imconv.cli' has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``imconv`` console script."""
    early.hold_freed_memory()
    photo = early.photo_argument(sys.argv[1:])
    if photo is not None:
        early.start(photo, _decode)
    __getattr__("app")()


def _decode(path: str) -> Any:
    from imconv.images import decode_file  # NumPy and Pillow load on the decoding thread

    return decode_file(path)
