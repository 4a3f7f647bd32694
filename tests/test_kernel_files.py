"""Kernels from files and text, user presets, and the presets shipped in the wheel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import imconv
from imconv.engine import convolve
from imconv.errors import InvalidParameterError, KernelError, UnknownNameError
from imconv.kernels import (
    builtin_presets_dir,
    list_presets,
    load_kernel,
    preset_names,
    preset_warnings,
)

ROOT = Path(__file__).resolve().parent.parent
BLUR = [[0, 1, 0], [1, 4, 1], [0, 1, 0]]


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's own preset folder out of these tests."""
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


WEIGHTS = np.random.default_rng(7).normal(size=(4, 5))  # non-square: orientation shows


def _rows_text(separator: str) -> str:
    return "\n".join(separator.join(repr(float(v)) for v in row) for row in WEIGHTS) + "\n"


WRITERS = {
    ".txt": lambda path: _write(path, "# weights\n" + _rows_text(" ")),
    ".csv": lambda path: _write(path, _rows_text(",")),
    ".json": lambda path: _write(path, json.dumps({"kernel": WEIGHTS.tolist()})),
    ".toml": lambda path: _write(path, f"kernel = {json.dumps(WEIGHTS.tolist())}\n"),
    ".npy": lambda path: np.save(path, WEIGHTS),
    ".mat": lambda path: _write(path, "5 4 1 0\n" + _rows_text(" ")),
}


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_every_format_round_trips(tmp_path: Path, suffix: str) -> None:
    """Every format holds the kernel as written, except libvips': ``vips conv`` correlates,
    so its matrix is the kernel flipped."""
    path = tmp_path / f"weights{suffix}"
    WRITERS[suffix](path)
    expected = WEIGHTS[::-1, ::-1] if suffix == ".mat" else WEIGHTS
    for given in (str(path), path):
        kernel = load_kernel(given)
        np.testing.assert_array_equal(kernel.weights, expected)
        assert kernel.slug == "weights"
        assert kernel.bias is None


def test_libvips_offset_is_added_to_every_channel(tmp_path: Path) -> None:
    kernel = load_kernel(str(_write(tmp_path / "k.mat", "3 1 2 10\n1 0 1\n")))
    image = np.random.default_rng(3).random((5, 6, 3))
    expected = convolve(image, [[0.5, 0.0, 0.5]], channel_axis=-1) + 10
    np.testing.assert_allclose(kernel.apply(image, channel_axis=-1), expected)


# --- text rows ---------------------------------------------------------------------------


def test_txt_rows_with_comments_blank_lines_and_mixed_separators(tmp_path: Path) -> None:
    path = _write(tmp_path / "soft.txt", "# my blur\n0 1 0\n\n1, 4, 1  # centre\n0,1,0,\n")
    kernel = load_kernel(str(path))
    np.testing.assert_array_equal(kernel.weights, BLUR)
    assert kernel.slug == "soft"
    assert kernel.name == str(path)


