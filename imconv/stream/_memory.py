"""What one image's run will hold at its peak, estimated from the header and the plans.

The stream holds the decoded input and the output image whole (Pillow keeps both, at the
bytes per pixel of their modes), the bands in flight (each step's input and output rows,
padded, plus the engine's temporaries), and for a ``montage`` the float result. On top
of that sits the interpreter with NumPy, Pillow, Rich, Typer and imconv loaded. The
constants were measured with ``/usr/bin/time -v`` on the development machine (see
``benchmarks/RESULTS.md``); ``--dry-run`` prints the estimate, which the tests hold within
20% of the measured peak.
"""

from __future__ import annotations

from imconv import images

from ._chain import Chain

MIB = 1024 * 1024
# The process before any image: Python, NumPy, Pillow, Rich, Typer and imconv's modules
# (measured RSS of `imconv apply` on a 1x1 PNG, 2026-12-03).
BASELINE = 44 * MIB
# Bytes per pixel of Pillow's storage by mode (RGB is stored as 4 bytes).
PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 4, "RGB": 4, "RGBA": 4, "I;16": 2, "I": 4, "F": 4}
# Float arrays a band holds at once per step: its padded input, its output, and the
# engine's and the range rule's temporaries, in units of the step's output band.
BAND_ARRAYS = 4


def peak_bytes(probe: images.Probe, chain: Chain, plan: images.OutputPlan) -> int:
    """The estimated peak resident memory of the run, in bytes.

    Parameters
    ----------
    probe
        The input's header.
    chain
        The steps planned for the input's shape.
    plan
        How the output is stored.
    """
    pixels = probe.height * probe.width
    mode = probe.mode if probe.mode in PILLOW_BYTES else ("RGBA" if probe.alpha else "RGB")
    decoded = pixels * PILLOW_BYTES[mode]
    height, width, channels = chain.output_shape
    if plan.format == "NPY" or plan.pages or plan.mode is None:
        stored = height * width * channels * 4
    else:
        stored = height * width * PILLOW_BYTES.get(plan.mode, 4)
    rows = chain.band_height()
    band = sum(
        (rows + sum(link.first.halo[0])) * link.output_shape[1] * link.output_shape[2] * 4
        for link in chain.links
    )
    return BASELINE + decoded + stored + BAND_ARRAYS * band
