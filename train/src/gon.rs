//! Gradient Origin Network training and latent derivation.
//!
//! A latent is one gradient step from the origin: `z = -alpha * grad_{z0} L_i(F(c, z0))` at
//! `z0 = 0`, with `L_i` the mean squared error of image `i` alone, so a latent never depends on
//! which other images share its batch (optionally a few more such steps: [`descend`]).
//! Training minimises the error of `F(c, z)` and back-propagates through those steps (second
//! order).
use indicatif::ProgressBar;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use crate::data::{jittered, Bucket};
use crate::error::{Error, Result};
use crate::siren::Siren;
use gonpack::format::model::{ModelShape, Output};
use gonpack::format::quant::Quantiser;
use rand::seq::index;
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Training hyper-parameters.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Decoder architecture.
    pub shape: ModelShape,
    /// Optimiser steps.
    pub steps: usize,
    /// Images per step.
    pub batch: usize,
    /// Peak Adam learning rate (cosine-decayed to 5% of it).
    pub lr: f64,
    /// Pixels sampled per image and step (0: all).
    pub pixels: usize,
    /// Gradient steps from the origin per latent during training (1: the GON paper's single
    /// step); encoding should then take at least as many (`refine >= inner_steps - 1`).
    pub inner_steps: usize,
    /// Initial encoder step size `alpha`.
    pub step_init: f64,
    /// Points per pixel side whose mean output models a pixel (1: its centre; see
    /// [`crate::data::buckets`]).
    pub supersample: u32,
    /// Move each pixel's points to random places inside their cells every step, so the mean
    /// estimates the pixel's whole area rather than `supersample`² fixed points.
    pub jitter: bool,
    /// Seed of parameter initialisation and sampling.
    pub seed: u64,
    /// Where tensors live.
    pub device: Device,
    /// Print the training PSNR every this many steps (0: never).
    pub log_every: usize,
}

impl TrainConfig {
    /// The defaults of `gonpack encode` (training steps there depend on the image count).
    /// Measured on MNIST (10,000 training digits, 1,000 test digits encoded against the frozen
    /// decoder, 8-bit codes, 20 refinement steps): 3 steps from the origin at learning rate
    /// 1e-3 gave 23.5 dB where the paper's single step at 2e-3 gave 20.3 dB; with 2 or 3 steps,
    /// learning rate 2e-3 diverged.
    pub const DEFAULT: TrainConfig = TrainConfig {
        shape: ModelShape {
            channels: 3,
            latent_dim: 32,
            hidden: 64,
            layers: 3,
            modulated: 3,
            w0_first: 30.0,
            w0_hidden: 30.0,
            output: Output::Identity,
        },
        steps: 3000,
        batch: 32,
        lr: 1e-3,
        pixels: 256,
        inner_steps: 3,
        step_init: 1.0,
        supersample: 1,
        jitter: false,
        seed: 0,
        device: Device::Cpu,
        log_every: 0,
    };
}

/// Largest frequency factor `w0` training accepts (the format allows any finite value; past
/// this the sines alias every pixel and initialisation breaks down).
pub const MAX_W0: f32 = 1e4;

impl TrainConfig {
    /// Checks every setting before any work, naming the `encode` option at fault: the shape
    /// ([`ModelShape::validate`], the reader's own check), positive finite frequency factors
    /// up to [`MAX_W0`], a learning rate in `(0, 1]`, a positive finite initial step size and
    /// at least one step, image per batch and step from the origin.
    pub fn validate(&self) -> Result<()> {
        let usage =
            |option: &str, message: String| Err(Error::usage(format!("--{option}: {message}")));
        if let Err(e) = self.shape.validate() {
            return usage(e.field, e.message);
        }
        for (option, w0) in [
            ("w0", self.shape.w0_first),
            ("w0-hidden", self.shape.w0_hidden),
        ] {
            if !(w0 > 0.0 && w0 <= MAX_W0) {
                return usage(
                    option,
                    format!("{w0} (must be above 0 and at most {MAX_W0})"),
                );
            }
        }
        check_optimiser(self.lr, self.step_init)?;
        for (option, value) in [
            ("steps", self.steps),
            ("batch", self.batch),
            ("inner-steps", self.inner_steps),
        ] {
            if value == 0 {
                return usage(option, "must be at least 1".into());
            }
        }
        if !(1..=8).contains(&self.supersample) {
            return usage(
                "supersample",
                format!("{} (must be 1 to 8)", self.supersample),
            );
        }
        Ok(())
    }
}

