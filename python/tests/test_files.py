"""densebin.bin_files: the command line's readers from Python, the same
grid as densebin.bin on the same points, and located errors."""

import numpy as np
import pytest

import densebin

KW = dict(width=31, height=17, x_range=(-2.0, 2.0), y_range=(-1.0, 1.5), z_range=(-1, 1))


def cloud(n=30_000, seed=9):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.8, (n, 3))


def test_text_records_and_npy_give_the_grid_of_the_arrays(tmp_path):
    pts = cloud()
    want = densebin.bin(pts[:, 0], pts[:, 1], pts[:, 2], **KW)
    text = tmp_path / "p.csv"
    np.savetxt(text, pts, delimiter=",", header="lng,lat,depth", comments="", fmt="%.17g")
    raw = tmp_path / "p.f64"
    pts.tofile(raw)
    npy = tmp_path / "p.npy"
    np.save(npy, pts)
    for path, extra in [(text, dict(x="lng", y="lat", z="depth")), (raw, {}), (npy, {})]:
        got = densebin.bin_files(path, **KW, **extra)
        np.testing.assert_array_equal(got.count, want.count, err_msg=str(path))
        np.testing.assert_array_equal(got.arrays()["zhist"], want.arrays()["zhist"])
        # Sums of z in another order (other chunks): equal to rounding.
        np.testing.assert_allclose(got.mean_z(), want.mean_z(), rtol=1e-9, atol=1e-12)
    # Two files are one input set.
    half = tmp_path / "a.f64"
    pts[:10_000].tofile(half)
    rest = tmp_path / "b.f64"
    pts[10_000:].tofile(rest)
    both = densebin.bin_files([half, rest], **KW)
    np.testing.assert_array_equal(both.count, want.count)


def test_malformed_lines_are_located_or_skipped(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("0 0 0\n0.5 x 0\n1 1 1\n")
    with pytest.raises(densebin.InvalidInputError) as e:
        densebin.bin_files(path, **KW)
    message = str(e.value)
    assert message.startswith(f"{path}:2:5: expected a number"), message
    assert "skip_bad_lines=" in message, "the parameter is spelled for Python"
    g = densebin.bin_files(path, skip_bad_lines=True, **KW)
    assert g.counters["bad_lines"] == 1
    assert g.count.sum() == 2


def test_bad_options_and_files(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("0 0 0\n")
    with pytest.raises(
        densebin.InvalidInputError, match=r"unknown format= .arrow.; use auto, text"
    ):
        densebin.bin_files(path, format="arrow", **KW)
    with pytest.raises(densebin.InvalidInputError, match=r"p.txt: not a readable Parquet file"):
        densebin.bin_files(path, format="parquet", **KW)
    with pytest.raises(densebin.InvalidInputError, match=r"no column 7.*x="):
        densebin.bin_files(path, x=7, **KW)
    with pytest.raises(densebin.FileError):
        densebin.bin_files(tmp_path / "missing.txt", **KW)
