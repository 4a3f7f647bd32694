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
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from imconv.errors import ImageWriteError, ImconvError
from imconv.images import write_atomic
from imconv.pipeline import FilterStep, ImageRecord

if TYPE_CHECKING:
    from imconv.batch import BatchResult, Outcome

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


class _MegapixelRate(ProgressColumn):
    """Input megapixels per second so far (the task's ``megapixels`` field over its time)."""

    def render(self, task: Any) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        megapixels = task.fields.get("megapixels", 0.0)
        rate = megapixels / elapsed if elapsed else 0.0
        return Text(f"{rate:.1f} MP/s", style="progress.data.speed")


def outcome_line(outcome: Outcome, done: int, total: int) -> Text:
    """``[3/40] a.png -> out/a_blur.png 12.3 ms``, or the file's one-line error."""
    width = len(str(total))
    head = f"[{done:>{width}}/{total}] {outcome.job.source}"
    if outcome.error is not None:
        return Text(f"{head} failed: {outcome.error}")
    if outcome.record is None:
        return Text(f"{head} interrupted")
    return Text(f"{head} -> {outcome.record.output} {outcome.record.seconds * 1e3:.1f} ms")


class BatchProgress:
    """Shows a batch as it runs: a bar (files done, MP/s, ETA) and/or a line per file.

    Parameters
    ----------
    console
        Where to draw (stderr).
    total
        The number of files.
    bar
        Draw the progress bar (only on a terminal).
    lines
        Print a line per finished file (``--verbose``).

    Call the object with each :class:`~imconv.batch.Outcome`, inside ``with``.
    """

    def __init__(self, console: Console, total: int, *, bar: bool, lines: bool) -> None:
        self.console, self.total, self.lines, self.done = console, total, lines, 0
        self.progress = None
        if bar:
            self.progress = Progress(
                TextColumn("[progress.description]{task.description}"), BarColumn(),
                MofNCompleteColumn(), _MegapixelRate(), TimeRemainingColumn(),
                console=console, transient=True,
            )  # fmt: skip
            self.task = self.progress.add_task("filtering", total=total, megapixels=0.0)

    def __enter__(self) -> BatchProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, outcome: Outcome) -> None:
        """Count one finished file."""
        self.done += not outcome.interrupted
        if self.lines:
            (self.progress.console if self.progress else self.console).print(
                outcome_line(outcome, self.done, self.total), markup=False, highlight=False
            )
        if self.progress is not None:
            megapixels = outcome.record.megapixels if outcome.record is not None else 0.0
            total = self.progress.tasks[0].fields["megapixels"] + megapixels
            self.progress.update(self.task, advance=1, megapixels=total)


# imconv bench: the comparison table, its notes and a progress bar (data from imconv.bench).

_BENCH_LABELS = {
    "scipy.ndimage.convolve": "ndimage",
    "scipy.signal.fftconvolve": "fftconvolve",
    "cv2.filter2D": "filter2D",
    "PIL.ImageFilter.Kernel": "PIL Kernel",
}
_BENCH_STATUS = {"skipped": ("skip", "dim"), "unsupported": ("n/a", "dim"),
                 "failed": ("error", "red")}  # fmt: skip


def _bench_label(name: str) -> str:
    return _BENCH_LABELS.get(name, name)


def _milliseconds(seconds: float) -> str:
    value = seconds * 1e3  # three significant digits, trailing zeros kept: 5.00, 0.211, 12.3
    return f"{value:#.3g}" if value < 99.95 else f"{value:.0f}"


def _bench_cell(timing: Any, winner: bool) -> Text:
    """Median ms (``*`` and bold for the winner) over the spread: +-half of min..max, in %."""
    if timing is None:
        return Text("")
    if timing.status != "ok":
        label, style = _BENCH_STATUS.get(timing.status, (timing.status, "dim"))
        return Text(label, style=style)
    median = timing.median
    spread = (timing.maximum - timing.minimum) / 2 / median * 100 if median > 0 else 0.0
    text = Text(_milliseconds(median) + ("*" if winner else ""),
                style="bold green" if winner else "")  # fmt: skip
    text.append(f"\n±{spread:.0f}%", style="dim")
    return text


