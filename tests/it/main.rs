//! densebin's one integration-test binary: the library against an
//! independent oracle, the merge laws, every input format, the grid file,
//! and the command line.

mod categories;
mod compressed;
mod context;
mod datasets;
mod errors;
mod figure;
mod fixtures;
mod formats;
mod kernel;
mod las;
mod laws;
mod logaxes;
mod oracle;
mod parquet;
mod parts;
mod scenario;
mod shading;
mod store;
mod svg;
mod ticks;
