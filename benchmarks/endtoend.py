"""Whole processes, end to end (issue 9): ``imconv apply`` against ImageMagick, libvips and a
plain NumPy + Pillow script, on the same JPEG, for wall time and peak memory.

Run from the repository root with the project installed, and the peers where you have them
(Debian: ``apt-get install imagemagick libvips-tools``)::

    python benchmarks/endtoend.py [--repeat 5] [--cases blur,box15,sobel,gaussian,sobel-chain]
                                  [--sizes 12,24,48] [--json FILE] [--keep DIR] [--imconv PATH]
                                  [--idle-wait 30] [--retries 3]

Prints two tables (Markdown, aligned for the terminal): every case's contenders, and the
blur's peak memory against the image size with a least-squares line per tool.

* Inputs, made at run time in a temporary folder (``--keep DIR`` keeps them, the kernel
  files and the outputs there instead): ``samples/astronaut.png`` resized with Pillow's
  LANCZOS to 4000x3000 (12 MP, every case), 6000x4000 (24 MP) and 8000x6000 (48 MP, under
  Pillow's 89 MP decompression-bomb limit), saved as JPEG quality 90. Kernels are written
  as libvips ``.mat`` files and ImageMagick strings with the weights imconv uses.
* Every contender writes a JPEG at quality 90 with 4:2:0 chroma: Pillow's default, so
  imconv's. ImageMagick and libvips switch to 4:4:4 at quality 90 and above unless told
  (``-sampling-factor 2x2``, ``[subsample-mode=on]``), which costs their encoder time.
* Cases (``--cases``): ``blur`` (the lecture's ``[[0,1,0],[1,4,1],[0,1,0]]/8``: imconv
  ``blur``, the ``python`` floor of ``benchmarks/baseline_blur.py``, ImageMagick
  ``-morphology Convolve``, ``vips conv`` at float and at integer precision), ``box15``
  (``box:size=15``; ImageMagick's kernel of ones normalised by ``convolve:scale=!``),
  ``sobel`` (imconv only: neither peer has the gradient magnitude), ``gaussian``
  (``gaussian:sigma=3``, 19x19; the peers run the same weights as two 1-D passes:
  ImageMagick ``19x1: ...;1x19: ...``, ``vips convsep``), ``sobel-chain`` (``sobel-x
  --then sobel-y``, imconv only).
* Each case: one warm-up run per contender (page cache; and a contender that fails or
  writes no output is skipped with the reason), then ``--repeat`` rounds A B C A B C...
  Reported: median wall time, min-max, median peak RSS, median CPU (user + system), the
  ratio of the medians to the case's ImageMagick and ``vips`` (float) rows, and the mean
  absolute difference in levels to imconv's output away from a 16-pixel border (the peers
  extend edges their own way; the baseline is byte-identical before encoding).
* Shared machines: before each run the script waits (up to ``--idle-wait`` seconds) until
  other processes use under 0.15 of a core, and runs again (up to ``--retries`` times) a
  run during which they used more; the ``others CPU s`` column is the median CPU time
  other processes took during the kept runs, and the count of repeated runs is printed.
* Wall time: this script's clock around the child, fork to reap. Peak RSS: ``ru_maxrss``
  of that child from ``os.wait4``: the largest resident set of the process and of the
  descendants it waited for (not their sum); the imconv console script is one Python
  process. A child inherits its parent's high-water mark at exec, so this script never
  imports NumPy or Pillow itself (inputs are made and outputs compared in child processes,
  on imconv's interpreter) and lowers its mark before every run; the launcher floor (the
  peak reported for ``true``) is printed: no measurement can be below it.
* Memory scaling (``--sizes``, in megapixels; ``--sizes none`` skips it): the blur case's
  contenders at each size; the line fitted to peak RSS against pixels gives the slope in
  bytes per RGB pixel and the intercept in MiB. The 12 MP point reuses the blur case.
* ``--json FILE`` writes every time and peak, the commands, the tools' versions and paths,
  the machine and the library versions (``imconv.environment``) and the load average.

ImageMagick is found by running ``-version``: a ``convert`` or ``magick`` that is a script
(a stand-in) is passed over for the real binary further along ``PATH`` or in ``/usr/bin``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from timing import ProcessRun, run_process

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "astronaut.png"
BASELINE = ROOT / "benchmarks" / "baseline_blur.py"
QUALITY = 90
CASES = ("blur", "box15", "sobel", "gaussian", "sobel-chain")
SIZES = {12: (4000, 3000), 24: (6000, 4000), 48: (8000, 6000)}
CASE_SIZE = 12
#: Environment variables recorded with the results (threads, bytecode caching).
NOTED = ("_NUM_THREADS", "THREAD_LIMIT", "CONCURRENCY", "DONTWRITEBYTECODE")
BORDER = 16  # pixels left out of the agreement check: each tool extends edges its own way
BLUR_MAGICK = "3x3: 0,.125,0 .125,.5,.125 0,.125,0"  # the `blur` preset, normalised
BOX_MAGICK = "15x15: " + " ".join([",".join(["1"] * 15)] * 15)
MAGICK_420 = ["-sampling-factor", "2x2"]  # 4:2:0, as Pillow writes at quality 90
VIPS_JPEG = f"[Q={QUALITY},subsample-mode=on]"
CASE_COLUMNS = (
    "case|tool|median s|min-max s|peak RSS MiB|CPU s|vs ImageMagick|vs vips|Δ imconv|others CPU s"
)


@dataclass(frozen=True)
class Tool:
    """An external program: the command that starts it, and what it says its version is."""

    name: str
    command: list[str]
    version: str


@dataclass(frozen=True)
class Contender:
    """One command of a case; ``role`` marks the rows the ratios divide by."""

    label: str
    command: list[str]
    output: str
    role: str = ""  # "imconv", "magick" or "vips": the case's reference rows


@dataclass
class Result:
    """The runs of one contender, or why it has none."""

    contender: Contender
    runs: list[ProcessRun] = field(default_factory=list)
    error: str = ""
    difference: float | None = None  # mean |levels| against imconv's output
    others: list[float] = field(default_factory=list)  # CPU s of other processes, per run
    disturbed: int = 0  # runs done again because other processes were busy

    def median(self, name: str) -> float:
        """The median of field ``name`` of the runs (``wall_s``, ``peak_mib``...)."""
        return statistics.median(getattr(run, name) for run in self.runs)

    def cpu(self) -> float:
        """The median CPU seconds (user + system) of the runs."""
        return statistics.median(run.user_s + run.system_s for run in self.runs)


# --- tools ------------------------------------------------------------------------------


def first_line(command: list[str]) -> str:
    """The first line ``command`` prints (stdout, else stderr); empty when it cannot run."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


