//! Tick positions and labels as matplotlib's default axis chooses them:
//! `MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10])` and
//! `ScalarFormatter` with matplotlib's default settings (an offset when it
//! saves at least 4 digits, scientific notation outside 1e-5 … 1e6, the
//! unicode minus). Ported from `lib/matplotlib/ticker.py` (3.8–3.11),
//! with Python's float floor division reproduced exactly, and tested
//! against matplotlib itself (`tests/data/ticks.json`, made by
//! `scripts/make_tick_table.py`).

/// matplotlib's `steps=[1, 2, 2.5, 5, 10]`, extended a decade down and one
/// step up (`MaxNLocator._staircase`).
const STEPS: [f64; 10] = [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0];
/// Fewest ticks the locator accepts in view (`min_n_ticks`).
const MIN_TICKS: usize = 2;
/// `axes.formatter.limits`: scientific notation below 1e-5 and from 1e6.
const POWER_LIMITS: (i32, i32) = (-5, 6);
/// `axes.formatter.offset_threshold`: an offset must save this many digits.
const OFFSET_THRESHOLD: i32 = 4;
/// matplotlib's minus sign (`axes.unicode_minus`).
const MINUS: char = '\u{2212}';

/// The ticks of one axis: the values in view, their labels, and the text
/// matplotlib shows at the end of the axis (an offset and/or a power of
/// ten, such as `1e−9` or `+1e4`; empty when none).
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Tick values within the range, ascending.
    pub values: Vec<f64>,
    /// One label per value.
    pub labels: Vec<String>,
    /// The offset text, or empty.
    pub offset: String,
}

/// How many intervals matplotlib's `nbins="auto"` allows an axis of
/// `length_pt` points with tick labels of `label_size_pt` points: one per
/// three label heights along x, two along y, from 1 to 9.
pub fn auto_nbins(length_pt: f64, label_size_pt: f64, along_x: bool) -> usize {
    (tick_space(length_pt, label_size_pt, along_x) as usize).clamp(MIN_TICKS - 1, 9)
}

/// matplotlib's `Axis.get_tick_space`.
pub fn tick_space(length_pt: f64, label_size_pt: f64, along_x: bool) -> i64 {
    let size = label_size_pt * if along_x { 3.0 } else { 2.0 };
    if size > 0.0 {
        (length_pt / size).floor() as i64
    } else {
        i64::MAX
    }
}

/// The ticks matplotlib's default axis shows for the view `lo..hi` with
/// `nbins` intervals at most (see [`auto_nbins`]).
pub fn ticks(lo: f64, hi: f64, nbins: usize) -> Ticks {
    let (vmin, vmax) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let all = tick_values(vmin, vmax, nbins.max(1));
    let visible: Vec<f64> = all
        .iter()
        .copied()
        .filter(|&t| vmin <= t && t <= vmax)
        .collect();
    let f = Formatter::new(&all, &visible, vmin, vmax);
    Ticks {
        labels: visible.iter().map(|&t| f.label(t)).collect(),
        offset: f.offset_text(),
        values: visible,
    }
}

/// Python's `divmod` of floats (CPython's `float_divmod`): the floored
/// quotient and a remainder of the divisor's sign.
fn divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = x % y; // C fmod
    let mut div = (x - m) / y;
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = 0f64.copysign(y);
    }
    let q = if div != 0.0 {
        let mut q = div.floor();
        if div - q > 0.5 {
            q += 1.0;
        }
        q
    } else {
        0f64.copysign(x / y)
    };
    (q, m)
}

/// Python's `x // y` for floats.
fn floordiv(x: f64, y: f64) -> f64 {
    divmod(x, y).0
}

/// `matplotlib.transforms.nonsingular(vmin, vmax, expander=1e-13,
/// tiny=1e-14)` for an increasing range.
fn nonsingular(vmin: f64, vmax: f64) -> (f64, f64) {
    const EXPANDER: f64 = 1e-13;
    const TINY: f64 = 1e-14;
    if !(vmin.is_finite() && vmax.is_finite()) {
        return (-EXPANDER, EXPANDER);
    }
    let max_abs = vmin.abs().max(vmax.abs());
    if max_abs < (1e6 / TINY) * f64::MIN_POSITIVE {
        (-EXPANDER, EXPANDER)
    } else if vmax - vmin <= max_abs * TINY {
        if vmax == 0.0 && vmin == 0.0 {
            (-EXPANDER, EXPANDER)
        } else {
            (vmin - EXPANDER * vmin.abs(), vmax + EXPANDER * vmax.abs())
        }
    } else {
        (vmin, vmax)
    }
}

