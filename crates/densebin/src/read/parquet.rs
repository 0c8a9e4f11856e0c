//! Parquet input, read with the `parquet` crate of arrow-rs (its
//! column-level API, no Arrow arrays in between): a file's row groups are
//! the chunks the workers read in parallel, and each is decoded a batch of
//! rows at a time, page by page, so memory stays a few batches per worker
//! whatever the file or row-group size.
//!
//! Columns are the schema's leaves, selected by name (the leaf's name, or
//! its dotted path) or by index. `FLOAT` and `DOUBLE` are read as such;
//! integers (`INT32`, `INT64`, any logical width, signed or not) and
//! booleans become `f64`; decimals (`INT32`, `INT64`, fixed-length or
//! variable-length bytes) become their value, `unscaled / 10^scale`. Nulls
//! are NaN. A repeated (nested) column, or one of text, is an error naming
//! the column and its type — except as the category column (`--by`),
//! where text and integers are names.

use std::fs::File;

use bytes::Bytes;
use memmap2::Mmap;
use parquet::basic::{LogicalType, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;

use super::BATCH;
use super::input::{ColumnNames, Columns};
use super::points::{Batch, Points};
use super::source::ChunkStats;
use crate::error::{Error, Result};
use crate::param::Param;

/// How a selected column's values become `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// `FLOAT`, `DOUBLE`, integers and booleans: their value.
    Number,
    /// A decimal: the unscaled integer divided by `10^scale`.
    Decimal(i32),
    /// Text (`BYTE_ARRAY`): only as the category column.
    Text,
}

/// An opened Parquet file: its reader over a memory map of it, and the
/// row groups' first bytes (for cutting the file into parts).
pub(crate) struct ParquetLayout {
    name: String,
    reader: SerializedFileReader<Bytes>,
    /// Where each row group's first column chunk starts in the file.
    starts: Vec<u64>,
    /// Rows per row group.
    rows: Vec<u64>,
    kinds: Vec<Option<Kind>>,
}

impl std::fmt::Debug for ParquetLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetLayout")
            .field("row_groups", &self.rows.len())
            .finish_non_exhaustive()
    }
}

/// The error for something wrong with the file `name`.
fn bad(name: &str, reason: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: name.to_string(),
        reason: format!("not a readable Parquet file: {reason}"),
    }
}

impl ParquetLayout {
    /// Opens `file` (called `name`): its footer, schema and row groups.
    pub(crate) fn open(name: &str, file: &File) -> Result<(ParquetLayout, ColumnNames)> {
        // SAFETY: as for every mapped input (see `Input::open`): read-only,
        // and inputs must not change during a run (checked at its end).
        // The map is owned by the `Bytes` the reader slices, so every
        // worker reads the file in place, without a copy or a file offset
        // to share.
        let map = unsafe { Mmap::map(file) }.map_err(|e| Error::io(name, e))?;
        let bytes = Bytes::from_owner(map);
        let reader = SerializedFileReader::new(bytes).map_err(|e| bad(name, e))?;
        let meta = reader.metadata();
        let schema = meta.file_metadata().schema_descr();
        let columns: Vec<ColumnDescPtr> = (0..schema.num_columns())
            .map(|i| schema.column(i))
            .collect();
        let names: Vec<String> = columns.iter().map(|c| c.path().string()).collect();
        let mut starts = Vec::with_capacity(meta.num_row_groups());
        let mut rows = Vec::with_capacity(meta.num_row_groups());
        for rg in meta.row_groups() {
            let start = rg
                .columns()
                .iter()
                .map(|c| {
                    c.dictionary_page_offset()
                        .unwrap_or(c.data_page_offset())
                        .max(0) as u64
                })
                .min()
                .unwrap_or(0);
            starts.push(start);
            rows.push(rg.num_rows().max(0) as u64);
        }
        let kinds = vec![None; columns.len()];
        let layout = ParquetLayout {
            name: name.to_string(),
            reader,
            starts,
            rows,
            kinds,
        };
        let names = ColumnNames {
            count: names.len(),
            names: Some(names),
            no_names_because: "",
            split_by: None,
            defaults_by_name: false,
        };
        Ok((layout, names))
    }