def test_csv_round_trips(tmp_path: Path) -> None:
    weights = np.random.default_rng(0).normal(size=(4, 5))
    np.savetxt(tmp_path / "k.csv", weights, delimiter=",")
    np.testing.assert_array_equal(load_kernel(str(tmp_path / "k.csv")).weights, weights)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2 3\n4 5\n", r"k.txt:2: row has 2 values, but the first row \(.*k.txt:1\) has 3"),
        ("# c\n1 2\n3 abc\n", r"k.txt:3: 'abc' is not a number"),
        ("1 nan\n", r"k.txt:1: 'nan' is not a number"),
        ("1,,2\n", r"k.txt:1: empty value between commas"),
        ("# nothing\n\n", r"k.txt: no kernel values found"),
    ],
)
def test_malformed_txt_names_file_line_and_value(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        load_kernel(str(_write(tmp_path / "k.txt", text)))


# --- JSON --------------------------------------------------------------------------------


def test_json_list_and_object_forms(tmp_path: Path) -> None:
    plain = load_kernel(str(_write(tmp_path / "a.json", json.dumps(BLUR))))
    np.testing.assert_array_equal(plain.weights, BLUR)
    scaled = {"kernel": BLUR, "scale": 0.125, "bias": 10, "description": "mine"}
    kernel = load_kernel(str(_write(tmp_path / "b.json", json.dumps(scaled))))
    np.testing.assert_array_equal(kernel.weights, load_kernel("blur").weights)
    assert float(kernel.bias) == 10.0
    assert kernel.description == "mine"
    assert kernel.slug == "b"


def test_json_bank_with_bias(tmp_path: Path) -> None:
    bank = np.arange(2 * 3 * 1 * 2, dtype=float).reshape(2, 3, 1, 2)
    data = {"kernel": bank.tolist(), "bias": [1.5, -1.5]}
    kernel = load_kernel(str(_write(tmp_path / "bank.json", json.dumps(data))))
    np.testing.assert_array_equal(kernel.weights, bank)
    np.testing.assert_array_equal(kernel.bias, [1.5, -1.5])
    assert kernel.weight_count == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[1, 2], [3]]", r"b.json: kernel\[1\] has shape \(1,\), but kernel\[0\] has \(2,\)"),
        ('[[1, "x"]]', r"b.json: kernel\[0\]\[1\] must be a number or a non-empty list; got 'x'"),
        ("[[1, 2],\n [3, 4]", r"b.json:2:8: invalid JSON"),
        ('{"weights": [[1]]}', r"b.json: a JSON kernel is \[\[...\]\] or an object with keys"),
        ("[[1, NaN]]", r"b.json: kernel must contain only finite numbers; got nan at index"),
        ("[[1e308, 1e308]]", r"b.json: kernel must have a sum of absolute weights .* got inf"),
    ],
)
def test_malformed_json_names_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        load_kernel(str(_write(tmp_path / "b.json", text)))


# --- .npy --------------------------------------------------------------------------------


def test_npy_matrix_and_bank_round_trip(tmp_path: Path) -> None:
    matrix = np.random.default_rng(1).normal(size=(3, 5))
    np.save(tmp_path / "m.npy", matrix)
    np.testing.assert_array_equal(load_kernel(str(tmp_path / "m.npy")).weights, matrix)
    bank = np.random.default_rng(2).normal(size=(4, 3, 3, 3)).astype(np.float32)
    np.save(tmp_path / "bank.npy", bank)
    kernel = load_kernel(tmp_path / "bank.npy")
    assert kernel.is_bank
    assert kernel.weights.dtype == np.float64
    assert kernel.weight_count == 108
    np.testing.assert_array_equal(kernel.weights, bank)


def test_npy_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "evil.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(KernelError, match=r"evil.npy: holds pickled Python objects") as caught:
        load_kernel(str(tmp_path / "evil.npy"))
    assert "numpy.save" in caught.value.hint


def test_npy_of_the_wrong_rank_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "cube.npy", np.ones((2, 3, 3)))
    with pytest.raises(KernelError, match=r"cube.npy: kernel must be 2-D .* got shape \(2, 3, 3\)"):
        load_kernel(str(tmp_path / "cube.npy"))


# --- libvips .mat ------------------------------------------------------------------------


def test_libvips_matrix_divides_by_scale_and_keeps_the_offset(tmp_path: Path) -> None:
    path = _write(tmp_path / "blur.mat", '3 3 8 128\n0 1 0 extra\n"1"\t4,1\n0 1 0\nignored\n')
    kernel = load_kernel(str(path))
    np.testing.assert_array_equal(kernel.weights, load_kernel("blur").weights)
    assert kernel.bias.shape == ()
    assert float(kernel.bias) == 128.0
    plain = load_kernel(str(_write(tmp_path / "p.mat", "2 1\n1 -1\n")))
    np.testing.assert_array_equal(plain.weights, [[-1, 1]])  # flipped: vips conv correlates
    assert plain.bias is None
    assert "flipped" in plain.description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 3 0\n1 1 1\n1 1 1\n1 1 1\n", r"k.mat:1: scale must not be 0"),
        ("3 x\n1 1 1\n", r"k.mat:1: a libvips matrix starts with 'width height"),
        ("3 2\n1 1 1\n1 1\n", r"k.mat:3: row has 2 values; the header says 3"),
        ("3 2\n1 1 1\n", r"k.mat: the header says 2 rows; found 1"),
        ("2 1\n1 y\n", r"k.mat:2: 'y' is not a number"),
    ],
)
def test_malformed_libvips_matrix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        load_kernel(str(_write(tmp_path / "k.mat", text)))


