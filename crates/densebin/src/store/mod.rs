//! The grid file: HDF5 through libhdf5, readable by h5py and by
//! `xarray.open_dataset` with proper `x`/`y` coordinates.
//!
//! Layout (format `densebin-grid`, version [`FORMAT_VERSION`]):
//!
//! | dataset | type | shape | what |
//! |---|---|---|---|
//! | `x` | f64 | (W) | pixel-centre x; a dimension scale |
//! | `y` | f64 | (H) | pixel-centre y, lowest first; a dimension scale |
//! | `z_bin` | f64 | (K) | z-bin centres (with `zhist`); a dimension scale |
//! | `count` | u64 | (H, W) | points per pixel |
//! | `sum_z` | f64 | (H, W) | sum of finite z (layer `sum`) |
//! | `count_z` | u64 | (H, W) | points with finite z, only when it differs from `count` |
//! | `m2_z` | f64 | (H, W) | sum of squared deviations of z (layer `std`) |
//! | `min_z`, `max_z` | f64 | (H, W) | extrema of finite z; ±inf where none (layer `minmax`) |
//! | `zhist` | u32 | (K, H, W) | z histogram (layer `zhist`) |
//! | `sum_w` | f64 | (H, W) | sum of finite weights (layer `weight`) |
//! | `category` | UTF-8 strings | (C) | category names, in plane order (layer `count_cat`); a dimension scale |
//! | `count_cat` | u32 | (C, H, W) | points per category per pixel (layer `count_cat`) |
//!
//! Every layer is chunked and compressed (shuffle + deflate) and has its
//! axes attached to the scales. densebin runs the two filters itself, on
//! many chunks in parallel, and hands libhdf5 the stored bytes (see
//! `write_chunks` and `read_chunks`). Row 0 is the bottom. Root attributes hold
//! the spec, the counters and the inputs; see [`write_grid`].
//!
//! Files are written to a temporary file in the target's folder, synced, and
//! renamed into place, so a crash or a full disk never leaves a partial grid
//! under the real name.

mod codec;
pub(crate) mod h5;

use std::path::Path;
use std::str::FromStr;

use hdf5::{Dataset, File};
use ndarray::Array2;

use codec::{CHUNK, DEFLATE, Stored, read_layer, write_chunks};
use h5::{
    attach, attr, attr_array, attr_scalar, attr_str, attr_strings, dataset_of_shape, has_attr,
    read_attr, read_string_dataset, read_strings, read_text, reason, scale, string_scale, values,
};

use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::fsio::write_atomically;
use crate::grid::layers::{Element, Shape};
use crate::grid::{
    ArrayData, ArrayInfo, ArrayView, AxisType, Categories, Counters, Grid, GridSpec, InputInfo,
    Layer, LayerSet, Presence,
};

/// The `format` attribute of every grid file.
pub const FORMAT_NAME: &str = "densebin-grid";
/// The version of the layout this build writes, and the newest it reads.
///
/// Version 2 (from 2026-11-27, before any release) writes the HDF5 1.10
/// file format, whose metadata libhdf5 checksums, and fixed-length strings;
/// version 1 wrote the earliest HDF5 file format and variable-length
/// strings. Both read. Builds from before version 2 read `format` as a
/// variable-length string and so call a version 2 file "not a densebin
/// grid: no 'format' attribute".
pub const FORMAT_VERSION: u32 = 2;

/// Writes `grid` to `path` atomically ([`write_atomically`]): into a
/// temporary file in the same folder, synced, then renamed over `path`.
/// Chunks are compressed on `ctx`'s threads; a cancelled `ctx` stops the
/// write between waves of chunks.
pub fn write_grid(grid: &Grid, path: &Path, ctx: &RunContext) -> Result<()> {
    write_atomically(path, ctx, |tmp| {
        let file = options().create(tmp).map_err(|e| Error::hdf5(path, e))?;
        ctx.install(|| write_contents(grid, &file, ctx))
            .map_err(|e| match ctx.check_cancelled() {
                Err(cancelled) => cancelled,
                Ok(()) => Error::hdf5(path, e),
            })?;
        file.close().map_err(|e| Error::hdf5(path, e))
    })
}

