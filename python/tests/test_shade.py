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


def custom_colorfunction(z):
    """The seed's kind of colour function: data values to RGBA, vectorised."""
    z = np.asarray(z)
    t = np.clip((z + 2) / 4, 0, 1)
    return np.stack([t, 1 - t, 0.4 * np.ones_like(t), np.ones_like(t)], axis=-1)


def test_a_colour_function_colours_the_z_bin_centres_in_scatter_mode(saved):
    grid, _ = saved
    calls = []

    def f(z):
        calls.append(np.array(z))
        return custom_colorfunction(z)

    image = grid.shade(mode="scatter", cmap=f, alpha=0.2)
    (received,) = calls  # called once, vectorised
    lo, hi = grid.z_range
    centres = lo + (np.arange(grid.z_bins) + 0.5) * (hi - lo) / grid.z_bins
    np.testing.assert_allclose(received, centres, rtol=0, atol=1e-12)
    assert received.dtype == np.float64
    # A pixel whose points all lie in one z bin has that bin's colour.
    hist = grid.zhist[:, ::-1]  # image row 0 is the top
    pixels = image.to_numpy()
    n = hist.sum(axis=0)
    one_bin = (hist.max(axis=0) == n) & (n > 0)
    assert one_bin.sum() > 20
    k = hist.argmax(axis=0)
    want = custom_colorfunction(centres)[k][..., :3] * 255
    # Within rounding: the pixel is stored premultiplied by its opacity.
    np.testing.assert_allclose(pixels[one_bin][:, :3], want[one_bin], atol=1)
    np.testing.assert_allclose(
        image.legend.palette, custom_colorfunction(centres)[:, :3], atol=1e-7
    )
    # z_span clips what the function receives to the colour scale's ends.
    calls.clear()
    grid.shade(mode="scatter", cmap=f, z_span=(-0.5, 0.5))
    np.testing.assert_allclose(calls[0], np.clip(centres, -0.5, 0.5), atol=1e-12)


@pytest.mark.parametrize("mode,how", [("density", "log"), ("mean", None), ("max", "eq_hist")])
def test_a_colour_function_colours_a_table_of_the_colour_scale(saved, mode, how):
    grid, _ = saved
    calls = []

    def f(v):
        calls.append(np.array(v))
        return custom_colorfunction(v / 10 if mode == "density" else v)[:, :3]

    image = grid.shade(mode=mode, how=how, cmap=f)
    legend = image.legend
    (values,) = calls
    # The values at 1024 evenly spaced points of the colour scale.
    t = np.linspace(0, 1, 1024)
    np.testing.assert_allclose(values, legend.value_at(t), rtol=1e-13)
    assert values[0] == legend.domain[0] and values[-1] == legend.domain[1]
    # Every pixel takes the table's colour nearest to its value's t.
    stat = {
        "density": grid.count.astype(float),
        "mean": grid.mean_z(),
        "max": grid.max_z,
    }[mode][::-1]
    full = grid.count[::-1] > 0
    index = np.round(legend.t(stat[full]) * 1023).astype(int)
    want = np.round(f(values)[index] * 255).astype(np.uint8)
    np.testing.assert_array_equal(image.to_numpy()[full][:, :3], want)


def test_a_colour_function_that_fails_raises(saved):
    grid, _ = saved

    def broken(z):
        raise ZeroDivisionError("custom failure")

    with pytest.raises(ZeroDivisionError, match="custom failure"):
        grid.shade(cmap=broken)
    with pytest.raises(ValueError, match=r"returned an array of shape \[1024\]"):
        grid.shade(cmap=lambda v: v)
    with pytest.raises(ValueError, match=r"shape \[8, 2\]"):
        grid.shade(mode="scatter", cmap=lambda z: np.zeros((len(z), 2)))
    with pytest.raises(ValueError, match="the colour"):
        grid.shade(cmap=lambda v: np.full((len(v), 3), 2.0))
    with pytest.raises(ValueError, match="not an array of numbers"):
        grid.shade(cmap=lambda v: [["red"]] * len(v))


def test_a_framed_image_is_the_command_lines_figure(saved, tmp_path):
    exe = os.environ.get("DENSEBIN")
    if not exe:
        pytest.skip("DENSEBIN (the command line) is not set")
    grid, path = saved
    cli = tmp_path / "cli.png"
    flags = ["--frame", "--title", "density", "--x-label", "lon", "--font-size", "9"]
    subprocess.run([exe, "shade", str(path), "-o", str(cli), "--quiet", *flags], check=True)
    framed = densebin.open(path).shade().frame(title="density", x_label="lon", font_size=9)
    ours = tmp_path / "ours.png"
    framed.save(ours)
    assert ours.read_bytes() == cli.read_bytes()
    assert framed.width > grid.width and framed.height > grid.height
    with pytest.raises(densebin.InvalidInputError, match="font_size= 0"):
        grid.shade().frame(font_size=0)


def test_a_framed_svg_is_the_framed_png_and_needs_no_fonts(saved, tmp_path):
    """The SVG's text is outlines and its layout the PNG's: resvg, with
    no fonts at all, draws it as the PNG within anti-aliasing (rasterisers
    differ only on glyph and line edges), and its plot area exactly; the
    command line writes the same SVG."""
    resvg_py = pytest.importorskip("resvg_py")
    grid, path = saved
    framed = grid.shade(how="log").frame(title="counts", font_size=11)
    framed.save(tmp_path / "f.png")
    framed.save(tmp_path / "f.svg")
    svg = (tmp_path / "f.svg").read_text()
    assert "<text" not in svg and "font-family" not in svg
    drawn = bytes(resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True))
    got = decode_png_any(drawn).astype(int)
    want = framed.to_numpy().astype(int)
    assert got.shape == want.shape
    diff = np.abs(got - want)
    assert diff.max() <= 64 and diff.mean() < 0.5, (diff.max(), diff.mean())
    # The plot area, pixel for pixel (`image-rendering: pixelated`).
    bare = grid.shade(how="log").to_numpy().astype(int)
    h, w = bare.shape[:2]
    y0, x0 = next(
        (y, x)
        for y in range(want.shape[0] - h + 1)
        for x in range(want.shape[1] - w + 1)
        if (want[y : y + h, x : x + w] == bare).all()
    )
    assert (got[y0 : y0 + h, x0 : x0 + w] == bare).all()
    # Framing again starts from the bare pixels; a bare image's SVG holds it alone.
    assert (framed.frame(title="counts", font_size=11).to_numpy() == want).all()
    grid.shade(how="log").save(tmp_path / "bare.svg")
    assert "<path" not in (tmp_path / "bare.svg").read_text()
    with pytest.raises(densebin.InvalidInputError, match=r"unknown image format \.jpg"):
        framed.save(tmp_path / "f.jpg")
    assert not (tmp_path / "f.jpg").exists()
    exe = os.environ.get("DENSEBIN")
    if exe:
        flags = ["--frame", "--how", "log", "--title", "counts", "--font-size", "11"]
        cli = tmp_path / "cli.svg"
        subprocess.run([exe, "shade", str(path), "-o", str(cli), "--quiet", *flags], check=True)
        assert cli.read_text() == svg


def decode_png_any(data):
    """RGBA8 pixels of any 8-bit RGBA PNG (matplotlib's reader)."""
    import io

    import matplotlib.image

    return (matplotlib.image.imread(io.BytesIO(data), format="png") * 255).round().astype(np.uint8)
