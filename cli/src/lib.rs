//! The command line shared by the `gonpack` and `gonpack-train` programs (feature `cli`):
//! the reading commands, and the helpers the encoding commands of `gonpack-train` use.
//!
//! `gonpack` never links libtorch: it runs `gonpack-train` for `encode` and `add`
//! ([`forward`]), so decoding and inspecting a pack start in milliseconds.
//!
//! Exit codes: 0 success, 1 failure (bad input, I/O, limits), 2 usage error.
mod compare;
mod decode;
mod extract;
mod forward;
mod info;
mod interpolate;
mod merge;
mod sample;
mod size;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

pub use forward::{forward, Forwarded, TRAIN_PROGRAM, TRAIN_PROGRAM_ENV};

use gonpack::io;
use gonpack::pixels::SourceImage;
use gonpack::text::{shown, ShownPath};
use gonpack::{Error, Result, SizeBreakdown};

/// The commands that need no libtorch: those that read packs, and `merge`.
#[derive(Debug, Subcommand)]
pub enum ReadCommand {
    /// Render the images of a pack as PNG files, at any resolution.
    Decode(decode::DecodeArgs),
    /// Render one image of a pack, without decoding the others.
    Extract(extract::ExtractArgs),
    /// Print a pack's header, sizes and index.
    Info(info::InfoArgs),
    /// Render the path between two images' latents as one strip (spherical interpolation).
    Interpolate(interpolate::InterpolateArgs),
    /// New images from a Gaussian fitted to the pack's latents, as one grid.
    Sample(sample::SampleArgs),
    /// A contact sheet: originals, decoded images and a larger decoding, with PSNR.
    Compare(compare::CompareArgs),
    /// Join packs that share a decoder (the parts of `encode --decoder BASE --shard I/N`) into
    /// one, without re-encoding: every image decodes exactly as it did from its part.
    Merge(merge::MergeArgs),
}

impl ReadCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self {
            ReadCommand::Decode(a) => decode::run(a),
            ReadCommand::Extract(a) => extract::run(a),
            ReadCommand::Info(a) => info::run(a),
            ReadCommand::Interpolate(a) => interpolate::run(a),
            ReadCommand::Sample(a) => sample::run(a),
            ReadCommand::Compare(a) => compare::run(a),
            ReadCommand::Merge(a) => merge::run(a),
        }
    }
}

/// Prints `error` as `program: error: …` and returns the documented exit code
/// (2 for usage errors, 1 for the rest).
pub fn report(program: &str, error: &dyn std::fmt::Display, usage: bool) -> ExitCode {
    eprintln!("{program}: error: {}", shown(&error.to_string()));
    if usage {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// For an error caused by a limit, a hint naming the options that lift limits.
pub fn limits_hint(error: &Error) {
    if matches!(error.root(), Error::Limits(_)) {
        eprintln!(
            "gonpack: hint: --max-pixels and --max-work raise the render limits; --trusted lifts the limits relative to the file size, for packs you trust"
        );
    }
}

/// `dir/name.ext` → `dir/name` + `suffix` (default output names); `.` and `..` are resolved
/// first, so `encode .` writes next to the folder, not inside it.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
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

/// Every image under `dir` (of one `shard` of its image files), with warnings for skipped files
/// unless `quiet`; none is an error.
pub fn read_images(
    dir: &Path,
    shard: io::Shard,
    skip_invalid: bool,
    quiet: bool,
) -> Result<Vec<SourceImage>> {
    let (images, report) = io::read_folder_part(dir, skip_invalid, shard)?;
    if !quiet {
        for p in &report.skipped_other {
            eprintln!(
                "gonpack: warning: skipping {} (not an image file)",
                ShownPath(p)
            );
        }
        for (p, why) in &report.skipped_invalid {
            eprintln!(
                "gonpack: warning: skipping {} ({})",
                ShownPath(p),
                shown(why)
            );
        }
        for (p, what) in &report.converted {
            eprintln!("gonpack: warning: {}: {what}", ShownPath(p));
        }
    }
    if images.is_empty() {
        let part = if shard == io::Shard::ALL {
            String::new()
        } else {
            format!(" in part {shard}")
        };
        return Err(Error::Usage(format!(
            "no images found under {}{part}",
            ShownPath(dir)
        )));
    }
    Ok(images)
}

/// `  quality  mean PSNR …, worst … (name)` for `images` as the pure-Rust renderer decodes
/// them from `pack` (same order as its index).
pub fn quality_line(
    pack: &dyn gonpack::render::PackImages,
    images: &[SourceImage],
) -> Result<String> {
    let psnr = gonpack::render::metrics::pack_psnr(pack, images)?;
    let mean = psnr.iter().sum::<f64>() / psnr.len().max(1) as f64;
    let (worst_i, worst) = psnr
        .iter()
        .copied()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::NAN));
    Ok(format!(
        "  quality  mean PSNR {mean:.2} dB, worst {worst:.2} dB ({})\n",
        shown(images.get(worst_i).map_or("-", |i| i.name.as_str()))
    ))
}

/// Saves a picture made from `pack` to `output`, by default next to the pack with `suffix`;
/// returns where it went.
fn save_picture(
    picture: &gonpack::sheet::Canvas,
    output: &Option<PathBuf>,
    pack: &Path,
    suffix: &str,
) -> Result<PathBuf> {
    let path = output.clone().unwrap_or_else(|| sibling(pack, suffix));
    picture.save(&path)?;
    Ok(path)
}

/// Two summary lines: the size breakdown and the rate over `pixels` pixels.
pub fn size_lines(sizes: &SizeBreakdown, pixels: u64) -> String {
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
pub fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(gonpack::Error::io("write to", "standard output", e))
        }
        _ => Ok(()),
    }
}
