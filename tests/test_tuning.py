"""The autotuning cache on disk: where it lives, what it keeps, when it is ignored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import imconv
from imconv import tuning
from imconv.engine import forget_choices, remember_choices, tuned_choices


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(tmp_path / "cache"))
    forget_choices()
    yield tmp_path / "cache"
    forget_choices()


def test_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMCONV_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert tuning.cache_file() == Path("/somewhere/imconv/autotune.json")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert tuning.cache_folder() == Path.home() / ".cache" / "imconv"


def test_measured_choices_survive_a_save_and_load(cache_dir: Path) -> None:
    x = np.random.default_rng(0).random((40, 30), dtype=np.float32)
    imconv.choose_algorithm(x, np.ones((3, 3)), autotune=True, threads=1)
    measured = tuned_choices()
    assert tuning.save() == 1
    forget_choices()
    assert tuning.load() == 1
    assert tuned_choices() == measured
    again = imconv.choose_algorithm(x, np.ones((3, 3)), autotune=True, threads=1)
    assert again.source == "cache"


def test_save_merges_with_what_the_file_has() -> None:
    remember_choices({"a": "fft"})
    tuning.save()
    forget_choices()
    remember_choices({"b": "direct"})
    assert tuning.save() == 2
    stored = json.loads(tuning.cache_file().read_text())
    assert stored["choices"] == {"a": "fft", "b": "direct"}


def test_entries_of_another_machine_or_version_are_ignored(cache_dir: Path) -> None:
    remember_choices({"a": "fft"})
    tuning.save()
    stored = json.loads(tuning.cache_file().read_text())
    stored["machine"]["numpy"] = "0.1"
    tuning.cache_file().write_text(json.dumps(stored))
    forget_choices()
    assert tuning.load() == 0


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"format": 99}'])
def test_a_damaged_cache_is_treated_as_empty(content: str, cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True)
    tuning.cache_file().write_text(content)
    assert tuning.load() == 0


def test_clear_removes_the_file_and_the_memory() -> None:
    remember_choices({"a": "fft"})
    tuning.save()
    assert tuning.clear() == 1
    assert not tuning.cache_file().exists()
    assert tuned_choices() == {}


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(blocker / "cache"))
    remember_choices({"a": "fft"})
    assert tuning.save() == 0
