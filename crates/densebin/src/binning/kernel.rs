//! The per-point kernel, [`Grid::append`].
//!
//! Two passes per batch. The first maps every point to its pixel index —
//! a branch-free loop that marks dropped points with [`DROPPED`] and counts
//! them. The second is one tight loop per layer over the indices. Random
//! increments into a grid larger than the caches are memory-latency bound;
//! a loop that does nothing but those increments keeps many misses in
//! flight at once, where a loop that also computed indices and touched
//! every layer per point serialised them (`benches/binning.rs` of this crate: count,
//! 1000 x 1000, one core, from ~50 to ~95 Mpts/s, then ~2x again with the
//! branch-free mapping). Partitioning the indices by tile before
//! incrementing was measured too and gained nothing at 4000 x 4000 on top
//! of the tight loops (see BENCHMARKS.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::cache::prefetch;
use crate::error::{Error, Result};
use crate::grid::{ArrayData, ArrayId, Axis, Grid, GridSpec, flat};
use crate::param::Param;
use crate::read::Batch;

/// Where a batch's z-histogram counts go: `None` for the grid's own
/// histogram, or an [`Accumulator`]'s `u8` bins and the [`SharedZhist`]
/// bins they carry into.
type Carried<'a> = Option<(&'a mut [u8], &'a [AtomicU32])>;

/// The pixel index of a point that lands in no pixel.
pub(crate) const DROPPED: u32 = u32::MAX;

