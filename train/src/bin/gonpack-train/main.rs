//! The `gonpack-train` program: `encode` and `add` (libtorch), plus every reading command of
//! `gonpack`. `gonpack encode` and `gonpack add` run this program.
//!
//! Exit codes: 0 success, 1 failure (bad input, I/O, limits, libtorch), 2 usage error.
mod add;
mod encode;
mod latent_args;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gonpack_cli::{self as cli, ReadCommand};

/// gonpack-train: trains gonpack decoders and encodes images (libtorch); reads packs like gonpack.
#[derive(Debug, Parser)]
#[command(version, bin_name = "gonpack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a decoder on every image under DIR and write one .gonpack file.
    Encode(Box<encode::EncodeArgs>),
    /// Encode the images under DIR against a pack's decoder and add them to the pack.
    Add(add::AddArgs),
    #[command(flatten)]
    Read(ReadCommand),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Encode(a) => encode::run(*a),
        Command::Add(a) => add::run(a),
        Command::Read(c) => c.run().map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = cli::report("gonpack", &e, e.is_usage());
            if let gonpack_train::Error::Pack(e) = &e {
                cli::limits_hint(e);
            }
            code
        }
    }
}

/// "PACK holds a grid decoder" (or a vector one): the end of a usage error about an option of
/// the other model than a pack's.
fn holds_decoder(pack: &Path, grid: bool) -> String {
    let model = if grid { "grid" } else { "vector" };
    format!("{} holds a {model} decoder", gonpack::text::ShownPath(pack))
}
