//! A shaded image framed as a figure: the image placed pixel for pixel
//! inside axes with ticks and tick labels in data units (placed as
//! matplotlib places them), axis labels, a title and a colorbar drawn from
//! the very palette and scale the image was shaded with.

use super::text::{self, Extent};
use super::ticks::{Ticks, auto_nbins, ticks};
use crate::grid::GridSpec;
use crate::image::{Image, Premultiplied};
use crate::shade::{How, Legend, Opacity, Rgb};

/// Pixels per inch of a figure (matplotlib's default `figure.dpi`).
pub const DPI: f32 = 100.0;

/// What goes around the image.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameOptions {
    /// Text above the plot; none by default.
    pub title: Option<String>,
    /// The x axis's label.
    pub x_label: String,
    /// The y axis's label.
    pub y_label: String,
    /// Draw a colorbar.
    pub colorbar: bool,
    /// The colorbar's label (default: what the colour shows, the legend's
    /// quantity).
    pub colorbar_label: Option<String>,
    /// Tick label size in points (matplotlib's default 10); the other text
    /// scales with it.
    pub font_size: f32,
    /// The figure's background, outside the plot area.
    pub background: Rgb,
    /// Lines and text.
    pub foreground: Rgb,
}

impl Default for FrameOptions {
    fn default() -> FrameOptions {
        FrameOptions {
            title: None,
            x_label: "x".to_string(),
            y_label: "y".to_string(),
            colorbar: true,
            colorbar_label: None,
            font_size: 10.0,
            background: [1.0, 1.0, 1.0],
            foreground: [0.0, 0.0, 0.0],
        }
    }
}

impl FrameOptions {
    /// These options on the figure background `rgb`, with text and lines
    /// black on a light one and white on a dark one.
    #[must_use]
    pub fn on_background(mut self, rgb: Rgb) -> FrameOptions {
        let light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.5;
        self.background = rgb;
        self.foreground = if light { [0.0; 3] } else { [1.0; 3] };
        self
    }

    /// Fails unless the font size is above 0 and at most 200 points.
    pub fn validate(&self) -> crate::error::Result<()> {
        if self.font_size > 0.0 && self.font_size <= 200.0 {
            Ok(())
        } else {
            Err(crate::error::Error::request(format!(
                "{} {} must be above 0 and at most 200 points",
                crate::param::Param::FontSize.mark(),
                self.font_size
            )))
        }
    }
}

/// Points to pixels at [`DPI`].
fn px(points: f32) -> f32 {
    points * DPI / 72.0
}

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

/// A framed figure.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Framed {
    /// The figure.
    pub image: Image,
    /// Where the plot area's top left pixel is in it.
    pub plot: (usize, usize),
}

