"""Numbers and nested lists read from text: the one number pattern, and nesting caps.

Values are matched by :data:`NUMBER` and converted with ``float`` only, never evaluated.
Nested lists (JSON, TOML) are checked for depth *before* a recursive parser sees them, so
a file of 100000 opening brackets is a one-line :class:`~imconv.errors.KernelError`, not
a ``RecursionError``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from imconv.errors import KernelError

__all__ = ["MAX_NESTING", "NUMBER", "check_nesting", "nested_array", "parse_number"]

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A decimal number: ``1``, ``-2.5``, ``.5``, ``1e-3``. No ``nan``, ``inf`` or hex."""

MAX_NESTING = 8
"""Deepest nesting of brackets accepted in JSON and TOML kernels: a bank has 4 axes, and
``{"kernel": [[[[...]]]]}`` is 5 levels deep; 8 leaves room for any sane file."""

_STRINGS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'')


def parse_number(token: str, where: str) -> float:
    """``token`` as a float; KernelError naming ``where`` unless it matches :data:`NUMBER`."""
    if not NUMBER.fullmatch(token):
        raise KernelError(f"{where}: {token!r} is not a number")
    return float(token)


def check_nesting(text: str, where: str) -> None:
    """KernelError when brackets in ``text`` (outside strings) nest deeper than
    :data:`MAX_NESTING`; cheap and non-recursive, run before ``json``/``tomllib`` parse."""
    bare = _STRINGS.sub("", text)
    steps = np.frombuffer(bare.encode("utf-8", "replace"), dtype=np.uint8)
    change = np.isin(steps, (ord("["), ord("{"))).astype(np.int64)
    change -= np.isin(steps, (ord("]"), ord("}")))
    depth = int(np.cumsum(change).max()) if change.size else 0
    if depth > MAX_NESTING:
        raise KernelError(
            f"{where}: brackets must nest at most {MAX_NESTING} deep (a kernel has at most "
            f"4 axes); got {depth}"
        )


def nested_array(values: Any, where: str, label: str = "kernel") -> np.ndarray:
    """Nested lists of numbers (from JSON or TOML) as a float64 array.

    Raises
    ------
    KernelError
        Naming ``where`` and the index of the first value that is not a number, the first
        row whose length differs from its siblings', or nesting deeper than
        :data:`MAX_NESTING`.
    """
    _shape_of(values, where, label, 0)
    return np.array(values, dtype=np.float64)


def _shape_of(values: Any, where: str, path: str, depth: int) -> tuple[int, ...]:
    """Shape of a rectangular nested list; KernelError at the first bad value or row."""
    if isinstance(values, int | float) and not isinstance(values, bool):
        return ()
    if depth >= MAX_NESTING:
        raise KernelError(f"{where}: {path} nests deeper than {MAX_NESTING} lists")
    if not isinstance(values, list) or not values:
        shown = repr(values)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise KernelError(f"{where}: {path} must be a number or a non-empty list; got {shown}")
    shapes = [_shape_of(item, where, f"{path}[{i}]", depth + 1) for i, item in enumerate(values)]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise KernelError(
                f"{where}: {path}[{i}] has shape {shape}, but {path}[0] has {shapes[0]}: "
                f"rows must all have the same length"
            )
    return (len(values), *shapes[0])