/// How densebin opens HDF5 files: in the HDF5 1.10 file format, without
/// libhdf5's `flock` file locking.
///
/// The 1.10 format (superblock version 3, version 2 object headers, fixed
/// array chunk indexes) checksums all of the file's metadata, so libhdf5
/// reports damage to it as an error instead of following corrupt offsets
/// and sizes. Over random byte damage (`fuzz/corrupt.py`, docs/errors.md)
/// the default, earliest format crashed, hung or read different values in
/// 6 to 9 % of cases; this one never has. Readers need libhdf5 1.10 or newer
/// (2017).
///
/// Grids are never written in place (see [`write_atomically`]), so the lock
/// protects nothing, and it does harm: libhdf5 opens files without
/// `O_CLOEXEC`, so a child process started while a grid is open inherits
/// the locked descriptor, and a later open of the same file in this process
/// fails with `EAGAIN` until the child exits.
pub fn options() -> hdf5::file::FileBuilder {
    let mut b = File::with_options();
    b.with_fapl(|p| p.file_locking(false).libver_v110());
    b
}

/// One attribute of a grid file's root (see [`attributes`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Attr {
    /// A UTF-8 string.
    Text(String),
    /// Strings, one per input.
    Texts(Vec<String>),
    /// A `u32`.
    U32(u32),
    /// A `u64`.
    U64(u64),
    /// `f64` values (a range, or one per input).
    F64s(Vec<f64>),
    /// `i64` values, one per input.
    I64s(Vec<i64>),
    /// `u64` values.
    U64s(Vec<u64>),
}

/// The root attributes of `grid`'s file, in the order they are written:
/// the format, the canvas and layers, the counters, and the inputs (absent
/// when there are none: HDF5 attributes cannot be empty arrays). What the
/// Python package's `to_xarray` shows too.
pub fn attributes(grid: &Grid) -> Vec<(&'static str, Attr)> {
    let spec = grid.spec();
    let text = |s: &str| Attr::Text(s.to_string());
    let mut out = vec![
        ("format", text(FORMAT_NAME)),
        ("format_version", Attr::U32(FORMAT_VERSION)),
        ("densebin_version", text(env!("CARGO_PKG_VERSION"))),
        ("width", Attr::U64(spec.width() as u64)),
        ("height", Attr::U64(spec.height() as u64)),
        ("x_range", Attr::F64s(vec![spec.x().lo(), spec.x().hi()])),
        ("y_range", Attr::F64s(vec![spec.y().lo(), spec.y().hi()])),
        ("x_axis_type", text(spec.x().axis_type().name())),
        ("y_axis_type", text(spec.y().axis_type().name())),
        ("layers", Attr::Text(spec.layers().to_string())),
    ];
    if let Some(z) = spec.zbins() {
        out.push(("z_bins", Attr::U64(z.len() as u64)));
        out.push(("z_range", Attr::F64s(vec![z.lo(), z.hi()])));
    }
    out.extend(
        grid.counters()
            .fields()
            .into_iter()
            .map(|(n, v)| (n, Attr::U64(v))),
    );
    let inputs = grid.inputs();
    if !inputs.is_empty() {
        // Flat, MAX_BAD_LINES per input, 0 for none: netCDF readers cannot
        // open 2-D attributes.
        let per = InputInfo::MAX_BAD_LINES;
        let mut bad = vec![0u64; inputs.len() * per];
        for (row, i) in inputs.iter().enumerate() {
            for (col, &line) in i.bad_lines.iter().take(per).enumerate() {
                bad[row * per + col] = line;
            }
        }
        out.extend([
            (
                "input_name",
                Attr::Texts(inputs.iter().map(|i| i.name.clone()).collect()),
            ),
            (
                "input_size",
                Attr::I64s(
                    inputs
                        .iter()
                        .map(|i| i.size.map_or(-1, |s| s as i64))
                        .collect(),
                ),
            ),
            (
                "input_mtime",
                Attr::F64s(
                    inputs
                        .iter()
                        .map(|i| i.mtime.map_or(f64::NAN, |t| t as f64))
                        .collect(),
                ),
            ),
            ("input_bad_lines", Attr::U64s(bad)),
            (
                "input_x_column",
                Attr::Texts(inputs.iter().map(|i| i.columns[0].clone()).collect()),
            ),
            (
                "input_y_column",
                Attr::Texts(inputs.iter().map(|i| i.columns[1].clone()).collect()),
            ),
            (
                "input_format",
                Attr::Texts(inputs.iter().map(|i| i.format.clone()).collect()),
            ),
        ]);
    }
    out
}

