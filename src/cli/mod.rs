//! Subcommands, one module each, with their arguments and `run`.

mod args;
mod bin;
mod convert;
mod info;
mod merge;
mod progress;
mod render;
mod shade;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use clap::{Parser, Subcommand};
use densebin::RunContext;

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

/// Options every subcommand sees, and the run's context: its threads
/// (`--threads`) and the cancellation token that SIGINT and SIGTERM trip.
#[derive(Clone, Debug)]
pub struct Global {
    pub quiet: bool,
    pub ctx: RunContext,
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout, as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => return Err(UsageError(one_line(&e)).into()),
    };
    // Everything parallel (binning's workers aside: merging, writing
    // grids, shading) runs on the context's threads.
    let ctx = RunContext::new().with_threads(cli.threads)?;
    catch_signals(&ctx);
    catch_sigbus();
    let global = Global {
        quiet: cli.quiet,
        ctx: ctx.clone(),
    };
    ctx.install(move || match cli.command {
        Command::Bin(args) => bin::run(*args, &global),
        Command::Shade(args) => shade::run(*args, &global),
        Command::Render(args) => render::run(*args, &global),
        Command::Info(args) => info::run(args),
        Command::Merge(args) => merge::run(args, &global),
        Command::Convert(args) => convert::run(*args, &global),
    })
}

/// How the command line spells a library parameter: `--z-bins`.
pub fn flag(p: densebin::Param) -> String {
    format!("--{}", p.name().replace('_', "-"))
}

/// The error and its causes on one line, as anyhow's `{:#}` shows them,
/// with the library's parameters spelled as flags.
pub fn message(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| match e.downcast_ref::<densebin::Error>() {
            Some(e) => e.render(flag),
            None => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// The signal that cancelled the run, 0 before any.
fn caught() -> &'static Arc<AtomicUsize> {
    static SIGNAL: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    SIGNAL.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// How long a cancelled run may take to stop before it is stopped at once.
/// A run checks for cancellation between chunks, between the waves of
/// chunks it writes and before renaming an output, and stops within a
/// fraction of a second; but a read that blocks (standard input that
/// neither sends nor closes) or a libhdf5 call that never returns (a
/// damaged format 1 grid) checks nothing.
const GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGINT and SIGTERM cancel the run (`ctx`'s token): it stops at the
/// next chunk or before renaming an output into place, removes its
/// temporary files, and exits with 128 + the signal. A second signal, or
/// [`GRACE`] passing without the run stopping, ends the process at once,
/// with the same status, after removing the temporary files of writes
/// under way.
fn catch_signals(ctx: &RunContext) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let cancel = ctx.cancel_token().flag();
    for sig in [SIGINT, SIGTERM] {
        // Registration fails only for forbidden signals, which these are
        // not.
        let _ = signal_hook::flag::register_usize(sig, Arc::clone(caught()), sig as usize);
        let _ = signal_hook::flag::register(sig, Arc::clone(&cancel));
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let ctx = ctx.clone();
    std::thread::spawn(move || {
        let Some(sig) = signals.forever().next() else {
            return;
        };
        let deadline = std::time::Instant::now() + GRACE;
        let why = loop {
            if signals.pending().next().is_some() {
                break "interrupted again: stopped at once".to_string();
            }
            if std::time::Instant::now() >= deadline {
                break format!(
                    "interrupted, and still busy {} s later: stopped at once",
                    GRACE.as_secs()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        ctx.remove_temporaries();
        eprintln!("densebin: {why}");
        // SAFETY: _exit(2) has no preconditions. It skips atexit handlers
        // on purpose: libhdf5's would close files under a call that another
        // thread may be stuck in.
        unsafe { libc::_exit(128 + sig) }
    });
}

/// A mapped input that shrinks while it is read takes pages away from under
/// the reader, and touching one raises SIGBUS, which would kill the
/// process with a bare "Bus error". Report it in densebin's words, with the
/// runtime-failure status. Outputs are written only after their inputs
/// were read (except by `convert`, whose temporary file then stays).
/// Also makes a file-size limit an error rather than a kill.
fn catch_sigbus() {
    extern "C" fn on_sigbus(_: libc::c_int) {
        const MSG: &[u8] = b"densebin: an input file shrank while densebin read it (SIGBUS on its \
            memory map); inputs must not change while densebin reads them, run again\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe, MSG is a
        // static buffer of MSG.len() bytes, and _exit never returns, so
        // the faulting access is not retried.
        unsafe {
            libc::write(2, MSG.as_ptr().cast(), MSG.len());
            libc::_exit(1);
        }
    }
    // A file-size limit (`ulimit -f`) raises SIGXFSZ at the write that
    // passes it, which kills the process; ignored, the write fails with
    // EFBIG instead, and the run fails as for a full disk: temporary file
    // removed, message, status 1.
    // SAFETY: setting a signal's disposition to SIG_IGN has no handler to
    // be sound about.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // SAFETY: `sa` starts zeroed (a valid sigaction: no flags, empty
    // mask) and gets a handler of the type sigaction expects for a
    // handler without SA_SIGINFO; the old action is not wanted (null).
    // signal-hook refuses SIGBUS, whose handlers must not return; this
    // one does not.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
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
    // The message is its first paragraph: clap lists what is missing on
    // indented lines below the first ("… were not provided:\n  --frame").
    let paragraph: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = paragraph.join(" ");
    let first = first.strip_prefix("error: ").unwrap_or(&first);
    let first = if first.is_empty() {
        "invalid usage"
    } else {
        first
    };
    format!("{first} (see densebin --help)")
}

/// 2 for bad input or usage, 1 for runtime failures.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.is::<UsageError>() {
        return 2;
    }
    match err.downcast_ref::<densebin::Error>() {
        // 128 + the signal, as a shell reports a process it killed.
        Some(densebin::Error::Interrupted) => match caught().load(Ordering::Relaxed) {
            0 => 130,
            sig => 128u8.saturating_add(sig as u8),
        },
        Some(e) if !e.is_bad_input() => 1,
        Some(_) => 2,
        None => 1,
    }
}
