//! From images to a grid pack (format versions 5 and 6): train the grid decoder with its rate model
//! ([`train_grids`]), derive each image's grids from the origin and refine them against
//! distortion + λ · rate with the decoder frozen ([`encode_grids`]), under the trained rate model
//! and then again under the context models fitted to those codes, fit the entropy model and
//! assemble the pack.
use std::time::Instant;

use indicatif::ProgressBar;
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use crate::data::size_groups;
use crate::encode::check_new_names;
use crate::error::{Error, Result};
use crate::gon::{check_optimiser, TrainReport};
use crate::grid::{GridNet, RateModel, SizeContext};
use crate::kernel::ROUGHNESS_WEIGHT;
use gonpack::consts::{MAX_GRID_CODE, WEIGHTS_F16};
use gonpack::format::context::{fit_context_models, Prediction};
use gonpack::format::grid::{GridShape, GridWeights, Sampling};
use gonpack::format::grid_pack::{check_rate_weight, fit_models, grid_runs, GridPack};
use gonpack::format::model::Output;
use gonpack::format::ImageEntry;
use gonpack::pixels::{colour_channels, SourceImage};
use gonpack::progress;
use gonpack::render::metrics::psnr_from_mse;

/// `gonpack encode --quality` when not given: on the demo corpus (1,400 steps of 16) it gives
/// 29.64 dB at 0.921 bpp with the decoder, under the 1 bpp the demo allows (preconditioned, as
/// colour sets are from quality 4, it gave 1.25 bpp before the codes were refined twice).
pub const DEFAULT_QUALITY: f64 = 3.5;
/// The rate weight λ to encode with: `lambda` (`--lambda`) if given, else that of `quality`
/// (`--quality`), else `stored` (the one a base pack's codes were encoded with, so that
/// images encoded against its decoder land at its operating point), else that of
/// [`DEFAULT_QUALITY`].
pub fn rate_weight(quality: Option<f64>, lambda: Option<f64>, stored: Option<f64>) -> f64 {
    lambda
        .or(quality.map(quality_lambda))
        .or(stored)
        .unwrap_or(quality_lambda(DEFAULT_QUALITY))
}

/// Lowest `--quality`.
pub const MIN_QUALITY: f64 = 0.0;
/// Highest `--quality`.
pub const MAX_QUALITY: f64 = 8.0;

/// The rate weight λ of quality `q` (a real number, [`MIN_QUALITY`] to [`MAX_QUALITY`]):
/// `0.032 / 2^q`, each whole step halving it.
pub fn quality_lambda(q: f64) -> f64 {
    0.032 / q.clamp(MIN_QUALITY, MAX_QUALITY).exp2()
}

/// Quality from which training on colour images preconditions its gradient-origin steps by
/// default ([`default_precondition`]).
pub const PRECONDITION_QUALITY: f64 = 4.0;

/// Whether training with rate weight `lambda` for a decoder of `channels` output channels
/// preconditions its steps when not told: always for grey images (with or without alpha),
/// where the full-resolution level carries the picture (MNIST test, quality 2: 26.9 dB at
/// 0.43 bpp preconditioned, where quality 3 without gave 28.6 dB at 0.83 bpp); for colour
/// images from [`PRECONDITION_QUALITY`] up, where the full-resolution level is worth its bits
/// and without preconditioning dies and saturates quality (CIFAR: 27 dB at any rate). Below it,
/// on mixed colour sets, preconditioning lets that one-channel level crowd out the coarse
/// levels that carry colour (the demo corpus).
pub fn default_precondition(lambda: f64, channels: u8) -> bool {
    colour_channels(channels) == 1 || lambda <= quality_lambda(PRECONDITION_QUALITY)
}

/// Smallest image, in crops' areas, for which training feeds the finest levels to the decoder
/// rounded by default ([`default_straight_through`]): 16, i.e. 128x128 pixels with the default
/// 32-pixel crop.
pub const STRAIGHT_THROUGH_CROPS: u64 = 16;

