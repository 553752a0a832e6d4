//! `gonpack encode`.
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use gonpack::consts::{WEIGHTS_F16, WEIGHTS_F32};
use gonpack::format::grid::Sampling;
use gonpack::format::patches::Geometry;
use gonpack::io::{PendingFile, Shard};
use gonpack::pixels::{colour_channels, has_alpha, SourceImage};
use gonpack::text::ShownPath;
use gonpack::{Limits, ModelShape, Output, Pack, Reader, SizeBreakdown};
use gonpack_train::grid_encode::{
    default_grid_steps, encode_grid_pack, encode_with_grid_decoder, parse_quality, rate_weight,
    GridConfig, DEFAULT_QUALITY,
};
use gonpack_train::model_choice::{auto_model, auto_sampling, low_rate_training, ModelChoice};
use gonpack_train::{self as train, EncodeOptions, LatentOptions, TrainConfig};

/// The training defaults of the vector model.
const D: TrainConfig = TrainConfig::DEFAULT;
/// The defaults of the grid model.
const G: GridConfig = GridConfig::DEFAULT;

/// `--model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Model {
    /// Latent grids (format versions 5 and 6).
    Grid,
    /// One latent vector per image or patch.
    Vector,
}

/// `--sampling`: how grid levels are sampled between their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SamplingArg {
    /// Bilinear taps (format version 5).
    Bilinear,
    /// A 4-tap kernel per level, learned with the decoder as a smooth departure from
    /// Catmull-Rom's cubic whose weights sum to 1 at every phase (format version 6).
    Kernel,
}

impl SamplingArg {
    fn sampling(self) -> Sampling {
        match self {
            SamplingArg::Kernel => Sampling::Kernel,
            SamplingArg::Bilinear => Sampling::Bilinear,
        }
    }
}

use gonpack_train::Result;

use crate::latent_args::LatentArgs;

