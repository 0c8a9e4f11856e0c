//! What pickling and `Grid.to_xarray` need of a grid: its state as Python
//! objects and back, and the grid file's own description of itself
//! (attributes, coordinates, variables).

use densebin::grid::layers::{ARRAYS, Element};
use densebin::grid::{ArrayData, ArrayView, Counters, InputInfo};
use densebin::{Grid as CoreGrid, GridSpec, LayerSet};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::grid::{Grid, to_numpy};
use crate::to_py;

/// One input as pickled: name, size, mtime, skipped lines, x and y
/// columns, format.
type Input = (
    String,
    Option<u64>,
    Option<i64>,
    Vec<u64>,
    String,
    String,
    String,
);

/// A variable of `to_xarray`: name, dims, long name and values.
pub(crate) type Variable<'py> = (
    &'static str,
    Vec<&'static str>,
    &'static str,
    Bound<'py, PyAny>,
);

/// Pickling: the spec, the counters, the inputs and the arrays as
/// numpy (their raw bytes; no temporary files).
pub(crate) fn reduce<'py>(slf: &Bound<'py, Grid>) -> PyResult<Bound<'py, PyTuple>> {
    let py = slf.py();
    let g = &slf.get().0;
    let s = g.spec();
    let state = PyDict::new(py);
    state.set_item("width", s.width())?;
    state.set_item("height", s.height())?;
    state.set_item("x_range", (s.x().lo(), s.x().hi()))?;
    state.set_item("y_range", (s.y().lo(), s.y().hi()))?;
    state.set_item("x_axis", s.x().axis_type().name())?;
    state.set_item("y_axis", s.y().axis_type().name())?;
    state.set_item("layers", s.layers().to_string())?;
    state.set_item("zhist", s.zbins().map(|z| (z.len(), (z.lo(), z.hi()))))?;
    state.set_item(
        "categories",
        s.categories().map(|c| (c.names().to_vec(), c.is_fixed())),
    )?;
    let counters = PyDict::new(py);
    for (name, value) in g.counters().fields() {
        counters.set_item(name, value)?;
    }
    state.set_item("counters", counters)?;
    let inputs: Vec<_> = g
        .inputs()
        .iter()
        .map(|i| {
            let [x, y] = i.columns.clone();
            let format = i.format.clone();
            (
                i.name.clone(),
                i.size,
                i.mtime,
                i.bad_lines.clone(),
                x,
                y,
                format,
            )
        })
        .collect();
    state.set_item("inputs", inputs)?;
    let arrays = PyDict::new(py);
    for (info, view) in g.layers() {
        let packed = match view {
            ArrayView::U64(a) => narrowest(py, a),
            ArrayView::U32(a) => narrowest(py, a),
            other => to_numpy(py, other),
        };
        arrays.set_item(info.name, packed)?;
    }
    state.set_item("arrays", arrays)?;
    let rebuild = py.get_type::<Grid>().getattr("_from_state")?;
    PyTuple::new(py, [rebuild, PyTuple::new(py, [state])?.into_any()])
}

/// Counts as the narrowest unsigned type that holds their largest value
/// (a grid of a partition rarely needs 64 bits a pixel): pickles, and so
/// grids travelling between Dask workers, shrink two to eight times.
fn narrowest<'py, T>(py: Python<'py>, a: ndarray::ArrayViewD<'_, T>) -> Bound<'py, PyAny>
where
    T: Copy + Into<u64> + numpy::Element,
{
    let max = a.iter().map(|&v| v.into()).max().unwrap_or(0);
    if max <= u64::from(u8::MAX) {
        a.mapv(|v| v.into() as u8).into_pyarray(py).into_any()
    } else if max <= u64::from(u16::MAX) {
        a.mapv(|v| v.into() as u16).into_pyarray(py).into_any()
    } else if max <= u64::from(u32::MAX) && std::mem::size_of::<T>() > 4 {
        a.mapv(|v| v.into() as u32).into_pyarray(py).into_any()
    } else {
        a.to_owned().into_pyarray(py).into_any()
    }
}

/// An unsigned array of the pickle (of any width up to `T`'s) as `T`.
fn widened<T>(array: &Bound<'_, PyAny>) -> PyResult<ndarray::ArrayD<T>>
where
    T: Copy + numpy::Element + From<u8> + From<u16> + TryFrom<u64>,
{
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, T>>() {
        return Ok(a.as_array().to_owned());
    }
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, u8>>() {
        return Ok(a.as_array().mapv(T::from));
    }
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, u16>>() {
        return Ok(a.as_array().mapv(T::from));
    }
    let a = array.extract::<PyReadonlyArrayDyn<'_, u32>>()?;
    let a = a.as_array();
    a.iter()
        .map(|&v| T::try_from(u64::from(v)))
        .collect::<Result<Vec<T>, _>>()
        .map(|v| ndarray::ArrayD::from_shape_vec(a.raw_dim(), v).expect("same shape"))
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("a count does not fit"))
}

