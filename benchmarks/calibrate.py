"""Check the cost model of ``algorithm="auto"`` against measured times on this machine.

For a grid of problems (image size, kernel size, channels, stride, bank or not) it times
each algorithm on one thread and prints measured / estimated per algorithm. A median ratio
far from 1 means the per-unit constants in ``imconv/engine/_cost.py`` need scaling by it;
the ranking matters more than the absolute values. Run from the repository root::

    python benchmarks/calibrate.py
"""

from __future__ import annotations

import statistics

import numpy as np
from timing import wall_times

from imconv.engine import ConvOptions, _cost, correlate
from imconv.engine._spec import make_spec

ESTIMATES = {
    "direct": lambda spec, w: _cost.estimate_direct(spec, int(np.count_nonzero(w))),
    "matmul": lambda spec, w: _cost.estimate_matmul(spec),
    "fft": lambda spec, w: _cost.estimate_fft(spec),
    "separable": lambda spec, w: _cost.estimate_separable(spec, 1),
}


def best_time(run, repeat: int = 3) -> float:
    """Fastest of ``repeat`` calls after a warm-up call."""
    return min(wall_times(run, repeat))


def main() -> None:
    rng = np.random.default_rng(0)
    ratios: dict[str, list[float]] = {name: [] for name in ESTIMATES}
    problems = [(512, 3, 3), (512, 3, 9), (1024, 3, 5), (1024, 1, 15), (768, 3, 31)]
    for size, channels, k in problems:
        image = rng.standard_normal((size, size, channels)).astype(np.float32)
        kernel = np.outer(rng.standard_normal(k), rng.standard_normal(k)).astype(np.float32)
        options = ConvOptions(channel_axis=-1, threads=1)
        spec = make_spec(image.shape, image.dtype, kernel.shape, options)
        for name, estimate in ESTIMATES.items():
            if name in ("direct", "matmul") and k > 15:
                continue
            measured = best_time(
                lambda a=name, x=image, w=kernel: correlate(
                    x, w, channel_axis=-1, algorithm=a, threads=1
                )
            )
            ratio = measured / estimate(spec, kernel)
            ratios[name].append(ratio)
            print(
                f"{size}x{size}x{channels} k={k:2d} {name:9s} {measured * 1e3:8.1f} ms  "
                f"measured/estimated {ratio:5.2f}"
            )
    for name, values in ratios.items():
        print(f"{name:9s} median measured/estimated {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
