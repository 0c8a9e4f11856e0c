//! Figures: the shaded image inside axes, with ticks and tick labels in
//! data units, axis labels, a title and a colorbar, as PNG or SVG.
//!
//! `ticks` places and labels ticks exactly as matplotlib's default axis
//! does (`MaxNLocator` with steps 1, 2, 2.5, 5, 10 and `ScalarFormatter`),
//! so that a densebin figure and a matplotlib one of the same range and
//! size show the same tick values. `frame` lays a figure out as a list of
//! marks (`scene`), which become pixels or an SVG (`svg`) with the same
//! layout; `text` measures and draws the embedded face.

mod colorbar;
mod frame;
pub mod logticks;
mod scene;
mod svg;
mod text;
pub mod ticks;

pub use colorbar::{BarTick, colorbar_ticks};
pub use frame::{DPI, FrameOptions, frame};
pub use scene::{Figure, Mark};
