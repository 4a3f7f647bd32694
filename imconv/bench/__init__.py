"""Algorithm timing comparisons: runs, contenders, comparison results, plots.

``run`` times the contenders over kernel sizes, ``contenders`` names what is timed
(imconv's algorithms and the peers), ``comparison`` holds the times and says who won where,
``plot`` draws them. Nothing here prints: :mod:`imconv.report` renders the tables.
"""

from .comparison import BenchResult, Crossover, Timing, crossovers, winners
from .contenders import Contender, contenders_for, parse_algorithms
from .run import (
    DEFAULT_SIZES,
    SKIP_RULE,
    BenchImage,
    bench_image,
    expected_seconds,
    measure,
    parse_shape,
    parse_sizes,
    random_kernel,
    run_bench,
)

__all__ = [
    "DEFAULT_SIZES",
    "SKIP_RULE",
    "BenchImage",
    "BenchResult",
    "Contender",
    "Crossover",
    "Timing",
    "bench_image",
    "contenders_for",
    "crossovers",
    "expected_seconds",
    "measure",
    "parse_algorithms",
    "parse_shape",
    "parse_sizes",
    "random_kernel",
    "run_bench",
    "winners",
]
