"""The Typer app, its consoles, exit statuses, and the one place errors become them."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

try:  # the click that Typer runs on: its own copy (recent Typer), or click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer
    from click import exceptions as click_errors

from imconv.errors import ExitStatus, ImconvError, InvalidParameterError, received, status_of

HELP = """Filter images with convolution kernels.

[b]Examples[/b]

  imconv apply blur photo.jpg                        [dim]# writes photo_blur.jpg[/dim]

  imconv apply gaussian:sigma=3 a.png b.png -o out/

  imconv apply sobel-x photo.jpg --then sobel-y --timing

  imconv apply "0 1 0; 1 4 1; 0 1 0" photo.jpg --normalize

  imconv kernels gaussian:sigma=2
"""

# Click raises this for a command given no arguments (click >= 8.2); it shows the help.
_NO_ARGS = getattr(click_errors, "NoArgsIsHelpError", ())


class ImconvGroup(TyperGroup):
    """The ``imconv`` command group: when stderr is not a terminal, a usage error of the
    parser (an unknown option, a missing argument, a bad choice) is one plain line
    ``imconv: error: ...`` and a ``hint:`` line, as every other failure; on a terminal,
    Typer's panel."""

    def main(self, *args: Any, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command; format the parser's errors as one line off a terminal."""
        if not standalone_mode or stderr.is_terminal:
            return super().main(*args, standalone_mode=standalone_mode, **extra)
        try:
            code = super().main(*args, standalone_mode=False, **extra)
        except _NO_ARGS as error:  # `imconv apply` alone: its help, as on a terminal
            typer.echo(error.ctx.get_help(), err=True)
            sys.exit(error.exit_code)
        except click_errors.ClickException as error:
            stderr.print(f"imconv: error: {error.format_message()}", markup=False)
            context = getattr(error, "ctx", None)
            if context is not None:
                help_flag = context.help_option_names[0]
                stderr.print(
                    f"hint: Try '{context.command_path} {help_flag}' for help.", markup=False
                )
            sys.exit(error.exit_code)
        except typer.Abort:
            stderr.print("imconv: interrupted", markup=False)
            sys.exit(int(ExitStatus.INTERRUPTED))
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=ImconvGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Console(Console):
    """A Rich console whose broken pipe (``imconv kernels | head -1``) is an exception for
    :func:`run_guarded` (status 141), not Rich's own exit with status 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


stderr = _Console(stderr=True, highlight=False, soft_wrap=True)
stdout = _Console(highlight=False)

# Tables printed into a pipe or a file are laid out this wide: nothing wraps or is cut
# (a path split mid-name defeats grep), whatever COLUMNS says.
PLAIN_WIDTH = 10_000


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


def flagged(text: str) -> str:
    """``text`` with the library's parameter names in backticks shown as the running
    command's flags (```stride``` -> ``--stride``), and never Python's None."""
    names = _flags
    shown = re.sub(r"`([A-Za-z_]+)`", lambda m: names.get(m[1], m[1]), text)
    return shown.replace("; got None", "; none given")


def as_flags(error: ImconvError) -> tuple[str, str | None]:
    """The error's message and hint with library parameter names shown as the command's
    flags (the one place where parameters become flags)."""
    message = error.message
    if isinstance(error, InvalidParameterError) and error.name in _flags:
        message = f"{_flags[error.name]} must be {error.allowed}{received(error.value)}"
    return flagged(message), None if error.hint is None else flagged(error.hint)


def fail(error: ImconvError) -> ExitStatus:
    """Print ``error`` as one line (and its hint) on stderr; return its exit status."""
    message, hint = as_flags(error)
    stderr.print(f"imconv: error: {message}", markup=False)
    if hint:
        stderr.print(f"hint: {hint}", markup=False)
    return status_of(error)


def warn(message: str) -> None:
    """Print a library warning as one line on stderr, its parameters shown as flags."""
    stderr.print(f"imconv: warning: {flagged(message)}", markup=False)


def show(console: Console, renderable: Any) -> None:
    """Print a table: on a terminal at its width, elsewhere as wide as it needs (no line
    of it wrapped or cut, so that each row stays one line for grep)."""
    if console.is_terminal:
        console.print(renderable)
        return
    wide = _Console(
        file=console.file, width=PLAIN_WIDTH, highlight=False, color_system=None, no_color=True
    )
    wide.print(renderable, crop=False)


def _silence_stdout() -> None:
    """After a broken pipe: point standard output at /dev/null, so that flushing it when
    the interpreter exits raises nothing more."""
    with contextlib.suppress(OSError, ValueError):
        target = os.open(os.devnull, os.O_WRONLY)
        os.dup2(target, sys.stdout.fileno())
        os.close(target)


def run_guarded(
    work: Callable[[], ExitStatus],
    context: typer.Context | None = None,
    *,
    traceback: bool = False,
) -> None:
    """Run the command ``work``; turn library errors, Ctrl-C, a closed stdout (141) and
    any unforeseen exception into one line and an exit status, the library's parameter
    names shown as the ``context`` command's flags (``traceback``: raise instead)."""
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
    except BrokenPipeError:  # a table or JSON into `| head`: stop quietly, as cat does
        status = ExitStatus.BROKEN_PIPE
    except Exception as error:  # a bug: still one line (the stack with --traceback)
        if traceback:
            raise
        status = fail(_unforeseen(error))
    if status == ExitStatus.BROKEN_PIPE:
        _silence_stdout()
    raise typer.Exit(int(status))


# A KERNEL of numbers written with a leading minus ("-1 0 1", "-1,0,1", "-0.5 1; 1 -0.5"):
# click would take it for an option.
_NEGATIVE_MATRIX = re.compile(r"-\.?\d[\d.eE+\-\s,;]*")


def protect_negative_kernels(args: list[str], params: list[Any]) -> list[str]:
    """``args`` with every positional argument that is a matrix of numbers starting with a
    minus given a leading space (which kernel parsing ignores), so that click reads it as
    an argument, not as an unknown option; the values of options are left alone."""
    valued = {
        name
        for param in params
        if param.param_type_name == "option"
        and not getattr(param, "is_flag", False)
        and not getattr(param, "count", False)
        for name in (*param.opts, *param.secondary_opts)
    }
    protected, expecting = [], False
    for index, arg in enumerate(args):
        if arg == "--":
            return protected + args[index:]
        if not expecting and _NEGATIVE_MATRIX.fullmatch(arg):
            arg = f" {arg}"
            expecting = False
        else:
            expecting = not expecting and arg in valued
        protected.append(arg)
    return protected


class KernelCommand(TyperCommand):
    """A command with a KERNEL argument that may start with a minus (``"-1 0 1"``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Protect negative inline kernels, then parse as usual."""
        return super().parse_args(ctx, protect_negative_kernels(args, self.params))


def _unforeseen(error: Exception) -> ImconvError:
    """An exception imconv did not foresee, as one line that says it is a bug."""
    detail = " ".join(str(error).split()) or "no message"
    return ImconvError(
        f"unexpected {type(error).__name__}: {detail}",
        hint="this is a bug in imconv; --traceback shows where",
    )


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

        try:
            stdout.print(f"imconv {__version__}")
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(int(ExitStatus.BROKEN_PIPE)) from None
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
