"""Issue 10, nothing slips through: every bad input, limit and closed pipe gets a clear answer.

Each test reproduces one finding of the issue with the real installed command (a
subprocess: stderr and stdout are pipes, not a terminal) on real files, or, for the
kernel-side limits whose code paths do not depend on the process, the command in-process.
Every failure is one ``imconv:`` line (and maybe a ``hint:``), never a traceback, never
Python's ``None``, and leaves no output or temporary file behind.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    assert_one_line_error,
    hidden_files,
    imconv,
    imconv_command,
    read_pixels,
    run_imconv,
    small_image,
)
from PIL import Image
from trees import files

from imconv.batch import BatchResult, Job
from imconv.errors import ExitStatus
from imconv.run import RunResult


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` grey pixels (a decompression bomb
    when large: a few bytes that would decode to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def stderr_of(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 64x48 RGB crop of coffee.png."""
    return small_image(tmp_path)


# --- data loss and exit statuses ----------------------------------------------------------


def test_the_exit_status_is_never_0_while_a_planned_output_is_missing() -> None:
    jobs = [Job("a.png", "a_blur.png"), Job("b.png", "b_blur.png")]
    batch = BatchResult(unfinished=[jobs[1]])  # not interrupted, yet one output is missing
    assert RunResult(batch=batch).exit_status == ExitStatus.PARTIAL
    assert RunResult(batch=batch, single=True).exit_status == ExitStatus.ERROR
    assert RunResult(batch=BatchResult()).exit_status == ExitStatus.SUCCESS


def test_the_report_is_checked_before_any_work_and_never_replaced(photo: Path) -> None:
    folder = photo.parent
    missing = run_imconv("apply", "blur", photo, "--report", folder / "nodir" / "r.json", expect=1)
    assert_one_line_error(stderr_of(missing), "nodir", "does not exist")
    assert files(folder) == ["photo.png"]  # no image was written first
    (folder / "r.json").write_text("{}")
    kept = run_imconv("apply", "blur", photo, "--report", folder / "r.json", expect=1)
    assert_one_line_error(stderr_of(kept), "report", "exists", hint="--overwrite")
    assert (folder / "r.json").read_text() == "{}"
    assert files(folder) == ["photo.png", "r.json"]
    run_imconv("apply", "blur", photo, "--report", folder / "r.json", "--overwrite")
    assert json.loads((folder / "r.json").read_text())["images"][0]["input"] == str(photo)


def test_a_report_in_the_output_folder_the_run_makes(photo: Path, tmp_path: Path) -> None:
    other = small_image(tmp_path, "other.png")
    out = tmp_path / "made" / "here"
    run_imconv("apply", "blur", photo, other, "-o", out, "--report", out / "r.json", "--quiet")
    assert files(out) == ["other_blur.png", "photo_blur.png", "r.json"]


