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

use std::ffi::CString;
use std::path::Path;
use std::str::FromStr;

use hdf5::filters::Filter;
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Datatype, File, H5Type, Location};
use ndarray::{Array, Array2, ArrayD, ArrayView, ArrayViewD, Dimension, IxDyn, Slice};
use rayon::prelude::*;

use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::fsio::write_atomically;
use crate::grid::{Counters, Grid, GridSpec, InputInfo, Layer, LayerSet};

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
/// deflate level, of the zlib-rs encoder that compresses the chunks (see
/// [`write_chunks`]): 2 makes files 25 % smaller than 1 (zlib-rs's level 1
/// is a quicker, coarser algorithm) at 1.5 times the time, and higher
/// levels save 1–6 % more at 1.2–2.4 times the time (BENCHMARKS.md,
/// "parallel chunk compression").
const DEFLATE: u8 = 2;
/// Edge of a storage chunk, in pixels.
const CHUNK: usize = 512;

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

fn attr_scalar<T: H5Type>(loc: &Location, name: &str, v: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&v)
}

fn attr_str(loc: &Location, name: &str, v: &str) -> hdf5::Result<()> {
    attr_strings(loc, name, &[v], true)
}

/// Writes `values` as fixed-length UTF-8 strings (NUL-padded to the
/// longest), a scalar attribute when `scalar`. Fixed-length strings live
/// in the attribute itself, inside the object header that libhdf5
/// checksums; variable-length ones live in the global heap, which has no
/// checksum, and damage there crashed or hung libhdf5 1.10.8 or changed
/// the text silently (`fuzz/corrupt.py`). netCDF writes text attributes
/// the same way; h5py shows them as `bytes`, xarray as `str`.
fn attr_strings(loc: &Location, name: &str, values: &[&str], scalar: bool) -> hdf5::Result<()> {
    let len = values.iter().map(|v| v.len()).max().unwrap_or(0).max(1);
    let mut buf = vec![0u8; len * values.len()];
    for (slot, v) in buf.chunks_exact_mut(len).zip(values) {
        slot[..v.len()].copy_from_slice(v.as_bytes());
    }
    let dtype = Datatype::from_descriptor(&hdf5::types::TypeDescriptor::FixedUnicode(len))?;
    let builder = loc.new_attr_builder().empty_as(&dtype);
    let attr = if scalar {
        builder.shape(()).create(name)?
    } else {
        builder.shape(values.len()).create(name)?
    };
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `attr` and `dtype` are open identifiers owned by live values;
    // `buf` holds exactly one `len`-byte string (the type's size) per
    // element of the attribute's dataspace, and outlives the call; the
    // global HDF5 lock is held. hdf5-metno's typed writes need the string
    // length at compile time (`FixedUnicode<N>`); this writes any length.
    let status = unsafe { hdf5_sys::h5a::H5Awrite(attr.id(), dtype.id(), buf.as_ptr().cast()) };
    check(status, "H5Awrite")
}

/// The attribute `name` of `loc`; "attribute {name} is missing" only when
/// it is, otherwise libhdf5's reason (a failed checksum, say).
fn attr(loc: &Location, name: &str) -> hdf5::Result<hdf5::Attribute> {
    loc.attr(name).map_err(|e| match has_attr(loc, name) {
        Ok(false) => hdf5::Error::from(format!("attribute {name} is missing")),
        _ => e,
    })
}

/// Whether `loc` has an attribute `name`. Not through hdf5-metno's
/// `attr_names`: it turns each attribute's character set into a Rust enum
/// unchecked, and a damaged one made it try to allocate exabytes (found by
/// the damage test on the format 1 layout).
fn has_attr(loc: &Location, name: &str) -> hdf5::Result<bool> {
    let cname = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `loc.id()` is an open identifier owned by `loc`, `cname` is
    // NUL-terminated and outlives the call, and the global HDF5 lock is
    // held.
    let found = unsafe { hdf5_sys::h5a::H5Aexists(loc.id(), cname.as_ptr()) };
    check(found.min(0), "H5Aexists")?;
    Ok(found > 0)
}

