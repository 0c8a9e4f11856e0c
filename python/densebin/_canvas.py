"""The datashader-style API: ``Canvas(...).points(source, x, y, agg)`` with
the reductions ``count``, ``sum``, ``mean``, ``min``, ``max``, ``std``,
``var`` and the categorical ``by(column)`` (``count_cat``), giving the
``xarray.DataArray`` datashader's ``Canvas.points`` gives; and
:func:`shade` for such an aggregate.

Each call is one :func:`densebin.bin` over the columns, viewed in place:
the aggregate is finished from the grid's layers (the reduction's
``finalize``), so nothing of the input is copied.
"""

import numpy as np

from ._args import as_numpy, pair
from .errors import InvalidInputError

__all__ = [
    "Canvas",
    "by",
    "count",
    "count_cat",
    "sum",
    "mean",
    "min",
    "max",
    "std",
    "var",
    "shade",
]


class Reduction:
    """A per-pixel reduction of one column (or of the points, for
    ``count()``), as datashader's reductions: what to bin and how to finish
    the grid into the aggregate."""

    #: The densebin layers the reduction needs besides ``count``.
    layers = ""

    def __init__(self, column=None):
        if column is not None and not isinstance(column, str):
            raise InvalidInputError(f"a reduction's column is a name, not {column!r}")
        self.column = column

    def finalize(self, grid):
        raise NotImplementedError

    def __repr__(self):
        col = "" if self.column is None else repr(self.column)
        return f"{type(self).__name__}({col})"

    def __eq__(self, other):
        return type(self) is type(other) and self.column == other.column

    def __hash__(self):
        return hash((type(self), self.column))


def _per_value(grid):
    """Points with a value per pixel: ``count_z``, or ``count`` when every
    value was finite."""
    return grid.count_z if grid.count_z is not None else grid.count


def _where_values(grid, values):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(_per_value(grid) > 0, values, np.nan)


class count(Reduction):
    """Points per pixel (``uint32``, as datashader's); with a column, the
    points whose value in it is not missing."""

    def finalize(self, grid):
        n = grid.count if self.column is None else _per_value(grid)
        return n.astype(np.uint32)


class sum(Reduction):
    """Sum of a column per pixel; NaN where a pixel has no value."""

    layers = "sum"

    def finalize(self, grid):
        return _where_values(grid, grid.sum_z)


class mean(Reduction):
    """Mean of a column per pixel; NaN where a pixel has no value."""

    layers = "sum"

    def finalize(self, grid):
        return _where_values(grid, grid.sum_z / np.maximum(_per_value(grid), 1))


class min(Reduction):
    """Least value of a column per pixel; NaN where a pixel has none."""

    layers = "minmax"

    def finalize(self, grid):
        # An empty pixel holds +inf; values binned are finite.
        return np.where(np.isfinite(grid.min_z), grid.min_z, np.nan)


class max(Reduction):
    """Greatest value of a column per pixel; NaN where a pixel has none."""

    layers = "minmax"

    def finalize(self, grid):
        return np.where(np.isfinite(grid.max_z), grid.max_z, np.nan)


class var(Reduction):
    """Population variance of a column per pixel (datashader's: ``ddof=0``);
    NaN where a pixel has no value."""

    layers = "std"

    def finalize(self, grid):
        m2 = np.maximum(grid.m2_z, 0.0)
        return _where_values(grid, m2 / np.maximum(_per_value(grid), 1))


class std(var):
    """Population standard deviation of a column per pixel; NaN where a
    pixel has no value."""

    def finalize(self, grid):
        return np.sqrt(super().finalize(grid))


class by(Reduction):
    """Points per category per pixel, datashader's ``by(column, count())``:
    a 3-D aggregate with dims ``(y, x, column)``, the categories as its
    last coordinate. A pandas ``Categorical`` column keeps its categories
    and their order (all of them, as in datashader); integers and strings
    are their own categories, sorted. Only ``count()`` is counted by
    category."""

    def __init__(self, column, agg=None):
        super().__init__(column)
        if agg is not None and not (type(agg) is count and agg.column is None):
            raise InvalidInputError(f"by() counts points per category; {agg!r} is not supported")

    def finalize(self, grid):
        return np.moveaxis(grid.count_cat, 0, -1)


def count_cat(column):
    """datashader's ``count_cat(column)``: :class:`by` ``(column)``."""
    return by(column)


