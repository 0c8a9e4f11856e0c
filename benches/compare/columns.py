"""densebin.bin on contiguous float32 columns against the column views of
the memory-mapped records file itself, count and mean at 1000 x 1000, best
of 5 after a warm-up call: what the Python path costs on each kind of
column. Run after benches/compare/run.sh (which makes the file and
installs the package):

    target/pyvenv-peers/bin/python benches/compare/columns.py target/compare/p50.f32
"""

import sys
import time

import numpy as np

import densebin


def main(path):
    mm = np.memmap(path, dtype="float32", mode="r").reshape(-1, 3)
    kinds = {
        "contiguous float32 columns": [np.ascontiguousarray(mm[:, i]) for i in range(3)],
        "memmap column views": list(mm.T),
    }
    for name, (x, y, z) in kinds.items():
        for layers in ["count", "count,sum"]:
            zz = z if "sum" in layers else None

            def run():
                return densebin.bin(x, y, zz, width=1000, height=1000, x_range=(-10, 10),
                                    y_range=(-6, 6), layers=layers)

            run()
            times = []
            for _ in range(5):
                t = time.perf_counter()
                run()
                times.append(time.perf_counter() - t)
            print(f"{name}, {layers}: {min(times):.3f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
