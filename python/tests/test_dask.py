"""densebin on Dask: the same grid as one machine's for any partitioning,
on the synchronous scheduler and on a LocalCluster of two worker
processes; files cut into byte ranges equal the command line's grid; a
worker killed mid-run changes nothing; a bad input fails with densebin's
own message."""

import os
import signal
import subprocess
import time

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import densebin
import densebin.dask

distributed = pytest.importorskip("distributed")

PARTITIONS = [1, 2, 3, 7, 16]
GRID = dict(width=37, height=23, layers="count,sum,minmax,std,zhist,weight", z_bins=8)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def points(n=60_000, seed=8):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rng.normal(0, 0.6, n) + 0.2 * x
    z = x * y + rng.normal(0, 0.1, n)
    w = rng.uniform(0, 2, n)
    x[::101] = np.nan
    z[::53] = np.inf
    return x, y, z, w


def assert_same_grid(a, b, what=""):
    """Integer layers and counters exactly; float layers to rounding (sums
    taken in another order); the same canvas."""
    assert (a.width, a.height, a.x_range, a.y_range, a.z_range) == (
        b.width,
        b.height,
        b.x_range,
        b.y_range,
        b.z_range,
    ), what
    assert a.counters == b.counters, what
    assert a.arrays().keys() == b.arrays().keys(), what
    for name, u in a.arrays().items():
        v = b.arrays()[name]
        if u.dtype.kind == "u":
            np.testing.assert_array_equal(u, v, err_msg=f"{what}: {name}")
        else:
            np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-9, err_msg=f"{what}: {name}")


