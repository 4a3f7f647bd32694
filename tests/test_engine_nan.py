"""Non-finite inputs and masks: ``nan="propagate"`` and ``nan="ignore"`` on every algorithm.

Oracles: ``tests/oracle.py``'s loops (non-zero taps only; normalized convolution),
``scipy.ndimage`` on an indicator image for footprints, and astropy's ``convolve`` and
``convolve_fft`` (``nan_treatment="interpolate", normalize_kernel=False``) for
normalized convolution.
"""

from __future__ import annotations

import itertools
import re
import warnings
import zlib

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

import imconv
import oracle
from imconv.errors import InvalidParameterError, KernelError, ShapeError

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
F64 = 1e-10


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _same_non_finite(got: np.ndarray, expected: np.ndarray) -> None:
    """NaN, +inf and -inf at exactly the same places."""
    for test in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(test(got), test(expected), err_msg=test.__name__)


def _close_where_finite(got: np.ndarray, expected: np.ndarray, rtol: float = F64) -> None:
    _same_non_finite(got, expected)
    finite = np.isfinite(expected)
    scale = float(np.max(np.abs(expected[finite]), initial=1.0))
    assert float(np.max(np.abs(got[finite] - expected[finite]), initial=0.0)) <= rtol * scale


# --- nan="propagate" ------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_nan_stays_in_its_footprint_whatever_the_algorithm(algorithm: str) -> None:
    """The issue's example: FFT used to turn one NaN into 65,536 of them."""
    x = np.ones((256, 256))
    x[100, 100] = np.nan
    w = _rng("footprint").random((31, 31))
    assert np.isnan(imconv.convolve(x, w, algorithm=algorithm)).sum() == 31 * 31


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("stride", [1, 2])
def test_non_finite_outputs_are_exactly_the_footprint_of_non_finite_inputs(
    algorithm: str, stride: int
) -> None:
    """NaN where a NaN, or infinities of both signs, meet non-zero taps; else the sign."""
    rng = _rng("classes", stride)
    x = rng.standard_normal((40, 37))
    x[5, 6], x[20, 20], x[21, 22], x[30, 9], x[33, 30] = np.inf, -np.inf, np.inf, np.nan, np.inf
    w = rng.standard_normal((5, 4))
    w[1, 1] = w[3, 0] = w[:, 2] = 0.0  # zero taps never carry a NaN
    got = imconv.correlate(x, w, algorithm=algorithm, stride=stride, padding="reflect")
    expected = oracle.correlate(x, w, stride=stride, padding="reflect")
    _close_where_finite(got, expected)
    footprint = scipy.ndimage.correlate(
        (~np.isfinite(np.pad(x, ((2, 2), (2, 1)), mode="reflect"))).astype(float),
        (w != 0).astype(float),
        mode="constant",
        origin=(-2, -2),  # the window of output j starts at padded j (valid correlation)
    )[: 40 - 0, :37][::stride, ::stride]
    np.testing.assert_array_equal(~np.isfinite(got), footprint > 0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "case",
    [
        dict(channel_axis=-1, kernel=(3, 3)),
        dict(channel_axis=-1, kernel=(2, 3, 3, 2)),  # a bank
        dict(channel_axis=0, kernel=(3, 2), mode="full", dilation=2),
        dict(channel_axis=-1, kernel=(2, 3, 3, 2), stride=2, mode="valid"),
    ],
    ids=["rgb", "bank", "channels-first-full-dilated", "bank-strided"],
)
def test_propagate_matches_the_oracle_with_channels_and_banks(algorithm: str, case: dict) -> None:
    rng = _rng("channels", repr(case))
    options = dict(case)
    kernel = options.pop("kernel")
    shape = (3, 11, 9) if options["channel_axis"] == 0 else (11, 9, 3)
    x = rng.standard_normal(shape)
    x[(2, 3, 1) if options["channel_axis"] == -1 else (1, 2, 3)] = np.nan
    x[(7, 4, 0) if options["channel_axis"] == -1 else (0, 7, 4)] = -np.inf
    w = rng.standard_normal(kernel)
    if len(kernel) == 4:
        w[0, 1] = 0.0  # an all-zero pair of the bank
        w[1, 0, 1, 1] = 0.0
    got = imconv.convolve(x, w, algorithm=algorithm, padding="symmetric", **options)
    expected = oracle.convolve(x, w, padding="symmetric", **options)
    _close_where_finite(got, expected)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_finite_data_takes_no_detour(algorithm: str) -> None:
    x = _rng("finite").random((30, 20))
    made = imconv.plan(x.shape, np.ones((3, 3)), dtype=x.dtype, algorithm=algorithm)
    made(x)
    assert (made.nonfinite_bands, made.nan_path, made.normalized) == (0, "", False)
    assert made.nan == "propagate"
    x[4, 4] = np.inf
    made(x)
    assert made.nonfinite_bands in (0, 1)  # direct's own sums are already exact
    if made.nonfinite_bands:
        assert made.nan_path.startswith("non-finite inputs in 1 band(s)")


