//! Reading points: text, raw binary records and `.npy` files, memory-mapped
//! and cut into independent chunks, or streamed from standard input.
//!
//! An [`Input`] is opened once (format, header, delimiter and columns are
//! resolved then); a chunk queue then hands out byte ranges — line-aligned
//! for text, record-aligned for binary — that any number of workers turn into
//! batches of [`Points`] for the binner. The whole input is never
//! held in memory: mapped files are paged in by the kernel as the workers
//! touch them, and a stream is read one block at a time.

mod bounds;
mod npy;
mod records;
mod text;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use memmap2::Mmap;

use crate::error::{Error, Result};
use crate::grid::InputInfo;
use crate::param::Param;

pub use bounds::{Bounds, Extent};
pub use npy::parse_header as parse_npy_header;
pub use npy::{NpyDescr, NpyField, NpyHeader};
use records::RecordLayout;
pub use records::ValueType;
use text::TextLayout;

/// The file name that means standard input.
pub const STDIN: &str = "-";

/// How many points a batch holds before it is handed to the binner.
pub const BATCH: usize = 4096;

/// A batch of points in columns. `z` and `w` are empty when the input has no
/// such column; otherwise all four have the same length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Points {
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates.
    pub y: Vec<f64>,
    /// z values (empty when there is no z column).
    pub z: Vec<f64>,
    /// Weights (empty when there is no weight column).
    pub w: Vec<f64>,
}

impl Points {
    /// An empty batch with room for [`BATCH`] points.
    pub fn with_capacity(has_z: bool, has_w: bool) -> Points {
        let cap = |on: bool| Vec::with_capacity(if on { BATCH } else { 0 });
        Points {
            x: cap(true),
            y: cap(true),
            z: cap(has_z),
            w: cap(has_w),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Removes all points, keeping the allocations.
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.w.clear();
    }

    #[inline]
    fn push(&mut self, v: [f64; 4], has_z: bool, has_w: bool) {
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

/// The kind of an input file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// By extension: `.npy`, `.f32`, `.f64`; anything else is text.
    #[default]
    Auto,
    /// Delimited or whitespace-separated text, one point per line.
    Text,
    /// Raw little-endian `f32` records of `fields` values.
    F32,
    /// Raw little-endian `f64` records of `fields` values.
    F64,
    /// A NumPy `.npy` file: a 2-D `(N, k)` float array, or a structured
    /// array with named float fields.
    Npy,
}

/// How text columns are separated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delimiter {
    /// Sniffed from the first lines: comma, tab or semicolon when one occurs
    /// (outside quotes) on every sampled line, else whitespace.
    #[default]
    Auto,
    /// Runs of spaces and tabs.
    Whitespace,
    /// `,` (RFC 4180 CSV).
    Comma,
    /// A single tab.
    Tab,
    /// `;`.
    Semicolon,
}

/// Whether a text file starts with a line of column names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderMode {
    /// A header when the first line that is not blank or a comment has a
    /// field that is not a number.
    #[default]
    Auto,
    /// The first such line is a header.
    Present,
    /// There is no header.
    Absent,
}

/// A column chosen on the command line: a 0-based index or a name from the
/// header (text) or the field names (structured `.npy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// 0-based position.
    Index(usize),
    /// A name from the header or the dtype.
    Name(String),
}

impl std::str::FromStr for Column {
    type Err = std::convert::Infallible;

    /// All digits make an index; anything else is a name.
    fn from_str(s: &str) -> std::result::Result<Column, Self::Err> {
        Ok(match s.parse::<usize>() {
            Ok(i) if s.bytes().all(|b| b.is_ascii_digit()) => Column::Index(i),
            _ => Column::Name(s.to_string()),
        })
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Index(i) => write!(f, "{i}"),
            Column::Name(n) => write!(f, "{n:?}"),
        }
    }
}

/// How to read inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// The file format.
    pub format: Format,
    /// Values per record of raw binary input.
    pub fields: usize,
    /// Text column separator.
    pub delimiter: Delimiter,
    /// Text header line.
    pub header: HeaderMode,
    /// The x column.
    pub x: Column,
    /// The y column.
    pub y: Column,
    /// The z column; `None` takes column 2 when the input has one.
    pub z: Option<Column>,
    /// An optional weight column.
    pub weight: Option<Column>,
    /// Count and skip malformed text lines instead of failing.
    pub skip_bad_lines: bool,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: Format::Auto,
            fields: 3,
            delimiter: Delimiter::Auto,
            header: HeaderMode::Auto,
            x: Column::Index(0),
            y: Column::Index(1),
            z: None,
            weight: None,
            skip_bad_lines: false,
        }
    }
}