def _columns(source, names):
    """The named columns of ``source`` (a pandas DataFrame, a dict of
    arrays, a numpy structured array, or anything indexable by column name),
    as numpy views."""
    out = []
    for name in names:
        try:
            col = source[name]
        except (KeyError, IndexError, ValueError, TypeError):
            raise InvalidInputError(f"the source has no column {name!r}") from None
        col = as_numpy(col)
        if col.dtype.kind not in "fiub":
            raise InvalidInputError(f"column {name!r} must hold real numbers, not {col.dtype}")
        out.append(col)
    return out


def datashader_range(lo, hi):
    """datashader's range from the least and greatest values that are not
    NaN: (-1, 1) when those are not finite, one either side of a single
    value."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -1.0, 1.0
    if lo == hi:
        return lo - 1, lo + 1
    return lo, hi


def _bounds(values):
    """datashader's range of a column's values."""
    if values.size == 0:
        return datashader_range(np.inf, -np.inf)
    if values.dtype.kind == "f":
        return datashader_range(np.fmin.reduce(values), np.fmax.reduce(values))
    return datashader_range(values.min(), values.max())


def _centres(r, n):
    """datashader's coordinates: the data value of each pixel's centre."""
    lo, hi = map(float, r)
    s = n / (hi - lo)
    t = -lo * s
    return ((np.arange(n) + 0.5) - t) / s


class Canvas:
    """A canvas of ``plot_width`` × ``plot_height`` pixels over
    ``x_range`` × ``y_range``, as datashader's ``Canvas``; ranges left out
    are found from the data as datashader finds them.

    ``x_axis_type``/``y_axis_type`` are ``"linear"`` or ``"log"``, as in
    datashader: a log axis needs a positive range and bins ``log10`` of the
    values.
    """

    def __init__(
        self,
        plot_width=600,
        plot_height=600,
        x_range=None,
        y_range=None,
        x_axis_type="linear",
        y_axis_type="linear",
    ):
        for name, kind in (("x_axis_type", x_axis_type), ("y_axis_type", y_axis_type)):
            if kind not in ("linear", "log"):
                raise InvalidInputError(f"{name}={kind!r}: use 'linear' or 'log'")
        self.plot_width = int(plot_width)
        self.plot_height = int(plot_height)
        self.x_range = None if x_range is None else pair("x_range", x_range)
        self.y_range = None if y_range is None else pair("y_range", y_range)
        self.x_axis_type = x_axis_type
        self.y_axis_type = y_axis_type

    def __repr__(self):
        return (
            f"densebin.Canvas(plot_width={self.plot_width}, plot_height={self.plot_height}, "
            f"x_range={self.x_range}, y_range={self.y_range})"
        )

    def points(self, source, x, y, agg=None, *, threads=None):
        """Aggregates the points ``(source[x], source[y])`` per pixel with
        ``agg`` (default :class:`count`), as datashader's ``Canvas.points``
        (``source`` a pandas or dask DataFrame, a dict of arrays or a
        structured array; a dask DataFrame is binned on Dask, partition by
        partition, with :func:`densebin.dask.bin`):
        an ``xarray.DataArray`` with dims ``(y, x)`` named after the columns,
        the pixel centres as coordinates, and ``x_range``/``y_range``
        attributes. Columns of float32 or float64 are read in place; integer
        columns are converted to float64 once. Values that are not finite
        (±inf as well as NaN) count as missing in ``agg``'s column.
        """
        import xarray as xr

        from . import bin as _bin

        agg = count() if agg is None else agg
        if not isinstance(agg, Reduction):
            raise InvalidInputError(
                f"agg= must be a densebin reduction (densebin.count(), densebin.mean('z'), …), "
                f"not {agg!r}"
            )
        categorical = isinstance(agg, by)
        zname = None if categorical else agg.column
        # count(col) needs count_z, which comes with sum.
        layers = "count," + (agg.layers or "sum") if zname is not None else "count"
        names = [x, y] + ([zname] if zname is not None else [])
        by_name = agg.column if categorical else None
        if hasattr(source, "npartitions") and hasattr(source, "to_delayed"):
            # A dask DataFrame: every partition binned where it lives.
            from . import dask as _dask

            for name in names:
                if name not in source.columns:
                    raise InvalidInputError(f"the source has no column {name!r}")
            if self.x_range is None or self.y_range is None:
                found = _dask.datashader_ranges(source, x, y)
            else:
                found = (self.x_range, self.y_range)

            if by_name is not None and by_name not in source.columns:
                raise InvalidInputError(f"the source has no column {by_name!r}")

            def binner(**grid):
                return _dask.bin(source, x=x, y=y, z=zname, by=by_name, **grid)
        else:
            cols = _columns(source, names)
            found = (
                _bounds(cols[0]) if self.x_range is None else None,
                _bounds(cols[1]) if self.y_range is None else None,
            )
            cats = None
            if by_name is not None:
                try:
                    cats = source[by_name]
                except (KeyError, IndexError, ValueError, TypeError):
                    raise InvalidInputError(f"the source has no column {by_name!r}") from None

            def binner(**grid):
                return _bin(*cols, by=cats, **grid)

        x_range = self.x_range if self.x_range is not None else found[0]
        y_range = self.y_range if self.y_range is not None else found[1]
        grid = binner(
            width=self.plot_width,
            height=self.plot_height,
            x_range=x_range,
            y_range=y_range,
            layers=layers,
            threads=threads,
            x_axis=self.x_axis_type,
            y_axis=self.y_axis_type,
        )
        values = agg.finalize(grid)
        # A log axis's centres are the grid's: 10 ** ((i + 0.5 - t) / s) by
        # the scalar pow datashader's LogAxis uses (numpy's vector power
        # differs in the last bit).
        if "log" in (self.x_axis_type, self.y_axis_type):
            log = {name: values for name, values, _ in grid.coordinates()}
        coords = {
            x: log["x"] if self.x_axis_type == "log" else _centres(x_range, self.plot_width),
            y: log["y"] if self.y_axis_type == "log" else _centres(y_range, self.plot_height),
        }
        dims = [y, x]
        if categorical:
            coords[by_name] = grid.categories
            dims.append(by_name)
        return xr.DataArray(
            values,
            coords=coords,
            dims=dims,
            attrs={"x_range": x_range, "y_range": y_range},
        )


def _grid_of(arrays, x_range, y_range, layers, categories=None):
    """A grid holding an aggregate's values as its ``arrays``, to shade."""
    from ._densebin import Grid

    h, w = arrays["count"].shape
    state = {
        "width": w,
        "height": h,
        "x_range": tuple(map(float, x_range)),
        "y_range": tuple(map(float, y_range)),
        "layers": layers,
        "zhist": None,
        "categories": None if categories is None else (categories, True),
        "counters": {},
        "inputs": [],
        "arrays": arrays,
    }
    return Grid._from_state(state)


