//! Normalisation: per-pixel values to `t` in `[0, 1]` through `how`
//! (linear, log, cbrt, or histogram equalisation) and a `span`.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;

use crate::error::{Error, Result};

/// How values map to the colour (or opacity) scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum How {
    /// Proportional to the value.
    Linear,
    /// `log1p(v)` (for negative values `-log1p(-v)`, so that any value
    /// maps).
    Log,
    /// The cube root.
    Cbrt,
    /// Histogram equalisation over the non-empty pixels: a value maps to
    /// the fraction of pixels at or below it, so every colour of the map is
    /// used about equally (datashader's default).
    EqHist,
}

impl FromStr for How {
    type Err = Error;

    fn from_str(s: &str) -> Result<How> {
        match s.to_ascii_lowercase().as_str() {
            "linear" => Ok(How::Linear),
            "log" => Ok(How::Log),
            "cbrt" => Ok(How::Cbrt),
            "eq_hist" => Ok(How::EqHist),
            _ => Err(Error::request(format!(
                "unknown {} {s:?}; use linear, log, cbrt or eq_hist",
                crate::param::Param::How.mark()
            ))),
        }
    }
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            How::Linear => "linear",
            How::Log => "log",
            How::Cbrt => "cbrt",
            How::EqHist => "eq_hist",
        })
    }
}

/// Bins of the histogram behind `eq_hist` for values that are not small
/// integers (datashader uses the same number).
const EQ_HIST_BINS: usize = 1 << 16;
/// Integer values spanning at most this many levels are equalised exactly.
const EQ_HIST_MAX_LEVELS: f64 = (1 << 22) as f64;

/// A fitted scale: maps values to `t` in `[0, 1]` (see [`Scale::fit`]) and
/// back ([`Scale::value_at`]), which is what a colorbar needs to label
/// its colours.
#[derive(Clone, Debug)]
pub struct Scale {
    how: How,
    span: Option<(f64, f64)>,
    /// The values that map to 0 and 1; `None` when no value was finite.
    domain: Option<(f64, f64)>,
    /// `None` when no value was finite: everything maps to NaN.
    mapper: Option<Mapper>,
}

/// The table behind an eq_hist [`Scale`]: `cdf[i]` is the fraction of the
/// fitted values in bins `0..=i`, bins of `width` from `lo` (one per
/// integer when `integral`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EqHistTable<'a> {
    /// Lower edge of the first bin.
    pub lo: f64,
    /// Bin width.
    pub width: f64,
    /// True when the values were integers, one bin each.
    pub integral: bool,
    /// The cumulative fractions, one per bin.
    pub cdf: &'a [f64],
}

