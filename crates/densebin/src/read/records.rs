//! Fixed-size binary records: raw interleaved `f32`/`f64` files and the data
//! part of `.npy` files (plain 2-D arrays and structured arrays alike).

use crate::cache::prefetch;
use crate::error::{Error, Result};
use crate::param::Param;

use super::input::Columns;
use super::npy::{AS_FLOATS, corrupt};
use super::points::{Batch, Points};
use super::source::ChunkStats;
use super::{BATCH, NpyDescr, NpyHeader, resize_for_overwrite};

/// The most values a record may have.
const MAX_FIELDS: usize = 1 << 16;

/// The type of one value in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueType {
    /// Little-endian `f32`.
    F32Le,
    /// Big-endian `f32`.
    F32Be,
    /// Little-endian `f64`.
    F64Le,
    /// Big-endian `f64`.
    F64Be,
    /// An integer of `bytes` bytes (1, 2, 4 or 8): a category field.
    Int {
        /// Bytes per value.
        bytes: u8,
        /// Two's complement, or unsigned.
        signed: bool,
        /// Big-endian, or little-endian.
        big_endian: bool,
    },
    /// A NUL-padded byte string of this many bytes (numpy's `S`): a
    /// category field.
    Text(usize),
    /// A field that cannot be binned (a string, padding), of this many
    /// bytes; it may be present but not selected.
    Other(usize),
}

impl ValueType {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            ValueType::F32Le | ValueType::F32Be => 4,
            ValueType::F64Le | ValueType::F64Be => 8,
            ValueType::Int { bytes, .. } => usize::from(bytes),
            ValueType::Text(n) | ValueType::Other(n) => n,
        }
    }

    fn is_float(self) -> bool {
        matches!(
            self,
            ValueType::F32Le | ValueType::F32Be | ValueType::F64Le | ValueType::F64Be
        )
    }

    /// Reads the value at the start of `b` (which holds at least
    /// [`ValueType::size`] bytes).
    #[inline(always)]
    fn read(self, b: &[u8]) -> f64 {
        match self {
            ValueType::F32Le => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            ValueType::F32Be => f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
            ValueType::F64Le => {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            }
            ValueType::F64Be => {
                f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            }
            // Category and other fields are never read as numbers (they
            // are refused as x, y, z or the weight when the input opens).
            ValueType::Int { .. } | ValueType::Text(_) | ValueType::Other(_) => f64::NAN,
        }
    }
}

/// One field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordField {
    pub offset: usize,
    pub ty: ValueType,
}

/// The layout of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordLayout {
    pub record_size: usize,
    pub fields: Vec<RecordField>,
}

impl RecordLayout {
    /// `n` values of type `ty` per record (raw binary files).
    pub fn uniform(ty: ValueType, n: usize) -> std::result::Result<RecordLayout, String> {
        if n == 0 {
            return Err(format!("{} must be at least 1", Param::Fields.mark()));
        }
        if n > MAX_FIELDS {
            return Err(format!(
                "{} {n} is more than the {MAX_FIELDS} values a record may have",
                Param::Fields.mark()
            ));
        }
        Ok(RecordLayout {
            record_size: n * ty.size(),
            fields: (0..n)
                .map(|i| RecordField {
                    offset: i * ty.size(),
                    ty,
                })
                .collect(),
        })
    }

