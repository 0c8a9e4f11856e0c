//! The chunk codec: densebin shuffles and deflates (and inflates and
//! unshuffles) the grid's storage chunks itself, many at once on the
//! current rayon pool, and hands libhdf5 the stored bytes; libhdf5's own
//! filter pipeline runs on one thread, one chunk at a time.

use hdf5::filters::Filter;
use hdf5::{Dataset, Datatype, H5Type};
use ndarray::{Array, ArrayD, ArrayViewD, Dimension, IxDyn, Slice};
use rayon::prelude::*;

use super::h5::{DAMAGED, check, reason};
use crate::context::RunContext;

/// deflate level, of the zlib-rs encoder that compresses the chunks (see
/// [`write_chunks`]): 2 makes files 25 % smaller than 1 (zlib-rs's level 1
/// is a quicker, coarser algorithm) at 1.5 times the time, and higher
/// levels save 1–6 % more at 1.2–2.4 times the time (BENCHMARKS.md,
/// "parallel chunk compression").
pub(super) const DEFLATE: u8 = 2;

/// Edge of a storage chunk, in pixels.
pub(super) const CHUNK: usize = 512;

/// A value type of the stored layers.
pub(super) trait Stored: H5Type + Copy + Default + PartialEq + Send + Sync {
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
pub(super) const WAVE_BYTES: usize = 32 << 20;

/// Writes `data` into `ds`, a dataset chunked as `chunk` through the
/// shuffle and deflate filters, chunk by chunk as stored bytes
/// (`H5Dwrite_chunk`): each chunk is shuffled and compressed here, many at
/// once on the current rayon pool. libhdf5 runs its filters on one thread,
/// one chunk at a time, which made writing a 4000 x 4000 grid take three
/// times as long as binning it (BENCHMARKS.md, "parallel chunk
/// compression"). With `skip_zeros`, chunks of zeros are left unwritten
/// (they read back as the fill value, 0).
pub(super) fn write_chunks<T: Stored>(
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
pub(super) fn read_chunks<T: Stored>(ds: &Dataset) -> hdf5::Result<Option<ArrayD<T>>> {
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
pub(super) struct ChunkGrid {
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
pub(super) enum StoredChunk {
    /// Nothing: the chunk was never written.
    Absent,
    /// The chunk's bytes, through every filter.
    Filtered(Vec<u8>),
    /// A chunk that skipped some filter.
    Unusual,
}

/// The stored bytes of the chunk at element offset `at` of `ds`.
pub(super) fn read_chunk(ds: &Dataset, at: &[usize]) -> hdf5::Result<StoredChunk> {
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
pub(super) fn inflate(z: &[u8], len: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::with_capacity(len);
    flate2::read::ZlibDecoder::new(z)
        .take(len as u64 + 1)
        .read_to_end(&mut raw)
        .ok()?;
    (raw.len() == len).then_some(raw)
}

/// `raw` compressed as HDF5's deflate filter does: a zlib stream.
pub(super) fn deflate(raw: &[u8]) -> Vec<u8> {
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
pub(super) fn write_chunk(
    ds: &Dataset,
    at: &[usize],
    bytes: &[u8],
    skipped: u32,
) -> hdf5::Result<()> {
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

/// Layer `name` from `ds`, whose shape was checked: densebin's own chunks
/// inflated in parallel, anything else through libhdf5.
pub(super) fn read_layer<T: Stored, D: Dimension>(
    ds: &Dataset,
    name: &str,
) -> std::result::Result<Array<T, D>, String> {
    let fail = |e: hdf5::Error| format!("layer {name}: {}", reason(e));
    match read_chunks::<T>(ds).map_err(fail)? {
        Some(a) => Ok(a.into_dimensionality().expect("a checked shape")),
        None => ds.read::<T, D>().map_err(fail),
    }
}
