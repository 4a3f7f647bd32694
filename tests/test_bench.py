"""``imconv bench``: statistics, winners and crossovers on synthetic timings, the skip rule
with a fake clock, JSON and CSV structure, the peers' agreement with imconv, the command
in-process and as a real subprocess, and the chart (or its install hint)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_one_line_error, imconv, run_imconv, small_image

from imconv import bench
from imconv.bench import comparison, contenders, plot
from imconv.bench.comparison import Crossover, Timing, crossovers, winners
from imconv.choices import Algorithm

ROOT = Path(__file__).resolve().parent.parent
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
FAST = ("--random", "40x30", "--sizes", "3,5", "--repeat", "1")


def _timings(table: dict[str, dict[int, float | None]]) -> list[Timing]:
    """Timings from ``{contender: {size: seconds or None (skipped)}}``."""
    return [
        Timing(name, size, (seconds,))
        if seconds is not None
        else Timing(name, size, status="skipped", note="budget")
        for name, row in table.items()
        for size, seconds in row.items()
    ]


def test_timing_statistics_are_median_extremes_and_inclusive_quartiles() -> None:
    timing = Timing("fft", 5, (0.5, 0.1, 0.3, 0.2, 0.4))
    assert timing.median == pytest.approx(0.3)
    assert (timing.minimum, timing.maximum) == (0.1, 0.5)
    assert timing.quartiles == pytest.approx((0.2, 0.4))
    assert Timing("fft", 5, (0.7,)).quartiles == (0.7, 0.7)
    skipped = Timing("direct", 51, status="skipped")
    assert skipped.median is skipped.minimum is skipped.quartiles is None


def test_the_winner_is_the_fastest_measured_contender_and_auto_is_not_counted() -> None:
    timings = _timings(
        {
            "auto": {3: 0.001, 5: 0.001, 7: 0.001},
            "direct": {3: 0.010, 5: 0.030, 7: None},
            "fft": {3: 0.020, 5: 0.020, 7: 0.020},
            "matmul": {3: 0.050, 5: None, 7: 0.019},
        }
    )
    assert winners(timings) == {3: "direct", 5: "fft", 7: "matmul"}
    assert winners(timings, exclude=()) == {3: "auto", 5: "auto", 7: "auto"}


def test_ties_go_to_the_first_listed_and_unmeasured_sizes_have_no_winner() -> None:
    timings = _timings({"direct": {3: 0.01, 5: None}, "fft": {3: 0.01, 5: None}})
    assert winners(timings) == {3: "direct"}


def test_crossovers_are_where_the_winner_changes_between_neighbouring_sizes() -> None:
    won = {11: "fft", 3: "direct", 5: "direct", 7: "fft", 15: "fft", 21: "matmul"}
    assert crossovers(won) == [
        Crossover(5, 7, "direct", "fft"),
        Crossover(15, 21, "fft", "matmul"),
    ]
    assert crossovers({3: "fft", 51: "fft"}) == []
    assert crossovers({}) == []


def test_expected_time_grows_with_the_area_from_the_previous_size_or_the_estimate() -> None:
    grows = contenders.Contender("direct", "algorithm", lambda x, w: x, grows_with_area=True)
    flat = contenders.Contender("fft", "algorithm", lambda x, w: x)
    previous = Timing("direct", 5, (0.3, 0.1, 2.0))  # the fastest run: noise only slows
    assert bench.expected_seconds(grows, 15, previous, 99.0) == pytest.approx(0.9)
    assert bench.expected_seconds(grows, 15, None, 2.5) == 2.5
    assert bench.expected_seconds(flat, 15, previous, 99.0) is None


class FakeClock:
    """A clock that a contender's run advances by its cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_run_bench_skips_by_the_budget_rule_and_records_every_cell() -> None:
    clock = FakeClock()

    def cost(seconds_per_tap: float):
        def run(image: np.ndarray, kernel: np.ndarray) -> None:
            clock.now += seconds_per_tap * kernel.size

        return run

    slow = contenders.Contender("slow", "peer", cost(0.01), grows_with_area=True)
    fast = contenders.Contender("fast", "peer", cost(0.001))
    image = bench.bench_image(random_size=(8, 6))
    result = bench.run_bench(
        image, [slow, fast], sizes=(7, 3, 5, 3), repeat=3, budget=0.5, clock=clock
    )
    assert result.sizes == (3, 5, 7)
    assert result.timing("slow", 3).times == pytest.approx((0.09,) * 3)
    assert result.timing("slow", 5).median == pytest.approx(0.25)
    # 0.25 s at k=5 -> 0.25 * (7/5)^2 = 0.49 s expected at k=7: under the budget, runs.
    assert result.timing("slow", 7).status == "ok"
    strict = bench.run_bench(
        image, [slow, fast], sizes=(3, 5, 7), repeat=1, budget=0.3, clock=clock
    )
    skipped = strict.timing("slow", 7)
    assert skipped.status == "skipped"
    assert skipped.times == ()
    assert "0.49 s per run > budget 0.3 s" in skipped.note
    assert strict.timing("fast", 7).status == "ok"  # does not grow with the area: never skipped
    assert strict.winners() == {3: "fast", 5: "fast", 7: "fast"}


