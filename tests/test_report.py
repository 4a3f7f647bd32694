"""Timing records as Rich tables (rendered into a fixed-width string console) and as the
``report`` JSON document (:mod:`imconv.run`)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import DATA, hidden_files, imconv, small_image
from rich.console import Console

from imconv import report
from imconv.batch import BatchResult
from imconv.choices import Operation
from imconv.errors import ImageWriteError, ImconvError
from imconv.kernels import Kernel, list_presets, load_kernel
from imconv.run import _document as document_of
from imconv.stream import ImageRecord, Recipe, StageTime


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()


def record(source: str = "photo.png", scale: float = 1.0) -> ImageRecord:
    """A 1000x500 RGB image (0.5 megapixels) with hand-set stage times."""
    result = ImageRecord(
        source,
        output="photo_blur.png",
        width=1000,
        height=500,
        channels=3,
        mode="RGB",
        output_shape=(500, 1000, 3),
        range_rule="clip",
    )
    result.stages = [
        StageTime("read", 0.010 * scale),
        StageTime("prepare", 0.00001),
        StageTime("step 1: blur", 0.005 * scale, "direct", "model: direct 4 ms (estimated)"),
        StageTime("map", 0.001 * scale),
        StageTime("write", 0.020 * scale),
    ]
    return result


def rows(text: str) -> dict[str, list[str]]:
    """Table rows by their first cell, split on the column lines."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.replace("┃", "│").strip("│").split("│")]
        if len(cells) > 1 and cells[0]:
            found[cells[0]] = cells[1:]
    return found


# --- tables ------------------------------------------------------------------------------


def test_timing_table_has_a_row_per_stage_and_a_total() -> None:
    text = render(report.timing_table(record()))
    assert text.splitlines()[0].strip() == "photo.png  1000x500x3 (RGB)"
    table = rows(text)
    assert table["read"] == ["10.0", "50.0", "", ""]
    assert table["prepare"] == ["0.0", "-", "", ""]  # under 0.1 ms: no meaningful rate
    assert table["step 1: blur"] == ["5.0", "100.0", "direct", "model: direct 4 ms (estimated)"]
    assert table["map"] == ["1.0", "500.0", "", ""]
    assert table["write"] == ["20.0", "25.0", "", ""]
    assert table["total"][:2] == ["36.0", "13.9"]
    assert max(len(line) for line in text.splitlines()) <= 100


def test_summary_table_of_a_batch() -> None:
    records = [record(f"{n}.png", scale=n) for n in (1, 2, 3)]
    text = render(report.summary_table(records))
    assert text.splitlines()[0].strip() == "3 images"
    table = rows(text)
    assert table["stage"] == ["total ms", "median ms", "p95 ms"]
    assert table["read"] == ["60.0", "20.0", "30.0"]
    assert table["step 1: blur"] == ["30.0", "10.0", "15.0"]


def test_stage_summary_counts_totals_median_and_p95() -> None:
    records = [record(f"{n}.png", scale=n) for n in range(1, 21)]
    summary = {row["stage"]: row for row in document_of.stage_summary(records)}
    assert list(summary) == ["read", "prepare", "step 1: blur", "map", "write"]
    read = summary["read"]
    assert read["count"] == 20
    assert read["total_s"] == pytest.approx(0.010 * 210)
    assert read["median_s"] == pytest.approx(0.010 * 10.5)
    assert read["p95_s"] == pytest.approx(0.010 * 19)  # nearest rank: ceil(0.95 * 20) = 19


@pytest.mark.parametrize(
    ("count", "rank"), [(1, 1), (2, 2), (10, 10), (19, 19), (20, 19), (21, 20), (40, 38), (100, 95)]
)
def test_p95_is_the_nearest_rank(count: int, rank: int) -> None:
    records = [record(f"{n}.png", scale=n) for n in range(1, count + 1)]
    [read] = [row for row in document_of.stage_summary(records) if row["stage"] == "read"]
    assert rank == math.ceil(0.95 * count)
    assert read["p95_s"] == pytest.approx(0.010 * rank)


