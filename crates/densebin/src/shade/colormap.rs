//! Colormaps: every colorous gradient by name (and matplotlib's short name),
//! reversed with `_r`, or custom stops such as `#000000,#ff0000,#ffff00`;
//! and colours for backgrounds.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// colorous gradients: our name, matplotlib's name where it has one.
const GRADIENTS: [(&str, &str, colorous::Gradient); 38] = [
    ("viridis", "viridis", colorous::VIRIDIS),
    ("magma", "magma", colorous::MAGMA),
    ("inferno", "inferno", colorous::INFERNO),
    ("plasma", "plasma", colorous::PLASMA),
    ("cividis", "cividis", colorous::CIVIDIS),
    ("turbo", "turbo", colorous::TURBO),
    ("warm", "", colorous::WARM),
    ("cool", "", colorous::COOL),
    ("cubehelix", "cubehelix", colorous::CUBEHELIX),
    ("rainbow", "", colorous::RAINBOW),
    ("sinebow", "", colorous::SINEBOW),
    ("blues", "Blues", colorous::BLUES),
    ("greens", "Greens", colorous::GREENS),
    ("greys", "Greys", colorous::GREYS),
    ("oranges", "Oranges", colorous::ORANGES),
    ("purples", "Purples", colorous::PURPLES),
    ("reds", "Reds", colorous::REDS),
    ("blue_green", "BuGn", colorous::BLUE_GREEN),
    ("blue_purple", "BuPu", colorous::BLUE_PURPLE),
    ("green_blue", "GnBu", colorous::GREEN_BLUE),
    ("orange_red", "OrRd", colorous::ORANGE_RED),
    ("purple_blue_green", "PuBuGn", colorous::PURPLE_BLUE_GREEN),
    ("purple_blue", "PuBu", colorous::PURPLE_BLUE),
    ("purple_red", "PuRd", colorous::PURPLE_RED),
    ("red_purple", "RdPu", colorous::RED_PURPLE),
    ("yellow_green_blue", "YlGnBu", colorous::YELLOW_GREEN_BLUE),
    ("yellow_green", "YlGn", colorous::YELLOW_GREEN),
    (
        "yellow_orange_brown",
        "YlOrBr",
        colorous::YELLOW_ORANGE_BROWN,
    ),
    ("yellow_orange_red", "YlOrRd", colorous::YELLOW_ORANGE_RED),
    ("brown_green", "BrBG", colorous::BROWN_GREEN),
    ("purple_green", "PRGn", colorous::PURPLE_GREEN),
    ("pink_green", "PiYG", colorous::PINK_GREEN),
    ("purple_orange", "PuOr", colorous::PURPLE_ORANGE),
    ("red_blue", "RdBu", colorous::RED_BLUE),
    ("red_grey", "RdGy", colorous::RED_GREY),
    ("red_yellow_blue", "RdYlBu", colorous::RED_YELLOW_BLUE),
    ("red_yellow_green", "RdYlGn", colorous::RED_YELLOW_GREEN),
    ("spectral", "Spectral", colorous::SPECTRAL),
];

/// Every gradient name a colormap accepts (each also with `_r`).
pub fn gradient_names() -> impl Iterator<Item = &'static str> {
    GRADIENTS.iter().map(|g| g.0)
}

/// A straight RGB colour with components in `[0, 1]`.
pub type Rgb = [f32; 3];

/// A map from `[0, 1]` to colours.
#[derive(Clone)]
pub struct Colormap {
    kind: Kind,
    reversed: bool,
    text: String,
}

#[derive(Clone)]
enum Kind {
    Gradient(colorous::Gradient),
    /// Evenly spaced stops, interpolated linearly in sRGB (as matplotlib's
    /// `LinearSegmentedColormap.from_list`).
    Stops(Vec<Rgb>),
}

impl fmt::Debug for Colormap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Colormap({})", self.text)
    }
}

impl fmt::Display for Colormap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Colormap {
    fn eq(&self, other: &Colormap) -> bool {
        self.text == other.text
    }
}

impl FromStr for Colormap {
    type Err = Error;

