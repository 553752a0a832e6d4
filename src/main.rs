//! The `gonpack` command line: encode a folder, decode a pack at any size, inspect a pack.
//!
//! Exit codes: 0 success, 1 failure (bad input, I/O, limits), 2 usage error.
mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gonpack: error: {e}");
            match e.root() {
                gonpack::Error::Usage(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