def is_script(path: Path) -> bool:
    """True for a file that starts with ``#!``: a wrapper or stand-in, not a tool's binary."""
    try:
        with path.open("rb") as head:
            return head.read(2) == b"#!"
    except OSError:
        return True


def executables(name: str, extra: tuple[str, ...] = ("/usr/bin", "/bin")) -> list[Path]:
    """Every executable ``name`` along ``PATH`` then in ``extra``, each real file once."""
    found: dict[str, Path] = {}
    for folder in [*os.environ.get("PATH", "").split(os.pathsep), *extra]:
        path = Path(folder or ".", name)
        if path.is_file() and os.access(path, os.X_OK):
            found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def find_magick() -> Tool | None:
    """The real ImageMagick (``convert``, else ``magick``), never a script standing in."""
    for name in ("convert", "magick"):
        for path in executables(name):
            version = first_line([str(path), "-version"])
            if not is_script(path) and version.startswith("Version: ImageMagick"):
                text = version.removeprefix("Version: ").split(" https:")[0]
                return Tool("ImageMagick", [str(path)], text)
    return None


def find_vips() -> Tool | None:
    """The ``vips`` command-line tool of libvips."""
    for path in executables("vips"):
        version = first_line([str(path), "--version"])
        if version.startswith("vips-"):
            return Tool("libvips", [str(path)], version)
    return None


def find_imconv(given: str | None) -> Tool:
    """``--imconv``, else the console script beside this interpreter, else on ``PATH``."""
    beside = Path(sys.executable).parent / "imconv"
    path = given or (str(beside) if beside.is_file() else shutil.which("imconv") or "imconv")
    return Tool("imconv", [path], first_line([path, "--version"]) or "unknown")


def interpreter_of(script: str) -> str:
    """The Python that runs console script ``script`` (its ``#!`` line), else this one."""
    try:
        with open(script, "rb") as head:
            line = head.readline().decode(errors="replace")
    except OSError:
        return sys.executable
    program = line[2:].strip().split()[0] if line.startswith("#!") and line[2:].strip() else ""
    return program if "python" in Path(program).name and Path(program).is_file() else sys.executable


