"""What imconv tells people: Rich tables, progress bars, heat maps.

With :mod:`imconv.cli`, the only code that imports Rich; it measures and decides nothing.
Runs come from :func:`imconv.apply` (their JSON report is :mod:`imconv.run`'s), kernels
from :mod:`imconv.kernels`, bench results from :mod:`imconv.bench`. One module per
subject: runs, kernels, progress, bench.
"""

from ._bench import bench_intent, bench_table, bench_view
from ._kernels import heat_map, kernel_view, preset_table
from ._progress import BatchProgress, BenchProgress, outcome_line
from ._response import plot_response, response_view
from ._runs import (
    batch_summary,
    failure_table,
    plan_table,
    summary_table,
    throughput,
    timing_table,
)

__all__ = [
    "BatchProgress",
    "BenchProgress",
    "batch_summary",
    "bench_intent",
    "bench_table",
    "bench_view",
    "failure_table",
    "heat_map",
    "kernel_view",
    "outcome_line",
    "plan_table",
    "plot_response",
    "preset_table",
    "response_view",
    "summary_table",
    "throughput",
    "timing_table",
]
