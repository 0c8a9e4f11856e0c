//! Binning from Python: numpy columns in place, and files with the command
//! line's readers and options.

use densebin::LayerSet;
use densebin::RunContext;
use densebin::binning::BinRequest;
use densebin::read::{
    ArraySource, Bounds, ByteColumn, Column as ColumnSel, ColumnRef, Extent, Input, PointsRef,
    ReadOptions,
};
use numpy::{PyArrayDescrMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::categories::{Categories, Ints};
use crate::grid::Grid;
use crate::{interruptible, to_py};

/// A column as the library's view: float64 or float32, any stride; a
/// column whose values are not aligned, or whose stride is no multiple of
/// their size (a field of packed records), is read byte-wise.
enum Column<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    Bytes {
        /// Holds the array (and with it the memory `bytes` points into).
        _array: Bound<'py, PyUntypedArray>,
        bytes: &'py [u8],
        len: usize,
        stride: usize,
        size: usize,
    },
}

impl<'py> Column<'py> {
    fn extract(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Column<'py>> {
        let wrong = || {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "{name} must be a 1-D float32 or float64 array"
            ))
        };
        let array = obj.cast::<PyUntypedArray>().map_err(|_| wrong())?;
        let dtype = array.dtype();
        let size = dtype.itemsize();
        let float = dtype.kind() == b'f' && (size == 4 || size == 8);
        if array.ndim() != 1 || !float || dtype.is_native_byteorder() == Some(false) {
            return Err(wrong());
        }
        let len = array.len();
        let stride = array.strides()[0];
        // SAFETY: numpy's own description of a live array: its data pointer.
        let data = unsafe { (*array.as_array_ptr()).fields.data } as *const u8;
        let at_home = (data as usize).is_multiple_of(size);
        if at_home && (len < 2 || stride % size as isize == 0) {
            return if size == 8 {
                obj.extract().map(Column::F64).map_err(|_| wrong())
            } else {
                obj.extract().map(Column::F32).map_err(|_| wrong())
            };
        }
        let stride = usize::try_from(stride).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "{name}: a column of unaligned values must not run backwards (stride {stride})"
            ))
        })?;
        let span = match len {
            0 => 0,
            n => (n - 1) * stride + size,
        };
        // SAFETY: the array's `len` values of `size` bytes, `stride` apart
        // from `data`, lie in these `span` bytes of its buffer, which lives
        // as long as the array, held in `_array` for 'py. numpy arrays may
        // be written by other Python code while the GIL is released, as any
        // memory map may be by other processes; binning then reads values
        // of either time, as it would from a file changing underneath it.
        let bytes = unsafe { std::slice::from_raw_parts(data, span) };
        Ok(Column::Bytes {
            _array: array.clone(),
            bytes,
            len,
            stride,
            size,
        })
    }

    fn view(&self) -> PyResult<ColumnRef<'_>> {
        Ok(match self {
            Column::F64(a) => ColumnRef::F64(a.as_array()),
            Column::F32(a) => ColumnRef::F32(a.as_array()),
            Column::Bytes {
                bytes,
                len,
                stride,
                size,
                ..
            } => ColumnRef::Bytes(
                ByteColumn::new(bytes, *len, *stride, *size)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
            ),
        })
    }
}

/// The columns of a call (x, y, and optionally z, a weight and a
/// category), checked, and the source that reads them in place.
struct Arrays<'a, 'py> {
    objects: [Option<&'a Bound<'py, PyAny>>; 4],
    columns: [Option<Column<'py>>; 4],
    categories: Option<Categories<'py>>,
}

impl<'a, 'py> Arrays<'a, 'py> {
    fn extract(objects: [Option<&'a Bound<'py, PyAny>>; 4]) -> PyResult<Arrays<'a, 'py>> {
        let mut columns = [None, None, None, None];
        for ((slot, object), name) in columns
            .iter_mut()
            .zip(objects)
            .zip(["x", "y", "z", "weight"])
        {
            *slot = object.map(|o| Column::extract(name, o)).transpose()?;
        }
        Ok(Arrays {
            objects,
            columns,
            categories: None,
        })
    }

    /// These columns with a category column.
    fn with_categories(mut self, categories: Option<Categories<'py>>) -> Arrays<'a, 'py> {
        self.categories = categories;
        self
    }

