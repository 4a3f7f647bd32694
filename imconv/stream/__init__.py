"""One image through a recipe: plan the chain once per geometry, then read, filter, write.

:class:`Recipe` says what to do to every image (kernels, engine options, output settings),
:class:`Planner` keeps the engine plans of each step per image geometry, :class:`Chain`
runs the steps band by band, and :func:`process_file` streams one file from decode to
encode, recording each stage in an :class:`ImageRecord`. No terminal code and no batch
logic here.
"""

from ._chain import Chain
from ._image import Clock, PlannedImage, PlannedStep, filter_pixels, plan_image, process_file
from ._memory import PeakMemory
from ._recipe import DEPTHS, PHOTO_OPTIONS, AlphaRule, Channels, OutputSettings, Recipe
from ._record import ImageRecord, StageTime
from ._routes import Routes
from ._steps import Planner, StepPlans, delta_like

__all__ = [
    "DEPTHS",
    "PHOTO_OPTIONS",
    "AlphaRule",
    "Chain",
    "Channels",
    "Clock",
    "ImageRecord",
    "OutputSettings",
    "PeakMemory",
    "PlannedImage",
    "PlannedStep",
    "Planner",
    "Recipe",
    "Routes",
    "StageTime",
    "StepPlans",
    "delta_like",
    "filter_pixels",
    "plan_image",
    "process_file",
]
