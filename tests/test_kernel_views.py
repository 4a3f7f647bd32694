"""``imconv kernels``: the preset table with real defaults, and kernel sets shown part by
part with their ranks and the rule that combines them."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from helpers import imconv
from rich.console import Console

from imconv import report
from imconv.kernels import list_presets, load_kernel


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMCONV_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def render(renderable: object, width: int = 160) -> str:
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def facts(text: str) -> dict[str, str]:
    """The facts table: first word -> the rest of the line."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] in {"shape", "sum", "weights", "combine", "rank"}:
            found[words[0]] = " ".join(words[1:])
    return found


def test_the_table_shows_each_real_default() -> None:
    text = render(report.preset_table(list_presets()), width=250)
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert "sigma=1 size=2*ceil(3*sigma)+1" in rows["gaussian"]
    assert "sigma=1 size=2*ceil(3*sigma)+1" in rows["log"]
    assert "None" not in text
    assert "8x3x3 max" in rows["kirsch"]
    assert "2x3x3 magnitude" in rows["sobel"]
    assert "kernel=sobel-x times=8 angle=45 combine=max" in rows["compass"]


def test_a_set_shows_each_part_with_its_rank_and_the_rule() -> None:
    text = render(report.kernel_view(load_kernel("kirsch")))
    assert "max of 8 kernels:" in text
    assert "part 2: rank 3" in text
    assert facts(text)["combine"] == "max"
    assert facts(text)["rank"] == "3 (per part: 2 3 2 3 2 3 2 3)"
    text = render(report.kernel_view(load_kernel("compass:times=2,combine=sum")))
    assert "sum of 2 kernels (each response made absolute first):" in text
    assert facts(text)["combine"] == "sum of absolute responses"
    text = render(report.kernel_view(load_kernel("sobel")))
    assert "magnitude of 2 kernels:" in text
    assert "part 1: rank 1 (separable)" in text
    assert facts(text)["rank"] == "1 (per part: 1 1, all separable)"


def test_a_large_kernel_shows_its_centre_and_its_known_rank_fast() -> None:
    started = time.perf_counter()
    text = render(report.kernel_view(load_kernel("box:size=801")))
    assert time.perf_counter() - started < 3.0
    assert "centre 15x15 of 801x801:" in text
    assert facts(text)["rank"] == "1 (separable)"
    assert "(801 values)" in text


def test_a_huge_kernel_without_factors_skips_the_svd() -> None:
    text = render(report.kernel_view(load_kernel("disk:radius=600")))
    assert facts(text)["rank"].startswith("not computed (an SVD of a kernel over 1025 taps")


def test_the_command_shows_a_set_and_prints_preset_warnings(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IMCONV_PRESETS", str(tmp_path / "nowhere"))
    result = imconv("kernels", "freichen")
    assert "magnitude of 2 kernels:" in result.stdout
    assert "1.414" in result.stdout
    warning = result.stderr.strip()
    assert warning.startswith("imconv: warning: IMCONV_PRESETS names ")
    assert len(warning.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("1e308 1e308; 1e308 1e308", "kernel must have a sum of absolute weights"),
     ("1 nan; 1 1", "'nan' is not a number"),
     ("gaussian:sigma=1e5", "sigma of preset 'gaussian' must be a number >= 0.05 and <= 682.5"),
     ("[" * 5000 + "]" * 5000, "brackets must nest at most 8 deep")],
)  # fmt: skip
def test_the_command_refuses_bad_kernels_in_one_line(text: str, fragment: str) -> None:
    from helpers import assert_one_line_error

    result = imconv("kernels", text, expect=2)
    assert_one_line_error(result.stderr, fragment)
