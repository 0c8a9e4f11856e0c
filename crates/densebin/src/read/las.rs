//! LAS and LAZ point clouds. The header is read with the `las` crate; the
//! point records are decoded here, straight from the memory map (LAS) or
//! from one LAZ chunk decompressed by the `laz` crate, so that workers read
//! byte ranges of records, or whole LAZ chunks, in parallel.
//!
//! The columns are `x`, `y` and `z` (the scaled coordinates,
//! `X * scale + offset`) and the point format's attributes by their LAS
//! names: `intensity`, `return_number`, `number_of_returns`,
//! `classification`, `scan_angle` (degrees), `user_data`,
//! `point_source_id`, and `gps_time`, `red`, `green`, `blue`, `nir` where
//! the format has them. The header's bounds are the data's bounds for the
//! planner ([`LasLayout::declared_bounds`]); the header's point count must
//! agree with the bytes the file holds.

use std::cell::Cell;
use std::io::Cursor;
use std::ops::Range;

use laz::laszip::{ChunkTable, ChunkTableEntry};
use laz::record::{
    LayeredPointRecordDecompressor, RecordDecompressor, SequentialPointRecordDecompressor,
};

use super::BATCH;
use super::bounds::{Bounds, Extent};
use super::input::{ColumnNames, Columns};
use super::points::{Batch, Points};
use super::source::ChunkStats;
use crate::error::{Error, Result};
use crate::param::Param;

/// Where one column's values are in a point record.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    /// Coordinate `k` (x, y, z): an `i32` at `4 k`, scaled and offset.
    Coord(usize),
    /// Bits of the byte at `at`: `(byte & mask) >> shift`.
    Bits { at: usize, mask: u8, shift: u8 },
    /// A `u16` at this offset.
    U16(usize),
    /// An `i8` at this offset (the scan angle rank of formats 0–5, degrees).
    I8(usize),
    /// An `i16` at this offset in steps of 0.006° (formats 6–10).
    ScanAngle(usize),
    /// An `f64` at this offset (GPS time).
    F64(usize),
}

impl Field {
    fn byte(at: usize) -> Field {
        Field::Bits {
            at,
            mask: 0xFF,
            shift: 0,
        }
    }

    /// Whether the values are integers (category names).
    fn is_integer(self) -> bool {
        matches!(self, Field::Bits { .. } | Field::U16(_) | Field::I8(_))
    }

    /// The value in record `r`, with the header's `scale` and `offset`.
    #[inline]
    fn value(self, r: &[u8], t: &[(f64, f64); 3]) -> f64 {
        let le2 = |at: usize| [r[at], r[at + 1]];
        match self {
            Field::Coord(k) => {
                let at = 4 * k;
                let v = i32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
                f64::from(v) * t[k].0 + t[k].1
            }
            Field::Bits { at, mask, shift } => f64::from((r[at] & mask) >> shift),
            Field::U16(at) => f64::from(u16::from_le_bytes(le2(at))),
            Field::I8(at) => f64::from(r[at] as i8),
            Field::ScanAngle(at) => f64::from(i16::from_le_bytes(le2(at))) * 0.006,
            Field::F64(at) => {
                let mut b = [0; 8];
                b.copy_from_slice(&r[at..at + 8]);
                f64::from_le_bytes(b)
            }
        }
    }
}

/// The layer of a LAZ chunk (point formats 6–10) that holds the column
/// called `name`: only the layers of the selected columns are decompressed.
fn laz_layer(name: &str) -> u32 {
    use laz::DecompressionSelection as L;
    match name {
        "z" => L::Z,
        "intensity" => L::INTENSITY,
        "classification" => L::CLASSIFICATION,
        "scan_angle" => L::SCAN_ANGLE,
        "user_data" => L::USER_DATA,
        "point_source_id" => L::POINT_SOURCE_ID,
        "gps_time" => L::GPS_TIME,
        "red" | "green" | "blue" => L::RGB,
        "nir" => L::NIR,
        // x, y, the returns: the base layer, always decompressed.
        _ => L::XY_RETURNS_CHANNEL,
    }
}

