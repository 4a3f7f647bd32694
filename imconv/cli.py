"""The ``imconv`` command (provisional: the lecture's blur on one image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

app = typer.Typer(pretty_exceptions_show_locals=False, no_args_is_help=True)

BLUR = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8


@app.callback()
def callback() -> None:
    """Filter images with convolution kernels."""


@app.command()
def apply(kernel: str, image: Path) -> None:
    """Apply KERNEL (only 'blur' for now) to IMAGE, writing IMAGE_blur beside it."""
    from PIL import Image

    from imconv.engine import convolve

    if kernel != "blur":
        raise typer.BadParameter(f"unknown kernel {kernel!r}; available: blur")
    with Image.open(image) as source:
        pixels = np.asarray(source.convert("RGB"))
    result = convolve(pixels, BLUR, padding="reflect", channel_axis=-1)
    output = image.with_name(f"{image.stem}_blur{image.suffix}")
    Image.fromarray(np.clip(np.rint(result), 0, 255).astype(np.uint8)).save(output)


def main() -> None:
    """Entry point of the ``imconv`` console script."""
    app()