/// `ticker.scale_range`: the step scale and an offset for ranges far from
/// zero.
fn scale_range(vmin: f64, vmax: f64, n: usize) -> (f64, f64) {
    let dv = (vmax - vmin).abs();
    let mean = (vmax + vmin) / 2.0;
    let offset = if mean.abs() / dv < 100.0 {
        0.0
    } else {
        10f64.powf(floordiv(mean.abs().log10(), 1.0)).copysign(mean)
    };
    let scale = 10f64.powf(floordiv((dv / n as f64).log10(), 1.0));
    (scale, offset)
}

/// `ticker._Edge_integer`: which whole number of steps an edge is, with a
/// tolerance for the precision lost to a large offset.
struct Edge {
    step: f64,
    offset: f64,
}

impl Edge {
    fn close_to(&self, ms: f64, edge: f64) -> bool {
        let tol = if self.offset > 0.0 {
            let digits = (self.offset / self.step).log10();
            1e-10f64.max(10f64.powf(digits - 12.0)).min(0.4999)
        } else {
            1e-10
        };
        (ms - edge).abs() < tol
    }

    fn le(&self, x: f64) -> f64 {
        let (d, m) = divmod(x, self.step);
        if self.close_to(m / self.step, 1.0) {
            d + 1.0
        } else {
            d
        }
    }

    fn ge(&self, x: f64) -> f64 {
        let (d, m) = divmod(x, self.step);
        if self.close_to(m / self.step, 0.0) {
            d
        } else {
            d + 1.0
        }
    }
}

/// `MaxNLocator.tick_values` (its `_raw_ticks`): every tick it returns,
/// some possibly just outside the view.
fn tick_values(vmin: f64, vmax: f64, nbins: usize) -> Vec<f64> {
    let (vmin, vmax) = nonsingular(vmin, vmax);
    let (scale, offset) = scale_range(vmin, vmax, nbins);
    let (lo, hi) = (vmin - offset, vmax - offset);
    let steps = STEPS.map(|s| s * scale);
    let raw_step = (hi - lo) / nbins as f64;
    // axes.autolimit_mode is "data": no round-number condition.
    let istep = steps
        .iter()
        .position(|&s| s >= raw_step)
        .unwrap_or(steps.len() - 1);
    let mut ticks = Vec::new();
    for &step in steps[..=istep].iter().rev() {
        let best = floordiv(lo, step) * step;
        let edge = Edge {
            step,
            offset: offset.abs(),
        };
        let (low, high) = (edge.le(lo - best), edge.ge(hi - best));
        ticks = (0..=((high - low) as i64).max(-1))
            .map(|i| (low + i as f64) * step + best)
            .collect();
        let in_view = ticks.iter().filter(|&&t| t <= hi && t >= lo).count();
        if in_view >= MIN_TICKS {
            break;
        }
    }
    ticks.into_iter().map(|t| t + offset).collect()
}

/// `ScalarFormatter` with matplotlib's defaults, set to one axis's ticks.
struct Formatter {
    offset: f64,
    order: i32,
    decimals: usize,
}

impl Formatter {
    /// `set_locs`: the offset and order of magnitude from the ticks in
    /// view, the decimals from all of them.
    fn new(all: &[f64], visible: &[f64], vmin: f64, vmax: f64) -> Formatter {
        let offset = compute_offset(visible);
        let order = order_of_magnitude(visible, offset, vmin, vmax);
        let decimals = decimals(all, offset, order, vmin, vmax);
        Formatter {
            offset,
            order,
            decimals,
        }
    }

    /// `ScalarFormatter.__call__`.
    fn label(&self, x: f64) -> String {
        let mut v = (x - self.offset) / 10f64.powi(self.order);
        if v.abs() < 1e-8 {
            v = 0.0;
        }
        minus(format!("{v:.*}", self.decimals))
    }

    /// `ScalarFormatter.get_offset`.
    fn offset_text(&self) -> String {
        if self.order == 0 && self.offset == 0.0 {
            return String::new();
        }
        let mut s = String::new();
        if self.order != 0 {
            s += &format!("1e{}", self.order);
        }
        if self.offset != 0.0 {
            if self.offset > 0.0 {
                s.push('+');
            }
            s += &format_data(self.offset);
        }
        minus(s)
    }
}

fn minus(s: String) -> String {
    s.replace('-', &MINUS.to_string())
}

