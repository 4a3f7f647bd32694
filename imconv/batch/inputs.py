"""Find the images a batch reads: named files, folders (recursively), glob patterns.

Each input file comes with the path its output takes below ``-o DIR``: its name for a
named file, its path below the folder for a folder, its path below the pattern's fixed
part for a glob (``photos/*/img_*.jpg`` mirrors below ``photos``). Hidden files and folders
(names starting with a dot) are never taken; folders reached twice (a symbolic link loop,
or two links to one folder) are read once; the output folder is never scanned. Files
without an image suffix are skipped and counted; ``--include``/``--exclude`` patterns are
matched case-insensitively against the file name, or against the path below the input
folder when the pattern holds a ``/``. No terminal code here.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from imconv.errors import ImageReadError

from .jobs import STDIO, is_zarr

# Suffixes Pillow reads that a folder scan picks up (other files are skipped and counted).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
    | {".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".ico"}
)


@dataclass(frozen=True)
class Selection:
    """Which files folder scans and glob patterns take.

    Parameters
    ----------
    recursive
        Descend into sub-folders of folder inputs.
    include
        Patterns a file must match (any of them) to be taken; empty takes every image.
    exclude
        Patterns that leave a file out; a folder whose name or path matches is not entered.
    """

    recursive: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def takes(self, relative: PurePosixPath) -> bool:
        """Whether a file at ``relative`` (below its input folder) passes the patterns."""
        if self.include and not _matches(relative, self.include):
            return False
        return not _matches(relative, self.exclude)


@dataclass
class Found:
    """The input files with their mirrored paths, and what the scan left out."""

    pairs: list[tuple[str, Path]] = field(default_factory=list)
    skipped: int = 0  # files without an image suffix
    excluded: int = 0  # files left out by --include/--exclude


def _matches(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """Whether the name (or, for patterns with a ``/``, the path) matches a pattern."""
    name, path = relative.name.lower(), relative.as_posix().lower()
    return any(fnmatchcase(path if "/" in p else name, p.lower()) for p in patterns)


def _identity(path: str | Path) -> tuple[int, int] | None:
    """The (device, inode) of what ``path`` leads to, following links; None if gone."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The visible entries of ``folder``, sorted by name."""
    try:
        with os.scandir(folder) as listing:
            return sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as error:
        raise ImageReadError(
            f"cannot read the folder {str(folder)!r}: {error.strerror or error}"
        ) from error


def walk_files(
    folder: Path, *, recursive: bool, prune: Sequence[str] = (), avoid: Sequence[Path] = ()
) -> Iterator[tuple[Path, PurePosixPath]]:
    """Visible files below ``folder`` with their path relative to it, folder by folder.

    Each folder's files come first (sorted), then its sub-folders; symbolic links are
    followed, but a folder already visited (a link loop) is not entered again, nor a
    sub-folder in ``avoid`` or whose name or path matches a ``prune`` pattern.
    """
    seen = {key for key in map(_identity, avoid) if key is not None}
    seen.discard(_identity(folder))  # writing beside the inputs: the folder itself is read
    stack = [(folder, PurePosixPath())]
    while stack:
        current, relative = stack.pop()
        key = _identity(current)
        if key is None or key in seen:
            continue
        seen.add(key)
        folders = []
        for entry in _entries(current):
            inner = relative / entry.name
            if entry.is_dir():
                if recursive and not _matches(inner, prune):
                    folders.append((Path(entry.path), inner))
            elif entry.is_file():
                yield Path(entry.path), inner
        stack.extend(reversed(folders))


def find_images(
    folder: Path, *, recursive: bool, selection: Selection | None = None, avoid: Sequence[Path] = ()
) -> tuple[list[Path], int]:
    """Image files under ``folder`` (sorted; hidden files skipped) and the count skipped."""
    found = Found()
    _scan(found, folder, PurePosixPath(), selection or Selection(recursive=recursive), avoid)
    return [Path(source) for source, _ in found.pairs], found.skipped


def _scan(
    found: Found, folder: Path, base: PurePosixPath, selection: Selection, avoid: Sequence[Path]
) -> None:
    """Add the images below ``folder`` to ``found``, mirrored below ``base``."""
    walker = walk_files(folder, recursive=selection.recursive, prune=selection.exclude, avoid=avoid)
    for path, relative in walker:
        _take(found, path, base / relative, relative, selection)


def _take(
    found: Found, path: Path, mirrored: PurePosixPath, relative: PurePosixPath, selection: Selection
) -> None:
    """Add one file, or count why it is left out."""
    if not selection.takes(relative):
        found.excluded += 1
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        found.pairs.append((str(path), Path(mirrored)))
    else:
        found.skipped += 1


def _fixed_part(pattern: str) -> Path:
    """The leading folders of a glob pattern that hold no wildcard (``.`` if none)."""
    fixed = list(_leading(Path(pattern).parts))
    return Path(*fixed) if fixed else Path(".")


def _leading(parts: Sequence[str]) -> Iterator[str]:
    """The parts before the first one with a wildcard (never the last part)."""
    for part in parts[:-1]:
        if glob.has_magic(part):
            return
        yield part


def _expand(pattern: str, found: Found, selection: Selection, avoid: Sequence[Path]) -> None:
    """Add the files (and folders' images) that a glob pattern matches."""
    base = _fixed_part(pattern)
    matches = sorted(glob.glob(pattern, recursive=True))
    if not matches:
        raise ImageReadError(f"cannot read {pattern!r}: no file matches the pattern")
    for match in matches:
        relative = PurePosixPath(Path(os.path.relpath(match, base)).as_posix())
        if os.path.isdir(match):
            _scan(found, Path(match), relative, selection, avoid)
        elif os.path.isfile(match):
            _take(found, Path(match), relative, relative, selection)


def find_inputs(
    inputs: Sequence[str], selection: Selection, *, avoid: Sequence[Path] = ()
) -> Found:
    """Every input file with the path its output takes below the output folder.

    Parameters
    ----------
    inputs
        Files, folders, glob patterns (expanded when no file has that name), or ``-``; a
        folder named ``*.zarr`` is one image (a Zarr array, filtered tile by tile).
    selection
        Recursion and include/exclude patterns, applied to folders and patterns (a file
        named on the command line is always taken).
    avoid
        Folders never scanned (the output folder).

    Raises
    ------
    ImageReadError
        A missing input, a pattern matching nothing, or an unreadable folder.
    """
    found = Found()
    for item in inputs:
        path = Path(item)
        if item == STDIO:
            found.pairs.append((STDIO, Path("stdin.png")))
        elif is_zarr(path):  # one image, read tile by tile
            found.pairs.append((item, Path(path.name)))
        elif path.is_dir():
            _scan(found, path, PurePosixPath(), selection, avoid)
        elif path.is_file():
            found.pairs.append((item, Path(path.name)))
        elif glob.has_magic(item):
            _expand(item, found, selection, avoid)
        else:
            raise ImageReadError(f"cannot read {item!r}: no such file or folder")
    return found