# --- cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """The programs found; each builder returns a contender, or None when its tool is missing."""

    imconv: Tool
    python: Tool
    magick: Tool | None
    vips: Tool | None

    def imconv_apply(self, kernel: list[str], source: str, output: str) -> Contender:
        """``imconv apply KERNEL SOURCE -o OUTPUT`` with the rest of ``kernel`` (``--then``)."""
        head, *rest = kernel
        quality = ["--quality", str(QUALITY)]
        command = [*self.imconv.command, "apply", head, source, "-o", output, *quality, *rest]
        return Contender("imconv", command, output, "imconv")

    def baseline(self, source: str, output: str) -> Contender:
        """The plain NumPy + Pillow blur of ``baseline_blur.py``, on imconv's interpreter."""
        command = [*self.python.command, str(BASELINE), source, output, "--quality", str(QUALITY)]
        return Contender("python (NumPy + Pillow)", command, output)

    def magick_convolve(
        self, label: str, source: str, kernel: str, output: str, *, normalise: bool = False
    ) -> Contender | None:
        """``convert SOURCE -morphology Convolve KERNEL`` (``convolve:scale=!`` normalises)."""
        if self.magick is None:
            return None
        scale = ["-define", "convolve:scale=!"] if normalise else []
        operations = [*scale, "-morphology", "Convolve", kernel, *MAGICK_420]
        command = [*self.magick.command, source, *operations, "-quality", str(QUALITY), output]
        return Contender(label, command, output, "magick")

    def vips_conv(
        self, operation: str, source: str, mask: str, precision: str, *, reference: bool
    ) -> Contender | None:
        """``vips OPERATION SOURCE OUT MASK --precision PRECISION``; ``reference`` for ratios."""
        if self.vips is None:
            return None
        output = f"{Path(source).stem}_{Path(mask).stem}_{operation}_{precision}.jpg"
        target = output + VIPS_JPEG
        command = [*self.vips.command, operation, source, target, mask, "--precision", precision]
        label = f"vips {operation} ({precision})"
        return Contender(label, command, output, "vips" if reference else "")


KERNELS = {
    "box15": ["box:size=15"],
    "sobel": ["sobel"],
    "gaussian": ["gaussian:sigma=3"],
    "sobel-chain": ["sobel-x", "--then", "sobel-y"],
}


def blur_contenders(tools: Tools, source: str) -> list[Contender]:
    """The lecture's blur on ``source`` by imconv, the Python floor, ImageMagick and libvips."""
    tag = f"{Path(source).stem}_blur"
    found = [
        tools.imconv_apply(["blur"], source, f"{tag}_imconv.jpg"),
        tools.baseline(source, f"{tag}_python.jpg"),
        tools.magick_convolve("ImageMagick", source, BLUR_MAGICK, f"{tag}_magick.jpg"),
        tools.vips_conv("conv", source, "blur.mat", "float", reference=True),
        tools.vips_conv("conv", source, "blur.mat", "integer", reference=False),
    ]
    return [contender for contender in found if contender is not None]


def case_contenders(name: str, tools: Tools, magick_gauss: str) -> list[Contender]:
    """The contenders of case ``name`` on the 12 MP input; peers where one does the same."""
    source = f"in{CASE_SIZE}.jpg"
    if name == "blur":
        return blur_contenders(tools, source)
    found = [tools.imconv_apply(KERNELS[name], source, f"{name}_imconv.jpg")]
    if name == "box15":
        found += [
            tools.magick_convolve(
                "ImageMagick", source, BOX_MAGICK, "box15_magick.jpg", normalise=True
            ),
            tools.vips_conv("conv", source, "box15.mat", "float", reference=True),
            tools.vips_conv("conv", source, "box15.mat", "integer", reference=False),
        ]
    elif name == "gaussian":
        label = "ImageMagick (19x1, 1x19)"
        found += [
            tools.magick_convolve(label, source, magick_gauss, "gaussian_magick.jpg"),
            tools.vips_conv("convsep", source, "gauss3.mat", "float", reference=True),
        ]
    return [contender for contender in found if contender is not None]


# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Quiet:
    """How runs dodge other work on a shared machine (``--idle-wait``, ``--retries``)."""

    wait_s: float = 30.0  # before each run, wait up to this long for the machine to go idle
    retries: int = 3  # run again when other processes used more than `limit` of a core
    limit: float = 0.15  # cores (CPU seconds of others per second of the run)


def run_once(result: Result, folder: Path, quiet: Quiet) -> None:
    """One run of ``result``'s contender into its runs, or its ``error`` set; a run that
    other processes disturbed is done again, up to ``quiet.retries`` times."""
    for attempt in range(quiet.retries + 1):
        wait_for_idle(quiet)
        busy = machine_busy()
        run = run_checked(result, folder)
        if run is None:
            return
        others = max(machine_busy() - busy - run.user_s - run.system_s, 0.0)
        if others <= quiet.limit * run.wall_s or attempt == quiet.retries:
            result.runs.append(run)
            result.others.append(others)
            return
        result.disturbed += 1


def run_checked(result: Result, folder: Path) -> ProcessRun | None:
    """Run the contender; None with ``result.error`` set when it fails or writes nothing."""
    contender = result.contender
    output = folder / contender.output
    output.unlink(missing_ok=True)
    log = folder / "stderr.txt"
    try:
        with log.open("wb") as stderr:
            run = run_process(contender.command, cwd=folder, stderr=stderr)
    except OSError as error:
        result.error = f"cannot start: {error}"
        return None
    if run.status != 0:
        result.error = f"exit status {run.status}: {last_error(log.read_text(errors='replace'))}"
    elif not output.is_file() or output.stat().st_size == 0:
        result.error = f"exit status 0 but no {contender.output} written"
    else:
        return run
    return None


def wait_for_idle(quiet: Quiet) -> None:
    """Wait, up to ``quiet.wait_s``, until the machine's busy CPU is under ``quiet.limit``."""
    waited = 0.0
    while waited < quiet.wait_s:
        busy = machine_busy()
        time.sleep(0.5)
        waited += 0.5
        if machine_busy() - busy <= quiet.limit * 0.5:
            return


def machine_busy() -> float:
    """CPU seconds all processes have used since boot (``/proc/stat``; 0 where absent)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def last_error(text: str) -> str:
    """The error a tool printed last (from its last line naming one), on one line."""
    lines = [line.strip(" │╰─╯") for line in text.strip().splitlines()]
    lines = [line for line in lines if line] or ["(no message)"]
    start = max((i for i, line in enumerate(lines) if "rror" in line), default=len(lines) - 1)
    return " ".join(lines[start:])[:200]


def alternate(
    contenders: list[Contender], folder: Path, args: argparse.Namespace, title: str
) -> list[Result]:
    """A warm-up run each, then ``args.repeat`` rounds of every contender that worked."""
    results = [Result(contender) for contender in contenders]
    quiet = Quiet(wait_s=args.idle_wait, retries=args.retries)
    for result in results:
        run_once(result, folder, Quiet(wait_s=quiet.wait_s, retries=0))
        result.runs.clear()
        result.others.clear()
        if result.error:
            print(f"skip: {title}: {result.contender.label}: {result.error}", file=sys.stderr)
    for round_number in range(args.repeat):
        for result in results:
            if not result.error:
                run_once(result, folder, quiet)
        print(f"{title}: round {round_number + 1}/{args.repeat}", file=sys.stderr, flush=True)
    for result in results:
        if result.error and result.runs:
            print(f"dropped: {title}: {result.contender.label}: {result.error}", file=sys.stderr)
            result.runs.clear()
            result.others.clear()
    return results


def child(python: str, *arguments: str) -> Any:
    """Run this script's ``--child`` mode on imconv's interpreter; its JSON answer."""
    command = [python, str(Path(__file__).resolve()), "--child", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


def compare_outputs(python: str, folder: Path, results: list[Result]) -> None:
    """Fill each result's ``difference`` to the imconv output of the same case."""
    reference = next((r for r in results if r.contender.role == "imconv" and not r.error), None)
    others = [r for r in results if not r.error and r is not reference]
    if reference is None or not others:
        return
    names = [r.contender.output for r in others]
    found = child(python, "compare", str(folder), reference.contender.output, *names)
    for result in others:
        result.difference = found[result.contender.output]
    reference.difference = 0.0


# --- reporting --------------------------------------------------------------------------


