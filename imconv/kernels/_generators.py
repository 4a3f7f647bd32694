"""Kernel generators: the Python functions that preset files name with ``generator = "..."``.

Each takes keyword arguments only (fixed ``[args]`` from the preset file, then the typed
``[params]`` the user may set) and returns a :class:`Generated` (weights, and the exact
separable terms or the combine rule when it knows them). See :mod:`imconv.kernels.
_generated` for the registry and its argument checks, :mod:`imconv.kernels._blurs` and
:mod:`imconv.kernels._oriented` for the generators.
"""

from __future__ import annotations

from ._blurs import binomial, box, disk, dog, gaussian, log, unsharp
from ._generated import ARGUMENTS, GENERATORS, Generated, gaussian_1d, python_name
from ._oriented import compass, edge, gabor, motion

__all__ = [
    "ARGUMENTS",
    "GENERATORS",
    "Generated",
    "binomial",
    "box",
    "compass",
    "disk",
    "dog",
    "edge",
    "gabor",
    "gaussian",
    "gaussian_1d",
    "log",
    "motion",
    "python_name",
    "unsharp",
]
