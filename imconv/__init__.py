"""imconv: image convolution from the shell and from Python.

>>> import numpy as np, imconv
>>> imconv.convolve(np.array([2.0, -1.0, 1.0]), np.array([1.0, 1.0, 2.0]), mode="full").tolist()
[2.0, 1.0, 4.0, -1.0, 2.0]

The names below load on first use (PEP 562), so ``imconv --help`` starts without NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Algorithm": "imconv.choices",
    "Mode": "imconv.choices",
    "Operation": "imconv.choices",
    "Padding": "imconv.choices",
    "Reason": "imconv.choices",
    "ConvOptions": "imconv.engine",
    "Plan": "imconv.engine",
    "ReceptiveField": "imconv.engine",
    "Step": "imconv.engine",
    "convolve": "imconv.engine",
    "correlate": "imconv.engine",
    "kernel_rank": "imconv.engine",
    "output_shape": "imconv.engine",
    "pad": "imconv.engine",
    "plan": "imconv.engine",
    "receptive_field": "imconv.engine",
    "separable_factors": "imconv.engine",
    "toeplitz": "imconv.engine",
    "verify": "imconv.engine",
    "ExitStatus": "imconv.errors",
    "RunResult": "imconv.run",
    "apply": "imconv.run",
    "Kernel": "imconv.kernels",
    "load_kernel": "imconv.kernels",
    "preset": "imconv.kernels",
    "read_image": "imconv.images",
    "write_image": "imconv.images",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'imconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