def ratio(result: Result, results: list[Result], role: str) -> str:
    """Median wall time of ``result`` over that of the case's ``role`` row, or ``-``."""
    base = next((r for r in results if r.contender.role == role and r.runs), None)
    if base is None or not result.runs:
        return "-"
    return f"{result.median('wall_s') / base.median('wall_s'):.2f}"


def table(rows: list[list[str]], header: list[str]) -> list[str]:
    """A Markdown table padded so that its columns line up in a terminal."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def case_rows(name: str, results: list[Result]) -> list[list[str]]:
    """The table's cells for each contender of case ``name``."""
    rows = []
    for result in results:
        label = result.contender.label
        if not result.runs:
            rows.append([name, label, "failed", *["-"] * 7])
            continue
        walls = [run.wall_s for run in result.runs]
        difference = "-" if result.difference is None else f"{result.difference:.2f}"
        rows.append(
            [
                name,
                label,
                f"{result.median('wall_s'):.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{result.median('peak_mib'):.0f}",
                f"{result.cpu():.2f}",
                ratio(result, results, "magick"),
                ratio(result, results, "vips"),
                difference,
                f"{statistics.median(result.others):.2f}",
            ]
        )
    return rows


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares of peak MiB against pixels: (bytes per pixel, intercept MiB)."""
    slope, intercept = statistics.linear_regression([p for p, _ in points], [m for _, m in points])
    return slope * 2**20, intercept


def scaling_rows(scaling: dict[int, list[Result]]) -> tuple[list[list[str]], dict[str, Any]]:
    """Per tool: peak MiB and wall s at each size, and the fitted line."""
    rows, fits = [], {}
    labels = dict.fromkeys(r.contender.label for results in scaling.values() for r in results)
    for label in labels:
        found = {
            mp: next((r for r in rs if r.contender.label == label and r.runs), None)
            for mp, rs in scaling.items()
        }
        points = [
            (dimensions(mp)[0] * dimensions(mp)[1], r.median("peak_mib"))
            for mp, r in found.items()
            if r is not None
        ]
        line = fit(points) if len(points) >= 2 else None
        fits[label] = (
            None if line is None else {"bytes_per_pixel": line[0], "intercept_mib": line[1]}
        )
        memory = [f"{r.median('peak_mib'):.0f}" if r else "-" for r in found.values()]
        walls = [f"{r.median('wall_s'):.2f}" if r else "-" for r in found.values()]
        shown = ["-", "-"] if line is None else [f"{line[0]:.1f}", f"{line[1]:.0f}"]
        rows.append([label, *memory, *shown, *walls])
    return rows, fits


def dimensions(megapixels: int) -> tuple[int, int]:
    """Width and height of the ``megapixels`` input: 4:3, the known sizes exactly."""
    if megapixels in SIZES:
        return SIZES[megapixels]
    height = round((megapixels * 1e6 * 3 / 4) ** 0.5)
    return round(megapixels * 1e6 / height), height


# --- child modes (run on imconv's interpreter, so that this process stays small) -------------


def prepare(folder: Path, sizes: list[int]) -> dict[str, Any]:
    """Write the inputs and kernel files into ``folder``; the machine and versions."""
    from PIL import Image

    with Image.open(SAMPLE) as sample:
        picture = sample.convert("RGB")
    for megapixels in sizes:
        size = dimensions(megapixels)
        picture.resize(size, Image.Resampling.LANCZOS).save(
            folder / f"in{megapixels}.jpg", quality=QUALITY
        )
    weights = gaussian_row(3.0)
    text = " ".join(f"{w:.17g}" for w in weights)
    (folder / "blur.mat").write_text("3 3 8 0\n0 1 0\n1 4 1\n0 1 0\n")
    (folder / "box15.mat").write_text("15 15 225 0\n" + "\n".join([" ".join(["1"] * 15)] * 15))
    (folder / "gauss3.mat").write_text(f"{len(weights)} 1 1 0\n{text}\n")
    row = ",".join(f"{w:.17g}" for w in weights)
    magick_gauss = f"{len(weights)}x1: {row};1x{len(weights)}: {row}"
    return {"environment": environment(), "magick_gauss": magick_gauss}


def gaussian_row(sigma: float) -> list[float]:
    """The 1-D factor of imconv's ``gaussian`` preset (its 2-D weights are the outer product)."""
    try:
        import imconv

        weights = imconv.preset("gaussian", sigma=sigma).weights
        return [float(v) for v in weights.sum(axis=1)]
    except Exception:  # an imconv being refactored: the preset's definition, by hand
        import math

        radius = math.ceil(3 * sigma)
        row = [math.exp(-(x * x) / (2 * sigma * sigma)) for x in range(-radius, radius + 1)]
        return [v / sum(row) for v in row]


