"""The output image, filled band by band in its stored type, then encoded once.

A :class:`Canvas` holds the output as its file will store it: a Pillow image of the
output mode (so encoding makes no other full-size copy), or for ``.npy`` and float TIFF
pages a float32 array. Each band arrives as float samples in the picture's range, with
alpha in 0..1, and is scaled, flattened over white where the format has no alpha, clipped
and rounded once as it is stored (:func:`~imconv.images.plan_output` decides how), so
integers never wrap and NaN becomes 0.
"""

from __future__ import annotations

import threading
from typing import IO, Any

import numpy as np
from PIL import Image

from ._formats import OutputPlan, carries_metadata, takes_quality
from ._picture import icc_fits, image_bytes
from ._png import write_png

__all__ = ["Canvas"]

_INT32 = np.iinfo(np.int32)
_INTEGERS = {255.0: np.uint8, 65535.0: np.uint16}
# The type each output mode stores a sample in.
_STORED = {"L": np.uint8, "LA": np.uint8, "RGB": np.uint8, "RGBA": np.uint8,
           "I;16": np.uint16, "I": np.int32, "F": np.float32,
           "LA;16": np.uint16, "RGB;16": np.uint16, "RGBA;16": np.uint16}  # fmt: skip
# 16-bit colour: kept as an array and written by imconv's own PNG writer.
_DEEP_COLOUR = {"LA;16": 2, "RGB;16": 3, "RGBA;16": 4}
# Output modes whose Pillow image maps a NumPy array, so that bands are stored straight into
# it (no band image, no paste): the raw mode Pillow maps and the samples per pixel. RGB maps
# as RGBX (Pillow's own layout of RGB), which only the JPEG and WebP encoders take.
_SHARED = {"L": ("L", 1), "I;16": ("I;16", 1), "RGBA": ("RGBA", 4), "RGB": ("RGBX", 4)}
_RGBX_FORMATS = ("JPEG", "WEBP")


def _shared(plan: OutputPlan) -> bool:
    """Whether a canvas of ``plan`` is a NumPy array that its Pillow image maps."""
    if plan.format == "NPY" or plan.pages or plan.mode not in _SHARED:
        return False
    return plan.mode != "RGB" or plan.format in _RGBX_FORMATS


def copy_samples(out: np.ndarray, samples: np.ndarray) -> None:
    """``out[...] = samples`` (cast as needed), channel by channel into an interleaved
    ``out`` such as RGB in Pillow's 4-byte pixels: NumPy would otherwise loop over 3
    channels innermost, 5x slower than over whole rows."""
    if out.ndim == 3 and not out.flags.c_contiguous:
        for channel in range(out.shape[2]):
            np.copyto(out[..., channel], samples[..., channel], casting="unsafe")
    else:
        np.copyto(out, samples, casting="unsafe")


def store(samples: np.ndarray, dtype: Any, top: float | None, out: np.ndarray) -> np.ndarray:
    """``samples`` as ``dtype`` in ``out``: clipped to ``[0, top]`` and rounded half to even
    for unsigned integers (NaN becomes 0), clipped to int32 for ``I``, as is for floats."""
    if dtype == np.float32:
        np.copyto(out, samples, casting="same_kind")
        return out
    if dtype == np.int32:
        finite = np.nan_to_num(samples.astype(np.float64), nan=0.0)
        np.copyto(out, np.rint(np.clip(finite, _INT32.min, _INT32.max)), casting="unsafe")
        return out
    work = np.fmax(samples, 0, dtype=np.float32)  # NaN becomes 0; float32 holds every value
    np.fmin(work, top, out=work)
    np.rint(work, out=work)
    copy_samples(out, work)
    return out