/// The grid `__reduce__` described.
pub(crate) fn from_state(py: Python<'_>, state: &Bound<'_, PyDict>) -> PyResult<Grid> {
    let item = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        state
            .get_item(k)?
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("no {k} in the state")))
    };
    let layers: String = item("layers")?.extract()?;
    let layers = layers.parse::<LayerSet>().map_err(|e| to_py(py, e))?;
    let zhist: Option<(usize, (f64, f64))> = item("zhist")?.extract()?;
    // States from before log axes have none: linear.
    let axis = |k: &str| -> PyResult<densebin::grid::AxisType> {
        let name: String = match state.get_item(k)? {
            Some(v) => v.extract()?,
            None => "linear".to_string(),
        };
        name.parse().map_err(|e| to_py(py, e))
    };
    let (x_axis, y_axis) = (axis("x_axis")?, axis("y_axis")?);
    let spec = GridSpec::new(
        item("width")?.extract()?,
        item("height")?.extract()?,
        item("x_range")?.extract()?,
        item("y_range")?.extract()?,
    )
    .and_then(|s| s.with_axis_types(x_axis, y_axis))
    .and_then(|s| s.with_layers(layers, zhist))
    .map_err(|e| to_py(py, e))?;
    // States from before categorical counts have none.
    let categories: Option<(Vec<String>, bool)> = match state.get_item("categories")? {
        Some(v) => v.extract()?,
        None => None,
    };
    let spec = match categories {
        Some((names, fixed)) => {
            let cats = if fixed {
                densebin::grid::Categories::fixed(names)
            } else {
                densebin::grid::Categories::found(names)
            };
            cats.and_then(|c| spec.with_categories(c))
                .map_err(|e| to_py(py, e))?
        }
        None => spec,
    };
    let mut counters = Counters::default();
    for (name, value) in item("counters")?.cast_into::<PyDict>()?.iter() {
        counters.set(&name.extract::<String>()?, value.extract()?);
    }
    let inputs = item("inputs")?
        .extract::<Vec<Input>>()?
        .into_iter()
        .map(|(name, size, mtime, bad_lines, x, y, format)| InputInfo {
            name,
            size,
            mtime,
            bad_lines,
            columns: [x, y],
            format,
        })
        .collect();
    let mut arrays = Vec::new();
    for (name, array) in item("arrays")?.cast_into::<PyDict>()?.iter() {
        let name: String = name.extract()?;
        let info = ARRAYS.iter().find(|a| a.name == name).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("no array {name:?} in a grid"))
        })?;
        let data = match info.element {
            Element::U64 => ArrayData::U64(widened(&array)?),
            Element::U32 => ArrayData::U32(widened(&array)?),
            _ => {
                let a = array.extract::<PyReadonlyArrayDyn<'_, f64>>()?;
                ArrayData::F64(a.as_array().to_owned())
            }
        };
        arrays.push((info.id, data));
    }
    CoreGrid::from_arrays(spec, arrays, counters, inputs)
        .map(Grid)
        .map_err(|e| to_py(py, e))
}

/// The grid file's root attributes, in order (`densebin.store`'s
/// `attributes`): for `to_xarray`.
pub(crate) fn file_attributes<'py>(
    grid: &CoreGrid,
    py: Python<'py>,
) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>)>> {
    use densebin::store::Attr;
    densebin::store::attributes(grid)
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

/// The coordinates: `(name, values, long_name)` for x, y, z_bin, and
/// the category names (a list of str).
pub(crate) fn coordinates<'py>(
    grid: &CoreGrid,
    py: Python<'py>,
) -> PyResult<Vec<(&'static str, Bound<'py, PyAny>, &'static str)>> {
    let mut out: Vec<_> = densebin::store::coordinates(grid.spec())
        .into_iter()
        .map(|(n, v, long)| (n, v.into_pyarray(py).into_any(), long))
        .collect();
    if let Some(c) = grid.spec().categories() {
        out.push((
            "category",
            c.names().to_vec().into_pyobject(py)?.into_any(),
            "category",
        ));
    }
    Ok(out)
}

/// Every array the grid holds: `(name, dims, long_name, values)`.
pub(crate) fn variables<'py>(grid: &CoreGrid, py: Python<'py>) -> Vec<Variable<'py>> {
    use densebin::grid::layers::Shape;
    grid.layers()
        .map(|(info, view)| {
            let dims = match info.shape {
                Shape::Plane => vec!["y", "x"],
                Shape::PerCategory => vec!["category", "y", "x"],
                _ => vec!["z_bin", "y", "x"],
            };
            (info.name, dims, info.long_name, to_numpy(py, view))
        })
        .collect()
}