    /// The record layout of an `.npy` file, and its field names when it is
    /// a structured array.
    pub fn from_npy(
        h: &NpyHeader,
    ) -> std::result::Result<(RecordLayout, Option<Vec<String>>), String> {
        match &h.descr {
            NpyDescr::Simple(dtype) => {
                let ty = float_type(dtype).ok_or_else(|| {
                    format!(
                        "unsupported dtype {dtype:?}: only float32 and float64 arrays (or structured arrays with float fields) can be binned; save arr.astype(\"f8\") instead"
                    )
                })?;
                let wrong_shape = || {
                    format!(
                        "expected a 2-D (N, k) array of points, found shape {:?}; {AS_FLOATS}",
                        h.shape
                    )
                };
                let [_, k] = h.shape[..] else {
                    return Err(wrong_shape());
                };
                if k == 0 {
                    return Err(wrong_shape());
                }
                if h.fortran_order && h.shape[0] > 1 && k > 1 {
                    return Err(
                        "Fortran-order (column-major) arrays are not supported: save np.ascontiguousarray(a)"
                            .to_string(),
                    );
                }
                let too_many = || {
                    format!(
                        "{k} columns is more than the {MAX_FIELDS} values a record may have; \
                         save only the columns to bin"
                    )
                };
                let k = usize::try_from(k).map_err(|_| too_many())?;
                let layout = RecordLayout::uniform(ty, k).map_err(|_| too_many())?;
                Ok((layout, None))
            }
            NpyDescr::Structured(fields) => {
                if h.shape.len() != 1 {
                    return Err(format!(
                        "expected a 1-D structured array of records, found shape {:?}; \
                         save arr.reshape(-1) instead",
                        h.shape
                    ));
                }
                let mut offset = 0usize;
                let mut out = Vec::new();
                let mut names = Vec::new();
                for f in fields {
                    if !f.shape.is_empty() {
                        return Err(format!(
                            "field {:?} is a sub-array {:?}: not supported; {AS_FLOATS}",
                            f.name, f.shape
                        ));
                    }
                    let ty = match float_type(&f.dtype).or_else(|| key_type(&f.dtype)) {
                        Some(t) => t,
                        None => ValueType::Other(type_size(&f.dtype).ok_or_else(|| {
                            format!(
                                "field {:?} has unsupported dtype {:?}; {AS_FLOATS}",
                                f.name, f.dtype
                            )
                        })?),
                    };
                    out.push(RecordField { offset, ty });
                    names.push(f.name.clone());
                    offset = offset
                        .checked_add(ty.size())
                        .ok_or_else(|| "record too large".to_string())?;
                }
                if offset == 0 {
                    return Err(format!("structured dtype has no data fields; {AS_FLOATS}"));
                }
                Ok((
                    RecordLayout {
                        record_size: offset,
                        fields: out,
                    },
                    Some(names),
                ))
            }
        }
    }

    /// Checks that a raw file of `size` bytes holds whole records and at
    /// least one.
    pub fn check_size(&self, name: &str, size: u64, start: u64) -> Result<()> {
        let data = size - start;
        if !data.is_multiple_of(self.record_size as u64) {
            let value_size = self.fields[0].ty.size();
            return Err(Error::RecordSize {
                path: name.to_string(),
                size,
                record_size: self.record_size,
                fields: self.fields.len(),
                value_size,
            });
        }
        if data == 0 {
            return Err(Error::EmptyInput {
                path: name.to_string(),
                what: "no records: the file is empty".to_string(),
            });
        }
        Ok(())
    }

    /// Checks that an `.npy` file holds exactly the records its header
    /// promises.
    pub fn check_npy_size(
        &self,
        name: &str,
        size: u64,
        start: u64,
        records: Option<u64>,
    ) -> Result<()> {
        let npy = |reason: String| Error::Npy {
            path: name.to_string(),
            reason,
        };
        let expected = records
            .and_then(|n| n.checked_mul(self.record_size as u64))
            .ok_or_else(|| npy(corrupt("the shape in the header is too large")))?;
        let found = size.saturating_sub(start);
        if found < expected {
            return Err(npy(corrupt(format!(
                "truncated: the header promises {expected} bytes of data, the file holds {found}"
            ))));
        }
        if found > expected {
            return Err(npy(corrupt(format!(
                "{} bytes follow the {expected} bytes of data the header describes",
                found - expected
            ))));
        }
        if expected == 0 {
            return Err(Error::EmptyInput {
                path: name.to_string(),
                what: "no records: the array is empty".to_string(),
            });
        }
        Ok(())
    }

    /// Checks that the selected columns are float fields. An automatic z
    /// (not chosen by the user) that is not a float field is dropped;
    /// returns the z column to use.
    pub fn check_selected(
        &self,
        name: &str,
        c: &Columns,
        z_explicit: bool,
    ) -> Result<Option<usize>> {
        let not_float = |i: usize, param: Param| {
            Error::request(format!(
                "{name}: column {i} is not a float32 or float64 field and cannot be binned; \
                 choose a float field with {}",
                param.mark()
            ))
        };
        for (i, flag) in [
            (Some(c.x), Param::X),
            (Some(c.y), Param::Y),
            (c.w, Param::Weight),
        ] {
            if let Some(i) = i
                && !self.fields[i].ty.is_float()
            {
                return Err(not_float(i, flag));
            }
        }
        if let Some(i) = c.c
            && !matches!(
                self.fields[i].ty,
                ValueType::Int { .. } | ValueType::Text(_)
            )
        {
            return Err(Error::request(format!(
                "{name}: column {i} is not an integer or byte-string field and cannot be a \
                 category; choose one with {}",
                Param::By.mark()
            )));
        }
        match c.z {
            Some(z) if !self.fields[z].ty.is_float() => {
                if z_explicit {
                    Err(not_float(z, Param::Z))
                } else {
                    Ok(None)
                }
            }
            z => Ok(z),
        }
    }

