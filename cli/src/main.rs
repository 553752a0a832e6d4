//! The `gonpack` program: decode, extract, inspect and explore packs in pure Rust; `encode` and
//! `add` run the `gonpack-train` program, which links libtorch.
//!
//! Exit codes: 0 success, 1 failure (bad input, I/O, limits), 2 usage error.
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gonpack_cli::{self as cli, Forwarded, ReadCommand};

/// gonpack: a folder of images as one shared neural decoder plus a short latent per image.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a decoder on every image under DIR and write one .gonpack file (runs gonpack-train).
    Encode(Forwarded),
    /// Encode the images under DIR against a pack's decoder and add them to the pack (runs
    /// gonpack-train).
    Add(Forwarded),
    #[command(flatten)]
    Read(ReadCommand),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Encode(a) => cli::forward("encode", a),
        Command::Add(a) => cli::forward("add", a),
        Command::Read(c) => c.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = matches!(e.root(), gonpack::Error::Usage(_));
            let code = cli::report("gonpack", &e, usage);
            cli::limits_hint(&e);
            code
        }
    }
}
