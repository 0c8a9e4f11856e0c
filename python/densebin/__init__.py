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

import numbers

import numpy as np

from . import errors
from ._densebin import Grid
from ._densebin import bin as _bin
from ._densebin import open as _open
from .errors import Error, FileError, GridMemoryError, InvalidInputError

__all__ = [
    "Error",
    "FileError",
    "Grid",
    "GridMemoryError",
    "InvalidInputError",
    "bin",
    "errors",
    "open",
]


def _column(name, values):
    """``values`` as a 1-D float32 or float64 array, without a copy when it
    is one already (any strides); other real dtypes are converted to
    float64 once."""
    if values is None:
        return None
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()  # pandas
    a = np.asarray(values)
    if a.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, not of shape {a.shape}")
    if a.dtype in (np.float32, np.float64):
        return a.astype(a.dtype.newbyteorder("="), copy=False)
    if a.dtype.kind in "iub":
        return a.astype(np.float64)
    raise InvalidInputError(f"{name} must hold real numbers, not {a.dtype}")


def _range(name, r):
    if r is None:
        return None
    try:
        lo, hi = r
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}= must be a pair (lo, hi), not {r!r}") from None
    if not all(isinstance(v, numbers.Real) for v in (lo, hi)):
        raise InvalidInputError(f"{name}= must hold two numbers, not {r!r}")
    return (float(lo), float(hi))


def _layers(layers):
    if layers is None or isinstance(layers, str):
        return layers
    return ",".join(layers)


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
):
    """Bins points into a :class:`Grid`, on every core, without copying them.

    ``x``, ``y`` and the optional ``z`` and ``weight`` are 1-D arrays of one
    length: float32 or float64 of any stride are read in place (a column of
    an ``(N, 3)`` memmap, ``df["x"]``); other integer or boolean dtypes are
    converted to float64 once. The mapping is datashader's
    ``Canvas.points``; ranges default to the finite bounds of the data (a
    first pass over it), as on the command line. ``layers`` is
    ``"count,sum"`` or a list of names (default: ``count,sum,minmax,zhist``
    with ``z``, else ``count``). Ctrl-C stops the call within a fraction of
    a second (``KeyboardInterrupt``).
    """
    return _bin(
        _column("x", x),
        _column("y", y),
        _column("z", z),
        _column("weight", weight),
        int(width),
        int(height),
        _range("x_range", x_range),
        _range("y_range", y_range),
        _layers(layers),
        int(z_bins),
        _range("z_range", z_range),
        None if threads is None else int(threads),
    )


def open(path):  # noqa: A001 - the name of the API
    """Reads a grid file written by :meth:`Grid.save` or ``densebin bin``."""
    return _open(str(path))
