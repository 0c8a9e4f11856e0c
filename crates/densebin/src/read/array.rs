//! Points the caller holds — numpy arrays, a memory map — binned in place:
//! [`ArraySource`] is the [`PointSource`] of a [`PointsRef`] (columns) or
//! a [`RecordsRef`] (fields of records in memory), cut into ranges of rows.

use super::input::Columns;
use super::points::{Batch, Points, PointsRef, bytes_spanned};
use super::records::{RecordField, RecordLayout, ValueType};
use super::source::{Chunk, ChunkData, ChunkError, ChunkStats, PointSource};
use crate::error::{Error, Result};
use crate::grid::InputInfo;

/// Points that are fields of records in memory — the column views of one
/// `(N, k)` array or memory map, or fields of a structured array — decoded
/// as the records reader decodes a file of them (x and y of a batch in one
/// pass over its records) rather than column by column.
#[derive(Clone, Debug)]
pub struct RecordsRef<'a> {
    bytes: &'a [u8],
    len: usize,
    layout: RecordLayout,
    cols: Columns,
}

impl<'a> RecordsRef<'a> {
    /// `len` records of `record_size` bytes from the start of `bytes`, with
    /// x, y and the optional z and weight at these `(offset, type)` places
    /// in a record. Fails unless every field lies within a record, its type
    /// is a float, and `bytes` holds every field of every record (the last
    /// record may end after its last field).
    pub fn new(
        bytes: &'a [u8],
        len: usize,
        record_size: usize,
        fields: [Option<(usize, ValueType)>; 4],
    ) -> Result<RecordsRef<'a>> {
        let [Some(x), Some(y), z, w] = fields else {
            return Err(Error::request("records need an x and a y field"));
        };
        let chosen: Vec<(usize, ValueType)> =
            [Some(x), Some(y), z, w].into_iter().flatten().collect();
        let mut end = 0;
        for &(offset, ty) in &chosen {
            if matches!(ty, ValueType::Other(_)) || offset + ty.size() > record_size {
                return Err(Error::request(format!(
                    "a field of type {ty:?} at byte {offset} does not fit a float in records of {record_size} bytes"
                )));
            }
            end = end.max(offset + ty.size());
        }
        let needed = bytes_spanned(len, record_size, end);
        if needed > bytes.len() {
            return Err(Error::request(format!(
                "{len} records of {record_size} bytes need {needed} bytes, and there are {}",
                bytes.len()
            )));
        }
        // The layout holds the chosen fields only, in slot order.
        let cols = Columns {
            x: 0,
            y: 1,
            z: z.map(|_| 2),
            w: w.map(|_| if z.is_some() { 3 } else { 2 }),
            c: None,
        };
        let layout = RecordLayout {
            record_size,
            fields: chosen
                .into_iter()
                .map(|(offset, ty)| RecordField { offset, ty })
                .collect(),
        };
        Ok(RecordsRef {
            bytes,
            len,
            layout,
            cols,
        })
    }

    /// Hands `sink` the points `rows` in batches, as the records reader
    /// does; a last record cut short after its last field is decoded from
    /// a padded copy.
    fn for_each_batch(
        &self,
        rows: std::ops::Range<usize>,
        scratch: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<()> {
        let rs = self.layout.record_size;
        let whole = rows.end.min(self.bytes.len() / rs.max(1));
        if rows.start < whole {
            let data = &self.bytes[rows.start * rs..whole * rs];
            self.layout.read_chunk(data, &self.cols, scratch, sink)?;
        }
        if rows.end > whole.max(rows.start) {
            let mut last = vec![0u8; rs];
            let tail = &self.bytes[whole * rs..];
            last[..tail.len()].copy_from_slice(tail);
            self.layout.read_chunk(&last, &self.cols, scratch, sink)?;
        }
        Ok(())
    }
}

/// What an [`ArraySource`] reads.
#[derive(Clone, Debug)]
enum Held<'a> {
    Columns(PointsRef<'a>),
    Records(RecordsRef<'a>),
}

impl Held<'_> {
    fn len(&self) -> usize {
        match self {
            Held::Columns(p) => p.len(),
            Held::Records(r) => r.len,
        }
    }

    /// Bytes of the caller's memory one point takes.
    fn point_size(&self) -> usize {
        match self {
            Held::Columns(p) => p.point_size(),
            Held::Records(r) => r.layout.record_size,
        }
    }
}

/// Borrowed columns as a source of points: its chunks are ranges of rows,
/// read by any number of workers; values are never copied, except that
/// `f32` and strided values are widened a batch at a time.
#[derive(Clone, Debug)]
pub struct ArraySource<'a> {
    info: InputInfo,
    points: Held<'a>,
}

