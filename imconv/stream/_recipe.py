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

from imconv import images
from imconv.choices import PHOTO_PADDING, NanTreatment, Operation, parse_choice
from imconv.engine import ConvOptions
from imconv.errors import InvalidParameterError
from imconv.images import RangeRule, check_compress_level, check_max_pixels, check_quality
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


@dataclass(frozen=True)
class Channels:
    """Which channels the kernels filter: ``l`` (luma: lightness only, colour kept) or any
    subset of ``r``, ``g``, ``b``, ``a``; the others pass through unchanged (resampled to the
    output's geometry).

    Examples
    --------
    >>> Channels.parse("R, b").names
    ('r', 'b')
    """

    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str | Channels) -> Channels:
        """``"r,g"`` or ``"l"``; case and spaces ignored."""
        if isinstance(text, Channels):
            return text
        names = tuple(part.strip().lower() for part in str(text).split(",") if part.strip())
        allowed = "l alone, or r, g, b, a separated by commas (each once)"
        if not names or len(set(names)) != len(names) or not set(names) <= set("rgbal"):
            raise InvalidParameterError("channels", text, allowed)
        if "l" in names and len(names) > 1:
            raise InvalidParameterError("channels", text, allowed)
        return cls(names)

    @property
    def luma(self) -> bool:
        """Luma only."""
        return self.names == ("l",)


#: Output depths (``depth=``): 8-bit, 16-bit, 32-bit float samples.
DEPTHS = images.DEPTHS


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
    compress_level : int, optional
        PNG's zlib effort, 0 (fastest, largest) to 9; default Pillow's, 6.
    depth : {"8", "16", "32f"}, optional
        The output's depth (default: the input's); range rules apply only to integers.
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
    compress_level: int | None = None
    depth: str | None = None
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
        object.__setattr__(self, "compress_level", check_compress_level(self.compress_level))
        if self.depth is not None:
            depth = str(self.depth).strip().lower()
            if depth not in DEPTHS:
                raise InvalidParameterError("depth", self.depth, "one of " + ", ".join(DEPTHS))
            object.__setattr__(self, "depth", depth)
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
    linear : bool
        Filter in linear light: the sRGB transfer curve undone before the chain and redone
        after (8- and 16-bit images; alpha is not transferred).
    channels : Channels or str, optional
        The channels the kernels filter (``"l"``, or a subset of ``"r,g,b,a"``).
    output : OutputSettings
    mask : str, optional
        A black-and-white image of each input's size (white = valid): the first step runs
        normalized convolution over the valid pixels only (the options must have
        ``nan="ignore"``, which also skips non-finite samples in every step).
    """

    kernels: tuple[Kernel, ...]
    options: ConvOptions = PHOTO_OPTIONS
    operation: Operation = Operation.CONVOLVE
    autotune: bool = False
    verify: bool = False
    linear: bool = False
    channels: Channels | None = None
    output: OutputSettings = field(default_factory=OutputSettings)
    mask: str | None = None

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
        if self.channels is not None:
            object.__setattr__(self, "channels", Channels.parse(self.channels))
        banks = [kernel.name for kernel in kernels if kernel.is_bank]
        if banks and (self.linear or self.channels is not None):
            raise InvalidParameterError(
                "channels" if self.channels is not None else "linear",
                self.channels.names if self.channels else True,
                f"left out with a kernel bank ({banks[0]} maps channels to others)",
            )
        if self.mask is not None and self.options.nan is not NanTreatment.IGNORE:
            raise InvalidParameterError(
                "nan", str(self.options.nan), "'ignore' with a mask (masked pixels are missing)"
            )
        if self.channels and "a" in self.channels.names and not self._linear_kernels():
            raise InvalidParameterError(
                "channels", ",".join(self.channels.names),
                "without a (alpha) for kernel sets and kernels with a bias",
            )  # fmt: skip

    @property
    def slug(self) -> str:
        """The chain in output names: ``sobel-x_sobel-y``."""
        return "_".join(kernel.slug for kernel in self.kernels)

    @property
    def zero_sum(self) -> bool:
        """Whether the chain responds to edges only (a flat image maps to zero): a step's
        output is signed around zero (not ``sobel``'s magnitude, never negative)."""
        return any(kernel.is_zero_sum for kernel in self.kernels)

    def _linear_kernels(self) -> bool:
        """Whether every step is a plain 2-D kernel without a bias."""
        return all(not k.is_set and not k.is_bank and k.bias is None for k in self.kernels)

    def filters_alpha(self) -> bool:
        """Whether alpha goes through the kernels (and colour is premultiplied).

        Only plain 2-D kernels without a bias can: a bias offsets colour values, and added
        to alpha (0..1) it would make every pixel opaque.
        """
        rule = self.output.alpha
        linear = self._linear_kernels()
        if self.channels is not None:
            return "a" in self.channels.names
        if rule is AlphaRule.FILTER:
            return linear
        return rule is AlphaRule.AUTO and linear and not self.zero_sum

    def with_options(self, **changes: Any) -> Recipe:
        """The same recipe with some engine options changed (``threads`` for workers)."""
        from dataclasses import replace

        return replace(self, options=replace(self.options, **changes))
