"""Kernels from files (.txt, .csv, .json, .toml, .npy, libvips .mat) and from text
(inline matrices). Values are parsed, never evaluated.

Every file means what its home tool means by it:

* ``.txt``/``.csv`` rows, ``.json``, ``.toml`` and ``.npy`` hold imconv kernels, stored
  for **convolution** (the imconv default), as written.
* A libvips ``.mat`` matrix (``width height [scale [offset]]``, then rows) is read so
  that imconv's default, convolution, gives ``vips conv``'s result: ``vips conv``
  *correlates* (it does not flip the mask), so the matrix is flipped on both axes on load,
  then divided by ``scale``, with ``offset`` as the bias. ``imconv apply k.mat x.png
  --padding replicate`` equals ``vips conv x.png out.v k.mat --precision float`` (libvips
  extends the image by copying its edge pixels), and with ``--correlate`` an imconv
  correlation equals a libvips convolution of the unflipped matrix. Even sizes agree too
  (both anchor the mask at ``(width//2, height//2)``).

JSON (and TOML) text is checked for nesting depth before it is parsed (at most 8
levels), so an absurdly nested file is a one-line error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import KernelError

from ._kernel import Kernel
from ._presets import load_preset_file
from ._values import NUMBER, check_nesting, nested_array, parse_number

__all__ = ["SUFFIXES", "parse_inline", "read_kernel_file"]

_JSON_KEYS = ("kernel", "scale", "bias", "description")
_TOKENS = re.compile(r"[\s,]+")


def _split_row(line: str, where: str) -> list[str]:
    """Values of one row, separated by commas and/or whitespace; one trailing comma is fine."""
    if not line.strip():
        return []
    tokens = re.split(r"\s*,\s*|\s+", line.strip())
    if tokens[-1] == "":
        tokens.pop()
    if "" in tokens:
        raise KernelError(f"{where}: empty value between commas in {line.strip()!r}")
    return tokens


def _rows(numbered: Iterable[tuple[str, str]]) -> np.ndarray:
    """A matrix from ``(where, line)`` pairs; blank lines skipped, ragged rows an error."""
    rows: list[list[float]] = []
    first = ""
    for where, line in numbered:
        values = [parse_number(token, where) for token in _split_row(line, where)]
        if not values:
            continue
        if rows and len(values) != len(rows[0]):
            raise KernelError(
                f"{where}: row has {len(values)} values, but the first row ({first}) has "
                f"{len(rows[0])}"
            )
        first = first or where
        rows.append(values)
    return np.array(rows, dtype=np.float64)


def _kernel(weights: Any, where: str, name: str, slug: str, **extra: Any) -> Kernel:
    """A Kernel whose validation errors name the file or text it came from."""
    try:
        return Kernel(weights, name, slug=slug, **extra)
    except KernelError as error:
        raise KernelError(f"{where}: {error.message}", hint=error.hint) from None


def _read_rows(path: Path, text: str) -> Kernel:
    lines = ((f"{path}:{n}", line.split("#", 1)[0]) for n, line in enumerate(text.splitlines(), 1))
    weights = _rows(lines)
    if weights.size == 0:
        raise KernelError(f"{path}: no kernel values found")
    return _kernel(weights, str(path), str(path), path.stem, description="from a text file")


def _read_json(path: Path, text: str) -> Kernel:
    check_nesting(text, str(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise KernelError(
            f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from None
    if not isinstance(data, dict):
        data = {"kernel": data}
    unknown = sorted(set(data) - set(_JSON_KEYS))
    if unknown or "kernel" not in data:
        raise KernelError(
            f"{path}: a JSON kernel is [[...]] or an object with keys "
            f"{', '.join(_JSON_KEYS)} ('kernel' required); got keys {sorted(data)}"
        )
    scale = data.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise KernelError(f"{path}: scale must be a number; got {scale!r}")
    with np.errstate(over="ignore"):  # an overflow to inf is refused by Kernel, by name
        weights = nested_array(data["kernel"], str(path)) * scale
    return _kernel(weights, str(path), str(path), path.stem, bias=data.get("bias"),
                   description=str(data.get("description", "from a JSON file")))  # fmt: skip


def _read_npy(path: Path) -> Kernel:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise KernelError(
                f"{path}: holds pickled Python objects, which imconv never loads",
                hint="save a numeric array: numpy.save(path, numpy.asarray(w, dtype=float))",
            ) from None
        raise KernelError(f"{path}: not a valid .npy file: {error}") from None
    except (OSError, EOFError) as error:
        raise KernelError(f"{path}: not a valid .npy file: {error}") from None
    if not isinstance(array, np.ndarray):
        raise KernelError(f"{path}: holds an .npz archive; save one array with numpy.save")
    return _kernel(array, str(path), str(path), path.stem, description="from a .npy file")


def _vips_tokens(line: str) -> list[str]:
    return [t for t in re.split(r'[\s,"]+', line.strip()) if t]


def _read_vips(path: Path, text: str) -> Kernel:
    """libvips matrix: ``width height [scale [offset]]``, then rows; flipped on both axes
    (``vips conv`` correlates), divided by scale, offset kept as the bias. As in libvips,
    characters after a row's ``width`` values are ignored."""
    lines = text.splitlines()
    header = _vips_tokens(lines[0]) if lines else []
    if not 2 <= len(header) <= 4 or not all(t.isdigit() and int(t) > 0 for t in header[:2]):
        raise KernelError(
            f"{path}:1: a libvips matrix starts with 'width height [scale [offset]]' "
            f"(positive integers, then numbers); got {lines[0] if lines else ''!r}"
        )
    width, height = int(header[0]), int(header[1])
    extra = [parse_number(token, f"{path}:1") for token in header[2:]]
    scale, offset = extra + [1.0, 0.0][len(extra) :]
    if scale == 0:
        raise KernelError(f"{path}:1: scale must not be 0")
    rows = [(f"{path}:{n}", _vips_tokens(line)) for n, line in enumerate(lines[1:], 2)]
    rows = [(where, tokens) for where, tokens in rows if tokens][:height]
    if len(rows) < height:
        raise KernelError(f"{path}: the header says {height} rows; found {len(rows)}")
    for where, tokens in rows:
        if len(tokens) < width:
            raise KernelError(f"{where}: row has {len(tokens)} values; the header says {width}")
    values = np.array([[parse_number(t, w) for t in tokens[:width]] for w, tokens in rows])
    with np.errstate(over="ignore"):  # an overflow to inf is refused by Kernel, by name
        weights = values[::-1, ::-1] / scale
    return _kernel(weights, str(path), str(path), path.stem, bias=offset if offset else None,
                   description="libvips matrix (flipped: vips conv correlates)")  # fmt: skip


