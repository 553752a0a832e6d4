//! `gonpack encode`.
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use gonpack::consts::{WEIGHTS_F16, WEIGHTS_F32};
use gonpack::format::patches::Geometry;
use gonpack::io::{PendingFile, Shard};
use gonpack::pixels::{colour_channels, has_alpha, SourceImage};
use gonpack::text::ShownPath;
use gonpack::{Limits, ModelShape, Output, Pack, SizeBreakdown};
use gonpack_train::{self as train, EncodeOptions, LatentOptions, TrainConfig};

/// The training defaults.
const D: TrainConfig = TrainConfig::DEFAULT;
use gonpack_train::Result;

use crate::latent_args::LatentArgs;

/// Arguments of `encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Folder of images (walked recursively, in sorted order).
    dir: PathBuf,
    /// Reuse the decoder of this pack (frozen) instead of training one: only latents are
    /// derived; the architecture and training options are then ignored.
    #[arg(long, value_name = "BASE.gonpack")]
    decoder: Option<PathBuf>,
    /// Encode only part I of N of the folder's image files (sorted by path, counted from 0;
    /// contiguous runs of equal size), e.g. one task of a cluster job; `gonpack merge` joins
    /// the parts. Needs --decoder.
    #[arg(long, value_name = "I/N", requires = "decoder")]
    shard: Option<Shard>,
    /// Output pack [default: DIR.gonpack; with --shard, DIR.part-I-of-N.gonpack].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Latent dimensions per image.
    #[arg(long, default_value_t = D.shape.latent_dim)]
    latent: usize,
    /// Width of every hidden sine layer.
    #[arg(long, default_value_t = D.shape.hidden)]
    hidden: usize,
    /// Number of sine layers.
    #[arg(long, default_value_t = D.shape.layers)]
    layers: usize,
    /// How many leading sine layers the latent shifts (1 = concatenation as in the GON paper).
    #[arg(long)]
    modulated: Option<usize>,
    /// Frequency factor w0 of the first sine layer.
    #[arg(long, default_value_t = D.shape.w0_first)]
    w0: f32,
    /// Frequency factor of the other sine layers.
    #[arg(long, default_value_t = D.shape.w0_hidden)]
    w0_hidden: f32,
    /// Pass the decoder's output through a logistic sigmoid (suits near-binary images such as
    /// digits and line art; the pack is then format version 3).
    #[arg(long)]
    sigmoid: bool,
    /// Training steps [default: one per latent (image or patch), at least 1000 and at most 3000].
    #[arg(long)]
    steps: Option<usize>,
    /// Images per training step.
    #[arg(long, default_value_t = D.batch)]
    batch: usize,
    /// Peak learning rate (Adam, cosine decay).
    #[arg(long, default_value_t = D.lr)]
    lr: f64,
    /// Pixels sampled per image and step (0 = all).
    #[arg(long, default_value_t = D.pixels)]
    pixels: usize,
    /// Gradient steps from the origin per latent in training (1 = the GON paper); encoding then
    /// takes 1 + --refine steps, which should be at least as many.
    #[arg(long, default_value_t = D.inner_steps)]
    inner_steps: usize,
    /// Initial gradient-origin step size.
    #[arg(long, default_value_t = D.step_init)]
    step_init: f64,
    /// Images larger than this (in either direction) are cut into patches of this size, each
    /// with its own latent (0: keep every image whole).
    #[arg(long, default_value_t = gonpack::consts::DEFAULT_PATCH)]
    patch: u32,
    /// Margin around each patch that neighbouring patches share and blend over.
    #[arg(long, default_value_t = gonpack::consts::DEFAULT_OVERLAP)]
    overlap: u32,
    /// Bits per latent value (1-16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=i64::from(gonpack::consts::MAX_BITS)))]
    bits: u8,
    #[command(flatten)]
    latent_args: LatentArgs,
    /// In training, move each pixel's --supersample points to random places inside their cells
    /// at every step, so the decoder learns the pixel's whole area, not fixed points.
    #[arg(long)]
    jitter: bool,
    /// Store decoder weights as f32 instead of f16.
    #[arg(long)]
    f32_weights: bool,
    /// Random seed.
    #[arg(long, default_value_t = D.seed)]
    seed: u64,
    /// CPU threads for libtorch and rendering (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Skip images that fail to decode instead of stopping.
    #[arg(long)]
    skip_invalid: bool,
    /// No progress bars or warnings.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print training PSNR and step size every 250 steps.
    #[arg(short, long)]
    verbose: bool,
}

/// Fewest training steps when `--steps` is not given.
const MIN_DEFAULT_STEPS: usize = 1000;

/// Training steps when `--steps` is not given: one per latent (whole image or patch),
/// clamped to `1000..=3000` (measured on MNIST-10k: 8000 steps reached the same quality as
/// 3000).
fn default_steps(latents: u64) -> usize {
    latents.clamp(MIN_DEFAULT_STEPS as u64, 3000) as usize
}

