//! The `densebin` command line: parses flags, builds library objects, and
//! reports. All work lives in the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("densebin: {}", cli::message(&err));
            ExitCode::from(cli::exit_code(&err))
        }
    }
}
