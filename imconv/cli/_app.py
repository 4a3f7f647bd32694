"""The Typer app, its consoles, exit statuses, and the one place errors become them."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from imconv.errors import ImconvError, InvalidParameterError, KernelError

if TYPE_CHECKING:  # the numeric stack loads when a command runs, not for --help
    pass

HELP = """Filter images with convolution kernels.

[b]Examples[/b]

  imconv apply blur photo.jpg                        [dim]# writes photo_blur.jpg[/dim]

  imconv apply gaussian:sigma=3 a.png b.png -o out/

  imconv apply sobel-x photo.jpg --then sobel-y --timing

  imconv apply "0 1 0; 1 4 1; 0 1 0" photo.jpg --normalize

  imconv kernels gaussian:sigma=2
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)


class ExitStatus(IntEnum):
    """The exit statuses of DESIGN.md section 3."""

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    INTERRUPTED = 130


# What the user asked for was wrong (an option, a kernel): usage errors. Others: errors.
USAGE_ERRORS = (InvalidParameterError, KernelError)


def fail(error: ImconvError) -> ExitStatus:
    """Print ``error`` as one line (and its hint) on stderr; return its exit status."""
    stderr.print(f"imconv: error: {error.message}", markup=False)
    if error.hint:
        stderr.print(f"hint: {error.hint}", markup=False)
    return ExitStatus.USAGE if isinstance(error, USAGE_ERRORS) else ExitStatus.ERROR


def run_guarded(work: Callable[[], ExitStatus], *, traceback: bool = False) -> None:
    """Run ``work``; turn library errors and Ctrl-C into one line and an exit status."""
    try:
        status = work()
    except ImconvError as error:
        if traceback:
            raise
        status = fail(error)
    except KeyboardInterrupt:
        stderr.print("imconv: interrupted", markup=False)
        status = ExitStatus.INTERRUPTED
    raise typer.Exit(int(status))


def parse_pair(value: str, name: str) -> int | tuple[int, int]:
    """``"2"`` -> 2 and ``"2,3"`` -> (2, 3) (rows, then columns)."""
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) not in (1, 2) or min(numbers) < 1:
        raise InvalidParameterError(name, value, "a positive integer N or a pair N,M")
    return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])


def version_callback(value: bool) -> None:
    """``--version``: print the version and exit."""
    if value:
        from imconv import __version__

        stdout.print(f"imconv {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Filter images with convolution kernels."""
