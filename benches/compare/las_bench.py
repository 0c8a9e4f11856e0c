"""LAS and LAZ: 20 M points (LAS 1.4, point format 6, written by laspy;
LAZ by lazrs in chunks of 50 000), count at 1000 x 1000 over the header's
bounds. densebin's command line (the whole process, no ranges given: the
header's bounds, no scan; its binning phase in brackets) against laspy's
read (LAZ with the parallel lazrs backend) plus numpy's ``histogram2d``,
plus fast-histogram, and against laspy's read alone — the decoding every
tool must do. Alternating, best of ``--repeat``; the grids are checked
equal to numpy's first.

    python benches/compare/las_bench.py --densebin target/release/densebin \
        [--points 20M] [--repeat 3] [--data DIR]
"""

import argparse
import re
import subprocess
import time
from pathlib import Path

import densebin
import laspy
import numpy as np

W = H = 1000


def timed(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def make(path, n, laz):
    rng = np.random.default_rng(5)
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.array([500_000.0, 4_000_000.0, 0.0])
    las = laspy.LasData(header)
    las.x = 500_000 + rng.normal(500, 150, n).clip(0, 1000)
    las.y = 4_000_000 + rng.normal(500, 150, n).clip(0, 1000)
    las.z = rng.uniform(0, 80, n)
    las.intensity = rng.integers(0, 4000, n, dtype=np.uint16)
    las.classification = rng.choice(np.array([1, 2, 6, 9], dtype=np.uint8), n)
    las.gps_time = np.arange(n) * 1e-4
    if laz:
        las.write(path, do_compress=True, laz_backend=laspy.LazBackend.LazrsParallel)
    else:
        las.write(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--densebin", required=True)
    ap.add_argument("--data", default="target/compare")
    ap.add_argument("--points", default="20M")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n = int(a.points.rstrip("M")) * 1_000_000
    try:
        import fast_histogram
    except ImportError:
        fast_histogram = None
    for ext in ("las", "laz"):
        path = Path(a.data) / f"p{n // 1_000_000}.{ext}"
        if not path.exists():
            make(path, n, ext == "laz")
        size = path.stat().st_size / 1e6
        header = laspy.open(path).header
        xr = (header.mins[0], header.maxs[0])
        yr = (header.mins[1], header.maxs[1])
        print(f"\n{n:,} points, {path} ({size:.0f} MB), {W}x{H}, best of {a.repeat}")
        cli = [a.densebin, "bin", str(path), "--layers", "count", "-o", "/tmp/las.h5"]
        cli += ["--width", str(W), "--height", str(H)]

        def run_cli(cli=cli):
            out = subprocess.run(cli, check=True, capture_output=True, text=True).stderr
            return float(re.search(r"binned ([0-9.]+) s", out).group(1))

        backend = laspy.LazBackend.LazrsParallel if ext == "laz" else None

        def read(path=path, backend=backend):
            las = laspy.read(path, laz_backend=backend) if backend else laspy.read(path)
            return np.asarray(las.x), np.asarray(las.y)

        def run_numpy(xr=xr, yr=yr):
            x, y = read()
            return np.histogram2d(y, x, bins=(H, W), range=(yr, xr))[0]

        def run_fast(xr=xr, yr=yr):
            x, y = read()
            return fast_histogram.histogram2d(y, x, bins=(H, W), range=(yr, xr))

        want = run_numpy()
        run_cli()
        got = densebin.open("/tmp/las.h5")
        assert got.x_range == xr and got.y_range == yr, (got.x_range, xr)
        assert got.count.sum() == n == want.sum()
        # numpy's bins and datashader's pixel mapping differ by an ulp at
        # bin edges: the totals agree exactly, the pixels nearly all.
        assert np.mean(got.count == want) > 0.999
        cases = {"cli": run_cli, "read": read, "numpy": run_numpy}
        if fast_histogram:
            cases["fast"] = run_fast
        times = {k: [] for k in [*cases, "phase"]}
        for _ in range(a.repeat):
            for k, f in cases.items():
                t, r = timed(f)
                times[k].append(t)
                if k == "cli":
                    times["phase"].append(r)
        m = {k: min(v) for k, v in times.items()}
        print(f"  densebin bin (whole process)   {m['cli']:7.3f} s  (binning {m['phase']:.3f} s)")
        for key, label in [
            ("numpy", "laspy.read + np.histogram2d"),
            ("fast", "laspy.read + fast-histogram"),
            ("read", "laspy.read alone"),
        ]:
            if key in m:
                print(f"  {label:<30} {m[key]:7.3f} s  {m[key] / m['cli']:5.2f}x")


if __name__ == "__main__":
    main()
