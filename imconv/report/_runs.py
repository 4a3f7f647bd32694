"""A run's records as Rich tables: timings, batch summaries, failures, dry-run plans.

Each table is at least as wide as its title (a path): printed wide enough (into a pipe or
a file, see ``imconv.cli.show``), no title or cell is wrapped or cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from imconv.batch import BatchResult
from imconv.run import show_bytes, stage_summary
from imconv.stream import ImageRecord, PlannedImage


def _rate(megapixels: float, seconds: float) -> str:
    # Stages under 0.1 ms (nothing to prepare) have no meaningful rate.
    return f"{megapixels / seconds:.1f}" if seconds >= 1e-4 and megapixels else "-"


def timing_table(record: ImageRecord) -> Table:
    """One row per stage: milliseconds, megapixels per second, algorithm and why."""
    title = f"{record.source}  {record.width}x{record.height}x{record.channels} ({record.mode})"
    caption = _cut_caption(record)
    table = Table(title=title, title_justify="left", min_width=max(len(title), len(caption)),
                  caption=caption, caption_justify="left")  # fmt: skip
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


def _cut_caption(record: ImageRecord) -> str:
    """How the image was cut: bands (stage times summed over them) or tiles."""
    tiling = record.tiling()
    if tiling is None:
        return "stages: summed over the bands, which run on every core; total: wall time"
    peak = tiling["peak_memory"]
    return (
        f"tiled: {tiling['strips']} strips of {tiling['strip_rows']} rows, bands of "
        f"{tiling['band_rows']}, on {tiling['scheduler']} ({tiling['workers']}); memory "
        f"budget {show_bytes(tiling['memory_budget'])}"
        + ("" if peak is None else f", peak {show_bytes(peak)}")
    )


def summary_table(records: Sequence[ImageRecord], *, caption: str | None = None) -> Table:
    """A batch's stages: totals, median and p95 milliseconds (``caption``: its throughput)."""
    table = Table(
        title=f"{len(records)} images",
        title_justify="left",
        caption=caption,
        caption_justify="left",
        min_width=len(caption or ""),
    )
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


def failure_table(failures: Sequence[tuple[str, str]]) -> Table:
    """The files of a batch that failed, each with its one-line reason."""
    table = Table(title=f"{len(failures)} failed", title_justify="left", show_lines=True)
    table.add_column("input", overflow="fold")
    table.add_column("error", overflow="fold")
    for source, reason in failures:
        table.add_row(source, reason)
    return table


def plan_table(planned: PlannedImage) -> Table:
    """``--dry-run``: one row per step with shapes, algorithm, why and operations; the
    caption estimates the run's peak memory, part by part."""
    title = f"{planned.source}: plan (nothing computed)"
    memory = planned.memory
    parts = [
        f"interpreter {show_bytes(memory.interpreter)}",
        f"decoded image {show_bytes(memory.decoded)}",
        f"output image {show_bytes(memory.output)}",
        f"{memory.bands_in_flight} band{'s' * (memory.bands_in_flight > 1)} in flight "
        f"x {show_bytes(memory.band)}",
    ]
    if memory.whole:
        parts.append(f"whole float result {show_bytes(memory.whole)}")
    caption = f"peak memory about {show_bytes(memory.total)}: {', '.join(parts)}"
    table = Table(title=title, title_justify="left", min_width=max(len(title), len(caption)),
                  caption=caption, caption_justify="left")  # fmt: skip
    for column in ("step", "in", "out", "algorithm", "operations", "why"):
        table.add_column(column, justify="right" if column == "operations" else "left",
                         overflow="fold")  # fmt: skip
    for number, step in enumerate(planned.steps, start=1):
        first = step.plans.first
        table.add_row(
            f"{number}: {step.name}",
            "x".join(map(str, step.input_shape)),
            "x".join(map(str, step.output_shape)),
            str(first.algorithm),
            f"{sum(p.operations for p in step.plans.plans):.3g}",
            f"{first.reason}: {first.explanation}",
        )
    return table
