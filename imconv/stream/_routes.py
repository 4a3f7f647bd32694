"""Which channels of an image the kernels filter, and in which colour space.

An image's working channels are its colour channels (red, green, blue, or grey; or luma
and two chroma channels with ``channels="l"``), then alpha. Each goes one of two ways:

* **filtered** by the recipe's kernels (one chain on those channels);
* **resampled**: passed through unchanged but for the output's geometry (stride, mode),
  by the steps' delta kernels: alpha kept as it is, channels left out of ``channels``,
  the chroma of ``channels="l"``.

Colour is premultiplied by alpha when both go through the kernels (no dark halos). With
``linear`` the colour channels are decoded from sRGB to linear light before anything
else and encoded back at the end. :meth:`Routes.prepare` turns the samples read from a
file into the working channels; :meth:`Routes.assemble` turns the two chains' results
back into colour and alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imconv import images
from imconv.errors import InvalidParameterError

from ._recipe import Recipe

_COLOURS = {"r": 0, "g": 1, "b": 2}


@dataclass(frozen=True)
class Routes:
    """The routes of one image's working channels.

    Attributes
    ----------
    colours
        Colour channels of the image (1 or 3).
    alpha
        Whether the image has alpha (the last working channel).
    filtered, resampled
        Working channel indices through the kernels, and through the delta kernels.
    premultiplied
        Colour is multiplied by alpha before filtering (both are filtered).
    luma, linear
        Work in luma and chroma; in linear light (``max_value`` the samples' range).
    """

    colours: int
    alpha: bool
    filtered: tuple[int, ...]
    resampled: tuple[int, ...]
    premultiplied: bool
    luma: bool
    linear: bool
    max_value: float | None

    @classmethod
    def of(
        cls, recipe: Recipe, colours: int, alpha: bool, max_value: float | None, name: str
    ) -> Routes:
        """The routes for an image of ``colours`` channels (``name`` for messages)."""
        if recipe.linear and max_value is None:
            raise InvalidParameterError(
                "linear", True, f"used with 8- or 16-bit images; {name} holds raw samples"
            )
        index_alpha = (colours,) if alpha else ()
        selected = recipe.channels
        luma = selected is not None and selected.luma and colours == 3
        if selected is None:
            through = alpha and recipe.filters_alpha()
            filtered = (*range(colours), *(index_alpha if through else ()))
        elif selected.luma:
            filtered = (0,)
        else:
            picked = [c for c in selected.names if c != "a"]
            if colours == 1 and picked:
                raise InvalidParameterError(
                    "channels", ",".join(selected.names), f"l or a for the grey image {name}"
                )
            alpha_too = index_alpha if "a" in selected.names else ()
            filtered = (*sorted(_COLOURS[c] for c in picked), *alpha_too)
        everything = range(colours + alpha)
        resampled = tuple(i for i in everything if i not in filtered)
        premultiplied = alpha and colours in filtered and any(i < colours for i in filtered)
        return cls(colours, alpha, filtered, resampled, premultiplied, luma, recipe.linear,
                   max_value)  # fmt: skip

    @property
    def plain(self) -> bool:
        """The kernels take the stored colour as it is (no conversion, nothing left out)."""
        return (
            not self.alpha
            and not self.linear
            and not self.luma
            and self.filtered == tuple(range(self.colours))
        )

    def prepare(self, colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
        """The working channels of rows read from the image: ``(n, W, colours + alpha)``
        float32 (the stored colour itself when :attr:`plain`)."""
        if self.plain:
            return colour
        work = np.empty((*colour.shape[:2], self.colours + self.alpha), dtype=np.float32)
        if self.linear:
            work[..., : self.colours] = images.srgb_decode(colour, self.max_value)
        else:
            work[..., : self.colours] = colour
        if self.luma:
            work[..., :3] = images.luma_chroma(work[..., :3])
        if self.alpha:
            weight = work[..., -1]
            np.multiply(alpha, np.float32(1 / 255), out=weight)
            if self.premultiplied:
                colours = [i for i in self.filtered if i < self.colours]
                work[..., colours] *= weight[..., np.newaxis]
        return work

    def assemble(
        self, filtered: np.ndarray, resampled: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Colour ``(n, W, C)`` in the picture's range and alpha ``(n, W)`` in 0..1 (or None)
        from the two chains' results."""
        if self.plain:
            return filtered, None
        shape = (*filtered.shape[:2], self.colours + self.alpha)
        work = np.empty(shape, dtype=np.float32)
        work[..., list(self.filtered)] = filtered
        if resampled is not None:
            work[..., list(self.resampled)] = resampled
        alpha = None
        if self.alpha:
            alpha = np.clip(work[..., -1], 0, 1)
            if self.premultiplied:
                colours = [i for i in self.filtered if i < self.colours]
                work[..., colours] = images.unpremultiply(work[..., colours], alpha)
        colour = work[..., : self.colours]
        if self.luma:
            colour = images.rgb_from_luma_chroma(colour)
        if self.linear:
            colour = images.srgb_encode(colour, self.max_value)
        return colour, alpha
