"""`imconv apply`: options in, steps and jobs to the library, tables and statuses out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imconv.choices import PHOTO_PADDING, Algorithm, Mode, NanTreatment, Padding
from imconv.errors import ExitStatus

from ._app import KernelCommand, app, fail, parse_pair, run_guarded, show, stderr, stdout, warn

if TYPE_CHECKING:  # the numeric stack loads when a command runs, not for --help
    from imconv.batch import BatchResult
    from imconv.run import RunResult

KERNEL_HELP = (
    "A preset with optional parameters (blur, gaussian:sigma=2, box:size=7, sobel-x), a "
    "kernel file (.txt .csv .json .toml .npy, libvips .mat), an inline matrix "
    '("0 1 0; 1 4 1; 0 1 0") or an ImageMagick kernel ("3x3: 0,1,0 1,4,1 0,1,0"). '
    "See `imconv kernels`."
)


@app.command(no_args_is_help=True, cls=KernelCommand)
def apply(
    context: typer.Context,
    kernel: Annotated[str, typer.Argument(help=KERNEL_HELP, show_default=False)],
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="Image files, folders or quoted glob patterns ('photos/*.jpg'); - reads stdin.",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Output file, folder (several inputs), or - "
            "for PNG on stdout. Default: photo_<kernel>.ext beside the input.",
        ),
    ] = None,
    then: Annotated[
        list[str] | None,
        typer.Option("--then", metavar="KERNEL", help="Apply another kernel after; repeatable."),
    ] = None,
    mode: Annotated[Mode, typer.Option(help="Output size.", case_sensitive=False)] = Mode.SAME,
    padding: Annotated[
        Padding,
        typer.Option(
            case_sensitive=False,
            help="Border extension (strip a b c d): zero "
            "0 0|a b c d|0 0, constant v v|..., reflect c b|a b c d|c b, symmetric "
            "b a|a b c d|d c, replicate a a|a b c d|d d, wrap c d|a b c d|a b, mean "
            "m m|a b c d|m m. Default reflect: photos have no black frame.",
        ),
    ] = PHOTO_PADDING,
    cval: Annotated[float, typer.Option(help="Value for --padding constant.")] = 0.0,
    stride: Annotated[str, typer.Option(metavar="N|N,M", help="Keep every N-th output.")] = "1",
    dilation: Annotated[str, typer.Option(metavar="N|N,M", help="Spacing of kernel taps.")] = "1",
    correlate: Annotated[
        bool, typer.Option("--correlate", help="Correlate (do not flip the kernel).")
    ] = False,
    algorithm: Annotated[
        Algorithm, typer.Option(case_sensitive=False, help="auto picks the fastest.")
    ] = Algorithm.AUTO,
    normalize: Annotated[
        bool, typer.Option("--normalize", help="Divide each kernel by its sum.")
    ] = False,
    combine: Annotated[
        str | None,
        typer.Option(
            metavar="magnitude|max|min|sum",
            help="Combine the parts of a kernel set per pixel by this rule (sobel, kirsch, "
            "compass, ImageMagick lists 'k1;k2', which are otherwise applied in turn).",
        ),
    ] = None,
    linear: Annotated[
        bool,
        typer.Option(
            "--linear",
            help="Filter in linear light: the sRGB curve undone before, redone after "
            "(8- and 16-bit images; alpha untouched).",
        ),
    ] = False,
    channels: Annotated[
        str | None,
        typer.Option(
            metavar="r,g,b,a|l",
            help="Filter only these channels (the others pass through), or l for "
            "luminance only (colour kept: no colour fringes).",
        ),
    ] = None,
    depth: Annotated[
        str | None,
        typer.Option(
            metavar="8|16|32f",
            help="Output depth (default: the input's): 16 keeps the fractions 8 bits "
            "round away (PNG, TIFF, PGM); 32f writes raw floats (TIFF, .npy).",
        ),
    ] = None,
    range: Annotated[
        str | None,
        typer.Option(
            "--range",
            metavar="clip|abs|offset|rescale",
            help="Map results to the output range: clip (default for kernels that "
            "sum to non-zero), abs (default for zero-sum edge kernels), offset (add "
            "mid-grey), rescale (min..max to full range).",
        ),
    ] = None,
    alpha: Annotated[
        str,
        typer.Option(
            metavar="auto|filter|keep",
            help="Alpha: filter it with the kernel, colour premultiplied so blurs "
            "leave no dark halos (auto does this unless the kernels sum to zero or add "
            "a bias); or keep its values.",
        ),
    ] = "auto",
    nan: Annotated[
        NanTreatment | None,
        typer.Option(
            case_sensitive=False,
            help="Float images (32-bit TIFF): propagate (default) spreads a NaN over the "
            "kernel's footprint; ignore treats NaN as missing and averages the valid "
            "neighbours (normalized convolution).",
        ),
    ] = None,
    mask: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="A black-and-white image of the input's size, white = valid: black pixels "
            "are missing data, filled from their valid neighbours (implies --nan ignore).",
        ),
    ] = None,
    quality: Annotated[int | None, typer.Option(min=1, max=100, help="JPEG/WebP quality.")] = None,
    compress_level: Annotated[
        int | None,
        typer.Option(min=0, max=9, help="PNG compression effort, 0 (fast) to 9 (default 6)."),
    ] = None,
    montage: Annotated[
        bool, typer.Option("--montage", help="Kernel banks: tile the feature maps in a PNG.")
    ] = False,
    timing: Annotated[bool, typer.Option("--timing", help="Timing table on stderr.")] = False,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE.json", help="Write timings as JSON.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing outputs (never an input).")
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option("--skip-existing", help="Keep existing outputs and write the others."),
    ] = False,
    recursive: Annotated[bool, typer.Option("--recursive", help="Descend into folders.")] = False,
    include: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATTERN",
            help="In folders and patterns, take only files matching PATTERN ('*.jpg'; "
            "with a / it matches the path below the folder); repeatable.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATTERN", help="Leave out files (and folders) matching PATTERN; repeatable."
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="EXT", help="Format of generated names (png, jpg, tiff...)."
        ),
    ] = None,
    suffix: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Added to output names (default _<kernel>); '' keeps the input's name.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes for a batch (default: the number of cores); each runs the "
            "engine on one thread when there are several.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="local|tcp://HOST:PORT",
            help="Run the batch on Dask (the dask extra): local starts a cluster of --workers "
            "processes; an address uses a running scheduler (shared files).",
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Engine threads per image (default: all cores).")
    ] = None,
    autotune: Annotated[
        bool,
        typer.Option(
            "--autotune/--no-autotune",
            help="With --algorithm auto: time the candidates on the real image and keep the "
            "fastest, cached on disk for later runs and every file of a batch (see `imconv "
            "tuning`). Default: the cost model.",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check each step against direct on a band; the max "
            "error goes in the --timing table and the report.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the plan (algorithm, estimated operations "
            "and peak memory per step) and write nothing.",
        ),
    ] = False,
    max_pixels: Annotated[
        int | None, typer.Option(min=1, help="Largest image accepted (Pillow's bomb limit).")
    ] = None,
    memory: Annotated[
        str | None,
        typer.Option(
            metavar="SIZE",
            help="Memory budget of the process (512MiB, 2GB): an image that would not fit "
            "is filtered tile by tile (TIFF in, tiled BigTIFF out; the tiles extra). "
            "Default: TIFF inputs are checked against half the available memory.",
        ),
    ] = None,
    tiles: Annotated[
        bool,
        typer.Option(
            "--tiles",
            help="Filter tile by tile whatever the size: tiled TIFF or Zarr in, tiled "
            "BigTIFF or Zarr out.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="A line per file of a batch.")
    ] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the stack on errors.")
    ] = False,
) -> None:
    """Apply KERNEL to each INPUT and write the results.

    [b]Examples[/b]

      imconv apply blur photo.jpg

      imconv apply box:size=15 photo.jpg -o smooth.png --timing

      imconv apply sobel photo.jpg --padding replicate --range rescale

      imconv apply gaussian:sigma=2 photos/ -o out/ --recursive --include '*.jpg'

      imconv apply gaussian:sigma=4 photo.jpg --linear        [dim]# blur in linear light[/dim]

      imconv apply sharpen photo.jpg --channels l            [dim]# lightness only[/dim]

      imconv apply kirsch photo.png --depth 16 -o edges.png
    """

    def work() -> ExitStatus:
        from imconv import report as reports
        from imconv.run import apply as run

        if not quiet:
            from imconv.kernels import preset_warnings

            for warning in preset_warnings():
                warn(warning)
        progress = reports.BatchProgress(
            stderr, bar=stderr.is_terminal and not quiet, lines=verbose and not quiet
        )
        result = run(
            kernel,
            *inputs,
            output=output,
            then=then,
            mode=mode,
            padding=padding,
            cval=cval,
            stride=parse_pair(stride, "stride"),
            dilation=parse_pair(dilation, "dilation"),
            correlate=correlate,
            algorithm=algorithm,
            normalize=normalize,
            combine=combine,
            linear=linear,
            channels=channels,
            depth=depth,
            range=range,
            alpha=alpha,
            quality=quality,
            compress_level=compress_level,
            montage=montage,
            report=report,
            overwrite=overwrite,
            skip_existing=skip_existing,
            recursive=recursive,
            include=include,
            exclude=exclude,
            format=format,
            suffix=suffix,
            workers=workers,
            scheduler=scheduler,
            threads=threads,
            autotune=autotune,
            verify=verify,
            dry_run=dry_run,
            max_pixels=max_pixels,
            memory=memory,
            tiles=tiles,
            mask=mask,
            **({} if nan is None else {"nan": nan}),
            listener=progress,
        )
        if traceback and result.errors:
            raise result.errors[0]
        return render(result, timing=timing, quiet=quiet, verbose=verbose)

    run_guarded(work, context, traceback=traceback)


def render(result: RunResult, *, timing: bool, quiet: bool, verbose: bool) -> ExitStatus:
    """Print what the run did: its error, plans, timings, warnings, failures, what was not
    done, the summary; return its exit status."""
    from imconv import report as reports

    status = result.exit_status
    if result.error is not None:
        return fail(result.error)
    if not quiet:
        for warning in result.warnings:
            warn(warning)
    for planned in result.planned:
        show(stdout, reports.plan_table(planned))
    batch = result.batch
    if batch is None:
        return status
    if not quiet:
        for source, note in result.notes:
            warn(f"{source}: {note}")
    if timing and not quiet:
        if result.single or verbose:
            for record in batch.records:
                show(stderr, reports.timing_table(record))
        if not result.single and batch.records:
            caption = reports.throughput(batch)
            show(stderr, reports.summary_table(batch.records, caption=caption))
    if result.single:
        _render_single(batch, quiet=quiet)
        return status
    _render_failures(batch.failures)
    _render_unfinished(result)
    if not quiet:
        stderr.print(reports.batch_summary(batch), markup=False)
    if batch.interrupted:
        another = " (and another --report name)" if result.report is not None else ""
        stderr.print(
            f"imconv: interrupted: {len(batch.records)} written, {batch.not_done} not done; "
            f"the same command with --skip-existing{another} finishes the set",
            markup=False,
        )
    return status


def _render_single(batch: BatchResult, *, quiet: bool) -> None:
    """One named input: its error (with its hint), or that it was kept or interrupted."""
    if batch.interrupted:
        stderr.print("imconv: interrupted", markup=False)
    elif batch.errors:
        fail(batch.errors[0])  # one image: its error and hint, but it is not a usage error
    elif batch.existing and not quiet:
        stderr.print("imconv: the output exists and was kept (--skip-existing)", markup=False)


def _render_failures(failures: list[tuple[str, str]]) -> None:
    """The failed files: a table on a terminal; elsewhere one plain line each,
    ``imconv: PATH: message``, whole paths, for grep and logs."""
    from imconv import report as reports

    if not failures:
        return
    if stderr.is_terminal:
        stderr.print(reports.failure_table(failures))
        return
    for source, reason in failures:
        stderr.print(f"imconv: {source}: {reason}", markup=False)


#: On a terminal, at most this many unfinished files are named (all of them elsewhere).
SHOWN_UNFINISHED = 10


def _render_unfinished(result: RunResult) -> None:
    """The files whose output is missing, one line each (on a terminal, the first few)."""
    unfinished = result.unfinished
    shown = unfinished[:SHOWN_UNFINISHED] if stderr.is_terminal else unfinished
    for job in shown:
        stderr.print(f"imconv: {job.source}: not done (interrupted)", markup=False)
    if len(shown) < len(unfinished):
        more = len(unfinished) - len(shown)
        where = "; the report lists them all" if result.report is not None else ""
        stderr.print(f"imconv: and {more} more not done{where}", markup=False)
