"""Masks (``True`` = valid): checked once against the input's shape, seen as the input is.

A mask has the input's shape, or the input's shape without its channel axis (one mask
for every channel), or with batch axes the spatial axes' shape alone (one mask for every
item). Either way it becomes a boolean array of the input's number of axes that
broadcasts to the input (length 1 on the axes it does not have).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imconv.errors import ShapeError

from ._axes import Arrangement


def _channel(arrangement: Arrangement) -> int | None:
    """The input's channel axis, or None."""
    if arrangement.item_channel_axis is None:
        return None
    return arrangement.perm[arrangement.batch_ndim + arrangement.item_channel_axis]


def _choices(shape: tuple[int, ...], arrangement: Arrangement) -> list[tuple[int, ...]]:
    """The input's axes that an allowed mask has, in order of preference."""
    channel = _channel(arrangement)
    choices = [tuple(range(len(shape)))]
    if channel is not None:
        choices.append(tuple(a for a in range(len(shape)) if a != channel))
    if arrangement.batch_ndim:
        choices.append(tuple(sorted(arrangement.spatial)))
    return choices


def as_mask(mask: Any, shape: tuple[int, ...], arrangement: Arrangement) -> np.ndarray:
    """``mask`` checked against an input (or block) of ``shape``, as a boolean array of its
    number of axes (a view; never written to)."""
    array = np.asarray(mask)
    choices = _choices(tuple(shape), arrangement)
    allowed = [tuple(shape[a] for a in axes) for axes in choices]
    if array.dtype != np.bool_ or array.shape not in allowed:
        shown = " or ".join(str(s) for s in dict.fromkeys(allowed))
        raise ShapeError(
            f"mask must be a boolean array (True = valid) of shape {shown}; got shape "
            f"{array.shape} and dtype {array.dtype}",
            hint="compare a numeric mask with a threshold first, e.g. mask > 0",
        )
    kept = choices[allowed.index(array.shape)]
    full = [1] * len(shape)
    for axis, size in zip(kept, array.shape, strict=True):
        full[axis] = size
    return array.reshape(full)
