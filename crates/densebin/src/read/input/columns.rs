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

    /// The selected numeric columns: `(slot, column)`, slots as in
    /// [`Columns::slots`].
    pub(crate) fn selected(&self) -> impl Iterator<Item = (usize, usize)> {
        self.slots()
            .into_iter()
            .enumerate()
            .filter_map(|(slot, c)| c.map(|c| (slot, c)))
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
    /// Whether the columns named `x`, `y` and `z` are the defaults rather
    /// than columns 0, 1 and 2: where the columns' order is not one the
    /// user chose (HDF5 lists datasets by name).
    pub(crate) defaults_by_name: bool,
}

impl ColumnNames {
    /// The names of the columns at `indices`, empty where there are none.
    pub(crate) fn named(&self, indices: [usize; 2]) -> [String; 2] {
        indices.map(|i| {
            self.names
                .as_ref()
                .and_then(|n| n.get(i).cloned())
                .unwrap_or_default()
        })
    }

    /// The column named `axis` (its last path component, in any case),
    /// when names are the defaults and one column alone has the name.
    fn default_named(&self, axis: &str) -> Option<usize> {
        let names = self.names.as_ref().filter(|_| self.defaults_by_name)?;
        let mut found = names.iter().enumerate().filter(|(_, n)| {
            n.rsplit('/')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(axis))
        });
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// The index of column `col`, which the user gave as `param`.
    fn resolve(&self, path: &str, param: Param, col: &Column) -> Result<usize> {
        let found = match col {
            Column::Index(i) => (*i < self.count).then_some(*i),
            Column::Name(n) => match &self.names {
                Some(names) => names
                    .iter()
                    .position(|h| h == n)
                    .or_else(|| names.iter().position(|h| h.eq_ignore_ascii_case(n)))
                    .map_or_else(
                        || by_last_components(path, param, names, n),
                        |i| Ok(Some(i)),
                    )?,
                None => None,
            },
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

/// The column of path-like `names` (HDF5's `/group/x`) whose last
/// components are `n` (`x`, or `group/x`), in any case, when one alone has
/// them.
fn by_last_components(
    path: &str,
    param: Param,
    names: &[String],
    n: &str,
) -> Result<Option<usize>> {
    let tail = format!("/{}", n.trim_start_matches('/')).to_lowercase();
    let mut found = names
        .iter()
        .enumerate()
        .filter(|(_, h)| h.to_lowercase().ends_with(&tail));
    let Some((first, _)) = found.next() else {
        return Ok(None);
    };
    let others: Vec<&String> = found.map(|(_, h)| h).collect();
    if others.is_empty() {
        return Ok(Some(first));
    }
    Err(Error::request(format!(
        "{path}: {n:?} names several columns ({:?}, {}): give the whole path with {}",
        names[first],
        others
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        param.mark()
    )))
}

/// The columns `opts` selects in an input called `name` with `names`,
/// checked against the layout (binary fields must be of a readable type).
pub(super) fn resolve_columns(
    name: &str,
    names: &ColumnNames,
    opts: &ReadOptions,
    layout: &mut Layout,
) -> Result<Columns> {
    // The columns named x and y, where names are the defaults; else 0 and 1.
    let named = names.default_named("x").is_some() && names.default_named("y").is_some();
    let pick = |param: Param, given: &Option<Column>, axis: &str, index: usize| match given {
        Some(col) => names.resolve(name, param, col),
        None => match names.default_named(axis).filter(|_| named) {
            Some(i) => Ok(i),
            None => names.resolve(name, param, &Column::Index(index)),
        },
    };
    let x = pick(Param::X, &opts.x, "x", 0)?;
    let y = pick(Param::Y, &opts.y, "y", 1)?;
    let c = opts
        .by
        .as_ref()
        .map(|c| names.resolve(name, Param::By, c))
        .transpose()?;
    // The automatic z (column 2) is not the category column.
    let z = match &opts.z {
        Some(col) => Some(names.resolve(name, Param::Z, col)?),
        // With x and y by name, z only by name.
        None if named => names.default_named("z").filter(|&z| c != Some(z)),
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
        Layout::Hdf5(h) => h
            .check_selected(&columns, opts.z.is_some())
            .map(|z| Columns { z, ..columns }),
        Layout::Las(l) => l.check_selected(names, &columns).map(|()| columns),
        Layout::Text(_) => Ok(columns),
    }
}
