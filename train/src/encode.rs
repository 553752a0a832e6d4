//! From images to a pack: train, derive and refine latents, quantise.
use std::time::Instant;

use crate::data::{buckets, Bucket};
use crate::error::{Error, Result};
use crate::gon::{derive_latents, refine_quantised_latents, train, TrainConfig, TrainReport};
use crate::siren::Siren;
use gonpack::consts::WEIGHTS_F16;
use gonpack::format::model::DecoderWeights;
use gonpack::format::patches::Geometry;
use gonpack::format::quant::Quantiser;
use gonpack::format::{is_plain_relative_path, ImageEntry, Pack};
use gonpack::pixels::SourceImage;
use gonpack::pixels::{channel_name, renders};
use gonpack::progress;
use tch::Device;

/// Everything `encode` needs besides the images.
#[derive(Debug, Clone)]
pub struct EncodeOptions {
    /// Training set-up (its `shape.channels` is set from the images).
    pub train: TrainConfig,
    /// Bits per latent code.
    pub bits: u8,
    /// Extra gradient steps per latent with the decoder frozen.
    pub refine: usize,
    /// Quantisation-aware refinement steps after the ranges are fitted.
    pub quant_refine: usize,
    /// Stored weight precision ([`WEIGHTS_F16`] or `WEIGHTS_F32`).
    pub weight_format: u8,
    /// Hide progress bars.
    pub quiet: bool,
    /// How images larger than the patch size are cut.
    pub patches: Geometry,
}

impl EncodeOptions {
    /// `encode`'s defaults (8 bits, [`DEFAULT_REFINE`], [`DEFAULT_QUANT_REFINE`], f16
    /// weights, [`Geometry::DEFAULT`] patches, progress shown) with the training set-up `train`.
    pub fn new(train: TrainConfig) -> Self {
        EncodeOptions {
            train,
            bits: 8,
            refine: DEFAULT_REFINE,
            quant_refine: DEFAULT_QUANT_REFINE,
            weight_format: WEIGHTS_F16,
            quiet: false,
            patches: Geometry::DEFAULT,
        }
    }

    /// Checks every option before any work ([`TrainConfig::validate`], the bits and the
    /// patch geometry), naming the `encode` option at fault.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        check_bits(self.bits)?;
        let g = self.patches;
        if !g.is_storable() {
            return Err(Error::usage(format!(
                "--patch {} --overlap {}: the margin must be 1 to the patch size and at most 255, the patch size at most 65535 (--patch 0: no patches)",
                g.patch, g.overlap
            )));
        }
        Ok(())
    }
}

/// Checks `--bits` (1 to [`gonpack::consts::MAX_BITS`]).
pub fn check_bits(bits: u8) -> Result<()> {
    let max = gonpack::consts::MAX_BITS;
    if !(1..=max).contains(&bits) {
        return Err(Error::usage(format!("--bits: {bits} (must be 1 to {max})")));
    }
    Ok(())
}

/// What encoding measured.
#[derive(Debug, Clone, Copy)]
pub struct EncodeReport {
    /// The training run.
    pub train: TrainReport,
    /// Seconds spent deriving and refining latents.
    pub latent_seconds: f64,
}

/// Refinement steps of `encode` and `add` after the first step from the origin. Measured on
/// MNIST test digits with a decoder trained with 3 steps: 2 refinement steps gave 22.2 dB,
/// 5 gave 22.8 dB, 20 gave 23.5 dB (at 3.5, 6.9 and 21.7 s per 1,000 digits here); with 64
/// latents at 3 bits 24.07, 24.47 and 24.92 dB, at 8 bits 26.79, 26.96 and 27.59 dB.
pub const DEFAULT_REFINE: usize = 20;

/// How latents are derived against a frozen decoder.
#[derive(Debug, Clone, Copy)]
pub struct LatentOptions {
    /// Guarded gradient steps after the first step from the origin.
    pub refine: usize,
    /// Guarded steps on the quantised latents' error once the quantiser is known
    /// ([`crate::gon::refine_quantised`]).
    pub quant_refine: usize,
    /// Points per pixel side whose mean output models a pixel (1: its centre); use the
    /// decoder's training value.
    pub supersample: u32,
    /// Where tensors live.
    pub device: Device,
    /// Hide progress bars.
    pub quiet: bool,
}

