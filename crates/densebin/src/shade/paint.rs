//! The modes, each in two steps: fitting its scales to the grid
//! ([`fit`]), then painting the pixels with a palette ([`paint`]); and
//! `spread`.

use super::{Fit, Mode, Opacity, Shading, Spread};
use crate::grid::Grid;
use crate::image::{Image, Premultiplied, to_u8};
use crate::shade::{How, Lut, Rgb, Scale};

/// Fits the scales of `s.mode` to `grid` (its layers checked already).
pub(super) fn fit(grid: &Grid, s: &Shading) -> Fit {
    match s.mode {
        Mode::Density => fit_density(grid, s),
        Mode::Scatter => fit_scatter(grid, s),
        Mode::Categorical => unreachable!("categorical mode fits in its own room"),
        _ => fit_z_stat(grid, s),
    }
}

/// Paints `grid` with `palette` as `fit` says (without spread and the
/// background when there is spread).
pub(super) fn paint(grid: &Grid, s: &Shading, fit: &Fit, palette: &Lut) -> Image {
    let (w, h) = (grid.spec().width(), grid.spec().height());
    let mut img = Image::new(w, h);
    // Without spread the background is composited in the same pass.
    let bg = s.background.filter(|_| !spreads(s));
    match s.mode {
        Mode::Density => paint_density(grid, s, fit, palette, &mut img, bg),
        Mode::Scatter => paint_scatter(grid, s, palette, &mut img, bg),
        Mode::Categorical => super::categorical::paint(grid, fit, palette, &mut img, bg),
        _ => paint_z_stat(grid, s, fit, palette, &mut img, bg),
    }
    img
}

/// Fills `img` row by row in parallel: `fill(grid_row, out)` writes the
/// pixels of grid row `grid_row` (grid row 0 is the bottom, image row 0 the
/// top), then the row is composited over `bg`.
fn fill(img: &mut Image, bg: Option<Rgb>, fill: impl Fn(usize, &mut [Premultiplied]) + Sync) {
    let (w, h) = (img.width(), img.height());
    let bg = bg.map(|c| Premultiplied::from_straight(c, 1.0));
    img.fill_rows(|y, row| {
        let mut out = vec![Premultiplied::TRANSPARENT; w];
        fill(h - 1 - y, &mut out);
        for (dst, p) in row.iter_mut().zip(out) {
            *dst = match bg {
                Some(bg) => p.over(bg).into(),
                None => p.into(),
            };
        }
    });
}

/// [`fill`] pixel by pixel: `pixel(i)` for grid index `i`.
pub(super) fn fill_pixels(
    img: &mut Image,
    bg: Option<Rgb>,
    pixel: impl Fn(usize) -> Premultiplied + Sync,
) {
    let w = img.width();
    fill(img, bg, |row, out| {
        for (c, p) in out.iter_mut().enumerate() {
            *p = pixel(row * w + c);
        }
    });
}

/// Opacity along `t` from `min` to `max`.
#[inline]
fn ramp(t: f32, min: f64, max: f64) -> f32 {
    (min + f64::from(t) * (max - min)) as f32
}

fn flat<T>(a: ndarray::ArrayView2<'_, T>) -> &[T] {
    a.to_slice().expect("grids are in standard layout")
}

/// Count of pixel `i`, NaN where empty.
fn count_at(count: &[u64]) -> impl Fn(usize) -> f64 + Sync + '_ {
    |i| {
        let n = count[i];
        if n > 0 { n as f64 } else { f64::NAN }
    }
}

/// The value density mode shades at pixel `i`: the count, or the weight
/// sum; NaN where empty.
fn density_value<'g>(grid: &'g Grid, s: &Shading) -> impl Fn(usize) -> f64 + Sync + 'g {
    let count = flat(grid.count());
    let weights = grid.sum_w().filter(|_| s.weighted).map(flat);
    move |i| match weights {
        Some(sw) if count[i] > 0 => sw[i],
        Some(_) => f64::NAN,
        None => count_at(count)(i),
    }
}

fn fit_density(grid: &Grid, s: &Shading) -> Fit {
    let value = density_value(grid, s);
    let len = grid.spec().width() * grid.spec().height();
    let colour = Scale::fit(len, value, s.how.unwrap_or(How::EqHist), s.span);
    let quantity = if s.weighted && grid.sum_w().is_some() {
        "sum of weight"
    } else {
        "count"
    };
    Fit {
        quantity: quantity.to_string(),
        colour,
        opacity: Opacity::AlongColour {
            min: s.min_alpha_for(Mode::Density),
            max: s.alpha,
        },
        bins: None,
        key: None,
    }
}

