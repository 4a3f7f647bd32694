"""Tests of imconv.images: real files in every mode, written by Pillow into tmp_path."""

from __future__ import annotations

import doctest
import hashlib
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from scipy import ndimage

import imconv.images
from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    OutputExistsError,
    ShapeError,
)
from imconv.images import (
    SUPPORTED_SUFFIXES,
    Picture,
    RangeRule,
    channels_to_mode,
    default_rule,
    map_range,
    montage,
    plan_output,
    premultiply,
    quantize,
    read_image,
    unpremultiply,
    write_image,
)

RNG = np.random.default_rng(20240611)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
H, W = 6, 8


def _u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 256, size=(H, W, *shape), dtype=np.uint8)


def _save(folder: Path, name: str, image: Image.Image, **options: object) -> Path:
    path = folder / name
    image.save(path, **options)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _palette(transparent: bool) -> Image.Image:
    image = Image.fromarray(np.tile(np.arange(W, dtype=np.uint8) % 3, (H, 1))).convert("L")
    image = image.convert("P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    if transparent:
        image.info["transparency"] = 2
    return image


# --- reading every mode --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "shape"), [("L", ()), ("LA", (2,)), ("RGB", (3,)), ("RGBA", (4,))]
)
def test_8bit_modes_read_as_float_pixels_and_separate_alpha(tmp_path, mode, shape):
    array = _u8(*shape)
    picture = read_image(_save(tmp_path, "x.png", Image.fromarray(array)))
    assert picture.mode == mode
    assert picture.pixels.dtype == np.float32
    assert picture.max_value == 255.0
    colour = array[..., :-1] if mode.endswith("A") else array
    np.testing.assert_array_equal(picture.pixels, colour.squeeze())
    if mode.endswith("A"):
        np.testing.assert_allclose(picture.alpha, array[..., -1] / 255.0, rtol=1e-6)
        assert picture.alpha.dtype == np.float32
    else:
        assert picture.alpha is None


@pytest.mark.parametrize(("transparent", "mode"), [(False, "RGB"), (True, "RGBA")])
def test_palette_reads_as_rgb_or_rgba(tmp_path, transparent, mode):
    picture = read_image(_save(tmp_path, "p.png", _palette(transparent)))
    assert (picture.original_mode, picture.mode) == ("P", mode)
    np.testing.assert_array_equal(picture.pixels[0, :3], [[255, 0, 0], [0, 255, 0], [0, 0, 255]])
    if transparent:
        assert picture.alpha[0, :3].tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("name", ["c.jpg", "c.tiff"])
def test_cmyk_is_converted_to_rgb_and_says_so(tmp_path, name):
    path = _save(tmp_path, name, Image.new("CMYK", (W, H), (0, 255, 255, 0)))
    picture = read_image(path)
    assert (picture.original_mode, picture.mode) == ("CMYK", "RGB")
    assert any("CMYK converted to RGB" in note for note in picture.notes)
    np.testing.assert_allclose(picture.pixels[2, 2], [255, 0, 0], atol=3)


def test_bilevel_reads_as_l(tmp_path):
    array = np.arange(H * W).reshape(H, W) % 2 == 0
    picture = read_image(_save(tmp_path, "b.png", Image.fromarray(array)))
    assert (picture.original_mode, picture.mode) == ("1", "L")
    np.testing.assert_array_equal(picture.pixels, np.where(array, 255, 0))


@pytest.mark.parametrize("name", ["d.png", "d.tiff"])
def test_16bit_reads_with_values_above_255(tmp_path, name):
    array = RNG.integers(0, 65536, size=(H, W), dtype=np.uint16)
    picture = read_image(_save(tmp_path, name, Image.fromarray(array)))
    assert (picture.mode, picture.max_value) == ("I;16", 65535.0)
    np.testing.assert_array_equal(picture.pixels, array)
    assert picture.pixels.max() > 255


def test_big_endian_16bit_tiff_reads_as_i16(tmp_path):
    array = np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)
    image = Image.frombytes("I;16B", (2, 2), array.astype(">u2").tobytes())
    picture = read_image(_save(tmp_path, "be.tiff", image))
    assert (picture.original_mode, picture.mode) == ("I;16B", "I;16")
    np.testing.assert_array_equal(picture.pixels, array)


