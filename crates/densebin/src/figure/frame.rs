//! A shaded image framed as a figure: the image placed pixel for pixel
//! inside axes with ticks and tick labels in data units (placed as
//! matplotlib places them), axis labels, a title and a colorbar drawn from
//! the very palette and scale the image was shaded with.

use std::borrow::Cow;

use super::colorbar::{colorbar, colorbar_ticks, default_bar_label, key_legend};
use super::logticks::log_ticks;
use super::scene::{Figure, Mark};
use super::text;
use super::ticks::{auto_nbins, tick_space, ticks};
use crate::grid::{Axis, AxisType, GridSpec};
use crate::image::Image;
use crate::shade::{Legend, Rgb};

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
    /// quantity, and in scatter mode that opacity is density).
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
pub(super) fn px(points: f32) -> f32 {
    points * DPI / 72.0
}

/// matplotlib's `Axis.OFFSETTEXTPAD`: the offset text's distance below
/// the x tick labels and above the axes (y), in points.
const OFFSET_PAD_PT: f32 = 3.0;

/// matplotlib's `xtick.minor.size`: minor ticks' length, in points.
const MINOR_TICK_PT: f32 = 2.0;

/// A tick of an axis: where along it (0 at the low end, 1 at the high),
/// its label (empty for none) and whether it is a major tick.
struct Tick {
    at: f64,
    label: String,
    major: bool,
}

/// An axis's ticks and its offset text (empty for none).
struct AxisTicks {
    ticks: Vec<Tick>,
    offset: String,
}

/// The ticks matplotlib draws on `axis`, `length_pt` points long with
/// labels of `font_pt` points: `AutoLocator` and `ScalarFormatter` on a
/// linear axis, `LogLocator` major and minor ticks with
/// `LogFormatterSciNotation` labels on a log one.
fn axis_ticks(axis: &Axis, length_pt: f64, font_pt: f64, along_x: bool) -> AxisTicks {
    let (lo, hi) = (axis.lo(), axis.hi());
    match axis.axis_type() {
        AxisType::Log => {
            let lt = log_ticks(lo, hi, tick_space(length_pt, font_pt, along_x));
            let at = |v: f64| (v.log10() - lo.log10()) / (hi.log10() - lo.log10());
            let major = lt
                .major
                .iter()
                .zip(lt.major_labels)
                .map(|(&v, label)| Tick {
                    at: at(v),
                    label,
                    major: true,
                });
            let minor = lt
                .minor
                .iter()
                .zip(lt.minor_labels)
                .map(|(&v, label)| Tick {
                    at: at(v),
                    label,
                    major: false,
                });
            AxisTicks {
                ticks: major.chain(minor).collect(),
                offset: String::new(),
            }
        }
        _ => {
            let t = ticks(lo, hi, auto_nbins(length_pt, font_pt, along_x));
            AxisTicks {
                ticks: t
                    .values
                    .iter()
                    .zip(t.labels)
                    .map(|(&v, label)| Tick {
                        at: (v - lo) / (hi - lo),
                        label,
                        major: true,
                    })
                    .collect(),
                offset: t.offset,
            }
        }
    }
}

/// matplotlib's `axes.titlepad`: the title's baseline above the axes, in
/// points.
const TITLE_PAD_PT: f32 = 6.0;

/// Marks laid out around a plot area whose top left is `(0, 0)`: they may
/// reach any way out of it, and [`Draft::finish`] moves them all into a
/// figure just large enough to hold every one, so no label is ever
/// clipped, however long.
pub(super) struct Draft<'a> {
    fg: Rgb,
    placed: Vec<Placed<'a>>,
    min: (f32, f32),
    max: (f32, f32),
}

/// A mark of a [`Draft`], in coordinates that may be negative.
enum Placed<'a> {
    Rect([i64; 4]),
    Raster(i64, i64, Cow<'a, Image>),
    /// A line of text, its baseline start and its box.
    Text {
        text: String,
        px: f32,
        at: (f32, f32),
        upright: bool,
        bounds: [f32; 4],
    },
}

