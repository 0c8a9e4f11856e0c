//! Shading: pure functions from a [`Grid`] to an [`Image`].
//!
//! Three families of modes (see [`Mode`]):
//!
//! - **density**: `t = norm(count)` (or of the weight sum) through `how`
//!   and `span`; colour `cmap(t)`; opacity from `min_alpha` to `alpha` along
//!   `t` (constant `alpha` unless asked, or for a one-colour map);
//! - **z statistics** (`mean`, `min`, `max`, `std`): colour
//!   `cmap(linear(stat, z_span))`; opacity constant, or — given `how` — from
//!   `min_alpha` to `alpha` along `norm(count)`: colour by z *and* fade by
//!   density;
//! - **categorical**: datashader's `shade` of `by(column, count())`:
//!   the count-weighted mean of the categories' colours ([`ColorKey`]),
//!   opacity from `min_alpha` to `alpha` along `norm(total count)`;
//! - **scatter**: what `plt.scatter(x, y, c=cmap(z), alpha=a)` draws,
//!   without its 8-bit quantisation: with `n` points in a pixel and `h_k` of
//!   them in z bin `k`, premultiplied colour `(1 - (1 - a)^n) · Σ_k h_k ·
//!   cmap(z_k) / n`. This is the order-independent form of stacking `n`
//!   squares of opacity `a` with "over": exact when the points of a pixel
//!   share a colour, and otherwise the average colour the possible drawing
//!   orders give.
//!
//! Empty pixels are transparent. Then an optional `spread` grows every
//! pixel into a disc, and the image is composited over the background.

mod categorical;
mod colormap;
mod norm;
mod paint;

use std::fmt;
use std::str::FromStr;

pub use categorical::{ColorKey, palette_names};
pub use colormap::{Colormap, Lut, Rgb, gradient_names, parse_color};
pub use norm::{EqHistTable, How, Scale, normalize};
pub use paint::{dynspread_radius, spread};

use crate::error::{Error, Result};
use crate::grid::{Grid, Layer, LayerSet};
use crate::image::Image;
#[cfg(test)]
use crate::image::Premultiplied;
use crate::param::Param;

/// What a pixel's colour shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Points per pixel (or the sum of their weights, see
    /// [`Shading::weighted`]) through `how`.
    Density,
    /// Mean z per pixel.
    Mean,
    /// Smallest z per pixel.
    Min,
    /// Largest z per pixel.
    Max,
    /// Standard deviation of z per pixel (population).
    Std,
    /// matplotlib's scatter plot with per-point opacity `alpha`, from the
    /// z histogram.
    Scatter,
    /// Points per category (`count_cat`): the count-weighted mean of the
    /// categories' colours, opacity by the total count.
    Categorical,
}

impl Mode {
    /// Every mode, as named on the command line.
    pub const ALL: [Mode; 7] = [
        Mode::Density,
        Mode::Mean,
        Mode::Min,
        Mode::Max,
        Mode::Std,
        Mode::Scatter,
        Mode::Categorical,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Density => "density",
            Mode::Mean => "mean",
            Mode::Min => "min",
            Mode::Max => "max",
            Mode::Std => "std",
            Mode::Scatter => "scatter",
            Mode::Categorical => "categorical",
        }
    }

    /// True for the z-statistic modes.
    pub fn is_z_stat(self) -> bool {
        matches!(self, Mode::Mean | Mode::Min | Mode::Max | Mode::Std)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Mode> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown mode {s:?}; use density, mean, min, max, std, scatter or categorical"
                ))
            })
    }
}

/// datashader's default least opacity (40 of 255) when opacity shows a
/// value.
pub const DEFAULT_MIN_ALPHA: f64 = 40.0 / 255.0;

/// Everything that decides how a grid looks.
#[derive(Clone, Debug, PartialEq)]
pub struct Shading {
    /// What the colour shows.
    pub mode: Mode,
    /// Density mode: shade the sum of weights instead of the count.
    pub weighted: bool,
    /// The colormap.
    pub cmap: Colormap,
    /// Density mode: the normalisation of the value (default eq_hist). Z
    /// statistics: when given, opacity follows the count through it.
    pub how: Option<How>,
    /// Clip the density values (count or weight sum) to this range.
    pub span: Option<(f64, f64)>,
    /// The z values at the two ends of the colormap (default: the extremes
    /// of the statistic, or the histogram's z range for scatter).
    pub z_span: Option<(f64, f64)>,
    /// Opacity of the densest pixel, or in scatter mode of one point, in
    /// `[0, 1]`.
    pub alpha: f64,
    /// Opacity of the least dense non-empty pixel when opacity shows
    /// density (default: `alpha` for a density colormap of several colours,
    /// [`DEFAULT_MIN_ALPHA`] otherwise).
    pub min_alpha: Option<f64>,
    /// Straight RGB in `[0, 1]` to composite over; `None` keeps the
    /// transparency.
    pub background: Option<Rgb>,
    /// Grow every pixel into a disc, of a fixed radius or of the one
    /// datashader's `dynspread` would pick.
    pub spread: Spread,
    /// Categorical mode: the categories' colours (default: the
    /// `category10` palette).
    pub color_key: Option<ColorKey>,
}