impl<'a> ArraySource<'a> {
    /// `points`, called `name` in messages and in the grid's inputs.
    pub fn new(name: impl Into<String>, points: PointsRef<'a>) -> ArraySource<'a> {
        ArraySource::holding(name.into(), Held::Columns(points))
    }

    /// Points that are fields of `records`, called `name`.
    pub fn records(name: impl Into<String>, records: RecordsRef<'a>) -> ArraySource<'a> {
        ArraySource::holding(name.into(), Held::Records(records))
    }

    fn holding(name: String, points: Held<'a>) -> ArraySource<'a> {
        let size = (points.len() * points.point_size()) as u64;
        ArraySource {
            info: InputInfo {
                name,
                size: Some(size),
                format: "array".to_string(),
                ..InputInfo::default()
            },
            points,
        }
    }
}

impl PointSource for ArraySource<'_> {
    fn info(&self) -> &InputInfo {
        &self.info
    }

    fn has_z(&self) -> bool {
        match &self.points {
            Held::Columns(p) => p.has_z(),
            Held::Records(r) => r.cols.z.is_some(),
        }
    }

    fn has_weight(&self) -> bool {
        match &self.points {
            Held::Columns(p) => p.has_weight(),
            Held::Records(r) => r.cols.w.is_some(),
        }
    }

    fn has_category(&self) -> bool {
        match &self.points {
            Held::Columns(p) => p.has_category(),
            Held::Records(_) => false,
        }
    }

    fn drop_z(&mut self) {
        match &mut self.points {
            Held::Columns(p) => p.drop_z(),
            Held::Records(r) => r.cols.z = None,
        }
    }

    fn data_len(&self) -> Option<u64> {
        Some((self.points.len() * self.points.point_size()) as u64)
    }

    /// The rows from `at` that take about `target` bytes.
    fn next_chunk(&self, at: u64, target: usize) -> Result<Option<Chunk<'_>>> {
        let (len, size) = (self.points.len(), self.points.point_size().max(1));
        let start = at as usize;
        if start >= len {
            return Ok(None);
        }
        let end = (start + (target / size).max(1)).min(len);
        Ok(Some(Chunk::rows(start..end, ((end - start) * size) as u64)))
    }

    fn read_chunk(
        &self,
        chunk: &Chunk<'_>,
        scratch: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError> {
        let ChunkData::Rows(rows, _) = &chunk.data else {
            unreachable!("an array source cuts rows");
        };
        match &self.points {
            Held::Columns(p) => p.for_each_batch(rows.clone(), scratch, sink),
            Held::Records(r) => r.for_each_batch(rows.clone(), scratch, sink),
        }
        .map_err(|error| ChunkError::at(chunk.start, error))?;
        Ok(ChunkStats {
            points_read: rows.len() as u64,
            ..ChunkStats::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::ColumnRef;

    /// Every point `src` yields, in order, as (x, y, z, w).
    fn collect(src: &ArraySource<'_>) -> Vec<[f64; 4]> {
        let mut out = Vec::new();
        let mut scratch = Points::default();
        let mut at = 0;
        while let Some(chunk) = src.next_chunk(at, 1000).unwrap() {
            at = match &chunk.data {
                ChunkData::Rows(rows, _) => rows.end as u64,
                _ => unreachable!(),
            };
            src.read_chunk(&chunk, &mut scratch, &mut |b| {
                for i in 0..b.len() {
                    let opt = |s: &[f64]| s.get(i).copied().unwrap_or(f64::NAN);
                    out.push([b.x[i], b.y[i], opt(b.z), opt(b.w)]);
                }
                Ok(())
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn records_in_memory_read_as_their_columns_do() {
        // (f32 x, f64 w, f32 y, f32 z, 4 bytes of padding): 24-byte records,
        // the bytes ending after the last record's z.
        let n = 10_001;
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.extend((i as f32 * 0.5).to_le_bytes());
            bytes.extend((-(i as f64)).to_le_bytes());
            bytes.extend((i as f32 + 0.25).to_le_bytes());
            bytes.extend((i as f32 * 2.0).to_le_bytes());
            bytes.extend([0u8; 4]);
        }
        bytes.truncate(bytes.len() - 4);
        let (f32le, f64le) = (ValueType::F32Le, ValueType::F64Le);
        let fields = [
            Some((0, f32le)),
            Some((12, f32le)),
            Some((16, f32le)),
            Some((4, f64le)),
        ];
        let records = RecordsRef::new(&bytes, n, 24, fields).unwrap();
        let src = ArraySource::records("records", records.clone());
        assert!(src.has_z() && src.has_weight());
        let want: Vec<[f64; 4]> = (0..n)
            .map(|i| [i as f64 * 0.5, i as f64 + 0.25, i as f64 * 2.0, -(i as f64)])
            .collect();
        assert_eq!(collect(&src), want);
        // The same through columns.
        let f32s = |at: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    f32::from_le_bytes(bytes[i * 24 + at..i * 24 + at + 4].try_into().unwrap())
                })
                .collect()
        };
        let (x, y, z) = (f32s(0), f32s(12), f32s(16));
        let w: Vec<f64> = (0..n).map(|i| -(i as f64)).collect();
        let cols = PointsRef::new(
            ColumnRef::F32(x[..].into()),
            ColumnRef::F32(y[..].into()),
            Some(ColumnRef::F32(z[..].into())),
            Some(ColumnRef::F64(w[..].into())),
        )
        .unwrap();
        assert_eq!(collect(&ArraySource::new("columns", cols)), want);
        // Without z, a weight still comes through as the weight.
        let fields = [Some((0, f32le)), Some((12, f32le)), None, Some((4, f64le))];
        let src = ArraySource::records("r", RecordsRef::new(&bytes, n, 24, fields).unwrap());
        assert!(!src.has_z());
        assert_eq!(collect(&src)[7][3], -7.0);
        // Fields outside a record, bytes too short, no y: errors.
        let bad = [Some((22, f32le)), Some((0, f32le)), None, None];
        assert!(RecordsRef::new(&bytes, n, 24, bad).is_err());
        let short = [Some((0, f32le)), Some((12, f32le)), None, None];
        assert!(RecordsRef::new(&bytes[..1000], n, 24, short).is_err());
        assert!(RecordsRef::new(&bytes, n, 24, [Some((0, f32le)), None, None, None]).is_err());
    }
}
