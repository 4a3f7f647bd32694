"""Every user error of the engine: its exception class and its message, pinned.

Messages name the argument, show the value received and say what is allowed. Validation
happens once, before an algorithm is chosen, so every algorithm and both operations raise
the same error with the same message: the table runs over all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import imconv
from imconv.errors import (
    ImconvError,
    InvalidParameterError,
    KernelError,
    ShapeError,
    UnknownNameError,
)

ALGORITHMS = ("direct", "matmul", "fft", "separable", "auto")
IMAGE = np.ones((4, 4))
KERNEL = np.ones((3, 3))
RGB = np.ones((4, 4, 3))


@dataclass(frozen=True)
class Bad:
    """One invalid call: its arguments, the error expected and the message it must carry."""

    id: str
    error: type[Exception]
    message: str  # a literal fragment of the message (escaped before matching)
    x: Any = field(default_factory=lambda: IMAGE)
    w: Any = field(default_factory=lambda: KERNEL)
    options: dict[str, Any] = field(default_factory=dict)


BAD_CALLS = [
    Bad(
        "kernel-nan",
        KernelError,
        "kernel must contain only finite numbers; got nan at index (0, 1)",
        w=[[1.0, np.nan], [0.0, 1.0]],
    ),
    Bad(
        "kernel-inf",
        KernelError,
        "kernel must contain only finite numbers; got -inf at index (1, 1)",
        w=[[1.0, 0.0], [0.0, -np.inf]],
    ),
    Bad(
        "kernel-empty",
        ShapeError,
        "kernel must be a non-empty array; got shape (0, 3)",
        w=np.ones((0, 3)),
    ),
    Bad(
        "image-empty",
        ShapeError,
        "image must be a non-empty array; got shape (0, 4)",
        x=np.ones((0, 4)),
    ),
    Bad(
        "image-scalar",
        ShapeError,
        "image must have at least one axis; got 3.0, a 0-d array (a single number)",
        x=3.0,
    ),
    Bad(
        "kernel-scalar",
        ShapeError,
        "kernel must have at least one axis per spatial axis of the image; got 2.0, a 0-d "
        "array (a single number)",
        x=np.ones(3),
        w=2.0,
    ),
    Bad(
        "kernel-ndim",
        ShapeError,
        "kernel must have as many axes as the image (2); got kernel shape (3,) for image "
        "shape (4, 4)",
        w=np.ones(3),
    ),
    Bad(
        "kernel-ndim-with-channels",
        ShapeError,
        "kernel must have 2 axes (one kernel for every channel) or 4 (a bank (C_out, C_in, "
        "...)); got kernel shape (3,)",
        x=RGB,
        w=np.ones(3),
        options=dict(channel_axis=-1),
    ),
    Bad(
        "bank-channels",
        ShapeError,
        "kernel bank must have shape (C_out, C_in=3, ...) to match the image's 3 channels; "
        "got kernel shape (2, 4, 3, 3)",
        x=RGB,
        w=np.ones((2, 4, 3, 3)),
        options=dict(channel_axis=-1),
    ),
    Bad(
        "bias-length",
        ShapeError,
        "bias must be a number or have one value per output channel (2); got shape (3,)",
        x=RGB,
        w=np.ones((2, 3, 3, 3)),
        options=dict(channel_axis=-1, bias=[1.0, 2.0, 3.0]),
    ),
    Bad(
        "bias-length-per-channel",
        ShapeError,
        "bias must be a number or have one value per output channel (3); got shape (2,)",
        x=RGB,
        options=dict(channel_axis=-1, bias=[1.0, 2.0]),
    ),
    Bad(
        "bias-2d",
        ShapeError,
        "bias must be a number or have one value per output channel (1); got shape (1, 1)",
        options=dict(bias=[[1.0]]),
    ),
    Bad(
        "bias-nan",
        InvalidParameterError,
        "bias must be finite real numbers; got nan",
        options=dict(bias=np.nan),
    ),
    Bad(
        "stride-zero",
        InvalidParameterError,
        "stride must be a positive integer or a tuple of them, one per axis; got 0",
        options=dict(stride=0),
    ),
    Bad(
        "stride-pair-with-zero",
        InvalidParameterError,
        "stride must be a positive integer or a tuple of them, one per axis; got (0, 2)",
        options=dict(stride=(0, 2)),
    ),
    Bad(
        "stride-float",
        InvalidParameterError,
        "stride must be a positive integer or a tuple of them, one per axis; got 1.5",
        options=dict(stride=1.5),
    ),
    Bad(
        "stride-bool",
        InvalidParameterError,
        "stride must be a positive integer or a tuple of them, one per axis; got True",
        options=dict(stride=True),
    ),
    Bad(
        "stride-too-many",
        InvalidParameterError,
        "stride must be a positive integer or a tuple of 2; got (1, 2, 3)",
        options=dict(stride=(1, 2, 3)),
    ),
    Bad(
        "dilation-negative",
        InvalidParameterError,
        "dilation must be a positive integer or a tuple of them, one per axis; got -1",
        options=dict(dilation=-1),
    ),
    Bad(
        "dilation-float",
        InvalidParameterError,
        "dilation must be a positive integer or a tuple of them, one per axis; got 2.0",
        options=dict(dilation=2.0),
    ),
    Bad(
        "dilation-pair-with-zero",
        InvalidParameterError,
        "dilation must be a positive integer or a tuple of them, one per axis; got (1, 0)",
        options=dict(dilation=(1, 0)),
    ),
    Bad(
        "padding-unknown",
        UnknownNameError,
        "padding must be one of zero, constant, reflect, symmetric, replicate, wrap, mean; "
        "got 'mirror'",
        options=dict(padding="mirror"),
    ),
    Bad(
        "mode-unknown",
        UnknownNameError,
        "mode must be one of full, same, valid; got 'wide'",
        options=dict(mode="wide"),
    ),
    Bad(
        "algorithm-unknown",
        UnknownNameError,
        "algorithm must be one of auto, direct, matmul, fft, separable; got 'winograd'",
        options=dict(algorithm="winograd"),
    ),
    Bad(
        "valid-kernel-larger",
        ShapeError,
        "mode 'valid' needs an image at least as large as the dilated kernel on every axis; "
        "got image (3, 3) and kernel (5, 5)",
        x=np.ones((3, 3)),
        w=np.ones((5, 5)),
        options=dict(mode="valid"),
    ),
    Bad(
        "valid-dilated-kernel-larger",
        ShapeError,
        "mode 'valid' needs an image at least as large as the dilated kernel on every axis; "
        "got image (5, 5) and kernel (7, 7)",
        x=np.ones((5, 5)),
        options=dict(mode="valid", dilation=3),
    ),
    Bad(
        "channel-axis-out-of-range",
        InvalidParameterError,
        "channel_axis must be an axis of the image (shape (4, 4)) that leaves at least one "
        "other; got 2",
        w=np.ones(3),
        options=dict(channel_axis=2),
    ),
    Bad(
        "channel-axis-leaves-nothing",
        InvalidParameterError,
        "channel_axis must be an axis of the image (shape (4,)) that leaves at least one "
        "other; got 0",
        x=np.ones(4),
        w=np.ones(3),
        options=dict(channel_axis=0),
    ),
    Bad(
        "channel-axis-float",
        InvalidParameterError,
        "channel_axis must be an integer axis or None; got 1.0",
        w=np.ones(3),
        options=dict(channel_axis=1.0),
    ),
    Bad(
        "channel-axis-bool",
        InvalidParameterError,
        "channel_axis must be an integer axis or None; got True",
        w=np.ones(3),
        options=dict(channel_axis=True),
    ),
    Bad(
        "kernel-object",
        InvalidParameterError,
        "kernel dtype must be numeric: bool, integer, floating point or complex; got 'object'",
        w=np.array([[1.0, None]]),
    ),
    Bad(
        "image-object",
        InvalidParameterError,
        "image dtype must be numeric: bool, integer, floating point or complex; got 'object'",
        x=np.array([[1.0, None]]),
    ),
    Bad(
        "threads-zero",
        InvalidParameterError,
        "threads must be a positive integer or None; got 0",
        options=dict(threads=0),
    ),
    Bad(
        "threads-float",
        InvalidParameterError,
        "threads must be a positive integer or None; got 1.5",
        options=dict(threads=1.5),
    ),
    Bad(
        "cval-nan",
        InvalidParameterError,
        "cval must be a finite number (or nan with nan='ignore': the border as missing "
        "data); got nan",
        options=dict(padding="constant", cval=np.nan),
    ),
    Bad(
        "cval-inf-even-ignoring",
        InvalidParameterError,
        "cval must be a finite number (or nan with nan='ignore': the border as missing "
        "data); got inf",
        options=dict(padding="constant", cval=np.inf, nan="ignore"),
    ),
    Bad(
        "cval-text",
        InvalidParameterError,
        "cval must be a finite number (or nan with nan='ignore': the border as missing "
        "data); got 'a'",
        options=dict(padding="constant", cval="a"),
    ),
]


@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("bad", BAD_CALLS, ids=lambda bad: bad.id)
def test_invalid_calls_raise_the_documented_error(bad: Bad, algorithm: str, op: str) -> None:
    options = {"algorithm": algorithm, **bad.options}
    with pytest.raises(bad.error, match=re.escape(bad.message)) as caught:
        getattr(imconv, op)(bad.x, bad.w, **options)
    assert isinstance(caught.value, ImconvError)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [
        (
            "padding",
            "mirror",
            ("zero", "constant", "reflect", "symmetric", "replicate", "wrap", "mean"),
        ),
        ("mode", "wide", ("full", "same", "valid")),
        ("algorithm", "winograd", ("auto", "direct", "matmul", "fft", "separable")),
    ],
)
def test_unknown_names_are_value_errors_listing_the_valid_ones(
    option: str, value: str, choices: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match=f"^{option} must be one of ") as caught:
        imconv.convolve(IMAGE, KERNEL, **{option: value})
    error = caught.value
    assert isinstance(error, UnknownNameError)
    assert error.choices == choices
    assert error.name == option
    assert error.value == value
    for choice in choices:
        assert choice in str(error)


@pytest.mark.parametrize(
    ("option", "typo", "hint"),
    [
        ("padding", "reflct", "did you mean 'reflect'?"),
        ("mode", "vaild", "did you mean 'valid'?"),
        ("algorithm", "sepparable", "did you mean 'separable'?"),
    ],
)
def test_near_miss_names_come_with_a_suggestion(option: str, typo: str, hint: str) -> None:
    with pytest.raises(UnknownNameError, match=f"got {typo!r}") as caught:
        imconv.correlate(IMAGE, KERNEL, **{option: typo})
    assert caught.value.hint == hint


def test_a_kernel_with_the_wrong_number_of_axes_hints_at_channel_axis() -> None:
    with pytest.raises(ShapeError, match=re.escape("got kernel shape (3, 3)")) as caught:
        imconv.convolve(RGB, KERNEL)
    assert caught.value.hint == "pass channel_axis= for multi-channel images"


def test_valid_with_a_kernel_too_large_hints_at_the_other_modes() -> None:
    with pytest.raises(ShapeError, match="mode 'valid'") as caught:
        imconv.convolve(np.ones(2), np.ones(3), mode="valid")
    assert caught.value.hint == "use mode 'same' or 'full', or a smaller kernel or dilation"


def test_invalid_parameter_errors_carry_the_argument_and_value() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        imconv.convolve(IMAGE, KERNEL, stride=(0, 2))
    assert caught.value.name == "stride"
    assert caught.value.value == (0, 2)
    assert caught.value.allowed == "a positive integer or a tuple of them, one per axis"


@pytest.mark.parametrize("cval", [1.5, -2.0])
def test_toeplitz_rejects_a_non_zero_constant(cval: float) -> None:
    message = (
        f"cval must be 0 for toeplitz (a non-zero constant padding is affine, not linear); "
        f"got {cval!r}"
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        imconv.toeplitz(KERNEL, (4, 4), padding="constant", cval=cval)


TOEPLITZ_BAD: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "kernel-nan",
        lambda: imconv.toeplitz([np.nan, 1.0], (4,)),
        KernelError,
        "kernel must contain only finite numbers; got nan at index (0,)",
    ),
    (
        "kernel-ndim",
        lambda: imconv.toeplitz(KERNEL, (4,)),
        ShapeError,
        "kernel must have as many axes as the image (1)",
    ),
    (
        "stride-zero",
        lambda: imconv.toeplitz(KERNEL, (4, 4), stride=0),
        InvalidParameterError,
        "stride must be a positive integer",
    ),
    (
        "valid-too-large",
        lambda: imconv.toeplitz(KERNEL, (2, 4), mode="valid"),
        ShapeError,
        "mode 'valid' needs an image at least as large as the dilated kernel",
    ),
    (
        "padding-unknown",
        lambda: imconv.toeplitz(KERNEL, (4, 4), padding="mirror"),
        UnknownNameError,
        "padding must be one of",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [case[1:] for case in TOEPLITZ_BAD],
    ids=[case[0] for case in TOEPLITZ_BAD],
)
def test_toeplitz_raises_the_errors_of_convolve(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(stride=0), "stride must be a positive integer"),
        (dict(mode="valid"), "mode 'valid' needs an image at least as large"),
        (dict(mode="wide"), "mode must be one of full, same, valid; got 'wide'"),
    ],
    ids=["stride-zero", "valid-too-large", "mode-unknown"],
)
def test_plan_validates_like_convolve(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ImconvError, match=re.escape(message)):
        imconv.plan((2, 2), KERNEL, **kwargs)
