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

impl CategoryError {
    /// The error to report: the limit's, with `at` (where it was passed,
    /// or empty) in its message; for a name that is not UTF-8, `not_utf8`.
    pub(crate) fn into_error(self, at: &str, not_utf8: impl FnOnce() -> Error) -> Error {
        match self {
            CategoryError::TooMany => {
                crate::grid::too_many_categories(MAX_CATEGORIES + 1, MAX_CATEGORIES, at)
            }
            CategoryError::NotUtf8 => not_utf8(),
        }
    }
}

/// Categories numbered in the order they were met (or of a fixed set).
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    names: Vec<String>,
    by_name: FxHashMap<Box<[u8]>, u32>,
    /// Integer values seen, by value (a cache in front of `by_name`).
    by_int: FxHashMap<i64, u32>,
    /// The same for values in `0..SMALL`, by index, `id + 1` (0: not seen
    /// yet): class codes and small counts never hash.
    by_small: Vec<u32>,
    fixed: bool,
    /// Categories are not wanted (a range scan): every point has none.
    ignored: bool,
}

/// How many integer values outside a fixed set are remembered.
const INT_CACHE: usize = 1 << 12;

/// Integers below this have their ids in a table.
const SMALL: i64 = 1 << 16;

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
        if (0..SMALL).contains(&v) {
            if let Some(&known) = self.by_small.get(v as usize)
                && known != 0
            {
                return Ok(known - 1);
            }
            let id = self.id_of(v.to_string().as_bytes())?;
            if self.by_small.is_empty() {
                self.by_small = vec![0; SMALL as usize];
            }
            self.by_small[v as usize] = id.wrapping_add(1);
            return Ok(id);
        }
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

/// The id of each record's category field — of type `ty` (an integer or a
/// byte string), `offset` bytes into each `record_size`-byte record of
/// `data` — into `out`.
pub(crate) fn decode(
    data: &[u8],
    record_size: usize,
    offset: usize,
    ty: ValueType,
    dict: &mut Dictionary,
    out: &mut Vec<u32>,
) -> Result<()> {
    let values = data.chunks_exact(record_size).map(|r| &r[offset..]);
    out.clear();
    let full = |e: CategoryError| {
        e.into_error("", || {
            Error::request("a category of a byte-string field is not valid UTF-8")
        })
    };
    match ty {
        ValueType::Text(n) => {
            for v in values {
                let v = &v[..n];
                let end = v.iter().position(|&b| b == 0).unwrap_or(n);
                out.push(dict.id_of(&v[..end]).map_err(full)?);
            }
        }
        ValueType::Int {
            bytes,
            signed,
            big_endian,
        } => {
            // One loop per integer type, so that the type is not matched
            // per value.
            let d = match (bytes, signed, big_endian) {
                (1, false, _) => ints::<1, false, false>,
                (1, true, _) => ints::<1, true, false>,
                (2, false, false) => ints::<2, false, false>,
                (2, true, false) => ints::<2, true, false>,
                (4, false, false) => ints::<4, false, false>,
                (4, true, false) => ints::<4, true, false>,
                (8, false, false) => ints::<8, false, false>,
                (8, true, false) => ints::<8, true, false>,
                (2, false, true) => ints::<2, false, true>,
                (2, true, true) => ints::<2, true, true>,
                (4, false, true) => ints::<4, false, true>,
                (4, true, true) => ints::<4, true, true>,
                (8, false, true) => ints::<8, false, true>,
                (8, true, true) => ints::<8, true, true>,
                _ => unreachable!("integer fields are of 1, 2, 4 or 8 bytes"),
            };
            d(data, record_size, offset, dict, out).map_err(full)?;
        }
        _ => unreachable!("category fields are checked when the input opens"),
    }
    Ok(())
}

/// The ids of the `N`-byte integers `offset` bytes into each record.
fn ints<const N: usize, const SIGNED: bool, const BIG: bool>(
    data: &[u8],
    record_size: usize,
    offset: usize,
    dict: &mut Dictionary,
    out: &mut Vec<u32>,
) -> Result<(), CategoryError> {
    for r in data.chunks_exact(record_size) {
        let mut b = [0u8; N];
        b.copy_from_slice(&r[offset..offset + N]);
        if BIG {
            b.reverse();
        }
        // Little-endian now: widen by sign or zeros.
        let negative = SIGNED && b[N - 1] & 0x80 != 0;
        let mut wide = [if negative { 0xFF } else { 0 }; 8];
        wide[..N].copy_from_slice(&b);
        let i = i64::from_le_bytes(wide);
        let id = if !SIGNED && N == 8 && i < 0 {
            // Past i64::MAX: named by its unsigned value.
            dict.id_of((i as u64).to_string().as_bytes())?
        } else {
            dict.id_of_int(i)?
        };
        out.push(id);
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
    fn integer_fields_of_every_width_and_byte_order_are_named_by_value() {
        let int = |bytes: u8, signed: bool, big_endian: bool| ValueType::Int {
            bytes,
            signed,
            big_endian,
        };
        let cases: [(ValueType, Vec<u8>, [&str; 2]); 7] = [
            (int(1, false, false), vec![7, 255], ["7", "255"]),
            (int(1, true, false), vec![7, 255], ["7", "-1"]),
            (
                int(2, true, true),
                vec![0xFF, 0xFE, 0x01, 0x00],
                ["-2", "256"],
            ),
            (
                int(2, false, false),
                vec![0xFE, 0xFF, 0x01, 0x00],
                ["65534", "1"],
            ),
            (
                int(4, true, false),
                [(-70000i32).to_le_bytes(), 70000i32.to_le_bytes()].concat(),
                ["-70000", "70000"],
            ),
            (
                int(8, false, true),
                [u64::MAX.to_be_bytes(), 3u64.to_be_bytes()].concat(),
                ["18446744073709551615", "3"],
            ),
            (
                int(8, true, false),
                [i64::MIN.to_le_bytes(), 0i64.to_le_bytes()].concat(),
                ["-9223372036854775808", "0"],
            ),
        ];
        for (ty, data, want) in cases {
            // Records of the field after a byte of padding.
            let size = ty.size();
            let records: Vec<u8> = data
                .chunks(size)
                .flat_map(|v| [&[9][..], v].concat())
                .collect();
            let mut d = Dictionary::default();
            let mut ids = Vec::new();
            decode(&records, size + 1, 1, ty, &mut d, &mut ids).unwrap();
            let names: Vec<&str> = ids
                .iter()
                .map(|&i| d.names()[i as usize].as_str())
                .collect();
            assert_eq!(names, want, "{ty:?}");
        }
        let mut d = Dictionary::default();
        let mut ids = Vec::new();
        let text = b"ab\0\0c\0\0\0";
        decode(text, 4, 0, ValueType::Text(4), &mut d, &mut ids).unwrap();
        assert_eq!(d.names(), ["ab", "c"]);
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
