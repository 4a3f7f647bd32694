"""Folder runs end to end: real images in several modes, broken files, an output folder that
cannot be made; exact outputs, exact failures, exit statuses 0/3, the summary, the report,
the process pool against the serial run, progress, and the clean-up of killed workers."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
from helpers import assert_one_line_error, image_info, imconv, read_pixels
from PIL import Image
from rich.console import Console
from trees import GOOD, MODES, copies, files, mixed_tree, modes, save

from imconv import report as reports
from imconv import stream
from imconv.batch import Batch, BatchTask, Job, Outcome, remove_temporaries, run_batch
from imconv.kernels import load_kernel
from imconv.stream import _steps

FAILED = {
    "2024/cut.jpg": "truncated or corrupt",
    "2024/empty.png": "not an image",
    "blocked/x.png": "cannot create the output folder '{out}/blocked': File exists",
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed tree (read only: every test writes into its own output folder)."""
    return mixed_tree(tmp_path_factory.mktemp("batch") / "photos")


def output_folder(tmp_path: Path, name: str = "out") -> Path:
    """An empty output folder where ``blocked`` is a file, so blocked/x.png cannot be written."""
    out = tmp_path / name
    out.mkdir()
    (out / "blocked").write_text("a file where the mirrored folder should be")
    return out


def failure_rows(stderr: str, root: Path) -> dict[str, str]:
    """The failure lines (stderr is not a terminal): ``imconv: PATH: message``, one per
    failed input, whole paths; input (below ``root``) -> error."""
    rows = {}
    for line in stderr.splitlines():
        if line.startswith(f"imconv: {root}"):
            source, reason = line.removeprefix("imconv: ").split(": ", 1)
            rows[Path(source).relative_to(root).as_posix()] = reason
    return rows


def test_a_folder_on_two_workers_writes_every_image_and_names_every_failure(
    photos: Path, tmp_path: Path
) -> None:
    out = output_folder(tmp_path)
    report = tmp_path / "report.json"
    result = imconv(
        "apply",
        "blur",
        photos,
        "-o",
        out,
        "--recursive",
        "--workers",
        "2",
        "--report",
        report,
        expect=3,
    )
    assert files(out) == sorted([*GOOD.values(), "blocked"])  # nothing partial, nothing hidden
    for source, mode in MODES.items():
        assert image_info(out / GOOD[source])[1] == mode
    assert [line.startswith("imconv: ") for line in result.stderr.splitlines()[:3]] == [True] * 3
    rows = failure_rows(result.stderr, photos)
    assert sorted(rows) == sorted(FAILED)
    for source, reason in FAILED.items():
        assert reason.format(out=out) in rows[source], rows[source]  # one line, never wrapped
    summary = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"6 written, 3 failed, 1 skipped \(not images\); [\d.]+ s wall, [\d.]+ files/s, "
        r"[\d.]+ MP/s on 2 workers",
        summary,
    ), summary
    document = json.loads(report.read_text())
    assert [Path(image["output"]).relative_to(out).as_posix() for image in document["images"]] == [
        GOOD[name]
        for name in (
            "alpha.png",
            "café au lait.png",
            "deep.png",
            "grey.png",
            "rgb.png",
            "2024/may/photo.jpg",
        )
    ]
    assert document["threads"] == 1  # the engine runs one thread in each of the two workers
    aggregate = document["summary"]
    assert (aggregate["images"], aggregate["failed"], aggregate["skipped"]) == (6, 3, 1)
    assert (aggregate["workers"], aggregate["interrupted"], aggregate["not_done"]) == (2, False, 0)
    assert aggregate["files_per_second"] == pytest.approx(6 / aggregate["wall_seconds"])
    megapixels = sum(image["megapixels"] for image in document["images"])
    assert aggregate["megapixels_per_second"] == pytest.approx(
        megapixels / aggregate["wall_seconds"]
    )
    stages = {row["stage"]: row for row in aggregate["stages"]}
    assert stages["read"]["count"] == 6
    assert stages["write"]["median_s"] <= stages["write"]["p95_s"] <= stages["write"]["total_s"]
    failed = {Path(f["input"]).relative_to(photos).as_posix() for f in document["failures"]}
    assert failed == set(FAILED)


