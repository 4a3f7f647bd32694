"""Kernel files and strings mean what their home tool means: imconv against libvips
(``vips conv``, ``vips compass``) and ImageMagick (``convert -morphology Convolve``) on a
crop of a real photograph.

The tools' outputs are recorded in tests/data (``vips_*_coffee.npy``, ``im_*_coffee.npy``),
so the main assertions run without the tools; where a tool is installed (Debian's
``libvips-tools``, ``imagemagick``) it is run live and must still give the recording.
Re-record with ``python tests/test_kernel_oracles.py`` (both tools needed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imconv.engine import convolve
from imconv.kernels import Kernel, load_kernel
from imconv.kernels._generators import compass

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
COMPASS = {"times": 3, "angle": 45, "combine": "sum"}
KIRSCH_SCALE = 1 / 16  # ImageMagick is Q16 without HDRI: keep the responses below 65535
LIST = "3x3: 1,2,1 0,2,0 0,1,1 ; 3x3+0+0: 0,1,0 3,1,0 1,1,1"
ORIGIN = "4x2+3+0: 1,2,3,4 5,6,7,8"  # asymmetric, even, origin at the top-right tap


def crop() -> np.ndarray:
    """24x24 grey pixels of samples/coffee.png (uint8)."""
    with Image.open(SAMPLES / "coffee.png") as image:
        return np.asarray(image.convert("L"))[100:124, 200:224]


# --- the tools, run live ------------------------------------------------------------------


def _run(tool: str, *args: object) -> None:
    subprocess.run([tool, *map(str, args)], check=True, capture_output=True, timeout=60)


def vips_conv(folder: Path) -> np.ndarray:
    _run("vips", "conv", folder / "in.png", folder / "o.v", DATA / "vips_conv.mat",
         "--precision", "float")  # fmt: skip
    _run("vips", "copy", folder / "o.v", folder / "o.tif")
    return np.asarray(Image.open(folder / "o.tif"), dtype=np.float32)


def vips_compass(folder: Path) -> np.ndarray:
    _run("vips", "compass", folder / "in.png", folder / "c.v", DATA / "vips_compass.mat",
         "--times", COMPASS["times"], "--angle", f"d{COMPASS['angle']}",
         "--combine", COMPASS["combine"], "--precision", "float")  # fmt: skip
    _run("vips", "copy", folder / "c.v", folder / "c.tif")
    return np.asarray(Image.open(folder / "c.tif"), dtype=np.float32)


def _convert(folder: Path, *args: str) -> np.ndarray:
    _run("convert", folder / "in.png", *args, "-depth", "16", folder / "m.png")
    return np.asarray(Image.open(folder / "m.png"), dtype=np.uint16)


def im_kirsch(folder: Path) -> np.ndarray:
    scale = f"convolve:scale={KIRSCH_SCALE}"
    lighten = "morphology:compose=Lighten"
    return _convert(
        folder, "-define", scale, "-define", lighten, "-morphology", "Convolve", "Kirsch:@"
    )


def im_list(folder: Path) -> np.ndarray:
    """The default compose: each kernel (scaled to sum 1) applied to the last result."""
    return _convert(folder, "-define", "convolve:scale=0.125", "-morphology", "Convolve", LIST)


def im_origin(folder: Path) -> np.ndarray:
    return _convert(folder, "-define", "convolve:scale=!", "-morphology", "Convolve", ORIGIN)


TOOLS: dict[str, tuple[str, Callable[[Path], np.ndarray]]] = {
    "im_origin_coffee.npy": ("convert", im_origin),
    "vips_conv_coffee.npy": ("vips", vips_conv),
    "vips_compass_coffee.npy": ("vips", vips_compass),
    "im_kirsch_coffee.npy": ("convert", im_kirsch),
    "im_list_coffee.npy": ("convert", im_list),
}


def _real_convert() -> bool:
    """True when ``convert`` is ImageMagick itself (some machines have a stand-in)."""
    found = shutil.which("convert")
    if found is None:
        return False
    done = subprocess.run([found, "-version"], capture_output=True, text=True, check=False)
    return done.stdout.startswith("Version: ImageMagick")


def _installed(tool: str) -> bool:
    return _real_convert() if tool == "convert" else shutil.which(tool) is not None


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_the_recording_is_what_the_tool_gives_today(name: str, tmp_path: Path) -> None:
    tool, run = TOOLS[name]
    if not _installed(tool):
        pytest.skip(f"{tool} is not installed (apt-get install libvips-tools imagemagick)")
    Image.fromarray(crop()).save(tmp_path / "in.png")
    np.testing.assert_array_equal(run(tmp_path), np.load(DATA / name))


@pytest.mark.parametrize("name", ["im_kirsch.txt", "im_named.txt", "im_rotations.txt",
                                  "im_flags.txt"])  # fmt: skip
def test_the_recorded_kernel_listings_are_imagemagicks(name: str) -> None:
    """tests/data/im_*.txt: ``=== KERNEL`` then ImageMagick's ``showKernel`` listing."""
    if not _installed("convert"):
        pytest.skip("ImageMagick is not installed (apt-get install imagemagick)")
    recorded = (DATA / name).read_text()
    for block in recorded.split("=== ")[1:]:
        kernel, _, listing = block.partition("\n")
        done = subprocess.run(["convert", "xc:", "-define", "morphology:showKernel=1",
                               "-morphology", "Convolve", kernel, "null:"],
                              capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
        assert done.stderr + done.stdout == listing, kernel


# --- imconv against the recordings ---------------------------------------------------------


def test_a_mat_file_gives_vips_conv() -> None:
    """``vips conv`` correlates, extending the image by its edge pixels; imconv flips the
    matrix on load, so its default (convolution) gives the same image."""
    kernel = load_kernel(DATA / "vips_conv.mat")
    ours = convolve(crop().astype(np.float64), kernel.weights, padding="replicate")
    ours = ours + float(kernel.bias)
    np.testing.assert_allclose(ours, np.load(DATA / "vips_conv_coffee.npy"), atol=1e-4)


def test_correlating_the_flipped_mat_is_a_libvips_convolution_the_other_way() -> None:
    kernel = load_kernel(DATA / "vips_conv.mat")
    from imconv.engine import correlate

    image = crop().astype(np.float64)
    flipped_back = kernel.weights[::-1, ::-1]
    np.testing.assert_allclose(correlate(image, flipped_back, padding="replicate"),
                               convolve(image, kernel.weights, padding="replicate"),
                               atol=1e-9)  # fmt: skip


def test_compass_of_a_mat_file_gives_vips_compass() -> None:
    made = compass(kernel=load_kernel(DATA / "vips_compass.mat").weights, **COMPASS)
    kernel = Kernel(made.weights, "compass", combine=made.combine, absolute=made.absolute)
    image = crop().astype(np.float64)
    ours = kernel.combine_responses(convolve(image, p, padding="replicate") for p in kernel.parts)
    np.testing.assert_allclose(ours, np.load(DATA / "vips_compass_coffee.npy"), atol=1e-4)


def test_kirsch_gives_imagemagicks_lighten_of_kirsch() -> None:
    kernel = load_kernel("kirsch")
    image = crop().astype(np.float64) * 257  # 8-bit to ImageMagick's 16-bit quantum
    responses = (convolve(image, p * KIRSCH_SCALE, padding="replicate") for p in kernel.parts)
    ours = np.clip(np.rint(kernel.combine_responses(responses)), 0, 65535)
    theirs = np.load(DATA / "im_kirsch_coffee.npy").astype(np.float64)
    assert np.abs(ours - theirs).max() <= 1  # ImageMagick rounds to its quantum


def test_an_imagemagick_kernel_with_an_origin_gives_its_convolve() -> None:
    """``convolve:scale=!`` divides the kernel by its sum (36)."""
    kernel = load_kernel(ORIGIN)
    image = crop().astype(np.float64) * 257
    ours = np.rint(convolve(image, kernel.weights / 36, padding="replicate"))
    theirs = np.load(DATA / "im_origin_coffee.npy").astype(np.float64)
    assert np.abs(ours - theirs).max() <= 1


def test_an_imagemagick_list_gives_its_default_compose() -> None:
    """By default ImageMagick applies a list's kernels in turn; imconv reads the list as
    that one kernel. Equal away from the border (ImageMagick re-pads after each kernel)."""
    kernel = load_kernel(LIST)
    image = crop().astype(np.float64) * 257
    ours = np.rint(convolve(image, kernel.weights / 64, padding="replicate"))
    theirs = np.load(DATA / "im_list_coffee.npy").astype(np.float64)
    assert np.abs(ours - theirs)[4:-4, 4:-4].max() <= 1


def record() -> None:
    """Run every tool on the crop and save its output into tests/data."""
    with tempfile.TemporaryDirectory() as folder:
        Image.fromarray(crop()).save(Path(folder) / "in.png")
        for name, (_, run) in TOOLS.items():
            np.save(DATA / name, run(Path(folder)))


if __name__ == "__main__":
    record()
    sys.exit(0)
