//! Options of latent derivation that `encode` and `add` share.
use clap::Args;
use gonpack_train::{self as train, LatentOptions, Result};

/// How latents are derived against the (trained or frozen) decoder.
#[derive(Debug, Args)]
pub struct LatentArgs {
    /// Extra steps per latent with the decoder frozen [default: 30 grid (Adam on error + λ ·
    /// rate), 20 vector (a step is taken only where it lowers the image's error)].
    #[arg(long)]
    pub refine: Option<usize>,
    /// Then steps on the error of the quantised latent, as stored (a step is taken only where
    /// it lowers that error).
    #[arg(long, default_value_t = train::DEFAULT_QUANT_REFINE)]
    pub quant_refine: usize,
    /// Model each pixel as the mean of the decoder over an N x N grid of points inside it, in
    /// training and encoding (1 = its centre). Use the same value for `add` and `--decoder`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub supersample: u32,
    /// cpu, cuda or auto.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

impl LatentArgs {
    /// The library's options (parses `--device`).
    pub fn options(&self, quiet: bool) -> Result<LatentOptions> {
        Ok(LatentOptions {
            refine: self.refine.unwrap_or(train::DEFAULT_REFINE),
            quant_refine: self.quant_refine,
            supersample: self.supersample,
            device: train::parse_device(&self.device)?,
            quiet,
        })
    }
}
