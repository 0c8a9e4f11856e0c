//! A worker's accumulator: the kernel's layers, with the counts in `u8`
//! counters that carry into the grid's `u64` ones, and the z histogram and
//! the category counts in `u8` bins that carry into bins the run's workers
//! share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use super::categories::{CategoryCounts, SharedCategories};
use super::kernel::{AHEAD, add_saturating};
use crate::cache::prefetch;
use crate::error::{Error, Result};
use crate::grid::{ArrayData, ArrayId, Grid, GridSpec};
use crate::read::Batch;

/// [`increment`] into `u8` counts that carry into `total` when they wrap.
/// Counts beyond the L2 cache (more than a megapixel) are prefetched:
/// count 4000² runs 18 % faster; at 1000², where they fit, prefetching
/// costs 2 % (BENCHMARKS.md, "prefetch").
#[inline]
fn increment_carry(count: &mut [u8], total: &mut [u64], pix: &[u32]) {
    if count.len() > 1 << 20 {
        increment_carry_ahead::<true>(count, total, pix);
    } else {
        increment_carry_ahead::<false>(count, total, pix);
    }
}

#[inline(always)]
fn increment_carry_ahead<const AHEAD_TOO: bool>(count: &mut [u8], total: &mut [u64], pix: &[u32]) {
    for (i, &p) in pix.iter().enumerate() {
        if AHEAD_TOO && let Some(&q) = pix.get(i + AHEAD) {
            prefetch(count, q as usize);
        }
        if let Some(c) = count.get_mut(p as usize) {
            *c = c.wrapping_add(1);
            if *c == 0 {
                total[p as usize] += 256;
            }
        }
    }
}

/// The z histogram that the workers of one run share: their `u8` bins
/// carry into it with atomic adds (one point in 256 at most), so the
/// largest layer is held once, not once per worker.
#[derive(Debug)]
pub struct SharedZhist {
    bins: Vec<AtomicU32>,
}

