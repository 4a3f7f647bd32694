"""The engine contract (the README's Python library section), one suite run over every algorithm.

Every test takes ``algorithm`` as a parameter: the same expectations, the same tolerance
(``1e-10`` of ``max|y|`` in float64, ``1e-4`` in float32) hold for direct, matmul, fft,
separable and auto. Oracles: the naive loops of ``tests/oracle.py``, ``scipy.signal``,
``scipy.ndimage`` and ``numpy.convolve``.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.fft
import scipy.ndimage
import scipy.signal

import imconv
import oracle
from imconv.engine import _bands, _direct, _fft, _flat, _matmul, _separable
from oracle import MODES, PADDINGS, assert_close

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
F64 = 1e-10
F32 = 1e-4
CVAL = 1.5
OPS = ("correlate", "convolve")


def _rng(*key: object) -> np.random.Generator:
    """A generator seeded from a readable key, so every case has its own fixed data."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _run(op: str, x: np.ndarray, w: np.ndarray, **options: object) -> np.ndarray:
    return getattr(imconv, op)(x, w, **options)


def _expected(op: str, x: np.ndarray, w: np.ndarray, **options: object) -> np.ndarray:
    return getattr(oracle, op)(x, w, **options)


# --- every algorithm x mode x padding x stride x dilation x kernel parity x ndim ----------


@dataclass(frozen=True)
class Geometry:
    """Shapes of one oracle case: image, kernel, dilation, and the strides tried on it."""

    name: str
    image: tuple[int, ...]
    kernel: tuple[int, ...]
    dilation: int | tuple[int, ...]
    strides: tuple[int | tuple[int, ...], ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        rng = _rng(self.name)
        return rng.standard_normal(self.image), rng.standard_normal(self.kernel)


GEOMETRIES = (
    Geometry("1d-k3", (9,), (3,), 1, (1, 2, 3)),
    Geometry("1d-k4-d2", (10,), (4,), 2, (1, 2, 3)),
    Geometry("2d-k3x3", (7, 8), (3, 3), 1, (1, 2, 3, (1, 3), (3, 2))),
    Geometry("2d-k2x4", (6, 9), (2, 4), 1, (1, 2, (2, 3))),
    Geometry("2d-k3x2-d2x1", (8, 7), (3, 2), (2, 1), (1, 3, (2, 1))),
    Geometry("2d-k2x2-d3", (8, 8), (2, 2), 3, (1, 2)),
    Geometry("3d-k3x2x3", (5, 4, 6), (3, 2, 3), 1, (1, 2, (1, 3, 2))),
    Geometry("3d-k2x3x2-d1x2x1", (4, 6, 5), (2, 3, 2), (1, 2, 1), (1, 3)),
)


@functools.cache
def _oracle_case(
    geometry: Geometry, op: str, mode: str, padding: str, stride: int | tuple[int, ...]
) -> np.ndarray:
    """The oracle's answer, computed once and shared by the five algorithms."""
    x, w = geometry.arrays()
    options = dict(mode=mode, padding=padding, cval=CVAL, stride=stride)
    return _expected(op, x, w, dilation=geometry.dilation, **options)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: g.name)
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_matches_the_loop_oracle(
    algorithm: str, mode: str, padding: str, geometry: Geometry
) -> None:
    x, w = geometry.arrays()
    for stride in geometry.strides:
        for op in OPS:
            got = _run(
                op,
                x,
                w,
                mode=mode,
                padding=padding,
                cval=CVAL,
                stride=stride,
                dilation=geometry.dilation,
                algorithm=algorithm,
            )
            assert got.dtype == np.float64
            expected = _oracle_case(geometry, op, mode, padding, stride)
            assert_close(got, expected, rtol=F64, context=f"{op} stride={stride}")


# --- channels: a kernel per channel, or a bank with bias ----------------------------------


def _with_channels(spatial: tuple[int, ...], channels: int, axis: int) -> tuple[int, ...]:
    shape = list(spatial)
    shape.insert(axis % (len(spatial) + 1), channels)
    return tuple(shape)


CHANNEL_SETTINGS = (
    dict(mode="same", stride=1, dilation=1),
    dict(mode="full", stride=(2, 1), dilation=(1, 2)),
    dict(mode="valid", stride=2, dilation=1),
)


