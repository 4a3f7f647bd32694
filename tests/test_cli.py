"""The ``imconv`` command: its contract (the README's command line) in-process through CliRunner,
and a few runs of the real installed command as a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    BLUR,
    DATA,
    SAMPLES,
    assert_one_line_error,
    hidden_files,
    image_info,
    imconv,
    read_pixels,
    run_imconv,
    small_image,
)
from PIL import Image

import imconv as library
from imconv.errors import ImageReadError, UnknownNameError
from imconv.kernels import list_presets

SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 64x48 RGB crop of coffee.png."""
    return small_image(tmp_path)


@pytest.fixture
def grey(tmp_path: Path) -> Path:
    """A 64x48 L crop of camera.png."""
    return small_image(tmp_path, "grey.png", sample="camera.png")


def expected_8bit(values: np.ndarray) -> np.ndarray:
    """Filtered values as an 8-bit image stores them: clipped, rounded half to even."""
    return np.rint(np.clip(values, 0, 255)).astype(np.uint8)


def save(array: np.ndarray, path: Path) -> Path:
    """Write an array as an image file (the mode follows the dtype and channels)."""
    Image.fromarray(array).save(path)
    return path


# --- help and version ------------------------------------------------------------------


def test_help_lists_the_commands_and_examples() -> None:
    out = imconv("--help").stdout
    assert "imconv apply blur photo.jpg" in out
    assert "imconv kernels gaussian:sigma=2" in out
    assert "apply" in out
    assert "kernels" in out


def test_apply_help_lists_examples_options_and_the_padding_default() -> None:
    out = imconv("apply", "--help").stdout
    assert "imconv apply box:size=15 photo.jpg -o smooth.png --timing" in out
    for option in ("--mode", "--padding", "--stride", "--dilation", "--then", "--overwrite"):
        assert option in out
    assert "reflect" in out


def test_version() -> None:
    assert imconv("--version").stdout.strip() == f"imconv {library.__version__}"


# --- the lecture's cases end to end -----------------------------------------------------


def test_blur_on_camera_matches_the_engine(tmp_path: Path) -> None:
    source = tmp_path / "camera.png"
    source.write_bytes((SAMPLES / "camera.png").read_bytes())
    imconv("apply", "blur", source)
    expected = library.convolve(read_pixels(source).astype(np.float64), BLUR, padding="reflect")
    written = read_pixels(tmp_path / "camera_blur.png")
    assert written.dtype == np.uint8
    assert written.shape == (512, 512)
    # Exact in eighths; only a tie (x.5) may round either way if auto picks an inexact algorithm.
    ties = np.modf(expected)[0] == 0.5
    np.testing.assert_array_equal(written[~ties], expected_8bit(expected)[~ties])
    assert np.all(np.abs(written[ties] - expected[ties]) == 0.5)


def test_sobel_x_then_sobel_y_is_the_chain_in_absolute_value(grey: Path) -> None:
    imconv("apply", "sobel-x", grey, "--then", "sobel-y")
    image = read_pixels(grey).astype(np.float64)
    both = library.convolve(
        library.convolve(image, SOBEL_X, padding="reflect"), SOBEL_X.T, padding="reflect"
    )
    written = read_pixels(grey.with_name("grey_sobel-x_sobel-y.png"))
    np.testing.assert_array_equal(written, expected_8bit(np.abs(both)))


