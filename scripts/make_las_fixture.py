"""Writes tests/data/points.las (LAS 1.2, point format 3: GPS time and
RGB), tests/data/points.laz (the same points as LAS 1.4, point format 7,
LAZ-compressed by lazrs) and the same points as text,
tests/data/points_las.txt (x y z intensity classification red, x/y/z as
the readers must compute them: X * scale + offset), for the Rust tests of
the LAS reader: 2000 points, some outside the canvas the tests use.

    python scripts/make_las_fixture.py
"""

from pathlib import Path

import laspy
import numpy as np


def points(point_format: int, version: str) -> laspy.LasData:
    rng = np.random.default_rng(16)
    n = 2000
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([0.001, 0.001, 0.01])
    header.offsets = np.array([500_000.0, 4_000_000.0, 0.0])
    las = laspy.LasData(header)
    las.x = rng.uniform(500_000, 500_100, n)
    las.y = rng.uniform(4_000_000, 4_000_080, n)
    las.z = rng.uniform(-5, 60, n)
    las.intensity = rng.integers(0, 65535, n, dtype=np.uint16)
    las.classification = rng.choice(np.array([2, 6, 9], dtype=np.uint8), n)
    las.gps_time = np.arange(n) * 0.25
    las.red = rng.integers(0, 65535, n, dtype=np.uint16)
    las.green = las.red
    las.blue = las.red
    return las


def main() -> None:
    data = Path(__file__).resolve().parent.parent / "tests" / "data"
    las = points(3, "1.2")
    las.write(data / "points.las")
    points(7, "1.4").write(
        data / "points.laz", do_compress=True, laz_backend=laspy.LazBackend.Lazrs
    )
    back = laspy.read(data / "points.las")
    table = np.column_stack(
        [back.x, back.y, back.z, back.intensity, back.classification, back.red]
    )
    np.savetxt(
        data / "points_las.txt",
        table,
        fmt="%.17g",
        header="x y z intensity classification red",
        comments="",
    )


if __name__ == "__main__":
    main()
