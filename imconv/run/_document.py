"""The ``report`` JSON document of a run: every image, the batch summary, options, machine."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imconv.batch import BatchResult
from imconv.environment import machine, versions
from imconv.errors import ImageWriteError, ImconvError
from imconv.images import write_atomic
from imconv.stream import ImageRecord, Recipe

REPORT_VERSION = 1


def percentile(values: Sequence[float], fraction: float) -> float:
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
            "p95_s": percentile(times, 0.95),
        }
        for name, times in by_stage.items()
    ]


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
        "notes": list(dict.fromkeys(record.notes)),
        "megapixels": record.megapixels,
        "seconds": record.seconds,
        **({} if (tiling := record.tiling()) is None else {"tiles": tiling}),
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


def options_dict(recipe: Recipe) -> list[dict[str, Any]]:
    """The kernel and options of each step, for the JSON report."""
    options = recipe.options
    return [
        {
            "kernel": kernel.name,
            "mode": str(options.mode),
            "padding": str(options.padding),
            "cval": None if math.isnan(options.cval) else options.cval,  # null: NaN
            "stride": options.stride,
            "dilation": options.dilation,
            "correlate": recipe.operation == "correlate",
            "algorithm": str(options.algorithm),
        }
        for kernel in recipe.kernels
    ]


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


def report_document(
    recipe: Recipe,
    result: BatchResult,
    *,
    threads: int,
    single: bool,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``report`` document: every image, the summary, options and environment.

    ``warnings`` are the run's (parameters in backticks); each image carries its own
    ``notes``. A batch (not ``single``) adds its wall time, throughput and counts to the
    summary; ``unfinished`` lists the inputs whose output is missing (interrupted).
    """
    records = result.records
    document: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "kernels": [kernel.name for kernel in recipe.kernels],
        "options": options_dict(recipe),
        "threads": threads,
        "versions": versions("imconv", "numpy", "scipy", "pillow"),
        "machine": machine(),
        "images": [record_dict(record) for record in records],
        "failures": [{"input": name, "error": reason} for name, reason in result.failures],
        "unfinished": [
            {"input": job.source, "output": job.destination} for job in result.unfinished
        ],
        "warnings": list(warnings),
        "summary": {
            "images": len(records),
            "failed": len(result.failures),
            "seconds": sum(record.seconds for record in records),
            "megapixels": sum(record.megapixels for record in records),
            "stages": stage_summary(records),
        },
    }
    if not single:
        document["summary"].update(run_dict(result))
    return document


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