def test_stride_2_halves_each_side_rounding_up(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    source = save(rng.integers(0, 256, (401, 601, 3), dtype=np.uint8), tmp_path / "odd.png")
    imconv("apply", "blur", source, "--algorithm", "direct", "-o", tmp_path / "full.png")
    imconv(
        "apply",
        "blur",
        source,
        "--algorithm",
        "direct",
        "--stride",
        "2",
        "-o",
        tmp_path / "half.png",
    )
    assert image_info(tmp_path / "half.png")[2] == (301, 201)
    full = read_pixels(tmp_path / "full.png")
    np.testing.assert_array_equal(read_pixels(tmp_path / "half.png"), full[::2, ::2])


def test_stride_per_axis(grey: Path, tmp_path: Path) -> None:
    imconv("apply", "box", grey, "--stride", "2,3", "-o", tmp_path / "out.png")
    assert image_info(tmp_path / "out.png")[2] == (22, 24)  # ceil(64/3) wide, ceil(48/2) high


def test_dilation_2_equals_the_zero_stuffed_kernel(grey: Path, tmp_path: Path) -> None:
    stuffed = "0 0 1 0 0; 0 0 0 0 0; 1 0 4 0 1; 0 0 0 0 0; 0 0 1 0 0"
    exact = ("--algorithm", "direct")  # the same arithmetic for both kernels
    imconv("apply", "blur", grey, *exact, "--dilation", "2", "-o", tmp_path / "dilated.png")
    imconv("apply", stuffed, grey, *exact, "--normalize", "-o", tmp_path / "stuffed.png")
    dilated = read_pixels(tmp_path / "dilated.png")
    np.testing.assert_array_equal(dilated, read_pixels(tmp_path / "stuffed.png"))
    assert not np.array_equal(dilated, read_pixels(grey))


def test_mode_full_and_valid_change_the_size(grey: Path, tmp_path: Path) -> None:
    imconv("apply", "box:size=5", grey, "--mode", "full", "-o", tmp_path / "full.png")
    imconv("apply", "box:size=5", grey, "--mode", "VALID", "-o", tmp_path / "valid.png")
    assert image_info(tmp_path / "full.png")[2] == (68, 52)
    assert image_info(tmp_path / "valid.png")[2] == (60, 44)


@pytest.mark.parametrize("algorithm", ["direct", "matmul", "fft", "separable"])
def test_every_algorithm_writes_the_same_image(grey: Path, tmp_path: Path, algorithm) -> None:
    imconv("apply", "gaussian:sigma=1.5", grey, "-o", tmp_path / "auto.png")
    out = tmp_path / f"{algorithm}.png"
    imconv("apply", "gaussian:sigma=1.5", grey, "--algorithm", algorithm, "-o", out)
    difference = read_pixels(out).astype(int) - read_pixels(tmp_path / "auto.png")
    assert np.abs(difference).max() <= 1  # float32 rounding may cross a .5


def test_correlate_does_not_flip_the_kernel(grey: Path, tmp_path: Path) -> None:
    imconv("apply", "sobel-x", grey, "--range", "clip", "-o", tmp_path / "conv.png")
    imconv("apply", "sobel-x", grey, "--correlate", "--range", "clip", "-o", tmp_path / "c.png")
    image = read_pixels(grey).astype(np.float64)
    flipped = library.correlate(image, SOBEL_X, padding="reflect")
    np.testing.assert_array_equal(read_pixels(tmp_path / "c.png"), expected_8bit(flipped))
    assert not np.array_equal(read_pixels(tmp_path / "c.png"), read_pixels(tmp_path / "conv.png"))


def test_padding_constant_uses_cval(tmp_path: Path) -> None:
    source = save(np.full((8, 8), 100, np.uint8), tmp_path / "flat.png")
    imconv(
        "apply", "box", source, "--padding", "CONSTANT", "--cval", "250", "-o", tmp_path / "o.png"
    )
    out = read_pixels(tmp_path / "o.png")
    assert out[4, 4] == 100
    assert out[0, 4] == round((6 * 100 + 3 * 250) / 9)  # top row sees one row of cval


# --- output names -------------------------------------------------------------------------


def test_default_output_is_beside_the_input_with_the_kernel_slug(photo: Path) -> None:
    imconv("apply", "gaussian:sigma=2", photo)
    assert photo.with_name("photo_gaussian-sigma2.png").is_file()


def test_inline_kernels_are_named_custom(photo: Path) -> None:
    imconv("apply", "1 2 1", photo, "--normalize")
    assert photo.with_name("photo_custom.png").is_file()


def test_output_file_and_format_by_suffix(photo: Path, tmp_path: Path) -> None:
    imconv("apply", "blur", photo, "-o", tmp_path / "result.jpg")
    assert image_info(tmp_path / "result.jpg") == ("JPEG", "RGB", (64, 48))


def test_output_folder_for_one_input(photo: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    imconv("apply", "blur", photo, "-o", tmp_path / "out")
    assert (tmp_path / "out" / "photo_blur.png").is_file()


def test_several_inputs_go_to_the_output_folder(tmp_path: Path) -> None:
    first, second = small_image(tmp_path, "a.png"), small_image(tmp_path, "b.jpg")
    (tmp_path / "out").mkdir()
    imconv("apply", "blur", first, second, "-o", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_blur.png", "b_blur.jpg"]


def test_a_folder_input_mirrors_its_tree_with_recursive(tmp_path: Path) -> None:
    tree = tmp_path / "photos"
    (tree / "2024" / "may").mkdir(parents=True)
    small_image(tree, "top.png")
    small_image(tree / "2024" / "may", "deep.png")
    (tree / "notes.txt").write_text("not an image")
    (tmp_path / "out").mkdir()
    imconv("apply", "blur", tree, "-o", tmp_path / "out", "--recursive")
    out = tmp_path / "out"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["2024/may/deep_blur.png", "top_blur.png"]


def test_a_folder_input_needs_an_output_folder_made_when_missing(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    small_image(tmp_path / "in")
    result = imconv("apply", "blur", tmp_path / "in", expect=2)
    assert_one_line_error(result.stderr, "-o must be a folder (made if missing)")
    assert "None" not in result.stderr
    imconv("apply", "blur", tmp_path / "in", "-o", tmp_path / "missing" / "deeper", "--quiet")
    assert sorted(p.name for p in (tmp_path / "missing" / "deeper").iterdir()) == ["photo_blur.png"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_input_is_never_overwritten(photo: Path, tmp_path: Path, overwrite) -> None:
    before = photo.read_bytes()
    for target in (photo, tmp_path / "sub" / ".." / "photo.png"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = imconv("apply", "blur", photo, "-o", target, *overwrite, expect=1)
        assert_one_line_error(result.stderr, "is an input")
    assert photo.read_bytes() == before


def test_an_input_reached_through_a_link_is_never_overwritten(photo: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    before = photo.read_bytes()
    result = imconv("apply", "blur", photo, "-o", link, "--overwrite", expect=1)
    assert_one_line_error(result.stderr, "is an input")
    assert photo.read_bytes() == before


def test_an_existing_output_needs_overwrite(photo: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")
    result = imconv("apply", "blur", photo, "-o", target, expect=1)
    assert_one_line_error(result.stderr, "exists", hint="--overwrite")
    assert target.read_bytes() == b"old contents"
    imconv("apply", "blur", photo, "-o", target, "--overwrite")
    assert read_pixels(target).shape == (48, 64, 3)
    assert hidden_files(tmp_path) == []


def test_a_batch_checks_every_output_before_writing_any(tmp_path: Path) -> None:
    first, second = small_image(tmp_path, "a.png"), small_image(tmp_path, "b.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "b_blur.png").write_bytes(b"old")
    result = imconv("apply", "blur", first, second, "-o", out, expect=1)
    assert_one_line_error(result.stderr, "b_blur.png", "exists")
    assert sorted(p.name for p in out.iterdir()) == ["b_blur.png"]  # a_blur.png not written


def test_two_inputs_that_would_write_one_output_are_refused(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        small_image(tmp_path / folder, "same.png")
    (tmp_path / "out").mkdir()
    args = ("apply", "blur", tmp_path / "x", tmp_path / "y", "-o", tmp_path / "out")
    result = imconv(*args, expect=1)
    assert_one_line_error(result.stderr, "would both write")
    assert list((tmp_path / "out").iterdir()) == []


def test_success_leaves_no_temporary_files(photo: Path, tmp_path: Path) -> None:
    imconv("apply", "blur", photo, "--report", tmp_path / "report.json")
    assert hidden_files(tmp_path) == []


def _failing_save(exception: BaseException):
    def save(self, stream, *args, **kwargs):
        stream.write(b"\x89PNG partial")
        raise exception

    return save


def test_a_failing_write_leaves_nothing_behind(photo, tmp_path, monkeypatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")
    monkeypatch.setattr(Image.Image, "save", _failing_save(OSError("No space left on device")))
    result = imconv("apply", "blur", photo, "-o", target, "--overwrite", expect=1)
    assert_one_line_error(result.stderr, "out.png", "No space left on device")
    assert target.read_bytes() == b"old contents"
    assert hidden_files(tmp_path) == []


def test_an_interrupted_run_exits_130_and_leaves_no_partial_file(photo, tmp_path, monkeypatch):
    monkeypatch.setattr(Image.Image, "save", _failing_save(KeyboardInterrupt()))
    result = imconv("apply", "blur", photo, "-o", tmp_path / "out.png", expect=130)
    assert result.stderr.strip() == "imconv: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


# --- standard input and output ------------------------------------------------------------


def test_stdin_to_stdout_as_png(photo: Path) -> None:
    result = imconv("apply", "blur", "-", "-o", "-", input=photo.read_bytes())
    with Image.open(io.BytesIO(result.stdout_bytes)) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (64, 48))
        from_stdin = np.asarray(image)
    imconv("apply", "blur", photo)
    np.testing.assert_array_equal(from_stdin, read_pixels(photo.with_name("photo_blur.png")))


def test_a_file_to_stdout(grey: Path) -> None:
    result = imconv("apply", "sobel", grey, "-o", "-", "--timing")
    with Image.open(io.BytesIO(result.stdout_bytes)) as image:
        assert (image.format, image.size) == ("PNG", (64, 48))
    assert "step 1: sobel" in result.stderr  # the timing table stays off stdout


def test_stdin_needs_an_output(photo: Path) -> None:
    result = imconv("apply", "blur", "-", input=photo.read_bytes(), expect=2)
    assert_one_line_error(result.stderr, "-o must be given when reading stdin")


def test_stdin_into_an_output_folder(photo: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    imconv("apply", "blur", "-", "-o", tmp_path / "out", input=photo.read_bytes())
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["stdin_blur.png"]


def test_stdin_must_be_the_only_input(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", "blur", "-", photo, "-o", tmp_path, expect=2)
    assert_one_line_error(result.stderr, "the only input")


def test_garbage_on_stdin(tmp_path: Path) -> None:
    result = imconv("apply", "blur", "-", "-o", tmp_path / "o.png", input=b"no image", expect=1)
    assert_one_line_error(result.stderr, "<stdin>", "not an image")


# --- errors: one line, the documented exit status ------------------------------------------


def test_unknown_preset_suggests_the_closest(photo: Path) -> None:
    result = imconv("apply", "blurr", photo, expect=2)
    assert_one_line_error(result.stderr, "'blurr'", "sobel-x", hint="did you mean 'blur'?")


def test_malformed_kernel_file_names_file_and_line(photo: Path) -> None:
    result = imconv("apply", DATA / "ragged.txt", photo, expect=2)
    assert_one_line_error(result.stderr, "ragged.txt:3", "row has 2 values")


def test_missing_kernel_file(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", tmp_path / "nope.csv", photo, expect=2)
    assert_one_line_error(result.stderr, "nope.csv", "does not exist")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--stride", "0"],
            "--stride must be a positive integer or a tuple of them, one per axis; got 0",
        ),
        (["--stride", "2,0"], "got (2, 0)"),
        (["--stride", "1,2,3"], "got '1,2,3'"),
        (["--dilation", "x"], "--dilation must be"),
        (["--range", "clamp"], "--range must be one of clip, abs, offset, rescale"),
        (["--alpha", "drop"], "--alpha must be one of auto, filter, keep"),
    ],
)
def test_bad_option_values_are_usage_errors(photo: Path, args, fragment) -> None:
    result = imconv("apply", "blur", photo, *args, expect=2)
    assert_one_line_error(result.stderr, fragment)
    assert not photo.with_name("photo_blur.png").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--mode", "bogus"], "'bogus' is not one of 'full', 'same', 'valid'"),
        (["--padding", "mirror"], "'mirror' is not one of"),
        (["--algorithm", "gpu"], "'gpu' is not one of"),
        (["--quality", "0"], "--quality"),
        (["--threads", "0"], "--threads"),
        (["--frobnicate"], "No such option"),
    ],
)
def test_options_rejected_by_the_parser_exit_2(photo: Path, args, fragment) -> None:
    result = imconv("apply", "blur", photo, *args, expect=2)  # stderr is not a terminal
    assert_one_line_error(result.stderr, fragment, hint="Try 'imconv apply -h' for help.")


def test_normalizing_a_zero_sum_kernel_is_a_usage_error(photo: Path) -> None:
    result = imconv("apply", "sobel-x", photo, "--normalize", expect=2)
    assert_one_line_error(result.stderr, "sums to 0", hint="edge kernels")


def test_missing_input(tmp_path: Path) -> None:
    result = imconv("apply", "blur", tmp_path / "nope.png", expect=1)
    assert_one_line_error(result.stderr, "nope.png", "no such file")


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("just text")
    result = imconv("apply", "blur", tmp_path / "notes.png", expect=1)
    assert_one_line_error(result.stderr, "notes.png", "not an image")
    assert not (tmp_path / "notes_blur.png").exists()


def test_truncated_image(tmp_path: Path) -> None:
    data = (SAMPLES / "camera.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 3])
    result = imconv("apply", "blur", tmp_path / "cut.png", expect=1)
    assert_one_line_error(result.stderr, "cut.png", "truncated or corrupt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.png"]


def test_missing_output_folder(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", "blur", photo, "-o", tmp_path / "missing" / "out.png", expect=1)
    assert_one_line_error(result.stderr, "output folder", "does not exist")


def test_unknown_output_suffix(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", "blur", photo, "-o", tmp_path / "out.xyz", expect=1)
    assert_one_line_error(result.stderr, "unknown image suffix '.xyz'")


def test_stride_larger_than_the_image(grey: Path) -> None:
    result = imconv("apply", "blur", grey, "--stride", "50", expect=1)
    assert_one_line_error(result.stderr, "--stride must be at most the image size (48 rows")
    assert not grey.with_name("grey_blur.png").exists()


def test_one_failing_input_of_several_exits_3_and_writes_the_others(tmp_path: Path) -> None:
    first, second = small_image(tmp_path, "a.png"), small_image(tmp_path, "c.png")
    broken = tmp_path / "b.png"
    broken.write_bytes(b"not a png")
    (tmp_path / "out").mkdir()
    result = imconv("apply", "blur", first, broken, second, "-o", tmp_path / "out", expect=3)
    assert "1 failed" in result.stderr
    assert "b.png" in result.stderr
    assert "not an image" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_blur.png", "c_blur.png"]


def test_traceback_shows_the_stack_of_a_kernel_error(photo: Path) -> None:
    result = imconv("apply", "blurr", photo, "--traceback", expect=1)
    assert isinstance(result.exception, UnknownNameError)


def test_traceback_shows_the_stack_of_an_image_error(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("just text")
    result = imconv("apply", "blur", tmp_path / "notes.png", "--traceback", expect=1)
    assert isinstance(result.exception, ImageReadError)
    assert result.exception.__traceback__ is not None


def test_an_error_with_a_hint_for_one_image_keeps_its_hint(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", DATA / "bank5.npy", photo, "-o", tmp_path / "maps.png", expect=1)
    assert_one_line_error(result.stderr, "5 channels", hint="montage")


def test_a_report_that_cannot_be_written_is_one_line(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", "blur", photo, "--report", tmp_path, expect=1)
    assert_one_line_error(result.stderr, "report", "folder")
    assert hidden_files(tmp_path) == []


def test_the_report_never_replaces_an_input_or_an_output(photo: Path) -> None:
    before = photo.read_bytes()
    result = imconv("apply", "blur", photo, "--report", photo, "--overwrite", expect=1)
    assert_one_line_error(result.stderr, "is an input", hint="--report")
    result = imconv("apply", "blur", photo, "--report", photo.with_name("photo_blur.png"), expect=1)
    assert_one_line_error(result.stderr, "is also the output")
    assert photo.read_bytes() == before
    assert not photo.with_name("photo_blur.png").exists()  # refused before any work


# --- image modes, alpha and range rules ---------------------------------------------------


def _mode_images(rng: np.random.Generator) -> dict[str, tuple[Image.Image, str]]:
    rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    deep = rng.integers(0, 65536, (24, 32)).astype(np.uint16)
    return {
        "L": (Image.fromarray(rgb[..., 0]), "L"),
        "LA": (Image.fromarray(rgb[..., :2].copy(), mode="LA"), "LA"),
        "RGB": (Image.fromarray(rgb), "RGB"),
        "RGBA": (Image.fromarray(np.dstack([rgb, rgb[..., :1]])), "RGBA"),
        "P": (Image.fromarray(rgb).convert("P"), "RGB"),
        "I;16": (Image.fromarray(deep), "I;16"),
    }


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "I;16"])
def test_modes_are_kept_through_apply(tmp_path: Path, mode: str) -> None:
    image, expected = _mode_images(np.random.default_rng(5))[mode]
    source = tmp_path / "in.png"
    image.save(source)
    imconv("apply", "blur", source)
    with Image.open(tmp_path / "in_blur.png") as out:
        assert (out.mode, out.size) == (expected, (32, 24))
        if mode == "I;16":
            assert np.asarray(out).max() > 255  # still 16-bit, not scaled to 8


def test_16bit_values_match_the_engine(tmp_path: Path) -> None:
    deep = np.random.default_rng(6).integers(0, 65536, (24, 32)).astype(np.uint16)
    save(deep, tmp_path / "deep.png")
    imconv("apply", "blur", tmp_path / "deep.png")
    expected = library.convolve(deep.astype(np.float64), BLUR, padding="reflect")
    written = read_pixels(tmp_path / "deep_blur.png").astype(np.int64)
    assert np.abs(written - np.rint(expected)).max() <= 1  # float32 arithmetic at 65535


def test_float_tiff_keeps_raw_floats(tmp_path: Path) -> None:
    values = np.random.default_rng(8).normal(size=(24, 32)).astype(np.float32)
    Image.fromarray(values).save(tmp_path / "f.tiff")
    imconv("apply", "sobel-x", tmp_path / "f.tiff", "--range", "clip")
    imconv("apply", "blur", tmp_path / "f.tiff")
    with Image.open(tmp_path / "f_blur.tiff") as out:
        assert out.mode == "F"
        blurred = np.asarray(out)
    expected = library.convolve(values.astype(np.float64), BLUR, padding="reflect")
    np.testing.assert_allclose(blurred, expected, rtol=1e-5, atol=1e-5)
    sobel = read_pixels(tmp_path / "f_sobel-x.tiff")
    assert sobel.min() < 0  # raw floats: clip needs a range, and F has none


def _half_transparent(tmp_path: Path) -> Path:
    """32x32 RGBA: opaque white on the left, transparent black on the right."""
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[:, :16] = 255
    return save(pixels, tmp_path / "half.png")


def test_blurred_transparency_has_no_dark_halo(tmp_path: Path) -> None:
    source = _half_transparent(tmp_path)
    imconv("apply", "box:size=5", source)
    out = read_pixels(tmp_path / "half_box-size5.png")
    visible = out[..., 3] > 0
    assert 0 < out[0, 16, 3] < 255
    assert 0 < out[0, 15, 3] < 255
    assert out[..., :3][visible].min() >= 254  # colour stays white wherever it shows


@pytest.mark.parametrize(
    "kernel", [["blur"], ["1 1; 1 1", "--normalize"], ["1 1; 1 1", "--normalize", "--correlate"]]
)
def test_alpha_keep_leaves_alpha_values_untouched(tmp_path: Path, kernel) -> None:
    rng = np.random.default_rng(9)
    pixels = rng.integers(0, 256, (24, 32, 4), dtype=np.uint8)
    source = save(pixels, tmp_path / "rgba.png")
    args = ("--alpha", "keep", "--algorithm", "direct", "-o", tmp_path / "out.png")
    imconv("apply", *kernel, source, *args)
    out = read_pixels(tmp_path / "out.png")
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])
    colour = pixels[..., :3].astype(np.float64)
    if kernel == ["blur"]:  # colour is filtered straight, not premultiplied
        expected = library.convolve(colour, BLUR, padding="reflect", channel_axis=-1)
        np.testing.assert_array_equal(out[..., :3], expected_8bit(expected))


def test_edge_kernels_keep_alpha_by_default(tmp_path: Path) -> None:
    pixels = np.random.default_rng(10).integers(0, 256, (24, 32, 4), dtype=np.uint8)
    source = save(pixels, tmp_path / "rgba.png")
    imconv("apply", "sobel-x", source)
    out = read_pixels(tmp_path / "rgba_sobel-x.png")
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])


def test_alpha_follows_the_geometry_of_stride(tmp_path: Path) -> None:
    pixels = np.random.default_rng(11).integers(0, 256, (24, 32, 4), dtype=np.uint8)
    source = save(pixels, tmp_path / "rgba.png")
    imconv("apply", "blur", source, "--stride", "2", "--alpha", "keep", "-o", tmp_path / "o.png")
    np.testing.assert_array_equal(read_pixels(tmp_path / "o.png")[..., 3], pixels[::2, ::2, 3])


def _step(tmp_path: Path) -> Path:
    """Bright on the left, dark on the right: sobel-x (convolution) responds negatively."""
    pixels = np.zeros((16, 16), np.uint8)
    pixels[:, :8] = 200
    return save(pixels, tmp_path / "step.png")


def test_zero_sum_kernels_default_to_absolute_values(tmp_path: Path) -> None:
    source = _step(tmp_path)
    imconv("apply", "sobel-x", source, "-o", tmp_path / "abs.png")
    imconv("apply", "sobel-x", source, "--range", "clip", "-o", tmp_path / "clip.png")
    assert read_pixels(tmp_path / "abs.png")[:, 7:9].min() == 255  # |-800| clipped to 255
    assert read_pixels(tmp_path / "abs.png")[:, :6].max() == 0
    assert read_pixels(tmp_path / "clip.png").max() == 0  # the negative edge is cut off


def test_range_offset_puts_a_flat_image_at_mid_grey(tmp_path: Path) -> None:
    source = save(np.full((16, 16), 90, np.uint8), tmp_path / "flat.png")
    imconv("apply", "sobel-x", source, "--range", "offset")
    assert np.unique(read_pixels(tmp_path / "flat_sobel-x.png")).tolist() == [128]


def test_range_rescale_spans_the_full_range(grey: Path) -> None:
    imconv("apply", "laplacian", grey, "--range", "rescale")
    out = read_pixels(grey.with_name("grey_laplacian.png"))
    assert (out.min(), out.max()) == (0, 255)


def test_normalize_on_an_inline_kernel_is_the_preset(grey: Path, tmp_path: Path) -> None:
    imconv("apply", "0 1 0; 1 4 1; 0 1 0", grey, "--normalize", "-o", tmp_path / "inline.png")
    imconv("apply", "blur", grey, "-o", tmp_path / "preset.png")
    np.testing.assert_array_equal(
        read_pixels(tmp_path / "inline.png"), read_pixels(tmp_path / "preset.png")
    )


def test_an_imagemagick_kernel_applies(grey: Path, tmp_path: Path) -> None:
    imconv("apply", "3x3: 0,1,0 1,4,1 0,1,0", grey, "--normalize", "-o", tmp_path / "im.png")
    imconv("apply", "blur", grey, "-o", tmp_path / "preset.png")
    np.testing.assert_array_equal(
        read_pixels(tmp_path / "im.png"), read_pixels(tmp_path / "preset.png")
    )


# --- kernel banks ----------------------------------------------------------------------------


def test_a_bank_of_three_outputs_writes_rgb(photo: Path, tmp_path: Path) -> None:
    imconv("apply", DATA / "bank.npy", photo, "--algorithm", "direct", "-o", tmp_path / "bank.png")
    colour = read_pixels(photo).astype(np.float64)
    bank = np.load(DATA / "bank.npy")
    expected = library.convolve(colour, bank, padding="reflect", channel_axis=-1)
    written = read_pixels(tmp_path / "bank.png")
    assert written.shape == (48, 64, 3)
    np.testing.assert_array_equal(written, expected_8bit(expected))
    # bank.npy blurs each channel into the opposite one: RGB becomes blurred BGR
    blurred = library.convolve(colour[..., ::-1], BLUR, padding="reflect", channel_axis=-1)
    np.testing.assert_array_equal(written, expected_8bit(blurred))


def test_a_bank_of_five_as_a_montage(photo: Path, tmp_path: Path) -> None:
    imconv("apply", DATA / "bank5.npy", photo, "--montage", "-o", tmp_path / "maps.png")
    with Image.open(tmp_path / "maps.png") as sheet:
        # 5 maps of 64x48 in 3 columns and 2 rows, with 1-pixel lines between them
        assert (sheet.format, sheet.mode, sheet.size) == ("PNG", "L", (3 * 65 - 1, 2 * 49 - 1))
        pixels = np.asarray(sheet)
    for index in range(5):  # every map is rescaled on its own to 0..255
        top, left = (index // 3) * 49, (index % 3) * 65
        tile = pixels[top : top + 48, left : left + 64]
        assert (tile.min(), tile.max()) == (0, 255)
    assert pixels[48, :].min() == 255
    assert pixels[:, 64].min() == 255


def test_a_bank_of_five_to_npy_keeps_raw_floats(photo: Path, tmp_path: Path) -> None:
    imconv("apply", DATA / "bank5.npy", photo, "-o", tmp_path / "maps.npy")
    maps = np.load(tmp_path / "maps.npy")
    colour = read_pixels(photo).astype(np.float64)
    expected = library.convolve(
        colour, np.load(DATA / "bank5.npy"), padding="reflect", channel_axis=-1
    )
    assert maps.shape == (48, 64, 5)
    assert maps.dtype == np.float32
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-3)
    assert maps[..., 2].min() < 0  # sobel-x map: signed, unmapped


def test_a_bank_of_five_to_tiff_has_a_page_per_map(photo: Path, tmp_path: Path) -> None:
    imconv("apply", DATA / "bank5.npy", photo, "-o", tmp_path / "maps.tiff")
    maps = np.load(DATA / "bank5.npy")
    colour = read_pixels(photo).astype(np.float64)
    expected = library.convolve(colour, maps, padding="reflect", channel_axis=-1)
    with Image.open(tmp_path / "maps.tiff") as pages:
        assert pages.n_frames == 5
        for index in range(5):
            pages.seek(index)
            assert pages.mode == "F"
            np.testing.assert_allclose(np.asarray(pages), expected[..., index], atol=1e-3)


def test_a_bank_for_three_channels_on_a_grey_image(grey: Path) -> None:
    result = imconv("apply", DATA / "bank.npy", grey, expect=1)
    assert_one_line_error(result.stderr, "C_in=1")


# --- timing and report ------------------------------------------------------------------------


def test_timing_table_on_stderr_lists_every_stage(photo: Path) -> None:
    result = imconv("apply", "blur", photo, "--then", "sobel-x", "--timing")
    assert result.stdout == ""
    for stage in ("read", "prepare", "step 1: blur", "step 2: sobel-x", "map", "write", "total"):
        assert stage in result.stderr
    assert any(name in result.stderr for name in ("direct", "matmul", "fft", "separable"))
    assert "photo.png" in result.stderr
    assert "64x48x3 (RGB)" in result.stderr


def test_timing_of_a_batch_adds_the_summary(tmp_path: Path) -> None:
    first, second = small_image(tmp_path, "a.png"), small_image(tmp_path, "b.png")
    (tmp_path / "out").mkdir()
    result = imconv("apply", "blur", first, second, "-o", tmp_path / "out", "--timing")
    assert "2 images" in result.stderr
    assert "median ms" in result.stderr


def test_quiet_prints_nothing(photo: Path, tmp_path: Path) -> None:
    result = imconv("apply", "blur", photo, "--timing", "--quiet")
    assert (result.stdout, result.stderr) == ("", "")


def test_report_is_written_with_the_run(photo: Path, tmp_path: Path) -> None:
    imconv("apply", "blur", photo, "--report", tmp_path / "run.json")
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["kernels"] == ["blur"]
    assert document["images"][0]["output"] == str(photo.with_name("photo_blur.png"))


# --- imconv kernels ----------------------------------------------------------------------------


def test_kernels_lists_every_preset() -> None:
    out = imconv("kernels").stdout
    names = [info.name for info in list_presets()]
    assert len(names) >= 10
    for name in names:
        assert f"│ {name} " in out, name
    for name in ("identity", "blur", "box", "gaussian", "sharpen", "sobel", "laplacian", "emboss"):
        assert name in names


def test_kernels_gaussian_is_normalised_and_separable() -> None:
    out = imconv("kernels", "gaussian:sigma=2").stdout
    assert out.startswith("gaussian:sigma=2")
    assert _fact(out, "sum") == "1"
    assert _fact(out, "rank") == "1 (separable)"
    assert _fact(out, "shape") == "13x13"


def test_kernels_sobel_x_is_rank_one_and_zero_sum() -> None:
    out = imconv("kernels", "sobel-x").stdout
    assert _fact(out, "rank") == "1 (separable)"
    assert _fact(out, "sum") == "0"
    assert "-0" not in _fact(out, "term 1")
    assert [line.split() for line in out.splitlines()[1:4]] == [
        ["1", "0", "-1"],
        ["2", "0", "-2"],
        ["1", "0", "-1"],
    ]


@pytest.mark.parametrize("text", ["3x3: 0,1,0 1,4,1 0,1,0", "0 1 0; 1 4 1; 0 1 0"])
def test_kernels_shows_text_kernels(text: str) -> None:
    out = imconv("kernels", text).stdout
    assert _fact(out, "sum") == "8"
    assert _fact(out, "rank") == "2"
    assert [line.split() for line in out.splitlines()[1:4]] == [
        ["0", "1", "0"],
        ["1", "4", "1"],
        ["0", "1", "0"],
    ]


def test_kernels_shows_a_bank_and_a_magnitude_kernel() -> None:
    assert "bank: 3 outputs x 3 inputs" in imconv("kernels", DATA / "bank.npy").stdout
    assert "magnitude of 2 kernels" in imconv("kernels", "sobel").stdout


def test_kernels_unknown_name(tmp_path: Path) -> None:
    result = imconv("kernels", "gausian", expect=2)
    assert_one_line_error(result.stderr, "'gausian'", hint="did you mean 'gaussian'?")
    result = imconv("kernels", "gaussian:sigma=-1", expect=2)
    assert_one_line_error(result.stderr, "sigma")


def _fact(out: str, name: str) -> str:
    """The value of one row of the facts table of ``imconv kernels NAME``."""
    for line in out.splitlines():
        if line.strip().startswith(name + "  "):
            return line.strip()[len(name) :].strip()
    raise AssertionError(f"no {name!r} row in\n{out}")


# --- the real installed command ----------------------------------------------------------------


def test_installed_command_help_and_version() -> None:
    out = run_imconv("--help").stdout.decode()
    assert "imconv apply blur photo.jpg" in out
    assert "Traceback" not in out
    assert run_imconv("--version").stdout.decode().strip() == f"imconv {library.__version__}"


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "imconv", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"imconv {library.__version__}")


def test_installed_command_applies_and_reads_stdin(photo: Path, tmp_path: Path) -> None:
    run_imconv("apply", "blur", photo.name, cwd=tmp_path)
    written = read_pixels(tmp_path / "photo_blur.png")
    piped = run_imconv("apply", "blur", "-", "-o", "-", input=photo.read_bytes()).stdout
    with Image.open(io.BytesIO(piped)) as image:
        assert (image.format, image.size) == ("PNG", (64, 48))
        np.testing.assert_array_equal(np.asarray(image), written)


def test_installed_command_errors_are_one_line(photo: Path, tmp_path: Path) -> None:
    unknown = run_imconv("apply", "blurr", photo, expect=2)
    assert_one_line_error(unknown.stderr.decode(), "'blurr'", hint="did you mean 'blur'?")
    assert unknown.stdout == b""
    missing = run_imconv("apply", "blur", tmp_path / "nope.png", expect=1)
    assert_one_line_error(missing.stderr.decode(), "nope.png")


def test_installed_command_traceback_shows_the_stack(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("just text")
    done = run_imconv("apply", "blur", tmp_path / "notes.png", "--traceback", expect=1)
    assert "Traceback" in done.stderr.decode()
    assert "ImageReadError" in done.stderr.decode()
