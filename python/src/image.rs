//! Colormaps from Python (names, lists of colours, matplotlib
//! colormaps), shading, and the `Image` class.

use densebin::encode::Compression;
use densebin::shade::{Colormap, How, Legend as CoreLegend, Lut, Mode, Opacity, Shading, Spread};
use densebin::{Grid as CoreGrid, RunContext};
use std::sync::Arc;

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::to_py;

/// A framed image's bare pixels and frame, to redraw it as SVG.
struct Framing {
    bare: Arc<densebin::image::Image>,
    opts: densebin::figure::FrameOptions,
}

/// A color key from Python: a palette's name, or a dict of category name
/// to colour (`#rrggbb` or a name).
pub(crate) fn color_key(
    py: Python<'_>,
    key: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<densebin::shade::ColorKey>> {
    use densebin::shade::ColorKey;
    let lib = |e: densebin::Error| to_py(py, e);
    let Some(key) = key else {
        return Ok(None);
    };
    if let Ok(name) = key.extract::<String>() {
        return ColorKey::palette(&name).map(Some).map_err(lib);
    }
    let pairs: Vec<(String, String)> = key
        .cast::<pyo3::types::PyDict>()
        .map_err(|_| {
            crate::invalid_input(
                py,
                "color_key= must be a palette's name or a dict of category to colour",
            )
        })?
        .iter()
        .map(|(k, v)| Ok((k.str()?.to_string(), v.extract::<String>()?)))
        .collect::<PyResult<_>>()?;
    let colors = pairs
        .into_iter()
        .map(|(k, v)| Ok((k, densebin::shade::parse_color(&v)?)))
        .collect::<densebin::Result<Vec<_>>>()
        .map_err(lib)?;
    Ok(Some(ColorKey::Colors(colors)))
}

/// Shades `grid` with `Grid.shade`'s options.
#[allow(clippy::too_many_arguments)]
pub(crate) fn shade(
    py: Python<'_>,
    grid: &CoreGrid,
    cmap: Option<&Bound<'_, PyAny>>,
    mode: &str,
    how: Option<&str>,
    span: Option<(f64, f64)>,
    z_span: Option<(f64, f64)>,
    alpha: f64,
    min_alpha: Option<f64>,
    background: Option<&str>,
    spread: densebin::shade::Spread,
    weighted: bool,
    color_key: Option<densebin::shade::ColorKey>,
) -> PyResult<Image> {
    let lib = |e: densebin::Error| to_py(py, e);
    let cmap = colormap(py, cmap)?;
    let background = match background {
        None => None,
        Some(c) if c.eq_ignore_ascii_case("transparent") => None,
        Some(c) => Some(densebin::shade::parse_color(c).map_err(lib)?),
    };
    let shading = Shading {
        mode: mode.parse::<Mode>().map_err(lib)?,
        weighted,
        cmap: cmap.colormap.clone(),
        how: how.map(str::parse::<How>).transpose().map_err(lib)?,
        span,
        z_span,
        alpha,
        min_alpha,
        background,
        spread,
        color_key,
    };
    let fit = py
        .detach(|| densebin::shade::fit(grid, &shading))
        .map_err(lib)?;
    let palette = match &cmap.function {
        None => fit.palette(&shading.cmap),
        Some(f) => call_palette(f, &fit.palette_values())?,
    };
    let shaded = py
        .detach(|| densebin::shade::paint(grid, &shading, fit, palette))
        .map_err(lib)?;
    let spec = grid.spec();
    Ok(Image {
        image: Arc::new(shaded.image),
        framed: None,
        text: densebin::encode::png_text(grid, &shading),
        legend: shaded.legend,
        x_range: (spec.x().lo(), spec.x().hi()),
        y_range: (spec.y().lo(), spec.y().hi()),
        z_range: spec.zbins().map(|z| (z.lo(), z.hi())),
        spec: spec.clone(),
        axis_names: densebin::grid::InputInfo::axis_names(grid.inputs()),
    })
}

/// The layers a grid needs for `mode` (weighted density with
/// `weighted`), in the command line's spelling.
#[pyfunction]
#[pyo3(signature = (mode, weighted=false))]
pub(crate) fn layers_for_mode(py: Python<'_>, mode: &str, weighted: bool) -> PyResult<String> {
    let shading = Shading {
        mode: mode.parse::<Mode>().map_err(|e| to_py(py, e))?,
        weighted,
        ..Shading::default()
    };
    Ok(shading.required_layers().to_string())
}

/// True when `cmap` names a one-colour map (opacity then shows the value).
#[pyfunction]
pub(crate) fn is_single_colour(cmap: &str) -> bool {
    cmap.parse::<Colormap>().is_ok_and(|c| c.is_single_color())
}

/// What `cmap=` stands for: a colormap, or a Python function of data
/// values (then `colormap` only names it, for the PNG's metadata).
struct Cmap<'py> {
    colormap: Colormap,
    function: Option<Bound<'py, PyAny>>,
}

