"""Image input and output with Pillow: modes, bit depth, alpha, EXIF orientation, ICC.

Layout of the samples (:class:`Picture`): ``pixels`` is float32, ``(H, W)`` for one channel
and ``(H, W, C)`` for colour, in the natural range of the mode: 0..255 for 8-bit modes,
0..65535 for 16-bit ``I;16``, raw values for ``I`` and ``F``. Alpha is a separate float32
``(H, W)`` plane in 0..1; colour is straight (not premultiplied).

A filter run goes::

    picture = read_image(path)
    colour = premultiply(picture.pixels, picture.alpha) if picture.has_alpha else picture.pixels
    colour, alpha = filter(colour), filter(picture.alpha)   # same kernel for alpha (default)
    colour = unpremultiply(colour, alpha)
    colour = map_range(colour, rule=default_rule(zero_sum=...), max_value=top)
    write_image(picture.with_pixels(colour, alpha=alpha), out)

Filtering colour premultiplied by alpha keeps the hidden colour of transparent pixels from
bleeding into visible edges as a dark halo. The CLI filters alpha with the same kernel by
default; on request it leaves alpha untouched, and then colour is filtered straight.
``top`` is ``picture.max_value``; for ``I`` and ``F`` pictures (no fixed range) it is the
range of the output, ``plan_output(out, ...).max_value``, and no mapping is needed when that
is None (float TIFF, ``.npy``).

Writing: the suffix picks the format; bit depth and mode are kept where the format allows
(:func:`plan_output` says how); files appear whole or not at all; outputs are not
overwritten without ``overwrite=True``, and the input never is.
"""

from ._canvas import Canvas
from ._colour import luma_chroma, rgb_from_luma_chroma, srgb_decode, srgb_encode
from ._formats import DEPTHS, SUPPORTED_SUFFIXES, OutputPlan, plan_output
from ._picture import MODES, Picture, channels_to_mode, image_bytes, max_value_of
from ._read import check_max_pixels, read_image
from ._source import Probe, Source, decode_file, open_image, probe, read_mask
from ._values import (
    RangeRule,
    default_rule,
    finite_bounds,
    map_range,
    montage,
    premultiply,
    quantize,
    transform_range,
    unpremultiply,
)
from ._write import (
    DEFAULT_QUALITY,
    check_compress_level,
    check_quality,
    save_canvas,
    write_atomic,
    write_image,
)

__all__ = [
    "DEFAULT_QUALITY",
    "DEPTHS",
    "MODES",
    "SUPPORTED_SUFFIXES",
    "Canvas",
    "OutputPlan",
    "Picture",
    "Probe",
    "RangeRule",
    "Source",
    "channels_to_mode",
    "check_compress_level",
    "check_max_pixels",
    "check_quality",
    "decode_file",
    "default_rule",
    "finite_bounds",
    "image_bytes",
    "luma_chroma",
    "map_range",
    "max_value_of",
    "montage",
    "open_image",
    "plan_output",
    "premultiply",
    "probe",
    "quantize",
    "read_image",
    "read_mask",
    "rgb_from_luma_chroma",
    "save_canvas",
    "srgb_decode",
    "srgb_encode",
    "transform_range",
    "unpremultiply",
    "write_atomic",
    "write_image",
]
