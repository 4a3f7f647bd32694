"""Streaming in bands gives the whole image's bytes.

Every case filters a real image twice through :func:`imconv.stream.process_file`: in bands
of a few rows (``IMCONV_BAND_ROWS``, so that every band edge and halo is exercised) and in
one band (the engine on the whole image), and compares the files' samples. They must be
identical, except where an FFT step runs on bands that do not start on its overlap-save
rows (other transform lengths: within 1 level).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imconv.choices import Operation
from imconv.engine import ConvOptions
from imconv.kernels import load_kernel, preset_names
from imconv.stream import OutputSettings, Planner, Recipe, plan_image, process_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WHOLE = "1000000"

# Presets at settings that show them (as the README's gallery does).
SHOWN = {
    "gaussian": "gaussian:sigma=2",
    "box": "box:size=9",
    "motion": "motion:length=9,angle=30",
    "log": "log:sigma=1.5",
    "dog": "dog:sigma1=1,sigma2=2",
    "binomial": "binomial:order=6",
    "disk": "disk:radius=3",
    "gabor": "gabor:sigma=2,lambda=6",
}


def _image(folder: Path, mode: str = "RGB", size: tuple[int, int] = (61, 47)) -> Path:
    """A crop of a sample in ``mode`` (an alpha ramp for LA and RGBA), saved losslessly."""
    with Image.open(SAMPLES / "chelsea.png") as photo:
        crop = photo.convert("RGB").crop((150, 60, 150 + size[0], 60 + size[1]))
    width, height = size
    if mode in ("LA", "RGBA"):
        ramp = np.linspace(0, 255, width * height).reshape(height, width).astype(np.uint8)
        base = crop.convert(mode[:-1])
        base.putalpha(Image.fromarray(ramp))
        image, suffix = base, ".png"
    elif mode == "I;16":
        deep = np.asarray(crop.convert("L"), dtype=np.uint16) * 257
        image, suffix = Image.fromarray(deep), ".png"
    elif mode == "F":
        image, suffix = Image.fromarray(np.asarray(crop.convert("L"), np.float32) / 7), ".tiff"
    else:
        image, suffix = crop.convert(mode), ".png"
    path = folder / f"in-{mode.replace(';', '')}{suffix}"
    image.save(path)
    return path


def _run(source: Path, output: Path, recipe: Recipe, rows: str, monkeypatch) -> np.ndarray:
    monkeypatch.setenv("IMCONV_BAND_ROWS", rows)
    process_file(str(source), str(output), recipe, Planner(recipe))
    if output.suffix == ".npy":
        return np.load(output)
    with Image.open(output) as image:
        return np.asarray(image)


def _recipe(*kernels: str, correlate: bool = False, **options: object) -> Recipe:
    settings = {key: options.pop(key) for key in ("range_rule", "alpha", "montage")
                if key in options}  # fmt: skip
    conv = ConvOptions(channel_axis=-1, **{"padding": "reflect", **options})
    return Recipe(kernels=tuple(load_kernel(k) for k in kernels), options=conv,
                  operation=Operation.CORRELATE if correlate else Operation.CONVOLVE,
                  output=OutputSettings(overwrite=True, **settings))  # fmt: skip


def _uses_fft(source: Path, recipe: Recipe, suffix: str) -> bool:
    """Whether a step of the recipe runs the FFT on this image (its bands round otherwise)."""
    planned = plan_image(str(source), str(source.with_suffix(f".planned{suffix}")), recipe)
    return any(step.plans.first.algorithm == "fft" for step in planned.steps)


def _same(tmp_path: Path, source: Path, recipe: Recipe, monkeypatch, *, rows: str = "5",
          suffix: str = ".png", tolerance: int = 0) -> np.ndarray:  # fmt: skip
    if rows != "0" and _uses_fft(source, recipe, suffix):
        tolerance = max(tolerance, 1)
    whole = _run(source, tmp_path / f"whole{suffix}", recipe, WHOLE, monkeypatch)
    banded = _run(source, tmp_path / f"banded{suffix}", recipe, rows, monkeypatch)
    assert banded.shape == whole.shape
    if tolerance:
        difference = np.abs(banded.astype(np.int64) - whole.astype(np.int64))
        assert difference.max() <= tolerance
    else:
        np.testing.assert_array_equal(banded, whole)
    return whole


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_in_bands(name: str, tmp_path: Path, monkeypatch) -> None:
    recipe = _recipe(SHOWN.get(name, name))
    _same(tmp_path, _image(tmp_path), recipe, monkeypatch)


GEOMETRY = list(itertools.product(
    ["zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"],
    ["same", "full", "valid"],
    [1, 2, (2, 3)],
))  # fmt: skip


@pytest.mark.parametrize(("padding", "mode", "stride"), GEOMETRY)
def test_every_padding_mode_and_stride_in_bands(
    padding: str, mode: str, stride: object, tmp_path: Path, monkeypatch
) -> None:
    source = _image(tmp_path)
    for kernel, dilation in (("sobel-x", 1), ("box:size=4", 2)):
        recipe = _recipe(kernel, padding=padding, cval=40.0, mode=mode, stride=stride,
                         dilation=dilation)  # fmt: skip
        _same(tmp_path, source, recipe, monkeypatch, rows="3")


@pytest.mark.parametrize("padding", ["reflect", "wrap", "mean", "zero"])
@pytest.mark.parametrize(
    "chain",
    [("sobel-x", "sobel-y"), ("blur", "box:size=5", "sharpen"), ("sobel", "gaussian:sigma=1")],
    ids=["sobel-x-then-y", "three-steps", "set-then-blur"],
)
def test_chains_in_bands(chain: tuple[str, ...], padding: str, tmp_path: Path, monkeypatch) -> None:
    for stride in (1, 2):
        recipe = _recipe(*chain, padding=padding, stride=stride)
        _same(tmp_path, _image(tmp_path), recipe, monkeypatch, rows="4")


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "I;16"])
@pytest.mark.parametrize("alpha", ["auto", "filter", "keep"])
def test_modes_and_alpha_in_bands(mode: str, alpha: str, tmp_path: Path, monkeypatch) -> None:
    source = _image(tmp_path, mode)
    for kernel in ("blur", "sobel-x", "box:size=5"):
        recipe = _recipe(kernel, alpha=alpha, stride=2 if kernel == "box:size=5" else 1)
        _same(tmp_path, source, recipe, monkeypatch)


def test_float_images_stay_raw_in_bands(tmp_path: Path, monkeypatch) -> None:
    source = _image(tmp_path, "F")
    whole = _same(tmp_path, source, _recipe("sobel-x"), monkeypatch, suffix=".tiff")
    assert whole.dtype == np.float32
    assert whole.min() < 0  # the signed response, unmapped
    npy = _same(tmp_path, source, _recipe("log:sigma=1"), monkeypatch, suffix=".npy")
    assert npy.dtype == np.float32


@pytest.mark.parametrize("rule", ["clip", "abs", "offset", "rescale"])
def test_range_rules_in_bands(rule: str, tmp_path: Path, monkeypatch) -> None:
    _same(tmp_path, _image(tmp_path), _recipe("laplacian", range_rule=rule), monkeypatch)


def test_a_bank_and_its_montage_in_bands(tmp_path: Path, monkeypatch) -> None:
    data = Path(__file__).resolve().parent / "data"
    source = _image(tmp_path)
    for montage in (False, True):
        suffix = ".png" if montage else ".tiff"
        settings = OutputSettings(montage=montage, overwrite=True)
        recipe = replace(_recipe(str(data / "bank5.npy")), output=settings)
        _same(tmp_path, source, recipe, monkeypatch, suffix=suffix)


@pytest.mark.parametrize("algorithm", ["direct", "matmul", "fft", "separable"])
def test_every_algorithm_in_bands(algorithm: str, tmp_path: Path, monkeypatch) -> None:
    """matmul's gemv and FFT bands off its overlap-save rows round differently: 1 level."""
    tolerance = 1 if algorithm in ("matmul", "fft") else 0
    source = _image(tmp_path, size=(97, 83))
    for kernel in ("gaussian:sigma=3", "emboss"):
        recipe = _recipe(kernel, algorithm=algorithm)
        _same(tmp_path, source, recipe, monkeypatch, rows="6", tolerance=tolerance)


