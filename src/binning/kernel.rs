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
use crate::grid::Grid;
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
        let mut pix = vec![DROPPED; n];
        self.map_points(&pts.x, &pts.y, &mut pix);
        let count = self.count.as_slice_mut().expect("standard layout");
        for &p in &pix {
            if let Some(c) = count.get_mut(p as usize) {
                *c += 1;
            }
        }
        if self.spec.layers().needs_z() {
            self.append_z(&pix, &pts.z)?;
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

    /// Writes the pixel index of every point (row-major from the bottom
    /// row), or [`DROPPED`], and counts the points' fates.
    fn map_points(&mut self, xs: &[f64], ys: &[f64], pix: &mut [u32]) {
        let (xa, ya) = (*self.spec.x(), *self.spec.y());
        let width = xa.len() as u32;
        let (mut binned, mut nonfinite) = (0u32, 0u32);
        for ((&x, &y), p) in xs.iter().zip(ys).zip(pix.iter_mut()) {
            let inside = xa.contains(x) & ya.contains(y);
            // Computed for every point and kept only for those inside, so
            // that the loop has no branch to mispredict. The index fits in
            // 32 bits: grids have at most GridSpec::MAX_PIXELS pixels.
            let index = (ya.index_i32(y) as u32)
                .wrapping_mul(width)
                .wrapping_add(xa.index_i32(x) as u32);
            *p = if inside { index } else { DROPPED };
            binned += u32::from(inside);
            nonfinite += u32::from(!(x.is_finite() & y.is_finite()));
        }
        let (binned, nonfinite) = (u64::from(binned), u64::from(nonfinite));
        let c = &mut self.counters;
        let n = xs.len() as u64;
        c.points_read += n;
        c.points_binned += binned;
        c.nonfinite_xy += nonfinite;
        c.out_of_range += n - binned - nonfinite;
    }

    /// The z layers' part of [`Grid::append`], for points at pixels `pix`
    /// (or [`DROPPED`]) with values `zs`.
    fn append_z(&mut self, pix: &[u32], zs: &[f64]) -> Result<()> {
        let len = self.count.len();
        let binned = |p: u32| (p as usize) < len;
        let nonfinite = pix
            .iter()
            .zip(zs)
            .filter(|&(&p, z)| binned(p) && !z.is_finite())
            .count() as u64;
        self.counters.nonfinite_z += nonfinite;
        if self.sum_z.is_some() && self.count_z.is_none() && (self.m2_z.is_some() || nonfinite > 0)
        {
            // From now on count_z differs from count (or Welford needs its
            // own counter): materialise it as count minus this batch, which
            // `append` has already counted.
            let mut cz = self.count.clone();
            let cs = cz.as_slice_mut().expect("standard layout");
            for &p in pix.iter().filter(|&&p| binned(p)) {
                cs[p as usize] -= 1;
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
                    for (&p, &z) in pix.iter().zip(zs) {
                        let p = p as usize;
                        if p < len && z.is_finite() {
                            sum[p] += z;
                            cz[p] += 1;
                        }
                    }
                }
                (_, None) => {
                    // Every z is finite (checked above).
                    for (&p, &z) in pix.iter().zip(zs) {
                        if let Some(s) = sum.get_mut(p as usize) {
                            *s += z;
                        }
                    }
                }
            }
        }
        if let (Some(lo), Some(hi)) = (flat(&mut self.min_z), flat(&mut self.max_z)) {
            for (&p, &z) in pix.iter().zip(zs) {
                let p = p as usize;
                if p < len && z.is_finite() {
                    lo[p] = lo[p].min(z);
                    hi[p] = hi[p].max(z);
                }
            }
        }
        if let (Some(h), Some(za)) = (flat(&mut self.zhist), self.spec.zbins()) {
            let mut clipped = 0;
            for (&p, &z) in pix.iter().zip(zs) {
                let p = p as usize;
                if p >= len || !z.is_finite() {
                    continue;
                }
                clipped += u64::from(!za.contains(z));
                let bin = &mut h[za.index_clamped(z) * len + p];
                *bin = bin.checked_add(1).ok_or_else(|| {
                    Error::Overflow(format!(
                        "a z-histogram bin of pixel ({}, {}) exceeded {} points",
                        p / self.spec.width(),
                        p % self.spec.width(),
                        u32::MAX
                    ))
                })?;
            }
            self.counters.z_clipped += clipped;
        }
        Ok(())
    }
}

/// A layer as one flat slice (grids are always in standard layout).
pub(crate) fn flat<T, D: ndarray::Dimension>(
    a: &mut Option<ndarray::Array<T, D>>,
) -> Option<&mut [T]> {
    a.as_mut()
        .map(|a| a.as_slice_mut().expect("grids are in standard layout"))
}
