//! One axis of the canvas and datashader's pixel mapping, linear or
//! logarithmic.

use crate::error::{Error, Result};

/// How an axis maps values onto pixels (datashader's `x_axis_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AxisType {
    /// Pixels evenly spaced in the value.
    #[default]
    Linear,
    /// Pixels evenly spaced in `log10` of the value; the range must be
    /// positive, and values at or below 0 are out of range.
    Log,
}

impl AxisType {
    /// Every axis type's name.
    pub const NAMES: &'static [&'static str] = &["linear", "log"];

    /// `linear` or `log`, as datashader and the grid file spell it.
    pub fn name(self) -> &'static str {
        match self {
            AxisType::Linear => "linear",
            AxisType::Log => "log",
        }
    }
}

impl std::fmt::Display for AxisType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AxisType {
    type Err = Error;

    fn from_str(s: &str) -> Result<AxisType> {
        match s {
            "linear" => Ok(AxisType::Linear),
            "log" => Ok(AxisType::Log),
            _ => Err(Error::request(format!(
                "unknown axis type {s:?}; use linear or log"
            ))),
        }
    }
}

/// One axis of the canvas: `len` pixels (or z bins) over `[lo, hi]`.
///
/// The mapping is datashader's `Canvas.points`: with `s = len / (hi - lo)`
/// and `t = -lo * s`, a value `v` with `lo <= v <= hi` lands in
/// `trunc(v * s + t)`, and `v == hi` (or anything that rounds to `len`) lands
/// in the last pixel. The multiply and the add are separate roundings (no
/// fused multiply-add), exactly as numpy computes them. A [`AxisType::Log`]
/// axis does the same with `log10` of `lo`, `hi` and `v` (the range test
/// stays on `v` itself), as datashader's `LogAxis`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    lo: f64,
    hi: f64,
    len: usize,
    s: f64,
    t: f64,
    axis_type: AxisType,
}

