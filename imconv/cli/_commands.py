"""`imconv kernels`, `imconv bench` and `imconv tuning`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imconv.errors import InvalidParameterError

from ._app import ExitStatus, KernelCommand, app, run_guarded, show, stderr, stdout, warn


@app.command(cls=KernelCommand)
def kernels(
    context: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="A preset (with parameters) or any KERNEL to show; omit to list."),
    ] = None,
    response: Annotated[
        bool,
        typer.Option(
            "--response",
            help="Show |H|, the magnitude of the kernel's 2-D DFT zero-padded to 64x64 and "
            "centred (as MATLAB freqz2), as a heat map; of each part of a kernel set.",
        ),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.png",
            help="Draw |H| with a colour bar and its radial profile (.png .svg .pdf; needs "
            "matplotlib: pip install 'imconv\\[plot]').",
        ),
    ] = None,
) -> None:
    """List the presets, or show one kernel: matrix, sum, rank, separable factors.

    A kernel set (sobel, kirsch, compass, ...) shows each part with its rank and the rule
    that combines their responses.

    [b]Examples[/b]

      imconv kernels

      imconv kernels gaussian:sigma=2

      imconv kernels "3x3: 0,1,0 1,4,1 0,1,0"

      imconv kernels box:size=5 --response --plot box.png
    """

    def work() -> ExitStatus:
        from imconv import report as reports
        from imconv.kernels import list_presets, load_kernel, preset_warnings
        from imconv.report._figures import check_plot_path

        for warning in preset_warnings():
            warn(warning)
        if name is None and (response or plot is not None):
            flag = "response" if response else "plot"
            raise InvalidParameterError(flag, True if response else str(plot), "used with NAME")
        if plot is not None:
            check_plot_path(plot, name="plot")
        if name is None:
            show(stdout, reports.preset_table(list_presets()))
            return ExitStatus.SUCCESS
        kernel = load_kernel(name)
        view = reports.response_view(kernel) if response else reports.kernel_view(kernel)
        show(stdout, view)
        if plot is not None:
            reports.plot_response(kernel, plot, name="plot")
            stderr.print(f"wrote {plot}", markup=False)
        return ExitStatus.SUCCESS

    run_guarded(work, context)


@app.command()
def bench(
    context: typer.Context,
    image: Annotated[
        Path | None,
        typer.Argument(
            help="Image to time on. Default: samples/astronaut.png (512x512 RGB) in a source "
            "checkout, else a seeded random image of that size.",
            metavar="IMAGE",
            show_default=False,
        ),
    ] = None,
    sizes: Annotated[
        str, typer.Option(metavar="K,K,...", help="Kernel sizes k (k x k), up to 4097.")
    ] = "3,7,15,31",
    algorithms: Annotated[
        str, typer.Option(metavar="A,A,...", help="Algorithms to time (auto picks one).")
    ] = "auto,direct,matmul,fft,separable",
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs per cell, after a warm-up.")] = 3,
    peers: Annotated[
        bool,
        typer.Option(
            "--peers",
            help="Also time scipy.ndimage.convolve, scipy.signal.fftconvolve, and when "
            "installed OpenCV filter2D (imconv\\[bench]) and Pillow ImageFilter.Kernel.",
        ),
    ] = False,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Threads for imconv and the peers that take them.")
    ] = None,
    autotune: Annotated[
        bool, typer.Option("--autotune", help="Time auto with measured autotuning.")
    ] = False,
    budget: Annotated[
        float,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            help="Skip a contender whose time grows with k^2 (direct, matmul, separable, "
            "ndimage) once one run is expected to take longer.",
        ),
    ] = 0.25,
    random: Annotated[
        str | None,
        typer.Option(metavar="WxH", help="Time on a seeded random RGB image of this size."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the kernels and random image.")] = 0,
    max_pixels: Annotated[
        int | None, typer.Option(min=1, help="Largest IMAGE accepted (Pillow's bomb limit).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    csv_output: Annotated[
        bool, typer.Option("--csv", help="CSV on stdout, a row per contender and size.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.png",
            help="Draw time against kernel size per contender, log scales (.png .svg .pdf; "
            "needs matplotlib: pip install 'imconv\\[plot]').",
        ),
    ] = None,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the stack on errors.")
    ] = False,
) -> None:
    """Time every algorithm (and with --peers SciPy, OpenCV, Pillow) over kernel sizes.

    Random non-separable k x k kernels, convolve, same size, reflect padding. Prints the
    median and spread per size, marks the fastest, and names the crossover sizes. The
    defaults take seconds; give an IMAGE, more --sizes and --repeat for a thorough run.

    [b]Examples[/b]

      imconv bench

      imconv bench photo.jpg --sizes 3,7,15,31 --peers --plot bench.png

      imconv bench --random 640x480 --algorithms direct,fft --json > bench.json
    """

    def work() -> ExitStatus:
        from imconv import bench as benches
        from imconv import report as reports

        if json_output and csv_output:
            raise InvalidParameterError("--json/--csv", "both", "one of them")
        size_list = benches.parse_sizes(sizes)
        chosen = benches.parse_algorithms(algorithms)
        shape = benches.parse_shape(random) if random is not None else None
        if image is not None and shape is not None:
            raise InvalidParameterError("random", random, "used without IMAGE")
        if plot is not None:
            from imconv.bench.plot import check_plot_path

            check_plot_path(plot)
        used, capped = benches.bench_threads(threads)
        if capped is not None:
            warn(capped)
        picture = benches.bench_image(image, random_size=shape, seed=seed, max_pixels=max_pixels)
        contenders, missing = benches.contenders_for(
            chosen, peers=peers, threads=used, autotune=autotune
        )
        stderr.print(reports.bench_intent(picture, contenders, size_list, repeat), markup=False)
        cells = len(size_list) * len(contenders)
        with reports.BenchProgress(stderr, cells) as progress:
            result = benches.run_bench(
                picture,
                contenders,
                sizes=size_list,
                repeat=repeat,
                threads=used,
                seed=seed,
                budget=budget,
                missing=missing,
                progress=progress,
            )
        if json_output:
            typer.echo(result.to_json(), nl=False)
        elif csv_output:
            typer.echo(result.to_csv(), nl=False)
        else:
            show(stdout, reports.bench_view(result))
        if plot is not None:
            from imconv.bench.plot import plot_bench

            plot_bench(result, plot)
        return ExitStatus.SUCCESS

    run_guarded(work, context, traceback=traceback)


@app.command()
def tuning(
    context: typer.Context,
    clear: Annotated[bool, typer.Option("--clear", help="Delete the cached choices.")] = False,
) -> None:
    """Show (or --clear) the autotuning cache that `apply --autotune` fills.

    The cache lives in $IMCONV_CACHE_DIR, else $XDG_CACHE_HOME/imconv, else
    ~/.cache/imconv; its entries are valid for this machine and NumPy/SciPy versions.
    """

    def work() -> ExitStatus:
        from imconv import tuning as cache

        if clear:
            stdout.print(f"removed {cache.clear()} cached choices ({cache.cache_file()})")
        else:
            count = len(cache.DiskStore())
            stdout.print(f"{cache.cache_file()}: {count} cached choices for this machine")
        return ExitStatus.SUCCESS

    run_guarded(work, context)
