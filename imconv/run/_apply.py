"""``imconv.apply``: everything ``imconv apply`` does, as one library call.

Options arrive as Python values, are validated once into a :class:`~imconv.stream.Recipe`
(kernels, :class:`~imconv.engine.ConvOptions`, output settings), every output is decided
and checked before any work, the thread rule is applied once, the batch runs, autotuning
choices are saved once, the JSON report is written, and a :class:`RunResult` says what
happened and with which exit status. The command line only parses, calls this, renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from imconv import early
from imconv.batch import (
    FALLBACK_SUFFIX,
    STDIO,
    Batch,
    BatchTask,
    Existing,
    Naming,
    Outcome,
    Selection,
    assign_outputs,
    by_tiles,
    check_report,
    make_folder,
    run_batch,
    worker_count,
)
from imconv.choices import LOCAL_SCHEDULER as LOCAL
from imconv.choices import PHOTO_PADDING, NanTreatment, Operation
from imconv.engine import ConvOptions
from imconv.environment import cores
from imconv.errors import (
    ImageReadError,
    ImconvError,
    InvalidParameterError,
    KernelError,
)
from imconv.images import probe
from imconv.kernels import Kernel, load_kernel
from imconv.stream import OutputSettings, Recipe, plan_image

from ._document import report_document, write_report
from ._memory import check_memory
from ._result import RunResult

if TYPE_CHECKING:
    from imconv.tiles import TileProgress

KernelLike = Kernel | str | PathLike[str]


class Listener(Protocol):
    """Follows a batch as it runs (the command line's progress bar is one)."""

    def start(self, batch: Batch) -> None:
        """The outputs are decided; ``batch.jobs`` are about to run."""

    def advance(self, outcome: Outcome) -> None:
        """One job finished (written, failed, or interrupted)."""

    def stop(self) -> None:
        """The run is over (also after an error or Ctrl-C)."""

    def strips(self, progress: TileProgress) -> None:
        """A strip of an image filtered tile by tile in this process was written."""


def _kernel(value: KernelLike, normalize: bool, combine: str | None) -> Kernel:
    """A kernel loaded (its set combined by ``combine`` when given), normalized if asked."""
    if isinstance(value, Kernel):
        kernel = value if combine is None or not value.is_set else value.with_combine(combine)
    elif combine is None:
        kernel = load_kernel(value)
    else:
        try:
            kernel = load_kernel(value, combine=combine)
        except KernelError:  # a single kernel of the chain: the rule is for its sets
            kernel = load_kernel(value)  # (and raises again if it was something else)
    return kernel.normalized() if normalize else kernel


def _sequence(value: Any, name: str) -> tuple[Any, ...]:
    """A list option given as one value or a sequence of them (``then``, ``include``...)."""
    if value is None:
        return ()
    if isinstance(value, str | PathLike | Kernel):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(value)
    raise InvalidParameterError(name, value, "a string or a sequence of strings")


def make_recipe(
    kernel: KernelLike,
    *,
    then: Any = (),
    normalize: bool = False,
    combine: str | None = None,
    correlate: bool = False,
    autotune: bool = False,
    verify: bool = False,
    linear: bool = False,
    channels: str | None = None,
    range: str | None = None,
    alpha: str = "auto",
    quality: int | None = None,
    compress_level: int | None = None,
    depth: str | int | None = None,
    montage: bool = False,
    overwrite: bool = False,
    max_pixels: int | None = None,
    mask: str | PathLike[str] | None = None,
    **options: Any,
) -> Recipe:
    """The recipe of a run: kernels loaded, every option validated once.

    ``options`` are the engine's (:class:`~imconv.engine.ConvOptions` fields), with the
    image defaults (reflect padding, channels last); a ``mask`` implies ``nan="ignore"``.
    """
    if mask is not None:
        mask = str(mask)
        try:  # a missing or unreadable mask stops the run before any work
            probe(mask)
        except ImageReadError as error:
            raise ImageReadError(f"the mask: {error.message}") from error
        options.setdefault("nan", NanTreatment.IGNORE)
    named = (kernel, *_sequence(then, "then"))
    kernels = tuple(_kernel(k, normalize, combine) for k in named)
    if combine is not None and not any(k.is_set for k in kernels):
        raise InvalidParameterError(
            "combine", combine, "given with a kernel set (sobel, kirsch, compass, an "
            "ImageMagick kernel list)"
        )  # fmt: skip
    output = OutputSettings(
        range_rule=range,
        alpha=alpha,
        quality=quality,
        compress_level=compress_level,
        depth=None if depth is None else str(depth),
        montage=montage,
        overwrite=overwrite,
        max_pixels=max_pixels,
    )
    return Recipe(
        kernels=kernels,
        options=ConvOptions(channel_axis=-1, **{"padding": PHOTO_PADDING, **options}),
        operation=Operation.CORRELATE if correlate else Operation.CONVOLVE,
        autotune=autotune,
        verify=verify,
        linear=linear,
        channels=channels,
        output=output,
        mask=mask,
    )


def _batch(
    recipe: Recipe, inputs: tuple[str, ...], output: str | None, choices: dict[str, Any]
) -> Batch:
    """Every job with its output decided and every conflict refused, before any work."""
    if not inputs:
        raise InvalidParameterError("inputs", inputs, "at least one file, folder or pattern")
    existing = Existing.from_flags(
        overwrite=recipe.output.overwrite, skip_existing=choices["skip_existing"]
    )
    naming = Naming.parse(slug=recipe.slug, suffix=choices["suffix"], format=choices["format"])
    selection = Selection(
        choices["recursive"],
        _sequence(choices["include"], "include"),
        _sequence(choices["exclude"], "exclude"),
    )
    return assign_outputs(inputs, output, naming=naming, selection=selection, existing=existing)


def _threads(
    requested: int | None, workers: int, scheduler: str | None, warnings: list[str]
) -> int:
    """Engine threads per image: as asked (at most the cores, on this machine), else one
    per process when several run at once (N workers on N cores), else every core."""
    if requested is not None:
        if requested > cores() and scheduler in (None, LOCAL):
            warnings.append(
                f"`threads` {requested} is more than the {cores()} cores: using {cores()}"
            )
            return cores()
        return requested
    return 1 if workers > 1 or scheduler is not None else cores()


def _workers(
    batch: Batch, requested: int | None, scheduler: str | None, warnings: list[str]
) -> int:
    """Processes: at most one per file (:func:`worker_count`); a warning when more were asked
    than this machine has cores (each file then runs slower)."""
    if batch.single:
        return 1
    workers = worker_count(len(batch.jobs), requested, scheduler)
    if requested is not None and workers > cores() and scheduler in (None, LOCAL):
        warnings.append(
            f"`workers` {workers} is more than the {cores()} cores: the files share them, "
            "each runs slower (the default is one worker per core)"
        )
    return workers


def _fallbacks(batch: Batch, naming_format: str | None) -> str | None:
    """One warning for the inputs written as PNG: formats imconv reads but cannot write."""
    if naming_format is not None:
        return None
    from imconv.images import SUPPORTED_SUFFIXES

    suffixes = sorted(
        {
            Path(job.source).suffix.lower() or "files without a suffix"
            for job in batch.jobs
            if STDIO not in (job.source, job.destination)
            and Path(job.source).suffix.lower() not in SUPPORTED_SUFFIXES
            and Path(job.destination).suffix.lower() == FALLBACK_SUFFIX
        }
    )
    if not suffixes:
        return None
    return f"imconv does not write {', '.join(suffixes)}: those outputs are written as PNG"


def apply(
    kernel: KernelLike,
    *inputs: str | PathLike[str],
    output: str | PathLike[str] | None = None,
    report: str | PathLike[str] | None = None,
    skip_existing: bool = False,
    recursive: bool = False,
    include: Any = (),
    exclude: Any = (),
    format: str | None = None,
    suffix: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
    memory: str | int | None = None,
    tiles: bool = False,
    dry_run: bool = False,
    listener: Listener | None = None,
    check: bool = False,
    **options: Any,
) -> RunResult:
    """Filter image files with a kernel (chain): what ``imconv apply`` does, as a call.

    Parameters
    ----------
    kernel : Kernel, str or path
        A preset (``"gaussian:sigma=2"``), a kernel file, an inline matrix, or a Kernel.
    *inputs : str or path
        Image files, folders, glob patterns, or ``"-"`` for standard input.
    output : str or path, optional
        A file, a folder (several inputs: the tree is mirrored below it), or ``"-"``;
        default: ``photo_<kernel>.ext`` beside each input.
    report : str or path, optional
        Write the JSON timing report there.
    skip_existing, recursive, include, exclude, format, suffix
        As the command's ``--skip-existing`` ... ``--suffix``.
    workers : int, optional
        Processes for a batch (default: the cores).
    scheduler : str, optional
        ``"local"`` or a Dask scheduler's address.
    threads : int, optional
        Engine threads per image (default: every core for one process, else one).
    memory : str or int, optional
        The memory budget of the process (``"512MiB"``, ``"2GB"`` or bytes): an image that
        would not fit is filtered tile by tile (TIFF in, tiled BigTIFF out: the ``tiles``
        extra). Default: TIFF inputs are checked against
        :data:`imconv.tiles.DEFAULT_FRACTION` of the available memory, photos are not.
    tiles : bool
        Filter every image tile by tile (TIFF or Zarr in, tiled BigTIFF or Zarr out).
    dry_run : bool
        Plan each step of each input and write nothing (``RunResult.planned``).
    listener : Listener, optional
        Told when the batch starts, as each file finishes, and when the run stops.
    check : bool
        Raise the first error (:meth:`RunResult.check`) instead of returning it.
    **options
        ``then`` (more kernels), ``mode``, ``padding`` (default ``"reflect"``), ``cval``,
        ``stride``, ``dilation``, ``algorithm``, ``correlate``, ``normalize``, ``range``,
        ``alpha``, ``quality``, ``montage``, ``overwrite``, ``autotune``, ``verify``,
        ``max_pixels``, ``nan``, ``mask``: the command's options of the same names, as
        Python values.

    Returns
    -------
    RunResult
        Per-file outcomes, threads and workers, timings and ``exit_status``. Errors that
        stop the run before any work (a bad option, an existing output) are returned in
        ``error`` (status 2 for usage, 1 otherwise), unless ``check``.

    Examples
    --------
    >>> result = apply("blur", "samples/coffee.png", output="coffee_soft.png")  # doctest: +SKIP
    >>> result.exit_status, result.records[0].output  # doctest: +SKIP
    (<ExitStatus.SUCCESS: 0>, 'coffee_soft.png')
    """
    result = RunResult()
    try:
        _apply(
            result,
            kernel,
            tuple(map(str, inputs)),
            None if output is None else str(output),
            report=None if report is None else Path(report),
            dry_run=dry_run,
            run={
                "workers": workers,
                "scheduler": scheduler,
                "threads": threads,
                "memory": memory,
                "tiles": tiles,
            },
            choices={
                "skip_existing": skip_existing,
                "recursive": recursive,
                "include": include,
                "exclude": exclude,
                "format": format,
                "suffix": suffix,
            },
            listener=listener,
            options=options,
        )
    except ImconvError as error:
        result.error = error
    finally:
        early.forget()  # the photo decoded while starting, when no job claimed it
    return result.check() if check else result


def _apply(
    result: RunResult,
    kernel: KernelLike,
    inputs: tuple[str, ...],
    output: str | None,
    *,
    report: Path | None,
    dry_run: bool,
    run: dict[str, Any],
    choices: dict[str, Any],
    listener: Listener | None,
    options: dict[str, Any],
) -> None:
    """The run, filling ``result`` as it goes (so an error keeps what was decided)."""
    recipe = result.recipe = make_recipe(kernel, **options)
    scheduler = run["scheduler"]
    if scheduler is not None:
        from imconv.batch.cluster import require

        require(scheduler)
    batch = _batch(recipe, inputs, output, choices)
    result.single = batch.single
    result.jobs = list(batch.jobs)
    if report is not None:
        check_report(report, batch.jobs, overwrite=recipe.output.overwrite)
    if (fallback := _fallbacks(batch, choices["format"])) is not None:
        result.warnings.append(fallback)
    workers = _workers(batch, run["workers"], scheduler, result.warnings)
    result.workers, result.scheduler = workers, None if batch.single else scheduler
    result.threads = _threads(run["threads"], workers, result.scheduler, result.warnings)
    recipe = result.recipe = recipe.with_options(threads=result.threads)
    if dry_run:
        result.planned = [plan_image(job.source, job.destination, recipe) for job in batch.jobs]
        return
    store = _store(recipe)
    task = BatchTask(recipe, store=dict(store or {}), **_tiling(run["memory"], run["tiles"]))
    if result.scheduler is None or result.scheduler == LOCAL:
        check_memory([job for job in batch.jobs if not by_tiles(job.source, task)], recipe)
    _make_output_folders(batch)
    if listener is not None:
        listener.start(batch)
    advance = None if listener is None else listener.advance
    strips = None if listener is None else listener.strips
    try:
        result.batch = run_batch(
            batch,
            task,
            workers=workers,
            scheduler=result.scheduler,
            on_outcome=advance,
            on_strip=strips,
        )
    finally:
        if listener is not None:
            listener.stop()
    if store is not None:
        for record in result.records:
            store.update(record.tuned)
        store.save()
    if report is not None:
        document = report_document(
            recipe,
            result.batch,
            threads=result.threads,
            single=batch.single,
            warnings=result.warnings,
        )
        make_folder(report.parent)  # allowed by check_report: below the output folder
        write_report(report, document)
        result.report = report


def _tiling(memory: str | int | None, tiles: bool) -> dict[str, Any]:
    """``memory`` in bytes (text such as ``"512MiB"`` parsed) and ``tiles``, for BatchTask."""
    if memory is not None:
        from imconv.tiles import parse_memory

        memory = parse_memory(memory)
    if not isinstance(tiles, bool):
        raise InvalidParameterError("tiles", tiles, "True or False")
    return {"memory": memory, "tiles": tiles}


def _make_output_folders(batch: Batch) -> None:
    """Make the output folder of a batch (and its parents) when missing, as ``cp -r`` does."""
    for root in sorted({job.root for job in batch.jobs if job.root is not None}):
        make_folder(Path(root))


def _store(recipe: Recipe) -> Any:
    """The disk store of autotuning choices, when this run autotunes (loaded once)."""
    if not recipe.autotune:
        return None
    from imconv.tuning import DiskStore

    return DiskStore()
