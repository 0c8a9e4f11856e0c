"""densebin.mpl: the figure's pixels are the shading of a grid binned at
the axes' size, the extent is the data range, and a colorbar maps data
values to the colours the pixels have."""

import io

import matplotlib
import numpy as np
import pytest

import densebin

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def points(n=30_000, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rng.normal(0, 0.5, n) + 0.3 * x
    return x, y, np.tanh(x * y)


def figure():
    """400 × 300 pixels with 240 × 240 axes at (40, 30) from the bottom left,
    axes and colorbar laid out before binning."""
    fig = plt.figure(figsize=(4, 3), dpi=100)
    ax = fig.add_axes([0.1, 0.1, 0.6, 0.8])
    cax = fig.add_axes([0.8, 0.1, 0.05, 0.8])
    return fig, ax, cax


def saved_axes_pixels(fig):
    """The axes' pixels in the saved figure, RGB, row 0 at the top."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure")
    buf.seek(0)
    rgba = plt.imread(buf)
    assert rgba.shape[:2] == (300, 400)
    return np.round(rgba[30:270, 40:280, :3] * 255).astype(int)


@pytest.mark.parametrize(
    "options",
    [
        dict(cmap="magma", alpha=0.05),  # c given: scatter mode
        dict(mode="mean", cmap="viridis", how="log"),
        dict(c=None, cmap="inferno"),  # density, eq_hist
    ],
)
def test_the_figures_pixels_are_the_shading_of_a_grid_at_the_axes_size(options):
    x, y, z = points()
    c = options.pop("c", z)
    fig, ax, _ = figure()
    ax.set_axis_off()  # no spines over the image's edge pixels
    im = densebin.mpl.scatter(ax, x, y, c=c, z_range=(-1, 1), **options)
    layers = "count" if c is None else "count,sum,zhist"
    grid = densebin.bin(x, y, c, width=240, height=240, layers=layers, z_bins=64, z_range=(-1, 1))
    np.testing.assert_array_equal(im.densebin_grid.count, grid.count)
    options.setdefault("mode", "density" if c is None else "scatter")
    # The image drawn is the shading, exactly.
    np.testing.assert_array_equal(im.get_array(), grid.shade(**options).to_numpy()[::-1])
    # And so are the saved figure's pixels, one for one. matplotlib
    # composites the 8-bit straight colours over white itself: within two
    # levels of densebin's compositing in floating point.
    want = grid.shade(background="white", **options).to_numpy()[..., :3].astype(int)
    got = saved_axes_pixels(fig)
    assert np.abs(got - want).max() <= 2
    assert (got == want).mean() > 0.8
    # The image covers the data's range.
    assert im.get_extent() == [x.min(), x.max(), y.min(), y.max()]
    assert ax.get_xlim() == (x.min(), x.max())


def test_a_colorbar_of_the_density_labels_counts_with_the_pixels_colours():
    x, y, _ = points()
    fig, ax, cax = figure()
    im = densebin.mpl.scatter(ax, x, y, cmap="viridis")
    bar = fig.colorbar(im, cax=cax)
    grid = im.densebin_grid
    legend = im.densebin_image.legend
    ticks = bar.get_ticks()
    lo, hi = legend.domain
    assert ticks[0] == lo == grid.count[grid.count > 0].min()
    assert ticks[-1] == hi == grid.count.max()
    assert np.all(ticks == np.round(ticks)), "counts are whole"
    # The bar's colour for a count is the colour of the pixels with it.
    pixels = im.densebin_image.to_numpy()[::-1]
    for v in ticks:
        where = grid.count == v
        if where.any():
            bar_colour = np.round(np.array(bar.cmap(bar.norm(v))[:3]) * 255)
            np.testing.assert_array_equal(pixels[where][0, :3], bar_colour)


def test_a_colorbar_of_scatter_mode_labels_z():
    x, y, z = points()
    fig, ax, cax = figure()
    im = densebin.mpl.scatter(ax, x, y, c=z, cmap="magma", alpha=1.0, z_range=(-1, 1))
    bar = fig.colorbar(im, cax=cax)
    ticks = bar.get_ticks()
    assert ticks.min() >= -1 and ticks.max() <= 1 and len(ticks) >= 3
    # Opaque pixels whose points share one z bin have that bin's colour;
    # the bar shows the same colour at any z in the bin.
    grid = im.densebin_grid
    hist = grid.zhist
    one_bin = (hist.max(axis=0) == grid.count) & (grid.count > 0)
    k = hist.argmax(axis=0)[one_bin]
    centres = -1 + (k + 0.5) * 2 / 64
    pixels = im.densebin_image.to_numpy()[::-1][one_bin]
    bar_colours = np.round(bar.cmap(bar.norm(centres))[:, :3] * 255)
    np.testing.assert_array_equal(pixels[:, :3], bar_colours)


def test_imshow_draws_grids_and_images():
    x, y, z = points(5000)
    grid = densebin.bin(x, y, z, width=50, height=40, layers="count,sum")
    _, ax = plt.subplots()
    im = densebin.mpl.imshow(ax, grid, mode="mean", cmap="plasma")
    np.testing.assert_array_equal(
        im.get_array(), grid.shade(mode="mean", cmap="plasma").to_numpy()[::-1]
    )
    assert im.get_extent() == [*grid.x_range, *grid.y_range]
    image = grid.shade()
    im = densebin.mpl.imshow(ax, image, interpolation="bilinear")
    assert im.get_interpolation() == "bilinear"
    np.testing.assert_array_equal(im.get_array(), image.to_numpy()[::-1])
    with pytest.raises(densebin.InvalidInputError, match="mean mode needs the sum layer"):
        densebin.mpl.imshow(ax, densebin.bin(x, y), mode="mean")


def test_log_axes_are_binned_on_log_axes_pixel_for_pixel():
    """On axes with log scales, scatter bins on log axes at the axes' size
    and places the image in axes coordinates, so that each grid pixel is
    one pixel of the saved figure (an image in data coordinates would be
    stretched across a log axis); imshow of a log grid sets the scales."""
    rng = np.random.default_rng(4)
    x, y = 10 ** rng.uniform(-2, 3, 30_000), 10 ** rng.normal(1, 0.4, 30_000)
    fig, ax, _ = figure()
    ax.set_axis_off()
    ax.set_xscale("log")
    ax.set_yscale("log")
    im = densebin.mpl.scatter(ax, x, y, cmap="inferno")
    grid = densebin.bin(x, y, width=240, height=240, layers="count", x_axis="log", y_axis="log")
    np.testing.assert_array_equal(im.densebin_grid.count, grid.count)
    np.testing.assert_array_equal(im.get_array(), grid.shade(cmap="inferno").to_numpy()[::-1])
    want = grid.shade(cmap="inferno", background="white").to_numpy()[..., :3].astype(int)
    got = saved_axes_pixels(fig)
    assert np.abs(got - want).max() <= 2
    assert ax.get_xlim() == grid.x_range and ax.get_ylim() == grid.y_range
    # A log grid drawn on fresh axes gives them its scales.
    fig, ax, _ = figure()
    densebin.mpl.imshow(ax, grid)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert (grid.x_axis, grid.y_axis, grid.shade().x_axis) == ("log", "log", "log")
    ax.set_yscale("symlog")
    with pytest.raises(densebin.InvalidInputError, match="'symlog'"):
        densebin.mpl.scatter(ax, x, y)
