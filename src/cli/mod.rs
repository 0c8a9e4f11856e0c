//! Subcommands, one module each, with their arguments and `run`.

mod args;
mod bin;
mod convert;
mod info;
mod merge;
mod progress;
mod render;
mod shade;

use clap::{Parser, Subcommand};

/// Out-of-core density binning: stream huge point files into per-pixel
/// grids (HDF5), then shade them.
#[derive(Debug, Parser)]
#[command(name = "densebin", version, about, long_about = None, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Worker threads (default: every core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,

    /// No progress bar and no summary on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bin points from text, raw binary or .npy files into a grid file.
    Bin(Box<bin::Args>),
    /// Shade a grid file into a PNG image.
    Shade(Box<shade::Args>),
    /// Bin and shade in one run: points to a PNG image.
    Render(Box<render::Args>),
    /// Describe a grid file.
    Info(info::Args),
    /// Merge grid files of the same spec into one.
    Merge(merge::Args),
    /// Convert point files once to binary records (.f32, .f64, .npy), so
    /// that later runs skip text parsing.
    Convert(Box<convert::Args>),
}

/// Options every subcommand sees.
#[derive(Clone, Copy, Debug)]
pub struct Global {
    pub threads: Option<usize>,
    pub quiet: bool,
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout, as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => return Err(UsageError(one_line(&e)).into()),
    };
    let global = Global {
        threads: cli.threads,
        quiet: cli.quiet,
    };
    if let Some(n) = cli.threads {
        // Everything else that runs in parallel (merging, writing grids,
        // shading) takes rayon's global pool: the same number of threads.
        // It cannot have been started yet; were it, it would just keep its
        // size.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    match cli.command {
        Command::Bin(args) => bin::run(*args, global),
        Command::Shade(args) => shade::run(*args, global),
        Command::Render(args) => render::run(*args, global),
        Command::Info(args) => info::run(args),
        Command::Merge(args) => merge::run(args, global),
        Command::Convert(args) => convert::run(*args, global),
    }
}

/// A command-line usage error, already reduced to one line.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// clap's message without its `error:` prefix and trailing advice, on one
/// line, pointing at `--help`.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid usage");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first} (see densebin --help)")
}

/// 2 for bad input or usage, 1 for runtime failures.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.is::<UsageError>() {
        return 2;
    }
    match err.downcast_ref::<densebin::Error>() {
        Some(e) if !e.is_bad_input() => 1,
        Some(_) => 2,
        None => 1,
    }
}
