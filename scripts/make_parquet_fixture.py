"""Writes tests/data/points.parquet and the same points as text,
tests/data/points_parquet.txt, for the Rust tests of the Parquet reader:
1500 points in three row groups (snappy), x float64 with nulls, y float32,
z int32, and a dictionary-encoded text column `kind`. The text file holds
each value as the reader must see it (`nan` for a null, the float32 y
widened exactly).

    python scripts/make_parquet_fixture.py
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    rng = np.random.default_rng(15)
    n = 1500
    x = rng.normal(0, 1, n)
    y = rng.normal(0, 1, n).astype(np.float32)
    z = rng.integers(-500, 500, n).astype(np.int32)
    kind = rng.choice(np.array(["water", "ground", "building"]), n)
    null = rng.random(n) < 0.02
    table = pa.table(
        {
            "x": pa.array(x, mask=null),
            "y": y,
            "z": z,
            "kind": pa.array(kind).dictionary_encode(),
        }
    )
    data = Path(__file__).resolve().parent.parent / "tests" / "data"
    pq.write_table(table, data / "points.parquet", row_group_size=600, compression="snappy")
    with open(data / "points_parquet.txt", "w") as f:
        f.write("x y z kind\n")
        for xi, yi, zi, ki, m in zip(x, y, z, kind, null, strict=True):
            xs = "nan" if m else repr(float(xi))
            f.write(f"{xs} {float(yi)!r} {zi} {ki}\n")


if __name__ == "__main__":
    main()
