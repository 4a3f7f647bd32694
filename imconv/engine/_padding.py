"""The padding modes: extend an image, or a band of its rows, past the image's border.

See :class:`imconv.engine.Padding` for the letter strips. Extensions wider than the image
follow ``numpy.pad`` (reflect and symmetric repeat their pattern, wrap tiles).

A band of rows is extended the same way as a whole image: the plan says, for each padded
row, which input row it reads (:func:`index_map`; ``-1`` where the padding supplies a
constant), the rows are gathered from whatever block of the image the caller holds, and
the other spatial axes are extended as usual. So a band in the middle of an image and the
whole image give the same numbers, and the cast to the compute dtype, the move to C order
and the padding happen in one copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imconv.choices import Padding

from ._bands import empty

# The modes numpy.pad implements exactly as the contract defines them.
NUMPY_MODES = {
    Padding.REFLECT: "reflect",
    Padding.SYMMETRIC: "symmetric",
    Padding.REPLICATE: "edge",
    Padding.WRAP: "wrap",
}

Widths = Sequence[tuple[int, int]]


def index_map(size: int, widths: tuple[int, int], padding: Padding) -> np.ndarray:
    """For each position of an axis of ``size`` extended by ``widths``: the input index it
    reads, or ``-1`` where the padding supplies a constant (zero, constant, mean).

    A negative width crops that side instead (``valid`` with a shifted ``origin``); the
    other side is still extended from the whole axis.
    """
    indices = np.arange(size)
    before, after = widths
    grown = (max(before, 0), max(after, 0))
    if padding in NUMPY_MODES:
        extended = np.pad(indices, grown, mode=NUMPY_MODES[padding])
    else:
        extended = np.pad(indices, grown, constant_values=-1)
    return extended[max(-before, 0) : len(extended) - max(-after, 0)]


def fill_values(
    image: np.ndarray,
    padding: Padding,
    cval: float,
    channel_axis: int,
    dtype: np.dtype,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """The constant each channel is extended with, shape ``(C,)``, in ``dtype``.

    ``mean`` is the mean of each channel of ``image`` (the whole image: a band's caller
    passes the image's means instead); with ``valid`` (missing data: ``nan="ignore"``, a
    mask), the mean of each channel's valid values (NaN where it has none).
    """
    channels = image.shape[channel_axis]
    if padding is not Padding.MEAN:
        value = 0.0 if padding is Padding.ZERO else cval
        return np.full(channels, value, dtype=dtype)
    # Accumulate in 64 bits: a float32 running sum over megapixels loses digits.
    axes = tuple(a for a in range(image.ndim) if a != channel_axis)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    if valid is None:
        return image.mean(axis=axes, dtype=wide).astype(dtype)
    total = np.where(valid, image, 0).sum(axis=axes, dtype=wide)
    count = np.broadcast_to(valid, image.shape).sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(dtype)


def _longest_run(rows: np.ndarray) -> tuple[int, int]:
    """The longest stretch ``[a, b)`` of ``rows`` that reads consecutive input rows."""
    steps = np.flatnonzero((np.diff(rows) != 1) | (rows[:-1] < 0)) + 1
    bounds = np.concatenate(([0], steps, [len(rows)]))
    lengths = np.diff(bounds) - (rows[bounds[:-1]] < 0)  # a leading -1 is no run
    best = int(np.argmax(lengths))
    return int(bounds[best]), int(bounds[best + 1])


def extend_block(
    block: np.ndarray,
    rows: np.ndarray,
    widths: Widths,
    padding: Padding,
    fill: np.ndarray,
    dtype: np.dtype,
    *,
    channels_last: bool,
) -> np.ndarray:
    """The padded band: ``block``'s rows ``rows`` (``-1``: the fill), other axes extended.

    ``block`` is ``(C, R, *rest)`` (or ``(R, *rest, C)`` with ``channels_last``); ``rows``
    holds, for each row of the result, the index of a row of ``block`` or ``-1``;
    ``widths`` extends each of the ``rest`` axes (a negative width crops that side);
    ``fill`` is the per-channel constant of zero, constant and mean padding. Returns a new
    C-contiguous array of ``dtype`` (with the engine's slack, see ``_bands.empty``).
    """
    if any(before < 0 or after < 0 for before, after in widths):
        return _cropped(block, rows, widths, padding, fill, dtype, channels_last=channels_last)
    lead = 0 if channels_last else 1  # the position of the band axis
    shape = list(block.shape)
    shape[lead] = len(rows)
    for offset, (before, after) in enumerate(widths, start=lead + 1):
        shape[offset] += before + after
    out = empty(tuple(shape), dtype)
    head = (slice(None),) * lead
    rest = block.shape[lead + 1 : lead + 1 + len(widths)]
    centre = tuple(slice(a, a + n) for (a, _), n in zip(widths, rest, strict=True))
    constant = fill if channels_last else fill.reshape((-1,) + (1,) * (block.ndim - 1))
    first, stop = _longest_run(rows)
    if stop > first and rows[first] >= 0:
        source = slice(int(rows[first]), int(rows[first]) + stop - first)
        out[(*head, slice(first, stop), *centre)] = block[(*head, source)]
    others = np.concatenate((np.arange(first), np.arange(stop, len(rows))))
    gathered = others[rows[others] >= 0]
    if gathered.size:
        out[(*head, gathered, *centre)] = np.take(block, rows[gathered], axis=lead)
    for row in others[rows[others] < 0]:
        out[(*head, slice(row, row + 1))] = constant
    for axis, (before, after) in enumerate(widths, start=lead + 1):
        if not (before or after):
            continue
        if padding in NUMPY_MODES:
            _gather_border(out, axis, block.shape[axis], before, after, padding)
        else:
            _fill_border(out, axis, before, after, constant)
    return out


def _cropped(
    block: np.ndarray,
    rows: np.ndarray,
    widths: Widths,
    padding: Padding,
    fill: np.ndarray,
    dtype: np.dtype,
    *,
    channels_last: bool,
) -> np.ndarray:
    """:func:`extend_block` with negative widths: extend by the positive ones, then crop
    (so that the other side still reads the whole axis, as ``wrap`` needs)."""
    grown = [(max(before, 0), max(after, 0)) for before, after in widths]
    whole = extend_block(block, rows, grown, padding, fill, dtype, channels_last=channels_last)
    lead = 0 if channels_last else 1
    index = [slice(None)] * whole.ndim
    for axis, (before, after) in enumerate(widths, start=lead + 1):
        index[axis] = slice(max(-before, 0), whole.shape[axis] - max(-after, 0))
    part = whole[tuple(index)]
    out = empty(part.shape, dtype)
    out[...] = part
    return out


def extend(
    image: np.ndarray,
    widths: Widths,
    padding: Padding,
    cval: float = 0.0,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """Return ``image`` (``(C, *spatial)``) extended by ``widths``, as a contiguous array.

    One copy does the cast to ``dtype``, the move to C order and the padding. The input
    is never written to.
    """
    dtype = image.dtype if dtype is None else np.dtype(dtype)
    fill = fill_values(image, padding, cval, 0, dtype)
    rows = index_map(image.shape[1], widths[0], padding)
    return extend_block(image, rows, widths[1:], padding, fill, dtype, channels_last=False)


def _fill_border(out: np.ndarray, axis: int, before: int, after: int, fill: np.ndarray) -> None:
    """Set the slabs before and after the centre of ``axis`` to each channel's constant."""
    lead = (slice(None),) * axis
    out[(*lead, slice(0, before))] = fill
    out[(*lead, slice(out.shape[axis] - after, None))] = fill


def _gather_border(
    out: np.ndarray, axis: int, size: int, before: int, after: int, padding: Padding
) -> None:
    """Fill the slabs of ``axis`` from the centre, with numpy.pad's index pattern.

    The source index of every padded position comes from padding ``arange(size)`` itself,
    so widths larger than the image repeat exactly as ``numpy.pad`` does. Axes are done in
    order over the full extent of the others, so corners come out right.
    """
    source = index_map(size, (before, after), padding) + before
    lead = (slice(None),) * axis
    if before:
        out[(*lead, slice(0, before))] = np.take(out, source[:before], axis=axis)
    if after:
        out[(*lead, slice(before + size, None))] = np.take(out, source[before + size :], axis=axis)
