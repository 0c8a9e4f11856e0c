//! The parameters of a request, as error messages name them.
//!
//! The library never spells a command-line flag: a message that tells the
//! user what to change names a [`Param`], and each front end spells it its
//! own way when it shows the error ([`crate::Error::render`]): the command
//! line as `--z-bins`, the Python package as `z_bins=`. `Display` of an
//! [`crate::Error`] spells them as their names in backticks, `` `z_bins` ``.

use std::fmt;

/// A parameter of a request that a message can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// Pixels across.
    Width,
    /// Pixels up.
    Height,
    /// The canvas's x range.
    XRange,
    /// The canvas's y range.
    YRange,
    /// The z histogram's range.
    ZRange,
    /// The number of z-histogram bins.
    ZBins,
    /// The layers to accumulate.
    Layers,
    /// Worker threads.
    Threads,
    /// Which of N byte ranges of the inputs to bin.
    Part,
    /// A figure's tick label size in points.
    FontSize,
    /// The x column.
    X,
    /// The y column.
    Y,
    /// The z column.
    Z,
    /// The weight column.
    Weight,
    /// Values per record of raw binary input.
    Fields,
    /// The input format.
    Format,
    /// The text column separator.
    Delimiter,
    /// Whether text starts with a header line.
    Header,
    /// Skipping malformed text lines.
    SkipBadLines,
    /// What shading shows.
    Mode,
    /// Shading's normalisation.
    How,
    /// The range of the shaded density values.
    Span,
    /// The z values at the ends of the colormap.
    ZSpan,
    /// Opacity.
    Alpha,
    /// The least opacity.
    MinAlpha,
    /// Shading the weight sum instead of the count.
    Weighted,
    /// The colormap.
    Cmap,
    /// dynspread's density threshold.
    Threshold,
    /// dynspread's largest radius.
    MaxSpread,
    /// The category column.
    By,
    /// The categories to count, fixed up front.
    Categories,
    /// The colours of categories.
    ColorKey,
}

impl Param {
    /// Every parameter.
    pub const ALL: [Param; 32] = [
        Param::Width,
        Param::Height,
        Param::XRange,
        Param::YRange,
        Param::ZRange,
        Param::ZBins,
        Param::Layers,
        Param::Threads,
        Param::Part,
        Param::FontSize,
        Param::X,
        Param::Y,
        Param::Z,
        Param::Weight,
        Param::Fields,
        Param::Format,
        Param::Delimiter,
        Param::Header,
        Param::SkipBadLines,
        Param::Mode,
        Param::How,
        Param::Span,
        Param::ZSpan,
        Param::Alpha,
        Param::MinAlpha,
        Param::Weighted,
        Param::Cmap,
        Param::Threshold,
        Param::MaxSpread,
        Param::By,
        Param::Categories,
        Param::ColorKey,
    ];

    /// The neutral name, in snake case: `z_bins`.
    pub fn name(self) -> &'static str {
        match self {
            Param::Width => "width",
            Param::Height => "height",
            Param::XRange => "x_range",
            Param::YRange => "y_range",
            Param::ZRange => "z_range",
            Param::ZBins => "z_bins",
            Param::Layers => "layers",
            Param::Threads => "threads",
            Param::Part => "part",
            Param::FontSize => "font_size",
            Param::X => "x",
            Param::Y => "y",
            Param::Z => "z",
            Param::Weight => "weight",
            Param::Fields => "fields",
            Param::Format => "format",
            Param::Delimiter => "delimiter",
            Param::Header => "header",
            Param::SkipBadLines => "skip_bad_lines",
            Param::Mode => "mode",
            Param::How => "how",
            Param::Span => "span",
            Param::ZSpan => "z_span",
            Param::Alpha => "alpha",
            Param::MinAlpha => "min_alpha",
            Param::Weighted => "weighted",
            Param::Cmap => "cmap",
            Param::Threshold => "threshold",
            Param::MaxSpread => "max_spread",
            Param::By => "by",
            Param::Categories => "categories",
            Param::ColorKey => "color_key",
        }
    }

    /// The parameter as a placeholder inside a message under construction,
    /// which [`spell`] replaces when the message is shown.
    pub(crate) fn mark(self) -> Marked {
        Marked(self)
    }
}

/// Starts and ends a parameter's placeholder in a message: code points of
/// Unicode's private use area, which no text densebin shows holds
/// unescaped (quoted fields and names are shown escaped).
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// A [`Param`] formatted as a placeholder (see [`Param::mark`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marked(Param);

impl fmt::Display for Marked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{OPEN}{}{CLOSE}", self.0.name())
    }
}

/// `message` with every placeholder replaced by `spell` of its parameter.
pub(crate) fn spell(message: &str, spell: &dyn Fn(Param) -> String) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(OPEN) {
        out.push_str(&rest[..open]);
        let after = &rest[open + OPEN.len_utf8()..];
        let Some(close) = after.find(CLOSE) else {
            out.push_str(after);
            return out;
        };
        let name = &after[..close];
        match Param::ALL.into_iter().find(|p| p.name() == name) {
            Some(p) => out.push_str(&spell(p)),
            None => out.push_str(name),
        }
        rest = &after[close + CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_distinct() {
        let names: std::collections::HashSet<&str> = Param::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Param::ALL.len());
        for n in names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
    }

    #[test]
    fn placeholders_are_spelled() {
        let msg = format!(
            "lower {}/{} or {}",
            Param::Width.mark(),
            Param::Height.mark(),
            Param::ZBins.mark()
        );
        let flag = |p: Param| format!("--{}", p.name().replace('_', "-"));
        assert_eq!(spell(&msg, &flag), "lower --width/--height or --z-bins");
        assert_eq!(
            spell(&msg, &|p| format!("{}=", p.name())),
            "lower width=/height= or z_bins="
        );
        assert_eq!(spell("no parameters", &flag), "no parameters");
        let odd = format!("{OPEN}nothing{CLOSE} and {OPEN}open");
        assert_eq!(spell(&odd, &flag), "nothing and open");
    }
}
