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

use crate::error::{Error, Result, quote_field};
use crate::param::Param;

use super::BATCH;
use super::input::{ColumnNames, Input};
use super::options::{Delimiter, HeaderMode, ReadOptions};
use super::points::{Batch, Points};
use super::source::{BadLine, Chunk, ChunkError, ChunkStats};

/// Lines sampled to sniff the delimiter.
const SNIFF_LINES: usize = 20;

/// The separator in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sep {
    Whitespace,
    Char(u8),
}

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

/// A problem on one line, located by byte offset within the line.
#[derive(Debug, PartialEq)]
pub(crate) enum LineError {
    Number { at: usize, found: Vec<u8> },
    Count { at: usize, found: usize },
    Quote { at: usize },
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
        }
    }

    /// Parses the selected columns of one data line into `out` (slots x, y,
    /// z, w), checking the number of fields.
    #[inline]
    pub(crate) fn parse_line(
        &self,
        line: &[u8],
        slots: &[Option<usize>; 4],
        out: &mut [f64; 4],
    ) -> std::result::Result<(), LineError> {
        let mut count = 0;
        let mut end = 0;
        for field in Fields::new(line, self.sep) {
            let field = field?;
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
        Ok(())
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
            })
            .collect();
        let fast = self.sep == Sep::Whitespace;
        while pos < data.len() {
            if fast {
                match fast_line(data, pos, &masks, &mut vals) {
                    Fast::Point(next) => {
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
                match self.parse_line(line, &slots, &mut vals) {
                    Ok(()) => {
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

/// Exact powers of ten: every one up to 10^22 is a double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal at the start of `b` — an optional sign, digits, an
/// optional fraction, at most 15 digits, no exponent — correctly rounded,
/// and the bytes it used; `None` for anything else (left to fast-float2).
///
/// Correct rounding is Clinger's fast path: the digits make an integer
/// `m < 10^15 < 2^53` and the scale `10^k` (`k <= 15`) are both exact
/// doubles, so the one IEEE division `m / 10^k` is correctly rounded. This
/// is what fast-float2 itself does for such numbers, without its general
/// parsing around it: the motivating `x y z` text parses about twice as
/// fast (BENCHMARKS.md, "text").
#[inline]
fn parse_decimal(b: &[u8]) -> Option<(f64, usize)> {
    let negative = b.first() == Some(&b'-');
    let mut pos = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let mut m: u64 = 0;
    // Two tight loops, the integer digits and the fraction digits, each
    // with one branch per byte. Up to 15 digits keep m below 10^15 (the
    // check comes after the loop, which overflows nothing before then:
    // 10^19 fits in a u64 and digits beyond 19 are refused).
    let int_start = pos;
    while let Some(d) = b.get(pos).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        pos += 1;
    }
    let int_digits = pos - int_start;
    let mut frac = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_start = pos;
        while let Some(d) = b.get(pos).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            pos += 1;
        }
        frac = pos - frac_start;
    }
    let digits = int_digits + frac;
    if digits == 0 || digits > 15 || matches!(b.get(pos), Some(b'e' | b'E')) {
        return None;
    }
    // m < 10^15: the signed conversion is exact and one instruction.
    let v = m as i64 as f64 / POW10[frac];
    // The sign by setting the sign bit of the non-negative v: `-0` gives
    // -0.0 as it should, and no branch mispredicts on data whose signs
    // are random (a branch here cost a sixth of the parsing time).
    let sign = u64::from(negative) << 63;
    Some((f64::from_bits(v.to_bits() | sign), pos))
}

/// What [`fast_line`] made of a line.
enum Fast {
    /// A point; the next line starts at this offset.
    Point(usize),
    /// A blank line.
    Blank(usize),
    /// Anything else (a comment, an error, an unusual field): the general
    /// path decides.
    Slow,
}

/// Parses one whitespace-separated line starting at `start` straight from
/// the chunk: each selected field with `fast_float2::parse_partial` where it
/// starts, other fields skipped, no separate tokenising pass. It accepts
/// exactly the lines the general path accepts without a comment, and hands
/// every other line to it — so errors and their messages come from one
/// place. Twice as fast as tokenising first (BENCHMARKS.md, "text").
#[inline]
fn fast_line(data: &[u8], start: usize, masks: &[u8], vals: &mut [f64; 4]) -> Fast {
    let n = data.len();
    let mut pos = start;
    let mut field = 0;
    let end = loop {
        while pos < n && (data[pos] == b' ' || data[pos] == b'\t') {
            pos += 1;
        }
        if pos >= n {
            break n;
        }
        match data[pos] {
            b'\n' => break pos + 1,
            b'\r' if data.get(pos + 1) == Some(&b'\n') => break pos + 2,
            b'\r' if pos + 1 == n => break n,
            b'\r' | b'#' => return Fast::Slow,
            _ => {}
        }
        let Some(&mask) = masks.get(field) else {
            return Fast::Slow; // an extra field
        };
        if mask != 0 {
            let parsed = parse_decimal(&data[pos..])
                .or_else(|| fast_float2::parse_partial::<f64, _>(&data[pos..]).ok());
            let Some((v, used)) = parsed else {
                return Fast::Slow;
            };
            pos += used;
            if used == 0 || !matches!(data.get(pos), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                return Fast::Slow;
            }
            for (slot, val) in vals.iter_mut().enumerate() {
                if mask & (1 << slot) != 0 {
                    *val = v;
                }
            }
        } else {
            while pos < n && !matches!(data[pos], b' ' | b'\t' | b'\n' | b'\r') {
                pos += 1;
            }
        }
        field += 1;
    };
    match field {
        0 => Fast::Blank(end),
        f if f == masks.len() => Fast::Point(end),
        _ => Fast::Slow,
    }
}

impl LineError {
    fn at(&self) -> usize {
        match self {
            LineError::Number { at, .. }
            | LineError::Count { at, .. }
            | LineError::Quote { at } => *at,
        }
    }
}

/// The 1-based column, in characters, of byte `at` of `line`.
fn column_of(line: &[u8], at: usize) -> u64 {
    let prefix = &line[..at.min(line.len())];
    String::from_utf8_lossy(prefix).chars().count() as u64 + 1
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

/// One field of a line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Field<'a> {
    /// Byte offset in the line.
    pub start: usize,
    /// The text, trimmed; quotes included when `quoted`.
    pub text: &'a [u8],
    pub quoted: bool,
}

impl Field<'_> {
    /// The field's text without quotes, with `""` turned into `"`.
    fn unquoted(&self) -> String {
        if self.quoted {
            let inner = &self.text[1..self.text.len() - 1];
            String::from_utf8_lossy(inner).replace("\"\"", "\"")
        } else {
            String::from_utf8_lossy(self.text).into_owned()
        }
    }
}

/// The number in a field: `None` when it is not one. An empty field (only
/// possible with a delimiter) is a missing value, NaN.
#[inline]
fn parse_number(field: &Field<'_>) -> Option<f64> {
    let mut text = field.text;
    if field.quoted {
        text = trim(&text[1..text.len() - 1]);
    }
    if text.is_empty() {
        return Some(f64::NAN);
    }
    fast_float2::parse::<f64, _>(text).ok()
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = s {
        if is_blank(*b) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., b] = s {
        if is_blank(*b) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// The fields of one line.
pub(crate) struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
    sep: Sep,
    done: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(line: &'a [u8], sep: Sep) -> Fields<'a> {
        Fields {
            line,
            pos: 0,
            sep,
            done: false,
        }
    }

    fn next_whitespace(&mut self) -> Option<Field<'a>> {
        let line = self.line;
        let mut p = self.pos;
        while p < line.len() && is_blank(line[p]) {
            p += 1;
        }
        if p >= line.len() || line[p] == b'#' {
            self.done = true;
            return None;
        }
        let start = p;
        while p < line.len() && !is_blank(line[p]) {
            p += 1;
        }
        self.pos = p;
        Some(Field {
            start,
            text: &line[start..p],
            quoted: false,
        })
    }

    fn next_delimited(&mut self, sep: u8) -> Option<std::result::Result<Field<'a>, LineError>> {
        let line = self.line;
        let blank = |b: u8| b == b' ' || (b == b'\t' && sep != b'\t');
        let mut p = self.pos;
        while p < line.len() && blank(line[p]) {
            p += 1;
        }
        let start = p;
        let (text, after) = if p < line.len() && line[p] == b'"' {
            // Quoted: find the closing quote, skipping doubled quotes.
            let mut q = p + 1;
            loop {
                match memchr::memchr(b'"', &line[q..]) {
                    None => {
                        self.done = true;
                        return Some(Err(LineError::Quote { at: start }));
                    }
                    Some(i) if line.get(q + i + 1) == Some(&b'"') => q += i + 2,
                    Some(i) => {
                        q += i + 1;
                        break;
                    }
                }
            }
            let text = &line[start..q];
            while q < line.len() && blank(line[q]) {
                q += 1;
            }
            if q < line.len() && line[q] != sep {
                self.done = true;
                return Some(Err(LineError::Quote { at: start }));
            }
            (text, q)
        } else {
            let end = memchr::memchr(sep, &line[p..]).map_or(line.len(), |i| p + i);
            let mut e = end;
            while e > start && blank(line[e - 1]) {
                e -= 1;
            }
            (&line[start..e], end)
        };
        if after < line.len() {
            self.pos = after + 1; // past the separator: another field follows
        } else {
            self.done = true;
        }
        Some(Ok(Field {
            start,
            text,
            quoted: text.first() == Some(&b'"'),
        }))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = std::result::Result<Field<'a>, LineError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.sep {
            Sep::Whitespace => self.next_whitespace().map(Ok),
            Sep::Char(c) => self.next_delimited(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str, sep: Sep) -> Vec<String> {
        Fields::new(line.as_bytes(), sep)
            .map(|f| String::from_utf8(f.unwrap().text.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn whitespace_fields() {
        assert_eq!(texts("  1 2\t\t3  ", Sep::Whitespace), ["1", "2", "3"]);
        assert_eq!(texts("1 2 # a comment", Sep::Whitespace), ["1", "2"]);
        assert!(texts("   ", Sep::Whitespace).is_empty());
    }

    #[test]
    fn delimited_fields_follow_rfc4180() {
        let c = Sep::Char(b',');
        assert_eq!(texts("1, 2 ,3", c), ["1", "2", "3"]);
        assert_eq!(texts("1,,3,", c), ["1", "", "3", ""]);
        assert_eq!(
            texts(r#""a, ""b""",2,"x""#, c),
            [r#""a, ""b""""#, "2", r#""x""#]
        );
        let bad: Vec<_> = Fields::new(br#"1,"abc"#, c).collect();
        assert_eq!(bad[1], Err(LineError::Quote { at: 2 }));
        let bad: Vec<_> = Fields::new(br#""ab"c,1"#, c).collect();
        assert_eq!(bad[0], Err(LineError::Quote { at: 0 }));
        // tab-separated keeps empty fields and does not trim tabs
        assert_eq!(texts("1\t\t3", Sep::Char(b'\t')), ["1", "", "3"]);
    }

    #[test]
    fn numbers_in_every_usual_form() {
        let num = |s: &str| {
            parse_number(&Field {
                start: 0,
                text: s.as_bytes(),
                quoted: s.starts_with('"'),
            })
        };
        assert_eq!(num("1e+06"), Some(1e6));
        assert_eq!(num("+2.5"), Some(2.5));
        assert_eq!(num("-.5"), Some(-0.5));
        assert_eq!(num("5."), Some(5.0));
        assert_eq!(num("1E-05"), Some(1e-5));
        assert_eq!(num("0.1"), Some(0.1));
        assert_eq!(num("inf"), Some(f64::INFINITY));
        assert_eq!(num("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(num("nan").unwrap().is_nan());
        assert!(num("NaN").unwrap().is_nan());
        assert!(num("").unwrap().is_nan(), "empty is missing");
        assert_eq!(num("\" 7.5 \""), Some(7.5));
        assert_eq!(num("1.2.3"), None);
        assert_eq!(num("abc"), None);
        assert_eq!(num("1,5"), None);
        assert_eq!(num("0x10"), None);
        // correctly rounded: 17 significant digits and halfway cases
        assert_eq!(num("0.30000000000000004"), Some(0.30000000000000004));
        assert_eq!(num("9007199254740993"), Some(9007199254740992.0));
        assert_eq!(
            num("2.2250738585072011e-308"),
            Some(2.225_073_858_507_201e-308)
        );
    }

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
        t.parse_line(b"1.5 -2 3e2", &slots, &mut out).unwrap();
        assert_eq!(&out[..3], &[1.5, -2.0, 300.0]);
        assert_eq!(
            t.parse_line(b"1 2", &slots, &mut out),
            Err(LineError::Count { at: 3, found: 2 })
        );
        assert_eq!(
            t.parse_line(b"1 2 3 4 5", &slots, &mut out),
            Err(LineError::Count { at: 6, found: 5 })
        );
        assert_eq!(
            t.parse_line(b"1 abc 3", &slots, &mut out),
            Err(LineError::Number {
                at: 2,
                found: b"abc".to_vec()
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn every_f64_parses_back_exactly(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            for text in [format!("{v:?}"), format!("{v:e}"), format!("{v:.17e}"), format!("{v:+e}")] {
                let got = parse_number(&Field { start: 0, text: text.as_bytes(), quoted: false }).unwrap();
                proptest::prop_assert!(
                    got.to_bits() == v.to_bits() || (got.is_nan() && v.is_nan()),
                    "{text} parsed as {got:?}, not {v:?}"
                );
            }
        }
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
            match fast_line(bytes, 0, &masks, &mut fast_vals) {
                Fast::Point(next) => {
                    proptest::prop_assert_eq!(next, bytes.len());
                    let mut vals = [f64::NAN; 4];
                    proptest::prop_assert!(t.parse_line(content, &slots, &mut vals).is_ok(), "{:?}", line);
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

    #[test]
    fn plain_decimals() {
        let p = |s: &str| parse_decimal(s.as_bytes());
        assert_eq!(p("-4.0625 x"), Some((-4.0625, 7)));
        assert_eq!(p("+2.5"), Some((2.5, 4)));
        assert_eq!(p("5."), Some((5.0, 2)));
        assert_eq!(p(".25"), Some((0.25, 3)));
        assert_eq!(p("0.1"), Some((0.1, 3)));
        assert_eq!(
            p("-0.0").map(|(v, _)| v.to_bits()),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(p("1.2.3"), Some((1.2, 3)), "the caller sees what follows");
        assert_eq!(p("1e5"), None);
        assert_eq!(p("nan"), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("."), None);
        assert_eq!(p("1234567890.123456"), None, "more than 15 digits");
    }

    proptest::proptest! {
        /// Plain decimals parse exactly as the standard library's correctly
        /// rounded parser does.
        #[test]
        fn plain_decimals_are_correctly_rounded(
            int in 0u64..10_000_000_000,
            frac in proptest::collection::vec(0u8..10, 0..8),
            negative in proptest::bool::ANY,
        ) {
            let frac: String = frac.iter().map(|d| char::from(b'0' + d)).collect();
            let text = format!("{}{int}.{frac}", if negative { "-" } else { "" });
            let want: f64 = text.parse().unwrap();
            match parse_decimal(text.as_bytes()) {
                Some((v, used)) => {
                    proptest::prop_assert_eq!(used, text.len());
                    proptest::prop_assert_eq!(v.to_bits(), want.to_bits(), "{}", text);
                }
                None => proptest::prop_assert!(int.to_string().len() + frac.len() > 15),
            }
        }
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(column_of("é,x".as_bytes(), 3), 3);
        assert_eq!(column_of(b"abc", 0), 1);
    }
}
