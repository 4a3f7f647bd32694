"""The cost model: each algorithm's estimated time, operations and peak memory for a spec.

The model counts the work each algorithm does for the spec (multiply-adds for direct and
separable, copied and multiplied window elements for matmul, ``L log2 L`` per transform for
FFT) and multiplies by per-unit costs measured on the development machine. The plan picks
the least estimate (``algorithm="auto"``), unless autotuning measures instead.
"""

from __future__ import annotations

import dataclasses
import math

from imconv.choices import Algorithm

from ._bands import CACHE_BYTES, band_rows
from ._fft import BLOCK_ELEMENTS, block_rows
from ._flat import FLAT_BAND_BYTES
from ._spec import ConvSpec

# Seconds per unit of work, float32; fitted with `python benchmarks/calibrate.py` (medians
# of measured/estimated over its problem grid) on the development machine: 2-core AMD EPYC
# VM, NumPy 2.4, SciPy 1.17, OpenBLAS 0.3.31, 2026-11-30. Constants marked "one thread" are
# divided by the threads' speed-up; the BLAS ones were measured with OpenBLAS's own threads
# (all cores), which `threads=` does not govern. float64 costs about twice as much per
# element for every algorithm, so the choice between them does not change.
FLAT_PER_MAC = 0.06e-9  # stride 1: one tap of one output, as a BLAS axpy (all cores)
FLAT_PER_CALL = 3e-6  # f2py + BLAS call overhead per tap and band
FRESH_PER_ELEMENT = 1.2e-9  # first touch of a new intermediate (page faults), per element
DIRECT_PER_MAC = 0.27e-9  # strided: one tap of one output, NumPy multiply and add (one thread)
DIRECT_PER_CALL = 4e-6  # NumPy call overhead per tap and band
MATMUL_PER_ELEMENT = 1.0e-9  # one window element copied into the im2col matrix (one thread)
GEMM_PER_MAC = 0.05e-9  # one multiply-add inside BLAS
FFT_PER_ELEMENT_LOG = 0.38e-9  # one element of a real transform, per log2 of its length
SPECTRUM_PER_ELEMENT = 1.0e-9  # one complex multiply-add of two spectra
PER_BAND = 20e-6  # Python overhead per band or per 1-D pass
TRANSPOSE_PER_ELEMENT = 1.3e-9  # moving channels-last data to channels-first (strided copy)

# Multi-threaded runs scale by this fraction of the thread count (memory bandwidth is shared).
THREAD_EFFICIENCY = 0.85

# Complex data: a complex multiply-add is four real ones (direct, matmul, separable); a
# complex transform of L points costs about two real ones of L points (FFT). Not measured
# per algorithm: the choice between algorithms barely moves.
COMPLEX_MAC = 4.0
COMPLEX_FFT = 2.0
# Normalized convolution (nan="ignore", masks) runs the algorithm twice, on x*v and on v,
# plus a few passes over the band: the validity test, zeroing, the cast of v, the division
# and the test of the denominator (2026-12-03, 2000x1500 float64 on the development
# machine: 1.5, 2.2, 1.4, 2.2 and 1.4 ms, about 3 ns per element).
NORMALIZE_PER_ELEMENT = 3e-9


def _speedup(spec: ConvSpec) -> float:
    return 1.0 + (spec.threads - 1) * THREAD_EFFICIENCY


def _pairs(spec: ConvSpec) -> int:
    """Channel pairs each output value sums over (C_in for a bank, 1 per channel else)."""
    return spec.channels_in if spec.bank else 1


def _flat_grid(spec: ConvSpec) -> int:
    """Outputs computed per channel by the stride-1 paths: the kept ones and the grid's gaps."""
    size = 1
    for n, p in zip(spec.output_shape, spec.padded_shape, strict=True):
        size = size * p if size > 1 else n  # first axis: kept rows; others: full rows
    return size


def estimate_direct(spec: ConvSpec, nonzero_taps: int) -> float:
    """Seconds for the direct algorithm (BLAS axpys at stride 1, NumPy views otherwise)."""
    outputs = spec.channels_out * spec.output_size
    taps = nonzero_taps * _pairs(spec)
    if all(s == 1 for s in spec.stride):
        grid = spec.channels_out * _flat_grid(spec)
        bands = math.ceil(grid * spec.dtype.itemsize / FLAT_BAND_BYTES)
        fresh = outputs * FRESH_PER_ELEMENT
        return taps * (grid * FLAT_PER_MAC + bands * FLAT_PER_CALL) + fresh
    row = spec.dtype.itemsize * (spec.channels_in + spec.channels_out)
    row *= math.prod(spec.output_shape[1:])
    bands = math.ceil(spec.output_shape[0] / band_rows(row, CACHE_BYTES, spec.output_shape[0]))
    work = taps * outputs * DIRECT_PER_MAC
    calls = nonzero_taps * bands * DIRECT_PER_CALL
    return (work + calls) / _speedup(spec)


