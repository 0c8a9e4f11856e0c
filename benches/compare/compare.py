"""densebin against its peers, side by side on the same files, in one run.

Run through benches/compare/run.sh, which builds densebin, generates the
data and installs the peers. For every case each tool runs --repeat times,
alternating tools so that a slow spell of the machine hits everyone; the
best time counts. Prints a Markdown table (also written to
target/compare/results.md).

densebin is timed on its binning phase as the command line reports it:
from the points on disk (memory-mapped, in the page cache) to the merged
grid in memory — reading and decoding included, writing the grid file
excluded. Its whole wall time is shown too. The peers are timed on their
kernels alone, with the points already in memory as contiguous arrays or
DataFrames (benches/compare/peers.py): their fastest configuration.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RANGES = ["--x-range=-10,10", "--y-range=-6,6"]
PEERS = ["fast-histogram", "datashader", "datashader-dask", "vaex"]


def warm(*paths):
    """Puts files in the page cache as a first read from disk leaves them,
    for everyone to find there: written back, evicted, then read once.

    The state of the cache matters to readers that memory-map: a file just
    written sits in the small folios its writer's writes made, while one
    read from disk sits in the large folios (up to 2 MB on Linux 6.x with
    ext4 or xfs) that readahead allocates, which a map covers with 1/512 of
    the page-table work. Evicting first makes the state the same whatever
    happened to the file before (BENCHMARKS.md, "page cache")."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


