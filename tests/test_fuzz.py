"""Fuzzing the command's inputs: random kernel strings, TOML and JSON kernel files, and PNG
headers. Whatever comes in, ``imconv apply`` ends with status 0, 1 or 2, never a
traceback; a failure is one ``imconv: error:`` line (and maybe a ``hint:``), never shows
Python's ``None``, and leaves no output and no temporary file; the inputs are never
changed. In-process (bounded: the ``ci`` profile's examples take seconds), and a few
examples through the real installed command."""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from helpers import imconv, run_imconv
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imconv.kernels import ARGUMENTS, preset_names

NUMBERS = ["0", "1", "-1", "2.5", "-0", "1e308", "-1e308", "1e-300", "nan", "inf", "-inf", "1e5"]
JUNK = ["", "x", "abc", "[", "]", "{", "}", '"', "=", ",", ";", ":", "@", ">", "<"]


def _preset_text() -> st.SearchStrategy[str]:
    """``name:key=value,...`` with real and made-up names, keys and values."""
    names = st.sampled_from([*preset_names(), "blurr", "", "gaussian:", "box:size"])
    keys = st.sampled_from(sorted({key for keys in ARGUMENTS.values() for key in keys}) + JUNK)
    values = st.one_of(st.sampled_from(NUMBERS + JUNK), st.integers(-3, 40).map(str))
    pairs = st.lists(st.tuples(keys, values).map("=".join), max_size=3).map(",".join)
    return st.tuples(names, pairs).map(lambda parts: f"{parts[0]}:{parts[1]}".rstrip(":"))


KERNEL_TEXT = st.one_of(
    st.text(alphabet="0123456789-+.eE ,;[]x:@<>naif", max_size=30),
    st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=9).map(" ".join),
    st.lists(st.lists(st.sampled_from(NUMBERS[:4]), min_size=1, max_size=4), max_size=4).map(
        lambda rows: "; ".join(" ".join(row) for row in rows)
    ),
    _preset_text(),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "1" + "]" * depth),
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["kernel", "scale", "bias", "name"]) | st.text(max_size=3),
            children,
            max_size=4,
        )
    ),
    max_leaves=24,
)
JSON_TEXT = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.integers(1, 200_000).map(lambda depth: "[" * depth + "]" * depth),
    st.text(max_size=20),
)


def _toml_line() -> st.SearchStrategy[str]:
    names = [*sorted(ARGUMENTS), "bogus", ""]
    keys = [*sorted({key for keys in ARGUMENTS.values() for key in keys}), "width", "x"]
    value = st.one_of(
        st.sampled_from(["0", "-1", "1.5", "1e308", "nan", "inf", "true", '"abc"', '""', "[]"]),
        st.integers(-5, 5000).map(str),
        st.lists(st.lists(st.integers(-3, 3).map(str), max_size=3), max_size=3).map(
            lambda rows: "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
        ),
    )
    return st.one_of(
        value.map("kernel = {}".format),
        value.map("scale = {}".format),
        value.map("bias = {}".format),
        st.sampled_from(names).map('generator = "{}"'.format),
        st.sampled_from(["[args]", "[params.size]", 'type = "int"', "default = 3", "ge = 1"]),
        st.sampled_from(['combine = "max"', 'parts = ["sobel-x", "sobel-y"]', "parts = []"]),
        st.tuples(st.sampled_from(keys), value).map(" = ".join),
        st.text(alphabet="[]=\"'.#abc 0123", max_size=12),
    )


TOML_TEXT = st.lists(_toml_line(), max_size=8).map("\n".join)

SIDES = st.one_of(st.integers(0, 64), st.integers(2**16, 2**31 - 1))


def _png(width: int, height: int, depth: int, colour: int, body: bytes, cut: int) -> bytes:
    """A PNG with this header (the CRC right), ``body`` as compressed data, ``cut`` bytes
    dropped from the end."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(body))
    data += chunk(b"IEND", b"")
    return data[: max(8, len(data) - cut)]


PNG_FILES = st.builds(
    _png,
    SIDES,
    SIDES,
    st.sampled_from([1, 2, 4, 8, 16, 3, 0]),
    st.sampled_from([0, 2, 3, 4, 6, 1, 7]),
    st.binary(max_size=64),
    st.integers(0, 40),
)


def _photo(folder: Path) -> Path:
    """A tiny 8x6 RGB image."""
    path = folder / "photo.png"
    pixels = (np.arange(8 * 6 * 3).reshape(6, 8, 3) * 5 % 256).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _check(run: Callable[[list[str]], tuple[int, str]], args: list[str], folder: Path) -> None:
    """Run ``imconv ARGS`` in ``folder``; assert the rules of the module docstring."""
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    status, stderr = run(args)
    assert status in (0, 1, 2), (args, status, stderr)
    assert "Traceback" not in stderr, stderr
    assert "None" not in stderr, stderr
    after = {path.name: path.read_bytes() for path in folder.iterdir() if path.name in before}
    assert after == before  # inputs byte-identical
    if status == 0:
        return
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("imconv: error: ")]
    assert len(errors) == 1, stderr
    assert all(line.startswith(("imconv: ", "hint: ")) for line in lines), stderr
    assert sorted(path.name for path in folder.iterdir()) == sorted(before), stderr


def _in_process(folder: Path) -> Callable[[list[str]], tuple[int, str]]:
    def run(args: list[str]) -> tuple[int, str]:
        result = imconv(*args, expect=None)
        return result.exit_code, result.stderr

    return run


def _apply(kernel: str, folder: Path) -> list[str]:
    return ["apply", kernel, str(folder / "photo.png"), "-o", str(folder / "out.png")]


@given(KERNEL_TEXT)
def test_random_kernel_strings(kernel: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _photo(folder)
        _check(_in_process(folder), _apply(kernel, folder), folder)


@given(
    st.one_of(JSON_TEXT.map(lambda text: (".json", text)), TOML_TEXT.map(lambda t: (".toml", t)))
)
def test_random_kernel_files(kernel: tuple[str, str]) -> None:
    suffix, text = kernel
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _photo(folder)
        path = folder / f"kernel{suffix}"
        path.write_text(text, encoding="utf-8")
        _check(_in_process(folder), _apply(str(path), folder), folder)


@given(PNG_FILES)
def test_random_png_headers(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "photo.png").write_bytes(data)
        _check(_in_process(folder), _apply("blur", folder), folder)


@settings(max_examples=4)
@given(st.one_of(KERNEL_TEXT.map(lambda k: ("kernel", k)), PNG_FILES.map(lambda d: ("png", d))))
def test_a_few_through_the_installed_command(case: tuple[str, object]) -> None:
    kind, value = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if kind == "png":
            assert isinstance(value, bytes)
            (folder / "photo.png").write_bytes(value)
            kernel = "blur"
        else:
            assert isinstance(value, str)
            _photo(folder)
            kernel = value

        def run(args: list[str]) -> tuple[int, str]:
            done = run_imconv(*args, expect=None)
            return done.returncode, done.stderr.decode()

        _check(run, _apply(kernel, folder), folder)
