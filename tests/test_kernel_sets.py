"""Kernel sets: the combine rules, the Kernel set API, rotations, and ImageMagick kernel
lists and rotation flags against ImageMagick's own listing of its kernels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from imconv.engine import convolve
from imconv.errors import InvalidParameterError, KernelError, ShapeError
from imconv.kernels import (
    COMBINES,
    Kernel,
    combine_responses,
    load_kernel,
    preset,
    stack_parts,
)
from imconv.kernels._rotate import rotate45, rotations

DATA = Path(__file__).resolve().parent / "data"
RNG = np.random.default_rng(20)


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def naive(responses: list[np.ndarray], rule: str, absolute: bool) -> np.ndarray:
    """The reference: stack everything, then reduce."""
    stack = np.stack(responses).astype(np.float64)
    stack = np.abs(stack) if absolute else stack
    reduce = {"max": np.max, "min": np.min, "sum": np.sum}
    if rule == "magnitude":
        return np.sqrt(np.sum(stack**2, axis=0))
    return reduce[rule](stack, axis=0)


# --- combine_responses --------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@given(
    stack=hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 7)),
        elements=finite,
    ),
    rule=st.sampled_from(COMBINES),
    absolute=st.booleans(),
)
def test_every_rule_equals_the_naive_reference(stack, rule: str, absolute: bool) -> None:
    responses = list(stack)
    before = [r.copy() for r in responses]
    result = combine_responses(iter(responses), combine=rule, absolute=absolute)
    assert result.dtype == np.float32
    assert result.shape == stack.shape[1:]
    expected = naive(responses, rule, absolute)
    scale = max(1.0, float(np.abs(stack).max()) * len(stack))
    np.testing.assert_allclose(result, expected, rtol=2e-6, atol=1e-6 * scale)
    for response, copy in zip(responses, before, strict=True):
        np.testing.assert_array_equal(response, copy)  # inputs never written


def test_absolute_folds_in_chunks_larger_than_one_chunk() -> None:
    from imconv.kernels._combine import CHUNK

    responses = [RNG.normal(size=CHUNK + 123) for _ in range(3)]
    for rule in ("max", "min", "sum"):
        result = combine_responses(responses, combine=rule, absolute=True)
        np.testing.assert_array_equal(result, naive(responses, rule, True))
    transposed = [r.reshape(-1, 1)[:6000].reshape(60, 100).T for r in responses]  # strided
    result = combine_responses(transposed, combine="sum", absolute=True)
    np.testing.assert_allclose(result, naive(transposed, "sum", True))


def test_magnitude_cannot_overflow_where_squares_would() -> None:
    big = np.full(3, 3e38, dtype=np.float32)
    result = combine_responses([big * 0.1, big * 0.1], combine="magnitude")
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, np.hypot(3e37, 3e37), rtol=1e-6)


def test_float64_stays_float64_and_nan_propagates() -> None:
    a, b = np.array([1.0, np.nan]), np.array([np.nan, 2.0])
    result = combine_responses([a, b], combine="max")
    assert result.dtype == np.float64
    assert np.isnan(result).all()


@pytest.mark.parametrize(
    ("responses", "kwargs", "error", "message"),
    [
        ([], {"combine": "max"}, InvalidParameterError, r"responses must be at least one array"),
        ([np.ones(2)], {"combine": "mean"}, InvalidParameterError,
         r"combine must be one of magnitude, max, min, sum; got 'mean'"),
        ([np.ones(2), np.ones(3)], {"combine": "max"}, ShapeError,
         r"responses\[0\] is \(2,\) float64, responses\[1\] is \(3,\) float64"),
        ([np.ones(2), np.ones(2, np.float32)], {"combine": "sum"}, ShapeError,
         r"one shape and dtype"),
        ([np.ones(2, int)], {"combine": "sum"}, InvalidParameterError,
         r"responses\[0\] must be a real floating-point NumPy array; got 'int64'"),
    ],
)  # fmt: skip
def test_combine_errors_name_the_argument(responses, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        combine_responses(responses, **kwargs)


# --- the Kernel set API -------------------------------------------------------------------


def test_a_set_runs_its_parts_and_folds_their_responses() -> None:
    sobel = load_kernel("sobel")
    image = RNG.random((12, 10))
    responses = [convolve(image, part) for part in sobel.parts]
    assert len(sobel.parts) == 2
    np.testing.assert_array_equal(sobel.parts[0], load_kernel("sobel-x").weights)
    result = sobel.combine_responses(iter(responses))
    np.testing.assert_allclose(result, np.hypot(*responses), rtol=1e-15)


def test_a_linear_kernel_is_a_set_of_one_part_returned_as_is() -> None:
    blur = load_kernel("blur")
    assert len(blur.parts) == 1
    assert blur.parts[0] is blur.weights
    response = RNG.random((4, 4))
    assert blur.combine_responses([response]) is response


@pytest.mark.parametrize("count", [1, 3])
def test_responses_must_be_one_per_part(count: int) -> None:
    sobel = load_kernel("sobel")
    message = r"responses must be one per part of kernel 'sobel' \(2\); got " + (
        "1" if count == 1 else "more than 2"
    )
    with pytest.raises(ShapeError, match=message):
        sobel.combine_responses([np.ones(3)] * count)


def test_from_parts_pads_every_part_keeping_its_anchor() -> None:
    parts = [RNG.normal(size=shape) for shape in [(1, 2), (3, 3), (2, 5), (4, 1)]]
    kernel = Kernel.from_parts(parts, combine="sum", name="mixed")
    assert kernel.shape == (4, 4, 5)
    image = RNG.random((11, 13))
    for part, padded in zip(parts, kernel.parts, strict=True):
        np.testing.assert_allclose(convolve(image, padded), convolve(image, part), atol=1e-12)


def test_with_combine_keeps_absolute_unless_told() -> None:
    compass = load_kernel("compass")
    assert (compass.combine, compass.absolute) == ("max", True)
    summed = compass.with_combine("sum")
    assert (summed.combine, summed.absolute, summed.name) == ("sum", True, "compass")
    signed = compass.with_combine("max", absolute=False)
    assert signed.absolute is False
    with pytest.raises(KernelError, match="kernel 'blur' is a single kernel; combine applies"):
        load_kernel("blur").with_combine("max")


def test_load_kernel_overrides_the_rule_of_a_set() -> None:
    assert load_kernel("kirsch", combine="MIN").combine == "min"
    with pytest.raises(InvalidParameterError, match="combine must be one of magnitude, max"):
        load_kernel("kirsch", combine="lighten")
    with pytest.raises(KernelError, match="is a single kernel"):
        load_kernel("0 1 0; 1 4 1; 0 1 0", combine="max")


def test_zero_sum_is_about_the_output() -> None:
    assert load_kernel("dog").is_zero_sum  # linear, band-pass: the abs range rule
    assert load_kernel("sobel-x").is_zero_sum
    for name in ("sobel", "kirsch", "compass", "roberts", "freichen"):
        kernel = load_kernel(name)
        assert kernel.sums_to_zero, name  # every part sums to zero ...
        assert not kernel.is_zero_sum, name  # ... but max/magnitude outputs are not signed
    assert load_kernel("kirsch", combine="sum").with_combine("sum", absolute=False).is_zero_sum
    assert not load_kernel("compass", combine="sum").is_zero_sum  # absolute responses


def test_sets_take_no_bias_and_absolute_needs_a_set() -> None:
    with pytest.raises(KernelError, match="bias must be finite real numbers, and a kernel set"):
        Kernel(np.ones((2, 3, 3)), combine="max", bias=1.0)
    with pytest.raises(KernelError, match="absolute applies to kernel sets"):
        Kernel(np.ones((3, 3)), absolute=True)


def test_a_set_equals_itself_only_with_the_same_rule() -> None:
    kirsch = load_kernel("kirsch")
    assert kirsch == load_kernel("kirsch")
    assert hash(kirsch) == hash(load_kernel("kirsch"))
    assert kirsch != kirsch.with_combine("sum")
    assert kirsch != kirsch.with_combine("max", absolute=True)
    assert "combine='max'" in repr(kirsch)


# --- rotations ----------------------------------------------------------------------------


def test_rotate45_matches_libvips_rot45_on_a_5x5() -> None:
    """``vips rot45 m5.mat out.mat --angle d45`` of 1..25 (libvips 8.14)."""
    turned = rotate45(np.arange(1, 26).reshape(5, 5))
    assert turned.tolist() == [
        [11, 6, 1, 2, 3],
        [16, 12, 7, 8, 4],
        [21, 17, 13, 9, 5],
        [22, 18, 19, 14, 10],
        [23, 24, 25, 20, 15],
    ]


@given(
    kernel=hnp.arrays(
        np.float64, st.sampled_from([(3, 3), (5, 5), (7, 7)]), elements=st.floats(-100, 100)
    ),
    times=st.integers(1, 8),
)
def test_every_turn_keeps_the_taps_so_the_sum(kernel: np.ndarray, times: int) -> None:
    turned = rotations(kernel, times=times, angle=45)
    for part in turned:
        assert sorted(part.ravel()) == sorted(kernel.ravel())
        assert part.sum() == pytest.approx(kernel.sum(), abs=1e-9)
    np.testing.assert_array_equal(rotate45(kernel, 8), kernel)
    np.testing.assert_array_equal(rotate45(rotate45(kernel), 1), np.rot90(kernel, -1))


@pytest.mark.parametrize(
    ("shape", "angle", "message"),
    [((2, 2), 45, r"angle must be a multiple of 90 for a 2x2 kernel"),
     ((3, 3), 30, r"angle must be one of 0, 45, 90")],
)  # fmt: skip
def test_rotation_errors(shape, angle, message) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        rotations(np.ones(shape), times=2, angle=angle)


def test_compass_names_its_kernel_and_checks_angle_and_shape() -> None:
    four = load_kernel("compass:kernel=prewitt-x,times=4,angle=90,combine=sum")
    assert four.shape == (4, 3, 3)
    np.testing.assert_array_equal(four.parts[1], np.rot90(load_kernel("prewitt-x").weights, -1))
    with pytest.raises(InvalidParameterError, match=r"angle of preset 'compass' must be one of"):
        load_kernel("compass:angle=30")
    with pytest.raises(InvalidParameterError, match=r"kernel of preset 'compass' must be the name"):
        load_kernel("compass:kernel=sobel")
    with pytest.raises(InvalidParameterError, match=r"kernel of preset 'compass' must be one of"):
        load_kernel("compass:kernel=nothere")
    with pytest.raises(InvalidParameterError, match=r"kernel of preset 'compass' must be the name"):
        preset("compass", kernel="roberts")
    assert preset("compass", kernel="identity", times=3).shape == (3, 1, 1)


# --- ImageMagick: its own listing of its kernels, recorded in tests/data ------------------


def showkernel(name: str) -> dict[str, list[tuple[np.ndarray, tuple[int, int]]]]:
    """Parse ``convert xc: -define morphology:showKernel=1 -morphology Convolve K null:``
    output recorded as ``=== K`` blocks: each kernel's values (NaN kept) and origin."""
    blocks: dict[str, list[tuple[np.ndarray, tuple[int, int]]]] = {}
    current: list[tuple[np.ndarray, tuple[int, int]]] = []
    rows: list[list[float]] = []
    for line in (DATA / name).read_text().splitlines():
        if line.startswith("=== "):
            current = blocks.setdefault(line[4:], [])
        elif found := re.search(r"of size (\d+)x(\d+)\+(\d+)\+(\d+)", line):
            rows = []
            current.append((rows, (int(found[3]), int(found[4]))))  # type: ignore[arg-type]
        elif re.match(r"\s*\d+:", line):
            rows.append([float(v) for v in line.split(":", 1)[1].split()])
    return {k: [(np.array(r), o) for r, o in v] for k, v in blocks.items()}


