//! The library's one error type.
//!
//! Every variant renders as a single line that names the file (and, for
//! text, the line and column), says what was expected, and where it helps,
//! what to do. [`Error::is_bad_input`] separates problems with the input or
//! the request (the command line exits with 2) from runtime failures such as
//! I/O or HDF5 errors (exit 1).
//!
//! Messages that say what to change name a [`Param`], never a command-line
//! flag: [`Error::render`] spells each the way the front end showing the
//! error wants (`--z-bins` on the command line, `z_bins=` in Python), and
//! `Display` spells it as its name in backticks.

use std::fmt;
use std::path::PathBuf;

use crate::param::{self, Param};

/// Everything that can go wrong in densebin.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A text field that should hold a number does not.
    Parse {
        /// The input's display name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column (in characters) where the field starts.
        column: u64,
        /// The offending field, quoted and shortened.
        found: String,
    },

    /// A text line with a different number of columns than the file's first
    /// data line (or header).
    ColumnCount {
        /// The input's display name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column where the line ends or the first extra field starts.
        column: u64,
        /// Columns of the first data line or header.
        expected: usize,
        /// Columns on this line.
        found: usize,
    },

    /// A quoted CSV field that does not close on its line or is followed
    /// by something other than the delimiter.
    BadQuote {
        /// The input's display name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column of the opening quote.
        column: u64,
        /// What is wrong.
        what: String,
        /// Whether skipping bad lines would skip the line: not so for the
        /// first line, which sets the columns.
        skippable: bool,
    },

    /// A text field that should hold a category name does not: it is not
    /// UTF-8.
    BadCategory {
        /// The input's display name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column (in characters) where the field starts.
        column: u64,
        /// The offending field, quoted and shortened.
        found: String,
    },

    /// A column named on the command line that the input does not have.
    MissingColumn {
        /// The input's display name.
        path: String,
        /// The column as the user gave it.
        column: String,
        /// What the input does have.
        available: String,
        /// What to do: the flag that named the column, and the flag that
        /// splits the input into columns where that may be at fault.
        remedy: String,
    },

    /// A raw binary input whose size is not a whole number of records.
    RecordSize {
        /// The input's display name.
        path: String,
        /// File size in bytes.
        size: u64,
        /// Bytes per record.
        record_size: usize,
        /// Values per record.
        fields: usize,
        /// Bytes per value.
        value_size: usize,
    },

    /// An `.npy` file this reader cannot use.
    Npy {
        /// The input's display name.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An input file of a binary format (Parquet) that is damaged, or
    /// that uses what this reader cannot read.
    BadFile {
        /// The input's display name.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An input with no points at all.
    EmptyInput {
        /// The input's display name.
        path: String,
        /// What was found instead of data.
        what: String,
    },

    /// An impossible or inconsistent request (ranges, sizes, layers, flags).
    InvalidRequest(String),

    /// The grid would not fit in the memory that is available.
    OutOfMemory(String),

    /// Two grids that cannot be merged.
    SpecMismatch(String),

    /// A per-pixel counter that would exceed its type.
    Overflow(String),

    /// An input file changed while densebin read it.
    InputChanged {
        /// The input's display name.
        path: String,
        /// What changed.
        what: String,
    },

    /// The run was cancelled (see [`crate::CancelToken`]): it stopped at the
    /// next chunk, or before renaming a finished file into place, and
    /// wrote nothing under an output's name.
    Interrupted,

    /// A file that is not a densebin grid, or one this version cannot read.
    GridFormat {
        /// The grid file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An operating-system I/O failure.
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error (shown in the message, so not a `source`).
        err: std::io::Error,
    },

    /// A failure inside libhdf5.
    Hdf5 {
        /// The grid file.
        path: PathBuf,
        /// libhdf5's message.
        message: String,
    },
}

impl Error {
    /// The message, with every parameter it names spelled by `spell`: the
    /// command line passes `|p| format!("--{}", p.name().replace('_', "-"))`.
    pub fn render(&self, spell: impl Fn(Param) -> String) -> String {
        param::spell(&self.raw(), &spell)
    }

    /// The message with its parameters as placeholders, for a message that
    /// embeds this one (see [`Param::mark`]).
    pub(crate) fn raw(&self) -> String {
        let skip = Param::SkipBadLines.mark();
        match self {
            Error::Parse {
                path,
                line,
                column,
                found,
            } => format!(
                "{path}:{line}:{column}: expected a number, found {found}; fix the line, or skip \
                 such lines with {skip}"
            ),
            Error::ColumnCount {
                path,
                line,
                column,
                expected,
                found,
            } => format!(
                "{path}:{line}:{column}: expected {expected} columns, found {found}; fix the \
                 line, or skip such lines with {skip}"
            ),
            Error::BadQuote {
                path,
                line,
                column,
                what,
                skippable,
            } => format!(
                "{path}:{line}:{column}: {what}: a quoted field must close on its line and be \
                 followed by the delimiter; {}",
                fix_or_skip(*skippable)
            ),
            Error::BadCategory {
                path,
                line,
                column,
                found,
            } => format!(
                "{path}:{line}:{column}: the category {found} is not valid UTF-8; fix the line"
            ),
            Error::MissingColumn {
                path,
                column,
                available,
                remedy,
            } => format!("{path}: no column {column}; {available}; {remedy}"),
            Error::RecordSize {
                path,
                size,
                record_size,
                fields,
                value_size,
            } => format!(
                "{path}: {size} bytes is not a whole number of {record_size}-byte records \
                 ({fields} fields of {value_size} bytes); check {} and {}",
                Param::Format.mark(),
                Param::Fields.mark()
            ),
            Error::Npy { path, reason } | Error::BadFile { path, reason } => {
                format!("{path}: {reason}")
            }
            Error::EmptyInput { path, what } => format!("{path}: {what}"),
            Error::InvalidRequest(m) | Error::OutOfMemory(m) | Error::Overflow(m) => m.clone(),
            Error::SpecMismatch(m) => format!("cannot merge grids: {m}"),
            Error::InputChanged { path, what } => format!(
                "{path}: the file changed during the run ({what}); inputs must not change while \
                 densebin reads them, run again"
            ),
            Error::Interrupted => "interrupted; nothing was written".to_string(),
            Error::GridFormat { path, reason } => format!("{path}: {reason}"),
            Error::Io { path, err } => format!("{}: {err}", path.display()),
            Error::Hdf5 { path, message } => format!("{}: HDF5: {message}", path.display()),
        }
    }

    /// True when the input or the request is at fault (malformed data,
    /// missing columns, impossible ranges, a grid too large to allocate),
    /// false for runtime failures (I/O, HDF5) that the user did not cause.
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            Error::Io { .. } | Error::Hdf5 { .. } | Error::Interrupted | Error::InputChanged { .. }
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: without_path(err),
        }
    }

    pub(crate) fn hdf5(path: impl Into<PathBuf>, err: hdf5::Error) -> Self {
        Error::Hdf5 {
            path: path.into(),
            message: one_line_hdf5(&err.to_string()),
        }
    }

    pub(crate) fn request(msg: impl Into<String>) -> Self {
        Error::InvalidRequest(msg.into())
    }
}

