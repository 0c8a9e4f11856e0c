//! A small RGBA image: premultiplied `f32` inside, straight 8-bit alpha only
//! when it is encoded.
//!
//! Premultiplied colour makes compositing one formula (`src + (1 - src.a) ·
//! dst`) and keeps faint pixels exact: a pixel of opacity 0.01 keeps its
//! colour to full precision until the very end. Row 0 is the **top** of the
//! image (the largest y), as in every image format.

use rayon::prelude::*;

/// A premultiplied RGBA colour with components in `[0, 1]` (`r, g, b <= a`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Premultiplied {
    /// Red times alpha.
    pub r: f32,
    /// Green times alpha.
    pub g: f32,
    /// Blue times alpha.
    pub b: f32,
    /// Opacity.
    pub a: f32,
}

impl Premultiplied {
    /// Fully transparent.
    pub const TRANSPARENT: Premultiplied = Premultiplied {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        a: 0.0,
    };

    /// The straight colour `rgb` (components in `[0, 1]`) at opacity `a`.
    #[inline]
    pub fn from_straight(rgb: [f32; 3], a: f32) -> Premultiplied {
        Premultiplied {
            r: rgb[0] * a,
            g: rgb[1] * a,
            b: rgb[2] * a,
            a,
        }
    }

    /// `self` composited over `dst` (Porter–Duff "over").
    #[inline]
    pub fn over(self, dst: Premultiplied) -> Premultiplied {
        let k = 1.0 - self.a;
        Premultiplied {
            r: self.r + k * dst.r,
            g: self.g + k * dst.g,
            b: self.b + k * dst.b,
            a: self.a + k * dst.a,
        }
    }

    /// Straight 8-bit RGBA: alpha rounded, colour divided by alpha and
    /// rounded; fully transparent pixels are `[0, 0, 0, 0]`.
    #[inline]
    pub fn to_straight_rgba8(self) -> [u8; 4] {
        let a8 = to_u8(self.a);
        if a8 == 0 {
            return [0; 4];
        }
        let inv = 1.0 / self.a;
        [
            to_u8(self.r * inv),
            to_u8(self.g * inv),
            to_u8(self.b * inv),
            a8,
        ]
    }
}

/// `v` in `[0, 1]` to the nearest of 0..=255.
#[inline]
pub fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

impl From<Premultiplied> for [f32; 4] {
    #[inline]
    fn from(p: Premultiplied) -> [f32; 4] {
        [p.r, p.g, p.b, p.a]
    }
}

impl From<[f32; 4]> for Premultiplied {
    #[inline]
    fn from([r, g, b, a]: [f32; 4]) -> Premultiplied {
        Premultiplied { r, g, b, a }
    }
}

/// An RGBA image, premultiplied, row 0 at the top.
///
/// Pixels are stored as `[r, g, b, a]` arrays of `f32` (premultiplied), so
/// that a new image is one zeroed allocation that the kernel provides lazily
/// — a transparent 4000 x 4000 image costs nothing until it is painted.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    width: usize,
    height: usize,
    data: Vec<[f32; 4]>,
}

impl Image {
    /// A transparent image.
    pub fn new(width: usize, height: usize) -> Image {
        Image {
            width,
            height,
            data: vec![[0.0; 4]; width * height],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixel in column `x` of row `y` (row 0 at the top).
    pub fn pixel(&self, x: usize, y: usize) -> Premultiplied {
        self.data[y * self.width + x].into()
    }

    /// Sets the pixel in column `x` of row `y`.
    pub fn set_pixel(&mut self, x: usize, y: usize, p: Premultiplied) {
        self.data[y * self.width + x] = p.into();
    }

    /// Every pixel, row by row from the top.
    pub fn pixels(&self) -> impl ExactSizeIterator<Item = Premultiplied> + '_ {
        self.data.iter().map(|&p| p.into())
    }

    /// Fills every row in parallel: `fill(y, row)` writes row `y` (0 at
    /// the top) as premultiplied `[r, g, b, a]`.
    pub fn fill_rows(&mut self, fill: impl Fn(usize, &mut [[f32; 4]]) + Sync) {
        self.data
            .par_chunks_mut(self.width.max(1))
            .enumerate()
            .for_each(|(y, row)| fill(y, row));
    }

    /// Composites the image over an opaque background colour (straight RGB
    /// in `[0, 1]`); the result is opaque.
    pub fn over_background(&mut self, rgb: [f32; 3]) {
        let bg = Premultiplied::from_straight(rgb, 1.0);
        self.data
            .par_iter_mut()
            .for_each(|p| *p = Premultiplied::from(*p).over(bg).into());
    }

    /// Straight-alpha RGBA bytes, row by row from the top (what PNG stores).
    pub fn to_rgba8(&self) -> Vec<u8> {
        const RUN: usize = 1 << 14;
        let mut out = vec![0u8; self.data.len() * 4];
        out.par_chunks_mut(RUN * 4)
            .zip(self.data.par_chunks(RUN))
            .for_each(|(out, px)| {
                for (o, &p) in out.chunks_exact_mut(4).zip(px) {
                    o.copy_from_slice(&Premultiplied::from(p).to_straight_rgba8());
                }
            });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_is_porter_duff() {
        let red = Premultiplied::from_straight([1.0, 0.0, 0.0], 0.5);
        let blue = Premultiplied::from_straight([0.0, 0.0, 1.0], 1.0);
        let p = red.over(blue);
        assert_eq!(
            p,
            Premultiplied {
                r: 0.5,
                g: 0.0,
                b: 0.5,
                a: 1.0
            }
        );
        assert_eq!(red.over(Premultiplied::TRANSPARENT), red);
        assert_eq!(Premultiplied::TRANSPARENT.over(blue), blue);
    }

    #[test]
    fn straight_alpha_only_at_the_end() {
        // A faint pixel keeps its colour exactly.
        let faint = Premultiplied::from_straight([0.2, 0.6, 1.0], 0.02);
        assert_eq!(faint.to_straight_rgba8(), [51, 153, 255, 5]);
        assert_eq!(Premultiplied::TRANSPARENT.to_straight_rgba8(), [0; 4]);
        // Below half a step of alpha a pixel is transparent.
        assert_eq!(
            Premultiplied::from_straight([1.0; 3], 0.001).to_straight_rgba8(),
            [0; 4]
        );
        assert_eq!(to_u8(-1.0), 0);
        assert_eq!(to_u8(2.0), 255);
        assert_eq!(to_u8(0.5), 128);
    }

    #[test]
    fn background_compositing() {
        let mut img = Image::new(2, 1);
        img.set_pixel(0, 0, Premultiplied::from_straight([1.0, 0.0, 0.0], 0.25));
        img.over_background([0.0, 0.0, 1.0]);
        assert_eq!(
            img.pixel(0, 0),
            Premultiplied {
                r: 0.25,
                g: 0.0,
                b: 0.75,
                a: 1.0
            }
        );
        assert_eq!(
            img.pixel(1, 0),
            Premultiplied {
                r: 0.0,
                g: 0.0,
                b: 1.0,
                a: 1.0
            }
        );
        assert_eq!(img.to_rgba8(), vec![64, 0, 191, 255, 0, 0, 255, 255]);
    }
}
