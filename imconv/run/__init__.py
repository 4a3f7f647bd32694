"""A run of imconv on files: :func:`apply` and the :class:`RunResult` it returns.

``_apply`` validates the options once into a recipe, decides every output before any work,
runs the batch and writes the report; ``_result`` says what happened and the exit status;
``_document`` is the JSON report. The command line parses, calls :func:`apply`, renders.
"""

from ._apply import Listener, apply, make_recipe
from ._document import REPORT_VERSION, report_document, stage_summary
from ._memory import show_bytes
from ._result import RunResult

__all__ = [
    "REPORT_VERSION",
    "Listener",
    "RunResult",
    "apply",
    "make_recipe",
    "report_document",
    "show_bytes",
    "stage_summary",
]
