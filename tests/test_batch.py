"""Batch planning: finding inputs, naming outputs, refusing conflicts before any work, and
running jobs so that one failure does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from imconv.batch import (
    BatchResult,
    Job,
    check_report,
    default_output,
    find_images,
    plan_jobs,
    run_jobs,
)
from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    KernelError,
    OutputExistsError,
)


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """photos/{a.png, b.JPG, notes.txt, .hidden.png, sub/c.tif, sub/deeper/d.webp, .git/e.png}."""
    root = tmp_path / "photos"
    for name in ("a.png", "b.JPG", "notes.txt", ".hidden.png", "sub/c.tif", "sub/deeper/d.webp"):
        touch(root / name)
    touch(root / ".git" / "e.png")
    touch(root / "sub" / "deeper" / "README")
    return root


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "slug", "suffix", "expected"),
    [
        ("dir/photo.jpg", "blur", None, "dir/photo_blur.jpg"),
        ("photo.tar.png", "gaussian-sigma2", None, "photo.tar_gaussian-sigma2.png"),
        ("dir/photo.jpg", "sobel-x_sobel-y", ".png", "dir/photo_sobel-x_sobel-y.png"),
        ("noext", "box", None, "noext_box"),
    ],
)
def test_default_output(source: str, slug: str, suffix: str | None, expected: str) -> None:
    assert default_output(Path(source), slug, suffix) == Path(expected)


def test_one_input_writes_beside_it(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.jpg")
    jobs, skipped = plan_jobs([str(photo)], None, slug="blur")
    assert jobs == [Job(str(photo), str(tmp_path / "photo_blur.jpg"))]
    assert skipped == 0


def test_one_input_with_an_output_file_folder_or_stdout(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.jpg")
    (tmp_path / "out").mkdir()
    cases = {
        str(tmp_path / "result.png"): str(tmp_path / "result.png"),
        str(tmp_path / "out"): str(tmp_path / "out" / "photo_blur.jpg"),
        "-": "-",
    }
    for output, destination in cases.items():
        jobs, _ = plan_jobs([str(photo)], output, slug="blur")
        assert [job.destination for job in jobs] == [destination]
        assert not jobs[0].mirrored


def test_a_suffix_changes_the_format_of_default_names(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.jpg")
    jobs, _ = plan_jobs([str(photo)], None, slug="blur", suffix=".tiff")
    assert jobs[0].destination == str(tmp_path / "photo_blur.tiff")


def test_stdin(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert plan_jobs(["-"], "-", slug="blur")[0] == [Job("-", "-")]
    jobs, _ = plan_jobs(["-"], str(tmp_path / "out"), slug="blur")
    assert jobs == [Job("-", str(tmp_path / "out" / "stdin_blur.png"))]
    with pytest.raises(InvalidParameterError, match=r"-o must be given when reading stdin"):
        plan_jobs(["-"], None, slug="blur")
    with pytest.raises(InvalidParameterError, match=r"INPUT must be the only input"):
        plan_jobs(["-", str(touch(tmp_path / "a.png"))], str(tmp_path / "out"), slug="blur")


def test_several_inputs_go_to_the_output_folder(tmp_path: Path) -> None:
    first, second = touch(tmp_path / "a.png"), touch(tmp_path / "in" / "b.jpg")
    out = tmp_path / "out"
    out.mkdir()
    jobs, _ = plan_jobs([str(first), str(second)], str(out), slug="box")
    assert [(job.destination, job.mirrored) for job in jobs] == [
        (str(out / "a_box.png"), True),
        (str(out / "b_box.jpg"), True),
    ]


@pytest.mark.parametrize("output", [None, "-", "file.png", "missing-folder"])
def test_several_inputs_need_an_existing_output_folder(tmp_path: Path, output) -> None:
    inputs = [str(touch(tmp_path / "a.png")), str(touch(tmp_path / "b.png"))]
    target = None if output in (None, "-") else str(tmp_path / output)
    with pytest.raises(InvalidParameterError, match=r"-o must be an existing folder"):
        plan_jobs(inputs, output if target is None else target, slug="blur")


def test_a_folder_input_mirrors_the_tree_with_recursive(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    jobs, skipped = plan_jobs([str(tree)], str(out), slug="blur", recursive=True)
    assert [(Path(job.source).relative_to(tree).as_posix(), job.destination) for job in jobs] == [
        ("a.png", str(out / "a_blur.png")),
        ("b.JPG", str(out / "b_blur.JPG")),
        ("sub/c.tif", str(out / "sub" / "c_blur.tif")),
        ("sub/deeper/d.webp", str(out / "sub" / "deeper" / "d_blur.webp")),
    ]
    assert all(job.mirrored for job in jobs)
    assert skipped == 2  # notes.txt and sub/deeper/README; hidden files are not counted
    assert not (out / "sub").exists()  # planning creates nothing


def test_a_folder_input_without_recursive_takes_its_own_files(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    jobs, skipped = plan_jobs([str(tree)], str(tmp_path / "out"), slug="blur")
    assert [Path(job.source).name for job in jobs] == ["a.png", "b.JPG"]
    assert skipped == 1


def test_missing_input_is_an_image_read_error(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"cannot read '.*nope\.png': no such file or folder"):
        plan_jobs([str(tmp_path / "nope.png")], None, slug="blur")


# --- conflicts, all found before any work ---------------------------------------------------


def test_an_existing_output_is_refused_unless_overwriting(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.png")
    touch(tmp_path / "photo_blur.png")
    with pytest.raises(OutputExistsError, match=r"photo_blur\.png' exists") as caught:
        plan_jobs([str(photo)], None, slug="blur")
    assert caught.value.hint == "use --overwrite to replace it"
    jobs, _ = plan_jobs([str(photo)], None, slug="blur", overwrite=True)
    assert jobs[0].destination == str(tmp_path / "photo_blur.png")


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, overwrite: bool) -> None:
    photo = touch(tmp_path / "photo.png")
    (tmp_path / "sub").mkdir()
    for output in (photo, tmp_path / "sub" / ".." / "photo.png"):
        with pytest.raises(OutputExistsError, match=r"is an input; it is never overwritten"):
            plan_jobs([str(photo)], str(output), slug="blur", overwrite=overwrite)


def test_an_output_that_is_another_input_is_refused(tmp_path: Path) -> None:
    """a.png -> out/a_blur.png, while out/a_blur.png is itself an input."""
    out = tmp_path / "out"
    first, second = touch(tmp_path / "a.png"), touch(out / "a_blur.png")
    with pytest.raises(OutputExistsError, match=r"is an input"):
        plan_jobs([str(first), str(second)], str(out), slug="blur", overwrite=True)


def test_two_inputs_mapping_to_one_output_are_refused(tmp_path: Path) -> None:
    first, second = touch(tmp_path / "x" / "a.png"), touch(tmp_path / "y" / "a.png")
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputExistsError, match=r"inputs '.*x/a\.png' and '.*y/a\.png' would both"):
        plan_jobs([str(first), str(second)], str(tmp_path / "out"), slug="blur", overwrite=True)
    with pytest.raises(OutputExistsError, match=r"would both write"):
        plan_jobs([str(first), str(first)], str(tmp_path / "out"), slug="blur")


def test_two_folders_with_the_same_names_collide(tmp_path: Path) -> None:
    touch(tmp_path / "x" / "a.png")
    touch(tmp_path / "y" / "a.png")
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputExistsError, match=r"would both write"):
        plan_jobs([str(tmp_path / "x"), str(tmp_path / "y")], str(tmp_path / "out"), slug="b")


def test_the_first_conflict_stops_planning_of_a_large_batch(tmp_path: Path) -> None:
    inputs = [str(touch(tmp_path / "in" / f"{n:02d}.png")) for n in range(20)]
    out = tmp_path / "out"
    touch(out / "19_blur.png")
    with pytest.raises(OutputExistsError, match=r"19_blur\.png"):
        plan_jobs(inputs, str(out), slug="blur")
    assert sorted(p.name for p in out.iterdir()) == ["19_blur.png"]


def test_the_report_may_not_be_an_input_or_an_output(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.png")
    jobs, _ = plan_jobs([str(photo)], None, slug="blur")
    check_report(tmp_path / "report.json", jobs)
    with pytest.raises(OutputExistsError, match=r"report '.*photo\.png' is an input") as caught:
        check_report(tmp_path / "sub" / ".." / "photo.png", jobs)
    assert caught.value.hint == "choose another name for --report"
    with pytest.raises(OutputExistsError, match=r"is also the output of '.*photo\.png'"):
        check_report(str(tmp_path / "photo_blur.png"), jobs)
    check_report(tmp_path / "r.json", [Job("-", "-")])


# --- finding images ---------------------------------------------------------------------------


def test_find_images_skips_hidden_and_counts_non_images(tree: Path) -> None:
    found, skipped = find_images(tree, recursive=False)
    assert [p.name for p in found] == ["a.png", "b.JPG"]
    assert skipped == 1
    found, skipped = find_images(tree, recursive=True)
    assert [p.relative_to(tree).as_posix() for p in found] == [
        "a.png",
        "b.JPG",
        "sub/c.tif",
        "sub/deeper/d.webp",
    ]
    assert skipped == 2


def test_find_images_of_an_empty_folder(tmp_path: Path) -> None:
    assert find_images(tmp_path, recursive=True) == ([], 0)


# --- running -------------------------------------------------------------------------------------


def test_run_jobs_records_failures_and_goes_on(tmp_path: Path) -> None:
    jobs = [Job(f"{name}.png", str(tmp_path / "out" / "deep" / f"{name}_x.png"), mirrored=True)
            for name in ("a", "b", "c", "d")]  # fmt: skip
    reasons = {
        "b.png": ImageReadError("cannot read 'b.png': not an image"),
        "c.png": PermissionError(13, "Permission denied"),
        "d.png": KernelError("bad kernel", hint="try another"),
    }

    def process(job: Job) -> str:
        if job.source in reasons:
            raise reasons[job.source]
        return f"record of {job.source}"

    result = run_jobs(jobs, process)
    assert result.records == ["record of a.png"]
    assert [source for source, _ in result.failures] == ["b.png", "c.png", "d.png"]
    assert result.failures[0][1] == "cannot read 'b.png': not an image"
    assert "Permission denied" in result.failures[1][1]
    assert isinstance(result.errors[1], ImageWriteError)
    assert isinstance(result.errors[1].__cause__, PermissionError)
    assert result.errors[2].hint == "try another"
    assert (tmp_path / "out" / "deep").is_dir()  # mirrored folders are made for the job


def test_run_jobs_lets_other_exceptions_through(tmp_path: Path) -> None:
    def process(job: Job) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_jobs([Job("a.png", str(tmp_path / "a_x.png"))], process)


def test_batch_result_fail() -> None:
    result = BatchResult()
    error = ImageReadError("cannot read 'x.png'")
    result.fail("x.png", error)
    assert result.failures == [("x.png", "cannot read 'x.png'")]
    assert result.errors == [error]
