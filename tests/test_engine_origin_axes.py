"""``origin`` and ``axes``: ``scipy.ndimage`` semantics on every algorithm.

Oracles: ``scipy.ndimage.correlate``/``convolve`` (same-size output, its boundary modes),
``tests/oracle.py``'s loops for ``full``/``valid``, strides and dilations, and a Python loop
over the batch axes.
"""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

import imconv
import oracle
from imconv.errors import InvalidParameterError, ShapeError

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
F64 = 1e-10
# imconv padding -> scipy.ndimage mode of the same extension.
NDIMAGE = {"symmetric": "reflect", "reflect": "mirror", "replicate": "nearest", "wrap": "wrap"}


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _origins(size: int) -> range:
    return range(-(size // 2), (size - 1) // 2 + 1)


# --- origin -----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("padding", ["symmetric", "reflect", "wrap"])
def test_origin_equals_ndimage(algorithm: str, size: int, padding: str) -> None:
    """correlate: ndimage.correlate with the same origin; convolve: ndimage.convolve for
    odd sizes, and origin - 1 for even ones (the contract keeps section 2's alignment)."""
    rng = _rng("origin", size, padding)
    x, w = rng.standard_normal((9, 8)), rng.standard_normal((size, 3))
    mode = NDIMAGE[padding]
    for o in _origins(size):
        got = imconv.correlate(x, w, origin=(o, 1), padding=padding, algorithm=algorithm)
        expected = scipy.ndimage.correlate(x, w, origin=(o, 1), mode=mode)
        oracle.assert_close(got, expected, rtol=F64, context=f"correlate origin {o}")
        mirrored = -o
        got = imconv.convolve(x, w, origin=(mirrored, -1), padding=padding, algorithm=algorithm)
        even = 1 if size % 2 == 0 else 0
        expected = scipy.ndimage.convolve(x, w, origin=(mirrored - even, -1), mode=mode)
        oracle.assert_close(got, expected, rtol=F64, context=f"convolve origin {mirrored}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    ("mode", "stride", "dilation", "origin"),
    [
        ("full", 1, 1, (1, -1)),
        ("valid", 1, 1, (1, 0)),
        ("valid", 2, 1, (-1, 1)),
        ("same", 2, 2, (2, -2)),
        ("full", (1, 3), (2, 1), (-2, 1)),
    ],
)
@pytest.mark.parametrize("op", ["correlate", "convolve"])
def test_origin_with_every_mode_stride_and_dilation_matches_the_oracle(
    algorithm: str, mode: str, stride: object, dilation: object, origin: tuple, op: str
) -> None:
    rng = _rng("origin-modes", mode, repr(stride), repr(dilation))
    x, w = rng.standard_normal((10, 11)), rng.standard_normal((3, 4))
    for padding in ("zero", "wrap", "mean"):
        options = dict(mode=mode, stride=stride, dilation=dilation, origin=origin, padding=padding)
        got = getattr(imconv, op)(x, w, algorithm=algorithm, **options)
        expected = getattr(oracle, op)(x, w, **options)
        oracle.assert_close(got, expected, rtol=F64, context=f"{op} {padding}")


@pytest.mark.parametrize(
    ("op", "origin", "allowed"),
    [
        (
            "correlate",
            2,
            "within -(k//2)..(k-1)//2 per axis for correlate with a kernel "
            "spanning (3, 4) (-1..1, -2..1); got 2",
        ),
        (
            "correlate",
            (0, -3),
            "within -(k//2)..(k-1)//2 per axis for correlate with a kernel "
            "spanning (3, 4) (-1..1, -2..1); got (0, -3)",
        ),
        (
            "convolve",
            (0, -2),
            "within -((k-1)//2)..k//2 per axis for convolve with a kernel "
            "spanning (3, 4) (-1..1, -1..2); got (0, -2)",
        ),
    ],
)
def test_an_origin_outside_its_range_is_refused(op: str, origin: object, allowed: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(f"origin must be {allowed}")):
        getattr(imconv, op)(np.ones((6, 6)), np.ones((3, 4)), origin=origin)


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        (1.5, "origin must be an integer or a tuple of them, one per axis; got 1.5"),
        ((0, True), "origin must be an integer or a tuple of them, one per axis; got (0, True)"),
        ((1, 1, 1), "origin must be an integer or a tuple of 2; got (1, 1, 1)"),
    ],
)
def test_bad_origins_name_the_parameter(origin: object, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        imconv.correlate(np.ones((6, 6)), np.ones((3, 3)), origin=origin)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    algorithm=st.sampled_from(ALGORITHMS),
    op=st.sampled_from(["correlate", "convolve"]),
    size=st.integers(1, 5),
)
def test_an_origin_shift_is_a_shifted_output(seed: int, algorithm: str, op: str, size: int) -> None:
    """With wrap padding, moving the anchor by o moves the whole output by o."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(rng.integers(3, 10)), int(rng.integers(3, 10))))
    w = rng.standard_normal((size, int(rng.integers(1, 4))))
    low, high = -(size // 2), (size - 1) // 2
    if op == "convolve":
        low, high = -high, -low
    o = int(rng.integers(low, high + 1))
    run = getattr(imconv, op)
    shifted = run(x, w, origin=(o, 0), padding="wrap", algorithm=algorithm)
    plain = run(x, w, padding="wrap", algorithm=algorithm)
    sign = 1 if op == "correlate" else -1
    oracle.assert_close(shifted, np.roll(plain, sign * o, axis=0), rtol=F64, floor=1.0)


# --- axes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("func", ["correlate", "convolve"])
def test_axes_and_origin_equal_ndimage(algorithm: str, func: str) -> None:
    """SciPy's own case (test_correlate_convolve_axes): a 2-D kernel along two of three
    axes; the kernel's axes follow the axes in increasing order, origins follow ``axes``."""
    array = np.arange(6 * 8 * 12, dtype=np.float64).reshape(6, 8, 12)
    weights = np.arange(15.0).reshape(3, 5)
    for axes, origin in itertools.product(itertools.permutations(range(3), 2), [(0, 0), (-1, 1)]):
        expected = getattr(scipy.ndimage, func)(
            array, weights, axes=axes, origin=origin, mode="reflect"
        )
        if func == "convolve":  # ndimage shifts even sizes by one more
            size = dict(zip(sorted(axes), weights.shape, strict=True))
            origin = tuple(o + (1 - size[a] % 2) for o, a in zip(origin, axes, strict=True))
        got = getattr(imconv, func)(
            array, weights, axes=axes, origin=origin, padding="symmetric", algorithm=algorithm
        )
        oracle.assert_close(got, expected, rtol=F64, context=f"axes {axes}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_stack_of_photos_is_filtered_photo_by_photo(algorithm: str) -> None:
    rng = _rng("stack")
    stack = rng.random((4, 12, 10, 3)).astype(np.float32)
    w = rng.standard_normal((3, 5))
    options = dict(channel_axis=-1, padding="reflect", stride=(2, 1), algorithm=algorithm)
    got = imconv.convolve(stack, w, axes=(1, 2), **options)
    expected = np.stack([imconv.convolve(photo, w, **options) for photo in stack])
    assert got.shape == expected.shape == (4, 6, 10, 3)
    assert got.dtype == np.float32
    oracle.assert_close(got, expected, rtol=1e-6)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_bank_over_a_batch_keeps_every_axis(algorithm: str) -> None:
    rng = _rng("bank-batch")
    x = rng.standard_normal((3, 7, 2, 9))  # batch, H, channels, W
    bank = rng.standard_normal((4, 2, 3, 3))
    bias = rng.standard_normal(4)
    got = imconv.correlate(
        x, bank, axes=(1, 3), channel_axis=2, bias=bias, mode="full", algorithm=algorithm
    )
    expected = np.stack(
        [oracle.correlate(item, bank, channel_axis=1, bias=bias, mode="full") for item in x]
    )
    assert got.shape == (3, 9, 4, 11)
    oracle.assert_close(got, expected, rtol=F64)


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    algorithm=st.sampled_from(ALGORITHMS),
    padding=st.sampled_from(["zero", "reflect", "wrap", "mean"]),
    layout=st.sampled_from([(0, 1), (1, 2), (0, 2)]),
    nan=st.sampled_from(["propagate", "ignore"]),
)
def test_axes_equal_a_loop_over_the_batch_axes(
    seed: int, algorithm: str, padding: str, layout: tuple[int, int], nan: str
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(int(n) for n in rng.integers(2, 7, size=3)))
    x[tuple(int(rng.integers(0, n)) for n in x.shape)] = np.nan
    w = rng.random((int(rng.integers(1, 4)), int(rng.integers(1, 4)))) + 0.1
    options = dict(padding=padding, algorithm=algorithm, nan=nan)
    got = imconv.correlate(x, w, axes=layout, **options)
    (batch,) = set(range(3)) - set(layout)
    expected = np.stack(
        [imconv.correlate(np.take(x, i, axis=batch), w, **options) for i in range(x.shape[batch])],
        axis=batch,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_per_axis_options_follow_the_order_of_axes() -> None:
    x = _rng("order").standard_normal((5, 12, 9))
    w = np.ones((3, 2))
    got = imconv.correlate(x, w, axes=(2, 1), stride=(3, 2))  # stride 3 on axis 2
    expected = imconv.correlate(x, w, axes=(1, 2), stride=(2, 3))
    np.testing.assert_array_equal(got, expected)
    assert got.shape == (5, 6, 3)


def test_a_plan_with_batch_axes_runs_bands_of_every_item() -> None:
    x = _rng("batch-bands").standard_normal((3, 20, 7))
    made = imconv.plan(
        x.shape, np.ones((3, 3)), dtype=x.dtype, axes=(1, 2), padding="mean", algorithm="direct"
    )
    assert made.band_axis == 1
    assert made.output_shape == x.shape
    whole, fill = made(x), made.fill_for(x)
    assert fill.shape == (3, 1)
    for start in range(0, 20, 6):
        stop = min(start + 6, 20)
        needed = made.band_rows(start, stop)
        held = np.unique(needed[needed >= 0])
        band = made.run_band(x[:, held], start, stop, rows=held, fill=fill)
        np.testing.assert_array_equal(band, whole[:, start:stop])


@pytest.mark.parametrize(
    ("axes", "options", "error", "message"),
    [
        (
            (1, 1),
            {},
            InvalidParameterError,
            "axes must be distinct axes of the image (shape (4, 6, 5)) other than channel_axis; "
            "got (1, 1)",
        ),
        (
            (0, 3),
            {},
            InvalidParameterError,
            "axes must be distinct axes of the image (shape (4, 6, 5)) other than channel_axis; "
            "got (0, 3)",
        ),
        (
            (1, 2),
            dict(channel_axis=2),
            InvalidParameterError,
            "axes must be distinct axes of the image (shape (4, 6, 5)) other than channel_axis; "
            "got (1, 2)",
        ),
        (
            "1",
            {},
            InvalidParameterError,
            "axes must be None, an integer axis or a tuple of distinct integer axes; got '1'",
        ),
        (
            (1,),
            {},
            ShapeError,
            "kernel must have one axis per entry of axes (1); got kernel shape (3, 3) for axes "
            "(1,)",
        ),
    ],
)
def test_bad_axes_name_the_parameter(
    axes: object, options: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        imconv.correlate(np.ones((4, 6, 5)), np.ones((3, 3)), axes=axes, **options)


def test_a_mask_over_a_batch_may_be_shared_by_every_item() -> None:
    rng = _rng("batch-mask")
    x, valid = rng.random((3, 8, 9)), rng.random((8, 9)) > 0.3
    w = np.ones((3, 3))
    got = imconv.convolve(x, w, axes=(1, 2), mask=valid)
    expected = np.stack([imconv.convolve(item, w, mask=valid) for item in x])
    np.testing.assert_array_equal(got, expected)
