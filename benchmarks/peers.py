"""The issue-5 targets: imconv against SciPy, OpenCV, ImageMagick and libvips, side by side.

Run from the repository root, with imconv installed and the peers at hand::

    pip install -e '.[bench]'                 # opencv-python-headless
    apt-get install imagemagick libvips-tools time
    python benchmarks/peers.py [--sizes 3,5,...,51] [--repeat 5] [--no-end-to-end]

Prints Markdown ready to paste into ``benchmarks/RESULTS.md``: the machine and versions,
then one table per group of targets with the measured ratios and whether each target is
met. Everything runs in this one process (the command-line tools as subprocesses of it),
the contenders of a row interleaved round by round so that a burst of load on a shared
machine hits them alike; times are medians.

* Kernels: a 2000x1500 RGB float32 image (``samples/retina.jpg`` resized), random
  non-separable k x k kernels (seed 0), convolution, ``same`` size, reflect padding.
  ``auto`` against ``scipy.ndimage.convolve`` and ``scipy.signal.fftconvolve`` per channel
  and OpenCV ``filter2D`` (the definitions of ``imconv bench --peers``,
  :mod:`imconv.bench.contenders`). A contender whose first run takes over ``--slow`` seconds is
  not repeated (``scipy.ndimage.convolve`` at large k; the target there is met by orders of
  magnitude, and warm-up effects are milliseconds).
* Separable: the Gaussian preset, sigma 5 (31x31), ``auto`` against forced ``direct``.
* End to end: ``imconv apply`` on a 4000x3000 JPEG against ImageMagick ``convert
  -morphology Convolve`` (the lecture's blur) and ``vips conv`` (a 15x15 box, one ``.mat``
  file for both), wall time and peak memory from ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import imconv
from imconv.bench import random_kernel
from imconv.bench.contenders import (
    Contender,
    algorithm_contenders,
    environment,
    peer_contenders,
)
from imconv.choices import Algorithm

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "retina.jpg"
PEERS = ("scipy.ndimage.convolve", "scipy.signal.fftconvolve", "cv2.filter2D")
BLUR_MAGICK = "3x3: 0,0.125,0 0.125,0.5,0.125 0,0.125,0"  # the `blur` preset, normalised


def resized(size: tuple[int, int]) -> Image.Image:
    """The sample photograph resized to ``size`` (width, height), RGB."""
    with Image.open(SAMPLE) as image:
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def interleaved(
    runs: dict[str, Callable[[], object]], repeat: int, slow: float
) -> dict[str, list[float]]:
    """Seconds per name: a first run each (warm-up), then ``repeat`` rounds in which every
    contender runs once. A first run over ``slow`` seconds is that contender's only time."""
    times: dict[str, list[float]] = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        first = time.perf_counter() - start
        times[name] = [first] if first > slow else []
    for _ in range(repeat):
        for name, run in runs.items():
            if len(times[name]) == 1 and times[name][0] > slow:
                continue
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def ratio_cell(mine: list[float], theirs: list[float], limit: float | None) -> str:
    """``median ratio ✓ (best-run ratio)``: the verdict is on the medians; the ratio of the
    fastest runs shows what a quiet machine gives when other work disturbed the medians."""
    median = statistics.median(mine) / statistics.median(theirs)
    return f"{verdict(median, limit)} ({min(mine) / min(theirs):.2f})"


def verdict(ratio: float, limit: float | None, *, at_most: bool = True) -> str:
    """``0.41 ✓`` or ``1.30 ✗`` against ``limit`` (``-`` when there is no target)."""
    if limit is None:
        return f"{ratio:.2f}"
    met = ratio <= limit if at_most else ratio >= limit
    return f"{ratio:.2f} {'✓' if met else '✗'}"


def filter2d_limit(k: int) -> float | None:
    """The issue's target for ``auto / filter2D``: 2.5 up to 7x7, 1.0 from 15x15."""
    return 2.5 if k <= 7 else 1.0 if k >= 15 else None


def contenders(threads: int) -> dict[str, Contender]:
    """``auto`` and the installed peers of :data:`PEERS`, by name."""
    found, missing = peer_contenders(threads=threads)
    for line in missing:
        print(f"<!-- {line} -->")
    chosen = algorithm_contenders([Algorithm.AUTO], threads=threads)
    return {c.name: c for c in chosen + [p for p in found if p.name in PEERS]}