impl SharedZhist {
    /// Zeroed shared bins for `spec` (none when it has no z histogram).
    pub fn new(spec: &GridSpec) -> Arc<SharedZhist> {
        let n = spec
            .zbins()
            .map_or(0, |z| z.len() * spec.width() * spec.height());
        Arc::new(SharedZhist {
            bins: (0..n).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// Bytes the shared bins of `spec` occupy.
    pub fn bytes(spec: &GridSpec) -> Option<u64> {
        let bins = spec.zbins().map_or(0, |z| z.len() as u64);
        (spec.width() as u64)
            .checked_mul(spec.height() as u64)?
            .checked_mul(bins)?
            .checked_mul(4)
    }
}

/// A worker's private grid for a long run. Random increments into a large
/// grid are bound by the cache misses they make, so it counts in bytes:
/// `count` in `u8` counters that carry 256 into the grid's `u64` layer each
/// time one wraps, and the z histogram in `u8` bins that carry into the
/// run's [`SharedZhist`] (BENCHMARKS.md, "u8 counters"). The other layers
/// are the grid's own. [`Accumulator::merge_all`] makes the run's grid.
#[derive(Debug)]
pub struct Accumulator {
    /// The worker's layers, without the z histogram.
    grid: Grid,
    count: Vec<u8>,
    /// Empty, or the z histogram's `u8` part (same layout as the grid's).
    zhist: Vec<u8>,
    shared: Arc<SharedZhist>,
    /// The category counts' `u8` planes (none without `count_cat`).
    categories: CategoryCounts,
    /// Whether `count` holds anything since the last flush.
    pending: bool,
    /// The batch's pixel indices, kept between batches.
    pix: Vec<u32>,
}

impl Accumulator {
    /// Bytes one accumulator of `spec` occupies, besides the
    /// [`SharedZhist`] and the shared category planes: its grid without the
    /// z histogram and the category counts, and a byte per count, per z bin
    /// and per category (of those the spec has so far).
    pub fn bytes(spec: &GridSpec) -> Option<u64> {
        let pixels = spec.width() as u64 * spec.height() as u64;
        let bins = spec.zbins().map_or(0, |a| a.len() as u64);
        let cats = spec.categories().map_or(0, |c| c.len() as u64);
        spec.grid_bytes()?
            .checked_sub(SharedZhist::bytes(spec)?)?
            .checked_sub(pixels.checked_mul(cats)?.checked_mul(4)?)?
            .checked_add(pixels.checked_mul(bins.checked_add(1)?.checked_add(cats)?)?)
    }

    /// An empty accumulator for `spec`, carrying into `shared` (made for
    /// the same spec). With `dense`, its memory is touched now, page by
    /// page, with writes: when points will land all over the grid, a first
    /// touch by `+=` would fault twice per page (a read maps the shared zero
    /// page, the write then copies it and flushes the TLB of every core),
    /// which cost a quarter of the time of a 4000 x 4000 count-and-sum run
    /// (BENCHMARKS.md, "first touch").
    ///
    /// Category counts carry into `categories`, made for the same spec.
    ///
    /// # Panics
    ///
    /// When `shared` was made for a spec with another number of z bins.
    pub fn new(
        spec: GridSpec,
        dense: bool,
        shared: Arc<SharedZhist>,
        categories: Arc<SharedCategories>,
    ) -> Accumulator {
        let pixels = spec.width() * spec.height();
        let mut grid = Grid::empty(spec);
        let zhist = vec![0; grid.take_array(ArrayId::ZHist).map_or(0, |h| h.len())];
        assert_eq!(zhist.len(), shared.bins.len(), "the shared bins' spec");
        grid.take_array(ArrayId::CountCat);
        let mut acc = Accumulator {
            grid,
            count: vec![0; pixels],
            zhist,
            shared,
            categories: CategoryCounts::new(categories, dense),
            pending: false,
            pix: Vec::new(),
        };
        if dense {
            let g = &mut acc.grid;
            touch(&mut acc.count);
            touch(&mut acc.zhist);
            touch(g.flat_mut::<u64>(ArrayId::Count).expect("a count"));
            // min_z and max_z were written when they were made (±inf).
            for id in [ArrayId::SumZ, ArrayId::M2Z, ArrayId::SumW] {
                if let Some(a) = g.flat_mut::<f64>(id) {
                    touch(a);
                }
            }
        }
        acc
    }

    /// Adds a batch of points, as [`Grid::append`] does.
    pub fn append<'b>(&mut self, pts: impl Into<Batch<'b>>) -> Result<()> {
        let pts = pts.into();
        let mut pix = std::mem::take(&mut self.pix);
        self.grid.map_points(pts, &mut pix)?;
        let nonfinite = self.grid.nonfinite_z(pts, &pix);
        // Starting `count_z` needs `count` as it was before this batch: it
        // is, once the pending counts are in.
        if self.pending && self.grid.starts_count_z(nonfinite) {
            self.flush_count();
        }
        let carried = Some((&mut self.zhist[..], &self.shared.bins[..]));
        self.grid
            .append_layers(pts, &pix, false, nonfinite, carried)?;
        if self.grid.spec.categories().is_some() {
            match self.categories.append(pts, &pix)? {
                Ok(uncategorised) => self.grid.counters.uncategorised += uncategorised,
                Err(p) => return Err(self.grid.category_overflow(p)),
            }
        }
        let total = self.grid.flat_mut::<u64>(ArrayId::Count).expect("a count");
        increment_carry(&mut self.count, total, &pix);
        self.pix = pix;
        self.pending = true;
        Ok(())
    }

    /// Adds the pending `u8` counts into the grid's `u64` layer.
    fn flush_count(&mut self) {
        let count = self.grid.flat_mut::<u64>(ArrayId::Count).expect("a count");
        for (total, c) in count.iter_mut().zip(&mut self.count) {
            *total += u64::from(*c);
            *c = 0;
        }
        self.pending = false;
    }

    /// The grid of every point appended to `accs`, which must share one
    /// [`SharedZhist`] and one [`SharedCategories`]; `None` when there are
    /// none. On the current rayon pool: the workers' grids are finished and
    /// merged pairwise in parallel, in order (log2 of their number in
    /// rounds, each merge itself split over the pool), and the shared
    /// histogram and category planes get every worker's remainders. Fails
    /// when a z-histogram bin or a category's count passes `u32::MAX`, or
    /// when the accumulators do not share their bins.
    pub fn merge_all(accs: Vec<Accumulator>) -> Result<Option<Grid>> {
        let Some(first) = accs.first() else {
            return Ok(None);
        };
        let shared = Arc::clone(&first.shared);
        let shared_cats = Arc::clone(first.categories.shared());
        if !accs.iter().all(|a| {
            Arc::ptr_eq(&a.shared, &shared) && Arc::ptr_eq(a.categories.shared(), &shared_cats)
        }) {
            return Err(Error::request(
                "merge_all: the accumulators carry into different z histograms",
            ));
        }
        let parts: Vec<(Grid, Vec<u8>, Vec<u8>)> = accs
            .into_par_iter()
            .map(|mut a| {
                a.flush_count();
                (a.grid, a.zhist, a.categories.small)
            })
            .collect();
        let mut grids = Vec::with_capacity(parts.len());
        let mut remainders = Vec::with_capacity(parts.len());
        let mut category_parts = Vec::with_capacity(parts.len());
        for (g, z, c) in parts {
            grids.push(g);
            remainders.push(z);
            category_parts.push(c);
        }
        let mut grid = grids
            .into_par_iter()
            .map(Ok)
            .try_reduce_with(|mut a, b| {
                a.merge(&b)?;
                Ok(a)
            })
            .expect("at least one grid")?;
        if let Some(za) = grid.spec.zbins() {
            // Every accumulator is gone: the bins are this function's alone.
            let mut bins: Vec<u32> = match Arc::try_unwrap(shared) {
                Ok(s) => s.bins.into_iter().map(AtomicU32::into_inner).collect(),
                Err(s) => s.bins.iter().map(|b| b.load(Ordering::Relaxed)).collect(),
            };
            const STEP: usize = 1 << 16;
            let len = grid.spec.pixels();
            let overflow = bins
                .par_chunks_mut(STEP)
                .enumerate()
                .filter_map(|(i, chunk)| {
                    let mut first = None;
                    for r in &remainders {
                        let r = &r[i * STEP..i * STEP + chunk.len()];
                        for (j, (bin, &c)) in chunk.iter_mut().zip(r).enumerate() {
                            if add_saturating(bin, u32::from(c)) {
                                let slot = i * STEP + j;
                                first = Some(first.map_or(slot, |f: usize| f.min(slot)));
                            }
                        }
                    }
                    first
                })
                .min();
            if let Some(slot) = overflow {
                return Err(grid.zhist_overflow(slot % len));
            }
            let shape = [za.len(), grid.spec.height(), grid.spec.width()];
            let bins = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), bins)
                .expect("bins of the spec's shape");
            grid.set_array(ArrayId::ZHist, ArrayData::U32(bins))
                .expect("the spec's histogram");
        }
        if grid.spec.categories().is_some() {
            let (cats, planes) = shared_cats.finish(category_parts, &grid)?;
            grid.spec = grid.spec.clone().with_categories(cats)?;
            grid.set_array(ArrayId::CountCat, planes)?;
        }
        Ok(Some(grid))
    }
}