def test_failure_table_names_each_failed_input() -> None:
    failures = [("b.png", "cannot read 'b.png': not an image"), ("d.png", "no space left")]
    text = render(report.failure_table(failures))
    assert text.splitlines()[0].strip() == "2 failed"
    table = rows(text)
    assert table["b.png"] == ["cannot read 'b.png': not an image"]
    assert table["d.png"] == ["no space left"]


def test_kernel_view_of_a_separable_kernel() -> None:
    text = render(report.kernel_view(load_kernel("sobel-x")))
    lines = text.splitlines()
    assert lines[0].startswith("sobel-x  Sobel x-gradient")
    assert [line.split() for line in lines[1:4]] == [
        ["1", "0", "-1"],
        ["2", "0", "-2"],
        ["1", "0", "-1"],
    ]
    facts = {line.split()[0]: " ".join(line.split()[1:]) for line in lines[4:]}
    assert facts["shape"] == "3x3"
    assert facts["sum"] == "0"
    assert facts["weights"] == "9"
    assert facts["rank"] == "1 (separable)"
    assert facts["term"] == "1 column [0.7598 1.52 0.7598] row [1.316 0 -1.316]"
    assert facts["receptive"] == "field 3x3"


def test_kernel_view_of_a_gaussian_shows_sum_and_rank() -> None:
    text = render(report.kernel_view(load_kernel("gaussian:sigma=2")))
    assert "sum              1 " in text
    assert "rank             1 (separable)" in text


def test_kernel_view_of_a_bank_and_of_a_magnitude() -> None:
    text = render(report.kernel_view(load_kernel(DATA / "bank5.npy")))
    assert "bank: 5 outputs x 3 inputs" in text
    assert "shape            5x3x3x3" in text
    assert "weights          135" in text
    assert "rank" not in text
    text = render(report.kernel_view(load_kernel("sobel")))
    assert "magnitude of 2 kernels:" in text


def test_heat_map_writes_the_values() -> None:
    text = render(report.heat_map(np.array([[0.5, -2.0], [100000.0, 3.0]])))
    assert [line.split() for line in text.splitlines()] == [["0.5", "-2"], ["1e+05", "3"]]


def test_preset_table_has_a_row_per_preset() -> None:
    presets = list_presets()
    text = render(report.preset_table(presets))
    table = rows(text)
    for info in presets:
        assert info.name in table, info.name
    assert table["box"][:3] == ["3x3", "1", "1 separable"]
    assert table["blur"][:3] == ["3x3", "1", "2"]
    assert table["gaussian"][3].split()[0] == "sigma=1"


# --- the JSON document -------------------------------------------------------------------------


def recipe() -> Recipe:
    chain = Recipe(
        kernels=(load_kernel("blur"), load_kernel("sobel-x")), operation=Operation.CORRELATE
    )
    return chain.with_options(stride=(2, 3))


def test_options_dict_describes_each_step() -> None:
    options = document_of.options_dict(recipe())
    assert options[1] == {
        "kernel": "sobel-x",
        "mode": "same",
        "padding": "reflect",
        "cval": 0.0,
        "stride": (2, 3),
        "dilation": 1,
        "correlate": True,
        "algorithm": "auto",
    }


def check_report(document: dict) -> None:
    """The documented structure of a ``--report`` file, with the types of every field."""
    assert document["report_version"] == 1
    assert isinstance(document["kernels"], list)
    assert document["kernels"]
    assert all(isinstance(k, str) for k in document["kernels"])
    assert isinstance(document["options"], list)
    assert isinstance(document["threads"], int)
    assert document["threads"] >= 1
    versions = document["versions"]
    assert {"python", "imconv", "numpy", "scipy", "pillow"} <= set(versions)
    assert {"system", "machine", "cores"} <= set(document["machine"])
    for image in document["images"]:
        assert {
            "input",
            "output",
            "width",
            "height",
            "channels",
            "mode",
            "output_shape",
            "range",
            "megapixels",
            "seconds",
            "stages",
        } <= set(image)
        for stage in image["stages"]:
            assert set(stage) == {
                "stage",
                "seconds",
                "megapixels_per_second",
                "algorithm",
                "reason",
            }
            assert isinstance(stage["seconds"], float)
            assert stage["seconds"] >= 0
            rate = stage["megapixels_per_second"]
            assert rate is None or rate > 0
            if stage["stage"].startswith("step "):
                assert stage["algorithm"] in {"direct", "matmul", "fft", "separable"}
                assert isinstance(stage["reason"], str)
            else:
                assert stage["algorithm"] is None
                assert stage["reason"] is None
    for failure in document["failures"]:
        assert set(failure) == {"input", "error"}
    summary = document["summary"]
    assert summary["images"] == len(document["images"])
    assert summary["failed"] == len(document["failures"])
    for row in summary["stages"]:
        assert set(row) == {"stage", "count", "total_s", "median_s", "p95_s"}
        assert row["median_s"] <= row["p95_s"] <= row["total_s"] + 1e-12


