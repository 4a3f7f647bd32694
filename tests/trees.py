"""Folders of real images for the batch tests, cut from the samples in several modes, with
the files a real photo folder also holds: notes, hidden files, broken and empty images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# The good images of mixed_tree, below the root, and the outputs `blur` gives them.
GOOD = {
    "rgb.png": "rgb_blur.png",
    "grey.png": "grey_blur.png",
    "alpha.png": "alpha_blur.png",
    "deep.png": "deep_blur.png",
    "café au lait.png": "café au lait_blur.png",
    "2024/may/photo.jpg": "2024/may/photo_blur.jpg",
}
MODES = {"rgb.png": "RGB", "grey.png": "L", "alpha.png": "RGBA", "deep.png": "I;16"}


def crop(sample: str, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A centred ``size`` (width, height) crop of a sample in ``mode``."""
    with Image.open(SAMPLES / sample) as image:
        width, height = size
        left, top = (image.width - width) // 2, (image.height - height) // 2
        return image.convert(mode).crop((left, top, left + width, top + height))


def save(image: Image.Image, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def modes(folder: Path, size: tuple[int, int] = (64, 48)) -> None:
    """rgb.png, grey.png (L), alpha.png (RGBA), deep.png (I;16), café au lait.png (RGB)."""
    save(crop("coffee.png", size), folder / "rgb.png")
    save(crop("camera.png", size, "L"), folder / "grey.png")
    rgba = crop("astronaut.png", size, "RGBA")
    ramp = np.linspace(0, 255, size[0] * size[1]).reshape(size[1], size[0]).astype(np.uint8)
    rgba.putalpha(Image.fromarray(ramp))
    save(rgba, folder / "alpha.png")
    grey = np.asarray(crop("camera.png", size, "L"), dtype=np.uint16) * 257
    save(Image.fromarray(grey), folder / "deep.png")
    save(crop("chelsea.png", size), folder / "café au lait.png")


def truncated_jpeg(path: Path) -> Path:
    """The first half of a real JPEG."""
    buffer = io.BytesIO()
    crop("rocket.jpg", (64, 48)).save(buffer, format="JPEG")
    data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


def mixed_tree(root: Path) -> Path:
    """The GOOD images, and: notes.txt, .hidden.png, 2024/cut.jpg (truncated),
    2024/empty.png (zero bytes), blocked/x.png (its output folder will be a file)."""
    modes(root)
    save(crop("rocket.jpg", (64, 48)), root / "2024" / "may" / "photo.jpg", quality=90)
    truncated_jpeg(root / "2024" / "cut.jpg")
    (root / "2024" / "empty.png").write_bytes(b"")
    (root / "notes.txt").write_text("not an image")
    save(crop("coffee.png", (16, 16)), root / ".hidden.png")
    save(crop("coffee.png", (32, 32)), root / "blocked" / "x.png")
    return root


def copies(folder: Path, count: int, size: tuple[int, int], suffix: str = ".png") -> list[Path]:
    """``count`` different crops of the samples, ``size`` each, as ``00.png``, ``01.png``..."""
    names = ["coffee.png", "astronaut.png", "chelsea.png", "rocket.jpg"]
    paths = []
    for number in range(count):
        with Image.open(SAMPLES / names[number % len(names)]) as image:
            picture = image.convert("RGB").resize((size[0] + number, size[1]))
        paths.append(save(picture, folder / f"{number:02d}{suffix}"))
    return paths


def files(root: Path) -> list[str]:
    """Every file below ``root`` (hidden ones too), as sorted POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
