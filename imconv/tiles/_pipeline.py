"""What every strip of one tiled image shares, and the work on one strip.

A :class:`Pipeline` holds the recipe's chains for the image's geometry (the stream's
:class:`~imconv.stream.Chain`: the same plans, so the same numbers), the padding's fill
(``mean``: the channel means of the whole input, found by a first pass), how results are
mapped (the range rule, with the whole result's bounds for ``rescale``) and stored (the
stream's :class:`~imconv.images.Canvas` rounding, one band at a time), and the output
strips. :meth:`Pipeline.band` mirrors the stream's ``_Stream.band`` line for line, through
the stream's own :class:`Routes` (the working channels: alpha premultiplied when it goes
through the kernels, linear light, luma, channels left out and resampled apart); the work
on whole strips is in ``_strips``.

A pipeline pickles to its recipe, its geometry and the algorithm each plan chose; a Dask
worker rebuilds the plans once and forces those algorithms, so that every worker computes
what this process would.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from imconv import images
from imconv.choices import Algorithm
from imconv.errors import InvalidParameterError
from imconv.stream import Chain, Planner, Recipe, Routes, StepPlans

from ._source import TiledImage

# Output modes whose samples are the colour rounded into 8 or 16 bits, nothing else.
_PLAIN = {"L": np.uint8, "RGB": np.uint8, "I;16": np.uint16}


def _rounded(colour: np.ndarray, dtype: Any, top: float) -> np.ndarray:
    """What :class:`~imconv.images.Canvas` stores for a plain 8- or 16-bit mode: clipped
    to ``[0, top]`` in float32, NaN as 0, rounded half to even; computed in place in
    ``colour`` (a band's own result) rather than through a Pillow image and back (7x
    faster on a 30000-wide band)."""
    work = colour if colour.dtype == np.float32 else colour.astype(np.float32)
    np.clip(work, 0, top, out=work)
    lost = np.isnan(work)
    if lost.any():
        work[lost] = 0
    np.rint(work, out=work)
    return work.astype(dtype)


@dataclass
class Mapping:
    """How results become stored samples: the range rule, its top and bounds."""

    rule: images.RangeRule
    top: float | None
    mapped: bool
    bounds: tuple[float, float] | None = None


@dataclass
class _Chains:
    """The plans of one process: the kernels' chain and the resampling chain (alpha kept,
    channels left out, chroma), as the stream has them."""

    chain: Chain
    resample: Chain | None


# A worker's plans, by pipeline: the last few images' (a long-lived worker serves many).
_BUILT: OrderedDict[str, _Chains] = OrderedDict()
_BUILT_KEPT = 4
_BUILT_LOCK = threading.Lock()


def _forced(chain: Chain, algorithms: tuple[tuple[str, ...], ...]) -> Chain:
    """``chain`` with each plan running the algorithm the planning process chose."""
    links = []
    for link, chosen in zip(chain.links, algorithms, strict=True):
        plans = tuple(
            plan if plan.algorithm == name else plan.with_algorithm(Algorithm(name))
            for plan, name in zip(link.plans, chosen, strict=True)
        )
        links.append(StepPlans(link.kernel, plans))
    return Chain(tuple(links), banded=chain.banded)


def _algorithms(chain: Chain | None) -> tuple[tuple[str, ...], ...]:
    if chain is None:
        return ()
    return tuple(tuple(p.algorithm.value for p in link.plans) for link in chain.links)


def _output_plan(image: TiledImage, recipe: Recipe, channels: int) -> images.OutputPlan | None:
    """How the stream would store these samples in a TIFF (a PNG's plan for 16-bit
    colour, which Pillow cannot put in a TIFF but tifffile can); None for layouts the
    stream does not read (their samples keep the input's type)."""
    depth = recipe.output.depth
    if image.mode is None:
        if depth is not None:
            raise InvalidParameterError(
                "depth", depth,
                f"None for {image.dtype.name} samples in {image.samples} channels (kept as read)",
            )  # fmt: skip
        return None
    options = {"channels": channels, "alpha": image.alpha, "mode": image.mode, "depth": depth}
    deep_colour = depth == "16" and (channels > 1 or image.alpha)
    return images.plan_output("tiles.png" if deep_colour else "tiles.tif", **options)


@dataclass
class Pipeline:
    """One image's filtering, shared by its strips (see the module's notes).

    Made by :meth:`make`; :attr:`strips` and :attr:`band_rows` are set by the sizing.
    """

    image: TiledImage
    recipe: Recipe
    routes: Routes
    mapping: Mapping
    plan: images.OutputPlan | None
    output_shape: tuple[int, int, int]
    algorithms: tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]
    described: tuple[tuple[str, str], ...]
    tuned: dict[str, str]
    stored_samples: int = 1
    stored_dtype: np.dtype = field(default_factory=lambda: np.dtype(np.uint8))
    strips: tuple[tuple[int, int], ...] = ()
    band_rows: int = 1
    cache: int = 2
    fill: np.ndarray | None = None
    resample_fill: np.ndarray | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    _chains: _Chains | None = field(default=None, repr=False, compare=False)

    # --- making ------------------------------------------------------------------------

    @classmethod
    def make(
        cls, image: TiledImage, recipe: Recipe, planner: Planner, *, threads: int | None = None
    ) -> Pipeline:
        """Plan the chains on ``image``'s geometry and decide how results are stored.

        ``planner`` (made for ``recipe``) chooses each step's algorithm, as the stream
        would for this image, and keeps its measurements. The strips run plans of
        ``threads`` engine threads (default the recipe's) forced to those algorithms, so
        that the samples do not depend on how many strips run at once, nor where.
        """
        if recipe.output.montage:
            raise InvalidParameterError(
                "montage", True, "False for an image filtered tile by tile",
                hint="write a .tif or .zarr of the maps instead",
            )  # fmt: skip
        routes = Routes.of(recipe, image.channels, image.alpha, image.max_value,
                           repr(image.path))  # fmt: skip
        chain, resample = Chain.of_routes(planner, routes, image.height, image.width, image.dtype)
        out_h, out_w, out_c = chain.output_shape
        if not routes.plain:  # the working channels are the image's, alpha apart
            out_c = routes.colours
        plan = _output_plan(image, recipe, out_c)
        links = [*chain.links, *(resample.links if resample else ())]
        same = threads is None or threads == recipe.options.threads
        pipeline = cls(
            image=image,
            recipe=recipe if same else recipe.with_options(threads=threads),
            routes=routes,
            mapping=_mapping(image, recipe, plan),
            plan=plan,
            output_shape=(out_h, out_w, out_c),
            algorithms=(_algorithms(chain), _algorithms(resample)),
            described=tuple(link.describe() for link in chain.links),
            tuned={key: value for link in links for key, value in link.tuned().items()},
            _chains=_Chains(chain, resample) if same else None,
        )
        alpha_row = np.zeros((1, out_w), np.float32) if image.alpha else None
        probe = pipeline.store(np.zeros((1, out_w, out_c), np.float32), alpha_row)
        pipeline.stored_samples, pipeline.stored_dtype = probe.shape[-1], probe.dtype
        return pipeline

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_chains"] = None  # plans hold locks; a worker rebuilds them (forced)
        return state

    @property
    def chains(self) -> _Chains:
        """This process's plans (rebuilt once per process from the recipe when unpickled)."""
        if self._chains is not None:
            return self._chains
        with _BUILT_LOCK:
            built = _BUILT.get(self.token)
            if built is None:
                planner = Planner(replace(self.recipe, autotune=False, verify=False))
                chain, resample = Chain.of_routes(
                    planner, self.routes, self.image.height, self.image.width, self.image.dtype
                )
                built = _Chains(
                    _forced(chain, self.algorithms[0]),
                    None if resample is None else _forced(resample, self.algorithms[1]),
                )
                _BUILT[self.token] = built
                while len(_BUILT) > _BUILT_KEPT:
                    _BUILT.popitem(last=False)
            self._chains = built
            return built

    def use_threads(self, threads: int) -> None:
        """Run the strips with ``threads`` engine threads (the same algorithms)."""
        self.release()
        self.recipe = self.recipe.with_options(threads=threads)

    def release(self) -> None:
        """Forget this process's plans of the pipeline (the end of a run here)."""
        with _BUILT_LOCK:
            _BUILT.pop(self.token, None)
        self._chains = None

    # --- what it says ------------------------------------------------------------------

    @property
    def steps(self) -> list[str]:
        """The stage name of each step: ``step 1: blur``."""
        return [f"step {i + 1}: {k.name}" for i, k in enumerate(self.recipe.kernels)]

    @property
    def stages(self) -> list[str]:
        """Every stage a strip is timed in, in order."""
        return ["read", "prepare", *self.steps, "alpha", "map"]

    @property
    def band_multiple(self) -> int:
        """Bands start on multiples of this: the last step's bit-exact rows."""
        return self.chains.chain.links[-1].first.band_multiple

    def needed(self, start: int, stop: int) -> np.ndarray:
        """The input rows output rows ``start:stop`` read (sorted, unique)."""
        held, _ = self.chains.chain.spans(start, stop)
        if self.chains.resample is None:
            return held
        more, _ = self.chains.resample.spans(start, stop)
        return np.union1d(held, more)

    # --- the work on rows --------------------------------------------------------------

    def work(self, samples: np.ndarray) -> np.ndarray:
        """The working channels of stored rows ``(n, W, S)`` (the routes' ``prepare``)."""
        if self.image.alpha:
            return self.routes.prepare(samples[..., :-1], samples[..., -1])
        return self.routes.prepare(samples, None)

    def filtered(self, work: np.ndarray) -> np.ndarray:
        """The kernels' channels of working rows."""
        return work if self.routes.plain else work[..., list(self.routes.filtered)]

    def resampled(self, work: np.ndarray) -> np.ndarray:
        """The resampled channels of working rows."""
        return work[..., list(self.routes.resampled)]

    def band(
        self, take: Any, start: int, stop: int, clock: Any
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Output rows ``start:stop``: colour in the picture's range, alpha in 0..1 (or
        None). ``take(indices)`` gives the stored input rows at those indices."""
        chains = self.chains
        last: list[Any] = [None, None]

        def working(indices: np.ndarray) -> np.ndarray:
            key = indices.tobytes()  # the resampling chain reads the rows just read
            if last[0] != key:
                last[:] = [key, self.work(take(indices))]
            return last[1]

        def read(rows: np.ndarray) -> np.ndarray:
            with clock("prepare"):
                return self.filtered(working(rows))

        seconds = [0.0] * len(self.steps)
        result = chains.chain.run(read, start, stop, fill=self.fill, seconds=seconds)
        for name, spent in zip(self.steps, seconds, strict=True):
            clock.seconds[name] += spent
        with clock("alpha"):
            resampled = None
            if chains.resample is not None:
                resampled = chains.resample.run(
                    lambda rows: self.resampled(working(rows)), start, stop,
                    fill=self.resample_fill,
                )  # fmt: skip
            return self.routes.assemble(result, resampled)

    def map(self, colour: np.ndarray) -> np.ndarray:
        """The range rule on a band (the stream's: the clip is left to the rounding)."""
        mapping = self.mapping
        if not mapping.mapped:
            return colour
        if mapping.top is None:
            return images.map_range(colour, rule=mapping.rule, max_value=None,
                                    bounds=mapping.bounds)  # fmt: skip
        return images.transform_range(colour, rule=mapping.rule, max_value=mapping.top,
                                      bounds=mapping.bounds, out=colour)  # fmt: skip

    def store(self, colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
        """A mapped band as the output stores it, ``(n, W', S')``: the stream's canvas
        rounding for its modes; clipped and rounded into the input's type otherwise."""
        rows, width, channels = colour.shape
        plan = self.plan
        if plan is not None and alpha is None and plan.mode in _PLAIN and plan.scale == 1.0:
            return _rounded(colour, _PLAIN[plan.mode], plan.max_value or 255.0)
        if self.plan is not None:
            canvas = images.Canvas(self.plan, height=rows, width=width, channels=channels)
            canvas.put(0, colour, alpha)
            return canvas.stored_samples()
        dtype = self.image.dtype
        if dtype.kind == "f":
            return colour.astype(dtype, copy=False)
        top = self.image.max_value or 255.0
        return images.quantize(colour, max_value=top).astype(dtype, copy=False)


def _mapping(image: TiledImage, recipe: Recipe, plan: images.OutputPlan | None) -> Mapping:
    """The stream's range decision for this image (``_write_bands``)."""
    settings = recipe.output
    rule = settings.range_rule or images.default_rule(recipe.zero_sum)
    if plan is not None:
        top = None if plan.max_value is None else (image.max_value or plan.max_value)
    else:
        top = image.max_value if image.dtype.kind == "u" else None
    mapped = top is not None or settings.range_rule is not None
    return Mapping(rule, top, mapped)