/// How pixels grow into discs after painting (datashader's `spread` and
/// `dynspread`, with its circular mask: offsets within `r + ½` of the
/// pixel), composited with "over" so that pixels of larger y lie on top.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Spread {
    /// A disc of this radius; 0 leaves the image as it is.
    Fixed(usize),
    /// The largest radius `r` up to `max` for which, at every radius up to
    /// it, at most `threshold` of the non-empty pixels have a non-empty
    /// neighbour within `2r` (datashader's `dynspread(threshold, max_px)`
    /// heuristic, exactly).
    Dynamic {
        /// In `[0, 1]`: higher spreads more (datashader's default 0.5).
        threshold: f64,
        /// The largest radius (datashader's default 3).
        max: usize,
    },
}

impl Spread {
    /// Fails unless a dynamic spread's threshold is in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Spread::Dynamic { threshold, .. } if !(0.0..=1.0).contains(&threshold) => {
                Err(Error::request(format!(
                    "{} {threshold} must be between 0 and 1",
                    Param::Threshold.mark()
                )))
            }
            _ => Ok(()),
        }
    }

    /// The radius `img` is spread by: the fixed one, or the one
    /// [`dynspread_radius`] finds.
    pub fn radius(&self, img: &Image) -> usize {
        match *self {
            Spread::Fixed(r) => r,
            Spread::Dynamic { threshold, max } => dynspread_radius(img, threshold, max),
        }
    }
}

impl std::fmt::Display for Spread {
    /// `2`, or `dynamic (threshold 0.5, max 3)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spread::Fixed(r) => write!(f, "{r}"),
            Spread::Dynamic { threshold, max } => {
                write!(f, "dynamic (threshold {threshold}, max {max})")
            }
        }
    }
}

impl Default for Shading {
    fn default() -> Shading {
        Shading {
            mode: Mode::Density,
            weighted: false,
            cmap: "viridis".parse().expect("a built-in colormap"),
            how: None,
            span: None,
            z_span: None,
            alpha: 1.0,
            min_alpha: None,
            background: None,
            spread: Spread::Fixed(0),
            color_key: None,
        }
    }
}

impl Shading {
    /// The layers a grid needs for this shading.
    pub fn required_layers(&self) -> LayerSet {
        let base = LayerSet::count_only();
        match self.mode {
            Mode::Density if self.weighted => base.with(Layer::Weight),
            Mode::Density => base,
            Mode::Mean => base.with(Layer::Sum),
            Mode::Min | Mode::Max => base.with(Layer::MinMax),
            Mode::Std => base.with(Layer::Std),
            Mode::Scatter => base.with(Layer::ZHist),
            Mode::Categorical => base.with(Layer::CountCat),
        }
    }