impl fmt::Display for Error {
    /// The message, parameters named in backticks: `` `z_bins` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|p| format!("`{}`", p.name())))
    }
}

impl std::error::Error for Error {}

/// libhdf5's description on one line: where it reports a failed system
/// call (a full disk, a file-size limit) with a time, a file descriptor
/// and the operating system's message, just its words and that message.
fn one_line_hdf5(msg: &str) -> String {
    let os = msg
        .split_once("error message = '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(m, _)| m);
    let head = msg.split_once(": time =").map_or(msg, |(h, _)| h);
    let mut out = head.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(os) = os {
        out = format!("{out}: {os}");
    }
    out
}

/// The operating system's error without the path that some crates (such as
/// tempfile) add to its message: densebin's messages name the path once.
fn without_path(err: std::io::Error) -> std::io::Error {
    // tempfile wraps the OS error in a private type whose message ends in
    // ` at path "..."`; keep the kind and the OS message.
    let text = err.get_ref().map(|inner| inner.to_string());
    match text.as_deref().and_then(|t| t.split_once(" at path \"")) {
        Some((message, _)) => std::io::Error::new(err.kind(), message.to_string()),
        None => err,
    }
}

/// The advice that ends a malformed-line message.
fn fix_or_skip(skippable: bool) -> String {
    if skippable {
        format!(
            "fix the line, or skip such lines with {}",
            Param::SkipBadLines.mark()
        )
    } else {
        "fix the line (the first line sets the columns and cannot be skipped)".to_string()
    }
}

/// How the command line spells a parameter: `--z-bins`. For tests that
/// check messages as the command line shows them.
#[cfg(test)]
pub(crate) fn flag(p: Param) -> String {
    format!("--{}", p.name().replace('_', "-"))
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Quote a field for an error message: at most 40 characters, escapes shown.
pub(crate) fn quote_field(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        short.push('…');
    }
    format!("{short:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_file_line_and_column() {
        let e = Error::Parse {
            path: "data.txt".into(),
            line: 1042,
            column: 7,
            found: quote_field(b"1.2.3"),
        };
        assert_eq!(
            e.render(flag),
            "data.txt:1042:7: expected a number, found \"1.2.3\"; fix the line, or skip such \
             lines with --skip-bad-lines"
        );
        assert!(e.is_bad_input());
    }

    #[test]
    fn quote_field_shortens_and_escapes() {
        let long = vec![b'a'; 100];
        let q = quote_field(&long);
        assert_eq!(q.chars().filter(|&c| c == 'a').count(), 40);
        assert!(q.contains('…'));
        assert_eq!(quote_field(b"a\tb"), "\"a\\tb\"");
        assert_eq!(quote_field(&[0xff, b'x']), "\"\u{fffd}x\"");
    }

    #[test]
    fn hdf5_messages_fit_on_one_line() {
        let raw = "H5Dwrite_chunk(): can't write unprocessed chunk data: file write failed: \
                   time = Fri Nov 27 12:02:39 2026\n, filename = '/tmp/.g.h5.tmp', file \
                   descriptor = 4, errno = 27, error message = 'File too large', buf = 0x7f";
        assert_eq!(
            one_line_hdf5(raw),
            "H5Dwrite_chunk(): can't write unprocessed chunk data: file write failed: File too large"
        );
        assert_eq!(one_line_hdf5("unable to open\nfile"), "unable to open file");
    }

    #[test]
    fn io_errors_are_not_bad_input() {
        let e = Error::io("x", std::io::Error::other("boom"));
        assert!(!e.is_bad_input());
        assert_eq!(e.to_string(), "x: boom");
    }
}
