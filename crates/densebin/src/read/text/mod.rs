//! Text input: one point per line, columns separated by whitespace, a comma,
//! a tab or a semicolon.
//!
//! Rules, in the order they apply to each line:
//! - lines end at `\n`; a `\r` before it is dropped (CRLF files);
//! - a line that is empty, only spaces and tabs, or whose first non-blank
//!   character is `#` is ignored (and counted as ignored);
//! - in whitespace mode, fields are separated by runs of spaces and tabs, and
//!   a field that starts with `#` begins a comment that ends the line;
//! - in delimited mode, fields follow RFC 4180: a field may be quoted with
//!   `"`, a quoted field may hold the delimiter and `""` for a quote (but not
//!   a line break), spaces around fields are trimmed, and an empty field is a
//!   missing value (NaN);
//! - every data line must have as many fields as the header or the first
//!   data line;
//! - selected fields are parsed as `f64`, correctly rounded: `%g`, Python
//!   `repr`, exponents, a leading `+`, `nan`, `inf` and `infinity` in any
//!   case.

mod fields;

use crate::error::{Error, Result, quote_field};
use crate::param::Param;

use super::BATCH;
use super::categories::CategoryError;
use super::input::{ColumnNames, Input};
use super::options::{Delimiter, HeaderMode, ReadOptions};
use super::points::{Batch, Points};
use super::source::{BadLine, Chunk, ChunkError, ChunkStats};
use fields::{CATEGORY, Fast, Field, Fields, LineError, Sep, column_of, fast_line, parse_number};

/// Lines sampled to sniff the delimiter.
const SNIFF_LINES: usize = 20;

/// What [`TextLayout::sniff`] needs, besides success.
pub(crate) enum SniffError {
    /// The buffer ends before a complete data line; read more.
    NeedMore,
    /// The input cannot be read as text.
    Fatal(Error),
}

impl SniffError {
    /// The error for a complete input, where more data cannot come.
    pub(crate) fn into_error(self) -> Error {
        match self {
            SniffError::Fatal(e) => e,
            SniffError::NeedMore => {
                Error::request("internal: incomplete text at the end of a file")
            }
        }
    }
}

impl From<Error> for SniffError {
    fn from(e: Error) -> SniffError {
        SniffError::Fatal(e)
    }
}

/// How one text input is laid out.
#[derive(Clone, Debug)]
pub(crate) struct TextLayout {
    pub(crate) name: String,
    pub(crate) sep: Sep,
    pub(crate) header: Option<Vec<String>>,
    pub(crate) ncols: usize,
    pub(crate) data_start: u64,
    pub(crate) lines_before_data: u64,
}

impl TextLayout {
    /// Finds the data start, the delimiter, the header and the number of
    /// columns from the start of the input. `eof` says whether `bytes` is the
    /// whole input (or only its first block).
    pub(crate) fn sniff(
        name: &str,
        bytes: &[u8],
        eof: bool,
        opts: &ReadOptions,
    ) -> std::result::Result<TextLayout, SniffError> {
        let mut pos = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut lines_before = 0u64;
        let empty = |what: &str| {
            SniffError::Fatal(Error::EmptyInput {
                path: name.to_string(),
                what: what.to_string(),
            })
        };
        // The first line with content.
        let first = loop {
            match next_line(bytes, pos, eof) {
                None if eof => {
                    return Err(empty(
                        "no data: the input is empty or has only blank and comment lines",
                    ));
                }
                None => return Err(SniffError::NeedMore),
                Some((line, next)) => {
                    if is_blank_or_comment(line) {
                        lines_before += 1;
                        pos = next;
                    } else {
                        break (line, next);
                    }
                }
            }
        };
        let sample: Vec<&[u8]> = content_lines(bytes, pos, eof).take(SNIFF_LINES).collect();
        let sep = match opts.delimiter {
            Delimiter::Auto => sniff_sep(&sample),
            Delimiter::Whitespace => Sep::Whitespace,
            Delimiter::Comma => Sep::Char(b','),
            Delimiter::Tab => Sep::Char(b'\t'),
            Delimiter::Semicolon => Sep::Char(b';'),
        };
        let line_err = |e: LineError, line: &[u8]| {
            let (at, kind) = match e {
                LineError::Quote { at } => (at, "malformed quoted field"),
                _ => (0, "unreadable line"),
            };
            SniffError::Fatal(Error::BadQuote {
                path: name.to_string(),
                line: lines_before + 1,
                column: column_of(line, at),
                what: kind.to_string(),
                skippable: false,
            })
        };
        let fields: Vec<Field<'_>> = Fields::new(first.0, sep)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| line_err(e, first.0))?;
        let is_header = match opts.header {
            HeaderMode::Present => true,
            HeaderMode::Absent => false,
            HeaderMode::Auto => fields
                .iter()
                .any(|f| !f.text.is_empty() && parse_number(f).is_none()),
        };
        let mut layout = TextLayout {
            name: name.to_string(),
            sep,
            header: None,
            ncols: fields.len(),
            data_start: pos as u64,
            lines_before_data: lines_before,
        };
        if is_header {
            layout.header = Some(fields.iter().map(Field::unquoted).collect());
            layout.data_start = first.1 as u64;
            layout.lines_before_data += 1;
            // There must be data after the header.
            match content_lines(bytes, first.1, eof).next() {
                Some(_) => {}
                None if eof => {
                    return Err(empty("no data: the input has only a header line"));
                }
                None => return Err(SniffError::NeedMore),
            }
        }
        Ok(layout)
    }

