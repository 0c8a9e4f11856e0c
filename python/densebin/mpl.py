"""matplotlib: ``plt.scatter`` for more points than matplotlib can draw.

:func:`scatter` bins the points at the size of the axes in pixels (at the
figure's dpi, so one grid pixel is one pixel of the saved figure), shades
them and draws the image with ``imshow``; :func:`imshow` draws a grid or an
image that exists already. Both return the ``AxesImage``, which carries the
shading's colour scale: ``fig.colorbar(im)`` labels its bar with data
values (counts, or z), for ``eq_hist`` too. Axis limits, ticks, labels and
other artists behave as for any image.

Lay the figure out before calling :func:`scatter` (a colorbar's own axes,
``fig.subplots_adjust``): binning uses the axes' size at the time of the
call, and axes that change size later show the image resampled.
"""

import numpy as np

from . import bin as _bin
from ._densebin import layers_for_mode as _layers_for_mode
from .errors import InvalidInputError

__all__ = ["scatter", "imshow"]


#: What Grid.shade takes; imshow hands these to it and the rest to matplotlib.
_SHADE_OPTIONS = (
    "mode",
    "cmap",
    "how",
    "span",
    "z_span",
    "alpha",
    "min_alpha",
    "background",
    "spread",
    "weighted",
    "dynspread",
    "threshold",
    "max_spread",
)


def _pixels(ax):
    """The axes' size in pixels of the figure at its dpi."""
    box = ax.get_window_extent()
    return max(1, int(round(box.width))), max(1, int(round(box.height)))


def _scale(image):
    """The colormap and norm that map data values as the image's shading
    did, for a colorbar: in scatter mode one colour per z bin over the z
    histogram's range, otherwise the palette along the fitted scale (a
    ``FuncNorm`` through the scale's own ``t`` and its inverse)."""
    from matplotlib import colors

    legend = image.legend
    palette = np.clip(np.asarray(legend.palette, np.float64), 0, 1)
    cmap = colors.ListedColormap(palette, name="densebin")
    if legend.quantity == "z":
        lo, hi = image.z_range
        return cmap, colors.Normalize(lo, hi)
    lo, hi = legend.domain or (0.0, 1.0)
    if not lo < hi:
        return cmap, colors.Normalize(lo - 0.5, hi + 0.5)

    def forward(v):
        return legend.t(np.asarray(v, np.float64))

    def inverse(t):
        return legend.value_at(np.asarray(t, np.float64))

    class FittedNorm(colors.FuncNorm):
        """The fitted scale, its ends fixed: the image's pixels (RGBA) are
        not values to autoscale to."""

        def autoscale_None(self, A):
            pass

    norm = FittedNorm((forward, inverse), vmin=lo, vmax=hi)
    if legend.how == "eq_hist":
        # Equalised, most values crowd one end of the bar: tick the values
        # at evenly spaced places along it instead.
        norm._scale = _evenly_ticked((forward, inverse), _nice(inverse(np.linspace(0, 1, 6))))
    return cmap, norm


def _nice(values):
    """Tick values: whole numbers stay whole, others take two significant
    digits; repeats dropped."""
    values = np.asarray(values, np.float64)
    if np.all(values == np.round(values)):
        return np.unique(values)
    return np.unique([float(f"{v:.2g}") for v in values])


def _evenly_ticked(functions, ticks):
    """A function scale for the colorbar's axis with its ticks at
    ``ticks``."""
    from matplotlib import scale, ticker

    class EvenlyTicked(scale.FuncScale):
        def set_default_locators_and_formatters(self, axis):
            super().set_default_locators_and_formatters(axis)
            axis.set_major_locator(ticker.FixedLocator(ticks))
            axis.set_minor_locator(ticker.NullLocator())

    return EvenlyTicked(None, functions)