/// Where the selected columns are: indices into a line's fields or a
/// record's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Columns {
    pub x: usize,
    pub y: usize,
    pub z: Option<usize>,
    pub w: Option<usize>,
}

impl Columns {
    /// The columns in slot order x, y, z, w.
    fn slots(&self) -> [Option<usize>; 4] {
        [Some(self.x), Some(self.y), self.z, self.w]
    }
}

/// What one input's columns are called, for resolving and error messages.
struct ColumnNames {
    count: usize,
    names: Option<Vec<String>>,
    /// Why names are missing (for the error message).
    no_names_because: &'static str,
    /// The parameter that decides how the input splits into columns,
    /// where a missing column may be its fault.
    split_by: Option<Param>,
}

impl ColumnNames {
    /// The index of column `col`, which the user gave as `param`.
    fn resolve(&self, path: &str, param: Param, col: &Column) -> Result<usize> {
        let found = match col {
            Column::Index(i) => (*i < self.count).then_some(*i),
            Column::Name(n) => self.names.as_ref().and_then(|names| {
                names
                    .iter()
                    .position(|h| h == n)
                    .or_else(|| names.iter().position(|h| h.eq_ignore_ascii_case(n)))
            }),
        };
        found.ok_or_else(|| Error::MissingColumn {
            path: path.to_string(),
            column: col.to_string(),
            available: self.describe(),
            remedy: match self.split_by {
                Some(split) => format!(
                    "choose one with {}, or check {}",
                    param.mark(),
                    split.mark()
                ),
                None => format!("choose one with {}", param.mark()),
            },
        })
    }

