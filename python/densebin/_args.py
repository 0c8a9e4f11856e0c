"""Arguments as the compiled part takes them, checked first: columns as
numpy views, ranges as pairs of numbers, layers as the command line's
spelling."""

import numbers

import numpy as np

from .errors import InvalidInputError


def as_numpy(values):
    """``values`` as a numpy array without a copy where one is not needed
    (pandas Series and anything with the buffer protocol)."""
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()  # pandas
    return np.asarray(values)


def column(name, values):
    """``values`` as a 1-D float32 or float64 array, without a copy when it
    is one already (any strides); other real dtypes are converted to
    float64 once."""
    if values is None:
        return None
    a = as_numpy(values)
    if a.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, not of shape {a.shape}")
    if a.dtype in (np.float32, np.float64):
        return a.astype(a.dtype.newbyteorder("="), copy=False)
    if a.dtype.kind in "iub":
        return a.astype(np.float64)
    raise InvalidInputError(f"{name} must hold real numbers, not {a.dtype}")


def pair(name, r):
    """``r`` as a tuple ``(lo, hi)`` of the numbers given, or ``None``."""
    if r is None:
        return None
    try:
        lo, hi = r
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}= must be a pair (lo, hi), not {r!r}") from None
    if not all(isinstance(v, numbers.Real) for v in (lo, hi)):
        raise InvalidInputError(f"{name}= must hold two numbers, not {r!r}")
    return (lo, hi)


def float_pair(name, r):
    p = pair(name, r)
    return None if p is None else (float(p[0]), float(p[1]))


def layers_text(layers):
    """``"count,sum"`` or a list of names, as ``"count,sum"``."""
    if layers is None or isinstance(layers, str):
        return layers
    return ",".join(layers)


def grid_args(
    width,
    height,
    x_range,
    y_range,
    layers,
    z_bins,
    z_range,
    x_axis="linear",
    y_axis="linear",
    categories=None,
):
    """The grid arguments of ``bin`` and ``bin_files``."""
    return {
        "width": int(width),
        "height": int(height),
        "x_range": float_pair("x_range", x_range),
        "y_range": float_pair("y_range", y_range),
        "x_axis": str(x_axis),
        "y_axis": str(y_axis),
        "layers": layers_text(layers),
        "z_bins": int(z_bins),
        "z_range": float_pair("z_range", z_range),
        "categories": category_names(categories),
    }


def category_names(categories):
    """A fixed set of categories as a list of str, or ``None``."""
    if categories is None:
        return None
    if isinstance(categories, str):
        raise InvalidInputError(f"categories= is a list of names, not the string {categories!r}")
    return [str(c) for c in categories]


def by_column(values):
    """A category column as ``(ints, names, categories)``: a pandas
    ``Categorical`` (or a Series of one) as its codes (read in place), the
    names of its categories, and those categories as the fixed set (in
    their order, as datashader's ``by`` takes them); an integer or boolean
    array as itself, each value its own category; strings as a
    ``pandas.Categorical`` of them (a copy: categorical columns are read in
    place). Floats are refused: a column of measurements has a category per
    value."""
    if values is None:
        return None, None, None
    cat = getattr(values, "cat", None)  # a pandas Series of a Categorical
    codes = getattr(getattr(values, "array", values), "codes", None)
    if cat is not None or codes is not None:
        c = values.array if cat is not None else values
        names = [str(v) for v in c.categories]
        return np.asarray(c.codes), names, names
    a = as_numpy(values)
    if a.ndim != 1:
        raise InvalidInputError(f"by must be 1-D, not of shape {a.shape}")
    if a.dtype.kind == "b":
        return a.view(np.uint8), None, None
    if a.dtype.kind in "iu":
        return a.astype(a.dtype.newbyteorder("="), copy=False), None, None
    if a.dtype.kind in "OUS":
        import pandas as pd

        codes, names, _ = by_column(pd.Categorical(a))
        return codes, names, None
    raise InvalidInputError(
        f"by must hold categories (integers, strings or a pandas Categorical), not {a.dtype}: "
        "a column of measurements has a category per value"
    )


def optional_int(v):
    return None if v is None else int(v)


def paths(paths):
    """One path or a list of them, as strings."""
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    return [str(p) for p in paths]


def read_args(format, fields, x, y, z, weight, delimiter, header, skip_bad_lines, by=None):
    """The read options of ``bin_files``, by the command line's names."""

    def col(c):
        return None if c is None else str(c)

    return {
        "format": str(format),
        "fields": int(fields),
        "x": col(x),
        "y": col(y),
        "z": col(z),
        "weight": col(weight),
        "by": col(by),
        "delimiter": str(delimiter),
        "header": str(header),
        "skip_bad_lines": bool(skip_bad_lines),
    }


def part(part):
    """``(i, n)`` with ``i`` from 1 to ``n``, as the 0-based ``(i - 1, n)``."""
    if part is None:
        return None
    try:
        i, n = (int(v) for v in part)
    except (TypeError, ValueError):
        raise InvalidInputError(f"part= must be a pair (i, n), not {part!r}") from None
    if not 1 <= i <= n:
        raise InvalidInputError(f"part=({i}, {n}) does not exist: parts are numbered 1 to n")
    return (i - 1, n)
