"""The :class:`Kernel` value object: validated weights plus the facts the CLI reports.

A kernel is one of three things (see docs/ARCHITECTURE.md for where each is run):

* a **linear kernel**: 2-D weights ``(kh, kw)``, applied to every channel, with an
  optional bias (one number);
* a **bank** ``(C_out, C_in, kh, kw)`` with an optional bias per output channel;
* a **kernel set** ``(P, kh, kw)`` with a ``combine`` rule (and ``absolute``): each part
  is applied as a linear kernel and the P responses are folded per pixel by
  :meth:`Kernel.combine_responses` (see :mod:`imconv.kernels._combine`). Sets take no bias.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from imconv.errors import KernelError

from ._combine import COMBINES, Combine, combine_responses, exactly, parse_combine, stack_parts
from ._limits import check_bias, check_gain, check_weights
from ._terms import Terms, check_factors

if TYPE_CHECKING:
    from imconv.engine import ReceptiveField

__all__ = ["Kernel", "Terms", "make_slug"]

_ZERO_SUM_RTOL = 1e-12


def make_slug(text: str) -> str:
    """A short, filesystem-safe form of a kernel name for output file names.

    Examples
    --------
    >>> make_slug("gaussian:sigma=2"), make_slug("motion:length=15,angle=45")
    ('gaussian-sigma2', 'motion-length15-angle45')
    """
    slug = text.lower().replace(":", "-").replace("=", "").replace(",", "-")
    slug = re.sub(r"[^a-z0-9._-]+", "-", slug).strip("-.")[:64].strip("-.")
    return slug or "custom"


def _check_combine(combine: Any) -> Combine | None:
    if combine is None:
        return None
    if combine not in COMBINES:
        raise KernelError(f"combine must be None or one of {COMBINES}; got {combine!r}")
    return Combine(combine)


@dataclass(frozen=True, eq=False)
class Kernel:
    """A convolution kernel, validated once, with the facts ``imconv kernels`` reports.

    Parameters
    ----------
    weights : array_like
        A 2-D ``(kh, kw)`` spatial kernel, a 4-D bank ``(C_out, C_in, kh, kw)``, or with
        ``combine`` a kernel set ``(P, kh, kw)`` of parts. Stored as a read-only float64
        copy, stored for **convolution**. At most 4097 taps a side, and a sum of absolute
        weights of at most about 5.2e33 (see :mod:`imconv.kernels._limits`).
    name : str
        As the user wrote it, canonicalised for presets (``"gaussian:sigma=2"``).
    description : str
        One line for listings.
    bias : float or array_like, optional
        Added after the weighted sum: one value per output channel for a bank, one number
        (stored 0-d, added to every channel) for a 2-D kernel, such as a libvips offset.
    combine : {None, "magnitude", "max", "min", "sum"}
        None for a linear kernel or a bank; the rule of a kernel set (see
        :meth:`combine_responses`).
    slug : str, optional
        Filesystem-safe short name for output files; by default made from ``name``.
    absolute : bool
        For a kernel set: each response is made absolute before ``combine`` (libvips
        ``compass``).
    factors : sequence of Terms, optional
        Exact separable terms known to the generator, one tuple of ``(column, row)``
        pairs per part (one part for a 2-D kernel); used by :attr:`rank`, :attr:`terms`
        and :attr:`separable_factors` instead of an SVD. Their outer products must add up
        to the weights within float64 rounding (the built-in generators give them bit for
        bit).

    Raises
    ------
    KernelError
        Non-real, empty or non-finite weights, a wrong number of axes, too many taps, too
        large values, a bad bias, an unknown ``combine`` or factors that do not add up.

    Examples
    --------
    >>> k = Kernel([[0, 1, 0], [1, 4, 1], [0, 1, 0]], name="blur")
    >>> k.shape, k.sum, k.rank, k.slug
    ((3, 3), 8.0, 2, 'blur')
    >>> k.normalized().sum
    1.0
    """

    weights: np.ndarray
    name: str = "custom"
    description: str = ""
    bias: np.ndarray | None = None
    combine: str | None = None
    slug: str = field(default="")
    absolute: bool = False
    factors: tuple[Terms, ...] | None = None

    def __post_init__(self) -> None:
        combine = _check_combine(self.combine)
        weights = check_weights(self.weights, stacked=combine is not None)
        bias = check_bias(self.bias, weights, stacked=combine is not None)
        check_gain(weights, bias)
        if self.absolute and combine is None:
            raise KernelError("absolute applies to kernel sets; give combine too")
        object.__setattr__(self, "combine", None if combine is None else combine.value)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "absolute", bool(self.absolute))
        object.__setattr__(
            self, "factors", check_factors(self.factors, weights, is_set=combine is not None)
        )
        object.__setattr__(self, "slug", make_slug(self.slug or self.name))

    @classmethod
    def from_parts(
        cls,
        parts: Sequence[Any],
        *,
        combine: str,
        absolute: bool = False,
        name: str = "custom",
        description: str = "",
        slug: str = "",
    ) -> Kernel:
        """A kernel set of 2-D ``parts`` of any shapes, zero-padded to one shape with each
        part's anchor kept (:func:`~imconv.kernels._combine.stack_parts`).

        Examples
        --------
        >>> s = Kernel.from_parts([[[1, -1]], [[1], [-1]]], combine="magnitude")
        >>> s.shape, s.combine
        ((2, 2, 2), 'magnitude')
        """
        arrays = [np.asarray(part) for part in parts]
        if not arrays or any(a.ndim != 2 for a in arrays):
            shapes = [a.shape for a in arrays]
            raise KernelError(f"parts must be one or more 2-D kernels; got shapes {shapes}")
        rule = parse_combine(combine)
        return cls(stack_parts(arrays), name, description, None, rule, slug, absolute)

    def __repr__(self) -> str:
        extra = f", combine={self.combine!r}" if self.combine else ""
        extra += ", absolute=True" if self.absolute else ""
        return f"Kernel({self.name!r}, shape={self.shape}, sum={self.sum:g}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kernel):
            return NotImplemented
        if self._identity() != other._identity():
            return False
        if self.bias is None or other.bias is None:
            same_bias = self.bias is other.bias
        else:
            same_bias = np.array_equal(self.bias, other.bias)
        return same_bias and np.array_equal(self.weights, other.weights)

    def __hash__(self) -> int:
        return hash((*self._identity(), self.weights.tobytes()))

    def _identity(self) -> tuple[Any, ...]:
        return (self.name, self.combine, self.absolute, self.shape)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``weights``."""
        return tuple(self.weights.shape)

    @property
    def spatial_shape(self) -> tuple[int, int]:
        """``(kh, kw)``."""
        return (self.weights.shape[-2], self.weights.shape[-1])

    @property
    def is_bank(self) -> bool:
        """True for a 4-D bank ``(C_out, C_in, kh, kw)``."""
        return self.weights.ndim == 4

    @property
    def is_set(self) -> bool:
        """True for a kernel set (``combine`` is not None)."""
        return self.combine is not None

    @property
    def parts(self) -> tuple[np.ndarray, ...]:
        """The kernels the engine runs, one response each, in order: every part of a set;
        the kernel itself (2-D or bank) otherwise. Read-only views of ``weights``."""
        return tuple(self.weights) if self.is_set else (self.weights,)

    @property
    def sum(self) -> float:
        """Sum of all weights (of all parts, of the whole bank)."""
        return float(self.weights.sum())

    def _units(self) -> np.ndarray:
        """What :meth:`normalized` divides separately: the kernel, each part, each output."""
        return self.weights.reshape((-1, *self.weights.shape[-3 if self.is_bank else -2 :]))

    @property
    def sums_to_zero(self) -> bool:
        """True when every unit (the kernel, each part of a set, each output channel of a
        bank) sums to zero: ``abs(sum) <= 1e-12 * sum(abs)``. Edge kernels do."""
        units = self._units()
        axes = tuple(range(1, units.ndim))
        sums, scales = units.sum(axis=axes), np.abs(units).sum(axis=axes)
        return bool((np.abs(sums) <= _ZERO_SUM_RTOL * scales).all())

    @property
    def is_zero_sum(self) -> bool:
        """True when the *output* is a signed response around zero (the ``abs`` range
        rule): a linear kernel or bank that :attr:`sums_to_zero` (``laplacian``, ``log``,
        ``dog``), or a set combined by a signed ``sum`` of parts that add up to zero. A set
        combined by ``max``, ``min`` or ``magnitude``, or of absolute responses, is not
        (like ``sobel``'s magnitude, it is treated as a non-negative response)."""
        if not self.is_set:
            return self.sums_to_zero
        if self.combine != Combine.SUM or self.absolute:
            return False
        total = self.weights.sum(axis=0)
        return bool(abs(total.sum()) <= _ZERO_SUM_RTOL * np.abs(total).sum())

    @cached_property
    def terms(self) -> tuple[Terms, ...]:
        """Separable terms of every 2-D slice (each part of a set, each ``(o, i)`` of a
        bank, or the kernel): the generator's exact :attr:`factors` when known, else one
        SVD per slice (:func:`imconv.engine.separable_factors`), computed once per Kernel
        object and cached."""
        if self.factors is not None:
            return self.factors
        from imconv.engine import separable_factors

        slices = self.weights.reshape((-1, *self.spatial_shape))
        return tuple(
            tuple((column, row) for column, row in separable_factors(part)) for part in slices
        )

    @property
    def rank(self) -> int:
        """Number of separable terms of a 2-D kernel; the largest over the parts of a set or
        the slices of a bank, which is what the ``separable`` algorithm runs per slice."""
        return max(len(terms) for terms in self.terms)

    @property
    def part_ranks(self) -> tuple[int, ...]:
        """The rank of each slice: of each part of a set (one value for a 2-D kernel)."""
        return tuple(len(terms) for terms in self.terms)

    @property
    def is_separable(self) -> bool:
        """True when every 2-D slice is an outer product of two vectors (rank <= 1)."""
        return self.rank <= 1

    @property
    def separable_factors(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(column, row), ...]`` with ``weights == sum(outer(c, r))``; 2-D kernels only.

        Raises
        ------
        KernelError
            For a bank or a kernel set (use :attr:`terms`, one entry per part).
        """
        if self.weights.ndim != 2:
            raise KernelError(
                f"separable factors are defined for a 2-D kernel; {self.name!r} has shape "
                f"{self.shape}"
            )
        return list(self.terms[0])

    @property
    def receptive_field(self) -> ReceptiveField:
        """What one output sees when applied alone with stride and dilation 1."""
        from imconv.engine import receptive_field

        return receptive_field([self.spatial_shape])

    @property
    def weight_count(self) -> int:
        """Number of weights: ``C_out*C_in*kh*kw`` for a bank, ``P*kh*kw`` for parts."""
        return int(self.weights.size)

    def combine_responses(self, responses: Iterable[np.ndarray]) -> np.ndarray:
        """One output from the responses of :attr:`parts`, pixel by pixel.

        Parameters
        ----------
        responses : iterable of ndarray
            The response of each part, in part order: real floating arrays of one shape
            and dtype (one band of one channel, or several channels: the rule is applied
            elementwise). A generator is consumed one response at a time. Never written to.

        Returns
        -------
        ndarray
            For a set, a new array of the responses' shape and dtype: ``combine`` of the
            responses (made absolute first when ``absolute``); see
            :func:`~imconv.kernels._combine.combine_responses`. For a linear kernel or a
            bank, the one response itself (no copy).

        Raises
        ------
        ShapeError
            Not exactly one response per part, or responses of different shapes or dtypes.

        Examples
        --------
        >>> sobel = Kernel.from_parts([[[1, 0, -1]], [[1], [0], [-1]]], combine="magnitude")
        >>> sobel.combine_responses([np.array([3.0]), np.array([4.0])]).tolist()
        [5.0]
        """
        counted = exactly(responses, len(self.parts), self.name)
        if not self.is_set:
            (only,) = list(counted)
            return only
        return combine_responses(counted, combine=self.combine, absolute=self.absolute)

    def with_combine(self, combine: str, *, absolute: bool | None = None) -> Kernel:
        """This kernel set with another ``combine`` rule (``absolute`` kept unless given):
        what a ``--combine`` option needs.

        Raises
        ------
        KernelError
            For a linear kernel or a bank.
        InvalidParameterError
            An unknown rule.
        """
        if not self.is_set:
            raise KernelError(
                f"kernel {self.name!r} is a single kernel; combine applies to kernel sets "
                "(sobel, kirsch, compass, ImageMagick kernel lists)"
            )
        keep = self.absolute if absolute is None else absolute
        return replace(self, combine=parse_combine(combine), absolute=keep)

    def normalized(self) -> Kernel:
        """This kernel divided by its sum (per part, per output channel of a bank).

        Raises
        ------
        KernelError
            When a unit sums to zero (edge kernels), with a hint.
        """
        units = self._units()
        axes = tuple(range(1, units.ndim))
        sums = units.sum(axis=axes, keepdims=True)
        if (np.abs(sums) <= _ZERO_SUM_RTOL * np.abs(units).sum(axis=axes, keepdims=True)).any():
            raise KernelError(
                f"kernel {self.name!r} sums to 0 and cannot be normalized",
                hint="`normalize` divides by the sum; edge kernels sum to zero",
            )
        return replace(self, weights=(units / sums).reshape(self.shape), factors=None)

    def apply(self, x: Any, *, correlate: bool = False, **options: Any) -> np.ndarray:
        """Run the engine with this kernel: bias added, the parts of a set combined.

        Parameters
        ----------
        x : array_like
            Image, as for :func:`imconv.engine.convolve`.
        correlate : bool
            Correlate instead of convolve.
        **options
            Any keyword of :func:`imconv.engine.convolve` except ``bias``.

        Returns
        -------
        ndarray
            As :func:`imconv.engine.convolve` returns; for a set, the parts' responses
            combined by :meth:`combine_responses`.
        """
        from imconv import engine

        run = engine.correlate if correlate else engine.convolve
        if not self.is_set:
            return run(x, self.weights, bias=self.bias, **options)
        return self.combine_responses(run(x, part, **options) for part in self.parts)