/// The coordinates of a grid of `spec`: name, values (pixel or bin
/// centres, lowest first) and long name; `z_bin` with a z histogram.
pub fn coordinates(spec: &GridSpec) -> Vec<(&'static str, Vec<f64>, &'static str)> {
    let mut out = vec![
        ("x", spec.x().centres(), "x of pixel centres"),
        (
            "y",
            spec.y().centres(),
            "y of pixel centres (row 0 is the bottom)",
        ),
    ];
    if let Some(z) = spec.zbins() {
        out.push(("z_bin", z.centres(), "z of histogram bin centres"));
    }
    out
}

fn write_contents(grid: &Grid, file: &File, ctx: &RunContext) -> hdf5::Result<()> {
    let spec = grid.spec();
    for (name, value) in attributes(grid) {
        match value {
            Attr::Text(v) => attr_str(file, name, &v)?,
            Attr::Texts(v) => {
                let v: Vec<&str> = v.iter().map(String::as_str).collect();
                attr_strings(file, name, &v, false)?;
            }
            Attr::U32(v) => attr_scalar(file, name, v)?,
            Attr::U64(v) => attr_scalar(file, name, v)?,
            Attr::F64s(v) => attr_array(file, name, ndarray::ArrayView1::from(&v))?,
            Attr::I64s(v) => attr_array(file, name, ndarray::ArrayView1::from(&v))?,
            Attr::U64s(v) => attr_array(file, name, ndarray::ArrayView1::from(&v))?,
        }
    }
    let mut scales = std::collections::HashMap::new();
    for (name, values, long) in coordinates(spec) {
        scales.insert(name, scale(file, name, &values, long)?);
    }
    let category = match spec.categories() {
        Some(c) => {
            let names: Vec<&str> = c.names().iter().map(String::as_str).collect();
            Some(string_scale(file, "category", &names, "category")?)
        }
        None => None,
    };
    let (x, y, zb) = (&scales["x"], &scales["y"], scales.get("z_bin"));
    for (info, data) in grid.layers() {
        let axes: Vec<&Dataset> = match info.shape {
            Shape::Plane => vec![y, x],
            Shape::PerZBin => vec![zb.expect("a histogram has z bins"), y, x],
            Shape::PerCategory => vec![category.as_ref().expect("count_cat has categories"), y, x],
        };
        let ds = match data {
            ArrayView::U32(v) => layer(file, info, v, ctx)?,
            ArrayView::U64(v) => layer(file, info, v, ctx)?,
            ArrayView::F64(v) => layer(file, info, v, ctx)?,
        };
        attach(&ds, &axes)?;
    }
    Ok(())
}

/// Array `info` of a grid as a chunked, compressed dataset: chunks of
/// 512 x 512 pixels (one z bin each for histograms); for a sparse array,
/// only the chunks that hold a point (unwritten chunks cost nothing and
/// read back as the fill value, 0).
fn layer<T: Stored>(
    file: &File,
    info: &ArrayInfo,
    data: ndarray::ArrayViewD<'_, T>,
    ctx: &RunContext,
) -> hdf5::Result<Dataset> {
    let shape = data.shape().to_vec();
    if shape.contains(&0) {
        // No categories (no point was binned): nothing to chunk.
        let ds = file
            .new_dataset_builder()
            .empty::<T>()
            .shape(shape)
            .create(info.name)?;
        attr_str(&ds, "long_name", info.long_name)?;
        return Ok(ds);
    }
    let rank = shape.len();
    let chunk: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(axis, &n)| if axis + 2 < rank { 1 } else { n.min(CHUNK) })
        .collect();
    let ds = file
        .new_dataset_builder()
        .chunk(chunk.clone())
        .shuffle()
        .deflate(DEFLATE)
        .empty::<T>()
        .shape(shape)
        .create(info.name)?;
    write_chunks(&ds, data, &chunk, info.sparse, ctx)?;
    attr_str(&ds, "long_name", info.long_name)?;
    Ok(ds)
}

