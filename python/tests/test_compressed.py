"""Compressed text from Python: files written by Python's gzip module and by
the gzip, zstd and pzstd command-line tools (one member, several members,
one frame, several frames: pzstd's, decompressed in parallel) bin as the
uncompressed file does, with ranges found from the data; Dask bins
compressed files a task a file; a part of a compressed file is refused; a
truncated or damaged file raises InvalidInputError with the compressed
byte."""

import gzip
import subprocess

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


def tool(args, data):
    """``data`` through a command-line tool (gzip, zstd, pzstd)."""
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def test_files_of_the_command_line_tools_bin_as_the_text(tmp_path):
    text = write_points(tmp_path, n=300_000)
    data = text.read_bytes()
    cut = data.index(b"\n", len(data) // 3) + 1
    halves = (data[:cut], data[cut:])
    (tmp_path / "pzstd.txt.zst").write_bytes(tool(["pzstd", "-q", "-p", "4", "-c", str(text)], b""))
    files = {
        "gzip.txt.gz": tool(["gzip", "-c"], data),
        "members.txt.gz": b"".join(tool(["gzip", "-c"], h) for h in halves),
        "zstd.txt.zst": tool(["zstd", "-q", "-c", str(text)], b""),
        # Frames that declare their size, from a file; frames that do not
        # (compressed from a pipe) are read in order.
        "frames.txt.zst": b"".join(
            tool(["zstd", "-q", "-c", str(tmp_path / n)], b"")
            for n, h in zip(("h0", "h1"), halves, strict=True)
            if (tmp_path / n).write_bytes(h)
        ),
        "piped.txt.zst": b"".join(tool(["zstd", "-q", "-c"], h) for h in halves),
    }
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    want = densebin.bin_files(text, width=30, height=20)
    for name in [*files, "pzstd.txt.zst"]:
        for threads in (1, 2):
            got = densebin.bin_files(tmp_path / name, width=30, height=20, threads=threads)
            assert got.x_range == want.x_range and got.z_range == want.z_range, name
            np.testing.assert_array_equal(got.count, want.count, err_msg=name)
            np.testing.assert_array_equal(got.zhist, want.zhist, err_msg=name)
            assert got.counters == want.counters, name


def test_a_damaged_zstd_frame_is_invalid_input(tmp_path):
    text = write_points(tmp_path, n=300_000)
    blob = bytearray(tool(["pzstd", "-q", "-p", "4", "-c", str(text)], b""))
    middle = len(blob) // 2
    blob[middle : middle + 16] = bytes(b ^ 0x5A for b in blob[middle : middle + 16])
    (tmp_path / "bad.txt.zst").write_bytes(bytes(blob))
    with pytest.raises(
        densebin.InvalidInputError, match=r"corrupt or truncated zstd stream at compressed byte \d+"
    ):
        densebin.bin_files(tmp_path / "bad.txt.zst", x_range=(-3, 3), y_range=(-3, 3))
