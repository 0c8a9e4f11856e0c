#!/usr/bin/env python3
"""Corruption survey: random byte damage to grid files, read by densebin.

Makes MUTANTS copies of each grid given, each with 1 to 4 random bytes
overwritten, and reads every copy the way a user would: `densebin info
--json`, then `densebin shade` in each of the modes the undamaged grid
supports (density reads `count`, mean `sum_z`, scatter `zhist`). Each copy
ends in one of:

- same: everything read, and every output equals the undamaged grid's;
- DIFFERENT: everything read, but an output differs (silent corruption);
- clean error: densebin said what is wrong (exit 1 or 2);
- crash: killed by a signal;
- hang: still running after the timeout.

    python3 fuzz/corrupt.py target/release/densebin fuzz/seeds/grid/*.h5 \
        --mutants 1000 --seed 1

Standard library only. The fuzz targets look for bugs in densebin's code;
this measures what the file format and libhdf5 do with the damage a disk or
a copy does (docs/errors.md, "Damaged grid files").
"""

import argparse
import collections
import concurrent.futures
import os
import random
import shutil
import signal
import subprocess
import tempfile

MODES = ["density", "mean", "scatter"]


def outputs(exe, folder, modes, timeout):
    """(kind, outputs) of reading `grid.h5` in `folder` (the same name for
    every copy, as `info` shows it): kind is None when every command
    succeeded."""
    got = []
    cmds = [[exe, "info", "grid.h5", "--json"]]
    cmds += [[exe, "shade", "grid.h5", "-o", f"{m}.png", "-q", "--mode", m] for m in modes]
    try:
        for cmd in cmds:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=folder)
            if p.returncode < 0:
                return f"crash ({signal.Signals(-p.returncode).name})", None
            if p.returncode in (1, 2):
                return "clean error", None
            if p.returncode != 0:
                return f"exit {p.returncode}", None
            if cmd[1] == "info":
                got.append(p.stdout)
            else:
                with open(os.path.join(folder, cmd[4]), "rb") as f:
                    got.append(f.read())
        return None, got
    except subprocess.TimeoutExpired:
        return "hang", None


def survey(exe, grid, mutants, rng, timeout, jobs):
    with open(grid, "rb") as f:
        base = f.read()
    with tempfile.TemporaryDirectory() as work:
        undamaged = os.path.join(work, "undamaged")
        os.mkdir(undamaged)
        with open(os.path.join(undamaged, "grid.h5"), "wb") as f:
            f.write(base)
        modes = [m for m in MODES if outputs(exe, undamaged, [m], timeout)[0] is None]
        kind, want = outputs(exe, undamaged, modes, timeout)
        if kind is not None:
            raise SystemExit(f"{grid}: the undamaged grid does not read ({kind})")

        def one(i, data):
            folder = os.path.join(work, f"m{i}")
            os.mkdir(folder)
            with open(os.path.join(folder, "grid.h5"), "wb") as f:
                f.write(data)
            kind, got = outputs(exe, folder, modes, timeout)
            shutil.rmtree(folder)
            if kind is None:
                kind = "same" if got == want else "DIFFERENT"
            return kind

        cases = []
        for _ in range(mutants):
            d = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                d[rng.randrange(len(d))] = rng.randrange(256)
            cases.append(bytes(d))
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            tally = collections.Counter(pool.map(one, range(len(cases)), cases))
    return modes, tally


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("densebin")
    ap.add_argument("grids", nargs="+")
    ap.add_argument("--mutants", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    a = ap.parse_args()
    a.densebin = os.path.abspath(a.densebin)
    for grid in a.grids:
        # The same damage for every grid of the same size: one generator each.
        rng = random.Random(a.seed)
        modes, tally = survey(a.densebin, grid, a.mutants, rng, a.timeout, a.jobs)
        summary = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
        print(f"{grid} ({os.path.getsize(grid)} bytes; info + {'/'.join(modes)}; "
              f"{a.mutants} mutants): {summary}")


if __name__ == "__main__":
    main()