/// Checks a learning rate (in `(0, 1]`) and an initial gradient-origin step size (positive,
/// finite), naming the `encode` option at fault.
pub(crate) fn check_optimiser(lr: f64, step_init: f64) -> Result<()> {
    if !(lr > 0.0 && lr <= 1.0) {
        return Err(Error::usage(format!(
            "--lr: {lr} (must be above 0 and at most 1)"
        )));
    }
    if !(step_init > 0.0 && step_init.is_finite()) {
        return Err(Error::usage(format!(
            "--step-init: {step_init} (must be positive and finite)"
        )));
    }
    Ok(())
}

/// Largest gradient norm applied in one step; larger ones are scaled down (keeps the
/// second-order updates from diverging).
const CLIP_NORM: f64 = 1.0;

/// What training measured.
#[derive(Debug, Clone, Copy)]
pub struct TrainReport {
    /// Steps run.
    pub steps: usize,
    /// Wall time of the loop, in seconds.
    pub seconds: f64,
    /// Mean training PSNR (dB) over the last tenth of the steps.
    pub final_psnr: f64,
    /// PSNR (dB) of a flat picture at the training images' mean value, where the decoder
    /// starts (its output bias): the score of a decoder that learnt nothing.
    pub flat_psnr: f64,
}

impl TrainReport {
    /// Whether training ended less than [`STALL_MARGIN_DB`] above [`TrainReport::flat_psnr`]:
    /// it stalled or diverged (seen with 16x16 patches at learning rate 1e-3, which stayed at
    /// 11 dB while 5e-4 reached 24 dB), or it ran too few steps.
    pub fn stalled(&self) -> bool {
        self.final_psnr < self.flat_psnr + STALL_MARGIN_DB
    }
}

/// How far above a flat picture's PSNR training must end not to count as stalled.
pub const STALL_MARGIN_DB: f64 = 1.0;

/// Training latents of a batch: `steps` gradient steps from the origin, `z_0 = 0`,
/// `z_{k+1} = z_k - alpha * grad_z L_i(F(c, z_k))`, shape `(B, D)`, differentiable with respect
/// to the decoder (training back-propagates through every step). One step is the GON latent;
/// more make the encoder nonlinear.
pub fn descend(siren: &Siren, coords: &Tensor, targets: &Tensor, steps: usize) -> Tensor {
    let b = targets.size()[0];
    let d = siren.shape().latent_dim as i64;
    let alpha = siren.step();
    let mut z = Tensor::zeros([b, d], (Kind::Float, targets.device())).set_requires_grad(true);
    for _ in 0..steps {
        let inner = siren.per_image_mse(coords, &z, targets).sum(Kind::Float);
        let grad = Tensor::run_backward(&[&inner], &[&z], true, true);
        z = &z - &alpha * &grad[0];
    }
    z
}

/// Encoding latents of a batch with the decoder frozen: the same steps from the origin as
/// [`descend`], `steps` in all, but guarded per image: a step that would raise the image's
/// error is not taken, and that image's step size is halved. The error after `k` steps thus
/// never exceeds the error after fewer, so refinement past the trained number of steps cannot
/// make a latent worse (unguarded, a decoder trained with 2 steps gave 21.3 dB on MNIST test
/// digits after 2 steps but 19.3 dB after 6).
pub fn encode_latents(siren: &Siren, coords: &Tensor, targets: &Tensor, steps: usize) -> Tensor {
    let b = targets.size()[0];
    let d = siren.shape().latent_dim as i64;
    let device = targets.device();
    let alpha = siren.step().detach();
    let mut z = Tensor::zeros([b, d], (Kind::Float, device));
    let mut scale = Tensor::ones([b, 1], (Kind::Float, device));
    for _ in 0..steps {
        let zr = z.detach().set_requires_grad(true);
        let loss = siren.per_image_mse(coords, &zr, targets);
        let grad = Tensor::run_backward(&[&loss.sum(Kind::Float)], &[&zr], false, false);
        let candidate = z.detach() - &scale * &alpha * &grad[0];
        let better = tch::no_grad(|| siren.per_image_mse(coords, &candidate, targets))
            .le_tensor(&loss.detach())
            .unsqueeze(1);
        z = candidate.where_self(&better, &z.detach());
        scale = scale.where_self(&better, &(&scale * 0.5));
    }
    z
}

/// One training run's state: decoder, optimiser and sampler. [`train`] drives it; benchmarks
/// time single [`Trainer::step`]s.
pub struct Trainer<'a> {
    buckets: &'a [Bucket],
    cfg: TrainConfig,
    siren: Siren,
    opt: nn::Optimizer,
    rng: ChaCha8Rng,
    /// Images (or patches) per bucket: a step's bucket is drawn in proportion.
    sizes: Vec<usize>,
}

