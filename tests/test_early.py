"""The photo decoded while the command starts (imconv.early): claimed only when it is the
same file unchanged, under the caller's pixel limit, and forgotten when nobody claims it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imconv import early, images
from imconv.errors import ImageReadError


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    pixels = np.random.default_rng(3).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(autouse=True)
def _nothing_left():
    yield
    early.forget()


def _pixels(source: images.Source) -> np.ndarray:
    return source.rows(np.arange(source.height))[0]


@pytest.mark.parametrize(
    ("arguments", "found"),
    [
        (["apply", "blur", "{photo}"], True),
        (["apply", "blur", "{photo}", "-o", "out.png"], True),
        (["apply", "--then", "blur", "{photo}"], False),  # an option first: not guessed
        (["apply", "blur", "-o", "{photo}"], False),
        (["kernels", "blur", "{photo}"], False),
        (["apply", "blur", "missing.png"], False),
        (["apply", "blur", "{folder}"], False),
        (["apply", "blur"], False),
    ],
)
def test_photo_argument_is_the_file_right_after_the_kernel(
    photo: Path, arguments: list[str], found: bool
) -> None:
    given = [a.format(photo=photo, folder=photo.parent) for a in arguments]
    assert early.photo_argument(given) == (str(photo) if found else None)


def test_a_suffix_that_is_no_photo_is_not_decoded_early(tmp_path: Path) -> None:
    kernel = tmp_path / "kernel.txt"
    kernel.write_text("0 1 0\n1 4 1\n0 1 0\n")
    assert early.photo_argument(["apply", "blur", str(kernel)]) is None


def test_open_image_claims_the_image_decoded_early(photo: Path) -> None:
    decoded: list[str] = []

    def decode(path: str) -> Image.Image:
        decoded.append(path)
        return images.decode_file(path)

    early.start(str(photo), decode)
    source = images.open_image(photo)
    assert decoded == [str(photo)]
    assert early.claim(str(photo)) is None  # claimed once
    np.testing.assert_array_equal(_pixels(source), np.asarray(Image.open(photo)))


def test_a_file_changed_after_the_early_decode_is_read_again(photo: Path) -> None:
    early.start(str(photo), images.decode_file)
    other = np.full((40, 50, 3), 7, dtype=np.uint8)
    Image.fromarray(other).save(photo)
    stamp = os.stat(photo).st_mtime_ns + 1_000_000
    os.utime(photo, ns=(stamp, stamp))  # a new time even on coarse clocks
    np.testing.assert_array_equal(_pixels(images.open_image(photo)), other)


def test_the_callers_pixel_limit_still_holds(photo: Path) -> None:
    early.start(str(photo), images.decode_file)
    with pytest.raises(ImageReadError, match="more pixels than the limit of 100"):
        images.open_image(photo, max_pixels=100)


def test_a_failed_early_decode_leaves_the_reader_to_report(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    early.start(str(broken), images.decode_file)
    with pytest.raises(ImageReadError, match=r"broken\.png"):
        images.open_image(broken)


def test_forget_drops_what_nobody_claimed(photo: Path) -> None:
    early.start(str(photo), images.decode_file)
    early.forget()
    assert early.claim(str(photo)) is None


def test_the_command_decodes_its_photo_early_and_writes_what_the_library_writes(
    photo: Path, tmp_path: Path
) -> None:
    command = tmp_path / "command.png"
    library = tmp_path / "library.png"
    run = [sys.executable, "-m", "imconv", "apply", "blur", str(photo), "-o", str(command)]
    subprocess.run(run, check=True, capture_output=True, timeout=120)
    from imconv import apply

    apply("blur", photo, output=library, check=True)
    np.testing.assert_array_equal(np.asarray(Image.open(command)), np.asarray(Image.open(library)))
