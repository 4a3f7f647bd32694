"""The lecture's worked examples, each a named test with its numbers written out."""

from __future__ import annotations

import numpy as np
import pytest

import imconv
import oracle
from imconv import Step

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_signal_full_convolution(algorithm: str) -> None:
    y = imconv.convolve([2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full", algorithm=algorithm)
    np.testing.assert_allclose(y, [2.0, 1.0, 4.0, -1.0, 2.0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_signal_full_convolution_with_stride_two(algorithm: str) -> None:
    y = imconv.convolve(
        [2.0, -1.0, 1.0], [1.0, 1.0, 2.0], mode="full", stride=2, algorithm=algorithm
    )
    np.testing.assert_allclose(y, [2.0, 4.0, 2.0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_3x3_image_and_2x2_kernel_give_4x4_in_full_mode(algorithm: str) -> None:
    x = np.arange(1.0, 10.0).reshape(3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = imconv.convolve(x, w, mode="full", algorithm=algorithm)
    assert y.shape == (4, 4)
    assert imconv.output_shape((3, 3), (2, 2), mode="full") == (4, 4)
    # y[1, 1] = 1*4 + 2*3 + 4*2 + 5*1: the flipped kernel over the top-left 2x2 window.
    expected = [[1, 4, 7, 6], [7, 23, 33, 24], [19, 53, 63, 42], [21, 52, 59, 36]]
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_100x100_image_3x3_kernel_full_stride_two_gives_51x51(algorithm: str) -> None:
    assert imconv.output_shape((100, 100), (3, 3), mode="full", stride=2) == (51, 51)
    x = np.random.default_rng(100).standard_normal((100, 100))
    y = imconv.convolve(x, np.ones((3, 3)), mode="full", stride=2, algorithm=algorithm)
    assert y.shape == (51, 51)


def test_lecture_reflect_padding_of_a_3x3_image_by_two() -> None:
    padded = imconv.pad(np.arange(9).reshape(3, 3), 2, padding="reflect")
    expected = np.array(
        [
            [8, 7, 6, 7, 8, 7, 6],
            [5, 4, 3, 4, 5, 4, 3],
            [2, 1, 0, 1, 2, 1, 0],
            [5, 4, 3, 4, 5, 4, 3],
            [8, 7, 6, 7, 8, 7, 6],
            [5, 4, 3, 4, 5, 4, 3],
            [2, 1, 0, 1, 2, 1, 0],
        ]
    )
    assert padded.dtype == np.float32  # an integer image computes in float32
    np.testing.assert_array_equal(padded, expected)


LECTURE_MATRIX = np.array([[3.0, 4.0, 5.0], [6.0, 8.0, 10.0], [9.0, 12.0, 15.0]])


def test_lecture_matrix_is_separable_with_rank_one() -> None:
    assert imconv.kernel_rank(LECTURE_MATRIX) == 1
    terms = imconv.separable_factors(LECTURE_MATRIX)
    assert len(terms) == 1
    column, row = terms[0]
    np.testing.assert_allclose(np.outer(column, row), LECTURE_MATRIX, rtol=1e-12)
    # The factors are [1, 2, 3] and [3, 4, 5] up to a scale shared between them.
    np.testing.assert_allclose(column / column[0], [1.0, 2.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(row / row[0], [1.0, 4 / 3, 5 / 3], rtol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_matrix_filters_like_its_two_factors(algorithm: str) -> None:
    x = np.random.default_rng(3).standard_normal((9, 8))
    whole = imconv.convolve(x, LECTURE_MATRIX, algorithm=algorithm)
    columns = imconv.convolve(x, np.array([[1.0], [2.0], [3.0]]), algorithm=algorithm)
    both = imconv.convolve(columns, np.array([[3.0, 4.0, 5.0]]), algorithm=algorithm)
    np.testing.assert_allclose(whole, both, rtol=0, atol=1e-10 * np.abs(whole).max())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_lecture_layer_with_3_inputs_5_outputs_and_5x5_kernels(algorithm: str) -> None:
    rng = np.random.default_rng(35)
    bank, bias = rng.standard_normal((5, 3, 5, 5)), rng.standard_normal(5)
    assert bank.size == 375 == 5 * 3 * 5 * 5
    image = rng.standard_normal((8, 9, 3))
    y = imconv.correlate(image, bank, channel_axis=-1, bias=bias, algorithm=algorithm)
    assert y.shape == (8, 9, 5)
    expected = oracle.correlate(image, bank, channel_axis=-1, bias=bias)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


def test_lecture_two_stacked_3x3_kernels_see_5x5() -> None:
    assert imconv.receptive_field([(3, 3), (3, 3)]).size == (5, 5)
    # The same, seen on the data: an impulse through two 3x3 convolutions spreads over 5x5.
    x = np.zeros((9, 9))
    x[4, 4] = 1.0
    ones = np.ones((3, 3))
    y = imconv.convolve(imconv.convolve(x, ones), ones)
    rows, cols = np.nonzero(y)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (5, 5)


def test_lecture_stride_three_then_3x3_sees_nine() -> None:
    field = imconv.receptive_field([Step(3, stride=3), Step(3)])
    assert field.size == (9,)
    assert field.jump == (3,)