    /// Fields of one array of records are decoded as records; other
    /// columns one by one.
    fn source(&self, py: Python<'_>) -> PyResult<ArraySource<'_>> {
        if self.categories.is_none()
            && let Some(records) = crate::records::shared_records(self.objects)?
        {
            return Ok(ArraySource::records("arrays", records));
        }
        let view = |i: usize| self.columns[i].as_ref().map(Column::view).transpose();
        let points = PointsRef::new(
            view(0)?.expect("x is given"),
            view(1)?.expect("y is given"),
            view(2)?,
            view(3)?,
        )
        .and_then(|p| match &self.categories {
            Some(c) => p.with_categories(c.view()),
            None => Ok(p),
        })
        .map_err(|e| to_py(py, e))?;
        Ok(ArraySource::new("arrays", points))
    }
}

/// Bins columns of points into a grid; see `densebin.bin`.
#[pyfunction]
#[pyo3(signature = (x, y, z, weight, grid, threads, max_memory, by=None, by_names=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn bin(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    z: Option<&Bound<'_, PyAny>>,
    weight: Option<&Bound<'_, PyAny>>,
    grid: GridArgs,
    threads: Option<usize>,
    max_memory: Option<u64>,
    by: Option<&Bound<'_, PyAny>>,
    by_names: Option<Vec<String>>,
) -> PyResult<Grid> {
    let categories = by
        .map(|b| {
            Ints::extract(b).map(|values| Categories {
                values,
                names: by_names,
            })
        })
        .transpose()?;
    let arrays = Arrays::extract([Some(x), Some(y), z, weight])?.with_categories(categories);
    let source = arrays.source(py)?;
    let request = request(py, grid)?;
    let ctx = context(py, threads)?.with_max_memory(max_memory);
    let mut sources = [source];
    let grid = interruptible(py, &ctx, || request.run(&mut sources, &ctx))?;
    Ok(Grid(grid))
}

/// The grid arguments both `bin` and `bin_files` take, as a dict.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct GridArgs {
    width: usize,
    height: usize,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    x_axis: String,
    y_axis: String,
    layers: Option<String>,
    z_bins: usize,
    z_range: Option<(f64, f64)>,
    categories: Option<Vec<String>>,
}

/// The read options `bin_files` takes, as a dict (the command line's
/// flags, by name).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct ReadArgs {
    format: String,
    fields: usize,
    x: Option<String>,
    y: Option<String>,
    z: Option<String>,
    weight: Option<String>,
    by: Option<String>,
    delimiter: String,
    header: String,
    skip_bad_lines: bool,
}

impl ReadArgs {
    fn options(&self, py: Python<'_>) -> PyResult<ReadOptions> {
        let lib = |e: densebin::Error| to_py(py, e);
        let column = |c: &str| c.parse::<ColumnSel>().expect("infallible");
        Ok(ReadOptions {
            format: self.format.parse().map_err(lib)?,
            fields: self.fields,
            delimiter: self.delimiter.parse().map_err(lib)?,
            header: self.header.parse().map_err(lib)?,
            x: self.x.as_deref().map(column),
            y: self.y.as_deref().map(column),
            z: self.z.as_deref().map(column),
            weight: self.weight.as_deref().map(column),
            by: self.by.as_deref().map(column),
            skip_bad_lines: self.skip_bad_lines,
        })
    }
}

/// Opens `paths`, or part `i` of `n` of them (0-based).
fn open_inputs(
    paths: &[std::path::PathBuf],
    opts: &ReadOptions,
    part: Option<(usize, usize)>,
) -> densebin::Result<Vec<Input>> {
    match part {
        Some((i, n)) => densebin::read::open_part(paths, opts, i, n),
        None => paths.iter().map(|p| Input::open(p, opts)).collect(),
    }
}

/// Bins point files with the command line's readers; see
/// `densebin.bin_files`. With `part=(i, n)` only part `i` (0-based) of `n`,
/// as `densebin bin --part`.
#[pyfunction]
#[pyo3(signature = (paths, read, grid, threads, max_memory, part=None))]
pub(crate) fn bin_files(
    py: Python<'_>,
    paths: Vec<std::path::PathBuf>,
    read: ReadArgs,
    grid: GridArgs,
    threads: Option<usize>,
    max_memory: Option<u64>,
    part: Option<(usize, usize)>,
) -> PyResult<Grid> {
    let opts = read.options(py)?;
    let request = request(py, grid)?;
    let ctx = context(py, threads)?.with_max_memory(max_memory);
    let grid = interruptible(py, &ctx, || {
        let mut inputs = open_inputs(&paths, &opts, part)?;
        if part.is_some() {
            request.check_fixed_canvas(&mut inputs)?;
        }
        request.run(&mut inputs, &ctx)
    })?;
    Ok(Grid(grid))
}

