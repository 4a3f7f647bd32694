"""Complex images and kernels on every algorithm; the dtype rules; exact scaling by 1x1.

Oracle: ``scipy.signal.convolve`` (zero padding) and ``tests/oracle.py``'s loops in
complex128. ``correlate`` never conjugates the kernel (``scipy.signal.correlate`` does).
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest
import scipy.signal

import imconv
import oracle
from imconv.errors import InvalidParameterError

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
F64 = 1e-10
F32 = 1e-4


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _complex(shape: tuple[int, ...], key: str, dtype: type = np.complex128) -> np.ndarray:
    rng = _rng(key, shape)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("which", ["both", "image", "kernel"])
@pytest.mark.parametrize("shapes", [((23,), (6,)), ((13, 11), (4, 5)), ((6, 7, 5), (3, 2, 3))])
def test_complex_convolution_equals_scipy_signal(
    algorithm: str, mode: str, which: str, shapes: tuple
) -> None:
    image, kernel = shapes
    x = _complex(image, "x") if which != "kernel" else _rng("xr").standard_normal(image)
    w = _complex(kernel, "w") if which != "image" else _rng("wr").standard_normal(kernel)
    got = imconv.convolve(x, w, mode=mode, algorithm=algorithm)
    expected = scipy.signal.convolve(x, w, mode=mode, method="direct")
    assert got.dtype == np.complex128
    oracle.assert_close(got, expected, rtol=F64, context=f"{algorithm} {mode} {which}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_correlate_never_conjugates(algorithm: str) -> None:
    x, w = _complex((15, 12), "corr-x"), _complex((3, 5), "corr-w")
    got = imconv.correlate(x, w, mode="full", algorithm=algorithm)
    # scipy.signal.correlate conjugates its second argument: undo it.
    expected = scipy.signal.correlate(x, np.conj(w), mode="full", method="direct")
    oracle.assert_close(got, expected, rtol=F64)
    flipped = imconv.convolve(x, np.flip(w), mode="full", algorithm=algorithm)
    oracle.assert_close(got, flipped, rtol=F64)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("padding", ["reflect", "wrap", "mean", "constant"])
def test_complex_with_paddings_strides_channels_and_banks_matches_the_oracle(
    algorithm: str, padding: str
) -> None:
    x = _complex((9, 8, 2), "channels")
    bank = _complex((3, 2, 3, 2), "bank")
    options = dict(padding=padding, cval=1.5, stride=(2, 1), dilation=(1, 2), channel_axis=-1)
    got = imconv.correlate(x, bank, algorithm=algorithm, bias=[1j, 2.0, -1.0], **options)
    expected = oracle.correlate(x, bank, bias=[1j, 2.0, -1.0], **options)
    oracle.assert_close(got, expected, rtol=F64)
    per_channel = imconv.convolve(x, bank[0, 0], algorithm=algorithm, **options)
    oracle.assert_close(per_channel, oracle.convolve(x, bank[0, 0], **options), rtol=F64)


@pytest.mark.parametrize(
    ("image", "kernel", "expected"),
    [
        (np.complex64, np.float64, np.complex64),  # a complex64 image stays complex64
        (np.complex64, np.float32, np.complex64),
        (np.complex64, np.complex128, np.complex128),
        (np.complex128, np.float32, np.complex128),
        (np.float64, np.complex64, np.complex128),  # a float64 image is double precision
        (np.float32, np.complex64, np.complex64),
        (np.float32, np.complex128, np.complex128),
        (np.uint8, np.complex64, np.complex64),
        (np.float32, np.float64, np.float32),
        (np.float64, np.float32, np.float64),
    ],
)
def test_the_dtype_policy(image: type, kernel: type, expected: type) -> None:
    x = np.ones((6, 5), dtype=image)
    w = np.ones((3, 3), dtype=kernel)
    for algorithm in ALGORITHMS:
        assert imconv.convolve(x, w, algorithm=algorithm).dtype == expected


@pytest.mark.parametrize("algorithm", ["direct", "fft", "separable", "matmul"])
def test_complex64_stays_within_single_precision(algorithm: str) -> None:
    x = _complex((40, 33), "c64", np.complex64)
    w = _complex((5, 5), "c64w", np.complex64)
    got = imconv.convolve(x, w, algorithm=algorithm, padding="reflect")
    expected = oracle.convolve(x, w, padding="reflect")
    assert got.dtype == np.complex64
    oracle.assert_close(got, expected, rtol=F32)


@pytest.mark.parametrize("algorithm", ["direct", "separable", "fft"])
@pytest.mark.parametrize("threads", [1, 2])
def test_bands_of_a_complex_photo_give_the_whole_results_bits(algorithm: str, threads: int) -> None:
    """The complex ?axpy (caxpy/zaxpy) blocks like the real ones: bands keep their bits."""
    photo = _complex((400, 120, 3), "complex-bands", np.complex64)
    made = imconv.plan(
        photo.shape,
        _rng("complex-bands-w").random((9, 9)),
        dtype=photo.dtype,
        padding="reflect",
        channel_axis=-1,
        algorithm=algorithm,
        threads=threads,
    )
    whole = made(photo)
    height = max(made.band_multiple, 97 // made.band_multiple * made.band_multiple)
    for start in range(0, 400, height):
        stop = min(start + height, 400)
        np.testing.assert_array_equal(made.run_band(photo, start, stop), whole[start:stop])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_complex_non_finite_input_gives_nan_in_its_footprint(algorithm: str) -> None:
    x = _complex((20, 20), "complex-nan")
    x[5, 5] = complex(np.inf, 0.0)
    x[12, 14] = complex(0.0, np.nan)
    w = _complex((3, 3), "complex-nan-w")
    w[0, 0] = 0.0
    got = imconv.convolve(x, w, algorithm=algorithm)
    bad = ~np.isfinite(got)
    assert bad.sum() == 2 * 8
    assert np.isnan(got[bad].real).all()
    assert np.isnan(got[bad].imag).all()
    expected = oracle.convolve(x, w)
    np.testing.assert_array_equal(bad, ~np.isfinite(expected))
    oracle.assert_close(np.where(bad, 0, got), np.where(bad, 0, expected), rtol=F64)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_complex_normalized_convolution_matches_the_oracle(algorithm: str) -> None:
    x = _complex((11, 10), "complex-ignore")
    x[3, 4] = np.nan
    w = _complex((3, 3), "complex-ignore-w") + 2.0
    got = imconv.convolve(x, w, nan="ignore", algorithm=algorithm, padding="reflect")
    expected = oracle.convolve(x, w, nan="ignore", padding="reflect")
    oracle.assert_close(got, expected, rtol=1e-9)


def test_one_by_one_kernels_scale_exactly() -> None:
    assert imconv.correlate([[1.0]], [[-2.0]], mode="full").tolist() == [[-2.0]]
    x = _rng("scale").standard_normal((40, 30))
    for algorithm in ("auto", "direct", "separable"):  # (the FFT rounds, as always)
        np.testing.assert_array_equal(imconv.convolve(x, [[3.0]], algorithm=algorithm), 3.0 * x)
        shifted = imconv.correlate(x, [[0.0, 0.0, 3.0]], algorithm=algorithm, padding="wrap")
        np.testing.assert_array_equal(shifted, 3.0 * np.roll(x, -1, axis=1))


def test_complex_bias_needs_complex_data() -> None:
    message = "bias must be finite real numbers; got 1j"
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        imconv.convolve(np.ones((4, 4)), np.ones((3, 3)), bias=1j)


def test_toeplitz_stays_real() -> None:
    message = (
        "kernel dtype must be real for toeplitz: bool, integer or floating point; got 'complex128'"
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        imconv.toeplitz(np.ones((3, 3), dtype=complex), (4, 4))
