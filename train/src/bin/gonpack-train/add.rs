//! `gonpack add`.
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use gonpack::io::{PendingFile, Shard};
use gonpack::text::ShownPath;
use gonpack::{Limits, Reader};
use gonpack_train::grid_encode::{add_grid_images, parse_quality, rate_weight, GridConfig};
use gonpack_train::{self as train, Result};

use crate::latent_args::LatentArgs;

/// Arguments of `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The pack to extend (rewritten atomically).
    pack: PathBuf,
    /// Folder of new images (walked recursively, in sorted order).
    dir: PathBuf,
    /// Replace images whose name is already in the pack instead of failing.
    #[arg(long)]
    replace: bool,
    #[command(flatten)]
    latent_args: LatentArgs,
    /// Grid packs: the --quality to encode the new images at [default: the pack's own
    /// operating point where it records one, else 3.5].
    #[arg(long, value_parser = parse_quality)]
    quality: Option<f64>,
    /// Skip images that fail to decode instead of stopping.
    #[arg(long)]
    skip_invalid: bool,
    /// No progress bars or warnings.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: AddArgs) -> Result<()> {
    let start = Instant::now();
    let opts = a.latent_args.options(a.quiet)?;
    // Held from reading the pack to replacing it: a concurrent `add` waits, then reads the
    // pack this one wrote. The pack and its folder are checked before any image is read.
    let _lock = gonpack::io::lock_pack(&a.pack)?
        .ok_or_else(|| gonpack::Error::Usage("no such pack".into()).in_file(&a.pack))?;
    let pending = PendingFile::replacing(&a.pack)?;
    let reader = Reader::open(&a.pack, Limits::default())?;
    let grid = reader.header().grid.is_some();
    check_model_options(&a, grid)?;
    let images = gonpack_cli::read_images(&a.dir, Shard::ALL, a.skip_invalid, a.quiet)?;
    if grid {
        let mut pack = reader.into_grid_pack().map_err(|e| e.in_file(&a.pack))?;
        let cfg = GridConfig {
            refine: a.latent_args.refine.unwrap_or(GridConfig::DEFAULT.refine),
            lambda: rate_weight(a.quality, None, pack.lambda),
            supersample: opts.supersample,
            device: opts.device,
            quiet: a.quiet,
            ..GridConfig::DEFAULT
        };
        let (added, replaced) =
            add_grid_images(&mut pack, &images, a.replace, &cfg).map_err(|e| e.in_file(&a.dir))?;
        let (bytes, sizes) = pack.to_bytes()?;
        pending.commit(&bytes)?;
        let mut o = format!(
            "added {added} and replaced {replaced} images from {} into {} (now {} images)\n",
            ShownPath(&a.dir),
            ShownPath(&a.pack),
            pack.len()
        );
        o += &gonpack_cli::size_lines(&sizes, pack.pixels());
        o += &gonpack_cli::quality_line(&pack, &images)?.replace("quality ", "new     ");
        o += &format!("  time     {:.2} s\n", start.elapsed().as_secs_f64());
        return gonpack_cli::emit(&o).map_err(Into::into);
    }
    let mut pack = reader.into_pack()?;
    let report =
        train::add_images(&mut pack, &images, a.replace, &opts).map_err(|e| e.in_file(&a.dir))?;
    let (bytes, sizes) = pack.to_bytes()?;
    pending.commit(&bytes)?;
    let mut o = format!(
        "added {} and replaced {} images from {} into {} (now {} images)\n",
        report.added,
        report.replaced,
        ShownPath(&a.dir),
        ShownPath(&a.pack),
        pack.len()
    );
    o += &gonpack_cli::size_lines(&sizes, pack.pixels());
    o += &gonpack_cli::quality_line(&pack, &images)?.replace("quality ", "new     ");
    if report.clamped > 0 {
        o += &format!(
            "  note     {} of {} new latent values fell outside the pack's quantisation ranges and were clamped\n",
            report.clamped,
            images.len() * pack.shape().latent_dim
        );
    }
    o += &format!("  time     {:.2} s\n", start.elapsed().as_secs_f64());
    gonpack_cli::emit(&o).map_err(Into::into)
}

/// A usage error when an option of the other model than the pack's is given (instead of
/// being silently ignored).
fn check_model_options(a: &AddArgs, grid: bool) -> Result<()> {
    let (option, other) = match grid {
        true if a.latent_args.quant_refine != train::DEFAULT_QUANT_REFINE => {
            ("--quant-refine", "vector")
        }
        false if a.quality.is_some() => ("--quality", "grid"),
        _ => return Ok(()),
    };
    Err(gonpack_train::Error::usage(format!(
        "{option} applies to {other} packs only ({})",
        crate::holds_decoder(&a.pack, grid)
    )))
}
