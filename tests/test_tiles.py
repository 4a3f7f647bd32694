"""Tiles give the stream's samples, byte for byte.

Every case writes the same pixels twice: as a tiled TIFF (small tiles), filtered by
:func:`imconv.tiles.filter_tiled` with small strips and bands forced (so that every strip
edge, band edge and tile edge, and the image's own border, are crossed), and losslessly as
PNG (or TIFF for floats), filtered by :func:`imconv.stream.process_file` in one band (the
engine on the whole image). The stored samples must be identical.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from imconv.choices import Operation
from imconv.engine import ConvOptions
from imconv.kernels import load_kernel, preset_names
from imconv.stream import OutputSettings, Planner, Recipe, process_file
from imconv.tiles import filter_tiled

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DATA = Path(__file__).resolve().parent / "data"
WHOLE = "1000000"

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


def photo(height: int, width: int, mode: str = "RGB") -> np.ndarray:
    """Samples of ``mode`` from a sample photo, repeated (mirrored) to ``height x width``;
    an alpha ramp for LA and RGBA, 16-bit grey for I;16, floats for F."""
    with Image.open(SAMPLES / "chelsea.png") as image:
        rgb = np.asarray(image.convert("RGB"))
    reps = (-(-height // rgb.shape[0]), -(-width // rgb.shape[1]), 1)
    tiled = np.tile(np.concatenate([rgb, rgb[::-1]], axis=0), reps)[:height, :width]
    grey = np.asarray(Image.fromarray(tiled).convert("L"))
    ramp = np.linspace(0, 255, height * width).reshape(height, width).astype(np.uint8)
    if mode == "RGB":
        return np.ascontiguousarray(tiled)
    if mode == "RGBA":
        return np.dstack([tiled, ramp])
    if mode == "L":
        return grey
    if mode == "LA":
        return np.dstack([grey, ramp])
    if mode == "I;16":
        return grey.astype(np.uint16) * 257
    if mode == "F":
        return grey.astype(np.float32) / 7
    raise ValueError(mode)


def save_pair(folder: Path, pixels: np.ndarray, mode: str, *, tile: int = 32) -> tuple[Path, Path]:
    """The pixels as a tiled TIFF, and as the file the stream reads (PNG; TIFF for F)."""
    folder.mkdir(parents=True, exist_ok=True)
    tiled = folder / f"in-{mode.replace(';', '')}.tif"
    colour = pixels.ndim == 3 and pixels.shape[2] >= 3
    options = {
        "tile": (tile, tile),
        "photometric": "rgb" if colour else "minisblack",
        "extrasamples": ["unassalpha"] if mode in ("LA", "RGBA") else None,
        "planarconfig": "contig" if pixels.ndim == 3 else None,
    }
    tifffile.imwrite(tiled, pixels, **options)
    if mode == "F":
        plain = folder / "in-F.tiff"
        Image.fromarray(pixels).save(plain)
    else:
        plain = folder / f"in-{mode.replace(';', '')}.png"
        Image.fromarray(pixels, mode=None if mode != "LA" else "LA").save(plain)
    return tiled, plain


def recipe(*kernels: str, correlate: bool = False, **options: object) -> Recipe:
    settings = {key: options.pop(key) for key in ("range_rule", "alpha") if key in options}
    conv = ConvOptions(channel_axis=-1, **{"padding": "reflect", **options})
    return Recipe(kernels=tuple(load_kernel(k) for k in kernels), options=conv,
                  operation=Operation.CORRELATE if correlate else Operation.CONVOLVE,
                  output=OutputSettings(overwrite=True, **settings))  # fmt: skip


def read(path: Path) -> np.ndarray:
    """Stored samples of an output: TIFF (pages as channels, (H, W, C)) read by tifffile,
    others as Pillow gives them."""
    if path.suffix in (".tif", ".tiff"):
        with tifffile.TiffFile(path) as tiff:
            pages = len(tiff.pages)
        if pages > 1:
            return np.moveaxis(tifffile.imread(path, key=range(pages)), 0, -1)
        return tifffile.imread(path)
    with Image.open(path) as image:
        return np.asarray(image)


def stream(plain: Path, out: Path, chain: Recipe, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    monkeypatch.setenv("IMCONV_BAND_ROWS", WHOLE)
    process_file(str(plain), str(out), chain, Planner(chain))
    return read(out)


def tiled(source: Path, out: Path, chain: Recipe, **cut: object) -> np.ndarray:
    options = {"chunk_rows": 12, "band_rows": 4, "tile": 16, "memory": "2GiB", **cut}
    filter_tiled(source, out, chain, **options)
    return read(out)


def same(folder: Path, pair: tuple[Path, Path], chain: Recipe, monkeypatch: pytest.MonkeyPatch,
         *, suffix: str = ".png", tolerance: int = 0, **cut: object) -> np.ndarray:  # fmt: skip
    whole = stream(pair[1], folder / f"stream{suffix}", chain, monkeypatch)
    got = tiled(pair[0], folder / "tiles.tif", chain, **cut)
    got = got[..., 0] if got.ndim == 3 and whole.ndim == 2 else got
    assert got.shape == whole.shape
    assert got.dtype == whole.dtype
    if tolerance:
        assert np.abs(got.astype(np.float64) - whole.astype(np.float64)).max() <= tolerance
    else:
        np.testing.assert_array_equal(got, whole)
    return whole


@pytest.fixture(scope="module")
def rgb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return save_pair(tmp_path_factory.mktemp("rgb"), photo(61, 47), "RGB", tile=16)


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_on_tiles(name: str, rgb: tuple[Path, Path], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    same(tmp_path, rgb, recipe(SHOWN.get(name, name)), monkeypatch)


GEOMETRY = list(itertools.product(
    ["zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"],
    ["same", "full", "valid"],
    [1, 2, (2, 3)],
))  # fmt: skip


@pytest.mark.parametrize(("padding", "mode", "stride"), GEOMETRY)
def test_every_padding_mode_and_stride_on_tiles(
    padding: str, mode: str, stride: object, rgb: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for kernel, dilation in (("sobel-x", 1), ("box:size=4", 2)):
        chain = recipe(kernel, padding=padding, cval=40.0, mode=mode, stride=stride,
                       dilation=dilation)  # fmt: skip
        same(tmp_path, rgb, chain, monkeypatch, chunk_rows=6, band_rows=2)


@pytest.mark.parametrize("padding", ["reflect", "wrap", "mean", "zero"])
@pytest.mark.parametrize(
    "chain",
    [("sobel-x", "sobel-y"), ("blur", "box:size=5", "sharpen"), ("sobel", "gaussian:sigma=1")],
    ids=["sobel-x-then-y", "three-steps", "set-then-blur"],
)
def test_chains_on_tiles(chain: tuple[str, ...], padding: str, rgb: tuple[Path, Path],
                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    for stride in (1, 2):
        same(tmp_path, rgb, recipe(*chain, padding=padding, stride=stride), monkeypatch)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "I;16"])
@pytest.mark.parametrize("alpha", ["auto", "filter", "keep"])
def test_modes_and_alpha_on_tiles(mode: str, alpha: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    pair = save_pair(tmp_path / "in", photo(53, 45, mode), mode, tile=16)
    for kernel in ("blur", "sobel-x", "box:size=5"):
        chain = recipe(kernel, alpha=alpha, stride=2 if kernel == "box:size=5" else 1)
        same(tmp_path, pair, chain, monkeypatch)


def test_alpha_kept_with_mean_padding_on_tiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alpha resampled apart with ``mean`` padding uses alpha's own means."""
    pair = save_pair(tmp_path / "in", photo(53, 45, "RGBA"), "RGBA", tile=16)
    same(tmp_path, pair, recipe("sobel-x", padding="mean", mode="full"), monkeypatch)