def _draw(ax, image, **kwargs):
    (x0, x1), (y0, y1) = image.x_range, image.y_range
    rgba = image.to_numpy()[::-1]  # row 0 at the bottom, for origin="lower"
    kwargs.setdefault("aspect", "auto")
    kwargs.setdefault("interpolation", "nearest")
    if "log" in (image.x_axis, image.y_axis):
        # Pixels evenly spaced in log10: the axes take the grid's scales,
        # and the image is placed in axes coordinates, where its pixels
        # are evenly spaced too (matplotlib would stretch an image in data
        # coordinates across a log axis).
        # Autoscaling stays off while it is placed, so that the axes'
        # (0, 1) corners are not taken for data limits.
        ax.set_xscale(image.x_axis)
        ax.set_yscale(image.y_axis)
        ax.set_autoscale_on(False)
        kwargs.setdefault("transform", ax.transAxes)
        im = ax.imshow(rgba, extent=(0, 1, 0, 1), origin="lower", **kwargs)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    else:
        im = ax.imshow(rgba, extent=(x0, x1, y0, y1), origin="lower", **kwargs)
    cmap, norm = _scale(image)
    im.set_cmap(cmap)
    im.set_norm(norm)
    im.densebin_image = image
    return im


def scatter(
    ax,
    x,
    y,
    c=None,
    *,
    cmap="viridis",
    alpha=1.0,
    mode=None,
    how=None,
    span=None,
    z_span=None,
    min_alpha=None,
    background=None,
    spread=0,
    x_range=None,
    y_range=None,
    z_range=None,
    z_bins=64,
    threads=None,
    **imshow_kwargs,
):
    """Draws points as ``ax.scatter(x, y, c=cmap(c), alpha=alpha)`` would,
    for any number of points: binned at the axes' size in pixels, shaded,
    and drawn with ``imshow(extent=…, origin="lower",
    interpolation="nearest")``. Returns the ``AxesImage``; pass it to
    ``fig.colorbar``.

    With ``c`` (a value per point) the mode is ``"scatter"``: each point
    adds opacity ``alpha`` in its colour, ``cmap`` of its value, as
    matplotlib stacks them (colours from ``z_bins`` equal bins of
    ``z_range``, default the values' finite range). Other modes: ``mean``,
    ``min``, ``max`` and ``std`` colour each pixel by that statistic of
    ``c`` (fading by density with ``how``); without ``c`` the default is
    ``"density"``, the count through ``how`` (default ``eq_hist``).
    ``cmap`` is a name, a list of colours, a matplotlib colormap or a
    function of data values (see :meth:`densebin.Grid.shade`).
    ``x_range``/``y_range`` default to the points' finite range, which is
    the image's extent. On axes with a log scale (``ax.set_xscale("log")``
    first) the points are binned on log axes, pixel for pixel with the
    axes. Other keywords go to ``imshow``.
    """
    if mode is None:
        mode = "density" if c is None else "scatter"
    layers = _layers_for_mode(mode)
    width, height = _pixels(ax)
    scales = (ax.get_xscale(), ax.get_yscale())
    for name, scale in zip("xy", scales, strict=True):
        if scale not in ("linear", "log"):
            raise InvalidInputError(
                f"the axes' {name} scale is {scale!r}: densebin bins linear and log axes only"
            )
    grid = _bin(
        x,
        y,
        c,
        width=width,
        height=height,
        x_range=x_range,
        y_range=y_range,
        layers=layers,
        z_bins=z_bins,
        z_range=z_range,
        threads=threads,
        x_axis=scales[0],
        y_axis=scales[1],
    )
    image = grid.shade(
        mode=mode,
        cmap=cmap,
        how=how,
        span=span,
        z_span=z_span,
        alpha=alpha,
        min_alpha=min_alpha,
        background=background,
        spread=spread,
    )
    im = _draw(ax, image, **imshow_kwargs)
    im.densebin_grid = grid
    return im


def imshow(ax, grid_or_image, **kwargs):
    """Draws a :class:`densebin.Grid` (shaded with ``kwargs`` that
    :meth:`~densebin.Grid.shade` takes) or a :class:`densebin.Image` over
    its grid's extent; other keywords go to matplotlib's ``imshow``.
    Returns the ``AxesImage``, which ``fig.colorbar`` accepts."""
    if hasattr(grid_or_image, "shade"):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in _SHADE_OPTIONS}
        image = grid_or_image.shade(**options)
    else:
        image = grid_or_image
    return _draw(ax, image, **kwargs)