/// The strings of attribute `name`, fixed-length (format 2) or
/// variable-length (format 1), as the bytes the file holds: the caller
/// decides what invalid UTF-8 means.
fn read_strings(loc: &Location, name: &str) -> hdf5::Result<Vec<Vec<u8>>> {
    use hdf5::types::TypeDescriptor as T;
    let attr = attr(loc, name)?;
    let dtype = attr.dtype()?;
    let n = attr.size();
    match dtype.to_descriptor()? {
        T::FixedUnicode(len) | T::FixedAscii(len) => {
            fits(name, n, len)?;
            let mut buf = vec![0u8; len * n];
            let _guard = hdf5_sys::LOCK.lock();
            // SAFETY: `attr` and `dtype` (the attribute's own type, so no
            // conversion) are open identifiers owned by live values; `buf`
            // holds `len` bytes, the type's size, for each of the
            // `attr.size()` elements; the global HDF5 lock is held.
            let status =
                unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) };
            check(status, "H5Aread")?;
            Ok(buf
                .chunks_exact(len)
                .map(|s| {
                    // NUL-padded, or NUL-terminated by other writers.
                    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                    s[..end].to_vec()
                })
                .collect())
        }
        T::VarLenUnicode | T::VarLenAscii => Ok(values::<VarLenUnicode>(&attr, name)?
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()),
        other => Err(hdf5::Error::from(format!(
            "attribute {name} is not a string but {other}"
        ))),
    }
}

/// The most bytes densebin reads from one attribute: an input list of a
/// million long paths, and far less than a damaged size field can claim.
const MAX_ATTR_BYTES: usize = 1 << 28;

/// Checks that `count` values of `each` bytes fit [`MAX_ATTR_BYTES`]
/// before they are allocated: an attribute's dataspace says how many
/// values it holds, and a damaged format 1 file (no checksums) claimed
/// exabytes.
fn fits(name: &str, count: usize, each: usize) -> hdf5::Result<()> {
    match count.checked_mul(each) {
        Some(b) if b <= MAX_ATTR_BYTES => Ok(()),
        _ => Err(hdf5::Error::from(format!(
            "attribute {name} is larger than {MAX_ATTR_BYTES} bytes"
        ))),
    }
}

/// The values of `attr`, once they are known to fit (see [`fits`]).
fn values<T: H5Type>(attr: &hdf5::Attribute, name: &str) -> hdf5::Result<Vec<T>> {
    fits(name, attr.size(), std::mem::size_of::<T>())?;
    attr.read_raw()
}

/// The text of the one-string attribute `name`. libhdf5 hands back
/// whatever bytes the file holds, and hdf5-metno's `VarLenUnicode::as_str`
/// trusts them to be UTF-8: a corrupt file made `str` methods panic (found
/// by fuzzing). The bytes are checked here instead.
fn read_text(loc: &Location, name: &str) -> hdf5::Result<String> {
    match <[Vec<u8>; 1]>::try_from(read_strings(loc, name)?) {
        Ok([one]) => String::from_utf8(one)
            .map_err(|_| hdf5::Error::from(format!("attribute {name} is not valid UTF-8"))),
        Err(many) => Err(hdf5::Error::from(format!(
            "attribute {name} must hold one string, not {}",
            many.len()
        ))),
    }
}

fn attr_array<T: H5Type, D: Dimension>(
    loc: &Location,
    name: &str,
    v: ArrayView<'_, T, D>,
) -> hdf5::Result<()> {
    loc.new_attr_builder().with_data(v).create(name).map(drop)
}

