//! Streams (standard input, or any reader) read block by block: each
//! block ends on a line (text) or record (binary) boundary, so that the
//! workers parse blocks independently.

use std::io::Read;
use std::path::Path;

use super::count_newlines;
use crate::error::{Error, Result};

/// Reads from `r` until `buf` has grown by `want` bytes or the stream ends;
/// returns true at the end of the stream.
pub(crate) fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
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

/// The error for reading `path` failing with `e`: bad input when the bytes
/// could not be decoded (a corrupt compressed stream), else an I/O error.
pub(crate) fn io_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidData {
        Error::BadFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    } else {
        Error::io(path, e)
    }
}

/// Where a stream's blocks may be cut.
pub(crate) enum StreamCut {
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
pub(crate) struct Stream {
    reader: Box<dyn Read + Send>,
    /// Bytes read but not yet handed out (an incomplete last line).
    pending: Vec<u8>,
    cut: StreamCut,
    pub(crate) eof: bool,
    /// Byte offset of `pending[0]` in the stream.
    pub(crate) offset: u64,
    /// Newlines before `pending[0]`.
    pub(crate) lines: u64,
}

impl Stream {
    pub(crate) const BLOCK: usize = 4 << 20;

    pub(crate) fn new(reader: Box<dyn Read + Send>, pending: Vec<u8>, cut: StreamCut) -> Stream {
        Stream {
            reader,
            pending,
            cut,
            eof: false,
            offset: 0,
            lines: 0,
        }
    }

    /// This stream's cut, reading `reader` afresh from stream byte `offset`
    /// after `lines` lines.
    pub(crate) fn restarted(
        &self,
        reader: Box<dyn Read + Send>,
        offset: u64,
        lines: u64,
    ) -> Stream {
        let cut = match self.cut {
            StreamCut::Lines => StreamCut::Lines,
            StreamCut::Records {
                size,
                fields,
                value_size,
            } => StreamCut::Records {
                size,
                fields,
                value_size,
            },
        };
        Stream {
            reader,
            pending: Vec::new(),
            cut,
            eof: false,
            offset,
            lines,
        }
    }

    /// The next block of whole lines or records, or `None` at the end.
    pub(crate) fn next_block(
        &mut self,
        name: &str,
        path: &Path,
    ) -> Result<Option<(u64, u64, Vec<u8>)>> {
        loop {
            if !self.eof && self.pending.len() < Stream::BLOCK {
                self.eof = fill(&mut *self.reader, &mut self.pending, Stream::BLOCK)
                    .map_err(|e| io_error(path, e))?;
            }
            let cut = match self.cut {
                StreamCut::Lines if self.eof => self.pending.len(),
                StreamCut::Lines => match memchr::memrchr(b'\n', &self.pending) {
                    Some(i) => i + 1,
                    // A line longer than a block: read more.
                    None => {
                        let more = self.pending.len();
                        self.eof = fill(&mut *self.reader, &mut self.pending, more)
                            .map_err(|e| io_error(path, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
