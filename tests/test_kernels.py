"""The Kernel value object, the built-in presets and their parameters."""

from __future__ import annotations

import re

import numpy as np
import pytest

from imconv.engine import convolve, correlate
from imconv.errors import InvalidParameterError, KernelError, UnknownNameError
from imconv.kernels import Kernel, list_presets, load_kernel, preset, preset_names

# name: (shape, sum, rank, zero_sum); zero_sum is the range rule's: a set's max or magnitude
# is not a signed response, although every part of it sums to zero.
EXPECTED = {
    "identity": ((1, 1), 1.0, 1, False),
    "blur": ((3, 3), 1.0, 2, False),
    "box": ((3, 3), 1.0, 1, False),
    "gaussian": ((7, 7), 1.0, 1, False),
    "sharpen": ((3, 3), 1.0, 2, False),
    "unsharp": ((7, 7), 1.0, 2, False),
    "sobel-x": ((3, 3), 0.0, 1, True),
    "sobel-y": ((3, 3), 0.0, 1, True),
    "sobel": ((2, 3, 3), 0.0, 1, False),
    "scharr-x": ((3, 3), 0.0, 1, True),
    "scharr-y": ((3, 3), 0.0, 1, True),
    "scharr": ((2, 3, 3), 0.0, 1, False),
    "prewitt-x": ((3, 3), 0.0, 1, True),
    "prewitt-y": ((3, 3), 0.0, 1, True),
    "prewitt": ((2, 3, 3), 0.0, 1, False),
    "laplacian": ((3, 3), 0.0, 2, True),
    "log": ((7, 7), 0.0, 3, True),
    "emboss": ((3, 3), 1.0, 3, False),
    "motion": ((9, 9), 1.0, 1, False),
    "binomial": ((5, 5), 1.0, 1, False),
    "disk": ((7, 7), 1.0, 3, False),
    "dog": ((11, 11), 0.0, 2, True),
    "gabor": ((49, 25), 8.706650540687852, 1, False),
    "roberts": ((2, 2, 2), 0.0, 2, False),
    "freichen": ((2, 3, 3), 0.0, 1, False),
    "kirsch": ((8, 3, 3), 0.0, 3, False),
    "compass": ((8, 3, 3), 0.0, 2, False),
}
COMBINE = {
    "sobel": "magnitude",
    "scharr": "magnitude",
    "prewitt": "magnitude",
    "roberts": "magnitude",
    "freichen": "magnitude",
    "kirsch": "max",
    "compass": "max",
}


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Keep the developer's own preset folder out of these tests."""
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_every_preset_file_is_expected() -> None:
    assert preset_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_loads_with_documented_facts(name: str) -> None:
    shape, total, rank, zero_sum = EXPECTED[name]
    kernel = load_kernel(name)
    assert kernel.shape == shape
    assert kernel.sum == pytest.approx(total, abs=1e-12)
    assert kernel.rank == rank
    assert kernel.is_zero_sum is zero_sum
    assert kernel.is_separable is (rank == 1)
    assert kernel.description
    assert kernel.slug == name
    assert kernel.combine == COMBINE.get(name)
    assert kernel.is_set is (name in COMBINE)
    assert kernel.absolute is (name == "compass")


def test_list_presets_matches_loaded_kernels() -> None:
    rows = {row.name: row for row in list_presets()}
    assert sorted(rows) == sorted(EXPECTED)
    for name, (shape, total, rank, zero_sum) in EXPECTED.items():
        row = rows[name]
        assert (row.shape, row.rank, row.zero_sum, row.source) == (
            shape,
            rank,
            zero_sum,
            "built-in",
        )
        assert row.sum == pytest.approx(total, abs=1e-12)
    assert [p.name for p in rows["gaussian"].params] == ["sigma", "size"]
    sigma, size = rows["gaussian"].params
    allowed = "a number >= 0.05 and <= 682.5"
    assert (sigma.default, sigma.default_text, sigma.allowed) == (1.0, "1", allowed)
    assert (size.default, size.default_text, size.kind) == (None, "2*ceil(3*sigma)+1", "int")
    assert rows["log"].params[1].default_text == "2*ceil(3*sigma)+1"
    assert rows["kirsch"].combine == "max"
    assert rows["blur"].combine is None


