//! Training and encoding with libtorch (feature `train`).
pub mod data;
pub mod encode;
pub mod gon;
pub mod siren;

pub use encode::{
    add_images, all_units, encode, encode_with_decoder, latents_for, AddReport, EncodeOptions,
    EncodeReport,
};
pub use gon::{TrainConfig, TrainReport};
pub use siren::Siren;

use crate::error::{Error, Result};

/// Parses `cpu`, `cuda` or `auto` into a tch device; `cuda` without a usable GPU is an error.
pub fn parse_device(name: &str) -> Result<tch::Device> {
    match name {
        "cpu" => Ok(tch::Device::Cpu),
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cuda" if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
        "cuda" => Err(Error::Usage(
            "--device cuda: no CUDA GPU usable by this libtorch".into(),
        )),
        other => Err(Error::Usage(format!(
            "--device must be cpu, cuda or auto, got {other:?}"
        ))),
    }
}