/// Levels, from the finest, that straight-through training feeds to the decoder rounded: the
/// full- and half-resolution levels. On the six photos at quality 4 (rates with the decoder)
/// rounding only the full-resolution level gave 0.509 bpp → 30.59 dB, the two finest 0.506 →
/// 31.10, and every level 0.546 → 31.05.
pub const STRAIGHT_THROUGH_LEVELS: usize = 2;

/// Whether training on `images` (cropped to `crop` pixels where larger) feeds the finest
/// [`STRAIGHT_THROUGH_LEVELS`] levels to the decoder rounded, gradients passed straight
/// through, when not told: when every image covers at least [`STRAIGHT_THROUGH_CROPS`]
/// crops, i.e. on photos.
///
/// With additive noise standing for its rounding, every code of the full-resolution level,
/// zero or not, reaches the decoder with ±½ of noise, so the decoder learns to weigh the
/// level little and the level dies (0% non-zero codes on the six photos at qualities 2 to 6).
/// Rounded, its zeros are exact and the level lives sparsely where a photo has edges and
/// texture (5–11% non-zero). On 32x32 pictures it is worse (CIFAR, quality 3.5, the
/// full-resolution level alone rounded, the 200 held-out pictures: 1.30 bpp → 26.92 dB, 1.2 dB
/// under the noisy curve's line there), since nearly every pixel of a thumbnail is detail;
/// sets between the two are not measured and keep the noise.
pub fn default_straight_through(images: &[SourceImage], crop: u32) -> bool {
    let least = STRAIGHT_THROUGH_CROPS * u64::from(crop) * u64::from(crop);
    !images.is_empty()
        && images
            .iter()
            .all(|i| u64::from(i.width) * u64::from(i.height) >= least)
}

/// The codes the decoder sees in training: `noisy` (the codes `values` plus uniform noise),
/// except the first `rounded` planes' (the finest levels'), which are `values` rounded with the
/// gradient of `values` ([`default_straight_through`]).
pub fn training_inputs(values: &[Tensor], noisy: &[Tensor], rounded: usize) -> Vec<Tensor> {
    noisy
        .iter()
        .zip(values)
        .enumerate()
        .map(|(l, (n, v))| {
            if l < rounded {
                v + (v.round() - v).detach()
            } else {
                n.shallow_clone()
            }
        })
        .collect()
}

/// Quality under which preconditioned training ramps its rate weight up by default
/// ([`default_warmup`]).
pub const WARMUP_QUALITY: f64 = 2.0;

/// Fraction of the training steps over which a warm-up ramps λ linearly from 0 to its value.
pub const WARMUP_FRACTION: f64 = 0.25;

/// Whether training with rate weight `lambda` ramps λ up over the first [`WARMUP_FRACTION`]
/// of its steps when not told: when its steps are preconditioned and `lambda` is above that
/// of [`WARMUP_QUALITY`]. At such a λ the full-resolution level, which draws a grey picture,
/// dies in the first steps, before the decoder has learnt what it is worth (MNIST, quality 1:
/// 23.2 dB at 0.43 bpp; warmed up 26.6 dB at 0.41); from quality 2 it lives without help, and
/// a warm-up would move those points rather than improve them (CIFAR quality 4 went from
/// 0.84 to 1.56 bpp, on the line to quality 4.5).
pub fn default_warmup(lambda: f64, precondition: bool) -> bool {
    precondition && lambda > quality_lambda(WARMUP_QUALITY)
}

/// The rate weight of training step `step` of `steps`: λ, ramped linearly from 0 over the
/// first [`WARMUP_FRACTION`] of the steps when `warmup`.
pub fn training_rate_weight(lambda: f64, warmup: bool, step: usize, steps: usize) -> f64 {
    if warmup {
        let ramp = WARMUP_FRACTION * steps.max(1) as f64;
        lambda * (step as f64 / ramp).min(1.0)
    } else {
        lambda
    }
}

