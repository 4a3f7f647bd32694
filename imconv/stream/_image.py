"""One image through a recipe: read, prepare, every step, alpha, map, write; timed by stage.

``read -> prepare -> step 1 ... step n -> alpha -> map -> write``: the image is read,
colour premultiplied by alpha when alpha goes through the kernels, each step runs its
plans (recording the algorithm and why), the result is mapped to the output range and
written atomically. No terminal code: :mod:`imconv.report` renders the records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from imconv import images

from ._recipe import Recipe
from ._record import ImageRecord
from ._steps import Planner, StepPlans


@dataclass(frozen=True)
class PlannedStep:
    """What ``--dry-run`` says of one step: its name, shapes, and the plan of its first part."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    plans: StepPlans


def _verified(steps: StepPlans, pixels: np.ndarray, result: np.ndarray) -> str:
    """``verify``: the step's result against ``direct`` on a band, as a sentence."""
    if steps.kernel.is_set:
        return "not verified (a kernel set)"
    error = steps.first.verify(pixels, result)
    return f"verified against direct: max error {error:.2g} of max|y|"


def filter_pixels(
    pixels: np.ndarray,
    recipe: Recipe,
    planner: Planner,
    record: ImageRecord,
    *,
    alpha: bool = False,
    timed: bool = True,
) -> np.ndarray:
    """Run every step on ``pixels`` (``(H, W)`` or ``(H, W, C)``); return ``(H', W', C')``.

    ``alpha`` runs the steps' delta kernels instead (alpha resampled, values kept);
    ``timed`` records a stage per step.
    """
    result = pixels if pixels.ndim == 3 else pixels[..., np.newaxis]
    for index, kernel in enumerate(recipe.kernels):
        steps = planner.step(index, result.shape, result.dtype, alpha=alpha)
        record.tuned.update(steps.tuned())
        if not timed:
            result = steps.run(result)
            continue
        with record.stage(f"step {index + 1}: {kernel.name}") as timing:
            filtered = steps.run(result)
            timing.algorithm, timing.reason = steps.describe()
            if recipe.verify:
                timing.reason = f"{timing.reason}; {_verified(steps, result, filtered)}"
        result = filtered
    return result


def plan_image(source: str, recipe: Recipe) -> list[PlannedStep]:
    """Plan every step for the image at ``source`` without computing anything.

    Choices come from the cost model (autotuning would have to run the candidates).
    """
    picture = images.read_image(source, max_pixels=recipe.output.max_pixels)
    shape = picture.pixels.shape if picture.pixels.ndim == 3 else (*picture.pixels.shape, 1)
    planner = Planner(replace(recipe, autotune=False))
    planned = []
    for index, kernel in enumerate(recipe.kernels):
        steps = planner.step(index, shape, np.dtype(np.float32))
        planned.append(PlannedStep(kernel.name, shape, steps.output_shape, steps))
        shape = steps.output_shape
    return planned


def process_file(source: str, destination: str, recipe: Recipe, planner: Planner) -> ImageRecord:
    """Read ``source``, run the recipe's steps, map the range, write ``destination``.

    ``planner`` keeps the plans of each step and image geometry (across the files of a
    batch); the record says what each stage took and what the plans decided.
    """
    settings = recipe.output
    record = ImageRecord(source, output=destination)
    with record.stage("read"):
        picture = images.read_image(source, max_pixels=settings.max_pixels)
    pixels, alpha = picture.pixels, picture.alpha
    record.height, record.width = pixels.shape[:2]
    record.channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    record.mode, record.notes = picture.mode, picture.notes
    through = alpha is not None and recipe.filters_alpha()
    with record.stage("prepare"):
        if through:
            pixels = images.premultiply(pixels, alpha)
    result = filter_pixels(pixels, recipe, planner, record)
    if alpha is not None:
        with record.stage("alpha"):
            filtered = filter_pixels(alpha, recipe, planner, record, alpha=not through, timed=False)
            alpha = np.clip(filtered[..., 0], 0, 1)
            if through:
                result = images.unpremultiply(result, alpha)
    channels = result.shape[-1]
    # A montage of several maps is one grey image, and montage() rescales each map itself.
    tiled = settings.montage and channels > 1
    output = images.plan_output(
        destination,
        channels=1 if tiled else channels,
        alpha=alpha is not None and not tiled,
        mode="L" if tiled else picture.mode,
    )
    # The range to map into: the picture's own (8/16-bit), else the output's; none for
    # outputs that store floats (.npy, float TIFF), which get the raw result.
    top = None if output.max_value is None or tiled else (picture.max_value or output.max_value)
    rule = settings.range_rule or images.default_rule(recipe.zero_sum)
    record.range_rule, record.output_shape = str(rule), result.shape
    with record.stage("map"):
        if top is not None or settings.range_rule is not None:
            result = images.map_range(result, rule=rule, max_value=top)
        else:
            record.range_rule = "none"
    with record.stage("write"):
        images.write_image(
            result[..., 0] if channels == 1 else result,
            destination,
            like=picture,
            alpha=alpha,
            quality=settings.quality,
            overwrite=settings.overwrite,
            montage=settings.montage,
        )
    return record