    /// Reads every record of `data` (a whole number of records).
    pub fn read_chunk(
        &self,
        data: &[u8],
        cols: &Columns,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<ChunkStats> {
        let field = |i: usize| self.fields[i];
        let (fx, fy) = (field(cols.x), field(cols.y));
        let xy_f32 = fx.ty == ValueType::F32Le && fy.ty == ValueType::F32Le;
        let mut stats = ChunkStats::default();
        for batch in data.chunks(BATCH * self.record_size) {
            let n = batch.len() / self.record_size;
            if xy_f32 {
                // The np.memmap layout of the motivating case, with the
                // record size and offsets known to the compiler.
                match (self.record_size, fx.offset, fy.offset) {
                    (8, 0, 4) => decode_xy_f32_fixed::<8, 0, 4>(batch, pts, n),
                    (12, 0, 4) => decode_xy_f32_fixed::<12, 0, 4>(batch, pts, n),
                    (16, 0, 4) => decode_xy_f32_fixed::<16, 0, 4>(batch, pts, n),
                    (rs, ox, oy) => decode_xy_f32(batch, rs, ox, oy, pts, n),
                }
            } else {
                self.column(batch, fx, &mut pts.x, n);
                self.column(batch, fy, &mut pts.y, n);
            }
            if let Some(z) = cols.z {
                self.column(batch, field(z), &mut pts.z, n);
            }
            if let Some(w) = cols.w {
                self.column(batch, field(w), &mut pts.w, n);
            }
            if let Some(c) = cols.c.filter(|_| !pts.categories.is_ignoring()) {
                let f = field(c);
                let (rs, dict) = (self.record_size, &mut pts.categories);
                super::categories::decode(batch, rs, f.offset, f.ty, dict, &mut pts.c)?;
            }
            stats.points_read += n as u64;
            sink(pts.batch())?;
        }
        // The buffers keep their length from batch to batch (see
        // `resize_for_overwrite`);
        // Input::read_chunk empties them before every chunk.
        Ok(stats)
    }

    /// Decodes one field of `n` records into `out`, one loop per value type
    /// (a match per value made decoding the slowest part of binary input).
    fn column(&self, data: &[u8], f: RecordField, out: &mut Vec<f64>, n: usize) {
        resize_for_overwrite(out, n, 0.0);
        let recs = data.chunks_exact(self.record_size);
        let at = f.offset;
        match f.ty {
            ValueType::F32Le => {
                for (o, r) in out.iter_mut().zip(recs) {
                    *o = f32_at(r, at);
                }
            }
            ValueType::F64Le => {
                for (o, r) in out.iter_mut().zip(recs) {
                    *o = f64::from_le_bytes(r[at..at + 8].try_into().expect("8 bytes"));
                }
            }
            ty => {
                for (o, r) in out.iter_mut().zip(recs) {
                    *o = ty.read(&r[at..]);
                }
            }
        }
    }
}

#[inline(always)]
fn f32_at(r: &[u8], at: usize) -> f64 {
    f32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]) as f64
}

/// How many bytes ahead of the records being decoded to prefetch: a page.
const READ_AHEAD: usize = 4096;