/// Parses a `--quality`: a number from [`MIN_QUALITY`] to [`MAX_QUALITY`].
pub fn parse_quality(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(q) if (MIN_QUALITY..=MAX_QUALITY).contains(&q) => Ok(q),
        _ => Err(format!(
            "{text:?} is not a number from {MIN_QUALITY} to {MAX_QUALITY}"
        )),
    }
}

/// Training steps of the grid model when not given: two per image, 1,400 to 6,000 (batches of
/// 16: on the demo corpus 1,200 steps of 16 gave 27.1 dB where 800 of 32, in the same time,
/// gave 25.2 and 2,000 of 8 26.6).
pub fn default_grid_steps(images: usize) -> usize {
    images.saturating_mul(2).clamp(1400, 6000)
}

/// Largest `--supersample` of the grid model (the decoder runs at `s^2` points per pixel).
pub const MAX_GRID_SUPERSAMPLE: u32 = 4;

/// Settings of grid training and encoding.
#[derive(Debug, Clone)]
pub struct GridConfig {
    /// Decoder architecture (`channels` is set from the images).
    pub shape: GridShape,
    /// Rate weight λ of the loss `MSE + λ · bits per pixel`.
    pub lambda: f64,
    /// Optimiser steps.
    pub steps: usize,
    /// Images (or crops) per step.
    pub batch: usize,
    /// Peak Adam learning rate (cosine-decayed to 5% of it).
    pub lr: f64,
    /// Initial gradient-origin step size (per unit of summed squared error).
    pub step_init: f64,
    /// Precondition the gradient-origin steps of training ([`GridNet::new`]); `None`: by
    /// [`default_precondition`].
    pub precondition: Option<bool>,
    /// Ramp λ up over the first steps of training ([`training_rate_weight`]); `None`: by
    /// [`default_warmup`].
    pub warmup: Option<bool>,
    /// Feed the finest [`STRAIGHT_THROUGH_LEVELS`] levels to the decoder rounded in training,
    /// gradients passed straight through, instead of with noise ([`training_inputs`]); `None`:
    /// by [`default_straight_through`].
    pub straight_through: Option<bool>,
    /// Images larger than this in either direction are trained on `crop x crop` crops.
    pub crop: u32,
    /// Refinement steps per image with the decoder frozen.
    pub refine: usize,
    /// Points per pixel side in training and encoding: each pixel is the mean of the decoder
    /// at `s x s` points (1: its centre), so that a `--scale s` decode is a picture whose
    /// `s x s` block means are the image (super-resolution).
    pub supersample: u32,
    /// Seed of initialisation and sampling.
    pub seed: u64,
    /// Where tensors live.
    pub device: Device,
    /// Print training figures every this many steps (0: never).
    pub log_every: usize,
    /// Hide progress bars.
    pub quiet: bool,
    /// Stored weight precision.
    pub weight_format: u8,
}

impl GridConfig {
    /// The defaults of `gonpack encode`.
    pub const DEFAULT: GridConfig = GridConfig {
        shape: GridShape {
            channels: 3,
            levels: 6,
            global: 8,
            frequencies: 3,
            hidden: 32,
            layers: 2,
            steps: 2,
            output: Output::Identity,
            sampling: Sampling::Bilinear,
        },
        lambda: 0.004,
        steps: 1400,
        batch: 16,
        lr: 1e-2,
        step_init: 0.03,
        precondition: None,
        warmup: None,
        straight_through: None,
        crop: 32,
        refine: 30,
        supersample: 1,
        seed: 0,
        device: Device::Cpu,
        log_every: 0,
        quiet: false,
        weight_format: WEIGHTS_F16,
    };

