"""Algorithm timing comparisons: runs, contenders, comparison results, plots.

``run`` times the contenders over kernel sizes, ``contenders`` names what is timed
(imconv's algorithms and the peers), ``comparison`` holds the times and says who won where,
``plot`` draws them. Nothing here prints: :mod:`imconv.report` renders the tables.
"""

from .comparison import BenchResult, Crossover, Timing, crossovers, winners
from .contenders import Contender, contenders_for, parse_algorithms
from .run import (
    DEFAULT_BUDGET,
    DEFAULT_REPEAT,
    DEFAULT_SIZES,
    SKIP_RULE,
    BenchImage,
    bench_image,
    bench_threads,
    default_sample,
    expected_seconds,
    measure,
    parse_shape,
    parse_sizes,
    random_kernel,
    run_bench,
)

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_REPEAT",
    "DEFAULT_SIZES",
    "SKIP_RULE",
    "BenchImage",
    "BenchResult",
    "Contender",
    "Crossover",
    "Timing",
    "bench_image",
    "bench_threads",
    "contenders_for",
    "crossovers",
    "default_sample",
    "expected_seconds",
    "measure",
    "parse_algorithms",
    "parse_shape",
    "parse_sizes",
    "random_kernel",
    "run_bench",
    "winners",
]
