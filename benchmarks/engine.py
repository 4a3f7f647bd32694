"""Engine speed against SciPy: each algorithm vs ``scipy.ndimage.convolve`` and
``scipy.signal.fftconvolve`` on a sample photograph (float32 RGB), kernel sizes 3 to 51.

Run from the repository root::

    python benchmarks/engine.py [--image samples/retina.jpg] [--sizes 3,5,...] [--repeat 3]

Prints a table of median milliseconds per algorithm and peer, and the ratio of ``auto``
to the better SciPy function (the issue-2 target: at most 1.0 at every size).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import scipy
import scipy.ndimage
import scipy.signal
from PIL import Image
from timing import describe_machine, wall_times

import imconv

ROOT = Path(__file__).resolve().parent.parent


def median_time(run, repeat: int) -> float:
    """Median wall time of ``run()`` over ``repeat`` calls after one warm-up call."""
    return statistics.median(wall_times(run, repeat))


def per_channel(function, image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Apply a 2-D SciPy function to each channel of an (H, W, C) image."""
    return np.stack([function(image[..., c], kernel) for c in range(image.shape[2])], axis=-1)


def peers(kernel: np.ndarray) -> dict[str, object]:
    """The SciPy functions a user would otherwise call, on (H, W, C) float32."""
    return {
        "ndimage.convolve": lambda im: per_channel(
            lambda x, w: scipy.ndimage.convolve(x, w, mode="mirror"), im, kernel
        ),
        "signal.fftconvolve": lambda im: per_channel(
            lambda x, w: scipy.signal.fftconvolve(x, w, mode="same"), im, kernel
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=str(ROOT / "samples" / "retina.jpg"))
    parser.add_argument("--sizes", default="3,5,7,11,15,21,31,51")
    parser.add_argument("--algorithms", default="auto,direct,matmul,fft,separable")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--max-direct-taps",
        type=int,
        default=121,
        help="skip direct/matmul/separable above this many taps (slow)",
    )
    args = parser.parse_args()

    image = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.float32)
    rng = np.random.default_rng(0)
    print(f"# {describe_machine()}")
    print(
        f"# image {args.image} {image.shape} float32, repeat {args.repeat}, same mode, "
        f"reflect padding, random non-separable kernels (seed 0)"
    )
    algorithms = args.algorithms.split(",")
    header = ["k", *algorithms, "ndimage", "fftconvolve", "auto/best-scipy", "auto chose"]
    print(" | ".join(header))
    for k in (int(s) for s in args.sizes.split(",")):
        kernel = rng.standard_normal((k, k)).astype(np.float32)
        row = [str(k)]
        times = {}
        for algorithm in algorithms:
            if algorithm in ("direct", "matmul", "separable") and k * k > args.max_direct_taps:
                row.append("-")
                continue
            times[algorithm] = median_time(
                lambda a=algorithm, w=kernel: imconv.convolve(
                    image, w, padding="reflect", channel_axis=-1, algorithm=a
                ),
                args.repeat,
            )
            row.append(f"{times[algorithm] * 1e3:.1f}")
        scipy_times = {}
        for name, run in peers(kernel).items():
            if name == "ndimage.convolve" and k > 31:
                row.append("-")
                continue
            scipy_times[name] = median_time(lambda r=run: r(image), args.repeat)
            row.append(f"{scipy_times[name] * 1e3:.1f}")
        best = min(scipy_times.values())
        row.append(f"{times['auto'] / best:.2f}" if "auto" in times else "-")
        made = imconv.plan(image.shape, kernel, padding="reflect", channel_axis=-1)
        row.append(str(made.algorithm))
        print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
