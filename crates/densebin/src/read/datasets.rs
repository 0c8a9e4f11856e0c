//! HDF5 datasets as input, read through libhdf5 (hdf5-metno). The columns
//! of a file are
//!
//! - its 1-D numeric datasets, named by their path (`/particles/x`);
//! - the columns of its 2-D `(N, k)` numeric datasets (`/pos/0` …
//!   `/pos/{k-1}`), as h5py's `f["pos"][:, 0]`;
//! - the numeric fields of its 1-D compound datasets (`/table/x`), as
//!   h5py's `f["table"]["x"]`;
//!
//! in the file's name order, groups walked depth first. A column is found
//! by its whole path, or by its last components when they name one column
//! alone (`x`, `pos/0`). The rows are cut into chunks that follow the
//! chunk layout of the x dataset, and each chunk's values are read as one
//! hyperslab per column: libhdf5 decompresses and converts any integer or
//! float type to `f64` (compound fields by name). Debian's libhdf5 is not
//! thread-safe, so the workers' reads take hdf5-metno's lock in turn;
//! binning stays parallel.

use std::ops::Range;

use hdf5::types::{CompoundField, CompoundType, FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, Dataspace, Datatype, File, Group, LocationType, Selection};

use super::BATCH;
use super::input::{ColumnNames, Columns};
use super::points::{Batch, Points};
use super::source::ChunkStats;
use crate::error::{Error, Result};
use crate::param::Param;
use crate::store::h5::{check, has_attr, read_text};

/// The widest 2-D dataset whose columns are columns: wider ones are
/// images or matrices, not tables of points.
const MAX_WIDTH: usize = 1024;

/// How deep groups are walked (HDF5 hard links can make cycles).
const MAX_DEPTH: usize = 32;

/// Which values of a dataset a column is.
#[derive(Clone, Debug)]
enum Part {
    /// A 1-D dataset's values.
    Whole,
    /// One column of a 2-D dataset.
    Column(usize),
    /// One field of a 1-D compound dataset.
    Field(String),
}

/// One column of the file.
#[derive(Debug)]
struct Column {
    /// Index into the layout's datasets.
    dataset: usize,
    part: Part,
    rows: u64,
    /// The type of the values.
    ty: TypeDescriptor,
}

/// An opened HDF5 file: its columns and, once they are selected, how its
/// rows are cut into chunks.
pub(crate) struct Hdf5Layout {
    name: String,
    /// Kept open for the datasets' sake.
    _file: File,
    datasets: Vec<(String, Dataset)>,
    columns: Vec<Column>,
    /// Rows of the selected columns.
    rows: u64,
    /// The x dataset's chunk rows (1 when it is not chunked).
    chunk_rows: u64,
    /// Bytes the file takes, which parts and progress divide by rows.
    file_len: u64,
}

impl std::fmt::Debug for Hdf5Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Layout")
            .field("columns", &self.columns.len())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

fn numeric(ty: &TypeDescriptor) -> bool {
    matches!(
        ty,
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_)
    )
}

fn integer(ty: &TypeDescriptor) -> bool {
    matches!(ty, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_))
}

/// The error for something wrong with the file `name`.
fn bad(name: &str, reason: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: name.to_string(),
        reason: format!("not a readable HDF5 file: {reason}"),
    }
}

impl Hdf5Layout {
    /// Opens the HDF5 file `name`, `file_len` bytes, and lists its columns.
    pub(crate) fn open(name: &str, file_len: u64) -> Result<(Hdf5Layout, ColumnNames)> {
        let h5 = |e: hdf5::Error| bad(name, e);
        let file = crate::store::options().open(name).map_err(h5)?;
        if has_attr(&file, "format").map_err(h5)?
            && read_text(&file, "format").ok().as_deref() == Some(crate::store::FORMAT_NAME)
        {
            return Err(Error::request(format!(
                "{name}: this is a densebin grid, not a table of points: grids are shaded \
                 or merged, not binned"
            )));
        }
        let mut layout = Hdf5Layout {
            name: name.to_string(),
            _file: file.clone(),
            datasets: Vec::new(),
            columns: Vec::new(),
            rows: 0,
            chunk_rows: 1,
            file_len,
        };
        let mut names = Vec::new();
        layout.walk(&file, "", 0, &mut names).map_err(h5)?;
        if names.is_empty() {
            return Err(Error::request(format!(
                "{name}: the file holds no dataset of points: no 1-D or 2-D dataset of numbers, \
                 and no 1-D compound dataset with numeric fields"
            )));
        }
        let names = ColumnNames {
            count: names.len(),
            names: Some(names),
            no_names_because: "",
            split_by: None,
            defaults_by_name: true,
        };
        Ok((layout, names))
    }