fn write_contents(grid: &Grid, file: &File, ctx: &RunContext) -> hdf5::Result<()> {
    let spec = grid.spec();
    let (h, w) = (spec.height(), spec.width());
    attr_str(file, "format", FORMAT_NAME)?;
    attr_scalar(file, "format_version", FORMAT_VERSION)?;
    attr_str(file, "densebin_version", env!("CARGO_PKG_VERSION"))?;
    attr_scalar(file, "width", w as u64)?;
    attr_scalar(file, "height", h as u64)?;
    attr_array(
        file,
        "x_range",
        ndarray::arr1(&[spec.x().lo(), spec.x().hi()]).view(),
    )?;
    attr_array(
        file,
        "y_range",
        ndarray::arr1(&[spec.y().lo(), spec.y().hi()]).view(),
    )?;
    attr_str(file, "x_axis_type", "linear")?;
    attr_str(file, "y_axis_type", "linear")?;
    attr_str(file, "layers", &spec.layers().to_string())?;
    if let Some(z) = spec.zbins() {
        attr_scalar(file, "z_bins", z.len() as u64)?;
        attr_array(file, "z_range", ndarray::arr1(&[z.lo(), z.hi()]).view())?;
    }
    for (name, value) in grid.counters().fields() {
        attr_scalar(file, name, value)?;
    }
    write_inputs(file, grid.inputs())?;

    let x = scale(file, "x", &spec.x().centres(), "x of pixel centres")?;
    let y = scale(
        file,
        "y",
        &spec.y().centres(),
        "y of pixel centres (row 0 is the bottom)",
    )?;
    let zb = match spec.zbins() {
        Some(z) => Some(scale(
            file,
            "z_bin",
            &z.centres(),
            "z of histogram bin centres",
        )?),
        None => None,
    };

    let scales = [&y, &x];
    layer2(
        file,
        "count",
        "points per pixel",
        grid.count(),
        &scales,
        ctx,
    )?;
    if let Some(v) = grid.sum_z() {
        layer2(file, "sum_z", "sum of finite z", v, &scales, ctx)?;
    }
    if grid.has_distinct_count_z()
        && let Some(v) = grid.count_z()
    {
        layer2(
            file,
            "count_z",
            "points with finite z per pixel",
            v,
            &scales,
            ctx,
        )?;
    }
    let floats = [
        (
            "m2_z",
            "sum of squared deviations from the mean of z",
            grid.m2_z(),
        ),
        ("min_z", "smallest finite z (+inf where none)", grid.min_z()),
        ("max_z", "largest finite z (-inf where none)", grid.max_z()),
        ("sum_w", "sum of finite weights", grid.sum_w()),
    ];
    for (name, long, layer) in floats {
        if let Some(v) = layer {
            layer2(file, name, long, v, &scales, ctx)?;
        }
    }
    if let (Some(hist), Some(zb)) = (grid.zhist(), &zb) {
        let k = hist.shape()[0];
        let chunk = [1, h.min(CHUNK), w.min(CHUNK)];
        let ds = file
            .new_dataset_builder()
            .chunk(chunk)
            .shuffle()
            .deflate(DEFLATE)
            .empty::<u32>()
            .shape((k, h, w))
            .create("zhist")?;
        // Only the chunks that hold a point: most z bins are empty in most
        // places, unwritten chunks cost nothing, and they read back as the
        // fill value, 0.
        write_chunks(&ds, hist.into_dyn(), &chunk, true, ctx)?;
        attr_str(&ds, "long_name", "points per z bin per pixel")?;
        attach(&ds, &[zb, &y, &x])?;
    }
    Ok(())
}

/// A chunked, compressed (H, W) layer with its axes attached to `scales`
/// (y, x).
fn layer2<T: Stored>(
    file: &File,
    name: &str,
    long: &str,
    data: ndarray::ArrayView2<'_, T>,
    scales: &[&Dataset; 2],
    ctx: &RunContext,
) -> hdf5::Result<()> {
    let (h, w) = data.dim();
    let chunk = [h.min(CHUNK), w.min(CHUNK)];
    let ds = file
        .new_dataset_builder()
        .chunk(chunk)
        .shuffle()
        .deflate(DEFLATE)
        .empty::<T>()
        .shape((h, w))
        .create(name)?;
    write_chunks(&ds, data.into_dyn(), &chunk, false, ctx)?;
    attr_str(&ds, "long_name", long)?;
    attach(&ds, scales)
}

/// A value type of the stored layers.
trait Stored: H5Type + Copy + Default + PartialEq + Send + Sync {
    /// Writes the bytes of `values` (native order, that of the dataset's
    /// type) as HDF5's shuffle filter lays them out: the first byte of
    /// every value, then every second byte, and so on.
    fn shuffle(values: &[Self], out: &mut [u8]);