/// A range scan's finite extents as `(x, y, z)`, each `(lo, hi)` or
/// `None`.
type Extents = [Option<(f64, f64)>; 3];

fn extents(b: Bounds) -> Extents {
    [b.x, b.y, b.z].map(|e| e.map(|e| (e.lo, e.hi)))
}

/// The finite bounds of points in files (or in part `i` of `n` of them):
/// x and y of the points whose x and y are finite, z of those inside
/// `x_range` × `y_range` when given, as the command line's range scan finds
/// them.
#[pyfunction]
#[pyo3(signature = (paths, read, x_range, y_range, threads, part=None, axes=("linear".to_string(), "linear".to_string())))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn bounds_files(
    py: Python<'_>,
    paths: Vec<std::path::PathBuf>,
    read: ReadArgs,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    threads: Option<usize>,
    part: Option<(usize, usize)>,
    axes: (String, String),
) -> PyResult<Extents> {
    let opts = read.options(py)?;
    let ctx = context(py, threads)?;
    let axes = axis_types(py, &axes)?;
    let b = interruptible(py, &ctx, || {
        let inputs = open_inputs(&paths, &opts, part)?;
        densebin::binning::data_bounds(&inputs, x_range, y_range, axes, ctx.threads(), None, &ctx)
    })?;
    Ok(extents(b))
}

/// The finite bounds of points in arrays, as `bounds_files` finds them in
/// files.
#[pyfunction]
#[pyo3(signature = (x, y, z, x_range, y_range, threads, axes=("linear".to_string(), "linear".to_string())))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn bounds(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    z: Option<&Bound<'_, PyAny>>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    threads: Option<usize>,
    axes: (String, String),
) -> PyResult<Extents> {
    let arrays = Arrays::extract([Some(x), Some(y), z, None])?;
    let ctx = context(py, threads)?;
    let axes = axis_types(py, &axes)?;
    let sources = [arrays.source(py)?];
    let b = interruptible(py, &ctx, || {
        densebin::binning::data_bounds(&sources, x_range, y_range, axes, ctx.threads(), None, &ctx)
    })?;
    Ok(extents(b))
}

/// The ranges a grid of `grid`'s arguments gets from the bounds of all its
/// data (`extents`, merged from the bounds of its parts), as a run on all
/// of it would choose them: `(x_range, y_range, z_range)`.
#[pyfunction]
pub(crate) fn ranges_from_bounds(
    py: Python<'_>,
    extents: Extents,
    grid: GridArgs,
    names: &str,
) -> PyResult<[(f64, f64); 3]> {
    let extent = |e: Option<(f64, f64)>| e.map(|(lo, hi)| Extent { lo, hi });
    let b = Bounds {
        x: extent(extents[0]),
        y: extent(extents[1]),
        z: extent(extents[2]),
    };
    request(py, grid)?
        .ranges_from_bounds(&b, names)
        .map_err(|e| to_py(py, e))
}

/// `("linear", "log")` as the library's axis types.
fn axis_types(
    py: Python<'_>,
    (x, y): &(String, String),
) -> PyResult<[densebin::grid::AxisType; 2]> {
    let lib = |e: densebin::Error| to_py(py, e);
    Ok([x.parse().map_err(lib)?, y.parse().map_err(lib)?])
}

/// A run context with `threads` worker threads (`None`: every core).
fn context(py: Python<'_>, threads: Option<usize>) -> PyResult<RunContext> {
    RunContext::new()
        .with_threads(threads)
        .map_err(|e| to_py(py, e))
}

/// The library's request for `args`.
fn request(py: Python<'_>, args: GridArgs) -> PyResult<BinRequest> {
    let layers = args
        .layers
        .map(|l| l.parse::<LayerSet>())
        .transpose()
        .map_err(|e| to_py(py, e))?;
    let lib = |e: densebin::Error| to_py(py, e);
    Ok(BinRequest {
        width: args.width,
        height: args.height,
        x_range: args.x_range,
        y_range: args.y_range,
        x_axis: args.x_axis.parse().map_err(lib)?,
        y_axis: args.y_axis.parse().map_err(lib)?,
        layers,
        z_bins: args.z_bins,
        z_range: args.z_range,
        categories: args.categories,
        ..BinRequest::default()
    })
}

/// Reads a grid file written by `Grid.save` or the command line.
#[pyfunction]
pub(crate) fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Grid> {
    let grid = py
        .detach(|| densebin::store::read_grid(&path))
        .map_err(|e| to_py(py, e))?;
    Ok(Grid(grid))
}
