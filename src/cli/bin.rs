//! `densebin bin INPUT... -o GRID.h5`: bin points into a grid file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use densebin::Grid;

use super::Global;
use densebin::binning::BinRequest;
use densebin::read::Input;

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

    /// Bin only part I of N: the points that start in the I-th of N equal
    /// byte ranges of the inputs laid end to end (I from 1 to N). The grids
    /// of all N parts merge (`densebin merge`) into the grid of the whole;
    /// for job arrays. Needs --x-range and --y-range (and --z-range with a
    /// z histogram), so that every part bins onto the same canvas.
    #[arg(long, value_name = "I/N", value_parser = parse_part)]
    pub part: Option<(usize, usize)>,
}

/// `I/N` with I from 1 to N, as the 0-based part and the count.
fn parse_part(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N such as 3/8, found {s:?}"))?;
    let num = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("expected a whole number, found {t:?}"))
    };
    let (i, n) = (num(i)?, num(n)?);
    if n == 0 || i == 0 || i > n {
        return Err(format!(
            "part {i}/{n} does not exist: parts are numbered 1 to N"
        ));
    }
    Ok((i - 1, n))
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let request = args::bin_request(&args.geometry, &args.layers);
    let inputs = match args.part {
        Some((i, n)) => {
            let mut inputs =
                densebin::read::open_part(&args.inputs, &args.input.read_options(), i, n)?;
            request.check_fixed_canvas(&mut inputs)?;
            inputs
        }
        None => args.input.open(&args.inputs)?,
    };
    let (grid, mut timing) = bin_inputs(inputs, &request, args.layers.max_memory, global)?;
    let started = Instant::now();
    args::writing(
        densebin::store::write_grid(&grid, &args.output, &global.ctx),
        &args.output,
    )?;
    timing.push(("wrote", started.elapsed()));
    if !global.quiet {
        report(&grid, &args.output, &timing);
    }
    Ok(())
}

/// The summary, the derived ranges (when they were scanned for) and the
/// timings, on stderr.
pub fn report(grid: &Grid, output: &std::path::Path, timing: &Timing) {
    eprintln!("{}", summary(grid));
    if timing.iter().any(|(what, _)| *what == SCANNED) {
        eprintln!(
            "ranges from the data: {} (give them to skip the range scan)",
            range_flags(grid.spec())
        );
    }
    eprintln!("{}: {}", output.display(), timings(timing));
}

/// Phases and how long each took.
pub type Timing = Vec<(&'static str, Duration)>;

const SCANNED: &str = "scanned ranges";

/// Bins opened inputs with grids of at most `max_memory` bytes, with a
/// progress bar; returns the grid and how long planning (the range scan)
/// and binning took.
pub fn bin_inputs(
    mut inputs: Vec<Input>,
    request: &BinRequest,
    max_memory: Option<u64>,
    global: &Global,
) -> anyhow::Result<(Grid, Timing)> {
    let started = Instant::now();
    let bar = Arc::new(Bar::new(global.quiet));
    let ctx = (global.ctx.clone())
        .with_max_memory(max_memory)
        .with_progress(bar.clone());
    let plan = request.plan(&mut inputs, &ctx);
    let planned = Instant::now();
    let scanned = request.x_range.is_none()
        || request.y_range.is_none()
        || (request.z_range.is_none() && plan.as_ref().is_ok_and(|p| p.spec.zbins().is_some()));
    let scanned = scanned && !plan.as_ref().is_ok_and(|p| p.declared);
    let grid = plan.and_then(|plan| request.bin_planned(&mut inputs, plan, &ctx));
    bar.finish();
    let grid = grid?;
    let mut timing = Vec::new();
    if scanned {
        timing.push((SCANNED, planned - started));
    }
    timing.push(("binned", planned.elapsed()));
    Ok((grid, timing))
}

/// The range flags that reproduce `spec`'s canvas and z bins.
pub fn range_flags(spec: &densebin::GridSpec) -> String {
    let mut out = format!(
        "--x-range={:?},{:?} --y-range={:?},{:?}",
        spec.x().lo(),
        spec.x().hi(),
        spec.y().lo(),
        spec.y().hi()
    );
    if let Some(z) = spec.zbins() {
        out += &format!(" --z-range={:?},{:?}", z.lo(), z.hi());
    }
    out
}

/// `scanned ranges 1.20 s, binned 1.31 s, wrote 0.20 s`.
pub fn timings(t: &Timing) -> String {
    t.iter()
        .map(|(what, d)| {
            // Milliseconds below a second, where benchmarks compare phases.
            let s = d.as_secs_f64();
            if s < 1.0 {
                format!("{what} {s:.3} s")
            } else {
                format!("{what} {s:.2} s")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use densebin::read::Points;
    use densebin::{GridSpec, LayerSet};

    #[test]
    fn summary_names_every_fate_and_the_ranges() {
        let layers: LayerSet = "count,sum,zhist".parse().unwrap();
        let spec = GridSpec::new(4, 2, (0.0, 1.0), (-0.5, 0.5))
            .unwrap()
            .with_layers(layers, Some((2, (0.0, 1.0))))
            .unwrap();
        let mut g = Grid::empty(spec);
        g.append(&Points {
            x: vec![0.5, 0.5, 2.0, f64::NAN],
            y: vec![0.0, 0.0, 0.0, 0.0],
            z: vec![0.5, f64::NAN, 0.0, 0.0],
            w: vec![],
            ..Points::default()
        })
        .unwrap();
        let text = summary(&g);
        assert_eq!(
            text,
            "binned 2 of 4 points into 4x2 pixels (layers count,sum,zhist); not binned: \
             1 with non-finite x or y, 1 outside the ranges; 1 with non-finite z"
        );
        assert_eq!(
            range_flags(g.spec()),
            "--x-range=0.0,1.0 --y-range=-0.5,0.5 --z-range=0.0,1.0"
        );
        let t = vec![
            ("binned", Duration::from_millis(1500)),
            ("wrote", Duration::from_millis(20)),
        ];
        assert_eq!(timings(&t), "binned 1.50 s, wrote 0.020 s");
    }
}