def _shade_categorical(agg, data, color_key, how, alpha, min_alpha, span, x_range, y_range):
    """A 3-D aggregate ``(y, x, category)`` shaded as datashader shades
    one: see :func:`shade`."""

    if data.dtype.kind not in "ui":
        raise InvalidInputError(f"a categorical aggregate holds counts, not {data.dtype}")
    dims = getattr(agg, "dims", None)
    names = (
        [str(c) for c in agg.coords[dims[-1]].values]
        if dims is not None
        else [str(i) for i in range(data.shape[2])]
    )
    if color_key is None:
        raise InvalidInputError(
            "color_key= must give the categories' colours: a dict, a list, or a palette's name"
        )
    if isinstance(color_key, (list, tuple)):
        if len(color_key) < len(names):
            raise InvalidInputError(
                f"color_key= has {len(color_key)} colours for {len(names)} categories"
            )
        color_key = dict(zip(names, color_key[: len(names)], strict=True))
    elif isinstance(color_key, dict):
        color_key = {str(k): v for k, v in color_key.items()}
    counts = np.ascontiguousarray(np.moveaxis(data, -1, 0)).astype(np.uint32)
    arrays = {"count": counts.sum(axis=0, dtype=np.uint64), "count_cat": counts}
    grid = _grid_of(arrays, x_range, y_range, "count,count_cat", categories=names)
    return grid.shade(
        mode="categorical",
        color_key=color_key,
        how=how,
        span=None if span is None else tuple(map(float, span)),
        alpha=alpha / 255,
        min_alpha=min_alpha / 255,
    )


