"""Parquet: 50 M float32 points (x, y, z; pyarrow, snappy, row groups of
1 M rows), count and mean at 1000 x 1000. densebin's command line (the
whole process; its binning phase in brackets) against datashader on
``pd.read_parquet`` (read + bin, and its kernel alone) and on
``dd.read_parquet`` (Dask's threaded scheduler, a partition per row group
or more, read and binned in parallel), and against
pyarrow's multithreaded ``read_table`` of the three columns alone — the
decoding every tool must do. Alternating, best of ``--repeat``; the grids
are checked equal to datashader's first.

    python benches/compare/parquet_bench.py --densebin target/release/densebin \
        [--points 50M] [--repeat 3] [--data DIR]
"""

import argparse
import re
import subprocess
import time
from pathlib import Path

import dask.dataframe as dd
import datashader as ds
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import densebin

W = H = 1000
RANGE = (-4.0, 4.0)


def best(f, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = f()
        out.append((time.perf_counter() - t, r))
    return min(out, key=lambda p: p[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--densebin", required=True)
    ap.add_argument("--data", default="target/compare")
    ap.add_argument("--points", default="50M")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n = int(a.points.rstrip("M")) * 1_000_000
    path = Path(a.data) / f"p{n // 1_000_000}.parquet"
    if not path.exists():
        rng = np.random.default_rng(3)
        cols = {
            "x": rng.normal(0, 1.2, n).astype(np.float32),
            "y": rng.normal(0, 1.2, n).astype(np.float32),
            "z": rng.normal(0, 1, n).astype(np.float32),
        }
        pq.write_table(pa.table(cols), path, row_group_size=1 << 20, compression="snappy")
    size = path.stat().st_size / 1e6
    print(f"{n:,} points, {path} ({size:.0f} MB), {W}x{H}, best of {a.repeat}")
    cvs = ds.Canvas(plot_width=W, plot_height=H, x_range=RANGE, y_range=RANGE)
    rng_args = ["--x-range", "{},{}".format(*RANGE), "--y-range", "{},{}".format(*RANGE)]
    for name, ds_agg, layers in [
        ("count", ds.count(), "count"),
        ("mean", ds.mean("z"), "count,sum"),
    ]:
        cli = [a.densebin, "bin", str(path), "--layers", layers, "-o", "/tmp/pq.h5"]
        cli += ["--width", str(W), "--height", str(H), *rng_args]

        def run_cli(cli=cli):
            out = subprocess.run(cli, check=True, capture_output=True, text=True).stderr
            return float(re.search(r"binned ([0-9.]+) s", out).group(1))

        def run_pyarrow():
            return pq.read_table(path, columns=["x", "y", "z"], use_threads=True).num_rows

        def run_datashader(ds_agg=ds_agg):
            df = pd.read_parquet(path)
            return cvs.points(df, "x", "y", agg=ds_agg)

        def run_dask(ds_agg=ds_agg):
            return cvs.points(dd.read_parquet(path), "x", "y", agg=ds_agg)

        df = pd.read_parquet(path)

        def run_ds_kernel(ds_agg=ds_agg, df=df):
            return cvs.points(df, "x", "y", agg=ds_agg)

        theirs = run_datashader()
        run_cli()
        ours = densebin.open("/tmp/pq.h5")
        want = theirs.values if name == "count" else np.nan_to_num(theirs.values)
        got = ours.count if name == "count" else np.nan_to_num(ours.mean_z())
        if name == "count":
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            np.nan_to_num(run_dask().values), np.nan_to_num(theirs.values), rtol=1e-5, atol=1e-6
        )
        times = {k: [] for k in ("cli", "phase", "pyarrow", "ds", "dask", "kernel")}
        for _ in range(a.repeat):
            t, phase = best(run_cli, 1)
            times["cli"].append(t)
            times["phase"].append(phase)
            times["pyarrow"].append(best(run_pyarrow, 1)[0])
            times["ds"].append(best(run_datashader, 1)[0])
            times["dask"].append(best(run_dask, 1)[0])
            times["kernel"].append(best(run_ds_kernel, 1)[0])
        m = {k: min(v) for k, v in times.items()}
        print(f"\n{name}")
        print(
            f"  densebin bin (whole process)       {m['cli']:7.3f} s  (binning {m['phase']:.3f} s)"
        )
        print(f"  pd.read_parquet + datashader       {m['ds']:7.3f} s  {m['ds'] / m['cli']:5.2f}x")
        print(
            f"  dd.read_parquet + datashader       {m['dask']:7.3f} s  {m['dask'] / m['cli']:5.2f}x"
        )
        print(
            f"  datashader kernel alone            {m['kernel']:7.3f} s  "
            f"{m['kernel'] / m['cli']:5.2f}x"
        )
        print(
            f"  pyarrow read_table alone           {m['pyarrow']:7.3f} s  densebin binning is "
            f"{m['phase'] / m['pyarrow']:.2f}x of it"
        )


if __name__ == "__main__":
    main()
