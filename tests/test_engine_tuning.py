"""Autotuning, verification and plan estimates of the engine (``autotune=True``)."""

from __future__ import annotations

import numpy as np
import pytest

import imconv
from imconv.engine import _plan, _tune, forget_choices
from imconv.engine._options import ConvOptions
from imconv.engine._spec import make_spec

RNG = np.random.default_rng(7)
IMAGE = RNG.random((96, 80, 3), dtype=np.float32)
KERNEL = RNG.standard_normal((5, 5)).astype(np.float32)
OPTIONS = dict(channel_axis=-1, padding="reflect", threads=1)


@pytest.fixture(autouse=True)
def empty_memory():
    forget_choices()
    yield
    forget_choices()


def _plan_image(**extra: object) -> imconv.Plan:
    return imconv.plan(IMAGE.shape, KERNEL, dtype=IMAGE.dtype, **{**OPTIONS, **extra})


def test_autotune_measures_once_then_reuses_the_choice() -> None:
    store: dict[str, str] = {}
    first = _plan_image(autotune=True, store=store)
    second = _plan_image(autotune=True, store=store)
    assert first.reason == "measured"
    assert first.explanation.endswith("rows")
    assert second.reason == "cache"
    assert second.algorithm == first.algorithm
    assert list(store.values()) == [first.algorithm.value]


def test_without_a_store_choices_live_in_the_process_memory() -> None:
    first = _plan_image(autotune=True)
    assert {next(iter(_tune.MEMORY)): first.algorithm.value} == _tune.MEMORY
    assert _plan_image(autotune=True).reason == "cache"
    forget_choices()
    assert _plan_image(autotune=True).reason == "measured"


def test_autotuned_result_equals_the_model_result() -> None:
    tuned = imconv.convolve(IMAGE, KERNEL, autotune=True, **OPTIONS)
    plain = imconv.convolve(IMAGE, KERNEL, algorithm="direct", **OPTIONS)
    np.testing.assert_allclose(tuned, plain, atol=1e-4 * np.abs(plain).max())


def _stored_key() -> str:
    """The key under which a measured plan of IMAGE and KERNEL is stored."""
    store: dict[str, str] = {}
    _plan_image(autotune=True, store=store)
    (key,) = store
    return key


def test_a_stored_choice_is_used_without_measuring() -> None:
    key = _stored_key()
    store = {key: "matmul", "other": "not-an-algorithm"}
    made = _plan_image(autotune=True, store=store)
    assert (made.algorithm, made.reason) == ("matmul", "cache")
    assert made.explanation == f"measured earlier ({key})"
    assert store == {key: "matmul", "other": "not-an-algorithm"}


def test_a_stored_name_that_is_no_algorithm_is_measured_again() -> None:
    key = _stored_key()
    store = {key: "bogus"}
    made = _plan_image(autotune=True, store=store)
    assert made.reason == "measured"
    assert store[key] == made.algorithm.value


@pytest.mark.parametrize(
    "change",
    [dict(stride=2), dict(dilation=2), dict(threads=2), dict(padding="wrap"), dict(mode="valid")],
)
def test_the_tuning_key_changes_with_what_decides_speed(change: dict) -> None:
    base = make_spec(IMAGE.shape, IMAGE.dtype, KERNEL.shape, ConvOptions(**OPTIONS))
    other = make_spec(IMAGE.shape, IMAGE.dtype, KERNEL.shape, ConvOptions(**{**OPTIONS, **change}))
    assert _tune.tuning_key(base, 5, IMAGE.dtype) != _tune.tuning_key(other, 5, IMAGE.dtype)


def test_the_tuning_key_names_the_input_dtype_and_channel_axis() -> None:
    spec = make_spec(IMAGE.shape, np.uint8, KERNEL.shape, ConvOptions(**OPTIONS))
    moved = make_spec((3, 96, 80), np.uint8, KERNEL.shape, ConvOptions(channel_axis=0))
    key = _tune.tuning_key(spec, 1, np.dtype(np.uint8))
    assert "uint8-float32" in key
    assert key != _tune.tuning_key(moved, 1, np.dtype(np.uint8))


def test_a_requested_algorithm_is_never_measured() -> None:
    store: dict[str, str] = {}
    made = _plan_image(autotune=True, algorithm="fft", store=store)
    assert (made.algorithm, made.reason) == ("fft", "forced")
    assert store == {}


def test_autotune_times_the_layout_and_path_that_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spy on the plan's executor: each candidate is timed in the layout it later runs in,
    on a block of the planned input dtype, and the run uses the winner's layout."""
    seen: list[tuple[str, str, str, tuple[int, ...]]] = []
    real = _plan.Plan._execute

    def spy(self: imconv.Plan, padded: np.ndarray, spec: object, *args, **kwargs) -> np.ndarray:
        seen.append((str(self.algorithm), str(self.layout), padded.dtype.name, padded.shape))
        return real(self, padded, spec, *args, **kwargs)

    monkeypatch.setattr(_plan.Plan, "_execute", spy)
    photo = (RNG.random((96, 80, 3)) * 255).astype(np.uint8)
    made = imconv.plan(photo.shape, KERNEL, dtype=photo.dtype, autotune=True, store={}, **OPTIONS)
    timed = {algorithm: layout for algorithm, layout, _, _ in seen}
    assert set(timed) >= {str(made.algorithm)}
    for algorithm, layout in timed.items():
        assert layout == str(made.with_algorithm(imconv.Algorithm(algorithm)).layout)
    expected = "channels-last" if made.algorithm != "matmul" else "channels-first"
    assert timed[str(made.algorithm)] == expected
    seen.clear()
    made(photo)
    assert [(a, layout) for a, layout, _, _ in seen] == [(str(made.algorithm), expected)]
    shape = seen[0][3]
    assert shape[-1 if expected == "channels-last" else 0] == 3


@pytest.mark.parametrize("algorithm", ["direct", "matmul", "fft", "separable"])
def test_verify_is_tiny_for_every_algorithm(algorithm: str) -> None:
    y = imconv.convolve(IMAGE, KERNEL, algorithm=algorithm, **OPTIONS)
    assert imconv.verify(IMAGE, KERNEL, y, **OPTIONS) < 1e-5


def test_verify_catches_a_wrong_result() -> None:
    y = imconv.convolve(IMAGE, KERNEL, **OPTIONS)
    y[0, 0, 0] += 10.0
    assert imconv.verify(IMAGE, KERNEL, y, **OPTIONS) > 0.1
    corr = imconv.correlate(IMAGE, KERNEL, **OPTIONS)
    assert imconv.verify(IMAGE, KERNEL, corr, correlate=True, **OPTIONS) < 1e-5
    assert imconv.verify(IMAGE, KERNEL, corr, **OPTIONS) > 0.01  # flipped kernel differs


def test_plan_reports_operations_and_peak_memory() -> None:
    made = _plan_image(algorithm="direct")
    assert made.operations == 96 * 80 * 3 * 25
    padded_and_output = (100 * 84 + 96 * 80) * 3 * 4
    assert made.peak_bytes > padded_and_output
    large = imconv.plan((4000, 3000, 3), KERNEL, **OPTIONS)
    assert large.peak_bytes > 4000 * 3000 * 3 * 4 * 2
