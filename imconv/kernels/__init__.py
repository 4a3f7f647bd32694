"""Kernels: the :class:`Kernel` value object, presets, and kernels from files and text.

``load_kernel(text)`` resolves, in order:

1. a preset name with optional parameters: ``blur``, ``gaussian:sigma=2``,
   ``motion:length=15,angle=45`` (built-in presets, then the user's preset folder);
2. an existing file, by suffix: ``.txt``/``.csv`` rows, ``.json``, ``.toml`` (the preset
   format), ``.npy`` (never unpickled), libvips ``.mat`` (flipped on load: ``vips conv``
   correlates);
3. an ImageMagick kernel string: ``"3x3: 0,1,0 1,4,1 0,1,0"``, ``"3: ..."``, with rotation
   flags (``"3x3@: ..."``) and ``;``-separated lists;
4. an inline matrix: ``"0 1 0; 1 4 1; 0 1 0"`` or ``"[[0, 1, 0], [1, 4, 1], [0, 1, 0]]"``.

Sign convention: kernels are stored as written for **convolution** (the CLI default), like
the textbook Sobel ``Gx = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]``: convolving an image that
is dark on the left and bright on the right with ``sobel-x`` gives a positive response,
and ``sobel-y`` is positive where the image gets brighter downwards (rows grow down).

**Kernel sets** (``sobel``, ``kirsch``, ``compass``, ImageMagick lists with a combine rule)
run each of :attr:`Kernel.parts` as a linear kernel and fold the responses with
:meth:`Kernel.combine_responses`; see :mod:`imconv.kernels._combine` for the rules.
"""

from __future__ import annotations

import os
from pathlib import Path

from imconv.errors import KernelError, UnknownNameError

from ._combine import COMBINES, Combine, combine_responses, parse_combine, stack_parts
from ._folders import builtin_presets_dir, user_presets_dir
from ._generators import ARGUMENTS, GENERATORS, Generated
from ._imagemagick import parse_imagemagick
from ._kernel import Kernel, Terms, make_slug
from ._limits import MAX_GAIN, MAX_SIDE
from ._params import PresetParam
from ._parse import SUFFIXES, parse_inline, read_kernel_file
from ._presets import (
    PresetInfo,
    find_preset,
    list_presets,
    preset,
    preset_names,
    preset_warnings,
)
from ._response import frequency_response, radial_profile

__all__ = [
    "ARGUMENTS",
    "COMBINES",
    "GENERATORS",
    "MAX_GAIN",
    "MAX_SIDE",
    "SUFFIXES",
    "Combine",
    "Generated",
    "Kernel",
    "PresetInfo",
    "PresetParam",
    "Terms",
    "builtin_presets_dir",
    "combine_responses",
    "frequency_response",
    "list_presets",
    "load_kernel",
    "make_slug",
    "preset",
    "preset_names",
    "preset_warnings",
    "radial_profile",
    "stack_parts",
    "user_presets_dir",
]


def load_kernel(text: str | os.PathLike[str], *, combine: str | None = None) -> Kernel:
    """The kernel named, stored or written in ``text`` (see the module docstring for the order).

    Parameters
    ----------
    text : str or path-like
        A preset with optional parameters, a kernel file, an ImageMagick kernel string or
        an inline matrix. A path-like object is always read as a file.
    combine : {None, "magnitude", "max", "min", "sum"}
        Override the combine rule of a kernel set (``kirsch``, ``compass``, a ``parts``
        preset or file); for an ImageMagick list, combine its kernels per pixel by this
        rule instead of ImageMagick's default (applying them in turn). None keeps the
        kernel's own.

    Returns
    -------
    Kernel
        ``slug`` is the preset name with its parameters (``gaussian-sigma2``), the file
        stem for files, ``custom`` for inline matrices and ImageMagick strings.

    Raises
    ------
    UnknownNameError
        ``text`` is none of these; the message lists the presets and suggests the closest.
    InvalidParameterError
        Bad parameters of a preset, naming the preset, key, value and what is allowed; an
        unknown ``combine``.
    KernelError
        A file that does not exist, is unsupported or is malformed (naming the file, the
        line and the bad value), a malformed matrix (saying what is wrong), or ``combine``
        for a single kernel.

    Examples
    --------
    >>> load_kernel("blur").weights.tolist()
    [[0.0, 0.125, 0.0], [0.125, 0.5, 0.125], [0.0, 0.125, 0.0]]
    >>> load_kernel("box:size=7").slug
    'box-size7'
    >>> load_kernel("1 2 1").shape
    (1, 3)
    >>> load_kernel("kirsch", combine="sum").combine
    'sum'
    """
    rule = None if combine is None else parse_combine(combine)
    if isinstance(text, os.PathLike):
        return _with_rule(read_kernel_file(Path(text)), rule)
    stripped = text.strip()
    if not stripped:
        raise KernelError("kernel must not be empty", hint="`imconv kernels` lists the presets")
    kernel = find_preset(stripped)
    if kernel is not None:
        return _with_rule(kernel, rule)
    path = Path(stripped).expanduser()
    if _exists(path):
        return _with_rule(read_kernel_file(path), rule)
    kernel = parse_imagemagick(stripped, combine=rule)
    if kernel is not None:
        return kernel
    kernel = parse_inline(stripped)
    if kernel is not None:
        return _with_rule(kernel, rule)
    if path.suffix.lower() in SUFFIXES or "/" in stripped or os.sep in stripped:
        raise KernelError(f"kernel file {stripped!r} does not exist")
    raise UnknownNameError("kernel", stripped, preset_names())


def _exists(path: Path) -> bool:
    """``path.exists()``, False for text no file can be named (too long, NUL bytes)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _with_rule(kernel: Kernel, rule: Combine | None) -> Kernel:
    return kernel if rule is None else kernel.with_combine(rule)
