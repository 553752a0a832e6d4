//! Super-resolution: the test images at half size (2x2 area means) are encoded, and decoded at
//! twice that size, against the full-size originals. gonpack decodes at any size; bicubic
//! upsampling of the same half-size images is the baseline. gonpack's rate is that of a real
//! pack of the half-size latents, counted over the full-size pixels.
use std::time::Instant;

use gonpack::format::patches::Geometry;
use gonpack::pixels::SourceImage;
use gonpack::render::Renderer;
use gonpack::{consts, DecoderWeights, Output, Pack};
use gonpack_train::{
    assemble, latents_for, EncodeOptions, LatentOptions, Quantise, DEFAULT_QUANT_REFINE,
};

use crate::gonpack_codec::{pack_record, train_decoder};
use crate::grid_codec::grid_super_resolution;
use crate::picture::{area_half, bicubic_up, mean_psnr};
use crate::{BenchError, Codec, Layout, Record, Task, TestSet};
use gonpack_train::grid_encode::GridConfig;

/// Points per pixel side of the half-size decoder: a half-size pixel is the mean of the 2 x 2
/// full-size pixels it covers ([`area_half`]), so the decoder is trained to be a picture whose
/// 2 x 2 means are the training images.
pub const SR_SUPERSAMPLE: u32 = 2;

/// Peak learning rate of the half-size decoder unless `--lr` is given: with the logistic
/// output, 1e-3 collapsed to a flat picture after 1,000 of 9,000 steps on MNIST.
pub const SR_LR: f64 = 5e-4;

/// Refinement steps of the super-resolution latents. Deconvolving 2x2 means amplifies every
/// error in them, so fit them closely: on MNIST, 50 steps instead of 5 raised the half-size
/// fit from 27.5 to 30.8 dB and the full-size result by 1.0 dB.
pub const SR_REFINE: usize = 50;

/// Bits per latent code of the super-resolution packs.
pub const SR_BITS: u8 = 8;

/// The super-resolution comparison on one test set.
pub struct SuperResolution<'a> {
    /// Full-size training images (halved here for the half-size decoder).
    pub train: &'a [SourceImage],
    /// Options of the full-size decoder; the half-size one changes what [`half_size_options`]
    /// says.
    pub opts: EncodeOptions,
    /// Whether `--lr` was given (else the half-size decoder uses [`SR_LR`]).
    pub lr_given: bool,
    /// A decoder already trained at full size on `train` (the codec rows'), or `None` to train
    /// one.
    pub full_decoder: Option<DecoderWeights>,
    /// Whether to add the vector model's rows.
    pub vector: bool,
    /// The grid model's settings, for its row ([`grid_super_resolution`]), or `None`.
    pub grid: Option<GridConfig>,
}

/// The half-size decoder's options: area model with jittered points, logistic output, and as
/// many decoder evaluations per step as the full-size one.
pub fn half_size_options(full: &EncodeOptions, lr: Option<f64>) -> EncodeOptions {
    let mut opts = full.clone();
    let t = &mut opts.train;
    t.supersample = SR_SUPERSAMPLE;
    t.jitter = true;
    t.shape.output = Output::Logistic;
    t.lr = lr.unwrap_or(SR_LR);
    t.pixels /= (SR_SUPERSAMPLE * SR_SUPERSAMPLE) as usize;
    opts
}

