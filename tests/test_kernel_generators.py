"""The generators: new presets against their oracles (scikit-image, OpenCV, SciPy, exact
arithmetic), exact separable factors, the SVD run once, and every size limit checked
before anything is allocated."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from imconv.engine import convolve
from imconv.errors import InvalidParameterError
from imconv.kernels import MAX_SIDE, Kernel, load_kernel, preset

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def photo() -> np.ndarray:
    """A 64x64 grey crop of a real photograph, float64 in [0, 1]."""
    grey = Image.open(SAMPLES / "coffee.png").convert("L")
    return np.asarray(grey, dtype=np.float64)[150:214, 250:314] / 255


# --- DoG ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sigma1", "sigma2"), [(1.0, 1.6), (1.5, 3.0), (0.5, 2.0)])
def test_dog_is_the_difference_of_two_scipy_gaussians(sigma1: float, sigma2: float) -> None:
    """``round(3*sigma) == ceil(3*sigma)`` for these sigmas, so SciPy's truncate=3 window is
    imconv's default size."""
    image = photo()
    kernel = load_kernel(f"dog:sigma1={sigma1},sigma2={sigma2}")
    ours = convolve(image, kernel.weights, padding="replicate")
    blur = [ndi.gaussian_filter(image, s, mode="nearest", truncate=3.0) for s in (sigma1, sigma2)]
    np.testing.assert_allclose(ours, blur[0] - blur[1], atol=1e-12)
    assert abs(kernel.sum) < 1e-15
    assert kernel.is_zero_sum
    assert kernel.rank == 2


def test_dog_equals_scikit_image_difference_of_gaussians() -> None:
    filters = pytest.importorskip("skimage.filters", reason="scikit-image is a test-only oracle")
    image = photo()
    ours = convolve(image, load_kernel("dog:sigma1=1,sigma2=1.6").weights, padding="replicate")
    theirs = filters.difference_of_gaussians(image, 1.0, 1.6, truncate=3.0, mode="nearest")
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_dog_needs_sigma2_above_sigma1() -> None:
    message = "sigma2 of preset 'dog' must be a number > sigma1 (2); got 1.5"
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        load_kernel("dog:sigma1=2,sigma2=1.5")


# --- Gabor --------------------------------------------------------------------------------

GABOR = [  # sigma, theta, lambda, gamma, psi, size
    (4.0, 0.0, 10.0, 0.5, 0.0, 31),
    (3.0, 0.7, 6.0, 1.0, 1.2, 21),
    (2.5, 2.2, 8.0, 0.8, -0.4, 15),
]


@pytest.mark.parametrize("case", GABOR)
def test_gabor_is_opencv_getgaborkernel_flipped(case: tuple[float, ...]) -> None:
    """OpenCV's filter2D correlates, so its kernel is imconv's (convolution) flipped."""
    cv2 = pytest.importorskip("cv2", reason="OpenCV is a test-only oracle (imconv[bench])")
    sigma, theta, lambda_, gamma, psi, size = case
    ours = preset("gabor", sigma=sigma, theta=theta, gamma=gamma, psi=psi, size=int(size),
                  **{"lambda": lambda_}).weights  # fmt: skip
    theirs = cv2.getGaborKernel((int(size), int(size)), sigma, theta, lambda_, gamma, psi,
                                ktype=cv2.CV_64F)  # fmt: skip
    np.testing.assert_allclose(ours, theirs[::-1, ::-1], atol=1e-12)
    image = photo().astype(np.float32)
    filtered = cv2.filter2D(image, -1, theirs.astype(np.float32), borderType=cv2.BORDER_REFLECT_101)
    ours_filtered = convolve(image, ours, padding="reflect")
    np.testing.assert_allclose(ours_filtered, filtered, atol=2e-4 * np.abs(filtered).max())


@pytest.mark.parametrize("case", GABOR)
def test_gabor_is_scikit_images_real_part_times_its_norm(case: tuple[float, ...]) -> None:
    filters = pytest.importorskip("skimage.filters", reason="scikit-image is a test-only oracle")
    sigma, theta, lambda_, gamma, psi, _ = case
    theirs = filters.gabor_kernel(1 / lambda_, theta=theta, sigma_x=sigma, sigma_y=sigma / gamma,
                                  offset=psi).real  # fmt: skip
    ours = preset("gabor", sigma=sigma, theta=theta, gamma=gamma, psi=psi,
                  **{"lambda": lambda_}).weights  # fmt: skip
    # Both are centred; scikit-image's window may differ by its minimum of 1 per side.
    h = min(ours.shape[0], theirs.shape[0]) // 2
    w = min(ours.shape[1], theirs.shape[1]) // 2

    def centre(a: np.ndarray) -> np.ndarray:
        cy, cx = a.shape[0] // 2, a.shape[1] // 2
        return a[cy - h : cy + h + 1, cx - w : cx + w + 1]

    norm = 2 * math.pi * sigma * (sigma / gamma)
    np.testing.assert_allclose(centre(ours), centre(theirs) * norm, atol=1e-12)


