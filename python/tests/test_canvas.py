"""The datashader-style API against datashader itself: Canvas.points gives
the DataArray datashader's Canvas.points gives, for every reduction, on
float32 and float64 data with NaN, from DataFrames, dicts and structured
arrays; and densebin.shade on such an aggregate."""

import datashader as ds
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import densebin

REDUCTIONS = ["count", "sum", "mean", "min", "max", "std", "var"]


def frame(dtype, n=20_000, seed=5):
    """Points with NaN in x, y and the values, some on the ranges' edges,
    an integer column and values that are all NaN in some pixels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n).astype(dtype)
    y = rng.uniform(-2, 3, n).astype(dtype)
    v = (x * 3 + rng.normal(0, 1, n)).astype(dtype)
    x[::97] = np.nan
    y[::89] = np.nan
    v[::13] = np.nan
    v[x > 2.2] = np.nan  # pixels where every value is missing
    x[1], x[2] = np.nanmin(x), np.nanmax(x)
    return pd.DataFrame({"px": x, "py": y, "v": v, "k": rng.integers(-50, 50, n)})


def assert_same_aggregate(ours, theirs):
    """The same dims, coordinates, attributes and dtype; counts exactly,
    NaN where datashader has NaN, other values to rounding (sums taken in
    another order)."""
    assert ours.dims == theirs.dims
    assert ours.name == theirs.name
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    for c in theirs.coords:
        np.testing.assert_array_equal(ours.coords[c].values, theirs.coords[c].values, err_msg=c)
    assert set(ours.coords) == set(theirs.coords)
    assert ours.attrs.keys() == theirs.attrs.keys()
    for k in theirs.attrs:
        assert tuple(ours.attrs[k]) == tuple(theirs.attrs[k]), k
    if theirs.dtype.kind == "u":
        np.testing.assert_array_equal(ours.values, theirs.values)
        xr.testing.assert_identical(ours, theirs)
    else:
        np.testing.assert_array_equal(np.isnan(ours.values), np.isnan(theirs.values))
        np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ranges", [None, ((-1.5, 2.0), (-1, 2.5))])
def test_points_equals_datashaders(dtype, reduction, ranges):
    df = frame(dtype)
    x_range, y_range = ranges or (None, None)
    kwargs = dict(plot_width=41, plot_height=29, x_range=x_range, y_range=y_range)
    for column in ["v", "k"]:
        if reduction == "count":
            aggs = [(densebin.count(), ds.count()), (densebin.count(column), ds.count(column))]
        else:
            aggs = [(getattr(densebin, reduction)(column), getattr(ds, reduction)(column))]
        for ours, theirs in aggs:
            got = densebin.Canvas(**kwargs).points(df, "px", "py", agg=ours)
            want = ds.Canvas(**kwargs).points(df, "px", "py", agg=theirs)
            assert_same_aggregate(got, want)


def test_points_on_dicts_and_structured_arrays():
    df = frame(np.float64, n=3000)
    want = ds.Canvas(plot_width=17, plot_height=13).points(df, "px", "py", agg=ds.mean("v"))
    records = np.zeros(len(df), dtype=[("px", "f8"), ("py", "f8"), ("v", "f4")])
    for c in ["px", "py", "v"]:
        records[c] = df[c]
    cvs = densebin.Canvas(plot_width=17, plot_height=13)
    as_dict = {c: df[c].to_numpy() for c in df.columns}
    assert_same_aggregate(cvs.points(as_dict, "px", "py", agg=densebin.mean("v")), want)
    # The structured array's fields are strided views, read in place; its
    # float32 values agree to float32 rounding.
    got = cvs.points(records, "px", "py", agg=densebin.mean("v"))
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(want.values))
    np.testing.assert_allclose(got.values, want.values, rtol=1e-6)
    assert got.dims == ("py", "px")


def test_ranges_are_found_as_datashader_finds_them():
    # One value: one either side; no finite value: (-1, 1).
    df = pd.DataFrame({"a": [2.0, 2.0, np.nan], "b": [np.nan, np.nan, np.nan]})
    ours = densebin.Canvas(plot_width=4, plot_height=3).points(df, "a", "b")
    theirs = ds.Canvas(plot_width=4, plot_height=3).points(df, "a", "b")
    assert ours.attrs == {"x_range": (1.0, 3.0), "y_range": (-1.0, 1.0)}
    assert_same_aggregate(ours, theirs)


def test_canvas_errors():
    df = frame(np.float64, n=100)
    with pytest.raises(densebin.InvalidInputError, match="no column 'nope'"):
        densebin.Canvas().points(df, "px", "nope")
    with pytest.raises(densebin.InvalidInputError, match="agg= must be a densebin reduction"):
        densebin.Canvas().points(df, "px", "py", agg=ds.count())
    with pytest.raises(densebin.InvalidInputError, match="use 'linear' or 'log'"):
        densebin.Canvas(x_axis_type="ln")
    with pytest.raises(ValueError, match="x_range= must be a pair"):
        densebin.Canvas(x_range=3)
    with pytest.raises(ValueError, match="range 2.0,1.0 is empty or inverted"):
        densebin.Canvas(x_range=(2, 1)).points(df, "px", "py")
    with pytest.raises(densebin.InvalidInputError, match="must hold real numbers"):
        densebin.Canvas().points({"a": np.array(["x"]), "b": np.zeros(1)}, "a", "b")


def test_shade_of_an_aggregate_is_densebins_weighted_density():
    df = frame(np.float64)
    cvs = densebin.Canvas(plot_width=40, plot_height=30, x_range=(-2, 2), y_range=(-2, 3))
    counts = cvs.points(df, "px", "py")
    means = cvs.points(df, "px", "py", agg=densebin.mean("v"))
    # A count aggregate shades as the grid of those points does.
    grid = densebin.bin(
        df.px, df.py, width=40, height=30, x_range=(-2, 2), y_range=(-2, 3), layers="count"
    )
    for how in ["linear", "log", "eq_hist"]:
        want = grid.shade(cmap=["lightblue", "darkblue"], how=how)
        got = densebin.shade(counts, how=how)
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(), err_msg=how)
        # One colour: opacity shows the value, from min_alpha.
        want = grid.shade(cmap="red", how=how, min_alpha=80 / 255, alpha=0.8)
        got = densebin.shade(counts, cmap="red", how=how, min_alpha=80, alpha=0.8 * 255)
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(), err_msg=how)
    # A float aggregate: colour by value, NaN transparent.
    image = densebin.shade(means, cmap="viridis", how="linear", alpha=200).to_numpy()[::-1]
    empty = np.isnan(means.values)
    assert (image[empty][:, 3] == 0).all() and (image[~empty][:, 3] == 200).all()
    v = means.values[~empty]
    lo, hi = v.min(), v.max()
    lightest = image[~empty][np.argmin(v)]
    darkest = image[~empty][np.argmax(v)]
    viridis = grid.shade(cmap="viridis", how="linear").legend.palette
    np.testing.assert_array_equal(lightest[:3], np.round(viridis[0] * 255))
    np.testing.assert_array_equal(darkest[:3], np.round(viridis[-1] * 255))
    assert lo < hi
    with pytest.raises(densebin.InvalidInputError, match="2-D or a categorical 3-D aggregate"):
        densebin.shade(np.zeros(4))
    with pytest.raises(densebin.InvalidInputError, match="categorical aggregate holds counts"):
        densebin.shade(np.zeros((2, 2, 2)), color_key=["red", "blue"])
    with pytest.raises(densebin.InvalidInputError, match="color_key= must give"):
        densebin.shade(np.zeros((2, 2, 2), np.uint32))
    with pytest.raises(densebin.InvalidInputError, match="color_key= is for categorical"):
        densebin.shade(np.zeros((2, 2)), color_key=["red"])


def datashader_rgba(img):
    """A datashader Image as RGBA8 rows from the top, as densebin's."""
    return np.flipud(img.data.view(np.uint8).reshape(*img.shape, 4))