impl Axis {
    /// An axis of `len` pixels over `[lo, hi]`.
    ///
    /// Fails unless both ends are finite, `lo < hi`, `len >= 1`, and the
    /// scale `len / (hi - lo)` is a finite, non-zero number.
    pub fn new(lo: f64, hi: f64, len: usize) -> Result<Axis> {
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} must be finite"
            )));
        }
        if lo >= hi {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} is empty or inverted: the first value must be below the second"
            )));
        }
        if len == 0 {
            return Err(Error::request("a size of 0 pixels or bins is not allowed"));
        }
        if len > i32::MAX as usize {
            return Err(Error::request(format!(
                "{len} pixels or bins on one axis is more than the {} allowed",
                i32::MAX
            )));
        }
        let s = len as f64 / (hi - lo);
        let t = -lo * s;
        if !(s.is_finite() && s > 0.0 && t.is_finite()) {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} cannot be mapped onto {len} pixels in double precision"
            )));
        }
        Ok(Axis {
            lo,
            hi,
            len,
            s,
            t,
            axis_type: AxisType::Linear,
        })
    }

    /// An axis of `len` pixels over `[lo, hi]` of `axis_type`. A log axis
    /// needs `0 < lo < hi`.
    pub fn with_type(lo: f64, hi: f64, len: usize, axis_type: AxisType) -> Result<Axis> {
        match axis_type {
            AxisType::Linear => Axis::new(lo, hi, len),
            AxisType::Log => {
                if !(lo > 0.0 && hi > 0.0) {
                    return Err(Error::request(format!(
                        "range {lo:?},{hi:?} must be above 0 on a logarithmic axis"
                    )));
                }
                let (start, end) = (lo.log10(), hi.log10());
                let a = Axis::new(start, end, len)?;
                Ok(Axis {
                    lo,
                    hi,
                    axis_type: AxisType::Log,
                    ..a
                })
            }
        }
    }

    /// Linear or log.
    pub fn axis_type(&self) -> AxisType {
        self.axis_type
    }

    /// Lower end of the range.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// Upper end of the range (included).
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// Number of pixels (or bins).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: an axis has at least one pixel.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Scale and translation `(s, t)` of the mapping `v * s + t` (of
    /// `log10(v)` on a log axis).
    pub fn scale_translate(&self) -> (f64, f64) {
        (self.s, self.t)
    }

    /// The pixel that `v` falls in, or `None` when `v` is outside
    /// `[lo, hi]` or NaN.
    #[inline]
    pub fn index(&self, v: f64) -> Option<usize> {
        self.contains(v).then(|| self.index_unchecked(v))
    }

    /// True when `lo <= v <= hi` (never for NaN).
    #[inline(always)]
    pub fn contains(&self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// The bin of a finite `v`, clamping values below `lo` into the first
    /// bin and values above `hi` into the last (used for the z histogram).
    #[inline]
    pub fn index_clamped(&self, v: f64) -> usize {
        if v <= self.lo {
            0
        } else if v >= self.hi {
            self.len - 1
        } else {
            self.index_unchecked(v)
        }
    }

    /// The pixel of a `v` that [`Axis::contains`]; for other values any
    /// number below `len` (the binning kernel computes it before it knows).
    #[inline(always)]
    pub(crate) fn index_unchecked(&self, v: f64) -> usize {
        self.index_i32(v) as usize
    }

    /// The pixel of a `v` that [`Axis::contains`] as an `i32` (for other
    /// values any number in `0..len`), by a plain truncating conversion.
    #[inline(always)]
    pub(crate) fn index_i32(&self, v: f64) -> i32 {
        match self.axis_type {
            AxisType::Linear => self.index_i32_of::<false>(v),
            AxisType::Log => self.index_i32_of::<true>(v),
        }
    }

    /// [`Axis::index_i32`] for a scale known at compile time (`LOG`), so
    /// that the binning kernel's loops carry no test of it.
    #[inline(always)]
    pub(crate) fn index_i32_of<const LOG: bool>(&self, v: f64) -> i32 {
        let f = self.position(if LOG { v.log10() } else { v });
        // SAFETY: position() returns a finite value in [0, len - 1] for
        // every input — NaN and -inf land on 0, +inf on len - 1 (see its
        // selects) — and len <= i32::MAX (checked in Axis::new), so the
        // truncated value is representable in i32, which is all that
        // to_int_unchecked requires. What it buys: Rust's `as` conversion
        // saturates, and that kept the binning kernel's mapping loop from
        // vectorising; the plain conversion makes it 4x faster (2.7 -> 0.7
        // ns a point with AVX2, 4.0 -> 1.2 without; BENCHMARKS.md,
        // "mapping").
        unsafe { f.to_int_unchecked::<i32>() }
    }

    /// The pixel of `v` as a float in `[0, len - 1]` whose truncation is
    /// the pixel: the one formula of the mapping.
    ///
    /// `v >= lo` makes `v * s + t` non-negative (both products round the
    /// same way and `t` is exactly `-(lo * s)`); clamping it to
    /// `[0, len - 1]` before truncating is the same as truncating (the
    /// datashader `int()`) and then putting the upper edge into the last
    /// pixel. Done in floats, with selects, so that the binning kernel's
    /// mapping loop vectorises; NaN lands on 0. On a log axis `v` is the
    /// value's `log10`, and the same holds because `log10` is monotonic.
    #[inline(always)]
    fn position(&self, v: f64) -> f64 {
        let f = v * self.s + self.t;
        let f = if f > 0.0 { f } else { 0.0 };
        let last = (self.len - 1) as f64;
        if f < last { f } else { last }
    }

    /// Centre of pixel `i`: `lo + (i + 0.5) / s`; on a log axis
    /// datashader's `10 ** ((i + 0.5 - t) / s)`.
    pub fn centre(&self, i: usize) -> f64 {
        match self.axis_type {
            AxisType::Linear => self.lo + (i as f64 + 0.5) / self.s,
            AxisType::Log => 10f64.powf((i as f64 + 0.5 - self.t) / self.s),
        }
    }

    /// Centres of all pixels, lowest first.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.len).map(|i| self.centre(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maps_edges_like_datashader() {
        let a = Axis::new(0.0, 10.0, 10).unwrap();
        assert_eq!(a.index(0.0), Some(0));
        assert_eq!(a.index(10.0), Some(9), "the upper edge is included");
        assert_eq!(
            a.index(1.0),
            Some(1),
            "an interior edge starts the next pixel"
        );
        assert_eq!(a.index(0.999_999), Some(0));
        assert_eq!(a.index(-1e-300), None);
        assert_eq!(a.index(10.000_000_1), None);
        assert_eq!(a.index(f64::NAN), None);
        assert_eq!(a.index(f64::INFINITY), None);
    }

    #[test]
    fn axis_uses_separate_multiply_and_add() {
        // 0.3 * 10 + 0 rounds differently from the exact product with some
        // ranges; check the formula itself rather than the real number line.
        let a = Axis::new(-0.7, 0.3, 10).unwrap();
        let (s, t) = a.scale_translate();
        for v in [-0.7, -0.6, -0.1, 0.0, 0.1, 0.2, 0.29, 0.3] {
            let expect = ((v * s + t).trunc() as usize).min(9);
            assert_eq!(a.index(v), Some(expect), "v = {v}");
        }
    }

    #[test]
    fn axis_centres() {
        let a = Axis::new(-1.0, 1.0, 4).unwrap();
        assert_eq!(a.centres(), vec![-0.75, -0.25, 0.25, 0.75]);
    }

    #[test]
    fn axis_clamps_for_histograms() {
        let a = Axis::new(0.0, 1.0, 4).unwrap();
        assert_eq!(a.index_clamped(-5.0), 0);
        assert_eq!(a.index_clamped(5.0), 3);
        assert_eq!(a.index_clamped(0.5), 2);
        assert_eq!(a.index_clamped(1.0), 3);
    }

    #[test]
    fn axis_rejects_bad_ranges() {
        assert!(Axis::new(1.0, 1.0, 4).is_err());
        assert!(Axis::new(2.0, 1.0, 4).is_err());
        assert!(Axis::new(f64::NAN, 1.0, 4).is_err());
        assert!(Axis::new(0.0, f64::INFINITY, 4).is_err());
        assert!(Axis::new(0.0, 1.0, 0).is_err());
        assert!(Axis::new(-1e308, 1e308, 4).is_err(), "hi - lo overflows");
        assert!(Axis::new(0.0, 1e-320, 4).is_err(), "scale overflows");
    }
}
