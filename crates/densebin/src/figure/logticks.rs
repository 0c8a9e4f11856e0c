//! Ticks of a logarithmic axis as matplotlib's `LogScale` chooses them:
//! major ticks from `LogLocator(subs=(1.0,), numticks="auto")` at powers
//! of ten (with a stride when there are more decades than room), minor
//! ticks from `LogLocator(subs="auto")` at 2…9 times them, and labels from
//! `LogFormatterSciNotation`: `10³` at powers of ten, and on an axis of
//! at most one decade `2×10⁰`-style labels on minor ticks too. Ported from
//! `lib/matplotlib/ticker.py` (3.11) and tested against matplotlib itself
//! (`tests/data/log_ticks.tsv`, made by `scripts/make_tick_table.py`).

use super::ticks::ticks;

/// The ticks of one log axis, in view, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct LogTicks {
    /// Major tick values.
    pub major: Vec<f64>,
    /// One label per major tick.
    pub major_labels: Vec<String>,
    /// Minor tick values.
    pub minor: Vec<f64>,
    /// One label per minor tick; most are empty.
    pub minor_labels: Vec<String>,
}

/// The log-axis ticks matplotlib shows for the view `lo..hi` (`0 < lo <
/// hi`) on an axis with room for `tick_space` labels
/// ([`super::ticks::tick_space`]).
pub fn log_ticks(lo: f64, hi: f64, tick_space: i64) -> LogTicks {
    let (vmin, vmax) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let n_request = tick_space.clamp(2, 9);
    let visible = |v: &Vec<f64>| -> Vec<f64> {
        v.iter()
            .copied()
            .filter(|&t| vmin <= t && t <= vmax)
            .collect()
    };
    let (major, _) = locate(vmin, vmax, n_request, false);
    let major = visible(&major);
    let (minor, fallback) = locate(vmin, vmax, n_request, true);
    let minor = if fallback {
        // matplotlib's minor locator hands over to a new AutoLocator when
        // it would show at most one tick; one of no axis has 9 bins.
        ticks(vmin, vmax, 9).values
    } else {
        visible(&minor)
    };
    // `LogFormatter.set_locs`: which multiples are labelled follows the
    // decade ticks in view and the decades spanned.
    let (lmin, lmax) = (vmin.ln() / 10f64.ln(), vmax.ln() / 10f64.ln());
    let decade_ticks = lmax.floor() - lmin.next_down().floor();
    let sublabels: &[f64] = if decade_ticks > 1.0 {
        &[1.0]
    } else if (lmax - lmin).abs() > 0.4 {
        &[1.0, 2.0, 3.0, 4.0, 6.0, 10.0]
    } else {
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    };
    let major_labels = major.iter().map(|&v| label(v, sublabels)).collect();
    let minor_labels = minor.iter().map(|&v| label(v, sublabels)).collect();
    LogTicks {
        major,
        major_labels,
        minor,
        minor_labels,
    }
}

/// `LogLocator.tick_values` for base 10 with `subs=(1.0,)` (major) or
/// `subs="auto"` (minor); the flag says the minor locator falls back to
/// `AutoLocator`.
fn locate(vmin: f64, vmax: f64, n_request: i64, minor: bool) -> (Vec<f64>, bool) {
    let (efmin, efmax) = (vmin.log10(), vmax.log10());
    let (emin, emax) = (efmin.ceil() as i64, efmax.floor() as i64);
    let n_avail = emax - emin + 1;
    let subs: Vec<f64> = if minor {
        if n_avail >= 10 {
            return (Vec::new(), false);
        }
        (2..10).map(f64::from).collect()
    } else {
        vec![1.0]
    };
    let mut n_request = n_request;
    let mut stride = n_avail.div_euclid(n_request + 1) + 1;
    let nr = div_ceil(n_avail, stride);
    if nr <= n_request {
        n_request = nr;
    }
    let decades: Vec<i64> = if n_request == 0 {
        stride = emax + 1 - (emin - 1);
        vec![emin - 1, emax + 1]
    } else if n_request == 1 {
        let mid = ((efmin + efmax) / 2.0).round_ties_even() as i64;
        stride = (mid - (emin - 1)).max(emax + 1 - mid);
        vec![mid - stride, mid, mid + stride]
    } else {
        stride = (n_avail - 1).div_euclid(n_request - 1);
        if (stride as f64) < n_avail as f64 / n_request as f64 {
            stride = n_avail.div_euclid(n_request);
        }
        let olo = (n_avail - stride * n_request).max(0);
        let ohi = (n_avail - stride * (n_request - 1)).min(stride);
        let mut offset = (-emin).rem_euclid(stride);
        if !(olo <= offset && offset < ohi) {
            offset = olo;
        }
        let mut d = Vec::new();
        let mut k = emin + offset - stride;
        while k < emax + stride + 1 {
            d.push(k);
            k += stride;
        }
        d
    };
    let locs: Vec<f64> = if minor {
        if stride == 1 || n_avail <= 1 {
            (emin - 1..emax + 1)
                .flat_map(|k| subs.iter().map(move |m| m * pow10(k)))
                .collect()
        } else {
            Vec::new()
        }
    } else {
        decades.iter().map(|&k| pow10(k)).collect()
    };
    let shown = locs.iter().filter(|&&t| vmin <= t && t <= vmax).count() as i64;
    let fallback = minor && stride == 1 && decades.len() as i64 - 2 + shown <= 1;
    (locs, fallback)
}

fn div_ceil(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// `10.0 ** k`, as numpy computes a float power of an integer exponent.
fn pow10(k: i64) -> f64 {
    10f64.powf(k as f64)
}

/// `LogFormatterSciNotation`'s label of `v` when the multiples
/// `sublabels` of powers of ten are labelled (with more than one decade
/// tick in view only powers of ten, over more than 0.4 decades also 2, 3,
/// 4 and 6 times them, else every integer multiple); empty otherwise.
fn label(v: f64, sublabels: &[f64]) -> String {
    let fx = v.ln() / 10f64.ln();
    let decade = is_close_to_int(fx);
    let exponent = if decade {
        fx.round_ties_even()
    } else {
        fx.floor()
    };
    let coeff = 10f64.powf(fx - exponent).round_ties_even();
    if !sublabels.contains(&coeff) {
        return String::new();
    }
    if decade {
        format!("10{}", superscript(exponent as i64))
    } else {
        // `_non_decade_format`: the coefficient with `%g`.
        let exact = 10f64.powf(fx - fx.floor());
        let c = if is_close_to_int(exact) {
            format!("{}", exact.round_ties_even())
        } else {
            let s = format!("{exact:.5}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        format!("{c}×10{}", superscript(fx.floor() as i64))
    }
}

/// `math.isclose(x, round(x))`.
fn is_close_to_int(x: f64) -> bool {
    (x - x.round_ties_even()).abs() <= 1e-9 * x.abs().max(x.round_ties_even().abs())
}

/// `k` in superscript digits, with the superscript minus.
fn superscript(k: i64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if k < 0 {
        s.push('⁻');
    }
    for c in k.unsigned_abs().to_string().chars() {
        s.push(DIGITS[c.to_digit(10).expect("a digit") as usize]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn superscripts() {
        assert_eq!(superscript(-12), "⁻¹²");
        let some = [1.0, 2.0, 3.0, 4.0, 6.0, 10.0];
        assert_eq!(label(1000.0, &[1.0]), "10³");
        assert_eq!(label(0.02, &some), "2×10⁻²");
        assert_eq!(label(0.05, &some), "");
        assert_eq!(label(0.05, &[5.0]), "5×10⁻²");
    }
}
