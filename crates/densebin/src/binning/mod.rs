//! Binning: the per-point kernel ([`Grid::append`](crate::Grid::append)),
//! the workers' accumulators, the parallel driver that folds every chunk
//! of the inputs into one accumulator per worker and merges them, and the
//! plan before it (layers, ranges, spec, workers, memory).
//!
//! [`BinRequest`] runs the whole read → bin pipeline; the command line's
//! `bin` and `render` are thin wrappers around it.

mod accumulator;
mod categories;
mod driver;
mod kernel;
mod plan;

pub use accumulator::{Accumulator, SharedZhist};
pub use categories::SharedCategories;
pub use driver::{bin, data_bounds, read_points};
pub use plan::{BinRequest, Plan, check_memory};