    /// The values whose shuffled bytes are `bytes` (the inverse).
    fn unshuffle(bytes: &[u8]) -> Vec<Self>;
}

macro_rules! stored {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            fn shuffle(values: &[Self], out: &mut [u8]) {
                let n = values.len();
                for (i, v) in values.iter().enumerate() {
                    for (j, b) in v.to_ne_bytes().into_iter().enumerate() {
                        out[j * n + i] = b;
                    }
                }
            }

            fn unshuffle(bytes: &[u8]) -> Vec<Self> {
                let n = bytes.len() / std::mem::size_of::<$t>();
                (0..n)
                    .map(|i| {
                        let mut b = [0; std::mem::size_of::<$t>()];
                        for (j, b) in b.iter_mut().enumerate() {
                            *b = bytes[j * n + i];
                        }
                        <$t>::from_ne_bytes(b)
                    })
                    .collect()
            }
        }
    )*};
}

stored!(u32, u64, f64);

/// Raw bytes of chunks compressed at once, at most: bounds the memory that
/// writing takes besides the grid.
const WAVE_BYTES: usize = 32 << 20;

/// Writes `data` into `ds`, a dataset chunked as `chunk` through the
/// shuffle and deflate filters, chunk by chunk as stored bytes
/// (`H5Dwrite_chunk`): each chunk is shuffled and compressed here, many at
/// once on the current rayon pool. libhdf5 runs its filters on one thread,
/// one chunk at a time, which made writing a 4000 x 4000 grid take three
/// times as long as binning it (BENCHMARKS.md, "parallel chunk
/// compression"). With `skip_zeros`, chunks of zeros are left unwritten
/// (they read back as the fill value, 0).
fn write_chunks<T: Stored>(
    ds: &Dataset,
    data: ArrayViewD<'_, T>,
    chunk: &[usize],
    skip_zeros: bool,
    ctx: &RunContext,
) -> hdf5::Result<()> {
    let grid = ChunkGrid::new(data.shape(), chunk);
    let raw_bytes = grid.chunk_len * std::mem::size_of::<T>();
    let zero = T::default();
    for wave in grid.waves(raw_bytes) {
        // A large grid takes seconds to write: stop between waves when the
        // run was cancelled (`write_grid` reports it as such).
        if ctx.check_cancelled().is_err() {
            return Err(hdf5::Error::from("interrupted"));
        }
        let stored: Vec<(Vec<usize>, Vec<u8>)> = wave
            .into_par_iter()
            .filter_map(|i| {
                let at = grid.origin(i);
                let tile = data.slice_each_axis(|ax| {
                    let a = ax.axis.index();
                    Slice::from(at[a]..(at[a] + chunk[a]).min(ax.len))
                });
                // Row by row: a contiguous row is tested as a slice, which
                // vectorises; the tile as a whole is strided, and testing
                // it element by element took a quarter of a run's time.
                let rows = tile.lanes(ndarray::Axis(tile.ndim() - 1));
                if skip_zeros && rows.into_iter().all(|r| r.iter().all(|v| *v == zero)) {
                    return None;
                }
                // Edge chunks are stored whole, padded with zeros.
                let mut whole = ArrayD::from_elem(IxDyn(chunk), zero);
                whole
                    .slice_each_axis_mut(|ax| Slice::from(0..tile.len_of(ax.axis)))
                    .assign(&tile);
                let mut shuffled = vec![0u8; raw_bytes];
                T::shuffle(whole.as_slice().expect("a new array"), &mut shuffled);
                Some((at, deflate(&shuffled)))
            })
            .collect();
        for (at, bytes) in stored {
            write_chunk(ds, &at, &bytes, 0)?;
        }
    }
    Ok(())
}

