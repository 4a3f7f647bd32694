"""`apply --dry-run`, `--autotune`, `--verify` and the `tuning` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import imconv, small_image

from imconv.engine import forget_choices


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(folder))
    forget_choices()
    yield folder
    forget_choices()


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    photo = small_image(tmp_path, size=(60, 40))
    result = imconv(
        "apply", "blur", photo, "--then", "gaussian:sigma=3", "--stride", "2", "--dry-run"
    )
    assert "plan (nothing computed)" in result.stdout
    assert "40x60x3" in result.stdout
    assert "20x30x3" in result.stdout
    assert "10x15x3" in result.stdout
    assert "model: direct" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_autotune_measures_then_reuses_the_cache(tmp_path: Path, cache: Path) -> None:
    photo = small_image(tmp_path, size=(80, 60))
    first = imconv("apply", "box:size=9", photo, "--autotune", "--timing", "-o", tmp_path / "a.png")
    assert "measured: " in first.stderr
    stored = json.loads((cache / "autotune.json").read_text())
    assert len(stored["choices"]) == 1
    forget_choices()
    second = imconv(
        "apply", "box:size=9", photo, "--autotune", "--timing", "-o", tmp_path / "b.png"
    )
    assert "cache: measured earlier" in second.stderr
    assert "1 cached choices" in imconv("tuning").stdout
    assert "removed 1 cached choices" in imconv("tuning", "--clear").stdout
    assert not (cache / "autotune.json").exists()


def test_verify_reports_the_error_against_direct(tmp_path: Path) -> None:
    photo = small_image(tmp_path)
    result = imconv(
        "apply",
        "sharpen",
        photo,
        "--algorithm",
        "fft",
        "--verify",
        "--timing",
        "--report",
        tmp_path / "r.json",
    )
    report = json.loads((tmp_path / "r.json").read_text())
    reason = report["images"][0]["stages"][2]["reason"]
    assert "verified against direct: max error" in reason
    error = float(reason.rsplit("max error ", 1)[1].split()[0])
    assert error < 1e-4
    assert "verified" in result.stderr


def test_verify_says_when_it_cannot(tmp_path: Path) -> None:
    imconv("apply", "sobel", small_image(tmp_path), "--verify", "--report", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert "not verified (a kernel set)" in report["images"][0]["stages"][2]["reason"]
