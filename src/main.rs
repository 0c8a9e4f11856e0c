//! The `densebin` command line: parses flags, builds library objects, and
//! reports. All work lives in the library.

mod cli;

// mimalloc keeps the pages of freed buffers (Parquet pages, decoded
// batches) for the next ones, where glibc hands large ones back to the
// kernel and faults them in again: 0.21 s of system time down to 0.08 s
// binning a 50 M-point Parquet file (BENCHMARKS.md, "Parquet").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The LAZ decoder panics on some damaged data; densebin catches that
    // and reports the file, so the panic itself is not news.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !densebin::read::decoding_laz() {
            report(info);
        }
    }));
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("densebin: {}", cli::message(&err));
            ExitCode::from(cli::exit_code(&err))
        }
    }
}