class Peak:
    """Samples a process's peak anonymous and total resident memory."""

    def __init__(self, pid):
        self.pid, self.anon, self.rss, self.done = pid, 0, 0, False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            self.anon = max(self.anon, int(line.split()[1]) // 1024)
                        elif line.startswith("VmRSS:"):
                            self.rss = max(self.rss, int(line.split()[1]) // 1024)
            except (FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(0.005)

    def stop(self):
        self.done = True
        self.t.join()


def densebin(exe, args):
    """Runs densebin; returns (binning seconds, wall seconds, peak anon MiB, peak RSS MiB)."""
    t = time.perf_counter()
    p = subprocess.Popen([exe, *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    peak = Peak(p.pid)
    _, err = p.communicate()
    wall = time.perf_counter() - t
    peak.stop()
    if p.returncode != 0:
        raise SystemExit(f"densebin {' '.join(args)} failed: {err}")
    m = re.search(r"binned ([0-9.]+) s", err)
    return float(m.group(1)), wall, peak.anon, peak.rss


def peer(python, tool, case, path, repeat):
    """Runs one peer (peers.py) in a process of its own; its JSON result,
    with the process's peak anonymous RSS (MiB) sampled from outside."""
    p = subprocess.Popen([python, os.path.join(HERE, "peers.py"), tool, case, path,
                          "--repeat", str(repeat)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    peak = Peak(p.pid)
    stdout, stderr = p.communicate()
    peak.stop()
    try:
        out = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (stderr.strip().splitlines() or ["no output"])[-1][:200]}
    out["peak_anon_mb"] = peak.anon
    return out


def fmt_rate(v, unit):
    return f"{v:,.0f} {unit}" if v >= 10 else f"{v:.1f} {unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--densebin", required=True)
    ap.add_argument("--baseline", help="another densebin build, run alternately with --densebin "
                    "in every densebin case (before/after comparisons)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="also the 6 GB motivating case")
    ap.add_argument("--big-path", help=argparse.SUPPRESS)
    ap.add_argument("--python-only", action="store_true",
                    help="only the Python package's cases (densebin.bin against the peers in memory)")
    a = ap.parse_args()
    python = sys.executable
    f32 = os.path.join(a.data, "p50.f32")
    txt50 = os.path.join(a.data, "p50.txt")
    txt10 = os.path.join(a.data, "p10.txt")
    big = a.big_path or os.path.join(a.data, "big.txt")
    out = os.path.join(a.data, "out.h5")
    npts = os.path.getsize(f32) // 12
    rows = []

    def emit(*cols):
        rows.append("| " + " | ".join(str(c) for c in cols) + " |")
        print(rows[-1], flush=True)

    def emit_baseline(case, runs, best, amount, unit):
        """The baseline build's row: its time over this build's (above 1: this one is faster)."""
        if not runs:
            return
        b = min(runs, key=lambda r: r[0])
        emit(case, "densebin --baseline (binning; whole run)", f"{b[0]:.3f} ({min(r[1] for r in runs):.2f})",
             fmt_rate(amount / b[0], unit), f"{b[2]} anon, {b[3]} total",
             f"**{b[0] / best[0]:.2f}x** (whole run {min(r[1] for r in runs) / best[1]:.2f}x)")

    print(f"{npts:,} points; best of {a.repeat}; {os.cpu_count()} cores", flush=True)
    if a.python_only:
        python_cases(a, python, f32, npts, emit)
        with open(os.path.join(a.data, "results-python.md"), "w") as f:
            f.write("\n".join(rows) + "\n")
        return
    emit("case", "tool", "time (s)", "rate", "peak RSS (MiB)", "densebin / tool")
    emit("---", "---", "---:", "---:", "---:", "---:")
    cases = [("count_1000", "count", 1000), ("mean_1000", "count,sum", 1000),
             ("count_4000", "count", 4000), ("mean_4000", "count,sum", 4000)]
    for case, layers, size in cases:
        warm(f32)
        args = ["bin", f32, "-o", out, *RANGES, "--layers", layers, "--width", str(size), "--height", str(size)]
        db, base, others = [], [], {t: [] for t in PEERS}
        for rep in range(a.repeat):
            order = PEERS if rep % 2 == 0 else PEERS[::-1]
            db.append(densebin(a.densebin, args))
            if a.baseline:
                base.append(densebin(a.baseline, args))
            for tool in order:
                others[tool].append(peer(python, tool, case, f32, 1))
        best = min(db, key=lambda r: r[0])
        rate = npts / best[0] / 1e6
        emit(case, "**densebin** (binning; whole run)", f"{best[0]:.3f} ({min(r[1] for r in db):.2f})",
             fmt_rate(rate, "Mpts/s"), f"{best[2]} anon, {best[3]} total", "")
        emit_baseline(case, base, best, npts / 1e6, "Mpts/s")
        for tool in PEERS:
            ok = [r for r in others[tool] if not r.get("error")]
            if not ok:
                emit(case, tool, "failed", others[tool][0].get("error"), "", "")
                continue
            t = min(r["seconds"] for r in ok)
            emit(case, tool, f"{t:.3f}", fmt_rate(npts / t / 1e6, "Mpts/s"),
                 f"{max(r['peak_rss_mb'] for r in ok):.0f}", f"**{t / best[0]:.2f}x**")

    # Text: ingest and bin against parse-only readers.
    warm(txt10)
    size = os.path.getsize(txt10)
    args = ["bin", txt10, "-o", out, *RANGES, "--layers", "count"]
    db, base, pandas, arrow = [], [], [], []
    for rep in range(a.repeat):
        db.append(densebin(a.densebin, args))
        if a.baseline:
            base.append(densebin(a.baseline, args))
        pandas.append(peer(python, "pandas", "csv", txt10, 1))
        arrow.append(peer(python, "pyarrow", "csv", txt10, 1))
    best = min(db, key=lambda r: r[0])
    emit("text, 10 M lines", "**densebin** ingest + bin", f"{best[0]:.3f} ({min(r[1] for r in db):.2f})",
         fmt_rate(size / best[0] / 1e6, "MB/s"), f"{best[2]} anon", "")
    emit_baseline("text, 10 M lines", base, best, size / 1e6, "MB/s")
    for name, runs in [("pandas.read_csv (C engine), parse only", pandas),
                       ("pyarrow.csv.read_csv, parse only", arrow)]:
        ok = [r for r in runs if not r.get("error")]
        if ok:
            t = min(r["seconds"] for r in ok)
            emit("text, 10 M lines", name, f"{t:.3f}", fmt_rate(size / t / 1e6, "MB/s"),
                 f"{max(r['peak_rss_mb'] for r in ok):.0f}", f"**{t / best[0]:.2f}x**")

    # Thread scaling.
    print("\nthreads (count and mean, 1000 x 1000, binning phase):", flush=True)
    for layers in ["count", "count,sum"]:
        line = []
        for threads in sorted({1, 2, os.cpu_count() or 1}):
            args = ["bin", f32, "-o", out, *RANGES, "--layers", layers, "--threads", str(threads)]
            t = min(densebin(a.densebin, args)[0] for _ in range(a.repeat))
            line.append(f"{threads}: {t:.3f} s ({npts / t / 1e6:,.0f} Mpts/s)")
            if a.baseline:
                tb = min(densebin(a.baseline, args)[0] for _ in range(a.repeat))
                line[-1] += f" [baseline {tb:.3f} s]"
        print(f"  {layers}: " + ", ".join(line), flush=True)

    # Memory: the default layers, at 1 GB and (with --big) 6 GB of text.
    print("\nmemory (default layers, 1000 x 1000, 32 z bins; peak anonymous RSS):", flush=True)
    inputs = [txt50] + ([big] if a.big else [])
    for path in inputs:
        warm(path)
        for label, exe in [("", a.densebin)] + ([(" [baseline]", a.baseline)] if a.baseline else []):
            _, wall, anon, rss = densebin(exe, ["bin", path, "-o", out, *RANGES, "--z-range=-2,3"])
            print(f"  {os.path.basename(path)} ({os.path.getsize(path) / 1e9:.1f} GB){label}: {wall:.1f} s, "
                  f"{anon} MiB anonymous, {rss} MiB resident with the mapped file", flush=True)

    if a.big:
        warm(big)
        png = os.path.join(a.data, "big.png")
        _, wall, anon, rss = densebin(a.densebin, [
            "render", big, "-o", png, *RANGES, "--z-range=-2,3", "--mode", "scatter",
            "--alpha", "0.01", "--background", "white"])
        print(f"\nmotivating case: render {os.path.getsize(big) / 1e9:.1f} GB of text to PNG "
              f"(scatter, alpha 0.01): {wall:.1f} s, {anon} MiB anonymous", flush=True)

    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(os.path.join(a.data, "results.md"), "w") as f:
        f.write("\n".join(rows) + "\n")


def python_cases(a, python, f32, npts, emit):
    """densebin.bin against the peers, every tool on the same in-memory
    float32 columns, timed the same way (peers.py); then densebin.bin on the
    memory-mapped file's column views, for its memory."""
    tools = ["densebin"] + PEERS
    emit("case", "tool", "time (s)", "rate", "peak RSS (MiB)", "tool / densebin.bin")
    emit("---", "---", "---:", "---:", "---:", "---:")
    for case in ["count_1000", "mean_1000", "count_4000", "mean_4000"]:
        warm(f32)
        runs = {t: [] for t in tools}
        for rep in range(a.repeat):
            for tool in tools if rep % 2 == 0 else tools[::-1]:
                runs[tool].append(peer(python, tool, case, f32, 1))
        best = {}
        for tool in tools:
            ok = [r for r in runs[tool] if not r.get("error")]
            if ok:
                best[tool] = (min(r["seconds"] for r in ok), max(r["peak_rss_mb"] for r in ok))
        if "densebin" not in best:
            raise SystemExit(f"densebin.bin failed: {runs['densebin'][0].get('error')}")
        ours = best["densebin"][0]
        for tool in tools:
            if tool not in best:
                emit(case, tool, "failed", runs[tool][0].get("error"), "", "")
                continue
            t, rss = best[tool]
            name = "**densebin.bin**" if tool == "densebin" else tool
            ratio = "" if tool == "densebin" else f"**{t / ours:.2f}x**"
            emit(case, name, f"{t:.3f}", fmt_rate(npts / t / 1e6, "Mpts/s"), f"{rss:.0f}", ratio)
        peers = [best[t][0] for t in PEERS if t in best]
        if peers:
            print(f"  {case}: densebin.bin is {min(peers) / ours:.2f}x the best peer", flush=True)

    print("\nmemory: densebin.bin on the column views of the memory-mapped file "
          f"({os.path.getsize(f32) / 1e6:.0f} MB), 1000 x 1000:", flush=True)
    for case in ["count_1000", "mean_1000"]:
        warm(f32)
        r = peer(python, "densebin-memmap", case, f32, 1)
        base = peer(python, "densebin-baseline", case, f32, 1)
        if r.get("error"):
            raise SystemExit(f"densebin.bin on the memmap failed: {r['error']}")
        print(f"  {case}: {r['seconds']:.3f} s, peak {r['peak_anon_mb']} MiB anonymous "
              f"(the interpreter with numpy and densebin imported: {base.get('peak_anon_mb')} MiB; "
              f"grid {r['grid_mb']:.0f} MiB), {r['peak_rss_mb']:.0f} MiB resident with the mapped file",
              flush=True)


if __name__ == "__main__":
    main()