/// Reads `ds` chunk by chunk as stored bytes (`H5Dread_chunk`), inflating
/// and unshuffling many chunks at once on the current rayon pool, where
/// libhdf5's own pipeline runs on one thread (BENCHMARKS.md, "parallel
/// chunk compression"). `None` when `ds` is not stored as [`write_chunks`]
/// stores it (chunked, shuffle then deflate, of `T`'s own type), for the
/// caller to read it through libhdf5. Chunks never written read as 0, the
/// fill value of densebin's grids.
fn read_chunks<T: Stored>(ds: &Dataset) -> hdf5::Result<Option<ArrayD<T>>> {
    let Some(chunk) = ds.chunk() else {
        return Ok(None);
    };
    let ours = matches!(
        ds.filters().as_slice(),
        [Filter::Shuffle, Filter::Deflate(_)]
    );
    if !ours || ds.dtype()? != Datatype::from_type::<T>()? {
        return Ok(None);
    }
    let shape = ds.shape();
    let grid = ChunkGrid::new(&shape, &chunk);
    let raw_bytes = grid.chunk_len * std::mem::size_of::<T>();
    let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
    for wave in grid.waves(raw_bytes) {
        let mut stored = Vec::new();
        for i in wave {
            let at = grid.origin(i);
            match read_chunk(ds, &at)? {
                StoredChunk::Absent => {}
                StoredChunk::Filtered(bytes) => stored.push((at, bytes)),
                StoredChunk::Unusual => return Ok(None),
            }
        }
        let tiles: Vec<(Vec<usize>, Vec<T>)> = stored
            .into_par_iter()
            .map(|(at, bytes)| {
                let raw = inflate(&bytes, raw_bytes)
                    .ok_or_else(|| format!("a corrupt chunk at {at:?}; {DAMAGED}"))?;
                Ok((at, T::unshuffle(&raw)))
            })
            .collect::<std::result::Result<_, String>>()?;
        for (at, values) in tiles {
            let whole = ArrayViewD::from_shape(IxDyn(&chunk), &values).expect("a chunk's values");
            let mut dest = out.slice_each_axis_mut(|ax| {
                let a = ax.axis.index();
                Slice::from(at[a]..(at[a] + chunk[a]).min(ax.len))
            });
            let part = whole.slice_each_axis(|ax| Slice::from(0..dest.len_of(ax.axis)));
            dest.assign(&part);
        }
    }
    Ok(Some(out))
}

/// The chunks of a dataset, numbered in row-major order.
struct ChunkGrid {
    chunk: Vec<usize>,
    per_axis: Vec<usize>,
    chunk_len: usize,
    chunks: usize,
}

impl ChunkGrid {
    fn new(shape: &[usize], chunk: &[usize]) -> ChunkGrid {
        let per_axis: Vec<usize> = shape
            .iter()
            .zip(chunk)
            .map(|(n, c)| n.div_ceil(*c))
            .collect();
        ChunkGrid {
            chunk: chunk.to_vec(),
            chunks: per_axis.iter().product(),
            per_axis,
            chunk_len: chunk.iter().product(),
        }
    }

    /// The element offset of chunk `i` along each axis.
    fn origin(&self, mut i: usize) -> Vec<usize> {
        let mut at = vec![0; self.chunk.len()];
        for axis in (0..self.chunk.len()).rev() {
            at[axis] = i % self.per_axis[axis] * self.chunk[axis];
            i /= self.per_axis[axis];
        }
        at
    }

    /// The chunks in runs of at most [`WAVE_BYTES`] of raw data (at least
    /// one chunk each), to be processed in parallel a run at a time.
    fn waves(&self, raw_bytes: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        let wave = (WAVE_BYTES / raw_bytes.max(1)).max(1);
        let chunks = self.chunks;
        (0..chunks)
            .step_by(wave)
            .map(move |first| first..(first + wave).min(chunks))
    }
}

/// What a dataset holds for one chunk.
enum StoredChunk {
    /// Nothing: the chunk was never written.
    Absent,
    /// The chunk's bytes, through every filter.
    Filtered(Vec<u8>),
    /// A chunk that skipped some filter.
    Unusual,
}