    /// Checks the settings against each other.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: Param, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::request(format!(
                    "{} {v} must be between 0 and 1",
                    name.mark()
                )))
            }
        };
        unit(Param::Alpha, self.alpha)?;
        if let Some(m) = self.min_alpha {
            unit(Param::MinAlpha, m)?;
        }
        self.spread.validate()?;
        for (name, span) in [(Param::Span, self.span), (Param::ZSpan, self.z_span)] {
            if let Some((lo, hi)) = span
                && !(lo.is_finite() && hi.is_finite() && lo < hi)
            {
                return Err(Error::request(format!(
                    "{} {lo},{hi} must be two finite numbers, the first below the second",
                    name.mark()
                )));
            }
        }
        let only = |what: Param, modes: &str| {
            Err(Error::request(format!(
                "{} has no effect in {} mode (it applies to {modes}); drop it, or choose \
                 another {}",
                what.mark(),
                self.mode,
                Param::Mode.mark()
            )))
        };
        let z_stats = "density and the z statistics";
        match self.mode {
            Mode::Scatter if self.how.is_some() => only(Param::How, z_stats),
            Mode::Scatter if self.min_alpha.is_some() => only(Param::MinAlpha, z_stats),
            Mode::Scatter if self.span.is_some() => only(Param::Span, z_stats),
            Mode::Density | Mode::Categorical if self.z_span.is_some() => {
                only(Param::ZSpan, "mean, min, max, std and scatter")
            }
            m if m != Mode::Categorical && self.color_key.is_some() => {
                only(Param::ColorKey, "categorical")
            }
            m if m != Mode::Density && self.weighted => only(Param::Weighted, "density"),
            m if m.is_z_stat() && self.how.is_none() && self.span.is_some() => {
                let (span, how) = (Param::Span.mark(), Param::How.mark());
                Err(Error::request(format!(
                    "{span} applies to the count, which shapes opacity only with {how} in \
                     z-statistic modes; add {how}, or drop {span}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Name/value pairs describing the shading (stored in PNG text chunks).
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let span =
            |s: Option<(f64, f64)>| s.map_or("auto".to_string(), |(a, b)| format!("{a},{b}"));
        let mut out = vec![
            (
                "mode",
                if self.weighted {
                    "density (weighted)".to_string()
                } else {
                    self.mode.to_string()
                },
            ),
            ("cmap", self.cmap.to_string()),
            ("alpha", self.alpha.to_string()),
        ];
        if self.mode != Mode::Scatter {
            let how = match (self.mode, self.how) {
                (Mode::Density, h) => h.unwrap_or(How::EqHist).to_string(),
                (Mode::Categorical, h) => {
                    format!("{} (opacity by count)", h.unwrap_or(How::EqHist))
                }
                (_, Some(h)) => format!("{h} (opacity by count)"),
                (_, None) => "none (constant opacity)".to_string(),
            };
            out.push(("how", how));
            out.push(("span", span(self.span)));
            out.push(("min_alpha", self.min_alpha_for(self.mode).to_string()));
        }
        if !matches!(self.mode, Mode::Density | Mode::Categorical) {
            out.push(("z_span", span(self.z_span)));
        }
        if self.mode == Mode::Categorical {
            let key = self.color_key.clone().unwrap_or_default();
            out.push(("color_key", key.to_string()));
        }
        out.push((
            "background",
            self.background.map_or("transparent".to_string(), |c| {
                format!(
                    "#{:02x}{:02x}{:02x}",
                    crate::image::to_u8(c[0]),
                    crate::image::to_u8(c[1]),
                    crate::image::to_u8(c[2])
                )
            }),
        ));
        out.push(("spread", self.spread.to_string()));
        out
    }

    fn min_alpha_for(&self, mode: Mode) -> f64 {
        match (self.min_alpha, mode) {
            (Some(m), _) => m,
            (None, Mode::Density) if !self.cmap.is_single_color() => self.alpha,
            (None, _) => DEFAULT_MIN_ALPHA,
        }
    }
}

/// An image and what its colours mean.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Shaded {
    /// The image, of the grid's size, row 0 at the top.
    pub image: Image,
    /// What shading fitted.
    pub legend: Legend,
}

/// What shading fitted to the grid, kept so that a figure can draw and
/// label a colorbar without fitting again: a colour at `t` on the bar is
/// `lut.get(t)`, and the value it stands for is `colour.value_at(t)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Legend {
    /// What the colour shows, as a colorbar would be labelled: `count`,
    /// `sum of weight`, `mean of z`, `min of z`, `max of z`, `std of z`,
    /// or `z` (scatter).
    pub quantity: String,
    /// The colour scale: values to `t` and back, with its normalisation,
    /// span, domain and eq_hist table.
    pub colour: Scale,
    /// How opacity was chosen.
    pub opacity: Opacity,
    /// The palette the pixels took their colours from: by `t` (density
    /// and the z statistics), one colour per z bin (scatter), or one per
    /// category (categorical).
    pub lut: Lut,
    /// Categorical mode: each category and its colour, in plane order (a
    /// figure's legend); empty in the other modes. The colour scale is
    /// then that of opacity: the total count above the least non-empty
    /// total (or the span's start), as datashader measures it.
    pub key: Vec<(String, Rgb)>,
}

/// How shading chose each pixel's opacity.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Opacity {
    /// Every non-empty pixel has this opacity.
    Constant(f64),
    /// From `min` to `max` along the colour scale's `t` (density).
    AlongColour {
        /// Opacity at `t = 0`.
        min: f64,
        /// Opacity at `t = 1`.
        max: f64,
    },
    /// From `min` to `max` along `scale`, a scale of the count (the z
    /// statistics with a `how`: colour by z, fade by density).
    AlongCount {
        /// The count's scale.
        scale: Scale,
        /// Opacity at `t = 0`.
        min: f64,
        /// Opacity at `t = 1`.
        max: f64,
    },
    /// Each point adds this opacity, so `n` points make `1 - (1 - a)^n`
    /// (scatter).
    PerPoint(f64),
}

/// Shades `grid` into an image of the grid's size, row 0 at the top, and
/// says what its colours mean: [`fit`], then [`paint`] with the colormap's
/// palette ([`Fit::palette`]).
pub fn shade(grid: &Grid, s: &Shading) -> Result<Shaded> {
    let fit = fit(grid, s)?;
    let palette = fit.palette(&s.cmap);
    paint(grid, s, fit, palette)
}

/// The number of values [`Fit::palette_values`] asks colours for outside
/// scatter mode: a table of the colour scale fine enough that neighbouring
/// entries differ by less than an 8-bit step for any smooth colour
/// function.
pub const VALUE_PALETTE_LEN: usize = 1024;

