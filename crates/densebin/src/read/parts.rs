//! Inputs cut into parts for binning on many machines: part `i` of `n` is
//! the `i`-th of `n` equal byte ranges of the inputs laid end to end, and
//! each input reads the points that start in its share of it
//! ([`Input::restrict`](super::Input::restrict)). The parts of a set of
//! inputs tile their points, so the merged grids of all parts are the grid
//! of the whole (`densebin bin --part I/N`, `densebin.dask.bin_files`).

use std::ops::Range;
use std::path::Path;

use super::{Input, ReadOptions};
use crate::error::{Error, Result};
use crate::param::Param;

/// Opens the inputs of part `i` of `n` (0-based) of the files `paths`, each
/// restricted to its share of the part: what one task of a job array (or a
/// Dask task) bins. Every task cuts the same parts from the files' sizes,
/// so together they bin every point once.
pub fn open_part<P: AsRef<Path>>(
    paths: &[P],
    opts: &ReadOptions,
    i: usize,
    n: usize,
) -> Result<Vec<Input>> {
    let sizes = paths
        .iter()
        .map(|p| {
            let p = p.as_ref();
            if p.as_os_str() == "-" {
                return Err(Error::request(format!(
                    "standard input cannot be read in parts ({}); give files",
                    Param::Part.mark()
                )));
            }
            std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| Error::io(p, e))
        })
        .collect::<Result<Vec<u64>>>()?;
    let mut inputs = part(&sizes, i, n)?
        .into_iter()
        .map(|(index, range)| Input::open(&paths[index], opts)?.restrict(range))
        .collect::<Result<Vec<Input>>>()?;
    if inputs.is_empty()
        && let (Some(last), Some(&size)) = (paths.last(), sizes.last())
    {
        // A part of no bytes (more parts than bytes): an input of no
        // points, so that its grid has the layers and columns of the rest.
        inputs.push(Input::open(last, opts)?.restrict(size..size)?);
    }
    Ok(inputs)
}

/// The inputs (by index into `sizes`, their lengths in bytes) and the
/// bytes of each that part `i` of `n` (0-based) covers; inputs it does not
/// touch are left out. Fails unless `i < n`.
pub fn part(sizes: &[u64], i: usize, n: usize) -> Result<Vec<(usize, Range<u64>)>> {
    if n == 0 || i >= n {
        return Err(Error::request(format!(
            "{} {}/{n} does not exist: parts are numbered 1 to N, N at least 1",
            Param::Part.mark(),
            i + 1
        )));
    }
    let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
    let at = |k: usize| (total * k as u128 / n as u128) as u64;
    let (from, to) = (at(i), at(i + 1));
    let mut out = Vec::new();
    let mut offset = 0u64;
    for (index, &size) in sizes.iter().enumerate() {
        let (lo, hi) = (from.max(offset), to.min(offset + size));
        if lo < hi {
            out.push((index, lo - offset..hi - offset));
        }
        offset += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_tile_the_inputs_end_to_end() {
        let sizes = [10, 0, 7, 30];
        for n in [1, 2, 3, 7, 16, 60] {
            let mut covered: Vec<Vec<Range<u64>>> = vec![Vec::new(); sizes.len()];
            for i in 0..n {
                for (index, range) in part(&sizes, i, n).unwrap() {
                    assert!(range.start < range.end && range.end <= sizes[index]);
                    covered[index].push(range);
                }
            }
            for (index, ranges) in covered.iter().enumerate() {
                let mut at = 0;
                for r in ranges {
                    assert_eq!(r.start, at, "n {n}, input {index}: contiguous");
                    at = r.end;
                }
                assert_eq!(at, sizes[index], "n {n}, input {index}: covered");
            }
        }
        assert_eq!(
            part(&sizes, 0, 1).unwrap().len(),
            3,
            "the empty input is left out"
        );
        assert!(part(&sizes, 3, 3).is_err());
        assert!(part(&sizes, 0, 0).is_err());
    }
}

#[cfg(test)]
mod cut_tests {
    use super::*;
    use crate::read::{Format, PointSource, Points};

    /// Every point `input` yields, in order, as (x, y, z).
    fn points(input: &Input) -> Vec<[f64; 3]> {
        let mut out = Vec::new();
        let mut scratch = Points::default();
        let mut at = input.start();
        while let Some(chunk) = input.next_chunk(at, 7).unwrap() {
            at = chunk.end();
            input
                .read_chunk(&chunk, &mut scratch, &mut |b| {
                    for i in 0..b.len() {
                        out.push([b.x[i], b.y[i], b.z.get(i).copied().unwrap_or(f64::NAN)]);
                    }
                    Ok(())
                })
                .unwrap();
        }
        out
    }

    #[test]
    fn a_cut_at_any_byte_tiles_the_points() {
        let dir = std::env::temp_dir().join(format!("densebin-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("with-header.csv");
        std::fs::write(
            &text,
            "x,y,z\n1,2,3\n# a comment\n4,5,6\n\n7.5,8,9\n10,11,12",
        )
        .unwrap();
        let bare = dir.join("bare.txt");
        std::fs::write(&bare, "1 2 3\r\n4 5 6\r\n7 8 9\r\n").unwrap();
        let records = dir.join("r.f32");
        let values: Vec<u8> = (0..15).flat_map(|v| (v as f32).to_le_bytes()).collect();
        std::fs::write(&records, &values).unwrap();
        let npy = dir.join("r.npy");
        let mut header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }".to_vec();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend((header.len() as u16).to_le_bytes());
        file.extend(header);
        file.extend(&values);
        std::fs::write(&npy, file).unwrap();
        for (path, format) in [
            (&text, Format::Text),
            (&bare, Format::Text),
            (&records, Format::F32),
            (&npy, Format::Npy),
        ] {
            let opts = ReadOptions {
                format,
                ..ReadOptions::default()
            };
            let whole = points(&Input::open(path, &opts).unwrap());
            assert!(whole.len() >= 3, "{}", path.display());
            let len = std::fs::metadata(path).unwrap().len();
            // Two parts cut at every byte, and n parts for several n.
            for cut in 0..=len {
                let mut both = points(&Input::open(path, &opts).unwrap().restrict(0..cut).unwrap());
                both.extend(points(
                    &Input::open(path, &opts)
                        .unwrap()
                        .restrict(cut..len)
                        .unwrap(),
                ));
                assert_eq!(both, whole, "{} cut at {cut}", path.display());
            }
            for n in [1, 2, 3, 7, 16] {
                let mut all = Vec::new();
                for i in 0..n {
                    for input in open_part(&[path], &opts, i, n).unwrap() {
                        all.extend(points(&input));
                    }
                }
                assert_eq!(all, whole, "{} in {n} parts", path.display());
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
