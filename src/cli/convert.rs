//! `densebin convert INPUT... -o OUT.f32`: write the points once as binary
//! records, so that later runs skip text parsing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use clap::ValueEnum;
use densebin::convert::{Container, Dtype, convert};
use densebin::read::Bounds;

use super::Global;
use super::args::{self, InputArgs, thousands};
use super::progress::Bar;

/// Arguments of `densebin convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files (`-` reads standard input).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// The output: `.f32` or `.f64` raw records, or `.npy`.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Value type of a `.npy` output (raw outputs take it from the
    /// extension).
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,

    #[command(flatten)]
    pub input: InputArgs,
}

/// `--dtype`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DtypeArg {
    F32,
    F64,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let started = Instant::now();
    let ext = args
        .output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let (dtype, container) = match ext.as_deref() {
        Some("f32") => (Dtype::F32, Container::Raw),
        Some("f64") => (Dtype::F64, Container::Raw),
        Some("npy") => match args.dtype {
            DtypeArg::F32 => (Dtype::F32, Container::Npy),
            DtypeArg::F64 => (Dtype::F64, Container::Npy),
        },
        _ => bail!(densebin::Error::InvalidRequest(format!(
            "{}: name the output .f32, .f64 or .npy",
            args.output.display()
        ))),
    };
    let inputs = args.input.open(&args.inputs)?;
    let bar = Arc::new(Bar::new(global.quiet));
    let ctx = global.ctx.clone().with_progress(bar.clone());
    let done = convert(&inputs, &args.output, dtype, container, &ctx);
    bar.finish();
    let done = args::writing(done, &args.output)?;
    if !global.quiet {
        let names = ["x", "y", "z", "w"];
        eprintln!(
            "wrote {} points ({}) to {} in {:.2} s",
            thousands(done.points),
            names[..done.fields].join(" "),
            args.output.display(),
            started.elapsed().as_secs_f64()
        );
        let ranges = range_flags(&done.bounds);
        let fields = if container == Container::Raw {
            format!(" --fields {}", done.fields)
        } else {
            String::new()
        };
        eprintln!(
            "bin it with: densebin bin {}{fields}{}",
            args.output.display(),
            if ranges.is_empty() {
                String::new()
            } else {
                format!(" {ranges}")
            }
        );
    }
    Ok(())
}

/// `--x-range=a,b --y-range=c,d --z-range=e,f` for the bounds that exist.
pub fn range_flags(b: &Bounds) -> String {
    [("x", b.x), ("y", b.y), ("z", b.z)]
        .iter()
        .filter_map(|(axis, e)| {
            e.map(|e| {
                let (lo, hi) = e.range();
                format!("--{axis}-range={lo:?},{hi:?}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_flags_for_the_bounds_found() {
        let mut b = Bounds::default();
        assert_eq!(range_flags(&b), "");
        b.x = Some(densebin::read::Extent { lo: -1.5, hi: 2.0 });
        b.z = Some(densebin::read::Extent { lo: 3.0, hi: 3.0 });
        assert_eq!(range_flags(&b), "--x-range=-1.5,2.0 --z-range=2.5,3.5");
    }
}
