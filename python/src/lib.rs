//! The Python bindings: argument conversion and calls into the library,
//! nothing else. Binning runs with the GIL released, on a thread of its
//! own, while the calling thread watches for Ctrl-C and trips the run's
//! cancellation token; library errors become the `densebin.errors`
//! exception of their kind, with parameters spelled `name=`.

use std::sync::mpsc;
use std::time::Duration;

use densebin::binning::BinRequest;
use densebin::encode::Compression;
use densebin::grid::layers::ARRAYS;
use densebin::grid::{ArrayData, ArrayId, ArrayView, Counters, InputInfo};
use densebin::read::{ArraySource, Column as ColumnSel, ColumnRef, Input, PointsRef, ReadOptions};
use densebin::shade::{Colormap, How, Mode, Shading};
use densebin::{Grid as CoreGrid, GridSpec, LayerSet, Param, RunContext};
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// How Python spells a parameter in messages: `z_bins=`.
fn keyword(p: Param) -> String {
    format!("{}=", p.name())
}

/// The `densebin.errors` exception for a library error.
fn to_py(py: Python<'_>, e: densebin::Error) -> PyErr {
    use densebin::Error as E;
    if matches!(e, E::Interrupted) {
        return PyKeyboardInterrupt::new_err("interrupted; nothing was written");
    }
    let class = match &e {
        E::OutOfMemory(_) => "GridMemoryError",
        E::Io { .. } | E::Hdf5 { .. } | E::InputChanged { .. } | E::GridFormat { .. } => {
            "FileError"
        }
        _ => "InvalidInputError",
    };
    let message = e.render(keyword);
    match py
        .import("densebin.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.clone(),)))
    {
        Ok(err) => PyErr::from_value(err),
        Err(import_failed) => import_failed,
    }
}

/// Runs `work` with the GIL released, on a thread of its own; the calling
/// thread checks for signals every 20 ms (Python runs its handlers only on
/// the main thread) and cancels `ctx` when one raises.
fn interruptible<T: Send>(
    py: Python<'_>,
    ctx: &RunContext,
    work: impl FnOnce() -> densebin::Result<T> + Send,
) -> PyResult<T> {
    let (done, finished) = mpsc::channel();
    // A Mutex makes the receiver shareable with the detached closure.
    let finished = std::sync::Mutex::new(finished);
    let mut raised = None;
    let result = std::thread::scope(|s| {
        let worker = s.spawn(move || {
            let r = work();
            let _ = done.send(());
            r
        });
        loop {
            let stopped = py.detach(|| {
                let rx = finished.lock().unwrap_or_else(|p| p.into_inner());
                rx.recv_timeout(Duration::from_millis(20))
            });
            if !matches!(stopped, Err(mpsc::RecvTimeoutError::Timeout)) {
                break;
            }
            if raised.is_none()
                && let Err(e) = py.check_signals()
            {
                ctx.cancel_token().cancel();
                raised = Some(e);
            }
        }
        worker.join()
    });
    match (raised, result) {
        (Some(signal), _) => Err(signal),
        (None, Ok(r)) => r.map_err(|e| to_py(py, e)),
        (None, Err(_)) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "densebin: the binning thread panicked; please report this",
        )),
    }
}

/// A column as the library's view: float64 or float32, any stride.
enum Column<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

impl<'py> Column<'py> {
    fn extract(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Column<'py>> {
        if let Ok(a) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
            return Ok(Column::F64(a));
        }
        if let Ok(a) = obj.extract::<PyReadonlyArray1<'py, f32>>() {
            return Ok(Column::F32(a));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{name} must be a 1-D float32 or float64 array"
        )))
    }

    fn view(&self) -> ColumnRef<'_> {
        match self {
            Column::F64(a) => ColumnRef::F64(a.as_array()),
            Column::F32(a) => ColumnRef::F32(a.as_array()),
        }
    }
}

/// Bins columns of points into a grid; see `densebin.bin`.
#[pyfunction]
#[pyo3(signature = (x, y, z, weight, grid, threads))]
fn bin(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    z: Option<&Bound<'_, PyAny>>,
    weight: Option<&Bound<'_, PyAny>>,
    grid: GridArgs,
    threads: Option<usize>,
) -> PyResult<Grid> {
    let cols = (
        Column::extract("x", x)?,
        Column::extract("y", y)?,
        z.map(|z| Column::extract("z", z)).transpose()?,
        weight.map(|w| Column::extract("weight", w)).transpose()?,
    );
    let points = PointsRef::new(
        cols.0.view(),
        cols.1.view(),
        cols.2.as_ref().map(Column::view),
        cols.3.as_ref().map(Column::view),
    )
    .map_err(|e| to_py(py, e))?;
    let request = request(py, grid)?;
    let ctx = RunContext::new()
        .with_threads(threads)
        .map_err(|e| to_py(py, e))?;
    let mut sources = [ArraySource::new("arrays", points)];
    let grid = interruptible(py, &ctx, || request.run(&mut sources, &ctx))?;
    Ok(Grid(grid))
}

