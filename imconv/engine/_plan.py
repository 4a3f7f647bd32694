"""Plans: decide once, run many times (the FFTW and cuDNN idea).

:func:`plan` validates the options once, resolves them against the shapes into a spec,
prepares the kernel (compute dtype, flipped for convolution), and chooses the algorithm
once: the one named, the cost model's, or with ``autotune`` the fastest of the plausible
candidates, each timed on a band of the problem through exactly the code path and memory
layout it would run, and kept in a store. The :class:`Plan` then runs on whole arrays,
``p(x)``, or on bands of rows, :meth:`Plan.run_band`: the image stream and the tiled path
filter band by band and get the numbers of the whole image.

Layouts: an algorithm runs channels-first ``(C, *spatial)`` (the channel axis moved first
as the band is padded, in the same copy), or channels-last as the data lies (``direct``,
``separable`` and ``fft`` on ``(..., C)`` photos with per-channel kernels).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, MutableMapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Operation, Padding, Reason, parse_choice
from imconv.errors import InvalidParameterError, ShapeError

from . import _cost, _direct, _fft, _matmul, _separable, _tune
from ._options import ConvOptions
from ._padding import extend_block, fill_values, index_map
from ._spec import ConvSpec, check_kernel, compute_dtype, make_spec

Store = MutableMapping[str, str]
Terms = Sequence[Sequence[np.ndarray]]  # the separable terms of one spatial kernel
Run = Callable[..., np.ndarray]

ALGORITHMS: dict[Algorithm, Run] = {
    Algorithm.DIRECT: _direct.correlate,
    Algorithm.MATMUL: _matmul.correlate,
    Algorithm.FFT: _fft.correlate,
    Algorithm.SEPARABLE: _separable.correlate,
}

# A huge bank is not worth one SVD per (output, input) pair just to estimate its rank.
RANKED_PAIRS = 64


class Layout(StrEnum):
    """How the data lies while an algorithm runs: channels moved first, or as they are."""

    CHANNELS_FIRST = "channels-first"
    CHANNELS_LAST = "channels-last"


def band_spec(spec: ConvSpec, rows: int) -> ConvSpec:
    """The spec of ``rows`` output rows, computed from their already padded input rows."""
    padded_rows = (rows - 1) * spec.stride[0] + spec.effective_kernel_shape[0]
    return dataclasses.replace(
        spec,
        input_shape=(padded_rows, *spec.input_shape[1:]),
        pad_widths=((0, 0), *spec.pad_widths[1:]),
    )


def _folded(spec: ConvSpec) -> ConvSpec:
    """A channels-last per-channel problem as one volume with a trailing 1-tap axis."""
    return dataclasses.replace(
        spec,
        input_shape=(*spec.input_shape, spec.channels_in),
        kernel_shape=(*spec.kernel_shape, 1),
        channels_in=1,
        channels_out=1,
        stride=(*spec.stride, 1),
        dilation=(*spec.dilation, 1),
        channel_axis=None,
        pad_widths=(*spec.pad_widths, (0, 0)),
    )


def _rank(spec: ConvSpec, kernel: np.ndarray, memo: dict[Any, Any]) -> int:
    """The largest separable rank over the kernel's spatial slices (its SVDs memoised)."""
    if spec.ndim == 1:
        return 1
    if spec.bank and spec.channels_out * spec.channels_in > RANKED_PAIRS:
        return min(spec.kernel_shape)  # too many SVDs to be worth it: assume the worst
    slices = kernel.reshape(-1, *spec.kernel_shape)
    return max(1, *(len(_separable.terms(k, memo, i)) for i, k in enumerate(slices)))


def _bias(bias: Any, spec: ConvSpec) -> np.ndarray | None:
    """Bias as a ``(C_out,)`` array in the compute dtype, or None."""
    if bias is None:
        return None
    values = np.asarray(bias)
    if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise InvalidParameterError("bias", bias, "finite real numbers")
    if values.ndim > 1 or (values.ndim == 1 and values.size != spec.channels_out):
        raise ShapeError(
            f"bias must be a number or have one value per output channel "
            f"({spec.channels_out}); got shape {values.shape}"
        )
    return np.broadcast_to(values.astype(spec.dtype), (spec.channels_out,))


def _options(options: ConvOptions | None, values: dict[str, Any]) -> ConvOptions:
    """The options object: given whole, or built from keyword arguments (not both)."""
    if options is None:
        return ConvOptions(**values)
    if values:
        raise InvalidParameterError(
            "options", sorted(values), "given either as ConvOptions or as keywords, not both"
        )
    if not isinstance(options, ConvOptions):
        raise InvalidParameterError("options", options, "a ConvOptions")
    return options


