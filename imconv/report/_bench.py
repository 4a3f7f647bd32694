"""`imconv bench` results as a table with winners, crossovers and notes."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

_BENCH_LABELS = {
    "scipy.ndimage.convolve": "ndimage",
    "scipy.signal.fftconvolve": "fftconvolve",
    "cv2.filter2D": "filter2D",
    "PIL.ImageFilter.Kernel": "PIL Kernel",
}
_BENCH_STATUS = {
    "skipped": ("skip", "dim"),
    "unsupported": ("n/a", "dim"),
    "failed": ("error", "red"),
}


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
    text = Text(
        _milliseconds(median) + ("*" if winner else ""), style="bold green" if winner else ""
    )
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
        cells = [
            _bench_cell(result.timing(contender.name, size), won.get(size) == contender.name)
            for size in result.sizes
        ]
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
    parts = [
        f"{_bench_label(name)} at k={first}" + (f"..{last}" if last != first else "")
        for name, first, last in runs
    ]
    return "fastest (auto not counted): " + ", ".join(parts) if parts else ""


def _crossover_line(result: Any) -> str:
    found = result.crossovers()
    steps = [
        f"{_bench_label(c.before)} -> {_bench_label(c.after)} between k={c.below} and k={c.above}"
        for c in found
    ]
    return "crossovers: " + ("; ".join(steps) if steps else "none")


def bench_intent(image: Any, contenders: Any, sizes: Any, repeat: int) -> str:
    """The line ``imconv bench`` prints before it starts: what it times, on what, how often."""
    height, width, channels = image.pixels.shape
    names = ", ".join(_bench_label(contender.name) for contender in contenders)
    shown = ", ".join(map(str, sizes))
    return (
        f"imconv: timing {names} on {image.source} ({width}x{height}x{channels}) "
        f"at k = {shown}, {repeat} runs each after a warm-up"
    )


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
    lines = [
        "* fastest at that size; under each median: ± half the min-max spread, in %",
        _winner_line(result),
        _crossover_line(result),
    ]
    if any(t.status == "skipped" for t in result.timings):
        lines.append(f"skip: {SKIP_RULE} (budget {result.budget:g} s; --budget to change)")
    for contender in result.contenders:
        if contender.kind == "peer":
            lines.append(
                f"{_bench_label(contender.name)}: {contender.name} "
                f"{contender.version}, {contender.note}"
            )
    lines += [f"not installed: {line}" for line in result.missing]
    parts += [Text(line, style="dim") for line in lines if line]
    return Group(*parts)
