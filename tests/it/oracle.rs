//! A deliberately plain reference binner, written from the design's rules
//! without sharing any code with the library, and the comparisons used
//! against it.
//!
//! Tolerances: integer layers, extrema and counters must be equal. Sums of
//! z or weights are compared within `1e-12 * Σ|z|` per pixel, and `m2_z`
//! (computed here with a two-pass mean) within `1e-9 * (Σz² + 1)`: the
//! library sums in a different order (and per worker), so float layers can
//! differ by rounding only.

use densebin::Grid;

/// The canvas and histogram the oracle bins into.
#[derive(Clone, Copy, Debug)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// Bins and range of the z histogram.
    pub zhist: Option<(usize, (f64, f64))>,
}

/// The pixel of `v` on `n` pixels over `[lo, hi]`, by the design's rule:
/// keep `lo <= v <= hi`, `s = n / (hi - lo)`, `t = -lo * s`,
/// `i = floor(v * s + t)` (non-negative here, so floor is trunc), and the
/// upper edge goes to the last pixel.
pub fn pixel(v: f64, lo: f64, hi: f64, n: usize) -> Option<usize> {
    if v.is_nan() || v < lo || v > hi {
        return None;
    }
    let s = n as f64 / (hi - lo);
    let t = -lo * s;
    let prod = v * s;
    let f = (prod + t).floor();
    if f >= n as f64 {
        Some(n - 1)
    } else {
        Some(f as usize)
    }
}

/// The z bin of a finite `z`, clamped into the histogram.
/// The pixel of `v` on a log axis, by datashader's `LogAxis`: keep
/// `lo <= v <= hi` in the values themselves, then the linear rule on
/// `log10` of `v`, `lo` and `hi`.
pub fn log_pixel(v: f64, lo: f64, hi: f64, n: usize) -> Option<usize> {
    if v.is_nan() || v < lo || v > hi {
        return None;
    }
    let (l, h) = (lo.log10(), hi.log10());
    let s = n as f64 / (h - l);
    let t = -l * s;
    let f = (v.log10() * s + t).floor();
    Some(if f >= n as f64 { n - 1 } else { f as usize })
}

pub fn zbin(z: f64, lo: f64, hi: f64, k: usize) -> usize {
    if z <= lo {
        0
    } else if z >= hi {
        k - 1
    } else {
        pixel(z, lo, hi, k).expect("inside")
    }
}

/// Everything the oracle computes.
#[derive(Debug)]
pub struct Oracle {
    pub canvas: Canvas,
    pub count: Vec<u64>,
    pub count_z: Vec<u64>,
    pub sum_z: Vec<f64>,
    pub abs_z: Vec<f64>,
    pub min_z: Vec<f64>,
    pub max_z: Vec<f64>,
    pub zs: Vec<Vec<f64>>,
    pub zhist: Vec<u64>,
    pub sum_w: Vec<f64>,
    pub abs_w: Vec<f64>,
    pub read: u64,
    pub binned: u64,
    pub nonfinite_xy: u64,
    pub out_of_range: u64,
    pub nonfinite_z: u64,
    pub nonfinite_w: u64,
    pub z_clipped: u64,
}