@pytest.mark.parametrize("n", [40, 400, 4000])
def test_dynspread_spreads_as_datashaders(n):
    """On the same aggregate, densebin's dynspread picks datashader's
    radius and mask: with one opaque colour the images are equal exactly
    (the arithmetic is the same); with viridis and alpha 0.6, where the
    colours come from different shading and "over" arithmetic, the spread
    pixels are the same and their colours differ by at most 3 levels."""
    import datashader.transfer_functions as tf

    rng = np.random.default_rng(n)
    df = pd.DataFrame({"x": rng.normal(0, 1, n), "y": rng.normal(0, 1, n)})
    canvas = dict(width=90, height=60, x_range=(-3, 3), y_range=(-2.5, 2.5))
    agg = ds.Canvas(plot_width=90, plot_height=60, x_range=(-3, 3), y_range=(-2.5, 2.5)).points(
        df, "x", "y"
    )
    grid = densebin.bin(df.x.values, df.y.values, layers="count", **canvas)
    np.testing.assert_array_equal(grid.count, agg.values)
    radii = set()
    for threshold, max_px in [(0.5, 3), (0.1, 3), (0.9, 4), (1.0, 2), (0.0, 3)]:
        theirs = tf.dynspread(tf.shade(agg, cmap=["red", "red"]), threshold, max_px)
        ours = grid.shade(
            cmap=["red", "red"],
            how="linear",
            dynspread=True,
            threshold=threshold,
            max_spread=max_px,
        )
        np.testing.assert_array_equal(ours.to_numpy(), datashader_rgba(theirs))
        # Which radius that was: the fixed spread with the same pixels.
        lit = datashader_rgba(theirs)[..., 3] > 0
        radii.add(
            next(
                r
                for r in range(max_px + 1)
                if ((grid.shade(cmap=["red"] * 2, spread=r).to_numpy()[..., 3] > 0) == lit).all()
            )
        )
        theirs = tf.dynspread(
            tf.shade(agg, cmap=["#440154", "#fde725"], alpha=153), threshold, max_px
        )
        ours = grid.shade(
            cmap=["#440154", "#fde725"],
            alpha=0.6,
            dynspread=True,
            threshold=threshold,
            max_spread=max_px,
        ).to_numpy()
        t = datashader_rgba(theirs)
        np.testing.assert_array_equal(ours[..., 3] > 0, t[..., 3] > 0)
        # Measured: at most 3 levels (1 before spreading).
        assert np.abs(ours.astype(int) - t.astype(int)).max() <= 3
    assert 0 in radii and max(radii) > 0, radii
    # The datashader-style functions on an image: tf.spread and tf.dynspread.
    red = densebin.shade(agg, cmap=["red", "red"], how="linear")
    for threshold, max_px in [(0.5, 3), (0.9, 4), (1.0, 2)]:
        theirs = tf.dynspread(tf.shade(agg, cmap=["red", "red"]), threshold, max_px)
        got = densebin.dynspread(red, threshold=threshold, max_px=max_px)
        np.testing.assert_array_equal(got.to_numpy(), datashader_rgba(theirs))
    for px in [1, 2]:
        theirs = tf.spread(tf.shade(agg, cmap=["red", "red"]), px=px)
        np.testing.assert_array_equal(
            densebin.spread(red, px=px).to_numpy(), datashader_rgba(theirs)
        )
    with pytest.raises(densebin.InvalidInputError, match="circles only"):
        densebin.spread(red, shape="square")
    with pytest.raises(densebin.InvalidInputError, match="cannot be spread"):
        densebin.spread(grid.shade().frame())
    with pytest.raises(densebin.InvalidInputError, match="cannot be combined"):
        grid.shade(spread=1, dynspread=True)
    with pytest.raises(densebin.InvalidInputError, match="threshold= 2"):
        grid.shade(dynspread=True, threshold=2)


