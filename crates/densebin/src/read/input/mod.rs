//! Inputs read from files and streams: text, raw binary records and
//! `.npy`, memory-mapped and cut into line- or record-aligned byte ranges,
//! or read block by block from a stream. [`Input`] is their
//! [`PointSource`]; the columns are resolved in `columns.rs`, streams and
//! compressed files opened in `streamed.rs`.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use memmap2::Mmap;

use super::compressed::Codec;
use super::datasets::Hdf5Layout;
use super::las::LasLayout;
use super::npy;
use super::options::{Delimiter, Format, ReadOptions};
use super::parquet::ParquetLayout;
use super::points::{Batch, Points};
use super::records::{RecordLayout, ValueType};
use super::source::{BadLine, Chunk, ChunkData, ChunkError, ChunkStats, PointSource};
use super::stream::Stream;
use super::text::{self, TextLayout};
use super::{STDIN, count_newlines};
use crate::error::{Error, Result};
use crate::grid::InputInfo;
use crate::param::Param;

mod columns;
mod streamed;

use columns::resolve_columns;
pub(crate) use columns::{ColumnNames, Columns};
use streamed::sniff_file;

pub(crate) enum Layout {
    Text(TextLayout),
    Records(RecordLayout),
    Parquet(ParquetLayout),
    Hdf5(Hdf5Layout),
    Las(LasLayout),
}

enum Source {
    /// A memory-mapped file, with its size and modification time when it
    /// was opened (see [`Input::check_unchanged`]).
    Mapped(Mmap, u64, Option<std::time::SystemTime>),
    Stream(Mutex<Stream>),
}

