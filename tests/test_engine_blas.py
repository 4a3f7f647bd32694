"""The BLAS of the stride-1 paths: NumPy's OpenBLAS through ctypes, on the engine's threads."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import imconv
from imconv.engine import _blas, _flat


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_axpy_adds_a_scaled_vector_in_place(dtype: type) -> None:
    rng = np.random.default_rng(0)
    x = rng.random(1000) + (1j * rng.random(1000) if np.dtype(dtype).kind == "c" else 0)
    y = rng.random(1000).astype(dtype)
    x = x.astype(dtype)
    a = 0.5 - 0.25j if np.dtype(dtype).kind == "c" else 0.75
    expected = y + np.asarray(a, dtype) * x
    _blas.axpy(np.dtype(dtype))(x, y, a)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_numpy_s_openblas_is_found_and_releases_the_gil() -> None:
    assert _blas.releases_gil()


def test_calls_run_on_the_calling_thread_only_inside() -> None:
    found = _blas._numpy_blas()
    assert found is not None
    local = found[1]
    assert local is not None
    before = local(3)  # what this thread had
    with _blas.on_this_thread():
        assert local(1) == 1  # set to 1 inside
    assert local(before) == 3  # restored after


def test_flat_work_is_shared_among_the_threads_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each share of the segments enters on_this_thread once (its BLAS calls on its thread)."""
    shares: list[int] = []
    real = _blas.on_this_thread

    def counted():  # type: ignore[no-untyped-def]
        shares.append(threading.get_ident())
        return real()

    monkeypatch.setattr(_blas, "on_this_thread", counted)
    monkeypatch.setattr(_flat, "FLAT_BAND_BYTES", 4096)
    x = np.random.default_rng(0).random((60, 50, 3), dtype=np.float32)
    one = imconv.convolve(x, np.ones((3, 3)), channel_axis=-1, algorithm="direct", threads=1)
    assert len(shares) == 1
    shares.clear()
    two = imconv.convolve(x, np.ones((3, 3)), channel_axis=-1, algorithm="direct", threads=2)
    assert len(shares) == 2
    assert threading.get_ident() not in shares  # on the pool's threads
    np.testing.assert_array_equal(one, two)


def test_a_small_kernel_imports_no_scipy() -> None:
    """scipy.linalg costs about 0.2 s and 22 MiB: more than a 3x3 filter of a 12 MP photo."""
    code = (
        "import sys, numpy as np, imconv\n"
        "x = np.ones((64, 64, 3), np.float32)\n"
        "for a in ('direct', 'separable', 'auto'):\n"
        "    imconv.convolve(x, np.ones((3, 3)), channel_axis=-1, algorithm=a)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