impl Grid {
    /// Adds a batch of points: the *append* step of the reduction.
    ///
    /// Points with a NaN or infinite x or y, and points outside the canvas,
    /// are counted and skipped. A NaN or infinite z counts in `count` but
    /// in no z layer; a finite z outside the histogram's range goes to its
    /// first or last bin and is counted as clipped.
    ///
    /// Fails when the columns of `pts` differ in length, when the grid has z
    /// layers and `pts` has no z, and when a z-histogram bin would exceed
    /// `u32::MAX` points.
    pub fn append<'b>(&mut self, pts: impl Into<Batch<'b>>) -> Result<()> {
        let pts = pts.into();
        let mut pix = Vec::new();
        self.map_points(pts, &mut pix)?;
        increment(self.flat_mut::<u64>(ArrayId::Count).expect("a count"), &pix);
        let nonfinite = self.nonfinite_z(pts, &pix);
        self.append_layers(pts, &pix, true, nonfinite, None)
    }

    /// Checks the batch, then writes the pixel index of every point
    /// (row-major from the bottom row), or [`DROPPED`], and counts the
    /// points' fates.
    fn map_points(&mut self, pts: Batch<'_>, pix: &mut Vec<u32>) -> Result<()> {
        let n = pts.len();
        let sized = |v: &[f64]| v.is_empty() || v.len() == n;
        if pts.y.len() != n || !sized(pts.z) || !sized(pts.w) {
            return Err(Error::request(
                "append: x, y, z and w must have the same length",
            ));
        }
        if n > 0 && pts.z.is_empty() && self.spec.layers().needs_z() {
            return Err(Error::request(format!(
                "append: the layers {} need z values",
                self.spec.layers()
            )));
        }
        // `map` writes every index.
        crate::read::resize_for_overwrite(pix, n, DROPPED);
        let (binned, nonfinite) = map(self.spec.x(), self.spec.y(), pts.x, pts.y, pix);
        let (binned, nonfinite) = (u64::from(binned), u64::from(nonfinite));
        let c = &mut self.counters;
        c.points_read += n as u64;
        c.points_binned += binned;
        c.nonfinite_xy += nonfinite;
        c.out_of_range += n as u64 - binned - nonfinite;
        Ok(())
    }

    /// Binned points of the batch whose z is NaN or infinite (0 when no
    /// layer reads z).
    fn nonfinite_z(&self, pts: Batch<'_>, pix: &[u32]) -> u64 {
        if !self.spec.layers().needs_z() {
            return 0;
        }
        // A branch-free sum of the tests in 32-bit lanes, which vectorises
        // with SSE2 alone: a pixel index is below u32::MAX
        // (GridSpec::MAX_PIXELS), and a z is not finite when every exponent
        // bit of its high word is set. Counted per 64 K points, so that the
        // u32 sums cannot overflow.
        let len = self.spec.pixels() as u32;
        let nonfinite = |z: &f64| ((z.to_bits() >> 32) as u32 & 0x7FFF_FFFF) >= 0x7FF0_0000;
        pix.chunks(1 << 16)
            .zip(pts.z.chunks(1 << 16))
            .map(|(ps, zs)| {
                let n: u32 = ps
                    .iter()
                    .zip(zs)
                    .map(|(&p, z)| u32::from(p < len) & u32::from(nonfinite(z)))
                    .sum();
                u64::from(n)
            })
            .sum()
    }

    /// Every layer but `count`, for a mapped batch; `counted` says whether
    /// `count` already includes the batch, `nonfinite` is
    /// [`Grid::nonfinite_z`]; `carried` is `None` for the grid's own z
    /// histogram, or an [`Accumulator`]'s `u8` bins and the shared bins
    /// they carry into.
    fn append_layers(
        &mut self,
        pts: Batch<'_>,
        pix: &[u32],
        counted: bool,
        nonfinite: u64,
        carried: Carried<'_>,
    ) -> Result<()> {
        if self.spec.layers().needs_z() {
            self.append_z(pix, pts.z, counted, nonfinite, carried)?;
        }
        if let Some(sw) = self
            .flat_mut::<f64>(ArrayId::SumW)
            .filter(|_| !pts.w.is_empty())
        {
            let mut nonfinite = 0;
            for (&p, &w) in pix.iter().zip(pts.w) {
                if let Some(s) = sw.get_mut(p as usize) {
                    if w.is_finite() {
                        *s += w;
                    } else {
                        nonfinite += 1;
                    }
                }
            }
            self.counters.nonfinite_w += nonfinite;
        }
        Ok(())
    }

    /// The z layers' part of [`Grid::append`], for points at pixels `pix`
    /// (or [`DROPPED`]) with values `zs`.
    fn append_z(
        &mut self,
        pix: &[u32],
        zs: &[f64],
        counted: bool,
        nonfinite: u64,
        carried: Carried<'_>,
    ) -> Result<()> {
        let len = self.spec.pixels();
        let binned = |p: u32| (p as usize) < len;
        self.counters.nonfinite_z += nonfinite;
        if self.starts_count_z(nonfinite) {
            // From now on count_z differs from count (or Welford needs its
            // own counter): materialise it as count before this batch.
            self.materialise(ArrayId::CountZ, ArrayId::Count);
            if counted {
                let cs = self.flat_mut::<u64>(ArrayId::CountZ).expect("just made");
                for &p in pix.iter().filter(|&&p| binned(p)) {
                    cs[p as usize] -= 1;
                }
            }
        }
        let [sum, m2, cz] = self.arrays_mut([ArrayId::SumZ, ArrayId::M2Z, ArrayId::CountZ]);
        if let Some(sum) = flat::<f64>(sum) {
            match (flat::<f64>(m2), flat::<u64>(cz)) {
                (Some(m2), Some(cz)) => {
                    for (&p, &z) in pix.iter().zip(zs) {
                        let p = p as usize;
                        if p < len && z.is_finite() {
                            // Welford's update, with the mean taken from
                            // the stored sum and count (before this point).
                            let n0 = cz[p];
                            if n0 > 0 {
                                let old_mean = sum[p] / n0 as f64;
                                let new_mean = (sum[p] + z) / (n0 + 1) as f64;
                                m2[p] += (z - old_mean) * (z - new_mean);
                            }
                            sum[p] += z;
                            cz[p] += 1;
                        }
                    }
                }
                (_, Some(cz)) => {
                    for (i, (&p, &z)) in pix.iter().zip(zs).enumerate() {
                        if let Some(&q) = pix.get(i + AHEAD) {
                            prefetch(sum, q as usize);
                            prefetch(cz, q as usize);
                        }
                        let p = p as usize;
                        if p < len && z.is_finite() {
                            sum[p] += z;
                            cz[p] += 1;
                        }
                    }
                }
                (_, None) => {
                    // Every z is finite (checked above).
                    for (i, (&p, &z)) in pix.iter().zip(zs).enumerate() {
                        if let Some(&q) = pix.get(i + AHEAD) {
                            prefetch(sum, q as usize);
                        }
                        if let Some(s) = sum.get_mut(p as usize) {
                            *s += z;
                        }
                    }
                }
            }
        }
        let [lo, hi] = self.arrays_mut([ArrayId::MinZ, ArrayId::MaxZ]);
        if let (Some(lo), Some(hi)) = (flat::<f64>(lo), flat::<f64>(hi)) {
            for (i, (&p, &z)) in pix.iter().zip(zs).enumerate() {
                if let Some(&q) = pix.get(i + AHEAD) {
                    prefetch(lo, q as usize);
                    prefetch(hi, q as usize);
                }
                let p = p as usize;
                if p < len && z.is_finite() {
                    lo[p] = lo[p].min(z);
                    hi[p] = hi[p].max(z);
                }
            }
        }
        if let Some(&za) = self.spec.zbins() {
            let za = &za;
            let (clipped, overflow) = match (carried, self.flat_mut::<u32>(ArrayId::ZHist)) {
                (Some((small, shared)), _) => each_zbin(pix, zs, za, len, |slot, ahead| {
                    prefetch(small, ahead);
                    let c = &mut small[slot];
                    *c = c.wrapping_add(1);
                    // The old value tells whether this carry passed u32::MAX.
                    *c == 0 && shared[slot].fetch_add(256, Ordering::Relaxed) > u32::MAX - 256
                }),
                (None, Some(h)) => each_zbin(pix, zs, za, len, |slot, ahead| {
                    prefetch(h, ahead);
                    add_saturating(&mut h[slot], 1)
                }),
                (None, None) => unreachable!("a grid with z bins has a z histogram"),
            };
            self.counters.z_clipped += clipped;
            if let Some(p) = overflow {
                return Err(self.zhist_overflow(p));
            }
        }
        Ok(())
    }
}

