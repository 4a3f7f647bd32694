"""The stride-1 paths' BLAS runs on the call's thread count, restored afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import imconv
from imconv.engine import _blas, _flat


def _thread_count() -> int:
    controls = _blas._controls()
    if controls is None:
        pytest.skip("SciPy is not linked to OpenBLAS here")
    return controls[0]()


def test_blas_threads_hold_inside_and_are_restored() -> None:
    before = _thread_count()
    with _blas.blas_threads(1):
        assert _thread_count() == 1
    assert _thread_count() == before


def test_direct_runs_blas_on_the_threads_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = _flat.correlate_runs

    def spy(sources, out, threads):  # type: ignore[no-untyped-def]
        seen.append((_thread_count(), threads))
        real(sources, out, threads=threads)

    monkeypatch.setattr(_flat, "correlate_runs", spy)
    x = np.random.default_rng(0).random((30, 20, 3), dtype=np.float32)
    for algorithm in ("direct", "separable"):
        imconv.convolve(x, np.ones((3, 3)), channel_axis=-1, algorithm=algorithm, threads=1)
    assert seen
    assert set(seen) == {(1, 1)}