/// [`decode_xy_f32`] for a record size and offsets known at compile time:
/// the records are then arrays, and the loop vectorises (0.56 ns a point
/// instead of 1.6; BENCHMARKS.md, "decoding").
fn decode_xy_f32_fixed<const RS: usize, const OX: usize, const OY: usize>(
    data: &[u8],
    pts: &mut Points,
    n: usize,
) {
    resize_for_overwrite(&mut pts.x, n, 0.0);
    resize_for_overwrite(&mut pts.y, n, 0.0);
    // In blocks of 64 records, each prefetching the block a page on: the
    // hardware prefetchers stop at page boundaries, and without this the
    // loop waits on memory at every new page of the mapped input (count
    // 1000², 1 thread: 0.24 → 0.22 s; BENCHMARKS.md, "read-ahead").
    const BLOCK: usize = 64;
    let (recs, _) = data.as_chunks::<RS>();
    let blocks = recs
        .chunks(BLOCK)
        .zip(pts.x.chunks_mut(BLOCK))
        .zip(pts.y.chunks_mut(BLOCK));
    for (b, ((recs, xs), ys)) in blocks.enumerate() {
        let ahead = (b * BLOCK * RS) + READ_AHEAD;
        for line in (0..BLOCK * RS).step_by(64) {
            prefetch(data, ahead + line);
        }
        for ((r, x), y) in recs.iter().zip(xs).zip(ys) {
            *x = f32::from_le_bytes([r[OX], r[OX + 1], r[OX + 2], r[OX + 3]]) as f64;
            *y = f32::from_le_bytes([r[OY], r[OY + 1], r[OY + 2], r[OY + 3]]) as f64;
        }
    }
}

/// Decodes x and y of `n` records of little-endian `f32` values in one pass
/// (`ox`, `oy`: their offsets): the common case — the motivating
/// `np.memmap` layout — at 0.5 ns a point instead of 1.3 for one pass per
/// column (BENCHMARKS.md, "decoding").
fn decode_xy_f32(
    data: &[u8],
    record_size: usize,
    ox: usize,
    oy: usize,
    pts: &mut Points,
    n: usize,
) {
    resize_for_overwrite(&mut pts.x, n, 0.0);
    resize_for_overwrite(&mut pts.y, n, 0.0);
    let recs = data.chunks_exact(record_size);
    for ((r, x), y) in recs.zip(&mut pts.x).zip(&mut pts.y) {
        *x = f32_at(r, ox);
        *y = f32_at(r, oy);
    }
}

/// The value type of a float dtype string such as `<f4`; `None` for
/// anything else.
fn float_type(dtype: &str) -> Option<ValueType> {
    let little = cfg!(target_endian = "little");
    match dtype {
        "<f4" => Some(ValueType::F32Le),
        ">f4" => Some(ValueType::F32Be),
        "<f8" => Some(ValueType::F64Le),
        ">f8" => Some(ValueType::F64Be),
        "=f4" | "f4" => Some(if little {
            ValueType::F32Le
        } else {
            ValueType::F32Be
        }),
        "=f8" | "f8" => Some(if little {
            ValueType::F64Le
        } else {
            ValueType::F64Be
        }),
        _ => None,
    }
}

/// The value type of an integer, boolean or byte-string dtype string
/// (`<i4`, `|u1`, `|b1`, `|S8`): category fields.
fn key_type(dtype: &str) -> Option<ValueType> {
    let big_endian = match dtype.as_bytes().first() {
        Some(b'>') => true,
        Some(b'<' | b'|') => false,
        _ => cfg!(target_endian = "big"),
    };
    let rest = dtype.trim_start_matches(['<', '>', '|', '=']);
    let (kind, n) = rest.split_at_checked(1)?;
    let n: usize = n.parse().ok()?;
    match (kind, n) {
        ("i" | "u", 1 | 2 | 4 | 8) | ("b", 1) => Some(ValueType::Int {
            bytes: n as u8,
            signed: kind == "i",
            big_endian,
        }),
        ("S" | "a", 1..) => Some(ValueType::Text(n)),
        _ => None,
    }
}

