"""The pipeline: steps through the engine, alpha handling, range rules, and the stage record
of one image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import BLUR, read_pixels, small_image
from PIL import Image

import imconv as library
from imconv.batch import Job
from imconv.choices import Mode, Padding
from imconv.errors import InvalidParameterError, UnknownNameError
from imconv.images import RangeRule
from imconv.kernels import Kernel, load_kernel
from imconv.pipeline import (
    AlphaRule,
    FilterStep,
    ImageRecord,
    OutputSettings,
    StepOptions,
    alpha_kernel,
    chain_sum,
    check_stride,
    filter_pixels,
    is_zero_sum,
    process_file,
)

RNG = np.random.default_rng(21)
IMAGE = RNG.uniform(0, 255, size=(20, 30)).astype(np.float32)


def step(text: str, **options) -> FilterStep:
    return FilterStep(load_kernel(text), StepOptions(**options))


# --- steps ----------------------------------------------------------------------------------


def test_step_options_default_to_the_command_line_defaults() -> None:
    options = StepOptions()
    assert (options.mode, options.padding, options.stride, options.correlate) == (
        Mode.SAME,
        Padding.REFLECT,
        1,
        False,
    )
    assert "correlate" not in options.engine_options()


def test_filter_pixels_is_the_engine_with_a_channel_axis() -> None:
    record = ImageRecord("test")
    result = filter_pixels(IMAGE, [step("blur")], record=record)
    assert result.shape == (20, 30, 1)
    assert result.dtype == np.float32
    expected = library.convolve(IMAGE.astype(np.float64), BLUR, padding="reflect")
    np.testing.assert_allclose(result[..., 0], expected, rtol=1e-6, atol=1e-4)
    [timing] = record.stages
    assert timing.stage == "step 1: blur"
    assert timing.algorithm in {"direct", "matmul", "fft", "separable"}
    assert timing.reason
    assert timing.seconds > 0


def test_a_chain_runs_in_order_with_each_steps_options() -> None:
    chain = [step("sobel-x", stride=2), step("sobel-y", correlate=True, padding=Padding.ZERO)]
    record = ImageRecord("test")
    result = filter_pixels(IMAGE, chain, record=record)
    first = library.convolve(IMAGE.astype(np.float64), load_kernel("sobel-x").weights,
                             padding="reflect", stride=2)  # fmt: skip
    expected = library.correlate(first, load_kernel("sobel-y").weights, padding="zero")
    assert result.shape == (10, 15, 1)
    np.testing.assert_allclose(result[..., 0], expected, rtol=1e-5, atol=1e-2)
    assert [s.stage for s in record.stages] == ["step 1: sobel-x", "step 2: sobel-y"]


def test_a_magnitude_kernel_combines_its_parts() -> None:
    result = filter_pixels(IMAGE, [step("sobel")])[..., 0]
    image = IMAGE.astype(np.float64)
    x = library.convolve(image, load_kernel("sobel-x").weights, padding="reflect")
    y = library.convolve(image, load_kernel("sobel-y").weights, padding="reflect")
    np.testing.assert_allclose(result, np.hypot(x, y), rtol=1e-5, atol=1e-2)


def test_a_kernel_bias_is_added() -> None:
    kernel = Kernel(BLUR, name="brighter", bias=10.0)
    result = filter_pixels(IMAGE, [FilterStep(kernel)])[..., 0]
    plain = filter_pixels(IMAGE, [step("blur")])[..., 0]
    np.testing.assert_allclose(result, plain + 10, rtol=1e-6)


def test_a_bank_maps_channels() -> None:
    colour = RNG.uniform(0, 255, size=(12, 16, 3)).astype(np.float32)
    bank = RNG.normal(size=(5, 3, 3, 3))
    result = filter_pixels(colour, [FilterStep(Kernel(bank, name="bank"))])
    expected = library.convolve(colour.astype(np.float64), bank, padding="reflect", channel_axis=-1)
    assert result.shape == (12, 16, 5)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-2)


def test_check_stride_refuses_a_stride_longer_than_the_image() -> None:
    check_stride((20, 30, 1), 20)
    check_stride((20, 30, 1), (1, 30))
    with pytest.raises(InvalidParameterError, match=r"--stride must be at most the image size "
                       r"\(20 rows, 30 columns\); got \(2, 31\)"):  # fmt: skip
        check_stride((20, 30, 1), (2, 31))
    with pytest.raises(InvalidParameterError, match=r"got 21"):
        filter_pixels(IMAGE, [step("blur", stride=21)])


def test_zero_sum_chains() -> None:
    assert is_zero_sum([step("sobel-x")])
    assert is_zero_sum([step("blur"), step("laplacian")])
    assert not is_zero_sum([step("blur")])
    assert not is_zero_sum([step("sobel")])  # a magnitude is never negative
    assert chain_sum([step("blur"), step("box:size=5")]) == pytest.approx(1.0)
    assert chain_sum([step("sobel")]) == 1.0
    assert chain_sum([FilterStep(Kernel([[1, 2]], name="k")), step("laplacian")]) == 0.0


# --- alpha geometry --------------------------------------------------------------------------


@pytest.mark.parametrize("correlate", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (4, 4), (2, 5), (5, 2)])
def test_alpha_kernel_leaves_values_where_they_are(shape, correlate: bool) -> None:
    """The delta reads the pixel itself in "same" mode, for odd and even kernels."""
    alpha = RNG.uniform(0, 1, size=(9, 11)).astype(np.float32)
    kernel = FilterStep(Kernel(np.ones(shape), name="k"), StepOptions(correlate=correlate))
    delta = alpha_kernel(kernel)
    assert delta.kernel.shape == shape
    assert delta.kernel.sum == 1.0
    np.testing.assert_array_equal(filter_pixels(alpha, [delta])[..., 0], alpha)


@pytest.mark.parametrize(
    ("options", "expected_shape"),
    [
        ({"stride": 2}, (5, 6)),
        ({"mode": Mode.FULL}, (11, 13)),
        ({"mode": Mode.VALID}, (7, 9)),
        ({"dilation": 2}, (9, 11)),
    ],
)
def test_alpha_kernel_follows_the_geometry_of_the_step(options, expected_shape) -> None:
    alpha = RNG.uniform(0, 1, size=(9, 11)).astype(np.float32)
    blur = step("blur", **options)
    colour = filter_pixels(alpha, [blur])
    resampled = filter_pixels(alpha, [alpha_kernel(blur)])
    assert colour.shape[:2] == resampled.shape[:2] == expected_shape
    if options.get("mode") is None:  # same mode: the values themselves, sampled
        stride = options.get("stride", 1)
        np.testing.assert_array_equal(resampled[..., 0], alpha[::stride, ::stride])


def test_alpha_kernel_of_a_bank_is_spatial() -> None:
    bank = FilterStep(Kernel(np.ones((5, 3, 3, 3)), name="bank"))
    assert alpha_kernel(bank).kernel.shape == (3, 3)


# --- settings --------------------------------------------------------------------------------


def test_output_settings_parse_the_command_line_strings() -> None:
    settings = OutputSettings.parse(range_rule=" Rescale ", alpha="KEEP", quality=80)
    assert (settings.range_rule, settings.alpha, settings.quality) == (
        RangeRule.RESCALE,
        AlphaRule.KEEP,
        80,
    )
    assert OutputSettings.parse(range_rule=None, alpha="auto").range_rule is None


def test_output_settings_reject_unknown_names() -> None:
    with pytest.raises(UnknownNameError, match=r"--range must be one of clip, abs") as caught:
        OutputSettings.parse(range_rule="clips", alpha="auto")
    assert caught.value.hint == "did you mean 'clip'?"
    with pytest.raises(UnknownNameError, match=r"--alpha must be one of auto, filter, keep"):
        OutputSettings.parse(range_rule=None, alpha="premultiply")


# --- one file ----------------------------------------------------------------------------------


def run(source: Path, destination: Path, steps, **settings) -> ImageRecord:
    job = Job(str(source), str(destination))
    return process_file(job, steps, OutputSettings(**settings))


def test_process_file_records_every_stage(tmp_path: Path) -> None:
    photo = small_image(tmp_path)
    record = run(photo, tmp_path / "out.png", [step("blur"), step("sobel-x")])
    assert [s.stage for s in record.stages] == [
        "read",
        "prepare",
        "step 1: blur",
        "step 2: sobel-x",
        "map",
        "write",
    ]
    assert (record.source, record.output) == (str(photo), str(tmp_path / "out.png"))
    assert (record.width, record.height, record.channels, record.mode) == (64, 48, 3, "RGB")
    assert record.output_shape == (48, 64, 3)
    assert record.range_rule == "abs"
    assert record.megapixels == pytest.approx(64 * 48 / 1e6)
    assert record.seconds == pytest.approx(sum(s.seconds for s in record.stages))
    assert all(s.seconds >= 0 for s in record.stages)
    timed = [s.stage for s in record.stages if s.algorithm is not None]
    assert timed == ["step 1: blur", "step 2: sobel-x"]


def test_process_file_with_alpha_has_an_alpha_stage(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 256, size=(10, 12, 4), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    record = run(tmp_path / "rgba.png", tmp_path / "out.png", [step("blur")])
    assert "alpha" in [s.stage for s in record.stages]
    assert (record.channels, record.mode) == (3, "RGBA")


def test_filtered_alpha_premultiplies_colour(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (200, 100, 50, 255)  # opaque colour left, transparent black right
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    run(tmp_path / "rgba.png", tmp_path / "filter.png", [step("box")], alpha=AlphaRule.FILTER)
    run(tmp_path / "rgba.png", tmp_path / "keep.png", [step("box")], alpha=AlphaRule.KEEP)
    filtered, kept = read_pixels(tmp_path / "filter.png"), read_pixels(tmp_path / "keep.png")
    assert filtered[0, 4, 3] == 85  # a third of the box sees the opaque side
    assert filtered[0, 4, :3].tolist() == [200, 100, 50]  # premultiplied: no halo
    np.testing.assert_array_equal(kept[..., 3], pixels[..., 3])
    assert kept[0, 3, :3].tolist() == [133, 67, 33]  # straight: black bleeds in


@pytest.mark.parametrize("rule", [AlphaRule.AUTO, AlphaRule.FILTER])
def test_a_kernel_with_a_bias_keeps_alpha(tmp_path: Path, rule: AlphaRule) -> None:
    """The bias offsets colour values; added to alpha it would make every pixel opaque."""
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (100, 100, 100, 255)
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    brighter = FilterStep(Kernel(BLUR, name="brighter", bias=10.0))
    run(tmp_path / "rgba.png", tmp_path / "out.png", [brighter], alpha=rule)
    out = read_pixels(tmp_path / "out.png")
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])
    assert out[0, :4, 0].tolist() == [110, 110, 110, 98]  # straight colour, plus the bias


def test_range_rules_and_raw_outputs(tmp_path: Path) -> None:
    photo = small_image(tmp_path, sample="camera.png")
    sobel = [step("sobel-x")]
    assert run(photo, tmp_path / "a.png", sobel).range_rule == "abs"
    assert run(photo, tmp_path / "b.png", [step("blur")]).range_rule == "clip"
    rescaled = run(photo, tmp_path / "c.png", sobel, range_rule=RangeRule.RESCALE)
    assert rescaled.range_rule == "rescale"
    assert run(photo, tmp_path / "d.npy", sobel).range_rule == "none"
    raw = np.load(tmp_path / "d.npy")
    assert raw.min() < 0 < raw.max()  # .npy keeps the signed response


def test_a_montage_of_a_bank_is_written_as_one_grey_image(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(20, 10))
    bank = FilterStep(Kernel(RNG.normal(size=(5, 3, 3, 3)), name="bank"))
    record = run(photo, tmp_path / "maps.png", [bank], montage=True)
    assert record.range_rule == "none"  # montage() rescales each map itself
    assert read_pixels(tmp_path / "maps.png").shape == (2 * 11 - 1, 3 * 21 - 1)


def test_a_montage_of_one_channel_is_the_image(tmp_path: Path) -> None:
    photo = small_image(tmp_path, sample="camera.png", size=(20, 10))
    run(photo, tmp_path / "plain.png", [step("blur")])
    record = run(photo, tmp_path / "tiled.png", [step("blur")], montage=True)
    assert record.range_rule == "clip"
    np.testing.assert_array_equal(
        read_pixels(tmp_path / "tiled.png"), read_pixels(tmp_path / "plain.png")
    )


def test_a_stage_is_recorded_even_when_it_fails() -> None:
    record = ImageRecord("x")
    with pytest.raises(ValueError, match="boom"), record.stage("read"):
        raise ValueError("boom")
    assert [s.stage for s in record.stages] == ["read"]
