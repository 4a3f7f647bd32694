"""The real kernel files in tests/data: each format parsed by ``load_kernel`` and applied by
``imconv apply``; each malformed variant refused with a message naming the file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import BLUR, DATA, assert_one_line_error, imconv, read_pixels, small_image
from PIL import Image

import imconv as library
from imconv.errors import KernelError
from imconv.kernels import load_kernel

LECTURE = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], dtype=float)
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
NEIGHBOURS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]) / 4

# file name: (weights, bias, slug)
GOOD = {
    "blur3.txt": (LECTURE, None, "blur3"),
    "box.csv": (np.ones((3, 3)), None, "box"),
    "kernel.json": (LECTURE, None, "kernel"),
    "kernel_obj.json": (BLUR, 10.0, "kernel_obj"),
    "mykernel.toml": (NEIGHBOURS, None, "mykernel"),
    "sharpen.mat": (SHARPEN, None, "sharpen"),
}

# file name: (what the message says, line given)
BAD = {
    "ragged.txt": (r"ragged\.txt:3: row has 2 values, but the first row .* has 3", True),
    "bad.csv": (r"bad\.csv:2: 'x' is not a number", True),
    "bad.json": (r"bad\.json:3:\d+: invalid JSON", True),
    "bad.toml": (r"bad\.toml: kernel\[1\]\[1\] must be a number .* got 'four'", False),
    "bad.mat": (r"bad\.mat: the header says 3 rows; found 2", False),
    "pickled.npy": (r"pickled\.npy: holds pickled Python objects, which imconv never loads", False),
}


def _bank() -> np.ndarray:
    """What bank.npy holds: output channel o is input channel 2 - o, blurred."""
    bank = np.zeros((3, 3, 3, 3))
    for out in range(3):
        bank[out, 2 - out] = BLUR
    return bank


def test_the_data_folder_holds_every_supported_format() -> None:
    suffixes = {path.suffix for path in DATA.iterdir()} - {".md"}
    assert {".txt", ".csv", ".json", ".toml", ".npy", ".mat"} <= suffixes
    assert all(path.stat().st_size < 4096 for path in DATA.iterdir())  # small, reviewable


def test_the_comment_in_the_text_file_is_real() -> None:
    assert (DATA / "blur3.txt").read_text().startswith("#")
    assert (DATA / "sharpen.mat").read_text().splitlines()[0] == "3 3 1 0"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_load_kernel_reads_each_file(name: str) -> None:
    weights, bias, slug = GOOD[name]
    for given in (str(DATA / name), DATA / name):
        kernel = load_kernel(given)
        np.testing.assert_allclose(kernel.weights, weights, rtol=0, atol=1e-15)
        assert kernel.slug == slug
        assert (kernel.bias is None) if bias is None else float(kernel.bias) == bias


def test_kernel_obj_json_keeps_its_description() -> None:
    assert load_kernel(DATA / "kernel_obj.json").description == (
        "the lecture's blur, brightened by 10"
    )


def test_the_toml_file_is_a_preset_with_a_description() -> None:
    kernel = load_kernel(DATA / "mykernel.toml")
    assert kernel.description == "Mean of the 4 neighbours (the centre left out)"
    assert kernel.sum == 1.0


def test_the_banks() -> None:
    np.testing.assert_array_equal(load_kernel(DATA / "bank.npy").weights, _bank())
    bank5 = load_kernel(DATA / "bank5.npy")
    assert bank5.shape == (5, 3, 3, 3)
    assert bank5.is_bank
    sums = bank5.weights.sum(axis=(1, 2, 3))
    np.testing.assert_allclose(sums, [1, 1, 0, 0, 0], atol=1e-12)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_imconv_apply_uses_each_file(name: str, tmp_path: Path) -> None:
    weights, bias, slug = GOOD[name]
    photo = small_image(tmp_path, sample="camera.png", size=(40, 30))
    imconv("apply", DATA / name, photo)
    written = read_pixels(tmp_path / f"photo_{slug}.png")
    expected = library.convolve(read_pixels(photo).astype(np.float64), weights, padding="reflect")
    expected = np.clip(expected + (bias or 0.0), 0, 255)
    assert written.shape == (30, 40)
    assert np.abs(written - np.rint(expected)).max() <= 1  # float32 sums may cross a .5


@pytest.mark.parametrize("name", sorted(BAD))
def test_load_kernel_refuses_each_malformed_file(name: str) -> None:
    message, _ = BAD[name]
    with pytest.raises(KernelError, match=message):
        load_kernel(DATA / name)


@pytest.mark.parametrize("name", sorted(BAD))
def test_imconv_apply_refuses_each_malformed_file_with_status_2(name, tmp_path: Path) -> None:
    message, with_line = BAD[name]
    photo = small_image(tmp_path, size=(16, 16))
    result = imconv("apply", DATA / name, photo, expect=2)
    assert_one_line_error(result.stderr, name)
    error_line = result.stderr.splitlines()[0]
    assert re.search(message, error_line), error_line
    if with_line:
        assert f"{name}:" in error_line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_a_pickled_npy_gets_a_hint(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(16, 16))
    result = imconv("apply", DATA / "pickled.npy", photo, expect=2)
    assert_one_line_error(result.stderr, "pickled", hint="numpy.save")


def test_a_kernel_with_a_bias_on_a_transparent_image(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (100, 100, 100, 255)
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    imconv("apply", DATA / "kernel_obj.json", tmp_path / "rgba.png")
    out = read_pixels(tmp_path / "rgba_kernel_obj.png")
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])  # still transparent on the right
    assert out[0, 0].tolist() == [110, 110, 110, 255]
