"""Kernels for people: the preset table and one kernel as a coloured heat map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    pass


def _number(value: float) -> str:
    return f"{value:.0f}" if value == round(value) and abs(value) < 1e5 else f"{value:.4g}"


def heat_map(matrix: Any) -> Table:
    """A 2-D kernel as a grid of its values on a blue (negative) / red (positive) scale."""
    import numpy as np

    matrix = np.asarray(matrix, dtype=float)
    scale = float(np.abs(matrix).max()) or 1.0
    table = Table(show_header=False, box=None, padding=(0, 1))
    for _ in range(matrix.shape[1]):
        table.add_column(justify="right")
    for row in matrix:
        cells = []
        for value in row:
            level = round(155 * abs(value) / scale)
            colour = f"rgb({100 + level},40,40)" if value > 0 else f"rgb(40,40,{100 + level})"
            cells.append(Text(_number(value), style=f"white on {colour}" if value else "dim"))
        table.add_row(*cells)
    return table


def _vector(values: Any) -> str:
    return "[" + " ".join(f"{v + 0.0:.4g}" for v in values) + "]"  # + 0.0: no "-0"


def kernel_view(kernel: Any) -> Group:
    """Everything ``imconv kernels NAME`` shows: matrix, sum, rank, factors, field, weights."""
    parts: list[Any] = [Text(f"{kernel.name}  {kernel.description}".strip(), style="bold")]
    weights = kernel.weights
    if kernel.combine:
        parts.append(Text(f"{kernel.combine} of {len(weights)} kernels:"))
        parts += [heat_map(part) for part in weights]
    elif weights.ndim == 2:
        parts.append(heat_map(weights))
    else:
        parts.append(Text(f"bank: {weights.shape[0]} outputs x {weights.shape[1]} inputs"))
    facts = Table(show_header=False, box=None, padding=(0, 1))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("shape", "x".join(map(str, weights.shape)))
    facts.add_row("sum", _number(kernel.sum))
    facts.add_row("weights", str(kernel.weight_count))
    if weights.ndim == 2 and not kernel.combine:
        facts.add_row("rank", f"{kernel.rank}" + (" (separable)" if kernel.is_separable else ""))
        for number, (column, row) in enumerate(kernel.separable_factors, start=1):
            facts.add_row(f"term {number}", f"column {_vector(column)}  row {_vector(row)}")
    facts.add_row("receptive field", "x".join(map(str, kernel.receptive_field.size)))
    parts.append(facts)
    return Group(*parts)


def preset_table(presets: Sequence[Any]) -> Table:
    """``imconv kernels``: one row per preset, built with its default parameters."""
    table = Table(title="presets (imconv kernels NAME shows one)", title_justify="left")
    for column in ("name", "size", "sum", "rank", "parameters", "description"):
        table.add_column(column, justify="right" if column in ("sum", "rank") else "left")
    for info in presets:
        rank = f"{info.rank} separable" if info.separable else str(info.rank)
        parameters = " ".join(f"{p.name}={p.default}" for p in info.params)
        size = "x".join(map(str, info.shape))
        total = 0.0 if info.zero_sum else info.sum  # not -2e-17 for the LoG
        table.add_row(info.name, size, _number(total), rank, parameters, info.description)
    return table