/// One opened input: its format, header and columns resolved.
pub struct Input {
    info: InputInfo,
    path: PathBuf,
    source: Source,
    layout: Layout,
    pub(crate) columns: Columns,
    /// First byte of point data (after a BOM, header or `.npy` header).
    data_start: u64,
    /// Lines before `data_start` that hold no data (comments, header).
    lines_before_data: u64,
    pub(crate) skip_bad_lines: bool,
    /// The bytes of the file whose points are read, when only a part is
    /// ([`Input::restrict`]): from the first line or record that starts in
    /// the part to the first one after it.
    part: Option<std::ops::Range<u64>>,
    /// False for a part that does not start at the file's first byte.
    counts_preamble: bool,
    /// A compressed file, which can be decompressed again from its start
    /// for a second pass (the range scan, then binning).
    reopen: Option<Codec>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.info.name)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// Opens `path` (or standard input for `-`), maps it, and resolves the
    /// format, the header, the delimiter and the columns.
    pub fn open(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Input> {
        let path = path.as_ref();
        let name = path.to_string_lossy().into_owned();
        let format = opts.format;
        if name == STDIN {
            let format = match format {
                Format::Auto => format_from_extension(path),
                f => f,
            };
            return Input::open_stream(Box::new(std::io::stdin()), name, format, opts);
        }
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if !meta.is_dir()
            && let Some(codec) = sniff_file(&mut file).map_err(|e| Error::io(path, e))?
        {
            return Input::open_compressed(path, file, &meta, codec, opts.format, opts);
        }
        if meta.is_dir() {
            return Err(Error::io(
                path,
                std::io::Error::other("is a directory, not a file"),
            ));
        }
        let info = InputInfo {
            name: name.clone(),
            size: Some(meta.len()),
            mtime: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64),
            ..InputInfo::default()
        };
        // SAFETY: the map is read-only; another process truncating the file
        // while it is mapped could make reads fault (SIGBUS), as for every
        // memory-mapped reader. densebin documents that inputs must not be
        // modified during a run. What it buys: zero-copy parallel access to
        // inputs far larger than memory, paged in and out by the kernel
        // (see `crates/densebin/benches/read.rs` for read throughput).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let bytes: &[u8] = &map;
        let format = match format {
            Format::Auto => format_from_magic(bytes).unwrap_or_else(|| format_from_extension(path)),
            f => f,
        };
        let (layout, names, data_start, lines_before_data) = match format {
            Format::Text | Format::Auto => {
                let t = TextLayout::sniff(&name, bytes, true, opts)
                    .map_err(text::SniffError::into_error)?;
                let (start, lines) = (t.data_start, t.lines_before_data);
                let names = t.column_names();
                (Layout::Text(t), names, start, lines)
            }
            Format::F32 | Format::F64 => {
                let (r, names) = raw_records(&name, format, opts.fields)?;
                r.check_size(&name, bytes.len() as u64, 0)?;
                (Layout::Records(r), names, 0, 0)
            }
            Format::Npy => {
                let header = npy::parse_header(bytes).map_err(|reason| Error::Npy {
                    path: name.clone(),
                    reason,
                })?;
                let (r, names) = RecordLayout::from_npy(&header).map_err(|reason| Error::Npy {
                    path: name.clone(),
                    reason,
                })?;
                let start = header.data_offset as u64;
                r.check_npy_size(&name, bytes.len() as u64, start, header.records())?;
                let count = r.fields.len();
                let names = ColumnNames {
                    count,
                    names,
                    no_names_because: "a plain 2-D array has no field names: use 0-based indices",
                    split_by: None,
                    defaults_by_name: false,
                };
                (Layout::Records(r), names, start, 0)
            }
            Format::Parquet => {
                let (p, names) = ParquetLayout::open(&name, &file)?;
                (Layout::Parquet(p), names, 0, 0)
            }
            Format::Hdf5 => {
                let (h, names) = Hdf5Layout::open(&name, meta.len())?;
                (Layout::Hdf5(h), names, 0, 0)
            }
            Format::Las => {
                let (l, names) = LasLayout::open(&name, bytes)?;
                // LAS records start at the header's offset; LAZ chunks are
                // counted from 0.
                let start = if l.is_compressed() { 0 } else { l.data_start };
                (Layout::Las(l), names, start, 0)
            }
        };
        let mut layout = layout;
        let columns = resolve_columns(&name, &names, opts, &mut layout)?;
        let info = InputInfo {
            columns: names.named([columns.x, columns.y]),
            format: format.shown().to_string(),
            ..info
        };
        Ok(Input {
            info,
            path: path.to_path_buf(),
            source: Source::Mapped(map, meta.len(), meta.modified().ok()),
            layout,
            columns,
            data_start,
            lines_before_data,
            skip_bad_lines: opts.skip_bad_lines,
            part: None,
            counts_preamble: true,
            reopen: None,
        })
    }

    /// This input restricted to the points that start in the file's bytes
    /// `range`: the lines, or records, whose first byte lies in it (headers
    /// are never points). Ranges that tile a file tile its points, each
    /// line or record in exactly one; line numbers in messages stay those
    /// of the whole file. Streams cannot be read in parts.
    pub fn restrict(mut self, range: std::ops::Range<u64>) -> Result<Input> {
        let Source::Mapped(map, ..) = &self.source else {
            let why = match self.reopen {
                Some(codec) => format!(
                    "a {} file must be decompressed in order, so it cannot be read in parts; \
                     bin it whole, or decompress it first",
                    codec.name()
                ),
                None => "a stream cannot be read in parts; give a file".to_string(),
            };
            return Err(Error::request(format!("{}: {why}", self.info.name)));
        };
        let begin = self.point_start_at(map, range.start);
        let end = self.point_start_at(map, range.end).max(begin);
        self.part = Some(begin..end);
        self.counts_preamble = range.start == 0;
        Ok(self)
    }

    /// Where the first line or record that starts at or after byte `at`
    /// starts (the end of the data when none does).
    fn point_start_at(&self, data: &[u8], at: u64) -> u64 {
        let len = data.len() as u64;
        let at = at.clamp(self.data_start, len);
        match &self.layout {
            Layout::Text(_) => {
                if at == self.data_start || at == len || data[at as usize - 1] == b'\n' {
                    at
                } else {
                    memchr::memchr(b'\n', &data[at as usize..]).map_or(len, |i| at + i as u64 + 1)
                }
            }
            Layout::Records(r) => {
                let size = r.record_size as u64;
                let whole = (len - self.data_start) / size * size;
                let k = (at - self.data_start).div_ceil(size) * size;
                self.data_start + k.min(whole)
            }
            // A Parquet file's parts are its row groups, by where they start.
            Layout::Parquet(p) => p.row_group_at(at) as u64,
            // An HDF5 file's by the rows its bytes stand for.
            Layout::Hdf5(h) => h.row_at(at),
            // A LAZ file's by its chunks, a LAS file's by its records.
            Layout::Las(l) if l.is_compressed() => l.chunk_at(at) as u64,
            Layout::Las(l) => {
                let size = l.record_len as u64;
                let at = at.min(l.data_end);
                self.data_start + (at - self.data_start).div_ceil(size) * size
            }
        }
    }

    /// The delimiter in use, for text inputs.
    pub fn delimiter(&self) -> Option<Delimiter> {
        match &self.layout {
            Layout::Text(t) => Some(t.delimiter()),
            Layout::Records(_) | Layout::Parquet(_) | Layout::Hdf5(_) | Layout::Las(_) => None,
        }
    }

    /// The header's column names, for text inputs that have one.
    pub fn header(&self) -> Option<&[String]> {
        match &self.layout {
            Layout::Text(t) => t.header.as_deref(),
            Layout::Records(_) | Layout::Parquet(_) | Layout::Hdf5(_) | Layout::Las(_) => None,
        }
    }

    /// The 1-based line number of the line with local index `local_line`
    /// in `chunk`.
    pub(crate) fn line_number(&self, chunk_start: u64, first_line: Option<u64>, local: u64) -> u64 {
        let before = first_line.unwrap_or_else(|| match &self.source {
            Source::Mapped(m, ..) => {
                self.lines_before_data
                    + count_newlines(&m[self.data_start as usize..chunk_start as usize])
            }
            Source::Stream(_) => 0,
        });
        before + local + 1
    }
}

