"""Regenerate the README's preset gallery: every preset applied to a sample photograph.

Run from the repository root after changing a preset or the engine::

    python docs/make_gallery.py

It writes ``docs/gallery/<preset>.jpg`` (a 240-pixel-wide crop of ``samples/chelsea.png``
filtered exactly as ``imconv apply <preset> --padding reflect`` would) and
``docs/gallery/original.jpg``, and rewrites the grid between the gallery markers of
``README.md``. Parametric presets use their defaults, except where noted below.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery"
SOURCE = ROOT / "samples" / "chelsea.png"
# Presets whose defaults are too subtle at thumbnail size are shown with these options.
START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
COLUMNS = 4
QUALITY = 85
SHOWN_WITH = {
    "gaussian": ["gaussian:sigma=3"],
    "box": ["box:size=9"],
    "motion": ["motion:length=21,angle=30"],
    "laplacian": ["laplacian", "--range", "rescale"],
    "log": ["log:sigma=2", "--range", "rescale"],
    "kirsch": ["kirsch", "--range", "rescale"],
    "dog": ["dog:sigma1=1,sigma2=2", "--range", "rescale"],
    "binomial": ["binomial:order=8"],
    "disk": ["disk:radius=4"],
    "gabor": ["gabor:sigma=3,lambda=8", "--range", "rescale"],
}


# The README's comparison of a blur of gamma-encoded values and one in linear light.
COMPARED = {
    "blur-gamma": ["gaussian:sigma=5"],
    "blur-linear": ["gaussian:sigma=5", "--linear"],
}


def preset_names() -> list[str]:
    from imconv.kernels import preset_names

    return preset_names()


def main() -> None:
    GALLERY.mkdir(parents=True, exist_ok=True)
    cells = [("(original)", "original")]
    with tempfile.TemporaryDirectory() as folder:
        original = Path(folder) / "original.png"
        with Image.open(SOURCE) as photo:
            photo.convert("RGB").crop((100, 20, 340, 200)).save(original)
        Image.open(original).save(GALLERY / "original.jpg", quality=QUALITY)
        for name in preset_names():
            kernel, *options = SHOWN_WITH.get(name, [name])
            output = ["-o", str(GALLERY / f"{name}.jpg"), "--quality", str(QUALITY)]
            command = [sys.executable, "-m", "imconv", "apply", kernel, str(original),
                       *options, *output, "--overwrite", "--quiet"]  # fmt: skip
            subprocess.run(command, check=True)
            cells.append((f"`{' '.join([kernel, *options])}`", name))
        helmet = Path(folder) / "helmet.png"  # light next to dark, for the comparison
        with Image.open(ROOT / "samples" / "astronaut.png") as photo:
            photo.convert("RGB").crop((272, 332, 512, 512)).save(helmet)
        for name, options in COMPARED.items():  # the README's before/after pictures
            output = ["-o", str(GALLERY / f"{name}.jpg"), "--quality", str(QUALITY)]
            subprocess.run([sys.executable, "-m", "imconv", "apply", *options, str(helmet),
                            *output, "--overwrite", "--quiet"], check=True)  # fmt: skip
    rows = ["| " + " | ".join([""] * COLUMNS) + " |", "|" + " --- |" * COLUMNS]
    for start in range(0, len(cells), COLUMNS):
        chunk = cells[start : start + COLUMNS]
        chunk += [("", "")] * (COLUMNS - len(chunk))
        rows.append("| " + " | ".join(
            f"![{n}](docs/gallery/{n}.jpg)<br>{label}" if n else "" for label, n in chunk
        ) + " |")  # fmt: skip
    readme = ROOT / "README.md"
    before, rest = readme.read_text(encoding="utf-8").split(START, 1)
    after = rest.split(END, 1)[1]
    grid = "\n".join(rows)
    readme.write_text(f"{before}{START}\n{grid}\n{END}{after}", encoding="utf-8")
    print(f"wrote {len(cells) - 1} presets to {GALLERY}")


if __name__ == "__main__":
    main()
