//! Argument definitions and dispatch.
mod decode;
#[cfg(feature = "train")]
mod encode;
mod info;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use gonpack::{Result, SizeBreakdown};

/// gonpack: a folder of images as one shared neural decoder plus a short latent per image.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a decoder on every image under DIR and write one .gonpack file.
    #[cfg(feature = "train")]
    Encode(encode::EncodeArgs),
    /// Render the images of a pack as PNG files, at any resolution.
    Decode(decode::DecodeArgs),
    /// Print a pack's header, sizes and index.
    Info(info::InfoArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        #[cfg(feature = "train")]
        Command::Encode(a) => encode::run(a),
        Command::Decode(a) => decode::run(a),
        Command::Info(a) => info::run(a),
    }
}

/// `dir/name.ext` → `dir/name` + `suffix` (default output names); `.` and `..` are resolved
/// first, so `encode .` writes next to the folder, not inside it.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let trimmed = path.components().as_path();
    let named = match trimmed.file_name() {
        Some(_) => trimmed.to_path_buf(),
        None => std::fs::canonicalize(trimmed).unwrap_or_else(|_| trimmed.to_path_buf()),
    };
    let stem = named
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    named.with_file_name(format!("{stem}{suffix}"))
}

/// Two summary lines: the size breakdown and the rate over `pixels` pixels.
fn size_lines(sizes: &SizeBreakdown, pixels: u64) -> String {
    format!(
        "  size     {} bytes = decoder {} + latents {} + index {} + header {}\n  rate     {:.4} bits per pixel ({} pixels)\n",
        sizes.total(),
        sizes.decoder,
        sizes.latents,
        sizes.index,
        sizes.header,
        sizes.total() as f64 * 8.0 / pixels.max(1) as f64,
        pixels
    )
}

/// Writes `text` to standard output; a closed pipe (`gonpack info | head`) is not an error.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(gonpack::Error::io("<stdout>", e))
        }
        _ => Ok(()),
    }
}
