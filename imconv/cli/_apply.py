"""`imconv apply`: options in, steps and jobs to the library, tables and statuses out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imconv.choices import Algorithm, Mode, Padding

from ._app import ExitStatus, app, fail, parse_pair, run_guarded, stderr, stdout

if TYPE_CHECKING:  # the numeric stack loads when a command runs, not for --help
    from imconv import batch, pipeline

KERNEL_HELP = (
    "A preset with optional parameters (blur, gaussian:sigma=2, box:size=7, sobel-x), a "
    "kernel file (.txt .csv .json .toml .npy, libvips .mat), an inline matrix "
    '("0 1 0; 1 4 1; 0 1 0") or an ImageMagick kernel ("3x3: 0,1,0 1,4,1 0,1,0"). '
    "See `imconv kernels`."
)


@app.command(no_args_is_help=True)
def apply(
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
    ] = Padding.REFLECT,
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
    range_rule: Annotated[
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
    quality: Annotated[int | None, typer.Option(min=1, max=100, help="JPEG/WebP quality.")] = None,
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
    output_format: Annotated[
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
    """

    def work() -> ExitStatus:
        from imconv import batch, pipeline

        options = pipeline.StepOptions(
            mode=mode, padding=padding, cval=cval, stride=parse_pair(stride, "--stride"),
            dilation=parse_pair(dilation, "--dilation"), correlate=correlate,
            algorithm=algorithm, autotune=autotune, verify=verify,
        )  # fmt: skip
        steps = load_steps([kernel, *(then or [])], options, normalize=normalize)
        settings = pipeline.OutputSettings.parse(
            range_rule=range_rule, alpha=alpha, quality=quality, montage=montage,
            overwrite=overwrite, max_pixels=max_pixels, threads=threads,
        )  # fmt: skip
        existing = batch.Existing.from_flags(overwrite=overwrite, skip_existing=skip_existing)
        naming = batch.Naming.parse(slug="_".join(step.kernel.slug for step in steps),
                                    suffix=suffix, format=output_format)  # fmt: skip
        selection = batch.Selection(recursive, tuple(include or ()), tuple(exclude or ()))
        if scheduler is not None:
            from imconv import cluster

            cluster.require(scheduler)
        plan = batch.plan_jobs(inputs, output, naming=naming, selection=selection,
                               existing=existing)  # fmt: skip
        if dry_run:
            return print_dry_run(plan, steps, settings)
        if report is not None:
            batch.check_report(report, plan.jobs)
        result = run_plan(plan, steps, settings, workers=workers, scheduler=scheduler,
                          quiet=quiet, verbose=verbose)  # fmt: skip
        status = render_result(result, steps, timing=timing, report=report, quiet=quiet,
                               single=plan.single, threads=threads, verbose=verbose)  # fmt: skip
        if traceback and result.errors:
            raise result.errors[0]
        return status

    run_guarded(work, traceback=traceback)


def print_dry_run(
    plan: batch.Plan, steps: list[pipeline.FilterStep], settings: pipeline.OutputSettings
) -> ExitStatus:
    """``--dry-run``: each input's plan on stdout; nothing is computed or written."""
    from imconv import pipeline
    from imconv import report as reports

    for job in plan.jobs:
        stdout.print(reports.plan_table(job.source, pipeline.dry_run(job, steps, settings)))
    return ExitStatus.SUCCESS


def load_steps(
    kernels: list[str], options: pipeline.StepOptions, *, normalize: bool
) -> list[pipeline.FilterStep]:
    """One filter step per KERNEL (then each --then), all with the same options."""
    from imconv import pipeline
    from imconv.kernels import load_kernel

    steps = []
    for text in kernels:
        loaded = load_kernel(text)
        steps.append(pipeline.FilterStep(loaded.normalized() if normalize else loaded, options))
    return steps


def run_plan(
    plan: batch.Plan,
    steps: list[pipeline.FilterStep],
    settings: pipeline.OutputSettings,
    *,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
    verbose: bool,
) -> batch.BatchResult:
    """Run the batch, with a progress bar on a terminal and a line per file if verbose."""
    from imconv import batch
    from imconv import report as reports

    if plan.single:
        return batch.run_batch(plan, steps, settings, workers=1)
    progress = reports.BatchProgress(stderr, len(plan.jobs), bar=stderr.is_terminal and not quiet,
                                     lines=verbose and not quiet)  # fmt: skip
    with progress:
        return batch.run_batch(plan, steps, settings, workers=workers, scheduler=scheduler,
                               on_outcome=progress)  # fmt: skip


def render_result(
    result: batch.BatchResult,
    steps: list[pipeline.FilterStep],
    *,
    timing: bool,
    report: Path | None,
    quiet: bool,
    single: bool,
    threads: int | None,
    verbose: bool = False,
) -> ExitStatus:
    """Print timings, failures and the summary, write the JSON report; the exit status."""
    from imconv import report as reports
    from imconv.engine._spec import default_threads

    parallel = result.workers > 1 or result.scheduler is not None
    if timing and not quiet:
        print_timing(result, single=single, verbose=verbose)
    if report is not None:
        document = reports.report_dict(
            result.records, kernels=[step.kernel.name for step in steps],
            options=reports.options_dict(steps),
            threads=threads or (1 if parallel else default_threads()),
            failures=result.failures, run=None if single else reports.run_dict(result),
        )  # fmt: skip
        reports.write_report(report, document)
    if single:
        return single_status(result, quiet=quiet)
    if result.failures:
        stderr.print(reports.failure_table(result.failures))
    if not quiet:
        stderr.print(reports.batch_summary(result), markup=False)
    if result.interrupted:
        stderr.print(
            f"imconv: interrupted: {len(result.records)} written, {result.not_done} not done; "
            "the same command with --skip-existing finishes the set", markup=False
        )  # fmt: skip
        return ExitStatus.INTERRUPTED
    return ExitStatus.PARTIAL if result.failures else ExitStatus.SUCCESS


def print_timing(result: batch.BatchResult, *, single: bool, verbose: bool) -> None:
    """Each image's stage table (one image, or --verbose), and a batch's summary table."""
    from imconv import report as reports

    if single or verbose:
        for record in result.records:
            stderr.print(reports.timing_table(record))
    if not single and result.records:
        stderr.print(reports.summary_table(result.records, caption=reports.throughput(result)))


def single_status(result: batch.BatchResult, *, quiet: bool) -> ExitStatus:
    """The exit status of one named input: its error, interruption, or kept output."""
    if result.interrupted:
        stderr.print("imconv: interrupted", markup=False)
        return ExitStatus.INTERRUPTED
    if result.errors:
        fail(result.errors[0])  # one image: its error and hint, but it is not a usage error
        return ExitStatus.ERROR
    if result.existing and not quiet:
        stderr.print("imconv: the output exists and was kept (--skip-existing)", markup=False)
    return ExitStatus.SUCCESS