fn paint_density(grid: &Grid, s: &Shading, fit: &Fit, lut: &Lut, img: &mut Image, bg: Option<Rgb>) {
    let value = density_value(grid, s);
    let (min, max) = match fit.opacity {
        Opacity::AlongColour { min, max } => (min, max),
        _ => (s.alpha, s.alpha),
    };
    fill_pixels(img, bg, |i| {
        let t = fit.colour.t(value(i));
        if t.is_nan() {
            Premultiplied::TRANSPARENT
        } else {
            Premultiplied::from_straight(lut.get(t), ramp(t, min, max))
        }
    });
}

/// The z statistic of `mode` at pixel `i`; NaN where empty or not finite.
fn z_stat_value<'g>(grid: &'g Grid, mode: Mode) -> impl Fn(usize) -> f64 + Sync + 'g {
    let finite = |v: f64| if v.is_finite() { v } else { f64::NAN };
    let n = grid.count_z().map(flat);
    let (sum, m2) = (grid.sum_z().map(flat), grid.m2_z().map(flat));
    let (lo, hi) = (grid.min_z().map(flat), grid.max_z().map(flat));
    move |i| match mode {
        Mode::Mean => {
            finite(sum.expect("layers checked")[i] / n.expect("sum has count_z")[i] as f64)
        }
        Mode::Std => finite(
            (m2.expect("layers checked")[i].max(0.0) / n.expect("sum has count_z")[i] as f64)
                .sqrt(),
        ),
        Mode::Min => finite(lo.expect("layers checked")[i]),
        _ => finite(hi.expect("layers checked")[i]),
    }
}

fn fit_z_stat(grid: &Grid, s: &Shading) -> Fit {
    let len = grid.spec().width() * grid.spec().height();
    let colour = Scale::fit(len, z_stat_value(grid, s.mode), How::Linear, s.z_span);
    let count = flat(grid.count());
    let opacity = match s.how {
        Some(how) => Opacity::AlongCount {
            scale: Scale::fit(len, count_at(count), how, s.span),
            min: s.min_alpha_for(s.mode),
            max: s.alpha,
        },
        None => Opacity::Constant(s.alpha),
    };
    Fit {
        quantity: format!("{} of z", s.mode),
        colour,
        opacity,
        bins: None,
        key: None,
    }
}

fn paint_z_stat(grid: &Grid, s: &Shading, fit: &Fit, lut: &Lut, img: &mut Image, bg: Option<Rgb>) {
    let stat = z_stat_value(grid, s.mode);
    let count = count_at(flat(grid.count()));
    fill_pixels(img, bg, |i| {
        let t = fit.colour.t(stat(i));
        if t.is_nan() {
            return Premultiplied::TRANSPARENT;
        }
        let a = match &fit.opacity {
            Opacity::AlongCount { scale, min, max } => ramp(scale.t(count(i)), *min, *max),
            _ => s.alpha as f32,
        };
        Premultiplied::from_straight(lut.get(t), a)
    });
}

fn fit_scatter(grid: &Grid, s: &Shading) -> Fit {
    let zbins = grid.spec().zbins().expect("zhist has bins");
    let (lo, hi) = s.z_span.unwrap_or((zbins.lo(), zbins.hi()));
    // Colour is linear in z from lo to hi (the span of the colormap), and
    // each z bin takes the colour of its centre.
    let colour = Scale::fit(2, |i| [lo, hi][i], How::Linear, None);
    let bins = (0..zbins.len())
        .map(|k| zbins.centre(k).clamp(lo, hi))
        .collect();
    Fit {
        quantity: "z".to_string(),
        colour,
        opacity: Opacity::PerPoint(s.alpha),
        bins: Some(bins),
        key: None,
    }
}

