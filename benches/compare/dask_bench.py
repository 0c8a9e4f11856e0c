"""densebin on Dask against datashader on Dask, side by side on one
2-worker LocalCluster (processes, one thread each), and the overhead of
Dask over a plain `densebin bin` of the same files.

Run through benches/compare/run.sh --dask (which makes the data and
installs both). Cases, each at 1000 x 1000, count and mean:

- text: the 50 M-line text file cut into 4 shards (1.1 GB):
  densebin.dask.bin_files on the shards against datashader's
  dd.read_csv + Canvas.points;
- in memory: the 50 M float32 points as a dask DataFrame persisted on the
  workers: densebin.dask.bin against datashader's Canvas.points;
- records: densebin.dask.bin_files on the 600 MB float32 records file.

Best of --repeat, alternating tools; peak anonymous memory of each worker
process sampled from /proc every 10 ms (it includes the persisted
DataFrame's share, about 300 MB a worker, in every case). Prints a
Markdown table.
"""

import argparse
import os
import subprocess
import threading
import time

import numpy as np

X_RANGE, Y_RANGE = (-10.0, 10.0), (-6.0, 6.0)


def shards(txt, n, folder):
    """`txt` cut into `n` files at line boundaries (made once)."""
    paths = [os.path.join(folder, f"shard{i}.txt") for i in range(n)]
    if all(os.path.exists(p) for p in paths):
        return paths
    size = os.path.getsize(txt)
    with open(txt, "rb") as f:
        for i, p in enumerate(paths):
            end = size * (i + 1) // n
            with open(p + ".part", "wb") as out:
                while f.tell() < end:
                    out.write(f.read(min(1 << 24, end - f.tell())))
                out.write(f.readline())  # to the end of the line
            os.replace(p + ".part", p)
    return paths


class Peaks:
    """Peak anonymous memory (RssAnon, MiB: what the worker allocated,
    not the pages of files it maps) of each of `pids`, sampled while
    running."""

    def __init__(self, pids):
        self.pids, self.peak, self.done = pids, {p: 0 for p in pids}, False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            for p in self.pids:
                try:
                    with open(f"/proc/{p}/status") as f:
                        for line in f:
                            if line.startswith("RssAnon:"):
                                self.peak[p] = max(self.peak[p], int(line.split()[1]) // 1024)
                except OSError:
                    pass
            time.sleep(0.01)

    def stop(self):
        self.done = True
        self.t.join()
        return max(self.peak.values())


def timed(client, fn):
    # Let the scheduler forget the last run's keys first: a run submitted at
    # once may find the previous one's (deterministic) results still held.
    time.sleep(1.0)
    pids = list(client.run(os.getpid).values())
    peaks = Peaks(pids)
    t = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t
    return seconds, peaks.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--densebin", required=True, help="the command line, for the overhead")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()

    import dask.dataframe as dd
    import datashader as ds
    import distributed
    import pandas as pd

    import densebin
    import densebin.dask

    f32 = os.path.join(a.data, "p50.f32")
    text = shards(os.path.join(a.data, "p50.txt"), 4, a.data)
    text_bytes = sum(os.path.getsize(p) for p in text)
    npts = os.path.getsize(f32) // 12
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    print(f"{npts:,} points; text {text_bytes / 1e9:.2f} GB in {len(text)} files; "
          f"2 workers x 1 thread; best of {a.repeat}", flush=True)

    mm = np.memmap(f32, dtype="float32", mode="r").reshape(-1, 3)
    frame = pd.DataFrame({c: np.ascontiguousarray(mm[:, i]) for i, c in enumerate("xyz")})
    ddf = client.persist(dd.from_pandas(frame, npartitions=8))
    distributed.wait(ddf)
    del frame
    cvs = ds.Canvas(plot_width=1000, plot_height=1000, x_range=X_RANGE, y_range=Y_RANGE)
    ranges = dict(width=1000, height=1000, x_range=X_RANGE, y_range=Y_RANGE, threads=1)

    def cases(kind):
        layers = "count" if kind == "count" else "count,sum"
        agg = ds.count() if kind == "count" else ds.mean("z")
        z = None if kind == "count" else 2
        return {
            "text": {
                "densebin.dask.bin_files": lambda: densebin.dask.bin_files(
                    text, z=z, layers=layers, **ranges
                ),
                "datashader (dd.read_csv)": lambda: cvs.points(
                    dd.read_csv(text, sep=" ", header=None, names=["x", "y", "z"],
                                dtype="float64", blocksize=64 * 2**20),
                    "x", "y", agg,
                ),
            },
            "in memory": {
                "densebin.dask.bin": lambda: densebin.dask.bin(
                    ddf, x="x", y="y", z=None if kind == "count" else "z", layers=layers, **ranges
                ),
                "datashader": lambda: cvs.points(ddf, "x", "y", agg),
            },
            "records": {
                "densebin.dask.bin_files": lambda: densebin.dask.bin_files(
                    f32, z=z, layers=layers, **ranges
                ),
            },
        }

    def cli(paths, layers):
        t = time.perf_counter()
        subprocess.run([a.densebin, "bin", *paths, "-o", os.path.join(a.data, "dask-cli.h5"),
                        "--x-range=-10,10", "--y-range=-6,6", "--layers", layers, "-q"],
                       check=True)
        return time.perf_counter() - t

    import dask
    from dask import delayed

    parts = ddf.to_delayed()
    overhead = min(
        timed(client, lambda: dask.compute(*[delayed(len)(p) for p in parts]))[0]
        for _ in range(a.repeat + 1)
    )
    print(f"Dask's own cost of one computation over the persisted DataFrame "
          f"(a trivial task per partition): {overhead:.2f} s", flush=True)
    print("| input | case | tool | time (s) | peak anonymous memory per worker (MiB) | datashader / densebin |")
    print("|---|---|---|---:|---:|---:|")
    for kind in ["count", "mean"]:
        for source, tools in cases(kind).items():
            best = {}
            for fn in tools.values():
                fn()  # warm-up: numba compilation, the page cache, imports on the workers
            for rep in range(a.repeat):
                names = list(tools) if rep % 2 == 0 else list(tools)[::-1]
                for name in names:
                    s, rss = timed(client, tools[name])
                    old = best.get(name)
                    best[name] = (min(s, old[0]) if old else s, max(rss, old[1]) if old else rss)
            ours = [v for k, v in best.items() if k.startswith("densebin")][0][0]
            for name, (s, rss) in best.items():
                ratio = "" if name.startswith("densebin") else f"**{s / ours:.2f}x**"
                print(f"| {source} | {kind} 1000² | {name} | {s:.2f} | {rss} | {ratio} |",
                      flush=True)
        layers = "count" if kind == "count" else "count,sum"
        t_text = min(cli(text, layers) for _ in range(a.repeat))
        t_f32 = min(cli([f32], layers) for _ in range(a.repeat))
        print(f"| text | {kind} 1000² | densebin bin (CLI, 2 threads, whole process) | "
              f"{t_text:.2f} | | |", flush=True)
        print(f"| records | {kind} 1000² | densebin bin (CLI, 2 threads, whole process) | "
              f"{t_f32:.2f} | | |", flush=True)
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