/// The grid arguments both `bin` and `bin_files` take, as a dict.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct GridArgs {
    width: usize,
    height: usize,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    layers: Option<String>,
    z_bins: usize,
    z_range: Option<(f64, f64)>,
}

/// Bins point files with the command line's readers; see
/// `densebin.bin_files`.
#[pyfunction]
#[pyo3(signature = (paths, format, fields, x, y, z, weight, delimiter, header, skip_bad_lines, grid, threads))]
#[allow(clippy::too_many_arguments)]
fn bin_files(
    py: Python<'_>,
    paths: Vec<std::path::PathBuf>,
    format: &str,
    fields: usize,
    x: &str,
    y: &str,
    z: Option<&str>,
    weight: Option<&str>,
    delimiter: &str,
    header: &str,
    skip_bad_lines: bool,
    grid: GridArgs,
    threads: Option<usize>,
) -> PyResult<Grid> {
    let lib = |e: densebin::Error| to_py(py, e);
    let column = |c: &str| c.parse::<ColumnSel>().expect("infallible");
    let opts = ReadOptions {
        format: format.parse().map_err(lib)?,
        fields,
        delimiter: delimiter.parse().map_err(lib)?,
        header: header.parse().map_err(lib)?,
        x: column(x),
        y: column(y),
        z: z.map(column),
        weight: weight.map(column),
        skip_bad_lines,
    };
    let request = request(py, grid)?;
    let ctx = RunContext::new()
        .with_threads(threads)
        .map_err(|e| to_py(py, e))?;
    let grid = interruptible(py, &ctx, || {
        let mut inputs = paths
            .iter()
            .map(|p| Input::open(p, &opts))
            .collect::<densebin::Result<Vec<_>>>()?;
        request.run(&mut inputs, &ctx)
    })?;
    Ok(Grid(grid))
}

/// The library's request for `args`.
fn request(py: Python<'_>, args: GridArgs) -> PyResult<BinRequest> {
    let layers = args
        .layers
        .map(|l| l.parse::<LayerSet>())
        .transpose()
        .map_err(|e| to_py(py, e))?;
    Ok(BinRequest {
        width: args.width,
        height: args.height,
        x_range: args.x_range,
        y_range: args.y_range,
        layers,
        z_bins: args.z_bins,
        z_range: args.z_range,
        ..BinRequest::default()
    })
}

/// Reads a grid file written by `Grid.save` or the command line.
#[pyfunction]
fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Grid> {
    let grid = py
        .detach(|| densebin::store::read_grid(&path))
        .map_err(|e| to_py(py, e))?;
    Ok(Grid(grid))
}

/// Per-pixel accumulators over a canvas: counts, sums, extrema, z
/// histograms. Layers are numpy arrays with row 0 at the bottom.
#[pyclass(module = "densebin", name = "Grid", frozen)]
struct Grid(CoreGrid);

