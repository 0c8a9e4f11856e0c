//! Figures: the shaded image inside axes, with ticks and tick labels in
//! data units, axis labels, a title and a colorbar (issue 13, under way).
//!
//! `ticks` places and labels ticks exactly as matplotlib's default axis
//! does (`MaxNLocator` with steps 1, 2, 2.5, 5, 10 and `ScalarFormatter`),
//! so that a densebin figure and a matplotlib one of the same range and
//! size show the same tick values.

mod frame;
mod text;
pub mod ticks;

pub use frame::{BarTick, DPI, FrameOptions, Framed, colorbar_ticks, frame};
