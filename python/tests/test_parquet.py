"""Parquet files written by pyarrow bin as the same points as text: several
row groups or one, every codec pyarrow writes by default, dictionary and
plain pages, nulls, float32 and float64, integers (signed and unsigned),
decimals and booleans; by category; on Dask by byte ranges. Bad files and
columns raise InvalidInputError naming the file and the column."""

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import densebin
import densebin.dask

CANVAS = dict(width=47, height=31, x_range=(-3, 3), y_range=(-3, 3), z_range=(-1000, 1000))


def table(n=30_000, seed=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rng.normal(0, 1, n).astype(np.float32)
    z = rng.integers(-1000, 1000, n)
    null = rng.random(n) < 0.03
    t = pa.table(
        {
            "x": pa.array(x, mask=null),
            "y": y,
            "z": z,
            "kind": pa.array(rng.choice(np.array(["a", "b", "c"]), n)),
        }
    )
    return t, x, y.astype(np.float64), z.astype(np.float64), null


def text_grid(tmp_path, x, y, z, null, **kw):
    xs = np.where(null, np.nan, x)
    path = tmp_path / "same.txt"
    np.savetxt(path, np.column_stack([xs, y, z]), fmt="%.17g")
    return densebin.bin_files(path, **kw)


def assert_same(a, b):
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.zhist, b.zhist)
    np.testing.assert_allclose(a.sum_z, b.sum_z, rtol=1e-12, atol=1e-9)
    assert a.counters == b.counters


@pytest.mark.parametrize("compression", ["snappy", "zstd", "gzip", "lz4", "none"])
@pytest.mark.parametrize("row_group_size", [4096, 1_000_000])
@pytest.mark.parametrize("dictionary", [True, False])
def test_parquet_equals_text(tmp_path, compression, row_group_size, dictionary):
    t, x, y, z, null = table()
    path = tmp_path / "p.parquet"
    pq.write_table(
        t, path, row_group_size=row_group_size, compression=compression, use_dictionary=dictionary
    )
    want = text_grid(tmp_path, x, y, z, null, **CANVAS)
    for threads in (1, 2):
        got = densebin.bin_files(path, z="z", threads=threads, **CANVAS)
        assert_same(got, want)
    assert got.counters["nonfinite_xy"] == null.sum()


def test_integers_decimals_and_booleans_become_their_values(tmp_path):
    n = 5000
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, n)
    y = rng.uniform(-3, 3, n)
    cents = rng.integers(-100_000, 100_000, n)
    t = pa.table(
        {
            "x": x,
            "y": y,
            "u32": pa.array((cents + 100_000).astype(np.uint32)),
            "i16": pa.array((cents // 100).astype(np.int16)),
            "dec": pa.array([Decimal(int(c)) / 100 for c in cents], pa.decimal128(9, 2)),
            "dec64": pa.array([Decimal(int(c)) / 100 for c in cents], pa.decimal128(18, 2)),
            "dec_big": pa.array([Decimal(int(c)) / 100 for c in cents], pa.decimal128(30, 2)),
            "flag": pa.array(cents > 0),
        }
    )
    path = tmp_path / "types.parquet"
    pq.write_table(t, path, row_group_size=1000)
    grid = dict(width=13, height=11, x_range=(-3, 3), y_range=(-3, 3), layers="count,sum")
    for column, values in [
        ("u32", (cents + 100_000).astype(np.float64)),
        ("i16", (cents // 100).astype(np.float64)),
        ("dec", cents / 100),
        ("dec64", cents / 100),
        ("dec_big", cents / 100),
        ("flag", (cents > 0).astype(np.float64)),
    ]:
        got = densebin.bin_files(path, z=column, **grid)
        want = densebin.bin(x, y, values, **grid)
        np.testing.assert_array_equal(got.count, want.count, err_msg=column)
        np.testing.assert_allclose(got.sum_z, want.sum_z, rtol=1e-12, atol=1e-9, err_msg=column)


def test_categories_from_parquet_text_and_integers(tmp_path):
    t, x, y, z, null = table(n=8000)
    t = t.append_column("cls", pa.array((z % 7).astype(np.int64)))
    path = tmp_path / "c.parquet"
    pq.write_table(t, path, row_group_size=3000)
    got = densebin.bin_files(path, by="kind", layers="count", **CANVAS)
    assert got.categories == ["a", "b", "c"]
    labels = t.column("kind").to_numpy(zero_copy_only=False)
    want = densebin.bin(np.where(null, np.nan, x), y, by=labels, layers="count", **CANVAS)
    np.testing.assert_array_equal(got.count_cat, want.count_cat)
    got = densebin.bin_files(path, by="cls", layers="count", **CANVAS)
    assert got.categories == [str(i) for i in range(7)]


def test_dask_reads_parquet_by_byte_ranges(tmp_path):
    t, x, y, z, null = table(n=20_000)
    path = tmp_path / "d.parquet"
    pq.write_table(t, path, row_group_size=2000)
    whole = densebin.bin_files(path, z="z", **CANVAS)
    got = densebin.dask.bin_files(path, z="z", chunk_bytes=40_000, scheduler="sync", **CANVAS)
    assert_same(got, whole)


def test_bad_parquet_raises_invalid_input(tmp_path):
    t, *_ = table(n=1000)
    t = t.append_column("list", pa.array([[1.0, 2.0]] * 1000))
    path = tmp_path / "bad.parquet"
    pq.write_table(t, path)
    with pytest.raises(densebin.InvalidInputError, match=r'column "list.list.element" is DOUBLE'):
        densebin.bin_files(path, z="list.list.element", **CANVAS)
    with pytest.raises(densebin.InvalidInputError, match=r'"kind" is BYTE_ARRAY .*not a number'):
        densebin.bin_files(path, x="kind", **CANVAS)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(
        densebin.InvalidInputError, match="cut.parquet: not a readable Parquet file"
    ):
        densebin.bin_files(cut, **CANVAS)
