"""imconv: image convolution from the shell and from Python.

>>> import numpy as np, imconv
>>> imconv.convolve(np.array([2.0, -1.0, 1.0]), np.array([1.0, 1.0, 2.0]), mode="full").tolist()
[2.0, 1.0, 4.0, -1.0, 2.0]
"""

from importlib.metadata import PackageNotFoundError, version

from imconv.engine import (
    Algorithm,
    Mode,
    Padding,
    ReceptiveField,
    Step,
    choose_algorithm,
    convolve,
    correlate,
    kernel_rank,
    output_shape,
    pad,
    receptive_field,
    separable_factors,
    toeplitz,
)

try:
    __version__ = version("imconv")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Algorithm",
    "Mode",
    "Padding",
    "ReceptiveField",
    "Step",
    "__version__",
    "choose_algorithm",
    "convolve",
    "correlate",
    "kernel_rank",
    "output_shape",
    "pad",
    "receptive_field",
    "separable_factors",
    "toeplitz",
]