def environment() -> dict[str, Any]:
    """``imconv.environment``'s machine and versions, else what ``platform`` says."""
    import platform
    from importlib import metadata, util

    names = ("numpy", "scipy", "pillow", "typer", "rich", "imconv")
    try:
        from imconv.environment import machine, versions

        found: dict[str, Any] = {"machine": machine(), "versions": versions(*names)}
    except Exception:  # the module moved: the same facts without it
        found = {
            "machine": {
                "system": platform.system(),
                "release": platform.release(),
                "machine": platform.machine(),
                "processor": platform.processor(),
                "cores": os.cpu_count(),
            },
            "versions": {"python": platform.python_version()},
        }
        for name in names:
            try:
                found["versions"][name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found["versions"][name] = "unknown"
    spec = util.find_spec("imconv")
    found["imconv_package"] = str(Path(spec.origin).parent) if spec and spec.origin else "unknown"
    try:
        import numpy

        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        found["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        found["blas"] = "unknown"
    return found


def compare(folder: Path, reference: str, outputs: list[str]) -> dict[str, float]:
    """Mean absolute difference in levels of each output to ``reference``, inside a border."""
    import numpy as np
    from PIL import Image

    def pixels(name: str) -> np.ndarray:
        with Image.open(folder / name) as image:
            data = np.asarray(image.convert("RGB"), dtype=np.int16)
        return data[BORDER:-BORDER, BORDER:-BORDER]

    base = pixels(reference)
    found = {}
    for name in outputs:
        other = pixels(name)
        found[name] = float(np.abs(other - base).mean()) if other.shape == base.shape else -1.0
    return found


def run_child(arguments: list[str]) -> None:
    """``--child prepare FOLDER MP...`` or ``--child compare FOLDER REFERENCE OUTPUT...``."""
    mode, folder, *rest = arguments
    if mode == "prepare":
        answer = prepare(Path(folder), [int(mp) for mp in rest])
    else:
        answer = compare(Path(folder), rest[0], rest[1:])
    print(json.dumps(answer))


# --- main -------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    """The options, checked; ``cases`` and ``sizes`` become lists."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per contender")
    parser.add_argument("--cases", default=",".join(CASES), help=f"some of {', '.join(CASES)}")
    parser.add_argument(
        "--sizes",
        default="12,24,48",
        help="megapixels for the memory scaling of the blur, or 'none'",
    )
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--keep", type=Path, help="make inputs and keep outputs in this folder")
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=30.0,
        help="seconds to wait, before each run, for other processes to leave the CPUs (0: never)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        help="times to run again a run during which other processes used over 0.15 of a core",
    )
    parser.add_argument("--imconv", help="the imconv command (default: beside this Python)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return args
    args.cases = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    text = args.sizes.strip().lower()
    try:
        args.sizes = [] if text in ("", "none") else [int(p) for p in text.split(",")]
    except ValueError:
        parser.error(f"--sizes takes megapixels such as 12,24,48; got {args.sizes!r}")
    if any(mp <= 0 or mp > 89 for mp in args.sizes):
        parser.error(f"--sizes must lie in 1..89 MP (Pillow's bomb limit); got {args.sizes}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}")
    return args


def main() -> None:
    args = parse_arguments()
    if args.child:
        run_child(args.child)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        measure(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="imconv-endtoend-") as name:
            measure(args, Path(name))


def find_tools(given: str | None) -> Tools:
    """imconv (``--imconv``), its interpreter for the Python floor, and the peers found."""
    imconv = find_imconv(given)
    python = interpreter_of(imconv.command[0])
    tools = Tools(
        imconv=imconv,
        python=Tool("python", [python], first_line([python, "--version"])),
        magick=find_magick(),
        vips=find_vips(),
    )
    if tools.magick is None:
        print("skip: ImageMagick (convert) not found; its rows are left out", file=sys.stderr)
    if tools.vips is None:
        print("skip: libvips (vips) not found; its rows are left out", file=sys.stderr)
    return tools


def measure(args: argparse.Namespace, folder: Path) -> None:
    """Make the inputs in ``folder``, run the cases and the scaling, print and save."""
    tools = find_tools(args.imconv)
    python = tools.python.command[0]
    sizes = sorted({CASE_SIZE, *args.sizes} if args.cases else set(args.sizes))
    prepared = child(python, "prepare", str(folder), *map(str, sizes))
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python benchmarks/endtoend.py", *sys.argv[1:]]),
        **prepared["environment"],
        "tools": asdict(tools),
        "environment_variables": {k: v for k, v in os.environ.items() if k.endswith(NOTED)},
        "launcher_floor_mib": run_process(["true"]).peak_mib,
        "load_average": {"before": os.getloadavg()},
        "repeat": args.repeat,
        "idle_wait_s": args.idle_wait,
        "retries": args.retries,
        "sizes": {mp: dimensions(mp) for mp in sizes},
    }
    cases: dict[str, list[Result]] = {}
    for name in args.cases:
        contenders = case_contenders(name, tools, prepared["magick_gauss"])
        cases[name] = alternate(contenders, folder, args, name)
        compare_outputs(python, folder, cases[name])
    scaling: dict[int, list[Result]] = {}
    for megapixels in args.sizes:
        if megapixels == CASE_SIZE and "blur" in cases:
            scaling[megapixels] = cases["blur"]
        else:
            contenders = blur_contenders(tools, f"in{megapixels}.jpg")
            scaling[megapixels] = alternate(contenders, folder, args, f"{megapixels} MP")
    report["load_average"]["after"] = os.getloadavg()
    print_report(report, cases, scaling)
    if args.json:
        report["cases"] = {name: [dump(r) for r in results] for name, results in cases.items()}
        report["scaling"] = {mp: [dump(r) for r in results] for mp, results in scaling.items()}
        report["scaling_fit"] = scaling_rows(scaling)[1]
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def dump(result: Result) -> dict[str, Any]:
    """One contender for the JSON file: its command, every run, its error if any."""
    return {
        "label": result.contender.label,
        "command": result.contender.command,
        "role": result.contender.role,
        "error": result.error,
        "mean_abs_difference_to_imconv": result.difference,
        "runs": [asdict(run) for run in result.runs],
        "other_processes_cpu_s": result.others,
        "disturbed_runs_repeated": result.disturbed,
    }


def describe(tool: dict[str, Any]) -> str:
    """``ImageMagick 6.9.11-60 ... (/usr/bin/convert)``: the name once, then the path."""
    name, version = tool["name"], tool["version"]
    shown = version if name.lower() in version.lower() else f"{name} {version}"
    return f"{shown} ({tool['command'][0]})"


def print_report(
    report: dict[str, Any], cases: dict[str, list[Result]], scaling: dict[int, list[Result]]
) -> None:
    """The header lines (command, machine, versions, tools), the tables, the failures."""
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    machine = report["machine"]
    tools = "; ".join(describe(tool) for tool in report["tools"].values() if tool)
    print(f"`{report['command']}`, {report['date']}")
    print(
        f"{machine['processor']}, {machine['cores']} cores, {machine['system']} "
        f"{machine['release']}; {versions}; BLAS {report['blas']}"
    )
    print(f"Tools: {tools}")
    print(
        f"Launcher floor {report['launcher_floor_mib']:.1f} MiB; load average "
        f"{report['load_average']['before'][0]:.2f} before, "
        f"{report['load_average']['after'][0]:.2f} after"
    )
    if cases:
        header = CASE_COLUMNS.split("|")
        rows = [row for name, results in cases.items() for row in case_rows(name, results)]
        print(f"\n{CASE_SIZE} MP ({'x'.join(map(str, dimensions(CASE_SIZE)))}) JPEG -> JPEG:\n")
        print("\n".join(table(rows, header)))
        repeated = sum(r.disturbed for results in cases.values() for r in results)
        print(f"\n{repeated} runs were done again because other processes used the CPUs.")
        for name, results in cases.items():
            for result in results:
                if result.error:
                    print(f"\n{name}, {result.contender.label} failed: {result.error}")
    if scaling:
        rows, _ = scaling_rows(scaling)
        header = [
            "tool",
            *(f"{mp} MP MiB" for mp in scaling),
            "slope B/px",
            "intercept MiB",
            *(f"{mp} MP s" for mp in scaling),
        ]
        print("\nBlur, peak RSS against size (least-squares line of peak RSS on pixels):\n")
        print("\n".join(table(rows, header)))


if __name__ == "__main__":
    main()
