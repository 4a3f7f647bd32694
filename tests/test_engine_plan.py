"""Plans: decide once, run many times; on whole arrays and on bands of rows, bit for bit."""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import pytest

import imconv
from imconv.errors import InvalidParameterError, ShapeError
from oracle import MODES, PADDINGS

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


CASES = {
    "1d": dict(image=(11,), kernel=(3,), channel_axis=None),
    "2d-even": dict(image=(9, 8), kernel=(2, 4), channel_axis=None),
    "rgb-last": dict(image=(9, 7, 3), kernel=(3, 3), channel_axis=-1),
    "channels-first": dict(image=(2, 9, 7), kernel=(3, 2), channel_axis=0),
    "bank": dict(image=(8, 7, 3), kernel=(2, 3, 3, 3), channel_axis=-1),
    "3d": dict(image=(5, 6, 4), kernel=(3, 2, 2), channel_axis=None),
}
GRID = [
    (case, mode, padding, stride, dilation)
    for case, mode, padding in itertools.product(CASES, MODES, PADDINGS)
    for stride, dilation in ((1, 1), (2, 1), (1, 2))
]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(("case", "mode", "padding", "stride", "dilation"), GRID)
def test_a_plan_equals_convolve_and_so_do_its_bands(
    case: str, mode: str, padding: str, stride: int, dilation: int, algorithm: str
) -> None:
    spec = CASES[case]
    rng = _rng(case, mode, padding, stride, dilation)
    x, w = rng.standard_normal(spec["image"]), rng.standard_normal(spec["kernel"])
    bias = rng.standard_normal(w.shape[0]) if case == "bank" else None
    options = dict(
        mode=mode,
        padding=padding,
        cval=0.5,
        stride=stride,
        dilation=dilation,
        algorithm=algorithm,
        channel_axis=spec["channel_axis"],
    )
    made = imconv.plan(x.shape, w, dtype=x.dtype, bias=bias, **options)
    whole = made(x)
    np.testing.assert_array_equal(whole, imconv.convolve(x, w, bias=bias, **options))
    assert whole.shape == made.output_shape
    # Bands of 2 rows, each from only the input rows it reads (and the image's fill).
    total = made.spec.output_shape[0]
    fill = made.fill_for(x)
    parts = []
    for start in range(0, total, 2):
        stop = min(start + 2, total)
        needed = made.band_rows(start, stop)
        held = np.unique(needed[needed >= 0])
        block = np.take(x, held, axis=made.band_axis)
        parts.append(made.run_band(block, start, stop, rows=held, fill=fill))
    banded = np.concatenate(parts, axis=made.band_axis)
    if 2 % made.band_multiple == 0 and made.algorithm != "matmul":
        np.testing.assert_array_equal(banded, whole)
    else:  # BLAS's gemv over fewer rows, or FFT bands off its overlap-save rows
        np.testing.assert_allclose(banded, whole, rtol=1e-12, atol=1e-12 * np.abs(whole).max())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("algorithm", ["direct", "separable", "fft"])