def test_a_large_photo_in_default_bands_is_the_whole_image(tmp_path: Path, monkeypatch) -> None:
    """The stream's own band height (on the FFT's rows) gives exactly the whole result."""
    source = SAMPLES / "retina.jpg"
    for kernel, algorithm in (("blur", "auto"), ("box:size=31", "fft"), ("sobel", "auto")):
        recipe = _recipe(kernel, algorithm=algorithm)
        _same(tmp_path, source, recipe, monkeypatch, rows="0", suffix=".png")


@pytest.mark.parametrize(
    ("mode", "photo", "depth"),
    [("RGB", {"linear": True}, None), ("RGBA", {"linear": True}, "16"),
     ("RGB", {"channels": "r,b"}, None), ("RGBA", {"channels": "g,a"}, None),
     ("RGB", {"channels": "l"}, "16"), ("L", {"channels": "l", "linear": True}, None)],
    ids=["linear", "linear-alpha-16", "r-b", "g-a", "luma-16", "grey-luma-linear"],
)  # fmt: skip
def test_photo_options_in_bands(mode: str, photo: dict, depth, tmp_path: Path, monkeypatch) -> None:
    source = _image(tmp_path, mode)
    for kernel, stride in (("sharpen", 1), ("gaussian:sigma=1.5", 2)):
        base = _recipe(kernel, stride=stride)
        recipe = replace(base, output=replace(base.output, depth=depth), **photo)
        _same(tmp_path, source, recipe, monkeypatch, rows="4")


@pytest.mark.parametrize(
    ("mode", "photo"), [("RGB", {"channels": "r"}), ("RGBA", {"channels": "g,b"})]
)
def test_channels_only_resampled_take_their_own_means_in_bands(
    mode: str, photo: dict, tmp_path: Path, monkeypatch
) -> None:
    """``mean`` padding in ``full`` mode extends the resampled channels too: each band
    needs their whole image's means, as the filtered channels' do."""
    source = _image(tmp_path, mode)
    recipe = replace(_recipe("box:size=5", padding="mean", mode="full"), **photo)
    _same(tmp_path, source, recipe, monkeypatch, rows="4")
