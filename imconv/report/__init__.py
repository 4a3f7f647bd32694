"""What imconv tells people (Rich tables, progress bars) and machines (the JSON report).

With :mod:`imconv.cli`, the only code that imports Rich; it measures and decides nothing.
Records come from :mod:`imconv.pipeline` and :mod:`imconv.batch`, kernels from
:mod:`imconv.kernels`, bench results from :mod:`imconv.bench`. One module per subject:
runs and reports, kernels, progress, bench.
"""

from ._bench import bench_table, bench_view
from ._kernels import heat_map, kernel_view, preset_table
from ._progress import BatchProgress, BenchProgress, outcome_line
from ._runs import (
    REPORT_VERSION,
    batch_summary,
    failure_table,
    options_dict,
    plan_table,
    record_dict,
    report_dict,
    run_dict,
    stage_summary,
    summary_table,
    throughput,
    timing_table,
    write_report,
)

__all__ = [
    "REPORT_VERSION",
    "BatchProgress",
    "BenchProgress",
    "batch_summary",
    "bench_table",
    "bench_view",
    "failure_table",
    "heat_map",
    "kernel_view",
    "options_dict",
    "outcome_line",
    "plan_table",
    "preset_table",
    "record_dict",
    "report_dict",
    "run_dict",
    "stage_summary",
    "summary_table",
    "throughput",
    "timing_table",
    "write_report",
]
