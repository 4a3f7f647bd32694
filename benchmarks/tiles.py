"""One image larger than memory: ``imconv.tiles.filter_tiled`` against the in-memory stream
and against libvips, on a generated tiled TIFF.

Run from the repository root with the project installed (``pip install -e '.[tiles]'``)::

    python benchmarks/tiles.py [--size 30000] [--memory 512MiB] [--folder /tmp]
                               [--vips-rows 2000] [--vips-full] [--keep]

Writes (never commits) a ``--size`` x ``--size`` RGB uint8 tiled BigTIFF (256-pixel tiles,
uncompressed: 2.7 GB at 30000) into a temporary folder of ``--folder``, tile by tile from
a seeded generator (a sample photo under seeded noise), so generating it takes no more
memory than a tile. Checks the free disk first (the input, one output at a time) and
scales the size down when it does not fit, saying so. Then, each in a fresh process:

* **tiles**: ``filter_tiled(big.tif, out.tif, gaussian:sigma=3, memory=--memory)``, the
  library call's own time and the process's peak resident memory (``wait4``);
* **in memory**: the stream (``imconv.stream.process_file``, what ``imconv apply`` runs)
  on a 12 MP (4000x3000) image from the same generator, uncompressed TIFF in and out,
  median of 3; its megapixels per second scaled to the big image's size is what the
  tiles are held to (target: at least 0.7x);
* **vips**: ``vips convsep`` (the separable 19-tap Gaussian, float) and ``vips conv
  --precision integer`` on the whole TIFF; ``vips conv`` (the 19x19 mask in float, what
  imconv computes) on the image's first ``--vips-rows`` rows, its time scaled to the whole
  image (``--vips-full`` runs it on the whole image: about 15 minutes here).

Prints a Markdown section for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image
from timing import describe_machine, run_process

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "gaussian:sigma=3"
TILE = 256
SMALL = (3000, 4000)  # 12 MP, the in-memory reference


def pattern(rows: int, columns: int, seed: int) -> np.ndarray:
    """A photo-like RGB block: a sample photo, mirrored to size, under seeded noise."""
    with Image.open(ROOT / "samples" / "astronaut.png") as image:
        photo = np.asarray(image.convert("RGB"))
    base = np.concatenate([photo, photo[::-1]], axis=0)
    base = np.concatenate([base, base[:, ::-1]], axis=1)
    reps = (-(-rows // base.shape[0]), -(-columns // base.shape[1]), 1)
    block = np.tile(base, reps)[:rows, :columns]
    noise = np.random.default_rng(seed).integers(0, 32, block.shape, dtype=np.uint8)
    return block // 8 * 7 + noise


def generate(path: Path, height: int, width: int) -> None:
    """A tiled BigTIFF written tile by tile (no more than a row of tiles in memory)."""
    import tifffile

    base = pattern(1024, 1024, seed=0)  # tiles repeat the base, each under its own noise

    def tiles():
        for top in range(0, height, TILE):
            for left in range(0, width, TILE):
                rows, columns = min(TILE, height - top), min(TILE, width - left)
                noise = np.random.default_rng((top, left)).integers(0, 8, (rows, columns, 3),
                                                                    dtype=np.uint8)  # fmt: skip
                piece = base[top % 768 : top % 768 + rows, left % 768 : left % 768 + columns]
                yield piece + noise

    tifffile.imwrite(path, tiles(), shape=(height, width, 3), dtype=np.uint8,
                     tile=(TILE, TILE), photometric="rgb", bigtiff=True)  # fmt: skip


TILED = textwrap.dedent(
    """
    import json, sys
    from dataclasses import replace
    from imconv.kernels import load_kernel
    from imconv.stream import Recipe
    from imconv.tiles import filter_tiled
    recipe = Recipe(kernels=(load_kernel(sys.argv[1]),))
    recipe = replace(recipe, output=replace(recipe.output, overwrite=True))
    record = filter_tiled(sys.argv[2], sys.argv[3], recipe, memory=sys.argv[4])
    json.dump({"elapsed": record.elapsed, "strips": record.strips,
               "strip_rows": record.strip_rows, "band_rows": record.band_rows,
               "workers": record.workers, "estimate": record.memory_estimate,
               "peak": record.peak_memory,
               "stages": {s.stage: s.seconds for s in record.stages},
               "algorithm": [s.algorithm for s in record.stages if s.algorithm]},
              open(sys.argv[5], "w"))
    """
)

STREAM = textwrap.dedent(
    """
    import json, sys, time
    from dataclasses import replace
    from imconv.kernels import load_kernel
    from imconv.stream import Planner, Recipe, process_file
    recipe = Recipe(kernels=(load_kernel(sys.argv[1]),))
    recipe = replace(recipe, output=replace(recipe.output, overwrite=True))
    if sys.argv[5] != "auto":
        recipe = recipe.with_options(threads=int(sys.argv[5]))
    began = time.perf_counter()
    record = process_file(sys.argv[2], sys.argv[3], recipe, Planner(recipe))
    json.dump({"elapsed": time.perf_counter() - began,
               "stages": {s.stage: s.seconds for s in record.stages}}, open(sys.argv[4], "w"))
    """
)


def write_mask(folder: Path) -> tuple[Path, Path]:
    """The kernel as libvips masks: the 19x19 matrix, and its 1-D factor for convsep."""
    from imconv.kernels import load_kernel

    weights = np.asarray(load_kernel(KERNEL).parts[0], dtype=np.float64)
    factor = weights.sum(axis=1)  # the Gaussian is the outer product of this with itself
    paths = []
    for name, mask in (("mask.mat", weights), ("row.mat", factor[np.newaxis])):
        lines = [f"{mask.shape[1]} {mask.shape[0]} 1 0"]
        lines += [" ".join(f"{v:.12g}" for v in row) for row in mask]
        (folder / name).write_text("\n".join(lines) + "\n")
        paths.append(folder / name)
    return paths[0], paths[1]


def vips_output(path: Path) -> str:
    return f"{path}[tile,tile-width={TILE},tile-height={TILE},bigtiff]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=30000)
    parser.add_argument("--memory", default="512MiB")
    parser.add_argument("--folder", default=tempfile.gettempdir())
    parser.add_argument("--vips-rows", type=int, default=2000)
    parser.add_argument("--vips-full", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    size = args.size
    free = shutil.disk_usage(args.folder).free
    needed = 2.2 * size * size * 3  # the input, one output at a time, 10 % spare
    if needed > free:
        size = int((free / 2.2 / 3) ** 0.5) // TILE * TILE
        print(f"only {free / 2**30:.1f} GiB free in {args.folder}: size scaled to {size}")
    folder = Path(tempfile.mkdtemp(dir=args.folder, prefix="imconv-tiles-"))
    big, out = folder / "big.tif", folder / "out.tif"
    try:
        script = (f"import sys; sys.path[:0] = [{str(ROOT / 'benchmarks')!r}]\n"
                  "from tiles import generate; from pathlib import Path\n"
                  f"generate(Path({str(big)!r}), {size}, {size})")  # fmt: skip
        run = run_process([sys.executable, "-c", script])
        print(f"generated {big} ({big.stat().st_size / 1e9:.2f} GB) in {run.wall_s:.1f} s")
        megapixels = size * size / 1e6

        small, small_out = folder / "small.tif", folder / "small-out.tif"
        Image.fromarray(pattern(*SMALL, seed=1)).save(small)
        streams = {}
        for threads in ("auto", "1"):
            in_memory = []
            for _ in range(3):
                report = folder / "stream.json"
                process = run_process([sys.executable, "-c", STREAM, KERNEL, str(small),
                                       str(small_out), str(report), threads])  # fmt: skip
                in_memory.append((json.loads(report.read_text()), process))
            seconds = statistics.median(r["elapsed"] for r, _ in in_memory)
            peak = statistics.median(p.peak_mib for _, p in in_memory)
            streams[threads] = (seconds, peak, SMALL[0] * SMALL[1] / 1e6 / seconds)
        stream_rate = streams["auto"][2]

        report = folder / "tiles.json"
        tiles_run = run_process([sys.executable, "-c", TILED, KERNEL, str(big), str(out),
                                 args.memory, str(report)])  # fmt: skip
        tiles = json.loads(report.read_text())
        out.unlink()
        tiles_rate = megapixels / tiles["elapsed"]

        mask, row = write_mask(folder)
        vips = {}
        separable = ["vips", "convsep", str(big), vips_output(out), str(row)]
        integer = ["vips", "conv", str(big), vips_output(out), str(mask), "--precision", "integer"]
        for name, command in (
            ("vips convsep (float, separable)", separable),
            ("vips conv --precision integer", integer),
        ):
            done = run_process(command)
            vips[name] = (done.wall_s, done.peak_mib, 1.0)
            out.unlink(missing_ok=True)
        rows = size if args.vips_full else min(args.vips_rows, size)
        source = big
        if rows < size:
            source = folder / "band.tif"
            subprocess.run(["vips", "extract_area", str(big), vips_output(source), "0", "0",
                            str(size), str(rows)], check=True)  # fmt: skip
        done = run_process(["vips", "conv", str(source), vips_output(out), str(mask)])
        scale = size / rows
        name = "vips conv (float, 19x19)" + ("" if rows == size else f", {rows} rows x{scale:.0f}")
        vips[name] = (done.wall_s * scale, done.peak_mib, scale)
        out.unlink(missing_ok=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    versions = subprocess.run(["vips", "--version"], capture_output=True, text=True).stdout
    print("\n## One image larger than memory (issue 13)\n")
    print(f"`python benchmarks/tiles.py --size {size} --memory {args.memory}`\n")
    print(f"{describe_machine()}, {versions.strip()}.\n")
    print("| run | seconds | MP/s | peak RSS MiB | vs in-memory rate |")
    print("|---|---|---|---|---|")
    for threads, (seconds, peak, rate) in streams.items():
        label = "engine threads: all cores" if threads == "auto" else f"threads={threads}"
        print(f"| stream in memory, 12 MP, {label} (median of 3) | {seconds:.2f} | {rate:.1f} | "
              f"{peak:.0f} | {rate / stream_rate:.2f}x |")  # fmt: skip
    print(f"| tiles, {size}x{size}, memory {args.memory} | {tiles['elapsed']:.1f} | "
          f"{tiles_rate:.1f} | {tiles_run.peak_mib:.0f} | "
          f"{tiles_rate / stream_rate:.2f}x |")  # fmt: skip
    for name, (seconds, peak, _) in vips.items():
        print(f"| {name} | {seconds:.1f} | {megapixels / seconds:.1f} | {peak:.0f} | |")
    print(f"\ntiles: {tiles['strips']} strips of {tiles['strip_rows']} rows, bands of "
          f"{tiles['band_rows']}, {tiles['workers']} at once, {tiles['algorithm']}, estimate "
          f"{tiles['estimate'] / 2**20:.0f} MiB; stages (summed over strips): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in tiles["stages"].items()))  # fmt: skip


if __name__ == "__main__":
    main()
