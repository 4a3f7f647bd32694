"""Signals in the middle of a batch, sent to the real ``imconv`` command and its workers.

Ctrl-C (SIGINT to the command alone, or to its process group as a terminal sends it)
stops the workers, keeps the files already written, leaves no partial file, names what is
not done and exits 130; the same command with --skip-existing then finishes the set.
SIGINT to one worker stops the batch the same way (never exit 0 with files missing); a
command started with SIGINT ignored (``imconv ... &`` in a script) keeps its workers
ignoring it; a worker killed (SIGKILL) has its files run again on a fresh worker, and a
file whose worker dies twice fails alone."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
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


def start(
    folder: Path, *extra: str, kernel: str = "box:size=15", ignore_sigint: bool = False
) -> subprocess.Popen[str]:
    # A direct 15x15 box: about 0.1 s per file and worker, so 24 files take over a second.
    args = ["apply", kernel, "in", "-o", "out", "--algorithm", "direct", "--verbose"]

    def ignore() -> None:  # what a non-interactive shell does for `imconv ... &`
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [str(imconv_command()), *args, *extra],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        start_new_session=True,
        preexec_fn=ignore if ignore_sigint else None,
    )


def pool_workers(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The pool's worker processes (spawned interpreters), not its resource tracker."""
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            line = " ".join(child.cmdline())
            if "multiprocessing" in line and "resource_tracker" not in line:
                found.append(child)
    return found


def a_new_worker(process: subprocess.Popen[str], known: set[int]) -> psutil.Process:
    """Wait for a worker process that is not in ``known`` (the next round's pool)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = [w for w in pool_workers(process) if w.pid not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.005)
    raise AssertionError("no new worker was started")


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

    def interrupted_at_the_third(source, destination, recipe, planner, **options):
        calls.append(source)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(source, destination, recipe, planner, **options)

    monkeypatch.setattr(stream, "process_file", interrupted_at_the_third)
    monkeypatch.chdir(folder)
    result = imconv("apply", "blur", "in", "-o", "out", "--workers", "1", expect=130)
    assert assert_whole(folder / "out", "_blur.jpg") == ["00_blur.jpg", "01_blur.jpg"]
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"2 written, 0 failed, {COUNT - 2} not done (interrupted); ")
    assert lines[-1].startswith(f"imconv: interrupted: 2 written, {COUNT - 2} not done")


def test_sigint_to_one_worker_stops_the_batch_and_names_what_is_not_done(folder: Path) -> None:
    process = start(folder, "--workers", "2", "--report", "report.json")
    assert process.stderr is not None
    assert process.stderr.readline().startswith(f"[ 1/{COUNT}] in/")
    pool_workers(process)[0].send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, rest  # never 0 while outputs are missing
    assert "Traceback" not in rest
    done = assert_whole(folder / "out")
    assert len(done) < COUNT
    missing = sorted(
        line.removeprefix("imconv: ").removesuffix(": not done (interrupted)")
        for line in rest.splitlines()
        if line.endswith(": not done (interrupted)")
    )
    expected = sorted(
        f"in/{name[:2]}.jpg"
        for name in (f"{n:02d}_box-size15.jpg" for n in range(COUNT))
        if name not in done
    )
    assert missing == expected
    last = rest.strip().splitlines()[-1]
    assert last.startswith(f"imconv: interrupted: {len(done)} written, {len(expected)} not done")
    assert "(and another --report name)" in last
    document = json.loads((folder / "report.json").read_text())
    assert sorted(item["input"] for item in document["unfinished"]) == expected
    assert document["summary"]["interrupted"] is True


def test_a_command_started_with_sigint_ignored_keeps_its_workers_ignoring_it(
    folder: Path,
) -> None:
    process = start(folder, "--workers", "2", ignore_sigint=True)
    assert process.stderr is not None
    assert process.stderr.readline().startswith(f"[ 1/{COUNT}] in/")
    os.killpg(process.pid, signal.SIGINT)  # `kill -INT 0` in the script that ran `imconv &`
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 0, rest
    assert rest.strip().splitlines()[-1].startswith(f"{COUNT} written, 0 failed;")
    assert len(assert_whole(folder / "out")) == COUNT


def test_a_killed_worker_s_files_run_again_and_no_file_is_lost(folder: Path) -> None:
    process = start(folder, "--workers", "2", "--report", "report.json", kernel="box:size=25")
    assert process.stderr is not None
    assert process.stderr.readline().startswith(f"[ 1/{COUNT}] in/")
    pool_workers(process)[0].kill()  # SIGKILL, as the out-of-memory killer sends
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 0, rest
    assert rest.strip().splitlines()[-1].startswith(f"{COUNT} written, 0 failed;")
    assert len(assert_whole(folder / "out", "_box-size25.jpg")) == COUNT  # no temporary left
    document = json.loads((folder / "report.json").read_text())
    assert (document["failures"], document["unfinished"]) == ([], [])


def test_a_file_whose_worker_dies_twice_fails_alone(folder: Path) -> None:
    process = start(folder, "--workers", "2", kernel="box:size=25")
    assert process.stderr is not None
    assert process.stderr.readline().startswith(f"[ 1/{COUNT}] in/")
    first = pool_workers(process)
    first[0].kill()
    # The files the dead worker and its stopped partner were filtering run again, alone,
    # on a fresh worker: killed too, they fail; every other file is written.
    a_new_worker(process, {w.pid for w in first}).kill()
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 3, rest
    died = [
        line
        for line in rest.splitlines()
        if line.startswith("imconv: ") and "a worker process died twice" in line
    ]
    assert 1 <= len(died) <= 2, rest
    assert all(line.startswith("imconv: in/") for line in died)
    written = assert_whole(folder / "out", "_box-size25.jpg")
    assert len(written) == COUNT - len(died)
    assert "not done" not in rest
