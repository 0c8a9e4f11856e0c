//! The colorbar: its ticks for every `How` (the data values at their
//! colour positions) and its drawing beside the plot area, from the very
//! palette and scale the image was shaded with; for categories, a legend
//! of their colours in its place.

use std::borrow::Cow;

use super::frame::{Draft, px};
use super::text;
use super::ticks::{Ticks, ticks};
use crate::image::{Image, Premultiplied};
use crate::shade::{How, Legend, Opacity, Rgb};

/// Where a tick of the colorbar sits (`t` along the bar, 0 at the bottom)
/// and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct BarTick {
    /// Place along the colour scale.
    pub t: f64,
    /// The data value there.
    pub value: f64,
    /// Its label.
    pub label: String,
}

/// The colorbar's ticks for a legend, `nbins` intervals at most: for
/// linear scales (and z, scatter) matplotlib's ticks of the domain; for
/// log, powers of ten (with 2 and 5 between when fewer than three fit);
/// for cbrt, matplotlib's ticks placed through the scale; for eq_hist, the
/// data values at evenly spaced places along the bar, rounded to two or
/// three significant figures and never repeated. Each tick sits at the `t`
/// its value maps to, so label and colour agree.
pub fn colorbar_ticks(legend: &Legend, nbins: usize) -> Vec<BarTick> {
    let Some((lo, hi)) = legend.colour.domain() else {
        return Vec::new();
    };
    let place = |value: f64, label: String| BarTick {
        t: if hi > lo {
            f64::from(legend.colour.t(value))
        } else {
            1.0
        },
        value,
        label,
    };
    let scatter = matches!(legend.opacity, Opacity::PerPoint(_));
    let how = if scatter {
        How::Linear
    } else {
        legend.colour.how()
    };
    let mut out: Vec<BarTick> = match how {
        How::EqHist => {
            let mut seen: Vec<f64> = Vec::new();
            (0..=nbins.clamp(2, 6))
                .filter_map(|i| {
                    let t = i as f64 / nbins.clamp(2, 6) as f64;
                    let v = round_sig(legend.colour.value_at(t), lo, hi);
                    (!seen.contains(&v)).then(|| {
                        seen.push(v);
                        place(v, compact(v))
                    })
                })
                .collect()
        }
        How::Log if lo > 0.0 => {
            let mut values = decades(lo, hi, &[1.0]);
            if values.len() < 3 {
                values = decades(lo, hi, &[1.0, 2.0, 5.0]);
            }
            values.into_iter().map(|v| place(v, compact(v))).collect()
        }
        _ => {
            let Ticks { values, labels, .. } = ticks(lo, hi, nbins);
            values
                .into_iter()
                .zip(labels)
                .map(|(v, l)| place(v, l))
                .collect()
        }
    };
    out.retain(|b| (0.0..=1.0).contains(&b.t));
    out
}

