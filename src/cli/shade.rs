//! `densebin shade GRID.h5 -o OUT.png`: turn a saved grid into an image,
//! without touching the input.

use std::path::{Path, PathBuf};
use std::time::Instant;

use densebin::Grid;
use densebin::encode::{Format, write_figure};
use densebin::figure::{Figure, frame};
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

    /// The image to write: PNG, or SVG when it ends in `.svg`.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,

    #[command(flatten)]
    pub shading: ShadeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let shading = check(&args.shading, &args.output)?;
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

/// The shading the flags ask for, once it, the frame and the output's
/// format are known to be good (before any work).
pub fn check(shade_args: &ShadeArgs, output: &Path) -> anyhow::Result<densebin::shade::Shading> {
    let shading = shade_args.shading();
    shading.validate()?;
    if let Some(opts) = shade_args.frame.options(["x".into(), "y".into()]) {
        opts.validate()?;
    }
    Format::of(output)?;
    Ok(shading)
}

/// Shades `grid` and writes the image (framed with `--frame`), adding the
/// times to `timing`.
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
    let figure = match shade_args.frame.options(axis_names) {
        Some(opts) => frame(&shaded.image, &shaded.legend, grid.spec(), &opts),
        None => Figure::bare(&shaded.image),
    };
    timing.push(("shaded", started.elapsed()));
    let started = Instant::now();
    let text = densebin::encode::png_text(grid, &shading);
    args::writing(
        write_figure(&figure, output, shade_args.compression, &text, &global.ctx),
        output,
    )?;
    timing.push(("encoded", started.elapsed()));
    Ok(())
}
