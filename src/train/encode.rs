//! From images to a pack: train, derive and refine latents, quantise.
use std::time::Instant;

use super::data::buckets;
use super::gon::{derive_latents, train, TrainConfig, TrainReport};
use super::siren::Siren;
use crate::consts::WEIGHTS_F16;
use crate::error::{Error, Result};
use crate::format::{is_plain_relative_path, ImageEntry, Pack};
use crate::io::SourceImage;
use crate::progress;
use crate::quant::Quantiser;

/// Everything `encode` needs besides the images.
#[derive(Debug, Clone)]
pub struct EncodeOptions {
    /// Training set-up (its `shape.channels` is set from the images).
    pub train: TrainConfig,
    /// Bits per latent code.
    pub bits: u8,
    /// Extra gradient steps per latent with the decoder frozen.
    pub refine: usize,
    /// Stored weight precision ([`WEIGHTS_F16`] or `WEIGHTS_F32`).
    pub weight_format: u8,
    /// Hide progress bars.
    pub quiet: bool,
}

/// What encoding measured.
#[derive(Debug, Clone, Copy)]
pub struct EncodeReport {
    /// The training run.
    pub train: TrainReport,
    /// Seconds spent deriving and refining latents.
    pub latent_seconds: f64,
}

/// Trains a decoder on `images` and returns the pack holding them all.
pub fn encode(images: &[SourceImage], opts: &EncodeOptions) -> Result<(Pack, EncodeReport)> {
    if images.is_empty() {
        return Err(Error::Usage("no images to encode".into()));
    }
    if let Some(bad) = images.iter().find(|i| !is_plain_relative_path(&i.name)) {
        return Err(Error::Usage(format!(
            "image name {:?} cannot be stored",
            bad.name
        )));
    }
    let mut cfg = opts.train.clone();
    cfg.shape.channels = if images.iter().all(|i| i.channels == 1) {
        1
    } else {
        3
    };
    let data = buckets(images, cfg.shape.channels as u8, cfg.device)?;

    let bar = progress::bar(cfg.steps as u64, "training", opts.quiet);
    let (siren, train_report) = train(&data, &cfg, &bar)?;
    bar.finish_and_clear();

    let mut weights = siren.to_weights()?;
    if opts.weight_format == WEIGHTS_F16 {
        weights = weights.rounded_to_f16();
    }
    let frozen = Siren::from_weights(&weights, cfg.device)?;
    let start = Instant::now();
    let bar = progress::bar(images.len() as u64, "latents", opts.quiet);
    let latents = derive_latents(&frozen, &data, opts.refine, &bar)?;
    bar.finish_and_clear();
    let d = cfg.shape.latent_dim;
    let quant = Quantiser::fit(&latents, d, opts.bits)?;
    let codes = latents
        .chunks_exact(d)
        .flat_map(|z| quant.quantise(z))
        .collect();
    let index = images
        .iter()
        .map(|i| ImageEntry {
            name: i.name.clone(),
            width: i.width,
            height: i.height,
            channels: i.channels,
        })
        .collect();
    let pack = Pack {
        decoder: weights,
        quant,
        codes,
        index,
        weight_format: opts.weight_format,
    };
    let report = EncodeReport {
        train: train_report,
        latent_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((pack, report))
}
