//! The one trait between the readers and the binning driver: a
//! [`PointSource`] is cut into independent [`Chunk`]s that any number of
//! workers read in parallel.
//!
//! A chunk is whatever the format reads on its own — a line-aligned byte
//! range of a text file, a record-aligned one of binary records, a block of
//! a stream, a range of rows of borrowed arrays, a Parquet row group,
//! a range of rows of HDF5 datasets, a LAZ chunk. The driver ([`crate::binning`]) asks the sources
//! for chunks one at a time, in order, through a [`super::ChunkQueue`],
//! and its workers turn each chunk into [`Batch`]es for the kernel.

use std::borrow::Cow;
use std::ops::Range;

use super::Batch;
use super::points::Points;
use crate::error::{Error, Result};
use crate::grid::InputInfo;

/// A source of points read in parallel, chunk by chunk.
pub trait PointSource: Send + Sync {
    /// Name, size and modification time, for messages and the grid's list
    /// of inputs.
    fn info(&self) -> &InputInfo;

    /// True when a z column is selected.
    fn has_z(&self) -> bool;

    /// True when a weight column is selected.
    fn has_weight(&self) -> bool;

    /// Stops reading the z column (for layer sets that do not need it).
    fn drop_z(&mut self);

    /// True when a category column is selected.
    fn has_category(&self) -> bool {
        false
    }

    /// True when the source can be read only once (a stream), so that its
    /// ranges cannot be scanned before binning.
    fn is_stream(&self) -> bool {
        false
    }

    /// Bytes of point data, when known: for progress, chunk sizes and the
    /// number of workers.
    fn data_len(&self) -> Option<u64>;

    /// Lines before the data that hold no points (a header, comments).
    fn lines_before_data(&self) -> u64 {
        0
    }

    /// Where the first chunk starts (a byte offset after a header, or
    /// row 0), in the units of [`Chunk::start`].
    fn start(&self) -> u64 {
        0
    }

    /// The chunk of about `target` bytes that starts at `at` (the end of
    /// the previous chunk, or [`PointSource::start`]), or `None` past the
    /// end. Called for one source at a time, in order.
    fn next_chunk(&self, at: u64, target: usize) -> Result<Option<Chunk<'_>>>;

    /// Reads `chunk`, handing `sink` batches of at most
    /// [`BATCH`](super::BATCH) points; `scratch` is the worker's reusable
    /// storage for decoded values. An error carries where in the source it
    /// happened, so that the first one in input order is reported whatever
    /// the scheduling.
    fn read_chunk(
        &self,
        chunk: &Chunk<'_>,
        scratch: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError>;

    /// Line numbers of the skipped lines `bad` (the first ones first, at
    /// most [`InputInfo::MAX_BAD_LINES`]); sources without lines have none.
    fn bad_line_numbers(&self, bad: Vec<BadLine>) -> Vec<u64> {
        let _ = bad;
        Vec::new()
    }

    /// Fails when the source changed since it was opened (its points may
    /// have been read half old, half new).
    fn check_unchanged(&self) -> Result<()> {
        Ok(())
    }

    /// The bounds of the selected x and y (and z) that the source's own
    /// header states (LAS), which the planner takes for the data's bounds
    /// without a scan; `None` when it states none.
    fn declared_bounds(&self) -> Option<super::Bounds> {
        None
    }
}

impl<S: PointSource + ?Sized> PointSource for Box<S> {
    fn info(&self) -> &InputInfo {
        (**self).info()
    }
    fn has_z(&self) -> bool {
        (**self).has_z()
    }
    fn declared_bounds(&self) -> Option<super::Bounds> {
        (**self).declared_bounds()
    }
    fn has_weight(&self) -> bool {
        (**self).has_weight()
    }
    fn drop_z(&mut self) {
        (**self).drop_z()
    }
    fn has_category(&self) -> bool {
        (**self).has_category()
    }
    fn is_stream(&self) -> bool {
        (**self).is_stream()
    }
    fn data_len(&self) -> Option<u64> {
        (**self).data_len()
    }
    fn lines_before_data(&self) -> u64 {
        (**self).lines_before_data()
    }
    fn start(&self) -> u64 {
        (**self).start()
    }
    fn next_chunk(&self, at: u64, target: usize) -> Result<Option<Chunk<'_>>> {
        (**self).next_chunk(at, target)
    }
    fn read_chunk(
        &self,
        chunk: &Chunk<'_>,
        scratch: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError> {
        (**self).read_chunk(chunk, scratch, sink)
    }
    fn bad_line_numbers(&self, bad: Vec<BadLine>) -> Vec<u64> {
        (**self).bad_line_numbers(bad)
    }
    fn check_unchanged(&self) -> Result<()> {
        (**self).check_unchanged()
    }
}

/// A piece of one source that a worker reads on its own.
#[derive(Debug)]
#[non_exhaustive]
pub struct Chunk<'a> {
    /// Index of the source in the run (set by the queue).
    pub input: usize,
    /// Where it starts: a byte offset, or the first row.
    pub start: u64,
    /// Lines before `start`, where known cheaply (streams); for mapped
    /// files they are counted on the error path only.
    pub first_line: Option<u64>,
    /// What it holds.
    pub data: ChunkData<'a>,
}

