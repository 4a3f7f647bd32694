"""The :class:`Kernel` value object: validated weights plus the facts the CLI reports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from imconv import engine
from imconv.engine import ReceptiveField, Step, kernel_rank, receptive_field, separable_factors
from imconv.errors import KernelError

__all__ = ["COMBINES", "Kernel", "make_slug", "nested_array"]

COMBINES = ("magnitude",)
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


def _readonly(values: Any) -> np.ndarray:
    """A float64 copy that cannot be written to."""
    array: np.ndarray = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def _check_weights(weights: Any, combine: str | None) -> np.ndarray:
    """Weights as a read-only float64 copy; KernelError unless real, finite, non-empty."""
    array = np.asarray(weights)
    if array.dtype.kind not in "biuf":
        raise KernelError(f"kernel must hold real numbers; got dtype {array.dtype}")
    if array.ndim not in ((3,) if combine else (2, 4)):
        what = (
            "a stack (parts, kh, kw)"
            if combine
            else "2-D (kh, kw) or a 4-D bank (C_out, C_in, kh, kw)"
        )
        raise KernelError(f"kernel must be {what}; got shape {array.shape}")
    if array.size == 0:
        raise KernelError(f"kernel must not be empty; got shape {array.shape}")
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise KernelError(
            f"kernel must hold finite numbers; got {float(array[where])!r} at {where}"
        )
    return _readonly(array)


def _check_bias(bias: Any, weights: np.ndarray, combine: str | None) -> np.ndarray | None:
    """Bias as float64: one value per output channel for a bank, a 0-d offset for 2-D."""
    if bias is None:
        return None
    values = np.asarray(bias)
    if combine or values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise KernelError(
            f"bias must be finite real numbers, and a magnitude kernel has none; got {bias!r}"
        )
    if weights.ndim == 4 and values.shape != (weights.shape[0],):
        raise KernelError(
            f"bias must have one value per output channel ({weights.shape[0]}); "
            f"got shape {values.shape}"
        )
    if weights.ndim == 2:
        if values.size != 1:
            raise KernelError(f"bias of a 2-D kernel must be one number; got {bias!r}")
        values = values.reshape(())
    return _readonly(values)


@dataclass(frozen=True, eq=False)
class Kernel:
    """A convolution kernel, validated once, with the facts ``imconv kernels`` reports.

    Parameters
    ----------
    weights : array_like
        A 2-D ``(kh, kw)`` spatial kernel, a 4-D bank ``(C_out, C_in, kh, kw)``, or with
        ``combine="magnitude"`` a stack ``(P, kh, kw)`` of parts. Stored as a read-only
        float64 copy.
    name : str
        As the user wrote it, canonicalised for presets (``"gaussian:sigma=2"``).
    description : str
        One line for listings.
    bias : float or array_like, optional
        Added after the weighted sum: one value per output channel for a bank, one number
        (stored 0-d, added to every channel) for a 2-D kernel, such as a libvips offset.
    combine : {None, "magnitude"}
        None for a linear kernel. ``"magnitude"``: each part is applied on its own and the
        responses combined per pixel and channel as ``sqrt(sum of squares)`` (``sobel``).
    slug : str, optional
        Filesystem-safe short name for output files; by default made from ``name``.

    Raises
    ------
    KernelError
        Non-real, empty or non-finite weights, a wrong number of axes, a bad bias, or an
        unknown ``combine``.

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

    def __post_init__(self) -> None:
        if self.combine is not None and self.combine not in COMBINES:
            raise KernelError(f"combine must be None or one of {COMBINES}; got {self.combine!r}")
        weights = _check_weights(self.weights, self.combine)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", _check_bias(self.bias, weights, self.combine))
        object.__setattr__(self, "slug", make_slug(self.slug or self.name))

    def __repr__(self) -> str:
        extra = f", combine={self.combine!r}" if self.combine else ""
        return f"Kernel({self.name!r}, shape={self.shape}, sum={self.sum:g}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kernel):
            return NotImplemented
        if (self.name, self.combine, self.shape) != (other.name, other.combine, other.shape):
            return False
        if self.bias is None or other.bias is None:
            same_bias = self.bias is other.bias
        else:
            same_bias = np.array_equal(self.bias, other.bias)
        return same_bias and np.array_equal(self.weights, other.weights)

    def __hash__(self) -> int:
        return hash((self.name, self.combine, self.shape, self.weights.tobytes()))

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
    def sum(self) -> float:
        """Sum of all weights (of all parts, of the whole bank)."""
        return float(self.weights.sum())

    def _units(self) -> np.ndarray:
        """What :meth:`normalized` divides separately: the kernel, each part, each output."""
        return self.weights.reshape((-1, *self.weights.shape[-3 if self.is_bank else -2 :]))

    @property
    def is_zero_sum(self) -> bool:
        """True when every unit (the kernel, each part, each output channel of a bank) sums
        to zero: ``abs(sum) <= 1e-12 * sum(abs)``. Edge kernels are zero-sum."""
        units = self._units()
        axes = tuple(range(1, units.ndim))
        sums, scales = units.sum(axis=axes), np.abs(units).sum(axis=axes)
        return bool((np.abs(sums) <= _ZERO_SUM_RTOL * scales).all())

    @property
    def rank(self) -> int:
        """Matrix rank of a 2-D kernel (separable terms); the largest over parts or bank
        slices, which is what the ``separable`` algorithm runs per slice."""
        slices = self.weights.reshape((-1, *self.spatial_shape))
        return max(kernel_rank(s) for s in slices)

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
            For a bank or a magnitude kernel.
        """
        if self.weights.ndim != 2:
            raise KernelError(
                f"separable factors are defined for a 2-D kernel; {self.name!r} has shape "
                f"{self.shape}"
            )
        return [(col, row) for col, row in separable_factors(self.weights)]

    @property
    def receptive_field(self) -> ReceptiveField:
        """What one output sees when applied alone with stride and dilation 1."""
        return receptive_field([self.spatial_shape])

    def step(self, *, stride: Any = 1, dilation: Any = 1) -> Step:
        """This kernel as one :class:`~imconv.engine.Step` of a chain, for receptive fields."""
        return Step(self.spatial_shape, stride, dilation)

    @property
    def weight_count(self) -> int:
        """Number of weights: ``C_out*C_in*kh*kw`` for a bank, ``P*kh*kw`` for parts."""
        return int(self.weights.size)

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
                hint="--normalize divides by the sum; edge kernels sum to zero",
            )
        return replace(self, weights=(units / sums).reshape(self.shape))

    def apply(self, x: Any, *, correlate: bool = False, **options: Any) -> np.ndarray:
        """Run the engine with this kernel: bias added, magnitude parts combined.

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
            As :func:`imconv.engine.convolve` returns; for ``combine="magnitude"``,
            ``sqrt(sum(response**2))`` over the parts.
        """
        run = engine.correlate if correlate else engine.convolve
        if self.combine is None:
            return run(x, self.weights, bias=self.bias, **options)
        squares = [np.square(run(x, part, **options)) for part in self.weights]
        return np.sqrt(np.sum(squares, axis=0))


def nested_array(values: Any, where: str, label: str = "kernel") -> np.ndarray:
    """Nested lists of numbers (from JSON or TOML) as a float64 array.

    Raises
    ------
    KernelError
        Naming ``where`` and the index of the first value that is not a number, or the
        first row whose length differs from its siblings'.
    """
    _shape_of(values, where, label)
    return np.array(values, dtype=np.float64)


def _shape_of(values: Any, where: str, path: str) -> tuple[int, ...]:
    """Shape of a rectangular nested list; KernelError at the first bad value or row."""
    if isinstance(values, int | float) and not isinstance(values, bool):
        return ()
    if not isinstance(values, list) or not values:
        raise KernelError(f"{where}: {path} must be a number or a non-empty list; got {values!r}")
    shapes = [_shape_of(item, where, f"{path}[{i}]") for i, item in enumerate(values)]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise KernelError(
                f"{where}: {path}[{i}] has shape {shape}, but {path}[0] has {shapes[0]}: "
                f"rows must all have the same length"
            )
    return (len(values), *shapes[0])