    /// Checks every setting before any work, naming the `encode` option at fault.
    pub fn validate(&self) -> Result<()> {
        let usage =
            |option: &str, message: String| Err(Error::usage(format!("--{option}: {message}")));
        if let Err(e) = self.shape.validate() {
            return usage(e.field, e.message);
        }
        if let Err(m) = check_rate_weight(self.lambda) {
            return usage("lambda", m);
        }
        check_optimiser(self.lr, self.step_init)?;
        for (option, value) in [("steps", self.steps), ("batch", self.batch)] {
            if value == 0 {
                return usage(option, "must be at least 1".into());
            }
        }
        if !(1..=MAX_GRID_SUPERSAMPLE).contains(&self.supersample) {
            return usage(
                "supersample",
                format!("{} (must be 1 to {MAX_GRID_SUPERSAMPLE})", self.supersample),
            );
        }
        if !(4..=1024).contains(&self.crop) {
            return usage("crop", format!("{} (must be 4 to 1024)", self.crop));
        }
        Ok(())
    }
}

/// Training data: whole small images grouped by size, and large images cropped at random.
struct Data {
    /// `(context, targets (N, P, C))` per size of the images trained whole.
    whole: Vec<(SizeContext, Tensor)>,
    /// Large images, `(H, W, C)` each.
    large: Vec<Tensor>,
    /// The context of a crop.
    crop: SizeContext,
    /// Images per group of `whole`, then crops per large image (its area over a crop's).
    weights: Vec<usize>,
}

impl Data {
    fn new(images: &[SourceImage], cfg: &GridConfig) -> Result<Self> {
        let c = cfg.shape.channels as u8;
        let mut groups: Vec<((u32, u32), Vec<f32>, usize)> = Vec::new();
        let mut large = Vec::new();
        let mut large_weights = Vec::new();
        for img in images {
            let t = img.targets(c);
            if img.width > cfg.crop || img.height > cfg.crop {
                let dims = [i64::from(img.height), i64::from(img.width), i64::from(c)];
                large.push(Tensor::f_from_slice(&t)?.f_view(dims)?.f_to(cfg.device)?);
                let area = u64::from(img.width) * u64::from(img.height);
                large_weights.push((area / u64::from(cfg.crop * cfg.crop)).max(1) as usize);
                continue;
            }
            let key = (img.width, img.height);
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, v, n)) => {
                    v.extend(t);
                    *n += 1;
                }
                None => groups.push((key, t, 1)),
            }
        }
        let mut whole = Vec::new();
        let mut weights = Vec::new();
        for ((w, h), v, n) in groups {
            let ctx = SizeContext::supersampled(&cfg.shape, w, h, cfg.supersample, cfg.device);
            let dims = [n as i64, ctx.pixels(), i64::from(c)];
            whole.push((
                ctx,
                Tensor::f_from_slice(&v)?.f_view(dims)?.f_to(cfg.device)?,
            ));
            weights.push(n);
        }
        weights.extend(large_weights);
        Ok(Data {
            whole,
            large,
            crop: SizeContext::supersampled(
                &cfg.shape,
                cfg.crop,
                cfg.crop,
                cfg.supersample,
                cfg.device,
            ),
            weights,
        })
    }

    /// A batch: its context and targets `(B, P, C)`.
    fn batch(&self, rng: &mut ChaCha8Rng, cfg: &GridConfig) -> (&SizeContext, Tensor) {
        let k = WeightedIndex::new(&self.weights).map_or(0, |d| d.sample(rng));
        if let Some((ctx, targets)) = self.whole.get(k) {
            let n = targets.size()[0] as usize;
            let idx: Vec<i64> = rand::seq::index::sample(rng, n, cfg.batch.min(n))
                .into_iter()
                .map(|i| i as i64)
                .collect();
            let idx = Tensor::from_slice(&idx).to(cfg.device);
            return (ctx, targets.index_select(0, &idx));
        }
        // Crops of large images, drawn in proportion to their area.
        let large = WeightedIndex::new(&self.weights[self.whole.len()..]).ok();
        let s = i64::from(cfg.crop);
        let crops: Vec<Tensor> = (0..cfg.batch)
            .map(|_| {
                let j = large.as_ref().map_or(0, |d| d.sample(rng));
                let img = &self.large[j];
                let (h, w) = (img.size()[0], img.size()[1]);
                let y = rng.gen_range(0..=(h - s).max(0));
                let x = rng.gen_range(0..=(w - s).max(0));
                img.narrow(0, y, s.min(h))
                    .narrow(1, x, s.min(w))
                    .reshape([-1, img.size()[2]])
            })
            .collect();
        (&self.crop, Tensor::stack(&crops, 0))
    }
}