/// The stored bytes of the chunk at element offset `at` of `ds`.
fn read_chunk(ds: &Dataset, at: &[usize]) -> hdf5::Result<StoredChunk> {
    use hdf5_sys::h5::{HADDR_UNDEF, haddr_t, hsize_t};
    let offset: Vec<hsize_t> = at.iter().map(|&a| a as _).collect();
    let _guard = hdf5_sys::LOCK.lock();
    let (mut mask, mut addr, mut size): (u32, haddr_t, hsize_t) = (0, 0, 0);
    // SAFETY: `ds.id()` is a valid, open dataset identifier while `ds`
    // lives; `offset` has one entry per dimension of `ds`, on its chunk
    // grid; the three out-pointers point at live locals; the global HDF5
    // lock is held (see `scale`).
    let status = unsafe {
        hdf5_sys::h5d::H5Dget_chunk_info_by_coord(
            ds.id(),
            offset.as_ptr(),
            &mut mask,
            &mut addr,
            &mut size,
        )
    };
    check(status, "H5Dget_chunk_info_by_coord")?;
    if addr == HADDR_UNDEF {
        return Ok(StoredChunk::Absent);
    }
    if mask != 0 {
        return Ok(StoredChunk::Unusual);
    }
    let len = usize::try_from(size).map_err(|_| hdf5::Error::from("a chunk too large"))?;
    let mut bytes = vec![0u8; len];
    // SAFETY: as above; `bytes` holds the chunk's stored size, which
    // H5Dget_chunk_info_by_coord has just reported for this chunk, and
    // H5Dread_chunk writes that many bytes (the stored chunk). What it
    // buys: decompression in parallel (see `read_chunks`).
    let status = unsafe {
        hdf5_sys::h5d::H5Dread_chunk1(
            ds.id(),
            hdf5_sys::h5p::H5P_DEFAULT,
            offset.as_ptr(),
            &mut mask,
            bytes.as_mut_ptr().cast(),
        )
    };
    check(status, "H5Dread_chunk")?;
    Ok(StoredChunk::Filtered(bytes))
}

/// The `len` bytes that the zlib stream `z` holds; `None` when it is
/// corrupt or holds another number of bytes.
fn inflate(z: &[u8], len: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::with_capacity(len);
    flate2::read::ZlibDecoder::new(z)
        .take(len as u64 + 1)
        .read_to_end(&mut raw)
        .ok()?;
    (raw.len() == len).then_some(raw)
}

/// `raw` compressed as HDF5's deflate filter does: a zlib stream.
fn deflate(raw: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::new(u32::from(DEFLATE)),
    );
    z.write_all(raw).expect("writing to a Vec cannot fail");
    z.finish().expect("writing to a Vec cannot fail")
}

/// Stores the filtered bytes of the chunk at element offset `at`; bit `i`
/// of `skipped` says that filter `i` was not applied (always 0 here, but
/// for tests).
fn write_chunk(ds: &Dataset, at: &[usize], bytes: &[u8], skipped: u32) -> hdf5::Result<()> {
    let offset: Vec<hdf5_sys::h5::hsize_t> = at.iter().map(|&a| a as _).collect();
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `ds.id()` is a valid, open dataset identifier for as long as
    // `ds` lives; `offset` has one entry per dimension of `ds` (it comes
    // from the chunk grid of `ds`'s own shape) and is a multiple of the
    // chunk shape; `bytes` outlives the call, which only reads its
    // `bytes.len()` bytes; the filter mask says which filters of the
    // dataset (shuffle, then deflate) were not applied; and the
    // global HDF5 lock is held (see `scale`). What it buys: compression in
    // parallel (see `write_chunks`).
    let status = unsafe {
        hdf5_sys::h5d::H5Dwrite_chunk(
            ds.id(),
            hdf5_sys::h5p::H5P_DEFAULT,
            skipped,
            offset.as_ptr(),
            bytes.len(),
            bytes.as_ptr().cast(),
        )
    };
    check(status, "H5Dwrite_chunk")
}

