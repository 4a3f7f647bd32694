"""The frequency response of a kernel for people: a Rich heat map in the terminal and a
matplotlib figure (``imconv kernels NAME --response [--plot FILE]``).

Both show ``|H|``, the magnitude of the kernel's 2-D DFT zero-padded to 64x64 (more for
larger kernels) and centred, as MATLAB's ``freqz2``
(:func:`imconv.kernels.frequency_response`). A kernel set shows the response of **each
part** (what each kernel does before the per-pixel rule, which is not linear and so has
no frequency response of its own). A bank has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from imconv.errors import KernelError

from ._figures import check_plot_path, save_figure

if TYPE_CHECKING:
    import numpy as np

    from imconv.kernels import Kernel

__all__ = ["COLOURS", "plot_response", "response_map", "response_view"]

TERMINAL_SIDE = 64
"""Most frequency samples drawn per axis in the terminal (two rows per text line)."""

COLOURS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
"""Viridis at 0, 1/4, 1/2, 3/4 and 1, interpolated linearly between."""


def _responses(kernel: Kernel, size: int) -> list[tuple[str, Any, Any, Any]]:
    """``(label, fy, fx, magnitude)`` per part; KernelError for a bank."""
    from imconv.kernels import frequency_response

    if kernel.is_bank:
        raise KernelError(
            f"kernel {kernel.name!r} is a bank of shape {kernel.shape}; a frequency response "
            "is shown for 2-D kernels and kernel sets"
        )
    parts = kernel.parts
    labels = [f"part {i}" for i in range(1, len(parts) + 1)] if kernel.is_set else [kernel.name]
    return [
        (label, *frequency_response(part, size=size))
        for label, part in zip(labels, parts, strict=True)
    ]


def _colour(level: float) -> str:
    """The viridis colour of ``level`` in [0, 1] as a Rich colour."""
    position = min(max(level, 0.0), 1.0) * (len(COLOURS) - 1)
    low = min(int(position), len(COLOURS) - 2)
    t = position - low
    rgb = [round(a + (b - a) * t) for a, b in zip(COLOURS[low], COLOURS[low + 1], strict=True)]
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"


def response_map(magnitude: np.ndarray, *, top: float) -> Text:
    """``magnitude`` as half-block characters (two samples per character, upper and
    lower), at most :data:`TERMINAL_SIDE` samples a side, coloured 0 .. ``top``."""
    import numpy as np

    rows = np.linspace(0, magnitude.shape[0] - 1, min(TERMINAL_SIDE, magnitude.shape[0]))
    cols = np.linspace(0, magnitude.shape[1] - 1, min(TERMINAL_SIDE, magnitude.shape[1]))
    grid = magnitude[np.round(rows).astype(int)][:, np.round(cols).astype(int)] / (top or 1.0)
    text = Text()
    for upper in range(0, grid.shape[0], 2):
        for col in range(grid.shape[1]):
            below = grid[upper + 1, col] if upper + 1 < grid.shape[0] else None
            style = _colour(grid[upper, col])
            style += f" on {_colour(below)}" if below is not None else ""
            text.append("▀", style=style)
        text.append("\n")
    return text


def _colour_bar(top: float) -> Text:
    bar = Text("0 ")
    for step in range(24):
        bar.append("█", style=_colour(step / 23))
    bar.append(f" {top:.4g}  |H|")
    return bar


def response_view(kernel: Kernel, *, size: int = 64) -> Group:
    """``imconv kernels NAME --response``: the heat map of ``|H|`` of the kernel (of each
    part of a set), its axes, a colour bar, and the gain at zero frequency and its peak."""
    import numpy as np

    shown: list[Any] = [Text(f"{kernel.name}  |H|, the magnitude of the 2-D DFT", style="bold")]
    responses = _responses(kernel, size)
    top = max(float(magnitude.max()) for _, _, _, magnitude in responses)
    for label, fy, fx, magnitude in responses:
        peak = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
        facts = Table(show_header=False, box=None, padding=(0, 1))
        facts.add_column(style="dim")
        facts.add_column()
        facts.add_row("grid", f"{magnitude.shape[1]}x{magnitude.shape[0]} DFT, centred")
        facts.add_row("gain at f=0", f"{magnitude[fy.size // 2, fx.size // 2]:.4g}")
        facts.add_row(
            "peak", f"{magnitude.max():.4g} at fx={fx[peak[1]]:+.3f}, fy={fy[peak[0]]:+.3f}"
        )
        if kernel.is_set:
            shown.append(Text(label, style="bold"))
        shown += [response_map(magnitude, top=top), facts]
    axes = "fx -0.5 .. +0.5 cycles/pixel left to right; fy -0.5 .. +0.5 top to bottom"
    shown += [Text(axes, style="dim"), _colour_bar(top)]
    return Group(*shown)


def plot_response(kernel: Kernel, path: str | Path, *, size: int = 64, name: str = "plot") -> Path:
    """Draw ``|H|`` of each part as an image with a colour bar, and the radial profiles
    (mean ``|H|`` against radial frequency), into ``path`` (.png, .svg or .pdf).

    Parameters
    ----------
    kernel : Kernel
        A 2-D kernel or a kernel set.
    path : str or Path
        The file to write; it appears whole or not at all.
    size : int
        DFT length per axis (at least the kernel's side).
    name : str
        The argument named when ``path`` is refused (the command line passes ``--plot``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidParameterError, ImageWriteError, ImconvError
        A bad suffix, a missing folder, matplotlib missing (with an install hint).
    KernelError
        A bank.
    """
    from matplotlib.figure import Figure

    from imconv.kernels import radial_profile

    path = check_plot_path(path, name=name)
    responses = _responses(kernel, size)
    columns = min(len(responses), 4)
    rows = -(-len(responses) // columns)
    figure = Figure(figsize=(3.2 * columns + 0.8, 2.9 * rows + 2.6), dpi=110, layout="constrained")
    grid = figure.add_gridspec(rows + 1, columns, height_ratios=[*([1.0] * rows), 0.9])
    profile = figure.add_subplot(grid[rows, :])
    for index, (label, fy, fx, magnitude) in enumerate(responses):
        axes = figure.add_subplot(grid[index // columns, index % columns])
        # Rows down, as the kernel and the terminal map: fy = -0.5 at the top.
        image = axes.imshow(magnitude, origin="upper", cmap="viridis", aspect="equal",
                            extent=(fx[0], fx[-1], fy[-1], fy[0]))  # fmt: skip
        figure.colorbar(image, ax=axes, shrink=0.85, label="|H|")
        axes.set_title(label, fontsize="medium")
        axes.set_xlabel("fx (cycles/pixel)")
        axes.set_ylabel("fy (cycles/pixel)")
        radius, mean = radial_profile(fy, fx, magnitude)
        profile.plot(radius, mean, marker=".", label=label)
    profile.set_xlabel("radial frequency (cycles/pixel)")
    profile.set_ylabel("mean |H|")
    profile.set_xlim(0.0, 0.5)
    profile.grid(True, alpha=0.3)
    if len(responses) > 1:
        profile.legend(fontsize="small", ncols=min(len(responses), 4))
    figure.suptitle(f"{kernel.name}: |H|, 2-D DFT zero-padded to "
                    f"{responses[0][3].shape[1]}x{responses[0][3].shape[0]}")  # fmt: skip
    return save_figure(figure, path)
