"""Folder throughput: ``imconv apply`` with 1 and 2 workers against a plain Pillow + SciPy loop.

Run from the repository root with the project installed::

    python benchmarks/batch.py [--count 40] [--size 1024x768] [--suffix .png] [--repeat 3]

Makes ``--count`` images from ``samples/`` (resized copies, each a little wider than the
last, in a temporary folder), then filters the folder with ``gaussian:sigma=2``:

* ``imconv apply ... --workers 1`` and ``--workers 2``: the real command (start-up
  included), each into a fresh output folder;
* the loop a user would otherwise write: Pillow reads, ``scipy.ndimage.convolve`` filters
  each channel with the same 13x13 kernel (``mode="mirror"``, imconv's reflect padding),
  the result is clipped, rounded and saved in the same format.

Prints, per contender, the median wall time of ``--repeat`` runs, files and megapixels per
second, and the speed-up over one worker (target for two workers on two cores: 1.7x); for
imconv also the batch's own wall time from its ``--report`` (interpreter start-up, imports
and planning excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from timing import describe_machine, wall_times

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["coffee.png", "astronaut.png", "chelsea.png", "rocket.jpg", "retina.jpg"]
KERNEL = "gaussian:sigma=2"


def make_images(folder: Path, count: int, size: tuple[int, int], suffix: str) -> float:
    """Write ``count`` resized sample copies into ``folder``; return their megapixels."""
    folder.mkdir(parents=True)
    total = 0.0
    for number in range(count):
        with Image.open(ROOT / "samples" / SAMPLES[number % len(SAMPLES)]) as image:
            picture = image.convert("RGB").resize((size[0] + number, size[1]))
        picture.save(folder / f"{number:02d}{suffix}")
        total += picture.width * picture.height / 1e6
    return total


def run_imconv(source: Path, out: Path, workers: int, batch_seconds: list[float]) -> None:
    """The real command on the folder, into a fresh ``out``; appends the batch's own wall
    time (from its ``--report``: start-up and planning excluded) to ``batch_seconds``."""
    imconv = shutil.which("imconv") or str(Path(sys.executable).parent / "imconv")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    report = out.parent / "report.json"
    command = [imconv, "apply", KERNEL, str(source), "-o", str(out), "--quiet", "--overwrite"]
    subprocess.run([*command, "--workers", str(workers), "--report", str(report)], check=True)
    batch_seconds.append(json.loads(report.read_text())["summary"]["wall_seconds"])


def run_plain_loop(source: Path, out: Path) -> None:
    """What a user would write without imconv: Pillow + scipy.ndimage.convolve, per file."""
    from scipy import ndimage

    from imconv.kernels import load_kernel

    kernel = np.asarray(load_kernel(KERNEL).weights, dtype=np.float32)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for path in sorted(source.iterdir()):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
        channels = [ndimage.convolve(pixels[..., c], kernel, mode="mirror") for c in range(3)]
        result = np.clip(np.rint(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)
        Image.fromarray(result).save(out / f"{path.stem}_blurred{path.suffix}")


def median_seconds(run: Callable[[], None], repeat: int) -> float:
    """Median wall time of ``repeat`` runs (no warm-up: each run is a whole batch)."""
    return statistics.median(wall_times(run, repeat, warm_up=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--size", default="1024x768", help="WIDTHxHEIGHT of the first image")
    parser.add_argument("--suffix", default=".png", help="image format (.png, .jpg...)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    load_before = os.getloadavg()[0]
    inside: dict[str, list[float]] = {"imconv --workers 1": [], "imconv --workers 2": []}
    with tempfile.TemporaryDirectory() as scratch:
        source, out = Path(scratch) / "in", Path(scratch) / "out"
        megapixels = make_images(source, args.count, (width, height), args.suffix)
        contenders = {
            "imconv --workers 1": lambda: run_imconv(source, out, 1, inside["imconv --workers 1"]),
            "imconv --workers 2": lambda: run_imconv(source, out, 2, inside["imconv --workers 2"]),
            "Pillow + ndimage.convolve loop": lambda: run_plain_loop(source, out),
        }
        seconds = {name: median_seconds(run, args.repeat) for name, run in contenders.items()}
    print(f"{args.count} images {width}x{height}{args.suffix} ({megapixels:.1f} MP), {KERNEL}")
    print(describe_machine())
    # Other work on the machine skews the ratios: the 1-minute load before and after says.
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print_table(
        seconds,
        {name: statistics.median(times) for name, times in inside.items()},
        count=args.count,
        megapixels=megapixels,
    )


def print_table(
    seconds: dict[str, float], inside: dict[str, float], *, count: int, megapixels: float
) -> None:
    """Markdown rows: command wall time, files and MP per second, and the same measured
    inside the batch (imconv's own report, start-up excluded), with speed-ups over 1 worker."""
    print("| contender | wall s | files/s | MP/s | vs 1 worker | batch s | batch files/s | vs 1 |")
    print("|---|---|---|---|---|---|---|---|")
    one, one_inside = seconds["imconv --workers 1"], inside["imconv --workers 1"]
    for name, wall in seconds.items():
        cells = [
            name,
            f"{wall:.2f}",
            f"{count / wall:.1f}",
            f"{megapixels / wall:.1f}",
            f"{one / wall:.2f}x",
        ]
        if name in inside:
            batch = inside[name]
            cells += [f"{batch:.2f}", f"{count / batch:.1f}", f"{one_inside / batch:.2f}x"]
        else:
            cells += ["-", "-", "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