/// Arguments of `encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Folder of images (walked recursively, in sorted order).
    dir: PathBuf,
    /// Reuse the decoder of this pack (frozen) instead of training one: only latents are
    /// derived, with the base pack's model, by default at the base's own operating point;
    /// the options that set up a decoder or its training are then usage errors.
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
    /// The model: `grid` (a pyramid of latent grids per image, format version 5, or 6 with
    /// `--sampling kernel`) or `vector` (one latent vector per image or patch, versions 1 to 4)
    /// [default: grid, except under
    /// --quality 2 for sets of at least 4 megapixels of grey images of at most 32x32, when no
    /// other model setting is given: the vector model with 64 latents of 2 + ⌊2 · quality⌋
    /// bits]
    #[arg(long, value_enum)]
    model: Option<Model>,
    /// The operating point, a number from 0 (fewest bits) to 8 (best quality); for the grid
    /// model each whole step halves the rate weight λ = 0.032 / 2^quality.
    /// [default: 3.5; with --decoder, the base pack's own operating point where it records
    /// one]
    #[arg(long, value_parser = parse_quality)]
    quality: Option<f64>,
    /// Grid model: the rate weight λ of the loss MSE + λ · bpp itself (overrides --quality).
    #[arg(long)]
    lambda: Option<f64>,
    /// Grid model: precondition the gradient-origin steps of training (each plane's step
    /// divided by the squared norm of its input weights), which keeps the full-resolution
    /// level alive [default: true for grey images, for colour images from quality 4 up]
    #[arg(long, value_name = "BOOL")]
    precondition: Option<bool>,
    /// Grid model: ramp the rate weight λ up from 0 over the first quarter of training, which
    /// keeps the full-resolution level alive at high λ [default: true where preconditioned and
    /// under quality 2]
    #[arg(long, value_name = "BOOL")]
    warmup: Option<bool>,
    /// Grid model: in training, feed the full- and half-resolution levels to the decoder
    /// rounded (gradients passed straight through) instead of with noise, which lets them carry
    /// sparse detail [default: true when every image has at least 16 crops' area (128x128
    /// with the default crop), i.e. on photos]
    #[arg(long, value_name = "BOOL")]
    straight_through: Option<bool>,
    /// Grid model: latent levels (level l has 1/2^l of the image's width and height).
    #[arg(long, default_value_t = G.shape.levels)]
    levels: usize,
    /// Grid model: global latents (one value each per image, reaching every pixel).
    #[arg(long, default_value_t = G.shape.global)]
    global: usize,
    /// Grid model: Fourier frequencies of the coordinate features.
    #[arg(long, default_value_t = G.shape.frequencies)]
    frequencies: usize,
    /// Grid model: how levels are sampled between their values [default: kernel when every
    /// image is in colour, else bilinear]
    #[arg(long, value_enum)]
    sampling: Option<SamplingArg>,
    /// Grid model: images larger than this in either direction are trained on crops of it.
    #[arg(long, default_value_t = G.crop)]
    crop: u32,
    /// Vector model: latent dimensions per image.
    #[arg(long, default_value_t = D.shape.latent_dim)]
    latent: usize,
    /// Width of every hidden sine layer [default: 32 grid, 64 vector].
    #[arg(long)]
    hidden: Option<usize>,
    /// Number of sine layers [default: 2 grid (hidden), 3 vector].
    #[arg(long)]
    layers: Option<usize>,
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
    /// Training steps [default: grid two per image, 1400 to 6000; vector one per latent (image
    /// or patch), 1000 to 3000].
    #[arg(long)]
    steps: Option<usize>,
    /// Images (or crops) per training step [default: 16 grid, 32 vector].
    #[arg(long)]
    batch: Option<usize>,
    /// Peak learning rate (Adam, cosine decay) [default: 1e-2 grid, 1e-3 vector].
    #[arg(long)]
    lr: Option<f64>,
    /// Pixels sampled per image and step (0 = all).
    #[arg(long, default_value_t = D.pixels)]
    pixels: usize,
    /// Gradient steps from the origin per latent in training (1 = the GON paper) [default: 2
    /// grid, 3 vector]; vector encoding then takes 1 + --refine steps, which should be at least
    /// as many.
    #[arg(long)]
    inner_steps: Option<usize>,
    /// Initial gradient-origin step size [default: 0.03 grid, 1 vector].
    #[arg(long)]
    step_init: Option<f64>,
    /// Images larger than this (in either direction) are cut into patches of this size, each
    /// with its own latent (0: keep every image whole).
    #[arg(long, default_value_t = gonpack::consts::DEFAULT_PATCH)]
    patch: u32,
    /// Margin around each patch that neighbouring patches share and blend over.
    #[arg(long, default_value_t = gonpack::consts::DEFAULT_OVERLAP)]
    overlap: u32,
    /// Bits per latent value (1-16) [default: 8; with --decoder, the base pack's].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=i64::from(gonpack::consts::MAX_BITS)))]
    bits: Option<u8>,
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
    match (&a.decoder, a.bits) {
        (Some(_), Some(bits)) => train::check_bits(bits)?,
        (Some(_), None) => {}
        (None, _) => opts.validate()?,
    }
    let shard = a.shard.unwrap_or(Shard::ALL);
    let output = a.output.clone().unwrap_or_else(|| match a.shard {
        Some(s) => {
            gonpack_cli::sibling(&a.dir, &format!(".part-{}-of-{}.gonpack", s.index, s.count))
        }
        None => gonpack_cli::sibling(&a.dir, ".gonpack"),
    });
    let pending = PendingFile::replacing(&output)?;
    // With --decoder the base pack's model decides; without, --model, else the images.
    let base_grid = match &a.decoder {
        Some(base) => Some(
            Reader::open(base, Limits::default())?
                .header()
                .grid
                .is_some(),
        ),
        None => None,
    };
    let mut grid = base_grid.unwrap_or(a.model != Some(Model::Vector));
    let mut cfg = grid_options(&a, &latent_opts);
    if a.decoder.is_some() {
        check_reuse_options(&a)?;
    }
    check_model_options(&a, grid)?;
    if grid && a.decoder.is_none() {
        cfg.validate()?;
    }
    let images = gonpack_cli::read_images(&a.dir, shard, a.skip_invalid, a.quiet)?;
    // The quality for which the vector model was chosen, when it was.
    let mut chosen = None;
    if a.decoder.is_none() && a.model.is_none() && !model_tuned(&a) {
        let q = a.quality.unwrap_or(DEFAULT_QUALITY);
        if let ModelChoice::Vector { bits } = auto_model(&images, q) {
            (grid, chosen) = (false, Some(q));
            low_rate_training(&mut opts.train);
            opts.bits = bits;
        }
    }
    if grid {
        let (pack, timing) = match &a.decoder {
            Some(base) => {
                let base_pack = Reader::open(base, Limits::default())?
                    .into_grid_pack()
                    .map_err(|e| e.in_file(base))?;
                cfg.lambda = rate_weight(a.quality, a.lambda, base_pack.lambda);
                let t = Instant::now();
                let pack = encode_with_grid_decoder(&base_pack, &images, &cfg)?;
                let timing = format!(
                    "  time     {:.1} s: latents {:.1} s against the decoder of {} (not trained)\n",
                    start.elapsed().as_secs_f64(),
                    t.elapsed().as_secs_f64(),
                    ShownPath(base)
                );
                (pack, timing)
            }
            None => {
                cfg.steps = a.steps.unwrap_or(default_grid_steps(images.len()));
                if a.sampling.is_none() {
                    cfg.shape.sampling = auto_sampling(&images);
                }
                let (pack, rep) = encode_grid_pack(&images, &cfg)?;
                let timing = trained(&a, start, &rep.train, "encoding", rep.encode_seconds);
                (pack, timing)
            }
        };
        let sizes = save(pack.to_bytes()?, pending)?;
        let text = summary(&a, &output, &images, &pack, &sizes, &timing)?;
        return gonpack_cli::emit(&text).map_err(Into::into);
    }
    if let Some(base) = &a.decoder {
        let (base, _) = Pack::read(base, &Limits::default())?;
        let t = Instant::now();
        let bits = a.bits.unwrap_or(base.quant.bits);
        let pack = train::encode_with_decoder(&base, &images, bits, &latent_opts)?;
        let sizes = save(pack.to_bytes()?, pending)?;
        let timing = format!(
            "  time     {:.1} s: latents {:.1} s against the decoder of {} (not trained)\n",
            start.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64(),
            ShownPath(base_path(&a))
        );
        let text = summary(&a, &output, &images, &pack, &sizes, &timing)?;
        return gonpack_cli::emit(&text).map_err(Into::into);
    }
    if a.steps.is_none() && chosen.is_none() {
        let latents = images
            .iter()
            .map(|i| opts.patches.units(i.width, i.height))
            .sum();
        opts.train.steps = default_steps(latents);
    }
    let (pack, rep) = train::encode(&images, &opts)?;
    let mut timing = trained(&a, start, &rep.train, "latents", rep.latent_seconds);
    if let Some(q) = chosen {
        timing = format!(
            "  model    vector, {} latents of {} bits per image: chosen for quality {q} on {} small grey images (--model grid keeps the grids)\n{timing}",
            opts.train.shape.latent_dim,
            opts.bits,
            images.len()
        );
    }
    let sizes = save(pack.to_bytes()?, pending)?;
    let text = summary(&a, &output, &images, &pack, &sizes, &timing)?;
    gonpack_cli::emit(&text).map_err(Into::into)
}