def test_report_document_of_hand_made_records() -> None:
    result = BatchResult(records=[record("a.png"), record("b.png", scale=3)])
    result.fail("c.png", ImconvError("not an image"))
    document = document_of.report_document(recipe(), result, threads=4, single=True)
    document = json.loads(json.dumps(document, default=str))  # JSON-ready
    check_report(document)
    assert document["threads"] == 4
    assert document["failures"] == [{"input": "c.png", "error": "not an image"}]
    first = document["images"][0]
    assert (first["width"], first["height"], first["output_shape"]) == (1000, 500, [500, 1000, 3])
    assert first["stages"][0]["megapixels_per_second"] == pytest.approx(50.0)
    assert document["summary"]["seconds"] == pytest.approx(4 * 0.036 + 2 * 0.00001)
    assert document["summary"]["megapixels"] == pytest.approx(1.0)


def test_a_zero_second_stage_has_no_rate() -> None:
    zero = record()
    zero.stages[1].seconds = 0.0
    assert document_of.record_dict(zero)["stages"][1]["megapixels_per_second"] is None


def test_the_command_writes_the_documented_report(tmp_path: Path) -> None:
    first, second = small_image(tmp_path, "a.png"), small_image(tmp_path, "c.png")
    (tmp_path / "b.png").write_text("not an image")
    (tmp_path / "out").mkdir()
    args = [first, tmp_path / "b.png", second, "-o", tmp_path / "out", "--then", "sobel-x"]
    imconv("apply", "blur", *args, "--report", tmp_path / "run.json", "--stride", "2", expect=3)
    document = json.loads((tmp_path / "run.json").read_text())
    check_report(document)
    assert document["kernels"] == ["blur", "sobel-x"]
    assert [o["stride"] for o in document["options"]] == [2, 2]
    assert [image["input"] for image in document["images"]] == [str(first), str(second)]
    assert document["images"][0]["output_shape"] == [12, 16, 3]  # stride 2, twice
    assert document["images"][0]["range"] == "abs"
    assert [s["stage"] for s in document["images"][0]["stages"]] == [
        "read",
        "prepare",
        "step 1: blur",
        "step 2: sobel-x",
        "map",
        "write",
    ]
    assert document["failures"][0]["input"] == str(tmp_path / "b.png")
    assert "not an image" in document["failures"][0]["error"]
    assert {row["stage"]: row["count"] for row in document["summary"]["stages"]}["read"] == 2
    assert hidden_files(tmp_path) == []


def test_write_report_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    document_of.write_report(target, {"report_version": 1})
    assert json.loads(target.read_text()) == {"report_version": 1}
    assert hidden_files(tmp_path) == []


def test_write_report_errors_are_image_write_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"cannot write the report .*: it is a folder"):
        document_of.write_report(tmp_path, {})
    with pytest.raises(ImageWriteError, match=r"folder '.*missing' is not writable"):
        document_of.write_report(tmp_path / "missing" / "r.json", {})
    assert list(tmp_path.iterdir()) == []


def test_kernel_view_of_a_kernel_with_a_bias() -> None:
    text = render(report.kernel_view(Kernel(np.eye(3), name="diagonal", bias=2.0)))
    assert text.startswith("diagonal")
    assert "sum              3" in text