/// The layout and column names of raw `f32`/`f64` records of `fields`
/// values.
fn raw_records(name: &str, format: Format, fields: usize) -> Result<(RecordLayout, ColumnNames)> {
    let ty = if format == Format::F32 {
        ValueType::F32Le
    } else {
        ValueType::F64Le
    };
    let layout = RecordLayout::uniform(ty, fields)
        .map_err(|reason| Error::request(format!("{name}: {reason}")))?;
    let names = ColumnNames {
        count: fields,
        names: None,
        no_names_because: "raw binary records have no names: use 0-based indices",
        split_by: Some(Param::Fields),
        defaults_by_name: false,
    };
    Ok((layout, names))
}

/// The format of a file that starts with `bytes`, where its first bytes
/// say: Parquet's `PAR1`, HDF5's signature (at offset 0, where every
/// file h5py and libhdf5 write has it).
fn format_from_magic(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"PAR1") {
        Some(Format::Parquet)
    } else if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        Some(Format::Hdf5)
    } else if bytes.starts_with(b"LASF") {
        Some(Format::Las)
    } else {
        None
    }
}

fn format_from_extension(path: &Path) -> Format {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("npy") => Format::Npy,
        Some("f32") => Format::F32,
        Some("f64") => Format::F64,
        Some("parquet" | "pq") => Format::Parquet,
        Some("h5" | "hdf5") => Format::Hdf5,
        Some("las" | "laz") => Format::Las,
        _ => Format::Text,
    }
}

impl PointSource for Input {
    fn info(&self) -> &InputInfo {
        &self.info
    }

    fn has_z(&self) -> bool {
        self.columns.z.is_some()
    }

    fn has_weight(&self) -> bool {
        self.columns.w.is_some()
    }

    fn drop_z(&mut self) {
        self.columns.z = None;
    }

    fn has_category(&self) -> bool {
        self.columns.c.is_some()
    }

    fn declared_bounds(&self) -> Option<super::Bounds> {
        match &self.layout {
            Layout::Las(l) => l.declared_bounds(&self.columns),
            _ => None,
        }
    }

    fn is_stream(&self) -> bool {
        matches!(self.source, Source::Stream(_)) && self.reopen.is_none()
    }

