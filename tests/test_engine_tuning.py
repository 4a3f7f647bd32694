"""Autotuning, verification and plan estimates of the engine (``autotune=True``)."""

from __future__ import annotations

import numpy as np
import pytest

import imconv
from imconv.engine import _tune, forget_choices, remember_choices, tuned_choices
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


def test_autotune_measures_once_then_reuses_the_choice() -> None:
    first = imconv.choose_algorithm(IMAGE, KERNEL, autotune=True, **OPTIONS)
    second = imconv.choose_algorithm(IMAGE, KERNEL, autotune=True, **OPTIONS)
    assert first.source == "measured"
    assert first.reason.startswith("measured on")
    assert second.source == "cache"
    assert second.algorithm == first.algorithm
    assert list(tuned_choices().values()) == [first.algorithm.value]


def test_autotuned_result_equals_the_model_result() -> None:
    tuned = imconv.convolve(IMAGE, KERNEL, autotune=True, **OPTIONS)
    plain = imconv.convolve(IMAGE, KERNEL, algorithm="direct", **OPTIONS)
    np.testing.assert_allclose(tuned, plain, atol=1e-4 * np.abs(plain).max())


def test_a_remembered_choice_is_used_without_measuring() -> None:
    spec = make_spec(IMAGE.shape, IMAGE.dtype, KERNEL.shape, **OPTIONS)
    key = _tune.tuning_key(spec, imconv.kernel_rank(KERNEL.astype(np.float32)))
    remember_choices({key: "matmul", "other": "not-an-algorithm"})
    choice = imconv.choose_algorithm(IMAGE, KERNEL, autotune=True, **OPTIONS)
    assert (choice.algorithm, choice.source) == ("matmul", "cache")
    assert "other" not in tuned_choices()


@pytest.mark.parametrize("change", [dict(stride=2), dict(dilation=2), dict(threads=2),
                                    dict(padding="wrap"), dict(mode="valid")])  # fmt: skip
def test_the_tuning_key_changes_with_what_decides_speed(change: dict) -> None:
    base = make_spec(IMAGE.shape, IMAGE.dtype, KERNEL.shape, **OPTIONS)
    other = make_spec(IMAGE.shape, IMAGE.dtype, KERNEL.shape, **{**OPTIONS, **change})
    assert _tune.tuning_key(base, 5) != _tune.tuning_key(other, 5)


def test_a_requested_algorithm_is_never_measured() -> None:
    choice = imconv.choose_algorithm(IMAGE, KERNEL, autotune=True, algorithm="fft", **OPTIONS)
    assert (choice.algorithm, choice.source) == ("fft", "requested")
    assert tuned_choices() == {}


def test_band_spec_describes_the_first_rows_of_the_same_problem() -> None:
    spec = make_spec((100, 40), np.float32, (5, 3), mode="same", stride=3, threads=1)
    band = _tune.band_spec(spec, 7)
    assert band.output_shape == (7, spec.output_shape[1])
    x = RNG.random((100, 40))
    full = imconv.correlate(x, KERNEL[:, :3], stride=3)
    padded = np.pad(x, spec.pad_widths)[None]
    from imconv.engine import _direct

    part = _direct.correlate(padded[:, : band.padded_shape[0]], KERNEL[:, :3], band)
    np.testing.assert_allclose(part[0], full[:7], rtol=1e-5, atol=1e-6)


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


def test_choice_reports_operations_and_peak_memory() -> None:
    choice = imconv.choose_algorithm(IMAGE, KERNEL, algorithm="direct", **OPTIONS)
    assert choice.operations == 96 * 80 * 3 * 25
    padded_and_output = (100 * 84 + 96 * 80) * 3 * 4
    assert choice.peak_bytes > padded_and_output
    planned = imconv.choose_algorithm(np.broadcast_to(np.float32(0), (4000, 3000, 3)),
                                      KERNEL, **OPTIONS)  # fmt: skip
    assert planned.peak_bytes > 4000 * 3000 * 3 * 4 * 2
