"""Batches on a real Dask cluster: LocalCluster worker processes on 127.0.0.1. The outputs
equal the local executor's byte for byte, and a worker killed while its tasks run loses
no file. These tests run in CI (marker `dask`, never skipped): the test extra installs
imconv[dask]."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from helpers import imconv
from PIL import Image
from trees import copies, files, mixed_tree

from imconv.batch import BatchTask, Naming, Outcome, Selection, assign_outputs, run_batch
from imconv.cluster import local_options
from imconv.kernels import load_kernel
from imconv.stream import Recipe

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two single-threaded worker processes on 127.0.0.1, as ``--scheduler local`` starts."""
    with LocalCluster(**local_options(2)) as local:
        yield local


def output_folder(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    out.mkdir()
    (out / "blocked").write_text("a file where the mirrored folder should be")
    return out


def test_a_cluster_writes_what_the_local_executor_writes(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    photos = mixed_tree(tmp_path / "photos")
    local, remote = output_folder(tmp_path, "local"), output_folder(tmp_path, "dask")
    args = ("apply", "gaussian:sigma=1", photos, "--recursive", "--then", "sharpen")
    imconv(*args, "-o", local, "--workers", "2", "--quiet", expect=3)
    result = imconv(
        *args,
        "-o",
        remote,
        "--scheduler",
        cluster.scheduler_address,
        "--report",
        tmp_path / "dask.json",
        expect=3,
    )
    assert len(files(local)) == 7  # six images and the blocking file
    assert files(remote) == files(local)
    for name in files(local):
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    failures = [line for line in result.stderr.splitlines() if line.startswith("imconv: ")]
    assert len(failures) == 3  # stderr is not a terminal: a plain line per failure
    assert all(line.startswith(f"imconv: {photos}") for line in failures)
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("6 written, 3 failed, 1 skipped (not images); ")
    assert summary.endswith(f"on {cluster.scheduler_address}")


def test_scheduler_local_starts_a_cluster_for_the_run(tmp_path: Path) -> None:
    copies(tmp_path / "in", 4, (64, 48))
    (tmp_path / "out").mkdir()
    result = imconv(
        "apply",
        "blur",
        tmp_path / "in",
        "-o",
        tmp_path / "out",
        "--scheduler",
        "local",
        "--workers",
        "2",
        "--verbose",
    )
    assert files(tmp_path / "out") == [f"{n:02d}_blur.png" for n in range(4)]
    lines = result.stderr.strip().splitlines()
    assert sorted(line.split("] ", 1)[1].split(" -> ")[0] for line in lines[:4]) == [
        str(tmp_path / "in" / f"{n:02d}.png") for n in range(4)
    ]  # progress follows the tasks as they finish
    assert lines[-1].startswith("4 written, 0 failed; ")
    assert lines[-1].endswith("on a local Dask cluster")


def test_a_worker_killed_while_tasks_run_loses_no_file(tmp_path: Path) -> None:
    [first] = copies(tmp_path / "in", 1, (480, 320), suffix=".jpg")
    for number in range(1, 24):
        shutil.copyfile(first, tmp_path / "in" / f"{number:02d}.jpg")
    out = tmp_path / "out"
    out.mkdir()
    batch = assign_outputs(
        [str(tmp_path / "in")], str(out), naming=Naming("_box"), selection=Selection()
    )
    # A direct 15x15 box: about 0.1 s a file, so both workers are busy when one is killed.
    recipe = Recipe(kernels=(load_kernel("box:size=15"),))
    task = BatchTask(recipe.with_options(algorithm="direct", threads=1))
    with LocalCluster(**local_options(2)) as local, Client(local) as client:
        pids = client.run(os.getpid)  # worker address -> process id
        killed: list[int] = []

        def kill_a_busy_worker(outcome: Outcome) -> None:
            busy = [address for address, keys in client.processing().items() if keys]
            if not killed and busy:
                killed.append(pids[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)

        address = local.scheduler_address
        result = run_batch(batch, task, workers=2, scheduler=address, on_outcome=kill_a_busy_worker)
        assert len(killed) == 1
        assert killed[0] not in client.run(os.getpid).values()  # the nanny started a new one
    assert (len(result.records), result.failures, result.not_done) == (24, [], 0)
    names = files(out)
    assert names == [f"{n:02d}_box.jpg" for n in range(24)]  # every output, no temporary file
    reference = (out / names[0]).read_bytes()
    for name in names:
        with Image.open(out / name) as image:
            image.load()
        assert (out / name).read_bytes() == reference, name  # same input, same whole output


def test_a_scheduler_nobody_listens_at_is_one_clear_error(tmp_path: Path) -> None:
    """Nothing listens on this port: the run says which address it could not reach and
    how to start a scheduler, and writes nothing."""
    import socket

    with socket.socket() as probe:  # a free port, closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    photos = tmp_path / "in"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (16, 12), (40, 80, 120)).save(photos / name)
    result = imconv("apply", "blur", photos, "-o", tmp_path / "out",
                    "--scheduler", f"tcp://127.0.0.1:{port}", expect=None)  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'" in result.stderr
    assert "dask scheduler" in result.stderr  # the hint
    assert not list((tmp_path / "out").glob("*.png"))
