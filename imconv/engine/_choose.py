"""How a plan chooses its algorithm: the cost model's estimates, or timings of candidates.

Kept apart from the :class:`~._plan.Plan` it decides for (which it sees only through the
few attributes it sets), so that the plan's running code and the choosing code stay small.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np

from imconv.choices import Algorithm, Operation, Reason
from imconv.errors import InvalidParameterError, KernelError, ShapeError

from . import _cost, _separable, _tune
from ._options import ConvOptions
from ._spec import ConvSpec

Store = MutableMapping[str, str]
Terms = Sequence[Sequence[np.ndarray]]  # the separable terms of one spatial kernel

# A huge bank is not worth one SVD per (output, input) pair just to estimate its rank.
RANKED_PAIRS = 64
# A kernel whose sum is within this fraction of sum(|w|) of zero cannot be renormalized.
ZERO_SUM = 1e-8


def options_from(options: ConvOptions | None, values: dict[str, Any]) -> ConvOptions:
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


def bias_for(bias: Any, spec: ConvSpec) -> np.ndarray | None:
    """Bias as a ``(C_out,)`` array in the compute dtype, or None."""
    if bias is None:
        return None
    values = np.asarray(bias)
    kinds = "biufc" if spec.dtype.kind == "c" else "biuf"
    if values.dtype.kind not in kinds or not np.isfinite(values).all():
        kind = "finite numbers" if spec.dtype.kind == "c" else "finite real numbers"
        raise InvalidParameterError("bias", bias, kind)
    if values.ndim > 1 or (values.ndim == 1 and values.size != spec.channels_out):
        raise ShapeError(
            f"bias must be a number or have one value per output channel "
            f"({spec.channels_out}); got shape {values.shape}"
        )
    return np.broadcast_to(values.astype(spec.dtype), (spec.channels_out,))


def check_normalizable(kernel: np.ndarray, spec: ConvSpec, why: str) -> None:
    """Refuse a kernel (or a bank's non-zero (out, in) kernel) whose sum is zero."""
    slices = kernel.reshape(-1, *spec.kernel_shape) if spec.bank else kernel[np.newaxis]
    for index, part in enumerate(slices):
        scale = float(np.abs(part).sum())
        if scale and abs(part.sum()) <= ZERO_SUM * scale:
            where = "" if not spec.bank else f" (bank entry {divmod(index, spec.channels_in)})"
            raise KernelError(
                f"kernel must not sum to zero for {why} (normalized convolution divides by "
                f"the sum of the weights that meet valid inputs){where}; got a sum of "
                f"{part.sum().item()!r} for sum(|w|) = {scale!r}",
                hint="use nan='propagate' without a mask, or a kernel with a non-zero sum",
            )


def oriented(known: Terms, operation: Operation) -> list[tuple[np.ndarray, ...]]:
    """Known terms of a kernel as the plan keeps them: float64 (or complex128), reversed
    for convolution."""
    flip = operation is Operation.CONVOLVE

    def wide(v: Any) -> np.ndarray:
        array = np.asarray(v)
        return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)

    return [tuple(wide(v)[:: -1 if flip else 1].copy() for v in term) for term in known]


def rank(spec: ConvSpec, kernel: np.ndarray, memo: dict[Any, Any]) -> int:
    """The largest separable rank over the kernel's spatial slices (its SVDs memoised)."""
    if spec.ndim == 1:
        return 1
    if spec.bank and spec.channels_out * spec.channels_in > RANKED_PAIRS:
        return min(spec.kernel_shape)  # too many SVDs to be worth it: assume the worst
    slices = kernel.reshape(-1, *spec.kernel_shape)
    return max(1, *(len(_separable.terms(k, memo, i)) for i, k in enumerate(slices)))


def estimates(
    spec: ConvSpec, kernel: np.ndarray, memo: dict[Any, Any], worth: float, normalized: bool
) -> tuple[dict[Algorithm, float], int | None]:
    """The cost model's estimates; the kernel's rank (an SVD) only when separable could come
    within ``worth`` times the best at rank 1, since a higher rank only costs more."""
    pairs = spec.channels_out * spec.channels_in if spec.bank else 1
    nonzero = int(np.count_nonzero(kernel)) // pairs
    found = _cost.estimates(spec, nonzero, 1, normalized=normalized)
    separable = found.get(Algorithm.SEPARABLE)
    if separable is None or separable > worth * min(found.values()):
        return found, None
    known = rank(spec, kernel, memo)
    return _cost.estimates(spec, nonzero, known, normalized=normalized), known


def modelled(plan: Any, found: dict[Algorithm, float]) -> None:
    """Set the plan's algorithm to the cheapest estimate, and say so."""
    best = min(found, key=found.__getitem__)
    runner_up = min((a for a in found if a is not best), key=found.__getitem__)
    plan.algorithm, plan.reason, plan.estimates = best, Reason.MODEL, found
    plan.explanation = (
        f"{best} {found[best] * 1e3:.3g} ms, next {runner_up} "
        f"{found[runner_up] * 1e3:.3g} ms (estimated)"
    )


def measured(plan: Any, found: dict[Algorithm, float], store: Store, key: str) -> None:
    """Time the plausible candidates on a synthetic band of the problem; keep the fastest."""
    best_estimate = min(found.values())
    candidates = [a for a, t in found.items() if t <= _tune.PLAUSIBLE * best_estimate]
    spec = plan.spec
    rows = _tune.sample_rows(spec.output_shape[0], best_estimate)
    needed = plan.band_rows(0, rows)
    held = np.unique(needed[needed >= 0]) if (needed >= 0).any() else np.zeros(1, np.intp)
    shape = list(plan.shape)
    shape[plan.band_axis] = len(held)
    block = _tune.synthetic_block(tuple(shape), plan.dtype)
    fill = np.zeros((*spec.arrangement.batch_shape, spec.channels_in), dtype=spec.dtype)
    twins = {a: plan.with_algorithm(a) for a in candidates}
    mask = None if plan.mask is None else np.ones(tuple(shape), dtype=bool)
    runs = {
        a: (lambda twin=twin: twin.run_band(block, 0, rows, rows=held, fill=fill, mask=mask))
        for a, twin in twins.items()
    }
    best, timings = _tune.fastest(runs)
    store[key] = best.value
    ranked = sorted(timings, key=timings.__getitem__)
    shown = ", ".join(f"{a} {timings[a] * 1e3:.3g} ms" for a in ranked)
    plan.algorithm, plan.reason, plan.estimates = best, Reason.MEASURED, found
    plan.explanation = f"{shown} on {rows} rows"


def choose(
    plan: Any, kernel: np.ndarray, memo: dict[Any, Any], *, autotune: bool, store: Store | None
) -> None:
    """Decide ``plan``'s algorithm for ``algorithm="auto"``: by the model, a stored
    measurement, or a new one."""
    spec, normalized = plan.spec, plan.normalized
    found, known = estimates(spec, kernel, memo, _tune.PLAUSIBLE if autotune else 1.0, normalized)
    if not autotune:
        modelled(plan, found)
        return
    store = _tune.MEMORY if store is None else store
    key = plan.key = _tune.tuning_key(spec, known, plan.dtype, normalized=normalized)
    remembered = _tune.known(store, key, found)
    if remembered is None:
        measured(plan, found, store, key)
        return
    plan.algorithm, plan.reason, plan.estimates = remembered, Reason.CACHE, found
    plan.explanation = f"measured earlier ({key})"