/// The colormap `cmap=` stands for: a name, a list of colours, a
/// matplotlib `Colormap`, or any other callable (a function of data
/// values); `None` is viridis.
fn colormap<'py>(py: Python<'py>, cmap: Option<&Bound<'py, PyAny>>) -> PyResult<Cmap<'py>> {
    let lib = |e: densebin::Error| to_py(py, e);
    let map = |colormap| Cmap {
        colormap,
        function: None,
    };
    let Some(c) = cmap else {
        return "viridis".parse().map(map).map_err(lib);
    };
    if let Ok(list) = c.cast::<PyList>() {
        let colours: Vec<String> = list.extract()?;
        return colours.join(",").parse().map(map).map_err(lib);
    }
    if let Ok(name) = c.extract::<String>() {
        return name.parse().map(map).map_err(lib);
    }
    if !c.is_callable() {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "cmap= must be a colormap name, a list of colours, a matplotlib Colormap or a \
             function of data values, not {}",
            c.get_type().name()?
        )));
    }
    if c.hasattr("N")? && c.hasattr("name")? {
        return mpl_colormap(c).map(map);
    }
    let name = match c.getattr("__qualname__") {
        Ok(n) => n.extract::<String>()?,
        Err(_) => c.get_type().name()?.to_string(),
    };
    // Two colours, so that defaults (min_alpha) are those of a colour map.
    let colormap =
        Colormap::from_colors(format!("python:{name}"), vec![[0.0; 3], [1.0; 3]]).map_err(lib)?;
    Ok(Cmap {
        colormap,
        function: Some(c.clone()),
    })
}

/// The palette a Python colour function gives for `values`: called once,
/// on a float64 array of them, it must return `len(values)` colours, RGB or
/// RGBA in [0, 1] (alpha is not used: opacity comes from `alpha=`).
fn call_palette(f: &Bound<'_, PyAny>, values: &[f64]) -> PyResult<Lut> {
    let py = f.py();
    let out = f.call1((values.to_vec().into_pyarray(py),))?;
    let bad = |why: String| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "cmap= was called on {} values and returned {why}; it must return an array of \
             shape ({0}, 3) or ({0}, 4) with components between 0 and 1",
            values.len()
        ))
    };
    let np = py.import("numpy")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    let rgba = np
        .call_method("asarray", (&out,), Some(&kwargs))
        .map_err(|e| bad(format!("something that is not an array of numbers ({e})")))?;
    let rgba: numpy::PyReadonlyArrayDyn<'_, f64> = rgba.extract()?;
    let rgba = rgba.as_array();
    let shape = rgba.shape().to_vec();
    if shape.len() != 2 || shape[0] != values.len() || !(3..=4).contains(&shape[1]) {
        return Err(bad(format!("an array of shape {shape:?}")));
    }
    let colours: Vec<[f32; 3]> = rgba
        .outer_iter()
        .map(|r| [r[0] as f32, r[1] as f32, r[2] as f32])
        .collect();
    if let Some(c) = colours
        .iter()
        .find(|c| !c.iter().all(|v| (0.0..=1.0).contains(v)))
    {
        return Err(bad(format!("the colour {c:?}")));
    }
    Lut::new(colours).map_err(|e| to_py(py, e))
}