def kernel_table(image: np.ndarray, args: argparse.Namespace) -> list[str]:
    """The per-k table: milliseconds, and auto's ratio to each peer against its target."""
    field = contenders(args.threads)
    prepared = {name: c.prepare(image) for name, c in field.items()}
    lines = [
        "| k | auto ms | auto ran | ndimage ms | fftconvolve ms | filter2D ms | "
        "auto / ndimage (≤ 0.5) | auto / fftconvolve (≤ 1.0) | auto / filter2D (≤ 2.5 k ≤ 7, "
        "≤ 1.0 k ≥ 15) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k in args.sizes:
        kernel = random_kernel(k, seed=0)
        runs = {
            name: (lambda c=c, d=prepared[name], w=kernel: c.run(d, w)) for name, c in field.items()
        }
        times = interleaved(runs, args.repeat, args.slow)
        ran = imconv.plan(
            image.shape, kernel, padding="reflect", channel_axis=-1, threads=args.threads
        ).algorithm
        median = {name: statistics.median(values) for name, values in times.items()}
        ms = {name: f"{median[name] * 1e3:.1f}" if name in median else "-" for name in PEERS}
        auto = median["auto"]
        limits = (0.5, 1.0, filter2d_limit(k))
        ratios = [
            ratio_cell(times["auto"], times[peer], limit) if peer in times else "-"
            for peer, limit in zip(PEERS, limits, strict=True)
        ]
        cells = [str(k), f"{auto * 1e3:.1f}", str(ran), *ms.values(), *ratios]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def separable_table(image: np.ndarray, args: argparse.Namespace) -> list[str]:
    """Gaussian sigma 5: auto (separable passes) against forced direct."""
    kernel = imconv.preset("gaussian", sigma=5).weights.astype(np.float32)
    options = dict(padding="reflect", channel_axis=-1, threads=args.threads)
    runs = {
        algorithm: (lambda a=algorithm: imconv.convolve(image, kernel, algorithm=a, **options))
        for algorithm in ("auto", "direct")
    }
    times = interleaved(runs, args.repeat, args.slow)
    ran = imconv.plan(image.shape, kernel, **options).algorithm
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = verdict(median["direct"] / median["auto"], 5.0, at_most=False)
    best = min(times["direct"]) / min(times["auto"])
    return [
        "| kernel | auto ms | auto ran | direct ms | direct / auto (≥ 5) |",
        "|---|---|---|---|---|",
        f"| gaussian sigma 5 ({kernel.shape[0]}x{kernel.shape[1]}) | {median['auto'] * 1e3:.1f} "
        f"| {ran} | {median['direct'] * 1e3:.1f} | {ratio} ({best:.2f}) |",
    ]


def timed(command: list[str], folder: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one run of ``command`` under ``time -v``."""
    report = folder / "time.txt"
    start = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(report), *command],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
    return wall, int(found.group(1)) / 1024 if found else float("nan")


def end_to_end_commands(folder: Path) -> dict[str, list[str]]:
    """The command lines compared end to end, run in ``folder`` (which holds the inputs)."""
    program = shutil.which("imconv") or str(Path(sys.executable).parent / "imconv")
    return {
        "imconv blur": [
            program,
            "apply",
            "blur",
            "big.jpg",
            "-o",
            "imconv_blur.jpg",
            "--quality",
            "90",
            "--overwrite",
        ],
        "ImageMagick blur": [
            "convert",
            "big.jpg",
            "-morphology",
            "Convolve",
            BLUR_MAGICK,
            "-quality",
            "90",
            "magick_blur.jpg",
        ],
        "imconv box 15": [
            program,
            "apply",
            "box15.mat",
            "big.jpg",
            "-o",
            "imconv_box.jpg",
            "--quality",
            "90",
            "--overwrite",
        ],
        "vips conv box 15": ["vips", "conv", "big.jpg", "vips_box.jpg[Q=90]", "box15.mat"],
        "vips conv box 15, integer": [
            "vips",
            "conv",
            "big.jpg",
            "vips_int.jpg[Q=90]",
            "box15.mat",
            "--precision",
            "integer",
        ],
    }


def end_to_end_table(args: argparse.Namespace) -> list[str]:
    """Wall time and peak memory of each command, medians of ``--repeat`` interleaved runs."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        resized((4000, 3000)).save(folder / "big.jpg", quality=90)
        ones = "\n".join(" ".join(["1"] * 15) for _ in range(15))
        (folder / "box15.mat").write_text(f"15 15 225 0\n{ones}\n")
        commands = end_to_end_commands(folder)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for command in commands.values():  # warm the page cache and the imports
            subprocess.run(command, cwd=folder, check=True, capture_output=True)
        for _ in range(args.repeat):
            for label, command in commands.items():
                results[label].append(timed(command, folder))
    wall = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    peak = {k: statistics.median(m for _, m in v) for k, v in results.items()}
    pairs = [
        ("imconv blur", "ImageMagick blur", 1.0),
        ("imconv box 15", "vips conv box 15", 0.5),
        ("imconv box 15", "vips conv box 15, integer", None),
    ]
    lines = [
        "| imconv | peer | imconv s | peer s | wall ratio (target) | imconv MiB | peer MiB "
        "| memory ratio (target) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mine, theirs, limit in pairs:
        memory = verdict(peak[mine] / peak[theirs], 1.0 if theirs.startswith("Image") else None)
        lines.append(
            f"| {mine} | {theirs} | {wall[mine]:.2f} | {wall[theirs]:.2f} | "
            f"{verdict(wall[mine] / wall[theirs], limit)} | {peak[mine]:.0f} | "
            f"{peak[theirs]:.0f} | {memory} |"
        )
    commands_used = end_to_end_commands(Path("."))
    lines += ["", "Commands (in a folder holding `big.jpg` and `box15.mat`):", ""]
    lines += [f"* {label}: `{' '.join(_shown(c))}`" for label, c in commands_used.items()]
    return lines


def _shown(command: list[str]) -> list[str]:
    return [
        "imconv" if part.endswith("/imconv") else f"'{part}'" if " " in part else part
        for part in command
    ]


def tool_version(command: list[str]) -> str:
    """The first line a tool prints about its version, or ``missing``."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "missing"
    line = (done.stdout or done.stderr).splitlines()[0].strip()
    return line.removeprefix("Version: ").split(" https:")[0]


def header(args: argparse.Namespace) -> list[str]:
    """Date, machine, versions and the exact command."""
    found = environment(list(contenders(args.threads).values()))
    named = {
        "scipy.ndimage.convolve": None,
        "scipy.signal.fftconvolve": None,
        "cv2.filter2D": "OpenCV",
    }
    versions = ", ".join(
        f"{named.get(name) or name} {value}"
        for name, value in found["versions"].items()
        if named.get(name, name) is not None
    )
    machine = found["machine"]
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return [
        "`" + " ".join(["python benchmarks/peers.py", *sys.argv[1:]]) + "`",
        "",
        f"{datetime.date.today()}; {machine['processor']}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}; {versions}; BLAS {blas.get('name')} "
        f"{blas.get('version')}; {tool_version(['convert', '-version'])}; "
        f"{tool_version(['vips', '--version'])}; threads {args.threads}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="3,5,7,11,15,21,31,51",
        type=lambda text: [int(part) for part in text.split(",")],
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slow", type=float, default=3.0, help="seconds: run once above this")
    parser.add_argument("--no-end-to-end", action="store_true")
    args = parser.parse_args()
    image = np.asarray(resized((2000, 1500)), dtype=np.float32)
    out = [
        *header(args),
        "",
        "Kernels: 2000x1500 RGB float32, random non-separable k x k, "
        "same size, reflect padding; milliseconds, medians; ratios of the medians (the "
        "verdict) and in parentheses of the fastest runs.",
        "",
    ]
    out += kernel_table(image, args)
    out += ["", "Separable kernel, same image:", "", *separable_table(image, args)]
    if not args.no_end_to_end:
        title = (
            "End to end, a 4000x3000 JPEG (quality 90 in and out), wall time and peak "
            "resident memory from `/usr/bin/time -v`:"
        )
        out += ["", title, "", *end_to_end_table(args)]
    print("\n".join(out))


if __name__ == "__main__":
    main()
