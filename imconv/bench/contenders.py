"""What ``imconv bench`` times: imconv's algorithms, and the peers a user would otherwise call.

Every contender computes the same thing on a float32 ``(H, W, C)`` image and a 2-D kernel:
a convolution, ``same`` size, reflect padding (``c b|a b c d|c b``: NumPy ``reflect``,
``scipy.ndimage`` ``mirror``, OpenCV ``BORDER_REFLECT_101``), except where a peer cannot and
its note says so:

* ``scipy.ndimage.convolve``: per channel, ``mode="mirror"``; one thread (it has no option).
* ``scipy.signal.fftconvolve``: per channel, ``mode="same"`` with its only padding, zeros
  (the cheapest call; padding first would add a copy); ``workers`` through
  ``scipy.fft.set_workers``.
* ``cv2.filter2D`` (``opencv-python-headless``, the ``imconv[bench]`` extra): float32, all
  channels in one call, the flipped kernel (it correlates), ``cv2.setNumThreads``.
* ``PIL.ImageFilter.Kernel``: Pillow filters only 3x3 and 5x5 kernels on 8-bit ``L`` and
  ``RGB`` images, on one thread; it is timed on the image converted to 8-bit once (a lighter
  problem: a quarter of the bytes) and shown as unsupported at other sizes.

Peers are found by import; a missing one is reported, never an error.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from imconv.choices import Algorithm, parse_choice
from imconv.environment import cores, machine, versions
from imconv.errors import InvalidParameterError

__all__ = [
    "Contender",
    "algorithm_contenders",
    "contenders_for",
    "environment",
    "parse_algorithms",
    "peer_contenders",
]

BENCH_EXTRA_HINT = "pip install 'imconv[bench]'"


def _same(pixels: np.ndarray) -> Any:
    return pixels


def _anything(data: Any, size: int) -> str:
    return ""


@dataclass(frozen=True)
class Contender:
    """One way of computing the benchmark's convolution.

    Attributes
    ----------
    name
        ``auto``, ``direct``... for imconv's algorithms, the function's name for peers.
    kind
        ``"algorithm"`` or ``"peer"``.
    run
        ``run(data, kernel)``: one convolution of the prepared image with a 2-D kernel.
    prepare
        Turns the float32 ``(H, W, C)`` image into what ``run`` takes (done once, untimed).
    limit
        ``limit(data, size)``: why this contender cannot run at ``size``, or ``""``.
    grows_with_area
        Its time grows with ``k**2`` (the budget rule of :mod:`imconv.bench.run` applies).
    algorithm
        imconv's algorithm (None for peers): the cost model estimates it before a run.
    autotune
        ``auto`` measures the candidates (``autotune=True``) instead of using the model.
    threads
        Threads it runs on.
    version
        Version of the library that runs it.
    note
        What differs from the common problem, or how it is called.
    """

    name: str
    kind: str
    run: Callable[[Any, np.ndarray], object]
    prepare: Callable[[np.ndarray], Any] = _same
    limit: Callable[[Any, int], str] = _anything
    grows_with_area: bool = False
    algorithm: Algorithm | None = None
    autotune: bool = False
    threads: int = 1
    version: str = ""
    note: str = ""

    def unsupported(self, data: Any, size: int) -> str:
        """Why this contender cannot run on ``data`` at ``size``; ``""`` when it can."""
        return self.limit(data, size)

    def describe(self) -> dict[str, Any]:
        """Name, kind, threads, version and note, JSON-ready."""
        return {
            "name": self.name,
            "kind": self.kind,
            "threads": self.threads,
            "version": self.version,
            "note": self.note,
        }


def _threads(threads: int | None) -> int:
    return cores() if threads is None else threads


def _imconv(algorithm: Algorithm, threads: int, autotune: bool) -> Callable[..., object]:
    from imconv.engine import convolve

    def run(image: np.ndarray, kernel: np.ndarray) -> object:
        return convolve(
            image,
            kernel,
            padding="reflect",
            channel_axis=-1,
            algorithm=algorithm,
            threads=threads,
            autotune=autotune,
        )

    return run


def algorithm_contenders(
    algorithms: Iterable[Algorithm], *, threads: int | None = None, autotune: bool = False
) -> list[Contender]:
    """imconv's ``algorithms`` as contenders (``autotune`` applies to ``auto``)."""
    from imconv import __version__

    count = _threads(threads)
    found = []
    for algorithm in algorithms:
        tuned = autotune and algorithm is Algorithm.AUTO
        note = "autotune: measures the candidates, then runs the fastest" if tuned else ""
        grows = algorithm in (Algorithm.DIRECT, Algorithm.MATMUL, Algorithm.SEPARABLE)
        found.append(
            Contender(
                str(algorithm),
                "algorithm",
                _imconv(algorithm, count, tuned),
                grows_with_area=grows,
                algorithm=algorithm,
                autotune=tuned,
                threads=count,
                version=__version__,
                note=note,
            )
        )
    return found


