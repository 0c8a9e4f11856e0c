//! The per-point kernel, [`Grid::append`].
//!
//! Two passes per batch. The first maps every point to its pixel index —
//! a branch-free loop that marks dropped points with [`DROPPED`] and counts
//! them. The second is one tight loop per layer over the indices. Random
//! increments into a grid larger than the caches are memory-latency bound;
//! a loop that does nothing but those increments keeps many misses in
//! flight at once, where a loop that also computed indices and touched
//! every layer per point serialised them (`benches/binning.rs`: count,
//! 1000 x 1000, one core, from ~50 to ~95 Mpts/s, then ~2x again with the
//! branch-free mapping). Partitioning the indices by tile before
//! incrementing was measured too and gained nothing at 4000 x 4000 on top
//! of the tight loops (see BENCHMARKS.md).

use crate::error::{Error, Result};
use crate::grid::{Axis, Grid, GridSpec};
use crate::read::Points;

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
    pub fn append(&mut self, pts: &Points) -> Result<()> {
        let mut pix = Vec::new();
        self.map_points(pts, &mut pix)?;
        increment(self.count.as_slice_mut().expect("standard layout"), &pix);
        let nonfinite = self.nonfinite_z(pts, &pix);
        self.append_layers(pts, &pix, true, nonfinite, &mut [])
    }

    /// Checks the batch, then writes the pixel index of every point
    /// (row-major from the bottom row), or [`DROPPED`], and counts the
    /// points' fates.
    fn map_points(&mut self, pts: &Points, pix: &mut Vec<u32>) -> Result<()> {
        let n = pts.len();
        let sized = |v: &Vec<f64>| v.is_empty() || v.len() == n;
        if pts.y.len() != n || !sized(&pts.z) || !sized(&pts.w) {
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
        pix.clear();
        pix.resize(n, DROPPED);
        let (binned, nonfinite) = map(self.spec.x(), self.spec.y(), &pts.x, &pts.y, pix);
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
    fn nonfinite_z(&self, pts: &Points, pix: &[u32]) -> u64 {
        if !self.spec.layers().needs_z() {
            return 0;
        }
        // A branch-free sum of the tests in 32-bit lanes, which vectorises
        // with SSE2 alone: a pixel index is below u32::MAX
        // (GridSpec::MAX_PIXELS), and a z is not finite when every exponent
        // bit of its high word is set. Counted per 64 K points, so that the
        // u32 sums cannot overflow.
        let len = self.count.len() as u32;
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
    /// [`Grid::nonfinite_z`], `small_zhist` is empty or the
    /// [`Accumulator`]'s `u8` z histogram.
    fn append_layers(
        &mut self,
        pts: &Points,
        pix: &[u32],
        counted: bool,
        nonfinite: u64,
        small_zhist: &mut [u8],
    ) -> Result<()> {
        if self.spec.layers().needs_z() {
            self.append_z(pix, &pts.z, counted, nonfinite, small_zhist)?;
        }
        if let Some(sw) = flat(&mut self.sum_w).filter(|_| !pts.w.is_empty()) {
            let mut nonfinite = 0;
            for (&p, &w) in pix.iter().zip(&pts.w) {
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
        small_zhist: &mut [u8],
    ) -> Result<()> {
        let len = self.count.len();
        let binned = |p: u32| (p as usize) < len;
        self.counters.nonfinite_z += nonfinite;
        if self.starts_count_z(nonfinite) {
            // From now on count_z differs from count (or Welford needs its
            // own counter): materialise it as count before this batch.
            let mut cz = self.count.clone();
            if counted {
                let cs = cz.as_slice_mut().expect("standard layout");
                for &p in pix.iter().filter(|&&p| binned(p)) {
                    cs[p as usize] -= 1;
                }
            }
            self.count_z = Some(cz);
        }
        if let Some(sum) = flat(&mut self.sum_z) {
            match (flat(&mut self.m2_z), flat(&mut self.count_z)) {
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
        if let (Some(lo), Some(hi)) = (flat(&mut self.min_z), flat(&mut self.max_z)) {
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
        if let (Some(h), Some(za)) = (flat(&mut self.zhist), self.spec.zbins()) {
            let (clipped, overflow) = if small_zhist.is_empty() {
                each_zbin(pix, zs, za, len, |slot, ahead| {
                    prefetch(h, ahead);
                    add_saturating(&mut h[slot], 1)
                })
            } else {
                each_zbin(pix, zs, za, len, |slot, ahead| {
                    prefetch(small_zhist, ahead);
                    let c = &mut small_zhist[slot];
                    *c = c.wrapping_add(1);
                    *c == 0 && add_saturating(&mut h[slot], 256)
                })
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
/// cache.
const AHEAD: usize = 24;

/// Starts loading `v[i]` into the cache, for a loop that will update it
/// shortly: with the misses of several points in flight at once, a loop
/// bound by cache misses runs 5–8 % faster (BENCHMARKS.md, "prefetch").
#[inline(always)]
fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and
    // never faults, whatever the address, so `i` need not be in bounds
    // (DROPPED is not); the pointer is formed with wrapping_add, which is
    // defined for any offset.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().wrapping_add(i).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}

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
            "a z-histogram bin of pixel ({}, {}) exceeded {} points",
            p / self.spec.width(),
            p % self.spec.width(),
            u32::MAX
        ))
    }

    /// True when this batch, with `nonfinite` binned points whose z is not
    /// finite, makes `count_z` differ from `count` (or Welford's update
    /// needs its own counter) for the first time.
    fn starts_count_z(&self, nonfinite: u64) -> bool {
        self.sum_z.is_some() && self.count_z.is_none() && (self.m2_z.is_some() || nonfinite > 0)
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
#[inline]
fn increment_carry(count: &mut [u8], total: &mut [u64], pix: &[u32]) {
    for &p in pix {
        if let Some(c) = count.get_mut(p as usize) {
            *c = c.wrapping_add(1);
            if *c == 0 {
                total[p as usize] += 256;
            }
        }
    }
}

/// A worker's private grid for a long run: a [`Grid`] whose counts and
/// z-histogram bins are gathered in `u8`, carrying 256 into the grid's own
/// layer each time one wraps, and added to it at the end. Random increments
/// into a large grid are bound by the cache misses they make: a `u8` is an
/// eighth of the stored `u64` count and a quarter of a `u32` bin
/// (BENCHMARKS.md, "u8 counters").
#[derive(Debug)]
pub struct Accumulator {
    grid: Grid,
    count: Vec<u8>,
    /// Empty, or the z histogram's `u8` part (same layout as the grid's).
    zhist: Vec<u8>,
    /// Whether `count` holds anything since the last flush.
    pending: bool,
    /// The batch's pixel indices, kept between batches.
    pix: Vec<u32>,
}

impl Accumulator {
    /// Bytes an accumulator of `spec` occupies: the grid and the `u8`
    /// counts and bins.
    pub fn bytes(spec: &GridSpec) -> Option<u64> {
        let pixels = spec.width() as u64 * spec.height() as u64;
        // zbins() is there exactly when the layers include zhist.
        let bins = spec.zbins().map_or(0, |a| a.len() as u64);
        spec.grid_bytes()?
            .checked_add(pixels.checked_mul(bins.checked_add(1)?)?)
    }

    /// An empty accumulator for `spec`. With `dense`, its memory is
    /// touched now, page by page, with writes: when points will land all
    /// over the grid, a first touch by `+=` would fault twice per page (a
    /// read maps the shared zero page, the write then copies it and flushes
    /// the TLB of every core), which cost a quarter of the time of a
    /// 4000 x 4000 count-and-sum run (BENCHMARKS.md, "first touch").
    pub fn new(spec: GridSpec, dense: bool) -> Accumulator {
        let pixels = spec.width() * spec.height();
        let grid = Grid::empty(spec);
        let zhist = vec![0; grid.zhist.as_ref().map_or(0, |h| h.len())];
        let mut acc = Accumulator {
            grid,
            count: vec![0; pixels],
            zhist,
            pending: false,
            pix: Vec::new(),
        };
        if dense {
            let g = &mut acc.grid;
            touch(&mut acc.count);
            touch(&mut acc.zhist);
            touch(g.count.as_slice_mut().expect("standard layout"));
            // min_z and max_z were written when they were made (±inf).
            for layer in [&mut g.sum_z, &mut g.m2_z, &mut g.sum_w] {
                if let Some(a) = flat(layer) {
                    touch(a);
                }
            }
            if let Some(h) = flat(&mut g.zhist) {
                touch(h);
            }
        }
        acc
    }

    /// Adds a batch of points, as [`Grid::append`] does.
    pub fn append(&mut self, pts: &Points) -> Result<()> {
        let mut pix = std::mem::take(&mut self.pix);
        self.grid.map_points(pts, &mut pix)?;
        let nonfinite = self.grid.nonfinite_z(pts, &pix);
        // Starting `count_z` needs `count` as it was before this batch: it
        // is, once the pending counts are in.
        if self.pending && self.grid.starts_count_z(nonfinite) {
            self.flush_count();
        }
        self.grid
            .append_layers(pts, &pix, false, nonfinite, &mut self.zhist)?;
        let total = self.grid.count.as_slice_mut().expect("standard layout");
        increment_carry(&mut self.count, total, &pix);
        self.pix = pix;
        self.pending = true;
        Ok(())
    }

    /// Adds the pending `u8` counts into the grid's `u64` layer.
    fn flush_count(&mut self) {
        let count = self.grid.count.as_slice_mut().expect("standard layout");
        for (total, c) in count.iter_mut().zip(&mut self.count) {
            *total += u64::from(*c);
            *c = 0;
        }
        self.pending = false;
    }

    /// The grid of every point appended. Fails when a z-histogram bin
    /// passes `u32::MAX` points.
    pub fn into_grid(mut self) -> Result<Grid> {
        self.flush_count();
        if let Some(h) = flat(&mut self.grid.zhist) {
            let mut overflow = None;
            for (slot, (bin, &c)) in h.iter_mut().zip(&self.zhist).enumerate() {
                if add_saturating(bin, u32::from(c)) {
                    overflow.get_or_insert(slot % self.count.len());
                }
            }
            if let Some(p) = overflow {
                return Err(self.grid.zhist_overflow(p));
            }
        }
        Ok(self.grid)
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

/// A layer as one flat slice (grids are always in standard layout).
pub(crate) fn flat<T, D: ndarray::Dimension>(
    a: &mut Option<ndarray::Array<T, D>>,
) -> Option<&mut [T]> {
    a.as_mut()
        .map(|a| a.as_slice_mut().expect("grids are in standard layout"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn accumulator_equals_grid_append_across_carries() {
        // With std, count_z starts with the first batch; without it, with
        // the first non-finite z, after counts are pending (the random
        // batches have some; the piles first have none).
        for layers in [
            "count,sum,minmax,std,zhist,weight",
            "count,sum,minmax,zhist",
        ] {
            for dense in [false, true] {
                let spec = accumulator_spec(layers);
                let mut grid = Grid::empty(spec.clone());
                let mut acc = Accumulator::new(spec, dense);
                let batches = [pile(255), pile(1), pile(700)]
                    .into_iter()
                    .chain((0..20).map(|seed| points(23 + seed, seed as u64)))
                    .chain([pile(300)]);
                for p in batches {
                    grid.append(&p).unwrap();
                    acc.append(&p).unwrap();
                }
                let got = acc.into_grid().unwrap();
                assert_eq!(got.count(), grid.count(), "{layers}");
                assert_eq!(got.count_z(), grid.count_z(), "{layers}");
                assert_eq!(got.zhist(), grid.zhist(), "{layers}");
                assert_eq!(got.counters(), grid.counters(), "{layers}");
                assert_eq!(got.min_z(), grid.min_z(), "{layers}");
                assert_eq!(got.sum_w(), grid.sum_w(), "{layers}");
                for (a, b) in got.sum_z().unwrap().iter().zip(grid.sum_z().unwrap()) {
                    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
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
    fn accumulator_reports_zhist_overflow_on_carry_and_at_the_end() {
        let spec = accumulator_spec("count,zhist");
        // The pile's bin: z 0.9 of 4 bins over [0, 1] is bin 3; (0.3, 0.6)
        // is column 2 of row 3.
        let slot = 3 * 35 + 3 * 7 + 2;
        let overflowing = |start: u32, n: usize| {
            let mut acc = Accumulator::new(spec.clone(), false);
            acc.grid.zhist.as_mut().unwrap().as_slice_mut().unwrap()[slot] = start;
            acc.append(&pile(n)).and_then(|()| acc.into_grid())
        };
        let message = "a z-histogram bin of pixel (3, 2) exceeded 4294967295 points";
        // The 256th point carries, past the limit.
        let err = overflowing(u32::MAX - 200, 256).unwrap_err();
        assert_eq!(err.to_string(), message);
        // 20 points stay in the u8 part until the end.
        let err = overflowing(u32::MAX - 10, 20).unwrap_err();
        assert_eq!(err.to_string(), message);
        // Exactly u32::MAX is fine.
        let g = overflowing(u32::MAX - 256 - 20, 276).unwrap();
        assert_eq!(g.zhist().unwrap().as_slice().unwrap()[slot], u32::MAX);
    }
}
