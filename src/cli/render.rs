//! `densebin render INPUT... -o OUT.png`: bin and shade in one run,
//! optionally keeping the grid for re-shading.

use std::path::PathBuf;
use std::time::Instant;

use densebin::{Input, PointSource};

use super::Global;
use super::args::{self, Geometry, InputArgs, LayerArgs, ShadeArgs};
use super::bin::{bin_inputs, report};
use super::shade::{check, shade_and_write};

/// Arguments of `densebin render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files (`-` reads standard input).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// The image to write: PNG, or SVG when it ends in `.svg`.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,

    /// Also write the grid, to re-shade later with `densebin shade`.
    #[arg(long, value_name = "GRID.h5")]
    pub save_grid: Option<PathBuf>,

    #[command(flatten)]
    pub geometry: Geometry,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub layers: LayerArgs,

    #[command(flatten)]
    pub shading: ShadeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let shading = check(&args.shading, &args.output)?;
    let inputs: Vec<Input> = args.input.open(&args.inputs)?;
    // The layers the mode needs; with --save-grid also the default set, so
    // that the saved grid can be re-shaded in any mode.
    let needed = shading.required_layers();
    let layers = match (args.layers.layers, &args.save_grid) {
        (Some(l), _) => l.union(needed),
        (None, Some(_)) => {
            let has_z = inputs.iter().all(Input::has_z);
            densebin::LayerSet::default_for(has_z).union(needed)
        }
        (None, None) => needed,
    };
    let mut request = args::bin_request(&args.geometry, &args.layers);
    request.layers = Some(layers);
    let (grid, mut timing) = bin_inputs(inputs, &request, args.layers.max_memory, global)?;
    if let Some(path) = &args.save_grid {
        let started = Instant::now();
        args::writing(densebin::store::write_grid(&grid, path, &global.ctx), path)?;
        timing.push(("saved grid", started.elapsed()));
    }
    shade_and_write(&grid, &args.shading, &args.output, &mut timing, global)?;
    if !global.quiet {
        report(&grid, &args.output, &timing);
    }
    Ok(())
}
