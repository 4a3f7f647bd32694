"""Where presets live: the built-in folder, the user's folder, and what is wrong with them.

Built-in presets ship in the wheel as ``imconv/presets`` (found with importlib.resources)
and live in the repository's top-level ``presets/`` folder in a source checkout. User
presets are the ``*.toml`` files of ``$IMCONV_PRESETS``, else of
``$XDG_CONFIG_HOME/imconv/presets`` (``~/.config/imconv/presets``).

A problem with the user's presets never stops a run that does not use them: a user preset
named like a built-in one (never a silent replacement: the built-in one is used), a file
whose name is not a preset name, or ``$IMCONV_PRESETS`` naming something that is not a
folder are left out, and :func:`preset_warnings` says so, naming the file, for the
command line to print once.
"""

from __future__ import annotations

import importlib.resources
import os
from importlib.resources.abc import Traversable
from pathlib import Path

from ._params import NAME

__all__ = ["builtin_presets_dir", "folder_warnings", "registry", "user_presets_dir"]


def builtin_presets_dir() -> Traversable:
    """The folder of built-in preset files: ``imconv/presets`` in an installed wheel, else
    the top-level ``presets/`` of the source checkout (editable installs)."""
    packaged = importlib.resources.files("imconv") / "presets"
    if packaged.is_dir():
        return packaged
    import imconv

    return Path(imconv.__file__).resolve().parent.parent / "presets"


def user_presets_dir() -> Path | None:
    """``$IMCONV_PRESETS`` if it is a folder, else ``$XDG_CONFIG_HOME/imconv/presets`` or
    ``~/.config/imconv/presets`` when that folder exists; None otherwise (a set
    ``$IMCONV_PRESETS`` that is not a folder is reported by :func:`folder_warnings`)."""
    configured = os.environ.get("IMCONV_PRESETS")
    if configured:
        folder = Path(configured).expanduser()
        return folder if folder.is_dir() else None
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    folder = Path(base) / "imconv" / "presets"
    return folder if folder.is_dir() else None


def _toml_files(folder: Traversable) -> dict[str, Traversable]:
    return {
        entry.name[: -len(".toml")].lower(): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    }


def _scan() -> tuple[dict[str, Traversable], list[str]]:
    """Every usable preset name and its file, and a warning per user file left out."""
    builtin = builtin_presets_dir()
    found = _toml_files(builtin)
    warnings: list[str] = []
    configured = os.environ.get("IMCONV_PRESETS")
    folder = user_presets_dir()
    if configured and folder is None:
        warnings.append(f"IMCONV_PRESETS names {configured!r}, which is not a folder; "
                        "no user presets are read")  # fmt: skip
    if folder is not None and str(folder.resolve()) == str(builtin):
        folder = None  # $IMCONV_PRESETS naming the built-in folder adds nothing
    for name, entry in _toml_files(folder).items() if folder else ():
        if name in found:
            warnings.append(f"user preset {str(entry)!r} has the name of the built-in preset "
                            f"{name!r} and is ignored; rename the file")  # fmt: skip
        elif not NAME.fullmatch(name):
            warnings.append(f"user preset {str(entry)!r} is ignored: preset names must match "
                            f"{NAME.pattern}")  # fmt: skip
        else:
            found[name] = entry
    return found, warnings


def registry() -> dict[str, Traversable]:
    """Every preset name (built-in, then user) and its file."""
    return _scan()[0]


def folder_warnings() -> list[str]:
    """One line per user preset file (or folder) left out of :func:`registry`."""
    return _scan()[1]