    /// A gradient name (`viridis`, `YlOrRd`, `blue_green`, any case;
    /// `_r` reverses it), or comma-separated colours (`#000,#ff0000,white`),
    /// evenly spaced from 0 to 1; a single colour is a one-colour map.
    fn from_str(s: &str) -> Result<Colormap> {
        let text = s.trim().to_string();
        if text.contains('#') || text.contains(',') {
            let stops = text
                .split(',')
                .map(|c| parse_color(c.trim()))
                .collect::<Result<Vec<Rgb>>>()?;
            return Ok(Colormap {
                kind: Kind::Stops(stops),
                reversed: false,
                text,
            });
        }
        let (base, reversed) = match text.strip_suffix("_r").or_else(|| text.strip_suffix("_R")) {
            Some(base) => (base, true),
            None => (text.as_str(), false),
        };
        let found = GRADIENTS
            .iter()
            .find(|(name, mpl, _)| {
                base.eq_ignore_ascii_case(name) || (!mpl.is_empty() && base == *mpl)
            })
            .or_else(|| {
                GRADIENTS
                    .iter()
                    .find(|(_, mpl, _)| base.eq_ignore_ascii_case(mpl))
            });
        match found {
            Some((_, _, g)) => Ok(Colormap {
                kind: Kind::Gradient(*g),
                reversed,
                text,
            }),
            None => match parse_color(&text) {
                Ok(c) => Ok(Colormap {
                    kind: Kind::Stops(vec![c]),
                    reversed: false,
                    text,
                }),
                Err(_) => Err(Error::request(format!(
                    "unknown colormap {text:?}; use one of {} (add _r to reverse), or colours such as \"#000000,#ff0000,#ffff00\"",
                    gradient_names().collect::<Vec<_>>().join(", ")
                ))),
            },
        }
    }
}

impl Colormap {
    /// A map through `colours`, evenly spaced from 0 to 1 and interpolated
    /// linearly, called `name` in descriptions: a colour table taken from
    /// elsewhere, such as a matplotlib colormap sampled at `i / 255`
    /// (sampled so, its 256 colours are what densebin's colour table
    /// holds). Fails unless there is at least one colour and every
    /// component is in `[0, 1]`.
    pub fn from_colors(name: impl Into<String>, colours: Vec<Rgb>) -> Result<Colormap> {
        check_colours(&colours)?;
        Ok(Colormap {
            kind: Kind::Stops(colours),
            reversed: false,
            text: name.into(),
        })
    }

    /// The colour at `t` (clamped to `[0, 1]`).
    pub fn eval(&self, t: f64) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let t = if self.reversed { 1.0 - t } else { t };
        match &self.kind {
            Kind::Gradient(g) => {
                let c = g.eval_continuous(t);
                [c.r, c.g, c.b].map(|v| f32::from(v) / 255.0)
            }
            Kind::Stops(stops) => {
                let last = stops.len() - 1;
                let pos = t * last as f64;
                let i = (pos.floor() as usize).min(last.saturating_sub(1));
                let j = (i + 1).min(last);
                let f = (pos - i as f64) as f32;
                [0, 1, 2].map(|c| stops[i][c] + (stops[j][c] - stops[i][c]) * f)
            }
        }
    }

    /// True for a one-colour map (opacity then carries the value, as in
    /// datashader).
    pub fn is_single_color(&self) -> bool {
        matches!(&self.kind, Kind::Stops(s) if s.len() == 1)
    }

    /// 256 colours sampled at `i / 255`, for per-pixel lookups.
    pub fn lut(&self) -> Lut {
        Lut::from_trusted((0..256).map(|i| self.eval(i as f64 / 255.0)).collect())
    }
}

/// A palette: colours for evenly spaced `t` from 0 to 1 (a colormap
/// sampled at 256 points, or a colour function's table), or in scatter
/// mode one colour per z bin.
#[derive(Clone, Debug, PartialEq)]
pub struct Lut(Vec<Rgb>);

impl Lut {
    /// A palette of `colours`; fails unless there is at least one colour and
    /// every component is in `[0, 1]`.
    pub fn new(colours: Vec<Rgb>) -> Result<Lut> {
        check_colours(&colours)?;
        Ok(Lut(colours))
    }

    /// A palette of colours known to be valid.
    pub(crate) fn from_trusted(colours: Vec<Rgb>) -> Lut {
        debug_assert!(check_colours(&colours).is_ok());
        Lut(colours)
    }

    /// The colour nearest to `t` in `[0, 1]`.
    #[inline]
    pub fn get(&self, t: f32) -> Rgb {
        let last = (self.0.len() - 1) as f32;
        self.0[(t.clamp(0.0, 1.0) * last + 0.5) as usize]
    }

    /// The colours, in order.
    pub fn colors(&self) -> &[Rgb] {
        &self.0
    }
}

/// Fails unless there is at least one colour and every component is in
/// `[0, 1]`.
fn check_colours(colours: &[Rgb]) -> Result<()> {
    if colours.is_empty() {
        return Err(Error::request("a colormap needs at least one colour"));
    }
    if let Some(c) = colours
        .iter()
        .find(|c| !c.iter().all(|v| (0.0..=1.0).contains(v)))
    {
        return Err(Error::request(format!(
            "colour components must be between 0 and 1, not {c:?}"
        )));
    }
    Ok(())
}