def test_mean_padding_of_an_image_with_a_nan_is_nan_under_propagate() -> None:
    x = np.ones((6, 6))
    x[3, 3] = np.nan
    for algorithm in ALGORITHMS:
        got = imconv.convolve(x, np.ones((3, 3)), padding="mean", algorithm=algorithm)
        assert np.isnan(got[[0, 3], [0, 3]]).all()
        assert not np.isnan(got[1, 1])


def test_inputs_are_never_modified() -> None:
    x = _rng("mutate").random((12, 10))
    x[3, 3], x[7, 2] = np.nan, np.inf
    mask = np.ones(x.shape, dtype=bool)
    mask[5, 5] = False
    before, mask_before = x.copy(), mask.copy()
    for algorithm, nan in itertools.product(ALGORITHMS, ("propagate", "ignore")):
        imconv.convolve(x, np.ones((3, 3)), algorithm=algorithm, nan=nan)
        imconv.convolve(x, np.ones((3, 3)), algorithm=algorithm, mask=mask)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(mask, mask_before)


# --- nan="ignore": normalized convolution -------------------------------------------------


def _holes(shape: tuple[int, ...], key: str, fraction: float = 0.2) -> np.ndarray:
    rng = _rng("holes", key, shape)
    x = rng.random(shape)
    x[rng.random(shape) < fraction] = np.nan
    x[2:6, 3:9] = np.nan  # a hole larger than the kernel: NaN outputs
    return x


ASTROPY_BOUNDARIES = [
    (dict(boundary="fill", fill_value=0.0), dict(padding="zero")),
    (dict(boundary="fill", fill_value=np.nan), dict(padding="constant", cval=np.nan)),
    (dict(boundary="wrap"), dict(padding="wrap")),
    (dict(boundary="extend"), dict(padding="replicate")),
]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    ("astropy_boundary", "padding"), ASTROPY_BOUNDARIES, ids=["zero", "nan", "wrap", "extend"]
)
def test_ignore_equals_astropy_convolve(
    algorithm: str, astropy_boundary: dict, padding: dict
) -> None:
    astropy_convolution = pytest.importorskip("astropy.convolution")
    x = _holes((30, 41), "astropy")
    w = _rng("astropy-kernel").random((5, 7)) + 0.1  # odd sizes: astropy's centring
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy warns that NaN holes remain
        expected = astropy_convolution.convolve(
            x, w, nan_treatment="interpolate", normalize_kernel=False, **astropy_boundary
        )
    got = imconv.convolve(x, w, nan="ignore", algorithm=algorithm, **padding)
    _close_where_finite(got, expected)


@pytest.mark.parametrize("algorithm", ["fft", "auto"])
def test_ignore_equals_astropy_convolve_fft(algorithm: str) -> None:
    astropy_convolution = pytest.importorskip("astropy.convolution")
    x = _holes((40, 33), "astropy-fft", fraction=0.05)
    w = _rng("astropy-fft-kernel").random((9, 9)) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = astropy_convolution.convolve_fft(
            x, w, nan_treatment="interpolate", normalize_kernel=False, boundary="wrap"
        )
    got = imconv.convolve(x, w, nan="ignore", padding="wrap", algorithm=algorithm)
    finite = np.isfinite(got)  # convolve_fft fills holes by its own rounding: compare the rest
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-9, atol=1e-12)