/// A copy of an array of the grid, as numpy.
fn to_numpy<'py>(py: Python<'py>, view: ArrayView<'_>) -> Bound<'py, PyAny> {
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
        let py = slf.py();
        let g = &slf.get().0;
        let s = g.spec();
        let state = PyDict::new(py);
        state.set_item("width", s.width())?;
        state.set_item("height", s.height())?;
        state.set_item("x_range", (s.x().lo(), s.x().hi()))?;
        state.set_item("y_range", (s.y().lo(), s.y().hi()))?;
        state.set_item("layers", s.layers().to_string())?;
        state.set_item("zhist", s.zbins().map(|z| (z.len(), (z.lo(), z.hi()))))?;
        let counters = PyDict::new(py);
        for (name, value) in g.counters().fields() {
            counters.set_item(name, value)?;
        }
        state.set_item("counters", counters)?;
        let inputs: Vec<_> = g
            .inputs()
            .iter()
            .map(|i| (i.name.clone(), i.size, i.mtime, i.bad_lines.clone()))
            .collect();
        state.set_item("inputs", inputs)?;
        let arrays = PyDict::new(py);
        for (info, view) in g.layers() {
            arrays.set_item(info.name, to_numpy(py, view))?;
        }
        state.set_item("arrays", arrays)?;
        let rebuild = py.get_type::<Grid>().getattr("_from_state")?;
        PyTuple::new(py, [rebuild, PyTuple::new(py, [state])?.into_any()])
    }

    /// The grid `__reduce__` described.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &Bound<'_, PyDict>) -> PyResult<Grid> {
        let item = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            state.get_item(k)?.ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!("no {k} in the state"))
            })
        };
        let layers: String = item("layers")?.extract()?;
        let layers = layers.parse::<LayerSet>().map_err(|e| to_py(py, e))?;
        let zhist: Option<(usize, (f64, f64))> = item("zhist")?.extract()?;
        let spec = GridSpec::new(
            item("width")?.extract()?,
            item("height")?.extract()?,
            item("x_range")?.extract()?,
            item("y_range")?.extract()?,
        )
        .and_then(|s| s.with_layers(layers, zhist))
        .map_err(|e| to_py(py, e))?;
        let mut counters = Counters::default();
        for (name, value) in item("counters")?.cast_into::<PyDict>()?.iter() {
            counters.set(&name.extract::<String>()?, value.extract()?);
        }
        let inputs = item("inputs")?
            .extract::<Vec<(String, Option<u64>, Option<i64>, Vec<u64>)>>()?
            .into_iter()
            .map(|(name, size, mtime, bad_lines)| InputInfo {
                name,
                size,
                mtime,
                bad_lines,
            })
            .collect();
        let mut arrays = Vec::new();
        for (name, array) in item("arrays")?.cast_into::<PyDict>()?.iter() {
            let name: String = name.extract()?;
            let info = ARRAYS.iter().find(|a| a.name == name).ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!("no array {name:?} in a grid"))
            })?;
            let data = if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, u64>>() {
                ArrayData::U64(a.as_array().to_owned())
            } else if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, u32>>() {
                ArrayData::U32(a.as_array().to_owned())
            } else {
                let a = array.extract::<PyReadonlyArrayDyn<'_, f64>>()?;
                ArrayData::F64(a.as_array().to_owned())
            };
            arrays.push((info.id, data));
        }
        CoreGrid::from_arrays(spec, arrays, counters, inputs)
            .map(Grid)
            .map_err(|e| to_py(py, e))
    }

    /// The grid file's root attributes, in order (`densebin.store`'s
    /// `attributes`): for `to_xarray`.
    fn file_attributes<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
        use densebin::store::Attr;
        densebin::store::attributes(&self.0)
            .into_iter()
            .map(|(name, value)| {
                let v = match value {
                    Attr::Text(s) => s.into_pyobject(py)?.into_any(),
                    Attr::Texts(v) => v.into_pyobject(py)?.into_any(),
                    Attr::U32(v) => v.into_pyobject(py)?.into_any(),
                    Attr::U64(v) => v.into_pyobject(py)?.into_any(),
                    Attr::F64s(v) => v.into_pyarray(py).into_any(),
                    Attr::I64s(v) => v.into_pyarray(py).into_any(),
                    Attr::U64s(v) => v.into_pyarray(py).into_any(),
                    _ => unreachable!("every attribute kind of the store"),
                };
                Ok((name, v))
            })
            .collect()
    }

    /// The coordinates: `(name, values, long_name)` for x, y and z_bin.
    fn coordinates<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(&'static str, Bound<'py, PyAny>, &'static str)> {
        densebin::store::coordinates(self.0.spec())
            .into_iter()
            .map(|(n, v, long)| (n, v.into_pyarray(py).into_any(), long))
            .collect()
    }

    /// Every array the grid holds: `(name, dims, long_name, values)`.
    fn variables<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(
        &'static str,
        Vec<&'static str>,
        &'static str,
        Bound<'py, PyAny>,
    )> {
        use densebin::grid::layers::Shape;
        self.0
            .layers()
            .map(|(info, view)| {
                let dims = match info.shape {
                    Shape::Plane => vec!["y", "x"],
                    _ => vec!["z_bin", "y", "x"],
                };
                (info.name, dims, info.long_name, to_numpy(py, view))
            })
            .collect()
    }

    /// Shades the grid into an `Image`: every mode and option of
    /// `densebin shade`, under its flags' names. `cmap` is a colormap name
    /// (`viridis`, `magma_r`, …), a list of colours (`["#000", "red"]`) or
    /// a matplotlib `Colormap` (sampled at 256 points of [0, 1], alpha
    /// dropped); `background` a colour, or `None` for transparent.
    #[pyo3(signature = (mode="density", cmap=None, how=None, span=None, z_span=None, alpha=1.0, min_alpha=None, background=None, spread=0, weighted=false))]
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
    ) -> PyResult<Image> {
        let cmap = colormap(py, cmap)?;
        self.shade_with(
            py, cmap, mode, how, span, z_span, alpha, min_alpha, background, spread, weighted,
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
        format!(
            "densebin.Grid({}x{}, x {:?}..{:?}, y {:?}..{:?}, layers {}, {} points binned)",
            s.width(),
            s.height(),
            s.x().lo(),
            s.x().hi(),
            s.y().lo(),
            s.y().hi(),
            s.layers(),
            self.0.counters().points_binned
        )
    }
}

impl Grid {
    /// `shade` once the colormap is known.
    #[allow(clippy::too_many_arguments)]
    fn shade_with(
        &self,
        py: Python<'_>,
        cmap: Colormap,
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
            .detach(|| densebin::shade::shade(&self.0, &shading))
            .map_err(lib)?;
        Ok(Image {
            image: shaded.image,
            text: densebin::encode::png_text(&self.0, &shading),
        })
    }
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
struct Image {
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

/// The compiled part of densebin; see the `densebin` package.
#[pymodule]
fn _densebin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bin, m)?)?;
    m.add_function(wrap_pyfunction!(bin_files, m)?)?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_class::<Grid>()?;
    m.add_class::<Image>()?;
    Ok(())
}