/// How many points ahead the random-access loops [`prefetch`]: far enough
/// for a miss to be under way when its point comes, near enough to stay in
/// cache. The sum loop does little per point, and its misses (an 8 MB layer
/// at 1000 x 1000) take hundreds of cycles: 96 points ahead runs a mean
/// 13 % faster than 24 did; 96 to 256 are alike (BENCHMARKS.md,
/// "prefetch").
const AHEAD: usize = 96;

/// Calls `bump` with the z-histogram slot (`bin * pixels + pixel`) of every
/// binned point of the batch with a finite z, and the slot to prefetch;
/// returns how many z were
/// outside the histogram's range and the first pixel whose `bump` reported
/// an overflow.
#[inline(always)]
fn each_zbin(
    pix: &[u32],
    zs: &[f64],
    za: &Axis,
    len: usize,
    mut bump: impl FnMut(usize, usize) -> bool,
) -> (u64, Option<usize>) {
    // index_i32() clamps z into the bins: below the range to the first,
    // above to the last, without branches (and gives some bin for any z).
    let slot = |p: u32, z: f64| za.index_i32(z) as usize * len + p as usize;
    let mut clipped = 0;
    let mut overflow = None;
    for (i, (&p, &z)) in pix.iter().zip(zs).enumerate() {
        // The slot AHEAD points on, for prefetching (any number will do
        // for points that are dropped or have no finite z).
        let ahead = match (pix.get(i + AHEAD), zs.get(i + AHEAD)) {
            (Some(&q), Some(&z)) => slot(q, z),
            _ => 0,
        };
        if p as usize >= len || !z.is_finite() {
            continue;
        }
        clipped += u64::from(!za.contains(z));
        if bump(slot(p, z), ahead) {
            overflow.get_or_insert(p as usize);
        }
    }
    (clipped, overflow)
}

/// Adds `n` to a z-histogram bin; on overflow leaves it at `u32::MAX` and
/// returns true.
#[inline(always)]
fn add_saturating(bin: &mut u32, n: u32) -> bool {
    let (next, wrapped) = bin.overflowing_add(n);
    *bin = if wrapped { u32::MAX } else { next };
    wrapped
}

/// Writes the pixel index of every point (row-major from the bottom row),
/// or [`DROPPED`]; returns how many were binned and how many had a
/// non-finite x or y. Uses AVX2 where the CPU has it.
fn map(xa: &Axis, ya: &Axis, xs: &[f64], ys: &[f64], pix: &mut [u32]) -> (u32, u32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `map_avx2` requires AVX2 and nothing else, and the CPU
        // has it (checked just above). It is `map_portable` compiled for
        // AVX2 — the same IEEE multiply and add, no fused multiply-add, so
        // the same indices — and twice as fast: mapping 4096 points takes
        // 2.6 ns a point instead of 5.3 (BENCHMARKS.md, "mapping").
        return unsafe { map_avx2(xa, ya, xs, ys, pix) };
    }
    map_portable(xa, ya, xs, ys, pix)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn map_avx2(xa: &Axis, ya: &Axis, xs: &[f64], ys: &[f64], pix: &mut [u32]) -> (u32, u32) {
    map_portable(xa, ya, xs, ys, pix)
}