@pytest.mark.parametrize(
    ("name", "matrix"),
    [
        ("blur", np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8),
        ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        ("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        ("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        ("sobel-x", [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        ("sobel-y", [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
        ("scharr-x", [[3, 0, -3], [10, 0, -10], [3, 0, -3]]),
        ("prewitt-y", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
        ("identity", [[1]]),
    ],
)
def test_literal_presets_have_the_textbook_matrix(name: str, matrix: object) -> None:
    np.testing.assert_array_equal(load_kernel(name).weights, matrix)


def _step(axis: int) -> np.ndarray:
    """A 9x9 image, 0 before index 4 along ``axis`` and 1 from there on."""
    image = np.zeros((9, 9))
    image[(slice(None), slice(4, None))[:: 1 if axis == 1 else -1]] = 1.0
    return image


@pytest.mark.parametrize(("name", "axis"), [("sobel-x", 1), ("sobel-y", 0), ("scharr-x", 1)])
def test_convolving_a_dark_to_bright_step_gives_a_positive_gradient(name: str, axis: int) -> None:
    image = _step(axis)
    response = convolve(image, load_kernel(name).weights, padding="replicate")
    edge = response[4, 3:5] if axis == 1 else response[3:5, 4]
    assert (edge > 0).all()
    assert response.min() >= 0
    # Correlation does not flip the kernel, so the same step reads as negative.
    assert correlate(image, load_kernel(name).weights, padding="replicate").max() <= 0


def test_sobel_magnitude_combines_the_two_gradients() -> None:
    image = np.random.default_rng(0).random((12, 10))
    x = convolve(image, load_kernel("sobel-x").weights)
    y = convolve(image, load_kernel("sobel-y").weights)
    np.testing.assert_allclose(load_kernel("sobel").apply(image), np.hypot(x, y), atol=1e-12)


def test_gaussian_is_a_normalised_outer_product() -> None:
    kernel = load_kernel("gaussian:sigma=2")
    assert kernel.shape == (13, 13)  # 2*ceil(3*sigma)+1
    assert kernel.name == "gaussian:sigma=2"
    assert kernel.slug == "gaussian-sigma2"
    assert kernel.sum == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(kernel.weights, kernel.weights.T)
    assert kernel.weights.argmax() == 13 * 6 + 6
    assert kernel.rank == 1
    column, row = kernel.separable_factors[0]
    np.testing.assert_allclose(np.outer(column, row), kernel.weights, atol=1e-15)


def test_gaussian_and_box_accept_even_sizes() -> None:
    assert load_kernel("gaussian:sigma=1,size=4").shape == (4, 4)
    np.testing.assert_array_equal(load_kernel("box:size=2").weights, np.full((2, 2), 0.25))
    np.testing.assert_allclose(load_kernel("box:size=7").weights, np.full((7, 7), 1 / 49))


def test_unsharp_is_identity_plus_amount_times_detail() -> None:
    blur = load_kernel("gaussian:sigma=1.5").weights
    identity = np.zeros_like(blur)
    identity[blur.shape[0] // 2, blur.shape[1] // 2] = 1
    expected = identity + 2 * (identity - blur)
    np.testing.assert_allclose(load_kernel("unsharp:sigma=1.5,amount=2").weights, expected)


def test_log_is_zero_sum_with_a_negative_centre() -> None:
    kernel = load_kernel("log:sigma=1.4")
    assert kernel.is_zero_sum
    assert kernel.weights[kernel.shape[0] // 2, kernel.shape[1] // 2] == kernel.weights.min() < 0
    np.testing.assert_allclose(kernel.weights, kernel.weights[::-1, ::-1])


@pytest.mark.parametrize("method", ["antialias", "nearest"])
def test_motion_is_a_normalised_line(method: str) -> None:
    row = load_kernel(f"motion:length=5,method={method}").weights
    np.testing.assert_allclose(row[2], np.full(5, 0.2))
    column = load_kernel(f"motion:length=5,angle=90,method={method}").weights
    np.testing.assert_allclose(column[:, 2], np.full(5, 0.2))
    diagonal = load_kernel(f"motion:length=15,angle=45,method={method}").weights
    assert diagonal.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(diagonal, diagonal[::-1, ::-1], atol=1e-15)
    np.testing.assert_allclose(diagonal, diagonal.T[::-1, ::-1], atol=1e-15)  # 45 degrees
    assert diagonal[0, -1] > 0
    assert diagonal[0, 0] == 0


def test_normalize_divides_by_the_sum() -> None:
    raw = load_kernel("0 1 0; 1 4 1; 0 1 0")
    np.testing.assert_allclose(raw.normalized().weights, load_kernel("blur").weights)
    assert raw.normalized().slug == "custom"


def test_normalize_refuses_zero_sum_kernels_with_a_hint() -> None:
    with pytest.raises(KernelError, match="kernel 'sobel-x' sums to 0 and cannot be normalized"):
        load_kernel("sobel-x").normalized()
    with pytest.raises(KernelError, match="kernel 'sobel' sums to 0") as caught:
        load_kernel("sobel").normalized()
    assert caught.value.hint == "`normalize` divides by the sum; edge kernels sum to zero"


def test_bank_properties_and_per_output_normalisation() -> None:
    weights = np.arange(1, 2 * 3 * 3 * 3 + 1, dtype=float).reshape(2, 3, 3, 3)
    bank = Kernel(weights, "bank", bias=[0.5, -0.5])
    assert bank.is_bank
    assert bank.weight_count == 54
    assert bank.spatial_shape == (3, 3)
    assert bank.receptive_field.size == (3, 3)
    np.testing.assert_allclose(bank.normalized().weights.sum(axis=(1, 2, 3)), [1.0, 1.0])
    image = np.random.default_rng(1).random((6, 5, 3))
    expected = convolve(image, weights, channel_axis=-1, bias=[0.5, -0.5])
    np.testing.assert_allclose(bank.apply(image, channel_axis=-1), expected)
    with pytest.raises(KernelError, match="separable factors are defined for a 2-D kernel"):
        _ = bank.separable_factors


def test_kernel_is_a_frozen_read_only_copy() -> None:
    source = np.array([[1.0, 2.0], [3.0, 4.0]])
    kernel = Kernel(source, "k")
    source[0, 0] = 99
    assert kernel.weights[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        kernel.weights[0, 0] = 5
    twin = Kernel([[1, 2], [3, 4]], "k")
    assert kernel == twin
    assert hash(kernel) == hash(twin)
    assert kernel != Kernel(twin.weights, "j")


@pytest.mark.parametrize(
    ("weights", "kwargs", "message"),
    [
        (np.zeros((0, 3)), {}, r"kernel must be a non-empty array; got shape \(0, 3\)"),
        (
            [[1.0, np.nan]],
            {},
            r"kernel must contain only finite numbers; got nan at index \(0, 1\)",
        ),
        ([1.0, 2.0], {}, r"kernel must be 2-D \(kh, kw\) or a 4-D bank .*; got shape \(2,\)"),
        (np.ones((2, 3, 3)), {}, r"got shape \(2, 3, 3\)"),
        ([["a"]], {}, "kernel dtype must be real: bool, integer or floating point; got '<U1'"),
        (np.ones((3, 3)), {"combine": "magnitude"}, r"kernel must be a stack \(parts, kh, kw\)"),
        (np.ones((3, 3)), {"combine": "mean"}, "combine must be None or one of"),
        (np.ones((1, 4098)), {}, r"kernel must be at most 4097 taps a side; got shape \(1, 4098\)"),
        ([[1e308, 1e308]], {}, r"sum of absolute weights \(plus \|bias\|\) of at most 5.19e\+33"),
        ([[1e30]], {"bias": 1e34}, r"so that a 16-bit image's response fits float32; got 1e\+34"),
        (np.ones((2, 1, 3, 3)), {"bias": [1.0]}, r"one value per output channel \(2\)"),
        (np.ones((3, 3)), {"bias": [1.0, 2.0]}, "bias of a 2-D kernel must be one number"),
    ],
)
def test_invalid_kernels_are_rejected(weights: object, kwargs: dict, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        Kernel(weights, **kwargs)


def test_parameters_accept_python_values_and_strings() -> None:
    assert preset("gaussian", sigma=2) == load_kernel("gaussian:sigma=2")
    assert preset("Gaussian", sigma="2.0").name == "gaussian:sigma=2"
    assert load_kernel("Gaussian: Sigma = 1.5 ").slug == "gaussian-sigma1.5"
    assert load_kernel("motion:length=15,angle=45").slug == "motion-length15-angle45"
    assert load_kernel("box:size=7").name == "box:size=7"


BAD_PARAMETERS = [
    ("box:size=abc", "size of preset 'box' must be an integer >= 1 and <= 4097; got 'abc'"),
    ("box:size=2.5", "size of preset 'box' must be an integer >= 1 and <= 4097; got '2.5'"),
    ("box:size=0", "size of preset 'box' must be an integer >= 1 and <= 4097; got '0'"),
    (
        "gaussian:sigma=0",
        "sigma of preset 'gaussian' must be a number >= 0.05 and <= 682.5; got '0'",
    ),
    (
        "gaussian:sigma=nan",
        "sigma of preset 'gaussian' must be a number >= 0.05 and <= 682.5; got 'nan'",
    ),
    ("unsharp:amount=-1", "amount of preset 'unsharp' must be a number >= 0 and <= 1000; got '-1'"),
    ("motion:method=blurry", "must be one of 'antialias', 'nearest'; got 'blurry'"),
    ("gaussian:2", "parameters of preset 'gaussian' must be key=value pairs"),
    ("gaussian:sigma=1,sigma=2", "parameter 'sigma' of preset 'gaussian' must be given once"),
    ("blur:size=3", "preset 'blur' must be used without parameters; got 'size'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_PARAMETERS)
def test_bad_parameters_name_preset_key_value_and_rule(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        load_kernel(text)


def test_unknown_parameter_suggests_the_closest() -> None:
    message = "parameter of preset 'gaussian' must be one of sigma, size; got 'sigm'"
    with pytest.raises(UnknownNameError, match=message) as caught:
        load_kernel("gaussian:sigm=2")
    assert caught.value.hint == "did you mean 'sigma'?"


@pytest.mark.parametrize("value", [True, 2.0, "x"])
def test_python_values_are_type_checked(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="size of preset 'box' must be an integer"):
        preset("box", size=value)


def test_unknown_preset_for_python_callers() -> None:
    with pytest.raises(
        UnknownNameError, match="preset must be one of binomial, blur, box"
    ) as caught:
        preset("gausian")
    assert caught.value.hint == "did you mean 'gaussian'?"
