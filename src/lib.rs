//! gonpack: an implicit neural codec for image collections.
//!
//! A `.gonpack` file holds one shared SIREN decoder `F(c, z) -> pixel`, trained with Gradient
//! Origin Networks, plus a short quantised latent `z` per image. Because `F` takes continuous
//! coordinates, every image renders at any resolution.
//!
//! Layers: [`format`] (the container), [`render`] (pure-Rust decoding) and the helpers below
//! need no libtorch; [`train`] (feature `train`, on by default) trains decoders and derives
//! latents with tch.
//!
//! ```no_run
//! use gonpack::{Limits, Pack};
//! let (pack, _sizes) = Pack::read("digits.gonpack".as_ref(), &Limits::default())?;
//! let entry = &pack.index[0];
//! // Render image 0 at twice its size, 8-bit, with its original channel count.
//! let pixels = gonpack::render::render_u8(
//!     &pack.decoder, &pack.latent(0), entry.width * 2, entry.height * 2, entry.channels);
//! assert_eq!(pixels.len(), (entry.width * entry.height * 4) as usize * entry.channels as usize);
//! # Ok::<(), gonpack::Error>(())
//! ```
pub mod consts;
pub mod coords;
pub mod error;
pub mod format;
pub mod io;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod progress;
pub mod quant;
pub mod render;
#[cfg(feature = "train")]
pub mod train;

pub use error::{Error, Result};
pub use format::{ImageEntry, Pack, SizeBreakdown};
pub use limits::Limits;
pub use model::{DecoderWeights, ModelShape};
