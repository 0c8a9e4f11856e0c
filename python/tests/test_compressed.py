"""gzip-compressed text from Python: files written by Python's gzip module
(one member, several members) bin as the uncompressed file does, with
ranges found from the data; Dask bins compressed files a task a file; a
part of a compressed file is refused; a truncated file raises
InvalidInputError with the compressed byte."""

import gzip

import numpy as np
import pytest

import densebin
import densebin.dask


def write_points(tmp_path, n=40_000, seed=2):
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.normal(0, 1, n), rng.normal(0, 1, n), rng.integers(0, 50, n)])
    text = tmp_path / "p.txt"
    np.savetxt(text, pts, fmt="%.17g")
    return text


def test_gzip_files_bin_as_the_text(tmp_path):
    text = write_points(tmp_path)
    data = text.read_bytes()
    (tmp_path / "p.txt.gz").write_bytes(gzip.compress(data))
    cut = data.index(b"\n", len(data) // 2) + 1
    (tmp_path / "m.txt.gz").write_bytes(gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
    want = densebin.bin_files(text, width=30, height=20)
    for name in ("p.txt.gz", "m.txt.gz"):
        got = densebin.bin_files(tmp_path / name, width=30, height=20)
        assert (got.x_range, got.y_range, got.z_range) == (want.x_range, want.y_range, want.z_range)
        np.testing.assert_array_equal(got.count, want.count)
        np.testing.assert_array_equal(got.zhist, want.zhist)
    # On Dask: a task a compressed file, merged.
    halves = []
    for i, part in enumerate((data[:cut], data[cut:])):
        halves.append(tmp_path / f"h{i}.txt.gz")
        halves[-1].write_bytes(gzip.compress(part))
    got = densebin.dask.bin_files(halves, width=30, height=20, scheduler="sync")
    np.testing.assert_array_equal(got.count, want.count)
    assert got.counters == want.counters
    with pytest.raises(densebin.InvalidInputError, match="cannot be read in parts"):
        densebin.bin_files(tmp_path / "p.txt.gz", part=(1, 2), x_range=(-3, 3), y_range=(-3, 3))


def test_a_truncated_gzip_file_is_invalid_input(tmp_path):
    text = write_points(tmp_path, n=100_000)
    blob = gzip.compress(text.read_bytes())
    (tmp_path / "cut.txt.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(
        densebin.InvalidInputError, match=r"corrupt or truncated gzip stream at compressed byte \d+"
    ):
        densebin.bin_files(tmp_path / "cut.txt.gz")