def _auto_rows(result: Any, won: dict[int, str]) -> tuple[list[Text], list[Text]]:
    """Per size: the algorithm auto ran, and auto's median over the winner's."""
    ran, ratios = [Text("auto ran", style="dim")], [Text("auto / best", style="dim")]
    for size in result.sizes:
        auto = result.timing("auto", size)
        best = result.timing(won[size], size) if size in won else None
        measured = auto is not None and auto.median is not None
        ran.append(Text((auto.algorithm or "") if measured else "-", style="dim"))
        ratio = f"{auto.median / best.median:.2f}" if measured and best is not None else "-"
        ratios.append(Text(ratio, style="dim"))
    return ran, ratios


def bench_table(result: Any) -> Table:
    """``imconv bench``: median ms per contender (rows) and kernel size (columns)."""
    from rich import box

    won = result.winners()
    table = Table(title="median ms", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("k")
    for size in result.sizes:
        table.add_column(str(size), justify="right")
    for contender in result.contenders:
        cells = [_bench_cell(result.timing(contender.name, size), won.get(size) == contender.name)
                 for size in result.sizes]  # fmt: skip
        table.add_row(Text(_bench_label(contender.name)), *cells)
    if any(c.name == "auto" for c in result.contenders):
        table.add_section()
        for row in _auto_rows(result, won):
            table.add_row(*row)
    return table


def _winner_line(result: Any) -> str:
    """``fastest: direct at k=3..5, fft at k=7..51`` (runs of neighbouring sizes)."""
    runs: list[list[Any]] = []
    for size, name in result.winners().items():
        if runs and runs[-1][0] == name:
            runs[-1][2] = size
        else:
            runs.append([name, size, size])
    parts = [f"{_bench_label(name)} at k={first}" + (f"..{last}" if last != first else "")
             for name, first, last in runs]  # fmt: skip
    return "fastest (auto not counted): " + ", ".join(parts) if parts else ""


def _crossover_line(result: Any) -> str:
    found = result.crossovers()
    steps = [f"{_bench_label(c.before)} -> {_bench_label(c.after)} between k={c.below} and "
             f"k={c.above}" for c in found]  # fmt: skip
    return "crossovers: " + ("; ".join(steps) if steps else "none")


def bench_view(result: Any) -> Group:
    """Everything ``imconv bench`` prints: the setting, the table, crossovers and notes."""
    from imconv.bench import SKIP_RULE

    height, width, channels = result.shape
    setting = (
        f"{result.image}: {width}x{height}x{channels} float32; convolve, same size, reflect "
        f"padding; random non-separable k x k kernels (seed {result.seed}); median of "
        f"{result.repeat} runs after a warm-up; threads {result.threads}"
    )
    parts: list[Any] = [Text(setting), bench_table(result)]
    lines = ["* fastest at that size; under each median: ± half the min-max spread, in %",
             _winner_line(result), _crossover_line(result)]  # fmt: skip
    if any(t.status == "skipped" for t in result.timings):
        lines.append(f"skip: {SKIP_RULE} (budget {result.budget:g} s; --budget to change)")
    for contender in result.contenders:
        if contender.kind == "peer":
            lines.append(f"{_bench_label(contender.name)}: {contender.name} "
                         f"{contender.version}, {contender.note}")  # fmt: skip
    lines += [f"not installed: {line}" for line in result.missing]
    parts += [Text(line, style="dim") for line in lines if line]
    return Group(*parts)


class BenchProgress:
    """A transient progress bar for ``imconv bench`` while it runs, on a terminal only.

    Entering gives the callback to call before each cell (contender name, size), or None
    when ``console`` is not a terminal (nothing is drawn into pipes and files).
    """

    def __init__(self, console: Any, total: int) -> None:
        self.console, self.total, self.done = console, total, 0
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.console.is_terminal:
            return None
        from rich.progress import Progress

        self.bar = Progress(console=self.console, transient=True)
        self.task = self.bar.add_task("timing", total=self.total)
        self.bar.start()
        return self.advance

    def advance(self, name: str, size: int) -> None:
        self.bar.update(self.task, completed=self.done, description=f"{name} k={size}")
        self.done += 1

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


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