/// `m · 10^k` for every multiplier and power of ten within `lo..=hi`.
fn decades(lo: f64, hi: f64, multipliers: &[f64]) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut out = Vec::new();
    for k in first..=last {
        for m in multipliers {
            let v = m * 10f64.powi(k);
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

/// `v` to two significant figures, or three when the range needs them to
/// stay within it (integers stay integers).
fn round_sig(v: f64, lo: f64, hi: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    for digits in [2, 3, 4] {
        let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
        let r = (v * scale).round() / scale;
        if r >= lo && r <= hi {
            return r;
        }
    }
    v
}

/// A short label: whole numbers as they are, others with up to three
/// significant figures, `1e+06`-style beyond what reads well; matplotlib's
/// minus sign.
fn compact(v: f64) -> String {
    let s = if v == v.trunc() && v.abs() < 1e6 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e6 {
        let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.2e}")
    };
    s.replace('-', "\u{2212}")
}

/// What the colorbar shows: the legend's quantity, and in scatter mode,
/// where the bar gives only the colour, that opacity is density.
pub(super) fn default_bar_label(legend: &Legend) -> String {
    match legend.opacity {
        Opacity::PerPoint(_) => format!("{} (opacity: density)", legend.quantity),
        _ => legend.quantity.clone(),
    }
}

/// The colorbar right of a plot area `w × h` pixels: the palette from the
/// bottom (t = 0) up, opaque, framed, with its ticks and their labels on
/// the right. Returns where its label may start, beyond them.
pub(super) fn colorbar(
    d: &mut Draft<'_>,
    legend: &Legend,
    ticks: &[BarTick],
    (w, h): (usize, usize),
    [tick_len, pad]: [i64; 2],
    fs: f32,
) -> f32 {
    let (bw, gap) = (px(12.0).round() as usize, px(14.0).round() as i64);
    let colours = legend.lut.colors();
    let scatter = matches!(legend.opacity, Opacity::PerPoint(_));
    let mut bar = Image::new(bw, h);
    for row in 0..h {
        let t = 1.0 - (row as f32 + 0.5) / h as f32;
        let c = if scatter {
            colours[((t * colours.len() as f32) as usize).min(colours.len() - 1)]
        } else {
            legend.lut.get(t)
        };
        let p = Premultiplied::from_straight(c, 1.0);
        for col in 0..bw {
            bar.set_pixel(col, row, p);
        }
    }
    let (x, bwi, hi) = (w as i64 + gap, bw as i64, h as i64);
    d.raster(x, 0, Cow::Owned(bar));
    d.rect(x - 1, -1, x + bwi + 1, 0);
    d.rect(x - 1, hi, x + bwi + 1, hi + 1);
    d.rect(x - 1, 0, x, hi);
    d.rect(x + bwi, 0, x + bwi + 1, hi);
    let right = x + bwi + 1;
    let mut widest = 0.0f32;
    for b in ticks {
        let at = (1.0 - b.t) * h as f64;
        let row = (at.floor() as i64).clamp(-1, hi);
        d.rect(right, row, right + tick_len, row + 1);
        let e = text::measure(&b.label, fs);
        widest = widest.max(e.width);
        let y = at as f32 + (e.ascent - e.descent) / 2.0;
        d.text(&b.label, fs, (right + tick_len + pad) as f32, y, true);
    }
    (right + tick_len + pad * 2) as f32 + widest.ceil()
}

/// The legend of a categorical image right of a plot area `w` pixels
/// wide, where the colorbar would be: an optional title, then a row per
/// category from the top, a framed swatch of its colour (as tall as a
/// capital) and its name.
pub(super) fn key_legend(
    d: &mut Draft<'_>,
    key: &[(String, Rgb)],
    title: Option<&str>,
    w: usize,
    pad: i64,
    fs: f32,
) {
    let gap = px(14.0).round() as i64;
    let x = w as i64 + gap;
    let line = text::measure("Ag", fs);
    let row = (line.height() * 1.3).ceil() as i64;
    let side = line.ascent.round().max(2.0) as i64;
    let baseline = |top: i64| top as f32 + (row as f32 + line.ascent - line.descent) / 2.0;
    let mut top = 0i64;
    if let Some(title) = title {
        d.text(title, fs, x as f32, baseline(top), true);
        top += row;
    }
    for (name, colour) in key {
        let y = top + (row - side) / 2;
        let mut swatch = Image::new(side as usize, side as usize);
        let p = Premultiplied::from_straight(*colour, 1.0);
        for r in 0..side as usize {
            for c in 0..side as usize {
                swatch.set_pixel(c, r, p);
            }
        }
        d.raster(x, y, Cow::Owned(swatch));
        d.rect(x - 1, y - 1, x + side + 1, y);
        d.rect(x - 1, y + side, x + side + 1, y + side + 1);
        d.rect(x - 1, y, x, y + side);
        d.rect(x + side, y, x + side + 1, y + side);
        d.text(name, fs, (x + side + pad) as f32, baseline(top), true);
        top += row;
    }
}