    /// Lists the columns of `group` (at `prefix`) and of the groups in it.
    fn walk(
        &mut self,
        group: &Group,
        prefix: &str,
        depth: usize,
        names: &mut Vec<String>,
    ) -> hdf5::Result<()> {
        for member in group.member_names()? {
            let path = format!("{prefix}/{member}");
            match group.loc_type_by_name(&member) {
                Ok(LocationType::Group) if depth < MAX_DEPTH => {
                    self.walk(&group.group(&member)?, &path, depth + 1, names)?;
                }
                Ok(LocationType::Dataset) => {
                    let ds = group.dataset(&member)?;
                    self.add(path, ds, names);
                }
                // Named types, broken links, groups too deep: no points.
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds the columns of dataset `ds` at `path`, if it has any.
    fn add(&mut self, path: String, ds: Dataset, names: &mut Vec<String>) {
        let Ok(ty) = ds.dtype().and_then(|t| t.to_descriptor()) else {
            return;
        };
        let shape = ds.shape();
        let dataset = self.datasets.len();
        let rows = shape.first().copied().unwrap_or(0) as u64;
        let parts: Vec<(Part, TypeDescriptor)> = match (shape.len(), &ty) {
            (1, t) if numeric(t) => vec![(Part::Whole, ty.clone())],
            (1, TypeDescriptor::Compound(c)) => c
                .fields
                .iter()
                .filter(|f| numeric(&f.ty))
                .map(|f| (Part::Field(f.name.clone()), f.ty.clone()))
                .collect(),
            (2, t) if numeric(t) && shape[1] <= MAX_WIDTH => (0..shape[1])
                .map(|j| (Part::Column(j), ty.clone()))
                .collect(),
            _ => return,
        };
        self.datasets.push((path, ds));
        for (part, ty) in parts {
            self.columns.push(Column {
                dataset,
                part,
                rows,
                ty,
            });
            names.push(self.label(self.columns.len() - 1));
        }
    }

    /// Checks the selected columns: one length, numbers, and integers for
    /// the category. An automatic z (not chosen by the user) of another
    /// length is dropped; returns the z column to use.
    pub(crate) fn check_selected(
        &mut self,
        c: &Columns,
        z_explicit: bool,
    ) -> Result<Option<usize>> {
        let label = |i: usize| self.label(i);
        let rows = self.columns[c.x].rows;
        let length = |i: usize, param: Param| {
            if self.columns[i].rows == rows {
                return Ok(());
            }
            Err(Error::request(format!(
                "{}: column {:?} has {} rows but column {:?} (x) has {rows}: columns must be of \
                 one table; choose another with {}",
                self.name,
                label(i),
                self.columns[i].rows,
                label(c.x),
                param.mark()
            )))
        };
        length(c.y, Param::Y)?;
        if let Some(w) = c.w {
            length(w, Param::Weight)?;
        }
        if let Some(i) = c.c {
            length(i, Param::By)?;
            if !integer(&self.columns[i].ty) {
                return Err(Error::request(format!(
                    "{}: column {:?} is {}, not integers, the categories a dataset can hold; \
                     choose another with {}",
                    self.name,
                    label(i),
                    self.columns[i].ty,
                    Param::By.mark()
                )));
            }
        }
        let z = match c.z {
            Some(z) => match length(z, Param::Z) {
                Ok(()) => Some(z),
                Err(_) if !z_explicit => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        for i in [Some(c.x), Some(c.y), z, c.w, c.c].into_iter().flatten() {
            self.check_filters(i)?;
        }
        self.rows = rows;
        let x = &self.datasets[self.columns[c.x].dataset].1;
        self.chunk_rows = x
            .chunk()
            .and_then(|c| c.first().copied())
            .map_or(1, |r| r.max(1) as u64);
        Ok(z)
    }

    /// Fails when column `i`'s dataset is compressed with a filter this
    /// libhdf5 cannot decode (a plugin it does not have), before any point
    /// is read.
    fn check_filters(&self, i: usize) -> Result<()> {
        let (path, ds) = &self.datasets[self.columns[i].dataset];
        match ds.filters().iter().find(|f| !f.is_available()) {
            None => Ok(()),
            Some(f) => Err(Error::BadFile {
                path: self.name.clone(),
                reason: format!(
                    "dataset {path} is compressed with HDF5 filter {}, a plugin densebin does \
                     not have (it reads gzip, lzf, shuffle and libhdf5's other built-in \
                     filters); rewrite it with gzip",
                    f.id()
                ),
            }),
        }
    }

    /// The name of column `i`: its dataset's path, and the column or
    /// field.
    fn label(&self, i: usize) -> String {
        let column = &self.columns[i];
        let path = &self.datasets[column.dataset].0;
        match &column.part {
            Part::Whole => path.clone(),
            Part::Column(j) => format!("{path}/{j}"),
            Part::Field(f) => format!("{path}/{f}"),
        }
    }

    /// Rows of the selected columns.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes of the file that rows `rows` stand for: the file's size
    /// divided among the rows, so that any tiling of the rows adds up to it.
    pub(crate) fn bytes_of(&self, rows: Range<u64>) -> u64 {
        let at = |r: u64| {
            (u128::from(r.min(self.rows)) * u128::from(self.file_len))
                .checked_div(u128::from(self.rows))
                .unwrap_or(0) as u64
        };
        at(rows.end) - at(rows.start)
    }

    /// The row that byte `at` of the file stands for, at a chunk boundary
    /// (for cutting the file into parts).
    pub(crate) fn row_at(&self, at: u64) -> u64 {
        if self.file_len == 0 || at >= self.file_len {
            return self.rows;
        }
        let row = (u128::from(at) * u128::from(self.rows) / u128::from(self.file_len)) as u64;
        row.div_ceil(self.chunk_rows)
            .saturating_mul(self.chunk_rows)
            .min(self.rows)
    }

    /// The rows of the chunk that starts at row `at`, of about `target`
    /// bytes of values, up to `end`: whole chunks of the x dataset.
    pub(crate) fn chunk_at(&self, at: u64, target: usize, end: u64) -> Range<u64> {
        let want = (target as u64 / 32).max(BATCH as u64);
        let stop = (at + want)
            .div_ceil(self.chunk_rows)
            .saturating_mul(self.chunk_rows);
        at..stop.min(end)
    }

    /// Reads rows `rows` of the selected columns, and passes them on in
    /// batches of at most [`BATCH`] points.
    pub(crate) fn read_rows(
        &self,
        rows: Range<u64>,
        cols: &Columns,
        pts: &mut Points,
        sink: &mut dyn FnMut(Batch<'_>) -> Result<()>,
    ) -> Result<ChunkStats> {
        for (slot, col) in cols.selected() {
            let f64s = TypeDescriptor::Float(FloatSize::U8);
            self.read_column(col, rows.clone(), f64s, pts.slot_mut(slot))?;
        }
        if let Some(col) = cols.c.filter(|_| !pts.categories.is_ignoring()) {
            let mut values: Vec<i64> = Vec::new();
            let i64s = TypeDescriptor::Integer(IntSize::U8);
            self.read_column(col, rows.clone(), i64s, &mut values)?;
            pts.c.clear();
            for v in values {
                let id = pts.categories.id_of_int(v).map_err(|e| {
                    e.into_error("", || Error::request("an integer category is not UTF-8"))
                })?;
                pts.c.push(id);
            }
        }
        let n = (rows.end - rows.start) as usize;
        let mut start = 0;
        while start < n {
            let end = (start + BATCH).min(n);
            sink(pts.batch().rows(start..end))?;
            start = end;
        }
        Ok(ChunkStats {
            points_read: n as u64,
            ..ChunkStats::default()
        })
    }

    /// Reads rows `rows` of column `col` into `out` (cleared first) as
    /// values of `ty`, the native type `T`.
    fn read_column<T: Copy>(
        &self,
        col: usize,
        rows: Range<u64>,
        ty: TypeDescriptor,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let column = &self.columns[col];
        let (path, ds) = &self.datasets[column.dataset];
        let damaged = |e: hdf5::Error| {
            bad(
                &self.name,
                format!("dataset {path}, rows {} to {}: {e}", rows.start, rows.end),
            )
        };
        let n = (rows.end - rows.start) as usize;
        let r = rows.start as usize..rows.end as usize;
        let selection = match column.part {
            Part::Column(j) => Selection::from((r, j)),
            Part::Whole | Part::Field(_) => Selection::from(r),
        };
        let fspace = ds
            .space()
            .and_then(|s| s.select(selection))
            .map_err(damaged)?;
        let mspace = Dataspace::try_new(n).map_err(damaged)?;
        // A field is read as a compound of that one field: libhdf5 picks
        // members by name.
        let ty = match &column.part {
            Part::Field(name) => TypeDescriptor::Compound(CompoundType {
                size: size_of::<T>(),
                fields: vec![CompoundField {
                    name: name.clone(),
                    ty,
                    offset: 0,
                    index: 0,
                }],
            }),
            Part::Whole | Part::Column(_) => ty,
        };
        let mem = Datatype::from_descriptor(&ty).map_err(damaged)?;
        out.clear();
        out.reserve(n);
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: the dataset, both dataspaces and the memory type are open
        // identifiers owned by live values; the memory space holds `n`
        // elements, the file selection `n` (a range of rows, of one column
        // for 2-D datasets), and `out` has room for `n` values of `T`,
        // whose layout `mem` describes (a native `f64` or `i64`, or a
        // compound of one such member at offset 0 and size `size_of::<T>`);
        // the global HDF5 lock is held. hdf5-metno's typed reads allocate
        // a new array each call and cannot name a compound's field at run
        // time; this reads any column into a buffer reused chunk after chunk.
        let status = unsafe {
            hdf5_sys::h5d::H5Dread(
                ds.id(),
                mem.id(),
                mspace.id(),
                fspace.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            )
        };
        check(status, "H5Dread").map_err(damaged)?;
        // SAFETY: H5Dread succeeded, so it wrote all `n` values.
        unsafe { out.set_len(n) };
        Ok(())
    }
}
