//! `densebin bin INPUT... -o GRID.h5`: bin points into a grid file.

use std::path::PathBuf;
use std::time::Instant;

use densebin::Grid;

use super::Global;
use super::args::{self, Geometry, InputArgs, LayerArgs, thousands};
use super::progress::Bar;

/// Arguments of `densebin bin`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files (`-` reads standard input).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// The grid file to write (HDF5).
    #[arg(short, long, value_name = "GRID.h5")]
    pub output: PathBuf,

    #[command(flatten)]
    pub geometry: Geometry,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub layers: LayerArgs,
}

pub fn run(args: Args, global: Global) -> anyhow::Result<()> {
    let started = Instant::now();
    let grid = bin_inputs(
        &args.inputs,
        &args.geometry,
        &args.input,
        &args.layers,
        global,
    )?;
    args::writing(
        densebin::store::write_grid(&grid, &args.output),
        &args.output,
    )?;
    if !global.quiet {
        eprintln!("{}", summary(&grid));
        eprintln!(
            "wrote {} in {:.2} s",
            args.output.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Opens the inputs and bins them, with a progress bar.
pub fn bin_inputs(
    paths: &[PathBuf],
    geometry: &Geometry,
    input: &InputArgs,
    layers: &LayerArgs,
    global: Global,
) -> anyhow::Result<Grid> {
    let mut inputs = input.open(paths)?;
    let request = args::bin_request(geometry, layers, global.threads);
    let bar = Bar::new(global.quiet);
    let grid = request.run(&mut inputs, Some(&bar));
    bar.finish();
    Ok(grid?)
}

/// What happened to the points, in one or two lines.
pub fn summary(grid: &Grid) -> String {
    let c = grid.counters();
    let spec = grid.spec();
    let mut out = format!(
        "binned {} of {} points into {}x{} pixels (layers {})",
        thousands(c.points_binned),
        thousands(c.points_read),
        spec.width(),
        spec.height(),
        spec.layers()
    );
    let mut dropped = Vec::new();
    if c.nonfinite_xy > 0 {
        dropped.push(format!(
            "{} with non-finite x or y",
            thousands(c.nonfinite_xy)
        ));
    }
    if c.out_of_range > 0 {
        dropped.push(format!("{} outside the ranges", thousands(c.out_of_range)));
    }
    if !dropped.is_empty() {
        out += &format!("; not binned: {}", dropped.join(", "));
    }
    if c.nonfinite_z > 0 {
        out += &format!("; {} with non-finite z", thousands(c.nonfinite_z));
    }
    if c.z_clipped > 0 {
        out += &format!("; {} z outside the z range", thousands(c.z_clipped));
    }
    if c.bad_lines > 0 {
        let firsts: Vec<String> = grid
            .inputs()
            .iter()
            .filter(|i| !i.bad_lines.is_empty())
            .map(|i| {
                let lines: Vec<String> = i.bad_lines.iter().map(u64::to_string).collect();
                format!("{} line {}", i.name, lines.join(", "))
            })
            .collect();
        out += &format!(
            "\nskipped {} malformed line{} (first: {})",
            thousands(c.bad_lines),
            if c.bad_lines == 1 { "" } else { "s" },
            firsts.join("; ")
        );
    }
    out
}