def test_matlab_mat_file_gets_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "m.mat").write_bytes(b"MATLAB 5.0 MAT-file\x00\x01\xff")
    with pytest.raises(KernelError, match=r"is a MATLAB .mat file; imconv reads libvips text"):
        load_kernel(str(tmp_path / "m.mat"))


# --- TOML (the preset format) --------------------------------------------------------------


def test_toml_file_is_a_preset(tmp_path: Path) -> None:
    text = 'description = "wide"\ngenerator = "box"\n[params.size]\ntype = "int"\ndefault = 5\n'
    kernel = load_kernel(str(_write(tmp_path / "Wide_Box.toml", text)))
    assert kernel.shape == (5, 5)
    assert kernel.slug == "wide_box"
    assert kernel.description == "wide"


BAD_TOML = [
    ("kernel = [[1, 2]]\nname = \n", r"k.toml: not a valid TOML preset: .*line 2"),
    ('kernel = [[1]]\ncolour = "red"\n', r"k.toml: unknown key 'colour'"),
    ('kernel = [[1]]\ngenerator = "box"\n', r"k.toml: give exactly one of 'kernel'"),
    ('generator = "bogus"\n', r"generator in .*k.toml must be one of binomial, box, compass"),
    (
        'generator = "box"\n[params.size]\ntype = "int"\ndefault = 0\nge = 1\n',
        r"k.toml: default of params.size: size of preset 'k' must be an integer >= 1 and <= "
        r"4097; got 0",
    ),
    (
        'generator = "box"\n[params.width]\ntype = "int"\n',
        r"k.toml: generator 'box' has no argument 'width'; it takes size",
    ),
    (
        'generator = "box"\n[params.size]\ntype = "int"\n',
        r"k.toml: generator 'box' needs 'size', in \[args\] or as a \[params.size\] with a default",
    ),
    ('parts = ["sobel-x", "no"]\ncombine = "magnitude"\n', r"k.toml: part 'no' is not a preset"),
    ('parts = ["sobel"]\ncombine = "magnitude"\n', r"part 'sobel' combines parts itself"),
    ('parts = ["sobel-x"]\ncombine = "mean"\n', r"k.toml: combine must be one of"),
    ('parts = ["sobel-x"]\n', r"k.toml: parts need a combine, one of .*; none given"),
    ("kernel = [[[1]], [[2]]]\n", r"k.toml: kernel must be 2-D \(kh, kw\) or a 4-D bank"),
    ('kernel = [[1]]\ncombine = "max"\n', r"k.toml: kernel must be a stack \(parts, kh, kw\)"),
    ("kernel = [[1]]\nabsolute = true\n", r"k.toml: absolute must be true or false, with a comb"),
    ('generator = "box"\ncombine = "max"\n', r"k.toml: a generator sets 'combine' itself"),
    (
        'generator = "box"\n[args]\nsize = 0\n',
        r"size of .*k.toml \[args\] must be an integer >= 1 and <= 4097; got 0",
    ),
    (
        'generator = "motion"\n[args]\nlength = 3\nangle = "abc"\n',
        r"angle of .*k.toml \[args\] must be a number; got 'abc'",
    ),
    (
        'generator = "box"\n[args]\nsize = 3\n[params.size]\ntype = "int"\n',
        r"k.toml: 'size' is given in both \[args\] and \[params\]",
    ),
    (
        'generator = "box"\n[params.size]\ntype = "str"\nchoices = ["a"]\n',
        r"k.toml: params.size has type 'str', but the generator takes 'int'",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_TOML)
def test_malformed_toml_preset_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises((KernelError, InvalidParameterError), match=message):
        load_kernel(str(_write(tmp_path / "k.toml", text)))


# --- ImageMagick strings and inline matrices ----------------------------------------------


@pytest.mark.parametrize(
    "text", ["3x3: 0,1,0 1,4,1 0,1,0", "3: 0,1,0, 1,4,1, 0,1,0", " 3x3+1+1 :0 1 0 1 4 1 0 1 0;"]
)
def test_imagemagick_kernel_strings(text: str) -> None:
    kernel = load_kernel(text)
    np.testing.assert_array_equal(kernel.weights, BLUR)
    assert kernel.slug == "custom"


def test_imagemagick_rectangular_and_nan_taps() -> None:
    np.testing.assert_array_equal(load_kernel("3x2: 1 2 3 4 5 6").weights, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(load_kernel("2: 1 nan - 1").weights, [[1, 0], [0, 1]])


def test_imagemagick_origin_matches_its_convolve() -> None:
    """ImageMagick Convolve: ``y(p) = sum_n w[n] x[p + origin - n]``, so an impulse at q
    shows the kernel as written with its origin tap on q."""
    weights = np.arange(1.0, 7.0).reshape(2, 3)
    impulse = np.zeros((9, 9))
    impulse[4, 4] = 1
    for x, y in [(0, 0), (2, 1), (1, 0)]:
        kernel = load_kernel(f"3x2+{x}+{y}: 1 2 3 4 5 6")
        response = convolve(impulse, kernel.weights)
        np.testing.assert_array_equal(response[4 - y : 6 - y, 4 - x : 7 - x], weights)
        assert response.sum() == weights.sum()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3x3: 1 2 3", r"the size needs 9 values; got 3"),
        ("2: 1 2 3 x", r"'x' is not a number"),
        ("2: nan nan nan -", r"every value is 'nan'"),
        ("3x3+3+0: 1 1 1 1 1 1 1 1 1", r"origin '\+3\+0' must lie inside the 3x3 kernel"),
        ("3x3%: 1 1 1 1 1 1 1 1 1", r"geometry flags '%' are not supported"),
        ("1: 1; 1: x", r"'x' is not a number"),
    ],
)
def test_bad_imagemagick_strings(text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message):
        load_kernel(text)