/// What shading fitted to a grid before painting it: the colour scale and
/// the opacity, and the values a palette must colour.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Fit {
    /// What the colour shows (see [`Legend::quantity`]).
    pub quantity: String,
    /// The colour scale.
    pub colour: Scale,
    /// How opacity is chosen.
    pub opacity: Opacity,
    /// Scatter mode: each z bin's centre, clipped to the colour scale's
    /// ends; bin `k` takes the palette's colour `k`.
    bins: Option<Vec<f64>>,
    /// Categorical mode: the categories, their colours, and the count
    /// opacity is measured from.
    key: Option<(Vec<String>, Vec<Rgb>, f64)>,
}

impl Fit {
    /// The values whose colours make a palette for [`paint`], in order, for
    /// a colour function of data values (a user's own, from Python):
    ///
    /// - scatter mode: the centre of each z bin, clipped to `z_span` (one
    ///   colour per bin; every point of a bin takes its colour);
    /// - otherwise: [`VALUE_PALETTE_LEN`] values of the colour scale at
    ///   evenly spaced `t` from 0 to 1, `colour.value_at(i / (len - 1))`
    ///   (the count or weight sum in density mode, the statistic of z in
    ///   the others; NaN when the grid has no value to colour). A pixel
    ///   whose value has `t` takes the colour nearest to `t`;
    /// - categorical mode: none (the colours come from the color key).
    pub fn palette_values(&self) -> Vec<f64> {
        if self.key.is_some() {
            return Vec::new();
        }
        match &self.bins {
            Some(bins) => bins.clone(),
            None => (0..VALUE_PALETTE_LEN)
                .map(|i| {
                    self.colour
                        .value_at(i as f64 / (VALUE_PALETTE_LEN - 1) as f64)
                })
                .collect(),
        }
    }

    /// The palette `cmap` gives: in scatter mode its colour at each z
    /// bin's place on the colour scale, otherwise its 256-colour table
    /// ([`Colormap::lut`]).
    pub fn palette(&self, cmap: &Colormap) -> Lut {
        if let Some((_, colours, _)) = &self.key {
            return Lut::from_trusted(colours.clone());
        }
        match (&self.bins, self.colour.domain()) {
            (Some(bins), Some((lo, hi))) => Lut::from_trusted(
                bins.iter()
                    .map(|&z| cmap.eval((z - lo) / (hi - lo)))
                    .collect(),
            ),
            _ => cmap.lut(),
        }
    }
}

/// Checks that `s` is consistent and that `grid` has the layers it needs,
/// then fits its scales to `grid`.
pub fn fit(grid: &Grid, s: &Shading) -> Result<Fit> {
    s.validate()?;
    let missing: Vec<&str> = s
        .required_layers()
        .iter()
        .filter(|l| !grid.spec().layers().contains(*l))
        .map(Layer::name)
        .collect();
    if !missing.is_empty() {
        return Err(Error::request(format!(
            "{} mode needs the {} layer{}, and this grid has {}; bin with {} {},{}",
            if s.weighted {
                "weighted density"
            } else {
                s.mode.name()
            },
            missing.join(", "),
            if missing.len() == 1 { "" } else { "s" },
            grid.spec().layers(),
            Param::Layers.mark(),
            grid.spec().layers(),
            missing.join(",")
        )));
    }
    if s.mode == Mode::Categorical {
        return categorical::fit(grid, s);
    }
    Ok(paint::fit(grid, s))
}