/// What a grid file says about itself, without its layers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GridHeader {
    /// The spec (canvas, layers, z bins).
    pub spec: GridSpec,
    /// What happened to the points.
    pub counters: Counters,
    /// Where the points came from.
    pub inputs: Vec<InputInfo>,
    /// The file's format version.
    pub format_version: u32,
    /// The densebin version that wrote it.
    pub densebin_version: String,
}

/// Reads a grid file's attributes: spec, counters and inputs.
pub fn read_header(path: &Path) -> Result<GridHeader> {
    open_grid(path).map(|(_, h)| h)
}

/// Reads a grid written by [`write_grid`] (or a compatible writer).
pub fn read_grid(path: &Path) -> Result<Grid> {
    read_grid_layers(path, None)
}

/// Reads a grid, or when `only` is given just those of its layers (the
/// grid's spec then lists only them): shading a density image need not read
/// a gigabyte of z histogram.
pub fn read_grid_layers(path: &Path, only: Option<LayerSet>) -> Result<Grid> {
    let (file, mut header) = open_grid(path)?;
    if let Some(layers) = only {
        header.spec = header.spec.subset(layers);
    }
    let bad = |reason: String| Error::GridFormat {
        path: path.display().to_string(),
        reason,
    };
    let spec = header.spec.clone();
    // A corrupt width or height could ask for terabytes (found by
    // fuzzing): every array is opened and its shape checked, and the grid
    // must fit in memory, before anything is allocated. An array kept
    // only where it differs from another (count_z) may be absent.
    let mut datasets = Vec::new();
    for a in spec.layers().arrays() {
        let optional = matches!(a.presence, Presence::UntilDistinctFrom(_));
        if optional && !file.link_exists(a.name) {
            continue;
        }
        let ds = dataset_of_shape(&file, a.name, &spec.array_shape(a)).map_err(&bad)?;
        datasets.push((a, ds));
    }
    let need = spec.grid_bytes().unwrap_or(u64::MAX);
    if let Some(free) = crate::sys::available_memory()
        && need > free
    {
        return Err(Error::OutOfMemory(format!(
            "{}: the grid needs {} bytes of memory, and {free} are available",
            path.display(),
            need
        )));
    }
    let mut arrays = Vec::with_capacity(datasets.len());
    for (a, ds) in datasets {
        let data = match a.element {
            Element::U32 => ArrayData::U32(read_layer(&ds, a.name).map_err(&bad)?),
            Element::U64 => ArrayData::U64(read_layer(&ds, a.name).map_err(&bad)?),
            Element::F64 => ArrayData::F64(read_layer(&ds, a.name).map_err(&bad)?),
        };
        arrays.push((a.id, data));
    }
    Grid::from_arrays(spec, arrays, header.counters, header.inputs).map_err(|e| bad(e.to_string()))
}

