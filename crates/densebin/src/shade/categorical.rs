//! Categorical shading: datashader's `shade` of a categorical aggregate
//! (`_colorize`), from the `count_cat` layer.
//!
//! Each pixel's colour is the count-weighted mean of its categories'
//! colours, in 8-bit channels as datashader computes it (the counts less
//! the smallest count anywhere, in `f32`, the mean truncated); its opacity
//! comes from the total count through `how`, from `min_alpha` to `alpha`
//! (datashader's defaults: eq_hist, 40/255), measured, as datashader does,
//! from the least non-empty total (or from the span's start), and
//! truncated to 8 bits too. Colours come from a [`ColorKey`]: a colour per
//! category name, or a categorical palette taken in category order.

use std::fmt;

use super::{Fit, How, Lut, Opacity, Rgb, Scale, Shading, parse_color};
use crate::error::{Error, Result};
use crate::grid::{ArrayId, Grid};
use crate::image::{Image, Premultiplied, to_u8};
use crate::param::Param;

/// Where the categories' colours come from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ColorKey {
    /// A categorical palette by name ([`palette_names`]), its colours
    /// given to the categories in their order.
    Palette(String),
    /// A colour for each category, by name (`a=#e41a1c,b=#377eb8`).
    Colors(Vec<(String, Rgb)>),
}

impl Default for ColorKey {
    /// The `category10` palette (matplotlib's `tab10`).
    fn default() -> ColorKey {
        ColorKey::Palette("category10".to_string())
    }
}

impl fmt::Display for ColorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColorKey::Palette(name) => f.write_str(name),
            ColorKey::Colors(pairs) => {
                let parts: Vec<String> = pairs
                    .iter()
                    .map(|(n, c)| {
                        let [r, g, b] = c.map(to_u8);
                        format!("{n}=#{r:02x}{g:02x}{b:02x}")
                    })
                    .collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

impl ColorKey {
    /// Parses `name=colour,name=colour,...` (a colour as [`parse_color`]
    /// reads it; a name may hold `=` but not `,`).
    pub fn parse_colors(s: &str) -> Result<ColorKey> {
        let pairs = s
            .split(',')
            .map(|part| {
                let (name, colour) = part.rsplit_once('=').ok_or_else(|| {
                    Error::request(format!(
                        "{} {part:?} must be name=colour, e.g. water=#1f77b4",
                        Param::ColorKey.mark()
                    ))
                })?;
                Ok((name.to_string(), parse_color(colour.trim())?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ColorKey::Colors(pairs))
    }

    /// A palette by name; fails unless it is one of [`palette_names`].
    pub fn palette(name: &str) -> Result<ColorKey> {
        let found = PALETTES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown categorical palette {name:?}; use one of {}",
                    palette_names().collect::<Vec<_>>().join(", ")
                ))
            })?;
        Ok(ColorKey::Palette(found.0.to_string()))
    }

    /// The colour of each of `names`, in order. Fails, listing them, when
    /// categories have no colour in the key, or when a palette has fewer
    /// colours than there are categories.
    pub fn colors_for(&self, names: &[String]) -> Result<Vec<Rgb>> {
        match self {
            ColorKey::Colors(pairs) => {
                let mut missing = Vec::new();
                let colours: Vec<Rgb> = names
                    .iter()
                    .map(|n| match pairs.iter().find(|(k, _)| k == n) {
                        Some((_, c)) => *c,
                        None => {
                            missing.push(format!("{n:?}"));
                            [0.0; 3]
                        }
                    })
                    .collect();
                if missing.is_empty() {
                    Ok(colours)
                } else {
                    Err(Error::request(format!(
                        "{} has no colour for the categor{} {}; add {}",
                        Param::ColorKey.mark(),
                        if missing.len() == 1 { "y" } else { "ies" },
                        missing.join(", "),
                        if missing.len() == 1 { "it" } else { "them" }
                    )))
                }
            }
            ColorKey::Palette(name) => {
                let colours = PALETTES
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, c)| *c)
                    .ok_or_else(|| ColorKey::palette(name).unwrap_err())?;
                if names.len() > colours.len() {
                    return Err(Error::request(format!(
                        "the {name} palette has {} colours for {} categories; give each a \
                         colour with {}, or fix fewer categories",
                        colours.len(),
                        names.len(),
                        Param::ColorKey.mark()
                    )));
                }
                Ok(colours[..names.len()]
                    .iter()
                    .map(|c| [c.r, c.g, c.b].map(|v| f32::from(v) / 255.0))
                    .collect())
            }
        }
    }
}

/// The categorical palettes, by name.
const PALETTES: [(&str, &[colorous::Color]); 10] = [
    ("category10", &colorous::CATEGORY10),
    ("tableau10", &colorous::TABLEAU10),
    ("set1", &colorous::SET1),
    ("set2", &colorous::SET2),
    ("set3", &colorous::SET3),
    ("paired", &colorous::PAIRED),
    ("dark2", &colorous::DARK2),
    ("accent", &colorous::ACCENT),
    ("pastel1", &colorous::PASTEL1),
    ("pastel2", &colorous::PASTEL2),
];