def test_the_serial_run_writes_the_same_bytes_as_the_pool(photos: Path, tmp_path: Path) -> None:
    pool, serial = output_folder(tmp_path, "pool"), output_folder(tmp_path, "serial")
    common = ("apply", "gaussian:sigma=1", photos, "--recursive", "--quiet")
    imconv(*common, "-o", pool, "--workers", "2", expect=3)
    result = imconv(*common, "-o", serial, "--workers", "1", "--threads", "1", expect=3)
    lines = result.stderr.splitlines()  # --quiet: only the errors, a line each
    assert len(lines) == 3
    assert all(line.startswith(f"imconv: {photos}") for line in lines), lines
    assert "written" not in result.stderr
    assert files(pool) == files(serial)
    for name in files(pool):
        assert (pool / name).read_bytes() == (serial / name).read_bytes(), name


def test_each_output_equals_the_single_file_command(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    imconv(
        "apply",
        "sharpen",
        photos,
        "-o",
        out,
        "--workers",
        "1",
        "--threads",
        "1",
        "--quiet",
        "--include",
        "*.png",
        "--exclude",
        "empty.png",
        "--exclude",
        "blocked",
    )
    expected = {k: v.replace("_blur", "_sharpen") for k, v in GOOD.items() if k.endswith(".png")}
    assert files(out) == sorted(expected.values())
    for source, output in expected.items():
        single = tmp_path / "single.png"
        imconv("apply", "sharpen", photos / source, "-o", single, "--threads", "1", "--overwrite")
        assert (out / output).read_bytes() == single.read_bytes(), source


def test_a_batch_without_failures_exits_0(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = imconv(
        "apply", "blur", photos, "-o", out, "--workers", "1", "--verbose", "--exclude", "RGB.*"
    )
    names = ("alpha.png", "café au lait.png", "deep.png", "grey.png")  # not recursive
    assert files(out) == sorted(GOOD[name] for name in names)
    lines = result.stderr.strip().splitlines()
    assert [line.split("] ")[1].split(" -> ")[0] for line in lines[:-1]] == [
        str(photos / name) for name in names
    ]
    assert lines[0].startswith("[1/4] ")
    assert lines[-1].startswith(
        "4 written, 0 failed, 1 skipped (not images), 1 excluded by --include/--exclude; "
    )


def test_skip_existing_completes_a_set_and_overwrite_replaces(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = (
        "apply",
        "blur",
        photos,
        "-o",
        out,
        "--workers",
        "1",
        "--include",
        "*.png",
        "--exclude",
        "empty.png",
        "--exclude",
        "blocked",
    )
    imconv(*args, "--quiet")
    (out / "grey_blur.png").unlink()
    kept = (out / "rgb_blur.png").stat().st_mtime_ns
    result = imconv(*args, expect=1)
    assert "4 outputs exist" in result.stderr
    result = imconv(*args, "--skip-existing")
    assert result.stderr.startswith("1 written, 0 failed, 4 kept (output exists)")
    assert (out / "rgb_blur.png").stat().st_mtime_ns == kept
    assert (out / "grey_blur.png").is_file()
    (out / "rgb_blur.png").write_bytes(b"stale")
    imconv(*args, "--overwrite", "--quiet")
    assert read_pixels(out / "rgb_blur.png").shape == (48, 64, 3)


def test_format_and_an_empty_suffix_mirror_a_tree_under_the_input_names(
    photos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    imconv(
        "apply",
        "blur",
        photos / "2024",
        photos / "rgb.png",
        "-o",
        out,
        "--recursive",
        "--format",
        "png",
        "--suffix",
        "",
        "--workers",
        "1",
        "--quiet",
        expect=3,
    )
    assert files(out) == ["may/photo.png", "rgb.png"]
    assert image_info(out / "may" / "photo.png")[0] == "PNG"


def test_per_file_errors_of_the_engine_and_the_disk(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "in"
    modes(folder, size=(40, 30))
    save(Image.new("RGB", (5, 5)), folder / "tiny.png")
    real_save = Image.Image.save

    def full_disk(self, stream, *args, **kwargs):
        if "grey_" in getattr(stream, "name", ""):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, stream, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full_disk)
    (tmp_path / "out").mkdir()
    result = imconv(
        "apply",
        "box:size=7",
        folder,
        "-o",
        tmp_path / "out",
        "--mode",
        "valid",
        "--workers",
        "1",
        expect=3,
    )
    rows = failure_rows(result.stderr, folder)
    assert sorted(rows) == ["grey.png", "tiny.png"]
    assert "No space left on device" in rows["grey.png"]
    assert "mode 'valid' needs an image at least as large as the dilated kernel" in rows["tiny.png"]
    assert files(tmp_path / "out") == [
        "alpha_box-size7.png",
        "café au lait_box-size7.png",
        "deep_box-size7.png",
        "rgb_box-size7.png",
    ]


def test_an_unexpected_error_fails_its_file_only(tmp_path: Path, monkeypatch) -> None:
    modes(tmp_path / "in")
    real = stream.process_file

    def flaky(source, destination, recipe, planner, **options):
        if source.endswith("deep.png"):
            raise ZeroDivisionError("division by zero")
        return real(source, destination, recipe, planner, **options)

    monkeypatch.setattr(stream, "process_file", flaky)
    (tmp_path / "out").mkdir()
    result = imconv(
        "apply", "blur", tmp_path / "in", "-o", tmp_path / "out", "--workers", "1", expect=3
    )
    assert "unexpected ZeroDivisionError: division by zero" in result.stderr
    assert len(files(tmp_path / "out")) == 4


def test_a_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    (tmp_path / "out").mkdir()
    result = imconv("apply", "blur", tmp_path / "in", "-o", tmp_path / "out")
    assert result.stderr.startswith("0 written, 0 failed, 1 skipped (not images);")


def test_kernels_are_planned_once_per_image_geometry(tmp_path: Path, monkeypatch) -> None:
    paths = copies(tmp_path / "in", 3, (40, 30))
    with Image.open(paths[0]) as image:
        save(image.resize((50, 30)), paths[0])  # a second geometry
    calls = []
    real = _steps.plan
    monkeypatch.setattr(_steps, "plan", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    recipe = stream.Recipe(kernels=(load_kernel("blur"), load_kernel("box")))
    jobs = [Job(str(p), str(tmp_path / f"{p.stem}_x.png")) for p in paths]
    result = run_batch(Batch(jobs), BatchTask(recipe.with_options(threads=1)), workers=1)
    assert len(result.records) == 3
    assert calls == [(30, 50, 3), (30, 50, 3), (30, 41, 3), (30, 41, 3), (30, 42, 3), (30, 42, 3)]


# --- progress, summary and clean-up -----------------------------------------------------------


def test_the_progress_bar_shows_files_megapixels_per_second_and_eta(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    record = stream.ImageRecord("a.png", output="out/a.png", width=1000, height=1000)
    progress = reports.BatchProgress(console, bar=True, lines=True)
    progress.start(Batch([Job(f"{n}.png", f"out/{n}.png") for n in "abcd"]))
    progress.advance(Outcome(0, Job("a.png", "out/a.png"), record=record))
    time.sleep(0.05)
    progress.progress.refresh()
    progress.stop()
    text = console.file.getvalue()
    assert "[1/4] a.png -> out/a.png" in text
    assert "1/4" in text
    assert "MP/s" in text
    assert re.search(r"\d+:\d\d:\d\d|-:--:--", text)  # the ETA column


def test_temporary_files_of_killed_workers_are_removed(tmp_path: Path) -> None:
    jobs = [Job("a.png", str(tmp_path / "a_blur.png")), Job("b.tif", str(tmp_path / "b.tif"))]
    left = [tmp_path / ".a_blur.k2j4_x9q.png", tmp_path / ".b.abcdefgh.tif"]
    other = [
        tmp_path / ".a_blur.settings.json",
        tmp_path / ".c_blur.k2j4_x9q.png",
        tmp_path / "a_blur.k2j4_x9q.png",
    ]
    old = tmp_path / ".a_blur.oldoldol.png"
    for path in [*left, *other, old]:
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))  # not made by this run
    removed = remove_temporaries(jobs, since=time.time() - 60)
    assert sorted(removed) == sorted(left)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [*other, old])


# --- Dask options, checked before any work ---------------------------------------------------


def test_scheduler_without_dask_is_one_line_with_a_hint(tmp_path: Path, monkeypatch) -> None:
    modes(tmp_path / "in")
    (tmp_path / "out").mkdir()
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if imconv[dask] were missing
    args = ("apply", "blur", tmp_path / "in", "-o", tmp_path / "out", "--scheduler")
    result = imconv(*args, "local", expect=1)
    assert_one_line_error(
        result.stderr, "--scheduler needs Dask", hint="pip install 'imconv[dask]'"
    )
    result = imconv(*args, "somewhere:8786", expect=2)
    assert_one_line_error(result.stderr, "--scheduler must be 'local' or a Dask scheduler address")
    assert files(tmp_path / "out") == []
