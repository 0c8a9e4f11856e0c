"""densebin.bin on numpy arrays: exact counts against an independent numpy
oracle, no copies of strided input, the same grid as the command line's,
grid round trips and merges, and every error as the right exception."""

import os
import subprocess

import numpy as np
import pytest

import densebin

W, H = 37, 23
X_RANGE, Y_RANGE = (-1.0, 2.0), (-0.5, 0.75)


def oracle_count(x, y, width, height, x_range, y_range):
    """datashader's Canvas.points mapping, written out in numpy: in float64,
    a multiply then an add (no fused multiply-add), the upper edge into the
    last pixel, NaN and points outside the ranges dropped."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    (x0, x1), (y0, y1) = x_range, y_range
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    tx, ty = -x0 * sx, -y0 * sy
    with np.errstate(invalid="ignore"):
        keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    i = np.minimum(np.trunc(x[keep] * sx + tx).astype(np.int64), width - 1)
    j = np.minimum(np.trunc(y[keep] * sy + ty).astype(np.int64), height - 1)
    out = np.zeros((height, width), np.uint64)
    np.add.at(out, (j, i), 1)
    return out


def assert_same_grid(a, b):
    """The same arrays: integer layers exactly, float layers to rounding
    (their sums may have been taken in another order)."""
    assert a.arrays().keys() == b.arrays().keys()
    for name, x in a.arrays().items():
        y = b.arrays()[name]
        if x.dtype.kind == "u":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12, err_msg=name)


def adversarial(lo, hi, n, rng):
    """Values on and around every pixel edge, the range's ends, NaN, ±inf,
    and random values inside and outside."""
    edges = np.linspace(lo, hi, n + 1)
    return np.concatenate(
        [
            edges,
            np.nextafter(edges, -np.inf),
            np.nextafter(edges, np.inf),
            [np.nan, np.inf, -np.inf, lo, hi, 1e300, -1e300],
            rng.uniform(lo - 0.3, hi + 0.3, 5000),
        ]
    )


def points(dtype, rng):
    x = adversarial(*X_RANGE, W, rng)
    y = rng.permutation(adversarial(*Y_RANGE, H, rng))[: len(x)]
    y = np.resize(y, len(x))
    with np.errstate(over="ignore"):  # ±1e300 is ±inf in float32
        return x.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_counts_equal_the_numpy_oracle(dtype):
    rng = np.random.default_rng(7)
    x, y = points(dtype, rng)
    g = densebin.bin(x, y, width=W, height=H, x_range=X_RANGE, y_range=Y_RANGE)
    want = oracle_count(x, y, W, H, X_RANGE, Y_RANGE)
    np.testing.assert_array_equal(g.count, want)
    c = g.counters
    assert c["points_read"] == len(x)
    assert c["points_binned"] == want.sum()
    assert c["points_read"] == c["points_binned"] + c["nonfinite_xy"] + c["out_of_range"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_memmap_columns_are_binned_in_place(tmp_path, dtype):
    rng = np.random.default_rng(11)
    n = 200_000
    path = tmp_path / "p.bin"
    mm = np.memmap(path, dtype=dtype, mode="w+", shape=(n, 3))
    mm[:, 0] = rng.normal(0.5, 0.6, n)
    mm[:, 1] = rng.normal(0.1, 0.3, n)
    mm[:, 2] = rng.normal(0.0, 1.0, n)
    mm.flush()
    X, Y, Z = np.memmap(path, dtype=dtype, mode="r", shape=(n, 3)).T
    assert not X.flags.c_contiguous
    g = densebin.bin(X, Y, Z, width=W, height=H, x_range=X_RANGE, y_range=Y_RANGE)
    np.testing.assert_array_equal(g.count, oracle_count(X, Y, W, H, X_RANGE, Y_RANGE))
    # The same points copied into contiguous float64 give the same grid.
    copy = densebin.bin(
        np.ascontiguousarray(X, np.float64),
        np.ascontiguousarray(Y, np.float64),
        np.ascontiguousarray(Z, np.float64),
        width=W,
        height=H,
        x_range=X_RANGE,
        y_range=Y_RANGE,
    )
    assert_same_grid(g, copy)
    assert g.layers == ["count", "sum", "minmax", "zhist"]


def test_fields_of_packed_records_are_binned_in_place(tmp_path):
    # (f8, f4, f8) records are 20 bytes: the f8 fields' stride is no
    # multiple of 8, and from one byte in, no value is aligned.
    rng = np.random.default_rng(12)
    n = 50_000
    records = np.zeros(n, dtype=[("x", "f8"), ("z", "f4"), ("y", "f8")])
    records["x"] = rng.normal(0.5, 0.6, n)
    records["y"] = rng.normal(0.1, 0.3, n)
    records["z"] = rng.normal(0.0, 1.0, n)
    records["x"][::50] = np.nan
    path = tmp_path / "records.bin"
    with path.open("wb") as f:
        f.write(b"\0")
        f.write(records.tobytes())
    mm = np.memmap(path, dtype=records.dtype, mode="r", offset=1, shape=(n,))
    for r in (records, mm):
        assert r["y"].strides == (20,)
        g = densebin.bin(
            r["x"], r["y"], r["z"], width=W, height=H, x_range=X_RANGE, y_range=Y_RANGE
        )
        np.testing.assert_array_equal(
            g.count, oracle_count(records["x"], records["y"], W, H, X_RANGE, Y_RANGE)
        )
        copy = densebin.bin(
            records["x"].copy(),
            records["y"].copy(),
            records["z"].astype(np.float64),
            width=W,
            height=H,
            x_range=X_RANGE,
            y_range=Y_RANGE,
        )
        assert_same_grid(g, copy)


def test_every_way_of_viewing_records_gives_the_grid_of_their_copies():
    # Columns that are fields of one array of records are decoded record by
    # record; any other mix is read column by column. Both must agree with
    # the same values copied into contiguous float64.
    rng = np.random.default_rng(13)
    a = rng.normal(0.3, 0.7, (20_000, 4))
    a[::31, 1] = np.nan
    f32 = a.astype(np.float32)
    separate = rng.normal(0, 1, 20_000)
    cases = {
        "columns of (N, 4) float32": (f32[:, 0], f32[:, 1], f32[:, 2], f32[:, 3]),
        "fields out of order": (f32[:, 2], f32[:, 0], f32[:, 3], None),
        "a slice of the rows": (f32[500:9000, 0], f32[500:9000, 1], f32[500:9000, 2], None),
        "every other row": (a[::2, 0], a[::2, 1], None, None),
        "rows backwards": (f32[::-1, 0], f32[::-1, 1], f32[::-1, 2], None),
        "z from another array": (a[:, 0], a[:, 1], separate, None),
        "mixed float32 and float64": (a[:, 0], a[:, 1], None, None),
    }
    for name, (x, y, z, w) in cases.items():
        layers = "count" + (",sum" if z is not None else "") + (",weight" if w is not None else "")
        grid = dict(width=W, height=H, x_range=X_RANGE, y_range=Y_RANGE, layers=layers)
        g = densebin.bin(x, y, z, w, **grid)

        def copy(c):
            return None if c is None else np.array(c, np.float64)

        assert_same_grid(g, densebin.bin(copy(x), copy(y), copy(z), copy(w), **grid))
        np.testing.assert_array_equal(
            g.count, oracle_count(x, y, W, H, X_RANGE, Y_RANGE), err_msg=name
        )


def test_ranges_default_to_the_finite_bounds_and_integers_convert():
    x = np.array([0, 1, 2, 3, 10], dtype=np.int32)
    y = np.array([5, 6, 7, 8, 9], dtype=np.int64)
    g = densebin.bin(x, y, width=10, height=4)
    assert g.x_range == (0.0, 10.0)
    assert g.y_range == (5.0, 9.0)
    assert g.count.sum() == 5
    assert g.count[3, 9] == 1, "the upper corner lands in the last pixel"


def test_the_grid_of_the_command_line_for_the_same_points(tmp_path):
    exe = os.environ.get("DENSEBIN")
    if not exe:
        pytest.skip("DENSEBIN (the command line) is not set")
    rng = np.random.default_rng(3)
    pts = rng.normal(0.3, 0.7, (50_000, 3)).astype(np.float32)
    pts[::97, 2] = np.nan
    raw = tmp_path / "p.f32"
    pts.tofile(raw)
    h5 = tmp_path / "cli.h5"
    args = ["--width", str(W), "--height", str(H), "--layers", "count,sum,minmax,std,zhist"]
    args += [f"--x-range={X_RANGE[0]},{X_RANGE[1]}", f"--y-range={Y_RANGE[0]},{Y_RANGE[1]}"]
    args += ["--z-range=-1,2", "--z-bins", "8"]
    subprocess.run([exe, "bin", str(raw), "-o", str(h5), "--quiet", *args], check=True)
    cli = densebin.open(h5)
    ours = densebin.bin(
        pts[:, 0],
        pts[:, 1],
        pts[:, 2],
        width=W,
        height=H,
        x_range=X_RANGE,
        y_range=Y_RANGE,
        layers=["count", "sum", "minmax", "std", "zhist"],
        z_bins=8,
        z_range=(-1, 2),
    )
    assert_same_grid(cli, ours)
    cli_counters = dict(cli.counters, lines_ignored=0)
    assert cli_counters == ours.counters


def test_save_open_and_merge(tmp_path):
    rng = np.random.default_rng(5)
    x, y, z = rng.uniform(-1, 2, (3, 40_000))
    kw = dict(width=W, height=H, x_range=X_RANGE, y_range=(-1, 2), z_range=(-1, 2))
    whole = densebin.bin(x, y, z, **kw)
    a = densebin.bin(x[:15_000], y[:15_000], z[:15_000], **kw)
    b = densebin.bin(x[15_000:], y[15_000:], z[15_000:], **kw)
    for merged in (a.merge(b), a + b, b + a):
        np.testing.assert_array_equal(merged.count, whole.count)
        np.testing.assert_allclose(merged.mean_z(), whole.mean_z(), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(merged.arrays()["zhist"], whole.arrays()["zhist"])
    path = tmp_path / "g.h5"
    whole.save(path)
    back = densebin.open(path)
    for name, arr in whole.arrays().items():
        np.testing.assert_array_equal(back.arrays()[name], arr, err_msg=name)
    assert back.counters == whole.counters
    assert "37x23" in repr(back)
    other = densebin.bin(x, y, z, **dict(kw, width=W + 1))
    with pytest.raises(densebin.InvalidInputError, match="width=, height="):
        whole.merge(other)


def test_errors_are_exceptions_of_the_right_kind(tmp_path):
    x = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="one length"):
        densebin.bin(x, x[:5])
    with pytest.raises(densebin.InvalidInputError, match="1-D"):
        densebin.bin(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(densebin.InvalidInputError, match="real numbers"):
        densebin.bin(np.array(["a", "b"]), np.array(["c", "d"]))
    with pytest.raises(ValueError, match=r"empty or inverted.*x_range="):
        densebin.bin(x, x, x_range=(1, 0), y_range=(0, 1))
    with pytest.raises(ValueError, match=r"threads= must be at least 1"):
        densebin.bin(x, x, threads=0)
    with pytest.raises(ValueError, match="unknown layer"):
        densebin.bin(x, x, layers="count,bogus")
    with pytest.raises(ValueError, match=r"need a z column.*z="):
        densebin.bin(x, x, layers="sum")
    with pytest.raises(densebin.FileError) as missing:
        densebin.open(tmp_path / "missing.h5")
    assert isinstance(missing.value, OSError)
    (tmp_path / "not.h5").write_bytes(b"not a grid")
    with pytest.raises(densebin.FileError, match="not a readable HDF5 file"):
        densebin.open(tmp_path / "not.h5")
    with pytest.raises(ValueError, match="x_range"):
        densebin.bin(x, x, x_range=(np.nan, 1), y_range=(0, 1))
    with pytest.raises(ValueError, match="width="):
        densebin.bin(x, x, width=0)
    with pytest.raises(densebin.InvalidInputError, match="more than the 4294967294 pixels"):
        densebin.bin(x, x, width=10**9, height=10**9)
    with pytest.raises(densebin.GridMemoryError) as huge:
        densebin.bin(x, x, width=1000, height=1000, max_memory=1_000_000)
    assert isinstance(huge.value, MemoryError)
    assert "needs 8.6 MiB per worker" in str(huge.value) and "width=" in str(huge.value)
    with pytest.raises(densebin.InvalidInputError, match="x_range= must be a pair"):
        densebin.bin(x, x, x_range="wide")
    # A damaged grid file: a real one cut in half.
    good = tmp_path / "good.h5"
    densebin.bin(x, x, width=4, height=4).save(good)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(densebin.FileError):
        densebin.open(cut)
    # Nothing is written under the name on failure.
    with pytest.raises(densebin.FileError):
        densebin.bin(x, x).save(tmp_path / "no" / "such" / "dir.h5")
    assert not (tmp_path / "no").exists()
    with pytest.raises(densebin.FileError):
        densebin.bin_files(tmp_path)  # a directory
    unreadable = tmp_path / "locked.txt"
    unreadable.write_text("1 2 3\n")
    unreadable.chmod(0)
    if not os.access(unreadable, os.R_OK):  # root reads anything
        with pytest.raises(densebin.FileError, match="locked.txt"):
            densebin.bin_files(unreadable)


def test_grids_pickle_compactly_and_exactly(tmp_path):
    import pickle

    rng = np.random.default_rng(13)
    x, y, z, w = rng.normal(0, 1, (4, 20_000))
    z[::50] = np.nan  # count_z differs from count
    g = densebin.bin(x, y, z, w, width=W, height=H, layers="count,sum,minmax,std,zhist", z_bins=6)
    data = pickle.dumps(g)
    back = pickle.loads(data)
    assert back == g
    assert back.layers == g.layers and back.z_range == g.z_range
    assert back.counters == g.counters
    for name, a in g.arrays().items():
        np.testing.assert_array_equal(back.arrays()[name], a, err_msg=name)
    raw = sum(a.nbytes for a in g.arrays().values())
    # Counts travel in the narrowest unsigned type that holds them (here
    # one byte a pixel), floats as they are.
    assert len(data) < 0.7 * raw, (len(data), raw)
    # Counts that need 16 and 32 bits come back exactly too.
    for n in [70_000, 300_000]:
        many = densebin.bin(
            np.zeros(n), np.zeros(n), width=2, height=2, x_range=(0, 1), y_range=(0, 1)
        )
        assert pickle.loads(pickle.dumps(many)).count[0, 0] == n
    # A file's grid keeps its inputs through a pickle.
    path = tmp_path / "p.f64"
    np.column_stack([x, y, z]).tofile(path)
    f = densebin.bin_files(path, width=W, height=H)
    assert pickle.loads(pickle.dumps(f)) == f


def test_ctrl_c_stops_a_call_and_the_next_one_works():
    import signal
    import threading

    # 200 M points of zeros: pages that cost nothing to make and take about
    # a second to bin here, far longer than the 20 ms before the signal.
    n = 200_000_000
    x = np.zeros(n, np.float32)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.02, lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            # Calls until the signal lands; it lands in the first one here
            # (the test takes a tenth of a second, one call half a second).
            for _ in range(20):
                densebin.bin(x, x, width=100, height=100, x_range=(-1, 1), y_range=(-1, 1))
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    small = np.zeros(1000, np.float32)
    g = densebin.bin(small, small, width=100, height=100, x_range=(-1, 1), y_range=(-1, 1))
    assert g.count.sum() == 1000


def test_to_xarray_is_what_xarray_reads_from_the_saved_file(tmp_path):
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(17)
    pts = rng.normal(0, 0.5, (5_000, 3))
    pts[::31, 2] = np.nan
    one = tmp_path / "one.f64"
    pts.tofile(one)
    two = tmp_path / "two.f64"
    pts[:100].tofile(two)
    kw = dict(width=W, height=H, z_bins=5, layers="count,sum,minmax,std,zhist")
    for grid in (
        densebin.bin(pts[:, 0], pts[:, 1], pts[:, 2], **kw),
        densebin.bin_files([one], **kw),
        densebin.bin_files([one, two], **kw),
    ):
        path = tmp_path / "g.h5"
        grid.save(path)
        with xr.open_dataset(path) as saved:
            xr.testing.assert_identical(grid.to_xarray(), saved.load())


def test_layers_by_name_and_their_finished_statistics():
    x = np.array([0.1, 0.1, 0.1, 0.9, 0.9])
    y = np.array([0.1, 0.1, 0.1, 0.9, 0.9])
    z = np.array([1.0, 2.0, np.nan, 4.0, 6.0])
    w = np.array([0.5, 0.5, 0.5, 2.0, np.inf])
    g = densebin.bin(
        x,
        y,
        z,
        w,
        width=2,
        height=2,
        x_range=(0, 1),
        y_range=(0, 1),
        layers="count,sum,minmax,std,zhist",
    )
    assert g.count.tolist() == [[3, 0], [0, 2]]
    assert g.count_z.tolist() == [[2, 0], [0, 2]], "the NaN z is counted, not in z"
    assert g.sum_z.tolist() == [[3.0, 0.0], [0.0, 10.0]]
    assert g.min_z[0, 0] == 1.0 and g.max_z[1, 1] == 6.0
    assert g.min_z[0, 1] == np.inf and g.max_z[0, 1] == -np.inf
    np.testing.assert_allclose(g.m2_z, [[0.5, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(g.mean_z()[[0, 1], [0, 1]], [1.5, 5.0])
    np.testing.assert_allclose(g.std_z()[[0, 1], [0, 1]], [0.5, 1.0])
    assert g.sum_w.tolist() == [[1.5, 0.0], [0.0, 2.0]], "the infinite weight is left out"
    assert g.counters["nonfinite_w"] == 1
    assert g.zhist.shape == (32, 2, 2) and g.zhist.sum() == 4
    plain = densebin.bin(x, y, width=2, height=2, x_range=(0, 1), y_range=(0, 1))
    assert plain.sum_z is None and plain.zhist is None and plain.mean_z() is None
