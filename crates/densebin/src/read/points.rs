//! Points in columns: owned batches ([`Points`]), the borrowed batches the
//! binning kernel takes ([`Batch`]), and borrowed, strided columns of
//! `f32` or `f64` of any length ([`PointsRef`]) — the way arrays handed
//! over from numpy are binned without a copy.

use ndarray::ArrayView1;

use super::BATCH;
use super::categories::Dictionary;
use crate::error::{Error, Result};

/// A batch of points in columns. `z`, `w` and `c` are empty when the input
/// has no such column; otherwise all have the same length.
#[derive(Clone, Debug, Default)]
pub struct Points {
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates.
    pub y: Vec<f64>,
    /// z values (empty when there is no z column).
    pub z: Vec<f64>,
    /// Weights (empty when there is no weight column).
    pub w: Vec<f64>,
    /// Category ids into `categories` (empty when there is no category
    /// column), [`NO_CATEGORY`](super::NO_CATEGORY) for none.
    pub c: Vec<u32>,
    /// The names of the category ids; a reader keeps adding to it from
    /// batch to batch.
    pub categories: Dictionary,
}

impl PartialEq for Points {
    fn eq(&self, other: &Points) -> bool {
        self.batch() == other.batch()
    }
}

impl Points {
    /// The batch, borrowed: what the binning kernel takes.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            x: &self.x,
            y: &self.y,
            z: &self.z,
            w: &self.w,
            c: &self.c,
            names: self.categories.names(),
        }
    }

    /// These points with category ids `c` named by `names` (for tests and
    /// callers that hold categories as ids).
    #[must_use]
    pub fn with_categories(mut self, c: Vec<u32>, names: &[String]) -> Points {
        self.c = c;
        self.categories = Dictionary::fixed(names);
        self
    }

    /// An empty batch with room for [`BATCH`] points.
    pub fn with_capacity(has_z: bool, has_w: bool) -> Points {
        let cap = |on: bool| Vec::with_capacity(if on { BATCH } else { 0 });
        Points {
            x: cap(true),
            y: cap(true),
            z: cap(has_z),
            w: cap(has_w),
            ..Points::default()
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// The values of slot `slot` in [`Columns::slots`](super::input::Columns)
    /// order: x, y, z, then the weight.
    pub(crate) fn slot_mut(&mut self, slot: usize) -> &mut Vec<f64> {
        match slot {
            0 => &mut self.x,
            1 => &mut self.y,
            2 => &mut self.z,
            _ => &mut self.w,
        }
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Removes all points, keeping the allocations (and the names of the
    /// categories met so far).
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.w.clear();
        self.c.clear();
    }

    #[inline]
    pub(crate) fn push(&mut self, v: [f64; 4], has_z: bool, has_w: bool) {
        self.x.push(v[0]);
        self.y.push(v[1]);
        if has_z {
            self.z.push(v[2]);
        }
        if has_w {
            self.w.push(v[3]);
        }
    }
}

/// A batch of points borrowed as `f64` columns: what the binning kernel
/// bins ([`crate::Grid::append`]). `z`, `w` and `c` are empty when there
/// is no such column; otherwise all have the same length.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Batch<'a> {
    /// x coordinates.
    pub x: &'a [f64],
    /// y coordinates.
    pub y: &'a [f64],
    /// z values (empty when there is no z column).
    pub z: &'a [f64],
    /// Weights (empty when there is no weight column).
    pub w: &'a [f64],
    /// Category ids (empty when there is no category column): indices into
    /// `names`, or [`NO_CATEGORY`](super::NO_CATEGORY).
    pub c: &'a [u32],
    /// The names of the category ids.
    pub names: &'a [String],
}

impl<'a> Batch<'a> {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The points `rows` of this batch.
    #[must_use]
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Batch<'a> {
        let cut = |v: &'a [f64]| if v.is_empty() { v } else { &v[rows.clone()] };
        Batch {
            x: cut(self.x),
            y: cut(self.y),
            z: cut(self.z),
            w: cut(self.w),
            c: if self.c.is_empty() {
                self.c
            } else {
                &self.c[rows.clone()]
            },
            names: self.names,
        }
    }
}