    fn data_len(&self) -> Option<u64> {
        if let Layout::Parquet(p) = &self.layout {
            let groups = self.part.clone().unwrap_or(0..p.row_groups() as u64);
            return Some(p.bytes_of(groups.start as usize..groups.end as usize));
        }
        if let Layout::Hdf5(h) = &self.layout {
            return Some(h.bytes_of(self.part.clone().unwrap_or(0..h.rows())));
        }
        if let Layout::Las(l) = &self.layout {
            return Some(match (l.is_compressed(), &self.part) {
                (true, part) => {
                    let r = part.clone().unwrap_or(0..l.chunks() as u64);
                    l.chunk_bytes(r.start as usize..r.end as usize)
                }
                (false, Some(part)) => part.end - part.start,
                (false, None) => l.data_end - l.data_start,
            });
        }
        match (&self.source, &self.part) {
            (Source::Mapped(..), Some(part)) => Some(part.end - part.start),
            (Source::Mapped(m, ..), None) => Some(m.len() as u64 - self.data_start),
            (Source::Stream(_), _) => None,
        }
    }

    /// The lines before the data; of a file's parts only the one from its
    /// first byte counts them, so that the parts' counters add up to the
    /// whole's.
    fn lines_before_data(&self) -> u64 {
        if self.counts_preamble {
            self.lines_before_data
        } else {
            0
        }
    }

    fn start(&self) -> u64 {
        self.part.as_ref().map_or(self.data_start, |p| p.start)
    }

