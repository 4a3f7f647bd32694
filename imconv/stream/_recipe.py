"""What to do to every image of a run: the :class:`Recipe`, validated once.

A recipe is the kernels of the chain, the engine's :class:`~imconv.engine.ConvOptions`
shared by every step, convolution or correlation, autotuning and verification, and the
:class:`OutputSettings` that turn results into files. It is made once per run (by
``imconv.apply``), crosses into batch workers whole, and is never re-checked there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from imconv.choices import PHOTO_PADDING, Operation, parse_choice
from imconv.engine import ConvOptions
from imconv.errors import InvalidParameterError
from imconv.images import RangeRule, check_max_pixels, check_quality
from imconv.kernels import Kernel


class AlphaRule(StrEnum):
    """What happens to an alpha channel.

    ``auto`` filters alpha with the kernel (colour premultiplied) unless the chain sums to
    zero (edge kernels), where alpha is kept; ``filter`` always filters it; ``keep`` leaves
    its values untouched (only resampled to the output geometry). Alpha is always kept for
    banks, kernel sets and kernels with a bias.
    """

    AUTO = "auto"
    FILTER = "filter"
    KEEP = "keep"


#: The engine options of images: reflect padding, channels last.
PHOTO_OPTIONS = ConvOptions(padding=PHOTO_PADDING, channel_axis=-1)


@dataclass(frozen=True, kw_only=True)
class OutputSettings:
    """How results become files: range rule, alpha, quality, montage, overwriting, limits.

    Parameters
    ----------
    range_rule : {"clip", "abs", "offset", "rescale"}, optional
        None: ``clip``, or ``abs`` for zero-sum chains.
    alpha : {"auto", "filter", "keep"}
    quality : int, optional
        JPEG and WebP quality, 1..100.
    montage : bool
        Tile a bank's feature maps in one grey image.
    overwrite : bool
        Replace existing outputs (never an input).
    max_pixels : int, optional
        Pillow's decompression-bomb limit.
    """

    range_rule: RangeRule | None = None
    alpha: AlphaRule = AlphaRule.AUTO
    quality: int | None = None
    montage: bool = False
    overwrite: bool = False
    max_pixels: int | None = None

    def __post_init__(self) -> None:
        if self.range_rule is not None:
            object.__setattr__(
                self, "range_rule", parse_choice(RangeRule, self.range_rule, "range")
            )
        object.__setattr__(self, "alpha", parse_choice(AlphaRule, self.alpha, "alpha"))
        if self.quality is not None:
            object.__setattr__(self, "quality", check_quality(self.quality))
        object.__setattr__(self, "max_pixels", check_max_pixels(self.max_pixels))


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """The chain applied to every image, and how its results are written.

    Parameters
    ----------
    kernels : sequence of Kernel
        The steps, in order (``--then`` adds steps).
    options : ConvOptions
        The engine options of every step; images run with ``channel_axis=-1``.
    operation : {"convolve", "correlate"}
    autotune : bool
        Measure the algorithm of each step (``algorithm="auto"``) instead of estimating.
    verify : bool
        Check each step against ``direct`` on a band.
    output : OutputSettings
    """

    kernels: tuple[Kernel, ...]
    options: ConvOptions = PHOTO_OPTIONS
    operation: Operation = Operation.CONVOLVE
    autotune: bool = False
    verify: bool = False
    output: OutputSettings = field(default_factory=OutputSettings)

    def __post_init__(self) -> None:
        kernels = tuple(self.kernels) if isinstance(self.kernels, Sequence) else ()
        if not kernels or not all(isinstance(k, Kernel) for k in kernels):
            raise InvalidParameterError("kernels", self.kernels, "a non-empty sequence of Kernel")
        if self.options.channel_axis != -1:
            raise InvalidParameterError(
                "options.channel_axis", self.options.channel_axis, "-1 (images are (H, W, C))"
            )
        object.__setattr__(self, "kernels", kernels)
        object.__setattr__(self, "operation", parse_choice(Operation, self.operation, "operation"))

    @property
    def slug(self) -> str:
        """The chain in output names: ``sobel-x_sobel-y``."""
        return "_".join(kernel.slug for kernel in self.kernels)

    @property
    def zero_sum(self) -> bool:
        """Whether the chain responds to edges only (a flat image maps to zero): a step's
        output is signed around zero (not ``sobel``'s magnitude, never negative)."""
        return any(kernel.is_zero_sum for kernel in self.kernels)

    def filters_alpha(self) -> bool:
        """Whether alpha goes through the kernels (and colour is premultiplied).

        Only plain 2-D kernels without a bias can: a bias offsets colour values, and added
        to alpha (0..1) it would make every pixel opaque.
        """
        rule = self.output.alpha
        linear = all(
            not kernel.is_set and not kernel.is_bank and kernel.bias is None
            for kernel in self.kernels
        )
        if rule is AlphaRule.FILTER:
            return linear
        return rule is AlphaRule.AUTO and linear and not self.zero_sum

    def with_options(self, **changes: Any) -> Recipe:
        """The same recipe with some engine options changed (``threads`` for workers)."""
        from dataclasses import replace

        return replace(self, options=replace(self.options, **changes))