/// The mapping loop: branch-free, in groups of four so that it vectorises.
#[inline(always)]
fn map_portable(xa: &Axis, ya: &Axis, xs: &[f64], ys: &[f64], pix: &mut [u32]) -> (u32, u32) {
    let (xa, ya) = (*xa, *ya);
    let width = xa.len() as u32;
    let (mut binned, mut nonfinite) = (0u32, 0u32);
    let mut one = |x: f64, y: f64, p: &mut u32| {
        let inside = xa.contains(x) & ya.contains(y);
        // Computed for every point and kept only for those inside, so that
        // the loop has no branch to mispredict. The index fits in 32 bits:
        // grids have at most GridSpec::MAX_PIXELS pixels.
        let index = (ya.index_i32(y) as u32)
            .wrapping_mul(width)
            .wrapping_add(xa.index_i32(x) as u32);
        *p = if inside { index } else { DROPPED };
        binned += u32::from(inside);
        nonfinite += u32::from(!(x.is_finite() & y.is_finite()));
    };
    let n4 = xs.len().min(ys.len()).min(pix.len()) / 4 * 4;
    let (x4, xr) = xs.split_at(n4);
    let (y4, yr) = ys.split_at(n4);
    let (p4, pr) = pix.split_at_mut(n4);
    for ((xc, yc), pc) in x4
        .chunks_exact(4)
        .zip(y4.chunks_exact(4))
        .zip(p4.chunks_exact_mut(4))
    {
        for i in 0..4 {
            one(xc[i], yc[i], &mut pc[i]);
        }
    }
    for ((&x, &y), p) in xr.iter().zip(yr).zip(pr) {
        one(x, y, p);
    }
    (binned, nonfinite)
}

impl Grid {
    /// The error for a z-histogram bin of pixel `p` that passed `u32::MAX`.
    fn zhist_overflow(&self, p: usize) -> Error {
        Error::Overflow(format!(
            "a z-histogram bin of pixel ({}, {}) exceeded {} points; use more {} or a \
             larger {}/{}, or leave zhist out of {}",
            p / self.spec.width(),
            p % self.spec.width(),
            u32::MAX,
            Param::ZBins.mark(),
            Param::Width.mark(),
            Param::Height.mark(),
            Param::Layers.mark()
        ))
    }

    /// True when this batch, with `nonfinite` binned points whose z is not
    /// finite, makes `count_z` differ from `count` (or Welford's update
    /// needs its own counter) for the first time.
    fn starts_count_z(&self, nonfinite: u64) -> bool {
        self.has(ArrayId::SumZ)
            && !self.has(ArrayId::CountZ)
            && (self.has(ArrayId::M2Z) || nonfinite > 0)
    }
}

/// Adds one to `count[p]` for every binned point: the loop that the
/// kernel's speed rests on, kept free of anything else.
#[inline]
fn increment<C: Copy + std::ops::AddAssign + From<u8>>(count: &mut [C], pix: &[u32]) {
    for &p in pix {
        if let Some(c) = count.get_mut(p as usize) {
            *c += C::from(1);
        }
    }
}

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
    /// Whether `count` holds anything since the last flush.
    pending: bool,
    /// The batch's pixel indices, kept between batches.
    pix: Vec<u32>,
}

impl Accumulator {
    /// Bytes one accumulator of `spec` occupies, besides the
    /// [`SharedZhist`]: its grid without the z histogram, and a byte per
    /// count and per z bin.
    pub fn bytes(spec: &GridSpec) -> Option<u64> {
        let pixels = spec.width() as u64 * spec.height() as u64;
        let bins = spec.zbins().map_or(0, |a| a.len() as u64);
        spec.grid_bytes()?
            .checked_sub(SharedZhist::bytes(spec)?)?
            .checked_add(pixels.checked_mul(bins.checked_add(1)?)?)
    }

