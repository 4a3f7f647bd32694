"""The steps of a recipe as engine plans: made once per image geometry, then run.

A step is one kernel: a linear kernel (2-D, or a bank, with its bias) is one plan; a kernel
set (``sobel``: its parts combined per pixel) is one plan per part. Alpha that keeps its
values is resampled like the step by a delta kernel of the step's geometry. A
:class:`Planner` remembers the plans of every step for each input shape and dtype, so the
files of a batch plan each step once per size, not once per file.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv.choices import Operation, Reason
from imconv.engine import Plan, plan
from imconv.errors import InvalidParameterError
from imconv.kernels import Kernel

from ._integer import IntegerKernel, integer_kernels
from ._recipe import Recipe

Shape = tuple[int, ...]


@dataclass(frozen=True)
class StepPlans:
    """The plans of one step on one input geometry: one per part of a kernel set, and where
    the step runs exactly in integers on 8-bit samples, each part's integer form
    (:mod:`imconv.stream._integer`)."""

    kernel: Kernel
    plans: tuple[Plan, ...]
    integers: tuple[IntegerKernel, ...] = ()

    @property
    def first(self) -> Plan:
        """The plan that speaks for the step (every part has the same geometry)."""
        return self.plans[0]

    @property
    def output_shape(self) -> Shape:
        """``(H', W', C')`` of the step's result."""
        return self.first.output_shape

    def run_band(
        self,
        block: np.ndarray,
        start: int,
        stop: int,
        *,
        rows: np.ndarray | None = None,
        fill: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        """Output rows ``start:stop`` from a block of input rows (see
        :meth:`imconv.engine.Plan.run_band`); a kernel set's parts combined."""
        if self.integers:
            held = np.arange(block.shape[0]) if rows is None else rows
            return self.kernel.combine_responses(
                part.response(block, held, start, stop) for part in self.integers
            )
        return self.kernel.combine_responses(
            part.run_band(block, start, stop, rows=rows, fill=fill, mask=mask, threads=threads)
            for part in self.plans
        )

    def describe(self) -> tuple[str, str]:
        """The algorithm and why, as the timing table shows them."""
        first = self.first
        why = f"{first.reason}: {first.explanation}"
        if self.integers:
            shifts = sorted({1 << part.shift for part in self.integers})
            divisors = " or ".join(map(str, shifts))
            return "integer", f"{why}; run exactly in int16 on the 8-bit samples, sums / {divisors}"
        return str(first.algorithm), why

    def tuned(self) -> dict[str, str]:
        """The measurements its plans made now (problem key -> algorithm)."""
        return {p.key: p.algorithm.value for p in self.plans if p.reason is Reason.MEASURED}


def delta_like(kernel: Kernel, operation: Operation) -> Kernel:
    """A delta kernel with ``kernel``'s spatial shape: resamples like it, values kept."""
    shape = kernel.spatial_shape
    delta = np.zeros(shape)
    # "same" pads k - 1 - (k - 1) // 2 before, so the correlation tap k // 2 reads the pixel
    # itself (even kernels too); convolution flips the kernel, so it stores the tap flipped.
    delta[tuple(k // 2 for k in shape)] = 1.0
    if operation is Operation.CONVOLVE:
        delta = np.flip(delta)
    return Kernel(delta, name="alpha")


def _check_stride(recipe: Recipe, shape: Shape) -> None:
    """Refuse a stride longer than the image: it would keep a single row or column."""
    stride = recipe.options.stride
    strides = (stride, stride) if isinstance(stride, int) else stride
    if any(s > n for s, n in zip(strides, shape[:2], strict=False)):
        raise InvalidParameterError(
            "stride", stride, f"at most the image size ({shape[0]} rows, {shape[1]} columns)"
        )


class Planner:
    """The plans of a recipe's steps, made once per input geometry and kept.

    Parameters
    ----------
    recipe
        The chain and its options.
    store
        Where autotuned choices are read and written (problem key -> algorithm); the
        caller loads it once and saves what the records report as ``tuned``.
    """

    def __init__(self, recipe: Recipe, *, store: MutableMapping[str, str] | None = None) -> None:
        self.recipe, self.store = recipe, store
        self._plans: dict[tuple[int, bool, Shape, str], StepPlans] = {}

    def step(
        self, index: int, shape: Shape, dtype: np.dtype, *, resample: bool = False
    ) -> StepPlans:
        """The plans of step ``index`` (or of its delta kernel, ``resample``) on ``(H, W, C)``
        input."""
        key = (index, resample, shape, np.dtype(dtype).str)
        if key not in self._plans:
            self._plans[key] = self._make(index, shape, dtype, resample=resample)
        return self._plans[key]

    def _make(self, index: int, shape: Shape, dtype: np.dtype, *, resample: bool) -> StepPlans:
        recipe = self.recipe
        _check_stride(recipe, shape)
        kernel = recipe.kernels[index]
        if resample:
            kernel = delta_like(kernel, recipe.operation)
        # The generator's exact separable factors, when it knows them: no SVD in the plan.
        if kernel.factors is None:
            known: list[Any] = [None] * len(kernel.parts)
        else:
            known = [(t,) for t in kernel.factors] if kernel.is_set else [kernel.factors]
        plans = tuple(
            plan(
                shape,
                part,
                dtype=dtype,
                operation=recipe.operation,
                bias=kernel.bias,
                autotune=recipe.autotune,
                store=self.store,
                terms=terms,
                options=recipe.options,
            )
            for part, terms in zip(kernel.parts, known, strict=True)
        )
        integers: tuple[IntegerKernel, ...] = ()
        if index == 0 and not resample and kernel.bias is None:
            integers = integer_kernels(recipe, kernel.parts, plans, dtype)
        return StepPlans(kernel, plans, integers)
