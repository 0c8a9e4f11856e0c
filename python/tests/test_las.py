"""LAS and LAZ files written by laspy bin as the same points as text: LAS 1.2
point format 1 and LAS 1.4 point format 6 (whose legacy point count is 0),
uncompressed and LAZ in several chunks; attributes by name; the header's
bounds as ranges; on Dask by byte ranges. Headers that lie and damaged
files raise InvalidInputError naming the file."""

import laspy
import numpy as np
import pytest

import densebin
import densebin.dask

N = 120_000  # laspy's LAZ chunks hold 50 000 points: three chunks
CANVAS = dict(width=41, height=29, x_range=(1010, 1090), y_range=(2005, 2095), z_range=(0, 50))


def cloud(point_format, version, seed=3):
    rng = np.random.default_rng(seed)
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([0.01, 0.01, 0.001])
    header.offsets = np.array([1000.0, 2000.0, 0.0])
    las = laspy.LasData(header)
    las.x = rng.uniform(1000, 1100, N)
    las.y = rng.uniform(2000, 2100, N)
    las.z = rng.uniform(-2, 55, N)
    las.intensity = rng.integers(0, 65535, N, dtype=np.uint16)
    las.classification = rng.choice(np.array([1, 2, 6, 9], dtype=np.uint8), N)
    las.return_number = rng.integers(1, 4, N, dtype=np.uint8)
    las.number_of_returns = np.full(N, 3, np.uint8)
    las.gps_time = np.arange(N) * 0.5
    return las


def write(las, path, laz):
    if laz:
        las.write(path, do_compress=True, laz_backend=laspy.LazBackend.Lazrs)
    else:
        las.write(path)
    return laspy.read(path)  # the values as stored: scaled integers


@pytest.mark.parametrize("laz", [False, True], ids=["las", "laz"])
@pytest.mark.parametrize("point_format,version", [(1, "1.2"), (6, "1.4")])
def test_las_equals_the_same_points(tmp_path, point_format, version, laz):
    path = tmp_path / ("p.laz" if laz else "p.las")
    back = write(cloud(point_format, version), path, laz)
    x, y, z = (np.asarray(back[a], dtype=np.float64) for a in "xyz")
    want = densebin.bin(x, y, z, **CANVAS)
    for threads in (1, 2):
        got = densebin.bin_files(path, threads=threads, **CANVAS)
        np.testing.assert_array_equal(got.count, want.count)
        np.testing.assert_array_equal(got.zhist, want.zhist)
        np.testing.assert_allclose(got.sum_z, want.sum_z, rtol=1e-12)
    # Attributes by name, as z, weight and categories.
    got = densebin.bin_files(
        path, z="intensity", weight="return_number", by="classification", layers="count,sum,weight",
        width=41, height=29, x_range=(1010, 1090), y_range=(2005, 2095),
    )  # fmt: skip
    want = densebin.bin(
        x, y, np.asarray(back.intensity, np.float64),
        weight=np.asarray(back.return_number, np.float64),
        by=np.asarray(back.classification, np.int64), layers="count,sum,weight",
        width=41, height=29, x_range=(1010, 1090), y_range=(2005, 2095),
    )  # fmt: skip
    assert got.categories == ["1", "2", "6", "9"]
    np.testing.assert_array_equal(got.count_cat, want.count_cat)
    np.testing.assert_allclose(got.sum_z, want.sum_z, rtol=1e-12)
    np.testing.assert_allclose(got.sum_w, want.sum_w, rtol=1e-12)
    # Without ranges: the header's bounds, which are the data's.
    got = densebin.bin_files(path, width=41, height=29, layers="count")
    want = densebin.bin(x, y, width=41, height=29, layers="count")
    np.testing.assert_array_equal(got.count, want.count)
    assert got.x_range == want.x_range and got.y_range == want.y_range


def test_dask_reads_laz_by_chunks(tmp_path):
    path = tmp_path / "d.laz"
    write(cloud(6, "1.4"), path, laz=True)
    whole = densebin.bin_files(path, **CANVAS)
    got = densebin.dask.bin_files(path, chunk_bytes=300_000, scheduler="sync", **CANVAS)
    np.testing.assert_array_equal(got.count, whole.count)
    np.testing.assert_array_equal(got.zhist, whole.zhist)
    assert got.counters == whole.counters


def test_bad_las_raises_invalid_input(tmp_path):
    path = tmp_path / "p.las"
    write(cloud(1, "1.2"), path, laz=False)
    data = bytearray(path.read_bytes())
    data[107:111] = (N + 1).to_bytes(4, "little")
    lying = tmp_path / "lying.las"
    lying.write_bytes(bytes(data))
    with pytest.raises(densebin.InvalidInputError, match=f"header says it holds {N + 1} points"):
        densebin.bin_files(lying, **CANVAS)
    laz = tmp_path / "p.laz"
    write(cloud(6, "1.4"), laz, laz=True)
    cut = tmp_path / "cut.laz"
    cut.write_bytes(laz.read_bytes()[:-1000])
    with pytest.raises(densebin.InvalidInputError, match="cut.laz: not a readable LAS file"):
        densebin.bin_files(cut, **CANVAS)
    with pytest.raises(densebin.InvalidInputError, match='"gps_time" is not integers'):
        densebin.bin_files(path, by="gps_time", **CANVAS)