def test_gabor_default_size_covers_three_sigma_of_the_envelope() -> None:
    kernel = load_kernel("gabor")  # sigma 4, gamma 0.5: 3*8 = 24 rows, 3*4 = 12 columns
    assert kernel.shape == (49, 25)
    assert kernel.weights[24, 12] == 1.0
    message = r"sigma of preset 'gabor' must be small enough, with gamma=0.1, that the kernel"
    with pytest.raises(InvalidParameterError, match=message):
        load_kernel("gabor:sigma=600,gamma=0.1")
    assert load_kernel("gabor:sigma=600,gamma=0.1,size=5").shape == (5, 5)


# --- binomial, disk, roberts --------------------------------------------------------------


@pytest.mark.parametrize("order", [0, 1, 2, 5, 12, 60])
def test_binomial_rows_are_exact_binomial_coefficients(order: int) -> None:
    kernel = load_kernel(f"binomial:order={order}")
    column, row = kernel.separable_factors[0]
    assert [c * 2**order for c in row] == [math.comb(order, k) for k in range(order + 1)]
    np.testing.assert_array_equal(column, row)
    assert kernel.sum == pytest.approx(1.0, abs=1e-14)


def test_the_largest_binomial_is_finite_and_sums_to_one() -> None:
    kernel = preset("binomial", order=MAX_SIDE - 1)
    assert kernel.shape == (MAX_SIDE, MAX_SIDE)
    assert kernel.rank == 1
    assert kernel.sum == pytest.approx(1.0, abs=1e-12)


def test_disk_is_a_normalised_disc_of_taps() -> None:
    kernel = load_kernel("disk:radius=2.5")
    assert kernel.shape == (5, 5)
    taps = kernel.weights > 0
    u = np.arange(-2, 3)
    np.testing.assert_array_equal(taps, u[:, None] ** 2 + u[None, :] ** 2 <= 6.25)
    assert kernel.sum == pytest.approx(1.0)
    assert load_kernel("disk:radius=0.5").weights.tolist() == [[1.0]]


def test_roberts_is_scikit_images_roberts_times_sqrt2() -> None:
    filters = pytest.importorskip("skimage.filters", reason="scikit-image is a test-only oracle")
    image = photo()
    kernel = load_kernel("roberts")
    responses = [convolve(image, part, padding="symmetric") for part in kernel.parts]
    ours = kernel.combine_responses(responses)
    theirs = filters.roberts(image) * math.sqrt(2)
    # scikit-image (ndimage.convolve, origin 0) anchors an even kernel one pixel earlier.
    np.testing.assert_allclose(ours[2:-1, 2:-1], theirs[1:-2, 1:-2], atol=1e-12)


# --- exact separable factors, and the SVD run at most once ---------------------------------

FACTORED = ["gaussian:sigma=2.3", "gaussian:sigma=1,size=4", "box:size=7", "box:size=2",
            "binomial:order=9", "dog:sigma1=0.8,sigma2=2", "motion:length=9",
            "motion:length=8,angle=90", "motion:length=5,angle=180,method=nearest"]  # fmt: skip


@pytest.mark.parametrize("text", FACTORED)
def test_known_factors_rebuild_the_weights_bit_for_bit(text: str) -> None:
    kernel = load_kernel(text)
    assert kernel.factors is not None
    (terms,) = kernel.factors
    rebuilt = np.zeros_like(kernel.weights)
    for column, row in terms:
        rebuilt += np.outer(column, row)
    np.testing.assert_array_equal(rebuilt, kernel.weights)
    assert kernel.rank == len(terms) == (2 if text.startswith("dog") else 1)


def test_motion_off_axis_has_no_known_factors() -> None:
    assert load_kernel("motion:length=9,angle=30").factors is None