@pytest.mark.parametrize(
    "text", ["0 1 0; 1 4 1; 0 1 0", "0,1,0;1,4,1;0,1,0;", "0 1 0\n1 4 1\n0 1 0", json.dumps(BLUR)]
)
def test_inline_matrices(text: str) -> None:
    kernel = load_kernel(text)
    np.testing.assert_array_equal(kernel.weights, BLUR)
    assert kernel.slug == "custom"
    assert kernel.name == text.strip()


def test_ragged_inline_matrix() -> None:
    message = r"inline kernel '1 2; 3' row 2: row has 1 values, but the first row \(inline kernel"
    with pytest.raises(KernelError, match=message):
        load_kernel("1 2; 3")


# --- resolution order and unknown names --------------------------------------------------


def test_unknown_name_suggests_a_preset() -> None:
    with pytest.raises(
        UnknownNameError, match="kernel must be one of binomial, blur, box"
    ) as caught:
        load_kernel("blurr")
    assert caught.value.hint == "did you mean 'blur'?"


@pytest.mark.parametrize("text", ["missing.txt", "kernels/sharp", "x.NPY"])
def test_missing_file_is_named(text: str) -> None:
    with pytest.raises(KernelError, match=f"kernel file '{text}' does not exist"):
        load_kernel(text)


def test_other_unusable_inputs(tmp_path: Path) -> None:
    with pytest.raises(KernelError, match="kernel must not be empty"):
        load_kernel("  ")
    with pytest.raises(KernelError, match="is a folder, not a kernel file"):
        load_kernel(str(tmp_path))
    with pytest.raises(KernelError, match=r"'.*k.png' has an unsupported suffix; use one of .txt"):
        load_kernel(str(_write(tmp_path / "k.png", "1")))


def test_missing_path_object(tmp_path: Path) -> None:
    with pytest.raises(KernelError, match=r"kernel file '.*gone.npy' does not exist"):
        load_kernel(tmp_path / "gone.npy")


def test_preset_names_win_over_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "blur", "1 1\n")
    assert load_kernel("blur").shape == (3, 3)


# --- user presets -----------------------------------------------------------------------


