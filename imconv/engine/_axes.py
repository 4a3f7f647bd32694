"""Which axes of the input are spatial, which hold channels, which are a batch (``axes=``).

As ``scipy.ndimage``'s ``axes=``: the kernel's axes lie along ``axes`` taken in increasing
order (``scipy.ndimage`` expands the weights at the other axes), while per-axis tuples
(``origin``, ``stride``, ``dilation``) follow the order ``axes`` is given in (its i-th
entry belongs to ``axes[i]``). Every other axis except ``channel_axis`` is a batch axis,
and each of its entries is filtered on its own. The plan runs items: the input seen
through one transposition as ``(*batch, *item)``, an item keeping the spatial and channel
axes in their order. Without batch axes the transposition is the identity and the item
is the whole input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imconv.errors import InvalidParameterError


@dataclass(frozen=True)
class Arrangement:
    """How an input of ``shape`` is cut into items: ``x.transpose(perm)`` is
    ``(*batch_shape, *item_shape)``; the item's channel axis is ``item_channel_axis``."""

    shape: tuple[int, ...]
    perm: tuple[int, ...]
    batch_ndim: int
    item_channel_axis: int | None
    spatial: tuple[int, ...]  # the input's spatial axes, increasing: the kernel's order
    given: tuple[int, ...]  # the same axes in the order ``axes`` named them

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The shape of the batch axes (``()`` without any)."""
        return tuple(self.shape[a] for a in self.perm[: self.batch_ndim])

    @property
    def item_shape(self) -> tuple[int, ...]:
        """The shape of one item: spatial axes (in ``axes`` order) and the channel axis."""
        return tuple(self.shape[a] for a in self.perm[self.batch_ndim :])

    @property
    def identity(self) -> bool:
        """Whether the whole input is one item as it lies (no batch, axes in order)."""
        return self.batch_ndim == 0 and self.perm == tuple(range(len(self.perm)))

    @property
    def items(self) -> int:
        """Number of items (the product of the batch shape)."""
        return int(np.prod(self.batch_shape, dtype=np.int64))

    def to_items(self, array: np.ndarray) -> np.ndarray:
        """``array`` (laid out as the input, any sizes) seen as ``(*batch, *item)``."""
        return array if self.identity else array.transpose(self.perm)

    def from_items(self, array: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_items` (a view)."""
        return array if self.identity else array.transpose(np.argsort(self.perm))

    def in_kernel_order(self, values: tuple[int, ...]) -> tuple[int, ...]:
        """A per-axis tuple given in the order of ``axes``, put in the kernel's order."""
        return tuple(values[self.given.index(axis)] for axis in self.spatial)


def _normalized(axes: tuple[int, ...], ndim: int, channel: int | None, shape: tuple) -> list:
    allowed = f"distinct axes of the image (shape {shape}) other than channel_axis"
    if any(not -ndim <= a < ndim for a in axes):
        raise InvalidParameterError("axes", axes, allowed)
    normalized = [a % ndim for a in axes]
    if len(set(normalized)) != len(normalized) or channel in normalized:
        raise InvalidParameterError("axes", axes, allowed)
    return normalized


def arrange(
    shape: tuple[int, ...], axes: tuple[int, ...] | None, channel_axis: int | None
) -> Arrangement:
    """The arrangement of an input of ``shape``; ``channel_axis`` already normalized."""
    ndim = len(shape)
    if axes is None:
        spatial = tuple(a for a in range(ndim) if a != channel_axis)
        return Arrangement(shape, tuple(range(ndim)), 0, channel_axis, spatial, spatial)
    given = tuple(_normalized(axes, ndim, channel_axis, shape))
    spatial = tuple(sorted(given))
    batch = tuple(a for a in range(ndim) if a not in spatial and a != channel_axis)
    item = tuple(a for a in range(ndim) if a not in batch)
    channel = None if channel_axis is None else item.index(channel_axis)
    return Arrangement(shape, (*batch, *item), len(batch), channel, spatial, given)