def shade(
    agg,
    cmap=("lightblue", "darkblue"),
    color_key=None,
    how="eq_hist",
    alpha=255,
    min_alpha=40,
    span=None,
):
    """Shades a 2-D aggregate (an ``xarray.DataArray`` such as
    :meth:`Canvas.points` gives, or a 2-D numpy array with row 0 at the
    bottom) with densebin's density shading, under datashader's
    ``tf.shade`` names and conventions: ``alpha`` and ``min_alpha`` from 0
    to 255; ``how`` one of ``linear``, ``log``, ``cbrt``, ``eq_hist``;
    ``cmap`` a list of colours (constant opacity), one colour (opacity
    shows the value, from ``min_alpha``), a colormap name, a matplotlib
    colormap or a colour function of the values (see :meth:`Grid.shade`).
    Pixels with NaN, or 0 in an unsigned aggregate, are transparent, as in
    datashader. Returns a :class:`densebin.Image`.

    A 3-D aggregate ``(y, x, category)`` (:class:`by`) is shaded as
    datashader shades one: each pixel the count-weighted mean of its
    categories' colours from ``color_key`` (a dict of category to colour, a
    list in category order, or a categorical palette's name such as
    ``"category10"``), its opacity from ``min_alpha`` to ``alpha`` along
    the total count through ``how``, in datashader's 8-bit arithmetic.

    Not supported: ``rescale_discrete_levels`` and a callable ``how``. The
    colours of 2-D aggregates follow densebin's scales (``log`` is
    ``log1p`` of the value itself, not of its offset from the least value;
    colours round rather than truncate), so they can differ slightly from
    ``tf.shade``'s.
    """
    from ._densebin import is_single_colour

    data = np.asarray(getattr(agg, "values", agg))
    if data.ndim not in (2, 3):
        raise InvalidInputError(
            f"densebin.shade takes a 2-D or a categorical 3-D aggregate, not one of shape "
            f"{data.shape}"
        )
    h, w = data.shape[:2]
    x_range, y_range = (0.0, float(w)), (0.0, float(h))
    if hasattr(agg, "attrs"):
        x_range = agg.attrs.get("x_range", x_range)
        y_range = agg.attrs.get("y_range", y_range)
    if data.ndim == 3:
        return _shade_categorical(
            agg, data, color_key, how, alpha, min_alpha, span, x_range, y_range
        )
    if color_key is not None:
        raise InvalidInputError("color_key= is for categorical (3-D) aggregates")
    if data.dtype.kind == "b":
        present, values = data, data.astype(np.float64)
    elif data.dtype.kind == "u":
        present, values = data != 0, data.astype(np.float64)
    elif data.dtype.kind in "if":
        values = data.astype(np.float64)
        present = ~np.isnan(values)
    else:
        raise InvalidInputError(f"densebin.shade takes numbers, not {data.dtype}")
    if isinstance(cmap, tuple):
        cmap = list(cmap)
    arrays = {"count": present.astype(np.uint64), "sum_w": np.where(present, values, 0.0)}
    grid = _grid_of(arrays, x_range, y_range, "count,weight")
    # As in datashader, min_alpha applies where opacity shows the value: a
    # one-colour map; a map of several colours has constant opacity.
    one_colour = isinstance(cmap, str) and is_single_colour(cmap)
    return grid.shade(
        cmap=cmap,
        how=how,
        span=None if span is None else tuple(map(float, span)),
        alpha=alpha / 255,
        min_alpha=min_alpha / 255 if one_colour else None,
        weighted=True,
    )


def spread(img, px=1, shape="circle"):
    """datashader's ``tf.spread`` on a :class:`densebin.Image`: every
    non-empty pixel grown into a disc of radius ``px`` (the offsets within
    ``px + 0.5``), composited with "over" so that pixels of larger y lie on
    top. Only ``shape="circle"``."""
    _check_shape(shape)
    return img.spread(px=int(px))


def dynspread(img, threshold=0.5, max_px=3, shape="circle"):
    """datashader's ``tf.dynspread`` on a :class:`densebin.Image`: spread by
    the largest radius up to ``max_px`` at which at most ``threshold`` of
    the non-empty pixels have a non-empty neighbour within twice that
    radius, datashader's heuristic exactly. Only ``shape="circle"``."""
    _check_shape(shape)
    return img.spread(dynspread=True, threshold=float(threshold), max_px=int(max_px))


def _check_shape(shape):
    if shape != "circle":
        raise InvalidInputError(f"shape={shape!r}: densebin spreads by circles only")