def test_a_mask_equals_astropys_mask() -> None:
    astropy_convolution = pytest.importorskip("astropy.convolution")
    rng = _rng("astropy-mask")
    x, valid = rng.random((25, 30)), rng.random((25, 30)) > 0.25
    w = rng.random((3, 5)) + 0.1
    expected = astropy_convolution.convolve(
        x, w, mask=~valid, nan_treatment="interpolate", normalize_kernel=False
    )
    for algorithm in ALGORITHMS:
        _close_where_finite(imconv.convolve(x, w, mask=valid, algorithm=algorithm), expected)


NORMALIZED_CASES = {
    "mean-origin": dict(image=(9, 8), kernel=(3, 2), padding="mean", origin=(1, 0)),
    "strided-dilated": dict(image=(11, 10), kernel=(3, 3), stride=2, dilation=2, mode="full"),
    "rgb-mask": dict(image=(8, 9, 3), kernel=(3, 3), channel_axis=-1, masked=True),
    "bank-reflect": dict(image=(8, 7, 2), kernel=(3, 2, 3, 2), channel_axis=-1, padding="reflect"),
    "valid-nan-border": dict(image=(9, 9), kernel=(4, 3), mode="valid", padding="constant"),
    "1d": dict(image=(17,), kernel=(5,), padding="symmetric", masked=True),
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("case", NORMALIZED_CASES)
def test_ignore_matches_the_oracle(case: str, op: str, algorithm: str) -> None:
    options = dict(NORMALIZED_CASES[case])
    image, kernel = options.pop("image"), options.pop("kernel")
    masked = options.pop("masked", False)
    rng = _rng("normalized", case)
    x = rng.standard_normal(image)
    x[rng.random(image) < 0.15] = np.nan
    x.flat[3] = np.inf
    w = rng.random(kernel) + 0.2
    if len(kernel) == 4:
        w[1, 0] = 0.0  # an all-zero pair adds nothing and needs no normalization
    spatial = image if options.get("channel_axis") is None else image[:-1]
    mask = rng.random(spatial) > 0.2 if masked else None
    cval = np.nan if options.get("padding") == "constant" else 0.0
    expected = getattr(oracle, op)(x, w, nan="ignore", mask=mask, cval=cval, **options)
    got = getattr(imconv, op)(
        x, w, nan="ignore", mask=mask, cval=cval, algorithm=algorithm, **options
    )
    _close_where_finite(got, expected, rtol=1e-9)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_window_without_valid_input_is_nan_and_only_that(algorithm: str) -> None:
    x = np.ones((12, 12))
    x[3:8, 2:9] = np.nan
    w = np.ones((3, 3))
    w[0, 0] = 0.0  # the corner tap cannot rescue an output
    got = imconv.correlate(x, w, nan="ignore", algorithm=algorithm, padding="replicate")
    expected = oracle.correlate(x, w, nan="ignore", padding="replicate")
    _same_non_finite(got, expected)
    assert np.isnan(got).sum() == 3 * 5  # rows 4-6, columns 3-7: every non-zero tap missing
    np.testing.assert_allclose(got[np.isfinite(got)], w.sum(), rtol=1e-12)


@pytest.mark.parametrize("why", [dict(nan="ignore"), dict(mask=np.ones((6, 6), dtype=bool))])
def test_a_kernel_summing_to_zero_cannot_be_renormalized(why: dict) -> None:
    message = (
        "kernel must not sum to zero for {} (normalized convolution divides by the sum of the "
        "weights that meet valid inputs); got a sum of 0.0 for sum(|w|) = 2.0"
    )
    name = "a mask" if "mask" in why else "nan='ignore'"
    with pytest.raises(KernelError, match=re.escape(message.format(name))) as caught:
        imconv.plan((6, 6), [[1.0, -1.0]], dtype="float64", **why)
    assert (
        caught.value.hint == "use nan='propagate' without a mask, or a kernel with a non-zero sum"
    )
    bank = np.ones((2, 2, 3, 3))
    bank[1, 0] = [[1, 0, -1]] * 3
    with pytest.raises(KernelError, match="bank entry \\(1, 0\\)"):
        imconv.plan((6, 6, 2), bank, channel_axis=-1, nan="ignore")
    imconv.plan((6, 6), [[1.0, -1.0 + 1e-6]], nan="ignore")  # not zero: fine
    imconv.plan((6, 6), [[1.0, -1.0]])  # propagate never divides


def test_cval_nan_is_missing_data_only_with_ignore() -> None:
    x = np.arange(1.0, 6.0)
    got = imconv.correlate(x, [1.0, 1.0, 1.0], nan="ignore", padding="constant", cval=np.nan)
    np.testing.assert_allclose(got, [1.5 * 3, 6.0, 9.0, 12.0, 4.5 * 3])
    with pytest.raises(InvalidParameterError, match="cval must be a finite number"):
        imconv.correlate(x, [1.0, 1.0, 1.0], padding="constant", cval=np.nan)


def test_mean_padding_under_ignore_is_the_mean_of_the_valid_values() -> None:
    x = np.array([1.0, np.nan, 3.0, np.nan])
    got = imconv.correlate(x, [1.0, 0.0, 0.0], nan="ignore", padding="mean")
    assert got[0] == 2.0  # the border reads the mean of 1 and 3
    made = imconv.plan(x.shape, [1.0, 0.0, 0.0], dtype=x.dtype, nan="ignore", padding="mean")
    assert made.fill_for(x).tolist() == [2.0]


# --- masks --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_mask_of_every_pixel_is_plain_convolution(algorithm: str) -> None:
    x = _rng("all-valid").standard_normal((20, 15, 3))
    w = _rng("all-valid-kernel").random((5, 3)) + 0.1
    plain = imconv.convolve(x, w, channel_axis=-1, padding="reflect", algorithm=algorithm)
    masked = imconv.convolve(
        x,
        w,
        channel_axis=-1,
        padding="reflect",
        algorithm=algorithm,
        mask=np.ones((20, 15), dtype=bool),
    )
    oracle.assert_close(masked, plain, rtol=1e-12)


def test_a_mask_may_have_the_images_shape_or_omit_the_channel_axis() -> None:
    rng = _rng("mask-shapes")
    x = rng.random((8, 9, 3))
    valid = rng.random((8, 9)) > 0.3
    w = np.ones((3, 3))
    per_pixel = imconv.convolve(x, w, channel_axis=-1, mask=valid)
    per_sample = imconv.convolve(x, w, channel_axis=-1, mask=np.repeat(valid[..., None], 3, -1))
    np.testing.assert_array_equal(per_pixel, per_sample)
    with pytest.raises(
        ShapeError,
        match=re.escape(
            "mask must be a boolean array (True = valid) of shape (8, 9, 3) or (8, 9); got shape "
            "(8, 8) and dtype bool"
        ),
    ):
        imconv.convolve(x, w, channel_axis=-1, mask=valid[:, :8])
    with pytest.raises(ShapeError, match=re.escape("got shape (8, 9) and dtype float64")):
        imconv.convolve(x, w, channel_axis=-1, mask=valid.astype(float))


def test_one_plan_takes_a_mask_per_image() -> None:
    """The command line's case: one plan per geometry (nan='ignore'), one mask per file."""
    rng = _rng("mask-per-run")
    made = imconv.plan((10, 12), np.ones((3, 3)), dtype="float64", nan="ignore")
    for seed in range(2):
        x, valid = rng.random((10, 12)), rng.random((10, 12)) > 0.3 + 0.2 * seed
        np.testing.assert_array_equal(
            made(x, mask=valid), imconv.convolve(x, np.ones((3, 3)), mask=valid)
        )
    plain = imconv.plan((10, 12), np.ones((3, 3)), dtype="float64")
    message = (
        "mask must be given to a plan that runs normalized convolution: one made with "
        "nan='ignore' or with a mask; got 'an array'"
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        plain(np.ones((10, 12)), mask=np.ones((10, 12), dtype=bool))


@pytest.mark.parametrize("algorithm", ["direct", "fft", "separable", "matmul"])
@pytest.mark.parametrize("masked", [False, True])
def test_bands_of_a_normalized_plan_give_the_whole_results_bits(
    algorithm: str, masked: bool
) -> None:
    rng = _rng("normalized-bands", algorithm)
    photo = rng.random((300, 80, 3))
    photo[rng.random(photo.shape) < 0.05] = np.nan
    photo[100:140, 20:50] = np.nan
    mask = rng.random((300, 80)) > 0.1 if masked else None
    made = imconv.plan(
        photo.shape,
        rng.random((9, 9)),
        dtype=photo.dtype,
        padding="mean",
        channel_axis=-1,
        algorithm=algorithm,
        nan="ignore",
        mask=mask,
        threads=2,
    )
    whole = made(photo)
    fill = made.fill_for(photo)
    height = max(made.band_multiple, 64 // made.band_multiple * made.band_multiple)
    for start in range(0, 300, height):
        stop = min(start + height, 300)
        needed = made.band_rows(start, stop)
        held = np.unique(needed[needed >= 0])
        band = made.run_band(photo[held], start, stop, rows=held, fill=fill)
        if algorithm == "matmul":
            np.testing.assert_allclose(band, whole[start:stop], rtol=1e-12, equal_nan=True)
        else:
            np.testing.assert_array_equal(band, whole[start:stop])


def test_a_plan_says_when_a_nan_aware_path_runs() -> None:
    x = np.ones((64, 64))
    plain = imconv.plan(x.shape, np.ones((5, 5)), dtype="float64")
    normalized = imconv.plan(x.shape, np.ones((5, 5)), dtype="float64", nan="ignore")
    masked = imconv.plan(x.shape, np.ones((5, 5)), dtype="float64", mask=x > 0)
    assert (plain.normalized, normalized.normalized, masked.normalized) == (False, True, True)
    assert (plain.nan, normalized.nan, masked.nan) == ("propagate", "ignore", "ignore")
    assert normalized.explanation.endswith(
        "; normalized convolution (nan=ignore): two runs per band, of x*v and of v"
    )
    assert "(mask)" in masked.explanation
    assert normalized.nan_path.startswith(
        f"normalized convolution (nan='ignore'): {normalized.algorithm}"
    )
    assert "normalized" in repr(masked)
    # The cost model counts the second run: about twice the plain estimates.
    for algorithm, seconds in plain.estimates.items():
        assert 2 * seconds <= normalized.estimates[algorithm] <= 3 * seconds + 1e-3
    assert (
        normalized.operations
        == 2
        * imconv.plan(
            x.shape, np.ones((5, 5)), dtype="float64", algorithm=normalized.algorithm
        ).operations
    )
    assert normalized.peak_bytes > plain.peak_bytes
    y = x.copy()
    y[5, 5] = np.nan
    normalized(y)
    assert normalized.nonfinite_bands == 1


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    algorithm=st.sampled_from(ALGORITHMS),
    padding=st.sampled_from(["zero", "reflect", "symmetric", "replicate", "wrap", "mean"]),
    size=st.integers(1, 4),
    masked=st.booleans(),
)
def test_normalized_convolution_of_a_constant_image_with_holes_is_that_constant(
    seed: int, algorithm: str, padding: str, size: int, masked: bool
) -> None:
    rng = np.random.default_rng(seed)
    value = float(rng.uniform(-5, 5))
    x = np.full((int(rng.integers(4, 12)), int(rng.integers(4, 12))), value)
    holes = rng.random(x.shape) < 0.3
    w = rng.random((size, int(rng.integers(1, 4)))) + 0.05
    w /= w.sum()  # a normalized kernel: the constant itself (else the constant times sum(w))
    if masked:
        x[holes] = rng.standard_normal(int(holes.sum())) * 100  # masked-out, not NaN
        got = imconv.convolve(x, w, padding=padding, algorithm=algorithm, mask=~holes)
    else:
        x[holes] = np.nan
        got = imconv.convolve(x, w, padding=padding, algorithm=algorithm, nan="ignore")
    finite = np.isfinite(got)
    if padding == "zero":  # the zero border is data, not a hole: only the inside is constant
        return
    np.testing.assert_allclose(got[finite], value, rtol=1e-9, atol=1e-9)
    assert finite.any() or holes.all()


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    algorithm=st.sampled_from(ALGORITHMS),
    mode=st.sampled_from(["same", "full", "valid"]),
    stride=st.integers(1, 2),
)
def test_a_mask_all_true_equals_plain_convolution(
    seed: int, algorithm: str, mode: str, stride: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(rng.integers(5, 11)), int(rng.integers(5, 11))))
    w = rng.random((int(rng.integers(1, 5)), int(rng.integers(1, 5)))) + 0.1
    options = dict(mode=mode, stride=stride, algorithm=algorithm, padding="reflect")
    plain = imconv.convolve(x, w, **options)
    masked = imconv.convolve(x, w, mask=np.ones(x.shape, dtype=bool), **options)
    oracle.assert_close(masked, plain, rtol=1e-12, floor=float(np.abs(x).max()))