/// Warns (unless `--quiet`) when training stalled, and returns the summary's timing line:
/// the whole run since `start`, training, then `phase` taking `seconds`.
fn trained(
    a: &EncodeArgs,
    start: Instant,
    train: &gonpack_train::TrainReport,
    phase: &str,
    seconds: f64,
) -> String {
    if train.stalled() && !a.quiet {
        eprintln!(
            "gonpack: warning: training made little progress (last-10% train PSNR {:.2} dB; a flat picture of the mean value scores {:.2} dB): try more --steps or a lower --lr",
            train.final_psnr, train.flat_psnr
        );
    }
    format!(
        "  time     {:.1} s: training {:.1} s ({} steps, {:.1} steps/s, last-10% train PSNR {:.2} dB), {phase} {seconds:.1} s\n",
        start.elapsed().as_secs_f64(),
        train.seconds,
        train.steps,
        train.steps as f64 / train.seconds.max(1e-9),
        train.final_psnr,
    )
}

fn base_path(a: &EncodeArgs) -> &Path {
    a.decoder.as_deref().unwrap_or(Path::new("-"))
}

/// A usage error when an option of one model is given to train the other, or to encode
/// against a base pack of the other (instead of being silently ignored).
fn check_model_options(a: &EncodeArgs, grid: bool) -> Result<()> {
    let l = &a.latent_args;
    let vector_only = [
        ("--bits", a.bits.is_some()),
        (
            "--quant-refine",
            l.quant_refine != train::DEFAULT_QUANT_REFINE,
        ),
    ];
    let grid_only = [
        ("--quality", a.quality.is_some()),
        ("--lambda", a.lambda.is_some()),
    ];
    let (other, wrong): (_, Vec<_>) = if grid {
        let training = vector_training_options(a);
        ("vector", vector_only.into_iter().chain(training).collect())
    } else {
        (
            "grid",
            grid_only
                .into_iter()
                .chain(grid_training_options(a))
                .collect(),
        )
    };
    let Some((option, _)) = wrong.iter().find(|(_, given)| *given) else {
        return Ok(());
    };
    let base = match &a.decoder {
        Some(base) => format!(" ({})", crate::holds_decoder(base, grid)),
        None => String::new(),
    };
    Err(gonpack_train::Error::usage(format!(
        "{option} applies to --model {other} only{base}"
    )))
}

