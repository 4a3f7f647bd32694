"""A pytest plugin that answers SciPy's convolution functions with imconv (a thin shim).

Loaded by ``tests/test_engine_scipy_suites.py`` into a pytest run of SciPy's own installed
test modules. ``scipy.signal.convolve``/``correlate`` and ``scipy.ndimage.correlate``/
``convolve`` are replaced by wrappers that translate their arguments into imconv's
contract (modes, boundary names, ``origin``, ``axes``, SciPy's output dtypes, the
conjugations SciPy does and imconv does not) and call imconv with the algorithm named by
``IMCONV_SHIM_ALGORITHM``. With ``every`` (the default), each call runs all four
algorithms, answers with ``direct``'s result (SciPy's tests assert exact equality where
its own direct sums are exact) and fails the call when another algorithm differs from it
by more than the contract's tolerance (``1e-10`` of ``max|y|``; the shim computes in
double precision, as SciPy does) or in its non-finite outputs. Calls outside the contract
(object arrays, ``output=``, empty arrays, ``valid`` with swapped inputs...) go to SciPy's
own function; the plugin counts both kinds and writes them to ``IMCONV_SHIM_REPORT`` at
the end of the session.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import numpy as np
import scipy._lib._array_api
import scipy.ndimage
import scipy.signal

import imconv
from imconv.errors import ImconvError

ALGORITHM = os.environ.get("IMCONV_SHIM_ALGORITHM", "every")
EVERY = ("direct", "matmul", "fft", "separable")
TOLERANCE = 1e-10
COUNTS = {"imconv": 0, "scipy": 0}
NDIMAGE_MODES = {
    "reflect": "symmetric",
    "grid-mirror": "symmetric",
    "mirror": "reflect",
    "nearest": "replicate",
    "wrap": "wrap",
    "grid-wrap": "wrap",
    "constant": "constant",
    "grid-constant": "constant",
}
NUMERIC = "fc"  # float and complex inputs: SciPy's integer outputs round differently


class FallbackError(Exception):
    """The call is outside what the shim translates: SciPy answers it."""


class DisagreementError(AssertionError):
    """Two algorithms gave different answers to one call."""


def _run(function: Any, *args: Any, **options: Any) -> np.ndarray:
    """``function(*args, algorithm=..., **options)``, by every algorithm when asked."""
    if ALGORITHM != "every":
        return function(*args, algorithm=ALGORITHM, **options)
    reference = function(*args, algorithm="direct", **options)
    finite = np.isfinite(reference)
    scale = float(np.max(np.abs(reference[finite]), initial=0.0)) or 1.0
    for algorithm in EVERY[1:]:
        other = function(*args, algorithm=algorithm, **options)
        if not np.array_equal(np.isfinite(other), finite):
            raise DisagreementError(f"{algorithm}: non-finite outputs differ from direct's")
        error = float(np.max(np.abs(other[finite] - reference[finite]), initial=0.0))
        if error > TOLERANCE * scale:
            raise DisagreementError(f"{algorithm}: {error:.3g} from direct, max|y| = {scale:.3g}")
    return reference


def _served(original: Any) -> Any:
    def decorate(shim: Any) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = shim(*args, **kwargs)
            except (FallbackError, ImconvError):
                COUNTS["scipy"] += 1
                return original(*args, **kwargs)
            COUNTS["imconv"] += 1
            return result

        # SciPy's tests look their functions up in its array-API capabilities table.
        table = getattr(scipy._lib._array_api, "xp_capabilities_table", {})
        if original in table:
            table[wrapper] = table[original]
        return wrapper

    return decorate


def _wide(array: np.ndarray) -> np.ndarray:
    """SciPy computes in double precision; so does the shim (then casts back)."""
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def _arrays(in1: Any, in2: Any, mode: str, method: str) -> tuple[np.ndarray, np.ndarray]:
    if mode not in ("full", "same", "valid") or method not in ("auto", "direct", "fft"):
        raise FallbackError  # SciPy's own error
    a, b = np.asarray(in1), np.asarray(in2)
    if a.dtype.kind not in NUMERIC + "iub" or b.dtype.kind not in NUMERIC + "iub":
        raise FallbackError
    if a.ndim != b.ndim or a.size == 0 or b.size == 0 or a.ndim == 0:
        raise FallbackError
    return a, b


def _signal_convolve(original: Any) -> Any:
    @_served(original)
    def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
        a, b = _arrays(in1, in2, mode, method)
        if mode == "valid" and any(n < k for n, k in zip(a.shape, b.shape, strict=True)):
            if not all(n <= k for n, k in zip(a.shape, b.shape, strict=True)):
                raise FallbackError  # SciPy raises: neither contains the other
            a, b = b, a
        result = _run(imconv.convolve, _wide(a), _wide(b), mode=mode)
        dtype = np.result_type(a, b)
        if dtype.kind in "iub":
            return np.rint(result.real).astype(dtype)
        return result.astype(dtype)

    return convolve


def _signal_correlate(original: Any, convolve: Any) -> Any:
    @_served(original)
    def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
        a, b = _arrays(in1, in2, mode, method)
        if mode == "valid" and any(n < k for n, k in zip(a.shape, b.shape, strict=True)):
            raise FallbackError  # SciPy swaps, reverses and conjugates: leave it to SciPy
        flipped = np.flip(np.conj(b)) if b.dtype.kind == "c" else np.flip(b)
        result = _run(imconv.convolve, _wide(a), _wide(flipped), mode=mode)
        dtype = np.result_type(a, b)
        if dtype.kind in "iub":
            return np.rint(result.real).astype(dtype)
        return result.astype(dtype)

    return correlate


def _ndimage(original: Any, operation: str) -> Any:
    @_served(original)
    def filter_(
        input: Any,
        weights: Any,
        output: Any = None,
        mode: str = "reflect",
        cval: float = 0.0,
        origin: Any = 0,
        *,
        axes: Any = None,
    ) -> np.ndarray:
        x, w = np.asarray(input), np.asarray(weights)
        if output is not None or not isinstance(mode, str) or mode not in NDIMAGE_MODES:
            raise FallbackError
        if x.dtype.kind not in NUMERIC or w.dtype.kind not in NUMERIC + "iub":
            raise FallbackError
        if x.size == 0 or w.size == 0 or x.ndim == 0:
            raise FallbackError
        if operation == "correlate" and w.dtype.kind == "c":
            w = np.conj(w)  # ndimage.correlate conjugates complex weights, as np.correlate
        kernel_axes = sorted(
            range(x.ndim) if axes is None else [a % x.ndim for a in np.atleast_1d(axes)]
        )
        if w.ndim != len(kernel_axes):
            raise FallbackError
        given = kernel_axes if axes is None else [a % x.ndim for a in np.atleast_1d(axes)]
        if np.ndim(origin) and np.size(origin) != len(given):
            raise FallbackError  # SciPy's RuntimeError for a tuple of the wrong length
        origins = np.broadcast_to(np.asarray(origin), (len(given),)).astype(int)
        if operation == "convolve":  # ndimage moves even sizes by one more
            size = dict(zip(kernel_axes, w.shape, strict=True))
            origins = np.array([o + (1 - size[a] % 2) for o, a in zip(origins, given, strict=True)])
        result = _run(
            getattr(imconv, operation),
            _wide(x),
            _wide(w),
            padding=NDIMAGE_MODES[mode],
            cval=cval,
            origin=tuple(int(o) for o in origins),
            axes=None if axes is None else tuple(given),
        )
        kind = np.result_type(x, w) if x.dtype.kind == "c" or w.dtype.kind == "c" else x.dtype
        return result.astype(kind)

    return filter_


def pytest_configure(config: Any) -> None:
    signal_convolve = _signal_convolve(scipy.signal.convolve)
    scipy.signal.convolve = signal_convolve
    scipy.signal.correlate = _signal_correlate(scipy.signal.correlate, signal_convolve)
    scipy.ndimage.correlate = _ndimage(scipy.ndimage.correlate, "correlate")
    scipy.ndimage.convolve = _ndimage(scipy.ndimage.convolve, "convolve")


def pytest_unconfigure(config: Any) -> None:
    report = os.environ.get("IMCONV_SHIM_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(COUNTS, handle)