/// A matplotlib `Colormap` as densebin's: its 256 colours at `i / 255`
/// (alpha dropped), which are exactly its own table for the usual N = 256.
fn mpl_colormap(cmap: &Bound<'_, PyAny>) -> PyResult<Colormap> {
    let t: Vec<f64> = (0..256).map(|i| f64::from(i) / 255.0).collect();
    let table = call_palette(cmap, &t)?;
    let name: String = cmap.getattr("name")?.extract()?;
    Colormap::from_colors(format!("matplotlib:{name}"), table.colors().to_vec())
        .map_err(|e| to_py(cmap.py(), e))
}

/// A shaded grid: premultiplied RGBA inside, straight 8-bit RGBA out.
#[pyclass(module = "densebin", name = "Image", frozen)]
pub(crate) struct Image {
    image: Arc<densebin::image::Image>,
    /// Set when this is a framed figure.
    framed: Option<Framing>,
    /// The PNG text chunks (the canvas, the inputs, the shading).
    text: Vec<(String, String)>,
    legend: CoreLegend,
    x_range: (f64, f64),
    y_range: (f64, f64),
    z_range: Option<(f64, f64)>,
    /// The grid's spec, for framing.
    spec: densebin::GridSpec,
    /// The default axis labels: the inputs' column names, or x and y.
    axis_names: [String; 2],
}

impl Image {
    /// This image's grid, legend and metadata with other pixels.
    fn with_pixels(&self, image: densebin::image::Image, framed: Option<Framing>) -> Image {
        Image {
            image: Arc::new(image),
            framed,
            text: self.text.clone(),
            legend: self.legend.clone(),
            x_range: self.x_range,
            y_range: self.y_range,
            z_range: self.z_range,
            spec: self.spec.clone(),
            axis_names: self.axis_names.clone(),
        }
    }
}

#[pymethods]
impl Image {
    /// Pixels across.
    #[getter]
    fn width(&self) -> usize {
        self.image.width()
    }

    /// Pixels up.
    #[getter]
    fn height(&self) -> usize {
        self.image.height()
    }

    /// The x values the image spans, left to right (its grid's).
    #[getter]
    fn x_range(&self) -> (f64, f64) {
        self.x_range
    }