    fn describe(&self) -> String {
        let columns = match self.count {
            1 => "1 column".to_string(),
            n => format!("{n} columns"),
        };
        match &self.names {
            Some(names) => format!(
                "it has {columns}: {}",
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{i}={n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!(
                "it has {columns} (0 to {}) and {}",
                self.count.saturating_sub(1),
                self.no_names_because
            ),
        }
    }
}

enum Layout {
    Text(TextLayout),
    Records(RecordLayout),
}

/// Makes `v` `n` long for a writer that overwrites every value: only growth
/// is filled, so from one full batch to the next nothing is written twice
/// (zeroing the batch first cost 5 % of a count).
pub(crate) fn resize_for_overwrite<T: Copy>(v: &mut Vec<T>, n: usize, fill: T) {
    v.truncate(n);
    v.resize(n, fill);
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
    columns: Columns,
    /// First byte of point data (after a BOM, header or `.npy` header).
    data_start: u64,
    /// Lines before `data_start` that hold no data (comments, header).
    lines_before_data: u64,
    skip_bad_lines: bool,
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
        let format = match opts.format {
            Format::Auto => format_from_extension(path),
            f => f,
        };
        if name == STDIN {
            return Input::open_stream(Box::new(std::io::stdin()), name, format, opts);
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
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
            bad_lines: Vec::new(),
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
                };
                (Layout::Records(r), names, start, 0)
            }
        };
        let columns = resolve_columns(&name, &names, opts, &layout)?;
        Ok(Input {
            info,
            path: path.to_path_buf(),
            source: Source::Mapped(map, meta.len(), meta.modified().ok()),
            layout,
            columns,
            data_start,
            lines_before_data,
            skip_bad_lines: opts.skip_bad_lines,
        })
    }

    /// Opens a stream (standard input, or any reader) of text or raw binary
    /// records. Its first block is read now to find the header and the
    /// delimiter; the rest is read as the workers ask for it.
    pub fn open_stream(
        mut reader: Box<dyn Read + Send>,
        name: String,
        format: Format,
        opts: &ReadOptions,
    ) -> Result<Input> {
        let path = PathBuf::from(&name);
        let info = InputInfo {
            name: name.clone(),
            ..InputInfo::default()
        };
        let (layout, names, stream, data_start, lines_before_data) = match format {
            Format::Npy => {
                return Err(Error::request(format!(
                    "{name}: .npy input cannot be streamed; give a file, or raw records with {} f32",
                    Param::Format.mark()
                )));
            }
            Format::F32 | Format::F64 => {
                let (r, names) = raw_records(&name, format, opts.fields)?;
                let cut = StreamCut::Records {
                    size: r.record_size,
                    fields: r.fields.len(),
                    value_size: r.fields[0].ty.size(),
                };
                let stream = Stream::new(reader, Vec::new(), cut);
                (Layout::Records(r), names, stream, 0, 0)
            }
            Format::Text | Format::Auto => {
                // Read until the buffer holds a data line (or the stream ends).
                let mut buf = Vec::new();
                let mut eof = false;
                let layout = loop {
                    if !eof {
                        eof = fill(&mut *reader, &mut buf, Stream::BLOCK)
                            .map_err(|e| Error::io(&path, e))?;
                    }
                    match TextLayout::sniff(&name, &buf, eof, opts) {
                        Ok(t) => break t,
                        Err(text::SniffError::NeedMore) => {}
                        Err(text::SniffError::Fatal(e)) => return Err(e),
                    }
                };
                let start = layout.data_start as usize;
                let lines = layout.lines_before_data;
                let names = layout.column_names();
                let mut stream = Stream::new(reader, buf.split_off(start), StreamCut::Lines);
                stream.eof = eof;
                stream.lines = lines;
                stream.offset = start as u64;
                (Layout::Text(layout), names, stream, start as u64, lines)
            }
        };
        let columns = resolve_columns(&name, &names, opts, &layout)?;
        Ok(Input {
            info,
            path,
            source: Source::Stream(Mutex::new(stream)),
            layout,
            columns,
            data_start,
            lines_before_data,
            skip_bad_lines: opts.skip_bad_lines,
        })
    }

    /// Fails when the file changed since it was opened (another size or
    /// modification time): its points may have been read half old, half
    /// new. A file that shrinks while it is read can even make its mapped
    /// pages vanish (SIGBUS; the command line reports it and exits).
    /// Streams have nothing to compare.
    pub fn check_unchanged(&self) -> Result<()> {
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

    /// Name, size and modification time.
    pub fn info(&self) -> &InputInfo {
        &self.info
    }

    /// True when the input is a stream, which can be read only once.
    pub fn is_stream(&self) -> bool {
        matches!(self.source, Source::Stream(_))
    }

    /// True when a z column is selected.
    pub fn has_z(&self) -> bool {
        self.columns.z.is_some()
    }

    /// True when a weight column is selected.
    pub fn has_weight(&self) -> bool {
        self.columns.w.is_some()
    }

    /// Stops reading the z column (for layer sets that do not need it).
    pub fn drop_z(&mut self) {
        self.columns.z = None;
    }

    /// Size of the point data in bytes, when known (for progress bars).
    pub fn data_len(&self) -> Option<u64> {
        match &self.source {
            Source::Mapped(m, ..) => Some(m.len() as u64 - self.data_start),
            Source::Stream(_) => None,
        }
    }

    /// Lines before the data that hold no points (header, comments).
    pub fn lines_before_data(&self) -> u64 {
        self.lines_before_data
    }

    /// The delimiter in use, for text inputs.
    pub fn delimiter(&self) -> Option<Delimiter> {
        match &self.layout {
            Layout::Text(t) => Some(t.delimiter()),
            Layout::Records(_) => None,
        }
    }

    /// The header's column names, for text inputs that have one.
    pub fn header(&self) -> Option<&[String]> {
        match &self.layout {
            Layout::Text(t) => t.header.as_deref(),
            Layout::Records(_) => None,
        }
    }

    /// Parses one chunk, calling `sink` with batches of at most [`BATCH`]
    /// points.
    pub(crate) fn read_chunk(
        &self,
        chunk: &Chunk<'_>,
        pts: &mut Points,
        sink: &mut dyn FnMut(&Points) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError> {
        pts.clear();
        match &self.layout {
            Layout::Text(t) => t.read_chunk(self, chunk, pts, sink),
            Layout::Records(r) => {
                r.read_chunk(&chunk.data, &self.columns, pts, sink)
                    .map_err(|error| ChunkError {
                        offset: chunk.start,
                        error,
                    })
            }
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

    /// Line numbers of skipped bad lines, first ones first, at most
    /// [`InputInfo::MAX_BAD_LINES`].
    pub(crate) fn bad_line_numbers(&self, mut bad: Vec<BadLine>) -> Vec<u64> {
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
    };
    Ok((layout, names))
}

fn format_from_extension(path: &Path) -> Format {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("npy") => Format::Npy,
        Some("f32") => Format::F32,
        Some("f64") => Format::F64,
        _ => Format::Text,
    }
}

fn resolve_columns(
    name: &str,
    names: &ColumnNames,
    opts: &ReadOptions,
    layout: &Layout,
) -> Result<Columns> {
    let x = names.resolve(name, Param::X, &opts.x)?;
    let y = names.resolve(name, Param::Y, &opts.y)?;
    let z = match &opts.z {
        Some(c) => Some(names.resolve(name, Param::Z, c)?),
        None => (names.count > 2).then_some(2),
    };
    let w = opts
        .weight
        .as_ref()
        .map(|c| names.resolve(name, Param::Weight, c))
        .transpose()?;
    let columns = Columns { x, y, z, w };
    if let Layout::Records(r) = layout {
        r.check_selected(name, &columns, opts.z.is_some())
            .map(|z| Columns { z, ..columns })
    } else {
        Ok(columns)
    }
}

/// Counts `\n` bytes (the compiler vectorises this loop).
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Reads from `r` until `buf` has grown by `want` bytes or the stream ends;
/// returns true at the end of the stream.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let target = buf.len() + want;
    while buf.len() < target {
        let n = r.take((target - buf.len()) as u64).read_to_end(buf);
        match n {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Where a stream's blocks may be cut.
enum StreamCut {
    /// After the last newline.
    Lines,
    /// At a multiple of the record size.
    Records {
        size: usize,
        fields: usize,
        value_size: usize,
    },
}

/// A stream read block by block.
struct Stream {
    reader: Box<dyn Read + Send>,
    /// Bytes read but not yet handed out (an incomplete last line).
    pending: Vec<u8>,
    cut: StreamCut,
    eof: bool,
    /// Byte offset of `pending[0]` in the stream.
    offset: u64,
    /// Newlines before `pending[0]`.
    lines: u64,
}

impl Stream {
    const BLOCK: usize = 4 << 20;

    fn new(reader: Box<dyn Read + Send>, pending: Vec<u8>, cut: StreamCut) -> Stream {
        Stream {
            reader,
            pending,
            cut,
            eof: false,
            offset: 0,
            lines: 0,
        }
    }

    /// The next block of whole lines or records, or `None` at the end.
    fn next_block(&mut self, name: &str, path: &Path) -> Result<Option<(u64, u64, Vec<u8>)>> {
        loop {
            if !self.eof && self.pending.len() < Stream::BLOCK {
                self.eof = fill(&mut *self.reader, &mut self.pending, Stream::BLOCK)
                    .map_err(|e| Error::io(path, e))?;
            }
            let cut = match self.cut {
                StreamCut::Lines if self.eof => self.pending.len(),
                StreamCut::Lines => match memchr::memrchr(b'\n', &self.pending) {
                    Some(i) => i + 1,
                    // A line longer than a block: read more.
                    None => {
                        let more = self.pending.len();
                        self.eof = fill(&mut *self.reader, &mut self.pending, more)
                            .map_err(|e| Error::io(path, e))?;
                        continue;
                    }
                },
                StreamCut::Records {
                    size,
                    fields,
                    value_size,
                } => {
                    let whole = self.pending.len() / size * size;
                    let total = self.offset + self.pending.len() as u64;
                    if self.eof && whole != self.pending.len() {
                        return Err(Error::RecordSize {
                            path: name.to_string(),
                            size: total,
                            record_size: size,
                            fields,
                            value_size,
                        });
                    }
                    if self.eof && total == 0 {
                        return Err(Error::EmptyInput {
                            path: name.to_string(),
                            what: "no records: the stream is empty".to_string(),
                        });
                    }
                    whole
                }
            };
            if cut == 0 {
                return Ok(None);
            }
            let rest = self.pending.split_off(cut);
            let block = std::mem::replace(&mut self.pending, rest);
            let (start, lines) = (self.offset, self.lines);
            self.offset += block.len() as u64;
            if matches!(self.cut, StreamCut::Lines) {
                self.lines += count_newlines(&block);
            }
            return Ok(Some((start, lines, block)));
        }
    }
}

/// A piece of one input that a worker parses on its own.
pub(crate) struct Chunk<'a> {
    /// Index of the input in the run.
    pub input: usize,
    /// Byte offset of `data[0]` in the input.
    pub start: u64,
    /// Lines before `data[0]` (known for streams; computed on demand for
    /// mapped files, and only on the error path).
    pub first_line: Option<u64>,
    /// The bytes: borrowed from the map, or owned for a stream.
    pub data: Cow<'a, [u8]>,
}

/// What a chunk held besides points.
#[derive(Debug, Default)]
pub(crate) struct ChunkStats {
    pub points_read: u64,
    pub lines_ignored: u64,
    pub bad_lines: u64,
    /// The first few skipped lines of this chunk.
    pub bad: Vec<BadLine>,
}

/// A skipped malformed line, located within its chunk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BadLine {
    pub chunk_start: u64,
    pub first_line: Option<u64>,
    pub local_line: u64,
}

/// An error in a chunk, with its byte offset so that the first one in file
/// order can be reported whatever the scheduling.
#[derive(Debug)]
pub(crate) struct ChunkError {
    pub offset: u64,
    pub error: Error,
}

/// Hands out chunks of all inputs, in order, to any number of workers.
pub(crate) struct ChunkQueue<'a> {
    inputs: &'a [Input],
    target: usize,
    state: Mutex<(usize, u64)>,
}

impl<'a> ChunkQueue<'a> {
    /// A queue over `inputs` with chunks of about `target` bytes.
    pub fn new(inputs: &'a [Input], target: usize) -> ChunkQueue<'a> {
        let start = inputs.first().map_or(0, |i| i.data_start);
        ChunkQueue {
            inputs,
            target: target.max(1),
            state: Mutex::new((0, start)),
        }
    }

    /// A chunk size that gives every worker several chunks of a small input
    /// and caps them at a few MB for large ones.
    pub fn chunk_size(inputs: &[Input], workers: usize) -> usize {
        let total: u64 = inputs
            .iter()
            .map(|i| i.data_len().unwrap_or(u64::MAX / 4))
            .sum();
        let per = total / (workers.max(1) as u64 * 8);
        per.clamp(64 << 10, 4 << 20) as usize
    }

    /// The next chunk, or `None` when every input is done.
    pub fn next(&self) -> Result<Option<Chunk<'a>>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let (idx, offset) = *state;
            let Some(input) = self.inputs.get(idx) else {
                return Ok(None);
            };
            let next = match &input.source {
                Source::Mapped(map, ..) => {
                    let data: &'a [u8] = map;
                    let start = offset as usize;
                    if start >= data.len() {
                        None
                    } else {
                        let end = match &input.layout {
                            Layout::Text(_) => text_cut(data, start, self.target),
                            Layout::Records(r) => {
                                let n = (self.target / r.record_size).max(1) * r.record_size;
                                (start + n).min(data.len())
                            }
                        };
                        (end > start).then(|| Chunk {
                            input: idx,
                            start: offset,
                            first_line: None,
                            data: Cow::Borrowed(&data[start..end]),
                        })
                    }
                }
                Source::Stream(stream) => {
                    let mut s = stream.lock().unwrap_or_else(|p| p.into_inner());
                    s.next_block(&input.info.name, &input.path)?
                        .map(|(start, lines, block)| Chunk {
                            input: idx,
                            start,
                            first_line: Some(lines),
                            data: Cow::Owned(block),
                        })
                }
            };
            match next {
                Some(chunk) => {
                    state.1 = chunk.start + chunk.data.len() as u64;
                    return Ok(Some(chunk));
                }
                None => {
                    let next_idx = idx + 1;
                    let start = self.inputs.get(next_idx).map_or(0, |i| i.data_start);
                    *state = (next_idx, start);
                }
            }
        }
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
    fn column_from_str() {
        assert_eq!("3".parse::<Column>().unwrap(), Column::Index(3));
        assert_eq!("lon".parse::<Column>().unwrap(), Column::Name("lon".into()));
        assert_eq!("+3".parse::<Column>().unwrap(), Column::Name("+3".into()));
    }

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

    #[test]
    fn count_newlines_counts() {
        assert_eq!(count_newlines(b"a\nb\n\nc"), 3);
        assert_eq!(count_newlines(b""), 0);
    }

    #[test]
    fn stream_blocks_end_on_line_and_record_boundaries() {
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("{i} {i}\n").into_bytes())
            .collect();
        let mut s = Stream::new(
            Box::new(std::io::Cursor::new(text.clone())),
            Vec::new(),
            StreamCut::Lines,
        );
        let mut joined = Vec::new();
        let mut lines = 0;
        while let Some((start, first_line, block)) = s.next_block("t", Path::new("t")).unwrap() {
            assert_eq!(start as usize, joined.len());
            assert_eq!(first_line, lines);
            assert_eq!(block.last(), Some(&b'\n'));
            lines += count_newlines(&block);
            joined.extend_from_slice(&block);
        }
        assert_eq!(joined, text);

        let bytes = vec![0u8; 12 * 5 + 3];
        let cut = StreamCut::Records {
            size: 12,
            fields: 3,
            value_size: 4,
        };
        let mut s = Stream::new(Box::new(std::io::Cursor::new(bytes)), Vec::new(), cut);
        let err = s.next_block("raw", Path::new("raw")).unwrap_err();
        assert!(matches!(err, Error::RecordSize { size: 63, .. }), "{err}");
    }
}
