//! Colormaps from Python (names, lists of colours, matplotlib
//! colormaps), shading, and the `Image` class.

use densebin::encode::Compression;
use densebin::shade::{Colormap, How, Mode, Shading};
use densebin::{Grid as CoreGrid, RunContext};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::to_py;

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
    spread: usize,
    weighted: bool,
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
        cmap,
        how: how.map(str::parse::<How>).transpose().map_err(lib)?,
        span,
        z_span,
        alpha,
        min_alpha,
        background,
        spread,
    };
    let shaded = py
        .detach(|| densebin::shade::shade(grid, &shading))
        .map_err(lib)?;
    Ok(Image {
        image: shaded.image,
        text: densebin::encode::png_text(grid, &shading),
    })
}

/// The colormap `cmap=` stands for: a name, a list of colours, or a
/// matplotlib `Colormap`; `None` is viridis.
fn colormap(py: Python<'_>, cmap: Option<&Bound<'_, PyAny>>) -> PyResult<Colormap> {
    let lib = |e: densebin::Error| to_py(py, e);
    let Some(c) = cmap else {
        return "viridis".parse().map_err(lib);
    };
    if let Ok(list) = c.cast::<PyList>() {
        let colours: Vec<String> = list.extract()?;
        return colours.join(",").parse().map_err(lib);
    }
    if let Ok(name) = c.extract::<String>() {
        return name.parse().map_err(lib);
    }
    if c.hasattr("N")? && c.hasattr("name")? && c.is_callable() {
        return mpl_colormap(c);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "cmap= must be a colormap name, a list of colours or a matplotlib Colormap \
         (functions of data values are not supported yet)",
    ))
}

/// A matplotlib `Colormap` as densebin's: its 256 colours at `i / 255`
/// (alpha dropped), which are exactly its own table for the usual N = 256.
fn mpl_colormap(cmap: &Bound<'_, PyAny>) -> PyResult<Colormap> {
    let py = cmap.py();
    let t: Vec<f64> = (0..256).map(|i| f64::from(i) / 255.0).collect();
    let rgba = cmap.call1((t.into_pyarray(py),))?;
    let rgba: numpy::PyReadonlyArray2<'_, f64> = rgba.extract()?;
    let rgba = rgba.as_array();
    if rgba.ncols() < 3 || rgba.nrows() != 256 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "cmap= returned shape {:?} for 256 values, not (256, 3) or (256, 4)",
            rgba.shape()
        )));
    }
    let colours = rgba
        .rows()
        .into_iter()
        .map(|r| [r[0] as f32, r[1] as f32, r[2] as f32])
        .collect();
    let name: String = cmap.getattr("name")?.extract()?;
    Colormap::from_colors(format!("matplotlib:{name}"), colours).map_err(|e| to_py(py, e))
}

/// A shaded grid: premultiplied RGBA inside, straight 8-bit RGBA out.
#[pyclass(module = "densebin", name = "Image", frozen)]
pub(crate) struct Image {
    image: densebin::image::Image,
    /// The PNG text chunks (the canvas, the inputs, the shading).
    text: Vec<(String, String)>,
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

    /// The pixels as `uint8` of shape (height, width, 4), straight alpha,
    /// row 0 at the top.
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shape = (self.image.height(), self.image.width(), 4);
        let rgba =
            ndarray::Array3::from_shape_vec(shape, self.image.to_rgba8()).expect("4 bytes a pixel");
        Ok(rgba.into_pyarray(py).into_any())
    }

    /// Writes the image as PNG (atomically), with the command line's
    /// metadata; `compression` is `"none"`, `"fast"` or a level 1 to 9.
    #[pyo3(signature = (path, compression="3"))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, compression: &str) -> PyResult<()> {
        let compression: Compression = compression.parse().map_err(|e| to_py(py, e))?;
        let ctx = RunContext::new();
        py.detach(|| densebin::encode::write_png(&self.image, &path, compression, &self.text, &ctx))
            .map_err(|e| to_py(py, e))
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
