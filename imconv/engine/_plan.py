"""Plans: decide once, run many times (the FFTW and cuDNN idea).

:func:`plan` validates the options once, resolves them against the shapes into a spec,
prepares the kernel (compute dtype, flipped for convolution), and chooses the algorithm
once: the one named, the cost model's, or with ``autotune`` the fastest of the plausible
candidates, each timed on a band of the problem through exactly the code path and memory
layout it would run, and kept in a store (``_choose``). The :class:`Plan` then runs on
whole arrays, ``p(x)``, or on bands of rows, :meth:`Plan.run_band`: the image stream and
the tiled path filter band by band and get the numbers of the whole image.

Layouts: an algorithm runs channels-first ``(C, *spatial)`` (the channel axis moved first
as the band is padded, in the same copy), or channels-last as the data lies (``direct``,
``separable`` and ``fft`` on ``(..., C)`` photos with per-channel kernels). Batch axes
(``axes=``) are run item by item (``_axes``). Non-finite inputs are dealt with per band,
so that bands still give the whole result's bits (``_nan``): with ``nan="propagate"`` the
band runs as usual and its result is kept when it is already exact (``direct``'s own IEEE
sums; every FFT band's zero-frequency bin finite; else a finite result), or the band is
run again with its non-finite inputs zeroed and their footprint restored; with
``nan="ignore"`` or a mask, normalized convolution.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from imconv.choices import Algorithm, NanTreatment, Operation, Padding, Reason, parse_choice
from imconv.errors import InvalidParameterError, ShapeError

from . import _choose, _cost, _direct, _fft, _matmul, _nan, _separable
from ._choose import Store, Terms
from ._masks import as_mask
from ._options import ConvOptions, threads_option
from ._padding import extend_block, fill_values, index_map
from ._spec import ConvSpec, check_kernel, compute_dtype, make_spec

Run = Callable[..., np.ndarray]

ALGORITHMS: dict[Algorithm, Run] = {
    Algorithm.DIRECT: _direct.correlate,
    Algorithm.MATMUL: _matmul.correlate,
    Algorithm.FFT: _fft.correlate,
    Algorithm.SEPARABLE: _separable.correlate,
}


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


def _single(spec: ConvSpec) -> ConvSpec:
    """One (output, input) pair of a bank as its own one-channel problem."""
    return dataclasses.replace(spec, channels_in=1, channels_out=1, bank=False)


class Plan:
    """A convolution decided once: its algorithm and why, its geometry, its costs.

    Made by :func:`plan`; call it on arrays of the planned shape, or run bands of rows
    with :meth:`run_band`. Never modifies its inputs (nor its mask).

    Attributes
    ----------
    algorithm : Algorithm
        ``direct``, ``matmul``, ``fft`` or ``separable`` (never ``auto``).
    reason : Reason
        ``forced``, ``model``, ``measured`` or ``cache``.
    explanation : str
        What decided: the estimates, the timings, or the stored key (``"requested"``);
        for normalized convolution, followed by ``"; normalized convolution (...)"``.
    estimates : dict
        Estimated seconds per candidate (the cost model's; empty when forced).
    layout : Layout
        Whether the algorithm runs channels-first or on the data as it lies.
    mask : ndarray or None
        The plan's mask (``True`` = valid) with the input's number of axes, or None.
    nonfinite_bands : int
        Bands (whole calls included) whose input held NaN or infinity, so that the
        NaN-aware path ran: zeroed and restored (``nan="propagate"``), or missing data
        (normalized convolution: non-finite, masked out, or a ``cval=nan`` border). See
        :attr:`nan_path`.
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
        mask: np.ndarray | None = None,
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
        self.mask = mask
        self.nonfinite_bands = 0
        self._lock = threading.Lock()
        self._rows = index_map(spec.input_shape[0], spec.pad_widths[0], spec.padding)
        #: The axis of the input and output arrays that bands cut (the first spatial one).
        self.band_axis = spec.arrangement.spatial[0]

    def __repr__(self) -> str:
        return (
            f"Plan({self.operation} {self.shape} -> {self.output_shape}, {self.algorithm} "
            f"({self.reason}), {self.layout}{', normalized' if self.normalized else ''})"
        )

    def with_algorithm(self, algorithm: Algorithm) -> Plan:
        """The same problem run by another algorithm (same kernel and mask, memo shared)."""
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
            mask=self.mask,
        )

    # --- what the plan says ------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """Whether the algorithm runs channels-first or on the data as it lies."""
        last = _cost.runs_channels_last(self._spec, self.algorithm)
        return Layout.CHANNELS_LAST if last else Layout.CHANNELS_FIRST

    @property
    def spec(self) -> ConvSpec:
        """The resolved geometry of one item (per-axis tuples, pad widths, compute dtype);
        without batch axes, of the whole input."""
        return self._spec

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The whole result's shape: channel and batch axes where they were."""
        spatial = self._spec.output_shape
        item = spatial
        if self._spec.channel_axis is not None:
            axis = self._spec.channel_axis
            item = (*spatial[:axis], self._spec.channels_out, *spatial[axis:])
        arrangement = self._spec.arrangement
        laid = (*arrangement.batch_shape, *item)
        return tuple(laid[i] for i in np.argsort(arrangement.perm))

    @property
    def halo(self) -> tuple[tuple[int, int], ...]:
        """Input rows/cols a band needs beyond its own, (before, after) per spatial axis."""
        return tuple(
            (max(before, 0), max(k - 1 - before, 0))
            for (before, _), k in zip(
                self._spec.pad_widths, self._spec.effective_kernel_shape, strict=True
            )
        )

    @property
    def rank(self) -> int:
        """Separable terms of the kernel (the largest over a bank's slices)."""
        return _choose.rank(self._spec, self._kernel, self._memo)

    @property
    def operations(self) -> float:
        """Estimated arithmetic: multiply-adds (direct, matmul, separable) or FFT flops."""
        rank = self.rank if self.algorithm is Algorithm.SEPARABLE else 1
        return _cost.operations(self._spec, self.algorithm, rank, normalized=self.normalized)

    @property
    def peak_bytes(self) -> int:
        """Estimated peak memory of one whole-array run, in bytes."""
        return _cost.peak_memory(self._spec, self.algorithm, normalized=self.normalized)

    def band_bytes(self, rows: int) -> int:
        """Estimated peak memory of one :meth:`run_band` of ``rows`` output rows on one
        thread, in bytes."""
        return _cost.band_memory(self._spec, self.algorithm, rows, normalized=self.normalized)

    @property
    def normalized(self) -> bool:
        """Whether the plan runs normalized convolution (``nan="ignore"`` or a mask)."""
        return self.options.nan is NanTreatment.IGNORE or self.mask is not None

    @property
    def nan(self) -> NanTreatment:
        """How non-finite inputs are treated: ``ignore`` whenever the plan is normalized."""
        return NanTreatment.IGNORE if self.normalized else NanTreatment.PROPAGATE

    @property
    def nan_path(self) -> str:
        """Words for a report: the NaN-aware path this plan runs or has run; ``""`` when
        none has (``nan="propagate"`` on finite data)."""
        if self.normalized:
            why = "mask" if self.mask is not None else "nan='ignore'"
            return (
                f"normalized convolution ({why}): {self.algorithm} on x*v and on v per band, "
                f"{self.nonfinite_bands} band(s) with missing data"
            )
        if self.nonfinite_bands:
            return (
                f"non-finite inputs in {self.nonfinite_bands} band(s): set to zero for "
                f"{self.algorithm}, their footprint restored exactly"
            )
        return ""

    # --- running -----------------------------------------------------------------------

    def __call__(self, x: Any, *, mask: Any = None) -> np.ndarray:
        """The result for ``x``, an array of the planned shape (any dtype of the same
        compute dtype): equal to :func:`imconv.convolve` or :func:`imconv.correlate`.
        ``mask`` (``True`` = valid) replaces the plan's own for this call; it needs a
        normalized plan (made with ``nan="ignore"`` or with a mask)."""
        x = np.asarray(x)
        kernel_dtype = self._kernel.dtype
        if x.shape != self.shape or compute_dtype(x.dtype, kernel_dtype) != self._spec.dtype:
            raise ShapeError(
                f"x must have the planned shape {self.shape} and a dtype computed in "
                f"{self._spec.dtype}; got shape {x.shape} and dtype {x.dtype}"
            )
        return self.run_band(x, 0, self._spec.output_shape[0], mask=mask)

    def band_rows(self, start: int, stop: int) -> np.ndarray:
        """The input rows (first spatial axis) that output rows ``start:stop`` read, one per
        padded row, in order; ``-1`` where the padding supplies a constant."""
        s, k = self._spec.stride[0], self._spec.effective_kernel_shape[0]
        return self._rows[start * s : (stop - 1) * s + k]

    def fill_for(self, x: Any, *, mask: Any = None) -> np.ndarray:
        """The per-channel constant of zero, constant or mean padding for the whole ``x``
        (a band of a mean-padded image needs its image's means: pass them as ``fill``);
        ``(C,)``, or ``(*batch, C)`` with batch axes. Normalized plans take the means of
        the valid values (finite, and True in ``mask`` or the plan's mask)."""
        x = np.asarray(x)
        masks = self._block_mask(mask, x, None)
        arrangement = self._spec.arrangement
        items = arrangement.to_items(x)
        masked = None if masks is None else arrangement.to_items(np.broadcast_to(masks, x.shape))
        batch = arrangement.batch_shape
        fills = np.empty((*batch, self._spec.channels_in), dtype=self._spec.dtype)
        for index in np.ndindex(batch):
            fills[index] = self._fill(items[index], None if masked is None else masked[index])
        return fills

    def run_band(
        self,
        block: Any,
        start: int,
        stop: int,
        *,
        rows: np.ndarray | None = None,
        fill: np.ndarray | None = None,
        mask: Any = None,
        threads: int | None = None,
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
        mask : array of bool, optional
            ``True`` = valid, for the rows of ``block`` (its shape, or without the channel
            axis); by default the plan's mask at those rows. Needs a normalized plan.
        threads : int, optional
            Threads this call may use; by default the plan's. A caller that runs bands
            side by side gives each one thread (the bits do not depend on it).

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
        masks = self._block_mask(mask, block, rows)
        arrangement = spec.arrangement
        if threads is not None:
            threads = threads_option(threads)
        if arrangement.identity:
            return self._run_item(block, start, stop, rows, fill, masks, threads)
        items = arrangement.to_items(block)
        masked = (
            None if masks is None else arrangement.to_items(np.broadcast_to(masks, block.shape))
        )
        fills = None if fill is None else np.asarray(fill)
        out: np.ndarray | None = None
        for index in np.ndindex(arrangement.batch_shape):
            result = self._run_item(
                items[index],
                start,
                stop,
                rows,
                None if fills is None else fills[index],
                None if masked is None else masked[index],
                threads,
            )
            if out is None:
                out = np.empty((*arrangement.batch_shape, *result.shape), dtype=result.dtype)
            out[index] = result
        return arrangement.from_items(out)

    def verify(self, x: Any, y: Any, *, mask: Any = None) -> float:
        """Largest difference of ``y`` (this plan's result for ``x``) from ``direct`` on the
        first rows, relative to their max|y| (non-finite outputs must agree exactly)."""
        rows = min(16, self._spec.output_shape[0])
        reference = self.with_algorithm(Algorithm.DIRECT).run_band(x, 0, rows, mask=mask)
        got = np.asarray(y)[(slice(None),) * self.band_axis + (slice(0, rows),)]
        finite = np.isfinite(reference)
        if not np.array_equal(finite, np.isfinite(got)):
            return float("inf")
        scale = float(np.max(np.abs(reference[finite]), initial=0.0)) or 1.0
        return float(np.max(np.abs(got - reference)[finite], initial=0.0)) / scale

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
        """A view of an item ``x`` in the plan's layout, and where its channel axis is."""
        axis = self._spec.channel_axis
        if self.layout is Layout.CHANNELS_LAST:
            return x, x.ndim - 1
        return (x[np.newaxis] if axis is None else np.moveaxis(x, axis, 0)), 0

    def _block_mask(self, mask: Any, block: np.ndarray, rows: Any) -> np.ndarray | None:
        """The mask of ``block`` (given, or the plan's rows of it), or None."""
        if mask is not None:
            if not self.normalized:
                raise InvalidParameterError(
                    "mask",
                    "an array",
                    "given to a plan that runs normalized convolution: one made with "
                    "nan='ignore' or with a mask",
                )
            return as_mask(mask, block.shape, self._spec.arrangement)
        if self.mask is None or self.mask.shape[self.band_axis] == 1:
            return self.mask
        held = np.arange(block.shape[self.band_axis]) if rows is None else np.asarray(rows)
        return np.take(self.mask, held, axis=self.band_axis)

    def _fill(self, item: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """The padding constant per channel of a whole item (valid values' means when
        normalized)."""
        spec = self._spec
        canonical, channel = self._canonical(item)
        valid = None
        if self.normalized and spec.padding is Padding.MEAN:
            valid = np.isfinite(canonical)
            if mask is not None:
                valid &= self._canonical(np.broadcast_to(mask, item.shape))[0]
        return fill_values(canonical, spec.padding, spec.cval, channel, spec.dtype, valid)

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

    def _run_item(
        self,
        block: np.ndarray,
        start: int,
        stop: int,
        rows: np.ndarray | None,
        fill: np.ndarray | None,
        mask: np.ndarray | None,
        threads: int | None = None,
    ) -> np.ndarray:
        """Output rows ``start:stop`` of one item from its block of rows."""
        spec = self._spec
        canonical, _ = self._canonical(block)
        positions = self._positions(self.band_rows(start, stop), rows, canonical.shape)
        if fill is None:
            if spec.padding is Padding.MEAN and (
                rows is not None or canonical.shape[self._lead] != spec.input_shape[0]
            ):
                raise InvalidParameterError(
                    "fill", None, "the image's channel means for a band of mean padding"
                )
            fill = self._fill(block, mask)
        last = self.layout is Layout.CHANNELS_LAST
        widths = spec.pad_widths[1:]
        fill = np.asarray(fill, dtype=spec.dtype)
        padded = extend_block(
            canonical, positions, widths, spec.padding, fill, spec.dtype, channels_last=last
        )
        band = band_spec(spec, stop - start)
        if threads is not None:
            band = dataclasses.replace(band, threads=threads)
        if self.normalized:
            valid = np.isfinite(padded)
            if mask is not None:
                seen = self._canonical(np.broadcast_to(mask, block.shape))[0]
                ones = np.ones(spec.channels_in, dtype=bool)
                valid &= extend_block(
                    seen, positions, widths, spec.padding, ones, np.dtype(bool), channels_last=last
                )
            return self._finish(self._normalized(padded, valid, band))
        watch: list[bool] = []
        with np.errstate(invalid="ignore"):  # inf - inf on non-finite inputs: handled below
            result = self._execute(padded, band, watch=watch)
        if self._exact(result, watch):
            return self._finish(result)
        self._count_nonfinite()
        result = _nan.propagate(
            padded, lambda a: self._execute(a, band), self._kernel, band, channels_last=last
        )
        return self._finish(result)

    def _exact(self, result: np.ndarray, watch: list[bool]) -> bool:
        """Whether a result computed as usual is the ``propagate`` answer: always for
        ``direct`` sums of non-zero taps on real data (IEEE arithmetic gives exactly the
        footprint), when every FFT band's input was finite, else when the result is finite
        (a non-finite input read under any tap leaves a non-finite output)."""
        spec = self._spec
        # (A strided bank's direct path multiplies the zero taps of some pairs.)
        plain_sums = not spec.bank or all(s == 1 for s in spec.stride)
        if self.algorithm is Algorithm.DIRECT and spec.dtype.kind != "c" and plain_sums:
            return True
        if self.algorithm is Algorithm.FFT:
            return all(watch)
        return _nan.all_finite(result)

    def _count_nonfinite(self) -> None:
        with self._lock:
            self.nonfinite_bands += 1

    def _normalized(self, padded: np.ndarray, valid: np.ndarray, band: ConvSpec) -> np.ndarray:
        """Normalized convolution of a padded band; a bank normalizes each (out, in) kernel
        on its own and sums them."""
        if not valid.all():
            self._count_nonfinite()
        last = self.layout is Layout.CHANNELS_LAST
        weights = _nan.weigh(padded, valid)
        if not band.bank:
            scaled, memo = self._scaled(self._kernel, ("scaled",))
            return _nan.normalized(
                padded,
                weights,
                lambda a: self._execute(a, band),
                lambda a: self._execute(a, band, scaled, memo),
                self._kernel,
                band,
                channels_last=last,
            )
        single = _single(band)
        out = np.zeros((band.channels_out, *band.output_shape), dtype=band.dtype)
        for o in range(band.channels_out):
            for i in range(band.channels_in):
                kernel = self._kernel[o, i]
                if not kernel.any():
                    continue  # contributes nothing, and cannot be renormalized
                memo = self._pair_memo(o, i)
                scaled, scaled_memo = self._scaled(kernel, ("scaled", o, i))
                out[o] += _nan.normalized(
                    padded[i : i + 1],
                    weights[i : i + 1],
                    lambda a, k=kernel, m=memo: self._execute(a, single, k, m),
                    lambda a, k=scaled, m=scaled_memo: self._execute(a, single, k, m),
                    kernel,
                    single,
                    channels_last=False,
                )[0]
        return out

    def _scaled(self, kernel: np.ndarray, key: tuple[Any, ...]) -> tuple[np.ndarray, dict]:
        """``kernel / sum(kernel)`` (the weights' kernel of normalized convolution) and its
        own memo (its FFT spectra, its separable terms), made once per plan."""
        memo = self._memo.setdefault(key, {})
        if "kernel" not in memo:
            memo["kernel"] = np.ascontiguousarray(kernel / kernel.sum())
        return memo["kernel"], memo

    def _pair_memo(self, o: int, i: int) -> dict[Any, Any]:
        """The memo of one (out, in) kernel of a bank, seeded with its known terms."""
        memo = self._memo.setdefault(("pair", o, i), {})
        key = ("terms", o * self._spec.channels_in + i, self._spec.kernel_shape)
        if key in self._memo:
            memo.setdefault(("terms", 0, self._spec.kernel_shape), self._memo[key])
        return memo

    def _execute(
        self,
        padded: np.ndarray,
        spec: ConvSpec,
        kernel: np.ndarray | None = None,
        memo: dict[Any, Any] | None = None,
        *,
        watch: list[bool] | None = None,
    ) -> np.ndarray:
        """The algorithm on a padded band; channels-first ``(C_out, ...)`` or as laid.
        ``watch`` collects the FFT's finiteness of each band's input."""
        kernel = self._kernel if kernel is None else kernel
        memo = self._memo if memo is None else memo
        if self.algorithm is Algorithm.FFT:
            last = self.layout is Layout.CHANNELS_LAST
            return _fft.correlate(
                padded,
                kernel,
                spec,
                channels_last=last,
                memo=memo,
                geometry=self._fft_blocks,
                watch=watch,
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


def plan(
    shape: tuple[int, ...],
    w: Any,
    *,
    dtype: Any = "float32",
    operation: Operation | str = Operation.CONVOLVE,
    bias: Any = None,
    mask: Any = None,
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
        The input's shape, channel and batch axes included.
    w : array_like
        The kernel, or a bank ``(C_out, C_in, *spatial)`` (see :func:`imconv.correlate`);
        real or complex.
    dtype
        The input's dtype. Real: float64 computes in float64, everything else in float32.
        Complex input or kernel: complex128 if either is complex128 or the input is
        float64, else complex64.
    operation : {"convolve", "correlate"}
        Convolution flips ``w`` on every spatial axis (and mirrors ``origin``).
    bias : float or array_like, optional
        Added to each output channel.
    mask : array of bool, optional
        ``True`` = valid, of the input's shape (or without its channel axis; or, with batch
        axes, of the spatial axes alone): the masked-out inputs are missing data and the
        plan runs normalized convolution (as ``nan="ignore"``). Every run uses it unless
        it passes its own: ``p(x, mask=m)``, ``p.run_band(..., mask=m)``. A plan made with
        ``nan="ignore"`` takes a mask per run without one of its own, which is how one
        plan serves many images with a mask each (the choice of algorithm, the cost model
        and the zero-sum check depend on normalization, not on the mask's values).
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
        Every option at once; or give them as keywords (``mode=``, ``padding=``,
        ``origin=``, ``axes=``, ``nan=``...), not both.
    **option_values
        The fields of :class:`ConvOptions`.

    Returns
    -------
    Plan
        Its :attr:`~Plan.normalized`, :attr:`~Plan.nan` and :attr:`~Plan.nan_path` say
        whether a NaN-aware path runs.

    Raises
    ------
    ShapeError, KernelError, InvalidParameterError
        As :func:`imconv.convolve`, before anything runs; a kernel summing to zero with
        ``nan="ignore"`` or a mask is a ``KernelError``.

    Examples
    --------
    >>> p = plan((3,), [1.0, 1.0, 2.0], dtype="float64", mode="full")
    >>> p(np.array([2.0, -1.0, 1.0])).tolist(), str(p.reason)
    ([2.0, 1.0, 4.0, -1.0, 2.0], 'model')
    >>> q = plan((5,), [1.0, 1.0, 1.0], dtype="float64", nan="ignore")
    >>> q(np.array([1.0, np.nan, 3.0, 4.0, np.nan])).tolist()
    [1.5, 6.0, 10.5, 10.5, 6.0]
    """
    conv = _choose.options_from(options, option_values)
    weights = np.asarray(w)
    check_kernel(weights)
    operation = parse_choice(Operation, operation, "operation")
    spec = make_spec(
        tuple(shape), dtype, weights.shape, conv, kernel_dtype=weights.dtype, operation=operation
    )
    kernel = weights.astype(spec.dtype)
    if operation is Operation.CONVOLVE:
        kernel = np.flip(kernel, axis=tuple(range(-spec.ndim, 0)))
    kernel = np.ascontiguousarray(kernel)
    kernel.setflags(write=False)
    memo: dict[Any, Any] = {}
    for index, known in enumerate(terms or ()):
        memo[("terms", index, spec.kernel_shape)] = _choose.oriented(known, operation)
    checked = None if mask is None else as_mask(mask, tuple(shape), spec.arrangement)
    made = Plan(
        spec=spec,
        kernel=kernel,
        bias=_choose.bias_for(bias, spec),
        options=conv,
        operation=operation,
        input_shape=tuple(shape),
        input_dtype=np.dtype(dtype),
        algorithm=Algorithm.DIRECT if spec.algorithm is Algorithm.AUTO else spec.algorithm,
        memo=memo,
        mask=checked,
    )
    if made.normalized:
        why = "a mask" if checked is not None else "nan='ignore'"
        _choose.check_normalizable(kernel, spec, why)
    if spec.algorithm is Algorithm.AUTO:
        _choose.choose(made, kernel, memo, autotune=autotune, store=store)
    if made.normalized:
        made.explanation += (
            f"; normalized convolution ({'mask' if checked is not None else 'nan=ignore'}): "
            "two runs per band, of x*v and of v"
        )
    return made
