"""Charts of ``imconv bench`` results: time against kernel size, one line per contender.

matplotlib is optional (the ``imconv[plot]`` extra). It is imported only when a chart is
drawn, through its object API and the Agg renderer (no pyplot, no display, no global state).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from imconv.errors import ImageWriteError, ImconvError, InvalidParameterError

from .comparison import BenchResult

__all__ = ["PLOT_FORMATS", "check_plot_path", "plot_bench", "require_matplotlib"]

PLOT_FORMATS = ("png", "svg", "pdf")
PLOT_HINT = "pip install 'imconv[plot]'"


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def require_matplotlib() -> None:
    """Raise :class:`~imconv.errors.ImconvError` with an install hint if matplotlib is
    missing."""
    if not _installed("matplotlib"):
        raise ImconvError(
            "drawing a chart needs matplotlib, which is not installed", hint=PLOT_HINT
        )


def check_plot_path(path: str | Path) -> Path:
    """Check, before any work, that a chart can be written to ``path`` (and matplotlib is
    there): a ``.png``, ``.svg`` or ``.pdf`` name in an existing folder."""
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise InvalidParameterError("plot", str(path), "a .png, .svg or .pdf file name")
    if not path.parent.is_dir():
        raise ImageWriteError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist"
        )
    require_matplotlib()
    return path


def plot_bench(result: BenchResult, path: str | Path) -> Path:
    """Draw median time against kernel size per contender (log-log axes) into ``path``.

    Peers are dashed; the spread (min to max) is a shaded band; crossovers are dotted
    vertical lines between the sizes where the winner changes. Skipped and unsupported
    cells are left out. The file appears whole or not at all.

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    from imconv.images import write_atomic

    path = check_plot_path(path)
    figure = Figure(figsize=(8, 5), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    for contender in result.contenders:
        cells = [t for t in result.timings if t.contender == contender.name and t.times]
        if not cells:
            continue
        sizes = [t.size for t in cells]
        style = "--" if contender.kind == "peer" else "-"
        (line,) = axes.plot(
            sizes,
            [t.median * 1e3 for t in cells],  # type: ignore[operator]
            style,
            marker="o",
            markersize=4,
            label=contender.name,
        )
        low = [t.minimum * 1e3 for t in cells]  # type: ignore[operator]
        high = [t.maximum * 1e3 for t in cells]  # type: ignore[operator]
        axes.fill_between(sizes, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    for crossover in result.crossovers():
        axes.axvline((crossover.below + crossover.above) / 2, color="grey", linestyle=":")
    axes.set_xscale("log")  # sizes 3, 5, 7, 11, ... 51 are nearly geometric
    axes.set_yscale("log")
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticks(list(result.sizes), [str(size) for size in result.sizes])
    axes.set_xlabel("kernel size k (k x k, random, non-separable)")
    axes.set_ylabel("median time per convolution (ms)")
    height, width, channels = result.shape
    axes.set_title(
        f"{result.image}: {width}x{height}x{channels} float32, {result.threads} "
        f"threads, median of {result.repeat}",
        fontsize="medium",
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    suffix = path.suffix.lower().lstrip(".")
    write_atomic(path, lambda stream: figure.savefig(stream, format=suffix))
    return path
