//! `densebin shade GRID.h5 -o OUT.png`: turn a saved grid into an image,
//! without touching the input.

use std::path::{Path, PathBuf};
use std::time::Instant;

use densebin::Grid;
use densebin::encode::write_png;
use densebin::shade::shade;

use super::Global;
use super::args::{self, ShadeArgs};
use super::bin::{Timing, timings};

/// Arguments of `densebin shade`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A grid made by `densebin bin` (or `render --save-grid`, or `merge`).
    #[arg(value_name = "GRID.h5")]
    pub grid: PathBuf,

    /// The PNG to write.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,

    #[command(flatten)]
    pub shading: ShadeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let shading = args.shading.shading();
    shading.validate()?;
    let started = Instant::now();
    // Only the layers this shading needs: a density image does not read
    // the z histogram.
    let grid = densebin::store::read_grid_layers(&args.grid, Some(shading.required_layers()))?;
    let mut timing = vec![("read", started.elapsed())];
    shade_and_write(&grid, &args.shading, &args.output, &mut timing, global)?;
    if !global.quiet {
        eprintln!(
            "{}: {}x{} {} image; {}",
            args.output.display(),
            grid.spec().width(),
            grid.spec().height(),
            shading.mode,
            timings(&timing)
        );
    }
    Ok(())
}

/// Shades `grid` and writes the PNG, adding the times to `timing`.
pub fn shade_and_write(
    grid: &Grid,
    shade_args: &ShadeArgs,
    output: &Path,
    timing: &mut Timing,
    global: &Global,
) -> anyhow::Result<()> {
    let shading = shade_args.shading();
    let started = Instant::now();
    let shaded = shade(grid, &shading)?;
    let axis_names = densebin::grid::InputInfo::axis_names(grid.inputs());
    let img = match shade_args.frame.options(axis_names) {
        Some(opts) => {
            opts.validate()?;
            densebin::figure::frame(&shaded.image, &shaded.legend, grid.spec(), &opts).image
        }
        None => shaded.image,
    };
    timing.push(("shaded", started.elapsed()));
    let started = Instant::now();
    let text = densebin::encode::png_text(grid, &shading);
    args::writing(
        write_png(&img, output, shade_args.compression, &text, &global.ctx),
        output,
    )?;
    timing.push(("encoded", started.elapsed()));
    Ok(())
}