def test_int32_tiff_keeps_raw_values(tmp_path):
    array = np.array([[-7, 0], [100_000, 2**24]], dtype=np.int32)
    picture = read_image(_save(tmp_path, "i.tiff", Image.fromarray(array)))
    assert (picture.mode, picture.max_value) == ("I", None)
    np.testing.assert_array_equal(picture.pixels, array)


def test_float_tiff_keeps_raw_values(tmp_path):
    array = np.array([[-1.5, 0.25], [3e5, np.pi]], dtype=np.float32)
    picture = read_image(_save(tmp_path, "f.tiff", Image.fromarray(array)))
    assert (picture.mode, picture.max_value) == ("F", None)
    np.testing.assert_array_equal(picture.pixels, array)


def test_samples_read_in_the_documented_layout(samples):
    camera = read_image(samples / "camera.png")
    assert (camera.pixels.shape, camera.mode) == ((512, 512), "L")
    rocket = read_image(samples / "rocket.jpg")
    assert (rocket.pixels.shape, rocket.mode, rocket.format) == ((427, 640, 3), "RGB", "JPEG")
    assert rocket.source == samples / "rocket.jpg"


# --- round trips ---------------------------------------------------------------------------


ROUND_TRIPS = [
    ("L", ".png", _u8),
    ("LA", ".png", lambda: _u8(2)),
    ("RGB", ".png", lambda: _u8(3)),
    ("RGBA", ".png", lambda: _u8(4)),
    ("RGB", ".tiff", lambda: _u8(3)),
    ("RGBA", ".tiff", lambda: _u8(4)),
    ("LA", ".tga", lambda: _u8(2)),
    ("I;16", ".png", lambda: RNG.integers(0, 65536, size=(H, W), dtype=np.uint16)),
    ("I;16", ".tiff", lambda: RNG.integers(0, 65536, size=(H, W), dtype=np.uint16)),
    ("I", ".tiff", lambda: RNG.integers(-(2**20), 2**20, size=(H, W), dtype=np.int32)),
    ("F", ".tiff", lambda: RNG.normal(size=(H, W)).astype(np.float32)),
]


@pytest.mark.parametrize(("mode", "suffix", "make"), ROUND_TRIPS)
def test_lossless_round_trip_keeps_mode_and_depth(tmp_path, mode, suffix, make):
    array = make()
    source = _save(tmp_path, "in" + suffix, Image.fromarray(array))
    picture = read_image(source)
    plan = write_image(picture, tmp_path / ("out" + suffix))
    again = read_image(tmp_path / ("out" + suffix))
    assert (plan.mode, again.mode) == (mode, mode)
    np.testing.assert_array_equal(again.pixels, picture.pixels)
    if picture.has_alpha:
        np.testing.assert_array_equal(again.alpha, picture.alpha)


def test_samples_round_trip_exactly_through_png(tmp_path, samples):
    for name in ("camera.png", "chelsea.png"):
        picture = read_image(samples / name)
        write_image(picture, tmp_path / name)
        again = read_image(tmp_path / name)
        np.testing.assert_array_equal(again.pixels, picture.pixels)
        assert (again.mode, again.icc_profile) == (picture.mode, picture.icc_profile)


def test_16bit_to_jpeg_is_scaled_to_8bit(tmp_path):
    blocks = np.repeat(np.array([[0.0, 32768.0, 65535.0]]), 8, axis=1)  # one per JPEG block
    picture = Picture(np.repeat(blocks, 8, axis=0), mode="I;16")
    plan = write_image(picture, tmp_path / "d.jpg")
    assert (plan.mode, plan.scale) == ("L", 255 / 65535)
    again = read_image(tmp_path / "d.jpg")
    assert again.mode == "L"
    np.testing.assert_allclose(again.pixels[4, ::8], [0, 128, 255], atol=1)


def test_float_and_int_pictures_to_png_become_16bit_clipped(tmp_path):
    picture = Picture(np.array([[-3.0, 1000.4], [70000.0, np.nan]]), mode="F")
    assert write_image(picture, tmp_path / "f.png").mode == "I;16"
    np.testing.assert_array_equal(read_image(tmp_path / "f.png").pixels, [[0, 1000], [65535, 0]])


def test_integers_never_wrap(tmp_path):
    values = np.array([[300.0, -5.0, 254.6, np.nan], [np.inf, -np.inf, 0.5, 1.5]])
    write_image(values, tmp_path / "w.png")
    stored = np.asarray(Image.open(tmp_path / "w.png"))
    assert stored.tolist() == [[255, 0, 255, 0], [255, 0, 0, 2]]
    assert quantize(np.array([70000.0, -1.0]), max_value=65535).tolist() == [65535, 0]