    /// How its grid's x axis maps values onto pixels: `"linear"` or `"log"`.
    #[getter]
    fn x_axis(&self) -> &'static str {
        self.spec.x().axis_type().name()
    }

    /// How its grid's y axis maps values onto pixels.
    #[getter]
    fn y_axis(&self) -> &'static str {
        self.spec.y().axis_type().name()
    }

    /// The y values the image spans, bottom to top.
    #[getter]
    fn y_range(&self) -> (f64, f64) {
        self.y_range
    }

    /// The z range of its grid's z histogram (scatter mode: the palette
    /// has one colour for each of its equal bins), when it has one.
    #[getter]
    fn z_range(&self) -> Option<(f64, f64)> {
        self.z_range
    }

    /// The pixels as `uint8` of shape (height, width, 4), straight alpha,
    /// row 0 at the top.
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shape = (self.image.height(), self.image.width(), 4);
        let rgba =
            ndarray::Array3::from_shape_vec(shape, self.image.to_rgba8()).expect("4 bytes a pixel");
        Ok(rgba.into_pyarray(py).into_any())
    }

    /// Writes the image (atomically) as PNG, or as SVG when `path` ends in
    /// `.svg` (a framed figure's axes and text as vectors, the pixels as an
    /// embedded PNG), with the command line's metadata; `compression` is
    /// `"none"`, `"fast"` or a level 1 to 9.
    #[pyo3(signature = (path, compression="3"))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, compression: &str) -> PyResult<()> {
        let compression: Compression = compression.parse().map_err(|e| to_py(py, e))?;
        let ctx = RunContext::new();
        py.detach(|| {
            use densebin::encode::{Format, write_figure};
            use densebin::figure::{Figure, frame};
            match (Format::of(&path)?, &self.framed) {
                (Format::Svg, Some(f)) => write_figure(
                    &frame(&f.bare, &self.legend, &self.spec, &f.opts),
                    &path,
                    compression,
                    &self.text,
                    &ctx,
                ),
                _ => write_figure(
                    &Figure::bare(&self.image),
                    &path,
                    compression,
                    &self.text,
                    &ctx,
                ),
            }
        })
        .map_err(|e| to_py(py, e))
    }

    /// The image framed as a figure, as `densebin shade --frame` frames it:
    /// pixel for pixel inside axes with matplotlib's ticks and tick labels
    /// in data units, axis labels, an optional title and a colorbar drawn
    /// from the image's own palette and scale; `font_size` in points
    /// (tick labels; other text scales with it), `figure_background` a
    /// colour (text is black on light ones, white on dark ones); axis
    /// labels default to the inputs' column names (a header, `.npy`
    /// fields), else `x` and `y`. Framing a framed image frames its bare
    /// pixels anew; `save("fig.svg")` writes the figure as SVG.
    #[pyo3(signature = (title=None, x_label=None, y_label=None, colorbar=true, colorbar_label=None, font_size=10.0, figure_background="white"))]
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &self,
        py: Python<'_>,
        title: Option<String>,
        x_label: Option<String>,
        y_label: Option<String>,
        colorbar: bool,
        colorbar_label: Option<String>,
        font_size: f32,
        figure_background: &str,
    ) -> PyResult<Image> {
        let lib = |e: densebin::Error| to_py(py, e);
        let bg = densebin::shade::parse_color(figure_background).map_err(lib)?;
        let opts = densebin::figure::FrameOptions {
            title,
            x_label: x_label.unwrap_or_else(|| self.axis_names[0].clone()),
            y_label: y_label.unwrap_or_else(|| self.axis_names[1].clone()),
            colorbar,
            colorbar_label,
            font_size,
            ..densebin::figure::FrameOptions::default()
        }
        .on_background(bg);
        opts.validate().map_err(lib)?;
        // A framed image is framed afresh from its bare pixels.
        let bare = match &self.framed {
            Some(f) => f.bare.clone(),
            None => self.image.clone(),
        };
        let image = py
            .detach(|| densebin::figure::frame(&bare, &self.legend, &self.spec, &opts).to_image());
        Ok(self.with_pixels(image, Some(Framing { bare, opts })))
    }

    /// The image with every non-empty pixel grown into a disc of radius
    /// `px` (datashader's `tf.spread` with its circular mask, "over" with
    /// larger y on top); or, with `dynspread`, by the radius datashader's
    /// `tf.dynspread(img, threshold, max_px)` picks. Not for framed images.
    #[pyo3(signature = (px=1, dynspread=false, threshold=0.5, max_px=3))]
    fn spread(
        &self,
        py: Python<'_>,
        px: usize,
        dynspread: bool,
        threshold: f64,
        max_px: usize,
    ) -> PyResult<Image> {
        if self.framed.is_some() {
            return Err(crate::invalid_input(
                py,
                "a framed image cannot be spread; spread the image, then frame it",
            ));
        }
        let spread = if dynspread {
            Spread::Dynamic {
                threshold,
                max: max_px,
            }
        } else {
            Spread::Fixed(px)
        };
        spread.validate().map_err(|e| to_py(py, e))?;
        let spread = py.detach(|| densebin::shade::spread(&self.image, spread.radius(&self.image)));
        Ok(self.with_pixels(spread, None))
    }

    /// What the colours mean: the scale and palette shading fitted.
    #[getter]
    fn legend(&self) -> Legend {
        Legend(self.legend.clone())
    }

    /// The PNG, for notebooks.
    fn _repr_png_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::new();
        densebin::encode::encode_png(&self.image, &mut out, Compression::Level(3), &self.text)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &out))
    }

    fn __repr__(&self) -> String {
        format!(
            "densebin.Image({}x{})",
            self.image.width(),
            self.image.height()
        )
    }
}