/// `ScalarFormatter._compute_offset`.
fn compute_offset(visible: &[f64]) -> f64 {
    let (Some(&lmin), Some(&lmax)) = (visible.first(), visible.last()) else {
        return 0.0;
    };
    if lmin == lmax || (lmin <= 0.0 && 0.0 <= lmax) {
        return 0.0;
    }
    let (mut abs_min, mut abs_max) = (lmin.abs(), lmax.abs());
    if abs_min > abs_max {
        std::mem::swap(&mut abs_min, &mut abs_max);
    }
    let sign = 1f64.copysign(lmin);
    let oom_max = abs_max.log10().ceil();
    let p = |oom: f64| 10f64.powf(oom);
    let mut oom = oom_max;
    while floordiv(abs_min, p(oom)) == floordiv(abs_max, p(oom)) {
        oom -= 1.0;
    }
    let mut oom = oom + 1.0;
    if (abs_max - abs_min) / p(oom) <= 1e-2 {
        let mut o = oom_max;
        while floordiv(abs_max, p(o)) - floordiv(abs_min, p(o)) <= 1.0 {
            o -= 1.0;
        }
        oom = o + 1.0;
    }
    if floordiv(abs_max, p(oom)) >= 10f64.powi(OFFSET_THRESHOLD - 1) {
        sign * floordiv(abs_max, p(oom)) * p(oom)
    } else {
        0.0
    }
}

/// `ScalarFormatter._set_order_of_magnitude`.
fn order_of_magnitude(visible: &[f64], offset: f64, vmin: f64, vmax: f64) -> i32 {
    if visible.is_empty() {
        return 0;
    }
    let oom = if offset != 0.0 {
        (vmax - vmin).log10().floor() as i32
    } else {
        let val = visible.iter().map(|v| v.abs()).fold(0.0, f64::max);
        if val == 0.0 {
            0
        } else {
            val.log10().floor() as i32
        }
    };
    if oom <= POWER_LIMITS.0 || oom >= POWER_LIMITS.1 {
        oom
    } else {
        0
    }
}

/// numpy's `round(x, decimals)` for `decimals >= 0`.
fn np_round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round_ties_even() / f
}

/// `ScalarFormatter._set_format`: the fewest decimals that keep the ticks
/// distinct.
fn decimals(all: &[f64], offset: f64, order: i32, vmin: f64, vmax: f64) -> usize {
    let mut with_ends = all.to_vec();
    if all.len() < 2 {
        with_ends.extend([vmin, vmax]);
    }
    let scaled: Vec<f64> = with_ends
        .iter()
        .map(|&l| (l - offset) / 10f64.powi(order))
        .collect();
    let (lo, hi) = scaled
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let mut range = hi - lo;
    if range == 0.0 {
        range = scaled.iter().map(|v| v.abs()).fold(0.0, f64::max);
    }
    if range == 0.0 {
        range = 1.0;
    }
    let locs = if all.len() < 2 {
        &scaled[..scaled.len() - 2]
    } else {
        &scaled[..]
    };
    let range_oom = range.log10().floor() as i32;
    let mut sigfigs = (3 - range_oom).max(0);
    let thresh = 1e-3 * 10f64.powi(range_oom);
    while sigfigs >= 0 {
        let worst = locs
            .iter()
            .map(|&l| (l - np_round(l, sigfigs)).abs())
            .fold(0.0, f64::max);
        if worst < thresh {
            sigfigs -= 1;
        } else {
            break;
        }
    }
    (sigfigs + 1) as usize
}

/// `ScalarFormatter.format_data` without math text: `1e4`, `1.23e5`.
fn format_data(value: f64) -> String {
    let e = value.abs().log10().floor() as i32;
    let s: f64 = format!("{:.10}", value / 10f64.powi(e))
        .parse()
        .expect("a number");
    let significand = if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        let t = format!("{s:.9}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if e == 0 {
        significand
    } else {
        format!("{significand}e{e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_floor_division() {
        assert_eq!(divmod(7.0, 2.0), (3.0, 1.0));
        assert_eq!(divmod(-7.0, 2.0), (-4.0, 1.0));
        assert_eq!(divmod(7.0, -2.0), (-4.0, -1.0));
        assert_eq!(floordiv(-0.5, 1.0), -1.0);
        assert_eq!(floordiv(0.30000000000000004, 0.1), 3.0);
    }

    #[test]
    fn common_axes() {
        let t = ticks(0.0, 1.0, 9);
        assert_eq!(t.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(t.offset, "");
        let t = ticks(-10.0, 10.0, 9);
        assert_eq!(t.labels.first().map(String::as_str), Some("\u{2212}10.0"));
        let t = ticks(0.0, 1e-9, 9);
        assert_eq!(t.offset, "1e\u{2212}9");
        assert_eq!(auto_nbins(432.0, 10.0, true), 9);
        assert_eq!(auto_nbins(108.0, 10.0, true), 3);
    }
}