def test_float_images_stay_raw_on_tiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pair = save_pair(tmp_path / "in", photo(53, 45, "F"), "F", tile=16)
    whole = same(tmp_path, pair, recipe("sobel-x"), monkeypatch, suffix=".tiff")
    assert whole.dtype == np.float32
    assert whole.min() < 0  # the signed response, unmapped


@pytest.mark.parametrize("rule", ["clip", "abs", "offset", "rescale"])
def test_range_rules_on_tiles(rule: str, rgb: tuple[Path, Path], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    same(tmp_path, rgb, recipe("laplacian", range_rule=rule), monkeypatch)


def test_a_bank_on_tiles(rgb: tuple[Path, Path], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Five maps: float samples, one TIFF page each from the stream, five samples here."""
    chain = recipe(str(DATA / "bank5.npy"))
    whole = same(tmp_path, rgb, chain, monkeypatch, suffix=".tiff")
    assert whole.shape[-1] == 5


@pytest.mark.parametrize("algorithm", ["direct", "matmul", "fft", "separable"])
def test_every_algorithm_on_tiles(algorithm: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The FFT's bands start on its overlap-save rows (the band is rounded up to them), so
    it is exact too; matmul's gemv rounds by band (1 level), as in the stream."""
    tolerance = 1 if algorithm == "matmul" else 0
    pair = save_pair(tmp_path / "in", photo(97, 83), "RGB", tile=16)
    for kernel in ("gaussian:sigma=3", "emboss"):
        chain = recipe(kernel, algorithm=algorithm)
        same(tmp_path, pair, chain, monkeypatch, chunk_rows=20, band_rows=10,
             tolerance=tolerance)  # fmt: skip


def test_correlation_on_tiles(rgb: tuple[Path, Path], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    same(tmp_path, rgb, recipe("emboss", "box:size=2", correlate=True), monkeypatch)


def test_a_photo_thousands_of_pixels_a_side(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """3000 x 2000 RGB in 256-pixel tiles, strips of 192 rows and the budget's bands."""
    pair = save_pair(tmp_path / "in", photo(2000, 3000), "RGB", tile=256)
    for kernel, padding in (("gaussian:sigma=2", "reflect"), ("sobel", "wrap")):
        chain = recipe(kernel, padding=padding)
        same(tmp_path, pair, chain, monkeypatch, chunk_rows=192, band_rows=None, tile=256)


def test_the_cut_does_not_change_the_samples(rgb: tuple[Path, Path], tmp_path: Path) -> None:
    chain = recipe("gaussian:sigma=1.5", "sharpen")
    first = tiled(rgb[0], tmp_path / "a.tif", chain, chunk_rows=3, band_rows=1, tile=16)
    second = tiled(rgb[0], tmp_path / "b.tif", chain, chunk_rows=None, band_rows=None, tile=48)
    np.testing.assert_array_equal(first, second)


def test_autotuned_plans_are_recorded(rgb: tuple[Path, Path], tmp_path: Path) -> None:
    chain = replace(recipe("gaussian:sigma=2"), autotune=True)
    record = filter_tiled(rgb[0], tmp_path / "out.tif", chain, memory="1GiB",
                          planner=Planner(chain, store={}))  # fmt: skip
    step = next(stage for stage in record.stages if stage.stage.startswith("step 1"))
    assert step.algorithm in ("direct", "matmul", "fft", "separable")
    assert record.tuned or "cache" in (step.reason or "")