/// A colour: `#rgb`, `#rrggbb`, or one of a few names (`black`, `white`,
/// `grey`/`gray`, `red`, `green`, `blue`, `lightblue`, `darkblue`).
pub fn parse_color(s: &str) -> Result<Rgb> {
    let named = match s.to_ascii_lowercase().as_str() {
        "black" => Some("#000000"),
        "white" => Some("#ffffff"),
        "grey" | "gray" => Some("#808080"),
        "red" => Some("#ff0000"),
        "green" => Some("#008000"),
        "blue" => Some("#0000ff"),
        "lightblue" => Some("#add8e6"),
        "darkblue" => Some("#00008b"),
        _ => None,
    };
    let hex = named.unwrap_or(s);
    let bad = || {
        Error::request(format!(
            "not a colour: {s:?}; use #rrggbb, #rgb or black, white, grey, red, green, blue, lightblue, darkblue"
        ))
    };
    let digits = hex.strip_prefix('#').ok_or_else(bad)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let v = |i: usize, n: usize| u8::from_str_radix(&digits[i..i + n], 16).map_err(|_| bad());
    let rgb = match digits.len() {
        6 => [v(0, 2)?, v(2, 2)?, v(4, 2)?],
        3 => [v(0, 1)? * 17, v(1, 1)? * 17, v(2, 1)? * 17],
        _ => return Err(bad()),
    };
    Ok(rgb.map(|c| f32::from(c) / 255.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmap(s: &str) -> Colormap {
        s.parse().unwrap()
    }

    #[test]
    fn colour_tables_from_elsewhere_are_kept_exactly() {
        let table: Vec<Rgb> = (0..256)
            .map(|i| [i as f32 / 255.0, 0.5, 1.0 - i as f32 / 255.0])
            .collect();
        let c = Colormap::from_colors("matplotlib:test", table.clone()).unwrap();
        assert_eq!(c.to_string(), "matplotlib:test");
        let lut = c.lut();
        for (i, want) in table.iter().enumerate() {
            assert_eq!(lut.get(i as f32 / 255.0), *want, "entry {i}");
        }
        assert!(Colormap::from_colors("x", vec![]).is_err());
        assert!(Colormap::from_colors("x", vec![[1.5, 0.0, 0.0]]).is_err());
    }

    #[test]
    fn gradients_by_name_and_matplotlib_name() {
        let v = colorous::VIRIDIS;
        let c = v.eval_continuous(0.25);
        let want = [c.r, c.g, c.b].map(|x| f32::from(x) / 255.0);
        assert_eq!(cmap("viridis").eval(0.25), want);
        assert_eq!(cmap("Viridis").eval(0.25), want);
        assert_eq!(cmap("viridis_r").eval(0.75), want, "reversed");
        let y = colorous::YELLOW_ORANGE_RED.eval_continuous(0.5);
        assert_eq!(
            cmap("YlOrRd").eval(0.5),
            [y.r, y.g, y.b].map(|x| f32::from(x) / 255.0)
        );
        assert_eq!(
            cmap("yellow_orange_red").eval(0.5),
            cmap("YlOrRd").eval(0.5)
        );
        assert_eq!(gradient_names().count(), 38);
        for name in gradient_names() {
            assert!(name.parse::<Colormap>().is_ok(), "{name}");
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = "jet".parse::<Colormap>().unwrap_err().to_string();
        assert!(err.contains("unknown colormap \"jet\""), "{err}");
        assert!(
            err.contains("viridis") && err.contains("spectral") && err.contains("_r"),
            "{err}"
        );
    }

    #[test]
    fn custom_stops_interpolate_linearly() {
        let c = cmap("#000000,#ff0000,#ffff00");
        assert_eq!(c.eval(0.0), [0.0, 0.0, 0.0]);
        assert_eq!(c.eval(0.25), [0.5, 0.0, 0.0]);
        assert_eq!(c.eval(0.5), [1.0, 0.0, 0.0]);
        assert_eq!(c.eval(0.75), [1.0, 0.5, 0.0]);
        assert_eq!(c.eval(1.0), [1.0, 1.0, 0.0]);
        assert_eq!(c.eval(7.0), [1.0, 1.0, 0.0], "clamped");
        assert!(!c.is_single_color());
        let one = cmap("#0000ff");
        assert!(one.is_single_color());
        assert_eq!(one.eval(0.3), [0.0, 0.0, 1.0]);
        assert_eq!(cmap("white,black").eval(0.5), [0.5, 0.5, 0.5]);
        assert!("#12345,#000".parse::<Colormap>().is_err());
    }

    #[test]
    fn lut_samples_the_map() {
        let c = cmap("#000000,#ffffff");
        let lut = c.lut();
        assert_eq!(lut.get(0.0), [0.0; 3]);
        assert_eq!(lut.get(1.0), [1.0; 3]);
        assert_eq!(lut.get(0.5)[0], 128.0 / 255.0);
        assert_eq!(lut.get(f32::NAN)[0], 0.0);
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color("#fff").unwrap(), [1.0; 3]);
        assert_eq!(parse_color("#ff8000").unwrap(), [1.0, 128.0 / 255.0, 0.0]);
        assert_eq!(parse_color("White").unwrap(), [1.0; 3]);
        assert!(parse_color("#ggg").is_err());
        assert!(parse_color("ff0000").is_err());
        assert!(parse_color("#ff00").is_err());
    }
}
