"""Algebraic properties of convolution that every algorithm must keep (hypothesis).

Sizes are bounded (at most 3 axes of at most 10 pixels, kernels of at most 4 taps per axis)
and each property runs a few dozen examples, so the whole file takes seconds. Array values
come from ``numpy.random.default_rng`` seeded by a hypothesis-drawn integer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import imconv
import oracle
from oracle import MODES, PADDINGS, assert_close

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
F64 = 1e-10
EXAMPLES = settings(max_examples=30)
# Paddings under which the output is a linear function of the image (constant with cval 0).
LINEAR_PADDINGS = ("zero", "reflect", "symmetric", "replicate", "wrap", "mean")
# Paddings that only move pixels around, so they commute with a pass along another axis.
INDEX_PADDINGS = ("zero", "reflect", "symmetric", "replicate", "wrap")


@dataclass(frozen=True)
class Case:
    """One drawn convolution: shapes, options and the seed of its data."""

    image: tuple[int, ...]
    kernel: tuple[int, ...]
    mode: str
    padding: str
    cval: float
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    algorithm: str
    seed: int

    @property
    def options(self) -> dict[str, object]:
        return dict(
            mode=self.mode,
            padding=self.padding,
            cval=self.cval,
            stride=self.stride,
            dilation=self.dilation,
        )

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        return rng.standard_normal(self.image), rng.standard_normal(self.kernel)


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    min_ndim: int = 1,
    max_ndim: int = 3,
    modes: tuple[str, ...] = MODES,
    paddings: tuple[str, ...] = PADDINGS,
    max_stride: int = 3,
    max_dilation: int = 2,
    algorithms: tuple[str, ...] = ALGORITHMS,
) -> Case:
    ndim = draw(st.integers(min_ndim, max_ndim))
    mode = draw(st.sampled_from(modes))
    kernel, dilation, image = [], [], []
    for _ in range(ndim):
        k = draw(st.integers(1, 4))
        d = draw(st.integers(1, max_dilation))
        k_eff = d * (k - 1) + 1
        # valid needs n >= k_eff; the other modes may have kernels wider than the image.
        image.append(draw(st.integers(k_eff if mode == "valid" else 1, max(k_eff, 9))))
        kernel.append(k)
        dilation.append(d)
    stride = draw(st.tuples(*[st.integers(1, max_stride)] * ndim))
    return Case(
        image=tuple(image),
        kernel=tuple(kernel),
        mode=mode,
        padding=draw(st.sampled_from(paddings)),
        cval=draw(st.sampled_from([0.0, -1.25, 3.0])),
        stride=stride,
        dilation=tuple(dilation),
        algorithm=draw(st.sampled_from(algorithms)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def _run(
    case: Case, x: np.ndarray, w: np.ndarray, *, op: str = "convolve", **changes: object
) -> np.ndarray:
    options = {**case.options, "algorithm": case.algorithm, **changes}
    return getattr(imconv, op)(x, w, **options)


def _close(
    got: np.ndarray,
    expected: np.ndarray,
    *,
    x: np.ndarray,
    w: np.ndarray,
    cval: float = 0.0,
    context: str = "",
) -> None:
    """The contract's float64 tolerance, 1e-10 of ``max|y|``.

    Drawn cases can make ``y`` vanish exactly (a dilated kernel whose taps all meet zero
    padding) while FFT rounding stays near 1e-16 of the inputs' scale, so the scale is
    floored at 1e-3 of the bound ``max|x| * sum|w|`` on ``|y|``.
    """
    bound = max(float(np.abs(x).max()), abs(cval)) * float(np.abs(w).sum())
    assert_close(got, expected, rtol=F64, floor=1e-3 * bound, context=context)


def _expected_length(n: int, k: int, d: int, s: int, mode: str) -> int:
    k_eff = d * (k - 1) + 1
    if mode == "same":
        return math.ceil(n / s)
    if mode == "full":
        return math.ceil((n + k_eff - 1) / s)
    return (n - k_eff) // s + 1


@EXAMPLES
@given(cases())
def test_output_shape_follows_the_formula(case: Case) -> None:
    formula = tuple(
        _expected_length(n, k, d, s, case.mode)
        for n, k, d, s in zip(case.image, case.kernel, case.dilation, case.stride, strict=True)
    )
    predicted = imconv.output_shape(
        case.image, case.kernel, mode=case.mode, stride=case.stride, dilation=case.dilation
    )
    assert predicted == formula
    x, w = case.arrays()
    assert _run(case, x, w).shape == formula


@EXAMPLES
@given(cases())
def test_every_algorithm_matches_the_oracle(case: Case) -> None:
    x, w = case.arrays()
    for op in ("convolve", "correlate"):
        expected = getattr(oracle, op)(x, w, **case.options)
        _close(_run(case, x, w, op=op), expected, x=x, w=w, cval=case.cval, context=op)


def _assert_small(error: np.ndarray, bound: float) -> None:
    """Rounding error of a linear identity: at most 1e-10 of the largest term summed."""
    assert np.abs(error).max(initial=0.0) <= F64 * bound


@EXAMPLES
@given(cases(paddings=LINEAR_PADDINGS), st.floats(-3, 3), st.floats(-3, 3))
def test_linear_in_the_image(case: Case, a: float, b: float) -> None:
    x1, w = case.arrays()
    x2 = np.random.default_rng(case.seed + 1).standard_normal(case.image)
    left = _run(case, a * x1 + b * x2, w)
    right = a * _run(case, x1, w) + b * _run(case, x2, w)
    bound = (abs(a) * np.abs(x1).max() + abs(b) * np.abs(x2).max()) * np.abs(w).sum()
    _assert_small(left - right, bound)


@EXAMPLES
@given(cases(), st.floats(-3, 3), st.floats(-3, 3))
def test_linear_in_the_kernel(case: Case, a: float, b: float) -> None:
    x, w1 = case.arrays()
    w2 = np.random.default_rng(case.seed + 1).standard_normal(case.kernel)
    left = _run(case, x, a * w1 + b * w2)
    right = a * _run(case, x, w1) + b * _run(case, x, w2)
    largest = max(np.abs(x).max(), abs(case.cval))
    _assert_small(left - right, (abs(a) * np.abs(w1).sum() + abs(b) * np.abs(w2).sum()) * largest)


@EXAMPLES
@given(cases(modes=("full",), paddings=("zero",), max_stride=1, max_dilation=1))
def test_full_convolution_is_commutative(case: Case) -> None:
    x, w = case.arrays()
    _close(_run(case, x, w), _run(case, w, x), x=x, w=w)


@EXAMPLES
@given(cases(modes=("full",), paddings=("zero",), max_stride=1, max_dilation=1, max_ndim=2))
def test_full_convolution_is_associative(case: Case) -> None:
    x, a = case.arrays()
    b = np.random.default_rng(case.seed + 1).standard_normal(case.kernel[::-1])
    left = _run(case, _run(case, x, a), b)
    right = _run(case, x, _run(case, a, b))
    bound = np.abs(x).max() * np.abs(a).sum() * np.abs(b).sum()
    _assert_small(left - right, bound)


@EXAMPLES
@given(cases(modes=("same",), max_stride=1), st.integers(0, 1))
def test_a_centred_delta_is_the_identity(case: Case, half: int) -> None:
    x, _ = case.arrays()
    delta = np.zeros((2 * half + 1,) * x.ndim)
    delta[(half,) * x.ndim] = 1.0
    for op in ("convolve", "correlate"):
        _close(_run(case, x, delta, op=op), x, x=x, w=delta, context=op)


@EXAMPLES
@given(cases(modes=("same",), paddings=("wrap",), max_stride=1), st.data())
def test_wrap_padding_commutes_with_translation(case: Case, data: st.DataObject) -> None:
    x, w = case.arrays()
    shift = data.draw(st.tuples(*[st.integers(-9, 9)] * x.ndim))
    axes = tuple(range(x.ndim))
    shifted_first = _run(case, np.roll(x, shift, axis=axes), w)
    shifted_after = np.roll(_run(case, x, w), shift, axis=axes)
    _close(shifted_first, shifted_after, x=x, w=w)


@EXAMPLES
@given(cases(min_ndim=2, max_ndim=2, paddings=INDEX_PADDINGS))
def test_an_outer_product_kernel_is_two_one_dimensional_passes(case: Case) -> None:
    # Index-only paddings commute with a pass along the other axis (numpy.pad extends one
    # axis after the other), so the 2-D result is a pass down the columns, then along rows.
    x, _ = case.arrays()
    rng = np.random.default_rng(case.seed + 1)
    u, v = rng.standard_normal(case.kernel[0]), rng.standard_normal(case.kernel[1])
    (s0, s1), (d0, d1) = case.stride, case.dilation
    whole = _run(case, x, np.outer(u, v))
    down = _run(case, x, u[:, np.newaxis], stride=(s0, 1), dilation=(d0, 1))
    across = _run(case, down, v[np.newaxis], stride=(1, s1), dilation=(1, d1))
    _close(whole, across, x=x, w=np.outer(u, v))
    direct = _run(case, x, np.outer(u, v), algorithm="direct")
    separable = _run(case, x, np.outer(u, v), algorithm="separable")
    _close(separable, direct, x=x, w=np.outer(u, v))


@EXAMPLES
@given(cases(max_dilation=3))
def test_dilation_equals_a_zero_stuffed_kernel(case: Case) -> None:
    x, w = case.arrays()
    stuffed = np.zeros(tuple(d * (k - 1) + 1 for k, d in zip(w.shape, case.dilation, strict=True)))
    stuffed[tuple(slice(None, None, d) for d in case.dilation)] = w
    for op in ("convolve", "correlate"):
        dilated = _run(case, x, w, op=op)
        stuffed_result = _run(case, x, stuffed, op=op, dilation=1)
        _close(dilated, stuffed_result, x=x, w=w, cval=case.cval, context=op)


@EXAMPLES
@given(cases())
def test_stride_subsamples_the_stride_one_result(case: Case) -> None:
    x, w = case.arrays()
    dense = _run(case, x, w, stride=1)
    expected = dense[tuple(slice(None, None, s) for s in case.stride)]
    _close(_run(case, x, w), expected, x=x, w=w, cval=case.cval)


@EXAMPLES
@given(cases(algorithms=("direct",)))
def test_all_algorithms_agree(case: Case) -> None:
    x, w = case.arrays()
    reference = _run(case, x, w, algorithm="direct")
    for algorithm in ALGORITHMS[1:]:
        got = _run(case, x, w, algorithm=algorithm)
        _close(got, reference, x=x, w=w, cval=case.cval, context=algorithm)


@EXAMPLES
@given(cases(paddings=(*LINEAR_PADDINGS, "constant"), algorithms=("direct",)), st.booleans())
def test_toeplitz_times_the_image_is_the_convolution(case: Case, correlate: bool) -> None:
    x, w = case.arrays()
    cval = 0.0  # constant padding is linear only with cval 0
    options = dict(case.options, cval=cval)
    matrix = imconv.toeplitz(w, x.shape, correlate=correlate, **options)
    op = "correlate" if correlate else "convolve"
    expected = getattr(imconv, op)(x, w, **options)
    assert matrix.shape == (expected.size, x.size)
    _close(matrix @ x.ravel(), expected.ravel(), x=x, w=w)


@EXAMPLES
@given(cases())
def test_inputs_are_unchanged(case: Case) -> None:
    x, w = case.arrays()
    x_before, w_before = x.copy(), w.copy()
    for op in ("convolve", "correlate"):
        y = _run(case, x, w, op=op)
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(w, w_before)
        assert not np.shares_memory(y, x)


@EXAMPLES
@given(cases())
def test_convolution_is_correlation_with_the_flipped_kernel(case: Case) -> None:
    x, w = case.arrays()
    flipped = _run(case, x, np.flip(w), op="correlate")
    _close(_run(case, x, w), flipped, x=x, w=w, cval=case.cval)
