//! # densebin
//!
//! Out-of-core density binning: stream point files far larger than memory
//! (text, raw binary records, `.npy`) once, in parallel, into per-pixel
//! accumulators — a [`Grid`] saved as HDF5 — and shade saved grids into
//! images without touching the input again.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! read ──► binning ──► grid ──► store (HDF5) ──► shade ──► encode (PNG)
//! text     rayon       ndarray  grid.h5          colormap  straight RGBA
//! binary   fold/merge  layers   (re-openable,    norm      text chunks
//! .npy                          mergeable)       alpha
//! ```
//!
//! - [`read`]: every format is a [`PointSource`], cut into independent
//!   chunks that workers read in parallel — files and streams
//!   ([`read::Input`]: text, raw records, `.npy`) and borrowed columns
//!   ([`read::ArraySource`], e.g. numpy arrays, binned without a copy);
//! - [`binning`] plans a run and folds chunks into one private grid per
//!   worker, then merges them ([`binning::BinRequest`] runs the whole
//!   pipeline);
//! - [`grid`] holds the canvas ([`GridSpec`]: datashader's pixel mapping),
//!   the one table of layers ([`grid::layers`]) and the [`Grid`], a
//!   commutative monoid under [`Grid::merge`];
//! - [`store`] writes and reads grid files atomically;
//! - [`shade`] turns a grid into an [`image::Image`] (premultiplied RGBA) and
//!   a [`shade::Legend`] of what it fitted: density, z statistics with
//!   density fading, or matplotlib's scatter;
//! - [`encode`] writes the image as PNG.
//!
//! Each run gets a [`RunContext`]: its threads, memory limit, progress
//! sink and cancellation token. Errors are one [`Error`], whose messages
//! name parameters ([`Param`]) that each front end spells its own way
//! ([`Error::render`]).
//!
//! ## Example
//!
//! ```
//! use densebin::{Grid, GridSpec, LayerSet};
//! use densebin::read::Points;
//!
//! # fn main() -> Result<(), densebin::Error> {
//! let layers: LayerSet = "count,sum".parse()?;
//! let spec = GridSpec::new(4, 2, (0.0, 4.0), (0.0, 2.0))?.with_layers(layers, None)?;
//!
//! // Two workers bin their own points...
//! let mut a = Grid::empty(spec.clone());
//! a.append(&Points { x: vec![0.5, 3.9], y: vec![0.5, 1.5], z: vec![1.0, 2.0], w: vec![], ..Default::default() })?;
//! let mut b = Grid::empty(spec);
//! b.append(&Points { x: vec![0.7], y: vec![0.1], z: vec![3.0], w: vec![], ..Default::default() })?;
//!
//! // ...and their grids merge.
//! a.merge(&b)?;
//! assert_eq!(a.count()[[0, 0]], 2); // row 0 is the bottom
//! assert_eq!(a.count()[[1, 3]], 1);
//! assert_eq!(a.mean_z().unwrap()[[0, 0]], 2.0);
//! # Ok(())
//! # }
//! ```
//!
//! Shading it is a pure function:
//!
//! ```
//! # use densebin::{Grid, GridSpec};
//! # use densebin::read::Points;
//! use densebin::shade::{How, Mode, Shading, shade};
//!
//! # fn main() -> Result<(), densebin::Error> {
//! # let spec = GridSpec::new(4, 2, (0.0, 4.0), (0.0, 2.0))?.with_layers("count,sum".parse()?, None)?;
//! # let mut a = Grid::empty(spec);
//! # a.append(&Points { x: vec![0.5, 3.9], y: vec![0.5, 1.5], z: vec![1.0, 2.0], w: vec![], ..Default::default() })?;
//! let shading = Shading {
//!     mode: Mode::Mean,
//!     how: Some(How::Log), // fade by density
//!     cmap: "turbo".parse()?,
//!     ..Shading::default()
//! };
//! let img = shade(&a, &shading)?.image;
//! // Image row 0 is the top: the bottom-left pixel holds a point, the
//! // top-left one is empty and transparent.
//! assert_eq!(img.pixel(0, 1).a, 1.0);
//! assert_eq!(img.pixel(0, 0).a, 0.0);
//! # Ok(())
//! # }
//! ```
//!
//! Reading files goes through [`read::Input`] and [`binning::BinRequest`]:
//!
//! ```no_run
//! use densebin::RunContext;
//! use densebin::binning::BinRequest;
//! use densebin::read::{Input, ReadOptions};
//! use densebin::shade::{Shading, shade};
//!
//! # fn main() -> Result<(), densebin::Error> {
//! // One context per run: threads, memory, progress, cancellation.
//! let ctx = RunContext::new();
//! let mut inputs = vec![Input::open("points.txt", &ReadOptions::default())?];
//! let grid = BinRequest::default().run(&mut inputs, &ctx)?;
//! densebin::store::write_grid(&grid, "points.h5".as_ref(), &ctx)?;
//! let img = shade(&grid, &Shading::default())?.image;
//! densebin::encode::write_png(&img, "points.png".as_ref(), Default::default(), &[], &ctx)?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod binning;
mod cache;
pub mod context;
pub mod convert;
pub mod encode;
pub mod error;
pub mod figure;
pub mod fsio;
pub mod grid;
pub mod image;
pub mod param;
pub mod read;
pub mod shade;
pub mod store;
pub mod sys;

pub use context::{CancelToken, Progress, RunContext};
pub use error::{Error, Result};
pub use grid::{Axis, Counters, Grid, GridSpec, InputInfo, Layer, LayerSet};
pub use param::Param;
pub use read::{Input, PointSource};
