"""The job types every batch room shares: a job, the batch of them, how outputs are named.

A leaf of the batch package: inputs, outputs, the local pool and the Dask runner import
these names; this module imports none of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from imconv.errors import InvalidParameterError

#: Standard input as an INPUT, standard output as the output.
STDIO = "-"

#: An error message lists at most this many existing outputs, then says how many more.
LISTED = 5


#: The format of outputs whose input's suffix imconv cannot write (.pbm, .ico, .jp2...).
FALLBACK_SUFFIX = ".png"

#: A folder with this suffix is one image: a Zarr array (read and written tile by tile).
ZARR_SUFFIX = ".zarr"
#: Outputs only images filtered tile by tile are written as (Zarr, BigTIFF's own suffixes).
TILED_SUFFIXES = frozenset({ZARR_SUFFIX, ".btf", ".tf8"})


def is_zarr(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a Zarr folder: one image, not a folder of images."""
    return Path(path).suffix.lower() == ZARR_SUFFIX and os.path.isdir(path)


def writable(suffix: str) -> bool:
    """Whether imconv writes outputs with ``suffix`` (lower case, with its dot)."""
    from imconv.images import SUPPORTED_SUFFIXES

    return suffix in SUPPORTED_SUFFIXES or suffix in TILED_SUFFIXES


@dataclass(frozen=True)
class Job:
    """One image to filter: where it comes from and where its result goes.

    ``mirrored``: the destination's folders below the output folder may be made; ``root``:
    the output folder the destination must stay inside when it is written (links made
    there during the run must not lead out of it).
    """

    source: str
    destination: str
    mirrored: bool = False
    root: str | None = field(default=None, compare=False)


class Existing(StrEnum):
    """What happens to outputs that already exist: an error, kept, or replaced."""

    ERROR = "error"
    SKIP = "skip"
    OVERWRITE = "overwrite"

    @classmethod
    def from_flags(cls, *, overwrite: bool, skip_existing: bool) -> Existing:
        """The policy of ``overwrite`` / ``skip_existing`` (not both)."""
        if overwrite and skip_existing:
            raise InvalidParameterError(
                "overwrite",
                "skip_existing",
                "given without skip_existing (replace existing outputs or keep them, not both)",
            )
        return cls.OVERWRITE if overwrite else cls.SKIP if skip_existing else cls.ERROR


@dataclass(frozen=True)
class Naming:
    """How outputs are named: ``photo.jpg`` -> ``photo<tag><extension or .jpg>``."""

    tag: str
    extension: str | None = None

    @classmethod
    def parse(cls, *, slug: str, suffix: str | None = None, format: str | None = None) -> Naming:
        """``suffix`` (default ``_<slug>``) and ``format`` (``png`` or ``.png``), checked."""
        tag = f"_{slug}" if suffix is None else suffix
        if any(char in tag for char in ("/", "\\", os.sep, "\0")):
            raise InvalidParameterError("suffix", suffix, "text without path separators")
        if format is None:
            return cls(tag)
        from imconv.images import SUPPORTED_SUFFIXES

        extension = "." + format.lower().lstrip(".")
        if extension not in SUPPORTED_SUFFIXES:
            choices = ", ".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))
            raise InvalidParameterError("format", format, f"one of {choices}")
        return cls(tag, extension)

    def name(self, source: Path) -> Path:
        """The output for ``source`` in the same folder: the input's suffix when imconv
        writes that format, else :data:`FALLBACK_SUFFIX` (``photo.jp2`` -> ``photo_blur.png``)."""
        return source.with_name(f"{source.stem}{self.tag}{self.extension or _kept(source)}")


def _kept(source: Path) -> str:
    """The input's suffix when imconv can write that format, else PNG's."""
    return source.suffix if writable(source.suffix.lower()) else FALLBACK_SUFFIX


@dataclass
class Batch:
    """The jobs to run, and what deciding their outputs left out."""

    jobs: list[Job]
    skipped: int = 0  # files that are not images
    excluded: int = 0  # files left out by include/exclude patterns
    existing: list[Job] = field(default_factory=list)  # outputs kept by skip_existing
    single: bool = False  # one named input: its failure is the run's error
