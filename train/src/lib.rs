//! Training and encoding for [`gonpack`]: Gradient Origin Network training of the shared
//! SIREN decoder, latent derivation (one gradient step from the origin, then refinement) and
//! adding images to a trained decoder, all with libtorch through tch.
//!
//! Reading and rendering packs needs none of this: the `gonpack` crate does it in pure Rust.
pub mod data;
pub mod encode;
pub mod error;
pub mod gon;
pub mod grid;
pub mod grid_encode;
pub mod kernel;
pub mod model_choice;
pub mod siren;

pub use encode::{
    add_images, all_units, assemble, check_bits, encode, encode_with_decoder, latents_for,
    quantise_refined, unquantised_latents, AddReport, EncodeOptions, EncodeReport, LatentOptions,
    Quantise, DEFAULT_QUANT_REFINE, DEFAULT_REFINE,
};
pub use error::{Error, Result};
pub use gon::{TrainConfig, TrainReport};
pub use siren::Siren;

/// Parses `cpu`, `cuda` or `auto` into a tch device; `cuda` without a usable GPU is an error.
pub fn parse_device(name: &str) -> Result<tch::Device> {
    match name {
        "cpu" => Ok(tch::Device::Cpu),
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cuda" if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
        "cuda" => Err(Error::usage(
            "--device cuda: no CUDA GPU usable by this libtorch",
        )),
        other => Err(Error::usage(format!(
            "--device must be cpu, cuda or auto, got {other:?}"
        ))),
    }
}