class Canvas:
    """An output image of ``height`` x ``width`` with ``channels`` colour channels.

    Parameters
    ----------
    plan
        How the file stores the picture (:func:`~imconv.images.plan_output`).
    height, width, channels
        The result's size and colour channels (alpha not counted).
    icc_profile, exif
        Metadata written where the format carries it (the profile only when it fits).

    Bands of different rows may be put from several threads at once.
    """

    def __init__(
        self,
        plan: OutputPlan,
        *,
        height: int,
        width: int,
        channels: int,
        icc_profile: bytes | None = None,
        exif: bytes | None = None,
    ) -> None:
        self.plan, self.height, self.width, self.channels = plan, height, width, channels
        self.icc_profile, self.exif = icc_profile, exif
        self.image: Image.Image | None = None
        self.samples: np.ndarray | None = None
        self._lock = threading.Lock()  # the Pillow image is made by the first band
        if plan.format == "NPY":
            shape = (height, width) if channels == 1 else (height, width, channels)
            self.samples = np.empty(shape, dtype=np.float32)
        elif plan.pages:
            self.samples = np.empty((channels, height, width), dtype=np.float32)
        elif plan.mode in _DEEP_COLOUR:
            self.samples = np.empty((height, width, _DEEP_COLOUR[plan.mode]), dtype=np.uint16)
        elif _shared(plan):
            raw, depth = _SHARED[plan.mode]
            shape = (height, width) if depth == 1 else (height, width, depth)
            self.samples = np.empty(shape, np.dtype(_STORED[plan.mode]).newbyteorder("<"))
            self.image = Image.frombuffer(plan.mode, (width, height), self.samples, "raw", raw,
                                          0, 1)  # fmt: skip

    @staticmethod
    def size_of(plan: OutputPlan, *, height: int, width: int, channels: int) -> int:
        """The bytes a canvas of this plan and size holds once filled (nothing allocated)."""
        if plan.format == "NPY" or plan.pages:
            return height * width * channels * 4
        if plan.mode in _DEEP_COLOUR:
            return height * width * _DEEP_COLOUR[plan.mode] * 2
        return image_bytes(plan.mode or "L", height, width)

    def put(self, start: int, colour: np.ndarray, alpha: np.ndarray | None = None) -> None:
        """Store rows ``start:`` from float ``colour`` ``(n, W, C)`` and ``alpha`` ``(n, W)``."""
        stop = start + colour.shape[0]
        if self.plan.format == "NPY":
            self.samples[start:stop] = colour[..., 0] if self.channels == 1 else colour
            return
        if self.plan.pages:
            self.samples[:, start:stop] = np.moveaxis(colour, -1, 0)
            return
        if self.plan.mode in _DEEP_COLOUR:
            stored = self._stored(colour, alpha)
            self.samples[start:stop] = stored if stored.ndim == 3 else stored[..., None]
            return
        if self.samples is not None:  # the Pillow image's own memory
            rows = self.samples[start:stop]
            self._stored(colour, alpha, out=rows[..., :3] if self.plan.mode == "RGB" else rows)
            return
        band = Image.fromarray(self._stored(colour, alpha))  # the type gives the mode
        if self.image is None and start == 0 and stop == self.height:
            self.image = band  # the whole image at once: no second copy
            return
        with self._lock:
            if self.image is None:
                self.image = Image.new(self.plan.mode, (self.width, self.height))
        self.image.paste(band, (0, start))

    def put_stored(self, start: int, stored: np.ndarray) -> None:
        """Store rows ``start:`` given as integers already in 0..255, ``(n, W, C)``, in a
        grey or colour 8-bit output without alpha (cast as they are stored)."""
        if self.plan.mode not in ("L", "RGB") or stored.dtype.kind not in "iu":
            raise ValueError(f"put_stored takes integer L or RGB rows, not for {self.plan.mode}")
        stop = start + stored.shape[0]
        samples = stored[..., 0] if self.plan.mode == "L" else stored
        if self.samples is not None:  # the Pillow image's own memory
            rows = self.samples[start:stop]
            copy_samples(rows[..., :3] if self.plan.mode == "RGB" else rows, samples)
            return
        band = Image.fromarray(samples.astype(np.uint8))
        with self._lock:
            if self.image is None:
                self.image = Image.new(self.plan.mode, (self.width, self.height))
        self.image.paste(band, (0, start))

    def _stored(
        self, colour: np.ndarray, alpha: np.ndarray | None, out: np.ndarray | None = None
    ) -> np.ndarray:
        """One band as the output mode stores it: ``(n, W)`` or ``(n, W, bands)`` (in
        ``out`` when given)."""
        plan = self.plan
        scale = np.float32(plan.scale)
        if alpha is None and colour.shape[-1] == 4:  # a fourth channel is alpha
            colour, alpha = colour[..., :3], colour[..., 3] * (scale / np.float32(255))
        if colour.shape[-1] == 1:
            colour = colour[..., 0]
        if plan.scale != 1.0:
            colour = colour * scale
        if alpha is not None:
            alpha = np.clip(np.nan_to_num(alpha), 0.0, 1.0)
            if plan.flatten:
                weight = alpha[..., None] if colour.ndim == 3 else alpha
                top = np.float32(plan.max_value or 255.0)
                colour = colour * weight + top * (1 - weight)
        dtype = _STORED[plan.mode or "L"]
        with_alpha = plan.alpha and alpha is not None
        depth = (colour.shape[2] if colour.ndim == 3 else 1) + with_alpha
        if out is None:
            out = np.empty((*colour.shape[:2], depth) if depth > 1 else colour.shape[:2], dtype)
        colours = out[..., :-1] if colour.ndim == 3 else out[..., 0]
        store(colour, dtype, plan.max_value or 255.0, colours if with_alpha else out)
        if with_alpha:
            alpha_top = 65535.0 if dtype == np.uint16 else 255.0
            store(alpha * np.float32(alpha_top), dtype, alpha_top, out[..., -1])
        return out

    def stored_samples(self) -> np.ndarray:
        """The samples as the file stores them, ``(H, W, S)`` (alpha last where stored)."""
        if self.plan.pages:
            samples = np.moveaxis(self.samples, 0, -1)
        elif self.samples is not None:
            samples = self.samples[..., :3] if self.plan.mode == "RGB" else self.samples
        else:
            samples = np.asarray(self.image or Image.new(self.plan.mode, (self.width, self.height)))
        return samples if samples.ndim == 3 else samples[..., np.newaxis]

    def encode(self, stream: IO[bytes], *, quality: int, compress_level: int | None = None) -> None:
        """Write the file's bytes to ``stream`` in the plan's format."""
        plan = self.plan
        if plan.format == "NPY":
            np.save(stream, self.samples, allow_pickle=False)
            return
        if plan.pages:
            pages = [Image.fromarray(page) for page in self.samples]
            pages[0].save(stream, format="TIFF", save_all=True, append_images=pages[1:])
            return
        if plan.mode in _DEEP_COLOUR:
            fits = icc_fits(self.icc_profile, plan.mode.split(";")[0])
            write_png(stream, self.samples, icc_profile=self.icc_profile if fits else None,
                      level=6 if compress_level is None else compress_level)  # fmt: skip
            return
        options: dict[str, Any] = {}
        if carries_metadata(plan.format):
            if icc_fits(self.icc_profile, plan.mode):
                options["icc_profile"] = self.icc_profile
            if self.exif:
                options["exif"] = self.exif
        if takes_quality(plan.format):
            options["quality"] = quality
        if plan.format == "PNG" and compress_level is not None:
            options["compress_level"] = compress_level
        image = self.image or Image.new(plan.mode, (self.width, self.height))
        image.save(stream, format=plan.format, **options)
