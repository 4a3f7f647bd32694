"""The issue-11 targets: what NaN awareness costs, and normalized convolution against astropy.

Run from the repository root, with imconv and astropy installed (``pip install -e
'.[test]'``)::

    python benchmarks/nan.py [--sizes 5,15,31] [--repeat 7] [--astropy-repeat 3] [--threads N]

``--threads 1`` compares one core with one core (astropy's ``convolve`` runs on one thread
by default), and is far less disturbed by other processes on a shared machine.

Prints Markdown ready to paste into ``benchmarks/RESULTS.md``: the machine and versions,
then two tables. Everything runs in this one process, the contenders of a row interleaved
round by round (so that a burst of load on a shared machine hits them alike); times are
the best of the rounds (``--statistic median`` for medians): on a machine shared with
other sessions the best round is the one least disturbed, and the targets are ratios.

* **propagate on finite data** (target: at most 5 % over today). A 2000x1500 float64 image
  of finite values, random k x k kernels (seed 1), ``auto``, zero padding. "today" is the
  same plan with its NaN check switched off (``Plan._exact`` answering yes at once): the
  exact code path of the engine before issue 11, padding, the algorithm and the result
  copy, since on finite data nothing else changed. Also ``fft`` and ``separable`` forced,
  the algorithms whose results need the check (separable up to 15x15: a random 31x31
  kernel has rank 31 and takes seconds).
* **ignore** (targets: at most 2.5x the plain convolution, and faster than astropy's
  ``convolve_fft`` and ``convolve``). The same image with 2 % of its pixels NaN and a 40x60
  hole; ``imconv.convolve(x, w, nan="ignore")`` (``auto``) against the plain convolution
  (``auto``) of the same image with its NaN set to 0 (plain convolution of an image with
  NaN runs the NaN-aware path of ``propagate``: not the baseline) and astropy's
  ``convolve_fft`` and ``convolve`` with
  ``nan_treatment="interpolate", normalize_kernel=False, boundary="fill", fill_value=0``
  (the same numbers; checked). astropy's direct ``convolve`` runs ``--astropy-repeat``
  times (seconds per call at 31x31).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import warnings
from collections.abc import Callable

import numpy as np
from timing import describe_machine, wall_times

import imconv
from imconv.engine import _plan

SHAPE = (2000, 1500)


def _image(holes: bool) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.random(SHAPE)
    if holes:
        x[rng.random(SHAPE) < 0.02] = np.nan
        x[700:740, 300:360] = np.nan
    return x


def _kernel(size: int) -> np.ndarray:
    return np.random.default_rng(1).random((size, size)) + 0.05


STATISTIC: Callable[[list[float]], float] = min
THREADS: int | None = None


def _medians(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Seconds of each run (best or median of ``repeat``), interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm up: FFT plans, first-touch pages, imports
    for _ in range(repeat):
        for name, run in runs.items():
            times[name] += wall_times(run, 1, warm_up=False)
    return {name: STATISTIC(values) for name, values in times.items()}


def _without_check(plan: imconv.Plan) -> Callable[[], object]:
    """The plan run as before issue 11: no finiteness check of its result."""

    def run() -> object:
        real = _plan.Plan._exact
        _plan.Plan._exact = lambda self, result, watch: True
        try:
            return plan(_FINITE)
        finally:
            _plan.Plan._exact = real

    return run


_FINITE = _image(holes=False)


def propagate_table(sizes: list[int], repeat: int) -> list[str]:
    rows = [
        "| kernel | algorithm | today ms | propagate ms | ratio | target (<= 1.05) |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for algorithm in ("auto", "fft", "separable") if size <= 15 else ("auto", "fft"):
            plan = imconv.plan(
                SHAPE, _kernel(size), dtype="float64", algorithm=algorithm, threads=THREADS
            )
            found = _medians(
                {"today": _without_check(plan), "propagate": lambda p=plan: p(_FINITE)}, repeat
            )
            ratio = found["propagate"] / found["today"]
            rows.append(
                f"| {size}x{size} | {algorithm} -> {plan.algorithm} | {found['today'] * 1e3:.1f} "
                f"| {found['propagate'] * 1e3:.1f} | {ratio:.3f} | "
                f"{'met' if ratio <= 1.05 else 'missed'} |"
            )
    return rows


def ignore_table(sizes: list[int], repeat: int, astropy_repeat: int) -> list[str]:
    from astropy.convolution import convolve, convolve_fft

    x = _image(holes=True)
    finite = np.nan_to_num(x)
    options = dict(
        nan_treatment="interpolate", normalize_kernel=False, boundary="fill", fill_value=0.0
    )
    rows = [
        "| kernel | plain ms | ignore ms (algorithm) | ignore / plain | astropy convolve_fft ms "
        "| astropy convolve ms | faster than both |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        w = _kernel(size)
        plain = imconv.plan(SHAPE, w, dtype="float64", threads=THREADS)
        ignore = imconv.plan(SHAPE, w, dtype="float64", nan="ignore", threads=THREADS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy warns that the hole stays NaN
            expected = convolve_fft(x, w, **options)
            got = ignore(x)
            kept = np.isfinite(got)
            assert np.allclose(got[kept], expected[kept], rtol=1e-9), "not the same numbers"
            found = _medians(
                {
                    "plain": lambda p=plain: p(finite),
                    "ignore": lambda p=ignore: p(x),
                    "fft": lambda w=w: convolve_fft(x, w, **options),
                },
                repeat,
            )
            direct = _medians({"direct": lambda w=w: convolve(x, w, **options)}, astropy_repeat)
        ratio = found["ignore"] / found["plain"]
        faster = found["ignore"] < min(found["fft"], direct["direct"])
        rows.append(
            f"| {size}x{size} | {found['plain'] * 1e3:.1f} ({plain.algorithm}) | "
            f"{found['ignore'] * 1e3:.1f} ({ignore.algorithm}) | {ratio:.2f} "
            f"{'(met)' if ratio <= 2.5 else '(missed)'} | {found['fft'] * 1e3:.1f} | "
            f"{direct['direct'] * 1e3:.0f} | {'yes' if faster else 'no'} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,15,31")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--astropy-repeat", type=int, default=3)
    parser.add_argument("--statistic", choices=("best", "median"), default="best")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    global STATISTIC, THREADS
    STATISTIC = min if args.statistic == "best" else statistics.median
    THREADS = args.threads
    sizes = [int(s) for s in args.sizes.split(",")]
    from imconv.environment import versions

    print(f"Machine: {describe_machine()}, astropy {versions('astropy')['astropy']}")
    print(f"Date: {datetime.date.today()}, 1-minute load average {os.getloadavg()[0]:.1f}")
    print(f"Command: python benchmarks/nan.py {' '.join(sys.argv[1:])}".rstrip())
    print()
    print("nan='propagate' on finite data, 2000x1500 float64:")
    print()
    print("\n".join(propagate_table(sizes, args.repeat)))
    print()
    print("nan='ignore', 2000x1500 float64 with 2 % NaN and a 40x60 hole:")
    print()
    print("\n".join(ignore_table(sizes, args.repeat, args.astropy_repeat)))


if __name__ == "__main__":
    main()
