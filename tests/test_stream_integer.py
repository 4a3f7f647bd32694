"""The exact integer path of 8-bit photos (``stream/_integer.py``): the same bytes as the
float path it replaces, taken only where that holds: a whole run in int16 (one kernel,
clip, 8-bit out), or the first step's sums in int16 (kernel sets, chains, other rules)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import read_pixels, small_image

import imconv
from imconv.stream._integer import IntegerKernel

KERNELS = ["blur", "sharpen", "1 2 1; 2 4 2; 1 2 1", "box:size=2", "0 1 0; 1 2 1; 0 0 3",
           "sobel", "kirsch", "laplacian"]  # fmt: skip
PADDINGS = ["reflect", "zero", "constant", "replicate", "symmetric", "wrap"]


def _run(source: Path, output: Path, kernel: str, **options: object) -> tuple[np.ndarray, str]:
    """The output's samples and the algorithm the first step's stage names."""
    normalize = kernel[0].isdigit()
    result = imconv.apply(kernel, source, output=output, normalize=normalize, overwrite=True,
                          check=True, **options)  # fmt: skip
    (record,) = result.records
    (step,) = [stage for stage in record.stages if stage.stage.startswith("step 1")]
    return read_pixels(output), step.algorithm


@pytest.mark.parametrize("rows", ["0", "5"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_integer_runs_give_the_float_path_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: str, rows: str
) -> None:
    monkeypatch.setenv("IMCONV_BAND_ROWS", rows)
    colour = small_image(tmp_path, size=(67, 45))
    grey = small_image(tmp_path, "grey.png", sample="camera.png", size=(53, 38))
    for source in (colour, grey):
        for padding in PADDINGS:
            for correlate in (False, True):
                options = {"padding": padding, "cval": 7.0, "correlate": correlate}
                exact, used = _run(source, tmp_path / "int.png", kernel, **options)
                floats, forced = _run(source, tmp_path / "float.png", kernel,
                                      algorithm="direct", **options)  # fmt: skip
                assert (used, forced) == ("integer", "direct")
                np.testing.assert_array_equal(exact, floats, err_msg=f"{padding} {correlate}")


@pytest.mark.parametrize("then", ["gaussian:sigma=1", "sobel-y"])
def test_a_chain_starts_in_integers_and_goes_on_in_floats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    monkeypatch.setenv("IMCONV_BAND_ROWS", "6")
    source = small_image(tmp_path, size=(61, 47))
    for kernel in ("sobel-x", "blur"):
        exact, used = _run(source, tmp_path / "int.png", kernel, then=then)
        floats, _ = _run(source, tmp_path / "float.png", kernel, then=then, algorithm="direct")
        assert used == "integer"
        np.testing.assert_array_equal(exact, floats)


@pytest.mark.parametrize("options", [{"range": "abs"}, {"range": "rescale"}, {"depth": "16"}])
def test_integer_sums_under_other_rules_and_depths(tmp_path: Path, options: dict) -> None:
    source = small_image(tmp_path, size=(61, 47))
    for kernel in ("laplacian", "sharpen"):
        exact, used = _run(source, tmp_path / "int.png", kernel, **options)
        floats, _ = _run(source, tmp_path / "float.png", kernel, algorithm="direct", **options)
        assert used == "integer"
        np.testing.assert_array_equal(exact, floats)


def test_integer_blur_is_the_exact_rational_result(tmp_path: Path) -> None:
    """Each output is round-half-even of the exact sum, reflect padding (an oracle in
    Python integers and fractions, no floats)."""
    source = small_image(tmp_path, size=(9, 7))
    out, used = _run(source, tmp_path / "out.png", "blur")
    assert used == "integer"
    pixels = read_pixels(source).astype(np.int64)
    padded = np.pad(pixels, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    weights = {(0, 1): 1, (1, 0): 1, (1, 1): 4, (1, 2): 1, (2, 1): 1}
    for y, x, c in np.ndindex(pixels.shape):
        total = sum(w * int(padded[y + i, x + j, c]) for (i, j), w in weights.items())
        exact = Fraction(total, 8)
        floor = exact.numerator // exact.denominator
        rest = exact - floor
        rounded = floor + (rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2))
        assert out[y, x, c] == min(max(rounded, 0), 255)


@pytest.mark.parametrize(
    ("kernel", "options"),
    [
        ("box:size=3", {}),  # divided by 9: the float path rounds
        ("blur", {"linear": True}),
        ("blur", {"stride": 2}),
        ("blur", {"padding": "mean"}),
        ("blur", {"verify": True}),
        ("blur", {"algorithm": "direct"}),
        ("blur", {"channels": "r"}),
        ("gaussian:sigma=3", {}),  # separable
    ],
)
def test_integer_path_is_not_taken_where_it_would_not_be_exact(
    tmp_path: Path, kernel: str, options: dict[str, object]
) -> None:
    source = small_image(tmp_path, size=(40, 30))
    suffix = ".png"
    _, used = _run(source, tmp_path / f"out{suffix}", kernel, **options)
    assert used != "integer"


def test_sixteen_bit_images_stay_on_the_float_path(tmp_path: Path) -> None:
    from PIL import Image

    deep = tmp_path / "deep.png"
    Image.fromarray(np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50).save(deep)
    _, used = _run(deep, tmp_path / "out.png", "blur")
    assert used in ("direct", "matmul")


@pytest.mark.parametrize("shift", range(9))
def test_rounding_is_half_to_even_for_every_sum(shift: int) -> None:
    """Every int16 sum a kernel can reach, divided by 2**shift: as np.rint then clip."""
    top = np.iinfo(np.int16).max - (1 << shift)
    sums = np.arange(-top, top + 1, dtype=np.int16).reshape(1, -1, 1)
    kernel = IntegerKernel(taps=(), shift=shift, plan=None, columns=np.arange(0), fill=0)  # type: ignore[arg-type]
    rounded = kernel.rounded(sums.copy())
    expected = np.clip(np.rint(sums.astype(np.float64) / (1 << shift)), 0, 255)
    np.testing.assert_array_equal(rounded, expected)


def test_the_timing_table_says_the_step_ran_in_integers(tmp_path: Path) -> None:
    from helpers import imconv as command

    source = small_image(tmp_path, size=(64, 48))
    shown = command("apply", "blur", source, "-o", tmp_path / "out.png", "--timing").stderr
    assert "integer" in shown
    assert "run exactly in int16 on the 8-bit samples, sums / 8" in shown.replace("\n", " ")


def test_the_canvas_takes_stored_rows_only_for_8_bit_grey_or_colour() -> None:
    from imconv.images import Canvas, plan_output

    deep = Canvas(plan_output("out.png", channels=1, mode="I;16"), height=2, width=3, channels=1)
    with pytest.raises(ValueError, match="integer L or RGB rows, not for I;16"):
        deep.put_stored(0, np.zeros((2, 3, 1), np.int16))
    grey = Canvas(plan_output("out.png", channels=1), height=2, width=3, channels=1)
    grey.put_stored(0, np.full((2, 3, 1), 7, np.int16))
    assert grey.stored_samples().tolist() == [[[7]] * 3] * 2
