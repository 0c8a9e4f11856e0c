//! A laid-out figure: a list of marks in pixel coordinates, drawn in
//! order, that becomes either a raster ([`Figure::to_image`]) or an SVG
//! ([`Figure::to_svg`](crate::figure::Figure::to_svg)). Both come from the
//! same marks, so the PNG and the SVG of a figure have the same layout.

use std::borrow::Cow;

use super::text;
use crate::image::{Image, Premultiplied};
use crate::shade::Rgb;

/// One thing drawn in a figure, in pixels from the top left.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Mark<'a> {
    /// An opaque rectangle covering the pixels `x0..x1` × `y0..y1`.
    Rect {
        /// Left edge (first column).
        x0: usize,
        /// Top edge (first row).
        y0: usize,
        /// Right edge (one past the last column).
        x1: usize,
        /// Bottom edge (one past the last row).
        y1: usize,
        /// Its colour.
        colour: Rgb,
    },
    /// An image placed pixel for pixel with its top left at `(x, y)`, on
    /// pixels no other mark has covered: its pixels are the figure's.
    Raster {
        /// Left edge.
        x: usize,
        /// Top edge.
        y: usize,
        /// The pixels.
        image: Cow<'a, Image>,
    },
    /// A line of text in the embedded face (DejaVu Sans), anti-aliased.
    Text {
        /// What it says.
        text: String,
        /// Its size in pixels.
        px: f32,
        /// Where its baseline starts, from the left.
        x: f32,
        /// Where its baseline starts, from the top.
        y: f32,
        /// Horizontal; otherwise turned a quarter anticlockwise, reading
        /// upwards from `(x, y)`.
        upright: bool,
        /// Its colour.
        colour: Rgb,
    },
}

impl Mark<'_> {
    /// The box `[left, top, right, bottom]` the mark covers, in pixels; a
    /// text's is its advance by the face's ascent and descent.
    pub fn bounds(&self) -> [f32; 4] {
        match self {
            Mark::Rect { x0, y0, x1, y1, .. } => [*x0 as f32, *y0 as f32, *x1 as f32, *y1 as f32],
            Mark::Raster { x, y, image } => [
                *x as f32,
                *y as f32,
                (x + image.width()) as f32,
                (y + image.height()) as f32,
            ],
            Mark::Text {
                text,
                px,
                x,
                y,
                upright,
                ..
            } => text::measure(text, *px).bounds(*x, *y, *upright),
        }
    }
}

/// A figure: its size, where its plot area is, and its marks.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure<'a> {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) plot: (usize, usize),
    pub(super) title: Option<String>,
    pub(super) marks: Vec<Mark<'a>>,
}

impl<'a> Figure<'a> {
    /// A figure that is `image` alone: no frame, the plot area is all of it.
    pub fn bare(image: &'a Image) -> Figure<'a> {
        Figure {
            width: image.width(),
            height: image.height(),
            plot: (0, 0),
            title: None,
            marks: vec![Mark::Raster {
                x: 0,
                y: 0,
                image: Cow::Borrowed(image),
            }],
        }
    }

    /// The image itself when this figure is [`Figure::bare`].
    pub fn bare_image(&self) -> Option<&Image> {
        match self.marks.as_slice() {
            [Mark::Raster { x: 0, y: 0, image }]
                if (image.width(), image.height()) == (self.width, self.height) =>
            {
                Some(image)
            }
            _ => None,
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

    /// Where the plot area's top left pixel is.
    pub fn plot(&self) -> (usize, usize) {
        self.plot
    }

    /// What is drawn, in order.
    pub fn marks(&self) -> &[Mark<'a>] {
        &self.marks
    }

    /// The figure as pixels. Rasters are copied unchanged, so a framed
    /// image's plot area equals the bare image's pixels exactly.
    pub fn to_image(&self) -> Image {
        let mut fig = Image::new(self.width, self.height);
        for mark in &self.marks {
            match mark {
                Mark::Rect {
                    x0,
                    y0,
                    x1,
                    y1,
                    colour,
                } => {
                    let p = Premultiplied::from_straight(*colour, 1.0);
                    for y in *y0..(*y1).min(self.height) {
                        for x in *x0..(*x1).min(self.width) {
                            fig.set_pixel(x, y, p);
                        }
                    }
                }
                Mark::Raster { x, y, image } => {
                    let w = image.width().min(self.width.saturating_sub(*x));
                    let h = image.height().min(self.height.saturating_sub(*y));
                    for row in 0..h {
                        for col in 0..w {
                            fig.set_pixel(x + col, y + row, image.pixel(col, row));
                        }
                    }
                }
                Mark::Text {
                    text,
                    px,
                    x,
                    y,
                    upright,
                    colour,
                } => text::draw(&mut fig, text, *px, *x, *y, *colour, *upright),
            }
        }
        fig
    }
}