impl<'a> Draft<'a> {
    fn new(fg: Rgb) -> Draft<'a> {
        Draft {
            fg,
            placed: Vec::new(),
            min: (f32::INFINITY, f32::INFINITY),
            max: (f32::NEG_INFINITY, f32::NEG_INFINITY),
        }
    }

    fn grow(&mut self, [x0, y0, x1, y1]: [f32; 4]) {
        self.min = (self.min.0.min(x0), self.min.1.min(y0));
        self.max = (self.max.0.max(x1), self.max.1.max(y1));
    }

    /// The pixels `x0..x1` × `y0..y1` in the foreground colour.
    pub(super) fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64) {
        self.grow([x0 as f32, y0 as f32, x1 as f32, y1 as f32]);
        self.placed.push(Placed::Rect([x0, y0, x1, y1]));
    }

    /// `image` with its top left at `(x, y)`.
    pub(super) fn raster(&mut self, x: i64, y: i64, image: Cow<'a, Image>) {
        let (w, h) = (image.width() as i64, image.height() as i64);
        self.grow([x as f32, y as f32, (x + w) as f32, (y + h) as f32]);
        self.placed.push(Placed::Raster(x, y, image));
    }

    /// `text` with its baseline starting at `(x, y)`; its box is the face's
    /// ascent and descent over its advance.
    pub(super) fn text(&mut self, text: &str, px: f32, x: f32, y: f32, upright: bool) {
        let bounds = text::measure(text, px).bounds(x, y, upright);
        self.grow(bounds);
        self.placed.push(Placed::Text {
            text: text.to_string(),
            px,
            at: (x, y),
            upright,
            bounds,
        });
    }

    /// The boxes of the texts placed so far.
    fn text_boxes(&self) -> impl Iterator<Item = [f32; 4]> + '_ {
        self.placed.iter().filter_map(|p| match p {
            Placed::Text { bounds, .. } => Some(*bounds),
            _ => None,
        })
    }

    /// `text` placed as [`Draft::text`] places it, but first moved `away`
    /// until it is `gap` pixels clear of every text placed before: an
    /// axis label longer than its axis neither covers nor is covered.
    #[allow(clippy::too_many_arguments)]
    fn label(
        &mut self,
        text: &str,
        px: f32,
        mut x: f32,
        mut y: f32,
        upright: bool,
        away: Away,
        gap: f32,
    ) {
        let e = text::measure(text, px);
        loop {
            let b = e.bounds(x, y, upright);
            let hits = self.text_boxes().filter(|o| {
                b[0] < o[2] + gap && o[0] < b[2] + gap && b[1] < o[3] + gap && o[1] < b[3] + gap
            });
            let shift = hits
                .map(|o| match away {
                    Away::Down => o[3] + gap - b[1],
                    Away::Up => b[3] - o[1] + gap,
                    Away::Left => b[2] - o[0] + gap,
                    Away::Right => o[2] + gap - b[0],
                })
                .fold(0.0f32, f32::max);
            if shift <= 0.0 {
                break;
            }
            // A hundredth more, so that rounding cannot leave it touching.
            let shift = shift + 0.01;
            match away {
                Away::Down => y += shift,
                Away::Up => y -= shift,
                Away::Left => x -= shift,
                Away::Right => x += shift,
            }
        }
        self.text(text, px, x, y, upright);
    }

    /// The figure: everything moved by whole pixels so that the marks'
    /// box sits `margin` pixels inside it, the plot area's top left at
    /// [`Figure::plot`], and the background everywhere but the plot area
    /// (`w × h`), first.
    fn finish(
        self,
        w: usize,
        h: usize,
        margin: usize,
        bg: Rgb,
        title: Option<String>,
    ) -> Figure<'a> {
        let dx = margin as i64 - self.min.0.floor() as i64;
        let dy = margin as i64 - self.min.1.floor() as i64;
        let fw = (self.max.0.ceil() as i64 + dx) as usize + margin;
        let fh = (self.max.1.ceil() as i64 + dy) as usize + margin;
        let (left, top) = (dx as usize, dy as usize);
        let bgrect = |x0, y0, x1, y1| Mark::Rect {
            x0,
            y0,
            x1,
            y1,
            colour: bg,
        };
        let mut marks = vec![
            bgrect(0, 0, fw, top),
            bgrect(0, top + h, fw, fh),
            bgrect(0, top, left, top + h),
            bgrect(left + w, top, fw, top + h),
        ];
        let at = |v: i64, d: i64| (v + d) as usize;
        let fg = self.fg;
        marks.extend(self.placed.into_iter().map(|p| match p {
            Placed::Rect([x0, y0, x1, y1]) => Mark::Rect {
                x0: at(x0, dx),
                y0: at(y0, dy),
                x1: at(x1, dx),
                y1: at(y1, dy),
                colour: fg,
            },
            Placed::Raster(x, y, image) => Mark::Raster {
                x: at(x, dx),
                y: at(y, dy),
                image,
            },
            Placed::Text {
                text,
                px,
                at: (x, y),
                upright,
                ..
            } => Mark::Text {
                text,
                px,
                x: x + dx as f32,
                y: y + dy as f32,
                upright,
                colour: fg,
            },
        }));
        Figure {
            width: fw,
            height: fh,
            plot: (left, top),
            title,
            marks,
        }
    }
}