/// Opens a grid file and reads and checks its attributes.
fn open_grid(path: &Path) -> Result<(File, GridHeader)> {
    let bad = |reason: String| Error::GridFormat {
        path: path.display().to_string(),
        reason,
    };
    if let Err(e) = std::fs::metadata(path) {
        return Err(Error::io(path, e));
    }
    let file = options()
        .open(path)
        .map_err(|e| bad(format!("not a readable HDF5 file ({})", reason(e))))?;
    let h5 = |e: hdf5::Error| bad(reason(e));
    if !has_attr(&file, "format").map_err(h5)? {
        return Err(bad("not a densebin grid: no 'format' attribute".to_string()));
    }
    let format = read_text(&file, "format").map_err(h5)?;
    if format != FORMAT_NAME {
        return Err(bad(format!("not a densebin grid: format is {format:?}")));
    }
    let version: u32 = read_attr(&file, "format_version").map_err(h5)?;
    if version > FORMAT_VERSION {
        return Err(bad(format!(
            "written in grid format version {version}, but this densebin ({}) reads up to version {FORMAT_VERSION}: upgrade densebin",
            env!("CARGO_PKG_VERSION")
        )));
    }
    let densebin_version = read_text(&file, "densebin_version").unwrap_or_default();
    let width: u64 = read_attr(&file, "width").map_err(h5)?;
    let height: u64 = read_attr(&file, "height").map_err(h5)?;
    let range = |name: &str| -> Result<(f64, f64)> {
        let v = attr(&file, name)
            .and_then(|a| values::<f64>(&a, name))
            .map_err(h5)?;
        match v[..] {
            [lo, hi] => Ok((lo, hi)),
            _ => Err(bad(format!("attribute {name} must hold two values"))),
        }
    };
    let layers_text = read_text(&file, "layers").map_err(h5)?;
    let layers = LayerSet::from_str(&layers_text).map_err(|e| bad(e.to_string()))?;
    let zhist = if layers.contains(Layer::ZHist) {
        let bins: u64 = read_attr(&file, "z_bins").map_err(h5)?;
        Some((to_usize(bins).map_err(bad)?, range("z_range")?))
    } else {
        None
    };
    // Grids from before log axes have no axis types: linear.
    let axis_type = |name: &str| -> Result<AxisType> {
        if !has_attr(&file, name).map_err(h5)? {
            return Ok(AxisType::Linear);
        }
        let text = read_text(&file, name).map_err(h5)?;
        text.parse().map_err(|e: Error| bad(format!("{name}: {e}")))
    };
    let (x_axis, y_axis) = (axis_type("x_axis_type")?, axis_type("y_axis_type")?);
    let spec = GridSpec::new(
        to_usize(width).map_err(bad)?,
        to_usize(height).map_err(bad)?,
        range("x_range")?,
        range("y_range")?,
    )
    .and_then(|s| s.with_axis_types(x_axis, y_axis))
    .and_then(|s| s.with_layers(layers, zhist))
    .map_err(|e| bad(format!("invalid spec: {e}")))?;
    let spec = if layers.contains(Layer::CountCat) {
        let names = read_string_dataset(&file, "category")
            .map_err(|e| bad(format!("category: {}", reason(e))))?
            .into_iter()
            .map(|n| String::from_utf8(n).map_err(|_| bad("a category name is not UTF-8".into())))
            .collect::<Result<Vec<String>>>()?;
        spec.with_categories(Categories::stored(names).map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(format!("invalid spec: {e}")))?
    } else {
        spec
    };
    let mut counters = Counters::default();
    for (name, _) in Counters::default().fields() {
        if has_attr(&file, name).map_err(h5)? {
            counters.set(name, read_attr(&file, name).map_err(h5)?);
        }
    }
    let inputs = read_inputs(&file).map_err(h5)?;
    let header = GridHeader {
        spec,
        counters,
        inputs,
        format_version: version,
        densebin_version,
    };
    Ok((file, header))
}

/// Reads just the `count` layer of a grid file.
pub fn read_count(path: &Path) -> Result<Array2<u64>> {
    let (file, header) = open_grid(path)?;
    let shape = [header.spec.height(), header.spec.width()];
    dataset_of_shape(&file, "count", &shape)
        .and_then(|ds| read_layer(&ds, "count"))
        .map_err(|reason| Error::GridFormat {
            path: path.display().to_string(),
            reason,
        })
}

fn to_usize(v: u64) -> std::result::Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("size {v} does not fit this machine"))
}

