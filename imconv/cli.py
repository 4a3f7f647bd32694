"""The ``imconv`` command: parse, call the library, render, return an exit status.

No logic lives here: kernels come from :mod:`imconv.kernels`, the work from
:mod:`imconv.pipeline` and :mod:`imconv.batch`, tables from :mod:`imconv.report`. Every
:class:`~imconv.errors.ImconvError` becomes one line on stderr and an exit status in
:func:`run_guarded`, the only place that does so.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from imconv.choices import Algorithm, Mode, Padding
from imconv.errors import ImconvError, InvalidParameterError, KernelError

if TYPE_CHECKING:  # the numeric stack loads when a command runs, not for --help
    from imconv import batch, pipeline

HELP = """Filter images with convolution kernels.

[b]Examples[/b]

  imconv apply blur photo.jpg                        [dim]# writes photo_blur.jpg[/dim]

  imconv apply gaussian:sigma=3 a.png b.png -o out/

  imconv apply sobel-x photo.jpg --then sobel-y --timing

  imconv apply "0 1 0; 1 4 1; 0 1 0" photo.jpg --normalize

  imconv kernels gaussian:sigma=2
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)


class ExitStatus(IntEnum):
    """The exit statuses of DESIGN.md section 3."""

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    INTERRUPTED = 130


# What the user asked for was wrong (an option, a kernel): usage errors. Others: errors.
USAGE_ERRORS = (InvalidParameterError, KernelError)


def fail(error: ImconvError) -> ExitStatus:
    """Print ``error`` as one line (and its hint) on stderr; return its exit status."""
    stderr.print(f"imconv: error: {error.message}", markup=False)
    if error.hint:
        stderr.print(f"hint: {error.hint}", markup=False)
    return ExitStatus.USAGE if isinstance(error, USAGE_ERRORS) else ExitStatus.ERROR


def run_guarded(work: Callable[[], ExitStatus], *, traceback: bool = False) -> None:
    """Run ``work``; turn library errors and Ctrl-C into one line and an exit status."""
    try:
        status = work()
    except ImconvError as error:
        if traceback:
            raise
        status = fail(error)
    except KeyboardInterrupt:
        stderr.print("imconv: interrupted", markup=False)
        status = ExitStatus.INTERRUPTED
    raise typer.Exit(int(status))


def parse_pair(value: str, name: str) -> int | tuple[int, int]:
    """``"2"`` -> 2 and ``"2,3"`` -> (2, 3) (rows, then columns)."""
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) not in (1, 2) or min(numbers) < 1:
        raise InvalidParameterError(name, value, "a positive integer N or a pair N,M")
    return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])


def version_callback(value: bool) -> None:
    """``--version``: print the version and exit."""
    if value:
        from imconv import __version__

        stdout.print(f"imconv {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Filter images with convolution kernels."""


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
        typer.Argument(metavar="INPUT...", help="Image files or folders; - reads stdin."),
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
    recursive: Annotated[bool, typer.Option("--recursive", help="Descend into folders.")] = False,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Engine threads per image (default: all cores).")
    ] = None,
    max_pixels: Annotated[
        int | None, typer.Option(min=1, help="Largest image accepted (Pillow's bomb limit).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the stack on errors.")
    ] = False,
) -> None:
    """Apply KERNEL to each INPUT and write the results.

    [b]Examples[/b]

      imconv apply blur photo.jpg

      imconv apply box:size=15 photo.jpg -o smooth.png --timing

      imconv apply sobel photo.jpg --padding replicate --range rescale
    """

    def work() -> ExitStatus:
        from imconv import batch, pipeline
        from imconv.kernels import load_kernel

        options = pipeline.StepOptions(
            mode=mode, padding=padding, cval=cval, stride=parse_pair(stride, "--stride"),
            dilation=parse_pair(dilation, "--dilation"), correlate=correlate,
            algorithm=algorithm,
        )  # fmt: skip
        steps = []
        for text in [kernel, *(then or [])]:
            loaded = load_kernel(text)
            steps.append(pipeline.FilterStep(loaded.normalized() if normalize else loaded, options))
        settings = pipeline.OutputSettings.parse(
            range_rule=range_rule, alpha=alpha, quality=quality, montage=montage,
            overwrite=overwrite, max_pixels=max_pixels, threads=threads,
        )  # fmt: skip
        slug = "_".join(step.kernel.slug for step in steps)
        jobs, skipped = batch.plan_jobs(inputs, output, slug=slug, recursive=recursive,
                                        overwrite=overwrite)  # fmt: skip
        if report is not None:
            batch.check_report(report, jobs)
        result = batch.run_jobs(jobs, lambda job: pipeline.process_file(job, steps, settings))
        result.skipped = skipped
        status = render_result(result, steps, timing=timing, report=report, quiet=quiet,
                               single=len(jobs) == 1, threads=threads)  # fmt: skip
        if traceback and result.errors:
            raise result.errors[0]
        return status

    run_guarded(work, traceback=traceback)


def render_result(
    result: batch.BatchResult,
    steps: list[pipeline.FilterStep],
    *,
    timing: bool,
    report: Path | None,
    quiet: bool,
    single: bool,
    threads: int | None,
) -> ExitStatus:
    """Print timings and failures, write the JSON report; the run's exit status."""
    from imconv import report as reports
    from imconv.engine._spec import default_threads

    if timing and not quiet:
        for record in result.records:
            stderr.print(reports.timing_table(record))
        if len(result.records) > 1:
            stderr.print(reports.summary_table(result.records))
    if report is not None:
        document = reports.report_dict(
            result.records, kernels=[step.kernel.name for step in steps],
            options=reports.options_dict(steps), threads=threads or default_threads(),
            failures=result.failures,
        )  # fmt: skip
        reports.write_report(report, document)
    if single and result.errors:
        fail(result.errors[0])  # one image: its error and hint, but it is not a usage error
        return ExitStatus.ERROR
    if result.failures:
        stderr.print(reports.failure_table(result.failures))
        return ExitStatus.PARTIAL
    return ExitStatus.SUCCESS


@app.command()
def kernels(
    name: Annotated[
        str | None,
        typer.Argument(help="A preset (with parameters) or any KERNEL to show; omit to list."),
    ] = None,
) -> None:
    """List the presets, or show one kernel: matrix, sum, rank, separable factors.

    [b]Examples[/b]

      imconv kernels

      imconv kernels gaussian:sigma=2

      imconv kernels "3x3: 0,1,0 1,4,1 0,1,0"
    """

    def work() -> ExitStatus:
        from imconv import report as reports
        from imconv.kernels import list_presets, load_kernel

        if name is None:
            stdout.print(reports.preset_table(list_presets()))
        else:
            stdout.print(reports.kernel_view(load_kernel(name)))
        return ExitStatus.SUCCESS

    run_guarded(work)


def main() -> None:
    """Entry point of the ``imconv`` console script."""
    app()
