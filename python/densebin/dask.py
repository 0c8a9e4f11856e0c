"""densebin on Dask: bin dask collections and sharded files across a
cluster, exactly.

Every task bins one partition (or one byte range of the files) into a grid
inside Rust, with the GIL released; grids travel between workers as
compact pickles (their arrays' bytes) and merge as a tree. Ranges not given
are found first, as one distributed reduction of per-partition bounds;
then every task bins onto the same canvas. Integer layers are the
single-machine grid's bit for bit, whatever the partitioning; float sums
agree to rounding (they add in another order).

Worker memory is bounded by the grid: a binning task holds one grid per
thread it uses, a merge task at most ``split_every`` grids, so a worker
needs about ``grid size × (threads + split_every)`` for each task it runs
at once.

    import densebin.dask
    grid = densebin.dask.bin_files("/shared/points-*.txt", x_range=(-10, 10), y_range=(-6, 6))
    grid = densebin.dask.bin(ddf, x="x", y="y", z="z")

Uses whatever scheduler is active (a ``distributed.Client``, or dask's
default threads); ``scheduler=`` picks one for the call.
"""

import glob
import math
import os

from . import bin as _bin
from . import bin_files as _bin_files
from ._args import grid_args, read_args
from ._densebin import bounds as _bounds
from ._densebin import bounds_files as _bounds_files
from ._densebin import merge as _merge
from ._densebin import ranges_from_bounds as _ranges_from_bounds
from .errors import Error, FileError, InvalidInputError

__all__ = ["bin", "bin_files", "DEFAULT_CHUNK_BYTES", "DEFAULT_SPLIT_EVERY"]

#: Bytes of input per task of :func:`bin_files`.
DEFAULT_CHUNK_BYTES = 256 * 2**20
#: Grids merged per task of the tree reduction.
DEFAULT_SPLIT_EVERY = 8


def _tree(items, combine, split_every):
    """``items`` (delayed) combined ``split_every`` at a time, level by
    level, into one delayed value."""
    from dask import delayed

    split_every = int(split_every)
    if split_every < 2:
        raise InvalidInputError(f"split_every= must be at least 2, not {split_every}")
    while len(items) > 1:
        items = [
            delayed(combine, pure=True)(*items[i : i + split_every])
            for i in range(0, len(items), split_every)
        ]
    return items[0]


def _merge_grids(*grids):
    return _merge(list(grids))


def _merge_extents(*parts):
    """Per-axis union of ``(x, y, z)`` extents, each ``(lo, hi)`` or None."""
    out = []
    for axis in zip(*parts, strict=True):
        found = [e for e in axis if e is not None]
        out.append((min(e[0] for e in found), max(e[1] for e in found)) if found else None)
    return tuple(out)


def _compute(obj, scheduler):
    """Computes ``obj``; a densebin error of a task is raised as itself, its
    one-line message without the scheduler's traceback."""
    import dask

    try:
        return dask.compute(obj, scheduler=scheduler)[0]
    except Error as e:
        raise e.with_traceback(None) from None


def _needs_scan(x_range, y_range, z_range, layers):
    """True when a range must come from the data: x or y missing, or z
    missing where a z histogram may be binned (the default layers with a z
    column, or zhist asked for)."""
    if x_range is None or y_range is None:
        return True
    if z_range is not None:
        return False
    names = layers.split(",") if isinstance(layers, str) else list(layers or [])
    return layers is None or "zhist" in names


def _fixed_grid(grid, extents_delayed, names, scheduler):
    """``grid`` (the grid arguments) with every range fixed: found from the
    data's bounds (computed now) where missing, as one run on all of it
    would find them."""
    extents = _compute(extents_delayed, scheduler)
    x, y, z = _ranges_from_bounds(list(extents), grid, names)
    return dict(grid, x_range=tuple(x), y_range=tuple(y), z_range=tuple(z))


def _finish(tree, compute, scheduler):
    return _compute(tree, scheduler) if compute else tree


def _expand(paths):
    """Paths and glob patterns as a sorted list of files."""
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    files = []
    for p in map(os.fspath, paths):
        found = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not found:
            raise InvalidInputError(f"{p}: no file matches")
        files.extend(found)
    return files