/// A usage error when an option that sets up a new decoder or its training is given with
/// `--decoder`, whose decoder is reused as it is (instead of the option being silently
/// ignored).
fn check_reuse_options(a: &EncodeArgs) -> Result<()> {
    let shared = [
        ("--model", a.model.is_some()),
        ("--hidden", a.hidden.is_some()),
        ("--layers", a.layers.is_some()),
        ("--sigmoid", a.sigmoid),
        ("--steps", a.steps.is_some()),
        ("--batch", a.batch.is_some()),
        ("--lr", a.lr.is_some()),
        ("--inner-steps", a.inner_steps.is_some()),
        ("--step-init", a.step_init.is_some()),
        ("--f32-weights", a.f32_weights),
        ("--seed", a.seed != D.seed),
    ];
    let mut given = shared
        .into_iter()
        .chain(grid_training_options(a))
        .chain(vector_training_options(a))
        .filter(|(_, given)| *given);
    match given.next() {
        Some((option, _)) => Err(gonpack_train::Error::usage(format!(
            "{option} sets up a new decoder and cannot be used with --decoder, whose decoder is reused as it is"
        ))),
        None => Ok(()),
    }
}

/// The options that shape or train a grid decoder, each with whether it was given.
fn grid_training_options(a: &EncodeArgs) -> [(&'static str, bool); 8] {
    [
        ("--precondition", a.precondition.is_some()),
        ("--warmup", a.warmup.is_some()),
        ("--straight-through", a.straight_through.is_some()),
        ("--levels", a.levels != G.shape.levels),
        ("--global", a.global != G.shape.global),
        ("--frequencies", a.frequencies != G.shape.frequencies),
        ("--crop", a.crop != G.crop),
        ("--sampling", a.sampling.is_some()),
    ]
}

/// The options that shape or train a vector decoder, each with whether it was given.
fn vector_training_options(a: &EncodeArgs) -> [(&'static str, bool); 8] {
    [
        ("--latent", a.latent != D.shape.latent_dim),
        ("--modulated", a.modulated.is_some()),
        ("--w0", a.w0 != D.shape.w0_first),
        ("--w0-hidden", a.w0_hidden != D.shape.w0_hidden),
        ("--pixels", a.pixels != D.pixels),
        ("--patch", a.patch != gonpack::consts::DEFAULT_PATCH),
        ("--overlap", a.overlap != gonpack::consts::DEFAULT_OVERLAP),
        ("--jitter", a.jitter),
    ]
}

/// Whether the arguments set the model beyond `--quality` (an option of the grid model, or
/// one whose default depends on the model), which keeps `encode` on the grid model when
/// `--model` is not given.
fn model_tuned(a: &EncodeArgs) -> bool {
    let shared = [
        a.hidden.is_some(),
        a.layers.is_some(),
        a.inner_steps.is_some(),
        a.step_init.is_some(),
        a.steps.is_some(),
        a.batch.is_some(),
        a.lr.is_some(),
        a.latent_args.refine.is_some(),
    ];
    shared.contains(&true)
        || a.lambda.is_some()
        || grid_training_options(a).iter().any(|(_, given)| *given)
}

/// The grid-model settings the arguments ask for.
fn grid_options(a: &EncodeArgs, latent_opts: &LatentOptions) -> GridConfig {
    GridConfig {
        shape: gonpack::format::grid::GridShape {
            channels: 3,
            levels: a.levels,
            global: a.global,
            frequencies: a.frequencies,
            hidden: a.hidden.unwrap_or(G.shape.hidden),
            layers: a.layers.unwrap_or(G.shape.layers),
            steps: a.inner_steps.unwrap_or(G.shape.steps),
            output: if a.sigmoid {
                Output::Logistic
            } else {
                Output::Identity
            },
            sampling: a.sampling.map_or(G.shape.sampling, SamplingArg::sampling),
        },
        lambda: rate_weight(a.quality, a.lambda, None),
        precondition: a.precondition,
        warmup: a.warmup,
        straight_through: a.straight_through,
        steps: a.steps.unwrap_or(G.steps),
        batch: a.batch.unwrap_or(G.batch),
        lr: a.lr.unwrap_or(G.lr),
        step_init: a.step_init.unwrap_or(G.step_init),
        crop: a.crop,
        refine: a.latent_args.refine.unwrap_or(G.refine),
        supersample: a.latent_args.supersample,
        seed: a.seed,
        device: latent_opts.device,
        log_every: if a.verbose { 100 } else { 0 },
        quiet: a.quiet,
        weight_format: if a.f32_weights {
            WEIGHTS_F32
        } else {
            WEIGHTS_F16
        },
    }
}

/// The encode options the arguments ask for (training steps: `--steps`, else filled in once
/// the images are counted).
fn options(a: &EncodeArgs, latent_opts: &LatentOptions) -> EncodeOptions {
    EncodeOptions {
        train: TrainConfig {
            shape: ModelShape {
                channels: 3,
                latent_dim: a.latent,
                hidden: a.hidden.unwrap_or(D.shape.hidden),
                layers: a.layers.unwrap_or(D.shape.layers),
                modulated: a.modulated.unwrap_or(a.layers.unwrap_or(D.shape.layers)),
                w0_first: a.w0,
                w0_hidden: a.w0_hidden,
                output: if a.sigmoid {
                    Output::Logistic
                } else {
                    Output::Identity
                },
            },
            steps: a.steps.unwrap_or(MIN_DEFAULT_STEPS),
            batch: a.batch.unwrap_or(D.batch),
            lr: a.lr.unwrap_or(D.lr),
            pixels: a.pixels,
            inner_steps: a.inner_steps.unwrap_or(D.inner_steps),
            step_init: a.step_init.unwrap_or(D.step_init),
            supersample: latent_opts.supersample,
            jitter: a.jitter,
            seed: a.seed,
            device: latent_opts.device,
            log_every: if a.verbose { 250 } else { 0 },
        },
        bits: a.bits.unwrap_or(8),
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

/// Writes a serialised pack (bytes, sizes) into its reserved file, holding the lock of any pack already there (so an
/// `add` running on it is not overwritten half-way).
pub fn save(
    (bytes, sizes): (Vec<u8>, SizeBreakdown),
    pending: PendingFile,
) -> Result<SizeBreakdown> {
    let _lock = gonpack::io::lock_pack(pending.path())?;
    pending.commit(&bytes)?;
    Ok(sizes)
}

/// The report printed after encoding: counts, sizes, quality of the stored pack, timing.
fn summary(
    a: &EncodeArgs,
    output: &Path,
    images: &[SourceImage],
    pack: &dyn gonpack::render::PackImages,
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
