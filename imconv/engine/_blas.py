"""The BLAS that the stride-1 paths call (SciPy's ``?axpy``), and its thread count.

``scipy.linalg.blas`` runs on SciPy's own OpenBLAS, which starts one thread per core and
knows nothing of ``threads=``. Left alone, two batch workers each get two spinning BLAS
threads on a 2-core machine, and a k=3 convolution measured anywhere from 50 to 1200 ms
instead of a steady 21-24 ms. So the engine sets that library's thread count to the
call's ``threads`` for the duration of its BLAS work, through OpenBLAS's own
``openblas_set_num_threads`` (exported as ``scipy_openblas_set_num_threads`` by SciPy's
wheels). Where the symbol is not found (another BLAS), this does nothing.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

_NAMES = ("scipy_openblas", "openblas")
_lock = threading.Lock()


def axpy(dtype: np.dtype) -> Callable[..., np.ndarray]:
    """``y += a * x`` in place for contiguous vectors of ``dtype`` (float32, float64,
    complex64 or complex128: ``?axpy``, complex ones included)."""
    from scipy.linalg import blas

    return {
        np.dtype(np.float64): blas.daxpy,
        np.dtype(np.float32): blas.saxpy,
        np.dtype(np.complex128): blas.zaxpy,
        np.dtype(np.complex64): blas.caxpy,
    }[np.dtype(dtype)]


@cache
def _controls() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """OpenBLAS's get/set thread-count functions as linked into SciPy, if found."""
    from scipy.linalg import _fblas

    try:
        library = ctypes.CDLL(_fblas.__file__)
    except OSError:  # pragma: no cover - a build without a loadable extension path
        return None
    for name in _NAMES:
        getter = getattr(library, f"{name}_get_num_threads", None)
        setter = getattr(library, f"{name}_set_num_threads", None)
        if getter is not None and setter is not None:
            getter.restype = ctypes.c_int
            setter.argtypes = [ctypes.c_int]
            return getter, setter
    return None  # pragma: no cover - SciPy on another BLAS


@contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """Run the body with SciPy's OpenBLAS on ``threads`` threads, then restore its count."""
    controls = _controls()
    if controls is None:
        yield
        return
    get, set_ = controls
    with _lock:  # the count is process-wide: one engine call changes it at a time
        before = get()
        set_(threads)
        try:
            yield
        finally:
            set_(before)
