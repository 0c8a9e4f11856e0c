"""densebin: out-of-core density binning for point sets larger than memory.

Bin numpy arrays (or anything numpy can view without a copy: memory maps,
pandas Series, buffers) into a grid of per-pixel accumulators — counts, sums
of z, extrema, z histograms — with datashader's pixel mapping, in parallel
and without copying the input::

    import numpy as np, densebin
    X, Y, Z = np.memmap("points.f32", dtype="float32", mode="r").reshape(-1, 3).T
    grid = densebin.bin(X, Y, Z, width=800, height=600)
    grid.count            # points per pixel, row 0 at the bottom
    grid.save("points.h5")

The grid file is the command line's (``densebin bin``), readable by h5py
and xarray; :func:`open` reads one back.
"""

from . import errors
from ._args import by_column as _by
from ._args import column as _column
from ._args import grid_args as _grid
from ._args import optional_int as _int
from ._args import part as _part
from ._args import paths as _paths
from ._args import read_args as _read
from ._canvas import (
    Canvas,
    by,
    count,
    count_cat,
    dynspread,
    max,
    mean,
    min,
    shade,
    spread,
    std,
    sum,
    var,
)
from ._densebin import Grid, Image
from ._densebin import bin as _bin
from ._densebin import bin_files as _bin_files
from ._densebin import merge as _merge
from ._densebin import open as _open
from .errors import Error, FileError, GridMemoryError, InvalidInputError

__all__ = [
    "Canvas",
    "Error",
    "FileError",
    "Grid",
    "GridMemoryError",
    "Image",
    "InvalidInputError",
    "bin",
    "bin_files",
    "by",
    "count",
    "count_cat",
    "dynspread",
    "errors",
    "max",
    "mean",
    "merge",
    "min",
    "open",
    "shade",
    "spread",
    "std",
    "sum",
    "var",
]


def bin(
    x,
    y,
    z=None,
    weight=None,
    *,
    width=1000,
    height=1000,
    x_range=None,
    y_range=None,
    layers=None,
    z_bins=32,
    z_range=None,
    threads=None,
    max_memory=None,
    x_axis="linear",
    y_axis="linear",
    by=None,
    categories=None,
):
    """Bins points into a :class:`Grid`, on every core, without copying them.

    ``x``, ``y`` and the optional ``z`` and ``weight`` are 1-D arrays of one
    length: float32 or float64 of any stride are read in place (a column of
    an ``(N, 3)`` memmap, ``df["x"]``); other integer or boolean dtypes are
    converted to float64 once. The mapping is datashader's
    ``Canvas.points``; ranges default to the finite bounds of the data (a
    first pass over it), as on the command line. ``layers`` is
    ``"count,sum"`` or a list of names (default: ``count,sum,minmax,zhist``
    with ``z``, else ``count``). ``threads`` defaults to every core;
    ``max_memory`` (bytes) caps the grids, one per thread, as the command
    line's ``--max-memory`` (default: the memory the system has available):
    fewer threads are used when fewer grids fit, and
    :class:`GridMemoryError` is raised when not even one does. Ctrl-C stops
    the call within a fraction of a second (``KeyboardInterrupt``).
    ``x_axis``/``y_axis`` ``"log"`` space the pixels evenly in ``log10``
    (datashader's ``x_axis_type="log"``): values at or below 0 are out of
    range, and ranges from the data are those of the positive values.

    ``by`` adds the ``count_cat`` layer, points per category per pixel
    (datashader's ``by(column, count())``): a pandas ``Categorical`` (its
    codes read in place, its categories the set, in their order), an
    integer array (each value a category, named by its digits) or strings.
    ``categories`` fixes the set and order (points of others count as
    ``uncategorised``); otherwise the categories found are sorted, by
    number when all are integers, else by name.
    """
    codes, names, fixed = _by(by)
    return _bin(
        _column("x", x),
        _column("y", y),
        _column("z", z),
        _column("weight", weight),
        _grid(
            width,
            height,
            x_range,
            y_range,
            layers,
            z_bins,
            z_range,
            x_axis,
            y_axis,
            fixed if categories is None else categories,
        ),
        _int(threads),
        _int(max_memory),
        codes,
        names,
    )


def bin_files(
    paths,
    *,
    format="auto",
    fields=3,
    x=None,
    y=None,
    z=None,
    weight=None,
    delimiter="auto",
    header="auto",
    skip_bad_lines=False,
    width=1000,
    height=1000,
    x_range=None,
    y_range=None,
    layers=None,
    z_bins=32,
    z_range=None,
    threads=None,
    max_memory=None,
    part=None,
    x_axis="linear",
    y_axis="linear",
    by=None,
    categories=None,
):
    """Bins point files with the command line's readers (text, raw
    ``f32``/``f64`` records, ``.npy``, Parquet, HDF5 datasets; gzip- or
    zstd-compressed text and records; memory-mapped, in parallel) into a
    :class:`Grid`: ``densebin bin`` from Python, with the same options under
    the same names. ``paths`` is one path or a list; columns (``x``, ``y``,
    ``z``, ``weight``) are 0-based indices or names from a header, a
    structured ``.npy``, a Parquet schema or HDF5 dataset paths
    (``"/particles/x"``, or its last components, ``"x"``); ``None`` takes
    columns 0, 1 and 2 (z when there is one), or in HDF5 the columns named
    x, y and z. ``format`` is ``auto`` (by content, else extension),
    ``text``, ``f32``, ``f64``, ``npy``, ``parquet`` or ``hdf5``; ``delimiter``
    ``auto``, ``whitespace``, ``comma``, ``tab`` or ``semicolon``;
    ``header`` ``auto``, ``yes`` or ``no``. A malformed line raises
    :class:`InvalidInputError` naming its file, line and column, unless
    ``skip_bad_lines``. ``part=(i, n)`` bins only part ``i`` (1 to
    ``n``) of the files, as ``densebin bin --part i/n``: the points that
    start in the ``i``-th of ``n`` equal byte ranges of the files laid end to
    end; the grids of all ``n`` parts merge into the grid of the whole
    (:mod:`densebin.dask` runs them as tasks). Parts need ``x_range``,
    ``y_range`` (and ``z_range`` with a z histogram). ``by`` names a
    category column and ``categories`` fixes its set, as ``--by`` and
    ``--categories``.
    """
    return _bin_files(
        _paths(paths),
        _read(format, fields, x, y, z, weight, delimiter, header, skip_bad_lines, by),
        _grid(width, height, x_range, y_range, layers, z_bins, z_range, x_axis, y_axis, categories),
        _int(threads),
        _int(max_memory),
        _part(part),
    )


def merge(grids):
    """The grids (same canvas and layers) merged into one: counts and sums
    add, extrema combine, as ``densebin merge``."""
    return _merge(list(grids))


def open(path):
    """Reads a grid file written by :meth:`Grid.save` or ``densebin bin``."""
    return _open(str(path))


def __getattr__(name):
    # densebin.mpl and densebin.dask import matplotlib and dask, so only
    # when first used.
    if name in ("mpl", "dask"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'densebin' has no attribute {name!r}")