fn write_inputs(file: &File, inputs: &[InputInfo]) -> hdf5::Result<()> {
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let sizes: Vec<i64> = inputs
        .iter()
        .map(|i| i.size.map_or(-1, |s| s as i64))
        .collect();
    let mtimes: Vec<f64> = inputs
        .iter()
        .map(|i| i.mtime.map_or(f64::NAN, |t| t as f64))
        .collect();
    // Flat, MAX_BAD_LINES per input, 0 for none: netCDF readers cannot
    // open 2-D attributes.
    let mut bad = vec![0u64; inputs.len() * InputInfo::MAX_BAD_LINES];
    for (row, i) in inputs.iter().enumerate() {
        for (col, &line) in i
            .bad_lines
            .iter()
            .take(InputInfo::MAX_BAD_LINES)
            .enumerate()
        {
            bad[row * InputInfo::MAX_BAD_LINES + col] = line;
        }
    }
    if inputs.is_empty() {
        // HDF5 attributes cannot be empty arrays; an absent attribute means
        // no inputs.
        return Ok(());
    }
    attr_strings(file, "input_name", &names, false)?;
    attr_array(file, "input_size", ndarray::ArrayView1::from(&sizes))?;
    attr_array(file, "input_mtime", ndarray::ArrayView1::from(&mtimes))?;
    attr_array(file, "input_bad_lines", ndarray::ArrayView1::from(&bad))
}

/// A 1-D coordinate dataset made a dimension scale named `name`.
fn scale(file: &File, name: &str, values: &[f64], long: &str) -> hdf5::Result<Dataset> {
    let ds = file.new_dataset_builder().with_data(values).create(name)?;
    attr_str(&ds, "long_name", long)?;
    let cname = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `ds.id()` is a valid, open dataset identifier for as long as
    // `ds` lives, `cname` is a NUL-terminated string that outlives the call,
    // and libhdf5 is not thread-safe, so the call holds hdf5-metno's global
    // lock like every other HDF5 call. What it buys: the dimension scales
    // that make `xarray.open_dataset` show x/y coordinates (hdf5-metno has
    // no H5DS API; the `hl` feature links libhdf5_hl).
    let status = unsafe { ffi::H5DSset_scale(ds.id(), cname.as_ptr()) };
    check(status, "H5DSset_scale")?;
    Ok(ds)
}

/// Attaches `scales[i]` to axis `i` of `ds`.
fn attach(ds: &Dataset, scales: &[&Dataset]) -> hdf5::Result<()> {
    let _guard = hdf5_sys::LOCK.lock();
    for (idx, sc) in scales.iter().enumerate() {
        // SAFETY: both identifiers are valid open datasets owned by live
        // `Dataset` values, `idx` is below the rank of `ds`, and the global
        // HDF5 lock is held (see `scale`).
        let status = unsafe { ffi::H5DSattach_scale(ds.id(), sc.id(), idx as u32) };
        check(status, "H5DSattach_scale")?;
    }
    Ok(())
}

fn check(status: i32, what: &str) -> hdf5::Result<()> {
    if status < 0 {
        // libhdf5's error stack says why (a full disk, say); the call's
        // name only when it has nothing.
        match hdf5::Error::query() {
            Ok(e) => Err(e),
            Err(_) => Err(hdf5::Error::from(format!("{what} failed"))),
        }
    } else {
        Ok(())
    }
}

mod ffi {
    use hdf5_sys::h5::herr_t;
    use hdf5_sys::h5i::hid_t;
    use std::ffi::{c_char, c_uint};