def test_rgba_to_jpeg_is_composited_over_white(tmp_path):
    picture = Picture(np.zeros((H, W, 3)), alpha=np.zeros((H, W)))
    plan = write_image(picture.with_pixels(picture.pixels), tmp_path / "a.jpg")
    assert (plan.mode, plan.flatten, plan.alpha) == ("RGB", True, False)
    np.testing.assert_allclose(read_image(tmp_path / "a.jpg").pixels, 255, atol=1)


def test_quality_changes_jpeg_size_and_is_validated(tmp_path):
    picture = read_image(Path(__file__).parent.parent / "samples" / "rocket.jpg")
    write_image(picture, tmp_path / "low.jpg", quality=10)
    write_image(picture, tmp_path / "high.jpg", quality=95)
    assert (tmp_path / "low.jpg").stat().st_size < (tmp_path / "high.jpg").stat().st_size
    with pytest.raises(InvalidParameterError, match=r"quality must be an integer from 1 to 100"):
        write_image(picture, tmp_path / "bad.jpg", quality=0)


# --- EXIF and ICC --------------------------------------------------------------------------


def _oriented(folder: Path, name: str, array: np.ndarray) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(folder, name, Image.fromarray(array), exif=exif.tobytes())


def test_exif_orientation_is_applied_and_reset(tmp_path):
    picture = read_image(_oriented(tmp_path, "o.jpg", _u8(3)))
    assert picture.pixels.shape == (W, H, 3)
    exif = Image.Exif()
    exif.load(picture.exif)
    assert exif[0x0112] == 1
    write_image(picture, tmp_path / "again.jpg")
    assert read_image(tmp_path / "again.jpg").pixels.shape == (W, H, 3)


def test_orientation_6_rotates_clockwise(tmp_path):
    array = _u8()
    picture = read_image(_oriented(tmp_path, "o.png", array))
    np.testing.assert_array_equal(picture.pixels, np.rot90(array, k=-1))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff", ".webp"])
def test_icc_profile_is_kept(tmp_path, suffix):
    source = _save(tmp_path, "icc.png", Image.fromarray(_u8(3)), icc_profile=SRGB)
    picture = read_image(source)
    assert picture.icc_profile == SRGB
    write_image(picture, tmp_path / ("out" + suffix))
    assert read_image(tmp_path / ("out" + suffix)).icc_profile == SRGB


def test_rgb_profile_is_not_attached_to_grey_output(tmp_path):
    picture = read_image(_save(tmp_path, "icc.png", Image.fromarray(_u8(3)), icc_profile=SRGB))
    write_image(picture.with_pixels(picture.pixels[..., 0]), tmp_path / "grey.png")
    assert read_image(tmp_path / "grey.png").icc_profile is None


# --- alpha ---------------------------------------------------------------------------------


def test_premultiplied_blur_has_no_dark_halo():
    colour = np.zeros((1, 20, 3), np.float32)
    colour[:, :10] = 255.0
    alpha = np.zeros((1, 20), np.float32)
    alpha[:, :10] = 1.0

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.uniform_filter1d(x, 5, axis=1, mode="nearest")

    blurred_alpha = blur(alpha)
    naive = blur(colour)
    careful = unpremultiply(blur(premultiply(colour, alpha)), blurred_alpha)
    visible = blurred_alpha > 0
    assert naive[visible].min() < 160
    np.testing.assert_allclose(careful[visible], 255.0, rtol=1e-5)
    assert (careful[~visible] == 0).all()


def test_premultiply_checks_shapes_and_zero_alpha_gives_zero():
    assert unpremultiply(np.ones((2, 2)), np.array([[0.0, 0.5], [np.nan, -1]])).tolist() == [
        [0.0, 2.0],
        [0.0, 0.0],
    ]
    with pytest.raises(ShapeError, match=r"alpha must have the shape"):
        premultiply(np.ones((2, 3, 3)), np.ones((3, 2)))


# --- range mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("clip", [0.0, 0.0, 100.0, 255.0]),
        ("abs", [255.0, 5.0, 100.0, 255.0]),
        ("offset", [0.0, 122.5, 227.5, 255.0]),
        (RangeRule.RESCALE, [0.0, 255 * 295 / 600, 255 * 400 / 600, 255.0]),
    ],
)
def test_map_range_rules_on_hand_values(rule, expected):
    values = np.array([-300.0, -5.0, 100.0, 300.0], np.float32)
    np.testing.assert_allclose(map_range(values, rule=rule, max_value=255), expected, rtol=1e-6)