/// Bytes per value of a numpy dtype string (`<i8`, `|V4`, `<U10`, `|b1`,
/// `<M8[ns]`); `None` for objects and anything not understood.
fn type_size(dtype: &str) -> Option<usize> {
    let rest = dtype.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = rest.chars();
    let kind = chars.next()?;
    let digits: String = chars.take_while(char::is_ascii_digit).collect();
    let n: usize = digits.parse().ok()?;
    match kind {
        'U' => n.checked_mul(4),
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' | 'M' | 'm' => Some(n),
        _ => None,
    }
    .filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_in_both_byte_orders() {
        let v = 1.5f32;
        assert_eq!(ValueType::F32Le.read(&v.to_le_bytes()), 1.5);
        assert_eq!(ValueType::F32Be.read(&v.to_be_bytes()), 1.5);
        let v = -2.25f64;
        assert_eq!(ValueType::F64Le.read(&v.to_le_bytes()), -2.25);
        assert_eq!(ValueType::F64Be.read(&v.to_be_bytes()), -2.25);
    }

    #[test]
    fn dtype_sizes() {
        assert_eq!(type_size("<i8"), Some(8));
        assert_eq!(type_size("|V4"), Some(4));
        assert_eq!(type_size("<U10"), Some(40));
        assert_eq!(type_size("<M8[ns]"), Some(8));
        assert_eq!(type_size("|O"), None);
        assert_eq!(type_size("<i0"), None);
        assert_eq!(float_type("<f2"), None);
    }

    #[test]
    fn uniform_records_and_sizes() {
        let r = RecordLayout::uniform(ValueType::F32Le, 3).unwrap();
        assert_eq!(r.record_size, 12);
        assert!(r.check_size("a", 24, 0).is_ok());
        let e = r.check_size("a", 25, 0).unwrap_err().to_string();
        assert!(
            e.contains("25 bytes") && e.contains("12-byte records"),
            "{e}"
        );
        assert!(matches!(
            r.check_size("a", 0, 0),
            Err(Error::EmptyInput { .. })
        ));
        assert!(RecordLayout::uniform(ValueType::F32Le, 0).is_err());
    }

    #[test]
    fn npy_column_counts_are_not_blamed_on_fields() {
        let header = |k: u64| NpyHeader {
            version: (1, 0),
            descr: NpyDescr::Simple("<f8".to_string()),
            fortran_order: false,
            shape: vec![5, k],
            data_offset: 128,
        };
        let e = RecordLayout::from_npy(&header(0)).unwrap_err();
        assert!(
            e.starts_with("expected a 2-D (N, k) array of points, found shape [5, 0]; save"),
            "{e}"
        );
        let e = RecordLayout::from_npy(&header(70000)).unwrap_err();
        assert!(
            e.starts_with("70000 columns is more than the 65536 values a record may have; save"),
            "{e}"
        );
        assert!(!e.contains(Param::Fields.name()), "{e}");
        assert!(RecordLayout::from_npy(&header(3)).is_ok());
    }

    #[test]
    fn fast_and_general_decoding_agree() {
        let r = RecordLayout::uniform(ValueType::F32Le, 3).unwrap();
        let values: Vec<f32> = (0..3000).map(|i| (i as f32).sin() * 1e3).collect();
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut fast = Points::default();
        decode_xy_f32(&data, 12, 0, 4, &mut fast, 1000);
        let mut fixed = Points::default();
        decode_xy_f32_fixed::<12, 0, 4>(&data, &mut fixed, 1000);
        assert_eq!(fixed, fast);
        // The other fixed layouts, over a count that is not a whole number
        // of read-ahead blocks.
        for (rs, n) in [(8, 1499), (16, 749)] {
            let mut general = Points::default();
            decode_xy_f32(&data, rs, 0, 4, &mut general, n);
            let mut fixed = Points::default();
            match rs {
                8 => decode_xy_f32_fixed::<8, 0, 4>(&data, &mut fixed, n),
                _ => decode_xy_f32_fixed::<16, 0, 4>(&data, &mut fixed, n),
            }
            assert_eq!(fixed, general, "records of {rs} bytes");
            assert_eq!(fixed.y[n - 1], values[(n - 1) * rs / 4 + 1] as f64);
        }
        let mut x = Vec::new();
        let mut y = Vec::new();
        r.column(&data, r.fields[0], &mut x, 1000);
        r.column(&data, r.fields[1], &mut y, 1000);
        assert_eq!(fast.x, x);
        assert_eq!(fast.y, y);
        assert_eq!(x[1], values[3] as f64);
    }

    #[test]
    fn reads_selected_columns() {
        let r = RecordLayout::uniform(ValueType::F32Le, 4).unwrap();
        let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let cols = Columns {
            x: 3,
            y: 0,
            z: Some(1),
            w: None,
            c: None,
        };
        let mut pts = Points::with_capacity(true, false);
        let mut got = Vec::new();
        let stats = r
            .read_chunk(&data, &cols, &mut pts, &mut |p| {
                got.push(Points {
                    x: p.x.to_vec(),
                    y: p.y.to_vec(),
                    z: p.z.to_vec(),
                    w: p.w.to_vec(),
                    ..Points::default()
                });
                Ok(())
            })
            .unwrap();
        assert_eq!(stats.points_read, 2);
        assert_eq!(got[0].x, [4.0, 8.0]);
        assert_eq!(got[0].y, [1.0, 5.0]);
        assert_eq!(got[0].z, [2.0, 6.0]);
        assert!(got[0].w.is_empty());
    }
}
