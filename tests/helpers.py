"""Helpers for the command-line tests: a strict in-process runner (httpie style), the real
installed command as a subprocess, and small test images cut from the samples."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner, Result

from imconv import cli
from imconv.cli import app

# Tables render the same whatever the developer's terminal exports as COLUMNS.
cli.stdout.width = cli.stderr.width = 100

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BLUR = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8


class ExitStatusError(AssertionError):
    """A command ended with another exit status than the test expected."""


def _describe(args: Sequence[str], code: int, expected: int, stdout: str, stderr: str) -> str:
    return (
        f"imconv {' '.join(map(str, args))}\n"
        f"exit status {code}, expected {expected}\n"
        f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    )


def imconv(
    *args: str | os.PathLike[str], expect: int | None = 0, input: bytes | None = None
) -> Result:
    """Run ``imconv ARGS`` in-process; fail showing stderr (and any exception) unless the exit
    status is ``expect`` (None: any status, the caller checks)."""
    argv = [str(arg) for arg in args]
    result = CliRunner(env={"COLUMNS": "100"}).invoke(app, argv, input=input, prog_name="imconv")
    if expect is not None and result.exit_code != expect:
        stderr = result.stderr
        if result.exc_info and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(*result.exc_info))
        stdout = result.stdout_bytes.decode("utf-8", "replace")
        raise ExitStatusError(_describe(argv, result.exit_code, expect, stdout, stderr))
    return result


def imconv_command() -> Path:
    """The installed console script, next to the interpreter running the tests."""
    return Path(sys.executable).parent / "imconv"


def run_imconv(
    *args: str | os.PathLike[str],
    expect: int | None = 0,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the real ``imconv`` command; fail showing stderr unless the exit status is
    ``expect`` (None: any status). Output is captured as bytes (``-o -`` writes PNG)."""
    argv = [str(arg) for arg in args]
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [str(imconv_command()), *argv],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )
    if expect is not None and done.returncode != expect:
        raise ExitStatusError(
            _describe(
                argv,
                done.returncode,
                expect,
                done.stdout.decode(errors="replace"),
                done.stderr.decode(errors="replace"),
            )
        )
    return done


def assert_one_line_error(stderr: str, *fragments: str, hint: str | None = None) -> None:
    """stderr is ``imconv: error: ...`` on one line, optionally followed by ``hint: ...``,
    and never a traceback; every fragment appears in the error line."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert lines, "nothing on stderr"
    assert lines[0].startswith("imconv: error: "), stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    if hint is not None:
        assert len(lines) == 2, f"no hint line in {stderr!r}"
        assert hint in lines[1], f"{hint!r} not in {lines[1]!r}"


def small_image(
    folder: Path, name: str = "photo.png", *, sample: str = "coffee.png", size=(64, 48)
) -> Path:
    """A ``size`` (width, height) crop of a sample, saved as ``folder/name``."""
    with Image.open(SAMPLES / sample) as image:
        width, height = size
        left, top = (image.width - width) // 2, (image.height - height) // 2
        crop = image.crop((left, top, left + width, top + height))
        crop.load()
    path = folder / name
    crop.save(path)
    return path


def read_pixels(path: Path) -> np.ndarray:
    """The stored samples of an image file, as Pillow decodes them."""
    with Image.open(path) as image:
        return np.asarray(image)


def image_info(path: Path) -> tuple[str, str, tuple[int, int]]:
    """Format, mode and (width, height) of an image file."""
    with Image.open(path) as image:
        return image.format or "", image.mode, image.size


def hidden_files(folder: Path) -> list[str]:
    """Names starting with a dot under ``folder`` (leftover temporary files)."""
    return sorted(p.name for p in folder.rglob(".*"))