fn paint_scatter(grid: &Grid, s: &Shading, palette: &Lut, img: &mut Image, bg: Option<Rgb>) {
    let hist = grid.zhist().expect("layers checked");
    let colors = palette.colors();
    let planes: Vec<&[u32]> = hist
        .outer_iter()
        .map(|p| p.to_slice().expect("standard layout"))
        .collect();
    // ln(1 - a), so that (1 - a)^n = exp(n ln(1 - a)) for any n.
    let log_keep = (-s.alpha).ln_1p();
    let w = img.width();
    fill(img, bg, |row, out| {
        // One grid row at a time, plane by plane: the accumulators stay in
        // cache and every plane is read as a contiguous run.
        let mut acc = vec![[0.0f32; 3]; w];
        let mut n = vec![0u64; w];
        for (plane, c) in planes.iter().zip(colors) {
            for ((a, n), &h) in acc
                .iter_mut()
                .zip(&mut n)
                .zip(&plane[row * w..(row + 1) * w])
            {
                let hf = h as f32;
                a[0] += hf * c[0];
                a[1] += hf * c[1];
                a[2] += hf * c[2];
                *n += u64::from(h);
            }
        }
        for ((p, a), &n) in out.iter_mut().zip(&acc).zip(&n) {
            *p = if n == 0 {
                Premultiplied::TRANSPARENT
            } else {
                let opacity = (-(n as f64 * log_keep).exp_m1()) as f32;
                Premultiplied::from_straight(a.map(|v| v / n as f32), opacity)
            };
        }
    });
}

/// Whether `s` may spread the painted image, so that the background
/// waits until after.
pub(super) fn spreads(s: &Shading) -> bool {
    s.spread != Spread::Fixed(0)
}

/// The offsets of datashader's circular mask of radius `r`: those within
/// `r + ½` of the centre, `dx² + dy² <= r² + r` in integers.
fn disc(r: usize) -> Vec<(isize, isize)> {
    let r = r as isize;
    (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .filter(|(dx, dy)| dx * dx + dy * dy <= r * r + r)
        .collect()
}

/// Grows every non-empty pixel into a disc of radius `r` (datashader's
/// `spread` with its circular mask), compositing the discs with "over" in
/// datashader's order: from the bottom row (the smallest y) up, left to
/// right, so that pixels of larger y lie on top.
pub fn spread(img: &Image, r: usize) -> Image {
    let (w, h) = (img.width(), img.height());
    let offsets = disc(r);
    let mut out = Image::new(w, h);
    for y in (0..h as isize).rev() {
        for x in 0..w as isize {
            let src = img.pixel(x as usize, y as usize);
            if src.a <= 0.0 {
                continue;
            }
            for &(dx, dy) in &offsets {
                let (tx, ty) = (x + dx, y + dy);
                if tx >= 0 && ty >= 0 && (tx as usize) < w && (ty as usize) < h {
                    let (tx, ty) = (tx as usize, ty as usize);
                    out.set_pixel(tx, ty, src.over(out.pixel(tx, ty)));
                }
            }
        }
    }
    out
}

/// The radius datashader's `dynspread(img, threshold, max_px)` spreads
/// `img` by: trying `r = 1, 2, …, max`, the first whose density (the
/// fraction of non-empty pixels with a non-empty neighbour within `2r`)
/// exceeds `threshold` gives `r - 1`; none does, `max`. An image with no
/// non-empty pixel is not spread.
pub fn dynspread_radius(img: &Image, threshold: f64, max: usize) -> usize {
    let lit = Lit::new(img);
    for r in 1..=max {
        if lit.density(2 * r) > threshold {
            return r - 1;
        }
    }
    max
}

/// Which pixels are non-empty (their 8-bit alpha above 0, as datashader
/// tests its RGBA image), as a summed-area table: the count in any box in
/// four lookups.
pub(super) struct Lit {
    w: usize,
    h: usize,
    lit: Vec<bool>,
    /// `sums[(y) * (w + 1) + x]`: non-empty pixels above and left of (x, y).
    sums: Vec<u32>,
}

impl Lit {
    pub(super) fn new(img: &Image) -> Lit {
        let (w, h) = (img.width(), img.height());
        let lit: Vec<bool> = img.pixels().map(|p| to_u8(p.a) > 0).collect();
        let mut sums = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0;
            for x in 0..w {
                row += u32::from(lit[y * w + x]);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Lit { w, h, lit, sums }
    }

    /// datashader's `_rgb_density`: the fraction of non-empty pixels with
    /// another non-empty pixel in the square of radius `r` around them
    /// (clipped to the image); infinite for an empty image.
    pub(super) fn density(&self, r: usize) -> f64 {
        let (w, h) = (self.w, self.h);
        let (mut count, mut with_neighbours) = (0u64, 0u64);
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                if !self.lit[y * w + x] {
                    continue;
                }
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let at = |x: usize, y: usize| self.sums[y * (w + 1) + x];
                let n = at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0);
                count += 1;
                with_neighbours += u64::from(n > 1);
            }
        }
        if count == 0 {
            f64::INFINITY
        } else {
            with_neighbours as f64 / count as f64
        }
    }
}
