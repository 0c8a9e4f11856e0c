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

use std::sync::atomic::{AtomicU32, Ordering};

use crate::cache::prefetch;
use crate::error::{Error, Result};
use crate::grid::{ArrayId, Axis, Grid, Layer, flat};
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
    /// With `count_cat`, each point counts in its category's plane; a grid
    /// whose categories are found rather than fixed adds the batch's new
    /// categories (in canonical order), and a point without a category, or
    /// with one outside a fixed set, is counted as uncategorised.
    ///
    /// Fails when the columns of `pts` differ in length, when the grid has z
    /// layers and `pts` has no z, or `count_cat` and `pts` has no
    /// categories, and when a z-histogram bin or a category's count would
    /// exceed `u32::MAX` points.
    pub fn append<'b>(&mut self, pts: impl Into<Batch<'b>>) -> Result<()> {
        let pts = pts.into();
        let mut pix = Vec::new();
        self.map_points(pts, &mut pix)?;
        increment(self.flat_mut::<u64>(ArrayId::Count).expect("a count"), &pix);
        let nonfinite = self.nonfinite_z(pts, &pix);
        self.append_layers(pts, &pix, true, nonfinite, None)?;
        if self.has(ArrayId::CountCat) {
            self.append_categories(pts, &pix)?;
        }
        Ok(())
    }

    /// Checks the batch, then writes the pixel index of every point
    /// (row-major from the bottom row), or [`DROPPED`], and counts the
    /// points' fates.
    pub(super) fn map_points(&mut self, pts: Batch<'_>, pix: &mut Vec<u32>) -> Result<()> {
        let n = pts.len();
        let sized = |v: &[f64]| v.is_empty() || v.len() == n;
        let categories_sized = pts.c.is_empty() || pts.c.len() == n;
        if pts.y.len() != n || !sized(pts.z) || !sized(pts.w) || !categories_sized {
            return Err(Error::request(
                "append: x, y, z, w and the category ids must have the same length",
            ));
        }
        if n > 0 && pts.c.is_empty() && self.spec.layers().contains(Layer::CountCat) {
            return Err(Error::request(format!(
                "append: the count_cat layer needs a category per point; name the category \
                 column with {}",
                Param::By.mark()
            )));
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
    pub(super) fn nonfinite_z(&self, pts: Batch<'_>, pix: &[u32]) -> u64 {
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
    pub(super) fn append_layers(
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
pub(super) const AHEAD: usize = 96;

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
    // The mapping clamps z into the bins: below the range to the first,
    // above to the last, without branches (and gives some bin for any z).
    // z bins are always linear, so the linear mapping is taken without a
    // per-point test of the axis type.
    debug_assert_eq!(za.axis_type(), crate::grid::AxisType::Linear);
    let slot = |p: u32, z: f64| za.index_i32_of::<false>(z) as usize * len + p as usize;
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
pub(super) fn add_saturating(bin: &mut u32, n: u32) -> bool {
    let (next, wrapped) = bin.overflowing_add(n);
    *bin = if wrapped { u32::MAX } else { next };
    wrapped
}

/// Writes the pixel index of every point (row-major from the bottom row),
/// or [`DROPPED`]; returns how many were binned and how many had a
/// non-finite x or y. Uses AVX2 where the CPU has it.
fn map(xa: &Axis, ya: &Axis, xs: &[f64], ys: &[f64], pix: &mut [u32]) -> (u32, u32) {
    use crate::grid::AxisType::{Linear, Log};
    // Log axes take log10 of every value: a loop of their own, so that the
    // linear one keeps its vector code.
    match (xa.axis_type(), ya.axis_type()) {
        (Linear, Linear) => {}
        (Log, Linear) => return map_portable::<true, false>(xa, ya, xs, ys, pix),
        (Linear, Log) => return map_portable::<false, true>(xa, ya, xs, ys, pix),
        (Log, Log) => return map_portable::<true, true>(xa, ya, xs, ys, pix),
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `map_avx2` requires AVX2 and nothing else, and the CPU
        // has it (checked just above). It is `map_portable` compiled for
        // AVX2 — the same IEEE multiply and add, no fused multiply-add, so
        // the same indices — and twice as fast: mapping 4096 points takes
        // 2.6 ns a point instead of 5.3 (BENCHMARKS.md, "mapping").
        return unsafe { map_avx2(xa, ya, xs, ys, pix) };
    }
    map_portable::<false, false>(xa, ya, xs, ys, pix)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn map_avx2(xa: &Axis, ya: &Axis, xs: &[f64], ys: &[f64], pix: &mut [u32]) -> (u32, u32) {
    map_portable::<false, false>(xa, ya, xs, ys, pix)
}

/// The mapping loop: branch-free, in groups of four so that it vectorises;
/// `LX` and `LY` say which axes are logarithmic.
#[inline(always)]
fn map_portable<const LX: bool, const LY: bool>(
    xa: &Axis,
    ya: &Axis,
    xs: &[f64],
    ys: &[f64],
    pix: &mut [u32],
) -> (u32, u32) {
    let (xa, ya) = (*xa, *ya);
    let width = xa.len() as u32;
    let (mut binned, mut nonfinite) = (0u32, 0u32);
    let mut one = |x: f64, y: f64, p: &mut u32| {
        let inside = xa.contains(x) & ya.contains(y);
        // Computed for every point and kept only for those inside, so that
        // the loop has no branch to mispredict. The index fits in 32 bits:
        // grids have at most GridSpec::MAX_PIXELS pixels.
        let index = (ya.index_i32_of::<LY>(y) as u32)
            .wrapping_mul(width)
            .wrapping_add(xa.index_i32_of::<LX>(x) as u32);
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
    pub(super) fn zhist_overflow(&self, p: usize) -> Error {
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
    pub(super) fn starts_count_z(&self, nonfinite: u64) -> bool {
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

/// Points for the kernel's and the accumulators' tests: inside and around
/// a unit canvas, every 17th z not finite.
#[cfg(test)]
pub(super) fn random_points(n: usize, seed: u64) -> crate::read::Points {
    use crate::read::Points;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{GridSpec, LayerSet};
    use crate::read::Points;

    #[test]
    fn every_mapping_path_gives_the_same_indices() {
        let spec = GridSpec::new(13, 7, (-1.0, 2.0), (0.5, 0.75)).unwrap();
        let mut p = random_points(1001, 7);
        // Edges, NaN and infinities too.
        p.x.extend([-1.0, 2.0, f64::NAN, f64::INFINITY, 0.0, -1e300]);
        p.y.extend([0.5, 0.75, 0.6, 0.6, f64::NEG_INFINITY, 0.6]);
        let mut portable = vec![0; p.x.len()];
        let counts = map_portable::<false, false>(spec.x(), spec.y(), &p.x, &p.y, &mut portable);
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

    fn spec(layers: &str) -> GridSpec {
        let layers: LayerSet = layers.parse().unwrap();
        GridSpec::new(4, 2, (0.0, 4.0), (0.0, 2.0))
            .unwrap()
            .with_layers(layers, Some((2, (0.0, 1.0))))
            .unwrap()
    }

    fn points(xyz: &[(f64, f64, f64)]) -> Points {
        Points {
            x: xyz.iter().map(|p| p.0).collect(),
            y: xyz.iter().map(|p| p.1).collect(),
            z: xyz.iter().map(|p| p.2).collect(),
            w: Vec::new(),
            ..Points::default()
        }
    }

    #[test]
    fn append_counts_every_fate() {
        let mut g = Grid::empty(spec("count,sum,minmax,std,zhist"));
        g.append(&points(&[
            (0.5, 0.5, 0.25),
            (0.5, 0.5, 0.75),
            (3.9, 1.9, f64::NAN),
            (4.0, 2.0, 5.0),
            (f64::NAN, 1.0, 0.0),
            (1.0, f64::INFINITY, 0.0),
            (9.0, 1.0, 0.0),
        ]))
        .unwrap();
        let c = g.counters();
        assert_eq!(c.points_binned, 4);
        assert_eq!(c.nonfinite_xy, 2);
        assert_eq!(c.out_of_range, 1);
        assert_eq!(c.nonfinite_z, 1);
        assert_eq!(c.z_clipped, 1);
        assert_eq!(g.count()[[0, 0]], 2);
        assert_eq!(
            g.count()[[1, 3]],
            2,
            "the corner and the upper edge share the last pixel"
        );
        assert_eq!(g.count_z().unwrap()[[1, 3]], 1);
        assert!(g.has_distinct_count_z());
        assert_eq!(g.sum_z().unwrap()[[0, 0]], 1.0);
        assert_eq!(g.sum_z().unwrap()[[1, 3]], 5.0);
        assert_eq!(g.min_z().unwrap()[[0, 0]], 0.25);
        assert_eq!(g.max_z().unwrap()[[0, 0]], 0.75);
        assert_eq!(g.min_z().unwrap()[[0, 1]], f64::INFINITY);
        assert!((g.m2_z().unwrap()[[0, 0]] - 0.125).abs() < 1e-15);
        let h = g.zhist().unwrap();
        assert_eq!((h[[0, 0, 0]], h[[1, 0, 0]]), (1, 1));
        assert_eq!(
            h[[1, 1, 3]],
            1,
            "z above the range is clipped into the last bin"
        );
        let mean = g.mean_z().unwrap();
        assert_eq!(mean[[0, 0]], 0.5);
        assert!(mean[[0, 1]].is_nan());
        let std = g.std_z().unwrap();
        assert!((std[[0, 0]] - 0.25).abs() < 1e-15);
    }

    #[test]
    fn weights_skip_non_finite() {
        let mut g = Grid::empty(spec("count,weight"));
        let mut p = points(&[(0.5, 0.5, 0.0), (0.5, 0.5, 0.0)]);
        p.z.clear();
        p.w = vec![2.5, f64::NAN];
        g.append(&p).unwrap();
        assert_eq!(g.sum_w().unwrap()[[0, 0]], 2.5);
        assert_eq!(g.counters().nonfinite_w, 1);
        assert_eq!(g.count()[[0, 0]], 2);
    }

    #[test]
    fn zhist_overflow_is_an_error() {
        let mut g = Grid::empty(spec("count,zhist"));
        g.flat_mut::<u32>(crate::grid::ArrayId::ZHist).unwrap()[0] = u32::MAX;
        let err = g.append(&points(&[(0.5, 0.5, 0.1)])).unwrap_err();
        assert!(matches!(err, Error::Overflow(_)), "{err}");
    }
}