/// Where a quantiser comes from.
#[derive(Debug, Clone, Copy)]
pub enum Quantise<'a> {
    /// Fitted to the derived latents at this many bits ([`Quantiser::fit`]).
    Fit(u8),
    /// Given (an existing pack's).
    Fixed(&'a Quantiser),
}

/// Quantisation-aware refinement steps of `encode` and `add`. Measured on 1,000 MNIST test
/// digits (latent 128, 4-bit codes, 20 refinement steps): 0, 10 and 30 steps gave 27.33,
/// 27.90 and 27.94 dB at the same rate.
pub const DEFAULT_QUANT_REFINE: usize = 10;

/// Trains a decoder on `images` and returns the pack holding them all. The pipeline, in
/// order: read (images to units to tensors, [`crate::data`]), train ([`crate::gon::train`]),
/// derive, quantise and refine the latents ([`latents_for`]), assemble the pack ([`assemble`]).
pub fn encode(images: &[SourceImage], opts: &EncodeOptions) -> Result<(Pack, EncodeReport)> {
    opts.validate()?;
    check_names(images, &[])?;
    let mut cfg = opts.train.clone();
    cfg.shape.channels = usize::from(gonpack::pixels::decoder_channels(images));
    // Read: whole images or patches, as tensors grouped by size.
    let units = all_units(images, opts.patches);
    let data = buckets(
        &units,
        cfg.shape.channels as u8,
        cfg.supersample,
        cfg.device,
    )?;

    // Train the decoder, then store its weights at the pack's precision.
    let bar = progress::bar(cfg.steps as u64, "training", opts.quiet);
    let (siren, train_report) = train(&data, &cfg, &bar)?;
    bar.finish_and_clear();

    let mut weights = siren.to_weights()?;
    if opts.weight_format == WEIGHTS_F16 {
        weights = weights.rounded_to_f16();
    }
    // Derive, quantise and refine the latents against the stored (rounded) weights.
    let start = Instant::now();
    let latent_opts = LatentOptions {
        refine: opts.refine,
        quant_refine: opts.quant_refine,
        supersample: cfg.supersample,
        device: cfg.device,
        quiet: opts.quiet,
    };
    let (latents, quant) = latents_for(&weights, &units, Quantise::Fit(opts.bits), &latent_opts)?;
    // Assemble.
    let pack = assemble(
        weights,
        opts.weight_format,
        opts.patches,
        quant,
        &latents,
        images,
    );
    let report = EncodeReport {
        train: train_report,
        latent_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((pack, report))
}

/// A new pack of `images` that reuses `base`'s decoder (frozen): latents only, quantised with
/// `bits` over `base`'s ranges (values outside are clamped). Nothing depends on the other
/// images, so packs encoded this way from parts of one folder merge into the pack of the whole
/// folder ([`gonpack::format::merge::merge`]).
pub fn encode_with_decoder(
    base: &Pack,
    images: &[SourceImage],
    bits: u8,
    opts: &LatentOptions,
) -> Result<Pack> {
    check_bits(bits)?;
    check_names(images, &[])?;
    let units = all_units(images, base.patches);
    let ranges = Quantiser {
        bits,
        ..base.quant.clone()
    };
    let (latents, quant) = latents_for(&base.decoder, &units, Quantise::Fixed(&ranges), opts)?;
    Ok(assemble(
        base.decoder.clone(),
        base.weight_format,
        base.patches,
        quant,
        &latents,
        images,
    ))
}

/// What [`add_images`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddReport {
    /// Images appended at the end of the index.
    pub added: usize,
    /// Images that replaced one of the same name in place.
    pub replaced: usize,
    /// Latent values outside the pack's quantisation range, clamped to it.
    pub clamped: usize,
}