def test_a_failing_peer_is_recorded_but_a_failing_algorithm_raises() -> None:
    def broken(image: np.ndarray, kernel: np.ndarray) -> None:
        raise ValueError("no such border")

    image = bench.bench_image(random_size=(8, 6))
    result = bench.run_bench(
        image, [contenders.Contender("peer", "peer", broken)], sizes=(3,), repeat=1
    )
    assert result.timing("peer", 3).status == "failed"
    assert result.timing("peer", 3).note == "ValueError: no such border"
    with pytest.raises(ValueError, match="no such border"):
        bench.run_bench(
            image, [contenders.Contender("mine", "algorithm", broken)], sizes=(3,), repeat=1
        )


@pytest.fixture(scope="module")
def result() -> bench.BenchResult:
    """A real run: every algorithm and every installed peer, a tiny image, two sizes."""
    chosen, missing = bench.contenders_for(list(Algorithm), peers=True, threads=2)
    image = bench.bench_image(random_size=(40, 30), seed=3)
    return bench.run_bench(
        image, chosen, sizes=(5, 3), repeat=2, threads=2, seed=3, missing=missing
    )


def test_a_real_run_times_every_algorithm_and_peer_and_records_its_setting(result) -> None:
    names = [c.name for c in result.contenders]
    assert names[:5] == ["auto", "direct", "matmul", "fft", "separable"]
    assert {"scipy.ndimage.convolve", "scipy.signal.fftconvolve", "PIL.ImageFilter.Kernel"} <= set(
        names
    )
    assert ("cv2.filter2D" in names) == (importlib.util.find_spec("cv2") is not None)
    assert len(result.timings) == 2 * len(names)
    assert result.timing("auto", 3).algorithm in {a.value for a in Algorithm}
    assert all(len(t.times) == 2 for t in result.timings if t.status == "ok")
    assert (result.shape, result.threads, result.seed) == ((30, 40, 3), 2, 3)


def test_json_holds_every_cell_winners_crossovers_and_the_environment(result) -> None:
    document = json.loads(result.to_json())
    assert document["bench_version"] == 1
    assert document["image"] == {
        "source": "random 40x30 RGB (seed 3)",
        "shape": [30, 40, 3],
        "dtype": "float32",
    }
    assert document["problem"]["padding"] == "reflect"
    assert (document["sizes"], document["repeat"], document["warmup"]) == ([3, 5], 2, 1)
    assert document["threads"] == 2
    assert "skipped at size k" in document["skip_rule"]
    cell = document["results"][0]
    assert set(cell) == {
        "size",
        "contender",
        "status",
        "algorithm",
        "median_s",
        "min_s",
        "max_s",
        "q1_s",
        "q3_s",
        "times_s",
        "winner",
        "note",
    }
    assert cell["min_s"] <= cell["q1_s"] <= cell["median_s"] <= cell["q3_s"] <= cell["max_s"]
    assert [w["size"] for w in document["winners"]] == [3, 5]
    marked = {(c["size"], c["contender"]) for c in document["results"] if c["winner"]}
    assert marked == {(w["size"], w["contender"]) for w in document["winners"]}
    assert {"python", "numpy", "scipy", "imconv"} <= set(document["versions"])
    assert document["machine"]["cores"] >= 1
    pillow = next(
        c
        for c in document["results"]
        if c["contender"] == "PIL.ImageFilter.Kernel" and c["size"] == 3
    )
    assert pillow["status"] == "ok"


