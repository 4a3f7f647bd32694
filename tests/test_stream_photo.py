"""Photo options: linear light, per-channel and luma-only filtering, output depth."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imconv
from imconv import images
from imconv.engine import ConvOptions
from imconv.errors import ImageWriteError, InvalidParameterError
from imconv.kernels import load_kernel
from imconv.stream import Channels, OutputSettings, Planner, Recipe, process_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def recipe(*kernels: str, **settings: object) -> Recipe:
    photo = {key: settings.pop(key) for key in ("linear", "channels") if key in settings}
    return Recipe(kernels=tuple(load_kernel(k) for k in kernels),
                  output=OutputSettings(overwrite=True, **settings), **photo)  # fmt: skip


def run(source: Path, output: Path, chain: Recipe) -> np.ndarray:
    process_file(str(source), str(output), chain, Planner(chain))
    if output.suffix == ".png" and _png_header(output) in ((16, 2), (16, 4), (16, 6)):
        return read_png16(output)  # 16-bit colour, which Pillow reads as 8-bit
    with Image.open(output) as image:
        return np.asarray(image)


def crop(folder: Path, mode: str = "RGB", size=(80, 60), sample="chelsea.png") -> Path:
    with Image.open(SAMPLES / sample) as photo:
        image = photo.convert("RGB").crop((140, 50, 140 + size[0], 50 + size[1]))
    if mode == "RGBA":
        ramp = np.linspace(0, 255, size[0] * size[1]).reshape(size[1], size[0])
        image.putalpha(Image.fromarray(ramp.astype(np.uint8)))
    elif mode != "RGB":
        image = image.convert(mode)
    path = folder / f"in-{mode}.png"
    image.save(path)
    return path


def _png_header(path: Path) -> tuple[int, int]:
    """A PNG's bit depth and colour type."""
    header = path.read_bytes()[24:26]
    return header[0], header[1]


def read_png16(path: Path) -> np.ndarray:
    """A 16-bit PNG's samples, decoded here (Pillow reads 16-bit colour as 8-bit)."""
    data = path.read_bytes()
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    rows = raw.reshape(height, -1)
    assert (rows[:, 0] == 2).all()  # the Up filter
    unfiltered = np.cumsum(rows[:, 1:].astype(np.uint64), axis=0) % 256
    samples = unfiltered.astype(np.uint8).tobytes()
    dtype = ">u2" if depth == 16 else np.uint8
    return np.frombuffer(samples, dtype).reshape(height, width, channels).astype(np.int64)


# --- the sRGB transfer curve -------------------------------------------------------------


@pytest.mark.parametrize("top", [255, 65535])
def test_decoding_then_encoding_every_level_gives_it_back(top: int) -> None:
    levels = np.arange(top + 1, dtype=np.uint16 if top > 255 else np.uint8)
    encoded = images.srgb_encode(images.srgb_decode(levels, top), top)
    np.testing.assert_array_equal(np.rint(encoded), levels)


def test_the_curve_is_iec_61966_2_1() -> None:
    unit = np.array([0.0, 0.04045, 0.5, 1.0])
    expected = np.where(unit <= 0.04045, unit / 12.92, ((unit + 0.055) / 1.055) ** 2.4)
    got = images.srgb_decode(unit * 255, 255.0) / 255
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert images.srgb_encode(np.array([-0.5 * 255], np.float32), 255.0)[0] < 0  # odd


def test_an_identity_chain_in_linear_light_returns_the_input(tmp_path: Path) -> None:
    for mode in ("RGB", "RGBA", "L"):
        source = crop(tmp_path, mode)
        got = run(source, tmp_path / "out.png", recipe("identity", linear=True))
        with Image.open(source) as image:
            expected = np.asarray(image).copy()
        if mode == "RGBA":  # premultiplied filtering: fully transparent pixels hold no colour
            expected[expected[..., 3] == 0] = 0
        np.testing.assert_array_equal(got, expected)


def test_a_blur_in_linear_light_keeps_the_bright_side_bright(tmp_path: Path) -> None:
    """ImageMagick's example: black and white stripes blurred in gamma are too dark."""
    stripes = np.zeros((40, 40), np.uint8)
    stripes[:, ::2] = 255
    Image.fromarray(stripes).convert("RGB").save(tmp_path / "stripes.png")
    gamma = run(tmp_path / "stripes.png", tmp_path / "g.png", recipe("box:size=4"))
    linear = run(tmp_path / "stripes.png", tmp_path / "l.png", recipe("box:size=4", linear=True))
    assert abs(int(gamma[20, 20, 0]) - 128) <= 1  # the mean of the encoded values
    assert abs(int(linear[20, 20, 0]) - 188) <= 1  # encode(0.5): half the light


def test_linear_light_matches_a_float64_reference(tmp_path: Path) -> None:
    source = crop(tmp_path)
    got = run(source, tmp_path / "out.png", recipe("gaussian:sigma=2", linear=True))
    with Image.open(source) as image:
        pixels = np.asarray(image, np.float64) / 255
    light = np.where(pixels <= 0.04045, pixels / 12.92, ((pixels + 0.055) / 1.055) ** 2.4)
    weights = load_kernel("gaussian:sigma=2").weights
    blurred = imconv.convolve(light, weights, padding="reflect", channel_axis=-1)
    encoded = np.where(blurred <= 0.0031308, 12.92 * blurred, 1.055 * blurred ** (1 / 2.4) - 0.055)
    expected = np.clip(np.rint(encoded * 255), 0, 255)
    assert np.abs(got.astype(np.int64) - expected).max() <= 1


