//! Reading points: every format is a [`PointSource`] — a source cut into
//! independent chunks that any number of workers read in parallel.
//!
//! - [`Input`] opens files and streams of text, raw binary records and
//!   `.npy` (format, header, delimiter and columns resolved once); its
//!   chunks are line- or record-aligned byte ranges of a memory map, or
//!   blocks of a stream. The whole input is never held in memory: mapped
//!   files are paged in by the kernel as the workers touch them, and a
//!   stream is read one block at a time.
//! - [`ArraySource`] bins columns the caller holds ([`PointsRef`]: borrowed
//!   `f32`/`f64` views of any stride, such as numpy arrays) without
//!   copying them; its chunks are ranges of rows.
//! - The [`ChunkQueue`] hands out the chunks of a run's sources in order;
//!   readers turn each into [`Batch`]es of at most [`BATCH`] points for
//!   the binning kernel.

mod array;
mod bounds;
mod categories;
mod compressed;
mod datasets;
mod frames;
mod input;
mod las;
mod npy;
mod options;
mod parquet;
mod parts;
mod points;
mod queue;
mod records;
mod source;
mod stream;
mod text;

pub use array::{ArraySource, RecordsRef};
pub use bounds::{Bounds, Extent};
pub use categories::{CategoryError, Dictionary, NO_CATEGORY};
pub use input::Input;
pub use las::decoding_laz;
pub use npy::parse_header as parse_npy_header;
pub use npy::{NpyDescr, NpyField, NpyHeader};
pub use options::{Column, Delimiter, Format, HeaderMode, ReadOptions};
pub use parts::{open_part, part};
pub use points::{Batch, ByteColumn, CategoryRef, ColumnRef, IntsRef, Points, PointsRef};
pub use queue::ChunkQueue;
pub use records::ValueType;
pub use source::{BadLine, Chunk, ChunkData, ChunkError, ChunkStats, PointSource};

/// The file name that means standard input.
pub const STDIN: &str = "-";

/// How many points a batch holds before it is handed to the binner.
pub const BATCH: usize = 4096;

/// Makes `v` `n` long for a writer that overwrites every value: only growth
/// is filled, so from one full batch to the next nothing is written twice
/// (zeroing the batch first cost 5 % of a count).
pub(crate) fn resize_for_overwrite<T: Copy>(v: &mut Vec<T>, n: usize, fill: T) {
    v.truncate(n);
    v.resize(n, fill);
}

/// Counts `\n` bytes (the compiler vectorises this loop).
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_newlines_counts() {
        assert_eq!(count_newlines(b"a\nb\n\nc"), 3);
        assert_eq!(count_newlines(b""), 0);
    }
}