def _per_channel(function: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    """A 2-D function applied to each channel of ``(H, W, C)``, stacked back."""
    return np.stack([function(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def _ndimage() -> Contender:
    import scipy
    import scipy.ndimage

    def run(image: np.ndarray, kernel: np.ndarray) -> object:
        return _per_channel(lambda x: scipy.ndimage.convolve(x, kernel, mode="mirror"), image)

    note = "per channel, mode='mirror' (reflect); one thread"
    return Contender(
        "scipy.ndimage.convolve",
        "peer",
        run,
        grows_with_area=True,
        version=scipy.__version__,
        note=note,
    )


def _fftconvolve(threads: int) -> Contender:
    import scipy
    import scipy.fft
    import scipy.signal

    def run(image: np.ndarray, kernel: np.ndarray) -> object:
        with scipy.fft.set_workers(threads):
            return _per_channel(lambda x: scipy.signal.fftconvolve(x, kernel, mode="same"), image)

    note = f"per channel, mode='same', zero padding (its only one), workers={threads}"
    return Contender(
        "scipy.signal.fftconvolve",
        "peer",
        run,
        threads=threads,
        version=scipy.__version__,
        note=note,
    )


def _filter2d(threads: int) -> Contender:
    import cv2

    def prepare(pixels: np.ndarray) -> np.ndarray:
        cv2.setNumThreads(threads)
        return np.ascontiguousarray(pixels)

    def run(image: np.ndarray, kernel: np.ndarray) -> object:
        flipped = np.ascontiguousarray(kernel[::-1, ::-1])  # filter2D correlates
        return cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT_101)

    def limit(image: np.ndarray, size: int) -> str:
        return "" if image.shape[-1] <= 4 else "filter2D takes at most 4 channels here"

    note = f"float32, all channels in one call, BORDER_REFLECT_101, {threads} threads"
    return Contender(
        "cv2.filter2D",
        "peer",
        run,
        prepare,
        limit,
        threads=threads,
        version=cv2.__version__,
        note=note,
    )


def _pillow() -> Contender:
    import PIL
    from PIL import Image, ImageFilter

    def prepare(pixels: np.ndarray) -> Any:
        if pixels.shape[-1] not in (1, 3):
            return None
        samples = np.clip(pixels, 0, 255).astype(np.uint8)
        return Image.fromarray(samples[..., 0] if samples.shape[-1] == 1 else samples)

    def run(image: Any, kernel: np.ndarray) -> object:
        # Pillow applies its list mirrored left to right; this makes it a convolution.
        values = np.fliplr(kernel).ravel().tolist()
        return image.filter(ImageFilter.Kernel(kernel.shape, values, scale=1))

    def limit(image: Any, size: int) -> str:
        if image is None:
            return "Pillow filters only L and RGB images"
        return "" if size in (3, 5) else "Pillow's Kernel is 3x3 or 5x5 only"

    note = "8-bit L/RGB only (timed on the image as uint8), 3x3 and 5x5 only; one thread"
    return Contender(
        "PIL.ImageFilter.Kernel",
        "peer",
        run,
        prepare,
        limit,
        grows_with_area=True,
        version=PIL.__version__,
        note=note,
    )


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def peer_contenders(*, threads: int | None = None) -> tuple[list[Contender], list[str]]:
    """The installed peers, and one line for each that is not installed."""
    count = _threads(threads)
    found = [_ndimage(), _fftconvolve(count)]
    missing = []
    if not _installed("cv2"):
        missing.append(
            f"cv2.filter2D: opencv-python-headless is not installed ({BENCH_EXTRA_HINT})"
        )
    else:
        found.append(_filter2d(count))
    found.append(_pillow())
    return found, missing


def environment(contenders: Sequence[Contender]) -> dict[str, Any]:
    """``versions`` (Python, NumPy, SciPy and every contender's library) and ``machine``."""
    found = versions("imconv", "numpy", "scipy")
    found.update({c.name: c.version for c in contenders if c.kind == "peer"})
    return {"versions": found, "machine": machine()}


def parse_algorithms(text: str) -> tuple[Algorithm, ...]:
    """``"auto,fft"`` -> the algorithms, in the order given, without repeats."""
    names = [part for part in text.split(",") if part.strip()]
    if not names:
        raise InvalidParameterError("algorithms", text, "algorithm names separated by commas")
    chosen = [parse_choice(Algorithm, name, "algorithms") for name in names]
    return tuple(dict.fromkeys(chosen))


def contenders_for(
    algorithms: Iterable[Algorithm],
    *,
    peers: bool = False,
    threads: int | None = None,
    autotune: bool = False,
) -> tuple[list[Contender], list[str]]:
    """The contenders to time, and one line per requested peer that is not installed."""
    chosen = algorithm_contenders(algorithms, threads=threads, autotune=autotune)
    if not peers:
        return chosen, []
    found, missing = peer_contenders(threads=threads)
    return chosen + found, missing