/// Encodes `images` against `pack`'s frozen decoder and adds them to it. The pack's decoder,
/// quantisation ranges and existing codes are unchanged, so every existing image decodes to
/// the same pixels; new latent values outside the ranges are clamped (and counted). A name
/// already in the pack is an error unless `replace`.
pub fn add_images(
    pack: &mut Pack,
    images: &[SourceImage],
    replace: bool,
    opts: &LatentOptions,
) -> Result<AddReport> {
    check_new_names(&pack.index, images, replace)?;
    let units = all_units(images, pack.patches);
    let (latents, _) = latents_for(&pack.decoder, &units, Quantise::Fixed(&pack.quant), opts)?;
    let d = pack.shape().latent_dim;
    let mut report = AddReport::default();
    let mut next = 0;
    for img in images {
        let count = pack.patches.units(img.width, img.height) as usize;
        let z = &latents[next * d..(next + count) * d];
        next += count;
        report.clamped += z
            .iter()
            .enumerate()
            .filter(|&(k, &v)| v < pack.quant.lo[k % d] || v > pack.quant.hi[k % d])
            .count();
        let codes: Vec<u16> = z
            .chunks_exact(d)
            .flat_map(|u| pack.quant.quantise(u))
            .collect();
        let entry = entry_of(img);
        match pack.find(&img.name) {
            Some(i) => {
                let starts = pack.latent_starts();
                pack.codes.splice(starts[i] * d..starts[i + 1] * d, codes);
                pack.index[i] = entry;
                report.replaced += 1;
            }
            None => {
                pack.codes.extend_from_slice(&codes);
                pack.index.push(entry);
                report.added += 1;
            }
        }
    }
    Ok(report)
}

/// Checks that `images` can be stored beside the names `kept`: some images, storable names,
/// none given twice, and no two (new or kept) that would decode to one file
/// ([`gonpack::io::first_clash`]).
/// Checks that `images` can join a pack whose index is `existing`: a name already there is a
/// usage error unless `replace`, then [`check_names`] against the names that stay.
pub(crate) fn check_new_names(
    existing: &[ImageEntry],
    images: &[SourceImage],
    replace: bool,
) -> Result<()> {
    let new: std::collections::HashSet<&str> = images.iter().map(|i| i.name.as_str()).collect();
    if !replace {
        if let Some(e) = existing.iter().find(|e| new.contains(e.name.as_str())) {
            return Err(Error::usage(format!(
                "{:?} is already in the pack (use --replace to overwrite it)",
                e.name
            )));
        }
    }
    // Names that stay in the pack besides the new ones (replaced ones go).
    let kept: Vec<&str> = existing
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| !new.contains(n))
        .collect();
    check_names(images, &kept)
}