/// Trains a grid decoder on `images`; `bar` ticks once per step.
pub fn train_grids(
    images: &[SourceImage],
    cfg: &GridConfig,
    bar: &ProgressBar,
) -> Result<(GridNet, TrainReport)> {
    cfg.validate()?;
    tch::manual_seed(cfg.seed as i64);
    let data = Data::new(images, cfg)?;
    let mean = mean_value(images, cfg.shape.channels as u8);
    let precondition = cfg
        .precondition
        .unwrap_or_else(|| default_precondition(cfg.lambda, cfg.shape.channels as u8));
    let warmup = cfg
        .warmup
        .unwrap_or_else(|| default_warmup(cfg.lambda, precondition));
    let straight_through = cfg
        .straight_through
        .unwrap_or_else(|| default_straight_through(images, cfg.crop));
    // Levels come first among the planes; global latents are never rounded.
    let rounded = if straight_through {
        STRAIGHT_THROUGH_LEVELS.min(cfg.shape.levels)
    } else {
        0
    };
    let net = GridNet::new(cfg.shape, cfg.device, mean, cfg.step_init, precondition)?;
    let mut opt = nn::Adam::default().build(&net.vs, cfg.lr)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let tail = (cfg.steps / 10).max(1);
    let mut tail_mse = 0.0;
    let start = Instant::now();
    for step in 0..cfg.steps {
        let progress = step as f64 / cfg.steps.max(1) as f64;
        opt.set_lr(cfg.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())));
        let (ctx, targets) = data.batch(&mut rng, cfg);
        let grids = net.derive(ctx, &targets, true);
        let values = net.to_codes(&grids);
        let codes: Vec<Tensor> = values.iter().map(|y| y + (y.rand_like() - 0.5)).collect();
        let seen = training_inputs(&values, &codes, rounded);
        let p = ctx.pixels() as f64;
        let mse = net.errors(ctx, &net.from_codes(&seen), &targets) / p;
        let bpp = net.bits(&codes) / p;
        let lambda = training_rate_weight(cfg.lambda, warmup, step, cfg.steps);
        let loss = (&mse + &bpp * lambda).mean(Kind::Float);
        let loss = match net.kernel_roughness() {
            Some(r) => loss + r * ROUGHNESS_WEIGHT,
            None => loss,
        };
        opt.backward_step_clip_norm(&loss, 1.0);
        let mse = mse.mean(Kind::Float).double_value(&[]);
        if !mse.is_finite() {
            return Err(Error::usage(format!(
                "training diverged at step {step} (error {mse}); try a lower --lr"
            )));
        }
        if cfg.log_every > 0 && (step + 1) % cfg.log_every == 0 {
            bar.suspend(|| {
                eprintln!(
                    "step {:>6}: PSNR {:.2} dB (noisy codes), {:.3} bpp, {:.1} steps/s",
                    step + 1,
                    psnr_from_mse(mse),
                    bpp.mean(Kind::Float).double_value(&[]),
                    (step + 1) as f64 / start.elapsed().as_secs_f64()
                )
            });
        }
        if step + tail >= cfg.steps {
            tail_mse += mse / tail as f64;
        }
        bar.inc(1);
        if step % 10 == 0 {
            bar.set_message(format!("PSNR {:.2} dB", psnr_from_mse(mse)));
        }
    }
    let flat = flat_mse(images, cfg.shape.channels as u8, mean);
    let report = TrainReport {
        steps: cfg.steps,
        seconds: start.elapsed().as_secs_f64(),
        final_psnr: psnr_from_mse(tail_mse),
        flat_psnr: psnr_from_mse(flat),
    };
    Ok((net, report))
}

