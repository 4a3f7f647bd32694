"""Missing data and images larger than memory from the command line and imconv.apply:
--nan, --mask, --tiles, --memory, Zarr folders (the engine's and tiles' own tests check
the numbers in depth; these check the options reach them, end to end)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_one_line_error, imconv, read_pixels, small_image
from PIL import Image

import imconv as library
from imconv.images import quantize
from imconv.tiles._budget import resident_bytes

tifffile = pytest.importorskip("tifffile")


def _mask(path: Path, shape: tuple[int, int], hole: tuple[slice, slice]) -> np.ndarray:
    valid = np.ones(shape, dtype=bool)
    valid[hole] = False
    Image.fromarray(np.where(valid, 255, 0).astype(np.uint8)).save(path)
    return valid


def _tiled_tiff(tmp_path: Path, name: str = "tiled.tif") -> tuple[Path, np.ndarray]:
    pixels = read_pixels(small_image(tmp_path, size=(150, 100)))
    path = tmp_path / name
    tifffile.imwrite(path, pixels, tile=(32, 32), photometric="rgb")
    return path, pixels


@pytest.mark.parametrize("band_rows", [None, "7"])
def test_mask_fills_the_hole_from_valid_neighbours_as_the_engine_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, band_rows: str | None
) -> None:
    if band_rows:
        monkeypatch.setenv("IMCONV_BAND_ROWS", band_rows)
    photo = small_image(tmp_path, size=(90, 70))
    pixels = read_pixels(photo)
    valid = _mask(tmp_path / "mask.png", pixels.shape[:2], (slice(20, 26), slice(30, 41)))
    out = tmp_path / "out.png"
    library.apply("box:size=5", photo, output=out, mask=tmp_path / "mask.png", check=True)
    kernel = library.load_kernel("box:size=5").weights
    expected = library.convolve(pixels.astype(np.float32), kernel, padding="reflect",
                                channel_axis=-1, nan="ignore", mask=valid)  # fmt: skip
    np.testing.assert_array_equal(read_pixels(out), quantize(expected, max_value=255.0))
    # The hole is filled (a 5x5 box reaches 2 pixels in): its rim takes the neighbours'.
    assert np.abs(read_pixels(out)[20, 35].astype(int) - pixels[18, 35]).max() < 60


def test_mask_from_the_command_line_and_its_errors(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(90, 70))
    _mask(tmp_path / "mask.png", (70, 90), (slice(20, 26), slice(30, 41)))
    imconv("apply", "blur", photo, "--mask", tmp_path / "mask.png", "-o", tmp_path / "m.png")
    plain = tmp_path / "plain.png"
    imconv("apply", "blur", photo, "-o", plain)
    masked = read_pixels(tmp_path / "m.png").astype(int)
    assert (masked != read_pixels(plain)).any()
    _mask(tmp_path / "small.png", (10, 10), (slice(0, 1), slice(0, 1)))
    result = imconv("apply", "blur", photo, "--mask", tmp_path / "small.png", "-o",
                    tmp_path / "x.png", expect=1)  # fmt: skip
    assert_one_line_error(result.stderr, "is 10x10 pixels and")
    result = imconv("apply", "blur", photo, "--mask", tmp_path / "none.png", "-o",
                    tmp_path / "x.png", expect=1)  # fmt: skip
    assert_one_line_error(result.stderr, "the mask: cannot read", "none.png': no such file")
    result = imconv("apply", "blur", photo, "--mask", tmp_path / "mask.png", "--nan",
                    "propagate", "-o", tmp_path / "x.png", expect=2)  # fmt: skip
    assert_one_line_error(result.stderr, "--nan must be 'ignore' with a mask")
    assert not (tmp_path / "x.png").exists()


def test_nan_ignore_on_a_float_tiff(tmp_path: Path) -> None:
    values = np.random.default_rng(5).random((40, 50)).astype(np.float32)
    values[10:13, 20:24] = np.nan
    source = tmp_path / "float.tif"
    Image.fromarray(values, mode="F").save(source)
    imconv("apply", "box:size=5", source, "-o", tmp_path / "ignore.tif", "--nan", "ignore")
    imconv("apply", "box:size=5", source, "-o", tmp_path / "propagate.tif")
    ignore = np.asarray(Image.open(tmp_path / "ignore.tif"))
    propagate = np.asarray(Image.open(tmp_path / "propagate.tif"))
    assert ignore.dtype == np.float32
    assert not np.isnan(ignore).any()
    assert np.isnan(propagate).sum() == (3 + 4) * (4 + 4)  # each NaN spreads 2 a side
    expected = library.convolve(values, np.full((5, 5), 1 / 25), padding="reflect",
                                nan="ignore")  # fmt: skip
    np.testing.assert_allclose(ignore, expected, rtol=1e-5, atol=1e-6)


def test_tiles_from_the_command_line_equal_the_stream_and_report_the_cut(tmp_path: Path) -> None:
    source, _ = _tiled_tiff(tmp_path)
    report = tmp_path / "report.json"
    imconv("apply", "gaussian:sigma=2", source, "--tiles", "-o", tmp_path / "tiled_out.tif",
           "--report", report)  # fmt: skip
    imconv("apply", "gaussian:sigma=2", source, "-o", tmp_path / "stream_out.tif")
    tiled = tifffile.imread(tmp_path / "tiled_out.tif")
    np.testing.assert_array_equal(tiled, tifffile.imread(tmp_path / "stream_out.tif"))
    with tifffile.TiffFile(tmp_path / "tiled_out.tif") as written:
        assert written.pages[0].is_tiled
    (image,) = json.loads(report.read_text())["images"]
    assert image["tiles"]["strips"] >= 1
    assert image["tiles"]["scheduler"] == "threads"


def test_a_memory_budget_sends_a_tiff_by_tiles_and_refuses_a_png(tmp_path: Path) -> None:
    _, pixels = _tiled_tiff(tmp_path)
    source = tmp_path / "large.tif"  # 4050x3000: the stream would hold 2 x 49 MB
    tifffile.imwrite(source, np.tile(pixels, (30, 27, 1)), tile=(256, 256), photometric="rgb")
    budget = resident_bytes() + 60 * 1024 * 1024  # strips fit in it, the stream does not
    result = library.apply("blur", source, output=tmp_path / "out.tif", memory=budget)
    assert result.exit_status == 0, result.errors
    assert result.records[0].tiling() is not None
    result = library.apply("blur", source, output=tmp_path / "whole.tif")
    assert result.records[0].tiling() is None  # the default budget holds it
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "out.tif"), tifffile.imread(tmp_path / "whole.tif")
    )
    photo = small_image(tmp_path, size=(90, 70))
    failed = imconv("apply", "blur", photo, "--memory", "1KiB", "-o", tmp_path / "x.png",
                    expect=1)  # fmt: skip
    assert "tiled TIFF" in failed.stderr
    assert not (tmp_path / "x.png").exists()
    bad = imconv("apply", "blur", photo, "--memory", "lots", expect=2)
    assert_one_line_error(bad.stderr, "--memory must be a positive size")


def test_a_zarr_folder_is_one_image(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    source, pixels = _tiled_tiff(tmp_path)
    array = zarr.create_array(tmp_path / "in.zarr", shape=pixels.shape, chunks=(32, 32, 3),
                              dtype="uint8")  # fmt: skip
    array[:] = pixels
    imconv("apply", "blur", tmp_path / "in.zarr")  # beside it: in_blur.zarr
    imconv("apply", "blur", source, "-o", tmp_path / "from_tiff.tif")
    written = zarr.open_array(tmp_path / "in_blur.zarr")[:]
    np.testing.assert_array_equal(written, tifffile.imread(tmp_path / "from_tiff.tif"))


def test_a_tiled_image_reports_each_strip_to_the_listener(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = _tiled_tiff(tmp_path)
    seen: list[library.tiles.TileProgress] = []

    class Listener:
        def start(self, batch: object) -> None: ...
        def advance(self, outcome: object) -> None: ...
        def stop(self) -> None: ...
        def strips(self, progress: library.tiles.TileProgress) -> None:
            seen.append(progress)

    monkeypatch.setenv("IMCONV_BAND_ROWS", "16")
    out = tmp_path / "out.tif"
    result = library.apply("gaussian:sigma=2", source, output=out, tiles=True,
                           padding="mean", listener=Listener())  # fmt: skip
    assert result.exit_status == 0, result.error
    phases = [p.phase for p in seen]
    assert phases[0] == "means"
    assert phases[-1] == "filter"
    last = seen[-1]
    assert last.done == last.total
    assert last.tiles_done == last.tiles_total
    done = [p.done for p in seen if p.phase == "filter"]
    assert done == list(range(1, last.total + 1))


def test_the_progress_bar_shows_the_strips_of_a_tiled_image() -> None:
    from rich.console import Console

    from imconv.report import BatchProgress
    from imconv.tiles import TileProgress

    console = Console(record=True, force_terminal=True, width=100)
    bar = BatchProgress(console, bar=True, lines=False)
    for done in range(1, 5):
        bar.strips(TileProgress("filter", done, 4, done * 3, 12, done * 2.5, done * 0.1))
    assert bar.progress is not None
    (task,) = bar.progress.tasks
    assert (task.description, task.completed, task.total) == ("strips", 4, 4)
    bar.strips(TileProgress("filter", 1, 9, 1, 20, 1.0, 0.1))  # the next image: a new row
    (task,) = bar.progress.tasks
    assert (task.completed, task.total) == (1, 9)
    bar.stop()
    assert bar.progress is None
