"""Grid.shade: the command line's PNG byte for byte, its pixels as numpy,
and errors as exceptions."""

import os
import struct
import subprocess
import zlib

import numpy as np
import pytest

import densebin


def decode_png(data):
    """RGBA8 pixels of a PNG written without row filters (densebin's
    default compression), by hand: chunks, zlib, one filter byte a row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 4 * width)
    assert (raw[:, 0] == 0).all(), "no row filter"
    return raw[:, 1:].reshape(height, width, 4)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rng = np.random.default_rng(21)
    x, y = rng.normal(0, 1, (2, 60_000))
    z = x * y + rng.normal(0, 0.1, 60_000)
    g = densebin.bin(x, y, z, width=64, height=48, layers="count,sum,minmax,std,zhist", z_bins=8)
    path = tmp_path_factory.mktemp("grid") / "g.h5"
    g.save(path)
    return g, path


CASES = [
    ({}, []),
    (
        dict(mode="mean", how="log", cmap="magma", background="black"),
        ["--mode", "mean", "--how", "log", "--cmap", "magma", "--background", "black"],
    ),
    (dict(mode="scatter", alpha=0.1), ["--mode", "scatter", "--alpha", "0.1"]),
    (
        dict(mode="std", spread=1, min_alpha=0.5, how="cbrt"),
        ["--mode", "std", "--spread", "1", "--min-alpha", "0.5", "--how", "cbrt"],
    ),
    (
        dict(cmap=["#000000", "red", "#ffff00"], span=(2, 50)),
        ["--cmap", "#000000,red,#ffff00", "--span", "2,50"],
    ),
    (
        dict(mode="max", z_span=(-1, 1), background="white"),
        ["--mode", "max", "--z-span=-1,1", "--background", "white"],
    ),
]


@pytest.mark.parametrize("options,flags", CASES)
def test_shading_is_the_command_lines_png(saved, tmp_path, options, flags):
    exe = os.environ.get("DENSEBIN")
    if not exe:
        pytest.skip("DENSEBIN (the command line) is not set")
    grid, path = saved
    cli = tmp_path / "cli.png"
    subprocess.run([exe, "shade", str(path), "-o", str(cli), "--quiet", *flags], check=True)
    image = densebin.open(path).shade(**options)
    ours = tmp_path / "ours.png"
    image.save(ours)
    assert ours.read_bytes() == cli.read_bytes()
    assert image._repr_png_() == cli.read_bytes()
    pixels = image.to_numpy()
    assert pixels.shape == (48, 64, 4) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, decode_png(cli.read_bytes()))
    # The grid in memory shades as the one read back.
    np.testing.assert_array_equal(grid.shade(**options).to_numpy(), pixels)


def test_shading_errors(saved):
    grid, _ = saved
    with pytest.raises(ValueError, match="unknown mode"):
        grid.shade(mode="bogus")
    with pytest.raises(
        densebin.InvalidInputError, match=r"needs the weight layer.*layers= .*,weight"
    ):
        grid.shade(weighted=True)
    with pytest.raises(ValueError, match=r"alpha= 2 must be between 0 and 1"):
        grid.shade(alpha=2)
    with pytest.raises(TypeError, match="cmap="):
        grid.shade(cmap=3)
    only_count = densebin.bin(
        np.zeros(3), np.zeros(3), width=2, height=2, x_range=(0, 1), y_range=(0, 1)
    )
    with pytest.raises(densebin.InvalidInputError, match="scatter mode needs the zhist layer"):
        only_count.shade(mode="scatter")


def test_a_matplotlib_colormap_gives_its_own_colours(saved):
    matplotlib = pytest.importorskip("matplotlib")
    grid, _ = saved
    # Two colours: matplotlib paints t < 1/2 red and the rest blue.
    two = matplotlib.colors.ListedColormap(["red", "blue"], name="two")
    image = grid.shade(cmap=two, how="linear").to_numpy()
    count = grid.count[::-1]  # image row 0 is the top
    full = count > 0
    t = np.zeros(count.shape)
    lo, hi = count[full].min(), count[full].max()
    t[full] = (count[full] - lo) / (hi - lo)
    # densebin's colour table has 256 entries, looked up at round(255 t).
    want = two(np.round(t * 255) / 255)[..., :3] * 255
    np.testing.assert_array_equal(image[full][:, :3], np.round(want[full]).astype(np.uint8))
    assert (image[~full][:, 3] == 0).all(), "empty pixels stay transparent"
    # A colormap of 256 colours is taken over exactly: magma, as matplotlib has it.
    magma = matplotlib.colormaps["magma"]
    ours = grid.shade(cmap=magma, how="linear").to_numpy()
    lut = np.round(magma(np.arange(256) / 255)[:, :3] * 255).astype(np.uint8)
    index = np.round(t * 255).astype(int)
    np.testing.assert_array_equal(ours[full][:, :3], lut[index[full]])
    with pytest.raises(TypeError, match="not supported yet"):
        grid.shade(cmap=lambda z: z)