def test_linear_light_is_refused_for_raw_float_images(tmp_path: Path) -> None:
    Image.fromarray(np.ones((8, 8), np.float32)).save(tmp_path / "f.tiff")
    with pytest.raises(InvalidParameterError, match=r"linear must be used with 8- or 16-bit"):
        run(tmp_path / "f.tiff", tmp_path / "out.tiff", recipe("blur", linear=True))


# --- channels --------------------------------------------------------------------------------


def test_channels_left_out_pass_through_unchanged(tmp_path: Path) -> None:
    source = crop(tmp_path)
    with Image.open(source) as image:
        original = np.asarray(image)
    got = run(source, tmp_path / "rb.png", recipe("box:size=5", channels="r,b"))
    np.testing.assert_array_equal(got[..., 1], original[..., 1])
    everything = run(source, tmp_path / "all.png", recipe("box:size=5"))
    np.testing.assert_array_equal(got[..., [0, 2]], everything[..., [0, 2]])
    strided = replace(recipe("box:size=5", channels="g"), options=ConvOptions(
        channel_axis=-1, padding="reflect", stride=2))  # fmt: skip
    small = run(source, tmp_path / "g.png", strided)
    np.testing.assert_array_equal(small[..., 0], original[::2, ::2, 0])  # resampled, kept


def test_only_alpha_filtered(tmp_path: Path) -> None:
    source = crop(tmp_path, "RGBA")
    with Image.open(source) as image:
        original = np.asarray(image)
    got = run(source, tmp_path / "a.png", recipe("box:size=5", channels="a"))
    np.testing.assert_array_equal(got[..., :3], original[..., :3])
    assert not np.array_equal(got[..., 3], original[..., 3])


def test_luma_only_keeps_colour_where_it_was(tmp_path: Path) -> None:
    source = crop(tmp_path, sample="rocket.jpg")
    with Image.open(source) as image:
        original = np.asarray(image, np.float32)
    luma = run(source, tmp_path / "l.png", recipe("sharpen", channels="l"))
    rgb = run(source, tmp_path / "rgb.png", recipe("sharpen"))
    chroma = images.luma_chroma(original)[..., 1:]
    drift_luma = np.abs(images.luma_chroma(luma.astype(np.float32))[..., 1:] - chroma)
    drift_rgb = np.abs(images.luma_chroma(rgb.astype(np.float32))[..., 1:] - chroma)
    assert drift_luma.max() <= 2.5  # only rounding to 8 bits (and clipping at the ends)
    assert drift_rgb.mean() > 2 * drift_luma.mean()  # sharpening every channel fringes


def test_luma_of_a_grey_image_is_the_image(tmp_path: Path) -> None:
    source = crop(tmp_path, "L")
    plain = run(source, tmp_path / "plain.png", recipe("sharpen"))
    luma = run(source, tmp_path / "l.png", recipe("sharpen", channels="l"))
    np.testing.assert_array_equal(luma, plain)


def test_channel_names_are_checked() -> None:
    assert Channels.parse("B, r").names == ("b", "r")
    for bad in ("x", "l,r", "r,r", ""):
        with pytest.raises(InvalidParameterError, match=r"channels must be l alone, or r, g"):
            Channels.parse(bad)
    bank = load_kernel(str(Path(__file__).parent / "data" / "bank.npy"))
    with pytest.raises(InvalidParameterError, match="left out with a kernel bank"):
        Recipe(kernels=(bank,), channels="r")
    with pytest.raises(InvalidParameterError, match=r"without a \(alpha\) for kernel sets"):
        Recipe(kernels=(load_kernel("sobel"),), channels="a")


def test_colour_channels_of_a_grey_image_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"channels must be l or a for the grey"):
        run(crop(tmp_path, "L"), tmp_path / "out.png", recipe("blur", channels="r"))


# --- depth -----------------------------------------------------------------------------------


def test_depth_16_keeps_the_fraction_that_8_bits_round_away(tmp_path: Path) -> None:
    source = crop(tmp_path)
    deep = run(source, tmp_path / "deep.png", recipe("gaussian:sigma=2", depth="16"))
    shallow = run(source, tmp_path / "shallow.png", recipe("gaussian:sigma=2"))
    assert deep.max() > 255
    assert np.abs(deep / 257 - shallow).max() <= 0.5 + 1e-9
    assert len(np.unique(deep)) > 4 * len(np.unique(shallow))


def test_depth_16_of_grey_and_of_alpha(tmp_path: Path) -> None:
    grey = run(crop(tmp_path, "L"), tmp_path / "g.png", recipe("blur", depth="16"))
    assert grey.dtype.kind in "iu"
    assert grey.max() > 255
    rgba = run(crop(tmp_path, "RGBA"), tmp_path / "a.png", recipe("blur", depth="16"))
    assert rgba.shape[-1] == 4
    assert rgba[..., 3].max() > 255


def test_depth_32f_writes_raw_floats(tmp_path: Path) -> None:
    source = crop(tmp_path, "L")
    raw = run(source, tmp_path / "edges.tiff", recipe("sobel-x", depth="32f"))
    assert raw.dtype == np.float32
    assert raw.min() < 0


def test_depths_a_format_cannot_store_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"cannot write 16-bit RGB to .*\.jpg"):
        run(crop(tmp_path), tmp_path / "out.jpg", recipe("blur", depth="16"))
    with pytest.raises(ImageWriteError, match=r"cannot write 32-bit float samples to .*png"):
        run(crop(tmp_path), tmp_path / "out.png", recipe("blur", depth="32f"))
    with pytest.raises(InvalidParameterError, match=r"depth must be one of 8, 16, 32f"):
        OutputSettings(depth="12")
