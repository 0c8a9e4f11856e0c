//! Columns that are fields of one array of records — `X, Y, Z =
//! np.memmap(path, dtype="float32", mode="r").reshape(-1, 3).T`, or fields
//! of a structured array — found out, so that they are decoded as the
//! command line decodes a records file: x and y of a batch in one pass over
//! its records, instead of one strided pass per column.

use densebin::read::{RecordsRef, ValueType};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// A column's place in memory.
struct Field {
    ptr: usize,
    size: usize,
}

/// The array whose memory `a` views: the last ndarray along its `base`
/// chain (a memory map's own array, or the array a view was taken of).
fn root<'py>(a: &Bound<'py, PyUntypedArray>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let mut at = a.clone();
    loop {
        let base = at.getattr("base")?;
        match base.cast_into::<PyUntypedArray>() {
            Ok(b) => at = b,
            Err(_) => return Ok(at),
        }
    }
}

fn data_ptr(a: &Bound<'_, PyUntypedArray>) -> usize {
    // SAFETY: reads numpy's description of a live array: its data pointer.
    unsafe { (*a.as_array_ptr()).fields.data as usize }
}

/// The records `columns` (x, y, z, weight) are fields of, when every one
/// given is a 1-D float array of native (little-endian) byte order, all of
/// one length and one stride larger than their values, viewing one
/// contiguous array within one stride of each other. `None` otherwise: the
/// columns are then read one by one.
pub(crate) fn shared_records<'py>(
    columns: [Option<&Bound<'py, PyAny>>; 4],
) -> PyResult<Option<RecordsRef<'py>>> {
    if cfg!(target_endian = "big") {
        return Ok(None);
    }
    let mut arrays = Vec::new();
    for c in columns.iter().flatten() {
        let Ok(a) = c.cast::<PyUntypedArray>() else {
            return Ok(None);
        };
        let dtype = a.dtype();
        let size = dtype.itemsize();
        if a.ndim() != 1
            || dtype.kind() != b'f'
            || !(size == 4 || size == 8)
            || dtype.is_native_byteorder() == Some(false)
        {
            return Ok(None);
        }
        arrays.push(a.clone());
    }
    let (len, stride) = (arrays[0].len(), arrays[0].strides()[0]);
    let largest = arrays
        .iter()
        .map(|a| a.dtype().itemsize())
        .max()
        .unwrap_or(8);
    if len < 2
        || stride <= largest as isize
        || arrays
            .iter()
            .any(|a| a.len() != len || a.strides()[0] != stride)
    {
        return Ok(None);
    }
    let stride = stride as usize;
    let owner = root(&arrays[0])?;
    for a in &arrays[1..] {
        if !root(a)?.is(&owner) {
            return Ok(None);
        }
    }
    if !owner.is_c_contiguous() {
        return Ok(None);
    }
    let region = data_ptr(&owner)..data_ptr(&owner) + owner.len() * owner.dtype().itemsize();
    let fields: Vec<Field> = arrays
        .iter()
        .map(|a| Field {
            ptr: data_ptr(a),
            size: a.dtype().itemsize(),
        })
        .collect();
    let start = fields.iter().map(|f| f.ptr).min().expect("x and y");
    let end = fields
        .iter()
        .map(|f| f.ptr + f.size)
        .max()
        .expect("x and y");
    if end - start > stride || start < region.start {
        return Ok(None);
    }
    let span = (len - 1) * stride + (end - start);
    if start + span > region.end {
        return Ok(None);
    }
    // SAFETY: these `span` bytes lie within the memory of `owner`, one
    // contiguous array that every column views, and which lives as long
    // as the columns do: the caller holds them for 'py. As with any view
    // of memory that Python code may write while the GIL is released (or a
    // memory map that another process may), binning then reads values of
    // either time; nothing else depends on them.
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, span) };
    let mut places = [None; 4];
    let mut given = fields.iter();
    for (slot, c) in places.iter_mut().zip(&columns) {
        if c.is_some() {
            let f = given.next().expect("one field per column");
            let ty = if f.size == 4 {
                ValueType::F32Le
            } else {
                ValueType::F64Le
            };
            *slot = Some((f.ptr - start, ty));
        }
    }
    Ok(RecordsRef::new(bytes, len, stride, places).ok())
}
