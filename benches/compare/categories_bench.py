"""Counting by category at 1000 x 1000: densebin (the command line on a
structured .npy, and densebin.bin on in-memory columns) against
datashader's ``Canvas.points(df, agg=ds.by(col, ds.count()))`` on a pandas
DataFrame with a categorical column, side by side on the same points, with 5
and with 20 categories; and, for 5 categories, a CSV of the first
``--text-points`` of them with the names as text: the command line against
``pd.read_csv`` (the name column read as a categorical) plus datashader.
Every case runs alternately, ``--repeat`` times; the best time of each is
printed. The grids are checked equal to datashader's before anything is
timed.

    python benches/compare/categories_bench.py --densebin target/release/densebin \
        [--points 20M] [--repeat 3] [--data DIR]
"""

import argparse
import subprocess
import time
from pathlib import Path

import datashader as ds
import numpy as np
import pandas as pd

import densebin

W = H = 1000
RANGE = (-4.0, 4.0)


def points(n, k, seed=7):
    """Clusters, one per category, over the canvas: float32 x and y and a
    uint8 category."""
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, k, n, dtype=np.uint8)
    angle = 2 * np.pi * cat / k
    x = (1.8 * np.cos(angle) + rng.normal(0, 0.9, n)).astype(np.float32)
    y = (1.8 * np.sin(angle) + rng.normal(0, 0.9, n)).astype(np.float32)
    return x, y, cat


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--densebin", required=True)
    ap.add_argument("--data", default="target/compare")
    ap.add_argument("--points", default="20M")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--text-points", default="5M")
    a = ap.parse_args()
    n = int(a.points.rstrip("M")) * 1_000_000 if a.points.endswith("M") else int(a.points)
    data = Path(a.data)
    data.mkdir(parents=True, exist_ok=True)
    print(f"{n:,} points, {W}x{H}, best of {a.repeat}")
    for k in (5, 20):
        x, y, cat = points(n, k)
        names = [f"c{i:02d}" for i in range(k)]
        df = pd.DataFrame({"x": x, "y": y, "k": pd.Categorical.from_codes(cat, names)})
        rec = np.empty(n, dtype=[("x", "<f4"), ("y", "<f4"), ("k", "u1")])
        rec["x"], rec["y"], rec["k"] = x, y, cat
        npy = data / f"cat{k}.npy"
        np.save(npy, rec)
        out = data / f"cat{k}.h5"
        cvs = ds.Canvas(plot_width=W, plot_height=H, x_range=RANGE, y_range=RANGE)
        cli = [a.densebin, "bin", str(npy), "--by", "k", "-o", str(out), "-q"]
        cli += ["--width", str(W), "--height", str(H)]
        cli += ["--x-range", "{},{}".format(*RANGE), "--y-range", "{},{}".format(*RANGE)]

        def run_datashader(cvs=cvs, df=df):
            return cvs.points(df, "x", "y", agg=ds.by("k", ds.count()))

        def run_python(x=x, y=y, df=df):
            return densebin.bin(x, y, by=df.k, width=W, height=H, x_range=RANGE, y_range=RANGE)

        def run_cli(cli=cli):
            subprocess.run(cli, check=True)

        theirs = run_datashader()
        ours = run_python()
        assert ours.categories == names
        np.testing.assert_array_equal(np.moveaxis(ours.count_cat, 0, -1), theirs.values)
        run_cli()
        # The CLI counts integer classes, named by number: the same planes.
        assert densebin.open(out).categories == [str(i) for i in range(k)]
        np.testing.assert_array_equal(densebin.open(out).count_cat, ours.count_cat)
        times = {"datashader": [], "densebin.bin": [], "densebin bin (CLI, .npy)": []}
        for _ in range(a.repeat):
            times["datashader"].append(best(run_datashader, 1))
            times["densebin.bin"].append(best(run_python, 1))
            times["densebin bin (CLI, .npy)"].append(best(run_cli, 1))
        ds_best = min(times["datashader"])
        print(f"\n{k} categories")
        for name, t in times.items():
            t = min(t)
            print(
                f"  {name:28s} {t:7.3f} s  {n / t / 1e6:7.1f} Mpts/s  "
                f"{ds_best / t:5.2f}x datashader"
            )
        if k == 5:
            text_case(a, data, df, cvs)


def text_case(a, data, df, cvs):
    m = a.text_points
    m = int(m.rstrip("M")) * 1_000_000 if m.endswith("M") else int(m)
    csv = data / f"cat5_{m}.csv"
    if not csv.exists():
        df.iloc[:m].to_csv(csv, index=False, float_format="%.5f")
    out = data / "cat5_text.h5"
    cli = [a.densebin, "bin", str(csv), "--by", "k", "-o", str(out), "-q"]
    cli += ["--width", str(W), "--height", str(H)]
    cli += ["--x-range", "{},{}".format(*RANGE), "--y-range", "{},{}".format(*RANGE)]

    def run_pandas():
        frame = pd.read_csv(csv, dtype={"k": "category"})
        return cvs.points(frame, "x", "y", agg=ds.by("k", ds.count()))

    def run_cli():
        subprocess.run(cli, check=True)

    theirs = run_pandas()
    run_cli()
    ours = densebin.open(out)
    assert ours.categories == list(theirs.k.values)
    np.testing.assert_array_equal(np.moveaxis(ours.count_cat, 0, -1), theirs.values)
    times = {"pd.read_csv + datashader": [], "densebin bin (CLI, CSV)": []}
    for _ in range(a.repeat):
        times["pd.read_csv + datashader"].append(best(run_pandas, 1))
        times["densebin bin (CLI, CSV)"].append(best(run_cli, 1))
    ref = min(times["pd.read_csv + datashader"])
    print(f"\n5 categories, text: {m:,} lines of CSV ({csv.stat().st_size / 1e6:.0f} MB)")
    for name, t in times.items():
        t = min(t)
        print(
            f"  {name:28s} {t:7.3f} s  {m / t / 1e6:7.1f} Mpts/s  "
            f"{ref / t:5.2f}x pandas + datashader"
        )


if __name__ == "__main__":
    main()