/// Paints `grid` as `fit` (its [`fit`] with `s`) says, taking colours from
/// `palette`: by `t` from a table of any length, or in scatter mode one
/// colour per z bin. Then spreads and composites over the background.
/// Fails when a scatter palette does not have one colour per z bin.
pub fn paint(grid: &Grid, s: &Shading, fit: Fit, palette: Lut) -> Result<Shaded> {
    if let Some(bins) = &fit.bins
        && bins.len() != palette.colors().len()
    {
        return Err(Error::request(format!(
            "scatter mode needs one colour for each of the {} z bins, not {}",
            bins.len(),
            palette.colors().len()
        )));
    }
    if let Some((names, _, _)) = &fit.key
        && names.len() != palette.colors().len()
    {
        return Err(Error::request(format!(
            "categorical mode needs one colour for each of the {} categories, not {}",
            names.len(),
            palette.colors().len()
        )));
    }
    let mut img = paint::paint(grid, s, &fit, &palette);
    let radius = s.spread.radius(&img);
    if radius > 0 {
        img = spread(&img, radius);
    }
    if let (Some(bg), true) = (s.background, paint::spreads(s)) {
        img.over_background(bg);
    }
    let key = match fit.key {
        Some((names, _, _)) => names.into_iter().zip(palette.colors().to_vec()).collect(),
        None => Vec::new(),
    };
    Ok(Shaded {
        image: img,
        legend: Legend {
            quantity: fit.quantity,
            colour: fit.colour,
            opacity: fit.opacity,
            lut: palette,
            key,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GridSpec;
    use crate::error::flag;
    use crate::image::to_u8;
    use crate::read::Points;
    use paint::Lit;

    /// A 3 x 2 grid: counts 1, 2, 4 in the bottom row, 0, 8, 0 on top.
    fn grid(layers: &str) -> Grid {
        let layers: LayerSet = layers.parse().unwrap();
        let spec = GridSpec::new(3, 2, (0.0, 3.0), (0.0, 2.0))
            .unwrap()
            .with_layers(layers, Some((4, (0.0, 4.0))))
            .unwrap();
        let mut g = Grid::empty(spec);
        let mut p = Points::default();
        let mut add = |x: f64, y: f64, z: f64, n: usize| {
            for _ in 0..n {
                p.x.push(x);
                p.y.push(y);
                p.z.push(z);
                p.w.push(0.5);
            }
        };
        add(0.5, 0.5, 0.5, 1);
        add(1.5, 0.5, 1.5, 1);
        add(1.5, 0.5, 3.5, 1);
        add(2.5, 0.5, 2.5, 4);
        add(1.5, 1.5, 3.0, 8);
        if !layers.contains(Layer::Weight) {
            p.w.clear();
        }
        g.append(&p).unwrap();
        g
    }

    fn px(img: &Image, x: usize, y: usize) -> Premultiplied {
        img.pixel(x, y)
    }

    fn close(a: Premultiplied, b: Premultiplied) -> bool {
        [(a.r, b.r), (a.g, b.g), (a.b, b.b), (a.a, b.a)]
            .iter()
            .all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn the_legend_is_what_the_pixels_were_shaded_with() {
        let g = grid("count,sum,minmax,zhist");
        let counts = [1.0, 2.0, 4.0, 8.0];
        for how in [How::Linear, How::Log, How::Cbrt, How::EqHist] {
            let s = Shading {
                how: Some(how),
                ..Shading::default()
            };
            let Shaded { image, legend } = shade(&g, &s).unwrap();
            assert_eq!(legend.quantity, "count");
            assert_eq!(legend.colour.how(), how);
            assert_eq!(legend.colour.domain(), Some((1.0, 8.0)), "{how}");
            assert_eq!(legend.colour.eq_hist().is_some(), how == How::EqHist);
            assert_eq!(legend.colour.value_at(1.0), 8.0);
            assert!(matches!(legend.opacity, Opacity::AlongColour { .. }));
            // A figure can colour its bar exactly as the pixels are.
            for ((x, y), n) in [(0, 1), (1, 1), (2, 1), (1, 0)].into_iter().zip(counts) {
                let t = legend.colour.t(n);
                let want = Premultiplied::from_straight(legend.lut.get(t), 1.0);
                assert!(close(px(&image, x, y), want), "{how} ({x},{y})");
            }
        }
        let s = Shading {
            mode: Mode::Mean,
            how: Some(How::Log),
            ..Shading::default()
        };
        let legend = shade(&g, &s).unwrap().legend;
        assert_eq!(legend.quantity, "mean of z");
        let Opacity::AlongCount { scale, min, max } = &legend.opacity else {
            panic!("{:?}", legend.opacity);
        };
        assert_eq!(scale.domain(), Some((1.0, 8.0)));
        assert_eq!((*min, *max), (DEFAULT_MIN_ALPHA, 1.0));
        let s = Shading {
            mode: Mode::Max,
            ..Shading::default()
        };
        assert!(matches!(
            shade(&g, &s).unwrap().legend.opacity,
            Opacity::Constant(1.0)
        ));
        let s = Shading {
            mode: Mode::Scatter,
            alpha: 0.1,
            z_span: Some((-1.0, 5.0)),
            ..Shading::default()
        };
        let legend = shade(&g, &s).unwrap().legend;
        assert_eq!(legend.quantity, "z");
        assert_eq!(legend.colour.domain(), Some((-1.0, 5.0)));
        assert_eq!(legend.colour.value_at(0.5), 2.0);
        assert!(matches!(legend.opacity, Opacity::PerPoint(a) if a == 0.1));
    }

    #[test]
    fn a_palette_of_data_values_paints_what_a_colormap_of_t_would() {
        let g = grid("count,sum,minmax,zhist");
        let cmap: Colormap = "magma".parse().unwrap();
        for (mode, how) in [
            (Mode::Density, None),
            (Mode::Density, Some(How::Log)),
            (Mode::Mean, None),
            (Mode::Max, Some(How::EqHist)),
            (Mode::Scatter, None),
        ] {
            let s = Shading {
                mode,
                how,
                alpha: if mode == Mode::Scatter { 0.3 } else { 1.0 },
                z_span: (mode == Mode::Scatter).then_some((1.0, 3.0)),
                cmap: cmap.clone(),
                ..Shading::default()
            };
            let fit = fit(&g, &s).unwrap();
            let values = fit.palette_values();
            // A colour function of values that is the colormap of their t.
            let colours: Vec<Rgb> = values
                .iter()
                .map(|&v| {
                    let (lo, hi) = fit.colour.domain().unwrap();
                    cmap.eval(if mode == Mode::Scatter {
                        (v - lo) / (hi - lo)
                    } else {
                        f64::from(fit.colour.t(v))
                    })
                })
                .collect();
            if mode == Mode::Scatter {
                // Four z bins over (0, 4): centres 0.5 .. 3.5, clipped.
                assert_eq!(values, [1.0, 1.5, 2.5, 3.0]);
            } else {
                assert_eq!(values.len(), VALUE_PALETTE_LEN);
                assert_eq!(values[0], fit.colour.domain().unwrap().0);
                assert_eq!(
                    values[VALUE_PALETTE_LEN - 1],
                    fit.colour.domain().unwrap().1
                );
            }
            // Within one 8-bit step: the value table is finer than the
            // colormap's 256 colours.
            let by_values = paint(&g, &s, fit, Lut::new(colours).unwrap()).unwrap();
            let by_map = shade(&g, &s).unwrap();
            for y in 0..2 {
                for x in 0..3 {
                    let (a, b) = (px(&by_values.image, x, y), px(&by_map.image, x, y));
                    let near = [(a.r, b.r), (a.g, b.g), (a.b, b.b), (a.a, b.a)]
                        .iter()
                        .all(|(p, q)| (p - q).abs() <= 1.0 / 255.0 + 1e-6);
                    assert!(near, "{mode} {how:?} ({x},{y}): {a:?} vs {b:?}");
                }
            }
        }
        let s = Shading {
            mode: Mode::Scatter,
            ..Shading::default()
        };
        let err = paint(
            &g,
            &s,
            fit(&g, &s).unwrap(),
            Lut::new(vec![[0.0; 3]]).unwrap(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("each of the 4 z bins, not 1"),
            "{err}"
        );
        assert!(Lut::new(vec![]).is_err());
        assert!(Lut::new(vec![[0.0, 2.0, 0.0]]).is_err());
    }

    #[test]
    fn density_linear_matches_the_formula() {
        let g = grid("count");
        let cmap: Colormap = "#000000,#ffffff".parse().unwrap();
        let s = Shading {
            cmap: cmap.clone(),
            how: Some(How::Linear),
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        // Image row 1 is grid row 0 (the bottom).
        let lut = cmap.lut();
        for (x, y, n) in [(0, 1, 1.0), (1, 1, 2.0), (2, 1, 4.0), (1, 0, 8.0)] {
            let t = ((n - 1.0) / 7.0) as f32;
            let want = Premultiplied::from_straight(lut.get(t), 1.0);
            assert!(close(px(&img, x, y), want), "({x},{y})");
        }
        assert_eq!(px(&img, 0, 0), Premultiplied::TRANSPARENT, "empty");
        assert_eq!(px(&img, 2, 0), Premultiplied::TRANSPARENT, "empty");
    }

    #[test]
    fn density_log_and_span() {
        let g = grid("count");
        let s = Shading {
            cmap: "#000000,#ffffff".parse().unwrap(),
            how: Some(How::Log),
            span: Some((2.0, 4.0)),
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        let t = |n: f64| ((n.ln_1p() - 2f64.ln_1p()) / (4f64.ln_1p() - 2f64.ln_1p())) as f32;
        let lut = s.cmap.lut();
        assert!(
            close(
                px(&img, 0, 1),
                Premultiplied::from_straight(lut.get(0.0), 1.0)
            ),
            "clipped up"
        );
        assert!(close(
            px(&img, 1, 1),
            Premultiplied::from_straight(lut.get(t(2.0)), 1.0)
        ));
        assert!(
            close(
                px(&img, 1, 0),
                Premultiplied::from_straight(lut.get(1.0), 1.0)
            ),
            "clipped down"
        );
    }

    #[test]
    fn single_colour_density_fades_like_datashader() {
        let g = grid("count");
        let s = Shading {
            cmap: "#0000ff".parse().unwrap(),
            how: Some(How::Linear),
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        let a = |n: f64| (DEFAULT_MIN_ALPHA + (n - 1.0) / 7.0 * (1.0 - DEFAULT_MIN_ALPHA)) as f32;
        assert!(close(
            px(&img, 0, 1),
            Premultiplied::from_straight([0.0, 0.0, 1.0], a(1.0))
        ));
        assert!(close(
            px(&img, 2, 1),
            Premultiplied::from_straight([0.0, 0.0, 1.0], a(4.0))
        ));
        assert!(close(
            px(&img, 1, 0),
            Premultiplied::from_straight([0.0, 0.0, 1.0], 1.0)
        ));
    }

    #[test]
    fn weighted_density_uses_the_weight_sum() {
        let g = grid("count,weight");
        let s = Shading {
            weighted: true,
            how: Some(How::Linear),
            cmap: "#000000,#ffffff".parse().unwrap(),
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        // Weight sums 0.5, 1, 2 / 4: the same ranks as the counts.
        let lut = s.cmap.lut();
        let t = ((1.0 - 0.5) / 3.5) as f32;
        assert!(close(
            px(&img, 1, 1),
            Premultiplied::from_straight(lut.get(t), 1.0)
        ));
    }

    #[test]
    fn mean_colour_with_constant_or_count_opacity() {
        let g = grid("count,sum");
        let cmap: Colormap = "#000000,#ffffff".parse().unwrap();
        let s = Shading {
            mode: Mode::Mean,
            cmap: cmap.clone(),
            z_span: Some((0.0, 4.0)),
            alpha: 0.8,
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        let lut = cmap.lut();
        // Means: 0.5, 2.5, 2.5 bottom; 3.0 top.
        for (x, y, mean) in [(0, 1, 0.5), (1, 1, 2.5), (2, 1, 2.5), (1, 0, 3.0)] {
            let want = Premultiplied::from_straight(lut.get((mean / 4.0) as f32), 0.8);
            assert!(close(px(&img, x, y), want), "({x},{y})");
        }
        // Fade by density: opacity ramps with the log of the count.
        let s = Shading {
            how: Some(How::Log),
            min_alpha: Some(0.2),
            ..s
        };
        let img = shade(&g, &s).unwrap().image;
        let t = |n: f64| (n.ln_1p() - 2f64.ln()) / (9f64.ln() - 2f64.ln());
        for (x, y, n) in [(0, 1, 1.0), (1, 1, 2.0), (2, 1, 4.0), (1, 0, 8.0)] {
            let a = (0.2 + t(n) * 0.6) as f32;
            assert!((px(&img, x, y).a - a).abs() < 1e-6, "({x},{y}) alpha");
        }
    }

    #[test]
    fn min_max_std_modes() {
        let g = grid("count,minmax,std");
        for (mode, want) in [(Mode::Min, 1.5), (Mode::Max, 3.5), (Mode::Std, 1.0)] {
            let s = Shading {
                mode,
                cmap: "#000000,#ffffff".parse().unwrap(),
                z_span: Some((0.0, 4.0)),
                ..Shading::default()
            };
            let img = shade(&g, &s).unwrap().image;
            let got = px(&img, 1, 1);
            let expect = Premultiplied::from_straight(s.cmap.lut().get((want / 4.0) as f32), 1.0);
            assert!(close(got, expect), "{mode}: {got:?} vs {expect:?}");
        }
    }

    #[test]
    fn scatter_matches_the_formula() {
        let g = grid("count,zhist");
        let cmap: Colormap = "#ff0000,#0000ff".parse().unwrap();
        let s = Shading {
            mode: Mode::Scatter,
            cmap: cmap.clone(),
            alpha: 0.3,
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        // Bins over [0, 4]: centres 0.5, 1.5, 2.5, 3.5; colours at z/4.
        let col = |z: f64| cmap.eval(z / 4.0);
        let opacity = |n: i32| 1.0 - 0.7f64.powi(n);
        // Pixel (1, bottom): one point in bin 1, one in bin 3.
        let mix: Rgb = [0, 1, 2].map(|c| (col(1.5)[c] + col(3.5)[c]) / 2.0);
        let want = Premultiplied::from_straight(mix, opacity(2) as f32);
        assert!(
            close(px(&img, 1, 1), want),
            "{:?} vs {want:?}",
            px(&img, 1, 1)
        );
        // Pixel (1, top): eight points in bin 3.
        let want = Premultiplied::from_straight(col(3.5), opacity(8) as f32);
        assert!(close(px(&img, 1, 0), want));
        assert_eq!(px(&img, 0, 0), Premultiplied::TRANSPARENT);
    }

    #[test]
    fn background_and_missing_layers() {
        let g = grid("count");
        let s = Shading {
            background: Some([1.0, 1.0, 1.0]),
            ..Shading::default()
        };
        let img = shade(&g, &s).unwrap().image;
        assert_eq!(px(&img, 0, 0), Premultiplied::from_straight([1.0; 3], 1.0));
        assert!(img.pixels().all(|p| p.a == 1.0));
        let err = shade(
            &g,
            &Shading {
                mode: Mode::Scatter,
                ..Shading::default()
            },
        )
        .unwrap_err()
        .render(flag);
        assert!(err.contains("scatter mode needs the zhist layer"), "{err}");
        assert!(err.contains("--layers count,zhist"), "{err}");
    }

    #[test]
    fn validation() {
        let bad = |s: Shading| s.validate().unwrap_err().render(flag);
        assert!(
            bad(Shading {
                alpha: 1.5,
                ..Shading::default()
            })
            .contains("--alpha")
        );
        assert!(
            bad(Shading {
                mode: Mode::Scatter,
                how: Some(How::Log),
                ..Shading::default()
            })
            .contains("--how has no effect in scatter mode")
        );
        assert!(
            bad(Shading {
                mode: Mode::Mean,
                weighted: true,
                ..Shading::default()
            })
            .contains("--weighted")
        );
        assert!(
            bad(Shading {
                z_span: Some((1.0, 1.0)),
                mode: Mode::Mean,
                ..Shading::default()
            })
            .contains("--z-span")
        );
        assert!(Shading::default().validate().is_ok());
    }

    #[test]
    fn spread_grows_discs_and_composites_in_order() {
        let mut img = Image::new(7, 7);
        let red = Premultiplied::from_straight([1.0, 0.0, 0.0], 1.0);
        img.set_pixel(3, 3, red);
        let lit = |out: &Image| -> Vec<(i32, i32)> {
            (0..7)
                .flat_map(|y| (0..7).map(move |x| (x, y)))
                .filter(|&(x, y)| out.pixel(x as usize, y as usize).a > 0.0)
                .map(|(x, y)| (x - 3, y - 3))
                .collect()
        };
        // datashader's circular masks: within r + 1/2 of the centre.
        let square: Vec<(i32, i32)> = (-1..=1)
            .flat_map(|y| (-1..=1).map(move |x| (x, y)))
            .collect();
        assert_eq!(
            lit(&spread(&img, 1)),
            square,
            "radius 1 is the 3 x 3 square"
        );
        let two = lit(&spread(&img, 2));
        assert_eq!(two.len(), 21, "radius 2 leaves out the 4 corners: {two:?}");
        assert!(!two.contains(&(2, 2)) && two.contains(&(2, 1)));
        assert_eq!(spread(&img, 0), img);
        // Overlaps: the pixel of larger y (the upper row) lies on top.
        let mut col = Image::new(1, 3);
        let half_blue = Premultiplied::from_straight([0.0, 0.0, 1.0], 0.5);
        col.set_pixel(0, 0, half_blue);
        col.set_pixel(0, 2, red);
        let out = spread(&col, 1);
        assert_eq!(out.pixel(0, 1), half_blue.over(red));
    }

    /// datashader's `_rgb_density`, written out directly.
    fn density_oracle(img: &Image, r: usize) -> f64 {
        let (w, h) = (img.width() as isize, img.height() as isize);
        let lit = |x: isize, y: isize| {
            x >= 0 && y >= 0 && x < w && y < h && to_u8(img.pixel(x as usize, y as usize).a) > 0
        };
        let (mut count, mut with) = (0, 0);
        for y in 0..h {
            for x in 0..w {
                if lit(x, y) {
                    count += 1;
                    let r = r as isize;
                    let n = (-r..=r)
                        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
                        .filter(|&(dx, dy)| lit(x + dx, y + dy))
                        .count();
                    with += usize::from(n > 1);
                }
            }
        }
        if count == 0 {
            f64::INFINITY
        } else {
            with as f64 / count as f64
        }
    }

    #[test]
    fn dynspread_picks_datashaders_radius() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (n, faint) in [
            (0usize, false),
            (1, false),
            (5, false),
            (40, true),
            (300, false),
            (2000, false),
        ] {
            let mut img = Image::new(50, 40);
            for _ in 0..n {
                let (x, y) = ((next() % 50) as usize, (next() % 40) as usize);
                // A faint pixel (8-bit alpha 0) counts as empty, as in datashader.
                let a = if faint && x % 2 == 0 { 0.001 } else { 0.8 };
                img.set_pixel(x, y, Premultiplied::from_straight([0.2, 0.4, 0.6], a));
            }
            let lit = Lit::new(&img);
            for r in 0..8 {
                let (got, want) = (lit.density(r), density_oracle(&img, r));
                assert!(got == want, "{n} points, radius {r}: {got} vs {want}");
            }
            for threshold in [0.0, 0.1, 0.5, 0.9, 1.0] {
                for max in 0..5 {
                    let mut want = max;
                    for r in 1..=max {
                        if density_oracle(&img, 2 * r) > threshold {
                            want = r - 1;
                            break;
                        }
                    }
                    assert_eq!(
                        dynspread_radius(&img, threshold, max),
                        want,
                        "{n} {threshold} {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn modes_by_name() {
        for m in Mode::ALL {
            assert_eq!(m.name().parse::<Mode>().unwrap(), m);
        }
        assert!("heat".parse::<Mode>().is_err());
    }
}