impl Scale {
    /// Fits a scale to `len` values (`value(i)` for pixel `i`; NaN or
    /// infinite marks an empty pixel), in parallel; values are computed on
    /// the fly, never stored.
    ///
    /// Values are first clipped to `span` when given. For linear, log and
    /// cbrt, `t = (f(v) - f(lo)) / (f(hi) - f(lo))` with `lo, hi` the span
    /// or the extremes of the finite values; when `lo == hi` every value
    /// maps to 1. For eq_hist, `t` is the fraction of finite values at or
    /// below `v`, rescaled so that the smallest value maps to 0 and the
    /// largest to 1 (as datashader does, so that few discrete levels still
    /// spread over the whole colormap).
    pub fn fit(
        len: usize,
        value: impl Fn(usize) -> f64 + Sync,
        how: How,
        span: Option<(f64, f64)>,
    ) -> Scale {
        let clip = |v: f64| match span {
            Some((lo, hi)) => v.clamp(lo, hi),
            None => v,
        };
        // One pass for the extremes and whether every value is an integer,
        // in chunks with a plain loop inside (a per-element rayon chain was
        // several times slower).
        let stats = chunks(len)
            .map(|range| {
                let (mut lo, mut hi, mut integral) = (f64::INFINITY, f64::NEG_INFINITY, true);
                for i in range {
                    let v = value(i);
                    if v.is_finite() {
                        let v = clip(v);
                        lo = lo.min(v);
                        hi = hi.max(v);
                        integral &= is_integer(v);
                    }
                }
                (lo, hi, integral)
            })
            .reduce(
                || (f64::INFINITY, f64::NEG_INFINITY, true),
                |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 && b.2),
            );
        let stats = (stats.0 <= stats.1).then_some(stats);
        let domain = stats.map(|(lo, hi, _)| match how {
            How::EqHist => (lo, hi),
            _ => span.unwrap_or((lo, hi)),
        });
        let mapper = stats.map(|(lo, hi, integral)| match how {
            How::EqHist => Mapper::eq_hist(len, &value, clip, lo, hi, integral),
            _ => {
                let f = transform(how);
                let (lo, hi) = span.unwrap_or((lo, hi));
                Mapper::Scale {
                    f,
                    flo: f(lo),
                    fhi: f(hi),
                }
            }
        });
        Scale {
            how,
            span,
            domain,
            mapper,
        }
    }

    /// The normalisation.
    pub fn how(&self) -> How {
        self.how
    }

    /// The span values were clipped to, when one was given.
    pub fn span(&self) -> Option<(f64, f64)> {
        self.span
    }

    /// The values that map to `t = 0` and `t = 1` (the span, or the
    /// extremes of the finite values); `None` when no value was finite.
    pub fn domain(&self) -> Option<(f64, f64)> {
        self.domain
    }

    /// The eq_hist table, for an eq_hist scale that saw finite values.
    pub fn eq_hist(&self) -> Option<EqHistTable<'_>> {
        match &self.mapper {
            Some(Mapper::EqHist {
                lo,
                width,
                integral,
                cdf,
            }) => Some(EqHistTable {
                lo: *lo,
                width: *width,
                integral: *integral,
                cdf,
            }),
            _ => None,
        }
    }

    /// The value at `t` on the scale (clamped to `[0, 1]`; the domain's
    /// ends at 0 and 1): the inverse of [`Scale::t`], for labelling a
    /// colorbar. For eq_hist of integer
    /// values, the smallest value whose `t` is at least `t`. NaN when no
    /// value was finite; the domain's one value when it is a single value.
    pub fn value_at(&self, t: f64) -> f64 {
        let (Some((lo, hi)), Some(mapper)) = (self.domain, &self.mapper) else {
            return f64::NAN;
        };
        // The ends exactly, whatever the transform's rounding.
        if t <= 0.0 {
            return lo;
        }
        if t >= 1.0 {
            return hi;
        }
        let v = match mapper {
            Mapper::Scale { flo, fhi, .. } => {
                if fhi > flo {
                    inverse(self.how)(flo + t * (fhi - flo))
                } else {
                    lo
                }
            }
            Mapper::EqHist {
                lo: from,
                width,
                integral,
                cdf,
            } => {
                if flat(cdf, *width) {
                    return lo;
                }
                let first = cdf[0];
                let c = first + t * (1.0 - first);
                // The first bin whose fraction reaches c (cdf is monotone).
                let i = cdf.partition_point(|&f| f < c).min(cdf.len() - 1);
                if *integral {
                    from + i as f64
                } else if i == 0 {
                    from + 0.5 * width
                } else {
                    // Between the centres of bins i - 1 and i, as Scale::t
                    // interpolates.
                    let (a, b) = (cdf[i - 1], cdf[i]);
                    let frac = if b > a { (c - a) / (b - a) } else { 0.0 };
                    from + (i as f64 - 1.0 + frac + 0.5) * width
                }
            }
        };
        v.clamp(lo, hi)
    }

    /// `t` of a value: in `[0, 1]`, or NaN when `v` is not finite.
    #[inline]
    pub fn t(&self, v: f64) -> f32 {
        self.t64(v) as f32
    }

    /// [`Scale::t`] in `f64`, for arithmetic that must match another
    /// tool's to the last bit (categorical opacity).
    pub(crate) fn t64(&self, v: f64) -> f64 {
        match (&self.mapper, v.is_finite()) {
            (Some(m), true) => {
                let v = match self.span {
                    Some((lo, hi)) => v.clamp(lo, hi),
                    None => v,
                };
                m.map(v)
            }
            _ => f64::NAN,
        }
    }
}

