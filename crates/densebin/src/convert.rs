//! Converting inputs once into binary records.
//!
//! Text is the slow part of a run: parsing costs far more than binning, and
//! without x and y ranges densebin parses a text input twice (once
//! for the data bounds, once to bin). Converting it once to raw `f32`
//! records (or `.npy`) makes every later run read a memory map at memory
//! speed, and the conversion reports the data bounds on the way.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::fsio::write_atomically;
use crate::read::{Batch, Bounds, Chunk, ChunkQueue, Extent, PointSource, Points};

/// The value type of converted records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dtype {
    /// Little-endian `f32` (half the size; about 7 significant digits).
    F32,
    /// Little-endian `f64` (exact).
    F64,
}

/// The file layout of converted records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// Raw interleaved records, as `np.memmap(path, dtype, shape=(N, k))`.
    Raw,
    /// A NumPy `.npy` file holding a 2-D `(N, k)` array.
    Npy,
}

/// What a conversion wrote.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Converted {
    /// Points written.
    pub points: u64,
    /// Values per record: x, y, then z and the weight when the inputs
    /// have them.
    pub fields: usize,
    /// Finite bounds of x, y and z (z over points with finite x and y).
    pub bounds: Bounds,
}

/// Bytes reserved for the `.npy` header, so that it can be written after
/// the data, once the number of records is known.
const NPY_HEADER: usize = 128;

/// Writes every point of `inputs`, in input order, as records of x, y and
/// (when present) z and the weight, to `out` atomically. Chunks are parsed
/// by `ctx`'s worker threads a window at a time and written in order, so
/// memory stays at a few chunks per worker.
pub fn convert<S: PointSource>(
    inputs: &[S],
    out: &Path,
    dtype: Dtype,
    container: Container,
    ctx: &RunContext,
) -> Result<Converted> {
    let has_z = inputs.iter().all(S::has_z);
    let has_w = inputs.iter().all(S::has_weight);
    if let Some(i) = inputs
        .iter()
        .find(|i| i.has_z() != has_z || i.has_weight() != has_w)
    {
        return Err(Error::request(format!(
            "{}: all inputs of one conversion need the same columns (z and weight); \
             convert them separately",
            i.info().name
        )));
    }
    let fields = 2 + usize::from(has_z) + usize::from(has_w);
    let workers = ctx.threads();
    let pool = crate::context::pool(workers)?;
    let progress = ctx.progress();
    if let Some(p) = progress {
        p.begin("converting", inputs.iter().map(S::data_len).sum());
    }
    let mut result = Converted {
        points: 0,
        fields,
        bounds: Bounds::default(),
    };
    write_atomically(out, ctx, |tmp| {
        let io = |e: std::io::Error| Error::io(out, e);
        let file = File::create(tmp).map_err(io)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        if container == Container::Npy {
            w.write_all(&[b' '; NPY_HEADER]).map_err(io)?;
        }
        let queue = ChunkQueue::new(inputs, 4 << 20);
        loop {
            ctx.check_cancelled()?;
            let window = (0..2 * workers)
                .map_while(|_| queue.next().transpose())
                .collect::<Result<Vec<_>>>()?;
            if window.is_empty() {
                break;
            }
            let encoded: Vec<Result<Encoded>> = pool.install(|| {
                window
                    .par_iter()
                    .map(|chunk| encode(&inputs[chunk.input], chunk, dtype, has_z, has_w))
                    .collect()
            });
            // In order: the first error in the window is the first in the file.
            for (chunk, e) in window.iter().zip(encoded) {
                let e = e?;
                w.write_all(&e.bytes).map_err(io)?;
                result.points += e.points;
                result.bounds.merge(e.bounds);
                if let Some(p) = progress {
                    p.advance(chunk.size());
                }
            }
        }
        inputs.iter().try_for_each(S::check_unchanged)?;
        if container == Container::Npy {
            let header = npy_header(dtype, result.points, fields);
            w.seek(SeekFrom::Start(0)).map_err(io)?;
            w.write_all(&header).map_err(io)?;
        }
        w.flush().map_err(io)
    })?;
    Ok(result)
}

/// One chunk's records.
struct Encoded {
    bytes: Vec<u8>,
    points: u64,
    bounds: Bounds,
}

fn encode<S: PointSource>(
    input: &S,
    chunk: &Chunk<'_>,
    dtype: Dtype,
    has_z: bool,
    has_w: bool,
) -> Result<Encoded> {
    let mut out = Encoded {
        bytes: Vec::new(),
        points: 0,
        bounds: Bounds::default(),
    };
    let mut pts = Points::with_capacity(has_z, has_w);
    let mut sink = |p: Batch<'_>| -> Result<()> {
        for i in 0..p.len() {
            let (x, y) = (p.x[i], p.y[i]);
            let z = p.z.get(i).copied();
            if x.is_finite() && y.is_finite() {
                Extent::add(&mut out.bounds.x, x);
                Extent::add(&mut out.bounds.y, y);
                if let Some(z) = z.filter(|z| z.is_finite()) {
                    Extent::add(&mut out.bounds.z, z);
                }
            }
            for v in [Some(x), Some(y), z, p.w.get(i).copied()]
                .into_iter()
                .flatten()
            {
                match dtype {
                    Dtype::F32 => out.bytes.extend((v as f32).to_le_bytes()),
                    Dtype::F64 => out.bytes.extend(v.to_le_bytes()),
                }
            }
        }
        out.points += p.len() as u64;
        Ok(())
    };
    input
        .read_chunk(chunk, &mut pts, &mut sink)
        .map_err(|e| e.error)?;
    Ok(out)
}

/// A version 1.0 `.npy` header for a `(rows, fields)` C-order array,
/// padded to exactly [`NPY_HEADER`] bytes.
fn npy_header(dtype: Dtype, rows: u64, fields: usize) -> Vec<u8> {
    let descr = match dtype {
        Dtype::F32 => "<f4",
        Dtype::F64 => "<f8",
    };
    let dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {fields}), }}");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(((NPY_HEADER - 10) as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out.resize(NPY_HEADER - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_parses_back() {
        let h = npy_header(Dtype::F32, 12_345_678_901, 4);
        assert_eq!(h.len(), NPY_HEADER);
        let parsed = crate::read::parse_npy_header(&h).unwrap();
        assert_eq!(parsed.shape, vec![12_345_678_901, 4]);
        assert_eq!(parsed.data_offset, NPY_HEADER);
        assert_eq!(parsed.descr, crate::read::NpyDescr::Simple("<f4".into()));
    }
}