/// What an image's colours mean, for a colorbar: the colour scale that
/// shading fitted (values to `t` in [0, 1] and back) and the palette.
#[pyclass(module = "densebin", name = "Legend", frozen)]
pub(crate) struct Legend(CoreLegend);

#[pymethods]
impl Legend {
    /// What the colour shows: `count`, `sum of weight`, `mean of z`,
    /// `min of z`, `max of z`, `std of z`, or `z` (scatter).
    #[getter]
    fn quantity(&self) -> &str {
        &self.0.quantity
    }

    /// The colour scale's normalisation: `linear`, `log`, `cbrt` or
    /// `eq_hist`.
    #[getter]
    fn how(&self) -> String {
        self.0.colour.how().to_string()
    }

    /// The values at the two ends of the colour scale; `None` when the grid
    /// had no value to colour.
    #[getter]
    fn domain(&self) -> Option<(f64, f64)> {
        self.0.colour.domain()
    }

    /// The palette, float32 of shape (n, 3): colours for evenly spaced `t`
    /// from 0 to 1 (a pixel takes the one nearest its `t`), or in scatter
    /// mode one colour per z bin.
    #[getter]
    fn palette<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        let colours = self.0.lut.colors();
        ndarray::Array2::from_shape_fn((colours.len(), 3), |(i, c)| colours[i][c])
            .into_pyarray(py)
            .into_any()
    }

    /// Categorical mode: each category and its colour (RGB in [0, 1]), in
    /// plane order; empty in the other modes.
    #[getter]
    fn key(&self) -> Vec<(String, (f32, f32, f32))> {
        self.0
            .key
            .iter()
            .map(|(n, c)| (n.clone(), (c[0], c[1], c[2])))
            .collect()
    }

    /// Opacity at the two ends, `(min, max)`: along the colour scale
    /// (density), along the count (z statistics with `how`), constant, or
    /// per point (scatter, `(alpha, alpha)`).
    #[getter]
    fn alpha(&self) -> (f64, f64) {
        match &self.0.opacity {
            Opacity::Constant(a) | Opacity::PerPoint(a) => (*a, *a),
            Opacity::AlongColour { min, max } | Opacity::AlongCount { min, max, .. } => {
                (*min, *max)
            }
            _ => (1.0, 1.0),
        }
    }

    /// `t` in [0, 1] of each value on the colour scale (NaN for values not
    /// finite), as a float64 array of the input's shape.
    fn t<'py>(
        &self,
        py: Python<'py>,
        values: numpy::PyReadonlyArrayDyn<'py, f64>,
    ) -> Bound<'py, PyAny> {
        values
            .as_array()
            .mapv(|v| f64::from(self.0.colour.t(v)))
            .into_pyarray(py)
            .into_any()
    }

    /// The value at each `t` on the colour scale: the inverse of `t`, for
    /// labelling a colorbar (for eq_hist of integers, the least value whose
    /// `t` reaches it).
    fn value_at<'py>(
        &self,
        py: Python<'py>,
        t: numpy::PyReadonlyArrayDyn<'py, f64>,
    ) -> Bound<'py, PyAny> {
        t.as_array()
            .mapv(|t| self.0.colour.value_at(t))
            .into_pyarray(py)
            .into_any()
    }

    fn __repr__(&self) -> String {
        format!(
            "densebin.Legend({}, {}, domain {:?})",
            self.0.quantity,
            self.0.colour.how(),
            self.0.colour.domain()
        )
    }
}
