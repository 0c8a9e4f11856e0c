//! The `Grid` class: the library's grid with numpy layers, merging,
//! files, pickling, xarray and shading.

use densebin::grid::{ArrayId, ArrayView};
use densebin::{Grid as CoreGrid, RunContext};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::image::{self, Image};
use crate::{interruptible, state, to_py};

/// Per-pixel accumulators over a canvas: counts, sums, extrema, z
/// histograms. Layers are numpy arrays with row 0 at the bottom.
#[pyclass(module = "densebin", name = "Grid", frozen)]
pub(crate) struct Grid(pub(crate) CoreGrid);

/// A copy of an array of the grid, as numpy.
pub(crate) fn to_numpy<'py>(py: Python<'py>, view: ArrayView<'_>) -> Bound<'py, PyAny> {
    match view {
        ArrayView::U32(a) => a.to_owned().into_pyarray(py).into_any(),
        ArrayView::U64(a) => a.to_owned().into_pyarray(py).into_any(),
        ArrayView::F64(a) => a.to_owned().into_pyarray(py).into_any(),
        _ => unreachable!("every element type of the layer table"),
    }
}

#[pymethods]
impl Grid {
    /// Pixels across.
    #[getter]
    fn width(&self) -> usize {
        self.0.spec().width()
    }

    /// Pixels up.
    #[getter]
    fn height(&self) -> usize {
        self.0.spec().height()
    }

    /// The x range `(lo, hi)`.
    #[getter]
    fn x_range(&self) -> (f64, f64) {
        (self.0.spec().x().lo(), self.0.spec().x().hi())
    }

