//! Which model `gonpack encode` trains when `--model` is not given: the grid model, except at
//! the lowest qualities on large sets of small grey images, where one latent vector per image
//! draws more per bit than latent grids can.
//!
//! Measured on MNIST (decoders trained on the 10,000 training digits, the 1,000 test digits
//! encoded against them; bits per pixel of latents and index): the vector model with 64
//! latents, 20 refinement steps and 2 to 5 bits gives 0.185 bpp → 21.95 dB, 0.254 → 24.92,
//! 0.326 → 26.43, 0.396 → 27.02, where the grids cannot go under about 0.40 bpp with the
//! full-resolution level alive (quality 1: 0.404 → 26.56; at λ = 0.032, 0.338 → 21.85) and
//! AVIF's mosaic gives 22.7 dB at 0.316 bpp, its lowest rate. From quality 2 the grids lead
//! (0.435 → 26.91, 0.545 → 29.68, where the vector model's 6 bits give 0.470 → 27.25).
use gonpack::consts::DEFAULT_PATCH;
use gonpack::format::grid::Sampling;
use gonpack::pixels::{colour_channels, SourceImage};

use crate::gon::TrainConfig;

/// Qualities under which a set of small grey images gets the vector model.
pub const VECTOR_UNDER_QUALITY: f64 = 2.0;

/// Fewest pixels, over the whole set, for which the vector model is chosen. Its decoder (64
/// latents, 3 layers of 64) is about 36 KB larger than the grid decoder; over 4 megapixels
/// (5,100 digits) that is 0.07 bpp, about what it saves at equal quality (quality 1 on MNIST:
/// 0.326 bpp → 26.43 dB, where the grids need 0.404 bpp for 26.56).
pub const VECTOR_MIN_PIXELS: u64 = 4_000_000;

/// Latent dimensions of the vector model when chosen for a low quality (with 32, MNIST's test
/// digits gave 0.33 bpp → 23.2 dB).
pub const LOW_RATE_LATENT: usize = 64;

/// Training steps of the vector model when chosen for a low quality: with 3,000 (its usual
/// default for 10,000 images) MNIST's test digits gave 0.325 bpp → 25.52 dB at 4 bits, with
/// 8,000 0.326 → 26.43.
pub const LOW_RATE_STEPS: usize = 8000;

/// Sets the vector model's training to what a low quality chooses: [`LOW_RATE_LATENT`]
/// latents, [`LOW_RATE_STEPS`] steps.
pub fn low_rate_training(train: &mut TrainConfig) {
    train.shape.latent_dim = LOW_RATE_LATENT;
    train.steps = LOW_RATE_STEPS;
}

/// The model `encode` trains when not told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    /// Latent grids (format versions 5 and 6).
    Grid,
    /// One latent vector of [`LOW_RATE_LATENT`] values per image, stored with `bits` bits each.
    Vector {
        /// Bits per latent value ([`low_rate_bits`]).
        bits: u8,
    },
}

/// Bits per latent value of the vector model at quality `q` under [`VECTOR_UNDER_QUALITY`]:
/// `2 + ⌊2q⌋`, so qualities 0, 0.5, 1 and 1.5 give 2, 3, 4 and 5 bits.
pub fn low_rate_bits(q: f64) -> u8 {
    2 + (2.0 * q.clamp(0.0, VECTOR_UNDER_QUALITY)).floor().min(3.0) as u8
}

/// The model for `images` at quality `q`: the vector model when `q` is under
/// [`VECTOR_UNDER_QUALITY`], every image is grey without alpha and no larger than a patch
/// (32x32, so each is one latent), and the set holds at least [`VECTOR_MIN_PIXELS`]; else
/// the grids.
pub fn auto_model(images: &[SourceImage], q: f64) -> ModelChoice {
    let small_grey = images
        .iter()
        .all(|i| i.channels == 1 && i.width <= DEFAULT_PATCH && i.height <= DEFAULT_PATCH);
    let pixels: u64 = images
        .iter()
        .map(|i| u64::from(i.width) * u64::from(i.height))
        .sum();
    if q < VECTOR_UNDER_QUALITY && small_grey && pixels >= VECTOR_MIN_PIXELS {
        ModelChoice::Vector {
            bits: low_rate_bits(q),
        }
    } else {
        ModelChoice::Grid
    }
}

/// How the grid model samples its levels when `--sampling` is not given: the learned kernel
/// when every image is in colour, else bilinear.
///
/// Measured (decoders trained at the default quality unless said; held-out rates are latents
/// and index, the others include the decoder): CIFAR, the 200 held-out pictures, quality 1.5
/// 0.467 bpp → 23.68 dB (bilinear 0.500 → 23.68), 3.5 0.759 → 26.08 (0.760 → 25.71), 4 0.835
/// → 26.41 (0.838 → 25.81); the six photos at quality 4 0.420 → 29.92 (0.471 → 29.68); 500
/// Twemoji 0.670 → 27.23, worst 19.11 (0.617 → 26.80, worst 16.89). On the demo corpus, digits
/// and colour pictures in one pack, the kernel gives 0.697 → 27.59 dB, worst 19.53, and greys
/// the orange cats, where bilinear gives 0.922 → 29.64, worst 21.34 (two seeds and a slower
/// kernel learning rate agree). The kernel is not what breaks that set: which levels keep
/// codes is settled in training's first steps, and parts of the corpus land in states with
/// dead levels under either sampling (docs/design.md, session 16). Sets with grey images keep
/// bilinear until training avoids those states and their benchmarks are re-run, although the
/// kernel leads on some: MNIST (quality 2.5, test digits, 0.403 → 27.94 against bilinear's
/// 0.404 → 26.56 at quality 1; it moves every MNIST operating point and the boundary with the
/// vector model) and the six photos, two of them grey (the figure above is with `--sampling
/// kernel`).
pub fn auto_sampling(images: &[SourceImage]) -> Sampling {
    if images.iter().all(|i| colour_channels(i.channels) == 3) {
        Sampling::Kernel
    } else {
        Sampling::Bilinear
    }
}