impl Oracle {
    /// Bins `(x, y, z, w)` points; `z` or `w` may be NaN.
    pub fn bin(canvas: Canvas, points: &[(f64, f64, f64, f64)]) -> Oracle {
        let n = canvas.width * canvas.height;
        let k = canvas.zhist.map_or(0, |z| z.0);
        let mut o = Oracle {
            canvas,
            count: vec![0; n],
            count_z: vec![0; n],
            sum_z: vec![0.0; n],
            abs_z: vec![0.0; n],
            min_z: vec![f64::INFINITY; n],
            max_z: vec![f64::NEG_INFINITY; n],
            zs: vec![Vec::new(); n],
            zhist: vec![0; n * k],
            sum_w: vec![0.0; n],
            abs_w: vec![0.0; n],
            read: 0,
            binned: 0,
            nonfinite_xy: 0,
            out_of_range: 0,
            nonfinite_z: 0,
            nonfinite_w: 0,
            z_clipped: 0,
        };
        for &(x, y, z, w) in points {
            o.read += 1;
            if !x.is_finite() || !y.is_finite() {
                o.nonfinite_xy += 1;
                continue;
            }
            let col = pixel(x, canvas.x.0, canvas.x.1, canvas.width);
            let row = pixel(y, canvas.y.0, canvas.y.1, canvas.height);
            let (Some(col), Some(row)) = (col, row) else {
                o.out_of_range += 1;
                continue;
            };
            let p = row * canvas.width + col;
            o.binned += 1;
            o.count[p] += 1;
            if z.is_finite() {
                o.count_z[p] += 1;
                o.sum_z[p] += z;
                o.abs_z[p] += z.abs();
                o.min_z[p] = if z < o.min_z[p] { z } else { o.min_z[p] };
                o.max_z[p] = if z > o.max_z[p] { z } else { o.max_z[p] };
                o.zs[p].push(z);
                if let Some((k, (lo, hi))) = canvas.zhist {
                    if z < lo || z > hi {
                        o.z_clipped += 1;
                    }
                    o.zhist[zbin(z, lo, hi, k) * n + p] += 1;
                }
            } else {
                o.nonfinite_z += 1;
            }
            if w.is_finite() {
                o.sum_w[p] += w;
                o.abs_w[p] += w.abs();
            } else {
                o.nonfinite_w += 1;
            }
        }
        o
    }

    /// Bins `(x, y, z)` points without weights.
    pub fn bin_xyz(canvas: Canvas, points: &[(f64, f64, f64)]) -> Oracle {
        let with_w: Vec<_> = points.iter().map(|&(x, y, z)| (x, y, z, 0.0)).collect();
        Oracle::bin(canvas, &with_w)
    }

    /// Two-pass sum of squared deviations of the z in pixel `p`.
    pub fn m2(&self, p: usize) -> f64 {
        let zs = &self.zs[p];
        if zs.is_empty() {
            return 0.0;
        }
        let mean = zs.iter().sum::<f64>() / zs.len() as f64;
        zs.iter().map(|z| (z - mean) * (z - mean)).sum()
    }