def test_user_preset_folder_from_the_environment(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    _write(folder / "soft.toml", 'description = "mine"\nkernel = [[1, 2, 1]]\nscale = 0.25\n')
    monkeypatch.setenv("IMCONV_PRESETS", str(folder))
    np.testing.assert_array_equal(load_kernel("soft").weights, [[0.25, 0.5, 0.25]])
    row = next(row for row in list_presets() if row.name == "soft")
    assert row.source == str(folder / "soft.toml")
    assert row.description == "mine"


def test_xdg_config_home_is_the_default_folder(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "config" / "imconv" / "presets"
    folder.mkdir(parents=True)
    _write(folder / "edge3.toml", 'parts = ["sobel-x:", "prewitt-y"]\ncombine = "magnitude"\n')
    assert load_kernel("edge3").shape == (2, 3, 3)


def test_user_presets_cannot_shadow_built_ins(tmp_path, monkeypatch) -> None:
    """Never a silent replacement, and never a stop: the built-in is used, and a warning
    names the file."""
    _write(tmp_path / "blur.toml", "kernel = [[1]]\n")
    monkeypatch.setenv("IMCONV_PRESETS", str(tmp_path))
    assert load_kernel("sharpen").shape == (3, 3)
    assert load_kernel("blur").shape == (3, 3)
    (warning,) = preset_warnings()
    assert warning == (
        f"user preset {str(tmp_path / 'blur.toml')!r} has the name of the built-in preset "
        "'blur' and is ignored; rename the file"
    )


def test_user_preset_must_be_named_after_its_file(tmp_path, monkeypatch) -> None:
    _write(tmp_path / "a.toml", 'name = "b"\nkernel = [[1]]\n')
    monkeypatch.setenv("IMCONV_PRESETS", str(tmp_path))
    with pytest.raises(KernelError, match=r"a.toml: name 'b' must be the file name 'a'"):
        load_kernel("a")


def test_imconv_presets_may_name_the_built_in_folder(monkeypatch) -> None:
    monkeypatch.setenv("IMCONV_PRESETS", str(builtin_presets_dir()))
    assert load_kernel("blur").shape == (3, 3)


def test_missing_imconv_presets_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IMCONV_PRESETS", str(tmp_path / "nowhere"))
    assert load_kernel("blur").shape == (3, 3)
    assert load_kernel("0 1 0").shape == (1, 3)
    assert len(list_presets()) == len(preset_names())
    (warning,) = preset_warnings()
    assert re.fullmatch(r"IMCONV_PRESETS names '.*nowhere', which is not a folder; no user "
                        r"presets are read", warning)  # fmt: skip


# --- packaging -------------------------------------------------------------------------


def test_builtin_presets_are_the_repository_presets() -> None:
    names = {entry.name for entry in builtin_presets_dir().iterdir()}
    assert names == {path.name for path in (ROOT / "presets").glob("*.toml")}


def test_an_installed_package_uses_its_own_presets() -> None:
    """Installed (not editable), presets come from imconv/presets via importlib.resources;
    from a source checkout, from the top-level presets/ folder."""
    package = Path(imconv.__file__).resolve().parent
    folder = Path(str(builtin_presets_dir())).resolve()
    expected = ROOT / "presets" if package == ROOT / "imconv" else package / "presets"
    assert folder == expected


def test_presets_are_found_inside_the_built_wheel(tmp_path: Path) -> None:
    """Build the wheel, import imconv from it (zipimport) and list its presets through
    importlib.resources, with the source checkout out of the way."""
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling")
    build = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)]
    subprocess.run(build, cwd=ROOT, check=True, capture_output=True, timeout=120)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = {n for n in archive.namelist() if n.startswith("imconv/presets/")}
    assert packed == {f"imconv/presets/{p.name}" for p in (ROOT / "presets").glob("*.toml")}
    script = (
        "import imconv.kernels as k; d = k.builtin_presets_dir(); "
        "assert '.whl' in str(d), d; assert k.load_kernel('sobel').shape == (2, 3, 3); "
        "print(len(k.list_presets()))"
    )
    env = {**os.environ, "PYTHONPATH": str(wheel), "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("IMCONV_PRESETS", None)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == len(packed)