def _compressed(path):
    """True for a gzip or zstd file (by its magic bytes, as densebin
    detects them): such a file is decompressed in order, by one task."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head[:2] == b"\x1f\x8b" or head == b"\x28\xb5\x2f\xfd"


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError as e:
        raise FileError(f"{path}: {e.strerror}") from None


def bin_files(
    paths,
    *,
    chunk_bytes=DEFAULT_CHUNK_BYTES,
    split_every=DEFAULT_SPLIT_EVERY,
    compute=True,
    scheduler=None,
    threads=None,
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
    x_axis="linear",
    y_axis="linear",
    by=None,
    categories=None,
):
    """Bins point files on Dask with the command line's readers: the files
    (paths or glob patterns, read on the workers — a filesystem they all
    see) are cut into tasks of about ``chunk_bytes`` each, at line and
    record boundaries (``densebin bin --part``'s cuts), and the tasks'
    grids merge as a tree of ``split_every``. Read and grid options are
    :func:`densebin.bin_files`'s. No pandas anywhere: each task memory-maps
    its byte range and parses it in Rust.

    Ranges not given are found first, one task per part. A malformed line
    raises :class:`densebin.InvalidInputError` with its file, line and
    column. ``threads`` is the threads each task uses (default: every core
    the worker sees; give ``cores / worker threads`` when a machine runs
    several). With ``compute=False`` returns a ``dask.delayed`` of the
    grid (a range pass, when ranges are missing, still runs first: the
    graph needs them).
    """
    files = _expand(paths)
    total = sum(_size(f) for f in files)
    n = max(1, math.ceil(total / max(1, int(chunk_bytes))))
    if any(_compressed(f) for f in files):
        # Compressed files cannot be cut into byte ranges: a task a file.
        return _bin_whole_files(
            files,
            read_args(format, fields, x, y, z, weight, delimiter, header, skip_bad_lines, by),
            grid_args(
                width, height, x_range, y_range, layers, z_bins, z_range, x_axis, y_axis, categories
            ),
            threads,
            split_every,
            compute,
            scheduler,
        )
    read = read_args(format, fields, x, y, z, weight, delimiter, header, skip_bad_lines, by)
    grid = grid_args(
        width, height, x_range, y_range, layers, z_bins, z_range, x_axis, y_axis, categories
    )
    from dask import delayed

    threads = None if threads is None else int(threads)
    if _needs_scan(x_range, y_range, z_range, grid["layers"]):
        parts = [
            delayed(_bounds_files, pure=True)(
                files, read, grid["x_range"], grid["y_range"], threads, (i, n), _axes(grid)
            )
            for i in range(n)
        ]
        tree = _tree(parts, _merge_extents, split_every)
        grid = _fixed_grid(grid, tree, ", ".join(files), scheduler)
    tasks = [
        delayed(_bin_part, pure=True)(files, read, grid, threads, (i + 1, n)) for i in range(n)
    ]
    return _finish(_tree(tasks, _merge_grids, split_every), compute, scheduler)


def _bin_whole_files(files, read, grid, threads, split_every, compute, scheduler):
    """A task per file, for compressed files; ranges found first as a
    reduction of the files' bounds when they are missing."""
    from dask import delayed

    threads = None if threads is None else int(threads)
    if _needs_scan(grid["x_range"], grid["y_range"], grid["z_range"], grid["layers"]):
        parts = [
            delayed(_bounds_files, pure=True)(
                [f], read, grid["x_range"], grid["y_range"], threads, None, _axes(grid)
            )
            for f in files
        ]
        tree = _tree(parts, _merge_extents, split_every)
        grid = _fixed_grid(grid, tree, ", ".join(files), scheduler)
    tasks = [delayed(_bin_part, pure=True)([f], read, grid, threads, None) for f in files]
    return _finish(_tree(tasks, _merge_grids, split_every), compute, scheduler)


def _bin_part(files, read, grid, threads, part):
    return _bin_files(files, **read, **grid, threads=threads, part=part)


def _is_dataframe(obj):
    return hasattr(obj, "to_delayed") and hasattr(obj, "columns")


def _partitions(source, x, y, z, weight, by=None):
    """The partitions to bin, as delayed objects, and the column names to
    take from each: a dask DataFrame's partitions (its pandas frames) with
    the names given; or, for dask arrays (``source=None``), tuples of the
    five columns' aligned chunks (x, y, z, weight, category), and no
    names."""
    import dask.array as da

    if source is not None:
        if not _is_dataframe(source):
            raise InvalidInputError(
                f"source= must be a dask DataFrame (or None, with dask arrays as x=, y=, ...), "
                f"not {type(source).__name__}"
            )
        names = (x, y, z, weight, by)
        missing = [c for c in names if c is not None and c not in source.columns]
        if missing:
            raise InvalidInputError(f"the DataFrame has no column {missing[0]!r}")
        # Whole partitions, their columns taken in the task: selecting
        # columns first would copy every partition (0.12 s of 0.48 for 50 M
        # points on two workers).
        return list(source.to_delayed()), names
    arrays = [None if c is None else da.asarray(c) for c in (x, y, z, weight, by)]
    present = [a for a in arrays if a is not None]
    if any(a.ndim != 1 for a in present):
        raise InvalidInputError("dask arrays of points must be 1-D")
    if any(a.shape != present[0].shape for a in present):
        raise InvalidInputError(
            f"the columns must have one length, not {[a.shape[0] for a in present]}"
        )
    chunks = [
        None if a is None else a.rechunk(present[0].chunks).to_delayed().ravel() for a in arrays
    ]
    n = len(chunks[0])
    return [tuple(None if c is None else c[i] for c in chunks) for i in range(n)], None


def _part_columns(part, names):
    """x, y, z, weight and the category column of one partition: numpy
    views of a pandas frame's numpy-backed columns, and the category
    column as its Series (a Categorical's codes are read in place)."""
    if names is None:
        return part
    *numbers, by = names
    cols = tuple(None if n is None else part[n].to_numpy() for n in numbers)
    return (*cols, None if by is None else part[by])


def bin(
    source=None,
    *,
    x,
    y,
    z=None,
    weight=None,
    split_every=DEFAULT_SPLIT_EVERY,
    compute=True,
    scheduler=None,
    threads=None,
    width=1000,
    height=1000,
    x_range=None,
    y_range=None,
    layers=None,
    z_bins=32,
    z_range=None,
    x_axis="linear",
    y_axis="linear",
    by=None,
    categories=None,
):
    """Bins a dask collection on Dask: ``source`` a ``dask.dataframe`` with
    ``x``, ``y``, ``z``, ``weight`` column names, or ``source=None`` with
    ``x``, ``y``, ... 1-D ``dask.array``s. Each partition is binned into a
    grid where it lives (:func:`densebin.bin`: no copy of numpy-backed
    float columns), and the grids merge as a tree of ``split_every``.
    Grid options are :func:`densebin.bin`'s; ranges not given are found
    first as one distributed reduction of per-partition bounds, never by
    pulling data to the client. ``compute=False`` returns a
    ``dask.delayed`` of the grid (after that range pass, when one is
    needed).

    ``by`` (a column name, or a dask array with ``source=None``) adds the
    ``count_cat`` layer as in :func:`densebin.bin`. A categorical column
    whose categories dask knows counts them, in their order, in every
    partition; otherwise each partition finds its own and the merge takes
    their union, sorted. ``categories`` fixes the set.
    """
    from dask import delayed

    parts, names = _partitions(source, x, y, z, weight, by)
    if categories is None and names is not None and by is not None:
        cat = getattr(source[by], "cat", None)
        if cat is not None and cat.known:
            categories = [str(c) for c in cat.categories]
    grid = grid_args(
        width, height, x_range, y_range, layers, z_bins, z_range, x_axis, y_axis, categories
    )
    threads = None if threads is None else int(threads)
    if _needs_scan(x_range, y_range, z_range, grid["layers"]):
        bounds = [
            delayed(_bounds_part, pure=True)(
                p, names, grid["x_range"], grid["y_range"], threads, _axes(grid)
            )
            for p in parts
        ]
        tree = _tree(bounds, _merge_extents, split_every)
        grid = _fixed_grid(grid, tree, "arrays", scheduler)
    tasks = [delayed(_bin_part_columns, pure=True)(p, names, grid, threads) for p in parts]
    return _finish(_tree(tasks, _merge_grids, split_every), compute, scheduler)


def _axes(grid):
    return (grid["x_axis"], grid["y_axis"])


def _bounds_part(part, names, x_range, y_range, threads, axes):
    from ._args import column

    x, y, z, *_ = _part_columns(part, names)
    cols = (column("x", x), column("y", y), column("z", z))
    return tuple(_bounds(*cols, x_range, y_range, threads, axes))


def _bin_part_columns(part, names, grid, threads):
    x, y, z, w, c = _part_columns(part, names)
    return _bin(x, y, z, w, by=c, threads=threads, **grid)


def datashader_ranges(ddf, x, y):
    """datashader's ranges of a dask DataFrame's columns x and y: their
    least and greatest values that are not NaN, one distributed reduction."""
    import dask

    from ._canvas import datashader_range

    lo_x, hi_x, lo_y, hi_y = dask.compute(ddf[x].min(), ddf[x].max(), ddf[y].min(), ddf[y].max())
    return datashader_range(lo_x, hi_x), datashader_range(lo_y, hi_y)
