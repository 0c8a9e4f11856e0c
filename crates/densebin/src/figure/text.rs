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
fn layout<F: Font>(scaled: &PxScaleFont<&F>, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
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
/// from `(x, y)`).
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
    for (id, pen) in layout(&scaled, text).0 {
        let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, 0.0));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            // Glyph pixel (gx, gy) of its box, relative to the pen's baseline.
            let (u, v) = (b.min.x + gx as f32, b.min.y + gy as f32);
            let (px_x, px_y) = if upright {
                (x + u, y + v)
            } else {
                (x + v, y - u)
            };
            blend(img, px_x, px_y, colour, coverage);
        });
    }
}

fn blend(img: &mut Image, x: f32, y: f32, colour: Rgb, coverage: f32) {
    if coverage <= 0.0 || x < 0.0 || y < 0.0 {
        return;
    }
    let (x, y) = (x as usize, y as usize);
    if x >= img.width() || y >= img.height() {
        return;
    }
    let src = Premultiplied::from_straight(colour, coverage.min(1.0));
    img.set_pixel(x, y, src.over(img.pixel(x, y)));
}