def imagemagick_weights(values: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """What imconv must make of one listed kernel: NaN taps 0, origin at the anchor."""
    from imconv.kernels._imagemagick import _at_origin

    return _at_origin(np.nan_to_num(values, nan=0.0), *origin)


def test_kirsch_is_imagemagicks_eight_turns_in_its_order() -> None:
    listed = showkernel("im_kirsch.txt")["Kirsch:@"]
    kirsch = load_kernel("kirsch")
    assert len(listed) == 8 == len(kirsch.parts)
    for part, (values, origin) in zip(kirsch.parts, listed, strict=True):
        assert origin == (1, 1)
        np.testing.assert_array_equal(part, values)
    assert (kirsch.combine, kirsch.absolute) == ("max", False)
    as_string = load_kernel("3x3@: 5,-3,-3 5,0,-3 5,-3,-3", combine="max")
    np.testing.assert_array_equal(as_string.weights, kirsch.weights)


@pytest.mark.parametrize("file", ["im_rotations.txt", "im_flags.txt"])
def test_rotation_flags_expand_exactly_as_imagemagick_lists(file: str) -> None:
    for text, listed in showkernel(file).items():
        kernel = load_kernel(text, combine="max") if len(listed) > 1 else load_kernel(text)
        expected = [imagemagick_weights(values, origin) for values, origin in listed]
        assert len(kernel.parts) == len(expected), text
        np.testing.assert_array_equal(kernel.weights, stack_parts(expected).reshape(kernel.shape))


def test_named_edge_and_shape_kernels_match_imagemagick() -> None:
    listed = {name: blocks[0][0] for name, blocks in showkernel("im_named.txt").items()}
    np.testing.assert_allclose(load_kernel("freichen").parts[0], listed["FreiChen:0"], rtol=1e-5)
    np.testing.assert_allclose(load_kernel("freichen").parts[1], listed["FreiChen:90"], rtol=1e-5)
    np.testing.assert_array_equal(load_kernel("sobel-x").weights, listed["Sobel"])
    np.testing.assert_array_equal(load_kernel("prewitt-x").weights, listed["Prewitt"])
    np.testing.assert_array_equal(load_kernel("binomial:order=4").weights * 256,
                                  listed["Binomial:2"])  # fmt: skip
    for radius in (1, 2, 3):
        shape = np.nan_to_num(listed[f"Disk:{radius}"], nan=0.0)
        np.testing.assert_array_equal(load_kernel(f"disk:radius={radius}").weights,
                                      shape / shape.sum())  # fmt: skip


def test_a_list_by_default_is_applied_in_turn_as_one_kernel() -> None:
    """ImageMagick's default compose for Convolve re-iterates: kernel b applied to the
    result of kernel a is one convolution with a * b, the origins adding up."""
    a = np.array([[1.0, 2, 1], [0, 2, 0], [0, 1, 1]])
    b = np.array([[0.0, 1, 0], [3, 1, 0], [1, 1, 1]])
    text = "3x3: 1,2,1 0,2,0 0,1,1 ; 3x3+0+0: 0,1,0 3,1,0 1,1,1"
    kernel = load_kernel(text)
    assert kernel.weights.ndim == 2
    assert kernel.description == "ImageMagick list of 2 kernels, applied in turn"
    image = RNG.random((20, 20))
    # b's origin +0+0 is its top-left tap: applied alone, it is b padded to 5x5 (anchor).
    b_alone = np.pad(b, ((2, 0), (2, 0)))
    in_turn = convolve(convolve(image, a), b_alone)
    whole = convolve(image, kernel.weights)
    np.testing.assert_allclose(in_turn[4:-4, 4:-4], whole[4:-4, 4:-4], atol=1e-12)
    as_set = load_kernel(text, combine="sum")
    assert as_set.shape == (2, 5, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2x2@: 1 2 3 4", r"'@' turns a 3x3 kernel by 45 degrees; got 2x2"),
        ("2x3>: 1 2 3 4 5 6", r"'>' turns a square or 1-D kernel by 90 degrees; got 2x3"),
        ("3x3!: 1 1 1 1 1 1 1 1 1", r"geometry flags '!' are not supported"),
        ("3x3@>: 1 1 1 1 1 1 1 1 1", r"geometry flags '@>' are not supported"),
        ("1: 1; oops", r"'oops' is not a 'WxH\[\+X\+Y\]\[@><\]: values' kernel"),
        ("3x3: 1 1 1 1 1 1 1 1 1", None),
    ],
)
def test_bad_lists_and_flags(text: str, message: str | None) -> None:
    if message is None:
        with pytest.raises(KernelError, match="combine applies to a list of kernels"):
            load_kernel(text, combine="max")
        return
    with pytest.raises(KernelError, match=message):
        load_kernel(text)


def test_a_list_too_large_once_applied_in_turn() -> None:
    entry = "1x2049: " + " ".join(["1"] * 2049)
    with pytest.raises(KernelError, match=r"make one kernel of 1x6145 taps; at most 4097 a side"):
        load_kernel(f"{entry}; {entry}; {entry}")