def test_map_range_edge_cases():
    assert map_range(np.full(3, 7.0), rule="rescale", max_value=255).tolist() == [0, 0, 0]
    mapped = map_range(np.array([np.nan, np.inf, -np.inf, 1.0]), rule="rescale", max_value=10)
    assert mapped.tolist() == [0.0, 10.0, 0.0, 0.0]
    assert map_range(np.array([1, 2]), rule=" CLIP ", max_value=255).dtype == np.float32
    with pytest.raises(InvalidParameterError, match=r"rule must be one of clip, abs, offset"):
        map_range(np.zeros(2), rule="wrap", max_value=255)
    with pytest.raises(InvalidParameterError, match=r"max_value must be a positive finite"):
        map_range(np.zeros(2), rule="clip", max_value=0)


def test_default_rule_is_abs_for_zero_sum_kernels():
    assert default_rule(zero_sum=True) is RangeRule.ABS
    assert default_rule(False) is RangeRule.CLIP


def test_map_range_without_a_fixed_range_keeps_raw_floats():
    values = np.array([-2.0, 0.5, 6.0], np.float32)
    assert map_range(values, rule="clip", max_value=None).tolist() == [-2.0, 0.5, 6.0]
    assert map_range(values, rule="offset", max_value=None).tolist() == [-2.0, 0.5, 6.0]
    assert map_range(values, rule="abs", max_value=None).tolist() == [2.0, 0.5, 6.0]
    assert map_range(values, rule="rescale", max_value=None).tolist() == [0.0, 0.3125, 1.0]


# --- atomic writing, overwrite and input protection ----------------------------------------