pub fn run(a: EncodeArgs) -> Result<()> {
    let start = Instant::now();
    if a.threads > 0 {
        tch::set_num_threads(i32::try_from(a.threads).unwrap_or(i32::MAX));
        // Only fails if a pool exists already, which is harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(a.threads)
            .build_global();
    }
    // Every option and the output path are checked before any image is read.
    let latent_opts = a.latent_args.options(a.quiet)?;
    let mut opts = options(&a, &latent_opts);
    match &a.decoder {
        Some(_) => train::check_bits(a.bits)?,
        None => opts.validate()?,
    }
    let shard = a.shard.unwrap_or(Shard::ALL);
    let output = a.output.clone().unwrap_or_else(|| match a.shard {
        Some(s) => {
            gonpack_cli::sibling(&a.dir, &format!(".part-{}-of-{}.gonpack", s.index, s.count))
        }
        None => gonpack_cli::sibling(&a.dir, ".gonpack"),
    });
    let pending = PendingFile::replacing(&output)?;
    let images = gonpack_cli::read_images(&a.dir, shard, a.skip_invalid, a.quiet)?;
    if let Some(base) = &a.decoder {
        let (base, _) = Pack::read(base, &Limits::default())?;
        let t = Instant::now();
        let pack = train::encode_with_decoder(&base, &images, a.bits, &latent_opts)?;
        let sizes = save(&pack, pending)?;
        let timing = format!(
            "  time     {:.1} s: latents {:.1} s against the decoder of {} (not trained)\n",
            start.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64(),
            ShownPath(base_path(&a))
        );
        let text = summary(&a, &output, &images, &pack, &sizes, &timing)?;
        return gonpack_cli::emit(&text).map_err(Into::into);
    }
    if a.steps.is_none() {
        let latents = images
            .iter()
            .map(|i| opts.patches.units(i.width, i.height))
            .sum();
        opts.train.steps = default_steps(latents);
    }
    let (pack, rep) = train::encode(&images, &opts)?;
    if rep.train.stalled() && !a.quiet {
        eprintln!(
            "gonpack: warning: training made little progress (last-10% train PSNR {:.2} dB; a flat picture of the mean value scores {:.2} dB): try more --steps or a lower --lr",
            rep.train.final_psnr, rep.train.flat_psnr
        );
    }
    let sizes = save(&pack, pending)?;
    let timing = format!(
        "  time     {:.1} s: training {:.1} s ({} steps, {:.1} steps/s, last-10% train PSNR {:.2} dB), latents {:.1} s\n",
        start.elapsed().as_secs_f64(),
        rep.train.seconds,
        rep.train.steps,
        rep.train.steps as f64 / rep.train.seconds.max(1e-9),
        rep.train.final_psnr,
        rep.latent_seconds
    );
    let text = summary(&a, &output, &images, &pack, &sizes, &timing)?;
    gonpack_cli::emit(&text).map_err(Into::into)
}

fn base_path(a: &EncodeArgs) -> &Path {
    a.decoder.as_deref().unwrap_or(Path::new("-"))
}

/// The encode options the arguments ask for (training steps: `--steps`, else filled in once
/// the images are counted).
fn options(a: &EncodeArgs, latent_opts: &LatentOptions) -> EncodeOptions {
    EncodeOptions {
        train: TrainConfig {
            shape: ModelShape {
                channels: 3,
                latent_dim: a.latent,
                hidden: a.hidden,
                layers: a.layers,
                modulated: a.modulated.unwrap_or(a.layers),
                w0_first: a.w0,
                w0_hidden: a.w0_hidden,
                output: if a.sigmoid {
                    Output::Logistic
                } else {
                    Output::Identity
                },
            },
            steps: a.steps.unwrap_or(MIN_DEFAULT_STEPS),
            batch: a.batch,
            lr: a.lr,
            pixels: a.pixels,
            inner_steps: a.inner_steps,
            step_init: a.step_init,
            supersample: latent_opts.supersample,
            jitter: a.jitter,
            seed: a.seed,
            device: latent_opts.device,
            log_every: if a.verbose { 250 } else { 0 },
        },
        bits: a.bits,
        refine: latent_opts.refine,
        quant_refine: latent_opts.quant_refine,
        weight_format: if a.f32_weights {
            WEIGHTS_F32
        } else {
            WEIGHTS_F16
        },
        quiet: a.quiet,
        patches: Geometry {
            patch: a.patch,
            overlap: if a.patch == 0 { 0 } else { a.overlap },
        },
    }
}

/// Writes `pack` into its reserved file, holding the lock of any pack already there (so an
/// `add` running on it is not overwritten half-way).
pub fn save(pack: &Pack, pending: PendingFile) -> Result<SizeBreakdown> {
    let (bytes, sizes) = pack.to_bytes()?;
    let _lock = gonpack::io::lock_pack(pending.path())?;
    pending.commit(&bytes)?;
    Ok(sizes)
}

/// The report printed after encoding: counts, sizes, quality of the stored pack, timing.
fn summary(
    a: &EncodeArgs,
    output: &Path,
    images: &[SourceImage],
    pack: &Pack,
    sizes: &SizeBreakdown,
    timing: &str,
) -> Result<String> {
    let grey = images
        .iter()
        .filter(|i| colour_channels(i.channels) == 1)
        .count();
    let alpha = match images.iter().filter(|i| has_alpha(i.channels)).count() {
        0 => String::new(),
        n => format!(", {n} with alpha"),
    };
    let pixels: u64 = images
        .iter()
        .map(|i| u64::from(i.width) * u64::from(i.height))
        .sum();
    let mut o = format!(
        "encoded {} images ({} grey, {} colour{alpha}) from {} into {}\n",
        images.len(),
        grey,
        images.len() - grey,
        ShownPath(&a.dir),
        ShownPath(output)
    );
    o += &gonpack_cli::size_lines(sizes, pixels);
    o += &gonpack_cli::quality_line(pack, images)?;
    o += timing;
    Ok(o)
}
