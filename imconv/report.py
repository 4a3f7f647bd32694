"""Timing records rendered for people (Rich tables) and for machines (JSON).

The only module besides :mod:`imconv.cli` that imports Rich. Records come from
:mod:`imconv.pipeline`; this module measures nothing itself.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from imconv.errors import ImageWriteError, ImconvError
from imconv.images import write_atomic
from imconv.pipeline import FilterStep, ImageRecord

REPORT_VERSION = 1


def _rate(megapixels: float, seconds: float) -> str:
    # Stages under 0.1 ms (nothing to prepare) have no meaningful rate.
    return f"{megapixels / seconds:.1f}" if seconds >= 1e-4 and megapixels else "-"


def timing_table(record: ImageRecord) -> Table:
    """One row per stage: milliseconds, megapixels per second, algorithm and why."""
    title = f"{record.source}  {record.width}x{record.height}x{record.channels} ({record.mode})"
    table = Table(title=title, title_justify="left")
    table.add_column("stage")
    table.add_column("ms", justify="right")
    table.add_column("MP/s", justify="right")
    table.add_column("algorithm")
    table.add_column("why", overflow="fold")
    for stage in record.stages:
        table.add_row(
            stage.stage,
            f"{stage.seconds * 1e3:.1f}",
            _rate(record.megapixels, stage.seconds),
            stage.algorithm or "",
            stage.reason or "",
        )
    table.add_section()
    table.add_row("total", f"{record.seconds * 1e3:.1f}", _rate(record.megapixels, record.seconds))
    return table


def _percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty sequence: the ``ceil(fraction * n)``-th value."""
    ordered = sorted(values)
    # round(): a product a hair above a whole number (floating point) must not add a rank.
    rank = max(1, min(len(ordered), math.ceil(round(fraction * len(ordered), 9))))
    return ordered[rank - 1]


def stage_summary(records: Sequence[ImageRecord]) -> list[dict[str, Any]]:
    """Per stage name over all records: count, total, median and p95 in seconds.

    Kernel steps are grouped by their position and name (``step 1: blur``).
    """
    by_stage: dict[str, list[float]] = {}
    for record in records:
        for stage in record.stages:
            by_stage.setdefault(stage.stage, []).append(stage.seconds)
    return [
        {
            "stage": name,
            "count": len(times),
            "total_s": sum(times),
            "median_s": statistics.median(times),
            "p95_s": _percentile(times, 0.95),
        }
        for name, times in by_stage.items()
    ]


def summary_table(records: Sequence[ImageRecord]) -> Table:
    """A batch's stages: totals, median and p95 milliseconds."""
    table = Table(title=f"{len(records)} images", title_justify="left")
    for column in ("stage", "total ms", "median ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for row in stage_summary(records):
        table.add_row(
            row["stage"],
            f"{row['total_s'] * 1e3:.1f}",
            f"{row['median_s'] * 1e3:.1f}",
            f"{row['p95_s'] * 1e3:.1f}",
        )
    return table


def _versions() -> dict[str, str]:
    names = {"imconv": "imconv", "numpy": "numpy", "scipy": "scipy", "pillow": "pillow"}
    found = {"python": platform.python_version()}
    for key, distribution in names.items():
        try:
            found[key] = version(distribution)
        except PackageNotFoundError:
            found[key] = "unknown"
    return found


def _machine() -> dict[str, Any]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cores": os.cpu_count(),
    }


def record_dict(record: ImageRecord) -> dict[str, Any]:
    """One image's record as JSON-ready data."""
    return {
        "input": record.source,
        "output": record.output,
        "width": record.width,
        "height": record.height,
        "channels": record.channels,
        "mode": record.mode,
        "output_shape": list(record.output_shape),
        "range": record.range_rule,
        "megapixels": record.megapixels,
        "seconds": record.seconds,
        "stages": [
            {
                "stage": stage.stage,
                "seconds": stage.seconds,
                "megapixels_per_second": (
                    record.megapixels / stage.seconds if stage.seconds > 0 else None
                ),
                "algorithm": stage.algorithm,
                "reason": stage.reason,
            }
            for stage in record.stages
        ],
    }


def report_dict(
    records: Sequence[ImageRecord],
    *,
    kernels: Sequence[str],
    options: dict[str, Any],
    threads: int,
    failures: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The ``--report`` document: every image, the batch summary, options and environment."""
    return {
        "report_version": REPORT_VERSION,
        "kernels": list(kernels),
        "options": options,
        "threads": threads,
        "versions": _versions(),
        "machine": _machine(),
        "images": [record_dict(record) for record in records],
        "failures": [{"input": name, "error": reason} for name, reason in failures],
        "summary": {
            "images": len(records),
            "failed": len(failures),
            "seconds": sum(record.seconds for record in records),
            "megapixels": sum(record.megapixels for record in records),
            "stages": stage_summary(records),
        },
    }


def write_report(path: Path, document: dict[str, Any]) -> None:
    """Write the JSON report whole or not at all (temporary file, then rename)."""
    text = json.dumps(document, indent=2, default=str) + "\n"
    path = Path(path)
    if path.is_dir():
        raise ImageWriteError(f"cannot write the report {str(path)!r}: it is a folder")
    try:
        write_atomic(path, lambda stream: stream.write(text.encode("utf-8")))
    except OSError as error:
        if isinstance(error, ImconvError):
            raise
        raise ImageWriteError(
            f"cannot write the report {str(path)!r}: {error.strerror or error}"
        ) from error


def failure_table(failures: Sequence[tuple[str, str]]) -> Table:
    """The files of a batch that failed, each with its one-line reason."""
    table = Table(title=f"{len(failures)} failed", title_justify="left")
    table.add_column("input", overflow="fold")
    table.add_column("error", overflow="fold")
    for source, reason in failures:
        table.add_row(source, reason)
    return table


def options_dict(steps: Sequence[FilterStep]) -> list[dict[str, Any]]:
    """The kernel and options of each step, for the JSON report."""
    return [
        {
            "kernel": step.kernel.name,
            "mode": str(step.options.mode),
            "padding": str(step.options.padding),
            "cval": step.options.cval,
            "stride": step.options.stride,
            "dilation": step.options.dilation,
            "correlate": step.options.correlate,
            "algorithm": str(step.options.algorithm),
        }
        for step in steps
    ]


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
