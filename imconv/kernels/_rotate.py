"""Rotated copies of a kernel, as libvips ``rot45``/``rot`` and ImageMagick's ``@``/``>``
flags make them.

Rotations are clockwise as seen on screen (rows grow downwards), in steps of 45 degrees:

* 45 degrees: each ring of an odd square kernel moves round by one position per ring
  index (the 3x3 ring by 1 tap, the next ring out by 2, ...): ``[[1,2,3],[4,5,6],[7,8,9]]``
  becomes ``[[4,1,2],[7,5,3],[8,9,6]]``, as libvips ``rot45 --angle d45`` and ImageMagick's
  ``3x3@:`` give;
* 90 degrees: a true rotation, ``[[1,2,3],[4,5,6],[7,8,9]]`` -> ``[[7,4,1],[8,5,2],
  [9,6,3]]``, any shape (a row becomes a column).
"""

from __future__ import annotations

import numpy as np

from imconv.errors import InvalidParameterError

__all__ = ["ANGLES", "ring_positions", "rotate", "rotate45", "rotations"]

ANGLES = (0, 45, 90, 135, 180, 225, 270, 315)
"""The rotation angles allowed, in degrees (libvips ``VipsAngle45``)."""


def ring_positions(size: int, ring: int) -> list[tuple[int, int]]:
    """The taps of ring ``ring`` (1 = the 8 around the centre) of an odd ``size`` square,
    clockwise from its top-left corner."""
    centre = size // 2
    low, high = centre - ring, centre + ring
    top = [(low, col) for col in range(low, high)]
    right = [(row, high) for row in range(low, high)]
    bottom = [(high, col) for col in range(high, low, -1)]
    left = [(row, low) for row in range(high, low, -1)]
    return top + right + bottom + left


def rotate45(matrix: np.ndarray, steps: int = 1) -> np.ndarray:
    """``matrix`` (odd square) with each ring turned ``steps`` times 45 degrees clockwise.

    Examples
    --------
    >>> rotate45(np.arange(1, 10).reshape(3, 3)).tolist()
    [[4, 1, 2], [7, 5, 3], [8, 9, 6]]
    """
    size = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape[1] != size or size % 2 == 0:
        raise InvalidParameterError(
            "kernel", f"{'x'.join(map(str, matrix.shape))}", "an odd square to rotate by 45"
        )
    turned = matrix.copy()
    for ring in range(1, size // 2 + 1):
        where = ring_positions(size, ring)
        rows, cols = (np.array(axis) for axis in zip(*where, strict=True))
        turned[rows, cols] = np.roll(matrix[rows, cols], ring * steps)
    return turned


def rotate(matrix: np.ndarray, angle: int) -> np.ndarray:
    """``matrix`` turned ``angle`` degrees clockwise (a multiple of 45; odd multiples need
    an odd square)."""
    quarter, eighth = divmod(angle % 360, 90)
    turned = np.rot90(matrix, -quarter)
    return rotate45(turned) if eighth else turned.copy()


def rotations(matrix: np.ndarray, *, times: int, angle: int) -> list[np.ndarray]:
    """``times`` copies of ``matrix``, the i-th turned ``i * angle`` degrees clockwise
    (libvips ``compass``: the first copy is ``matrix`` itself).

    Raises
    ------
    InvalidParameterError
        ``angle`` not one of :data:`ANGLES`, or an odd multiple of 45 with a kernel that
        is not an odd square.
    """
    if angle not in ANGLES:
        raise InvalidParameterError("angle", angle, "one of " + ", ".join(map(str, ANGLES)))
    odd_square = matrix.shape[0] == matrix.shape[1] and matrix.shape[0] % 2 == 1
    if angle % 90 and not odd_square:
        raise InvalidParameterError(
            "angle",
            angle,
            f"a multiple of 90 for a {matrix.shape[0]}x{matrix.shape[1]} "
            "kernel (45-degree turns need an odd square kernel)",
        )
    return [rotate(matrix, (i * angle) % 360) for i in range(times)]