    /// An empty accumulator for `spec`, carrying into `shared` (made for
    /// the same spec). With `dense`, its memory is touched now, page by
    /// page, with writes: when points will land all over the grid, a first
    /// touch by `+=` would fault twice per page (a read maps the shared zero
    /// page, the write then copies it and flushes the TLB of every core),
    /// which cost a quarter of the time of a 4000 x 4000 count-and-sum run
    /// (BENCHMARKS.md, "first touch").
    ///
    /// # Panics
    ///
    /// When `shared` was made for a spec with another number of z bins.
    pub fn new(spec: GridSpec, dense: bool, shared: Arc<SharedZhist>) -> Accumulator {
        let pixels = spec.width() * spec.height();
        let mut grid = Grid::empty(spec);
        let zhist = vec![0; grid.take_array(ArrayId::ZHist).map_or(0, |h| h.len())];
        assert_eq!(zhist.len(), shared.bins.len(), "the shared bins' spec");
        let mut acc = Accumulator {
            grid,
            count: vec![0; pixels],
            zhist,
            shared,
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
    /// [`SharedZhist`]; `None` when there are none. On the current rayon
    /// pool: the workers' grids are finished and merged pairwise in
    /// parallel, in order (log2 of their number in rounds, each merge
    /// itself split over the pool), and the shared histogram gets every
    /// worker's remainders. Fails when a z-histogram bin passes
    /// `u32::MAX`, or when the accumulators do not share their bins.
    pub fn merge_all(accs: Vec<Accumulator>) -> Result<Option<Grid>> {
        let Some(shared) = accs.first().map(|a| Arc::clone(&a.shared)) else {
            return Ok(None);
        };
        if !accs.iter().all(|a| Arc::ptr_eq(&a.shared, &shared)) {
            return Err(Error::request(
                "merge_all: the accumulators carry into different z histograms",
            ));
        }
        let parts: Vec<(Grid, Vec<u8>)> = accs
            .into_par_iter()
            .map(|mut a| {
                a.flush_count();
                (a.grid, a.zhist)
            })
            .collect();
        let (grids, remainders): (Vec<Grid>, Vec<Vec<u8>>) = parts.into_iter().unzip();
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
        Ok(Some(grid))
    }
}

/// Writes a zero into every page of the freshly zeroed `v`, without
/// reading it first (a read would map the shared zero page and the write
/// then fault again).
fn touch<T: Copy + Default>(v: &mut [T]) {
    let step = (4096 / std::mem::size_of::<T>()).max(1);
    for i in (0..v.len()).step_by(step) {
        // The allocator's zeroed memory is known to hold zeros: black_box
        // keeps the compiler from removing the store as redundant.
        v[i] = std::hint::black_box(T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::flag;
    use crate::read::Points;

    fn points(n: usize, seed: u64) -> Points {
        let mut s = seed;
        let mut u = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut p = Points::default();
        for i in 0..n {
            p.x.push(u() * 1.2 - 0.1);
            p.y.push(u() * 1.2 - 0.1);
            p.z.push(if i % 17 == 0 { f64::NAN } else { u() });
            p.w.push(u());
        }
        p
    }

    #[test]
    fn every_mapping_path_gives_the_same_indices() {
        let spec = GridSpec::new(13, 7, (-1.0, 2.0), (0.5, 0.75)).unwrap();
        let mut p = points(1001, 7);
        // Edges, NaN and infinities too.
        p.x.extend([-1.0, 2.0, f64::NAN, f64::INFINITY, 0.0, -1e300]);
        p.y.extend([0.5, 0.75, 0.6, 0.6, f64::NEG_INFINITY, 0.6]);
        let mut portable = vec![0; p.x.len()];
        let counts = map_portable(spec.x(), spec.y(), &p.x, &p.y, &mut portable);
        let mut chosen = vec![0; p.x.len()];
        assert_eq!(map(spec.x(), spec.y(), &p.x, &p.y, &mut chosen), counts);
        assert_eq!(chosen, portable);
        // And both agree with the scalar definition.
        for ((&x, &y), &got) in p.x.iter().zip(&p.y).zip(&portable) {
            let want = spec
                .pixel(x, y)
                .map_or(DROPPED, |(r, c)| (r * spec.width() + c) as u32);
            assert_eq!(got, want, "({x}, {y})");
        }
    }

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
                let mut accs: Vec<Accumulator> = (0..workers)
                    .map(|_| Accumulator::new(spec.clone(), dense, Arc::clone(&shared)))
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
        let accs = vec![
            Accumulator::new(spec.clone(), false, SharedZhist::new(&spec)),
            Accumulator::new(spec.clone(), false, SharedZhist::new(&spec)),
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
            let mut acc = Accumulator::new(spec.clone(), false, shared);
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
