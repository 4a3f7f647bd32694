"""The Typer app, its consoles, exit statuses, and the one place errors become them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from imconv.errors import ExitStatus, ImconvError, InvalidParameterError, status_of

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


# The running command's parameters by library name (see run_guarded).
_flags: dict[str, str] = {}


def _flags_of(context: typer.Context) -> dict[str, str]:
    """A command's parameters by name: ``stride`` -> ``--stride``, ``output`` -> ``-o``,
    ``inputs`` -> ``INPUT...`` (the command's parameters are named as the library's)."""
    found = {}
    for param in context.command.params:
        if param.param_type_name == "option":
            found[param.name] = param.opts[0]
        elif param.name is not None:
            found[param.name] = param.metavar or param.name.upper()
    return found


def as_flags(error: ImconvError) -> tuple[str, str | None]:
    """The error's message and hint with library parameter names shown as the command's
    flags (the one place where parameters become flags)."""
    names = _flags
    message = error.message
    if isinstance(error, InvalidParameterError) and error.name in names:
        message = f"{names[error.name]} must be {error.allowed}; got {error.value!r}"

    def flag(text: str) -> str:
        return re.sub(r"`([A-Za-z_]+)`", lambda m: names.get(m[1], m[1]), text)

    return flag(message), None if error.hint is None else flag(error.hint)


def fail(error: ImconvError) -> ExitStatus:
    """Print ``error`` as one line (and its hint) on stderr; return its exit status."""
    message, hint = as_flags(error)
    stderr.print(f"imconv: error: {message}", markup=False)
    if hint:
        stderr.print(f"hint: {hint}", markup=False)
    return status_of(error)


def run_guarded(
    work: Callable[[], ExitStatus],
    context: typer.Context | None = None,
    *,
    traceback: bool = False,
) -> None:
    """Run the command ``work``; turn library errors and Ctrl-C into one line and an exit
    status, the library's parameter names shown as the ``context`` command's flags."""
    _flags.clear()
    if context is not None:
        _flags.update(_flags_of(context))
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
    """``"2"`` -> 2 and ``"2,3"`` -> (2, 3) (rows, then columns); the library checks the
    numbers themselves."""
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) not in (1, 2):
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
