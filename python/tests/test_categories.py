"""Categorical counts from Python: ``bin(by=)`` against a numpy oracle for
integers, strings and pandas Categoricals; files with ``bin_files(by=)``;
``Canvas.points(agg=by(col))`` and ``shade(color_key=)`` against datashader
itself on the pandas-made fixture; pickling, xarray and merges; Dask
partitions of known and unknown categories."""

import pickle
from pathlib import Path

import dask.dataframe as dd
import datashader as ds
import datashader.transfer_functions as tf
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import densebin
import densebin.dask

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "categories.csv"
NAMES = ["Asian", "Black", "Hispanic", 'Other, "mixed"', "Wéiß"]
CANVAS = dict(width=60, height=40, x_range=(-3, 3), y_range=(-2.5, 2.5))


def census():
    df = pd.read_csv(FIXTURE)
    df["race"] = df["race"].astype(pd.CategoricalDtype(NAMES))
    return df


def oracle(x, y, labels, categories, width, height, x_range, y_range):
    """Counts per category per pixel by datashader's mapping, computed
    with numpy alone: planes in the order of ``categories``."""
    (x0, x1), (y0, y1) = x_range, y_range
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    i = np.floor(x * sx - x0 * sx).astype(np.int64)
    j = np.floor(y * sy - y0 * sy).astype(np.int64)
    i[x == x1] = width - 1
    j[y == y1] = height - 1
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    out = np.zeros((len(categories), height, width), np.uint32)
    for k, c in enumerate(categories):
        m = inside & (labels == c)
        np.add.at(out[k], (j[m], i[m]), 1)
    return out


def test_integer_categories_equal_the_oracle_for_any_threads():
    rng = np.random.default_rng(3)
    n = 50_000
    x, y = rng.uniform(-3.2, 3.2, n), rng.uniform(-2.7, 2.7, n)
    classes = rng.choice(np.array([2, 6, 9, 17, 100], np.uint8), n)
    want = oracle(x, y, classes, [2, 6, 9, 17, 100], **CANVAS)
    for threads in (1, 2, 3):
        g = densebin.bin(x, y, by=classes, threads=threads, **CANVAS)
        assert g.categories == ["2", "6", "9", "17", "100"]
        np.testing.assert_array_equal(g.count_cat, want)
        assert g.layers == ["count", "count_cat"]
    # Any integer width, and booleans.
    g = densebin.bin(x, y, by=classes.astype(np.int64) - 50, **CANVAS)
    assert g.categories == ["-48", "-44", "-41", "-33", "50"]
    g = densebin.bin(x, y, by=classes > 9, **CANVAS)
    assert g.categories == ["0", "1"]


def test_categoricals_keep_their_categories_and_strings_are_sorted():
    df = census()
    x, y = df.x.to_numpy(), df.y.to_numpy()
    labels = df.race.astype(str).to_numpy()
    g = densebin.bin(x, y, by=df.race, **CANVAS)
    assert g.categories == NAMES
    np.testing.assert_array_equal(g.count_cat, oracle(x, y, labels, NAMES, **CANVAS))
    # A missing value (code -1) counts in no category.
    race = df.race.copy()
    race[:10] = np.nan
    g = densebin.bin(x, y, by=race, **CANVAS)
    inside = (np.abs(x[:10]) <= 3) & (np.abs(y[:10]) <= 2.5)
    assert g.counters["uncategorised"] == inside.sum()
    # Strings: found, sorted by bytes.
    g = densebin.bin(x, y, by=labels, **CANVAS)
    assert g.categories == sorted(NAMES, key=lambda s: s.encode())
    # A fixed set, in its order; others uncategorised.
    g = densebin.bin(x, y, by=df.race, categories=["Wéiß", "Asian"], **CANVAS)
    assert g.categories == ["Wéiß", "Asian"]
    np.testing.assert_array_equal(g.count_cat, oracle(x, y, labels, ["Wéiß", "Asian"], **CANVAS))


def test_by_refuses_measurements_and_too_many_categories():
    x = np.linspace(0, 1, 1000)
    with pytest.raises(densebin.InvalidInputError, match="a column of measurements"):
        densebin.bin(x, x, by=x)
    with pytest.raises(
        densebin.InvalidInputError, match="more than 256 distinct values.*categories="
    ):
        densebin.bin(x, x, by=np.arange(1000))
    with pytest.raises(densebin.InvalidInputError, match="same length|one length"):
        densebin.bin(x, x, by=np.zeros(5, np.int32))


def test_files_by_column_equal_arrays_and_round_trip():
    df = census()
    g = densebin.bin_files(FIXTURE, by="race", **CANVAS)
    assert g.categories == NAMES  # found, and already in byte order
    arrays = densebin.bin(
        df.x.to_numpy(), df.y.to_numpy(), by=df.race.astype(str).to_numpy(), **CANVAS
    )
    np.testing.assert_array_equal(g.count_cat, arrays.count_cat)
    back = pickle.loads(pickle.dumps(g))
    assert back == g and back.categories == g.categories
    assert "layers count,count_cat (5 categories)" in repr(g)
    ds_ = g.to_xarray()
    assert ds_.count_cat.dims == ("category", "y", "x")
    assert list(ds_.category.values) == NAMES


