"""`apply --dry-run` estimates the peak memory of the run within 20% of the real one.

Each case makes a real photo of a few megapixels, asks ``--dry-run`` for its estimate, then
runs the same command and measures its peak resident memory (``ru_maxrss`` from
``os.wait4``). The command is started by a small stdlib-only launcher: a child's peak starts
at its parent's resident set, and this test process holds far more than imconv does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import imconv_command
from PIL import Image

from imconv import images
from imconv.errors import ImageReadError

# Runs the command given as JSON with its peak-RSS mark lowered first; prints the child's
# peak resident memory in bytes.
LAUNCHER = """
import json, os, subprocess, sys
try:
    with open("/proc/self/clear_refs", "w") as marks:
        marks.write("5")
except OSError:
    print("no-clear-refs")
    sys.exit(0)
child = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
print(child.returncode, usage.ru_maxrss * 1024)
"""
ESTIMATE = re.compile(r"peak memory about ([\d.]+) (MiB|GiB)")


def measured_peak(command: list[str]) -> int:
    """Peak resident bytes of ``command``, run to completion (which must succeed)."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, json.dumps(command)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if launched.stdout.strip() == "no-clear-refs":
        pytest.skip("this kernel does not let a process lower its peak-RSS mark")
    status, peak = map(int, launched.stdout.split())
    assert status == 0, launched.stderr
    return peak


def estimated_peak(command: list[str]) -> int:
    """The peak ``--dry-run`` prints for ``command``, in bytes."""
    wide = {**os.environ, "COLUMNS": "300"}
    shown = subprocess.run(
        [*command, "--dry-run"], capture_output=True, text=True, check=True, env=wide
    )
    found = ESTIMATE.search(shown.stdout.replace("\n", " "))
    assert found, shown.stdout
    return int(float(found[1]) * 2 ** (20 if found[2] == "MiB" else 30))


def photo(folder: Path, name: str, mode: str, size: tuple[int, int] = (2400, 1800)) -> Path:
    """A real photo from the bundled sample, resized, in ``mode``, saved as ``name``."""
    sample = Path(__file__).resolve().parent.parent / "samples" / "astronaut.png"
    image = Image.open(sample).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    if mode == "RGBA":
        image.putalpha(image.convert("L"))
    elif mode == "I;16":
        grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(grey)  # I;16
    elif mode != "RGB":
        image = image.convert(mode)
    path = folder / name
    image.save(path, **({"quality": 90} if name.endswith(".jpg") else {}))
    return path


CASES = [
    ("blur", "RGB", "photo.jpg", "out.jpg", []),
    ("sobel", "RGB", "photo.jpg", "out.jpg", []),
    ("box:size=15", "RGB", "photo.jpg", "out.jpg", []),
    ("gaussian:sigma=3", "RGB", "photo.jpg", "out.png", ["--then", "sharpen"]),
    ("gaussian:sigma=12", "RGB", "photo.jpg", "out.jpg", ["--algorithm", "fft"]),
    ("blur", "L", "grey.png", "out.png", []),
    ("log", "I;16", "deep.png", "out.png", []),
    ("blur", "RGBA", "alpha.png", "out.png", []),
    ("blur", "RGB", "photo.jpg", "out.jpg", ["--threads", "1"]),
]


@pytest.mark.parametrize(("kernel", "mode", "name", "output", "extra"), CASES)
def test_dry_run_estimates_the_peak_within_20_percent(
    tmp_path: Path, kernel: str, mode: str, name: str, output: str, extra: list[str]
) -> None:
    source = photo(tmp_path, name, mode)
    command = [
        str(imconv_command()),
        "apply",
        kernel,
        str(source),
        "-o",
        str(tmp_path / output),
        *extra,
    ]
    estimate = estimated_peak(command)
    peak = measured_peak(command)
    assert abs(estimate - peak) <= 0.2 * peak, (estimate / 2**20, peak / 2**20)


def test_a_png_header_is_read_without_decoding_its_pixels(tmp_path: Path) -> None:
    """Pillow's ``getexif`` of a PNG decodes the whole image (a whole image more memory,
    and its time, for every check before the run): the probe reads only the header, so
    a PNG cut short after its header still gives its size."""
    source = photo(tmp_path, "photo.png", "RGB", size=(300, 200))
    cut = tmp_path / "cut.png"
    whole = source.read_bytes()
    cut.write_bytes(whole[: whole.index(b"IDAT") + 100])  # the header and 100 bytes of pixels
    probed = images.probe(cut)
    assert (probed.height, probed.width, probed.picture_mode) == (200, 300, "RGB")
    with pytest.raises(ImageReadError):
        images.open_image(cut)