impl<'a> From<&'a Points> for Batch<'a> {
    fn from(p: &'a Points) -> Batch<'a> {
        p.batch()
    }
}

/// One borrowed column of values, of any stride: `f32` values are widened
/// to `f64` a batch at a time (the pixel mapping is done in `f64`, as
/// datashader does), `f64` values with unit stride are binned in place.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ColumnRef<'a> {
    /// `f32` values.
    F32(ArrayView1<'a, f32>),
    /// `f64` values.
    F64(ArrayView1<'a, f64>),
    /// Values at a byte stride that need not be a multiple of their size,
    /// nor aligned: a field of packed records.
    Bytes(ByteColumn<'a>),
}

/// The bytes `len` items `stride` bytes apart span when the last ends `end`
/// bytes after its start (`usize::MAX` when that overflows).
pub(crate) fn bytes_spanned(len: usize, stride: usize, end: usize) -> usize {
    match len {
        0 => 0,
        n => (n - 1)
            .checked_mul(stride)
            .and_then(|b| b.checked_add(end))
            .unwrap_or(usize::MAX),
    }
}

/// `len` native-endian `f32` or `f64` values, `stride` bytes apart from the
/// start of `bytes`, at any alignment (a field of packed records, such as
/// a numpy structured array's); read value by value.
#[derive(Clone, Debug)]
pub struct ByteColumn<'a> {
    bytes: &'a [u8],
    len: usize,
    stride: usize,
    size: usize,
}

impl<'a> ByteColumn<'a> {
    /// The column of `len` values of `size` bytes (4 for `f32`, 8 for
    /// `f64`), value `i` at `bytes[i * stride..]`; fails unless `bytes`
    /// holds them all.
    pub fn new(bytes: &'a [u8], len: usize, stride: usize, size: usize) -> Result<ByteColumn<'a>> {
        if size != 4 && size != 8 {
            return Err(Error::request(format!(
                "values must be of 4 or 8 bytes, not {size}"
            )));
        }
        let needed = bytes_spanned(len, stride, size);
        if needed > bytes.len() {
            return Err(Error::request(format!(
                "{len} values {stride} bytes apart need {needed} bytes, and there are {}",
                bytes.len()
            )));
        }
        Ok(ByteColumn {
            bytes,
            len,
            stride,
            size,
        })
    }

    fn value(&self, i: usize) -> f64 {
        let at = &self.bytes[i * self.stride..];
        if self.size == 8 {
            f64::from_ne_bytes(at[..8].try_into().expect("8 bytes"))
        } else {
            f64::from(f32::from_ne_bytes(at[..4].try_into().expect("4 bytes")))
        }
    }
}

impl ColumnRef<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnRef::F32(a) => a.len(),
            ColumnRef::F64(a) => a.len(),
            ColumnRef::Bytes(b) => b.len,
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per value.
    pub fn value_size(&self) -> usize {
        match self {
            ColumnRef::F32(_) => 4,
            ColumnRef::F64(_) => 8,
            ColumnRef::Bytes(b) => b.size,
        }
    }

    /// Values `rows`, as a slice when they are contiguous `f64`, else
    /// widened into `buf`.
    fn rows<'b>(&'b self, rows: std::ops::Range<usize>, buf: &'b mut Vec<f64>) -> &'b [f64] {
        let slice = ndarray::s![rows.clone()];
        match self {
            ColumnRef::F64(a) => {
                let part = a.slice(slice);
                if let Some(s) = part.to_slice() {
                    return s;
                }
                buf.clear();
                buf.extend(part.iter().copied());
            }
            ColumnRef::F32(a) => {
                let part = a.slice(slice);
                buf.clear();
                match part.to_slice() {
                    // A plain slice, so that the widening vectorises.
                    Some(s) => buf.extend(s.iter().map(|&v| f64::from(v))),
                    None => buf.extend(part.iter().map(|&v| f64::from(v))),
                }
            }
            ColumnRef::Bytes(b) => {
                buf.clear();
                buf.extend(rows.map(|i| b.value(i)));
            }
        }
        buf
    }
}

/// A borrowed column of integers, of any width: category codes or values.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum IntsRef<'a> {
    /// `i8` values.
    I8(ArrayView1<'a, i8>),
    /// `i16` values.
    I16(ArrayView1<'a, i16>),
    /// `i32` values.
    I32(ArrayView1<'a, i32>),
    /// `i64` values.
    I64(ArrayView1<'a, i64>),
    /// `u8` values.
    U8(ArrayView1<'a, u8>),
    /// `u16` values.
    U16(ArrayView1<'a, u16>),
    /// `u32` values.
    U32(ArrayView1<'a, u32>),
    /// `u64` values.
    U64(ArrayView1<'a, u64>),
}

macro_rules! each_ints {
    ($ints:expr, $a:ident => $body:expr) => {
        match $ints {
            IntsRef::I8($a) => $body,
            IntsRef::I16($a) => $body,
            IntsRef::I32($a) => $body,
            IntsRef::I64($a) => $body,
            IntsRef::U8($a) => $body,
            IntsRef::U16($a) => $body,
            IntsRef::U32($a) => $body,
            IntsRef::U64($a) => $body,
        }
    };
}

impl IntsRef<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        each_ints!(self, a => a.len())
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per value.
    fn value_size(&self) -> usize {
        match self {
            IntsRef::I8(_) | IntsRef::U8(_) => 1,
            IntsRef::I16(_) | IntsRef::U16(_) => 2,
            IntsRef::I32(_) | IntsRef::U32(_) => 4,
            IntsRef::I64(_) | IntsRef::U64(_) => 8,
        }
    }
}

/// A borrowed category column: integers named by their value (LiDAR
/// classes), or codes into a list of names (a pandas `Categorical`: code
/// `-1` is a missing value, counted as uncategorised).
#[derive(Clone, Debug)]
pub struct CategoryRef<'a> {
    values: IntsRef<'a>,
    names: Option<Vec<String>>,
}

impl<'a> CategoryRef<'a> {
    /// Integers, each its own category (named by its decimal digits).
    pub fn values(values: IntsRef<'a>) -> CategoryRef<'a> {
        CategoryRef {
            values,
            names: None,
        }
    }

    /// Codes into `names`; a negative code is no category. Fails when a
    /// code has no name (checked as the codes are read).
    pub fn codes(codes: IntsRef<'a>, names: Vec<String>) -> CategoryRef<'a> {
        CategoryRef {
            values: codes,
            names: Some(names),
        }
    }

    /// The ids in `dict` of rows `rows`, into `out`.
    fn ids(
        &self,
        rows: std::ops::Range<usize>,
        dict: &mut super::Dictionary,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        out.clear();
        let names = self.names.as_deref();
        each_ints!(&self.values, a => ids_of(a.slice(ndarray::s![rows.clone()]), rows.start, names, dict, out))
    }
}

/// [`CategoryRef::ids`] for one integer type: a loop of its own, so that
/// the type is not matched per value.
fn ids_of<T: Copy + Into<i128>>(
    values: ArrayView1<'_, T>,
    first_row: usize,
    names: Option<&[String]>,
    dict: &mut super::Dictionary,
    out: &mut Vec<u32>,
) -> Result<()> {
    use super::{CategoryError, NO_CATEGORY};
    let full =
        |e: CategoryError| e.into_error("", || Error::request("a category name is not UTF-8"));
    match names {
        None => {
            for &v in values.iter() {
                let v: i128 = v.into();
                let id = match i64::try_from(v) {
                    Ok(v) => dict.id_of_int(v),
                    Err(_) => dict.id_of(v.to_string().as_bytes()),
                };
                out.push(id.map_err(full)?);
            }
        }
        Some(names) => {
            // The id of each code, looked up when first met.
            const UNSEEN: u32 = NO_CATEGORY - 1;
            let mut table = vec![UNSEEN; names.len()];
            for (i, &code) in values.iter().enumerate() {
                let code: i128 = code.into();
                if code < 0 {
                    out.push(NO_CATEGORY);
                    continue;
                }
                let slot = usize::try_from(code)
                    .ok()
                    .and_then(|c| table.get_mut(c))
                    .ok_or_else(|| {
                        Error::request(format!(
                            "category code {code} at row {} has no name: there are {}",
                            first_row + i,
                            names.len()
                        ))
                    })?;
                if *slot == UNSEEN {
                    *slot = dict.id_of(names[code as usize].as_bytes()).map_err(full)?;
                }
                out.push(*slot);
            }
        }
    }
    Ok(())
}

/// Borrowed columns of points, of one length: x and y, and optionally z,
/// a weight and a category. Built once from views of the caller's arrays
/// (numpy arrays, a memory map) and binned without copying them.
#[derive(Clone, Debug)]
pub struct PointsRef<'a> {
    x: ColumnRef<'a>,
    y: ColumnRef<'a>,
    z: Option<ColumnRef<'a>>,
    w: Option<ColumnRef<'a>>,
    c: Option<CategoryRef<'a>>,
}

impl<'a> PointsRef<'a> {
    /// Columns x, y, z (optional) and a weight (optional), which must all
    /// have the same length.
    pub fn new(
        x: ColumnRef<'a>,
        y: ColumnRef<'a>,
        z: Option<ColumnRef<'a>>,
        w: Option<ColumnRef<'a>>,
    ) -> Result<PointsRef<'a>> {
        let n = x.len();
        let lengths = [Some(&y), z.as_ref(), w.as_ref()];
        if let Some(c) = lengths.into_iter().flatten().find(|c| c.len() != n) {
            return Err(Error::request(format!(
                "the columns must have one length: x has {n} values, another {}",
                c.len()
            )));
        }
        Ok(PointsRef {
            x,
            y,
            z,
            w,
            c: None,
        })
    }

    /// These points with a category column, of their length.
    pub fn with_categories(mut self, c: CategoryRef<'a>) -> Result<PointsRef<'a>> {
        if c.values.len() != self.len() {
            return Err(Error::request(format!(
                "the columns must have one length: x has {} values, the categories {}",
                self.len(),
                c.values.len()
            )));
        }
        self.c = Some(c);
        Ok(self)
    }

    /// True when there is a category column.
    pub fn has_category(&self) -> bool {
        self.c.is_some()
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// True when there is a z column.
    pub fn has_z(&self) -> bool {
        self.z.is_some()
    }

    /// True when there is a weight column.
    pub fn has_weight(&self) -> bool {
        self.w.is_some()
    }

    /// Forgets the z column.
    pub fn drop_z(&mut self) {
        self.z = None;
    }

    /// Bytes of one point in the caller's arrays.
    pub fn point_size(&self) -> usize {
        [
            Some(&self.x),
            Some(&self.y),
            self.z.as_ref(),
            self.w.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(ColumnRef::value_size)
        .sum::<usize>()
            + self.c.as_ref().map_or(0, |c| c.values.value_size())
    }

    /// Hands `sink` the points `rows` in batches of at most [`BATCH`];
    /// `scratch` holds the values that must be widened or gathered.
    pub fn for_each_batch(
        &self,
        rows: std::ops::Range<usize>,
        scratch: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut at = rows.start;
        while at < rows.end {
            let part = at..(at + BATCH).min(rows.end);
            let Points {
                x,
                y,
                z,
                w,
                c,
                categories,
            } = scratch;
            let wanted = self.c.as_ref().filter(|_| !categories.is_ignoring());
            if let Some(cats) = wanted {
                cats.ids(part.clone(), categories, c)?;
            }
            let batch = Batch {
                x: self.x.rows(part.clone(), x),
                y: self.y.rows(part.clone(), y),
                z: self.z.as_ref().map_or(&[], |c| c.rows(part.clone(), z)),
                w: self.w.as_ref().map_or(&[], |c| c.rows(part.clone(), w)),
                c: if wanted.is_some() { c } else { &[] },
                names: categories.names(),
            };
            sink(batch)?;
            at = part.end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn batches_borrow_contiguous_f64_and_widen_the_rest() {
        let records = Array2::from_shape_fn((10_000, 3), |(i, j)| (i * 3 + j) as f32);
        let doubles = Array2::from_shape_fn((10_000, 2), |(i, j)| (i * 3 + j) as f64 * 0.5);
        let wide: Vec<f64> = (0..10_000).map(|i| i as f64).collect();
        let p = PointsRef::new(
            ColumnRef::F32(records.column(0)),
            ColumnRef::F64(doubles.column(1)),
            Some(ColumnRef::F64(ArrayView1::from(&wide[..]))),
            None,
        )
        .unwrap();
        assert_eq!(p.point_size(), 4 + 8 + 8);
        let mut seen = 0;
        let mut scratch = Points::default();
        p.for_each_batch(100..9_000, &mut scratch, &mut |b| {
            assert!(b.len() <= BATCH);
            for i in 0..b.len() {
                let row = 100 + seen + i;
                assert_eq!(b.x[i], (row * 3) as f64);
                assert_eq!(b.y[i], (row * 3 + 1) as f64 * 0.5);
                assert_eq!(b.z[i], row as f64);
            }
            assert!(b.w.is_empty());
            seen += b.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 8_900);
        let short = ArrayView1::from(&wide[..5]);
        assert!(PointsRef::new(ColumnRef::F64(short), p.y.clone(), None, None).is_err());
    }

    #[test]
    fn fields_of_packed_records_are_read_at_any_alignment() {
        // Records of (f64, f32, f64): 20 bytes, so the second f64 field
        // sits at odd alignments and a stride that is no multiple of 8.
        let n = 5_000;
        let mut bytes = vec![0u8; 1];
        for i in 0..n {
            bytes.extend((i as f64 * 0.25).to_ne_bytes());
            bytes.extend((i as f32).to_ne_bytes());
            bytes.extend((-(i as f64)).to_ne_bytes());
        }
        let col = |offset: usize, size| {
            ColumnRef::Bytes(ByteColumn::new(&bytes[1 + offset..], n, 20, size).unwrap())
        };
        let p = PointsRef::new(col(0, 8), col(12, 8), Some(col(8, 4)), None).unwrap();
        assert_eq!((p.len(), p.point_size()), (n, 20));
        let mut seen = 0;
        p.for_each_batch(7..n, &mut Points::default(), &mut |b| {
            for i in 0..b.len() {
                let row = 7 + seen + i;
                assert_eq!(b.x[i], row as f64 * 0.25);
                assert_eq!(b.y[i], -(row as f64));
                assert_eq!(b.z[i], row as f64);
            }
            seen += b.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, n - 7);
        assert!(ByteColumn::new(&bytes[1..], n, 20, 8).is_ok());
        assert!(ByteColumn::new(&bytes[2..], n, 20, 8).is_ok());
        assert!(ByteColumn::new(&bytes[..100], n, 20, 8).is_err());
        assert!(ByteColumn::new(&bytes, 3, 20, 2).is_err());
        assert!(ByteColumn::new(&[], 0, 20, 8).is_ok());
    }
}
