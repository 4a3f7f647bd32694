"""Ctrl-C in the middle of a batch: the real ``imconv`` command gets SIGINT part-way (alone,
or with its workers as a terminal sends it), stops its workers, keeps the files already
written, leaves no partial file, exits 130; the same command with --skip-existing then
finishes the set."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
from helpers import imconv, imconv_command
from PIL import Image
from trees import copies, files

from imconv import stream

COUNT = 24


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """24 copies of a 480x320 JPEG in ``in/`` (and an empty ``out/``)."""
    (tmp_path / "out").mkdir()
    [first] = copies(tmp_path / "in", 1, (480, 320), suffix=".jpg")
    for number in range(1, COUNT):
        shutil.copyfile(first, tmp_path / "in" / f"{number:02d}.jpg")
    return tmp_path


def start(folder: Path, *extra: str) -> subprocess.Popen[str]:
    # A direct 15x15 box: about 0.1 s per file and worker, so 24 files take over a second.
    args = ["apply", "box:size=15", "in", "-o", "out", "--algorithm", "direct", "--verbose"]
    return subprocess.Popen(
        [str(imconv_command()), *args, *extra],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        start_new_session=True,
    )


def assert_whole(out: Path, suffix: str = "_box-size15.jpg") -> list[str]:
    """Every file in ``out`` is a whole JPEG output; no temporary file is left."""
    names = files(out)
    assert all(name.endswith(suffix) and not name.startswith(".") for name in names), names
    for name in names:
        with Image.open(out / name) as image:
            image.load()  # a truncated file would raise here
    return names


@pytest.mark.parametrize("target", ["command", "process group"])
def test_ctrl_c_stops_cleanly_and_skip_existing_finishes(folder: Path, target: str) -> None:
    process = start(folder, "--workers", "2")
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.startswith(f"[ 1/{COUNT}] in/"), first
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2  # the pool's workers
    if target == "command":
        process.send_signal(signal.SIGINT)
    else:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, rest
    last = rest.strip().splitlines()[-1]
    assert last.startswith("imconv: interrupted: "), rest
    assert "the same command with --skip-existing finishes the set" in last
    assert "Traceback" not in rest
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []  # the workers stopped too
    done = assert_whole(folder / "out")
    assert len(done) >= 1
    assert len(done) < COUNT
    finish = start(folder, "--workers", "2", "--skip-existing")
    summary = finish.communicate(timeout=120)[1].strip().splitlines()[-1]
    assert finish.returncode == 0, summary
    assert summary.startswith(f"{COUNT - len(done)} written, 0 failed, {len(done)} kept"), summary
    assert len(assert_whole(folder / "out")) == COUNT


def test_ctrl_c_in_a_serial_batch_keeps_what_is_done(folder: Path, monkeypatch) -> None:
    real, calls = stream.process_file, []

    def interrupted_at_the_third(source, destination, recipe, planner):
        calls.append(source)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(source, destination, recipe, planner)

    monkeypatch.setattr(stream, "process_file", interrupted_at_the_third)
    monkeypatch.chdir(folder)
    result = imconv("apply", "blur", "in", "-o", "out", "--workers", "1", expect=130)
    assert assert_whole(folder / "out", "_blur.jpg") == ["00_blur.jpg", "01_blur.jpg"]
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"2 written, 0 failed, {COUNT - 2} not done (interrupted); ")
    assert lines[-1].startswith(f"imconv: interrupted: 2 written, {COUNT - 2} not done")
