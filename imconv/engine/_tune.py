"""Measured autotuning: time the candidate algorithms on the real problem, keep the fastest.

The first call for a problem runs each plausible candidate on a representative band of
output rows of the real (padded) image and remembers the winner under a key of
everything that decides the speed: shapes, kernel rank, stride, dilation, padding,
dtype, channels and threads. Later calls with the same key reuse it. The memory lives in
this process; :func:`remembered` and :func:`remember` export and import it, so that a
caller outside the engine (``imconv.tuning``) can keep it on disk across runs. The engine
itself does no file I/O.

Verification runs the ``direct`` algorithm on one band and reports the largest difference.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from imconv.choices import Algorithm

from ._plan import Choice, estimates_for
from ._spec import ConvSpec

Run = Callable[[np.ndarray, np.ndarray, ConvSpec], np.ndarray]

# A measurement aims at this much work per candidate: enough to rise above timer noise
# and thread start-up, little enough that tuning a large image costs well under a second.
TARGET_SECONDS = 0.02
# Candidates whose estimate is this many times the best estimate are not worth timing.
PLAUSIBLE = 8.0

_memory: dict[str, str] = {}
_lock = threading.Lock()


def tuning_key(spec: ConvSpec, rank: int) -> str:
    """A string naming everything about ``spec`` that decides which algorithm is fastest."""
    fields = (
        "x".join(map(str, spec.input_shape)),
        "k" + "x".join(map(str, spec.kernel_shape)),
        f"r{rank}",
        f"c{spec.channels_in}-{spec.channels_out}{'b' if spec.bank else ''}",
        str(spec.mode),
        str(spec.padding),
        "s" + "x".join(map(str, spec.stride)),
        "d" + "x".join(map(str, spec.dilation)),
        spec.dtype.name,
        f"t{spec.threads}",
    )
    return "/".join(fields)


def remembered() -> dict[str, str]:
    """The measured choices of this process: tuning key -> algorithm name."""
    with _lock:
        return dict(_memory)


def remember(choices: Mapping[str, str]) -> None:
    """Add measured choices (e.g. read from a cache file); unknown algorithm names are ignored."""
    valid = {a.value for a in Algorithm if a is not Algorithm.AUTO}
    with _lock:
        _memory.update({k: v for k, v in choices.items() if v in valid})


def forget() -> None:
    """Drop every measured choice of this process."""
    with _lock:
        _memory.clear()


def band_spec(spec: ConvSpec, rows: int) -> ConvSpec:
    """The spec of the first ``rows`` output rows alone (a band of the same problem).

    The band reads padded rows ``0 .. (rows-1)*s + k_eff - 1``; its unpadded height is
    chosen so that the same pad widths give exactly that many padded rows.
    """
    rows = max(1, min(rows, spec.output_shape[0]))
    before, after = spec.pad_widths[0]
    padded_rows = (rows - 1) * spec.stride[0] + spec.effective_kernel_shape[0]
    height = padded_rows - before - after
    if height < 1 or rows == spec.output_shape[0]:
        return spec
    return dataclasses.replace(spec, input_shape=(height, *spec.input_shape[1:]))


def _sample(spec: ConvSpec, best_estimate: float) -> ConvSpec:
    """A band whose estimated cost for the best candidate is about TARGET_SECONDS."""
    fraction = min(1.0, TARGET_SECONDS / max(best_estimate, 1e-9))
    return band_spec(spec, max(8, int(spec.output_shape[0] * fraction)))


def _time(run: Run, image: np.ndarray, kernel: np.ndarray, spec: ConvSpec) -> float:
    """Best of two runs (the first also warms caches and FFT plans)."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        run(image, kernel, spec)
        best = min(best, time.perf_counter() - start)
    return best


def measure(
    spec: ConvSpec,
    kernel: np.ndarray,
    image: Callable[[], np.ndarray],
    algorithms: Mapping[Algorithm, Run],
) -> Choice:
    """The fastest algorithm for ``spec``: remembered, or timed now on a band of ``image()``
    (the padded image, made only when a measurement is needed)."""
    estimates, rank = estimates_for(spec, kernel)
    key = tuning_key(spec, rank)
    with _lock:
        known = _memory.get(key)
    if known is not None:
        return Choice(Algorithm(known), "cache", f"autotuned earlier ({key})", estimates)
    best_estimate = min(estimates.values())
    candidates = [a for a, t in estimates.items() if t <= PLAUSIBLE * best_estimate]
    sample = _sample(spec, best_estimate)
    band = image()[:, : sample.padded_shape[0]]
    timings = {a: _time(algorithms[a], band, kernel, sample) for a in candidates}
    best = min(timings, key=timings.__getitem__)
    with _lock:
        _memory[key] = best.value
    ranked = sorted(timings, key=timings.__getitem__)
    shown = ", ".join(f"{a} {timings[a] * 1e3:.3g} ms" for a in ranked)
    rows = sample.output_shape[0]
    return Choice(best, "measured", f"measured on {rows} rows: {shown}", estimates)


def verify(
    spec: ConvSpec, kernel: np.ndarray, image: np.ndarray, result: np.ndarray, run: Run
) -> float:
    """Largest difference between ``result`` and ``direct`` on a band, relative to max|y|.

    The band is the first rows of the output (the ones that read the padded border too).
    """
    sample = band_spec(spec, 16)
    reference = run(image[:, : sample.padded_shape[0]], kernel, sample)
    got = result[:, : sample.output_shape[0]]
    scale = float(np.max(np.abs(reference))) or 1.0
    return float(np.max(np.abs(got - reference))) / scale
