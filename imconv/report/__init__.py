"""What imconv tells people: Rich tables, progress bars, heat maps.

With :mod:`imconv.cli`, the only code that imports Rich; it measures and decides nothing.
Runs come from :func:`imconv.apply` (their JSON report is :mod:`imconv.run`'s), kernels
from :mod:`imconv.kernels`, bench results from :mod:`imconv.bench`. One module per
subject: runs, kernels, progress, bench.
"""

import importlib
from typing import Any

# Each name and the module that defines it: a module loads on first use (PEP 562), so that
# `imconv apply` does not import the progress bars, bench views and figures it never shows.
_HOMES = {
    "BatchProgress": "_progress",
    "BenchProgress": "_progress",
    "batch_summary": "_runs",
    "bench_intent": "_bench",
    "bench_table": "_bench",
    "bench_view": "_bench",
    "failure_table": "_runs",
    "heat_map": "_kernels",
    "kernel_view": "_kernels",
    "outcome_line": "_progress",
    "plan_table": "_runs",
    "plot_response": "_response",
    "preset_table": "_kernels",
    "response_view": "_response",
    "summary_table": "_runs",
    "throughput": "_runs",
    "timing_table": "_runs",
}

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


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