/// What a [`Chunk`] holds.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChunkData<'a> {
    /// Bytes: borrowed from a map, or owned for a stream.
    Bytes(Cow<'a, [u8]>),
    /// Rows of a source that holds its points itself, and the bytes they
    /// take there (for progress).
    Rows(Range<usize>, u64),
}

impl<'a> Chunk<'a> {
    /// A chunk of bytes starting at byte `start`, after `first_line` lines
    /// when known.
    pub fn bytes(start: u64, first_line: Option<u64>, data: Cow<'a, [u8]>) -> Chunk<'a> {
        Chunk {
            input: 0,
            start,
            first_line,
            data: ChunkData::Bytes(data),
        }
    }

    /// A chunk of `rows`, which take `bytes` bytes in their source.
    pub fn rows(rows: Range<usize>, bytes: u64) -> Chunk<'a> {
        Chunk {
            input: 0,
            start: rows.start as u64,
            first_line: None,
            data: ChunkData::Rows(rows, bytes),
        }
    }

    /// Where the next chunk starts.
    pub fn end(&self) -> u64 {
        match &self.data {
            ChunkData::Bytes(b) => self.start + b.len() as u64,
            ChunkData::Rows(r, _) => r.end as u64,
        }
    }

    /// Bytes of the source it covers (for progress).
    pub fn size(&self) -> u64 {
        match &self.data {
            ChunkData::Bytes(b) => b.len() as u64,
            ChunkData::Rows(_, bytes) => *bytes,
        }
    }

    /// The bytes of a chunk of bytes; empty for rows.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.data {
            ChunkData::Bytes(b) => b,
            ChunkData::Rows(..) => &[],
        }
    }
}

/// What a chunk held besides points.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ChunkStats {
    /// Points read (records, or text lines with data).
    pub points_read: u64,
    /// Lines without data.
    pub lines_ignored: u64,
    /// Malformed lines skipped.
    pub bad_lines: u64,
    /// The first few skipped lines of this chunk.
    pub bad: Vec<BadLine>,
}

/// A skipped malformed line, located within its chunk.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct BadLine {
    /// Where its chunk starts.
    pub chunk_start: u64,
    /// Lines before the chunk, when known.
    pub first_line: Option<u64>,
    /// Its 0-based line number within the chunk.
    pub local_line: u64,
}

/// An error in a chunk, with where it happened (a byte offset or a row),
/// so that the first one in input order can be reported whatever the
/// scheduling.
#[derive(Debug)]
#[non_exhaustive]
pub struct ChunkError {
    /// Where it happened.
    pub offset: u64,
    /// What happened.
    pub error: Error,
}

impl ChunkError {
    /// `error`, at `offset`.
    pub fn at(offset: u64, error: Error) -> ChunkError {
        ChunkError { offset, error }
    }
}
