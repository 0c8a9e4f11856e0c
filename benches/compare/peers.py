"""One peer, one case, one process: prints a JSON line with the best time of
`--repeat` runs after a warm-up run (numba compilation, page cache), the
points per second, and the process's peak RSS.

The data is loaded the way each peer is fastest: the float32 x, y, z
columns of the records file are copied into contiguous arrays (or a
DataFrame) before timing, so the peers are timed on their kernels alone,
with their input already in memory. densebin is timed on more: from the
file on disk (in the page cache) to the grid.

Cases: count_W (a W x W count grid), mean_W (count and sum of z, i.e. the
mean), csv (parse-only text reading, MB/s).

The tool "densebin" is the Python package's densebin.bin on the same
in-memory columns as the peers; "densebin-memmap" is densebin.bin on the
column views of the memory-mapped records file itself (no copy), timed the
same way, for the memory check.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

X0, X1, Y0, Y1 = -10.0, 10.0, -6.0, 6.0


def columns(path):
    mm = np.memmap(path, dtype="float32", mode="r").reshape(-1, 3)
    return [np.ascontiguousarray(mm[:, i]) for i in range(3)]


def best(fn, repeat):
    fn()  # warm-up: JIT compilation, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run(tool, case, path, repeat):
    if case == "csv":
        size = os.path.getsize(path)
        if tool == "pandas":
            import pandas as pd

            def fn():
                pd.read_csv(path, sep=" ", header=None, names=["x", "y", "z"],
                            dtype="float64", engine="c")
        elif tool == "pyarrow":
            from pyarrow import csv

            def fn():
                csv.read_csv(path, read_options=csv.ReadOptions(column_names=["x", "y", "z"]),
                             parse_options=csv.ParseOptions(delimiter=" "))
        else:
            raise SystemExit(f"no csv case for {tool}")
        t = best(fn, repeat)
        return {"seconds": t, "mb_per_s": size / t / 1e6}

    kind, size = case.split("_")
    n = int(size)
    if tool == "densebin-baseline":  # the interpreter with numpy and densebin, doing nothing
        import densebin  # noqa: F401

        return {"seconds": 0.0}
    if tool == "densebin-memmap":
        x, y, z = np.memmap(path, dtype="float32", mode="r").reshape(-1, 3).T
    else:
        x, y, z = columns(path)
    pts = x.size
    if tool in ("densebin", "densebin-memmap"):
        import densebin

        layers = "count" if kind == "count" else "count,sum"

        def fn():
            return densebin.bin(x, y, z if kind == "mean" else None, width=n, height=n,
                                x_range=(X0, X1), y_range=(Y0, Y1), layers=layers)
    elif tool == "numpy":
        def fn():
            c, _, _ = np.histogram2d(y, x, bins=(n, n), range=[[Y0, Y1], [X0, X1]])
            if kind == "mean":
                s, _, _ = np.histogram2d(y, x, bins=(n, n), range=[[Y0, Y1], [X0, X1]], weights=z)
                with np.errstate(invalid="ignore", divide="ignore"):
                    return s / c
            return c
    elif tool == "fast-histogram":
        from fast_histogram import histogram2d

        def fn():
            c = histogram2d(y, x, bins=(n, n), range=[[Y0, Y1], [X0, X1]])
            if kind == "mean":
                s = histogram2d(y, x, bins=(n, n), range=[[Y0, Y1], [X0, X1]], weights=z)
                with np.errstate(invalid="ignore", divide="ignore"):
                    return s / c
            return c
    elif tool in ("datashader", "datashader-dask"):
        import datashader as ds
        import pandas as pd

        df = pd.DataFrame({"x": x, "y": y, "z": z})
        if tool == "datashader-dask":
            import dask
            import dask.dataframe as dd

            dask.config.set(scheduler="threads")
            df = dd.from_pandas(df, npartitions=os.cpu_count()).persist()
        cvs = ds.Canvas(plot_width=n, plot_height=n, x_range=(X0, X1), y_range=(Y0, Y1))
        agg = ds.count() if kind == "count" else ds.mean("z")

        def fn():
            return cvs.points(df, "x", "y", agg)
    elif tool == "vaex":
        import vaex

        df = vaex.from_arrays(x=x, y=y, z=z)

        def fn():
            limits = [[X0, X1], [Y0, Y1]]
            if kind == "count":
                return df.count(binby=[df.x, df.y], limits=limits, shape=n)
            return df.mean(df.z, binby=[df.x, df.y], limits=limits, shape=n)
    else:
        raise SystemExit(f"unknown tool {tool}")
    t = best(fn, repeat)
    out = {"seconds": t, "mpts_per_s": pts / t / 1e6, "points": pts}
    if tool.startswith("densebin"):
        out["grid_mb"] = sum(a.nbytes for a in fn().arrays().values()) / 2**20
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("case")
    ap.add_argument("path")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    try:
        out = run(a.tool, a.case, a.path, a.repeat)
        out["error"] = None
    except Exception as e:  # a peer that fails is reported, not fatal
        out = {"error": f"{type(e).__name__}: {e}".splitlines()[0][:200]}
    out.update(tool=a.tool, case=a.case,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