@pytest.mark.parametrize(
    "ranges", [((1e-3, 1e4), (1.0, 100.0)), ((0.5, 2000.0), (3.0, 50.0)), (None, None)]
)
@pytest.mark.parametrize("axes", [("log", "log"), ("log", "linear"), ("linear", "log")])
def test_log_axes_equal_datashaders(ranges, axes):
    """Canvas(x_axis_type="log") against datashader's: the counts exactly
    (points at or below 0, and outside the range in the data's own units,
    are dropped), the coordinates bit for bit, the attributes."""
    rng = np.random.default_rng(7)
    n = 50_000
    xs = 10 ** rng.uniform(-3, 4, n)
    ys = 10 ** rng.uniform(0, 2, n)
    if ranges == (None, None):
        # Ranges from the data: datashader refuses non-positive ones.
        x_range = y_range = None
    else:
        x_range, y_range = ranges
        xs[::50] = 0.0
        ys[::70] = -ys[::70]
        xs[1], ys[2] = x_range[1], y_range[0]  # on the edges
        xs[3] = np.nextafter(x_range[1], np.inf)  # just outside
    df = pd.DataFrame({"x": xs, "y": ys})
    kw = dict(plot_width=80, plot_height=50, x_range=x_range, y_range=y_range)
    kw.update(x_axis_type=axes[0], y_axis_type=axes[1])
    theirs = ds.Canvas(**kw).points(df, "x", "y")
    ours = densebin.Canvas(**kw).points(df, "x", "y")
    assert_same_aggregate(ours, theirs)
    # The grid file says so, and its coordinates are the same.
    grid = densebin.bin(
        xs,
        ys,
        width=80,
        height=50,
        x_range=theirs.attrs["x_range"],
        y_range=theirs.attrs["y_range"],
        x_axis=axes[0],
        y_axis=axes[1],
        layers="count",
    )
    data = grid.to_xarray()
    assert (data.attrs["x_axis_type"], data.attrs["y_axis_type"]) == axes
    for c in ("x", "y"):
        if axes["xy".index(c)] == "log":
            np.testing.assert_array_equal(data[c].values, theirs[c].values)
    np.testing.assert_array_equal(grid.count, theirs.values)