/// Every categorical palette's name.
pub fn palette_names() -> impl Iterator<Item = &'static str> {
    PALETTES.iter().map(|p| p.0)
}

/// The categories' colours for `s`'s key, and the scale of the total
/// count above its offset that opacity follows.
pub(super) fn fit(grid: &Grid, s: &Shading) -> Result<Fit> {
    let cats = grid.spec().categories().expect("layers checked");
    let key = s.color_key.clone().unwrap_or_default();
    let colours = key.colors_for(cats.names())?;
    let total = totals(grid);
    let len = total.len();
    // datashader measures opacity from the least non-empty total, or from
    // the span's start.
    let offset = match s.span {
        Some((lo, _)) => lo,
        None => total.iter().filter(|&&n| n > 0).min().map_or(0, |&n| n) as f64,
    };
    let span = s.span.map(|(lo, hi)| (0.0, hi - lo));
    let above = |i: usize| match total[i] {
        0 => f64::NAN,
        n => n as f64 - offset,
    };
    let colour = Scale::fit(len, above, s.how.unwrap_or(How::EqHist), span);
    Ok(Fit {
        quantity: "count".to_string(),
        colour,
        opacity: Opacity::AlongColour {
            min: s.min_alpha_for(s.mode),
            max: s.alpha,
        },
        bins: None,
        key: Some((cats.names().to_vec(), colours, offset)),
    })
}

/// The total count of each pixel over its categories.
fn totals(grid: &Grid) -> Vec<u64> {
    let len = grid.spec().pixels();
    let mut total = vec![0u64; len];
    for plane in planes(grid).chunks_exact(len.max(1)) {
        for (t, &c) in total.iter_mut().zip(plane) {
            *t += u64::from(c);
        }
    }
    total
}

fn planes(grid: &Grid) -> &[u32] {
    match grid.array(ArrayId::CountCat) {
        Some(crate::grid::ArrayView::U32(a)) => a.to_slice().expect("standard layout"),
        _ => &[],
    }
}

/// Paints the categorical image with `palette`, a colour per category.
pub(super) fn paint(grid: &Grid, fit: &Fit, palette: &Lut, img: &mut Image, bg: Option<Rgb>) {
    let len = grid.spec().pixels();
    let counts = planes(grid);
    let key: Vec<[f64; 3]> = palette
        .colors()
        .iter()
        .map(|c| c.map(|v| f64::from(to_u8(v))))
        .collect();
    let n = key.len();
    // datashader subtracts the smallest count anywhere (0 unless every
    // category is in every pixel) before weighting.
    let baseline = counts.iter().copied().min().unwrap_or(0);
    let mean_of_all = {
        let sum = key
            .iter()
            .fold([0.0; 3], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2]]);
        sum.map(|s| trunc_u8(s as f32 / n.max(1) as f32))
    };
    let (min, max) = match fit.opacity {
        Opacity::AlongColour { min, max } => (min, max),
        _ => unreachable!("categorical opacity follows the count"),
    };
    let offset = fit.key.as_ref().map_or(0.0, |k| k.2);
    // The ends in 0..255 (40/255 · 255 is 40 again, not 39.99...).
    let snap = |v: f64| {
        let v = v * 255.0;
        if (v - v.round()).abs() < 1e-9 {
            v.round()
        } else {
            v
        }
    };
    let (lo, hi) = (snap(min), snap(max));
    super::paint::fill_pixels(img, bg, |i| {
        let mut rgb = [0.0f64; 3];
        let (mut total, mut weight) = (0u64, 0.0f64);
        for (k, c) in key.iter().enumerate() {
            let count = counts[k * len + i];
            total += u64::from(count);
            let w = f64::from(count - baseline);
            weight += w;
            for (a, v) in rgb.iter_mut().zip(c) {
                *a += w * v;
            }
        }
        if total == 0 {
            return Premultiplied::TRANSPARENT;
        }
        // float32 as datashader: exact sums of integers, one division.
        let colour = if weight == 0.0 {
            mean_of_all
        } else {
            rgb.map(|v| trunc_u8(v as f32 / weight as f32))
        };
        // datashader's np.interp(t, [0, 1], [min_alpha, alpha]) in 0..255,
        // truncated.
        let t = fit.colour.t64(total as f64 - offset);
        let a = (lo + t * (hi - lo)).clamp(0.0, 255.0) as u8;
        Premultiplied::from_straight(colour.map(|c| f32::from(c) / 255.0), f32::from(a) / 255.0)
    });
}

/// numpy's `astype(uint8)` of a value in `[0, 255]`: truncation.
fn trunc_u8(v: f32) -> u8 {
    v.clamp(0.0, 255.0) as u8
}