/// The figure around `image` (the shading of a grid of `spec`, whose
/// colours `legend` explains). The plot area holds `image`'s pixels
/// exactly, so the framed PNG's plot area equals the bare PNG byte for
/// byte.
pub fn frame(image: &Image, legend: &Legend, spec: &GridSpec, opts: &FrameOptions) -> Framed {
    let fs = px(opts.font_size);
    let label_fs = px(opts.font_size);
    let title_fs = px(opts.font_size * 1.2);
    let (w, h) = (image.width(), image.height());
    let tick_len = px(3.5).round() as usize;
    let pad = px(3.5).round() as usize;
    let (along_x, along_y) = (w as f32 * 72.0 / DPI, h as f32 * 72.0 / DPI);
    let xt = ticks(
        spec.x().lo(),
        spec.x().hi(),
        auto_nbins(along_x as f64, opts.font_size as f64, true),
    );
    let yt = ticks(
        spec.y().lo(),
        spec.y().hi(),
        auto_nbins(along_y as f64, opts.font_size as f64, false),
    );
    let bar = opts.colorbar.then(|| {
        colorbar_ticks(
            legend,
            auto_nbins(along_y as f64, opts.font_size as f64, false),
        )
    });
    let bar_label = opts
        .colorbar_label
        .clone()
        .unwrap_or_else(|| legend.quantity.clone());

    let line = text::measure("0", fs);
    let widest = |labels: &[String]| {
        labels
            .iter()
            .map(|l| text::measure(l, fs).width)
            .fold(0.0f32, f32::max)
    };
    // Margins: left for y tick labels and the y label; bottom for x tick
    // labels and the x label; top for the title; right for the colorbar.
    let y_label_w = text::measure(&opts.y_label, label_fs).height();
    let left = (pad as f32 * 2.0 + tick_len as f32 + widest(&yt.labels) + pad as f32 + y_label_w)
        .ceil() as usize
        + pad;
    let x_label_h = text::measure(&opts.x_label, label_fs).height();
    let bottom =
        (tick_len as f32 + pad as f32 + line.height() + pad as f32 + x_label_h + pad as f32 * 2.0)
            .ceil() as usize;
    let offset_h = if yt.offset.is_empty() {
        0.0
    } else {
        line.height() + pad as f32
    };
    let title_h = opts.title.as_ref().map_or(0.0, |t| {
        text::measure(t, title_fs).height() + pad as f32 * 2.0
    });
    let top = (pad as f32 * 2.0 + title_h.max(offset_h) + line.height() / 2.0).ceil() as usize;
    let bar_w = px(12.0).round() as usize;
    let bar_gap = px(14.0).round() as usize;
    let right = match &bar {
        Some(ticks) => {
            let labels: Vec<String> = ticks.iter().map(|b| b.label.clone()).collect();
            bar_gap
                + bar_w
                + tick_len
                + pad
                + widest(&labels).ceil() as usize
                + pad
                + text::measure(&bar_label, label_fs).height().ceil() as usize
                + pad * 2
        }
        None => pad * 3 + (widest(&xt.labels) / 2.0).ceil() as usize,
    };
    let (fw, fh) = (left + w + right, top + h + bottom);
    let mut fig = Image::new(fw, fh);
    let bg = Premultiplied::from_straight(opts.background, 1.0);
    let fg = Premultiplied::from_straight(opts.foreground, 1.0);
    for y in 0..fh {
        for x in 0..fw {
            fig.set_pixel(x, y, bg);
        }
    }
    // The plot area, pixel for pixel, and a one-pixel frame just outside.
    for y in 0..h {
        for x in 0..w {
            fig.set_pixel(left + x, top + y, image.pixel(x, y));
        }
    }
    fill(&mut fig, left - 1, top - 1, left + w + 1, top, fg);
    fill(&mut fig, left - 1, top + h, left + w + 1, top + h + 1, fg);
    fill(&mut fig, left - 1, top, left, top + h, fg);
    fill(&mut fig, left + w, top, left + w + 1, top + h, fg);

    let fgc = opts.foreground;
    // x ticks below the frame, labels centred under them.
    let (x0, x1) = (spec.x().lo(), spec.x().hi());
    let label_top = (top + h + 1 + tick_len + pad) as f32;
    for (v, label) in xt.values.iter().zip(&xt.labels) {
        let at = left as f64 + (v - x0) / (x1 - x0) * w as f64;
        let col = (at.floor() as usize).min(left + w);
        fill(
            &mut fig,
            col,
            top + h + 1,
            col + 1,
            top + h + 1 + tick_len,
            fg,
        );
        let e = text::measure(label, fs);
        text::draw(
            &mut fig,
            label,
            fs,
            at as f32 - e.width / 2.0,
            label_top + e.ascent,
            fgc,
            true,
        );
    }
    if !xt.offset.is_empty() {
        let e = text::measure(&xt.offset, fs);
        let y = label_top + line.height() + pad as f32 + e.ascent;
        text::draw(
            &mut fig,
            &xt.offset,
            fs,
            (left + w) as f32 - e.width,
            y,
            fgc,
            true,
        );
    }
    // y ticks left of the frame, labels right-aligned and centred on them.
    let (y0, y1) = (spec.y().lo(), spec.y().hi());
    for (v, label) in yt.values.iter().zip(&yt.labels) {
        let at = (top + h) as f64 - (v - y0) / (y1 - y0) * h as f64;
        let row = (at.floor() as usize).clamp(top.saturating_sub(1), top + h);
        fill(&mut fig, left - 1 - tick_len, row, left - 1, row + 1, fg);
        let e = text::measure(label, fs);
        let x = (left - 1 - tick_len - pad) as f32 - e.width;
        text::draw(
            &mut fig,
            label,
            fs,
            x,
            at as f32 + (e.ascent - e.descent) / 2.0,
            fgc,
            true,
        );
    }
    if !yt.offset.is_empty() {
        let e = text::measure(&yt.offset, fs);
        text::draw(
            &mut fig,
            &yt.offset,
            fs,
            left as f32,
            (top - 1 - pad) as f32 - e.descent,
            fgc,
            true,
        );
    }
    // Axis labels and title.
    let e = text::measure(&opts.x_label, label_fs);
    let y = label_top + line.height() + pad as f32 + e.ascent;
    text::draw(
        &mut fig,
        &opts.x_label,
        label_fs,
        left as f32 + (w as f32 - e.width) / 2.0,
        y,
        fgc,
        true,
    );
    let e = text::measure(&opts.y_label, label_fs);
    text::draw(
        &mut fig,
        &opts.y_label,
        label_fs,
        pad as f32 + e.ascent,
        top as f32 + (h as f32 + e.width) / 2.0,
        fgc,
        false,
    );
    if let Some(title) = &opts.title {
        let e = text::measure(title, title_fs);
        let y = (top - 1 - pad) as f32 - e.descent - offset_h;
        text::draw(
            &mut fig,
            title,
            title_fs,
            left as f32 + (w as f32 - e.width) / 2.0,
            y,
            fgc,
            true,
        );
    }
    if let Some(bar_ticks) = bar {
        draw_colorbar(
            &mut fig,
            legend,
            &bar_ticks,
            &bar_label,
            opts,
            left + w + bar_gap,
            top,
            bar_w,
            h,
            tick_len,
            pad,
            fs,
            label_fs,
        );
    }
    Framed {
        image: fig,
        plot: (left, top),
    }
}

