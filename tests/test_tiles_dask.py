"""Tiles on a real Dask cluster: LocalCluster worker processes on 127.0.0.1. The output
file equals the local threads' byte for byte, a worker killed while it filters strips
loses none, and workers that cannot read the input say so. These tests run in CI (marker
`dask`, never skipped): the test extra installs imconv[tiles]."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import tifffile
from distributed import Client, LocalCluster
from test_tiles import photo, recipe, save_pair

from imconv.cluster import local_options
from imconv.errors import ImageReadError
from imconv.tiles import TileProgress, filter_tiled
from imconv.tiles._runners import DaskRunner

pytestmark = pytest.mark.dask

CUT = {"chunk_rows": 24, "band_rows": 8, "tile": 16, "memory": "1GiB"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two single-threaded worker processes on 127.0.0.1, as ``scheduler="local"`` starts."""
    with LocalCluster(**local_options(2)) as local:
        yield local


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tiff, _ = save_pair(tmp_path_factory.mktemp("in"), photo(203, 157, "RGBA"), "RGBA", tile=16)
    return tiff


@pytest.mark.parametrize(
    "chain",
    [("gaussian:sigma=2",), ("sobel", "blur"), ("box:size=4",)],
    ids=["gaussian", "set-then-blur", "even-box-mean-rescale"],
)
def test_a_cluster_writes_what_threads_write(chain: tuple[str, ...], cluster: LocalCluster,
                                             source: Path, tmp_path: Path) -> None:  # fmt: skip
    options = {"padding": "mean", "range_rule": "rescale"} if chain == ("box:size=4",) else {}
    steps = recipe(*chain, **options)
    local = filter_tiled(source, tmp_path / "local.tif", steps, workers=2, **CUT)
    remote = filter_tiled(source, tmp_path / "dask.tif", steps,
                          scheduler=cluster.scheduler_address, **CUT)  # fmt: skip
    assert (tmp_path / "dask.tif").read_bytes() == (tmp_path / "local.tif").read_bytes()
    assert remote.scheduler == cluster.scheduler_address
    assert (remote.workers, local.workers) == (2, 2)
    assert remote.strips == local.strips > 5
    assert [s.stage for s in remote.stages] == [s.stage for s in local.stages]


def test_scheduler_local_starts_a_cluster_for_the_run(source: Path, tmp_path: Path) -> None:
    steps = recipe("sharpen")
    filter_tiled(source, tmp_path / "local.zarr", steps, **CUT)
    record = filter_tiled(source, tmp_path / "dask.zarr", steps, scheduler="local", workers=2,
                          **CUT)  # fmt: skip
    assert record.scheduler == "a local Dask cluster"
    assert record.workers == 2
    import zarr

    local = zarr.open_array(str(tmp_path / "local.zarr"), mode="r")[:]
    remote = zarr.open_array(str(tmp_path / "dask.zarr"), mode="r")[:]
    assert (local == remote).all()


def test_a_worker_killed_while_strips_run_loses_none(tmp_path: Path) -> None:
    tiff, _ = save_pair(tmp_path / "in", photo(480, 320), "RGB", tile=16)
    # A direct 15x15 box on strips of 16 rows: both workers are busy when one is killed.
    steps = recipe("box:size=15", algorithm="direct", threads=1)
    cut = {**CUT, "chunk_rows": 16, "band_rows": 16}
    filter_tiled(tiff, tmp_path / "local.tif", steps, **cut)
    with LocalCluster(**local_options(2)) as local, Client(local) as client:
        pids = client.run(os.getpid)  # worker address -> process id
        killed: list[int] = []

        def kill_a_busy_worker(progress: TileProgress) -> None:
            busy = [address for address, keys in client.processing().items() if keys]
            if not killed and busy and progress.done >= 2:
                killed.append(pids[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)

        record = filter_tiled(tiff, tmp_path / "dask.tif", steps, progress=kill_a_busy_worker,
                              scheduler=local.scheduler_address, **cut)  # fmt: skip
        assert len(killed) == 1
        assert killed[0] not in client.run(os.getpid).values()  # the nanny started a new one
    assert record.strips == 30
    assert sorted(os.listdir(tmp_path)) == ["dask.tif", "in", "local.tif"]
    assert (tmp_path / "dask.tif").read_bytes() == (tmp_path / "local.tif").read_bytes()
    assert tifffile.imread(tmp_path / "dask.tif").shape == (480, 320, 3)


def test_ctrl_c_on_a_cluster_leaves_no_output(cluster: LocalCluster, source: Path,
                                              tmp_path: Path) -> None:  # fmt: skip
    def interrupt(progress: TileProgress) -> None:
        if progress.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        filter_tiled(source, tmp_path / "out.tif", recipe("blur"), progress=interrupt,
                     scheduler=cluster.scheduler_address, **CUT)  # fmt: skip
    assert os.listdir(tmp_path) == []


def test_workers_that_cannot_read_the_input_say_so(cluster: LocalCluster, tmp_path: Path) -> None:
    with Client(cluster) as client:
        runner = DaskRunner(client, cluster.scheduler_address)
        runner.check_readable(str(Path(__file__)))  # every worker reads this one
        with pytest.raises(ImageReadError, match="the Dask workers cannot read") as raised:
            runner.check_readable(str(tmp_path / "only-here.tif"))
    assert "(2 of 2;" in raised.value.message
    assert "shared file system" in (raised.value.hint or "")