/// Writes a zero into every page of the freshly zeroed `v`, without
/// reading it first (a read would map the shared zero page and the write
/// then fault again).
pub(super) fn touch<T: Copy + Default>(v: &mut [T]) {
    let step = (4096 / std::mem::size_of::<T>()).max(1);
    for i in (0..v.len()).step_by(step) {
        // The allocator's zeroed memory is known to hold zeros: black_box
        // keeps the compiler from removing the store as redundant.
        v[i] = std::hint::black_box(T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernel::{DROPPED, random_points as points};
    use super::*;
    use crate::error::flag;
    use crate::read::Points;

    #[test]
    fn counts_below_and_above_the_prefetch_size_are_exact() {
        for pixels in [1000, (1 << 20) + 7] {
            let mut s = 3u64;
            let pix: Vec<u32> = (0..300_000)
                .map(|i| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    match i % 11 {
                        0 => DROPPED,
                        // A few pixels often enough to carry.
                        1..=3 => (i % 3) as u32,
                        _ => ((s >> 33) % pixels as u64) as u32,
                    }
                })
                .collect();
            let mut count = vec![0u8; pixels];
            let mut total = vec![0u64; pixels];
            increment_carry(&mut count, &mut total, &pix);
            let mut want = vec![0u64; pixels];
            for &p in pix.iter().filter(|&&p| p != DROPPED) {
                want[p as usize] += 1;
            }
            for (p, w) in want.iter().enumerate() {
                assert_eq!(total[p] + u64::from(count[p]), *w, "pixel {p} of {pixels}");
            }
        }
    }

    /// `n` points at one spot, which wrap a `u8` counter and z bin.
    fn pile(n: usize) -> Points {
        Points {
            x: vec![0.3; n],
            y: vec![0.6; n],
            z: vec![0.9; n],
            w: vec![0.25; n],
            ..Points::default()
        }
    }

    fn accumulator_spec(layers: &str) -> GridSpec {
        GridSpec::new(7, 5, (0.0, 1.0), (0.0, 1.0))
            .unwrap()
            .with_layers(layers.parse().unwrap(), Some((4, (0.0, 1.0))))
            .unwrap()
    }

    #[test]
    fn accumulators_equal_grid_append_across_carries() {
        // With std, count_z starts with the first batch; without it, with
        // the first non-finite z, after counts are pending (the random
        // batches have some; the piles first have none). Batches go to one,
        // two or three accumulators in turn, sharing their z histogram.
        for layers in [
            "count,sum,minmax,std,zhist,weight",
            "count,sum,minmax,zhist",
        ] {
            for (dense, workers) in [(false, 1), (true, 1), (true, 2), (false, 3)] {
                let spec = accumulator_spec(layers);
                let mut grid = Grid::empty(spec.clone());
                let shared = SharedZhist::new(&spec);
                let cats = SharedCategories::new(&spec, crate::grid::MAX_CATEGORIES);
                let mut accs: Vec<Accumulator> = (0..workers)
                    .map(|_| {
                        Accumulator::new(
                            spec.clone(),
                            dense,
                            Arc::clone(&shared),
                            Arc::clone(&cats),
                        )
                    })
                    .collect();
                let batches = [pile(255), pile(1), pile(700)]
                    .into_iter()
                    .chain((0..20).map(|seed| points(23 + seed, seed as u64)))
                    .chain([pile(300), pile(256), pile(257)]);
                for (i, p) in batches.enumerate() {
                    grid.append(&p).unwrap();
                    accs[i % workers].append(&p).unwrap();
                }
                let got = Accumulator::merge_all(accs).unwrap().unwrap();
                let case = format!("{layers}, {workers} workers");
                assert_eq!(got.count(), grid.count(), "{case}");
                assert_eq!(got.count_z(), grid.count_z(), "{case}");
                assert_eq!(got.zhist(), grid.zhist(), "{case}");
                assert_eq!(got.counters(), grid.counters(), "{case}");
                assert_eq!(got.min_z(), grid.min_z(), "{case}");
                assert_eq!(got.max_z(), grid.max_z(), "{case}");
                for (a, b) in got.sum_z().unwrap().iter().zip(grid.sum_z().unwrap()) {
                    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
                }
                if let (Some(a), Some(b)) = (got.sum_w(), grid.sum_w()) {
                    for (a, b) in a.iter().zip(b) {
                        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
                    }
                }
                if let (Some(a), Some(b)) = (got.m2_z(), grid.m2_z()) {
                    for (a, b) in a.iter().zip(b) {
                        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn merge_all_of_nothing_and_of_different_runs() {
        assert!(Accumulator::merge_all(Vec::new()).unwrap().is_none());
        let spec = accumulator_spec("count,zhist");
        let cats = || SharedCategories::new(&spec, 0);
        let accs = vec![
            Accumulator::new(spec.clone(), false, SharedZhist::new(&spec), cats()),
            Accumulator::new(spec.clone(), false, SharedZhist::new(&spec), cats()),
        ];
        let err = Accumulator::merge_all(accs).unwrap_err().to_string();
        assert!(err.contains("different z histograms"), "{err}");
    }

    #[test]
    fn accumulator_reports_zhist_overflow_on_carry_and_at_the_end() {
        let spec = accumulator_spec("count,zhist");
        // The pile's bin: z 0.9 of 4 bins over [0, 1] is bin 3; (0.3, 0.6)
        // is column 2 of row 3.
        let slot = 3 * 35 + 3 * 7 + 2;
        let overflowing = |start: u32, n: usize| {
            let shared = SharedZhist::new(&spec);
            shared.bins[slot].store(start, Ordering::Relaxed);
            let cats = SharedCategories::new(&spec, 0);
            let mut acc = Accumulator::new(spec.clone(), false, shared, cats);
            acc.append(&pile(n))
                .and_then(|()| Accumulator::merge_all(vec![acc]))
                .map(Option::unwrap)
        };
        let message = "a z-histogram bin of pixel (3, 2) exceeded 4294967295 points; use more \
                       --z-bins or a larger --width/--height, or leave zhist out of --layers";
        // The 256th point carries, past the limit.
        let err = overflowing(u32::MAX - 200, 256).unwrap_err();
        assert_eq!(err.render(flag), message);
        // 20 points stay in the u8 part until the end.
        let err = overflowing(u32::MAX - 10, 20).unwrap_err();
        assert_eq!(err.render(flag), message);
        // Exactly u32::MAX is fine.
        let g = overflowing(u32::MAX - 256 - 20, 276).unwrap();
        assert_eq!(g.zhist().unwrap().as_slice().unwrap()[slot], u32::MAX);
    }
}