    // From libhdf5_hl (H5DSpublic.h), linked by hdf5-metno-sys's `hl`
    // feature.
    unsafe extern "C" {
        pub fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
        pub fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
    }
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
    let layers = spec.layers();
    // A corrupt width or height could ask for terabytes (found by
    // fuzzing): every layer is opened and its shape checked, and the grid
    // must fit in memory, before anything is allocated.
    let plane = [spec.height(), spec.width()];
    let mut names = vec!["count"];
    for (layer, more) in [
        (Layer::Sum, &["sum_z"][..]),
        (Layer::Std, &["m2_z"]),
        (Layer::MinMax, &["min_z", "max_z"]),
        (Layer::Weight, &["sum_w"]),
    ] {
        if layers.contains(layer) {
            names.extend_from_slice(more);
        }
    }
    if layers.contains(Layer::Sum) && file.link_exists("count_z") {
        names.push("count_z");
    }
    let mut planes = std::collections::HashMap::new();
    for name in names {
        planes.insert(name, dataset_of_shape(&file, name, &plane).map_err(&bad)?);
    }
    let zhist = spec
        .zbins()
        .map(|z| dataset_of_shape(&file, "zhist", &[z.len(), plane[0], plane[1]]))
        .transpose()
        .map_err(&bad)?;
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
    let mut grid = Grid::empty(spec.clone());
    let f64s = |name: &str| -> Result<Option<Array2<f64>>> {
        planes
            .get(name)
            .map(|ds| read_layer(ds, name).map_err(&bad))
            .transpose()
    };
    grid.count = read_layer(&planes["count"], "count").map_err(&bad)?;
    grid.count_z = planes
        .get("count_z")
        .map(|ds| read_layer(ds, "count_z").map_err(&bad))
        .transpose()?;
    grid.sum_z = f64s("sum_z")?;
    grid.m2_z = f64s("m2_z")?;
    grid.min_z = f64s("min_z")?;
    grid.max_z = f64s("max_z")?;
    grid.sum_w = f64s("sum_w")?;
    grid.zhist = zhist
        .map(|ds| read_layer(&ds, "zhist").map_err(&bad))
        .transpose()?;
    grid.counters = header.counters;
    grid.inputs = header.inputs;
    Ok(grid)
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
    let spec = GridSpec::new(
        to_usize(width).map_err(bad)?,
        to_usize(height).map_err(bad)?,
        range("x_range")?,
        range("y_range")?,
    )
    .and_then(|s| s.with_layers(layers, zhist))
    .map_err(|e| bad(format!("invalid spec: {e}")))?;
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

fn read_attr<T: H5Type>(file: &File, name: &str) -> hdf5::Result<T> {
    attr(file, name)?.read_scalar::<T>()
}

/// What to do about a grid file whose bytes are damaged.
const DAMAGED: &str = "the file is damaged: make it again, or restore a copy";

/// libhdf5's reason for failing, with what to do when it means damage: a
/// failed checksum of the file's metadata.
fn reason(e: hdf5::Error) -> String {
    let msg = e.to_string();
    if msg.contains("checksum") {
        format!("{msg}; {DAMAGED}")
    } else {
        msg
    }
}

/// Layer `name` of `file`, which must have the shape `want`.
fn dataset_of_shape(
    file: &File,
    name: &str,
    want: &[usize],
) -> std::result::Result<Dataset, String> {
    let ds = file.dataset(name).map_err(|e| {
        if file.link_exists(name) {
            format!("layer {name}: {}", reason(e))
        } else {
            format!("layer {name} is missing")
        }
    })?;
    if ds.shape() != want {
        return Err(format!(
            "layer {name} has shape {:?}, expected {want:?}",
            ds.shape()
        ));
    }
    Ok(ds)
}

/// Layer `name` from `ds`, whose shape was checked: densebin's own chunks
/// inflated in parallel, anything else through libhdf5.
fn read_layer<T: Stored, D: Dimension>(
    ds: &Dataset,
    name: &str,
) -> std::result::Result<Array<T, D>, String> {
    let fail = |e: hdf5::Error| format!("layer {name}: {}", reason(e));
    match read_chunks::<T>(ds).map_err(fail)? {
        Some(a) => Ok(a.into_dimensionality().expect("a checked shape")),
        None => ds.read::<T, D>().map_err(fail),
    }
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
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Points;

    fn full_grid() -> Grid {
        let layers: LayerSet = "count,sum,minmax,std,zhist,weight".parse().unwrap();
        let spec = GridSpec::new(5, 3, (-1.0, 1.0), (0.0, 3.0))
            .unwrap()
            .with_layers(layers, Some((4, (0.0, 1.0))))
            .unwrap();
        let mut g = Grid::empty(spec);
        g.append(&Points {
            x: vec![-1.0, 0.0, 0.99, 1.0, 0.5, f64::NAN],
            y: vec![0.0, 1.5, 2.9, 3.0, 0.5, 1.0],
            z: vec![0.1, 0.6, f64::NAN, 2.0, -1.0, 0.0],
            w: vec![1.0, 2.0, 3.0, f64::INFINITY, 0.5, 0.0],
        })
        .unwrap();
        g.inputs.push(InputInfo {
            name: "dätä, \"quoted\".txt".into(),
            size: Some(123),
            mtime: Some(1_700_000_000),
            bad_lines: vec![3, 9],
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