impl SuperResolution<'_> {
    /// The vector model's rows: a decoder trained at half size, and one trained at full size
    /// (where the test images are whole), each encoding `test_half`.
    fn vector_rows(
        &mut self,
        train_half: &[SourceImage],
        test_half: &[SourceImage],
        test: &TestSet,
    ) -> Result<Vec<Record>, BenchError> {
        let d = self.opts.train.shape.latent_dim;
        let lr = self.lr_given.then_some(self.opts.train.lr);
        let half_opts = half_size_options(&self.opts, lr);
        let what = format!("1/2-size decoder, latent {d}");
        let (trained, train_s) = train_decoder(train_half, &half_opts, &what)?;
        let config = format!("latent {d}, decoder trained and images encoded at 1/2 size (--supersample 2 --jitter --sigmoid)");
        let mut ours = self.measure(&trained.decoder, test_half, test, &config)?;
        ours.train_s = Some(train_s);
        let mut records = vec![ours];
        // A decoder trained on patches cannot take whole half-size pictures.
        let (w, h) = (test.images[0].width, test.images[0].height);
        if self.opts.patches.is_whole(w, h) {
            let (full, train_s) = match self.full_decoder.take() {
                Some(d) => (d, None),
                None => {
                    let what = format!("full-size decoder, latent {d}");
                    let (p, s) = train_decoder(self.train, &self.opts, &what)?;
                    (p.decoder, Some(s))
                }
            };
            let config = format!("latent {d}, decoder trained at full size, images encoded at 1/2 size (--supersample 2)");
            let mut r = self.measure(&full, test_half, test, &config)?;
            r.train_s = train_s;
            records.push(r);
        } else {
            eprintln!(
                "rd: no full-size decoder row: the full-size test images are cut into patches"
            );
        }
        Ok(records)
    }
    /// Encodes the half-size images against `decoder`, decodes them at full size: the record.
    fn measure(
        &self,
        decoder: &DecoderWeights,
        small: &[SourceImage],
        test: &TestSet,
        config: &str,
    ) -> Result<Record, BenchError> {
        let opts = LatentOptions {
            refine: SR_REFINE,
            quant_refine: DEFAULT_QUANT_REFINE,
            supersample: SR_SUPERSAMPLE,
            device: self.opts.train.device,
            quiet: true,
        };
        let t = Instant::now();
        let (latents, quant) = latents_for(decoder, small, Quantise::Fit(SR_BITS), &opts)?;
        let pack = assemble(
            decoder.clone(),
            consts::WEIGHTS_F16,
            Geometry::WHOLE,
            quant,
            &latents,
            small,
        );
        let encode_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let decoded = render_at(&pack, test.images)?;
        let decode_s = t.elapsed().as_secs_f64();
        let psnr = mean_psnr(&decoded, test.images);
        let setting = format!("{SR_BITS} bits, refine {SR_REFINE}, decoded at --scale 2");
        Ok(pack_record(
            pack.to_bytes()?.1,
            Task::SuperResolution,
            config,
            setting,
            test.pixels(),
            Some(psnr),
        )?
        .timed(encode_s, decode_s))
    }
}

/// Every image of `pack` rendered at the size of the matching image of `like`.
fn render_at(pack: &Pack, like: &[SourceImage]) -> Result<Vec<Vec<u8>>, BenchError> {
    let renderer = Renderer::new(&pack.decoder);
    let d = pack.decoder.shape.latent_dim;
    let latents = pack.quant.dequantise(&pack.codes);
    latents
        .chunks_exact(d)
        .zip(like)
        .map(|(z, o)| Ok(renderer.render(z, o.width, o.height, o.channels)?))
        .collect()
}

impl Codec for SuperResolution<'_> {
    fn name(&self) -> String {
        "super-resolution".into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        let half =
            |imgs: &[SourceImage]| -> Vec<SourceImage> { imgs.iter().map(area_half).collect() };
        let (train_half, test_half) = (half(self.train), half(test.images));
        let mut records = Vec::new();
        if self.vector {
            records.extend(self.vector_rows(&train_half, &test_half, test)?);
        }
        if let Some(cfg) = &self.grid {
            records.push(grid_super_resolution(&train_half, &test_half, test, cfg)?);
        }
        let t = Instant::now();
        let bicubic: Vec<Vec<u8>> = test_half
            .iter()
            .zip(test.images)
            .map(|(s, o)| bicubic_up(s, o))
            .collect();
        let decode_s = t.elapsed().as_secs_f64();
        let mut r = Record::new(
            Task::SuperResolution,
            "bicubic",
            Layout::PerImage,
            "",
            "Catmull-Rom upsampling of the 1/2-size images".into(),
            None,
            test.pixels(),
            Some(mean_psnr(&bicubic, test.images)),
        );
        r.decode_s = Some(decode_s);
        records.push(r);
        Ok(records)
    }
}