/// The columns of point format `format` (0–10) and the bytes its records
/// take at least (LAS 1.4 R15, tables 7–17).
fn format_fields(format: u8) -> Option<(Vec<(&'static str, Field)>, usize)> {
    let mut f = vec![
        ("x", Field::Coord(0)),
        ("y", Field::Coord(1)),
        ("z", Field::Coord(2)),
        ("intensity", Field::U16(12)),
    ];
    let bits = |at, mask, shift| Field::Bits { at, mask, shift };
    let (gps, rgb, nir, size) = if format <= 5 {
        f.extend([
            ("return_number", bits(14, 0x07, 0)),
            ("number_of_returns", bits(14, 0x38, 3)),
            ("classification", bits(15, 0x1F, 0)),
            ("scan_angle", Field::I8(16)),
            ("user_data", Field::byte(17)),
            ("point_source_id", Field::U16(18)),
        ]);
        match format {
            0 => (None, None, None, 20),
            1 => (Some(20), None, None, 28),
            2 => (None, Some(20), None, 26),
            3 => (Some(20), Some(28), None, 34),
            4 => (Some(20), None, None, 57),
            _ => (Some(20), Some(28), None, 63),
        }
    } else if format <= 10 {
        f.extend([
            ("return_number", bits(14, 0x0F, 0)),
            ("number_of_returns", bits(14, 0xF0, 4)),
            ("classification", Field::byte(16)),
            ("user_data", Field::byte(17)),
            ("scan_angle", Field::ScanAngle(18)),
            ("point_source_id", Field::U16(20)),
        ]);
        match format {
            6 => (Some(22), None, None, 30),
            7 => (Some(22), Some(30), None, 36),
            8 => (Some(22), Some(30), Some(36), 38),
            9 => (Some(22), None, None, 59),
            _ => (Some(22), Some(30), Some(36), 67),
        }
    } else {
        return None;
    };
    if let Some(at) = gps {
        f.push(("gps_time", Field::F64(at)));
    }
    if let Some(at) = rgb {
        f.extend([
            ("red", Field::U16(at)),
            ("green", Field::U16(at + 2)),
            ("blue", Field::U16(at + 4)),
        ]);
    }
    if let Some(at) = nir {
        f.push(("nir", Field::U16(at)));
    }
    Some((f, size))
}

thread_local! {
    /// Set while this thread runs the LAZ decoder (see [`decoding_laz`]).
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running the `laz` decoder, which panics on some
/// damaged data (an assertion in its arithmetic decoder). densebin catches
/// that panic and reports the file as damaged; a program's panic hook can
/// keep quiet about it (the command line's does).
pub fn decoding_laz() -> bool {
    DECODING.with(Cell::get)
}

/// Runs `f`, a decoder of untrusted bytes, with its panics caught.
fn guarded<T>(f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    DECODING.with(|d| d.set(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    DECODING.with(|d| d.set(false));
    out.unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the LAZ decoder failed on damaged data",
        ))
    })
}

/// A LAZ file's chunks: each decompresses on its own.
struct Laz {
    vlr: laz::LazVlr,
    /// Where each chunk starts in the file.
    starts: Vec<u64>,
    table: Vec<ChunkTableEntry>,
}

/// An opened LAS or LAZ file.
pub(crate) struct LasLayout {
    name: String,
    fields: Vec<Field>,
    /// The LAZ layer of each column.
    layers: Vec<u32>,
    /// Scale and offset of x, y and z.
    transforms: [(f64, f64); 3],
    pub(crate) record_len: usize,
    /// First byte of the point records (LAS) or of the first chunk (LAZ).
    pub(crate) data_start: u64,
    /// The byte after the last point record (LAS).
    pub(crate) data_end: u64,
    header_bounds: [Option<Extent>; 3],
    laz: Option<Laz>,
}

