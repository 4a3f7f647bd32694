"""Exact separable terms of a kernel, as generators know them: their type and their check.

A term is a ``(column, row)`` pair of 1-D vectors; a 2-D kernel is ``sum(outer(c, r))``
over its terms. Generators that build their weights *as* these outer products (gaussian,
box, binomial, dog, motion along an axis) give terms that add up to the weights bit for
bit; :func:`check_factors` accepts terms that add up within float64 rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imconv.errors import KernelError

__all__ = ["Terms", "check_factors"]

Terms = tuple[tuple[np.ndarray, np.ndarray], ...]
"""Separable terms of one 2-D kernel: ``(column, row)`` pairs, ``sum(outer(c, r))``."""

_EPS = float(np.finfo(np.float64).eps)


def check_factors(factors: Any, weights: np.ndarray, *, is_set: bool) -> tuple[Terms, ...] | None:
    """Known separable terms, one tuple per part, as read-only float64 vectors; KernelError
    unless their outer products add up to each part within float64 rounding."""
    if factors is None:
        return None
    parts = weights if is_set else weights[np.newaxis]
    if weights.ndim == 4 or len(factors) != len(parts):
        raise KernelError(
            f"factors must be one tuple of (column, row) terms per part ({len(parts)}); "
            f"got {len(factors)} for a kernel of shape {weights.shape}"
        )
    return tuple(_check_terms(terms, part) for terms, part in zip(factors, parts, strict=True))


def _check_terms(terms: Any, part: np.ndarray) -> Terms:
    """The terms of one part as read-only float64 pairs, checked against ``part``."""
    checked = []
    rebuilt, bound = np.zeros_like(part), 0.0
    for column, row in terms:
        c, r = (np.array(v, dtype=np.float64) for v in (column, row))
        if (
            c.shape != part.shape[:1]
            or r.shape != part.shape[1:]
            or not (np.isfinite(c).all() and np.isfinite(r).all())
        ):
            raise KernelError(
                f"factors must be finite vectors of lengths {part.shape}; got "
                f"{c.shape} and {r.shape}"
            )
        c.setflags(write=False)
        r.setflags(write=False)
        checked.append((c, r))
        rebuilt += np.outer(c, r)
        bound += float(np.abs(c).max() * np.abs(r).max())
    error = float(np.abs(rebuilt - part).max())
    if error > 4 * _EPS * max(bound, float(np.abs(part).max())) * max(1, len(checked)):
        raise KernelError(f"factors must add up to the kernel; they differ by {error:.3g}")
    return tuple(checked)