impl<'a> Trainer<'a> {
    /// A freshly initialised decoder for `buckets` (output bias at their mean value).
    pub fn new(buckets: &'a [Bucket], cfg: &TrainConfig) -> Result<Self> {
        cfg.validate()?;
        tch::manual_seed(cfg.seed as i64);
        let siren = Siren::new(cfg.shape, cfg.device, mean_target(buckets), cfg.step_init)?;
        let opt = nn::Adam::default().build(&siren.vs, cfg.lr)?;
        Ok(Trainer {
            buckets,
            cfg: cfg.clone(),
            siren,
            opt,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            sizes: buckets.iter().map(|b| b.members.len()).collect(),
        })
    }

    /// Step number `step` of `cfg.steps` (it sets the cosine learning rate): a batch from one
    /// bucket (drawn in proportion to its number of images or patches), its gradient-origin latents and one Adam
    /// step through them. Returns the batch's mean squared error.
    pub fn step(&mut self, step: usize) -> Result<f64> {
        let cfg = &self.cfg;
        let progress = step as f64 / cfg.steps.max(1) as f64;
        let lr = cfg.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        self.opt.set_lr(lr);
        let mut pick = self.rng.gen_range(0..self.sizes.iter().sum::<usize>());
        let k = self.sizes.iter().position(|&s| {
            let hit = pick < s;
            if !hit {
                pick -= s;
            }
            hit
        });
        let bucket = &self.buckets[k.unwrap_or(0)];
        let n = bucket.members.len();
        let idx = Tensor::from_slice(&distinct(&mut self.rng, n, cfg.batch)).to(cfg.device);
        let mut targets = bucket.targets.index_select(0, &idx);
        let mut coords = bucket.coords.shallow_clone();
        let p = coords.size()[0] as usize;
        if cfg.pixels > 0 && cfg.pixels < p {
            let pix = Tensor::from_slice(&distinct(&mut self.rng, p, cfg.pixels)).to(cfg.device);
            targets = targets.index_select(1, &pix);
            coords = coords.index_select(0, &pix);
        }
        if cfg.jitter {
            coords = jittered(&coords, bucket, cfg.supersample, &mut self.rng);
        }
        let z = descend(&self.siren, &coords, &targets, cfg.inner_steps);
        let loss = self
            .siren
            .per_image_mse(&coords, &z, &targets)
            .mean(Kind::Float);
        self.opt.backward_step_clip_norm(&loss, CLIP_NORM);
        let mse = loss.double_value(&[]);
        if !mse.is_finite() {
            return Err(Error::usage(format!(
                "training diverged at step {step} (loss {mse}); try a lower --lr"
            )));
        }
        Ok(mse)
    }

    /// The decoder being trained.
    pub fn siren(&self) -> &Siren {
        &self.siren
    }
}

/// Trains a decoder on `buckets`, reporting progress on `bar` (one tick per step).
pub fn train(
    buckets: &[Bucket],
    cfg: &TrainConfig,
    bar: &ProgressBar,
) -> Result<(Siren, TrainReport)> {
    let mut trainer = Trainer::new(buckets, cfg)?;
    let tail = (cfg.steps / 10).max(1);
    let mut tail_mse = 0.0;
    let start = std::time::Instant::now();
    for step in 0..cfg.steps {
        let mse = trainer.step(step)?;
        if cfg.log_every > 0 && (step + 1) % cfg.log_every == 0 {
            bar.suspend(|| {
                eprintln!(
                    "step {:>6}: loss {mse:.5}, batch PSNR {:.2} dB, mean step size {:.4}, {:.1} steps/s",
                    step + 1,
                    gonpack::render::metrics::psnr_from_mse(mse),
                    trainer.siren.step().mean(Kind::Float).double_value(&[]),
                    (step + 1) as f64 / start.elapsed().as_secs_f64()
                )
            });
        }
        if step + tail >= cfg.steps {
            tail_mse += mse / tail as f64;
        }
        bar.inc(1);
        if step % 10 == 0 {
            bar.set_message(format!(
                "PSNR {:.2} dB",
                gonpack::render::metrics::psnr_from_mse(mse)
            ));
        }
    }
    let report = TrainReport {
        steps: cfg.steps,
        seconds: start.elapsed().as_secs_f64(),
        final_psnr: gonpack::render::metrics::psnr_from_mse(tail_mse),
        flat_psnr: gonpack::render::metrics::psnr_from_mse(flat_mse(buckets)),
    };
    Ok((trainer.siren, report))
}

