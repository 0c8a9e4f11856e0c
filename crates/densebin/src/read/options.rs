//! How to read inputs: the format, the text delimiter and header, and the
//! columns.

use crate::error::{Error, Result};
use crate::param::Param;

/// The names of an option's values, as the command line and the Python
/// package spell them, and parsing by them.
macro_rules! names {
    ($t:ty, $param:expr, [$(($name:literal, $v:path)),* $(,)?]) => {
        impl $t {
            /// Every value's name, as the command line and Python take it.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// This value's name.
            pub fn name(self) -> &'static str {
                match self {
                    $($v => $name,)*
                }
            }
        }

        impl std::str::FromStr for $t {
            type Err = Error;

            /// A value by its name (any case).
            fn from_str(s: &str) -> Result<$t> {
                $(if s.eq_ignore_ascii_case($name) {
                    return Ok($v);
                })*
                Err(Error::request(format!(
                    "unknown {} {s:?}; use {}",
                    $param.mark(),
                    <$t>::NAMES.join(", ")
                )))
            }
        }
    };
}

/// The kind of an input file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// By the file's first bytes (Parquet, HDF5, LAS), else by extension:
    /// `.npy`, `.f32`, `.f64`, `.parquet`/`.pq`, `.h5`/`.hdf5`,
    /// `.las`/`.laz`; anything
    /// else is text.
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
    /// A Parquet file: columns by name, row groups read in parallel.
    Parquet,
    /// An HDF5 file: 1-D datasets, columns of 2-D datasets or fields of
    /// compound datasets, by path.
    Hdf5,
    /// A LAS or LAZ point cloud: scaled x, y, z and the point attributes
    /// by name.
    Las,
}

impl Format {
    /// The name of the format an input was read as (`auto` is text).
    pub(crate) fn shown(self) -> &'static str {
        match self {
            Format::Auto => Format::Text.name(),
            f => f.name(),
        }
    }
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

names!(
    Format,
    Param::Format,
    [
        ("auto", Format::Auto),
        ("text", Format::Text),
        ("f32", Format::F32),
        ("f64", Format::F64),
        ("npy", Format::Npy),
        ("parquet", Format::Parquet),
        ("hdf5", Format::Hdf5),
        ("las", Format::Las),
    ]
);

names!(
    Delimiter,
    Param::Delimiter,
    [
        ("auto", Delimiter::Auto),
        ("whitespace", Delimiter::Whitespace),
        ("comma", Delimiter::Comma),
        ("tab", Delimiter::Tab),
        ("semicolon", Delimiter::Semicolon),
    ]
);

names!(
    HeaderMode,
    Param::Header,
    [
        ("auto", HeaderMode::Auto),
        ("yes", HeaderMode::Present),
        ("no", HeaderMode::Absent),
    ]
);

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
    /// The x column; `None` takes column 0, or the column named `x`
    /// where an input's order is not the user's (HDF5 datasets).
    pub x: Option<Column>,
    /// The y column; `None` takes column 1, or the column named `y` as
    /// for x.
    pub y: Option<Column>,
    /// The z column; `None` takes column 2 when the input has one.
    pub z: Option<Column>,
    /// An optional weight column.
    pub weight: Option<Column>,
    /// An optional category column (the `count_cat` layer): text, or
    /// integer fields of binary records.
    pub by: Option<Column>,
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
            x: None,
            y: None,
            z: None,
            weight: None,
            by: None,
            skip_bad_lines: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_parse_by_name_and_print_it() {
        for &n in Format::NAMES {
            assert_eq!(n.parse::<Format>().unwrap().name(), n);
        }
        for &n in Delimiter::NAMES {
            assert_eq!(n.parse::<Delimiter>().unwrap().name(), n);
        }
        assert_eq!("YES".parse::<HeaderMode>().unwrap(), HeaderMode::Present);
        let err = "arrow".parse::<Format>().unwrap_err();
        assert_eq!(
            err.render(crate::error::flag),
            "unknown --format \"arrow\"; use auto, text, f32, f64, npy, parquet, hdf5, las"
        );
    }

    #[test]
    fn column_from_str() {
        assert_eq!("3".parse::<Column>().unwrap(), Column::Index(3));
        assert_eq!("lon".parse::<Column>().unwrap(), Column::Name("lon".into()));
        assert_eq!("+3".parse::<Column>().unwrap(), Column::Name("+3".into()));
    }
}