/// Which way [`Draft::label`] moves a label that would overlap another.
#[derive(Clone, Copy)]
enum Away {
    Down,
    Up,
    Left,
    Right,
}

/// The figure around `image` (the shading of a grid of `spec`, whose
/// colours `legend` explains), as matplotlib would lay it out at [`DPI`]:
/// `image` pixel for pixel in a one-pixel frame, ticks 3.5 points long
/// outside it, tick labels in data units with any offset text where
/// matplotlib puts it (the x axis's at its right end below the labels,
/// the y axis's above its top), axis labels, a title and a colorbar. The
/// margins grow to fit every label.
pub fn frame<'a>(
    image: &'a Image,
    legend: &Legend,
    spec: &GridSpec,
    opts: &FrameOptions,
) -> Figure<'a> {
    let fs = px(opts.font_size);
    let label_fs = px(opts.font_size);
    let title_fs = px(opts.font_size * 1.2);
    let (w, h) = (image.width(), image.height());
    let (wi, hi) = (w as i64, h as i64);
    let tick_len = px(3.5).round() as i64;
    let pad = px(3.5).round() as i64;
    let offset_pad = px(OFFSET_PAD_PT);
    let (along_x, along_y) = (w as f64 * 72.0 / DPI as f64, h as f64 * 72.0 / DPI as f64);
    let fsd = f64::from(opts.font_size);
    let xt = axis_ticks(spec.x(), along_x, fsd, true);
    let yt = axis_ticks(spec.y(), along_y, fsd, false);
    let minor_len = px(MINOR_TICK_PT).round() as i64;
    let line = text::measure("0", fs);
    let mut d = Draft::new(opts.foreground);

    // The plot area, pixel for pixel, and a one-pixel frame just outside.
    d.raster(0, 0, Cow::Borrowed(image));
    d.rect(-1, -1, wi + 1, 0);
    d.rect(-1, hi, wi + 1, hi + 1);
    d.rect(-1, 0, 0, hi);
    d.rect(wi, 0, wi + 1, hi);

    // x ticks below the frame, labels centred under them.
    let label_top = (hi + 1 + tick_len + pad) as f32;
    for t in &xt.ticks {
        let at = t.at * w as f64;
        let col = (at.floor() as i64).min(wi);
        let len = if t.major { tick_len } else { minor_len };
        d.rect(col, hi + 1, col + 1, hi + 1 + len);
        if !t.label.is_empty() {
            let e = text::measure(&t.label, fs);
            let x = at as f32 - e.width / 2.0;
            d.text(&t.label, fs, x, label_top + e.ascent, true);
        }
    }
    // The x offset text at the axis's right end, below the tick labels.
    let below_labels = label_top + line.height();
    if !xt.offset.is_empty() {
        let e = text::measure(&xt.offset, fs);
        let top = below_labels + offset_pad;
        d.text(&xt.offset, fs, w as f32 - e.width, top + e.ascent, true);
    }

    // y ticks left of the frame, labels right-aligned and centred on them.
    let mut labels_left = (-1 - tick_len - pad) as f32;
    for t in &yt.ticks {
        let at = h as f64 - t.at * h as f64;
        let row = (at.floor() as i64).clamp(-1, hi);
        let len = if t.major { tick_len } else { minor_len };
        d.rect(-1 - len, row, -1, row + 1);
        if !t.label.is_empty() {
            let e = text::measure(&t.label, fs);
            let x = (-1 - tick_len - pad) as f32 - e.width;
            labels_left = labels_left.min(x);
            d.text(
                &t.label,
                fs,
                x,
                at as f32 + (e.ascent - e.descent) / 2.0,
                true,
            );
        }
    }
    // Above the axes: the y offset text with its baseline `offset_pad`
    // over the frame, at the left.
    let mut above = 0.5;
    if !yt.offset.is_empty() {
        d.text(&yt.offset, fs, 0.0, -(above + offset_pad), true);
        above += offset_pad + line.ascent;
    }
    // A colorbar, or for categories a legend of their colours (titled by
    // the colorbar label when one is given).
    let bar_label_x = match (opts.colorbar, legend.key.is_empty()) {
        (false, _) => None,
        (true, true) => {
            let bar_ticks = colorbar_ticks(legend, auto_nbins(along_y, fsd, false));
            Some(colorbar(
                &mut d,
                legend,
                &bar_ticks,
                (w, h),
                [tick_len, pad],
                fs,
            ))
        }
        (true, false) => {
            let title = opts.colorbar_label.as_deref();
            key_legend(&mut d, &legend.key, title, w, pad, fs);
            None
        }
    };

    // The labels, each moved away from the plot if it would overlap what
    // is there: the x label centred on the row below the tick labels; the
    // y label left of its tick labels; the title's baseline 6 points
    // (`axes.titlepad`) above the frame or the offset text; the colorbar's
    // label right of its tick labels.
    let gap = pad as f32;
    let e = text::measure(&opts.x_label, label_fs);
    let x = (w as f32 - e.width) / 2.0;
    d.label(
        &opts.x_label,
        label_fs,
        x,
        below_labels + gap + e.ascent,
        true,
        Away::Down,
        gap,
    );
    let e = text::measure(&opts.y_label, label_fs);
    let (x, y) = (labels_left - gap - e.descent, (h as f32 + e.width) / 2.0);
    d.label(&opts.y_label, label_fs, x, y, false, Away::Left, gap);
    if let Some(title) = &opts.title {
        let e = text::measure(title, title_fs);
        let (x, y) = ((w as f32 - e.width) / 2.0, -(above + px(TITLE_PAD_PT)));
        d.label(title, title_fs, x, y, true, Away::Up, gap);
    }
    if let Some(x) = bar_label_x {
        let label = opts
            .colorbar_label
            .clone()
            .unwrap_or_else(|| default_bar_label(legend));
        let label = label.as_str();
        let e = text::measure(label, label_fs);
        let y = (h as f32 + e.width) / 2.0;
        d.label(label, label_fs, x + e.ascent, y, false, Away::Right, gap);
    }
    d.finish(w, h, 2 * pad as usize, opts.background, opts.title.clone())
}