/// Mean squared error of a flat picture at [`mean_target`] over every training sample.
fn flat_mse(buckets: &[Bucket]) -> f64 {
    let mean = mean_target(buckets);
    let (sum, count) = buckets.iter().fold((0.0, 0.0), |(s, c), b| {
        let sq = (&b.targets - mean).square().sum(Kind::Double);
        (s + sq.double_value(&[]), c + b.targets.numel() as f64)
    });
    if count > 0.0 {
        sum / count
    } else {
        0.0
    }
}

/// `k` distinct indices of `0..n` (all of them when `k >= n`), in random order.
fn distinct(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<i64> {
    index::sample(rng, n, k.min(n))
        .into_iter()
        .map(|i| i as i64)
        .collect()
}

fn mean_target(buckets: &[Bucket]) -> f64 {
    let (sum, count) = buckets.iter().fold((0.0, 0.0), |(s, c), b| {
        (
            s + b.targets.sum(Kind::Double).double_value(&[]),
            c + b.targets.numel() as f64,
        )
    });
    if count > 0.0 {
        sum / count
    } else {
        0.5
    }
}

/// Pixels evaluated together when deriving latents. Measured on 1,000 MNIST digits with 5
/// refinement steps: 16 images (12.5k pixels) per chunk took 4.4 s, 256 images took 15.0 s
/// (large tensors spend their time in page faults).
const LATENT_CHUNK_PIXELS: usize = 16_384;

/// The chunks latents are derived in: `(bucket, first, count)` of at most
/// [`LATENT_CHUNK_PIXELS`] pixels each (at least one image).
fn chunks(buckets: &[Bucket]) -> impl Iterator<Item = (&Bucket, usize, usize)> {
    buckets.iter().flat_map(|bucket| {
        let n = bucket.members.len();
        let pixels = (bucket.width as usize) * (bucket.height as usize);
        let chunk = (LATENT_CHUNK_PIXELS / pixels).max(1);
        (0..n)
            .step_by(chunk)
            .map(move |start| (bucket, start, chunk.min(n - start)))
    })
}

/// Latents of every image (`N x D`, in input order): the gradient-origin step, then `refine`
/// further guarded steps with the decoder frozen ([`encode_latents`]). `bar` ticks per image.
pub fn derive_latents(
    siren: &Siren,
    buckets: &[Bucket],
    refine: usize,
    bar: &ProgressBar,
) -> Result<Vec<f32>> {
    let d = siren.shape().latent_dim;
    let total: usize = buckets.iter().map(|b| b.members.len()).sum();
    let mut out = vec![0f32; total * d];
    for (bucket, start, len) in chunks(buckets) {
        let targets = bucket.targets.narrow(0, start as i64, len as i64);
        let z = encode_latents(siren, &bucket.coords, &targets, 1 + refine);
        scatter_rows(&z, &bucket.members[start..start + len], &mut out)?;
        bar.inc(len as u64);
    }
    Ok(out)
}

/// Writes row `r` of `z` (`len x D`) to row `members[r]` of `out`.
fn scatter_rows(z: &Tensor, members: &[usize], out: &mut [f32]) -> Result<()> {
    let rows = Vec::<f32>::try_from(z.to(Device::Cpu).flatten(0, -1))?;
    let d = rows.len() / members.len();
    for (row, &i) in rows.chunks_exact(d).zip(members) {
        out[i * d..(i + 1) * d].copy_from_slice(row);
    }
    Ok(())
}

/// A [`Quantiser`]'s round trip as tensor operations: `lo + clamp(round((z - lo) / step), 0,
/// 2^B - 1) * step`, per dimension, in f32 as the reader computes it; torch's `round` takes
/// halves to even, as [`gonpack::format::quant::code`] does, so the codes are the stored ones
/// (tested).
pub struct QuantGrid {
    lo: Tensor,
    step: Tensor,
    max_code: f64,
}

impl QuantGrid {
    /// The grid of `quant`, on `device`.
    pub fn new(quant: &Quantiser, device: Device) -> Self {
        let d = quant.lo.len() as i64;
        let steps: Vec<f32> = (0..quant.lo.len()).map(|k| quant.step(k)).collect();
        QuantGrid {
            lo: Tensor::from_slice(&quant.lo).view([1, d]).to(device),
            step: Tensor::from_slice(&steps).view([1, d]).to(device),
            max_code: f64::from(quant.max_code()),
        }
    }

    /// The codes of `z` ([`gonpack::format::quant::code`]), as floats.
    pub fn codes(&self, z: &Tensor) -> Tensor {
        let safe = self.step.clamp_min(f64::from(f32::MIN_POSITIVE));
        let q = ((z - &self.lo) / safe).round().clamp(0.0, self.max_code);
        // A zero step has the code 0.
        q.where_self(&self.step.gt(0.0), &q.zeros_like())
    }

    /// The values that `z`'s codes stand for.
    pub fn round_trip(&self, z: &Tensor) -> Tensor {
        &self.lo + self.codes(z) * &self.step
    }
}

/// Quantisation-aware refinement of a batch of latents `z`: `steps` guarded steps on the
/// error of the *quantised* latents. Each step takes the gradient at the quantised latent
/// (straight through the rounding), moves the continuous latent by it, and keeps the move
/// only for images whose quantised error does not rise (their step is halved otherwise), so
/// the result's quantised error never exceeds the input's.
pub fn refine_quantised(
    siren: &Siren,
    coords: &Tensor,
    targets: &Tensor,
    z: &Tensor,
    grid: &QuantGrid,
    steps: usize,
) -> Tensor {
    let device = targets.device();
    let alpha = siren.step().detach();
    let mut z = z.detach();
    let mut scale = Tensor::ones([z.size()[0], 1], (Kind::Float, device));
    for _ in 0..steps {
        let zq = grid.round_trip(&z).set_requires_grad(true);
        let loss = siren.per_image_mse(coords, &zq, targets);
        let grad = Tensor::run_backward(&[&loss.sum(Kind::Float)], &[&zq], false, false);
        let candidate = &z - &scale * &alpha * &grad[0];
        let better =
            tch::no_grad(|| siren.per_image_mse(coords, &grid.round_trip(&candidate), targets))
                .le_tensor(&loss.detach())
                .unsqueeze(1);
        z = candidate.where_self(&better, &z);
        scale = scale.where_self(&better, &(&scale * 0.5));
    }
    z
}

/// [`refine_quantised`] for every image's latent (`latents`, `N x D` in input order, updated
/// in place) with the ranges of `quant`. `bar` ticks per image.
pub fn refine_quantised_latents(
    siren: &Siren,
    buckets: &[Bucket],
    latents: &mut [f32],
    quant: &Quantiser,
    steps: usize,
    bar: &ProgressBar,
) -> Result<()> {
    let d = siren.shape().latent_dim;
    let grid = QuantGrid::new(quant, siren.vs.device());
    for (bucket, start, len) in chunks(buckets) {
        let members = &bucket.members[start..start + len];
        let rows: Vec<f32> = members
            .iter()
            .flat_map(|&i| latents[i * d..(i + 1) * d].iter().copied())
            .collect();
        let z = Tensor::from_slice(&rows)
            .view([len as i64, d as i64])
            .to(siren.vs.device());
        let targets = bucket.targets.narrow(0, start as i64, len as i64);
        let z = refine_quantised(siren, &bucket.coords, &targets, &z, &grid, steps);
        scatter_rows(&z, members, latents)?;
        bar.inc(len as u64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trainers_quantised_codes_are_the_stored_ones() {
        // Dimension 0 has steps of exactly 1, so k + 0.5 are exact ties (half to even: 0.5 -> 0,
        // 1.5 -> 2, 2.5 -> 2); dimension 1 has a zero step; dimension 2 an awkward one.
        let quant = Quantiser {
            bits: 4,
            lo: vec![0.0, 0.25, -1.3],
            hi: vec![15.0, 0.25, 2.9],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut z = Vec::new();
        for k in 0..200 {
            let tie = (k % 17) as f32 + 0.5 - 1.0;
            z.extend([tie, rng.gen_range(-3.0..3.0), rng.gen_range(-2.0..2.0)]);
        }
        let stored: Vec<f32> = quant.quantise(&z).into_iter().map(f32::from).collect();
        let grid = QuantGrid::new(&quant, Device::Cpu);
        let codes = grid.codes(&Tensor::from_slice(&z).view([200, 3]));
        let trained = Vec::<f32>::try_from(codes.flatten(0, -1)).unwrap();
        assert_eq!(trained, stored);
        let ties: Vec<f32> = stored.iter().step_by(3).take(5).copied().collect();
        assert_eq!(ties, [0.0, 0.0, 2.0, 2.0, 4.0], "-0.5, 0.5, 1.5, 2.5, 3.5");
        assert!(
            stored.iter().skip(1).step_by(3).all(|&q| q == 0.0),
            "zero step"
        );
    }
}
