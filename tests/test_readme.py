"""Every example in the README runs: the shell lines as real subprocesses of the installed
``imconv`` command, in order, in one scratch copy of the samples (so each sees what the
earlier ones wrote, as a reader running the README top to bottom does); the Python blocks
as written. The examples write into ``out/`` only: ``samples/`` stays as it was."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def _shell_examples() -> list[str]:
    lines = [line for block in _blocks("bash") for line in block.splitlines()]
    return [line for line in lines if re.match(r"^(imconv|cat samples)", line)]


def test_the_quick_start_has_exactly_the_two_promised_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line for line in _blocks("bash")[0].splitlines() if line.strip()]
    assert commands == [
        "pip install . && imconv apply blur samples/coffee.png -o out/",
        "pip install '.[test]' && pytest",
    ]
    assert commands[0] in quick


def _quick_start() -> str:
    """The quick start's imconv command (after its ``pip install . &&``)."""
    return _blocks("bash")[0].splitlines()[0].split("&& ", 1)[1]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the samples and test data, as a fresh clone has them (no `out/`)."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "samples", folder / "samples")
    shutil.copytree(ROOT / "tests" / "data", folder / "tests" / "data")
    return folder


def _run(command: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "IMCONV_CACHE_DIR": str(scratch / "cache"),  # --autotune writes nothing outside
    }
    return subprocess.run(
        command, shell=True, cwd=scratch, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_quick_start_writes_into_out(scratch: Path) -> None:
    result = _run(_quick_start(), scratch)
    assert result.returncode == 0, result.stderr
    assert (scratch / "out" / "coffee_blur.png").is_file()


@pytest.mark.parametrize("command", _shell_examples())
def test_readme_shell_example_runs(command: str, scratch: Path) -> None:
    result = _run(command, scratch)
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert "warning" not in result.stderr, f"{command}\n{result.stderr}"


def test_the_examples_left_the_samples_as_they_were(scratch: Path) -> None:
    """Run after every shell example (pytest keeps the file's order): nothing was written
    into samples/, so no example filtered an earlier one's result."""
    assert sorted(p.name for p in (scratch / "samples").iterdir()) == sorted(
        p.name for p in (ROOT / "samples").iterdir()
    )
    assert not (scratch / "samples" / "retina_gaussian-sigma4.jpg").exists()  # --dry-run


def test_the_integer_kernel_example_is_normalized_not_white(scratch: Path) -> None:
    from PIL import Image

    with Image.open(scratch / "out" / "camera_blur3.png") as written:
        pixels = np.asarray(written, dtype=float)
    with Image.open(scratch / "samples" / "camera.png") as original:
        source = np.asarray(original, dtype=float)
    assert abs(pixels.mean() - source.mean()) < 2  # a blur keeps the mean; 8x would be white
    assert (pixels >= 255).mean() < 0.05


def test_readme_python_example_gives_the_results_it_states() -> None:
    namespace: dict[str, object] = {}
    exec(_blocks("python")[0], namespace)
    assert namespace["features"].shape == (400, 600, 5)  # type: ignore[attr-defined]
    assert namespace["blurred"].dtype == np.float32  # type: ignore[attr-defined]
    assert namespace["bank"].size == 375 * 5 // 5  # type: ignore[attr-defined]


def test_the_gallery_shows_every_preset_with_an_image() -> None:
    from imconv.kernels import preset_names

    gallery = README.split("<!-- gallery:start -->", 1)[1].split("<!-- gallery:end -->", 1)[0]
    for name in preset_names():
        assert f"docs/gallery/{name}.jpg" in gallery, name
        assert (ROOT / "docs" / "gallery" / f"{name}.jpg").is_file(), name


def test_readme_plan_example_runs_as_stated() -> None:
    namespace: dict[str, object] = {}
    exec(_blocks("python")[0], namespace)
    exec(_blocks("python")[1], namespace)
    p, photo = namespace["p"], namespace["photo"]
    expected = namespace["imconv"].convolve(  # type: ignore[attr-defined]
        photo,
        namespace["imconv"].preset("box", size=15).weights,  # type: ignore[attr-defined]
        padding="reflect",
        channel_axis=-1,
    )
    np.testing.assert_array_equal(namespace["blurred"], expected)
    np.testing.assert_array_equal(namespace["top"], expected[:100])
    assert p.reason == "model"  # type: ignore[attr-defined]


def test_readme_apply_example_runs_as_stated(scratch: Path, monkeypatch) -> None:
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(scratch / "cache"))
    namespace: dict[str, object] = {}
    exec("import imconv\n" + _blocks("python")[2], namespace)
    result = namespace["result"]
    assert result.exit_status == 0  # type: ignore[attr-defined]
    assert (scratch / "out" / "soft.png").is_file()
    assert result.records[0].stages[2].algorithm == "separable"  # type: ignore[attr-defined]
    assert (scratch / "out" / "coffee_sobel-x_sobel-y.png").is_file()
    assert (scratch / "out" / "run.json").is_file()
