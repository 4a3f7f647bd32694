"""Many images: find the inputs, decide every output before any work, run the jobs.

``jobs`` (the shared leaf: Job, Batch, Naming, Existing), ``inputs`` (files, folders,
patterns), ``outputs`` (output names and every conflict, before work), ``pool`` (this
process or a local process pool), ``cluster`` (Dask), ``results`` (what each job came to),
``dispatch`` (run a batch where asked). No terminal code here.
"""

from .dispatch import run_batch, worker_count
from .inputs import Selection, find_images, find_inputs
from .jobs import FALLBACK_SUFFIX, LISTED, STDIO, Batch, Existing, Job, Naming
from .outputs import assign_outputs, check_report
from .pool import BatchTask, by_tiles, make_folder, remove_temporaries
from .results import BatchResult, OnOutcome, Outcome, WorkerError

__all__ = [
    "FALLBACK_SUFFIX",
    "LISTED",
    "STDIO",
    "Batch",
    "BatchResult",
    "BatchTask",
    "Existing",
    "Job",
    "Naming",
    "OnOutcome",
    "Outcome",
    "Selection",
    "WorkerError",
    "assign_outputs",
    "by_tiles",
    "check_report",
    "find_images",
    "find_inputs",
    "make_folder",
    "remove_temporaries",
    "run_batch",
    "worker_count",
]
