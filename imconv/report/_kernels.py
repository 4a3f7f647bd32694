"""Kernels for people: the preset table and one kernel as a coloured heat map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from imconv.kernels import Kernel, PresetInfo

SHOWN = 15
"""Largest matrix side drawn whole; larger kernels show their centre SHOWN x SHOWN."""
SHOWN_TERMS = 8
"""Separable terms listed at most."""
SVD_SIDE = 1025
"""Largest side whose rank is computed by an SVD for the view (O(k^3): seconds beyond)."""


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


def _matrix(matrix: Any) -> list[Any]:
    """The heat map of ``matrix``, or of its centre with a note when it is large."""
    height, width = matrix.shape
    if max(height, width) <= SHOWN:
        return [heat_map(matrix)]
    top, left = max(0, (height - SHOWN) // 2), max(0, (width - SHOWN) // 2)
    crop = matrix[top : top + SHOWN, left : left + SHOWN]
    note = f"centre {crop.shape[1]}x{crop.shape[0]} of {width}x{height}:"
    return [Text(note, style="dim"), heat_map(crop)]


def _vector(values: Any) -> str:
    shown = [f"{v + 0.0:.4g}" for v in values[:SHOWN]]  # + 0.0: no "-0"
    more = f" ... ({len(values)} values)" if len(values) > SHOWN else ""
    return "[" + " ".join(shown) + more + "]"


def _rank_text(kernel: Kernel) -> str:
    """``2``, ``1 (separable)``, or why the rank was not computed."""
    if kernel.factors is None and max(kernel.spatial_shape) > SVD_SIDE:
        return f"not computed (an SVD of a kernel over {SVD_SIDE} taps a side is too slow)"
    return f"{kernel.rank}" + (" (separable)" if kernel.is_separable else "")


def _set_parts(kernel: Kernel) -> list[Any]:
    """Each part of a kernel set with its rank, under a line naming the rule."""
    count = len(kernel.parts)
    rule = f"{kernel.combine} of {count} kernels:"
    if kernel.absolute:
        rule = f"{kernel.combine} of {count} kernels (each response made absolute first):"
    shown: list[Any] = [Text(rule)]
    for number, (part, rank) in enumerate(zip(kernel.parts, kernel.part_ranks, strict=True), 1):
        separable = " (separable)" if rank <= 1 else ""
        shown.append(Text(f"part {number}: rank {rank}{separable}", style="dim"))
        shown += _matrix(part)
    return shown


def kernel_view(kernel: Kernel) -> Group:
    """Everything ``imconv kernels NAME`` shows: matrix (each part of a set, with its rank
    and separability), sum, rank, factors, the combine rule, receptive field, weights."""
    parts: list[Any] = [Text(f"{kernel.name}  {kernel.description}".strip(), style="bold")]
    weights = kernel.weights
    if kernel.is_set:
        parts += _set_parts(kernel)
    elif weights.ndim == 2:
        parts += _matrix(weights)
    else:
        parts.append(Text(f"bank: {weights.shape[0]} outputs x {weights.shape[1]} inputs"))
    facts = Table(show_header=False, box=None, padding=(0, 1))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("shape", "x".join(map(str, weights.shape)))
    facts.add_row("sum", _number(0.0 if kernel.sums_to_zero else kernel.sum))
    facts.add_row("weights", str(kernel.weight_count))
    if kernel.is_set:
        absolute = " of absolute responses" if kernel.absolute else ""
        facts.add_row("combine", f"{kernel.combine}{absolute}")
        ranks = " ".join(map(str, kernel.part_ranks))
        separable = ", all separable" if kernel.is_separable else ""
        facts.add_row("rank", f"{kernel.rank} (per part: {ranks}{separable})")
    elif weights.ndim == 2:
        rank = _rank_text(kernel)
        facts.add_row("rank", rank)
        if not rank.startswith("not"):
            _add_terms(facts, kernel)
    facts.add_row("receptive field", "x".join(map(str, kernel.receptive_field.size)))
    parts.append(facts)
    return Group(*parts)


def _add_terms(facts: Table, kernel: Kernel) -> None:
    """One row per separable term, at most SHOWN_TERMS."""
    terms = kernel.separable_factors
    for number, (column, row) in enumerate(terms[:SHOWN_TERMS], start=1):
        facts.add_row(f"term {number}", f"column {_vector(column)}  row {_vector(row)}")
    if len(terms) > SHOWN_TERMS:
        facts.add_row("", f"... and {len(terms) - SHOWN_TERMS} more terms")


def preset_table(presets: Sequence[PresetInfo]) -> Table:
    """``imconv kernels``: one row per preset, built with its default parameters; the size
    of a kernel set is ``parts x kh x kw`` and its rule."""
    table = Table(title="presets (imconv kernels NAME shows one)", title_justify="left")
    for column in ("name", "size", "sum", "rank", "parameters", "description"):
        table.add_column(column, justify="right" if column in ("sum", "rank") else "left")
    for info in presets:
        rank = f"{info.rank} separable" if info.separable else str(info.rank)
        parameters = " ".join(f"{p.name}={p.default_text}" for p in info.params)
        size = "x".join(map(str, info.shape))
        if info.combine:
            size += f" {info.combine}"
        table.add_row(info.name, size, _number(info.sum), rank, parameters, info.description)
    return table
