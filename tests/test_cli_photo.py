"""The photo options from the command line: --linear, --channels, --depth, --compress-level,
--combine (the stream's own tests check the numbers; these check the flags reach it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers import assert_one_line_error, imconv, read_pixels, small_image

import imconv as library


def test_linear_light_brightens_a_blurred_edge(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(80, 60))
    imconv("apply", "gaussian:sigma=3", photo, "-o", tmp_path / "gamma.png")
    imconv("apply", "gaussian:sigma=3", photo, "--linear", "-o", tmp_path / "linear.png")
    gamma, linear = read_pixels(tmp_path / "gamma.png"), read_pixels(tmp_path / "linear.png")
    assert linear.astype(float).mean() > gamma.astype(float).mean()


def test_channels_and_luma_from_the_command_line(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(80, 60))
    imconv("apply", "box:size=7", photo, "--channels", "g", "-o", tmp_path / "g.png")
    np.testing.assert_array_equal(
        read_pixels(tmp_path / "g.png")[..., 0], read_pixels(photo)[..., 0]
    )
    imconv("apply", "sharpen", photo, "--channels", "L", "-o", tmp_path / "l.png")
    result = imconv("apply", "blur", photo, "--channels", "q", "-o", tmp_path / "x.png", expect=2)
    assert_one_line_error(result.stderr, "--channels must be l alone")


def test_depth_16_from_the_command_line(tmp_path: Path) -> None:
    grey = small_image(tmp_path, "grey.png", sample="camera.png", size=(80, 60))
    imconv("apply", "blur", grey, "--depth", "16", "-o", tmp_path / "deep.png")
    assert read_pixels(tmp_path / "deep.png").max() > 255
    result = imconv("apply", "blur", grey, "--depth", "16", "-o", tmp_path / "x.jpg", expect=1)
    assert_one_line_error(result.stderr, "16-bit")


def test_compress_level_and_combine_from_the_command_line(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(80, 60))
    imconv("apply", "blur", photo, "--compress-level", "0", "-o", tmp_path / "fast.png")
    imconv("apply", "blur", photo, "-o", tmp_path / "small.png")
    assert (tmp_path / "fast.png").stat().st_size > (tmp_path / "small.png").stat().st_size
    imconv("apply", "kirsch", photo, "--combine", "sum", "-o", tmp_path / "sum.png")
    result = imconv("apply", "blur", photo, "--combine", "max", "-o", tmp_path / "x.png",
                    expect=2)  # fmt: skip
    assert_one_line_error(result.stderr, "--combine must be given with a kernel set")


def test_the_library_takes_the_same_options(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(80, 60))
    result = library.apply("sharpen", photo, output=tmp_path / "l.png", channels="l",
                           linear=True, depth=16, compress_level=1)  # fmt: skip
    assert result.exit_status == 0
    assert result.recipe.linear
    assert result.recipe.output.depth == "16"
