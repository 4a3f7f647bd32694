"""The ``imconv`` command: parse, call the library, render, return an exit status.

No logic lives here: kernels come from :mod:`imconv.kernels`, the work from
:mod:`imconv.pipeline` and :mod:`imconv.batch`, tables from :mod:`imconv.report`. Every
:class:`~imconv.errors.ImconvError` becomes one line on stderr and an exit status in
:func:`run_guarded`, the only place that does so.
"""

from . import _apply, _commands  # noqa: F401  (their commands register on `app`)
from ._app import ExitStatus, app, fail, parse_pair, run_guarded, stderr, stdout

__all__ = ["ExitStatus", "app", "fail", "main", "parse_pair", "run_guarded", "stderr", "stdout"]


def main() -> None:
    """Entry point of the ``imconv`` console script."""
    app()