/// Decoder points encoded together (images of one size, at least one image).
const ENCODE_CHUNK_PIXELS: usize = 65_536;

/// Integer codes of every image with the decoder `net` frozen, in input order (each image's
/// levels in turn, row-major): `K` steps from the origin, then `cfg.refine` Adam steps on
/// `D_i + λ · bits_i` with uniform noise standing for rounding, then rounding (each pixel the
/// mean of `cfg.supersample`² points). `bar` ticks per image.
pub fn encode_grids(
    net: &GridNet,
    images: &[SourceImage],
    cfg: &GridConfig,
    bar: &ProgressBar,
) -> Result<Vec<Vec<i16>>> {
    let (lambda, refine, device) = (cfg.lambda, cfg.refine, cfg.device);
    let shape = *net.shape();
    let c = shape.channels as u8;
    let mut out: Vec<Vec<i16>> = vec![Vec::new(); images.len()];
    for ((w, h), members) in size_groups(images) {
        let ctx = SizeContext::supersampled(&shape, w, h, cfg.supersample, device);
        let points = ctx.pixels() as usize * (cfg.supersample * cfg.supersample) as usize;
        let per = (ENCODE_CHUNK_PIXELS / points).max(1);
        for chunk in members.chunks(per) {
            let mut v = Vec::new();
            for &i in chunk {
                v.extend(images[i].targets(c));
            }
            let dims = [chunk.len() as i64, ctx.pixels(), i64::from(c)];
            let targets = Tensor::f_from_slice(&v)?.f_view(dims)?.f_to(device)?;
            let mut rngs: Vec<ChaCha8Rng> = chunk.iter().map(|&i| image_rng(&images[i])).collect();
            let codes = refine_codes(net, &ctx, &targets, lambda, refine, &mut rngs)?;
            for (k, &i) in chunk.iter().enumerate() {
                out[i] = codes[k].clone();
            }
            bar.inc(chunk.len() as u64);
        }
    }
    Ok(out)
}

/// Refinement learning rate (Adam, in code units), cosine-decayed to a tenth.
const REFINE_LR: f64 = 0.1;

/// A random generator seeded by the image alone (its size, channels and samples), so that the
/// noise of its refinement, hence its codes, never depends on the other images encoded with it.
fn image_rng(img: &SourceImage) -> ChaCha8Rng {
    let mut h = crc32fast::Hasher::new();
    h.update(&img.width.to_le_bytes());
    h.update(&img.height.to_le_bytes());
    h.update(&[img.channels]);
    h.update(&img.pixels);
    ChaCha8Rng::seed_from_u64(u64::from(h.finalize()))
}

/// Uniform noise in `[-½, ½)` shaped like `like` `(B, …)`, image `b`'s values from `rngs[b]`.
fn noise(like: &Tensor, rngs: &mut [ChaCha8Rng]) -> Tensor {
    let per = like.numel() / rngs.len().max(1);
    let values: Vec<f32> = rngs
        .iter_mut()
        .flat_map(|r| (0..per).map(|_| r.gen::<f32>() - 0.5).collect::<Vec<_>>())
        .collect();
    Tensor::from_slice(&values)
        .view(like.size().as_slice())
        .to(like.device())
}