    /// Checks the selected columns and decides how each is read: numbers
    /// for x, y, z and the weight, names for the category. An automatic z
    /// (not chosen by the user) that is not a number is dropped; returns the
    /// z column to use.
    pub(crate) fn check_selected(
        &mut self,
        name: &str,
        c: &Columns,
        z_explicit: bool,
    ) -> Result<Option<usize>> {
        let schema = self.reader.metadata().file_metadata().schema_descr_ptr();
        let describe = |i: usize| {
            let col = schema.column(i);
            let logical = col
                .logical_type_ref()
                .map_or(String::new(), |l| format!(" ({l:?})"));
            format!("{}{logical}", col.physical_type())
        };
        let wrong = |i: usize, param: Param, why: &str| {
            Error::request(format!(
                "{name}: column {:?} is {}, {why}; choose another with {}",
                schema.column(i).path().string(),
                describe(i),
                param.mark()
            ))
        };
        let numeric = |i: usize, param: Param| -> Result<Kind> {
            let col = schema.column(i);
            if col.max_rep_level() > 0 {
                return Err(wrong(
                    i,
                    param,
                    "a repeated (nested) column, which cannot be binned",
                ));
            }
            match kind_of(&col) {
                Some(Kind::Text) | None => Err(wrong(i, param, "which is not a number")),
                Some(k) => Ok(k),
            }
        };
        for (i, param) in [
            (Some(c.x), Param::X),
            (Some(c.y), Param::Y),
            (c.w, Param::Weight),
        ] {
            if let Some(i) = i {
                self.kinds[i] = Some(numeric(i, param)?);
            }
        }
        let z = match c.z {
            Some(z) => match numeric(z, Param::Z) {
                Ok(k) => {
                    self.kinds[z] = Some(k);
                    Some(z)
                }
                Err(_) if !z_explicit => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        if let Some(i) = c.c {
            let col = schema.column(i);
            let ok = col.max_rep_level() == 0
                && matches!(
                    col.physical_type(),
                    Physical::BYTE_ARRAY | Physical::INT32 | Physical::INT64 | Physical::BOOLEAN
                )
                && !matches!(kind_of(&col), Some(Kind::Decimal(_)));
            if !ok {
                return Err(wrong(
                    i,
                    Param::By,
                    "which is not text or integers, the categories a column can hold",
                ));
            }
            self.kinds[i] = kind_of(&col);
        }
        Ok(z)
    }

    /// Bytes the row groups `groups` take in the file (compressed).
    pub(crate) fn bytes_of(&self, groups: std::ops::Range<usize>) -> u64 {
        let meta = self.reader.metadata();
        groups
            .filter_map(|i| meta.row_groups().get(i))
            .map(|rg| rg.compressed_size().max(0) as u64)
            .sum()
    }

    /// How many row groups the file has.
    pub(crate) fn row_groups(&self) -> usize {
        self.rows.len()
    }

    /// The first row group that starts at or after byte `at` of the file
    /// (the number of row groups when none does).
    pub(crate) fn row_group_at(&self, at: u64) -> usize {
        self.starts
            .iter()
            .position(|&s| s >= at)
            .unwrap_or(self.starts.len())
    }

    /// Reads every row of row group `rg` into batches of at most
    /// [`BATCH`] points.
    pub(crate) fn read_row_group(
        &self,
        rg: usize,
        cols: &Columns,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<ChunkStats> {
        let damaged =
            |e: parquet::errors::ParquetError| bad(&self.name, format!("row group {rg}: {e}"));
        let group = self.reader.get_row_group(rg).map_err(damaged)?;
        let schema = self.reader.metadata().file_metadata().schema_descr_ptr();
        let wanted_cat = cols.c.filter(|_| !pts.categories.is_ignoring());
        let slots: Vec<(usize, usize)> = cols.selected().collect();
        let open = |i: usize| -> Result<Column> {
            let reader = group.get_column_reader(i).map_err(damaged)?;
            let descr = schema.column(i);
            let unsigned = matches!(
                descr.logical_type_ref(),
                Some(LogicalType::Integer {
                    is_signed: false,
                    ..
                })
            );
            Ok(Column {
                reader,
                descr,
                kind: self.kinds[i].unwrap_or(Kind::Number),
                unsigned,
                def: Vec::new(),
            })
        };
        let mut readers: Vec<(usize, Column)> = slots
            .iter()
            .map(|&(s, c)| Ok((s, open(c)?)))
            .collect::<Result<_>>()?;
        let mut category = wanted_cat.map(open).transpose()?;
        let mut left = self.rows[rg] as usize;
        let mut stats = ChunkStats::default();
        let mut scratch = Scratch::default();
        while left > 0 {
            let n = left.min(BATCH);
            for (slot, col) in &mut readers {
                col.numbers(n, pts.slot_mut(*slot), &mut scratch)
                    .map_err(damaged)?;
            }
            if let Some(col) = &mut category {
                col.categories(n, &mut pts.categories, &mut pts.c, &mut scratch)
                    .map_err(|e| match e {
                        Read::Parquet(e) => damaged(e),
                        Read::Category(e) => e,
                    })?;
            }
            stats.points_read += n as u64;
            sink(pts.batch())?;
            left -= n;
        }
        Ok(stats)
    }
}

/// How a column's values are read, from its physical and logical types.
fn kind_of(col: &ColumnDescPtr) -> Option<Kind> {
    let decimal = match col.logical_type_ref() {
        Some(LogicalType::Decimal { scale, .. }) => Some(*scale),
        _ => (col.converted_type() == parquet::basic::ConvertedType::DECIMAL)
            .then(|| col.type_scale()),
    };
    match (col.physical_type(), decimal) {
        (
            Physical::INT32
            | Physical::INT64
            | Physical::FIXED_LEN_BYTE_ARRAY
            | Physical::BYTE_ARRAY,
            Some(s),
        ) => Some(Kind::Decimal(s)),
        (
            Physical::FLOAT
            | Physical::DOUBLE
            | Physical::INT32
            | Physical::INT64
            | Physical::BOOLEAN,
            None,
        ) => Some(Kind::Number),
        (Physical::BYTE_ARRAY, None) => Some(Kind::Text),
        _ => None,
    }
}

/// The decoded values of a batch, reused from batch to batch.
#[derive(Default)]
struct Scratch {
    f32s: Vec<f32>,
    i32s: Vec<i32>,
    i64s: Vec<i64>,
    bools: Vec<bool>,
    bytes: Vec<parquet::data_type::ByteArray>,
    fixed: Vec<parquet::data_type::FixedLenByteArray>,
}

/// One selected column of a row group, being read.
struct Column {
    reader: ColumnReader,
    descr: ColumnDescPtr,
    kind: Kind,
    /// An unsigned integer logical type (stored as signed bits).
    unsigned: bool,
    def: Vec<i16>,
}

/// Reads `n` records of `r`: their non-null values into `values` (cleared
/// first) and, when `def` is given, their definition levels (appended);
/// returns how many values there were.
fn records<T: parquet::data_type::DataType>(
    r: &mut parquet::column::reader::ColumnReaderImpl<T>,
    n: usize,
    def: Option<&mut Vec<i16>>,
    values: &mut Vec<T::T>,
) -> std::result::Result<usize, ParquetError> {
    values.clear();
    Ok(r.read_records(n, def, None, values)?.1)
}

impl Column {
    /// Reads `n` rows' values (nulls as NaN) into `out`.
    fn numbers(
        &mut self,
        n: usize,
        out: &mut Vec<f64>,
        s: &mut Scratch,
    ) -> std::result::Result<(), ParquetError> {
        let scale = match self.kind {
            Kind::Decimal(scale) => 10f64.powi(scale),
            _ => 1.0,
        };
        let values = self.read(n, s, out)?;
        if scale != 1.0 {
            for v in out.iter_mut() {
                *v /= scale;
            }
        }
        self.spread_nulls(n, values, out, f64::NAN);
        Ok(())
    }

    /// Reads `n` rows' categories into `out` (nulls have none).
    fn categories(
        &mut self,
        n: usize,
        dict: &mut super::Dictionary,
        out: &mut Vec<u32>,
        s: &mut Scratch,
    ) -> std::result::Result<(), Read> {
        use super::{CategoryError, NO_CATEGORY};
        let descr = std::sync::Arc::clone(&self.descr);
        let full = |e: CategoryError| {
            Read::Category(e.into_error("", || {
                Error::request(format!(
                    "a category of column {:?} is not valid UTF-8",
                    descr.path().string()
                ))
            }))
        };
        out.clear();
        self.def.clear();
        let def = (self.descr.max_def_level() > 0).then_some(&mut self.def);
        let values = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => {
                let v = records(r, n, def, &mut s.bytes).map_err(Read::Parquet)?;
                for b in &s.bytes {
                    out.push(dict.id_of(b.data()).map_err(full)?);
                }
                v
            }
            ColumnReader::Int32ColumnReader(r) => {
                let v = records(r, n, def, &mut s.i32s).map_err(Read::Parquet)?;
                for &i in &s.i32s {
                    out.push(dict.id_of_int(i64::from(i)).map_err(full)?);
                }
                v
            }
            ColumnReader::Int64ColumnReader(r) => {
                let v = records(r, n, def, &mut s.i64s).map_err(Read::Parquet)?;
                for &i in &s.i64s {
                    out.push(dict.id_of_int(i).map_err(full)?);
                }
                v
            }
            ColumnReader::BoolColumnReader(r) => {
                let v = records(r, n, def, &mut s.bools).map_err(Read::Parquet)?;
                for &b in &s.bools {
                    out.push(dict.id_of_int(i64::from(b)).map_err(full)?);
                }
                v
            }
            _ => unreachable!("category columns are checked when the file opens"),
        };
        self.spread_nulls(n, values, out, NO_CATEGORY);
        Ok(())
    }

    /// Reads `n` rows of a numeric column: its non-null values into `out`
    /// as `f64` (unscaled for decimals), and its definition levels; returns
    /// how many values there were.
    fn read(
        &mut self,
        n: usize,
        s: &mut Scratch,
        out: &mut Vec<f64>,
    ) -> std::result::Result<usize, ParquetError> {
        out.clear();
        self.def.clear();
        let def = (self.descr.max_def_level() > 0).then_some(&mut self.def);
        let unsigned = self.unsigned;
        Ok(match &mut self.reader {
            ColumnReader::DoubleColumnReader(r) => records(r, n, def, out)?,
            ColumnReader::FloatColumnReader(r) => {
                let v = records(r, n, def, &mut s.f32s)?;
                out.extend(s.f32s.iter().map(|&x| f64::from(x)));
                v
            }
            ColumnReader::Int32ColumnReader(r) => {
                let v = records(r, n, def, &mut s.i32s)?;
                // An unsigned logical type is stored as the integer's bits.
                if unsigned {
                    out.extend(s.i32s.iter().map(|&x| f64::from(x as u32)));
                } else {
                    out.extend(s.i32s.iter().map(|&x| f64::from(x)));
                }
                v
            }
            ColumnReader::Int64ColumnReader(r) => {
                let v = records(r, n, def, &mut s.i64s)?;
                if unsigned {
                    out.extend(s.i64s.iter().map(|&x| x as u64 as f64));
                } else {
                    out.extend(s.i64s.iter().map(|&x| x as f64));
                }
                v
            }
            ColumnReader::BoolColumnReader(r) => {
                let v = records(r, n, def, &mut s.bools)?;
                out.extend(s.bools.iter().map(|&b| f64::from(u8::from(b))));
                v
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                let v = records(r, n, def, &mut s.fixed)?;
                out.extend(s.fixed.iter().map(|b| unscaled(b.data())));
                v
            }
            ColumnReader::ByteArrayColumnReader(r) => {
                let v = records(r, n, def, &mut s.bytes)?;
                out.extend(s.bytes.iter().map(|b| unscaled(b.data())));
                v
            }
            ColumnReader::Int96ColumnReader(_) => unreachable!("INT96 columns are refused"),
        })
    }

    /// Puts `values` non-null values read for `n` rows at their rows, by
    /// the definition levels, and `null` in the others.
    fn spread_nulls<T: Copy>(&self, n: usize, values: usize, out: &mut Vec<T>, null: T) {
        if values == n || self.descr.max_def_level() == 0 {
            return;
        }
        let max = self.descr.max_def_level();
        out.resize(n, null);
        // From the end, so that each value moves at most once.
        let mut v = values;
        for row in (0..n).rev() {
            if self.def[row] == max {
                v -= 1;
                out[row] = out[v];
            } else {
                out[row] = null;
            }
        }
    }
}

/// A big-endian two's complement integer of up to 16 bytes (a decimal's
/// unscaled value), as `f64`.
fn unscaled(b: &[u8]) -> f64 {
    if b.is_empty() || b.len() > 16 {
        return f64::NAN;
    }
    let mut wide = [if b[0] & 0x80 != 0 { 0xFF } else { 0 }; 16];
    wide[16 - b.len()..].copy_from_slice(b);
    i128::from_be_bytes(wide) as f64
}

/// Why a column could not be read.
enum Read {
    /// The file's data.
    Parquet(ParquetError),
    /// A category.
    Category(Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_unscale_from_big_endian_bytes() {
        assert_eq!(unscaled(&[0x01, 0x00]), 256.0);
        assert_eq!(unscaled(&[0xFF, 0xFE]), -2.0);
        assert_eq!(
            unscaled(&[0x80; 16]),
            i128::from_be_bytes([0x80; 16]) as f64
        );
        assert!(unscaled(&[]).is_nan());
    }
}
