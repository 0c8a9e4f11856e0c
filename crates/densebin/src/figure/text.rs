//! Text: DejaVu Sans (matplotlib's default face), embedded in the binary
//! so that no system font is needed, laid out with its advances and
//! kerning and drawn anti-aliased from its outlines (ab_glyph).

use ab_glyph::{Font, FontRef, GlyphId, PxScale, PxScaleFont, ScaleFont};

use crate::image::{Image, Premultiplied};
use crate::shade::Rgb;

/// DejaVu Sans 2.37 (Bitstream Vera licence, beside it in `assets/`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The embedded face.
pub(crate) fn font() -> FontRef<'static> {
    FontRef::try_from_slice(DEJAVU_SANS).expect("the embedded font parses")
}

/// A line of text at a size in pixels: its width, and its ascent and
/// descent (pixels above and below the baseline).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Extent {
    pub width: f32,
    pub ascent: f32,
    pub descent: f32,
}

impl Extent {
    pub fn height(&self) -> f32 {
        self.ascent + self.descent
    }

    /// The box `[left, top, right, bottom]` of this line drawn with its
    /// baseline starting at `(x, y)`, upright or turned to read upwards.
    pub fn bounds(&self, x: f32, y: f32, upright: bool) -> [f32; 4] {
        if upright {
            [x, y - self.ascent, x + self.width, y + self.descent]
        } else {
            [x - self.ascent, y - self.width, x + self.descent, y]
        }
    }
}

/// How `text` measures at `px`.
pub(crate) fn measure(text: &str, px: f32) -> Extent {
    let font = font();
    let scaled = font.as_scaled(PxScale::from(px));
    Extent {
        width: layout(&scaled, text).1,
        ascent: scaled.ascent(),
        descent: -scaled.descent(),
    }
}

/// The glyphs of `text` with their pen positions along the baseline
/// (advances and kerning), and the line's whole advance.
pub(crate) fn layout<F: Font>(scaled: &PxScaleFont<&F>, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let mut pen = 0.0f32;
    let mut last = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(prev) = last {
            pen += scaled.kern(prev, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        last = Some(id);
    }
    (glyphs, pen)
}

/// Draws `text` at `px` in `colour` with its baseline starting at `(x,
/// y)` (pixels from the top left), rotated a quarter turn anticlockwise
/// when `upright` is false (for a y axis's label: it then reads upwards
/// from `(x, y)`). Glyphs are rasterised at their exact, fractional places,
/// so a glyph's pixels are the coverage of the very outline an SVG of the
/// figure draws there.
pub(crate) fn draw(
    img: &mut Image,
    text: &str,
    px: f32,
    x: f32,
    y: f32,
    colour: Rgb,
    upright: bool,
) {
    let font = font();
    let scaled = font.as_scaled(PxScale::from(px));
    let (fx, fy) = (x.floor(), y.floor());
    for (id, pen) in layout(&scaled, text).0 {
        // Upright, the glyph's raster is the figure's pixels. Turned, the
        // raster's columns become rows counted upwards from the baseline's
        // start: placed at `(pen - frac(y), frac(x))`, its pixel edges
        // fall on the figure's.
        let at = if upright {
            ab_glyph::point(x + pen, y)
        } else {
            ab_glyph::point(pen - (y - fy), x - fx)
        };
        let Some(outline) = font.outline_glyph(id.with_scale_and_position(px, at)) else {
            continue;
        };
        let b = outline.px_bounds();
        let (u0, v0) = (b.min.x as i64, b.min.y as i64);
        outline.draw(|gx, gy, coverage| {
            let (u, v) = (u0 + i64::from(gx), v0 + i64::from(gy));
            let (col, row) = if upright {
                (u, v)
            } else {
                (fx as i64 + v, fy as i64 - u - 1)
            };
            blend(img, col, row, colour, coverage);
        });
    }
}

fn blend(img: &mut Image, x: i64, y: i64, colour: Rgb, coverage: f32) {
    if coverage <= 0.0 || x < 0 || y < 0 {
        return;
    }
    let (x, y) = (x as usize, y as usize);
    if x >= img.width() || y >= img.height() {
        return;
    }
    let src = Premultiplied::from_straight(colour, coverage.min(1.0));
    img.set_pixel(x, y, src.over(img.pixel(x, y)));
}