def test_inputs_imconv_cannot_write_are_written_as_png(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    image = Image.open(small_image(tmp_path)).convert("RGB")
    image.convert("1").save(folder / "scan.pbm")
    image.resize((32, 32)).save(folder / "icon.ico")
    done = run_imconv("apply", "blur", folder, "-o", tmp_path / "out")
    assert files(tmp_path / "out") == ["icon_blur.png", "scan_blur.png"]
    warning = stderr_of(done).splitlines()[0]
    assert warning == (
        "imconv: warning: imconv does not write .ico, .pbm: those outputs are written as PNG"
    )
    refused = run_imconv("apply", "blur", folder / "icon.ico", "-o", tmp_path / "x.jp2", expect=1)
    assert_one_line_error(stderr_of(refused), "unknown image suffix '.jp2'")
    assert not (tmp_path / "x.jp2").exists()


def test_a_link_made_in_the_output_tree_during_the_run_leads_nowhere(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    image = Image.open(small_image(tmp_path, size=(480, 320)))
    for number in range(4):
        image.save(tmp_path / "in" / f"{number}.png")
    image.save(tmp_path / "in" / "sub" / "late.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    args = ["apply", "box:size=25", "in", "-o", "out", "--recursive", "--workers", "1"]
    process = subprocess.Popen(
        [str(imconv_command()), *args, "--verbose", "--algorithm", "direct"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert process.stderr.readline().startswith("[1/5] in/0.png")
    (tmp_path / "out" / "sub").symlink_to(tmp_path / "elsewhere")  # made during the run
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 3, rest
    assert "imconv: in/sub/late.png: refusing to write into 'out/sub': it leads outside" in rest
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply", "blur", "{photo}", "-o", "-"], "standard output was closed (broken pipe)"),
        (["kernels", "gaussian:sigma=2"], ""),
        (["apply", "blur", "{photo}", "--dry-run"], ""),
    ],
)
def test_a_closed_standard_output_exits_141(photo: Path, args: list[str], message: str) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone, as `| head -c 100` is once it has its bytes
    try:
        done = subprocess.run(
            [str(imconv_command()), *(arg.format(photo=photo) for arg in args)],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 141, done.stderr
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    if message:
        assert_one_line_error(stderr, message)
    else:
        assert stderr == ""
    assert hidden_files(photo.parent) == []


# --- limits --------------------------------------------------------------------------------


def test_decompression_bombs_are_one_line_before_decoding(tmp_path: Path, photo: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(100_000, 100_000))
    for args in (["apply", "blur", bomb], ["bench", bomb]):
        done = run_imconv(*args, expect=1)
        assert_one_line_error(stderr_of(done), "bomb.png", "more pixels than the limit")
    small = run_imconv("apply", "blur", photo, "--max-pixels", "10", expect=1)
    assert_one_line_error(stderr_of(small), "photo.png", "the limit of 10", hint="--max-pixels")
    assert files(tmp_path) == ["bomb.png", "photo.png"]


def test_sizes_that_cannot_fit_in_memory_are_refused_before_allocating(photo: Path) -> None:
    dilated = run_imconv("apply", "blur", photo, "--dilation", "1000000", expect=1)
    assert_one_line_error(stderr_of(dilated), "photo.png", "needs at least", "TiB of memory")
    assert "--dilation" in stderr_of(dilated)
    huge = run_imconv("bench", "--random", "100000x100000", "--sizes", "3", expect=1)
    assert_one_line_error(stderr_of(huge), "random 100000x100000 image needs at least")
    beyond = run_imconv("bench", "--random", "9999999x1", expect=2)
    assert_one_line_error(stderr_of(beyond), "--random must be a size")
    assert files(photo.parent) == ["photo.png"]


def test_workers_and_threads_are_capped_with_one_warning(tmp_path: Path) -> None:
    inputs = [small_image(tmp_path, f"{n}.png") for n in range(2)]
    done = run_imconv(
        "apply", "blur", *inputs, "-o", tmp_path / "out", "--workers", "1000", "--threads", "1000"
    )
    warnings = [line for line in stderr_of(done).splitlines() if "warning" in line]
    cores = len(os.sched_getaffinity(0))
    assert warnings[0] == (
        f"imconv: warning: --threads 1000 is more than the {cores} cores: using {cores}"
    )
    if cores < 2:
        assert warnings[1].startswith("imconv: warning: --workers 2 is more than the 1 cores")
    assert stderr_of(done).splitlines()[-1].endswith("on 2 workers")  # one per file, not 1000
    assert files(tmp_path / "out") == ["0_blur.png", "1_blur.png"]


def test_tuning_clear_when_the_cache_path_is_a_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "autotune.json").mkdir()
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(tmp_path))
    done = run_imconv("tuning", "--clear", expect=1)
    assert_one_line_error(stderr_of(done), "autotune.json", "it is a folder")
    assert (tmp_path / "autotune.json").is_dir()
    assert "0 cached choices" in run_imconv("tuning").stdout.decode()


def test_cval_nan_is_a_usage_error(photo: Path) -> None:
    done = run_imconv("apply", "blur", photo, "--padding", "constant", "--cval", "nan", expect=2)
    assert_one_line_error(stderr_of(done), "--cval must be")


# --- outputs and messages people can use ----------------------------------------------------


def test_output_folders_are_made_and_several_files_go_beside_each_input(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first, second = small_image(tmp_path / "a"), small_image(tmp_path, "b.png")
    run_imconv("apply", "blur", tmp_path / "a", "-o", tmp_path / "new" / "deeper", "--quiet")
    assert files(tmp_path / "new") == ["deeper/photo_blur.png"]
    run_imconv("apply", "blur", first, second, "--quiet")
    assert (tmp_path / "a" / "photo_blur.png").is_file()
    assert (tmp_path / "b_blur.png").is_file()
    stdin = run_imconv("apply", "blur", "-", expect=2, input=second.read_bytes())
    assert_one_line_error(stderr_of(stdin), "-o must be given when reading stdin")
    assert "None" not in stderr_of(stdin)


def test_on_a_pipe_failures_are_one_plain_line_with_the_whole_path(tmp_path: Path) -> None:
    folder = tmp_path / ("a folder with a long name, " * 4).strip()
    folder.mkdir()
    small_image(folder, "good.png")
    (folder / "broken.png").write_bytes(b"not an image at all")
    done = run_imconv("apply", "blur", folder, "-o", tmp_path / "out", "--timing", expect=3)
    lines = stderr_of(done).splitlines()
    broken = folder / "broken.png"
    [failure] = [line for line in lines if line.startswith("imconv: ")]
    assert failure.startswith(f"imconv: {broken}: cannot read '{broken}': not an image")
    assert any(line.startswith("1 written, 1 failed;") for line in lines)
    assert any(line.startswith("│ step 1: blur") for line in lines)  # --timing's summary


def test_on_a_pipe_tables_are_as_wide_as_they_need(tmp_path: Path) -> None:
    folder = tmp_path / ("deep " * 30).strip()
    folder.mkdir()
    photo = small_image(folder)
    timing = stderr_of(run_imconv("apply", "blur", photo, "--timing", "-o", tmp_path / "t.png"))
    assert f"{photo}  64x48x3 (RGB)" in timing
    plan = run_imconv("apply", "gaussian:sigma=2", photo, "--dry-run").stdout.decode()
    assert f"{photo}: plan (nothing computed)" in plan
    assert "48x64x3" in plan
    view = run_imconv("kernels", "gaussian:sigma=2").stdout.decode()
    assert "4.92e-06" in view
    assert "..." not in view


@pytest.mark.parametrize("kernel", ["-1 0 1", "-1,0,1", "-1 0 1; -2 0 2; -1 0 1"])
def test_inline_kernels_may_start_with_a_minus(photo: Path, tmp_path: Path, kernel: str) -> None:
    out = tmp_path / "edges.png"
    run_imconv("apply", kernel, photo, "-o", out, "--padding", "constant", "--cval", "-1")
    weights = np.array(
        [[float(v) for v in row.replace(",", " ").split()] for row in kernel.split(";")]
    )
    expected = imconv_reference(read_pixels(photo), weights)
    np.testing.assert_array_equal(read_pixels(out), expected)


def imconv_reference(pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """What `apply` writes for a zero-sum kernel: |convolution|, constant -1 padding."""
    import imconv as library

    result = library.convolve(
        pixels.astype(np.float32),
        weights[..., np.newaxis],
        padding="constant",
        cval=-1.0,
        algorithm="direct",
    )
    return np.rint(np.clip(np.abs(result), 0, 255)).astype(np.uint8)


def test_kernels_shows_a_negative_inline_kernel_and_options_keep_their_values() -> None:
    view = run_imconv("kernels", "-1 0 1").stdout.decode()
    assert "1x3" in view
    typo = run_imconv("apply", "--strid", "2", "blur", "x.png", expect=2)
    assert "No such option: --strid" in stderr_of(typo)


def test_what_reading_changed_is_said_once_per_file_and_in_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    base = Image.open(small_image(tmp_path)).convert("RGB")
    frames = [base.rotate(angle) for angle in (0, 90, 180)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    base.convert("CMYK").save(folder / "print.jpg")
    report = tmp_path / "r.json"
    done = run_imconv("apply", "blur", folder, "-o", tmp_path / "out", "--report", report)
    warnings = [line for line in stderr_of(done).splitlines() if "warning" in line]
    assert warnings.count(f"imconv: warning: {folder / 'anim.gif'}: first of 3 frames read") == 1
    assert (
        f"imconv: warning: {folder / 'print.jpg'}: CMYK converted to RGB "
        "(without colour management)"
    ) in warnings
    notes = {
        Path(item["input"]).name: item["notes"] for item in json.loads(report.read_text())["images"]
    }
    assert "first of 3 frames read" in notes["anim.gif"]
    assert notes["print.jpg"] == ["CMYK converted to RGB (without colour management)"]
    quiet = run_imconv("apply", "blur", folder, "-o", tmp_path / "q", "--quiet")
    assert stderr_of(quiet) == ""


def test_bench_without_an_image_has_quick_defaults_and_says_what_it_times(
    tmp_path: Path,
) -> None:
    """Quick by its defaults (a 512x512 image, 4 sizes, 3 runs; about 4.5 s here): unit
    tests assert no timings."""
    done = run_imconv("bench", "--json", cwd=tmp_path)  # an installed package, elsewhere
    intent = stderr_of(done).splitlines()[0]
    image = "random 512x512 RGB (seed 0)" if "random" in intent else "samples/astronaut.png"
    assert intent == (
        f"imconv: timing auto, direct, matmul, fft, separable on {image} (512x512x3) "
        "at k = 3, 7, 15, 31, 3 runs each after a warm-up"
    )
    document = json.loads(done.stdout)
    assert document["sizes"] == [3, 7, 15, 31]


# --- kernel-side limits, seen from the command (in-process: no process matters here) ----------


@pytest.mark.parametrize(
    ("kernel", "fragments"),
    [
        ("gaussian:sigma=1e5", ["sigma of preset 'gaussian' must be"]),
        ("box:size=99999999999999999999", ["size of preset 'box' must be an integer"]),
        ("unsharp:amount=1e308", ["amount of preset 'unsharp' must be"]),
        ("1e308 1e308; 1e308 1e308", ["inline kernel", "sum of absolute weights"]),
        ("log:sigma=1e-300", ["sigma of preset 'log' must be"]),
        ("1 nan; 1 1", ["'nan' is not a number"]),
        (";;", ["holds no numbers"]),
        ("[" * 50_000 + "]" * 50_000, ["inline kernel"]),
    ],
)
def test_kernel_limits_are_usage_errors_of_one_line(photo: Path, kernel: str, fragments) -> None:
    for extra in ([], ["--normalize"]):
        result = imconv("apply", kernel, photo, *extra, expect=2)
        assert_one_line_error(result.stderr, *fragments)
    assert files(photo.parent) == ["photo.png"]


def test_kernels_of_huge_values_and_deep_files_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(imconv("kernels", "1e308 1e308", expect=2).stderr, "sum of absolute")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert_one_line_error(imconv("kernels", deep, expect=2).stderr, "deep.json")
    for args in ("[args]\nsize = 0\n", '[args]\nangle = "abc"\n'):
        generator = "box" if "size" in args else "motion"
        path = tmp_path / f"{generator}.toml"
        path.write_text(f'generator = "{generator}"\n{args}')
        result = imconv("kernels", path, expect=2)
        assert_one_line_error(result.stderr, f"{generator}.toml")


def test_big_separable_kernels_plan_without_an_svd(photo: Path, monkeypatch) -> None:
    """A generator that knows its factors says so: no O(k^3) SVD (it took 5.5 s for
    gaussian:sigma=400 and 25 s for box:size=801)."""
    import numpy as np

    calls = []
    real = np.linalg.svd
    monkeypatch.setattr(np.linalg, "svd", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    imconv("apply", "gaussian:sigma=400", photo, "--dry-run")
    imconv("kernels", "box:size=801")
    assert [shape for shape in calls if max(shape) > 100] == []


def test_preset_folder_problems_are_warnings_and_the_run_goes_on(
    photo: Path, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "blur.toml").write_text("kernel = [[1]]\n")
    monkeypatch.setenv("IMCONV_PRESETS", str(folder))
    result = imconv("apply", "0 1 0; 1 4 1; 0 1 0", photo, "--normalize", "-o", tmp_path / "a.png")
    assert result.stderr.startswith("imconv: warning: ")
    assert "blur.toml" in result.stderr
    monkeypatch.setenv("IMCONV_PRESETS", str(tmp_path / "missing"))
    result = imconv("apply", "blur", photo, "-o", tmp_path / "b.png")
    assert result.stderr.startswith("imconv: warning: ")
    assert "missing" in result.stderr
    assert (tmp_path / "a.png").is_file()
    assert (tmp_path / "b.png").is_file()


def test_an_unforeseen_exception_is_still_one_line(photo: Path, monkeypatch) -> None:
    from imconv import run as room

    def broken(*args, **kwargs):
        raise ValueError("something nobody expected")

    monkeypatch.setattr(room, "apply", broken)
    result = imconv("apply", "blur", photo, expect=1)
    assert_one_line_error(
        result.stderr, "unexpected ValueError: something nobody expected", hint="a bug in imconv"
    )
    assert files(photo.parent) == ["photo.png"]


def test_a_ragged_bias_in_a_kernel_file_is_a_kernel_error(photo: Path) -> None:
    kernel = photo.parent / "k.toml"
    kernel.write_text("kernel = [[0]]\nbias = [[], [0]]\n")
    result = imconv("apply", kernel, photo, expect=None)
    assert result.exit_code == 2, result.stderr


def test_an_integer_kernel_that_saturates_the_image_is_said(tmp_path: Path) -> None:
    photo = small_image(tmp_path, sample="coffee.png")
    kernel = Path(__file__).parent / "data" / "blur3.txt"  # sums to 8
    result = imconv("apply", kernel, photo, "-o", tmp_path / "white.png")
    [warning] = [line for line in result.stderr.splitlines() if "warning" in line]
    assert "normalize" in warning
