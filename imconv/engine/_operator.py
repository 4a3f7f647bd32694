"""Convolution as a matrix: the sparse operator ``T`` with ``T @ x.ravel() == y.ravel()``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from imconv.choices import Padding
from imconv.errors import InvalidParameterError

from ._direct import tap_view
from ._options import ConvOptions
from ._padding import NUMPY_MODES
from ._spec import check_kernel, make_spec


def toeplitz(
    kernel: Any,
    input_shape: Iterable[int],
    *,
    mode: str = "same",
    padding: str = "zero",
    cval: float = 0.0,
    stride: int | Iterable[int] = 1,
    dilation: int | Iterable[int] = 1,
    correlate: bool = False,
) -> Any:
    """The convolution (or correlation) with ``kernel`` as a sparse matrix.

    For ``x`` of shape ``input_shape``,
    ``toeplitz(w, x.shape, **opts) @ x.ravel() == convolve(x, w, **opts).ravel()``: the
    lecture's "convolution is a matrix-vector product". In 1-D with zero padding the
    matrix is Toeplitz (constant along diagonals); in 2-D it is doubly block Toeplitz.

    Parameters
    ----------
    kernel : array_like
        Spatial kernel, as many axes as ``input_shape``.
    input_shape : sequence of int
        Spatial shape of the images the operator applies to (no channel axis).
    mode, padding, stride, dilation
        As in :func:`imconv.convolve`. Padding folds into the matrix: reflecting modes
        point border taps back at interior pixels, ``mean`` adds a dense ``1/n`` row part.
    cval : float
        Only 0 is allowed with ``padding="constant"``: a non-zero constant makes the map
        affine, not linear.
    correlate : bool
        Build correlation instead of convolution.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(prod(output_shape), prod(input_shape))``, in the compute dtype float64.

    Raises
    ------
    InvalidParameterError
        ``padding="constant"`` with a non-zero ``cval``, and every error of ``convolve``.

    Examples
    --------
    >>> T = toeplitz([1.0, 1.0, 2.0], (3,), mode="full")
    >>> (T @ np.array([2.0, -1.0, 1.0])).tolist()
    [2.0, 1.0, 4.0, -1.0, 2.0]
    """
    import scipy.sparse

    weights = np.asarray(kernel)
    check_kernel(weights)
    if weights.dtype.kind == "c":
        raise InvalidParameterError(
            "kernel dtype", str(weights.dtype), "real for toeplitz: bool, integer or floating point"
        )
    shape = tuple(input_shape)
    options = ConvOptions(
        mode=mode, padding=padding, cval=cval, stride=stride, dilation=dilation, threads=1
    )
    spec = make_spec(shape, np.float64, weights.shape, options)
    if spec.padding is Padding.CONSTANT and spec.cval != 0:
        raise InvalidParameterError(
            "cval", cval, "0 for toeplitz (a non-zero constant padding is affine, not linear)"
        )
    weights = weights.astype(np.float64)
    if not correlate:
        weights = np.flip(weights)
    size = int(np.prod(shape))
    index = np.arange(size).reshape(shape)
    if spec.padding in NUMPY_MODES:
        padded = np.pad(index, spec.pad_widths, mode=NUMPY_MODES[spec.padding])
    else:  # -1 marks a pixel that is not in the image (zero, constant 0 or mean)
        padded = np.pad(index, spec.pad_widths, constant_values=-1)

    out_size = spec.output_size
    rows_all, cols_all, values_all = [], [], []
    outside = np.zeros(out_size)
    for tap in itertools.product(*(range(k) for k in spec.kernel_shape)):
        if weights[tap]:
            cols = tap_view(padded[None], tap, spec, spec.output_shape)[0].ravel()
            inside = cols >= 0
            rows_all.append(np.flatnonzero(inside))
            cols_all.append(cols[inside])
            values_all.append(np.full(int(inside.sum()), weights[tap]))
            outside[~inside] += weights[tap]
    if spec.padding is Padding.MEAN:  # border taps read the mean: w/size on every column
        for row in np.flatnonzero(outside):
            rows_all.append(np.full(size, row))
            cols_all.append(np.arange(size))
            values_all.append(np.full(size, outside[row] / size))

    def join(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    matrix = scipy.sparse.coo_array(
        (join(values_all, float), (join(rows_all, int), join(cols_all, int))),
        shape=(out_size, size),
    )
    return matrix.tocsr()  # sums duplicates: reflecting modes can hit a pixel twice