    /// The delimiter, as the option that would select it.
    pub(crate) fn delimiter(&self) -> Delimiter {
        match self.sep {
            Sep::Whitespace => Delimiter::Whitespace,
            Sep::Char(b',') => Delimiter::Comma,
            Sep::Char(b'\t') => Delimiter::Tab,
            Sep::Char(_) => Delimiter::Semicolon,
        }
    }

    pub(super) fn column_names(&self) -> ColumnNames {
        ColumnNames {
            count: self.ncols,
            names: self.header.clone(),
            no_names_because: "no header line: select columns by 0-based index",
            // One column where x and y need two: the delimiter is likely
            // not the one the file uses.
            split_by: (self.ncols == 1).then_some(Param::Delimiter),
            defaults_by_name: false,
        }
    }

    /// Parses the selected columns of one data line into `out` (slots x, y,
    /// z, w), checking the number of fields; returns the field of column
    /// `cat` (the category) when one is asked for.
    #[inline]
    pub(crate) fn parse_line<'l>(
        &self,
        line: &'l [u8],
        slots: &[Option<usize>; 4],
        cat: Option<usize>,
        out: &mut [f64; 4],
    ) -> std::result::Result<Option<Field<'l>>, LineError> {
        let mut count = 0;
        let mut end = 0;
        let mut category = None;
        for field in Fields::new(line, self.sep) {
            let field = field?;
            if cat == Some(count) {
                category = Some(field);
            }
            end = field.start + field.text.len();
            if count >= self.ncols {
                return Err(LineError::Count {
                    at: field.start,
                    found: Fields::new(line, self.sep).count(),
                });
            }
            for (slot, col) in slots.iter().enumerate() {
                if *col == Some(count) {
                    out[slot] = parse_number(&field).ok_or_else(|| LineError::Number {
                        at: field.start,
                        found: field.text.to_vec(),
                    })?;
                }
            }
            count += 1;
        }
        if count != self.ncols {
            return Err(LineError::Count {
                at: end,
                found: count,
            });
        }
        Ok(category)
    }

    /// Parses every line of `chunk`.
    pub(crate) fn read_chunk(
        &self,
        input: &Input,
        chunk: &Chunk<'_>,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> std::result::Result<ChunkStats, ChunkError> {
        let data: &[u8] = chunk.as_bytes();
        let slots = input.columns.slots();
        // The category column, unless categories are not wanted.
        let cat = input.columns.c.filter(|_| !pts.categories.is_ignoring());
        let mut unquoted = Vec::new();
        let (has_z, has_w) = (input.columns.z.is_some(), input.columns.w.is_some());
        let mut stats = ChunkStats::default();
        let mut vals = [f64::NAN; 4];
        let mut pos = 0;
        let mut local_line = 0u64;
        let fail = |pos: usize, error: Error| ChunkError {
            offset: chunk.start + pos as u64,
            error,
        };
        // Which slots (bit i: x, y, z, w) each field feeds.
        let masks: Vec<u8> = (0..self.ncols)
            .map(|f| {
                slots
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c == Some(f))
                    .fold(0, |m, (i, _)| m | 1 << i)
                    | if cat == Some(f) { CATEGORY } else { 0 }
            })
            .collect();
        let mut field_at = (0, 0);
        let fast = self.sep == Sep::Whitespace;
        while pos < data.len() {
            if fast {
                let line = if cat.is_some() {
                    fast_line::<true>(data, pos, &masks, &mut vals, &mut field_at)
                } else {
                    fast_line::<false>(data, pos, &masks, &mut vals, &mut field_at)
                };
                match line {
                    Fast::Point(next) => {
                        if cat.is_some() {
                            let name = &data[field_at.0..field_at.1];
                            let id = pts.categories.id_of(name).map_err(|e| {
                                let line = &data[pos..next];
                                let line = strip_cr(line.strip_suffix(b"\n").unwrap_or(line));
                                let line_no =
                                    input.line_number(chunk.start, chunk.first_line, local_line);
                                fail(
                                    field_at.0,
                                    self.category_error(e, line, field_at.0 - pos, line_no),
                                )
                            })?;
                            pts.c.push(id);
                        }
                        pts.push(vals, has_z, has_w);
                        stats.points_read += 1;
                        if pts.len() == BATCH {
                            sink(pts.batch()).map_err(|e| fail(pos, e))?;
                            pts.clear();
                        }
                        local_line += 1;
                        pos = next;
                        continue;
                    }
                    Fast::Blank(next) => {
                        stats.lines_ignored += 1;
                        local_line += 1;
                        pos = next;
                        continue;
                    }
                    Fast::Slow => {}
                }
            }
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            let line = strip_cr(&data[pos..end]);
            if is_blank_or_comment(line) {
                stats.lines_ignored += 1;
            } else {
                match self.parse_line(line, &slots, cat, &mut vals) {
                    Ok(category) => {
                        if let Some(field) = category {
                            let id = pts
                                .categories
                                .id_of(field.unquoted_bytes(&mut unquoted))
                                .map_err(|e| {
                                    let line_no = input.line_number(
                                        chunk.start,
                                        chunk.first_line,
                                        local_line,
                                    );
                                    fail(
                                        pos + field.start,
                                        self.category_error(e, line, field.start, line_no),
                                    )
                                })?;
                            pts.c.push(id);
                        }
                        pts.push(vals, has_z, has_w);
                        stats.points_read += 1;
                        if pts.len() == BATCH {
                            sink(pts.batch()).map_err(|e| fail(pos, e))?;
                            pts.clear();
                        }
                    }
                    Err(_) if input.skip_bad_lines => {
                        stats.bad_lines += 1;
                        if stats.bad.len() < crate::grid::InputInfo::MAX_BAD_LINES {
                            stats.bad.push(BadLine {
                                chunk_start: chunk.start,
                                first_line: chunk.first_line,
                                local_line,
                            });
                        }
                    }
                    Err(e) => {
                        let line_no = input.line_number(chunk.start, chunk.first_line, local_line);
                        let at = e.at();
                        return Err(fail(pos + at, self.line_error(e, line, line_no)));
                    }
                }
            }
            local_line += 1;
            pos = end + 1;
        }
        if !pts.is_empty() {
            sink(pts.batch()).map_err(|e| fail(data.len(), e))?;
            pts.clear();
        }
        Ok(stats)
    }

    /// The error for a category field at byte `at` of `line` that could not
    /// be given an id.
    fn category_error(&self, e: CategoryError, line: &[u8], at: usize, line_no: u64) -> Error {
        e.into_error(&format!(" at {}:{line_no}", self.name), || {
            let field = Fields::new(&line[at..], self.sep).next();
            Error::BadCategory {
                path: self.name.clone(),
                line: line_no,
                column: column_of(line, at),
                found: quote_field(
                    field.map_or(&line[at..], |f| f.map_or(&line[at..], |f| f.text)),
                ),
            }
        })
    }

    fn line_error(&self, e: LineError, line: &[u8], line_no: u64) -> Error {
        let path = self.name.clone();
        match e {
            LineError::Number { at, found } => Error::Parse {
                path,
                line: line_no,
                column: column_of(line, at),
                found: quote_field(&found),
            },
            LineError::Count { at, found } => Error::ColumnCount {
                path,
                line: line_no,
                column: column_of(line, at),
                expected: self.ncols,
                found,
            },
            LineError::Quote { at } => Error::BadQuote {
                path,
                line: line_no,
                column: column_of(line, at),
                what: "malformed quoted field".to_string(),
                skippable: true,
            },
        }
    }
}

