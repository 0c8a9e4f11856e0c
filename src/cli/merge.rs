//! `densebin merge A.h5 B.h5 ... -o OUT.h5`: add grids of the same spec.

use std::path::PathBuf;

use anyhow::Context;
use densebin::store::{read_grid, write_grid};

use super::Global;
use super::args;

/// Arguments of `densebin merge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Grid files made with the same canvas and layers.
    #[arg(required = true, value_name = "GRID.h5")]
    pub inputs: Vec<PathBuf>,

    /// The merged grid file.
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (first, rest) = args.inputs.split_first().context("no grids to merge")?;
    let mut grid = read_grid(first)?;
    for path in rest {
        let other = read_grid(path)?;
        grid.merge(&other)
            .with_context(|| format!("{}", path.display()))?;
    }
    args::writing(write_grid(&grid, &args.output, &global.ctx), &args.output)?;
    if !global.quiet {
        eprintln!(
            "merged {} grids ({} points binned) into {}",
            args.inputs.len(),
            args::thousands(grid.counters().points_binned),
            args.output.display()
        );
    }
    Ok(())
}
