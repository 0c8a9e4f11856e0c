//! The columns an input's points are read from: resolved from the read
//! options against the names (a header, `.npy` fields, a Parquet schema)
//! or the count an input has, with messages that say what it has.

use super::Layout;
use crate::error::{Error, Result};
use crate::param::Param;
use crate::read::options::{Column, ReadOptions};

/// Where the selected columns are: indices into a line's fields or a
/// record's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Columns {
    pub x: usize,
    pub y: usize,
    pub z: Option<usize>,
    pub w: Option<usize>,
    /// The category column.
    pub c: Option<usize>,
}

impl Columns {
    /// The columns in slot order x, y, z, w.
    pub(crate) fn slots(&self) -> [Option<usize>; 4] {
        [Some(self.x), Some(self.y), self.z, self.w]
    }
}

/// What one input's columns are called, for resolving and error messages.
pub(crate) struct ColumnNames {
    pub(crate) count: usize,
    pub(crate) names: Option<Vec<String>>,
    /// Why names are missing (for the error message).
    pub(crate) no_names_because: &'static str,
    /// The parameter that decides how the input splits into columns,
    /// where a missing column may be its fault.
    pub(crate) split_by: Option<Param>,
}

impl ColumnNames {
    /// The names of the columns at `indices`, empty where there are none.
    pub(super) fn named(&self, indices: [usize; 2]) -> [String; 2] {
        indices.map(|i| {
            self.names
                .as_ref()
                .and_then(|n| n.get(i).cloned())
                .unwrap_or_default()
        })
    }

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

/// The columns `opts` selects in an input called `name` with `names`,
/// checked against the layout (binary fields must be of a readable type).
pub(super) fn resolve_columns(
    name: &str,
    names: &ColumnNames,
    opts: &ReadOptions,
    layout: &mut Layout,
) -> Result<Columns> {
    let x = names.resolve(name, Param::X, &opts.x)?;
    let y = names.resolve(name, Param::Y, &opts.y)?;
    let c = opts
        .by
        .as_ref()
        .map(|c| names.resolve(name, Param::By, c))
        .transpose()?;
    // The automatic z (column 2) is not the category column.
    let z = match &opts.z {
        Some(col) => Some(names.resolve(name, Param::Z, col)?),
        None => (names.count > 2 && c != Some(2)).then_some(2),
    };
    let w = opts
        .weight
        .as_ref()
        .map(|c| names.resolve(name, Param::Weight, c))
        .transpose()?;
    let columns = Columns { x, y, z, w, c };
    match layout {
        Layout::Records(r) => r
            .check_selected(name, &columns, opts.z.is_some())
            .map(|z| Columns { z, ..columns }),
        Layout::Parquet(p) => p
            .check_selected(name, &columns, opts.z.is_some())
            .map(|z| Columns { z, ..columns }),
        Layout::Text(_) => Ok(columns),
    }
}