def test_log_axes_ranges_and_errors(tmp_path):
    """Ranges from the data take the positive values on a log axis; a
    range that is not above 0 is refused; grids pickle and save with their
    axis types, and merge only with grids of the same ones."""
    import pickle

    xs = np.array([-5.0, 0.0, 0.01, 3.0, 1000.0, np.nan])
    ys = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    grid = densebin.bin(xs, ys, width=10, height=4, x_axis="log", layers="count")
    assert grid.x_range == (0.01, 1000.0)
    assert grid.count.sum() == 3
    with pytest.raises(densebin.InvalidInputError, match="above 0 on a logarithmic axis"):
        densebin.bin(xs, ys, width=10, height=4, x_range=(-1, 10), x_axis="log")
    with pytest.raises(densebin.InvalidInputError, match="positive, finite x"):
        densebin.bin(xs[:2], ys[:2], width=10, height=4, x_axis="log")
    with pytest.raises(densebin.InvalidInputError, match="linear or log"):
        densebin.bin(xs, ys, x_axis="ln")
    # y's range is that of the points a log x can bin.
    assert grid.y_range == (3.0, 5.0)
    assert "x 0.01..1000.0 (log), y 3.0..5.0," in repr(grid)
    again = pickle.loads(pickle.dumps(grid))
    assert again.to_xarray().attrs["x_axis_type"] == "log"
    np.testing.assert_array_equal(again.count, grid.count)
    grid.save(tmp_path / "g.h5")
    opened = densebin.open(tmp_path / "g.h5")
    assert opened.to_xarray().attrs["x_axis_type"] == "log"
    linear = densebin.bin(xs, ys, width=10, height=4, x_range=grid.x_range, y_range=grid.y_range)
    with pytest.raises(densebin.InvalidInputError):
        densebin.merge([grid, linear])
