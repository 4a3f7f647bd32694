"""Kernels: the :class:`Kernel` value object, presets, and kernels from files and text.

``load_kernel(text)`` resolves, in order:

1. a preset name with optional parameters: ``blur``, ``gaussian:sigma=2``,
   ``motion:length=15,angle=45`` (built-in presets, then the user's preset folder);
2. an existing file, by suffix: ``.txt``/``.csv`` rows, ``.json``, ``.toml`` (the preset
   format), ``.npy`` (never unpickled), libvips ``.mat``;
3. an ImageMagick kernel string: ``"3x3: 0,1,0 1,4,1 0,1,0"`` or ``"3: ..."``;
4. an inline matrix: ``"0 1 0; 1 4 1; 0 1 0"`` or ``"[[0, 1, 0], [1, 4, 1], [0, 1, 0]]"``.

Sign convention: kernels are stored as written for **convolution** (the CLI default), like
the textbook Sobel ``Gx = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]``: convolving an image that
is dark on the left and bright on the right with ``sobel-x`` gives a positive response,
and ``sobel-y`` is positive where the image gets brighter downwards (rows grow down).
"""

from __future__ import annotations

import os
from pathlib import Path

from imconv.errors import KernelError, UnknownNameError

from ._generators import GENERATORS
from ._imagemagick import parse_imagemagick
from ._kernel import Kernel, make_slug
from ._params import PresetParam
from ._parse import SUFFIXES, parse_inline, read_kernel_file
from ._presets import (
    PresetInfo,
    builtin_presets_dir,
    find_preset,
    list_presets,
    preset,
    preset_names,
    user_presets_dir,
)

__all__ = [
    "GENERATORS",
    "SUFFIXES",
    "Kernel",
    "PresetInfo",
    "PresetParam",
    "builtin_presets_dir",
    "list_presets",
    "load_kernel",
    "make_slug",
    "preset",
    "preset_names",
    "user_presets_dir",
]


def load_kernel(text: str | os.PathLike[str]) -> Kernel:
    """The kernel named, stored or written in ``text`` (see the module docstring for the order).

    Parameters
    ----------
    text : str or path-like
        A preset with optional parameters, a kernel file, an ImageMagick kernel string or
        an inline matrix. A path-like object is always read as a file.

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
        Bad parameters of a preset, naming the preset, key, value and what is allowed.
    KernelError
        A file that does not exist, is unsupported or is malformed (naming the file, the
        line and the bad value), or a malformed matrix.

    Examples
    --------
    >>> load_kernel("blur").weights.tolist()
    [[0.0, 0.125, 0.0], [0.125, 0.5, 0.125], [0.0, 0.125, 0.0]]
    >>> load_kernel("box:size=7").slug
    'box-size7'
    >>> load_kernel("1 2 1").shape
    (1, 3)
    """
    if isinstance(text, os.PathLike):
        return read_kernel_file(Path(text))
    stripped = text.strip()
    if not stripped:
        raise KernelError("kernel must not be empty", hint="`imconv kernels` lists the presets")
    kernel = find_preset(stripped)
    if kernel is not None:
        return kernel
    path = Path(stripped).expanduser()
    if path.exists():
        return read_kernel_file(path)
    kernel = parse_imagemagick(stripped)
    if kernel is None:
        kernel = parse_inline(stripped)
    if kernel is not None:
        return kernel
    if path.suffix.lower() in SUFFIXES or "/" in stripped or os.sep in stripped:
        raise KernelError(f"kernel file {stripped!r} does not exist")
    raise UnknownNameError("kernel", stripped, preset_names())
