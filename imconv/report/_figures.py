"""What every matplotlib figure of imconv shares: the formats, the install hint, the checks
made before any work, and the atomic save.

matplotlib is optional (the ``imconv[plot]`` extra): it is imported only when a figure is
drawn, through its object API and the Agg renderer (no pyplot, no display, no global state).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from imconv.errors import ImageWriteError, ImconvError, InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOT_FORMATS", "PLOT_HINT", "check_plot_path", "require_matplotlib", "save_figure"]

PLOT_FORMATS = ("png", "svg", "pdf")
PLOT_HINT = "pip install 'imconv[plot]'"


def require_matplotlib() -> None:
    """Raise :class:`~imconv.errors.ImconvError` with an install hint if matplotlib is
    missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ImconvError("drawing a chart needs matplotlib, which is not installed",
                          hint=PLOT_HINT)  # fmt: skip


def check_plot_path(path: str | Path, *, name: str = "plot") -> Path:
    """Check, before any work, that a figure can be written to ``path`` (and matplotlib is
    there): a ``.png``, ``.svg`` or ``.pdf`` name in an existing folder. ``name`` is the
    argument named in the message (the command line passes its flag)."""
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise InvalidParameterError(name, str(path), "a .png, .svg or .pdf file name")
    if not path.parent.is_dir():
        raise ImageWriteError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does "
                              "not exist")  # fmt: skip
    require_matplotlib()
    return path


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` in the format its suffix names; the file appears whole
    or not at all."""
    from imconv.images import write_atomic

    suffix = path.suffix.lower().lstrip(".")
    write_atomic(path, lambda stream: figure.savefig(stream, format=suffix))
    return path