/// [`Scale::fit`] and apply to every value: `t` per pixel, NaN for empty
/// pixels.
pub fn normalize(
    len: usize,
    value: impl Fn(usize) -> f64 + Sync,
    how: How,
    span: Option<(f64, f64)>,
) -> Vec<f32> {
    let scale = Scale::fit(len, &value, how, span);
    (0..len)
        .into_par_iter()
        .map(|i| scale.t(value(i)))
        .collect()
}

/// `0..len` in parallel pieces of 64 Ki.
fn chunks(len: usize) -> impl ParallelIterator<Item = std::ops::Range<usize>> {
    const CHUNK: usize = 1 << 16;
    (0..len.div_ceil(CHUNK))
        .into_par_iter()
        .map(move |c| c * CHUNK..((c + 1) * CHUNK).min(len))
}

/// True for whole numbers. (`v.fract() == 0.0` calls libm's `trunc` on
/// baseline x86-64, which made this check the slowest part of fitting a
/// scale; two conversions do the same for every value that can matter.)
#[inline]
fn is_integer(v: f64) -> bool {
    v == (v as i64) as f64
}

/// The monotone transform of `how` (not used for eq_hist).
fn transform(how: How) -> fn(f64) -> f64 {
    match how {
        How::Linear | How::EqHist => |v| v,
        How::Log => |v| {
            if v >= 0.0 { v.ln_1p() } else { -(-v).ln_1p() }
        },
        How::Cbrt => f64::cbrt,
    }
}

/// True when an eq_hist table has all its values in its first bin (or
/// its bins have no width): the scale is flat, every value at its top.
fn flat(cdf: &[f64], width: f64) -> bool {
    cdf[0] >= 1.0 || width <= 0.0
}

/// The inverse of [`transform`].
fn inverse(how: How) -> fn(f64) -> f64 {
    match how {
        How::Linear | How::EqHist => |v| v,
        How::Log => |v| {
            if v >= 0.0 { v.exp_m1() } else { -(-v).exp_m1() }
        },
        How::Cbrt => |v| v * v * v,
    }
}

/// A value's place on the scale.
#[derive(Clone, Debug)]
enum Mapper {
    /// `(f(v) - flo) / (fhi - flo)`.
    Scale {
        f: fn(f64) -> f64,
        flo: f64,
        fhi: f64,
    },
    /// Equalisation by a cumulative histogram: `cdf[i]` is the fraction of
    /// values in bins `0..=i` of width `width` from `lo`; integer values
    /// get one bin per integer (exact), others [`EQ_HIST_BINS`] bins with
    /// the cdf interpolated between bin centres, as numpy.interp does.
    EqHist {
        lo: f64,
        width: f64,
        integral: bool,
        cdf: Vec<f64>,
    },
}