@pytest.mark.parametrize("scheduler", ["sync", "cluster"])
def test_any_partitioning_gives_the_single_machine_grid(scheduler, request):
    sched = "sync" if scheduler == "sync" else None
    if scheduler == "cluster":
        request.getfixturevalue("client")
    x, y, z, w = points()
    want = densebin.bin(x, y, z, w, **GRID)
    frame = pd.DataFrame({"x": x, "y": y, "z": z, "w": w})
    for n in PARTITIONS:
        chunks = -(-len(x) // n)
        arrays = [da.from_array(c, chunks=chunks) for c in (x, y, z, w)]
        got = densebin.dask.bin(
            x=arrays[0], y=arrays[1], z=arrays[2], weight=arrays[3], scheduler=sched, **GRID
        )
        assert_same_grid(got, want, f"{n} array chunks on {scheduler}")
        ddf = dd.from_pandas(frame, npartitions=n)
        got = densebin.dask.bin(ddf, x="x", y="y", z="z", weight="w", scheduler=sched, **GRID)
        assert_same_grid(got, want, f"{n} DataFrame partitions on {scheduler}")
    # Given ranges are kept; split_every only reshapes the tree.
    ranges = dict(x_range=(-2, 2), y_range=(-1, 1), z_range=(-0.5, 0.5), layers="count,zhist")
    want = densebin.bin(x, y, z, **GRID | ranges)
    arrays = [da.from_array(c, chunks=5000) for c in (x, y, z)]
    for split_every in [2, 3, 100]:
        got = densebin.dask.bin(
            x=arrays[0],
            y=arrays[1],
            z=arrays[2],
            split_every=split_every,
            scheduler=sched,
            **GRID | ranges,
        )
        assert_same_grid(got, want, f"split_every {split_every}")


def test_canvas_points_on_a_dask_dataframe_is_the_pandas_result(client):
    x, y, z, _ = points(20_000)
    frame = pd.DataFrame({"x": x, "y": y, "z": z})
    ddf = dd.from_pandas(frame, npartitions=4)
    cvs = densebin.Canvas(plot_width=30, plot_height=20)
    for agg in [densebin.count(), densebin.mean("z"), densebin.max("z"), densebin.var("z")]:
        got, want = cvs.points(ddf, "x", "y", agg), cvs.points(frame, "x", "y", agg)
        if agg == densebin.count():
            xr.testing.assert_identical(got, want)
        else:
            xr.testing.assert_allclose(got, want, rtol=1e-9)
            assert got.attrs == want.attrs and got.dims == want.dims
    with pytest.raises(densebin.InvalidInputError, match="no column 'nope'"):
        cvs.points(ddf, "x", "nope")


def write_inputs(tmp_path):
    """The same points as text with a header, text without, raw f32 and
    .npy, in several files each."""
    x, y, z, _ = points(30_000)
    x[::101] = 0.25  # text writes no nan that the header sniffer minds
    xyz = np.c_[x, y, np.where(np.isfinite(z), z, 0.0)]
    files = {}
    for k, part in enumerate(np.array_split(xyz, 3)):
        head = tmp_path / f"head{k}.csv"
        np.savetxt(head, part, delimiter=",", header="x,y,z", comments="", fmt="%.17g")
        bare = tmp_path / f"bare{k}.txt"
        np.savetxt(bare, part, fmt="%.6f")
        f32 = tmp_path / f"p{k}.f32"
        part.astype(np.float32).tofile(f32)
        npy = tmp_path / f"p{k}.npy"
        np.save(npy, part.astype(np.float64))
        for kind, path in [("head", head), ("bare", bare), ("f32", f32), ("npy", npy)]:
            files.setdefault(kind, []).append(str(path))
    return files


def test_files_cut_into_byte_ranges_give_the_command_lines_grid(tmp_path, client):
    exe = os.environ.get("DENSEBIN")
    if not exe:
        pytest.skip("DENSEBIN (the command line) is not set")
    files = write_inputs(tmp_path)
    args = dict(width=40, height=30, layers="count,sum,minmax,zhist", z_bins=6)
    flags = ["--width", "40", "--height", "30", "--layers", "count,sum,minmax,zhist"]
    flags += ["--z-bins", "6", "-q"]
    for kind, paths in files.items():
        out = tmp_path / f"{kind}.h5"
        subprocess.run([exe, "bin", *paths, "-o", str(out), *flags], check=True)
        want = densebin.open(out)
        # Odd chunk sizes: every cut falls inside a line or a record.
        for chunk_bytes in [997, 12_345, 10**9]:
            got = densebin.dask.bin_files(paths, chunk_bytes=chunk_bytes, scheduler="sync", **args)
            assert_same_grid(got, want, f"{kind}, chunks of {chunk_bytes} bytes")
    # A glob, on the cluster's worker processes.
    pattern = str(tmp_path / "head*.csv")
    subprocess.run([exe, "bin", *files["head"], "-o", str(tmp_path / "h.h5"), *flags], check=True)
    got = densebin.dask.bin_files(pattern, chunk_bytes=50_000, **args)
    assert_same_grid(got, densebin.open(tmp_path / "h.h5"), "glob on a cluster")


def test_parts_of_files_from_python_merge_into_the_whole(tmp_path):
    files = write_inputs(tmp_path)["bare"]
    fixed = dict(x_range=(-3, 3), y_range=(-2, 2), z_range=(-1, 1), width=20, height=10)
    want = densebin.bin_files(files, **fixed)
    parts = [densebin.bin_files(files, part=(i, 7), **fixed) for i in range(1, 8)]
    assert_same_grid(densebin.merge(parts), want, "7 parts")
    with pytest.raises(densebin.InvalidInputError, match="needs x_range= and y_range="):
        densebin.bin_files(files, part=(1, 2))
    with pytest.raises(densebin.InvalidInputError, match="part=\\(3, 2\\) does not exist"):
        densebin.bin_files(files, part=(3, 2), **fixed)


def test_a_worker_killed_mid_run_changes_nothing(tmp_path, client):
    x, y, z, _ = points(400_000)
    path = tmp_path / "big.txt"
    np.savetxt(path, np.c_[np.nan_to_num(x), y, np.nan_to_num(z, posinf=0)], fmt="%.9f")
    args = dict(width=64, height=48, layers="count,sum,zhist", z_bins=8)
    args |= dict(x_range=(-3, 3), y_range=(-2, 2), z_range=(-1, 1))
    want = densebin.bin_files(path, **args)
    # Tasks of 5 kB: a few thousand, so that the run is still going when a
    # worker process dies in the middle of its tasks.
    delayed = densebin.dask.bin_files(path, chunk_bytes=5_000, compute=False, **args)
    pids = list(client.run(os.getpid).values())
    future = client.compute(delayed)
    while not any(client.processing().values()):
        time.sleep(0.01)
    time.sleep(0.2)
    assert not future.done(), "the run should still be going"
    os.kill(pids[0], signal.SIGKILL)
    got = future.result(timeout=120)
    assert_same_grid(got, want, "a worker killed")
    assert set(client.run(os.getpid).values()) != set(pids), "the worker was replaced"


def test_a_bad_input_fails_with_densebins_own_message(tmp_path, client):
    good = tmp_path / "good.txt"
    np.savetxt(good, np.random.default_rng(1).normal(size=(5000, 3)), fmt="%.5f")
    lines = good.read_text().splitlines()
    lines[3210] = "1.0 2.x 3.0"
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(densebin.InvalidInputError) as e:
        densebin.dask.bin_files([good, bad], chunk_bytes=20_000, x_range=(0, 1), y_range=(0, 1))
    message = str(e.value)
    assert f"{bad}:3211:5" in message and "\n" not in message, message
    assert e.value.__traceback__ is not None
    with pytest.raises(densebin.FileError, match="no_such.txt"):
        densebin.dask.bin_files([good, tmp_path / "no_such.txt"], x_range=(0, 1), y_range=(0, 1))


def test_grids_of_different_canvases_never_merge_across_workers(client):
    from dask import delayed

    a = delayed(densebin.bin)(
        np.zeros(3), np.zeros(3), width=4, height=4, x_range=(0, 1), y_range=(0, 1)
    )
    b = delayed(densebin.bin)(
        np.zeros(3), np.zeros(3), width=5, height=4, x_range=(0, 1), y_range=(0, 1)
    )
    with pytest.raises(densebin.InvalidInputError, match="merge"):
        client.compute(delayed(densebin.merge)([a, b])).result()
    # A grid comes back from a worker exactly (pickled as its arrays).
    g = client.compute(a).result()
    assert g == densebin.bin(
        np.zeros(3), np.zeros(3), width=4, height=4, x_range=(0, 1), y_range=(0, 1)
    )


def test_log_axes_on_dask_are_the_single_machine_grid(tmp_path):
    """Log axes across partitions and file parts: the ranges of the
    positive values found by the distributed range pass, and the same
    counts, as one densebin.bin or bin_files over everything."""
    x, y, z, _ = points()
    x, y = np.exp(x), np.abs(y)  # positive, with NaN, zeros where y was 0
    y[::37] = -y[::37]
    log = dict(width=40, height=30, x_axis="log", y_axis="log", layers="count")
    want = densebin.bin(x, y, **log)
    assert want.x_range[0] > 0 and want.y_range[0] > 0
    ddf = dd.from_pandas(pd.DataFrame({"x": x, "y": y}), npartitions=5)
    got = densebin.dask.bin(ddf, x="x", y="y", scheduler="sync", **log)
    assert_same_grid(got, want, "DataFrame partitions")
    path = tmp_path / "p.txt"
    np.savetxt(path, np.column_stack([x, y]), fmt="%.17g")
    want = densebin.bin_files(path, **log)
    got = densebin.dask.bin_files(path, chunk_bytes=100_000, scheduler="sync", **log)
    assert_same_grid(got, want, "file parts")
    cvs = densebin.Canvas(
        plot_width=40,
        plot_height=30,
        x_range=want.x_range,
        y_range=want.y_range,
        x_axis_type="log",
        y_axis_type="log",
    )
    frame = pd.DataFrame({"x": x, "y": y})
    xr.testing.assert_identical(cvs.points(ddf, "x", "y"), cvs.points(frame, "x", "y"))
