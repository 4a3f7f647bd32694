"""The memory budget holds: an image whose input and output together are larger than the
budget is filtered in a fresh process whose peak resident memory (``VmHWM``, the process's
own: a child's ``ru_maxrss`` would inherit the test runner's peak) stays within it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tifffile

from imconv.tiles import open_tiled

MIB = 1024 * 1024

RUN = textwrap.dedent(
    """
    import json, sys
    from dataclasses import replace
    from imconv.kernels import load_kernel
    from imconv.stream import Recipe
    from imconv.tiles import filter_tiled
    recipe = Recipe(kernels=(load_kernel(sys.argv[1]),))
    record = filter_tiled(sys.argv[2], sys.argv[3], recipe, memory=sys.argv[4])
    print(json.dumps({"peak": record.peak_memory, "estimate": record.memory_estimate,
                      "strips": record.strips, "baseline": record.memory_baseline}))
    """
)


def tiled_tiff(path: Path, height: int, width: int) -> None:
    """A seeded RGB tiled TIFF written tile by tile (never whole in memory)."""

    def tiles():
        for top in range(0, height, 256):
            for left in range(0, width, 256):
                shape = (min(256, height - top), min(256, width - left), 3)
                yield np.random.default_rng((top, left)).integers(0, 256, shape, dtype=np.uint8)

    tifffile.imwrite(path, tiles(), shape=(height, width, 3), dtype=np.uint8, tile=(256, 256),
                     photometric="rgb", bigtiff=True)  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
@pytest.mark.parametrize(("kernel", "budget"), [("gaussian:sigma=3", 200), ("sobel", 160)])
def test_peak_memory_stays_within_the_budget(kernel: str, budget: int, tmp_path: Path) -> None:
    source, out = tmp_path / "in.tif", tmp_path / "out.tif"
    tiled_tiff(source, 8000, 6000)  # 144 MB in, 144 MB out
    image = open_tiled(source)
    assert 2 * image.height * image.row_bytes > budget * MIB  # it could not be held whole
    done = subprocess.run([sys.executable, "-c", RUN, kernel, str(source), str(out),
                           f"{budget}MiB"], capture_output=True, text=True, check=True)  # fmt: skip
    found = json.loads(done.stdout)
    assert found["strips"] > 4
    assert found["peak"] <= 1.2 * budget * MIB, (found["peak"] / MIB, found)
    with tifffile.TiffFile(out) as written:
        assert written.pages[0].shape == (8000, 6000, 3)