def test_csv_has_one_row_per_contender_and_size(result) -> None:
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert list(rows[0]) == list(comparison.CSV_COLUMNS)
    assert len(rows) == len(result.timings)
    assert {row["kind"] for row in rows} == {"algorithm", "peer"}
    assert sum(row["winner"] == "True" for row in rows) == 2
    auto = next(row for row in rows if row["contender"] == "auto")
    assert float(auto["min_s"]) <= float(auto["median_s"])
    assert auto["runs"] == "2"


def test_pillow_is_unsupported_beyond_5x5_and_on_other_channel_counts() -> None:
    peers, _ = contenders.peer_contenders(threads=1)
    pillow = next(p for p in peers if p.name == "PIL.ImageFilter.Kernel")
    rgb = pillow.prepare(np.zeros((4, 5, 3), np.float32))
    assert pillow.unsupported(rgb, 5) == ""
    assert "3x3 or 5x5" in pillow.unsupported(rgb, 7)
    assert "L and RGB" in pillow.unsupported(pillow.prepare(np.zeros((4, 5, 2), np.float32)), 3)


def test_every_peer_computes_the_same_convolution_as_imconv() -> None:
    image = bench.bench_image(random_size=(32, 24), seed=1).pixels
    kernel = bench.random_kernel(5, seed=2) / 25
    expected = imconv_reference(image, kernel)
    inner = (slice(4, -4), slice(4, -4))  # away from the borders fftconvolve pads with zeros
    peers, _ = contenders.peer_contenders(threads=1)
    for peer in peers:
        got = np.asarray(peer.run(peer.prepare(image), kernel), dtype=np.float32)
        got = got.reshape(image.shape)
        if peer.name.startswith("PIL"):  # 8-bit output: clipped and rounded
            want = np.clip(expected[inner], 0, 255)
            np.testing.assert_allclose(got[inner], want, atol=1.01, err_msg=peer.name)
        else:
            np.testing.assert_allclose(got[inner], expected[inner], atol=1e-3, err_msg=peer.name)


def imconv_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from imconv.engine import convolve

    return convolve(image, kernel, padding="reflect", channel_axis=-1, algorithm="direct")


def test_the_default_image_is_the_sample_or_a_random_image_of_its_size(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)  # a source checkout: samples/ here, if not beside the package
    sample = bench.bench_image()
    assert sample.source == "samples/astronaut.png"
    assert sample.pixels.shape == (512, 512, 3)
    monkeypatch.setattr(bench.run, "SAMPLE", Path("/nonexistent/astronaut.png"))
    assert bench.bench_image().source == "samples/astronaut.png"  # found in the checkout
    monkeypatch.chdir(tmp_path)  # an installed package run elsewhere
    fallback = bench.bench_image(seed=4)
    assert fallback.source == "random 512x512 RGB (seed 4)"
    assert fallback.pixels.shape == (512, 512, 3)
    assert fallback.pixels.dtype == np.float32


