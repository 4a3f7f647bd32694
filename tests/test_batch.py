"""Deciding a batch's outputs: finding inputs (folders, patterns, hidden files, link loops), naming
outputs, and refusing every conflict before any work. Files here are placeholders: nothing
is read or written, so the tests are pure file-system checks."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from imconv.batch import (
    BatchResult,
    Existing,
    Job,
    Naming,
    Outcome,
    Selection,
    WorkerError,
    assign_outputs,
    check_report,
    find_images,
    find_inputs,
)
from imconv.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidParameterError,
    OutputExistsError,
    UnknownNameError,
)

BLUR = Naming("_blur")


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


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def mirrored(jobs: list[Job], root: Path, out: Path) -> list[tuple[str, str]]:
    """(source below root, destination below out) of each job, as POSIX paths."""
    return [
        (
            Path(job.source).relative_to(root).as_posix(),
            Path(job.destination).relative_to(out).as_posix(),
        )
        for job in jobs
    ]


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "naming", "expected"),
    [
        ("dir/photo.jpg", Naming("_blur"), "dir/photo_blur.jpg"),
        ("photo.tar.png", Naming("_gaussian-sigma2"), "photo.tar_gaussian-sigma2.png"),
        ("dir/photo.jpg", Naming("_sobel-x_sobel-y", ".png"), "dir/photo_sobel-x_sobel-y.png"),
        ("noext", Naming("_box"), "noext_box.png"),  # formats imconv cannot write: PNG
        ("scan.pbm", Naming("_box"), "scan_box.png"),
        ("icon.ICO", Naming("_box"), "icon_box.png"),
        ("photo.jp2", Naming("_box"), "photo_box.png"),
        ("photo.PPM", Naming("_box"), "photo_box.PPM"),
        ("dir/photo.jpg", Naming(""), "dir/photo.jpg"),
    ],
)
def test_output_names(source: str, naming: Naming, expected: str) -> None:
    assert naming.name(Path(source)) == Path(expected)


def test_naming_from_the_options() -> None:
    assert Naming.parse(slug="blur") == Naming("_blur")
    assert Naming.parse(slug="blur", suffix="-soft", format="PNG") == Naming("-soft", ".png")
    assert Naming.parse(slug="blur", suffix="", format=".tiff") == Naming("", ".tiff")
    with pytest.raises(InvalidParameterError, match=r"suffix must be text without path sep"):
        Naming.parse(slug="blur", suffix="/../../etc")
    with pytest.raises(InvalidParameterError, match=r"format must be one of .*png.*; got 'xyz'"):
        Naming.parse(slug="blur", format="xyz")


def test_one_input_writes_beside_it(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.jpg")
    batch = assign_outputs([str(photo)], None, naming=BLUR)
    assert batch.jobs == [Job(str(photo), str(tmp_path / "photo_blur.jpg"))]
    assert (batch.single, batch.skipped, batch.existing) == (True, 0, [])


def test_one_input_with_an_output_file_folder_or_stdout(tmp_path: Path, out: Path) -> None:
    photo = touch(tmp_path / "photo.jpg")
    cases = {
        str(tmp_path / "result.png"): str(tmp_path / "result.png"),
        str(out): str(out / "photo_blur.jpg"),
        "-": "-",
    }
    for output, destination in cases.items():
        batch = assign_outputs([str(photo)], output, naming=BLUR)
        assert [job.destination for job in batch.jobs] == [destination]
        assert not batch.jobs[0].mirrored


def test_a_format_changes_generated_names_and_must_agree_with_an_output_file(
    tmp_path: Path,
) -> None:
    photo = touch(tmp_path / "photo.jpg")
    batch = assign_outputs([str(photo)], None, naming=Naming("_blur", ".tiff"))
    assert batch.jobs[0].destination == str(tmp_path / "photo_blur.tiff")
    assign_outputs([str(photo)], str(tmp_path / "x.TIFF"), naming=Naming("_blur", ".tiff"))
    with pytest.raises(InvalidParameterError, match=r"format must be the suffix of `output`"):
        assign_outputs([str(photo)], str(tmp_path / "x.png"), naming=Naming("_blur", ".tiff"))


def test_stdin(tmp_path: Path, out: Path) -> None:
    assert assign_outputs(["-"], "-", naming=BLUR).jobs == [Job("-", "-")]
    assert assign_outputs(["-"], str(out), naming=BLUR).jobs == [
        Job("-", str(out / "stdin_blur.png"))
    ]
    with pytest.raises(InvalidParameterError, match=r"output must be given when reading stdin"):
        assign_outputs(["-"], None, naming=BLUR)
    with pytest.raises(InvalidParameterError, match=r"inputs must be the only input"):
        assign_outputs(["-", str(touch(tmp_path / "a.png"))], str(out), naming=BLUR)


def test_several_inputs_go_to_the_output_folder(tmp_path: Path, out: Path) -> None:
    first, second = touch(tmp_path / "a.png"), touch(tmp_path / "in" / "b.jpg")
    batch = assign_outputs([str(first), str(second)], str(out), naming=Naming("_box"))
    assert [(job.destination, job.mirrored) for job in batch.jobs] == [
        (str(out / "a_box.png"), True),
        (str(out / "b_box.jpg"), True),
    ]
    assert not batch.single


@pytest.mark.parametrize(
    ("output", "why"),
    [
        ("-", "-"),
        ("file.png", "end it with / to make a folder of that name"),
        ("a file", "it is a file"),
    ],
)
def test_several_inputs_need_an_output_folder(tmp_path: Path, output: str, why: str) -> None:
    inputs = [str(touch(tmp_path / "a.png")), str(touch(tmp_path / "b.png"))]
    touch(tmp_path / "a file")
    target = output if output == "-" else str(tmp_path / output)
    with pytest.raises(InvalidParameterError, match=r"output must be a folder") as caught:
        assign_outputs(inputs, target, naming=BLUR)
    assert why in str(caught.value)


@pytest.mark.parametrize("output", ["missing", "missing/deeper/", "file.png/"])
def test_a_missing_output_folder_is_decided_now_and_made_when_the_jobs_run(
    tmp_path: Path, output: str
) -> None:
    inputs = [str(touch(tmp_path / "a.png")), str(touch(tmp_path / "b.png"))]
    target = f"{tmp_path}/{output}"  # as typed: a trailing / names a folder
    batch = assign_outputs(inputs, target, naming=BLUR)
    folder = tmp_path / output.rstrip("/")
    assert [job.destination for job in batch.jobs] == [
        str(folder / "a_blur.png"),
        str(folder / "b_blur.png"),
    ]
    assert all(job.mirrored and job.root == target for job in batch.jobs)
    assert not folder.exists()  # nothing is made before any work


def test_several_files_without_an_output_write_beside_each_input(tmp_path: Path) -> None:
    first, second = touch(tmp_path / "a.png"), touch(tmp_path / "in" / "b.jpg")
    batch = assign_outputs([str(first), str(second)], None, naming=BLUR)
    assert batch.jobs == [
        Job(str(first), str(tmp_path / "a_blur.png")),
        Job(str(second), str(tmp_path / "in" / "b_blur.jpg")),
    ]
    assert not batch.single
    assert all(job.root is None and not job.mirrored for job in batch.jobs)


def test_a_folder_or_a_pattern_needs_an_output(tree: Path) -> None:
    for inputs in ([str(tree)], [str(tree / "*.png")], [str(tree / "a.png"), str(tree)]):
        with pytest.raises(InvalidParameterError, match=r"output must be a folder") as caught:
            assign_outputs(inputs, None, naming=BLUR)
        assert "None" not in str(caught.value)


def test_a_folder_input_mirrors_the_tree_with_recursive(tree: Path, out: Path) -> None:
    batch = assign_outputs([str(tree)], str(out), naming=BLUR, selection=Selection(recursive=True))
    assert mirrored(batch.jobs, tree, out) == [
        ("a.png", "a_blur.png"),
        ("b.JPG", "b_blur.JPG"),
        ("sub/c.tif", "sub/c_blur.tif"),
        ("sub/deeper/d.webp", "sub/deeper/d_blur.webp"),
    ]
    assert all(job.mirrored for job in batch.jobs)
    assert batch.skipped == 2  # notes.txt and sub/deeper/README; hidden files are not counted
    assert not (out / "sub").exists()  # planning creates nothing


def test_a_folder_input_without_recursive_takes_its_own_files(tree: Path, out: Path) -> None:
    batch = assign_outputs([str(tree)], str(out), naming=BLUR)
    assert [Path(job.source).name for job in batch.jobs] == ["a.png", "b.JPG"]
    assert batch.skipped == 1
    assert not batch.single


def test_a_folder_with_one_image_is_still_a_batch(tmp_path: Path, out: Path) -> None:
    touch(tmp_path / "in" / "only.png")
    assert not assign_outputs([str(tmp_path / "in")], str(out), naming=BLUR).single


def test_missing_input_is_an_image_read_error(tmp_path: Path, out: Path) -> None:
    with pytest.raises(ImageReadError, match=r"cannot read '.*nope\.png': no such file or folder"):
        assign_outputs([str(tmp_path / "nope.png")], None, naming=BLUR)
    with pytest.raises(ImageReadError, match=r"nope\.png': no such file or folder"):
        assign_outputs(
            [str(touch(tmp_path / "a.png")), str(tmp_path / "nope.png")], str(out), naming=BLUR
        )


# --- patterns, include and exclude -----------------------------------------------------------


def test_include_and_exclude_match_names_or_paths_without_case(tree: Path, out: Path) -> None:
    def sources(**patterns: tuple[str, ...]) -> list[str]:
        selection = Selection(recursive=True, **patterns)
        batch = assign_outputs([str(tree)], str(out), naming=BLUR, selection=selection)
        return [Path(job.source).relative_to(tree).as_posix() for job in batch.jobs]

    assert sources(include=("*.jpg",)) == ["b.JPG"]
    assert sources(include=("*.png", "*.tif")) == ["a.png", "sub/c.tif"]
    assert sources(exclude=("*.webp", "a.*")) == ["b.JPG", "sub/c.tif"]
    assert sources(include=("sub/*",)) == ["sub/c.tif", "sub/deeper/d.webp"]
    assert sources(exclude=("deeper",)) == ["a.png", "b.JPG", "sub/c.tif"]  # folder pruned
    assert sources(include=("*.tif",), exclude=("sub/*",)) == []


def test_files_left_out_by_patterns_are_counted_apart(tree: Path) -> None:
    found = find_inputs([str(tree)], Selection(recursive=True, include=("*.png",)))
    assert [relative.as_posix() for _, relative in found.pairs] == ["a.png"]
    assert (found.excluded, found.skipped) == (5, 0)


def test_a_glob_pattern_input_mirrors_below_its_fixed_part(tree: Path, out: Path) -> None:
    batch = assign_outputs(
        [str(tree / "sub" / "*" / "*.webp"), str(tree / "*.png")], str(out), naming=BLUR
    )
    assert mirrored(batch.jobs, tree, out) == [
        ("sub/deeper/d.webp", "deeper/d_blur.webp"),
        ("a.png", "a_blur.png"),  # .hidden.png is not matched by *
    ]
    with pytest.raises(ImageReadError, match=r"'.*\*\.gif': no file matches the pattern"):
        assign_outputs([str(tree / "*.gif")], str(out), naming=BLUR)


def test_a_recursive_glob(tree: Path, out: Path) -> None:
    batch = assign_outputs([str(tree / "**" / "*.*")], str(out), naming=BLUR)
    assert mirrored(batch.jobs, tree, out) == [
        ("a.png", "a_blur.png"),
        ("b.JPG", "b_blur.JPG"),
        ("sub/c.tif", "sub/c_blur.tif"),
        ("sub/deeper/d.webp", "sub/deeper/d_blur.webp"),
    ]
    assert batch.skipped == 1  # notes.txt


def test_a_file_whose_name_looks_like_a_pattern_is_a_file(tmp_path: Path) -> None:
    odd = touch(tmp_path / "shot[1].png")
    batch = assign_outputs([str(odd)], None, naming=BLUR)
    assert batch.single
    assert batch.jobs[0].destination == str(tmp_path / "shot[1]_blur.png")


# --- links, hidden files, the output folder --------------------------------------------------


def test_symlink_loops_are_visited_once(tree: Path, out: Path) -> None:
    (tree / "sub" / "deeper" / "loop").symlink_to(tree)  # photos/sub/deeper/loop -> photos
    (tree / "again").symlink_to(tree / "sub")  # a second way into sub
    batch = assign_outputs([str(tree)], str(out), naming=BLUR, selection=Selection(recursive=True))
    assert mirrored(batch.jobs, tree, out) == [
        ("a.png", "a_blur.png"),
        ("b.JPG", "b_blur.JPG"),
        ("again/c.tif", "again/c_blur.tif"),  # sub is read once, through the first name
        ("again/deeper/d.webp", "again/deeper/d_blur.webp"),
    ]


def test_linked_files_and_broken_links(tree: Path, out: Path) -> None:
    (tree / "link.png").symlink_to(tree / "a.png")
    (tree / "broken.png").symlink_to(tree / "gone.png")
    batch = assign_outputs([str(tree)], str(out), naming=BLUR)
    assert [Path(job.source).name for job in batch.jobs] == ["a.png", "b.JPG", "link.png"]


def test_an_output_folder_inside_the_input_is_not_read(tree: Path) -> None:
    inside = tree / "sub" / "out"
    touch(inside / "a_blur.png")  # a previous run's output
    batch = assign_outputs(
        [str(tree)],
        str(inside),
        naming=BLUR,
        selection=Selection(recursive=True),
        existing=Existing.SKIP,
    )
    assert "sub/out/a_blur.png" not in [
        Path(j.source).relative_to(tree).as_posix() for j in batch.jobs
    ]
    assert [job.destination for job in batch.existing] == [str(inside / "a_blur.png")]


def test_writing_into_the_input_folder_itself(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    touch(folder / "a.png")
    batch = assign_outputs([str(folder)], str(folder), naming=BLUR)
    assert batch.jobs == [Job(str(folder / "a.png"), str(folder / "a_blur.png"), mirrored=True)]


def test_an_output_never_escapes_the_output_folder(tree: Path, out: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "sub").symlink_to(elsewhere)  # out/sub -> outside: sub/c.tif would land there
    with pytest.raises(ImageWriteError, match=r"c_blur\.tif' would be written outside the out"):
        assign_outputs([str(tree)], str(out), naming=BLUR, selection=Selection(recursive=True))
    assert list(elsewhere.iterdir()) == []


def test_dot_dot_in_inputs_stays_inside(tmp_path: Path, out: Path) -> None:
    photo = touch(tmp_path / "a" / "b" / "photo.png")
    dotted = str(tmp_path / "a" / "b" / ".." / "b" / "photo.png")
    batch = assign_outputs(
        [dotted, str(tmp_path / "a" / ".." / "a" / "*" / "*.png")],
        str(out),
        naming=Naming(""),
        existing=Existing.OVERWRITE,
    )
    for job in batch.jobs:
        assert os.path.realpath(job.destination).startswith(str(out) + os.sep), job
    assert next(job.destination for job in batch.jobs) == str(out / "photo.png")
    assert photo.read_bytes() == b"x"


# --- conflicts, all found before any work ---------------------------------------------------


def test_an_existing_output_is_refused_unless_kept_or_replaced(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.png")
    touch(tmp_path / "photo_blur.png")
    with pytest.raises(OutputExistsError, match=r"photo_blur\.png' exists") as caught:
        assign_outputs([str(photo)], None, naming=BLUR)
    assert caught.value.hint == "use `overwrite` to replace it, or `skip_existing` to keep it"
    batch = assign_outputs([str(photo)], None, naming=BLUR, existing=Existing.OVERWRITE)
    assert batch.jobs[0].destination == str(tmp_path / "photo_blur.png")
    batch = assign_outputs([str(photo)], None, naming=BLUR, existing=Existing.SKIP)
    assert batch.jobs == []
    assert len(batch.existing) == 1


def test_every_existing_output_is_listed_before_any_work(tmp_path: Path, out: Path) -> None:
    inputs = [str(touch(tmp_path / "in" / f"{n:02d}.png")) for n in range(20)]
    for n in (3, 5, 7, 11, 13, 17, 19):
        touch(out / f"{n:02d}_blur.png")
    with pytest.raises(OutputExistsError) as caught:
        assign_outputs(inputs, str(out), naming=BLUR)
    message = str(caught.value)
    assert message.startswith("7 outputs exist: '")
    assert all(f"{n:02d}_blur.png'" in message for n in (3, 5, 7, 11, 13))
    assert message.endswith("13_blur.png' and 2 more")
    assert "`skip_existing`" in (caught.value.hint or "")
    assert len(list(out.iterdir())) == 7
    batch = assign_outputs(inputs, str(out), naming=BLUR, existing=Existing.SKIP)
    assert len(batch.jobs) == 13
    assert len(batch.existing) == 7


def test_overwrite_and_skip_existing_exclude_each_other() -> None:
    assert Existing.from_flags(overwrite=False, skip_existing=False) is Existing.ERROR
    assert Existing.from_flags(overwrite=True, skip_existing=False) is Existing.OVERWRITE
    assert Existing.from_flags(overwrite=False, skip_existing=True) is Existing.SKIP
    with pytest.raises(
        InvalidParameterError, match=r"overwrite must be given without skip_existing"
    ):
        Existing.from_flags(overwrite=True, skip_existing=True)


@pytest.mark.parametrize("existing", list(Existing))
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, existing: Existing) -> None:
    photo = touch(tmp_path / "photo.png")
    (tmp_path / "sub").mkdir()
    for output in (photo, tmp_path / "sub" / ".." / "photo.png"):
        with pytest.raises(OutputExistsError, match=r"is an input; it is never overwritten"):
            assign_outputs([str(photo)], str(output), naming=BLUR, existing=existing)
    with pytest.raises(OutputExistsError, match=r"is an input"):  # an empty suffix, same folder
        assign_outputs([str(tmp_path)], str(tmp_path), naming=Naming(""), existing=existing)


def test_an_output_that_is_another_input_is_refused(tmp_path: Path) -> None:
    """a.png -> out/a_blur.png, while out/a_blur.png is itself an input."""
    out = tmp_path / "out"
    first, second = touch(tmp_path / "a.png"), touch(out / "a_blur.png")
    with pytest.raises(OutputExistsError, match=r"is an input"):
        assign_outputs(
            [str(first), str(second)], str(out), naming=BLUR, existing=Existing.OVERWRITE
        )


def test_two_inputs_mapping_to_one_output_are_refused(tmp_path: Path, out: Path) -> None:
    first, second = touch(tmp_path / "x" / "a.png"), touch(tmp_path / "y" / "a.png")
    with pytest.raises(OutputExistsError, match=r"inputs '.*x/a\.png' and '.*y/a\.png' would both"):
        assign_outputs(
            [str(first), str(second)], str(out), naming=BLUR, existing=Existing.OVERWRITE
        )
    with pytest.raises(OutputExistsError, match=r"would both write"):
        assign_outputs([str(first), str(first)], str(out), naming=BLUR)
    third = touch(tmp_path / "x" / "a.jpg")  # a.png and a.jpg both become a_blur.png
    with pytest.raises(OutputExistsError, match=r"would both write '.*a_blur\.png'"):
        assign_outputs([str(first), str(third)], str(out), naming=Naming("_blur", ".png"))


def test_two_folders_with_the_same_names_collide(tmp_path: Path, out: Path) -> None:
    touch(tmp_path / "x" / "a.png")
    touch(tmp_path / "y" / "a.png")
    with pytest.raises(OutputExistsError, match=r"would both write"):
        assign_outputs([str(tmp_path / "x"), str(tmp_path / "y")], str(out), naming=BLUR)


def test_the_report_may_not_be_an_input_or_an_output(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photo.png")
    jobs = assign_outputs([str(photo)], None, naming=BLUR).jobs
    check_report(tmp_path / "report.json", jobs)
    with pytest.raises(OutputExistsError, match=r"report '.*photo\.png' is an input") as caught:
        check_report(tmp_path / "sub" / ".." / "photo.png", jobs)
    assert caught.value.hint == "choose another name for `report`"
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


# --- results and outcomes -------------------------------------------------------------------


def test_batch_result_keeps_job_order_and_counts_unfinished_jobs() -> None:
    jobs = [Job(f"{n}.png", f"out/{n}.png") for n in range(4)]
    error = ImageReadError("cannot read '2.png'")
    outcomes = [
        Outcome(3, jobs[3], record="r3"),
        Outcome(2, jobs[2], error=error),
        Outcome(0, jobs[0], record="r0"),
        Outcome(1, jobs[1]),
    ]
    result = BatchResult()
    result.add(outcomes, [*jobs, Job("4.png", "out/4.png")])
    assert result.records == ["r0", "r3"]
    assert result.failures == [("2.png", "cannot read '2.png'")]
    assert result.errors == [error]
    assert result.not_done == 2  # job 1 was interrupted, job 4 never started
    assert [job.source for job in result.unfinished] == ["1.png", "4.png"]
    assert outcomes[3].interrupted
    assert not outcomes[0].interrupted


def test_an_outcome_crosses_processes_with_its_error_class_hint_and_stack() -> None:
    def failing() -> None:
        raise UnknownNameError("--padding", "reflekt", ["reflect", "zero"])

    try:
        failing()
    except UnknownNameError as error:
        outcome = Outcome(7, Job("a.png", "b.png"), error=error)
    copy = pickle.loads(pickle.dumps(outcome))
    assert (copy.index, copy.job, copy.record) == (7, Job("a.png", "b.png"), None)
    assert type(copy.error) is UnknownNameError  # rebuilt although its constructor differs
    assert str(copy.error) == str(outcome.error)
    assert copy.error.hint == "did you mean 'reflect'?"
    assert copy.error.choices == ("reflect", "zero")
    assert isinstance(copy.error.__cause__, WorkerError)
    assert "in failing" in str(copy.error.__cause__)
    assert pickle.loads(pickle.dumps(Outcome(1, Job("a", "b")))).interrupted
