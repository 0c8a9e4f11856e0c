"""A grid made by the densebin CLI, read by h5py and xarray, checked against
numpy computing the same layers from the same points.

Run by tests/python/run (which makes the virtualenv). Exits non-zero on the
first failed check.
"""

import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import xarray as xr

DENSEBIN = os.environ["DENSEBIN"]
W, H, K = 40, 30, 8
X0, X1, Y0, Y1, Z0, Z1 = -3.0, 5.0, -1.0, 2.0, -1.0, 1.0


def points(n=50_000, seed=3):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(1.0, 1.5, n), rng.uniform(X0, X1, n // 5)])
    y = np.concatenate([rng.normal(0.5, 0.6, n), rng.uniform(Y0, Y1, n // 5)])
    z = np.sin(x) * np.cos(y) + rng.normal(0, 0.1, x.size)
    # Edges, corners, interior pixel edges, non-finite values.
    edges_x = X0 + np.arange(W + 1) * (X1 - X0) / W
    edges_y = np.linspace(Y0, Y1, edges_x.size)
    x = np.concatenate([x, edges_x, [X0, X1, np.nan, np.inf, 0.0, 1.0]])
    y = np.concatenate([y, edges_y, [Y0, Y1, 0.0, 0.0, np.nan, 0.5]])
    z = np.concatenate([z, np.zeros(edges_x.size), [0.5, -0.5, 0.0, 0.0, 0.0, np.nan]])
    return x, y, z


def pixel(v, lo, hi, n):
    """The design's mapping, in numpy: -1 for points that do not bin."""
    s = n / (hi - lo)
    t = -lo * s
    with np.errstate(invalid="ignore"):
        keep = (v >= lo) & (v <= hi)
        i = np.trunc(np.where(keep, v, lo) * s + t).astype(np.int64)
    i = np.minimum(i, n - 1)
    return np.where(keep, i, -1)


def expected(x, y, z):
    col, row = pixel(x, X0, X1, W), pixel(y, Y0, Y1, H)
    ok = (col >= 0) & (row >= 0)
    p = row[ok] * W + col[ok]
    zz = z[ok]
    fin = np.isfinite(zz)
    count = np.bincount(p, minlength=W * H).reshape(H, W)
    count_z = np.bincount(p[fin], minlength=W * H).reshape(H, W)
    sum_z = np.bincount(p[fin], weights=zz[fin], minlength=W * H).reshape(H, W)
    min_z = np.full(W * H, np.inf)
    max_z = np.full(W * H, -np.inf)
    np.minimum.at(min_z, p[fin], zz[fin])
    np.maximum.at(max_z, p[fin], zz[fin])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_z / count_z
    dev = zz[fin] - mean.ravel()[p[fin]]
    m2 = np.bincount(p[fin], weights=dev * dev, minlength=W * H).reshape(H, W)
    k = pixel(np.clip(zz[fin], Z0, Z1), Z0, Z1, K)
    zhist = np.zeros((K, W * H), dtype=np.int64)
    np.add.at(zhist, (k, p[fin]), 1)
    return {
        "count": count,
        "count_z": count_z,
        "sum_z": sum_z,
        "min_z": min_z.reshape(H, W),
        "max_z": max_z.reshape(H, W),
        "m2_z": m2,
        "zhist": zhist.reshape(K, H, W),
        "binned": int(ok.sum()),
        "nonfinite_xy": int((~(np.isfinite(x) & np.isfinite(y))).sum()),
    }


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def densebin(*args):
    subprocess.run([DENSEBIN, *args], check=True)


def main():
    x, y, z = points()
    exp = expected(x, y, z)
    with tempfile.TemporaryDirectory() as d:
        txt = os.path.join(d, "p.txt")
        np.savetxt(txt, np.column_stack([x, y, z]), fmt="%.17g", header="x y z", comments="")
        grid = os.path.join(d, "g.h5")
        canvas = [
            "--width", str(W), "--height", str(H),
            f"--x-range={X0},{X1}", f"--y-range={Y0},{Y1}",
            f"--z-range={Z0},{Z1}", "--z-bins", str(K),
            "--layers", "count,sum,minmax,std,zhist", "-q",
        ]
        densebin("bin", txt, "-o", grid, *canvas)

        # h5py reads every layer, exactly as numpy computes them.
        with h5py.File(grid, "r") as f:
            # Fixed-length strings (as netCDF writes text): bytes in h5py.
            check(f.attrs["format"] == b"densebin-grid", "format attribute")
            check(f.attrs["layers"].decode() == "count,sum,minmax,std,zhist", "layers attribute")
            check([n.decode() for n in f.attrs["input_name"]] == [txt], "input_name attribute")
            check(f["count"].dtype == np.uint64 and f["count"].shape == (H, W), "count dtype and shape")
            check(np.array_equal(f["count"][...], exp["count"]), "count equals numpy exactly")
            check(np.array_equal(f["count_z"][...], exp["count_z"]), "count_z equals numpy exactly")
            check(np.array_equal(f["zhist"][...], exp["zhist"]), "zhist equals numpy exactly")
            check(np.array_equal(f["min_z"][...], exp["min_z"]), "min_z equals numpy exactly")
            check(np.array_equal(f["max_z"][...], exp["max_z"]), "max_z equals numpy exactly")
            check(np.allclose(f["sum_z"][...], exp["sum_z"], rtol=1e-12, atol=1e-9), "sum_z within 1e-12")
            check(np.allclose(f["m2_z"][...], exp["m2_z"], rtol=1e-9, atol=1e-9), "m2_z within 1e-9")
            check(int(f.attrs["points_binned"]) == exp["binned"], "points_binned counter")
            check(int(f.attrs["nonfinite_xy"]) == exp["nonfinite_xy"], "nonfinite_xy counter")
            check(int(f.attrs["points_read"]) == x.size, "points_read counter")
            check(int(f.attrs["lines_ignored"]) == 1, "the header line is counted")

        # xarray sees x/y (and z_bin) coordinates through the dimension scales,
        # with its default engine and with both netCDF engines by name.
        for engine in [None, "h5netcdf", "netcdf4"]:
            ds = xr.open_dataset(grid, engine=engine)
            check(ds.attrs["format"] == "densebin-grid", f"{engine}: format attribute is text")
            check(ds["count"].dims == ("y", "x"), f"{engine}: count dims are (y, x)")
            check(ds["zhist"].dims == ("z_bin", "y", "x"), f"{engine}: zhist dims")
            s = W / (X1 - X0)
            check(np.allclose(ds["x"].values, X0 + (np.arange(W) + 0.5) / s, rtol=0, atol=1e-12), f"{engine}: x are pixel centres")
            check(np.all(np.diff(ds["y"].values) > 0), f"{engine}: y increases: row 0 is the bottom")
            check(np.array_equal(ds["count"].values, exp["count"]), f"{engine}: count through xarray")
            # Orientation: the top-right corner point lands at the largest x and y.
            corner = ds["count"].sel(x=X1, y=Y1, method="nearest").item()
            check(corner == exp["count"][-1, -1] and corner > 0, f"{engine}: corner point at the top right")
            mean = (ds["sum_z"] / ds["count_z"]).values
            with np.errstate(invalid="ignore", divide="ignore"):
                want = exp["sum_z"] / exp["count_z"]
            check(np.allclose(mean, want, equal_nan=True), f"{engine}: mean z finishes from the stored bases")
            ds.close()

        # Automatic ranges are the finite bounds; info --json agrees.
        auto = os.path.join(d, "auto.h5")
        densebin("bin", txt, "-o", auto, "--width", "10", "--height", "10", "-q")
        info = json.loads(subprocess.run([DENSEBIN, "info", auto, "--json"], check=True, capture_output=True).stdout)
        fin = np.isfinite(x) & np.isfinite(y)
        check(info["x_range"] == [float(x[fin].min()), float(x[fin].max())], "auto x range = finite bounds")
        check(info["y_range"] == [float(y[fin].min()), float(y[fin].max())], "auto y range = finite bounds")
        check(info["counters"]["points_binned"] == int(fin.sum()), "every finite point bins with auto ranges")

        # The same points as an .npy file give the same counts (float32 input).
        npy = os.path.join(d, "p.npy")
        np.save(npy, np.column_stack([x, y, z]).astype(np.float32))
        g32 = os.path.join(d, "g32.h5")
        densebin("bin", npy, "-o", g32, *canvas)
        x32, y32, z32 = (v.astype(np.float32).astype(np.float64) for v in (x, y, z))
        with h5py.File(g32, "r") as f:
            check(np.array_equal(f["count"][...], expected(x32, y32, z32)["count"]), "npy float32 count equals numpy")
        # convert writes what numpy reads back: the same points, in order.
        conv = os.path.join(d, "c.npy")
        densebin("convert", txt, "-o", conv, "--dtype", "f64", "-q")
        back = np.load(conv)
        check(back.shape == (x.size, 3), "converted .npy shape")
        check(np.array_equal(back, np.column_stack([x, y, z]), equal_nan=True), "converted .npy equals the points")
        raw = os.path.join(d, "c.f32")
        densebin("convert", txt, "-o", raw, "-q")
        mm = np.memmap(raw, dtype="float32", mode="r").reshape(-1, 3)
        check(np.array_equal(mm, np.column_stack([x, y, z]).astype(np.float32), equal_nan=True), "converted .f32 is np.memmap's layout")
    print("python interop: all checks passed")


if __name__ == "__main__":
    main()
