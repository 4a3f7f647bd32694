"""The BLAS the stride-1 paths call: ``?axpy`` of NumPy's own OpenBLAS, through ctypes.

NumPy's wheels carry OpenBLAS (``scipy-openblas``, symbols ``scipy_cblas_saxpy64_`` ...).
Calling it through ctypes

* imports no SciPy: ``scipy.linalg`` costs about 0.2 s and 22 MiB, more than a 3x3 filter
  of a 12 MP photo;
* releases the GIL, so the engine's own threads run calls side by side;
* runs each call on its calling thread (``openblas_set_num_threads_local(1)``), never on
  OpenBLAS's pool: its spinning threads oversubscribed the machine when batch workers or
  other processes ran (a k=3 blur measured from 50 to 1200 ms, and 7x slower on a loaded
  2-core machine), and a call split between threads rounds its parts' ends differently.

Where NumPy carries no such OpenBLAS (other builds), SciPy's f2py ``?axpy`` is used with
SciPy's OpenBLAS held to one thread during the calls (the GIL is then held: one thread).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

Axpy = Callable[[np.ndarray, np.ndarray, complex], None]  # (x, y, a): y += a * x in place

_LETTERS = {
    np.dtype(np.float32): "s",
    np.dtype(np.float64): "d",
    np.dtype(np.complex64): "c",
    np.dtype(np.complex128): "z",
}
_ALPHA = {"s": ctypes.c_float, "d": ctypes.c_double}
_COMPLEX = {"c": np.complex64, "z": np.complex128}
# (symbol pattern, integer type): NumPy's ILP64 scipy-openblas first, then plain CBLAS.
_SYMBOLS = (("scipy_cblas_{}axpy64_", ctypes.c_int64), ("cblas_{}axpy", ctypes.c_int))
_lock = threading.Lock()


def _library() -> ctypes.CDLL | None:
    try:
        from numpy._core import _multiarray_umath
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath
    try:
        return ctypes.CDLL(_multiarray_umath.__file__)
    except OSError:  # pragma: no cover - a build without a loadable extension path
        return None


def _bind(library: ctypes.CDLL, letter: str) -> Axpy | None:
    """The ctypes ``?axpy`` for one type letter, or None when NumPy's build has none."""
    bound = [
        (function, integer)
        for pattern, integer in _SYMBOLS
        if (function := getattr(library, pattern.format(letter), None)) is not None
    ]
    if not bound:
        return None
    function, integer = bound[0]
    alpha = _ALPHA.get(letter, ctypes.c_void_p)  # complex alphas go by pointer
    function.argtypes = [integer, alpha, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
    function.restype = None

    def call(x: np.ndarray, y: np.ndarray, a: complex) -> None:
        scale: object = a
        if letter in _COMPLEX:
            scale = np.array([a], dtype=_COMPLEX[letter]).ctypes.data
        function(y.size, scale, x.ctypes.data, 1, y.ctypes.data, 1)

    return call


@cache
def _numpy_blas() -> tuple[dict[np.dtype, Axpy], Callable[[int], int] | None] | None:
    """NumPy's OpenBLAS ``?axpy`` per dtype and its thread-local thread count, if found."""
    library = _library()
    if library is None:
        return None
    found = {dtype: _bind(library, letter) for dtype, letter in _LETTERS.items()}
    if any(function is None for function in found.values()):
        return None
    local = getattr(library, "openblas_set_num_threads_local", None)
    if local is not None:
        local.argtypes, local.restype = [ctypes.c_int], ctypes.c_int
    return found, local  # type: ignore[return-value]


def releases_gil() -> bool:
    """Whether ``?axpy`` runs without the GIL (threads then run calls side by side)."""
    return _numpy_blas() is not None


def axpy(dtype: np.dtype) -> Axpy:
    """``y += a * x`` in place for contiguous vectors of ``dtype`` (float32, float64,
    complex64 or complex128), on the calling thread."""
    found = _numpy_blas()
    if found is not None:
        return found[0][np.dtype(dtype)]
    from scipy.linalg import blas

    function = getattr(blas, f"{_LETTERS[np.dtype(dtype)]}axpy")

    def call(x: np.ndarray, y: np.ndarray, a: complex) -> None:
        function(x, y, a=a)

    return call


@contextmanager
def on_this_thread() -> Iterator[None]:
    """Within the body, BLAS calls of this thread run on it alone (not OpenBLAS's pool)."""
    found = _numpy_blas()
    if found is not None:
        local = found[1]
        if local is None:  # pragma: no cover - an OpenBLAS without thread-local counts
            yield
            return
        before = local(1)
        try:
            yield
        finally:
            local(before)
        return
    controls = _scipy_controls()
    if controls is None:  # pragma: no cover - SciPy on another BLAS
        yield
        return
    get, set_ = controls
    with _lock:  # SciPy's count is process-wide: one engine call changes it at a time
        before = get()
        set_(1)
        try:
            yield
        finally:
            set_(before)


@cache
def _scipy_controls() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """The get/set thread-count functions of SciPy's OpenBLAS (the fallback path)."""
    from scipy.linalg import _fblas

    try:
        library = ctypes.CDLL(_fblas.__file__)
    except OSError:  # pragma: no cover
        return None
    for name in ("scipy_openblas", "openblas"):
        getter = getattr(library, f"{name}_get_num_threads", None)
        setter = getattr(library, f"{name}_set_num_threads", None)
        if getter is not None and setter is not None:
            getter.restype = ctypes.c_int
            setter.argtypes = [ctypes.c_int]
            return getter, setter
    return None  # pragma: no cover
