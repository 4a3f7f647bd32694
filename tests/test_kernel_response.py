"""The frequency response (``imconv kernels NAME --response [--plot FILE]``): ``|H|``
against numpy.fft and known responses, the terminal heat map and the matplotlib figure."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from helpers import DATA, assert_one_line_error, imconv
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rich.console import Console

from imconv import report
from imconv.errors import InvalidParameterError, KernelError
from imconv.kernels import frequency_response, load_kernel, radial_profile

RNG = np.random.default_rng(64)


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def render(renderable: object) -> str:
    console = Console(width=100, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# --- the numbers --------------------------------------------------------------------------


def test_the_response_is_the_centred_magnitude_of_numpy_fft2() -> None:
    weights = RNG.normal(size=(5, 7))
    fy, fx, magnitude = frequency_response(weights)
    expected = np.fft.fftshift(np.abs(np.fft.fft2(weights, s=(64, 64))))
    np.testing.assert_array_equal(magnitude, expected)
    np.testing.assert_array_equal(fx, np.fft.fftshift(np.fft.fftfreq(64)))
    assert (fy[0], fy[32], fy[-1]) == (-0.5, 0.0, 0.5 - 1 / 64)
    assert magnitude[32, 32] == pytest.approx(abs(weights.sum()))


def test_the_identity_passes_every_frequency() -> None:
    _, _, magnitude = frequency_response(load_kernel("identity").weights)
    np.testing.assert_allclose(magnitude, np.ones((64, 64)), atol=1e-15)


@pytest.mark.parametrize("size", [2, 3, 5, 8])
def test_a_box_response_is_a_dirichlet_kernel_per_axis(size: int) -> None:
    fy, fx, magnitude = frequency_response(load_kernel(f"box:size={size}").weights)

    def dirichlet(f: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.sin(np.pi * size * f) / (size * np.sin(np.pi * f))
        return np.abs(np.where(f == 0, 1.0, value))

    np.testing.assert_allclose(magnitude, np.outer(dirichlet(fy), dirichlet(fx)), atol=1e-12)


def test_edge_kernels_block_zero_frequency_and_blurs_pass_it() -> None:
    for name in ("sobel-x", "laplacian", "log", "dog"):
        _, _, magnitude = frequency_response(load_kernel(name).weights)
        assert magnitude[32, 32] < 1e-12, name
    _, _, magnitude = frequency_response(load_kernel("gaussian:sigma=2").weights)
    assert magnitude[32, 32] == pytest.approx(1.0)
    assert magnitude.max() == pytest.approx(1.0)
    assert magnitude[0, 0] < 1e-3  # the Nyquist corner is gone


def test_larger_kernels_are_never_cut() -> None:
    fy, fx, magnitude = frequency_response(np.ones((100, 3)))
    assert magnitude.shape == (100, 64) == (fy.size, fx.size)
    fy, fx, magnitude = frequency_response(np.ones((3, 3)), size=128)
    assert magnitude.shape == (128, 128)


@given(weights=hnp.arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 9)),
                          elements=st.floats(-10, 10)))  # fmt: skip
def test_parseval_and_the_flip(weights: np.ndarray) -> None:
    """``sum |H|^2 = N * sum w^2``; convolution and correlation have the same ``|H|``."""
    _, _, magnitude = frequency_response(weights, size=16)
    assert (magnitude**2).sum() == pytest.approx(256 * (weights**2).sum(), rel=1e-9, abs=1e-9)
    _, _, flipped = frequency_response(weights[::-1, ::-1], size=16)
    np.testing.assert_allclose(flipped, magnitude, atol=1e-9)


def test_the_radial_profile_averages_rings() -> None:
    radius, mean = radial_profile(*frequency_response(np.ones((1, 1))), bins=8)
    np.testing.assert_allclose(radius, (np.arange(8) + 0.5) / 16)
    np.testing.assert_allclose(mean, np.ones(8))
    radius, mean = radial_profile(*frequency_response(load_kernel("gaussian:sigma=1").weights))
    assert (np.diff(mean) < 0).all()  # a Gaussian falls off with frequency


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: frequency_response(np.ones((2, 2, 2))), KernelError,
         r"frequency response needs a finite real 2-D kernel; got shape \(2, 2, 2\)"),
        (lambda: frequency_response(np.ones((2, 2)), size=0), InvalidParameterError,
         r"size must be an integer from 1 to 4097; got 0"),
        (lambda: radial_profile(*frequency_response(np.ones((1, 1))), bins=0),
         InvalidParameterError, r"bins must be a positive integer; got 0"),
    ],
)  # fmt: skip
def test_response_errors(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


# --- the terminal view and the figure ------------------------------------------------------


def test_the_terminal_view_of_a_kernel() -> None:
    text = render(report.response_view(load_kernel("box:size=3")))
    lines = text.splitlines()
    assert lines[0].strip() == "box:size=3  |H|, the magnitude of the 2-D DFT"
    assert sum(line.count("▀") == 64 for line in lines) == 32  # 64x64 in half blocks
    assert "gain at f=0  1" in text
    assert "64x64 DFT, centred" in text
    assert "fx -0.5 .. +0.5 cycles/pixel" in text


def test_the_terminal_view_of_a_set_shows_every_part() -> None:
    text = render(report.response_view(load_kernel("kirsch")))
    assert [line.strip() for line in text.splitlines() if line.startswith("part ")] == [
        f"part {i}" for i in range(1, 9)
    ]
    assert text.count("gain at f=0  0") == 8


def test_a_bank_has_no_response() -> None:
    with pytest.raises(KernelError, match=r"is a bank of shape \(3, 3, 3, 3\); a frequency"):
        report.response_view(load_kernel(DATA / "bank.npy"))


needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib (imconv[plot]) is absent"
)


@needs_matplotlib
@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])  # fmt: skip
def test_the_figure_is_written_whole(tmp_path: Path, suffix: str, magic: bytes) -> None:
    folder = tmp_path / "figures"
    folder.mkdir()
    path = report.plot_response(load_kernel("sobel"), folder / f"r{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in folder.iterdir()] == [f"r{suffix}"]  # no temporary left


@needs_matplotlib
def test_the_command_shows_and_draws_the_response(tmp_path: Path) -> None:
    result = imconv("kernels", "gaussian:sigma=1.5", "--response", "--plot", tmp_path / "g.png")
    assert "gain at f=0" in result.stdout
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert result.stderr.strip() == f"wrote {tmp_path / 'g.png'}"


def test_the_command_checks_the_plot_before_any_work(tmp_path: Path) -> None:
    result = imconv("kernels", "box", "--plot", tmp_path / "r.gif", expect=2)
    assert_one_line_error(result.stderr, "--plot must be a .png, .svg or .pdf file name")
    assert result.stdout == ""
    result = imconv("kernels", "--response", expect=2)
    assert_one_line_error(result.stderr, "--response must be used with NAME")


def test_without_matplotlib_the_plot_stops_with_a_hint(monkeypatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "matplotlib" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = imconv("kernels", "box", "--response", "--plot", tmp_path / "r.png", expect=1)
    assert_one_line_error(result.stderr, "needs matplotlib", hint="pip install 'imconv[plot]'")
    assert not (tmp_path / "r.png").exists()
