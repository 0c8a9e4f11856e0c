//! A figure as SVG: rectangles, the rasters as embedded PNGs drawn with
//! `image-rendering: pixelated`, and text as the glyphs' outlines, so
//! that the viewer's fonts do not matter. The layout is the raster's: the
//! same marks at the same places.

use std::fmt::Write as _;

use ab_glyph::{Font, OutlineCurve, PxScale, ScaleFont};

use super::scene::{Figure, Mark};
use super::text;
use crate::encode::{Compression, encode_png};
use crate::shade::Rgb;

impl Figure<'_> {
    /// The figure as an SVG document. Rasters are embedded as PNGs
    /// compressed at `compression`, the first (the plot area) with `text`
    /// as its text chunks, so it is the bare PNG byte for byte.
    pub fn to_svg(
        &self,
        compression: Compression,
        text: &[(String, String)],
    ) -> Result<String, png::EncodingError> {
        let mut s = String::new();
        let (w, h) = (self.width, self.height);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
             width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">"
        );
        if let Some(title) = &self.title {
            let _ = writeln!(s, "<title>{}</title>", escape(title));
        }
        let mut first_raster = true;
        for mark in &self.marks {
            match mark {
                Mark::Rect {
                    x0,
                    y0,
                    x1,
                    y1,
                    colour,
                } => {
                    if x1 > x0 && y1 > y0 {
                        let _ = writeln!(
                            s,
                            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" \
                             fill=\"{}\" shape-rendering=\"crispEdges\"/>",
                            x1 - x0,
                            y1 - y0,
                            hex(*colour)
                        );
                    }
                }
                Mark::Raster { x, y, image } => {
                    let chunks = if first_raster { text } else { &[] };
                    first_raster = false;
                    let mut png = Vec::new();
                    encode_png(image, &mut png, compression, chunks)?;
                    let _ = write!(
                        s,
                        "<image x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" \
                         preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" \
                         style=\"image-rendering:pixelated\" href=\"data:image/png;base64,",
                        image.width(),
                        image.height()
                    );
                    base64(&png, &mut s);
                    s.push_str("\"/>\n");
                }
                Mark::Text {
                    text,
                    px,
                    x,
                    y,
                    upright,
                    colour,
                } => {
                    let _ = write!(
                        s,
                        "<path aria-label=\"{}\" fill=\"{}\" d=\"",
                        escape(text),
                        hex(*colour)
                    );
                    outline(&mut s, text, *px, *x, *y, *upright);
                    s.push_str("\"/>\n");
                }
            }
        }
        s.push_str("</svg>\n");
        Ok(s)
    }
}

/// Appends the path data of `text`'s glyph outlines, placed as
/// [`text::draw`] places the glyphs.
fn outline(s: &mut String, line: &str, px: f32, x: f32, y: f32, upright: bool) {
    let font = text::font();
    let scaled = font.as_scaled(PxScale::from(px));
    let (sx, sy) = (scaled.h_scale_factor(), scaled.v_scale_factor());
    for (id, pen) in text::layout(&scaled, line).0 {
        let Some(outline) = font.outline(id) else {
            continue;
        };
        // Font units have y upwards; a pen offset `u` along the baseline
        // and `v` below it land at (x + u, y + v), or turned, (x + v, y - u).
        let at = |p: ab_glyph::Point| {
            let (u, v) = (pen + p.x * sx, -p.y * sy);
            if upright {
                (x + u, y + v)
            } else {
                (x + v, y - u)
            }
        };
        let mut last = None;
        for curve in &outline.curves {
            let (start, end) = match *curve {
                OutlineCurve::Line(a, b) | OutlineCurve::Quad(a, _, b) => (a, b),
                OutlineCurve::Cubic(a, _, _, b) => (a, b),
            };
            if last != Some(start) {
                if last.is_some() {
                    s.push('Z');
                }
                point(s, 'M', at(start));
            }
            match *curve {
                OutlineCurve::Line(_, b) => point(s, 'L', at(b)),
                OutlineCurve::Quad(_, b, c) => {
                    point(s, 'Q', at(b));
                    point(s, ' ', at(c));
                }
                OutlineCurve::Cubic(_, b, c, d) => {
                    point(s, 'C', at(b));
                    point(s, ' ', at(c));
                    point(s, ' ', at(d));
                }
            }
            last = Some(end);
        }
        if last.is_some() {
            s.push('Z');
        }
    }
}

/// Appends a path command (or a space) and a point.
fn point(s: &mut String, command: char, (x, y): (f32, f32)) {
    let _ = write!(s, "{command}{} {}", num(x), num(y));
}

/// `#rrggbb`.
fn hex(c: Rgb) -> String {
    let [r, g, b] = c.map(crate::image::to_u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `v` with at most two decimals, without trailing zeros.
fn num(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Text made safe inside an XML attribute or element.
fn escape(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Appends `bytes` in standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}