impl Mapper {
    fn eq_hist(
        len: usize,
        value: impl Fn(usize) -> f64 + Sync,
        clip: impl Fn(f64) -> f64 + Sync,
        lo: f64,
        hi: f64,
        integral: bool,
    ) -> Mapper {
        let integral = integral && hi - lo < EQ_HIST_MAX_LEVELS;
        let (bins, width) = if integral {
            ((hi - lo) as usize + 1, 1.0)
        } else {
            (EQ_HIST_BINS, (hi - lo) / EQ_HIST_BINS as f64)
        };
        let bin = |v: f64| {
            if width > 0.0 {
                (((v - lo) / width) as usize).min(bins - 1)
            } else {
                0
            }
        };
        let hist = chunks(len)
            .map(|range| {
                let mut h = vec![0u64; bins];
                for i in range {
                    let v = value(i);
                    if v.is_finite() {
                        h[bin(clip(v))] += 1;
                    }
                }
                h
            })
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            })
            .unwrap_or_else(|| vec![0; bins]);
        let total = hist.iter().sum::<u64>() as f64;
        let mut acc = 0u64;
        let cdf = hist
            .iter()
            .map(|&h| {
                acc += h;
                acc as f64 / total
            })
            .collect();
        Mapper::EqHist {
            lo,
            width,
            integral,
            cdf,
        }
    }

    #[inline]
    fn map(&self, v: f64) -> f64 {
        match self {
            Mapper::Scale { f, flo, fhi } => {
                if fhi > flo {
                    ((f(v) - flo) / (fhi - flo)).clamp(0.0, 1.0)
                } else {
                    1.0
                }
            }
            Mapper::EqHist {
                lo,
                width,
                integral,
                cdf,
            } => {
                if flat(cdf, *width) {
                    return 1.0;
                }
                let first = cdf[0];
                let last = cdf.len() - 1;
                let c = if *integral {
                    // v - lo is a whole number here; the cast truncates.
                    cdf[((v - lo) as usize).min(last)]
                } else {
                    let pos = (v - lo) / width - 0.5;
                    let i = pos as usize; // truncates; pos > 0 below
                    if pos <= 0.0 {
                        first
                    } else if i >= last {
                        cdf[last]
                    } else {
                        cdf[i] + (cdf[i + 1] - cdf[i]) * (pos - i as f64)
                    }
                };
                ((c - first) / (1.0 - first)).clamp(0.0, 1.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[f64], how: How, span: Option<(f64, f64)>) -> Vec<f32> {
        normalize(v.len(), |i| v[i], how, span)
    }

    #[test]
    fn linear_log_cbrt_match_their_formulas() {
        let v = [1.0, 10.0, 100.0];
        assert_eq!(norm(&v, How::Linear, None), [0.0, 9.0 / 99.0, 1.0]);
        let l = norm(&v, How::Log, None);
        let (a, b) = (1f64.ln_1p(), 100f64.ln_1p());
        assert_eq!(l[1], ((10f64.ln_1p() - a) / (b - a)) as f32);
        let c = norm(&v, How::Cbrt, None);
        let (a, b) = (1f64.cbrt(), 100f64.cbrt());
        assert_eq!(c[1], ((10f64.cbrt() - a) / (b - a)) as f32);
        // A span clips.
        assert_eq!(norm(&v, How::Linear, Some((0.0, 50.0))), [0.02, 0.2, 1.0]);
        // One value: the top of the scale.
        assert_eq!(norm(&[5.0, 5.0], How::Linear, None), [1.0, 1.0]);
        // Log accepts negatives symmetrically.
        let s = norm(&[-3.0, 0.0, 3.0], How::Log, None);
        assert_eq!(s, [0.0, 0.5, 1.0]);
    }

    #[test]
    fn empty_and_non_finite_pixels_are_nan() {
        let t = norm(&[f64::NAN, 1.0, f64::INFINITY, 3.0], How::Linear, None);
        assert!(t[0].is_nan() && t[2].is_nan());
        assert_eq!((t[1], t[3]), (0.0, 1.0));
        assert!(
            norm(&[f64::NAN; 2], How::EqHist, None)
                .iter()
                .all(|t| t.is_nan())
        );
    }

    #[test]
    fn eq_hist_is_monotone_and_spans_the_scale() {
        // Heavy-tailed counts, as density grids have.
        let v: Vec<f64> = (0..5000)
            .map(|i| ((i as f64 / 400.0).exp()).floor())
            .collect();
        let t = norm(&v, How::EqHist, None);
        let mut pairs: Vec<(f64, f32)> = v.iter().copied().zip(t.iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1), "monotone");
        assert_eq!(pairs[0].1, 0.0);
        assert_eq!(pairs.last().unwrap().1, 1.0);
        // Spread: every tenth of the scale is used.
        for decile in 0..10 {
            let lo = decile as f32 / 10.0;
            assert!(
                t.iter().any(|&x| x >= lo && x <= lo + 0.1),
                "decile {decile} unused"
            );
        }
        // Linear would crush almost everything to the bottom.
        let lin = norm(&v, How::Linear, None);
        assert!(lin.iter().filter(|&&x| x < 0.1).count() > 4000);
    }

    #[test]
    fn eq_hist_spreads_few_discrete_levels() {
        let v = [1.0, 1.0, 1.0, 2.0, 2.0, 7.0];
        let t = norm(&v, How::EqHist, None);
        assert_eq!(t, [0.0, 0.0, 0.0, 2.0 / 3.0, 2.0 / 3.0, 1.0]);
        assert_eq!(norm(&[4.0, 9.0], How::EqHist, None), [0.0, 1.0]);
        assert_eq!(norm(&[4.0, 4.0], How::EqHist, None), [1.0, 1.0]);
    }

    #[test]
    fn eq_hist_of_continuous_values() {
        // Uniform values equalise to about their rank.
        let v: Vec<f64> = (0..10_000).map(|i| i as f64 * 0.001 + 0.5).collect();
        let t = norm(&v, How::EqHist, None);
        for (i, &x) in t.iter().enumerate() {
            let rank = i as f32 / 9999.0;
            assert!((x - rank).abs() < 2e-3, "{i}: {x} vs {rank}");
        }
        let mut sorted = t.clone();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(sorted, t, "monotone");
    }

    #[test]
    fn value_at_inverts_t() {
        let v: Vec<f64> = (0..5000)
            .map(|i| ((i as f64 / 400.0).exp()).floor() + 0.25 * (i % 3) as f64)
            .collect();
        let ints: Vec<f64> = v.iter().map(|x| x.floor()).collect();
        for how in [How::Linear, How::Log, How::Cbrt, How::EqHist] {
            for (values, span) in [(&v, None), (&v, Some((2.0, 500.0))), (&ints, None)] {
                let s = Scale::fit(values.len(), |i| values[i], how, span);
                let (lo, hi) = s.domain().unwrap();
                assert_eq!(s.value_at(0.0), lo, "{how} {span:?}");
                assert_eq!(s.value_at(1.0), hi, "{how} {span:?}");
                let mut last = f64::NEG_INFINITY;
                for k in 0..=100 {
                    let t = k as f64 / 100.0;
                    let x = s.value_at(t);
                    assert!(x >= last, "{how}: monotone at {t}");
                    last = x;
                    let back = f64::from(s.t(x));
                    let integral = s.eq_hist().is_some_and(|e| e.integral);
                    if integral {
                        // A step function: the value reaches at least t.
                        assert!(back >= t - 1e-6, "{how} {span:?}: t({x}) = {back} < {t}");
                    } else {
                        assert!(
                            (back - t).abs() < 1e-4,
                            "{how} {span:?}: t({x}) = {back} vs {t}"
                        );
                    }
                }
            }
        }
        let empty = Scale::fit(2, |_| f64::NAN, How::EqHist, None);
        assert!(empty.value_at(0.5).is_nan() && empty.domain().is_none());
        let one = Scale::fit(2, |_| 4.0, How::Log, None);
        assert_eq!((one.value_at(0.0), one.value_at(1.0)), (4.0, 4.0));
    }

    #[test]
    fn eq_hist_table_is_exposed() {
        let v = [1.0, 1.0, 1.0, 2.0, 2.0, 7.0];
        let s = Scale::fit(v.len(), |i| v[i], How::EqHist, None);
        let table = s.eq_hist().unwrap();
        assert!(table.integral);
        assert_eq!(table.lo, 1.0);
        assert_eq!(table.cdf.len(), 7);
        assert_eq!(table.cdf[0], 0.5);
        assert_eq!(*table.cdf.last().unwrap(), 1.0);
        assert!(
            Scale::fit(v.len(), |i| v[i], How::Log, None)
                .eq_hist()
                .is_none()
        );
    }

    #[test]
    fn integers() {
        assert!(is_integer(0.0) && is_integer(-3.0) && is_integer(4e15));
        assert!(!is_integer(0.5) && !is_integer(-1e-9) && !is_integer(f64::NAN));
    }

    #[test]
    fn how_names() {
        for h in ["linear", "log", "cbrt", "eq_hist"] {
            assert_eq!(h.parse::<How>().unwrap().to_string(), h);
        }
        assert!(
            "sqrt"
                .parse::<How>()
                .unwrap_err()
                .to_string()
                .contains("eq_hist")
        );
    }
}