impl std::fmt::Debug for LasLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LasLayout")
            .field("record_len", &self.record_len)
            .field("compressed", &self.laz.is_some())
            .finish_non_exhaustive()
    }
}

/// The error for something wrong with the file `name`.
fn bad(name: &str, reason: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: name.to_string(),
        reason: format!("not a readable LAS file: {reason}"),
    }
}

impl LasLayout {
    /// Reads the header of the LAS or LAZ file `name`, whose bytes are
    /// `bytes`, and checks it against them.
    pub(crate) fn open(name: &str, bytes: &[u8]) -> Result<(LasLayout, ColumnNames)> {
        let header = las::Header::new(Cursor::new(bytes)).map_err(|e| bad(name, e))?;
        let raw = las::raw::Header::read_from(Cursor::new(bytes)).map_err(|e| bad(name, e))?;
        let format = raw.point_data_record_format & 0x3F;
        let compressed = raw.point_data_record_format & 0xC0 != 0;
        let (named, size) = format_fields(format).ok_or_else(|| {
            bad(
                name,
                format!("point format {format} is not one of LAS's 0 to 10"),
            )
        })?;
        let record_len = usize::from(raw.point_data_record_length);
        if record_len < size {
            return Err(bad(
                name,
                format!(
                    "records of {record_len} bytes are too short for point format {format} ({size} bytes)"
                ),
            ));
        }
        let points = header.number_of_points();
        let data_start = u64::from(raw.offset_to_point_data);
        let extent = |lo: f64, hi: f64| (lo <= hi).then_some(Extent { lo, hi });
        let mut layout = LasLayout {
            name: name.to_string(),
            fields: named.iter().map(|&(_, f)| f).collect(),
            layers: named.iter().map(|&(n, _)| laz_layer(n)).collect(),
            transforms: [
                (raw.x_scale_factor, raw.x_offset),
                (raw.y_scale_factor, raw.y_offset),
                (raw.z_scale_factor, raw.z_offset),
            ],
            record_len,
            data_start,
            data_end: data_start,
            header_bounds: [
                extent(raw.min_x, raw.max_x),
                extent(raw.min_y, raw.max_y),
                extent(raw.min_z, raw.max_z),
            ],
            laz: None,
        };
        let len = bytes.len() as u64;
        if compressed {
            layout.laz = Some(Laz::open(
                name, bytes, &header, data_start, points, record_len,
            )?);
        } else {
            // Points end where the extended records begin, or at the end.
            let end = raw
                .evlr
                .map_or(len, |e| e.start_of_first_evlr)
                .min(len)
                .max(data_start);
            let held = (end - data_start) / record_len as u64;
            if held != points {
                return Err(bad(
                    name,
                    format!(
                        "its header says it holds {points} points, but its {} bytes of point \
                         records hold {held}: it is truncated, or its header is wrong",
                        end - data_start
                    ),
                ));
            }
            layout.data_end = data_start + points * record_len as u64;
        }
        let names = ColumnNames {
            count: named.len(),
            names: Some(named.iter().map(|(n, _)| n.to_string()).collect()),
            no_names_because: "",
            split_by: None,
            defaults_by_name: false,
        };
        Ok((layout, names))
    }

    /// Checks that the category column holds integers.
    pub(crate) fn check_selected(&self, names: &ColumnNames, c: &Columns) -> Result<()> {
        if let Some(i) = c.c
            && !self.fields[i].is_integer()
        {
            return Err(Error::request(format!(
                "{}: column {:?} is not integers, the categories a LAS attribute can hold \
                 (classification, return_number, user_data, …); choose another with {}",
                self.name,
                names.named([i, i])[0],
                Param::By.mark()
            )));
        }
        Ok(())
    }

    /// The header's bounds of the selected columns, where they are
    /// coordinates (x, y and z in any order): the planner's ranges without
    /// a scan. `None` when x or y is not a coordinate.
    pub(crate) fn declared_bounds(&self, c: &Columns) -> Option<Bounds> {
        let of = |i: usize| match self.fields[i] {
            Field::Coord(k) => Some(self.header_bounds[k]),
            _ => None,
        };
        Some(Bounds {
            x: of(c.x)?,
            y: of(c.y)?,
            z: c.z.and_then(of).flatten(),
        })
    }

