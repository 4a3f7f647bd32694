"""The exception hierarchy of imconv, and the exit status each error stops a run with.

Every error a user can cause derives from :class:`ImconvError` and also from the builtin
exception it refines, so ``except ValueError`` keeps working for library callers.
Messages name the argument, show the value received with ``!r`` and say what is allowed::

    stride must be a positive integer or a tuple of them, one per axis; got (0, 2)

Messages and hints name library parameters (``stride``, ```overwrite```); the command line
shows them as its flags (``--stride``, ``--overwrite``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = [
    "ExitStatus",
    "ImageReadError",
    "ImageWriteError",
    "ImconvError",
    "InvalidParameterError",
    "KernelError",
    "OutputClosedError",
    "OutputExistsError",
    "ResourceError",
    "ShapeError",
    "UnknownNameError",
]


class ImconvError(Exception):
    """Base class of every error imconv raises on purpose.

    Parameters
    ----------
    message
        The one-line message shown to the user.
    hint
        An optional second sentence telling the user what to do instead.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidParameterError(ImconvError, ValueError):
    """An argument has a value outside what is allowed.

    Parameters
    ----------
    name
        The argument's name as the user wrote it (``"stride"``, ``"--padding"``).
    value
        The value received; shown with ``!r``. None (nothing given) is not shown: the
        message is then "``name`` must be ``allowed``".
    allowed
        What is allowed, phrased to follow "must be".
    hint
        An optional suggestion.
    """

    def __init__(self, name: str, value: Any, allowed: str, *, hint: str | None = None) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name} must be {allowed}{received(value)}", hint=hint)


def received(value: Any) -> str:
    """``"; got VALUE"`` for a message, or nothing when no value was given (None)."""
    return "" if value is None else f"; got {value!r}"


class UnknownNameError(InvalidParameterError):
    """A name (padding, mode, algorithm, preset...) is not one of the known choices.

    The message lists the choices, and suggests the closest one when there is one.
    """

    def __init__(self, name: str, value: Any, choices: list[str] | tuple[str, ...]) -> None:
        import difflib

        self.choices = tuple(choices)
        close = difflib.get_close_matches(str(value), self.choices, n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        super().__init__(name, value, "one of " + ", ".join(self.choices), hint=hint)


class ShapeError(ImconvError, ValueError):
    """Arrays whose shapes do not fit together (kernel vs image, bank vs channels, bias)."""


class KernelError(ImconvError, ValueError):
    """A kernel that cannot be used: empty, non-finite, malformed file or text."""


class ImageReadError(ImconvError, OSError):
    """An image that cannot be read: missing, not an image, truncated, unsupported mode."""


class ImageWriteError(ImconvError, OSError):
    """An output that cannot be written: missing folder, no permission, bad format."""


class OutputExistsError(ImageWriteError, FileExistsError):
    """The output exists (or is an input) and overwriting was not allowed."""


class OutputClosedError(ImageWriteError, BrokenPipeError):
    """Standard output was closed before everything was written to it (``| head``)."""


class ResourceError(ImconvError, MemoryError):
    """A run that would need more memory than the machine has, refused before any work."""


class ExitStatus(IntEnum):
    """The exit statuses of the command line (and of :attr:`imconv.RunResult.exit_status`).

    ``BROKEN_PIPE`` (141, 128 + SIGPIPE, what a shell reports for a command killed by a
    closed pipe) is the status of a run whose standard output was closed early.
    """

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    INTERRUPTED = 130
    BROKEN_PIPE = 141


def status_of(error: ImconvError) -> ExitStatus:
    """The exit status an error stops a run with: 2 for what the user asked wrongly (an
    option, a kernel), 141 for a closed standard output, 1 for everything else."""
    if isinstance(error, OutputClosedError):
        return ExitStatus.BROKEN_PIPE
    usage = isinstance(error, InvalidParameterError | KernelError)
    return ExitStatus.USAGE if usage else ExitStatus.ERROR