def estimate_matmul(spec: ConvSpec) -> float:
    """Seconds for im2col: copying the windows, then one product on BLAS."""
    elements = spec.channels_in * spec.output_size * spec.taps
    gemm = elements * (spec.channels_out if spec.bank else 1) * GEMM_PER_MAC
    return (elements * MATMUL_PER_ELEMENT + gemm) / _speedup(spec)


def smooth_length(n: int) -> int:
    """The least 5-smooth number >= n: ``scipy.fft.next_fast_len`` without importing SciPy
    (its import costs more than planning a small image)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def estimate_fft(spec: ConvSpec) -> float:
    """Seconds for overlap-save FFT: a forward and an inverse transform per band."""
    k_eff = spec.effective_kernel_shape
    first = smooth_length(block_rows(spec) + k_eff[0] - 1)
    rows = max(1, (first - k_eff[0]) // spec.stride[0] + 1)
    bands = math.ceil(spec.output_shape[0] / rows)
    rest = (smooth_length(n) for n in spec.padded_shape[1:])
    length = first * math.prod(rest)
    per_transform = length * math.log2(max(length, 2)) * FFT_PER_ELEMENT_LOG
    transforms = spec.channels_in + spec.channels_out
    products = spec.channels_out * _pairs(spec) * length * SPECTRUM_PER_ELEMENT / 2
    return bands * (transforms * per_transform + products + PER_BAND) / _speedup(spec)


def estimate_separable(spec: ConvSpec, rank: int) -> float:
    """Seconds for ``rank`` chains of 1-D passes (one chain per separable term)."""
    flat = all(s == 1 for s in spec.stride)
    per_mac = FLAT_PER_MAC if flat else DIRECT_PER_MAC / _speedup(spec)
    size, chain = list(spec.padded_shape), 0.0
    for axis, k in enumerate(spec.kernel_shape):
        if k > 1:
            size[axis] = spec.output_shape[axis]
            elements = math.prod(size)
            chain += elements * (k * per_mac + FRESH_PER_ELEMENT) + PER_BAND
    if spec.bank:  # one chain per term per channel pair, each on one channel
        return rank * spec.channels_out * spec.channels_in * chain
    return rank * spec.channels_in * chain


def folds_channels(spec: ConvSpec) -> bool:
    """Whether a channels-last image can be used as it lies (every algorithm but matmul):
    per-channel kernels on data whose channel axis is the last."""
    return spec.channel_axis == spec.ndim and not spec.bank


def runs_channels_last(spec: ConvSpec, algorithm: Algorithm) -> bool:
    """Whether ``algorithm`` runs on the channels-last layout for ``spec`` (no transposition)."""
    return algorithm is not Algorithm.MATMUL and folds_channels(spec)


def separable_helps(spec: ConvSpec) -> bool:
    """Whether splitting the kernel into 1-D passes can save work: two axes longer than 1."""
    return sum(k > 1 for k in spec.kernel_shape) >= 2


def _layout_cost(spec: ConvSpec, algorithm: Algorithm) -> float:
    """Seconds to move the channel axis first, for the algorithms that need it."""
    if spec.channel_axis in (None, 0) or spec.channels_in == 1:
        return 0.0
    if runs_channels_last(spec, algorithm):
        return 0.0
    return spec.channels_in * math.prod(spec.input_shape) * TRANSPOSE_PER_ELEMENT


def _single(spec: ConvSpec) -> ConvSpec:
    """One (output, input) pair of a bank as its own one-channel problem."""
    return dataclasses.replace(spec, channels_in=1, channels_out=1, bank=False)


def _plain(spec: ConvSpec, nonzero_taps: int, rank: int) -> dict[Algorithm, float]:
    """Seconds of each algorithm for one item of ``spec``, as its data is (real or complex)."""
    found = {
        Algorithm.DIRECT: estimate_direct(spec, max(nonzero_taps, 1)),
        Algorithm.MATMUL: estimate_matmul(spec),
        Algorithm.FFT: estimate_fft(spec),
    }
    if separable_helps(spec):
        found[Algorithm.SEPARABLE] = estimate_separable(spec, rank)
    if spec.dtype.kind == "c":
        found = {
            a: t * (COMPLEX_FFT if a is Algorithm.FFT else COMPLEX_MAC) for a, t in found.items()
        }
    return {a: t + _layout_cost(spec, a) for a, t in found.items()}


def estimates(
    spec: ConvSpec, nonzero_taps: int, rank: int, *, normalized: bool = False
) -> dict[Algorithm, float]:
    """Estimated seconds of every algorithm that can run ``spec`` (every item of a batch).

    ``nonzero_taps`` counts the non-zero entries of one spatial kernel (the direct paths
    skip the others); ``rank`` is the number of separable terms (a lower bound will do when
    separable is not going to be chosen). Separable is left out when it cannot help.
    ``normalized``: two runs per item (of ``x*v`` and of ``v``), per (out, in) pair for a
    bank, and the passes of the normalization.
    """
    items = 1 if spec.arrangement is None else spec.arrangement.items
    if not normalized:
        found = _plain(spec, nonzero_taps, rank)
    else:
        pairs = spec.channels_out * spec.channels_in if spec.bank else 1
        single = _plain(_single(spec) if spec.bank else spec, nonzero_taps, rank)
        elements = spec.channels_in * math.prod(spec.padded_shape) * NORMALIZE_PER_ELEMENT
        found = {a: 2 * pairs * t + elements for a, t in single.items()}
    return {a: t * items + PER_BAND * (items - 1) for a, t in found.items()}


def operations(
    spec: ConvSpec, algorithm: Algorithm, rank: int, *, normalized: bool = False
) -> float:
    """Estimated arithmetic of every item: multiply-adds (direct, matmul, separable) or FFT
    flops; twice that for normalized convolution."""
    items = 1 if spec.arrangement is None else spec.arrangement.items
    return items * (2 if normalized else 1) * _operations(spec, algorithm, rank)


def _operations(spec: ConvSpec, algorithm: Algorithm, rank: int) -> float:
    outputs = spec.channels_out * spec.output_size * _pairs(spec)
    if algorithm is Algorithm.FFT:
        length = math.prod(smooth_length(n) for n in spec.padded_shape)
        transforms = spec.channels_in + spec.channels_out
        return 2.5 * transforms * length * math.log2(max(length, 2))
    if algorithm is Algorithm.SEPARABLE:
        return float(rank * outputs * sum(spec.kernel_shape))
    return float(outputs * spec.taps)


def band_memory(
    spec: ConvSpec, algorithm: Algorithm, rows: int, *, normalized: bool = False
) -> int:
    """Estimated peak bytes of one band of ``rows`` output rows run on one thread
    (``Plan.run_band``): the band's padded input rows and output, and its temporaries."""
    item = spec.dtype.itemsize
    rows = min(rows, spec.output_shape[0])
    read = min((rows - 1) * spec.stride[0] + spec.effective_kernel_shape[0], spec.padded_shape[0])
    padded = spec.channels_in * read * math.prod(spec.padded_shape[1:]) * item
    output = spec.channels_out * rows * math.prod(spec.output_shape[1:]) * item
    if normalized:
        padded += padded + padded // item
        output *= 2
    temporaries = {  # direct accumulates into its output
        Algorithm.SEPARABLE: output,  # the first pass
        Algorithm.MATMUL: min(16 * 1024 * 1024, output * math.prod(spec.kernel_shape)),
        Algorithm.FFT: 6 * BLOCK_ELEMENTS * item,
    }.get(algorithm, 0)
    return padded + output + temporaries


def peak_memory(spec: ConvSpec, algorithm: Algorithm, *, normalized: bool = False) -> int:
    """Estimated peak bytes: padded input, output (of the whole batch), and the bands'
    temporaries; normalized convolution adds the weights, their result and the validity."""
    item = spec.dtype.itemsize
    padded = spec.channels_in * math.prod(spec.padded_shape) * item
    output = spec.channels_out * spec.output_size * item
    if normalized:
        padded += padded + padded // item  # the weights v, and v itself as booleans
        output *= 2  # the denominator
    if spec.arrangement is not None:
        output += output * (spec.arrangement.items - 1)
    bands = spec.threads * {
        Algorithm.DIRECT: CACHE_BYTES,
        Algorithm.SEPARABLE: CACHE_BYTES,
        Algorithm.MATMUL: 16 * 1024 * 1024,  # the im2col band budget of _matmul
        Algorithm.FFT: 6 * BLOCK_ELEMENTS * item,  # band, spectrum, product, inverse
    }.get(algorithm, 0)
    if algorithm is Algorithm.SEPARABLE:
        bands += output  # the intermediate of the first pass
    return padded + output + bands