    /// How x maps onto pixels: `"linear"` or `"log"`.
    #[getter]
    fn x_axis(&self) -> &'static str {
        self.0.spec().x().axis_type().name()
    }

    /// How y maps onto pixels: `"linear"` or `"log"`.
    #[getter]
    fn y_axis(&self) -> &'static str {
        self.0.spec().y().axis_type().name()
    }

    /// The y range `(lo, hi)`.
    #[getter]
    fn y_range(&self) -> (f64, f64) {
        (self.0.spec().y().lo(), self.0.spec().y().hi())
    }

    /// The z histogram's range, when there is one.
    #[getter]
    fn z_range(&self) -> Option<(f64, f64)> {
        self.0.spec().zbins().map(|z| (z.lo(), z.hi()))
    }

    /// The number of z-histogram bins, when there is one.
    #[getter]
    fn z_bins(&self) -> Option<usize> {
        self.0.spec().zbins().map(|z| z.len())
    }

    /// The layers, by name.
    #[getter]
    fn layers(&self) -> Vec<&'static str> {
        self.0.spec().layers().iter().map(|l| l.name()).collect()
    }

    /// What happened to every point: a dict of counters.
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, value) in self.0.counters().fields() {
            d.set_item(name, value)?;
        }
        Ok(d)
    }

    /// The grid's arrays by dataset name (`count`, `sum_z`, `count_z`
    /// where it differs from `count`, `m2_z`, `min_z`, `max_z`, `sum_w`,
    /// `zhist`), as numpy copies.
    fn arrays<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (info, view) in self.0.layers() {
            d.set_item(info.name, to_numpy(py, view))?;
        }
        Ok(d)
    }

    /// Points per pixel, shape (height, width).
    #[getter]
    fn count<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.0.array(ArrayId::Count).expect("every grid counts"))
    }

    /// Sum of the finite z per pixel (layer `sum`), or `None`.
    #[getter]
    fn sum_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::SumZ).map(|v| to_numpy(py, v))
    }

    /// Points with a finite z per pixel (layer `sum`; equal to `count`
    /// unless some z were NaN or infinite), or `None`.
    #[getter]
    fn count_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0
            .count_z()
            .map(|v| v.to_owned().into_pyarray(py).into_any())
    }

    /// Sum of squared deviations from the mean of z (layer `std`), or `None`.
    #[getter]
    fn m2_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::M2Z).map(|v| to_numpy(py, v))
    }

    /// Smallest finite z per pixel, +inf where none (layer `minmax`), or `None`.
    #[getter]
    fn min_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::MinZ).map(|v| to_numpy(py, v))
    }

    /// Largest finite z per pixel, -inf where none (layer `minmax`), or `None`.
    #[getter]
    fn max_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::MaxZ).map(|v| to_numpy(py, v))
    }

    /// Points per z bin and pixel, shape (z_bins, height, width) (layer
    /// `zhist`), or `None`.
    #[getter]
    fn zhist<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::ZHist).map(|v| to_numpy(py, v))
    }

    /// Points per category and pixel, shape (categories, height, width)
    /// (layer `count_cat`), or `None`.
    #[getter]
    fn count_cat<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::CountCat).map(|v| to_numpy(py, v))
    }

    /// The categories of `count_cat`, in plane order, or `None`.
    #[getter]
    fn categories(&self) -> Option<Vec<String>> {
        self.0.spec().categories().map(|c| c.names().to_vec())
    }

    /// Sum of the finite weights per pixel (layer `weight`), or `None`.
    #[getter]
    fn sum_w<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.array(ArrayId::SumW).map(|v| to_numpy(py, v))
    }

    /// Mean z per pixel (NaN where no point has a finite z); needs `sum`.
    fn mean_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.mean_z().map(|a| a.into_pyarray(py).into_any())
    }

    /// Population standard deviation of z per pixel; needs `std`.
    fn std_z<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.0.std_z().map(|a| a.into_pyarray(py).into_any())
    }

    /// The grid with `other`'s points added (same canvas and layers).
    fn merge(&self, py: Python<'_>, other: &Grid) -> PyResult<Grid> {
        let mut sum = self.0.clone();
        py.detach(|| sum.merge(&other.0))
            .map_err(|e| to_py(py, e))?;
        Ok(Grid(sum))
    }

    fn __add__(&self, py: Python<'_>, other: &Grid) -> PyResult<Grid> {
        self.merge(py, other)
    }

    /// Writes the grid to `path` (HDF5, atomically), as `densebin bin` does.
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let ctx = RunContext::new();
        interruptible(py, &ctx, || {
            densebin::store::write_grid(&self.0, &path, &ctx)
        })
    }

    /// Pickling: the spec, the counters, the inputs and the arrays as
    /// numpy (their raw bytes; no temporary files).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        state::reduce(slf)
    }

    /// The grid `__reduce__` described.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &Bound<'_, PyDict>) -> PyResult<Grid> {
        state::from_state(py, state)
    }

    /// The grid file's root attributes, in order: for `to_xarray`.
    fn file_attributes<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
        state::file_attributes(&self.0, py)
    }

    /// The coordinates: `(name, values, long_name)` for x, y and z_bin.
    fn coordinates<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>, &'static str)>> {
        state::coordinates(&self.0, py)
    }

    /// Every array the grid holds: `(name, dims, long_name, values)`.
    fn variables<'py>(&self, py: Python<'py>) -> Vec<state::Variable<'py>> {
        state::variables(&self.0, py)
    }

    /// Shades the grid into an `Image`: every mode and option of
    /// `densebin shade`, under its flags' names. `background` is a colour,
    /// or `None` for transparent. `cmap` is
    ///
    /// - a colormap name (`viridis`, `magma_r`, …) or a list of colours
    ///   (`["#000", "red"]`), as on the command line;
    /// - a matplotlib `Colormap`, sampled at 256 points of [0, 1] (alpha
    ///   dropped);
    /// - any other callable: a colour function of *data values*, called
    ///   once with a float64 array and returning RGB or RGBA in [0, 1] of
    ///   shape (n, 3) or (n, 4) (alpha is not used; opacity comes from
    ///   `alpha`, `min_alpha` and `how`, as matplotlib's `alpha=` overrides
    ///   a colour's). In scatter mode it receives the centre of each z bin,
    ///   clipped to `z_span`, and every point of a bin takes its bin's
    ///   colour. In the other modes it receives 1024 values of the colour
    ///   scale, `legend.value_at(i / 1023)` (counts in density mode, the
    ///   statistic of z otherwise), and each pixel takes the colour nearest
    ///   its value's place on the scale. An exception it raises propagates.
    ///
    /// `spread` grows every pixel into a disc of that radius; `dynspread`
    /// picks the radius as datashader's `tf.dynspread(img, threshold,
    /// max_px=max_spread)` does.
    ///
    /// `mode="categorical"` shades `count_cat` as datashader's `shade` of
    /// a categorical aggregate; `color_key` is a categorical palette's name
    /// (default `category10`) or a dict of category name to colour.
    #[pyo3(signature = (mode="density", cmap=None, how=None, span=None, z_span=None, alpha=1.0, min_alpha=None, background=None, spread=0, weighted=false, dynspread=false, threshold=0.5, max_spread=3, color_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn shade(
        &self,
        py: Python<'_>,
        mode: &str,
        cmap: Option<&Bound<'_, PyAny>>,
        how: Option<&str>,
        span: Option<(f64, f64)>,
        z_span: Option<(f64, f64)>,
        alpha: f64,
        min_alpha: Option<f64>,
        background: Option<&str>,
        spread: usize,
        weighted: bool,
        dynspread: bool,
        threshold: f64,
        max_spread: usize,
        color_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Image> {
        use densebin::shade::Spread;
        let spread = match (dynspread, spread) {
            (false, r) => Spread::Fixed(r),
            (true, 0) => Spread::Dynamic {
                threshold,
                max: max_spread,
            },
            (true, _) => {
                return Err(crate::invalid_input(
                    py,
                    "spread= and dynspread= cannot be combined: dynspread picks the radius",
                ));
            }
        };
        let color_key = image::color_key(py, color_key)?;
        image::shade(
            py, &self.0, cmap, mode, how, span, z_span, alpha, min_alpha, background, spread,
            weighted, color_key,
        )
    }

    /// The grid as an `xarray.Dataset`, equal to what `xarray.open_dataset`
    /// gives for its saved file: the same variables, coordinates (`x`, `y`,
    /// `z_bin`) and attributes.
    fn to_xarray<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("densebin._xarray")?
            .call_method1("to_xarray", (slf,))
    }

    fn __eq__(&self, other: &Grid) -> bool {
        self.0 == other.0
    }

    fn __repr__(&self) -> String {
        let s = self.0.spec();
        let log = |a: &densebin::Axis| match a.axis_type() {
            densebin::grid::AxisType::Log => " (log)",
            _ => "",
        };
        let cats = match s.categories() {
            Some(c) => format!(" ({} categories)", c.len()),
            None => String::new(),
        };
        format!(
            "densebin.Grid({}x{}, x {:?}..{:?}{}, y {:?}..{:?}{}, layers {}{cats}, {} points binned)",
            s.width(),
            s.height(),
            s.x().lo(),
            s.x().hi(),
            log(s.x()),
            s.y().lo(),
            s.y().hi(),
            log(s.y()),
            s.layers(),
            self.0.counters().points_binned
        )
    }
}

/// The grids merged into one (same canvas and layers): the first copied
/// once, the others added to it; see `densebin.merge`.
#[pyfunction]
pub(crate) fn merge(py: Python<'_>, grids: Vec<PyRef<'_, Grid>>) -> PyResult<Grid> {
    let Some((first, rest)) = grids.split_first() else {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "merge needs at least one grid",
        ));
    };
    let mut sum = first.0.clone();
    let rest: Vec<&CoreGrid> = rest.iter().map(|g| &g.0).collect();
    py.detach(|| rest.into_iter().try_for_each(|g| sum.merge(g)))
        .map_err(|e| to_py(py, e))?;
    Ok(Grid(sum))
}
