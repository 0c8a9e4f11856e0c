//! Category columns from Python: numpy integer arrays of any width, read
//! in place, as values (each its own category) or as codes into a list of
//! names (a pandas `Categorical`'s codes and categories).

use densebin::read::{CategoryRef, IntsRef};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

/// A 1-D integer array, borrowed.
pub(crate) enum Ints<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U8(PyReadonlyArray1<'py, u8>),
    U16(PyReadonlyArray1<'py, u16>),
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
}

impl<'py> Ints<'py> {
    /// `obj` as a 1-D native-endian integer array (the Python layer has
    /// made it one).
    pub(crate) fn extract(obj: &Bound<'py, PyAny>) -> PyResult<Ints<'py>> {
        if let Ok(a) = obj.extract() {
            return Ok(Ints::I8(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::I16(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::I32(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::I64(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::U8(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::U16(a));
        }
        if let Ok(a) = obj.extract() {
            return Ok(Ints::U32(a));
        }
        obj.extract()
            .map(Ints::U64)
            .map_err(|_| pyo3::exceptions::PyTypeError::new_err("by must be a 1-D integer array"))
    }

    fn view(&self) -> IntsRef<'_> {
        match self {
            Ints::I8(a) => IntsRef::I8(a.as_array()),
            Ints::I16(a) => IntsRef::I16(a.as_array()),
            Ints::I32(a) => IntsRef::I32(a.as_array()),
            Ints::I64(a) => IntsRef::I64(a.as_array()),
            Ints::U8(a) => IntsRef::U8(a.as_array()),
            Ints::U16(a) => IntsRef::U16(a.as_array()),
            Ints::U32(a) => IntsRef::U32(a.as_array()),
            Ints::U64(a) => IntsRef::U64(a.as_array()),
        }
    }
}

/// A category column: integers, and the names of their codes when they
/// are codes.
pub(crate) struct Categories<'py> {
    pub(crate) values: Ints<'py>,
    pub(crate) names: Option<Vec<String>>,
}

impl Categories<'_> {
    /// The library's view of the column.
    pub(crate) fn view(&self) -> CategoryRef<'_> {
        match &self.names {
            Some(names) => CategoryRef::codes(self.values.view(), names.clone()),
            None => CategoryRef::values(self.values.view()),
        }
    }
}