    /// Asserts that `grid` holds what the oracle computed, for every layer
    /// the grid has; `what` names the case in failure messages.
    pub fn assert_matches(&self, grid: &Grid, what: &str) {
        let spec = grid.spec();
        let c = self.canvas;
        assert_eq!(
            (spec.width(), spec.height()),
            (c.width, c.height),
            "{what}: size"
        );
        let n = c.width * c.height;
        let flat = |v: ndarray::ArrayView2<'_, u64>| v.iter().copied().collect::<Vec<u64>>();
        assert_eq!(flat(grid.count()), self.count, "{what}: count");
        let gc = grid.counters();
        assert_eq!(gc.points_read, self.read, "{what}: points_read");
        assert_eq!(gc.points_binned, self.binned, "{what}: points_binned");
        assert_eq!(gc.nonfinite_xy, self.nonfinite_xy, "{what}: nonfinite_xy");
        assert_eq!(gc.out_of_range, self.out_of_range, "{what}: out_of_range");
        if spec.layers().needs_z() {
            assert_eq!(gc.nonfinite_z, self.nonfinite_z, "{what}: nonfinite_z");
        }
        if let Some(cz) = grid.count_z() {
            assert_eq!(flat(cz), self.count_z, "{what}: count_z");
        }
        if let Some(sum) = grid.sum_z() {
            for (p, &got) in sum.iter().enumerate() {
                let tol = 1e-12 * self.abs_z[p];
                assert!(
                    close(got, self.sum_z[p], tol),
                    "{what}: sum_z[{p}] = {got}, oracle {}",
                    self.sum_z[p]
                );
            }
        }
        if let Some(m2) = grid.m2_z() {
            for (p, &got) in m2.iter().enumerate() {
                let want = self.m2(p);
                let sq: f64 = self.zs[p].iter().map(|z| z * z).sum();
                // Squares of |z| > 1e154 overflow: then any non-finite
                // value is as right as another.
                let overflow = !want.is_finite() && !got.is_finite();
                assert!(
                    overflow || close(got, want, 1e-9 * (sq + 1.0)),
                    "{what}: m2_z[{p}] = {got}, oracle {want}"
                );
            }
        }
        if let (Some(lo), Some(hi)) = (grid.min_z(), grid.max_z()) {
            assert_eq!(
                lo.iter().copied().collect::<Vec<_>>(),
                self.min_z,
                "{what}: min_z"
            );
            assert_eq!(
                hi.iter().copied().collect::<Vec<_>>(),
                self.max_z,
                "{what}: max_z"
            );
        }
        if let Some(h) = grid.zhist() {
            assert_eq!(gc.z_clipped, self.z_clipped, "{what}: z_clipped");
            let got: Vec<u64> = h.iter().map(|&v| v as u64).collect();
            assert_eq!(got.len(), self.zhist.len(), "{what}: zhist size");
            for (i, (g, o)) in got.iter().zip(&self.zhist).enumerate() {
                assert_eq!(g, o, "{what}: zhist[bin {}, pixel {}]", i / n, i % n);
            }
        }
        if let Some(sw) = grid.sum_w() {
            assert_eq!(gc.nonfinite_w, self.nonfinite_w, "{what}: nonfinite_w");
            for (p, &got) in sw.iter().enumerate() {
                assert!(
                    close(got, self.sum_w[p], 1e-12 * self.abs_w[p]),
                    "{what}: sum_w[{p}] = {got}, oracle {}",
                    self.sum_w[p]
                );
            }
        }
    }
}

/// Equal (also both NaN, or the same infinity), or within `tol`.
pub fn close(got: f64, want: f64, tol: f64) -> bool {
    got == want || (got.is_nan() && want.is_nan()) || (got - want).abs() <= tol
}

/// Asserts that two grids have equal integer layers and counters, and
/// float layers within rounding (relative `1e-9` of the larger magnitude,
/// absolute `1e-9`).
pub fn assert_grids_close(a: &Grid, b: &Grid, what: &str) {
    assert_eq!(a.spec(), b.spec(), "{what}: spec");
    assert_eq!(a.count(), b.count(), "{what}: count");
    assert_eq!(a.count_z(), b.count_z(), "{what}: count_z");
    assert_eq!(a.zhist(), b.zhist(), "{what}: zhist");
    assert_eq!(a.min_z(), b.min_z(), "{what}: min_z");
    assert_eq!(a.max_z(), b.max_z(), "{what}: max_z");
    assert_eq!(a.counters(), b.counters(), "{what}: counters");
    let close = |name: &str,
                 x: Option<ndarray::ArrayView2<'_, f64>>,
                 y: Option<ndarray::ArrayView2<'_, f64>>| {
        assert_eq!(x.is_some(), y.is_some(), "{what}: {name} presence");
        if let (Some(x), Some(y)) = (x, y) {
            for (i, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                let tol = 1e-9 * (1.0 + p.abs().max(q.abs()));
                assert!(close(*p, *q, tol), "{what}: {name}[{i}] {p} vs {q}");
            }
        }
    };
    close("sum_z", a.sum_z(), b.sum_z());
    close("m2_z", a.m2_z(), b.m2_z());
    close("sum_w", a.sum_w(), b.sum_w());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_pixel_rule() {
        assert_eq!(pixel(0.0, 0.0, 8.0, 8), Some(0));
        assert_eq!(pixel(3.0, 0.0, 8.0, 8), Some(3));
        assert_eq!(pixel(8.0, 0.0, 8.0, 8), Some(7));
        assert_eq!(pixel(8.5, 0.0, 8.0, 8), None);
        assert_eq!(pixel(f64::NAN, 0.0, 8.0, 8), None);
    }
}