fn check_names(images: &[SourceImage], kept: &[&str]) -> Result<()> {
    if images.is_empty() {
        return Err(Error::usage("no images to encode"));
    }
    if let Some(bad) = images.iter().find(|i| !is_plain_relative_path(&i.name)) {
        return Err(Error::usage(format!(
            "image name {:?} cannot be stored",
            bad.name
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = images.iter().find(|i| !seen.insert(i.name.as_str())) {
        return Err(Error::usage(format!("{:?} is given twice", twice.name)));
    }
    let names = kept
        .iter()
        .copied()
        .chain(images.iter().map(|i| i.name.as_str()));
    if let Some((a, b)) = gonpack::io::first_clash(names) {
        return Err(Error::usage(gonpack::io::clash_message(a, b)));
    }
    Ok(())
}

/// Every image whole, or its patches, in order: what latents are derived from.
pub fn all_units(images: &[SourceImage], patches: Geometry) -> Vec<SourceImage> {
    images.iter().flat_map(|i| patches.units_of(i)).collect()
}

/// Latents (`N x D`) of `images` (whole images or patches, see [`all_units`]) against the
/// frozen decoder `weights`, and their quantiser: [`unquantised_latents`], then
/// [`quantise_refined`].
/// Colour images need an RGB decoder.
pub fn latents_for(
    weights: &DecoderWeights,
    images: &[SourceImage],
    quantise: Quantise,
    opts: &LatentOptions,
) -> Result<(Vec<f32>, Quantiser)> {
    let (siren, data) = frozen(weights, images, opts)?;
    let mut latents = derive(&siren, &data, images.len(), opts)?;
    let quant = quantiser(&latents, weights.shape.latent_dim, quantise)?;
    refine_stored(&siren, &data, &mut latents, &quant, opts)?;
    Ok((latents, quant))
}

/// Unquantised latents (`N x D`) of `images`: the gradient-origin step plus `opts.refine`
/// guarded refinement steps.
pub fn unquantised_latents(
    weights: &DecoderWeights,
    images: &[SourceImage],
    opts: &LatentOptions,
) -> Result<Vec<f32>> {
    let (siren, data) = frozen(weights, images, opts)?;
    derive(&siren, &data, images.len(), opts)
}

/// The quantiser of `latents` (fitted or given), and the latents after `opts.quant_refine`
/// quantisation-aware steps with it ([`crate::gon::refine_quantised`]).
pub fn quantise_refined(
    weights: &DecoderWeights,
    images: &[SourceImage],
    mut latents: Vec<f32>,
    quantise: Quantise,
    opts: &LatentOptions,
) -> Result<(Vec<f32>, Quantiser)> {
    let quant = quantiser(&latents, weights.shape.latent_dim, quantise)?;
    if opts.quant_refine > 0 {
        let (siren, data) = frozen(weights, images, opts)?;
        refine_stored(&siren, &data, &mut latents, &quant, opts)?;
    }
    Ok((latents, quant))
}

/// [`derive_latents`] of `count` images with a progress bar.
fn derive(siren: &Siren, data: &[Bucket], count: usize, opts: &LatentOptions) -> Result<Vec<f32>> {
    let bar = progress::bar(count as u64, "latents", opts.quiet);
    let latents = derive_latents(siren, data, opts.refine, &bar)?;
    bar.finish_and_clear();
    Ok(latents)
}

/// The quantiser that `quantise` names for `latents`.
fn quantiser(latents: &[f32], dim: usize, quantise: Quantise) -> Result<Quantiser> {
    Ok(match quantise {
        Quantise::Fit(bits) => Quantiser::fit(latents, dim, bits)?,
        Quantise::Fixed(q) => q.clone(),
    })
}

/// `opts.quant_refine` quantisation-aware steps on `latents` (none when 0), with a progress bar.
fn refine_stored(
    siren: &Siren,
    data: &[Bucket],
    latents: &mut [f32],
    quant: &Quantiser,
    opts: &LatentOptions,
) -> Result<()> {
    if opts.quant_refine == 0 {
        return Ok(());
    }
    let count = data.iter().map(|b| b.members.len()).sum::<usize>();
    let bar = progress::bar(count as u64, "quantised", opts.quiet);
    refine_quantised_latents(siren, data, latents, quant, opts.quant_refine, &bar)?;
    bar.finish_and_clear();
    Ok(())
}

/// The frozen decoder and `images` as tensors; each image must be one the decoder renders
/// (colour needs an RGB decoder, alpha a decoder with alpha).
fn frozen(
    weights: &DecoderWeights,
    images: &[SourceImage],
    opts: &LatentOptions,
) -> Result<(Siren, Vec<Bucket>)> {
    let channels = weights.shape.channels as u8;
    if let Some(img) = images.iter().find(|i| !renders(channels, i.channels)) {
        return Err(Error::usage(format!(
            "{} has {} channels ({}); the decoder has {channels} ({})",
            img.name,
            img.channels,
            channel_name(img.channels),
            channel_name(channels)
        )));
    }
    Ok((
        Siren::from_weights(weights, opts.device)?,
        buckets(images, channels, opts.supersample, opts.device)?,
    ))
}

fn entry_of(img: &SourceImage) -> ImageEntry {
    ImageEntry {
        name: img.name.clone(),
        width: img.width,
        height: img.height,
        channels: img.channels,
    }
}

/// A pack from a decoder, quantiser and unquantised latents (one per unit) of `images`.
pub fn assemble(
    decoder: DecoderWeights,
    weight_format: u8,
    patches: Geometry,
    quant: Quantiser,
    latents: &[f32],
    images: &[SourceImage],
) -> Pack {
    let d = decoder.shape.latent_dim;
    let codes = latents
        .chunks_exact(d)
        .flat_map(|z| quant.quantise(z))
        .collect();
    Pack {
        decoder,
        quant,
        codes,
        index: images.iter().map(entry_of).collect(),
        weight_format,
        patches,
    }
}