_TEXT_READERS: dict[str, Callable[[Path, str], Kernel]] = {
    ".txt": _read_rows,
    ".csv": _read_rows,
    ".json": _read_json,
    ".mat": _read_vips,
}
SUFFIXES = (*_TEXT_READERS, ".toml", ".npy")


def read_kernel_file(path: Path) -> Kernel:
    """The kernel in ``path``, by suffix (see :data:`SUFFIXES`).

    Raises
    ------
    KernelError
        Missing file, unsupported suffix, unreadable file, or malformed content: the
        message names the file, the line where there is one, and the bad value.
    """
    if path.is_dir():
        raise KernelError(f"kernel {str(path)!r} is a folder, not a kernel file")
    if not path.is_file():
        raise KernelError(f"kernel file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise KernelError(
            f"kernel file {str(path)!r} has an unsupported suffix; use one of {', '.join(SUFFIXES)}"
        )
    if suffix == ".npy":
        return _read_npy(path)
    if suffix == ".toml":
        return load_preset_file(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise KernelError(f"cannot read kernel file {str(path)!r}: {error.strerror}") from None
    if raw.startswith(b"MATLAB"):
        raise KernelError(f"{path}: is a MATLAB .mat file; imconv reads libvips text matrices",
                          hint="the first line is 'width height [scale [offset]]'")  # fmt: skip
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KernelError(f"{path}: is not a UTF-8 text file") from None
    return _TEXT_READERS[suffix](path, text)


def parse_inline(text: str) -> Kernel | None:
    """An inline matrix (``"0 1 0; 1 4 1; 0 1 0"`` or ``"[[0, 1], [1, 0]]"``), else None.

    Rows are separated by ``;`` or newlines, values by commas and/or spaces. Text is taken
    for a matrix (and its faults reported) when it starts with ``[`` or a number, holds a
    ``;`` or a newline, or starts with a digit and has several values; other text (a
    misspelt preset name) gives None.

    Raises
    ------
    KernelError
        Rows of different lengths, values that are not numbers, no values at all, or what
        :class:`Kernel` refuses (non-finite or too large values), naming the text.
    """
    stripped = text.strip()
    where = f"inline kernel {_shorten(stripped)!r}"
    if stripped.startswith("["):
        check_nesting(stripped, where)
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise KernelError(f"{where}: invalid nested list: {error.msg}") from None
        weights = nested_array(values, where)
    elif _is_matrix(stripped):
        lines = re.split(r"[;\n]", stripped)
        weights = _rows((f"{where} row {i}", line) for i, line in enumerate(lines, 1))
        if weights.size == 0:
            raise KernelError(
                f"{where}: holds no numbers",
                hint="write rows of numbers separated by ';', e.g. '0 1 0; 1 4 1; 0 1 0'",
            )
    else:
        return None
    return _kernel(weights, where, stripped, "custom", description="inline")


def _is_matrix(text: str) -> bool:
    """True when ``text`` is meant as a matrix: it has row separators, is one number, or
    starts like a number and has several values."""
    tokens = _TOKENS.split(text)
    starts = re.match(r"[+-]?\.?\d", text) is not None
    return (
        ";" in text
        or "\n" in text
        or bool(NUMBER.fullmatch(tokens[0]))
        or (starts and len(tokens) > 1)
    )


def _shorten(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters for messages."""
    return text if len(text) <= width else text[: width - 3] + "..."
