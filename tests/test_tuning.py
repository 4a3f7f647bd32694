"""The autotuning store on disk: where it lives, what it keeps, when it is ignored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import imconv
from imconv import tuning
from imconv.engine import _tune, forget_choices


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
    store = tuning.DiskStore()
    made = imconv.plan((40, 30), np.ones((3, 3)), autotune=True, store=store, threads=1)
    assert made.reason == "measured"
    assert store.save() == 1
    again = imconv.plan(
        (40, 30), np.ones((3, 3)), autotune=True, store=tuning.DiskStore(), threads=1
    )
    assert (again.reason, again.algorithm) == ("cache", made.algorithm)
    assert _tune.MEMORY == {}  # a store given, the process memory is not used


def test_a_store_with_nothing_new_writes_nothing(cache_dir: Path) -> None:
    assert tuning.DiskStore().save() == 0
    assert not cache_dir.exists()


def test_save_merges_with_what_the_file_has() -> None:
    first, second = tuning.DiskStore(), tuning.DiskStore()
    first["a"] = "fft"
    first.save()
    second["b"] = "direct"
    assert second.save() == 2
    stored = json.loads(tuning.cache_file().read_text())
    assert stored["choices"] == {"a": "fft", "b": "direct"}
    assert dict(tuning.DiskStore()) == {"a": "fft", "b": "direct"}


def test_entries_of_another_machine_or_version_are_ignored() -> None:
    store = tuning.DiskStore()
    store["a"] = "fft"
    store.save()
    stored = json.loads(tuning.cache_file().read_text())
    stored["machine"]["numpy"] = "0.1"
    tuning.cache_file().write_text(json.dumps(stored))
    assert len(tuning.DiskStore()) == 0


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"format": 99}'])
def test_a_damaged_cache_is_treated_as_empty(content: str, cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True)
    tuning.cache_file().write_text(content)
    assert len(tuning.DiskStore()) == 0


def test_clear_removes_the_file_and_the_memory() -> None:
    store = tuning.DiskStore()
    store["a"] = "fft"
    store.save()
    _tune.MEMORY["b"] = "direct"
    assert tuning.clear() == 1
    assert not tuning.cache_file().exists()
    assert _tune.MEMORY == {}


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IMCONV_CACHE_DIR", str(blocker / "cache"))
    store = tuning.DiskStore()
    store["a"] = "fft"
    assert store.save() == 0
