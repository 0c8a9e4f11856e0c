//! Points the caller holds — numpy arrays, a memory map — binned in place:
//! [`ArraySource`] is the [`PointSource`] of a [`PointsRef`], cut into
//! ranges of rows.

use super::points::{Batch, Points, PointsRef};
use super::source::{Chunk, ChunkData, ChunkError, ChunkStats, PointSource};
use crate::error::Result;
use crate::grid::InputInfo;

/// Borrowed columns as a source of points: its chunks are ranges of rows,
/// read by any number of workers; values are never copied, except that
/// `f32` and strided values are widened a batch at a time.
#[derive(Clone, Debug)]
pub struct ArraySource<'a> {
    info: InputInfo,
    points: PointsRef<'a>,
}

impl<'a> ArraySource<'a> {
    /// `points`, called `name` in messages and in the grid's inputs.
    pub fn new(name: impl Into<String>, points: PointsRef<'a>) -> ArraySource<'a> {
        let size = (points.len() * points.point_size()) as u64;
        ArraySource {
            info: InputInfo {
                name: name.into(),
                size: Some(size),
                ..InputInfo::default()
            },
            points,
        }
    }

    /// The columns.
    pub fn points(&self) -> &PointsRef<'a> {
        &self.points
    }
}

impl PointSource for ArraySource<'_> {
    fn info(&self) -> &InputInfo {
        &self.info
    }

    fn has_z(&self) -> bool {
        self.points.has_z()
    }

    fn has_weight(&self) -> bool {
        self.points.has_weight()
    }

    fn drop_z(&mut self) {
        self.points.drop_z();
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
        self.points
            .for_each_batch(rows.clone(), scratch, sink)
            .map_err(|error| ChunkError::at(chunk.start, error))?;
        Ok(ChunkStats {
            points_read: rows.len() as u64,
            ..ChunkStats::default()
        })
    }
}