#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// The line starting at `pos` (without its `\r\n`) and the start of the next
/// one; `None` at the end, or when the line is incomplete and more may come.
fn next_line(bytes: &[u8], pos: usize, eof: bool) -> Option<(&[u8], usize)> {
    if pos >= bytes.len() {
        return None;
    }
    match memchr::memchr(b'\n', &bytes[pos..]) {
        Some(i) => Some((strip_cr(&bytes[pos..pos + i]), pos + i + 1)),
        None if eof => Some((strip_cr(&bytes[pos..]), bytes.len())),
        None => None,
    }
}

/// Complete lines with content from `pos` on.
fn content_lines(bytes: &[u8], mut pos: usize, eof: bool) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (line, next) = next_line(bytes, pos, eof)?;
        pos = next;
        Some(line)
    })
    .filter(|l| !is_blank_or_comment(l))
}

#[inline]
fn is_blank_or_comment(line: &[u8]) -> bool {
    match line.iter().find(|&&b| b != b' ' && b != b'\t') {
        None => true,
        Some(&b) => b == b'#',
    }
}

/// The first of comma, tab and semicolon that occurs outside quotes on every
/// sampled line; otherwise whitespace.
fn sniff_sep(sample: &[&[u8]]) -> Sep {
    for c in [b',', b'\t', b';'] {
        let everywhere = !sample.is_empty()
            && sample.iter().all(|line| {
                let mut quoted = false;
                line.iter().any(|&b| {
                    if b == b'"' {
                        quoted = !quoted;
                    }
                    !quoted && b == c
                })
            });
        if everywhere {
            return Sep::Char(c);
        }
    }
    Sep::Whitespace
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> std::result::Result<TextLayout, String> {
        TextLayout::sniff("t.txt", text.as_bytes(), true, &ReadOptions::default()).map_err(|e| {
            match e {
                SniffError::NeedMore => "need more".to_string(),
                SniffError::Fatal(e) => e.to_string(),
            }
        })
    }

    #[test]
    fn sniffs_delimiter_header_and_columns() {
        let t = sniff("# made by a tool\n\nx,y,z\n1,2,3\n").unwrap();
        assert_eq!(t.sep, Sep::Char(b','));
        assert_eq!(
            t.header.as_deref(),
            Some(&["x", "y", "z"].map(String::from)[..])
        );
        assert_eq!(t.ncols, 3);
        assert_eq!(t.lines_before_data, 3);
        assert_eq!(t.data_start, "# made by a tool\n\nx,y,z\n".len() as u64);

        let t = sniff("\u{feff}1 2 3\r\n4 5 6\r\n").unwrap();
        assert_eq!(t.sep, Sep::Whitespace);
        assert!(t.header.is_none());
        assert_eq!(t.data_start, 3);

        let t = sniff("a;b\n1;2\n").unwrap();
        assert_eq!(t.sep, Sep::Char(b';'));
        let t = sniff("1\t2\n3\t4\n").unwrap();
        assert_eq!(t.sep, Sep::Char(b'\t'));
        // a comma that appears only inside quotes does not make a CSV
        let t = sniff("\"a,b\" 1\n2 3\n").unwrap();
        assert_eq!(t.sep, Sep::Whitespace);
    }

    #[test]
    fn sniff_reports_empty_inputs() {
        assert!(sniff("").unwrap_err().contains("empty"));
        assert!(sniff("# only\n\n").unwrap_err().contains("empty"));
        assert!(
            sniff("x y z\n# nothing\n")
                .unwrap_err()
                .contains("only a header")
        );
        let need = TextLayout::sniff("s", b"1 2 3", false, &ReadOptions::default());
        assert!(matches!(need, Err(SniffError::NeedMore)));
    }

    #[test]
    fn parse_line_checks_fields() {
        let t = sniff("1 2 3\n").unwrap();
        let slots = [Some(0), Some(1), Some(2), None];
        let mut out = [0.0; 4];
        t.parse_line(b"1.5 -2 3e2", &slots, None, &mut out).unwrap();
        assert_eq!(&out[..3], &[1.5, -2.0, 300.0]);
        assert_eq!(
            t.parse_line(b"1 2", &slots, None, &mut out),
            Err(LineError::Count { at: 3, found: 2 })
        );
        assert_eq!(
            t.parse_line(b"1 2 3 4 5", &slots, None, &mut out),
            Err(LineError::Count { at: 6, found: 5 })
        );
        assert_eq!(
            t.parse_line(b"1 abc 3", &slots, None, &mut out),
            Err(LineError::Number {
                at: 2,
                found: b"abc".to_vec()
            })
        );
    }

    /// Lines made of numbers in many forms, words, blanks, tabs, CR and
    /// comments.
    fn line_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let token = prop_oneof![
            any::<f64>().prop_map(|v| format!("{v:?}")),
            any::<f32>().prop_map(|v| format!("{v:e}")),
            (-1000i32..1000).prop_map(|v| v.to_string()),
            Just("nan".to_string()),
            Just("-Infinity".to_string()),
            Just("+1.5".to_string()),
            Just(".5".to_string()),
            Just("1.2.3".to_string()),
            Just("abc".to_string()),
            Just("1e".to_string()),
            Just("-".to_string()),
            Just("#c".to_string()),
        ];
        let sep = prop_oneof![Just(" "), Just("  "), Just("\t"), Just(" \t ")];
        (
            proptest::collection::vec((token, sep), 0..6),
            prop_oneof![Just(""), Just(" "), Just("\r")],
        )
            .prop_map(|(parts, end)| {
                let mut line: String = parts.into_iter().map(|(t, s)| format!("{s}{t}")).collect();
                line.push_str(end);
                line.push('\n');
                line
            })
    }

    proptest::proptest! {
        /// The fast path accepts only what the general path accepts, with
        /// the same values, and recognises blank lines.
        #[test]
        fn fast_lines_agree_with_the_general_path(line in line_strategy(), ncols in 1usize..5) {
            let t = TextLayout {
                name: "t".into(),
                sep: Sep::Whitespace,
                header: None,
                ncols,
                data_start: 0,
                lines_before_data: 0,
            };
            let slots = [Some(0), (ncols > 1).then_some(ncols - 1), (ncols > 2).then_some(1), None];
            let masks: Vec<u8> = (0..ncols)
                .map(|f| slots.iter().enumerate().filter(|(_, c)| **c == Some(f)).fold(0, |m, (i, _)| m | 1 << i))
                .collect();
            let bytes = line.as_bytes();
            let mut fast_vals = [f64::NAN; 4];
            let content = strip_cr(&bytes[..bytes.len() - 1]);
            match fast_line::<false>(bytes, 0, &masks, &mut fast_vals, &mut (0, 0)) {
                Fast::Point(next) => {
                    proptest::prop_assert_eq!(next, bytes.len());
                    let mut vals = [f64::NAN; 4];
                    proptest::prop_assert!(t.parse_line(content, &slots, None, &mut vals).is_ok(), "{:?}", line);
                    for (a, b) in vals.iter().zip(&fast_vals).take(3) {
                        proptest::prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
                    }
                }
                Fast::Blank(next) => {
                    proptest::prop_assert_eq!(next, bytes.len());
                    proptest::prop_assert!(is_blank_or_comment(content));
                }
                Fast::Slow => {}
            }
        }
    }
}