def test_a_grayscale_file_gets_a_channel_axis(tmp_path: Path) -> None:
    path = small_image(tmp_path, sample="camera.png", size=(20, 10))
    assert bench.bench_image(path).pixels.shape == (10, 20, 1)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (bench.parse_sizes, "3,x", "sizes must be positive integers"),
        (bench.parse_sizes, "0,3", "sizes must be positive integers"),
        (bench.parse_shape, "640", "random must be a size WIDTHxHEIGHT"),
        (contenders.parse_algorithms, "fft,fast", "algorithms must be one of auto, direct"),
    ],
)
def test_bad_option_values_name_the_option(parse, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_option_values_parse() -> None:
    assert bench.parse_sizes("7, 3,5,3") == (3, 5, 7)
    assert bench.parse_shape("640X480") == (640, 480)
    assert contenders.parse_algorithms("FFT,auto,fft") == (Algorithm.FFT, Algorithm.AUTO)


def test_the_command_prints_a_table_with_winners_and_the_setting() -> None:
    out = imconv("bench", *FAST, "--algorithms", "direct,fft").stdout
    assert "random 40x30 RGB (seed 0)" in out
    assert "threads" in out
    assert "direct" in out
    assert "fft" in out
    assert "*" in out
    assert "crossover" in out


def test_the_command_writes_json_or_csv_for_machines() -> None:
    document = json.loads(imconv("bench", *FAST, "--algorithms", "fft", "--json").stdout)
    assert [r["contender"] for r in document["results"]] == ["fft", "fft"]
    rows = list(csv.DictReader(io.StringIO(imconv("bench", *FAST, "--csv").stdout)))
    assert len(rows) == 2 * 5
    result = imconv("bench", *FAST, "--json", "--csv", expect=2)
    assert_one_line_error(result.stderr, "--json")


def test_the_command_names_missing_peers_and_bad_options(monkeypatch) -> None:
    monkeypatch.setattr(contenders, "_installed", lambda name: False)
    out = imconv("bench", *FAST, "--algorithms", "fft", "--peers").stdout
    assert "imconv[bench]" in out
    result = imconv("bench", "--random", "40x30", "--sizes", "three", expect=2)
    assert_one_line_error(result.stderr, "--sizes", "'three'")


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed (imconv[plot])")
def test_the_chart_is_written_as_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "bench.png"
    imconv("bench", *FAST, "--algorithms", "direct,fft", "--peers", "--plot", chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["bench.png"]


def test_without_matplotlib_plot_fails_first_with_a_one_line_hint(monkeypatch, tmp_path) -> None:
    if HAS_MATPLOTLIB:
        monkeypatch.setattr(plot, "_installed", lambda name: False)
    result = imconv("bench", *FAST, "--plot", tmp_path / "bench.png", expect=1)
    assert_one_line_error(result.stderr, "matplotlib", hint="pip install 'imconv[plot]'")
    assert not list(tmp_path.iterdir())


def test_plot_paths_are_checked_before_any_work(tmp_path: Path) -> None:
    result = imconv("bench", *FAST, "--plot", tmp_path / "bench.gif", expect=2)
    assert_one_line_error(result.stderr, "--plot", ".png")
    result = imconv("bench", *FAST, "--plot", tmp_path / "missing" / "b.png", expect=1)
    assert_one_line_error(result.stderr, "does not exist")


def test_the_installed_command_runs_a_benchmark_on_a_file(tmp_path: Path) -> None:
    path = small_image(tmp_path, size=(40, 30))
    done = run_imconv("bench", path, "--sizes", "3", "--repeat", "1", "--threads", "1", "--json")
    document = json.loads(done.stdout)
    assert document["image"]["shape"] == [30, 40, 3]
    assert document["threads"] == 1
    assert document["image"]["source"] == str(path)


def test_budget_skips_what_would_run_too_long() -> None:
    result = imconv(
        "bench",
        "--random",
        "64x48",
        "--sizes",
        "3,9",
        "--algorithms",
        "direct,fft",
        "--repeat",
        "1",
        "--budget",
        "0.0000001",
        "--json",
    )
    rows = json.loads(result.stdout)["results"]
    status = {(row["contender"], row["size"]): row["status"] for row in rows}
    assert status[("direct", 3)] == status[("direct", 9)] == "skipped"
    assert "budget" in next(row["note"] for row in rows if row["contender"] == "direct")
    assert status[("fft", 9)] != "skipped"  # FFT's cost does not grow with the kernel area