fn read_inputs(file: &File) -> hdf5::Result<Vec<InputInfo>> {
    if !has_attr(file, "input_name")? {
        return Ok(Vec::new());
    }
    let names = read_strings(file, "input_name")?;
    let sizes: Vec<i64> = values(&attr(file, "input_size")?, "input_size")?;
    let mtimes: Vec<f64> = values(&attr(file, "input_mtime")?, "input_mtime")?;
    let bad: Vec<u64> = values(&attr(file, "input_bad_lines")?, "input_bad_lines")?;
    let per = InputInfo::MAX_BAD_LINES;
    if sizes.len() != names.len() || mtimes.len() != names.len() || bad.len() != names.len() * per {
        return Err(hdf5::Error::from("input attributes disagree in length"));
    }
    // Grids written before column names were kept have none.
    let column = |key: &str| -> hdf5::Result<Vec<String>> {
        if !has_attr(file, key)? {
            return Ok(vec![String::new(); names.len()]);
        }
        let v: Vec<String> = read_strings(file, key)?
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        if v.len() == names.len() {
            Ok(v)
        } else {
            Err(hdf5::Error::from("input attributes disagree in length"))
        }
    };
    let (xs, ys) = (column("input_x_column")?, column("input_y_column")?);
    let formats = column("input_format")?;
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, n)| InputInfo {
            // Shown, never parsed: an invalid name is shown as far as it
            // can be.
            name: String::from_utf8_lossy(n).into_owned(),
            size: u64::try_from(sizes[i]).ok(),
            mtime: mtimes[i].is_finite().then_some(mtimes[i] as i64),
            bad_lines: bad[i * per..(i + 1) * per]
                .iter()
                .copied()
                .filter(|&l| l > 0)
                .collect(),
            columns: [xs[i].clone(), ys[i].clone()],
            format: formats[i].clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::codec::write_chunk;
    use super::*;
    use crate::read::Points;

    fn full_grid() -> Grid {
        let layers: LayerSet = "count,sum,minmax,std,zhist,weight,count_cat"
            .parse()
            .unwrap();
        let spec = GridSpec::new(5, 3, (-1.0, 1.0), (0.0, 3.0))
            .unwrap()
            .with_layers(layers, Some((4, (0.0, 1.0))))
            .unwrap();
        let mut g = Grid::empty(spec);
        let names = ["wäter \"deep\", cold", "2", "a"].map(String::from);
        g.append(
            &Points {
                x: vec![-1.0, 0.0, 0.99, 1.0, 0.5, f64::NAN],
                y: vec![0.0, 1.5, 2.9, 3.0, 0.5, 1.0],
                z: vec![0.1, 0.6, f64::NAN, 2.0, -1.0, 0.0],
                w: vec![1.0, 2.0, 3.0, f64::INFINITY, 0.5, 0.0],
                ..Points::default()
            }
            .with_categories(vec![0, 1, 0, 2, crate::read::NO_CATEGORY, 1], &names),
        )
        .unwrap();
        assert_eq!(
            g.spec().categories().unwrap().names(),
            ["2", "a", "wäter \"deep\", cold"],
            "found categories, in canonical order"
        );
        g.inputs.push(InputInfo {
            name: "dätä, \"quoted\".txt".into(),
            size: Some(123),
            mtime: Some(1_700_000_000),
            bad_lines: vec![3, 9],
            columns: ["lng".into(), "lät".into()],
            format: "gzip text".into(),
        });
        g.inputs.push(InputInfo {
            name: "-".into(),
            ..InputInfo::default()
        });
        g.counters.lines_ignored = 2;
        g.counters.bad_lines = 2;
        g
    }

    #[test]
    fn every_layer_and_attribute_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        let g = full_grid();
        assert!(g.has_distinct_count_z());
        write_grid(&g, &path, &RunContext::new()).unwrap();
        let back = read_grid(&path).unwrap();
        assert!(back == g, "{back:?}\nvs\n{g:?}");
        let header = read_header(&path).unwrap();
        assert_eq!(header.format_version, FORMAT_VERSION);
        assert_eq!(header.densebin_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(read_count(&path).unwrap(), g.count());
    }

    #[test]
    fn the_layer_table_round_trips_every_array() {
        use crate::grid::layers::{ARRAYS, LAYERS};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        let ctx = RunContext::new();
        let g = full_grid();
        write_grid(&g, &path, &ctx).unwrap();
        let names: Vec<&str> = g.layers().map(|(a, _)| a.name).collect();
        let table: Vec<&str> = ARRAYS.iter().map(|a| a.name).collect();
        assert_eq!(names, table, "the full grid holds every array of the table");
        let back = read_grid(&path).unwrap();
        assert_eq!(back.layers().count(), ARRAYS.len());
        for ((a, v), (b, w)) in g.layers().zip(back.layers()) {
            assert_eq!(a.id, b.id);
            assert!(v == w, "{} differs", a.name);
        }
        // Each layer alone, written and read back alone.
        for l in &LAYERS {
            let only = LayerSet::count_only().with(l.layer);
            let part = read_grid_layers(&path, Some(only)).unwrap();
            let want: Vec<&str> = only
                .arrays()
                .map(|a| a.name)
                .filter(|n| *n != "count_z" || g.has_distinct_count_z())
                .collect();
            let got: Vec<&str> = part.layers().map(|(a, _)| a.name).collect();
            assert_eq!(got, want, "{}", l.name);
            let alone = dir.path().join(format!("{}.h5", l.name));
            write_grid(&part, &alone, &ctx).unwrap();
            assert!(read_grid(&alone).unwrap() == part, "{}", l.name);
        }
    }

    #[test]
    fn grids_of_many_chunks_round_trip() {
        // 3 x 2 chunks of every layer, the last ones partial; points only
        // in the lower left, so that most z-histogram chunks are zeros and
        // left unwritten; every stored type (u64, f64, u32), with values
        // whose bytes all differ, so that a wrong shuffle would show.
        let layers: LayerSet = "count,sum,minmax,std,zhist,weight".parse().unwrap();
        let spec = GridSpec::new(1100, 600, (0.0, 1100.0), (0.0, 600.0))
            .unwrap()
            .with_layers(layers, Some((3, (0.0, 1.0))))
            .unwrap();
        let mut g = Grid::empty(spec);
        let mut pts = Points::default();
        let mut s = 7u64;
        for i in 0..200_000 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            pts.x.push(if i % 3 == 0 { u * 1100.0 } else { u * 500.0 });
            pts.y.push(((i * 7919) % 600) as f64 + 0.5);
            pts.z.push(if i % 101 == 0 {
                f64::NAN
            } else {
                u * 0.3 + 1e-7 * i as f64
            });
            pts.w.push(u * 1e6);
        }
        g.append(&pts).unwrap();
        assert!(g.has_distinct_count_z());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        write_grid(&g, &path, &RunContext::new()).unwrap();
        let back = read_grid(&path).unwrap();
        assert!(back == g, "the grid read back differs");
    }

    #[test]
    fn layers_stored_otherwise_are_read_through_libhdf5() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        let g = full_grid();
        write_grid(&g, &path, &RunContext::new()).unwrap();
        {
            let f = File::open_rw(&path).unwrap();
            // count: deflate without shuffle; sum_z: not chunked at all;
            // min_z: one chunk stored without deflate (filter mask bit 1).
            f.unlink("count").unwrap();
            f.new_dataset_builder()
                .chunk((2, 2))
                .deflate(4)
                .with_data(g.count())
                .create("count")
                .unwrap();
            f.unlink("sum_z").unwrap();
            f.new_dataset_builder()
                .with_data(g.sum_z().unwrap())
                .create("sum_z")
                .unwrap();
            let ds = f.dataset("min_z").unwrap();
            let values: Vec<f64> = g.min_z().unwrap().iter().copied().collect();
            let mut shuffled = vec![0u8; values.len() * 8];
            f64::shuffle(&values, &mut shuffled);
            write_chunk(&ds, &[0, 0], &shuffled, 0b10).unwrap();
        }
        let back = read_grid(&path).unwrap();
        assert!(back == g, "{back:?}\nvs\n{g:?}");
    }

    #[test]
    fn corrupt_chunks_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        write_grid(&full_grid(), &path, &RunContext::new()).unwrap();
        {
            let f = File::open_rw(&path).unwrap();
            write_chunk(&f.dataset("max_z").unwrap(), &[0, 0], b"not zlib", 0).unwrap();
        }
        let err = read_grid(&path).unwrap_err().to_string();
        assert!(
            err.contains("layer max_z: a corrupt chunk at [0, 0]") && err.contains("g.h5"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_grid_without_inputs_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.h5");
        let g = Grid::empty(GridSpec::new(2, 2, (0.0, 1.0), (0.0, 1.0)).unwrap());
        write_grid(&g, &path, &RunContext::new()).unwrap();
        assert!(read_grid(&path).unwrap() == g);
    }

    #[test]
    fn missing_layers_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.h5");
        write_grid(&full_grid(), &path, &RunContext::new()).unwrap();
        {
            let f = options().open_rw(&path).unwrap();
            f.unlink("sum_w").unwrap();
        }
        let err = read_grid(&path).unwrap_err().to_string();
        assert!(err.contains("layer sum_w is missing"), "{err}");
    }
}