def test_failed_encoding_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk on fire")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageWriteError, match=r"cannot write '.*out\.png': PNG \(disk on fire\)"):
        write_image(np.zeros((2, 2)), tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    write_image(np.zeros((2, 2)), target)
    before = _digest(target)

    def interrupted(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(np.ones((2, 2)), target, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    assert _digest(target) == before


def test_missing_folder_and_file_as_folder_are_named(tmp_path):
    with pytest.raises(ImageWriteError, match=r"output folder '.*nowhere' does not exist"):
        write_image(np.zeros((2, 2)), tmp_path / "nowhere" / "out.png")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageWriteError, match=r"output folder '.*file' is not a folder"):
        write_image(np.zeros((2, 2)), tmp_path / "file" / "out.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_unknown_suffix_lists_the_supported_ones(tmp_path):
    with pytest.raises(ImageWriteError, match=r"unknown image suffix '\.xyz'; supported: .*\.png"):
        write_image(np.zeros((2, 2)), tmp_path / "out.xyz")
    assert ".npy" in SUPPORTED_SUFFIXES


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    target = tmp_path / "out.png"
    write_image(np.zeros((2, 2)), target)
    with pytest.raises(OutputExistsError, match=r"output '.*out\.png' already exists") as info:
        write_image(np.ones((2, 2)), target)
    assert "`overwrite`" in info.value.hint
    write_image(np.full((2, 2), 9.0), target, overwrite=True)
    assert read_image(target).pixels.tolist() == [[9.0, 9.0], [9.0, 9.0]]


def test_input_is_never_overwritten(tmp_path):
    source = _save(tmp_path, "in.png", Image.fromarray(_u8()))
    before = _digest(source)
    picture = read_image(source)
    with pytest.raises(OutputExistsError, match=r"it is the input image"):
        write_image(picture, source, overwrite=True)
    os.link(source, tmp_path / "hard.png")
    with pytest.raises(OutputExistsError, match=r"it is the input image"):
        write_image(picture.pixels, tmp_path / "hard.png", like=picture, overwrite=True)
    assert _digest(source) == before


def test_new_file_gets_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    write_image(np.zeros((2, 2)), tmp_path / "out.png")
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o666 & ~umask


# --- read errors ---------------------------------------------------------------------------


def test_truncated_empty_text_and_missing_files_are_named(tmp_path, samples):
    whole = (samples / "rocket.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image\n")
    cases = {
        "cut.jpg": r"cannot read '.*cut\.jpg': truncated or corrupt image",
        "empty.png": r"cannot read '.*empty\.png': not an image",
        "notes.png": r"cannot read '.*notes\.png': not an image",
        "missing.png": r"cannot read '.*missing\.png': no such file",
        ".": r"it is a folder",
    }
    for name, message in cases.items():
        with pytest.raises(ImageReadError, match=message):
            read_image(tmp_path / name)


def test_unconvertible_mode_is_an_image_read_error(tmp_path, monkeypatch):
    path = _save(tmp_path, "c.tiff", Image.new("CMYK", (W, H)))

    def refuse(self, mode=None, *args, **kwargs):
        raise ValueError(f"conversion from {self.mode} to {mode} not supported")

    monkeypatch.setattr(Image.Image, "convert", refuse)
    with pytest.raises(ImageReadError, match=r"cannot read '.*c\.tiff': unsupported image mode"):
        read_image(path)


def test_decompression_bomb_limit(tmp_path, monkeypatch):
    path = _save(tmp_path, "big.png", Image.new("L", (100, 100)))
    with pytest.raises(ImageReadError, match=r"more pixels than the limit of 5,000") as info:
        read_image(path, max_pixels=5000)
    assert "`max_pixels`" in info.value.hint
    saved = Image.MAX_IMAGE_PIXELS
    assert read_image(path, max_pixels=10_000).pixels.shape == (100, 100)
    assert saved == Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)
    with pytest.raises(ImageReadError, match=r"limit of 6,000"):
        read_image(path)
    assert read_image(path, max_pixels=20_000).pixels.shape == (100, 100)
    with pytest.raises(InvalidParameterError, match=r"max_pixels must be a positive integer"):
        read_image(path, max_pixels=0)


def test_reading_never_modifies_the_input(tmp_path):
    path = _oriented(tmp_path, "o.jpg", _u8(3))
    before = (_digest(path), path.stat().st_mtime_ns)
    read_image(path)
    assert (_digest(path), path.stat().st_mtime_ns) == before


# --- streams, .npy, float TIFF, banks -------------------------------------------------------


def test_stdin_and_stdout(monkeypatch):
    encoded = io.BytesIO()
    Image.fromarray(_u8(3)).save(encoded, format="PNG")

    class Standard:
        def __init__(self, data: bytes = b"") -> None:
            self.buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", Standard(encoded.getvalue()))
    picture = read_image("-")
    assert (picture.source, picture.pixels.shape) == (None, (H, W, 3))
    monkeypatch.setattr(sys, "stdout", Standard())
    write_image(picture, "-")
    written = sys.stdout.buffer.getvalue()
    assert written.startswith(b"\x89PNG")
    np.testing.assert_array_equal(read_image(io.BytesIO(written)).pixels, picture.pixels)


def test_npy_keeps_raw_floats(tmp_path):
    values = RNG.normal(scale=1000, size=(H, W, 3)).astype(np.float32)
    plan = write_image(values, tmp_path / "raw.npy")
    assert (plan.format, plan.max_value) == ("NPY", None)
    np.testing.assert_array_equal(np.load(tmp_path / "raw.npy", allow_pickle=False), values)


def test_float_results_to_tiff(tmp_path):
    picture = Picture(np.array([[-0.5, 1e6], [np.pi, 0.0]]), mode="F")
    assert write_image(picture, tmp_path / "f.tif").mode == "F"
    np.testing.assert_array_equal(read_image(tmp_path / "f.tif").pixels, picture.pixels)


def test_bank_channels_go_to_multipage_tiff_or_are_refused(tmp_path):
    bank = RNG.normal(size=(H, W, 5)).astype(np.float32)
    plan = write_image(bank, tmp_path / "bank.tiff")
    assert (plan.pages, plan.mode) == (True, "F")
    with Image.open(tmp_path / "bank.tiff") as image:
        assert image.n_frames == 5
        image.seek(3)
        assert image.mode == "F"
        np.testing.assert_array_equal(np.asarray(image), bank[..., 3])
    with pytest.raises(ImageWriteError, match=r"cannot write 5 channels") as info:
        write_image(bank, tmp_path / "bank.png")
    assert ".tiff" in info.value.hint


def test_channels_to_mode():
    assert [channels_to_mode(c) for c in (1, 2, 3, 4, 5)] == ["L", None, "RGB", "RGBA", None]
    assert channels_to_mode(1, alpha=True) == "LA"
    assert channels_to_mode(4, alpha=True) is None


def test_plan_output_depth_rules():
    assert plan_output("a.tiff", channels=1, mode="I").mode == "I"
    assert plan_output("a.png", channels=1, mode="I").mode == "I;16"
    assert plan_output("a.bmp", channels=1, mode="F").mode == "L"
    assert plan_output("a.PNG", channels=3, alpha=True, mode="RGBA").alpha
    assert plan_output("-", channels=3, mode="I;16").scale == 255 / 65535


def test_montage_tiles_maps_in_a_grid():
    maps = np.stack([np.arange(12.0).reshape(3, 4) * k for k in range(5)], axis=-1)
    sheet = montage(maps)
    assert sheet.shape == (2 * 3 + 1, 3 * 4 + 2)
    assert sheet.dtype == np.float32
    assert (sheet[3, :] == 255).all()
    assert (sheet[:, 4] == 255).all()
    np.testing.assert_array_equal(sheet[:3, :4], 0)
    np.testing.assert_allclose(sheet[:3, 5:9], np.arange(12.0).reshape(3, 4) * 255 / 11)
    np.testing.assert_array_equal(sheet[4:, 10:], 0)


def test_picture_validates_its_parts():
    with pytest.raises(ShapeError, match=r"pixels must be a non-empty"):
        Picture(np.zeros(3))
    picture = Picture(np.zeros((2, 3, 3)), alpha=np.ones((2, 3)))
    assert (picture.mode, picture.channels, picture.has_alpha) == ("RGBA", 3, True)
    with pytest.raises(ShapeError, match=r"alpha must have the shape"):
        picture.with_pixels(np.zeros((1, 3, 3)))
    assert picture.with_pixels(np.zeros((1, 3)), alpha=None).mode == "RGBA"


SAMPLES_BY_MODE = {
    "L": lambda: RNG.uniform(0, 255, (H, W)),
    "LA": lambda: RNG.uniform(0, 255, (H, W)),
    "RGB": lambda: RNG.uniform(0, 255, (H, W, 3)),
    "RGBA": lambda: RNG.uniform(0, 255, (H, W, 3)),
    "I;16": lambda: RNG.uniform(0, 65535, (H, W)),
    "I": lambda: RNG.uniform(-1e6, 1e6, (H, W)),
    "F": lambda: RNG.normal(size=(H, W)),
}


@pytest.mark.parametrize("suffix", [s for s in SUPPORTED_SUFFIXES if s != ".npy"])
@pytest.mark.parametrize("mode", list(SAMPLES_BY_MODE))
def test_every_mode_can_be_written_to_every_format(tmp_path, suffix, mode):
    alpha = RNG.uniform(0, 1, (H, W)) if mode.endswith("A") else None
    picture = Picture(SAMPLES_BY_MODE[mode](), alpha=alpha, mode=mode)
    plan = write_image(picture, tmp_path / ("out" + suffix))
    again = read_image(tmp_path / ("out" + suffix))
    assert again.pixels.shape[:2] == (H, W)
    assert again.has_alpha == plan.alpha


def test_bare_uint16_array_is_written_as_16bit(tmp_path):
    array = np.array([[0, 300], [40000, 65535]], dtype=np.uint16)
    assert write_image(array, tmp_path / "d.png").mode == "I;16"
    np.testing.assert_array_equal(read_image(tmp_path / "d.png").pixels, array)


def test_docstring_examples():
    for module in (imconv.images._values, imconv.images._picture, imconv.images._formats):
        assert doctest.testmod(module).failed == 0


def test_images_does_not_import_the_terminal_libraries():
    code = "import sys, imconv.images; print(sorted({'typer', 'rich'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_alpha_and_montage_options_of_write_image(tmp_path):
    source = Picture(RNG.uniform(0, 255, (H, W, 3)), alpha=np.ones((H, W)))
    filtered_alpha = np.full((H, W), 0.5)
    write_image(source.pixels, tmp_path / "a.png", like=source, alpha=filtered_alpha)
    np.testing.assert_allclose(read_image(tmp_path / "a.png").alpha, 128 / 255)
    plan = write_image(RNG.normal(size=(H, W, 5)), tmp_path / "m.png", like=source, montage=True)
    assert (plan.mode, plan.alpha) == ("L", False)
    assert read_image(tmp_path / "m.png").pixels.shape == (2 * H + 1, 3 * W + 2)
