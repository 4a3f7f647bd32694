"""Run records as Rich tables and as the ``--report`` JSON document; dry-run plans."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from imconv.environment import machine, versions
from imconv.errors import ImageWriteError, ImconvError
from imconv.images import write_atomic
from imconv.pipeline import FilterStep, ImageRecord

if TYPE_CHECKING:
    from imconv.batch import BatchResult


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


def summary_table(records: Sequence[ImageRecord], *, caption: str | None = None) -> Table:
    """A batch's stages: totals, median and p95 milliseconds (``caption``: its throughput)."""
    table = Table(title=f"{len(records)} images", title_justify="left", caption=caption,
                  caption_justify="left")  # fmt: skip
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
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``--report`` document: every image, the batch summary, options and environment.

    ``run`` (see :func:`run_dict`) adds a batch's wall time, throughput and counts to the
    summary.
    """
    document = {
        "report_version": REPORT_VERSION,
        "kernels": list(kernels),
        "options": options,
        "threads": threads,
        "versions": versions("imconv", "numpy", "scipy", "pillow"),
        "machine": machine(),
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
    document["summary"].update(run or {})
    return document


def run_dict(result: BatchResult) -> dict[str, Any]:
    """A batch's wall time, throughput, workers and what it left out, for the report."""
    return {
        "wall_seconds": result.seconds,
        "files_per_second": result.files_per_second,
        "megapixels_per_second": result.megapixels_per_second,
        "workers": result.workers,
        "scheduler": result.scheduler,
        "skipped": result.skipped,
        "excluded": result.excluded,
        "kept": result.existing,
        "interrupted": result.interrupted,
        "not_done": result.not_done,
    }


def throughput(result: BatchResult) -> str:
    """``4.21 s wall, 9.5 files/s, 12.3 MP/s on 2 workers``."""
    if result.scheduler is not None:
        where = "a local Dask cluster" if result.scheduler == "local" else result.scheduler
    else:
        where = f"{result.workers} worker{'s' if result.workers != 1 else ''}"
    return (
        f"{result.seconds:.2f} s wall, {result.files_per_second:.1f} files/s, "
        f"{result.megapixels_per_second:.1f} MP/s on {where}"
    )


def batch_summary(result: BatchResult) -> Text:
    """One line: how many files were written, failed, kept, skipped, and how fast."""
    counts = [(len(result.records), "written"), (len(result.failures), "failed")]
    if result.interrupted:
        counts.append((result.not_done, "not done (interrupted)"))
    counts += [
        (result.existing, "kept (output exists)"),
        (result.skipped, "skipped (not images)"),
        (result.excluded, "excluded by --include/--exclude"),
    ]
    parts = [f"{count} {what}" for count, what in counts if count or what in ("written", "failed")]
    return Text(f"{', '.join(parts)}; {throughput(result)}")


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
    table = Table(title=f"{len(failures)} failed", title_justify="left", show_lines=True)
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


def _bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover - the loop returns


def plan_table(source: str, planned: Sequence[Any]) -> Table:
    """``--dry-run``: one row per step with shapes, algorithm, why, operations, memory."""
    table = Table(title=f"{source}: plan (nothing computed)", title_justify="left")
    for column in ("step", "in", "out", "algorithm", "operations", "peak memory", "why"):
        table.add_column(column, justify="right" if column in ("operations", "peak memory")
                         else "left", overflow="fold")  # fmt: skip
    for number, step in enumerate(planned, start=1):
        table.add_row(
            f"{number}: {step.name}",
            "x".join(map(str, step.input_shape)),
            "x".join(map(str, step.output_shape)),
            str(step.choice.algorithm),
            f"{step.choice.operations:.3g}",
            _bytes(step.choice.peak_bytes),
            step.choice.reason,
        )
    return table
