"""Tiled files in and out: every TIFF layout and Zarr read alike, outputs whole or not at
all, clear errors, the budget and the record."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from PIL import Image
from test_tiles import photo, recipe, save_pair, stream

from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    OutputExistsError,
    ResourceError,
)
from imconv.tiles import (
    DEFAULT_FRACTION,
    TileProgress,
    filter_tiled,
    filtered_array,
    needs_tiles,
    open_array,
    open_tiled,
    parse_memory,
)

CUT = {"chunk_rows": 16, "band_rows": 8, "tile": 16, "memory": "1GiB"}


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    return photo(83, 71)


@pytest.fixture(scope="module")
def reference(pixels: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """What the tiles of ``pixels`` filtered by gaussian:sigma=2 must be."""
    folder = tmp_path_factory.mktemp("reference")
    tiff, _ = save_pair(folder, pixels, "RGB", tile=16)
    filter_tiled(tiff, folder / "out.tif", recipe("gaussian:sigma=2"), **CUT)
    return tifffile.imread(folder / "out.tif")


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


@pytest.mark.parametrize(
    "layout",
    ["tiled", "striped", "one-strip", "planar", "deflate", "lzw", "zstd", "big-endian", "ome",
     "classic-tiff", "jpeg"],
)  # fmt: skip
def test_every_tiff_layout_reads_alike(layout: str, pixels: np.ndarray, reference: np.ndarray,
                                       tmp_path: Path) -> None:  # fmt: skip
    source = tmp_path / "in.tif"
    options: dict = {"photometric": "rgb", "bigtiff": layout != "classic-tiff"}
    data = pixels
    if layout in ("tiled", "deflate", "lzw", "zstd", "big-endian", "classic-tiff", "jpeg"):
        options["tile"] = (32, 48)
    if layout == "striped":
        options["rowsperstrip"] = 7
    if layout == "planar":
        options |= {"planarconfig": "separate", "tile": (16, 16)}
        data = np.moveaxis(pixels, -1, 0)
    if layout in ("deflate", "lzw", "zstd"):
        options["compression"] = {"deflate": "zlib"}.get(layout, layout)
    if layout == "big-endian":
        options["byteorder"] = ">"
    if layout == "ome":
        options = {"photometric": "rgb", "tile": (16, 16), "ome": True}
    if layout == "jpeg":  # lossy: the tiles read what the decoder gives
        options["compression"] = "jpeg"
    tifffile.imwrite(source, data, **options)
    image = open_tiled(source)
    assert (image.height, image.width, image.channels, image.mode) == (83, 71, 3, "RGB")
    filter_tiled(source, tmp_path / "out.tif", recipe("gaussian:sigma=2"), **CUT)
    got = tifffile.imread(tmp_path / "out.tif")
    if layout == "jpeg":
        assert np.abs(got.astype(int) - reference).mean() < 4
    else:
        np.testing.assert_array_equal(got, reference)


def test_one_strip_tiffs_are_read_by_rows(pixels: np.ndarray, tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb")
    image = open_tiled(tmp_path / "in.tif")
    assert image.contiguous is not None
    assert image.read_rows == 1


def test_zarr_in_and_out_equal_tiff(pixels: np.ndarray, reference: np.ndarray,
                                   tmp_path: Path) -> None:  # fmt: skip
    source = tmp_path / "in.zarr"
    zarr.create_array(store=str(source), data=pixels, chunks=(20, 30, 3))
    assert needs_tiles(source, "1GiB")  # a Zarr folder always goes tile by tile
    filter_tiled(source, tmp_path / "out.tif", recipe("gaussian:sigma=2"), **CUT)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tif"), reference)
    filter_tiled(source, tmp_path / "out.zarr", recipe("gaussian:sigma=2"), **CUT)
    written = zarr.open_array(str(tmp_path / "out.zarr"), mode="r")
    assert written.chunks == (16, 16, 3)
    np.testing.assert_array_equal(written[:], reference)
    assert open_tiled(tmp_path / "out.zarr").photometric == "rgb"


def test_grey_zarr_of_two_axes(tmp_path: Path) -> None:
    grey = photo(40, 30, "L")
    zarr.create_array(store=str(tmp_path / "in.zarr"), data=grey, chunks=(8, 8))
    tifffile.imwrite(tmp_path / "in.tif", grey, tile=(16, 16))
    filter_tiled(tmp_path / "in.zarr", tmp_path / "a.tif", recipe("sharpen"), **CUT)
    filter_tiled(tmp_path / "in.tif", tmp_path / "b.tif", recipe("sharpen"), **CUT)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "a.tif"),
                                  tifffile.imread(tmp_path / "b.tif"))  # fmt: skip


@pytest.mark.parametrize("compression", ["none", "deflate", "zstd", "lzw"])
def test_outputs_are_tiled_bigtiff_with_the_input_photometric(
    compression: str, pixels: np.ndarray, reference: np.ndarray, tmp_path: Path
) -> None:
    profile = Image.new("RGB", (1, 1)).info.get("icc_profile") or b"\0" * 128
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", tile=(16, 16),
                     iccprofile=profile)  # fmt: skip
    out = tmp_path / "out.tif"
    filter_tiled(tmp_path / "in.tif", out, recipe("gaussian:sigma=2"),
                 compression=compression, **{**CUT, "tile": 32})  # fmt: skip
    with tifffile.TiffFile(out) as tiff:
        page = tiff.pages[0]
        assert tiff.is_bigtiff
        assert (page.tilelength, page.tilewidth) == (32, 32)
        assert page.photometric == tifffile.PHOTOMETRIC.RGB
        assert page.compression.name.lower() in {
            "none": ("none",), "deflate": ("adobe_deflate", "deflate"),
            "zstd": ("zstd",), "lzw": ("lzw",)}[compression]  # fmt: skip
        assert page.iccprofile == profile
        np.testing.assert_array_equal(page.asarray(), reference)


def test_alpha_is_written_as_unassociated_alpha(tmp_path: Path) -> None:
    tiff, _ = save_pair(tmp_path, photo(40, 30, "RGBA"), "RGBA", tile=16)
    filter_tiled(tiff, tmp_path / "out.tif", recipe("blur"), **CUT)
    with tifffile.TiffFile(tmp_path / "out.tif") as out:
        assert out.pages[0].extrasamples == (tifffile.EXTRASAMPLE.UNASSALPHA,)
        assert out.pages[0].shape == (40, 30, 4)
    assert open_tiled(tmp_path / "out.tif").alpha


def test_sixteen_bit_colour_keeps_its_depth(tmp_path: Path) -> None:
    """Layouts the stream does not read (16-bit RGB) are filtered channel by channel and
    stored in their type, rounded like the stream rounds 16-bit grey."""
    deep = photo(40, 30).astype(np.uint16) * 257
    tifffile.imwrite(tmp_path / "in.tif", deep, photometric="rgb", tile=(16, 16))
    filter_tiled(tmp_path / "in.tif", tmp_path / "out.tif", recipe("blur"), **CUT)
    got = tifffile.imread(tmp_path / "out.tif")
    for channel in range(3):
        tifffile.imwrite(tmp_path / "grey.tif", deep[..., channel], tile=(16, 16))
        filter_tiled(tmp_path / "grey.tif", tmp_path / "one.tif", recipe("blur"),
                     **CUT | {"memory": "1GiB"})  # fmt: skip
        np.testing.assert_array_equal(got[..., channel], tifffile.imread(tmp_path / "one.tif"))
    assert got.dtype == np.uint16


@pytest.mark.parametrize(
    ("options", "reader"),
    [({"linear": True}, None), ({"channels": "r,b"}, None), ({"channels": "l"}, None),
     ({"depth": "32f"}, "tiff"), ({"depth": "16"}, "png16")],
)  # fmt: skip
def test_photo_options_on_tiles(options: dict, reader: str | None, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from dataclasses import replace

    tiff, plain = save_pair(tmp_path / "in", photo(47, 39), "RGB", tile=16)
    chain = recipe("gaussian:sigma=1.5")
    settings = {k: v for k, v in options.items() if k == "depth"}
    chain = replace(chain, **{k: v for k, v in options.items() if k != "depth"},
                    output=replace(chain.output, **settings))  # fmt: skip
    suffix = {"tiff": ".tiff", "png16": ".png"}.get(reader or "", ".png")
    if reader == "png16":
        import imagecodecs

        monkeypatch.setenv("IMCONV_BAND_ROWS", "1000000")
        from imconv.stream import Planner, process_file

        process_file(str(plain), str(tmp_path / "s.png"), chain, Planner(chain))
        whole = imagecodecs.png_decode((tmp_path / "s.png").read_bytes())
    else:
        whole = stream(plain, tmp_path / f"s{suffix}", chain, monkeypatch)
    filter_tiled(tiff, tmp_path / "t.tif", chain, **CUT)
    got = tifffile.imread(tmp_path / "t.tif")
    assert got.dtype == whole.dtype
    np.testing.assert_array_equal(got, whole)


def test_lazy_arrays(pixels: np.ndarray, tmp_path: Path) -> None:
    tiff, _ = save_pair(tmp_path, pixels, "RGB", tile=16)
    source = open_array(tiff, rows=20)
    assert source.chunks[0] == (32, 32, 19)
    np.testing.assert_array_equal(source.compute(), pixels)
    chain = recipe("gaussian:sigma=2", algorithm="direct")
    result = filtered_array(tiff, chain, chunk_rows=16, band_rows=8)
    assert result.chunks[0] == (16, 16, 16, 16, 16, 3)
    filter_tiled(tiff, tmp_path / "out.tif", chain, **CUT)
    expected = tifffile.imread(tmp_path / "out.tif")
    np.testing.assert_array_equal(result.compute(scheduler="threads"), expected)


def test_progress_and_record(pixels: np.ndarray, tmp_path: Path) -> None:
    tiff, _ = save_pair(tmp_path, pixels, "RGB", tile=16)
    seen: list[TileProgress] = []
    chain = recipe("gaussian:sigma=2", padding="mean", range_rule="rescale", algorithm="direct")
    record = filter_tiled(tiff, tmp_path / "out.tif", chain, progress=seen.append, **CUT)
    phases = [p.phase for p in seen]
    assert phases == ["means"] + ["bounds"] * 6 + ["filter"] * 6
    last = seen[-1]
    assert (last.done, last.total, last.tiles_done, last.tiles_total) == (6, 6, 30, 30)
    assert last.megapixels == pytest.approx(83 * 71 / 1e6)
    assert last.rate > 0
    names = [stage.stage for stage in record.stages]
    assert names == ["read", "means", "prepare", "step 1: gaussian:sigma=2", "map", "write"]
    step = record.stages[3]
    assert step.algorithm in ("direct", "separable", "fft", "matmul")
    assert (record.strips, record.strip_rows, record.band_rows, record.tile) == (6, 16, 8, 16)
    assert record.scheduler == "threads"
    assert record.seconds == record.elapsed > 0
    assert record.memory_budget == 2**30
    assert record.peak_memory is None or record.peak_memory > 0
    assert (record.width, record.height, record.mode, record.range_rule) == (
        71,
        83,
        "RGB",
        "rescale",
    )


def test_an_error_in_a_strip_leaves_no_output(pixels: np.ndarray, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from imconv.tiles import _strips

    tiff, _ = save_pair(tmp_path / "in", pixels, "RGB", tile=16)
    real = _strips.run_strip

    def failing(pipeline: _strips.Pipeline, index: int) -> _strips.StripResult:
        if index == 3:
            raise OSError("disk gone")
        return real(pipeline, index)

    monkeypatch.setattr(_strips, "run_strip", failing)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.tif", "a.zarr"):
        with pytest.raises(OSError, match="disk gone"):
            filter_tiled(tiff, out / name, recipe("blur"), **CUT)
    assert os.listdir(out) == []


@pytest.mark.parametrize("name", ["a.tif", "a.zarr"])
def test_ctrl_c_leaves_no_output(name: str, pixels: np.ndarray, tmp_path: Path) -> None:
    tiff, _ = save_pair(tmp_path / "in", pixels, "RGB", tile=16)
    out = tmp_path / "out"
    out.mkdir()

    def interrupt(progress: TileProgress) -> None:
        if progress.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        filter_tiled(tiff, out / name, recipe("blur"), progress=interrupt, **CUT)
    assert os.listdir(out) == []


def test_an_existing_output_is_replaced_only_when_asked(pixels: np.ndarray, tmp_path: Path) -> None:
    from dataclasses import replace

    tiff, _ = save_pair(tmp_path, pixels, "RGB", tile=16)
    chain = recipe("blur")
    keep = replace(chain, output=replace(chain.output, overwrite=False))
    for name in ("out.tif", "out.zarr"):
        filter_tiled(tiff, tmp_path / name, chain, **CUT)
        with pytest.raises(OutputExistsError, match="already exists") as raised:
            filter_tiled(tiff, tmp_path / name, keep, **CUT)
        assert raised.value.hint == "use `overwrite` to replace it"
        filter_tiled(tiff, tmp_path / name, chain, **CUT)  # replaced
    with pytest.raises(OutputExistsError, match="it is the input image"):
        filter_tiled(tiff, tiff, chain, **CUT)
    assert leftovers(tmp_path) == []


def test_jpeg_and_png_are_refused_with_how_to_convert(tmp_path: Path) -> None:
    Image.fromarray(photo(20, 20)).save(tmp_path / "big.jpg")
    with pytest.raises(ImageReadError, match="JPEG is decoded whole") as raised:
        filter_tiled(tmp_path / "big.jpg", tmp_path / "out.tif", recipe("blur"))
    assert "vips tiffsave" in (raised.value.hint or "")
    assert "--tile" in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("destination", "options", "error", "match"),
    [("out.png", {}, InvalidParameterError, "destination must be a path ending in"),
     ("out.tif", {"compression": "brotli"}, InvalidParameterError, "compression must be one of"),
     ("out.zarr", {"compression": "lzw"}, InvalidParameterError, "compression must be none"),
     ("out.tif", {"tile": 100}, InvalidParameterError, "tile must be a positive multiple of 16"),
     ("out.tif", {"memory": "lots"}, InvalidParameterError, "memory must be a positive size"),
     ("out.tif", {"workers": 0}, InvalidParameterError, "workers must be a positive integer"),
     ("out.tif", {"scheduler": "nowhere"}, InvalidParameterError, "scheduler must be None"),
     ("missing/out.tif", {}, ImageWriteError, "output folder .* does not exist"),
     ("out.tif", {"memory": "1MiB"}, ResourceError, "budget 1.0 MiB is too small")],
)  # fmt: skip
def test_bad_requests_are_refused_before_any_work(
    destination: str, options: dict, error: type, match: str, pixels: np.ndarray, tmp_path: Path
) -> None:
    tiff, _ = save_pair(tmp_path / "in", pixels, "RGB", tile=16)
    with pytest.raises(error, match=match):
        filter_tiled(tiff, tmp_path / destination, recipe("blur"), **options)
    assert not (tmp_path / destination).exists()


def test_inputs_that_cannot_be_filtered_by_tiles(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((3, 20, 20, 2), np.uint8))
    with pytest.raises(ImageReadError, match="axes"):
        open_tiled(tmp_path / "stack.tif")
    tifffile.imwrite(tmp_path / "ints.tif", np.zeros((20, 20), np.int8))
    with pytest.raises(ImageReadError, match="type int8"):
        open_tiled(tmp_path / "ints.tif")
    palette = np.zeros((3, 256), np.uint16)
    tifffile.imwrite(tmp_path / "palette.tif", np.zeros((20, 20), np.uint8),
                     photometric="palette", colormap=palette)  # fmt: skip
    with pytest.raises(ImageReadError, match="palette"):
        open_tiled(tmp_path / "palette.tif")
    with pytest.raises(ImageReadError, match="no such file"):
        open_tiled(tmp_path / "missing.tif")
    zarr.open_group(str(tmp_path / "group.zarr"), mode="w")
    with pytest.raises(ImageReadError, match="as Zarr") as raised:
        open_tiled(tmp_path / "group.zarr")
    assert "one array at the folder's root" in (raised.value.hint or "")


def test_montage_is_refused(pixels: np.ndarray, tmp_path: Path) -> None:
    from dataclasses import replace

    tiff, _ = save_pair(tmp_path, pixels, "RGB", tile=16)
    chain = recipe("blur")
    chain = replace(chain, output=replace(chain.output, montage=True))
    with pytest.raises(InvalidParameterError, match="montage must be False"):
        filter_tiled(tiff, tmp_path / "out.tif", chain)


def test_parse_memory() -> None:
    assert parse_memory("512MiB") == 512 * 2**20
    assert parse_memory("1.5 GiB") == 3 * 2**29
    assert parse_memory("2gb") == 2 * 10**9
    assert parse_memory(4096) == 4096
    for bad in ("", "12 parsecs", "-1MiB", 0, True, 1.5, "0B"):
        with pytest.raises(InvalidParameterError, match="memory must be a positive size"):
            parse_memory(bad)
    assert 0 < DEFAULT_FRACTION < 1


def test_needs_tiles_compares_the_stream_memory_with_the_budget(tmp_path: Path) -> None:
    Image.fromarray(photo(100, 100)).save(tmp_path / "small.png")
    tifffile.imwrite(tmp_path / "small.tif", photo(100, 100), tile=(16, 16))
    held = 2**30  # more than this process holds
    for name in ("small.png", "small.tif"):
        assert not needs_tiles(tmp_path / name, f"{held}B")
        assert needs_tiles(tmp_path / name, "1MiB")
    assert not needs_tiles(tmp_path / "missing.png")