class Plan:
    """A convolution decided once: its algorithm and why, its geometry, its costs.

    Made by :func:`plan`; call it on arrays of the planned shape, or run bands of rows
    with :meth:`run_band`. Never modifies its inputs.

    Attributes
    ----------
    algorithm : Algorithm
        ``direct``, ``matmul``, ``fft`` or ``separable`` (never ``auto``).
    reason : Reason
        ``forced``, ``model``, ``measured`` or ``cache``.
    explanation : str
        What decided: the estimates, the timings, or the stored key (``"requested"``).
    estimates : dict
        Estimated seconds per candidate (the cost model's; empty when forced).
    layout : Layout
        Whether the algorithm runs channels-first or on the data as it lies.
    """

    def __init__(
        self,
        *,
        spec: ConvSpec,
        kernel: np.ndarray,
        bias: np.ndarray | None,
        options: ConvOptions,
        operation: Operation,
        input_shape: tuple[int, ...],
        input_dtype: np.dtype,
        algorithm: Algorithm,
        memo: dict[Any, Any],
    ) -> None:
        self._spec, self._kernel, self._bias, self._memo = spec, kernel, bias, memo
        self.options, self.operation = options, operation
        self.shape, self.dtype = input_shape, input_dtype
        self.algorithm = algorithm
        self.reason = Reason.FORCED
        self.explanation = "requested"
        self.estimates: dict[Algorithm, float] = {}
        #: The problem's key in the autotuning store (None unless autotuned).
        self.key: str | None = None
        before = spec.pad_widths[0]
        self._rows = index_map(spec.input_shape[0], before, spec.padding)
        #: The axis of the input and output arrays that bands cut (the first spatial one).
        self.band_axis = 1 if spec.channel_axis == 0 else 0

    def __repr__(self) -> str:
        return (
            f"Plan({self.operation} {self.shape} -> {self.output_shape}, {self.algorithm} "
            f"({self.reason}), {self.layout})"
        )

    def with_algorithm(self, algorithm: Algorithm) -> Plan:
        """The same problem run by another algorithm (same kernel, memo shared)."""
        return Plan(
            spec=self._spec,
            kernel=self._kernel,
            bias=self._bias,
            options=self.options,
            operation=self.operation,
            input_shape=self.shape,
            input_dtype=self.dtype,
            algorithm=algorithm,
            memo=self._memo,
        )

    # --- what the plan says ------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """Whether the algorithm runs channels-first or on the data as it lies."""
        last = _cost.runs_channels_last(self._spec, self.algorithm)
        return Layout.CHANNELS_LAST if last else Layout.CHANNELS_FIRST

    @property
    def spec(self) -> ConvSpec:
        """The resolved geometry (per-axis tuples, pad widths, compute dtype)."""
        return self._spec

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The whole result's shape, the channel axis (and its C_out) where it was."""
        spatial = self._spec.output_shape
        if self._spec.channel_axis is None:
            return spatial
        axis = self._spec.channel_axis
        return (*spatial[:axis], self._spec.channels_out, *spatial[axis:])

    @property
    def halo(self) -> tuple[tuple[int, int], ...]:
        """Input rows/cols a band needs beyond its own, (before, after) per spatial axis."""
        return tuple(
            (before, k - 1 - before)
            for (before, _), k in zip(
                self._spec.pad_widths, self._spec.effective_kernel_shape, strict=True
            )
        )

    @property
    def rank(self) -> int:
        """Separable terms of the kernel (the largest over a bank's slices)."""
        return _rank(self._spec, self._kernel, self._memo)

    @property
    def operations(self) -> float:
        """Estimated arithmetic: multiply-adds (direct, matmul, separable) or FFT flops."""
        rank = self.rank if self.algorithm is Algorithm.SEPARABLE else 1
        return _cost.operations(self._spec, self.algorithm, rank)

    @property
    def peak_bytes(self) -> int:
        """Estimated peak memory of one whole-array run, in bytes."""
        return _cost.peak_memory(self._spec, self.algorithm)

    # --- running -----------------------------------------------------------------------

    def __call__(self, x: Any) -> np.ndarray:
        """The result for ``x``, an array of the planned shape (any dtype of the same
        compute dtype): equal to :func:`imconv.convolve` or :func:`imconv.correlate`."""
        x = np.asarray(x)
        if x.shape != self.shape or compute_dtype(x.dtype) != self._spec.dtype:
            raise ShapeError(
                f"x must have the planned shape {self.shape} and a dtype computed in "
                f"{self._spec.dtype}; got shape {x.shape} and dtype {x.dtype}"
            )
        return self.run_band(x, 0, self._spec.output_shape[0])

    def band_rows(self, start: int, stop: int) -> np.ndarray:
        """The input rows (first spatial axis) that output rows ``start:stop`` read, one per
        padded row, in order; ``-1`` where the padding supplies a constant."""
        s, k = self._spec.stride[0], self._spec.effective_kernel_shape[0]
        return self._rows[start * s : (stop - 1) * s + k]

    def fill_for(self, x: Any) -> np.ndarray:
        """The per-channel constant of zero, constant or mean padding for the whole ``x``
        (a band of a mean-padded image needs its image's means: pass them as ``fill``)."""
        canonical, channel = self._canonical(np.asarray(x))
        return fill_values(
            canonical, self._spec.padding, self._spec.cval, channel, self._spec.dtype
        )

    def run_band(
        self,
        block: Any,
        start: int,
        stop: int,
        *,
        rows: np.ndarray | None = None,
        fill: np.ndarray | None = None,
    ) -> np.ndarray:
        """Output rows ``start:stop`` (first spatial axis) from a block of the input.

        Parameters
        ----------
        block : array_like
            The input with only some rows on the first spatial axis: those of
            :meth:`band_rows` at least (the other axes whole).
        start, stop : int
            The output rows wanted, ``0 <= start < stop <= output rows``.
        rows : array of int, optional
            The input row each row of ``block`` holds; by default ``block`` starts at row 0.
        fill : array, optional
            The per-channel padding constant; required for ``mean`` padding unless
            ``block`` is the whole input (:meth:`fill_for`).

        Returns
        -------
        ndarray
            Those rows of ``p(x)``, bit for bit.
        """
        spec = self._spec
        block = np.asarray(block)
        total = spec.output_shape[0]
        if not 0 <= start < stop <= total:
            raise InvalidParameterError(
                "start, stop", (start, stop), f"0 <= start < stop <= {total}"
            )
        canonical, channel = self._canonical(block)
        positions = self._positions(self.band_rows(start, stop), rows, canonical.shape)
        if fill is None:
            if spec.padding is Padding.MEAN and (
                rows is not None or canonical.shape[self._lead] != spec.input_shape[0]
            ):
                raise InvalidParameterError(
                    "fill", None, "the image's channel means for a band of mean padding"
                )
            fill = fill_values(canonical, spec.padding, spec.cval, channel, spec.dtype)
        padded = extend_block(
            canonical,
            positions,
            spec.pad_widths[1:],
            spec.padding,
            np.asarray(fill, dtype=spec.dtype),
            spec.dtype,
            channels_last=self.layout is Layout.CHANNELS_LAST,
        )
        return self._finish(self._execute(padded, band_spec(spec, stop - start)))

    def verify(self, x: Any, y: Any) -> float:
        """Largest difference of ``y`` (this plan's result for ``x``) from ``direct`` on the
        first rows, relative to their max|y|."""
        rows = min(16, self._spec.output_shape[0])
        reference = self.with_algorithm(Algorithm.DIRECT).run_band(x, 0, rows)
        got = np.asarray(y)[(slice(None),) * self.band_axis + (slice(0, rows),)]
        scale = float(np.max(np.abs(reference))) or 1.0
        return float(np.max(np.abs(got - reference))) / scale

    # --- inside ------------------------------------------------------------------------

    @property
    def band_multiple(self) -> int:
        """Bands whose first output row is a multiple of this give the whole result's bits
        (the FFT's overlap-save rows; 1 for the other algorithms)."""
        return self._fft_blocks[0] if self.algorithm is Algorithm.FFT else 1

    @property
    def _fft_blocks(self) -> _fft.Blocks:
        """The FFT's bands and lengths for the whole problem (kept in the memo)."""
        if "blocks" not in self._memo:
            self._memo["blocks"] = _fft.blocks(self._spec)
        return self._memo["blocks"]

    @property
    def _lead(self) -> int:
        """The band axis of the canonical view (0 channels-last, 1 channels-first)."""
        return 0 if self.layout is Layout.CHANNELS_LAST else 1

    def _canonical(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """A view of ``x`` in the plan's layout, and where its channel axis is."""
        axis = self._spec.channel_axis
        if self.layout is Layout.CHANNELS_LAST:
            return x, x.ndim - 1
        return (x[np.newaxis] if axis is None else np.moveaxis(x, axis, 0)), 0

    def _positions(
        self, needed: np.ndarray, rows: np.ndarray | None, shape: tuple[int, ...]
    ) -> np.ndarray:
        """Rows of the block that hold each needed input row (``-1`` stays ``-1``)."""
        held = shape[self._lead]
        if rows is None:
            positions = needed
        else:
            where = np.full(self._spec.input_shape[0], -1, dtype=np.intp)
            where[np.asarray(rows)] = np.arange(len(rows))
            positions = np.where(needed >= 0, where[np.maximum(needed, 0)], -1)
            if ((positions < 0) & (needed >= 0)).any():
                missing = needed[(positions < 0) & (needed >= 0)]
                raise InvalidParameterError(
                    "rows", f"no row {int(missing[0])}", "rows holding every row band_rows() names"
                )
        if positions.size and positions.max() >= held:
            raise ShapeError(
                f"block must hold input rows up to {int(positions.max())}; it has {held}"
            )
        return positions

    def _execute(self, padded: np.ndarray, spec: ConvSpec) -> np.ndarray:
        """The algorithm on a padded band; channels-first ``(C_out, ...)`` or as laid."""
        kernel, memo = self._kernel, self._memo
        if self.algorithm is Algorithm.FFT:
            last = self.layout is Layout.CHANNELS_LAST
            return _fft.correlate(
                padded, kernel, spec, channels_last=last, memo=memo, geometry=self._fft_blocks
            )
        if self.layout is Layout.CHANNELS_FIRST:
            return ALGORITHMS[self.algorithm](padded, kernel, spec, memo=memo)
        run = ALGORITHMS[self.algorithm]
        return run(padded[np.newaxis], kernel[..., np.newaxis], _folded(spec), memo=memo)[0]

    def _finish(self, result: np.ndarray) -> np.ndarray:
        """Add the bias and put the channel axis back where it was."""
        last = self.layout is Layout.CHANNELS_LAST
        if self._bias is not None:
            result += self._bias if last else self._bias.reshape((-1,) + (1,) * self._spec.ndim)
        if last:
            return result
        if self._spec.channel_axis is None:
            return result[0]
        # A view, not a copy: the channel axis goes back where it was without moving data.
        return np.moveaxis(result, 0, self._spec.channel_axis)


def _oriented(known: Terms, operation: Operation) -> list[tuple[np.ndarray, ...]]:
    """Known terms of a kernel as the plan keeps them: float64, reversed for convolution."""
    flip = operation is Operation.CONVOLVE
    return [
        tuple(np.asarray(v, dtype=np.float64)[:: -1 if flip else 1].copy() for v in term)
        for term in known
    ]


def _estimates(
    spec: ConvSpec, kernel: np.ndarray, memo: dict[Any, Any], worth: float
) -> tuple[dict[Algorithm, float], int | None]:
    """The cost model's estimates; the kernel's rank (an SVD) only when separable could come
    within ``worth`` times the best at rank 1, since a higher rank only costs more."""
    pairs = spec.channels_out * spec.channels_in if spec.bank else 1
    nonzero = int(np.count_nonzero(kernel)) // pairs
    found = _cost.estimates(spec, nonzero, 1)
    separable = found.get(Algorithm.SEPARABLE)
    if separable is None or separable > worth * min(found.values()):
        return found, None
    rank = _rank(spec, kernel, memo)
    return _cost.estimates(spec, nonzero, rank), rank


def _modelled(plan: Plan, estimates: dict[Algorithm, float]) -> None:
    best = min(estimates, key=estimates.__getitem__)
    runner_up = min((a for a in estimates if a is not best), key=estimates.__getitem__)
    plan.algorithm, plan.reason, plan.estimates = best, Reason.MODEL, estimates
    plan.explanation = (
        f"{best} {estimates[best] * 1e3:.3g} ms, next {runner_up} "
        f"{estimates[runner_up] * 1e3:.3g} ms (estimated)"
    )


def _measure(plan: Plan, estimates: dict[Algorithm, float], store: Store, key: str) -> None:
    """Time the plausible candidates on a synthetic band of the problem; keep the fastest."""
    best_estimate = min(estimates.values())
    candidates = [a for a, t in estimates.items() if t <= _tune.PLAUSIBLE * best_estimate]
    spec = plan.spec
    rows = _tune.sample_rows(spec.output_shape[0], best_estimate)
    needed = plan.band_rows(0, rows)
    held = np.unique(needed[needed >= 0]) if (needed >= 0).any() else np.zeros(1, np.intp)
    shape = list(plan.shape)
    shape[plan.band_axis] = len(held)
    block = _tune.synthetic_block(tuple(shape), plan.dtype)
    fill = np.zeros(spec.channels_in, dtype=spec.dtype)
    twins = {a: plan.with_algorithm(a) for a in candidates}
    runs = {
        a: (lambda twin=twin: twin.run_band(block, 0, rows, rows=held, fill=fill))
        for a, twin in twins.items()
    }
    best, timings = _tune.fastest(runs)
    store[key] = best.value
    ranked = sorted(timings, key=timings.__getitem__)
    shown = ", ".join(f"{a} {timings[a] * 1e3:.3g} ms" for a in ranked)
    plan.algorithm, plan.reason, plan.estimates = best, Reason.MEASURED, estimates
    plan.explanation = f"{shown} on {rows} rows"


def plan(
    shape: tuple[int, ...],
    w: Any,
    *,
    dtype: Any = "float32",
    operation: Operation | str = Operation.CONVOLVE,
    bias: Any = None,
    autotune: bool = False,
    store: Store | None = None,
    terms: Sequence[Terms] | None = None,
    options: ConvOptions | None = None,
    **option_values: Any,
) -> Plan:
    """Plan the convolution (or correlation) of arrays of ``shape`` and ``dtype`` with ``w``.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, channel axis included.
    w : array_like
        The kernel, or a bank ``(C_out, C_in, *spatial)`` (see :func:`imconv.correlate`).
    dtype
        The input's dtype: float64 computes in float64, everything else in float32.
    operation : {"convolve", "correlate"}
        Convolution flips ``w`` on every spatial axis.
    bias : float or array_like, optional
        Added to each output channel.
    autotune : bool
        With ``algorithm="auto"``: time the plausible algorithms on a band of this problem
        (synthetic data of ``dtype``, the layout and code path that will run) and keep the
        fastest in ``store``; a later plan of the same problem reads it from there.
    store : MutableMapping[str, str], optional
        Where measured choices are kept (problem key -> algorithm). Default: this process's
        memory. The command line passes one kept on disk.
    terms : sequence, optional
        The separable terms of each spatial slice of ``w`` (one slice, or ``(o, i)`` of a
        bank in order), when known exactly (:func:`separable_factors`' form: tuples of 1-D
        vectors whose outer products sum to the slice): no SVD is then computed.
    options : ConvOptions, optional
        Every option at once; or give them as keywords (``mode=``, ``padding=``...), not both.
    **option_values
        The fields of :class:`ConvOptions`.

    Returns
    -------
    Plan

    Raises
    ------
    ShapeError, KernelError, InvalidParameterError
        As :func:`imconv.convolve`, before anything runs.

    Examples
    --------
    >>> p = plan((3,), [1.0, 1.0, 2.0], dtype="float64", mode="full")
    >>> p(np.array([2.0, -1.0, 1.0])).tolist(), str(p.reason)
    ([2.0, 1.0, 4.0, -1.0, 2.0], 'model')
    """
    conv = _options(options, option_values)
    weights = np.asarray(w)
    check_kernel(weights)
    spec = make_spec(tuple(shape), dtype, weights.shape, conv)
    operation = parse_choice(Operation, operation, "operation")
    kernel = weights.astype(spec.dtype)
    if operation is Operation.CONVOLVE:
        kernel = np.flip(kernel, axis=tuple(range(-spec.ndim, 0)))
    kernel = np.ascontiguousarray(kernel)
    kernel.setflags(write=False)
    memo: dict[Any, Any] = {}
    for index, known in enumerate(terms or ()):
        memo[("terms", index, spec.kernel_shape)] = _oriented(known, operation)
    algorithm = Algorithm.DIRECT if spec.algorithm is Algorithm.AUTO else spec.algorithm
    made = Plan(
        spec=spec,
        kernel=kernel,
        bias=_bias(bias, spec),
        options=conv,
        operation=operation,
        input_shape=tuple(shape),
        input_dtype=np.dtype(dtype),
        algorithm=algorithm,
        memo=memo,
    )
    if spec.algorithm is not Algorithm.AUTO:
        return made
    estimates, rank = _estimates(spec, kernel, memo, _tune.PLAUSIBLE if autotune else 1.0)
    if not autotune:
        _modelled(made, estimates)
        return made
    store = _tune.MEMORY if store is None else store
    key = made.key = _tune.tuning_key(spec, rank, made.dtype)
    remembered = _tune.known(store, key, estimates)
    if remembered is None:
        _measure(made, estimates, store, key)
        return made
    made.algorithm, made.reason, made.estimates = remembered, Reason.CACHE, estimates
    made.explanation = f"measured earlier ({key})"
    return made
