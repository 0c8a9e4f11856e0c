"""HDF5 files written by h5py bin as the same points as text: 1-D datasets
(contiguous, and chunked with gzip, lzf and shuffle), a 2-D ``(N, k)``
dataset, a compound dataset; every integer and float type; columns by
path, by last components and by the names x, y, z; integer datasets as
categories; on Dask by byte ranges. Bad files and
columns raise InvalidInputError naming the file."""

import h5py
import numpy as np
import pytest

import densebin
import densebin.dask

CANVAS = dict(width=47, height=31, x_range=(-3, 3), y_range=(-3, 3), z_range=(-1000, 1000))
N = 30_000


def points(seed=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, N)
    y = rng.normal(0, 1, N)
    y[rng.random(N) < 0.02] = np.nan
    z = rng.integers(-1000, 1000, N).astype(np.float64)
    return x, y, z


def text_grid(tmp_path, x, y, z, **kw):
    path = tmp_path / "same.txt"
    np.savetxt(path, np.column_stack([x, y, z]), fmt="%.17g")
    return densebin.bin_files(path, **kw)


def assert_same(a, b):
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.zhist, b.zhist)
    np.testing.assert_allclose(a.sum_z, b.sum_z, rtol=1e-12, atol=1e-9)
    assert a.counters == b.counters


STORAGE = {
    "contiguous": {},
    "gzip+shuffle": dict(chunks=(4000,), compression="gzip", shuffle=True),
    "lzf": dict(chunks=(3333,), compression="lzf"),
    "one chunk": dict(chunks=True),
}


@pytest.mark.parametrize("storage", STORAGE)
def test_1d_datasets_equal_text(tmp_path, storage):
    x, y, z = points()
    path = tmp_path / "p.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("particles")
        for name, v in [("x", x), ("y", y), ("z", z)]:
            g.create_dataset(name, data=v, **STORAGE[storage])
        f["header/box"] = np.arange(3.0)
    want = text_grid(tmp_path, x, y, z, **CANVAS)
    for threads in (1, 2):
        got = densebin.bin_files(path, threads=threads, **CANVAS)
        assert_same(got, want)
    got = densebin.bin_files(path, x="/particles/x", y="particles/y", z="Z", **CANVAS)
    assert_same(got, want)


@pytest.mark.parametrize("storage", ["contiguous", "gzip+shuffle"])
def test_2d_and_compound_datasets_equal_text(tmp_path, storage):
    x, y, z = points(6)
    want = text_grid(tmp_path, x, y, z, **CANVAS)
    path = tmp_path / "pos.h5"
    opts = dict(STORAGE[storage])
    if "chunks" in opts:
        opts["chunks"] = (4000, 3)
    with h5py.File(path, "w") as f:
        f.create_dataset("pos", data=np.column_stack([x, y, z]), **opts)
    assert_same(densebin.bin_files(path, **CANVAS), want)
    got = densebin.bin_files(path, x="pos/0", y=1, z="/pos/2", **CANVAS)
    assert_same(got, want)

    rows = np.zeros(N, dtype=[("id", "<i8"), ("x", "<f8"), ("y", ">f8"), ("z", "<i2")])
    rows["id"] = np.arange(N)
    rows["x"], rows["y"], rows["z"] = x, y, z
    path = tmp_path / "table.h5"
    opts = dict(STORAGE[storage])
    if "chunks" in opts:
        opts["chunks"] = (4000,)
    with h5py.File(path, "w") as f:
        f.create_dataset("catalogue/stars", data=rows, **opts)
    # x, y and z by name, though id comes first.
    assert_same(densebin.bin_files(path, **CANVAS), want)


@pytest.mark.parametrize(
    "dtype", ["i1", "u1", "<i2", ">u2", "<i4", "<u4", ">i8", "<u8", "<f2", ">f4", "<f8"]
)
def test_every_integer_and_float_type_becomes_its_value(tmp_path, dtype):
    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, 5000)
    y = rng.uniform(-3, 3, 5000)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    lo, hi = (max(info.min, -1000), min(info.max, 1000)) if info else (-1000, 1000)
    z = rng.integers(lo, hi, 5000).astype(dtype)
    path = tmp_path / "t.h5"
    with h5py.File(path, "w") as f:
        f["x"], f["y"], f["z"] = x, y, z
    grid = dict(width=13, height=11, x_range=(-3, 3), y_range=(-3, 3), layers="count,sum")
    got = densebin.bin_files(path, **grid)
    want = densebin.bin(x, y, z.astype(np.float64), **grid)
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_allclose(got.sum_z, want.sum_z, rtol=1e-12)


def test_integer_datasets_are_categories(tmp_path):
    x, y, z = points(9)
    cls = (np.abs(z) % 5).astype(np.uint8)
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as f:
        f["x"], f["y"], f["classification"] = x, y, cls
    got = densebin.bin_files(path, by="classification", layers="count", **CANVAS)
    assert got.categories == [str(i) for i in range(5)]
    want = densebin.bin(x, y, by=cls.astype(np.int64), layers="count", **CANVAS)
    np.testing.assert_array_equal(got.count_cat, want.count_cat)


def test_dask_reads_hdf5_by_byte_ranges(tmp_path):
    x, y, z = points(10)
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        for name, v in [("x", x), ("y", y), ("z", z)]:
            f.create_dataset(name, data=v, chunks=(2000,), compression="gzip")
    whole = densebin.bin_files(path, **CANVAS)
    got = densebin.dask.bin_files(path, chunk_bytes=100_000, scheduler="sync", **CANVAS)
    assert_same(got, whole)


def test_bad_hdf5_raises_invalid_input(tmp_path):
    x, y, z = points(11)
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["x"], f["y"] = x, y
        f["short"] = np.arange(10.0)
        f["names"] = np.array([b"a", b"b"])
    with pytest.raises(densebin.InvalidInputError, match=r'no column "/w".*"/x"'):
        densebin.bin_files(path, weight="/w", **CANVAS)
    with pytest.raises(densebin.InvalidInputError, match=r'"/short" has 10 rows'):
        densebin.bin_files(path, z="short", **CANVAS)
    with pytest.raises(densebin.InvalidInputError, match=r"no column \"names\""):
        densebin.bin_files(path, z="names", **CANVAS)
    # A filter densebin does not have, found before a point is read: an id
    # HDF5 keeps for testing (256 to 511), which no plugin registers (Blosc's
    # 32001 is found where netCDF4's import has set HDF5_PLUGIN_PATH).
    # point is read. h5py refuses to write with a filter libhdf5 does not
    # have, so the filter is set through the low-level API as optional.
    unknown = tmp_path / "unknown.h5"
    with h5py.File(unknown, "w") as f:
        for name, v in [(b"x", x), (b"y", y)]:
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_chunk((1000,))
            dcpl.set_filter(333, h5py.h5z.FLAG_OPTIONAL)
            space = h5py.h5s.create_simple((N,))
            d = h5py.h5d.create(f.id, name, h5py.h5t.NATIVE_DOUBLE, space, dcpl=dcpl)
            h5py.Dataset(d)[...] = v
    with pytest.raises(
        densebin.InvalidInputError, match="dataset /x is compressed with HDF5 filter 333"
    ):
        densebin.bin_files(unknown, **CANVAS)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(densebin.InvalidInputError, match="cut.h5: not a readable HDF5 file"):
        densebin.bin_files(cut, **CANVAS)
    grid = tmp_path / "grid.h5"
    densebin.bin_files(path, **CANVAS).save(grid)
    with pytest.raises(densebin.InvalidInputError, match="this is a densebin grid"):
        densebin.bin_files(grid, **CANVAS)