@pytest.mark.parametrize("stride", [1, 2])
def test_bands_of_a_large_photo_give_the_whole_results_bits(
    algorithm: str, threads: int, stride: int
) -> None:
    """BLAS splits long calls between threads and finishes each part without fused
    multiply-adds; the FFT cuts the image in overlap-save bands: bands on the plan's
    ``band_multiple`` still give exactly the whole image's numbers. (``matmul``'s gemv
    agrees to rounding only: BLAS blocks its rows by how many there are.)"""
    photo = _rng("large", algorithm).random((1500, 400, 3), dtype=np.float32)
    w = _rng("large-kernel").random((9, 9))
    made = imconv.plan(
        photo.shape,
        w,
        padding="reflect",
        channel_axis=-1,
        stride=stride,
        algorithm=algorithm,
        threads=threads,
    )
    whole = made(photo)
    height = max(made.band_multiple, 97 // made.band_multiple * made.band_multiple)
    total = made.spec.output_shape[0]
    for start in range(0, total, height):
        stop = min(start + height, total)
        np.testing.assert_array_equal(made.run_band(photo, start, stop), whole[start:stop])


def test_a_plan_reused_on_another_image_gives_that_images_result() -> None:
    rng = _rng("reuse")
    first, second = rng.random((40, 30, 3)), rng.random((40, 30, 3))
    w = rng.standard_normal((5, 5))
    made = imconv.plan(first.shape, w, dtype="float64", channel_axis=-1, padding="reflect")
    made(first)
    expected = imconv.convolve(
        second, w, channel_axis=-1, padding="reflect", algorithm=made.algorithm
    )
    np.testing.assert_array_equal(made(second), expected)


def test_a_plan_refuses_another_shape_or_compute_dtype() -> None:
    made = imconv.plan((8, 8), np.ones((3, 3)))
    made(np.ones((8, 8), dtype=np.uint8))  # computes in float32, like the plan
    with pytest.raises(ShapeError, match=re.escape("x must have the planned shape (8, 8)")):
        made(np.ones((8, 9)))
    with pytest.raises(ShapeError, match=r"computed in float32; got shape .* dtype float64"):
        made(np.ones((8, 8)))


def test_reasons_say_where_the_choice_came_from() -> None:
    x = np.zeros((64, 64))
    assert imconv.plan(x.shape, np.ones((3, 3)), algorithm="fft").reason == "forced"
    modelled = imconv.plan(x.shape, np.ones((3, 3)))
    assert modelled.reason == "model"
    assert modelled.explanation.endswith("(estimated)")
    assert set(modelled.estimates) == {"direct", "matmul", "fft", "separable"}
    store: dict[str, str] = {}
    measured = imconv.plan(x.shape, np.ones((3, 3)), autotune=True, store=store)
    cached = imconv.plan(x.shape, np.ones((3, 3)), autotune=True, store=store)
    assert (measured.reason, cached.reason) == ("measured", "cache")


def test_one_by_one_kernels_never_go_through_an_svd(monkeypatch: pytest.MonkeyPatch) -> None:
    from imconv.engine import _separable

    def no_svd(*args: object, **kwargs: object) -> None:
        raise AssertionError("an SVD ran")

    monkeypatch.setattr(_separable, "separable_factors", no_svd)
    made = imconv.plan((4, 4), [[-2.0]], dtype="float64", mode="full")
    assert made.algorithm != "separable"
    assert imconv.correlate([[1.0]], [[-2.0]], mode="full").tolist() == [[-2.0]]


def test_the_rank_is_computed_once_per_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    from imconv.engine import _separable

    calls = []
    real = _separable.separable_factors

    def counting(kernel: np.ndarray) -> list:
        calls.append(kernel.shape)
        return real(kernel)

    monkeypatch.setattr(_separable, "separable_factors", counting)
    made = imconv.plan((300, 200, 3), np.ones((21, 21)), channel_axis=-1, algorithm="separable")
    image = np.ones((300, 200, 3), dtype=np.float32)
    for start in range(0, 300, 50):
        made.run_band(image, start, start + 50)
    assert made.rank == 1
    assert calls == [(21, 21)]


def test_halo_is_what_a_band_reads_beyond_its_rows() -> None:
    assert imconv.plan((50, 40), np.ones((5, 3))).halo == ((2, 2), (1, 1))
    assert imconv.plan((50, 40), np.ones((4, 4))).halo == ((2, 1), (2, 1))
    assert imconv.plan((50, 40), np.ones((3, 3)), mode="full").halo == ((2, 0), (2, 0))
    assert imconv.plan((50, 40), np.ones((3, 3)), mode="valid", dilation=2).halo == (
        (0, 4),
        (0, 4),
    )


def test_band_rows_follow_the_padding_at_the_border() -> None:
    made = imconv.plan((6,), np.ones(5), padding="reflect")
    assert made.band_rows(0, 2).tolist() == [2, 1, 0, 1, 2, 3]
    assert imconv.plan((6,), np.ones(5), padding="wrap").band_rows(0, 1).tolist() == [
        4,
        5,
        0,
        1,
        2,
    ]
    assert imconv.plan((6,), np.ones(5)).band_rows(5, 6).tolist() == [3, 4, 5, -1, -1]


def test_a_band_of_mean_padding_needs_the_images_means() -> None:
    x = np.arange(40.0).reshape(10, 4)
    made = imconv.plan(x.shape, np.ones((3, 3)), dtype="float64", padding="mean")
    with pytest.raises(InvalidParameterError, match="fill must be the image's channel means"):
        made.run_band(x[:3], 0, 2)
    band = made.run_band(x[:3], 0, 2, fill=made.fill_for(x))
    np.testing.assert_array_equal(band, made(x)[:2])


def test_a_band_missing_a_row_it_reads_is_refused() -> None:
    made = imconv.plan((10, 4), np.ones((3, 3)), padding="reflect")
    with pytest.raises(InvalidParameterError, match="rows must be rows holding every row"):
        made.run_band(np.ones((2, 4)), 4, 6, rows=np.array([4, 5]))
    with pytest.raises(ShapeError, match="block must hold input rows up to 6"):
        made.run_band(np.ones((3, 4)), 4, 6)
    with pytest.raises(InvalidParameterError, match="start, stop must be 0 <= start"):
        made.run_band(np.ones((10, 4)), 5, 11)


def test_options_are_given_whole_or_as_keywords_not_both() -> None:
    options = imconv.ConvOptions(mode="full", stride=(2, 1))
    made = imconv.plan((6, 6), np.ones((3, 3)), options=options)
    assert made.options is options
    assert made.output_shape == (4, 8)
    with pytest.raises(InvalidParameterError, match="options must be given either"):
        imconv.plan((6, 6), np.ones((3, 3)), options=options, mode="same")


def test_options_are_validated_once_on_construction() -> None:
    with pytest.raises(InvalidParameterError, match=re.escape("stride must be a positive")):
        imconv.ConvOptions(stride=(0, 2))
    with pytest.raises(InvalidParameterError, match="padding must be one of"):
        imconv.ConvOptions(padding="mirror")
    two = re.escape("stride must be a positive integer or a tuple of 2")
    with pytest.raises(InvalidParameterError, match=two):
        imconv.plan((6, 6), np.ones((3, 3)), stride=(1, 1, 1))
    assert imconv.ConvOptions(stride=np.int64(2), algorithm="FFT").stride == 2