/// The codes of one batch of same-size images: see [`encode_grids`]; `rngs` (one per image)
/// draw the rounding noise. Each image keeps whichever of its rounded codes before and after
/// refinement scores the lower loss.
fn refine_codes(
    net: &GridNet,
    ctx: &SizeContext,
    targets: &Tensor,
    lambda: f64,
    refine: usize,
    rngs: &mut [ChaCha8Rng],
) -> Result<Vec<Vec<i16>>> {
    let start = net.to_codes(&net.derive(ctx, targets, false));
    let score = |codes: &[Tensor]| {
        tch::no_grad(|| net.errors(ctx, &net.from_codes(codes), targets) + net.bits(codes) * lambda)
    };
    let initial: Vec<Tensor> = start.iter().map(|y| y.round()).collect();
    let mut y: Vec<Tensor> = start
        .iter()
        .map(|t| t.detach().set_requires_grad(true))
        .collect();
    let mut m: Vec<Tensor> = y.iter().map(|t| t.zeros_like()).collect();
    let mut v: Vec<Tensor> = y.iter().map(|t| t.zeros_like()).collect();
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    for t in 1..=refine {
        let noisy: Vec<Tensor> = y.iter().map(|t| t + noise(t, rngs)).collect();
        let loss = (net.errors(ctx, &net.from_codes(&noisy), targets) + net.bits(&noisy) * lambda)
            .sum(Kind::Float);
        let refs: Vec<&Tensor> = y.iter().collect();
        let grads = Tensor::run_backward(&[&loss], &refs, false, false);
        let progress = (t - 1) as f64 / refine as f64;
        let lr = REFINE_LR * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        tch::no_grad(|| {
            for ((yl, g), (ml, vl)) in y.iter_mut().zip(&grads).zip(m.iter_mut().zip(v.iter_mut()))
            {
                *ml = &*ml * b1 + g * (1.0 - b1);
                *vl = &*vl * b2 + g.square() * (1.0 - b2);
                let mh = &*ml / (1.0 - b1.powi(t as i32));
                let vh = &*vl / (1.0 - b2.powi(t as i32));
                *yl = (&*yl - mh / (vh.sqrt() + eps) * lr)
                    .detach()
                    .set_requires_grad(true);
            }
        });
    }
    let refined: Vec<Tensor> = y.iter().map(|t| t.detach().round()).collect();
    let keep = score(&refined).le_tensor(&score(&initial));
    let limit = f64::from(MAX_GRID_CODE);
    let levels: Vec<Tensor> = refined
        .iter()
        .zip(&initial)
        .map(|(r, i)| {
            let k = keep.view([-1, 1, 1]);
            r.where_self(&k, i)
                .clamp(-limit, limit)
                .flatten(1, -1)
                .to_kind(Kind::Int16)
                .to(Device::Cpu)
        })
        .collect();
    let b = targets.size()[0];
    (0..b)
        .map(|i| {
            let mut codes = Vec::new();
            for l in &levels {
                codes.extend(Vec::<i16>::try_from(l.get(i))?);
            }
            Ok(codes)
        })
        .collect()
}

/// What encoding measured.
#[derive(Debug, Clone)]
pub struct GridReport {
    /// Training.
    pub train: TrainReport,
    /// Seconds spent deriving and refining codes.
    pub encode_seconds: f64,
    /// The rate model of the pack's codes ([`rate_of`]): what encoding more images refines
    /// under, besides the stored decoder.
    pub rate: RateModel,
}

/// Trains a grid decoder on `images` and returns the pack holding them all.
pub fn encode_grid_pack(
    images: &[SourceImage],
    cfg: &GridConfig,
) -> Result<(GridPack, GridReport)> {
    let mut cfg = cfg.clone();
    cfg.shape.channels = usize::from(gonpack::pixels::decoder_channels(images));
    cfg.validate()?;
    let bar = progress::bar(cfg.steps as u64, "training", cfg.quiet);
    let (net, train) = train_grids(images, &cfg, &bar)?;
    bar.finish_and_clear();
    let mut weights = net.to_weights()?;
    if cfg.weight_format == WEIGHTS_F16 {
        weights = weights.rounded_to_f16();
    }
    let start = Instant::now();
    // The trained rate model only approximates the context models the writer fits, so the codes
    // are refined under it, then again under the models fitted to them ([`rate_of`]).
    let first = pack_with_decoder(&weights, &net.rate_model()?, images, &cfg)?;
    let pack = pack_with_decoder(&weights, &rate_of(&first), images, &cfg)?;
    let rate = rate_of(&pack);
    Ok((
        pack,
        GridReport {
            train,
            encode_seconds: start.elapsed().as_secs_f64(),
            rate,
        },
    ))
}

