//! A reader's dictionary of categories: each worker numbers the categories
//! it meets in the order it meets them, so that a batch carries one `u32`
//! per point and the names once ([`super::Batch::names`]). The numbers are
//! the worker's own; the binning turns names into the grid's planes.

use rustc_hash::FxHashMap;

use super::ValueType;
use crate::error::{Error, Result};
use crate::grid::MAX_CATEGORIES;

/// The category id of a point without one: an empty field, a missing value,
/// or (with a fixed set) a category outside the set.
pub const NO_CATEGORY: u32 = u32::MAX;

/// Why a value could not be given an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CategoryError {
    /// The name is not UTF-8.
    NotUtf8,
    /// The dictionary is full ([`crate::grid::MAX_CATEGORIES`]).
    TooMany,
}

/// Categories numbered in the order they were met (or of a fixed set).
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    names: Vec<String>,
    by_name: FxHashMap<Box<[u8]>, u32>,
    /// Integer values seen, by value (a cache in front of `by_name`).
    by_int: FxHashMap<i64, u32>,
    fixed: bool,
    /// Categories are not wanted (a range scan): every point has none.
    ignored: bool,
}

/// How many integer values outside a fixed set are remembered.
const INT_CACHE: usize = 1 << 12;

impl Dictionary {
    /// A dictionary that gives ids to exactly `names`, in their order, and
    /// [`NO_CATEGORY`] to anything else.
    pub fn fixed(names: &[String]) -> Dictionary {
        let mut d = Dictionary {
            fixed: true,
            ..Dictionary::default()
        };
        for n in names {
            d.insert(n.as_bytes(), n.clone());
        }
        d
    }

    /// A dictionary for reading without categories (a range scan): every
    /// value gets [`NO_CATEGORY`], and readers may skip the column.
    pub fn ignoring() -> Dictionary {
        Dictionary {
            ignored: true,
            ..Dictionary::default()
        }
    }

    /// True for [`Dictionary::ignoring`].
    pub fn is_ignoring(&self) -> bool {
        self.ignored
    }

    /// The names, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Forgets every name (for reuse with other data).
    pub fn clear(&mut self) {
        if !self.fixed && !self.ignored {
            *self = Dictionary::default();
        }
    }

    fn insert(&mut self, bytes: &[u8], name: String) -> u32 {
        let id = self.names.len() as u32;
        self.by_name.insert(bytes.into(), id);
        self.names.push(name);
        id
    }

    /// The id of the category named by `bytes` (an empty name has none).
    #[inline]
    pub fn id_of(&mut self, bytes: &[u8]) -> Result<u32, CategoryError> {
        if bytes.is_empty() || self.ignored {
            return Ok(NO_CATEGORY);
        }
        if let Some(&id) = self.by_name.get(bytes) {
            return Ok(id);
        }
        if self.fixed {
            return Ok(NO_CATEGORY);
        }
        let name = std::str::from_utf8(bytes).map_err(|_| CategoryError::NotUtf8)?;
        if self.names.len() >= crate::grid::MAX_CATEGORIES {
            return Err(CategoryError::TooMany);
        }
        Ok(self.insert(bytes, name.to_string()))
    }

    /// The id of the category of integer `v` (named by its decimal digits).
    #[inline]
    pub fn id_of_int(&mut self, v: i64) -> Result<u32, CategoryError> {
        if let Some(&id) = self.by_int.get(&v) {
            return Ok(id);
        }
        let id = self.id_of(v.to_string().as_bytes())?;
        if id != NO_CATEGORY || self.by_int.len() < INT_CACHE {
            self.by_int.insert(v, id);
        }
        Ok(id)
    }
}

/// Appends to `out` the id of each value of type `ty` (an integer or byte
/// string) at the start of `values`' slices: a category field of records.
pub(crate) fn decode<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    ty: ValueType,
    dict: &mut Dictionary,
    out: &mut Vec<u32>,
) -> Result<()> {
    out.clear();
    let full = |e: CategoryError| match e {
        CategoryError::TooMany => {
            crate::grid::too_many_categories(MAX_CATEGORIES + 1, MAX_CATEGORIES, "")
        }
        CategoryError::NotUtf8 => {
            Error::request("a category of a byte-string field is not valid UTF-8".to_string())
        }
    };
    match ty {
        ValueType::Text(n) => {
            for v in values {
                let v = &v[..n];
                let end = v.iter().position(|&b| b == 0).unwrap_or(n);
                out.push(dict.id_of(&v[..end]).map_err(full)?);
            }
        }
        ValueType::Int { signed, bytes, .. } => {
            for v in values {
                let i = ty.read_int(v).expect("an integer type");
                let id = if !signed && bytes == 8 && i < 0 {
                    // Past i64::MAX: named by its unsigned value.
                    dict.id_of((i as u64).to_string().as_bytes())
                } else {
                    dict.id_of_int(i)
                };
                out.push(id.map_err(full)?);
            }
        }
        _ => unreachable!("category fields are checked when the input opens"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_first_sight_and_fixed_sets_keep_their_own() {
        let mut d = Dictionary::default();
        assert_eq!(d.id_of(b"b"), Ok(0));
        assert_eq!(d.id_of(b"a"), Ok(1));
        assert_eq!(d.id_of(b"b"), Ok(0));
        assert_eq!(d.id_of(b""), Ok(NO_CATEGORY));
        assert_eq!(d.id_of_int(7), Ok(2));
        assert_eq!(d.id_of(b"7"), Ok(2), "an integer is named by its digits");
        assert_eq!(d.id_of(b"\xff"), Err(CategoryError::NotUtf8));
        assert_eq!(d.names(), ["b", "a", "7"]);

        let mut f = Dictionary::fixed(&["x".into(), "3".into()]);
        assert_eq!(f.id_of(b"3"), Ok(1));
        assert_eq!(f.id_of_int(3), Ok(1));
        assert_eq!(f.id_of(b"y"), Ok(NO_CATEGORY));
        assert_eq!(f.id_of_int(4), Ok(NO_CATEGORY));
        assert_eq!(f.names(), ["x", "3"]);
    }

    #[test]
    fn a_full_dictionary_says_so() {
        let mut d = Dictionary::default();
        for i in 0..crate::grid::MAX_CATEGORIES as i64 {
            d.id_of_int(i).unwrap();
        }
        assert_eq!(d.id_of(b"one more"), Err(CategoryError::TooMany));
        assert_eq!(d.id_of(b"0"), Ok(0));
    }
}