    /// Whether the points are in LAZ chunks.
    pub(crate) fn is_compressed(&self) -> bool {
        self.laz.is_some()
    }

    /// LAZ chunks in the file.
    pub(crate) fn chunks(&self) -> usize {
        self.laz.as_ref().map_or(0, |l| l.table.len())
    }

    /// Compressed bytes of the LAZ chunks `chunks`.
    pub(crate) fn chunk_bytes(&self, chunks: Range<usize>) -> u64 {
        self.laz.as_ref().map_or(0, |l| {
            l.table[chunks.start.min(l.table.len())..chunks.end.min(l.table.len())]
                .iter()
                .map(|e| e.byte_count)
                .sum()
        })
    }

    /// The first LAZ chunk that starts at or after byte `at`.
    pub(crate) fn chunk_at(&self, at: u64) -> usize {
        self.laz.as_ref().map_or(0, |l| {
            l.starts
                .iter()
                .position(|&s| s >= at)
                .unwrap_or(l.starts.len())
        })
    }

    /// Decodes the whole records `records`, in batches of at most
    /// [`BATCH`] points.
    pub(crate) fn read_records(
        &self,
        records: &[u8],
        cols: &Columns,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<ChunkStats> {
        let t = &self.transforms;
        let mut stats = ChunkStats::default();
        for batch in records.chunks(BATCH * self.record_len) {
            let recs = || batch.chunks_exact(self.record_len);
            for (slot, col) in cols.selected() {
                let out = pts.slot_mut(slot);
                let field = self.fields[col];
                out.clear();
                out.extend(recs().map(|r| field.value(r, t)));
            }
            if let Some(col) = cols.c.filter(|_| !pts.categories.is_ignoring()) {
                let field = self.fields[col];
                pts.c.clear();
                for r in recs() {
                    let id = pts
                        .categories
                        .id_of_int(field.value(r, t) as i64)
                        .map_err(|e| {
                            e.into_error("", || Error::request("an integer category is not UTF-8"))
                        })?;
                    pts.c.push(id);
                }
            }
            stats.points_read += (batch.len() / self.record_len) as u64;
            sink(pts.batch())?;
        }
        Ok(stats)
    }

    /// Decompresses LAZ chunk `i` of the file `bytes` into `buf` and
    /// decodes its records.
    pub(crate) fn read_laz_chunk(
        &self,
        bytes: &[u8],
        i: usize,
        cols: &Columns,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<ChunkStats> {
        let Some(laz) = &self.laz else {
            return Ok(ChunkStats::default());
        };
        let (start, entry) = (laz.starts[i], laz.table[i]);
        let src = &bytes[start as usize..(start + entry.byte_count) as usize];
        let mut buf = vec![0u8; entry.point_count as usize * self.record_len];
        let damaged = |e: std::io::Error| {
            bad(
                &self.name,
                format!("LAZ chunk {i} (at byte {start}) does not decompress: {e}"),
            )
        };
        let items = laz.vlr.items();
        let fields = |e: laz::LasZipError| std::io::Error::other(e.to_string());
        let layers = cols
            .slots()
            .into_iter()
            .chain([cols.c])
            .flatten()
            .fold(0, |l, c| l | self.layers[c]);
        guarded(|| {
            if items.first().is_some_and(|item| item.version() >= 3) {
                let mut d = LayeredPointRecordDecompressor::new(Cursor::new(src));
                d.set_fields_from(items).map_err(fields)?;
                d.set_selection(laz::DecompressionSelection(layers));
                d.decompress_many(&mut buf)
            } else {
                let mut d = SequentialPointRecordDecompressor::new(Cursor::new(src));
                d.set_fields_from(items).map_err(fields)?;
                d.decompress_many(&mut buf)
            }
        })
        .map_err(damaged)?;
        self.read_records(&buf, cols, pts, sink)
    }
}

impl Laz {
    /// The chunks of the LAZ file `bytes`, checked against the header's
    /// `points` and the file's size.
    fn open(
        name: &str,
        bytes: &[u8],
        header: &las::Header,
        data_start: u64,
        points: u64,
        record_len: usize,
    ) -> Result<Laz> {
        let vlr = header.laz_vlr().map_err(|e| bad(name, e))?;
        if vlr.items_size() != record_len as u64 {
            return Err(bad(
                name,
                format!(
                    "its LAZ items make records of {} bytes, its header {record_len}",
                    vlr.items_size()
                ),
            ));
        }
        let mut at = Cursor::new(bytes);
        at.set_position(data_start);
        let table = ChunkTable::read_from(&mut at, &vlr)
            .map_err(|e| bad(name, format!("its LAZ chunk table cannot be read: {e}")))?;
        let mut table: Vec<ChunkTableEntry> = table.as_ref().to_vec();
        // A table of fixed-size chunks counts the last one as full too.
        if !vlr.uses_variable_size_chunks()
            && let Some(last) = table.len().checked_sub(1)
        {
            let before: u64 = table[..last].iter().map(|e| e.point_count).sum();
            let rest = points
                .checked_sub(before)
                .filter(|&r| r >= 1 && r <= u64::from(vlr.chunk_size()));
            let Some(rest) = rest else {
                return Err(bad(
                    name,
                    format!(
                        "its header says it holds {points} points, but its {} LAZ chunks of {} \
                         hold between {} and {}",
                        table.len(),
                        vlr.chunk_size(),
                        before + 1,
                        before + u64::from(vlr.chunk_size())
                    ),
                ));
            };
            table[last].point_count = rest;
        }
        let held: u64 = table.iter().map(|e| e.point_count).sum();
        if held != points {
            return Err(bad(
                name,
                format!("its header says it holds {points} points, but its LAZ chunks hold {held}"),
            ));
        }
        let mut starts = Vec::with_capacity(table.len());
        let mut start = data_start + 8;
        for e in &table {
            starts.push(start);
            start = start.saturating_add(e.byte_count);
        }
        if start > bytes.len() as u64 {
            return Err(bad(
                name,
                format!(
                    "its LAZ chunks end at byte {start}, past the end of the file ({} bytes): it \
                     is truncated",
                    bytes.len()
                ),
            ));
        }
        Ok(Laz { vlr, starts, table })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_have_their_sizes_and_attributes() {
        let sizes: Vec<usize> = (0..=10).map(|f| format_fields(f).unwrap().1).collect();
        assert_eq!(sizes, [20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67]);
        assert!(format_fields(11).is_none());
        let names = |f| -> Vec<&str> { format_fields(f).unwrap().0.iter().map(|c| c.0).collect() };
        assert!(!names(0).contains(&"gps_time"));
        assert!(names(3).contains(&"red") && names(3).contains(&"gps_time"));
        assert!(names(8).contains(&"nir"));
        let rec: Vec<u8> = (0u8..30).collect();
        let t = [(0.01, 100.0), (1.0, 0.0), (1.0, 0.0)];
        let x = i32::from_le_bytes([0, 1, 2, 3]);
        assert_eq!(Field::Coord(0).value(&rec, &t), f64::from(x) * 0.01 + 100.0);
        // Format 6: returns in byte 14's nibbles, classification at 16.
        let f6 = format_fields(6).unwrap().0;
        let get = |n: &str| f6.iter().find(|c| c.0 == n).unwrap().1.value(&rec, &t);
        assert_eq!(get("return_number"), f64::from(14 & 0x0F));
        assert_eq!(get("number_of_returns"), f64::from(14 >> 4));
        assert_eq!(get("classification"), 16.0);
        assert_eq!(
            get("scan_angle"),
            f64::from(i16::from_le_bytes([18, 19])) * 0.006
        );
    }
}
