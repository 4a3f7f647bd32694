"""Measured autotuning: time candidate runs, keep the fastest in a store under a problem key.

The plan (``_plan``) builds one run per plausible algorithm, each the exact code path and
memory layout that algorithm would run on a band of the real problem; this module times
them and names the winner. Choices are kept in a store, any ``MutableMapping[str, str]``
from :func:`tuning_key` to an algorithm name: by default :data:`MEMORY`, this process's
dictionary; the command line passes a store kept on disk (``imconv.tuning``). The engine
itself does no file I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from imconv.choices import Algorithm

from ._spec import ConvSpec

# A measurement aims at this much work per candidate: enough to rise above timer noise
# and thread start-up, little enough that tuning a large image costs well under a second.
TARGET_SECONDS = 0.02
# Candidates whose estimate is this many times the best estimate are not worth timing.
PLAUSIBLE = 8.0

#: The measured choices of this process: the store of plans made without one.
MEMORY: dict[str, str] = {}


def tuning_key(
    spec: ConvSpec, rank: int | None, input_dtype: np.dtype, *, normalized: bool = False
) -> str:
    """A string naming everything about a problem that decides which algorithm is fastest.

    ``rank`` is the kernel's separable rank, or None when it was not worth computing;
    ``normalized``: the plan runs normalized convolution (``nan="ignore"`` or a mask).
    """
    fields = (
        "x".join(map(str, spec.input_shape)),
        "k" + "x".join(map(str, spec.kernel_shape)),
        f"r{'?' if rank is None else rank}",
        f"c{spec.channels_in}-{spec.channels_out}{'b' if spec.bank else ''}@{spec.channel_axis}",
        str(spec.mode),
        str(spec.padding),
        "p" + "x".join(f"{a}-{b}" for a, b in spec.pad_widths),
        "s" + "x".join(map(str, spec.stride)),
        "d" + "x".join(map(str, spec.dilation)),
        f"{np.dtype(input_dtype).name}-{spec.dtype.name}",
        f"t{spec.threads}",
    )
    if normalized:
        fields = (*fields, "normalized")
    return "/".join(fields)


def known(
    store: Mapping[str, str], key: str, allowed: Mapping[Algorithm, float]
) -> Algorithm | None:
    """The stored choice for ``key``, if it names one of the ``allowed`` algorithms."""
    name = store.get(key)
    return next((a for a in allowed if a.value == name), None)


def sample_rows(output_rows: int, best_estimate: float) -> int:
    """Output rows of a band whose estimated cost is about :data:`TARGET_SECONDS`."""
    fraction = min(1.0, TARGET_SECONDS / max(best_estimate, 1e-9))
    return max(1, min(output_rows, max(8, int(output_rows * fraction))))


def _best_time(run: Callable[[], object]) -> float:
    """Best of two runs (the first also warms caches and FFT plans)."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def fastest(
    runs: Mapping[Algorithm, Callable[[], object]],
) -> tuple[Algorithm, dict[Algorithm, float]]:
    """Time every run; the fastest algorithm and every timing, in seconds."""
    timings = {algorithm: _best_time(run) for algorithm, run in runs.items()}
    return min(timings, key=timings.__getitem__), timings


def synthetic_block(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Seeded data of ``shape`` and ``dtype`` to time on (speed does not depend on values)."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "c":
        return (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, 0), min(info.max, 255), shape, dtype=dtype, endpoint=True)
    return rng.random(shape).astype(dtype)