/// A pack of `images` with the stored decoder `weights` (frozen), refined under `rate`.
pub fn pack_with_decoder(
    weights: &GridWeights,
    rate: &RateModel,
    images: &[SourceImage],
    cfg: &GridConfig,
) -> Result<GridPack> {
    check_new_names(&[], images, false)?;
    let net = GridNet::from_weights(weights, rate, cfg.device)?;
    let bar = progress::bar(images.len() as u64, "encoding", cfg.quiet);
    let per_image = encode_grids(&net, images, cfg, &bar)?;
    bar.finish_and_clear();
    let codes = per_image.concat();
    let index: Vec<ImageEntry> = images
        .iter()
        .map(|img| ImageEntry {
            name: img.name.clone(),
            width: img.width,
            height: img.height,
            channels: img.channels,
        })
        .collect();
    Ok(GridPack {
        decoder: weights.clone(),
        models: fit_models(&weights.shape, &index, &codes),
        codes,
        index,
        weight_format: cfg.weight_format,
        lambda: Some(cfg.lambda),
    })
}

/// The rate model that `pack`'s codes stand for: the phased context models the writer fits
/// to them ([`RateModel::of_context`]). Encoding against a stored decoder refines codes under
/// it, so each image's codes depend only on the image and the base pack.
pub fn rate_of(pack: &GridPack) -> RateModel {
    let shape = pack.shape();
    let runs = grid_runs(shape, &pack.index);
    let models = fit_context_models(shape.planes(), &runs, &pack.codes, Prediction::Phased);
    RateModel::of_context(&models)
}

/// A pack of `images` encoded against the decoder of `base` (frozen), refined under the rate
/// model of `base`'s codes ([`rate_of`]); nothing depends on the other images, so packs
/// encoded this way from parts of one folder merge into the pack of the whole folder.
pub fn encode_with_grid_decoder(
    base: &GridPack,
    images: &[SourceImage],
    cfg: &GridConfig,
) -> Result<GridPack> {
    if let Some(img) = images
        .iter()
        .find(|i| !gonpack::pixels::renders(base.shape().channels as u8, i.channels))
    {
        return Err(Error::usage(format!(
            "{}: {} image, which the base pack's {}-channel decoder cannot render",
            img.name,
            gonpack::pixels::channel_name(img.channels),
            base.shape().channels
        )));
    }
    let cfg = GridConfig {
        weight_format: base.weight_format,
        ..cfg.clone()
    };
    pack_with_decoder(&base.decoder, &rate_of(base), images, &cfg)
}

/// Encodes `images` against `pack`'s decoder ([`encode_with_grid_decoder`]) and adds them
/// ([`GridPack::absorb`]): an image whose name is in the pack replaces it when `replace`, else
/// is a usage error, as is a new name that would decode to the same file as a kept one.
/// Returns how many images were added and how many replaced.
pub fn add_grid_images(
    pack: &mut GridPack,
    images: &[SourceImage],
    replace: bool,
    cfg: &GridConfig,
) -> Result<(usize, usize)> {
    check_new_names(&pack.index, images, replace)?;
    let encoded = encode_with_grid_decoder(pack, images, cfg)?;
    Ok(pack.absorb(encoded, replace)?)
}

/// Mean target value over every image (the output bias a decoder starts from).
fn mean_value(images: &[SourceImage], channels: u8) -> f64 {
    let (sum, n) = images.iter().fold((0.0, 0usize), |(s, n), img| {
        let t = img.targets(channels);
        (
            s + t.iter().map(|&v| f64::from(v)).sum::<f64>(),
            n + t.len(),
        )
    });
    if n > 0 {
        sum / n as f64
    } else {
        0.5
    }
}

/// Mean squared error of a flat picture at `mean`.
fn flat_mse(images: &[SourceImage], channels: u8, mean: f64) -> f64 {
    let (sum, n) = images.iter().fold((0.0, 0usize), |(s, n), img| {
        let t = img.targets(channels);
        (
            s + t
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>(),
            n + t.len(),
        )
    });
    if n > 0 {
        sum / n as f64
    } else {
        0.0
    }
}