/// Fills the rectangle `x0..x1` × `y0..y1` (clipped) with `p`.
fn fill(fig: &mut Image, x0: usize, y0: usize, x1: usize, y1: usize, p: Premultiplied) {
    for y in y0..y1.min(fig.height()) {
        for x in x0..x1.min(fig.width()) {
            fig.set_pixel(x, y, p);
        }
    }
}

/// The colorbar at `(x, top)`, `bw × h` pixels: the palette from the
/// bottom (t = 0) up, opaque, framed, with its ticks on the right.
#[allow(clippy::too_many_arguments)]
fn draw_colorbar(
    fig: &mut Image,
    legend: &Legend,
    ticks: &[BarTick],
    label: &str,
    opts: &FrameOptions,
    x: usize,
    top: usize,
    bw: usize,
    h: usize,
    tick_len: usize,
    pad: usize,
    fs: f32,
    label_fs: f32,
) {
    let fg = Premultiplied::from_straight(opts.foreground, 1.0);
    let colours = legend.lut.colors();
    let scatter = matches!(legend.opacity, Opacity::PerPoint(_));
    for row in 0..h {
        let t = 1.0 - (row as f32 + 0.5) / h as f32;
        let c = if scatter {
            colours[((t * colours.len() as f32) as usize).min(colours.len() - 1)]
        } else {
            legend.lut.get(t)
        };
        let p = Premultiplied::from_straight(c, 1.0);
        for col in x..x + bw {
            fig.set_pixel(col, top + row, p);
        }
    }
    fill(fig, x - 1, top - 1, x + bw + 1, top, fg);
    fill(fig, x - 1, top + h, x + bw + 1, top + h + 1, fg);
    fill(fig, x - 1, top, x, top + h, fg);
    fill(fig, x + bw, top, x + bw + 1, top + h, fg);
    let right = x + bw + 1;
    let mut widest = 0.0f32;
    for b in ticks {
        let at = top as f64 + (1.0 - b.t) * h as f64;
        let row = (at.floor() as usize).clamp(top.saturating_sub(1), top + h);
        fill(fig, right, row, right + tick_len, row + 1, fg);
        let e = text::measure(&b.label, fs);
        widest = widest.max(e.width);
        let y = at as f32 + (e.ascent - e.descent) / 2.0;
        text::draw(
            fig,
            &b.label,
            fs,
            (right + tick_len + pad) as f32,
            y,
            opts.foreground,
            true,
        );
    }
    let e: Extent = text::measure(label, label_fs);
    let lx = (right + tick_len + pad * 2) as f32 + widest.ceil() + e.ascent;
    text::draw(
        fig,
        label,
        label_fs,
        lx,
        top as f32 + (h as f32 + e.width) / 2.0,
        opts.foreground,
        false,
    );
}
