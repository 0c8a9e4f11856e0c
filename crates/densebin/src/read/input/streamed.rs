//! Inputs read as streams: standard input or any reader, and compressed
//! files (decompressed on a thread of their own, and decompressed afresh
//! for a second pass), block by block.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use super::{Input, Layout, Source, format_from_extension, raw_records, resolve_columns};
use crate::error::{Error, Result};
use crate::grid::InputInfo;
use crate::param::Param;
use crate::read::compressed::{Codec, decompressed, sniffed};
use crate::read::frames;
use crate::read::options::{Format, ReadOptions};
use crate::read::stream::{self, Stream, StreamCut, fill};
use crate::read::text::{self, TextLayout};

impl Input {
    /// A compressed file: a stream of its decompressed bytes, which can be
    /// decompressed again for a second pass. Its format is that of its
    /// name without the compression's extension (`points.txt.gz` is text).
    pub(super) fn open_compressed(
        path: &Path,
        file: File,
        meta: &std::fs::Metadata,
        codec: Codec,
        format: Format,
        opts: &ReadOptions,
    ) -> Result<Input> {
        let format = match format {
            Format::Auto => format_from_extension(Path::new(path.file_stem().unwrap_or_default())),
            f => f,
        };
        let reader = decompressed_file(codec, file).map_err(|e| Error::io(path, e))?;
        let name = path.to_string_lossy().into_owned();
        let mut input = Input::open_decoded(reader, name, format, opts)?;
        input.path = path.to_path_buf();
        input.info.size = Some(meta.len());
        input.info.mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        input.reopen = Some(codec);
        input.info.format = format!("{} {}", codec.name(), input.info.format);
        Ok(input)
    }

    /// Opens a stream (standard input, or any reader) of text or raw binary
    /// records, gzip- or zstd-compressed or not (by its first bytes). Its
    /// first block is read now to find the header and the delimiter; the
    /// rest is read as the workers ask for it.
    pub fn open_stream(
        reader: Box<dyn Read + Send>,
        name: String,
        format: Format,
        opts: &ReadOptions,
    ) -> Result<Input> {
        let (reader, codec) = sniffed(reader).map_err(|e| Error::io(&name, e))?;
        let mut input = Input::open_decoded(reader, name, format, opts)?;
        if let Some(codec) = codec {
            input.info.format = format!("{} {}", codec.name(), input.info.format);
        }
        Ok(input)
    }

    /// [`Input::open_stream`] of a reader of uncompressed bytes.
    fn open_decoded(
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
            Format::Npy | Format::Parquet | Format::Hdf5 | Format::Las => {
                return Err(Error::request(format!(
                    "{name}: {} input cannot be streamed; give a file, or raw records with {} f32",
                    format.name(),
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
                            .map_err(|e| stream::io_error(&path, e))?;
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
        let mut layout = layout;
        let columns = resolve_columns(&name, &names, opts, &mut layout)?;
        let info = InputInfo {
            columns: names.named([columns.x, columns.y]),
            format: format.shown().to_string(),
            ..info
        };
        Ok(Input {
            info,
            path,
            source: Source::Stream(Mutex::new(stream)),
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

    /// The stream of a compressed file decompressed again from its start,
    /// at its first point (past the header `stream` was cut after).
    pub(super) fn rewound(&self, codec: Codec, stream: &Stream) -> Result<Stream> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut reader = decompressed_file(codec, file).map_err(|e| Error::io(&self.path, e))?;
        let mut header = Vec::new();
        fill(&mut *reader, &mut header, self.data_start as usize)
            .map_err(|e| stream::io_error(&self.path, e))?;
        Ok(stream.restarted(reader, self.data_start, self.lines_before_data))
    }
}

/// The compressed `file` decompressed: a zstd file of several frames by
/// several threads (half the cores, at least two: the parsers need the
/// others), anything else by one.
fn decompressed_file(codec: Codec, file: File) -> std::io::Result<Box<dyn Read + Send>> {
    if codec == Codec::Zstd {
        // SAFETY: as for every mapped input (see `Input::open`): read-only,
        // and inputs must not change during a run (checked at its end).
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        if let Some(found) = frames::frames(&map) {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            return frames::decompressed(map, found, cores.div_ceil(2).max(2));
        }
    }
    decompressed(codec, Box::new(std::io::BufReader::new(file)))
}

/// The compression `file` starts with, read from its first bytes (the
/// file is mapped or read from its start afterwards, whatever its
/// position).
pub(super) fn sniff_file(file: &mut File) -> std::io::Result<Option<Codec>> {
    use std::io::{Seek, SeekFrom};
    let mut prefix = Vec::with_capacity(4);
    fill(file, &mut prefix, 4)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Codec::sniff(&prefix))
}
