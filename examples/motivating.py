"""The motivating workflow, end to end, in Python.

A (N, 3) float32 memory map of x, y, z points — 250 million by default, a
3 GB file — drawn as

    plt.scatter(X, Y, color=custom_colorfunction(Z), alpha=.01, s=.001, marker="s")

would draw it, with axes, labels and a colorbar, by densebin.mpl.scatter:
the points are binned at the axes' size in pixels (one grid pixel per
pixel of the saved figure), straight from the memory map, without a copy.

    python examples/motivating.py                      # 250 M points
    python examples/motivating.py --points 50M --out motivating-50M.png

The points are written once (to --data, default target/motivating-N.f32)
and reused. The script prints the wall time of the figure (binning,
shading, drawing and saving) and the peak memory: anonymous (what the
process allocated: interpreter, numpy, matplotlib and the grid) and
resident with the pages of the mapped file that it read.
"""

import argparse
import os
import resource
import threading
import time

import matplotlib
import numpy as np

import densebin

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Z_RANGE = (-1.5, 1.5)


def count(text):
    """250M, 50M, 1e6 or 1000000."""
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}
    if text[-1].upper() in scale:
        return int(float(text[:-1]) * scale[text[-1].upper()])
    return int(float(text))


def write_points(path, n, chunk=5_000_000):
    """A barred spiral galaxy of n points: x, y in a few units, z a velocity
    along the line of sight, written a chunk at a time (bounded memory)."""
    mm = np.memmap(path + ".part", dtype="float32", mode="w+", shape=(n, 3))
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        rng = np.random.default_rng([1, start])
        arm = rng.integers(0, 2, k)
        r = 0.4 + 9.5 * rng.power(0.6, k)
        theta = arm * np.pi + 2.4 * np.log(r) + rng.normal(0, 0.12 + 0.012 * r, k)
        bulge = rng.random(k) < 0.25
        r[bulge] = np.abs(rng.normal(0, 1.2, bulge.sum()))
        theta[bulge] = rng.uniform(0, 2 * np.pi, bulge.sum())
        x = r * np.cos(theta) + rng.normal(0, 0.15, k)
        y = 0.6 * r * np.sin(theta) + rng.normal(0, 0.15, k)
        # Rotation: the side coming towards us is blue-shifted.
        z = np.tanh(r / 2) * np.cos(theta) + rng.normal(0, 0.2, k)
        mm[start : start + k] = np.stack([x, y, z], axis=1)
    mm.flush()
    del mm
    os.replace(path + ".part", path)


def custom_colorfunction(z):
    """The user's own colours: z (velocity) to RGBA, vectorised — blue
    towards us, red away, white at rest."""
    t = np.clip((np.asarray(z) - Z_RANGE[0]) / (Z_RANGE[1] - Z_RANGE[0]), 0, 1)
    return plt.get_cmap("coolwarm")(t)


class PeakAnon:
    """The process's peak anonymous memory, sampled every 5 ms."""

    def __init__(self):
        self.peak, self.done = 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        self.peak = max(self.peak, int(line.split()[1]) // 1024)
            time.sleep(0.005)

    def stop(self):
        self.done = True
        self.thread.join()
        return self.peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=count, default=count("250M"))
    ap.add_argument("--data", help="the (N, 3) float32 file (written when missing)")
    ap.add_argument("--out", default="motivating.png")
    a = ap.parse_args()
    path = a.data or f"target/motivating-{a.points}.f32"
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        t = time.perf_counter()
        write_points(path, a.points)
        print(f"wrote {a.points:,} points to {path} in {time.perf_counter() - t:.1f} s")

    peak = PeakAnon()
    t = time.perf_counter()
    # The seed's first line: column views of one memory map, read in place.
    X, Y, Z = np.memmap(path, dtype="float32", mode="r").reshape(-1, 3).T

    fig = plt.figure(figsize=(8, 5), dpi=150)
    ax = fig.add_axes([0.09, 0.11, 0.76, 0.8])
    cax = fig.add_axes([0.87, 0.11, 0.025, 0.8])
    ax.set_facecolor("black")
    im = densebin.mpl.scatter(
        ax, X, Y, c=Z, cmap=custom_colorfunction, alpha=0.01, z_range=Z_RANGE
    )
    binned = time.perf_counter() - t
    ax.set_xlabel("x (kpc)")
    ax.set_ylabel("y (kpc)")
    ax.set_title(f"{len(X) / 1e6:,.0f} million points, alpha 0.01, coloured by velocity")
    fig.colorbar(im, cax=cax, label="line-of-sight velocity z")
    fig.savefig(a.out)
    wall = time.perf_counter() - t
    anon = peak.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    grid = im.densebin_grid
    grid_mb = sum(v.nbytes for v in grid.arrays().values()) / 2**20
    print(
        f"{a.out}: {len(X):,} points on {grid.width} x {grid.height} pixels "
        f"({grid.z_bins} z bins): {wall:.1f} s ({binned:.1f} s to bin and shade), "
        f"peak {anon} MiB anonymous (grid {grid_mb:.0f} MiB), "
        f"{rss} MiB resident with the mapped file"
    )


if __name__ == "__main__":
    main()