def test_saved_grids_open_in_xarray_with_a_category_coordinate(tmp_path):
    g = densebin.bin_files(FIXTURE, by="race", **CANVAS)
    g.save(tmp_path / "g.h5")
    opened = xr.open_dataset(tmp_path / "g.h5")
    assert list(opened.category.values) == NAMES
    np.testing.assert_array_equal(opened.count_cat.values, g.count_cat)
    assert densebin.open(tmp_path / "g.h5") == g


def test_merges_of_different_categories_are_their_union():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-3, 3, 20_000), rng.uniform(-2.5, 2.5, 20_000)
    labels = rng.choice(np.array(["a", "b", "c", "d"]), 20_000)
    first = labels < "c"
    a = densebin.bin(x[first], y[first], by=labels[first], **CANVAS)
    b = densebin.bin(x[~first], y[~first], by=labels[~first], **CANVAS)
    whole = densebin.bin(x, y, by=labels, **CANVAS)
    assert a.categories == ["a", "b"] and b.categories == ["c", "d"]
    merged = densebin.merge([b, a])
    assert merged.categories == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(merged.count_cat, whole.count_cat)


@pytest.mark.parametrize("how", ["eq_hist", "linear", "log", "cbrt"])
def test_by_and_shade_equal_datashaders(how):
    """count_cat equals ds.by(col, ds.count()) exactly (dims, coordinates
    and counts), and shade(color_key=) equals tf.shade(color_key=) on the
    same aggregate pixel for pixel: the arithmetic is the same. (Where
    opacity is 0 datashader keeps a colour, the mean of the key's; densebin
    keeps the transparent black of its other modes.)"""

    def same(got, want):
        want = want.view(np.uint8).reshape(*want.shape, 4)
        np.testing.assert_array_equal(got[..., 3], want[..., 3])
        lit = want[..., 3] > 0
        np.testing.assert_array_equal(got[lit], want[lit])
        assert lit.sum() > 1000

    df = census()
    kw = dict(plot_width=60, plot_height=40, x_range=(-3, 3), y_range=(-2.5, 2.5))
    ours = densebin.Canvas(**kw).points(df, "x", "y", agg=densebin.by("race"))
    theirs = ds.Canvas(**kw).points(df, "x", "y", agg=ds.by("race", ds.count()))
    assert ours.dims == theirs.dims == ("y", "x", "race")
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours.values, theirs.values)
    assert list(ours.race.values) == list(theirs.race.values)
    for c in ("x", "y"):
        np.testing.assert_array_equal(ours[c].values, theirs[c].values)
    assert (densebin.count_cat("race").column, densebin.by("race")) == (
        "race",
        densebin.count_cat("race"),
    )
    key = dict(zip(NAMES, ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00"], strict=True))
    for extra in ({}, {"alpha": 200, "min_alpha": 80}):
        got = densebin.shade(ours, color_key=key, how=how, **extra).to_numpy()[::-1]
        same(got, tf.shade(theirs, color_key=key, how=how, **extra).to_numpy())
    if how != "eq_hist":
        got = densebin.shade(ours, color_key=list(key.values()), how=how, span=(2, 8))
        same(got.to_numpy()[::-1], tf.shade(theirs, color_key=key, how=how, span=(2, 8)).to_numpy())


def test_grid_shade_categorical_keys_and_errors():
    g = densebin.bin_files(FIXTURE, by="race", **CANVAS)
    img = g.shade(mode="categorical")
    assert [n for n, _ in img.legend.key] == NAMES
    img = g.shade(mode="categorical", color_key="set1")
    assert img.to_numpy().shape == (40, 60, 4)
    with pytest.raises(
        densebin.InvalidInputError,
        match='color_key= has no colour for the category "Black"; add it',
    ):
        g.shade(mode="categorical", color_key={n: "#ff0000" for n in NAMES if n != "Black"})
    with pytest.raises(densebin.InvalidInputError, match="unknown categorical palette"):
        g.shade(mode="categorical", color_key="viridis")
    with pytest.raises(densebin.InvalidInputError, match="count_cat layer"):
        densebin.bin(np.zeros(3), np.zeros(3)).shade(mode="categorical")


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_dask_partitions_equal_the_whole(partitions):
    df = census()
    whole = densebin.bin(df.x.to_numpy(), df.y.to_numpy(), by=df.race, **CANVAS)
    ddf = dd.from_pandas(df, npartitions=partitions)
    got = densebin.dask.bin(ddf, x="x", y="y", by="race", scheduler="sync", **CANVAS)
    assert got.categories == NAMES
    np.testing.assert_array_equal(got.count_cat, whole.count_cat)
    # Strings: each partition finds its own; the merge is their union.
    strings = df.assign(race=df.race.astype(str))
    ddf = dd.from_pandas(strings, npartitions=partitions)
    got = densebin.dask.bin(ddf, x="x", y="y", by="race", scheduler="sync", **CANVAS)
    assert got.categories == sorted(NAMES, key=lambda s: s.encode())
    by_name = dict(zip(got.categories, got.count_cat, strict=True))
    for k, name in enumerate(NAMES):
        np.testing.assert_array_equal(by_name[name], whole.count_cat[k])
    # Files cut into byte ranges.
    got = densebin.dask.bin_files(
        FIXTURE, by="race", chunk_bytes=10_000, scheduler="sync", **CANVAS
    )
    np.testing.assert_array_equal(got.count_cat, whole.count_cat)