def test_known_factors_skip_the_svd(monkeypatch: pytest.MonkeyPatch) -> None:
    import imconv.engine

    def refuse(*args: object) -> None:
        raise AssertionError("no SVD for a kernel whose factors are known")

    monkeypatch.setattr(imconv.engine, "separable_factors", refuse)
    started = time.perf_counter()
    kernel = load_kernel("box:size=801")
    assert (kernel.rank, kernel.is_separable) == (1, True)
    assert len(kernel.separable_factors) == 1
    assert time.perf_counter() - started < 2.0


def test_the_svd_runs_once_per_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    import imconv.engine

    calls = []
    real = imconv.engine.separable_factors
    monkeypatch.setattr(imconv.engine, "separable_factors",
                        lambda w: calls.append(w.shape) or real(w))  # fmt: skip
    kernel = load_kernel("disk:radius=4")
    for _ in range(3):
        _ = kernel.rank, kernel.is_separable, kernel.separable_factors, kernel.terms
    assert calls == [(9, 9)]
    sobel = load_kernel("kirsch")
    _ = sobel.rank, sobel.part_ranks, sobel.is_separable
    assert len(calls) == 1 + 8  # one per part, once


def test_factors_that_do_not_add_up_are_refused() -> None:
    from imconv.errors import KernelError

    with pytest.raises(KernelError, match="factors must add up to the kernel; they differ by"):
        Kernel(np.ones((2, 2)), factors=(((np.ones(2), np.array([1.0, 2.0])),),))
    with pytest.raises(KernelError, match=r"factors must be one tuple .* per part \(1\)"):
        Kernel(np.ones((2, 2)), factors=())


@given(size=st.integers(1, 60), sigma=st.floats(0.05, 20))
def test_gaussian_factors_are_exact_for_any_size(size: int, sigma: float) -> None:
    kernel = preset("gaussian", sigma=sigma, size=size)
    (((column, row),),) = kernel.factors
    np.testing.assert_array_equal(np.outer(column, row), kernel.weights)
    assert kernel.sum == pytest.approx(1.0, abs=1e-12)


# --- sizes: limits checked before allocation -----------------------------------------------

TOO_LARGE = [
    ("gaussian:sigma=1e5", "sigma of preset 'gaussian' must be a number >= 0.05 and <= 682.5"),
    ("gaussian:size=5000", "size of preset 'gaussian' must be an integer >= 1 and <= 4097"),
    ("box:size=99999999999999999999", "size of preset 'box' must be an integer >= 1 and <= 4097"),
    ("motion:length=1000000", "length of preset 'motion' must be an integer >= 1 and <= 4097"),
    ("disk:radius=1e9", "radius of preset 'disk' must be a number > 0 and <= 2048"),
    ("binomial:order=5000", "order of preset 'binomial' must be an integer >= 0 and <= 4096"),
    ("log:sigma=1e-300", "sigma of preset 'log' must be a number >= 0.05 and <= 682.5"),
    ("unsharp:amount=1e308", "amount of preset 'unsharp' must be a number >= 0 and <= 1000"),
    ("dog:sigma2=700", "sigma2 of preset 'dog' must be a number >= 0.05 and <= 682.5"),
    ("compass:times=9", "times of preset 'compass' must be an integer >= 1 and <= 8"),
    ("gabor:lambda=0", "lambda of preset 'gabor' must be a number > 0"),
]


@pytest.mark.parametrize(("text", "message"), TOO_LARGE)
def test_size_and_value_parameters_have_documented_limits(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        load_kernel(text)


def test_the_limits_are_reached_exactly() -> None:
    assert preset("box", size=MAX_SIDE).shape == (MAX_SIDE, MAX_SIDE)
    assert preset("gaussian", sigma=682.5).shape == (MAX_SIDE, MAX_SIDE)
    assert preset("disk", radius=2048).shape == (MAX_SIDE, MAX_SIDE)
    assert preset("motion", length=MAX_SIDE, angle=45).shape[0] <= MAX_SIDE


@pytest.mark.parametrize("name", ["gaussian", "log", "unsharp", "dog", "gabor", "disk"])
def test_tiny_sigmas_and_radii_give_no_warnings(name: str) -> None:
    """pytest turns warnings into errors: the smallest allowed values compute cleanly."""
    small = {
        "gaussian": {"sigma": 0.05},
        "log": {"sigma": 0.05},
        "unsharp": {"sigma": 0.05},
        "dog": {"sigma1": 0.05, "sigma2": 0.06},
        "gabor": {"sigma": 0.05, "gamma": 1e-300, "size": 3},
        "disk": {"radius": 1e-300},
    }[name]
    kernel = preset(name, **small)
    assert np.isfinite(kernel.weights).all()
