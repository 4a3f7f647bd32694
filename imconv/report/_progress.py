"""Live progress on stderr: the batch bar (files, MP/s, ETA) and the bench bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from rich.progress import Progress

    from imconv.batch import Batch, Outcome
    from imconv.tiles import TileProgress

# What each phase of an image filtered tile by tile counts.
_PHASES = {"means": "channel means", "bounds": "result bounds", "filter": "strips"}


def _started_bar(console: Console) -> Progress:
    """A live bar on ``console``: what it counts, the bar, done of total, input MP/s, time
    left (Rich's progress module loads here: a run that shows no bar never imports it)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    class MegapixelRate(ProgressColumn):
        """Input megapixels per second so far (the task's ``megapixels`` over its time)."""

        def render(self, task: Any) -> Text:
            elapsed = task.finished_time if task.finished else task.elapsed
            megapixels = task.fields.get("megapixels", 0.0)
            rate = megapixels / elapsed if elapsed else 0.0
            return Text(f"{rate:.1f} MP/s", style="progress.data.speed")

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        MegapixelRate(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    progress.start()
    return progress


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

    A :class:`imconv.run.Listener`: ``start`` when the outputs are decided, ``advance``
    with each :class:`~imconv.batch.Outcome`, ``strips`` with each strip of an image
    filtered tile by tile, ``stop`` at the end. One named input shows no file count (its
    result is the run's), but its strips when it is tiled.

    Parameters
    ----------
    console
        Where to draw (stderr).
    bar
        Draw the progress bar (only on a terminal).
    lines
        Print a line per finished file (``--verbose``).
    """

    def __init__(self, console: Console, *, bar: bool, lines: bool) -> None:
        self.console, self.bar, self.lines = console, bar, lines
        self.total = self.done = 0
        self.progress: Progress | None = None
        self.active = False
        self.strip_task: Any = None
        self.strip_key: tuple[str, int] = ("", 0)

    def start(self, batch: Batch) -> None:
        """Begin showing ``batch`` (nothing for a single named input)."""
        self.active, self.total = not batch.single, len(batch.jobs)
        if self.active and self.bar:
            self.task = self._bar().add_task("filtering", total=self.total, megapixels=0.0)

    def _bar(self) -> Progress:
        """The live display, started on first use."""
        if self.progress is None:
            self.progress = _started_bar(self.console)
        return self.progress

    def stop(self) -> None:
        """Remove the bar."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def strips(self, progress: TileProgress) -> None:
        """Show how far an image filtered tile by tile is: strips (or a first pass's
        chunks) done, input MP/s, time left; a new image or phase starts a new row."""
        if not self.bar:
            return
        bar = self._bar()
        key = (progress.phase, progress.done)
        if key[0] != self.strip_key[0] or key[1] <= self.strip_key[1]:
            if self.strip_task is not None:
                bar.remove_task(self.strip_task)
            self.strip_task = bar.add_task(_PHASES.get(progress.phase, progress.phase),
                                           total=progress.total, megapixels=0.0)  # fmt: skip
        self.strip_key = key
        bar.update(self.strip_task, completed=progress.done, megapixels=progress.megapixels)

    def advance(self, outcome: Outcome) -> None:
        """Count one finished file."""
        if not self.active:
            return
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
