"""matplotlib's plt.scatter against densebin's scatter mode, on the same
points and canvas. See scripts/compare_matplotlib (which sets up the
environment) and the README's section on scatter mode.

matplotlib is set up to draw what densebin computes: a figure of exactly
W x H pixels whose axes fill it, square markers of one pixel
(s = (72 / dpi)^2 points^2), no edges, no antialiasing (so that each marker
fills exactly the pixel its centre falls in), the same colormap and z range,
over white.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

DENSEBIN = os.environ["DENSEBIN"]


def matplotlib_scatter(x, y, z, out, w, h, extent, zr, alpha, cmap):
    dpi = 100
    fig = plt.figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.axis("off")
    ax.scatter(x, y, c=z, cmap=cmap, vmin=zr[0], vmax=zr[1], alpha=alpha,
               s=(72 / dpi) ** 2, marker="s", linewidths=0, antialiased=False)
    fig.savefig(out, dpi=dpi, facecolor="white")
    plt.close(fig)


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--input", default="data/sample.txt")
    ap.add_argument("--width", type=int, default=400)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--alphas", default="0.3,0.02")
    ap.add_argument("--cmap", default="viridis")
    ap.add_argument("--out", default="docs")
    args = ap.parse_args()

    pts = np.loadtxt(args.input)
    x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
    extent = (-10.0, 10.0, -6.0, 6.0)
    zr = (float(np.nanmin(z)), float(np.nanmax(z)))
    w, h = args.width, args.height
    rows = []
    print(f"{x.size} points, {w}x{h} pixels, z range {zr[0]:.4f},{zr[1]:.4f}, cmap {args.cmap}")
    print(f"{'alpha':>6} {'matplotlib s':>13} {'densebin s':>11} {'mean |diff|':>12} {'p99':>5} {'max':>5} {'>2/255':>8} {'>10/255':>8}")
    with tempfile.TemporaryDirectory() as d:
        for a in [float(v) for v in args.alphas.split(",")]:
            mpl, db = os.path.join(d, "mpl.png"), os.path.join(d, "db.png")
            t0 = time.perf_counter()
            matplotlib_scatter(x, y, z, mpl, w, h, extent, zr, a, args.cmap)
            t1 = time.perf_counter()
            subprocess.run([
                DENSEBIN, "render", args.input, "-o", db, "--mode", "scatter",
                "--alpha", str(a), "--cmap", args.cmap, "--background", "white",
                "--width", str(w), "--height", str(h),
                f"--x-range={extent[0]},{extent[1]}", f"--y-range={extent[2]},{extent[3]}",
                f"--z-range={zr[0]},{zr[1]}", "--z-bins", "256", "-q",
            ], check=True)
            t2 = time.perf_counter()
            m, b = rgb(mpl), rgb(db)
            diff = np.abs(m - b).max(axis=2)
            print(f"{a:>6} {t1 - t0:>13.2f} {t2 - t1:>11.2f} {diff.mean():>12.3f} "
                  f"{np.percentile(diff, 99):>5.0f} {diff.max():>5} "
                  f"{(diff > 2).mean():>8.2%} {(diff > 10).mean():>8.2%}")
            rows.append((a, m, b, diff))
    # Side by side: matplotlib | densebin | difference x 8, one row per alpha.
    gap = 6
    sheet = np.full((len(rows) * (h + gap), 3 * w + 2 * gap, 3), 255, dtype=np.uint8)
    for i, (a, m, b, diff) in enumerate(rows):
        top = i * (h + gap)
        sheet[top:top + h, :w] = m
        sheet[top:top + h, w + gap:2 * w + gap] = b
        amp = 255 - np.clip(diff * 8, 0, 255).astype(np.uint8)
        sheet[top:top + h, 2 * (w + gap):] = amp[..., None]
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, "matplotlib_vs_densebin.png")
    Image.fromarray(sheet).save(out, optimize=True)
    print(f"wrote {out}: matplotlib | densebin | |difference| x 8 (darker = larger), alphas {args.alphas}")


if __name__ == "__main__":
    sys.exit(main())