    /// A line-aligned (text) or record-aligned (binary) byte range of a
    /// mapped file, or the next block of a stream.
    fn next_chunk(&self, at: u64, target: usize) -> Result<Option<Chunk<'_>>> {
        match &self.source {
            Source::Mapped(..) if let Layout::Parquet(p) = &self.layout => {
                // One row group a chunk: `at` counts row groups.
                let end = self.part.as_ref().map_or(p.row_groups() as u64, |r| r.end);
                Ok((at < end).then(|| {
                    Chunk::rows(
                        at as usize..at as usize + 1,
                        p.bytes_of(at as usize..at as usize + 1),
                    )
                }))
            }
            Source::Mapped(..) if let Layout::Hdf5(h) = &self.layout => {
                let end = self.part.as_ref().map_or(h.rows(), |r| r.end);
                Ok((at < end).then(|| {
                    let rows = h.chunk_at(at, target, end);
                    let bytes = h.bytes_of(rows.clone());
                    Chunk::rows(rows.start as usize..rows.end as usize, bytes)
                }))
            }
            Source::Mapped(..)
                if let Layout::Las(l) = &self.layout
                    && l.is_compressed() =>
            {
                // One LAZ chunk a chunk: `at` counts them.
                let end = self.part.as_ref().map_or(l.chunks() as u64, |r| r.end);
                Ok((at < end).then(|| {
                    let i = at as usize;
                    Chunk::rows(i..i + 1, l.chunk_bytes(i..i + 1))
                }))
            }
            Source::Mapped(map, ..) => {
                let end = self.part.as_ref().map_or(map.len(), |p| p.end as usize);
                let data: &[u8] = &map[..end];
                let start = at as usize;
                if start >= data.len() {
                    return Ok(None);
                }
                let end = match &self.layout {
                    Layout::Text(_) => text_cut(data, start, target),
                    Layout::Records(r) => {
                        let n = (target / r.record_size).max(1) * r.record_size;
                        (start + n).min(data.len())
                    }
                    Layout::Las(l) => {
                        let n = (target / l.record_len).max(1) * l.record_len;
                        (start + n).min(data.len()).min(l.data_end as usize)
                    }
                    Layout::Parquet(_) | Layout::Hdf5(_) => unreachable!("rows are cut above"),
                };
                Ok((end > start).then(|| Chunk::bytes(at, None, Cow::Borrowed(&data[start..end]))))
            }
            Source::Stream(stream) => {
                let mut s = stream.lock().unwrap_or_else(|p| p.into_inner());
                // A second pass over a compressed file: decompress it again,
                // past the header.
                if let Some(codec) = self.reopen
                    && at == self.data_start
                    && s.offset != self.data_start
                {
                    *s = self.rewound(codec, &s)?;
                }
                Ok(s.next_block(&self.info.name, &self.path)?
                    .map(|(start, lines, block)| {
                        Chunk::bytes(start, Some(lines), Cow::Owned(block))
                    }))
            }
        }
    }

    /// Parses one chunk, calling `sink` with batches of at most [`BATCH`](super::BATCH)
    /// points.
    fn read_chunk(
        &self,
        chunk: &Chunk<'_>,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError> {
        pts.clear();
        match &self.layout {
            Layout::Text(t) => t.read_chunk(self, chunk, pts, sink),
            Layout::Records(r) => r
                .read_chunk(chunk.as_bytes(), &self.columns, pts, sink)
                .map_err(|error| ChunkError::at(chunk.start, error)),
            Layout::Parquet(p) => p
                .read_row_group(chunk.start as usize, &self.columns, pts, sink)
                .map_err(|error| ChunkError::at(chunk.start, error)),
            Layout::Hdf5(h) => h
                .read_rows(chunk.start..chunk.end(), &self.columns, pts, sink)
                .map_err(|error| ChunkError::at(chunk.start, error)),
            Layout::Las(l) => match (&self.source, &chunk.data) {
                (Source::Mapped(map, ..), ChunkData::Rows(..)) => {
                    l.read_laz_chunk(map, chunk.start as usize, &self.columns, pts, sink)
                }
                _ => l.read_records(chunk.as_bytes(), &self.columns, pts, sink),
            }
            .map_err(|error| ChunkError::at(chunk.start, error)),
        }
    }

    /// Line numbers of skipped bad lines, first ones first, at most
    /// [`InputInfo::MAX_BAD_LINES`].
    fn bad_line_numbers(&self, mut bad: Vec<BadLine>) -> Vec<u64> {
        bad.sort_by_key(|b| (b.chunk_start, b.local_line));
        bad.truncate(InputInfo::MAX_BAD_LINES);
        // Count newlines once, incrementally, up to the last chunk needed.
        let mut counted_to = self.data_start;
        let mut lines = self.lines_before_data;
        bad.iter()
            .map(|b| match (b.first_line, &self.source) {
                (Some(first), _) => first + b.local_line + 1,
                (None, Source::Mapped(m, ..)) => {
                    lines += count_newlines(&m[counted_to as usize..b.chunk_start as usize]);
                    counted_to = b.chunk_start;
                    lines + b.local_line + 1
                }
                (None, Source::Stream(_)) => b.local_line + 1,
            })
            .collect()
    }

    /// Fails when the file changed since it was opened (another size or
    /// modification time): its points may have been read half old, half
    /// new. A file that shrinks while it is read can even make its mapped
    /// pages vanish (SIGBUS; the command line reports it and exits).
    /// Streams have nothing to compare.
    fn check_unchanged(&self) -> Result<()> {
        let Source::Mapped(_, len, modified) = &self.source else {
            return Ok(());
        };
        let changed = |what: String| Error::InputChanged {
            path: self.info.name.clone(),
            what,
        };
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| changed(format!("it can no longer be read: {e}")))?;
        if meta.len() != *len {
            return Err(changed(format!("{} bytes, now {}", len, meta.len())));
        }
        if meta.modified().ok() != *modified {
            return Err(changed("it was modified".to_string()));
        }
        Ok(())
    }
}

/// The end of a text chunk that starts at `start`: just after the first
/// newline at or beyond `start + target`, or the end of the data.
fn text_cut(data: &[u8], start: usize, target: usize) -> usize {
    let from = start.saturating_add(target);
    if from >= data.len() {
        return data.len();
    }
    match memchr::memchr(b'\n', &data[from..]) {
        Some(i) => from + i + 1,
        None => data.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_by_extension() {
        assert_eq!(format_from_extension(Path::new("a.NPY")), Format::Npy);
        assert_eq!(format_from_extension(Path::new("a.f32")), Format::F32);
        assert_eq!(format_from_extension(Path::new("a.f64")), Format::F64);
        assert_eq!(format_from_extension(Path::new("a.csv")), Format::Text);
        assert_eq!(format_from_extension(Path::new("a")), Format::Text);
    }

    #[test]
    fn text_cut_ends_after_a_newline() {
        let data = b"1 2\n3 4\n5 6\n";
        assert_eq!(text_cut(data, 0, 1), 4);
        assert_eq!(text_cut(data, 0, 4), 8);
        assert_eq!(text_cut(data, 4, 100), 12);
        assert_eq!(text_cut(b"1 2\n3 4", 0, 5), 7);
    }
}
