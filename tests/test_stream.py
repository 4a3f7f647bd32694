"""One image through a recipe: steps through engine plans, alpha handling, range rules, and
the stage record of one image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import BLUR, read_pixels, small_image
from PIL import Image

import imconv as library
from imconv.choices import Mode, Operation, Padding
from imconv.engine import ConvOptions
from imconv.errors import InvalidParameterError, UnknownNameError
from imconv.images import RangeRule
from imconv.kernels import Kernel, load_kernel
from imconv.stream import (
    AlphaRule,
    ImageRecord,
    OutputSettings,
    Planner,
    Recipe,
    delta_like,
    filter_pixels,
    process_file,
)

RNG = np.random.default_rng(21)
IMAGE = RNG.uniform(0, 255, size=(20, 30)).astype(np.float32)


def recipe(*kernels: str | Kernel, correlate: bool = False, **options) -> Recipe:
    loaded = tuple(k if isinstance(k, Kernel) else load_kernel(k) for k in kernels)
    conv = ConvOptions(channel_axis=-1, **{"padding": Padding.REFLECT, **options})
    operation = Operation.CORRELATE if correlate else Operation.CONVOLVE
    return Recipe(kernels=loaded, options=conv, operation=operation)


def run_pixels(pixels: np.ndarray, chain: Recipe, record: ImageRecord | None = None) -> np.ndarray:
    return filter_pixels(pixels, chain, Planner(chain), record or ImageRecord("test"))


# --- steps ----------------------------------------------------------------------------------


def test_a_recipe_defaults_to_the_command_line_defaults() -> None:
    chain = Recipe(kernels=(load_kernel("blur"),))
    options = chain.options
    assert (options.mode, options.padding, options.stride, options.channel_axis) == (
        Mode.SAME,
        Padding.REFLECT,
        1,
        -1,
    )
    assert chain.operation == "convolve"
    assert chain.output == OutputSettings()


def test_a_recipe_refuses_what_is_not_a_chain_of_kernels() -> None:
    with pytest.raises(InvalidParameterError, match="kernels must be a non-empty sequence"):
        Recipe(kernels=())
    with pytest.raises(InvalidParameterError, match=r"options.channel_axis must be -1"):
        Recipe(kernels=(load_kernel("blur"),), options=ConvOptions())


def test_filter_pixels_is_the_engine_with_a_channel_axis() -> None:
    record = ImageRecord("test")
    result = run_pixels(IMAGE, recipe("blur"), record)
    assert result.shape == (20, 30, 1)
    assert result.dtype == np.float32
    expected = library.convolve(IMAGE.astype(np.float64), BLUR, padding="reflect")
    np.testing.assert_allclose(result[..., 0], expected, rtol=1e-6, atol=1e-4)
    [timing] = record.stages
    assert timing.stage == "step 1: blur"
    assert timing.algorithm in {"direct", "matmul", "fft", "separable"}
    assert timing.reason
    assert timing.seconds > 0


def test_a_chain_runs_in_order_with_the_options_on_every_step() -> None:
    chain = recipe("sobel-x", "sobel-y", correlate=True, padding=Padding.ZERO, stride=2)
    record = ImageRecord("test")
    result = run_pixels(IMAGE, chain, record)
    first = library.correlate(
        IMAGE.astype(np.float64), load_kernel("sobel-x").weights, padding="zero", stride=2
    )
    expected = library.correlate(first, load_kernel("sobel-y").weights, padding="zero", stride=2)
    assert result.shape == (5, 8, 1)
    np.testing.assert_allclose(result[..., 0], expected, rtol=1e-5, atol=1e-2)
    assert [s.stage for s in record.stages] == ["step 1: sobel-x", "step 2: sobel-y"]


def test_a_magnitude_kernel_combines_its_parts() -> None:
    result = run_pixels(IMAGE, recipe("sobel"))[..., 0]
    image = IMAGE.astype(np.float64)
    x = library.convolve(image, load_kernel("sobel-x").weights, padding="reflect")
    y = library.convolve(image, load_kernel("sobel-y").weights, padding="reflect")
    np.testing.assert_allclose(result, np.hypot(x, y), rtol=1e-5, atol=1e-2)


def test_a_kernel_bias_is_added() -> None:
    kernel = Kernel(BLUR, name="brighter", bias=10.0)
    result = run_pixels(IMAGE, recipe(kernel))[..., 0]
    plain = run_pixels(IMAGE, recipe("blur"))[..., 0]
    np.testing.assert_allclose(result, plain + 10, rtol=1e-6)


def test_a_bank_maps_channels() -> None:
    colour = RNG.uniform(0, 255, size=(12, 16, 3)).astype(np.float32)
    bank = RNG.normal(size=(5, 3, 3, 3))
    result = run_pixels(colour, recipe(Kernel(bank, name="bank")))
    expected = library.convolve(colour.astype(np.float64), bank, padding="reflect", channel_axis=-1)
    assert result.shape == (12, 16, 5)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-2)


def test_a_stride_longer_than_the_image_is_refused() -> None:
    run_pixels(IMAGE, recipe("blur", stride=20))
    run_pixels(IMAGE, recipe("blur", stride=(1, 30)))
    with pytest.raises(
        InvalidParameterError,
        match=r"stride must be at most the image size "
        r"\(20 rows, 30 columns\); got \(2, 31\)",
    ):
        run_pixels(IMAGE, recipe("blur", stride=(2, 31)))
    with pytest.raises(InvalidParameterError, match=r"got 21"):
        run_pixels(IMAGE, recipe("blur", stride=21))


def test_zero_sum_chains() -> None:
    assert recipe("sobel-x").zero_sum
    assert recipe("blur", "laplacian").zero_sum
    assert not recipe("blur").zero_sum
    assert not recipe("sobel").zero_sum  # a magnitude is never negative


# --- alpha geometry --------------------------------------------------------------------------


@pytest.mark.parametrize("correlate", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (4, 4), (2, 5), (5, 2)])
def test_alpha_kernel_leaves_values_where_they_are(shape, correlate: bool) -> None:
    """The delta reads the pixel itself in "same" mode, for odd and even kernels."""
    alpha = RNG.uniform(0, 1, size=(9, 11)).astype(np.float32)
    operation = Operation.CORRELATE if correlate else Operation.CONVOLVE
    delta = delta_like(Kernel(np.ones(shape), name="k"), operation)
    assert delta.shape == shape
    assert delta.sum == 1.0
    np.testing.assert_array_equal(
        run_pixels(alpha, recipe(delta, correlate=correlate))[..., 0], alpha
    )


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
    blur = recipe("blur", **options)
    colour = run_pixels(alpha, blur)
    resampled = run_pixels(alpha, recipe(delta_like(blur.kernels[0], blur.operation), **options))
    assert colour.shape[:2] == resampled.shape[:2] == expected_shape
    if options.get("mode") is None:  # same mode: the values themselves, sampled
        stride = options.get("stride", 1)
        np.testing.assert_array_equal(resampled[..., 0], alpha[::stride, ::stride])


def test_alpha_kernel_of_a_bank_is_spatial() -> None:
    bank = Kernel(np.ones((5, 3, 3, 3)), name="bank")
    assert delta_like(bank, Operation.CONVOLVE).shape == (3, 3)


# --- settings --------------------------------------------------------------------------------


def test_output_settings_parse_the_command_line_strings() -> None:
    settings = OutputSettings(range_rule=" Rescale ", alpha="KEEP", quality=80)
    assert (settings.range_rule, settings.alpha, settings.quality) == (
        RangeRule.RESCALE,
        AlphaRule.KEEP,
        80,
    )
    assert OutputSettings(alpha="auto").range_rule is None


def test_output_settings_reject_unknown_names_and_bad_values() -> None:
    with pytest.raises(UnknownNameError, match=r"range must be one of clip, abs") as caught:
        OutputSettings(range_rule="clips")
    assert caught.value.hint == "did you mean 'clip'?"
    with pytest.raises(UnknownNameError, match=r"alpha must be one of auto, filter, keep"):
        OutputSettings(alpha="premultiply")
    with pytest.raises(InvalidParameterError, match=r"quality must be an integer from 1 to 100"):
        OutputSettings(quality=0)
    with pytest.raises(InvalidParameterError, match=r"max_pixels must be a positive integer"):
        OutputSettings(max_pixels=-1)


# --- one file ----------------------------------------------------------------------------------


def run(source: Path, destination: Path, chain: Recipe, **settings) -> ImageRecord:
    from dataclasses import replace

    chain = replace(chain, output=OutputSettings(**settings))
    return process_file(str(source), str(destination), chain, Planner(chain))


def test_process_file_records_every_stage(tmp_path: Path) -> None:
    photo = small_image(tmp_path)
    record = run(photo, tmp_path / "out.png", recipe("blur", "sobel-x"))
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
    assert record.seconds == record.elapsed > 0  # wall time, read to write
    assert all(s.seconds >= 0 for s in record.stages)
    timed = [s.stage for s in record.stages if s.algorithm is not None]
    assert timed == ["step 1: blur", "step 2: sobel-x"]


def test_process_file_with_alpha_has_an_alpha_stage(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 256, size=(10, 12, 4), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    record = run(tmp_path / "rgba.png", tmp_path / "out.png", recipe("blur"))
    assert "alpha" in [s.stage for s in record.stages]
    assert (record.channels, record.mode) == (3, "RGBA")


def test_filtered_alpha_premultiplies_colour(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (200, 100, 50, 255)  # opaque colour left, transparent black right
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    run(tmp_path / "rgba.png", tmp_path / "filter.png", recipe("box"), alpha=AlphaRule.FILTER)
    run(tmp_path / "rgba.png", tmp_path / "keep.png", recipe("box"), alpha=AlphaRule.KEEP)
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
    brighter = recipe(Kernel(BLUR, name="brighter", bias=10.0))
    run(tmp_path / "rgba.png", tmp_path / "out.png", brighter, alpha=rule)
    out = read_pixels(tmp_path / "out.png")
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])
    assert out[0, :4, 0].tolist() == [110, 110, 110, 98]  # straight colour, plus the bias


def test_range_rules_and_raw_outputs(tmp_path: Path) -> None:
    photo = small_image(tmp_path, sample="camera.png")
    sobel = recipe("sobel-x")
    assert run(photo, tmp_path / "a.png", sobel).range_rule == "abs"
    assert run(photo, tmp_path / "b.png", recipe("blur")).range_rule == "clip"
    rescaled = run(photo, tmp_path / "c.png", sobel, range_rule=RangeRule.RESCALE)
    assert rescaled.range_rule == "rescale"
    assert run(photo, tmp_path / "d.npy", sobel).range_rule == "none"
    raw = np.load(tmp_path / "d.npy")
    assert raw.min() < 0 < raw.max()  # .npy keeps the signed response


def test_a_montage_of_a_bank_is_written_as_one_grey_image(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(20, 10))
    bank = recipe(Kernel(RNG.normal(size=(5, 3, 3, 3)), name="bank"))
    record = run(photo, tmp_path / "maps.png", bank, montage=True)
    assert record.range_rule == "none"  # montage() rescales each map itself
    assert read_pixels(tmp_path / "maps.png").shape == (2 * 11 - 1, 3 * 21 - 1)


def test_a_montage_of_one_channel_is_the_image(tmp_path: Path) -> None:
    photo = small_image(tmp_path, sample="camera.png", size=(20, 10))
    run(photo, tmp_path / "plain.png", recipe("blur"))
    record = run(photo, tmp_path / "tiled.png", recipe("blur"), montage=True)
    assert record.range_rule == "clip"
    np.testing.assert_array_equal(
        read_pixels(tmp_path / "tiled.png"), read_pixels(tmp_path / "plain.png")
    )


def test_a_stage_is_recorded_even_when_it_fails() -> None:
    record = ImageRecord("x")
    with pytest.raises(ValueError, match="boom"), record.stage("read"):
        raise ValueError("boom")
    assert [s.stage for s in record.stages] == ["read"]


@pytest.mark.parametrize("level", [0, 1, 9])
def test_the_png_compress_level_changes_the_size_not_the_pixels(tmp_path: Path, level) -> None:
    photo = small_image(tmp_path, size=(120, 90))
    default = run(photo, tmp_path / "default.png", recipe("blur"))
    assert default.output == str(tmp_path / "default.png")
    run(photo, tmp_path / f"l{level}.png", recipe("blur"), compress_level=level)
    np.testing.assert_array_equal(
        read_pixels(tmp_path / f"l{level}.png"), read_pixels(tmp_path / "default.png")
    )
    sizes = {"default": (tmp_path / "default.png").stat().st_size,
             level: (tmp_path / f"l{level}.png").stat().st_size}  # fmt: skip
    if level == 0:
        assert sizes[0] > sizes["default"]


def test_the_compress_level_is_checked() -> None:
    with pytest.raises(InvalidParameterError, match=r"compress_level must be an integer from 0"):
        OutputSettings(compress_level=10)
