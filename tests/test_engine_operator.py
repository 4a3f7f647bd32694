"""The engine's operators without a convolution call: toeplitz, receptive_field,
output_shape, pad and separable_factors / kernel_rank."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import scipy.sparse

import imconv
import oracle
from imconv import Step
from imconv.errors import InvalidParameterError, ShapeError
from oracle import MODES, assert_close

F64 = 1e-10

# --- toeplitz ------------------------------------------------------------------------------


def test_toeplitz_of_a_signal_is_constant_along_its_diagonals() -> None:
    matrix = imconv.toeplitz([1.0, 1.0, 2.0], (3,), mode="full")
    expected = [[1, 0, 0], [1, 1, 0], [2, 1, 1], [0, 2, 1], [0, 0, 2]]
    np.testing.assert_array_equal(matrix.toarray(), expected)
    dense = matrix.toarray()
    for offset in range(-4, 3):
        assert len(set(np.diagonal(dense, offset))) == 1


def test_toeplitz_is_a_float64_sparse_matrix_of_the_operator_shape() -> None:
    matrix = imconv.toeplitz(np.ones((3, 2), dtype=np.float32), (5, 6), mode="full", stride=2)
    assert scipy.sparse.issparse(matrix)
    assert matrix.format == "csr"
    assert matrix.dtype == np.float64
    out = imconv.output_shape((5, 6), (3, 2), mode="full", stride=2)
    assert matrix.shape == (int(np.prod(out)), 30)


def test_toeplitz_with_zero_padding_stores_only_the_taps_that_hit_the_image() -> None:
    matrix = imconv.toeplitz(np.ones((3, 3)), (6, 7), mode="same")
    inside = sum(
        0 <= i + a < 6 and 0 <= j + b < 7
        for i, j, a, b in itertools.product(range(6), range(7), (-1, 0, 1), (-1, 0, 1))
    )
    assert matrix.nnz == inside


@pytest.mark.parametrize("correlate", [False, True], ids=["convolve", "correlate"])
@pytest.mark.parametrize("padding", ["zero", "constant", *oracle.PADDINGS[2:]])
@pytest.mark.parametrize("mode", MODES)
def test_toeplitz_times_the_image_matches_the_oracle(
    mode: str, padding: str, correlate: bool
) -> None:
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((6, 5)), rng.standard_normal((3, 2))
    op = oracle.correlate if correlate else oracle.convolve
    for stride, dilation in ((1, 1), ((2, 1), (1, 2)), (3, 2)):
        options = dict(mode=mode, padding=padding, stride=stride, dilation=dilation)
        matrix = imconv.toeplitz(w, x.shape, correlate=correlate, **options)
        expected = op(x, w, **options).ravel()
        assert_close(matrix @ x.ravel(), expected, rtol=F64, context=f"{stride} {dilation}")


@pytest.mark.parametrize("padding", oracle.PADDINGS[2:])
def test_toeplitz_folds_padding_wider_than_the_image(padding: str) -> None:
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((5, 6))
    matrix = imconv.toeplitz(w, x.shape, mode="full", padding=padding)
    expected = oracle.convolve(x, w, mode="full", padding=padding)
    assert_close(matrix @ x.ravel(), expected.ravel(), rtol=F64)


def test_toeplitz_accepts_constant_padding_with_zero_cval() -> None:
    zero = imconv.toeplitz(np.ones((3, 3)), (4, 4), padding="zero")
    constant = imconv.toeplitz(np.ones((3, 3)), (4, 4), padding="constant", cval=0.0)
    assert (zero != constant).nnz == 0


def test_toeplitz_does_not_change_the_kernel() -> None:
    w = np.arange(6.0).reshape(2, 3)
    before = w.copy()
    imconv.toeplitz(w, (4, 5), padding="reflect")
    np.testing.assert_array_equal(w, before)


# --- receptive_field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "size", "jump"),
    [
        ([3], (3,), (1,)),
        ([(3, 3), (3, 3)], (5, 5), (1, 1)),
        ([(3, 3)] * 4, (9, 9), (1, 1)),
        ([Step(3, stride=3), Step(3)], (9,), (3,)),
        ([Step(2, stride=2)] * 3, (8,), (8,)),
        ([Step(3, dilation=1), Step(3, dilation=2), Step(3, dilation=4)], (15,), (1,)),
        ([Step((3, 5), stride=(1, 2)), Step((3, 3))], (5, 9), (1, 2)),
        ([np.ones((3, 3)), np.ones((5, 5))], (7, 7), (1, 1)),
    ],
    ids=[
        "one-kernel",
        "two-3x3",
        "four-3x3",
        "stride-3-then-3",
        "three-stride-2",
        "dilations-1-2-4",
        "per-axis",
        "arrays",
    ],
)
def test_receptive_field_of_a_chain(
    steps: list[object], size: tuple[int, ...], jump: tuple[int, ...]
) -> None:
    field = imconv.receptive_field(steps)
    assert field == imconv.ReceptiveField(size, jump)


@pytest.mark.parametrize(
    "steps",
    [
        [Step(3), Step(3)],
        [Step(3, stride=3), Step(3)],
        [Step(2, stride=2), Step(3, dilation=2), Step(2)],
        [Step(3, dilation=3), Step(2, stride=2), Step(3)],
    ],
    ids=["two-3", "stride-3-then-3", "stride-dilation-mix", "dilation-stride-mix"],
)
def test_receptive_field_is_what_the_first_output_of_the_chain_reads(steps: list[Step]) -> None:
    # Run the chain in valid mode on each unit impulse: output 0 moves exactly for the
    # inputs inside the receptive field (all-ones kernels, so nothing cancels).
    n = 40
    seen = []
    for i in range(n):
        signal = np.zeros(n)
        signal[i] = 1.0
        for step in steps:
            signal = imconv.correlate(
                signal, np.ones(step.size), mode="valid", stride=step.stride, dilation=step.dilation
            )
        seen.append(signal[0] != 0)
    field = imconv.receptive_field(steps)
    touched = np.flatnonzero(seen)
    assert touched.max() - touched.min() + 1 == field.size[0]
    assert touched.min() == 0


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "steps must be a non-empty sequence of kernel steps; got []"),
        ([Step(0)], "kernel size must be a positive integer or a tuple of them, one per axis"),
        ([Step(3, stride=0)], "stride must be a positive integer or a tuple of them"),
        ([Step(3, dilation=1.5)], "dilation must be a positive integer or a tuple of them"),
        ([(3, 3), (3, 3, 3)], "kernel size must be a positive integer or a tuple of 2; got"),
    ],
    ids=["empty", "size-zero", "stride-zero", "dilation-float", "axes-mismatch"],
)
def test_receptive_field_rejects_bad_steps(steps: list[object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        imconv.receptive_field(steps)


# --- output_shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (((100, 100), (3, 3)), dict(mode="full", stride=2), (51, 51)),
        (((3,), (3,)), dict(mode="full"), (5,)),
        (((7, 8), (2, 4)), dict(mode="same"), (7, 8)),
        (((7, 8), (2, 4)), dict(mode="same", stride=(2, 3)), (4, 3)),
        (((7, 8), (2, 4)), dict(mode="valid"), (6, 5)),
        (((10,), (3,)), dict(mode="valid", dilation=4), (2,)),
        (((10,), (3,)), dict(mode="full", dilation=4, stride=3), (6,)),
        (((1,), (9,)), dict(mode="same"), (1,)),
        (((5, 5, 5), (3, 3, 3)), dict(mode="valid", stride=2), (2, 2, 2)),
    ],
    ids=[
        "lecture-51",
        "lecture-signal",
        "same-even",
        "same-strided",
        "valid-even",
        "valid-dilated",
        "full-dilated-strided",
        "same-kernel-larger",
        "valid-3d-strided",
    ],
)
def test_output_shape_examples(
    args: tuple[tuple[int, ...], tuple[int, ...]],
    kwargs: dict[str, object],
    expected: tuple[int, ...],
) -> None:
    assert imconv.output_shape(*args, **kwargs) == expected


def test_output_shape_rejects_valid_with_a_larger_dilated_kernel() -> None:
    with pytest.raises(ShapeError, match=re.escape("got image (4,) and kernel (5,)")):
        imconv.output_shape((4,), (3,), mode="valid", dilation=2)


# --- pad -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        ("zero", [0, 0, 1, 2, 3, 4, 0, 0]),
        ("constant", [9, 9, 1, 2, 3, 4, 9, 9]),
        ("reflect", [3, 2, 1, 2, 3, 4, 3, 2]),
        ("symmetric", [2, 1, 1, 2, 3, 4, 4, 3]),
        ("replicate", [1, 1, 1, 2, 3, 4, 4, 4]),
        ("wrap", [3, 4, 1, 2, 3, 4, 1, 2]),
        ("mean", [2.5, 2.5, 1, 2, 3, 4, 2.5, 2.5]),
    ],
)
def test_pad_extends_the_strip_abcd_by_two_as_the_contract_draws_it(
    padding: str, expected: list[float]
) -> None:
    padded = imconv.pad(np.array([1.0, 2.0, 3.0, 4.0]), 2, padding=padding, cval=9.0)
    np.testing.assert_array_equal(padded, expected)


@pytest.mark.parametrize("padding", ["reflect", "symmetric", "replicate", "wrap"])
@pytest.mark.parametrize("width", [1, 5, ((0, 7), (4, 1))], ids=["narrow", "wider", "pairs"])
def test_pad_behaves_like_numpy_pad(padding: str, width: object) -> None:
    x = np.random.default_rng(2).standard_normal((2, 3))
    expected = np.pad(x, width, mode=oracle._NUMPY_PAD[padding])
    np.testing.assert_array_equal(imconv.pad(x, width, padding=padding), expected)


def test_pad_widths_may_be_one_per_axis() -> None:
    x = np.ones((2, 3))
    assert imconv.pad(x, (1, 2)).shape == (4, 7)
    assert imconv.pad(x, ((1, 0), (0, 3))).shape == (3, 6)


def test_pad_leaves_the_channel_axis_alone_and_uses_each_channels_mean() -> None:
    x = np.stack([np.full((2, 3), 1.0), np.arange(6.0).reshape(2, 3)], axis=-1)
    padded = imconv.pad(x, 1, padding="mean", channel_axis=-1)
    assert padded.shape == (4, 5, 2)
    assert padded[0, 0, 0] == 1.0
    assert padded[0, 0, 1] == 2.5
    np.testing.assert_array_equal(padded[1:3, 1:4], x)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("float64", np.float64), ("float32", np.float32), ("uint8", np.float32), ("bool", np.float32)],
)
def test_pad_returns_the_compute_dtype(dtype: str, expected: type) -> None:
    assert imconv.pad(np.ones((2, 2), dtype=dtype), 1).dtype == expected


@pytest.mark.parametrize("width", [0, 1], ids=["zero-width", "one"])
def test_pad_returns_a_new_array(width: int) -> None:
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    padded = imconv.pad(x, width, padding="reflect")
    assert not np.shares_memory(padded, x)
    padded[...] = -1.0
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("width", "message"),
    [
        (-1, "width must be non-negative integers; got -1"),
        (1.5, "width must be non-negative integers; got 1.5"),
        ((1, 2, 3), "width must be an int, 2 ints or 2 pairs; got (1, 2, 3)"),
    ],
    ids=["negative", "float", "wrong-length"],
)
def test_pad_rejects_bad_widths(width: object, message: str) -> None:
    with pytest.raises(ShapeError, match=re.escape(message)):
        imconv.pad(np.ones((2, 2)), width)


# --- separable_factors and kernel_rank -----------------------------------------------------


def _rebuild(terms: list[tuple[np.ndarray, ...]], shape: tuple[int, ...]) -> np.ndarray:
    total = np.zeros(shape)
    for term in terms:
        product = term[0]
        for vector in term[1:]:
            product = np.multiply.outer(product, vector)
        total += product
    return total


GAUSS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


@pytest.mark.parametrize(
    ("kernel", "rank"),
    [
        (np.outer(GAUSS, GAUSS), 1),
        (np.ones((3, 5)), 1),
        (np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), 1),
        (np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]), 2),
        (np.array([[0.0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8, 2),
        (np.eye(4), 4),
        (np.zeros((3, 3)), 0),
    ],
    ids=["gaussian", "box", "sobel", "laplacian", "lecture-blur", "identity-4", "zero"],
)
def test_kernel_rank_counts_the_separable_terms(kernel: np.ndarray, rank: int) -> None:
    assert imconv.kernel_rank(kernel) == rank
    terms = imconv.separable_factors(kernel)
    assert len(terms) == rank
    np.testing.assert_allclose(_rebuild(terms, kernel.shape), kernel, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (4, 1), (2, 3, 2), (2, 2, 2, 3)])
def test_separable_factors_rebuild_any_kernel_exactly(shape: tuple[int, ...]) -> None:
    kernel = np.random.default_rng(sum(shape)).standard_normal(shape)
    before = kernel.copy()
    terms = imconv.separable_factors(kernel)
    assert all(len(term) == len(shape) for term in terms)
    assert all(v.dtype == np.float64 and v.ndim == 1 for term in terms for v in term)
    np.testing.assert_allclose(_rebuild(terms, shape), kernel, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(kernel, before)


def test_an_outer_product_of_three_vectors_is_one_term() -> None:
    u, v, w = np.array([1.0, 2.0]), np.array([1.0, -1.0, 3.0]), np.array([2.0, 5.0])
    kernel = np.multiply.outer(np.multiply.outer(u, v), w)
    terms = imconv.separable_factors(kernel)
    assert len(terms) == 1
    np.testing.assert_allclose(_rebuild(terms, kernel.shape), kernel, rtol=1e-12)


def test_kernel_rank_matches_the_matrix_rank_in_2d() -> None:
    rng = np.random.default_rng(11)
    for rank in range(1, 5):
        kernel = rng.standard_normal((5, rank)) @ rng.standard_normal((rank, 6))
        assert imconv.kernel_rank(kernel) == np.linalg.matrix_rank(kernel) == rank
