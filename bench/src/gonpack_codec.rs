//! gonpack as a benchmark codec: one decoder trained per configuration on the training images,
//! the test images encoded against it frozen at every refinement x bits point, each point a
//! real pack whose bytes are counted and whose images are rendered as `decode` renders them.
use std::time::Instant;

use gonpack::pixels::SourceImage;
use gonpack::render::metrics::pack_render;
use gonpack::{consts, DecoderWeights, Pack, SizeBreakdown};
use gonpack_train::{
    all_units, assemble, encode, quantise_refined, unquantised_latents, EncodeOptions,
    LatentOptions, Quantise, TrainConfig, DEFAULT_QUANT_REFINE,
};

use crate::picture::{mean_alpha, mean_psnr};
use crate::{BenchError, Codec, Layout, Record, Task, TestSet};

/// Refinement steps measured by default.
pub const REFINES: [usize; 3] = [2, 5, 20];
/// Bits per latent code measured by default.
pub const BITS: [u8; 5] = [3, 4, 5, 6, 8];

/// gonpack with one training configuration.
pub struct GonpackCodec<'a> {
    /// The images the decoder is trained on.
    pub train: &'a [SourceImage],
    /// Training options (the `encode` defaults but for what the benchmark sets).
    pub opts: EncodeOptions,
    /// Refinement steps of the operating points.
    pub refines: Vec<usize>,
    /// Bits of the operating points.
    pub bits: Vec<u8>,
    /// The decoder once trained (the super-resolution rows reuse it).
    pub decoder: Option<DecoderWeights>,
}

/// Encode options for the benchmark: the `encode` defaults with `latent_dim` and the
/// training changes of `tweak`; 8 bits and no refinement while training (the points set
/// their own).
pub fn train_options(latent_dim: usize, tweak: impl FnOnce(&mut TrainConfig)) -> EncodeOptions {
    let mut train = TrainConfig::DEFAULT;
    train.shape.latent_dim = latent_dim;
    tweak(&mut train);
    EncodeOptions {
        refine: 0,
        quant_refine: 0,
        quiet: true,
        ..EncodeOptions::new(train)
    }
}

/// Trains a decoder on `images` with `opts`, printing what training reached; returns the
/// trained pack and the training seconds.
pub fn train_decoder(
    images: &[SourceImage],
    opts: &EncodeOptions,
    what: &str,
) -> Result<(Pack, f64), BenchError> {
    let (trained, report) = encode(images, opts)?;
    let t = report.train;
    eprintln!(
        "rd: {what}: trained in {:.1} s ({} steps), last-10% train PSNR {:.2} dB",
        t.seconds, t.steps, t.final_psnr
    );
    if t.stalled() {
        eprintln!(
            "rd: warning: {what}: training made little progress (a flat picture scores {:.2} dB); try a lower --lr",
            t.flat_psnr
        );
    }
    Ok((trained, t.seconds))
}

impl Codec for GonpackCodec<'_> {
    fn name(&self) -> String {
        "gonpack".into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        let d = self.opts.train.shape.latent_dim;
        let (trained, train_s) = train_decoder(self.train, &self.opts, &format!("latent {d}"))?;
        let (decoder, patches) = (trained.decoder, trained.patches);
        let units = all_units(test.images, patches);
        let mut records = Vec::new();
        for &refine in &self.refines {
            let opts = LatentOptions {
                refine,
                quant_refine: DEFAULT_QUANT_REFINE,
                supersample: 1,
                device: self.opts.train.device,
                quiet: true,
            };
            let t = Instant::now();
            let derived = unquantised_latents(&decoder, &units, &opts)?;
            let derive_s = t.elapsed().as_secs_f64();
            for &bits in &self.bits {
                let t = Instant::now();
                let (latents, quant) = quantise_refined(
                    &decoder,
                    &units,
                    derived.clone(),
                    Quantise::Fit(bits),
                    &opts,
                )?;
                let encode_s = derive_s + t.elapsed().as_secs_f64();
                let pack = assemble(
                    decoder.clone(),
                    consts::WEIGHTS_F16,
                    patches,
                    quant,
                    &latents,
                    test.images,
                );
                let t = Instant::now();
                let decoded = pack_render(&pack, test.images)?; // rendered as `decode` does
                let decode_s = t.elapsed().as_secs_f64();
                let mut r = pack_record(
                    pack.to_bytes()?.1,
                    Task::Compression,
                    &format!("latent {d}, refine {refine}"),
                    format!("{bits} bits"),
                    test.pixels(),
                    Some(mean_psnr(&decoded, test.images)),
                )?
                .timed(encode_s, decode_s)
                .with_alpha(mean_alpha(&decoded, test.images));
                r.train_s = Some(train_s);
                records.push(r);
            }
        }
        self.decoder = Some(decoder);
        Ok(records)
    }
}

/// A record of a pack of `sizes`: its latents and index as the image bytes, the rest (header,
/// decoder, section table) as the decoder's.
pub fn pack_record(
    sizes: SizeBreakdown,
    task: Task,
    config: &str,
    setting: String,
    pixels: u64,
    psnr: Option<f64>,
) -> Result<Record, BenchError> {
    let own = sizes.latents + sizes.index;
    let r = Record::new(
        task,
        "gonpack",
        Layout::Pack,
        config,
        setting,
        Some(own),
        pixels,
        psnr,
    );
    Ok(r.with_decoder(sizes.total() - own, pixels))
}
