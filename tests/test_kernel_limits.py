"""Hostile kernels (issue 10): every bad kernel text, file and preset folder gets one clear
line, never a traceback, a RecursionError, an overflow or a stop for unrelated runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imconv.errors import ImconvError, KernelError
from imconv.kernels import Kernel, list_presets, load_kernel, preset_names, preset_warnings


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


# --- nesting -------------------------------------------------------------------------------


def test_deeply_nested_inline_json_is_one_line() -> None:
    text = "[" * 50000 + "1" + "]" * 50000
    with pytest.raises(KernelError, match=r"brackets must nest at most 8 deep .*; got 50000$"):
        load_kernel(text)


@pytest.mark.parametrize(("suffix", "prefix"), [(".json", ""), (".toml", "kernel = ")])
def test_deeply_nested_files_are_one_line(tmp_path: Path, suffix: str, prefix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(prefix + "[" * 100000 + "1" + "]" * 100000 + "\n")
    with pytest.raises(KernelError, match=r"deep\.(json|toml): brackets must nest at most 8"):
        load_kernel(path)


def test_brackets_inside_strings_do_not_count(tmp_path: Path) -> None:
    text = json.dumps({"kernel": [[1, 2]], "description": "[[[[[[[[[[[[ a toy ]]]]]]]]]]]]"})
    (tmp_path / "toy.json").write_text(text)
    assert load_kernel(tmp_path / "toy.json").description.startswith("[[[[")


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e308 1e308; 1e308 1e308", r"inline kernel '1e308 1e308; 1e308 1e308': kernel must "
                                     r"have a sum of absolute weights .* got inf"),
        ("3x3: 1e308 1e308 1e308 0 0 0 0 0 0", r"ImageMagick kernel .*: kernel must have a sum"),
        ("[[1e40, -1e40]]", r"at most 5.19e\+33, so that a 16-bit image's response fits "
                            r"float32; got 2e\+40"),
        ("1 1e999", r"kernel must contain only finite numbers; got inf at index \(0, 1\)"),
        ("1 nan; 1 1", r"^inline kernel '1 nan; 1 1' row 1: 'nan' is not a number$"),
        (";;", r"^inline kernel ';;': holds no numbers$"),
        ("1 2; 3", r"row 2: row has 1 values, but the first row"),
        ("0x10 1", r"row 1: '0x10' is not a number"),
    ],
)  # fmt: skip
def test_malformed_and_overflowing_text_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        load_kernel(text)


def test_a_hint_for_a_matrix_without_numbers() -> None:
    with pytest.raises(KernelError) as caught:
        load_kernel("; ;")
    assert caught.value.hint == "write rows of numbers separated by ';', e.g. '0 1 0; 1 4 1; 0 1 0'"


@pytest.mark.parametrize(
    ("name", "text"),
    [("big.mat", "2 1\n1e308 1e308\n"), ("big.txt", "1e308 1e308\n"),
     ("big.json", "[[1e200]]"), ("tiny.mat", "1 1 1e-320\n1\n")],
)  # fmt: skip
def test_overflowing_files_name_the_file(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    message = rf"{name}: kernel must (have a sum of absolute|contain only finite numbers)"
    with pytest.raises(KernelError, match=message):
        load_kernel(tmp_path / name)


def test_an_overflowing_npy(tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.full((2, 2), 1e300))
    with pytest.raises(KernelError, match=r"big.npy: kernel must have a sum of absolute"):
        load_kernel(tmp_path / "big.npy")


def test_text_no_file_can_be_named_is_not_an_oserror() -> None:
    text = "9 " * 3000
    assert load_kernel(text).shape == (1, 3000)
    with pytest.raises(KernelError, match="not a number"):
        load_kernel("1 \x00")


ALPHABET = "0123456789 .,;-+eExnan@<>[]{}:\"'/"


@given(text=st.text(alphabet=ALPHABET, min_size=1, max_size=40))
def test_any_kernel_text_is_a_kernel_or_one_imconv_error(text: str) -> None:
    try:
        kernel: Kernel | ImconvError = load_kernel(text)
    except ImconvError as error:
        kernel = error
    if isinstance(kernel, ImconvError):
        assert "\n" not in kernel.message
    else:
        assert np.isfinite(kernel.weights).all()


# --- user presets never stop a run ---------------------------------------------------------


def _folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    monkeypatch.setenv("IMCONV_PRESETS", str(folder))
    return folder


def test_a_broken_user_preset_is_left_out_of_the_listing(tmp_path, monkeypatch) -> None:
    folder = _folder(tmp_path, monkeypatch, {"broken.toml": "kernel = [[1, 2], [3]]\n",
                                             "fine.toml": "kernel = [[1]]\n"})  # fmt: skip
    names = [row.name for row in list_presets()]
    assert "fine" in names
    assert "broken" not in names
    (warning,) = preset_warnings()
    assert warning.startswith(f"user preset {str(folder / 'broken.toml')!r} is not usable: ")
    with pytest.raises(KernelError, match=r"broken.toml: kernel\[1\] has shape"):
        load_kernel("broken")  # asked for by name, it is an error


def test_a_badly_named_user_preset_is_ignored(tmp_path, monkeypatch) -> None:
    _folder(tmp_path, monkeypatch, {"Bad Name!.toml": "kernel = [[1]]\n"})
    assert "bad name!" not in preset_names()
    (warning,) = preset_warnings()
    assert "is ignored: preset names must match" in warning


def test_no_warnings_when_all_is_well() -> None:
    assert preset_warnings() == []