@pytest.mark.parametrize("padding", ["zero", "mean", "replicate", "constant"])
@pytest.mark.parametrize("kind", ["per-channel", "per-channel-bias", "bank-bias"])
@pytest.mark.parametrize("channel_axis", [0, 1, -1], ids=["axis-first", "axis-middle", "axis-last"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_channels_match_the_oracle_and_keep_their_axis(
    algorithm: str, channel_axis: int, kind: str, padding: str
) -> None:
    rng = _rng("channels", channel_axis, kind, padding)
    x = rng.standard_normal(_with_channels((6, 7), 3, channel_axis))
    if kind == "bank-bias":
        w, bias = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    else:
        w, bias = rng.standard_normal((3, 2)), None
        if kind == "per-channel-bias":
            bias = rng.standard_normal(3)
    for settings in CHANNEL_SETTINGS:
        for op in OPS:
            options = dict(padding=padding, cval=CVAL, channel_axis=channel_axis, bias=bias)
            got = _run(op, x, w, algorithm=algorithm, **options, **settings)
            expected = _expected(op, x, w, **options, **settings)
            assert_close(got, expected, rtol=F64, context=f"{op} {settings}")


@pytest.mark.parametrize(
    ("spatial", "kernel"),
    [((11,), (4,)), ((5, 4, 6), (2, 3, 2))],
    ids=["1d", "3d"],
)
@pytest.mark.parametrize("kind", ["per-channel", "bank-bias"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_channels_work_for_signals_and_volumes(
    algorithm: str, kind: str, spatial: tuple[int, ...], kernel: tuple[int, ...]
) -> None:
    rng = _rng("channels-nd", spatial, kind)
    x = rng.standard_normal((*spatial, 2))
    bank = kind == "bank-bias"
    w = rng.standard_normal((3, 2, *kernel) if bank else kernel)
    bias = rng.standard_normal(3) if bank else None
    options = dict(mode="full", padding="reflect", stride=2, channel_axis=-1, bias=bias)
    got = imconv.convolve(x, w, algorithm=algorithm, **options)
    assert got.shape[-1] == (3 if bank else 2)
    assert_close(got, oracle.convolve(x, w, **options), rtol=F64)


# --- dtype policy --------------------------------------------------------------------------


def _image_of(dtype: np.dtype, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 200), shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


NOT_FLOAT64 = ["float32", "float16", "uint8", "uint16", "int8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dtype", NOT_FLOAT64)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_images_other_than_float64_compute_and_return_float32(algorithm: str, dtype: str) -> None:
    rng = _rng("dtype", dtype)
    x = _image_of(np.dtype(dtype), (7, 6), rng)
    w = rng.standard_normal((3, 2))
    options = dict(mode="full", padding="mean", stride=(1, 2), dilation=(2, 1))
    got = imconv.convolve(x, w, algorithm=algorithm, **options)
    assert got.dtype == np.float32
    assert_close(got, oracle.convolve(x.astype(np.float64), w, **options), rtol=F32)


@pytest.mark.parametrize("kernel_dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_image_dtype_alone_decides_the_result_dtype(algorithm: str, kernel_dtype: str) -> None:
    rng = _rng("kernel-dtype", kernel_dtype)
    w = _image_of(np.dtype(kernel_dtype), (3, 3), rng)
    x64 = rng.standard_normal((6, 5))
    got = imconv.correlate(x64, w, padding="reflect", algorithm=algorithm)
    assert got.dtype == np.float64
    expected = oracle.correlate(x64, w.astype(np.float64), padding="reflect")
    assert_close(got, expected, rtol=F64)
    x32 = x64.astype(np.float32)
    got32 = imconv.correlate(x32, w, padding="reflect", algorithm=algorithm)
    assert got32.dtype == np.float32
    assert_close(got32, oracle.correlate(x32, w.astype(np.float64), padding="reflect"), rtol=F32)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float32_banks_with_float64_bias_stay_float32(algorithm: str) -> None:
    rng = _rng("bank-f32")
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    w, bias = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    got = imconv.correlate(x, w, channel_axis=0, bias=bias, algorithm=algorithm)
    assert got.dtype == np.float32
    expected = oracle.correlate(x.astype(np.float64), w, channel_axis=0, bias=bias)
    assert_close(got, expected, rtol=F32)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(">f8", np.float64), (">f4", np.float32), (">i2", np.float32), ("<f8", np.float64)],
    ids=["big-endian-float64", "big-endian-float32", "big-endian-int16", "little-endian-float64"],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_byte_order_does_not_change_the_dtype_policy(
    algorithm: str, dtype: str, expected: type
) -> None:
    # A big-endian float64 image (FITS files, arrays saved on other machines) is float64.
    rng = _rng("byte-order", dtype)
    x = (rng.standard_normal((6, 5)) * 50).astype(dtype)
    w = rng.standard_normal((3, 3))
    got = imconv.convolve(x, w, padding="reflect", algorithm=algorithm)
    assert got.dtype == expected
    rtol = F64 if expected == np.float64 else F32
    assert_close(got, oracle.convolve(x.astype(np.float64), w, padding="reflect"), rtol=rtol)


def _layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    """The same values held in memory in other orders."""
    wide = np.zeros((x.shape[0], 2 * x.shape[1]))
    wide[:, ::2] = x
    return {
        "fortran": np.asfortranarray(x),
        "reversed": np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1],
        "strided-view": wide[:, ::2],
        "transposed": np.ascontiguousarray(x.T).T,
    }


@pytest.mark.parametrize("layout", ["fortran", "reversed", "strided-view", "transposed"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_memory_layout_does_not_change_the_result(algorithm: str, layout: str) -> None:
    rng = _rng("layout")
    x, w = rng.standard_normal((7, 6)), rng.standard_normal((3, 2))
    view = _layouts(x)[layout]
    np.testing.assert_array_equal(view, x)
    options = dict(mode="full", padding="symmetric", stride=(2, 1), algorithm=algorithm)
    got = imconv.correlate(view, _layouts(w)[layout], **options)
    np.testing.assert_array_equal(got, imconv.correlate(x, w, **options))


# --- external oracles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kernel"),
    [((9,), (3,)), ((9,), (4,)), ((7, 8), (3, 3)), ((7, 8), (2, 4)), ((6, 7), (5, 1))],
    ids=["1d-k3", "1d-k4", "2d-k3x3", "2d-k2x4", "2d-k5x1"],
)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_padding_matches_scipy_signal(
    algorithm: str, op: str, mode: str, image: tuple[int, ...], kernel: tuple[int, ...]
) -> None:
    rng = _rng("signal", image, kernel)
    x, w = rng.standard_normal(image), rng.standard_normal(kernel)
    expected = getattr(scipy.signal, op)(x, w, mode=mode, method="direct")
    assert_close(_run(op, x, w, mode=mode, algorithm=algorithm), expected, rtol=F64)


# The contract's `padding` names and the scipy.ndimage modes that extend the same way.
NDIMAGE_MODES = {
    "reflect": "mirror",
    "symmetric": "reflect",
    "replicate": "nearest",
    "wrap": "wrap",
    "constant": "constant",
}


def _ndimage_origin(op: str, kernel_shape: tuple[int, ...]) -> list[int]:
    """The ndimage ``origin`` that gives the contract's ``same`` alignment.

    ndimage centres a kernel of size ``k`` on tap ``k // 2``, which is exactly ``same``'s
    ``k_eff-1-(k_eff-1)//2`` taps before the output, odd or even; so ``correlate`` needs
    origin 0. ``ndimage.convolve`` flips the kernel and then moves even axes one pixel
    (it uses origin ``-origin-1`` on them), so it needs origin ``-1`` on even axes to land
    on ``correlate(x, flip(w))``.
    """
    if op == "correlate":
        return [0] * len(kernel_shape)
    return [-1 if k % 2 == 0 else 0 for k in kernel_shape]


@pytest.mark.parametrize(
    ("image", "kernel"),
    [((7, 8), (3, 3)), ((7, 8), (2, 4)), ((5, 4, 6), (3, 2, 2))],
    ids=["2d-k3x3", "2d-k2x4", "3d-k3x2x2"],
)
@pytest.mark.parametrize("padding", list(NDIMAGE_MODES))
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_mode_matches_scipy_ndimage(
    algorithm: str, op: str, padding: str, image: tuple[int, ...], kernel: tuple[int, ...]
) -> None:
    rng = _rng("ndimage", image, kernel)
    x, w = rng.standard_normal(image), rng.standard_normal(kernel)
    reference = getattr(scipy.ndimage, op)(
        x, w, mode=NDIMAGE_MODES[padding], cval=CVAL, origin=_ndimage_origin(op, kernel)
    )
    for stride in (1, 2):
        got = _run(op, x, w, padding=padding, cval=CVAL, stride=stride, algorithm=algorithm)
        expected = reference[(slice(None, None, stride),) * x.ndim]
        assert_close(got, expected, rtol=F64, context=f"stride={stride}")


@pytest.mark.parametrize("size", [1, 3, 4, 6, 8])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signals_match_numpy_convolve(algorithm: str, mode: str, size: int) -> None:
    rng = _rng("numpy", size)
    x, w = rng.standard_normal(8), rng.standard_normal(size)
    got = imconv.convolve(x, w, mode=mode, algorithm=algorithm)
    assert_close(got, np.convolve(x, w, mode=mode), rtol=F64)


@pytest.mark.parametrize(
    ("image", "kernel"),
    [((4,), (9,)), ((3, 2), (5, 6)), ((2, 3), (4, 4))],
    ids=["1d-k9-n4", "2d-k5x6-n3x2", "2d-k4x4-n2x3"],
)
@pytest.mark.parametrize("mode", ["full", "same"])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_kernels_larger_than_the_image_match_scipy_signal(
    algorithm: str, op: str, mode: str, image: tuple[int, ...], kernel: tuple[int, ...]
) -> None:
    rng = _rng("large-signal", image, kernel)
    x, w = rng.standard_normal(image), rng.standard_normal(kernel)
    expected = getattr(scipy.signal, op)(x, w, mode=mode, method="direct")
    assert_close(_run(op, x, w, mode=mode, algorithm=algorithm), expected, rtol=F64)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", ["full", "same"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_padding_wider_than_the_image_behaves_like_numpy_pad(
    algorithm: str, mode: str, padding: str
) -> None:
    # A 5x6 kernel dilated by 2 spans 9x11: every extension is wider than the 3x2 image,
    # so reflect and symmetric repeat their pattern and wrap tiles, as numpy.pad does.
    rng = _rng("wide-padding", padding)
    x, w = rng.standard_normal((3, 2)), rng.standard_normal((5, 6))
    for dilation, stride in ((1, 1), (2, 1), (1, (2, 3))):
        options = dict(mode=mode, padding=padding, cval=CVAL, dilation=dilation, stride=stride)
        got = imconv.convolve(x, w, algorithm=algorithm, **options)
        expected = oracle.convolve(x, w, **options)
        assert_close(got, expected, rtol=F64, context=f"dilation={dilation} stride={stride}")


# --- bands: overlap-save FFT, cache-blocked direct/matmul/separable, threads ----------------


@pytest.fixture
def fft_transforms(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Tiny FFT bands; returns the shapes of the forward transforms as they happen."""
    monkeypatch.setattr(_fft, "BLOCK_ELEMENTS", 64)
    calls: list[tuple[int, ...]] = []
    real_rfftn = scipy.fft.rfftn

    def counting_rfftn(a, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(np.shape(a))
        return real_rfftn(a, *args, **kwargs)

    monkeypatch.setattr(scipy.fft, "rfftn", counting_rfftn)
    return calls


FFT_BAND_CASES = {
    "1d": dict(image=(150,), kernel=(5,), channel_axis=None, bank=False),
    "2d": dict(image=(40, 9), kernel=(3, 4), channel_axis=None, bank=False),
    "3d": dict(image=(40, 4, 3), kernel=(3, 2, 2), channel_axis=None, bank=False),
    "2d-channels": dict(image=(60, 7, 2), kernel=(4, 3), channel_axis=-1, bank=False),
    "2d-bank": dict(image=(2, 40, 7), kernel=(3, 2, 3, 3), channel_axis=0, bank=True),
}


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("stride", [1, 2, 3], ids=lambda s: f"stride{s}")
@pytest.mark.parametrize("case", list(FFT_BAND_CASES))
def test_fft_overlap_save_in_many_bands_matches_the_oracle(
    fft_transforms: list[tuple[int, ...]], case: str, stride: int, dilation: int
) -> None:
    spec = FFT_BAND_CASES[case]
    rng = _rng("fft-bands", case)
    x, w = rng.standard_normal(spec["image"]), rng.standard_normal(spec["kernel"])
    bias = rng.standard_normal(spec["kernel"][0]) if spec["bank"] else None
    for mode in MODES:
        fft_transforms.clear()
        options = dict(
            mode=mode,
            padding="reflect",
            stride=stride,
            dilation=dilation,
            channel_axis=spec["channel_axis"],
            bias=bias,
        )
        got = imconv.convolve(x, w, algorithm="fft", **options)
        assert len(fft_transforms) - 1 >= 3, f"{mode}: only {len(fft_transforms) - 1} bands"
        assert_close(got, oracle.convolve(x, w, **options), rtol=F64, context=mode)


@pytest.fixture
def band_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Tiny bands for direct, matmul and separable; returns (total rows, rows per band).

    The budgets are read by the modules that use them (``from ._bands import
    CACHE_BYTES`` binds a copy), so each binding is patched, not only ``_bands``'.
    """
    for module in (_bands, _direct, _separable):
        monkeypatch.setattr(module, "CACHE_BYTES", 256)
    monkeypatch.setattr(_flat, "FLAT_BAND_BYTES", 64)
    monkeypatch.setattr(_matmul, "IM2COL_BYTES", 256)
    calls: list[tuple[int, int]] = []
    for module in (_direct, _matmul, _separable):

        def spy(compute, total_rows, rows, threads, _real=module.run_bands):  # type: ignore[no-untyped-def]
            calls.append((total_rows, rows))
            _real(compute, total_rows, rows, threads)

        monkeypatch.setattr(module, "run_bands", spy)

    def flat_spy(sources, out, threads, _real=_flat.correlate_runs):  # type: ignore[no-untyped-def]
        calls.append((out.size, max(1, _flat.FLAT_BAND_BYTES // out.itemsize)))
        _real(sources, out, threads=threads)

    monkeypatch.setattr(_flat, "correlate_runs", flat_spy)
    return calls


BAND_CASES = {
    "2d": dict(image=(20, 9), kernel=(3, 4), stride=1, dilation=1, channel_axis=None),
    "2d-strided-dilated": dict(
        image=(23, 11), kernel=(3, 2), stride=(2, 3), dilation=2, channel_axis=None
    ),
    "3d": dict(image=(12, 5, 4), kernel=(2, 3, 2), stride=(3, 1, 2), dilation=1, channel_axis=None),
    "channels": dict(image=(3, 16, 6), kernel=(3, 3), stride=2, dilation=(1, 2), channel_axis=0),
    "bank": dict(image=(16, 6, 3), kernel=(2, 3, 3, 3), stride=1, dilation=1, channel_axis=-1),
}


@pytest.mark.parametrize("case", list(BAND_CASES))
@pytest.mark.parametrize("algorithm", ["direct", "matmul", "separable"])
def test_cache_bands_on_one_or_two_threads_give_identical_results(
    band_calls: list[tuple[int, int]], algorithm: str, case: str
) -> None:
    spec = dict(BAND_CASES[case])
    rng = _rng("bands", case)
    x, w = rng.standard_normal(spec.pop("image")), rng.standard_normal(spec.pop("kernel"))
    bias = rng.standard_normal(w.shape[0]) if case == "bank" else None
    for mode in MODES:
        options = dict(mode=mode, padding="symmetric", bias=bias, **spec)
        band_calls.clear()
        one = imconv.correlate(x, w, algorithm=algorithm, threads=1, **options)
        assert any(rows < total for total, rows in band_calls), f"{mode}: one band only"
        two = imconv.correlate(x, w, algorithm=algorithm, threads=2, **options)
        np.testing.assert_array_equal(one, two, err_msg=mode)
        assert_close(one, oracle.correlate(x, w, **options), rtol=F64, context=mode)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_fft_bands_agree_across_thread_counts(
    fft_transforms: list[tuple[int, ...]], threads: int
) -> None:
    rng = _rng("fft-threads")
    x, w = rng.standard_normal((2, 30, 8)), rng.standard_normal((3, 3))
    options = dict(mode="same", stride=2, channel_axis=0, algorithm="fft")
    reference = imconv.correlate(x, w, threads=1, **options)
    got = imconv.correlate(x, w, threads=threads, **options)
    assert_close(got, reference, rtol=F64)
    assert_close(got, oracle.correlate(x, w, mode="same", stride=2, channel_axis=0), rtol=F64)


# --- hand-known cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel_shape",
    [(3,), (4,), (3, 3), (2, 4), (3, 2, 2)],
    ids=["k3", "k4", "k3x3", "k2x4", "k3x2x2"],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_impulse_shows_the_kernel_as_written_or_reversed(
    algorithm: str, kernel_shape: tuple[int, ...]
) -> None:
    w = np.arange(1.0, np.prod(kernel_shape) + 1).reshape(kernel_shape)
    x = np.zeros(tuple(k + 4 for k in kernel_shape))
    at = tuple(2 for _ in kernel_shape)
    x[at] = 1.0
    window = tuple(slice(2, 2 + k) for k in kernel_shape)
    for op, expected in (("convolve", w), ("correlate", np.flip(w))):
        y = _run(op, x, w, mode="full", algorithm=algorithm)
        assert_close(y[window], expected, rtol=F64, context=op)
        y[window] = 0.0
        assert np.abs(y).max() <= F64 * np.abs(w).max(), f"{op}: energy outside the kernel"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_impulse_in_same_mode_is_centred_on_odd_kernels(algorithm: str) -> None:
    w = np.arange(1.0, 10.0).reshape(3, 3)
    x = np.zeros((5, 5))
    x[2, 2] = 1.0
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = w
    assert_close(imconv.convolve(x, w, algorithm=algorithm), expected, rtol=F64)
    expected[1:4, 1:4] = w[::-1, ::-1]
    assert_close(imconv.correlate(x, w, algorithm=algorithm), expected, rtol=F64)


@pytest.mark.parametrize(
    ("kernel", "expected"),
    [
        ([-1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]),
        ([1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1 / 3, 2 / 3, 1.0, 1.0]),
    ],
    ids=["central-difference", "box-blur"],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_step_edge_gives_the_known_response(
    algorithm: str, kernel: list[float], expected: list[float]
) -> None:
    # Correlating 0 0 0 1 1 1 (every row of a 4x6 image) with replicate padding: no border
    # artefacts, so the response is the kernel's cumulative sum around the edge.
    x = np.tile([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], (4, 1))
    w = np.asarray(kernel)[np.newaxis]
    got = imconv.correlate(x, w, padding="replicate", algorithm=algorithm)
    assert_close(got, np.tile(expected, (4, 1)), rtol=F64)


@pytest.mark.parametrize(
    ("padding", "cval"),
    [
        ("reflect", 0.0),
        ("symmetric", 0.0),
        ("replicate", 0.0),
        ("wrap", 0.0),
        ("mean", 0.0),
        ("constant", 2.5),
    ],
    ids=["reflect", "symmetric", "replicate", "wrap", "mean", "constant-same-value"],
)
@pytest.mark.parametrize("mode", ["full", "same"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_constant_image_gives_constant_times_kernel_sum(
    algorithm: str, mode: str, padding: str, cval: float
) -> None:
    rng = _rng("constant-image")
    w = rng.standard_normal((3, 4))
    x = np.full((6, 5), 2.5)
    for stride, dilation in ((1, 1), (2, 1), ((1, 3), (2, 1))):
        got = imconv.convolve(
            x,
            w,
            mode=mode,
            padding=padding,
            cval=cval,
            stride=stride,
            dilation=dilation,
            algorithm=algorithm,
        )
        expected = np.full(got.shape, 2.5 * w.sum())
        assert got.shape == imconv.output_shape(
            x.shape, w.shape, mode=mode, stride=stride, dilation=dilation
        )
        assert_close(got, expected, rtol=F64, context=f"stride={stride} dilation={dilation}")


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_pixel_images(algorithm: str, padding: str) -> None:
    w = np.arange(1.0, 10.0).reshape(3, 3)
    x = np.array([[2.0]])
    border = {"zero": 0.0, "constant": CVAL}.get(padding, 2.0)  # the rest repeat the pixel
    xp = np.full((5, 5), border)
    xp[2, 2] = 2.0
    options = dict(padding=padding, cval=CVAL, algorithm=algorithm)
    full = imconv.correlate(x, w, mode="full", **options)
    expected = scipy.signal.correlate(xp, w, mode="valid")
    assert_close(full, expected, rtol=F64, context="full")
    same = imconv.correlate(x, w, mode="same", **options)
    assert_close(same, expected[1:2, 1:2], rtol=F64, context="same")
    valid = imconv.correlate(x, np.array([[3.0]]), mode="valid", **options)
    assert_close(valid, np.array([[6.0]]), rtol=F64, context="valid")
    signal = imconv.convolve(np.array([4.0]), np.array([0.5]), mode="valid", **options)
    assert_close(signal, np.array([2.0]), rtol=F64, context="1-D")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_names_are_case_insensitive_and_enums_are_accepted(algorithm: str) -> None:
    rng = _rng("names")
    x, w = rng.standard_normal((5, 6)), rng.standard_normal((2, 3))
    reference = imconv.convolve(x, w, mode="full", padding="reflect", algorithm=algorithm)
    shouted = imconv.convolve(x, w, mode="FULL", padding=" Reflect ", algorithm=algorithm.upper())
    enums = imconv.convolve(
        x,
        w,
        mode=imconv.Mode.FULL,
        padding=imconv.Padding.REFLECT,
        algorithm=imconv.Algorithm(algorithm),
    )
    np.testing.assert_array_equal(shouted, reference)
    np.testing.assert_array_equal(enums, reference)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lists_are_accepted_as_arrays(algorithm: str) -> None:
    got = imconv.correlate(
        [[1, 2], [3, 4]], [[1.0, 0.0], [0.0, -1.0]], mode="valid", algorithm=algorithm
    )
    assert got.dtype == np.float32
    assert_close(got, np.array([[-3.0]]), rtol=F32)


# --- inputs are never mutated and never aliased -------------------------------------------


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a


MUTATION_CASES = {
    "zero-same": dict(image=(6, 7), kernel=(3, 3), mode="same", padding="zero"),
    "mean-full-strided": dict(image=(6, 7), kernel=(2, 3), mode="full", padding="mean", stride=2),
    "valid-1x1-kernel": dict(image=(6, 7), kernel=(1, 1), mode="valid", padding="zero"),
    "same-1x1-kernel": dict(image=(6, 7), kernel=(1, 1), mode="same", padding="reflect"),
    "channels-last": dict(
        image=(5, 6, 3), kernel=(3, 3), mode="same", padding="wrap", channel_axis=-1
    ),
    "bank-bias": dict(
        image=(3, 5, 6),
        kernel=(2, 3, 3, 3),
        mode="valid",
        padding="zero",
        channel_axis=0,
        bias=True,
    ),
    "1-channel-valid-1x1": dict(
        image=(1, 5, 6), kernel=(1, 1), mode="valid", padding="zero", channel_axis=0
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(MUTATION_CASES))
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_inputs_are_never_written_and_the_output_is_a_new_array(
    algorithm: str, op: str, case: str, dtype: str
) -> None:
    spec = dict(MUTATION_CASES[case])
    rng = _rng("mutation", case)
    x = rng.standard_normal(spec.pop("image")).astype(dtype)
    w = rng.standard_normal(spec.pop("kernel"))
    bias = rng.standard_normal(w.shape[0]) if spec.pop("bias", False) else None
    copies = [np.copy(a) for a in (x, w, bias) if a is not None]
    x, w = _frozen(x), _frozen(w)  # a write raises instead of passing unnoticed
    bias = None if bias is None else _frozen(bias)
    y = _run(op, x, w, bias=bias, algorithm=algorithm, **spec)
    for before, after in zip(copies, [a for a in (x, w, bias) if a is not None], strict=True):
        np.testing.assert_array_equal(after, before)
    assert not np.shares_memory(y, x)
    assert not np.shares_memory(y, w)
    assert y.flags.writeable
    y[...] = 0.0  # the caller owns the result
    np.testing.assert_array_equal(x, copies[0])
