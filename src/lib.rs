//! gonpack: an implicit neural codec for image collections.
//!
//! A `.gonpack` file holds one shared SIREN decoder `F(c, z) -> pixel`, trained with Gradient
//! Origin Networks, plus a short quantised latent `z` per image. Because `F` takes continuous
//! coordinates, every image renders at any resolution.
//!
//! Reading needs only [`Reader`]: open a pack from a path, a byte slice or any
//! `Read + Seek`, look at its header and index, and render any image at any size into your
//! own buffer or an [`image::DynamicImage`]. Nothing is decoded before it is asked for, and
//! [`Limits`] bound what an untrusted file can make the reader allocate.
//!
//! ```
//! use gonpack::{Limits, Reader};
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/digits16.gonpack");
//! let mut reader = Reader::open(path, Limits::default())?;
//! println!("{} images, latent of {} dims", reader.len(), reader.shape().latent_dim);
//! let name = reader.index()?[3].name.clone();
//! // Image 3 at 4x its 28x28 size: the decoder is a function of continuous coordinates.
//! let big = reader.render(3, 112, 112)?;
//! assert_eq!((big.width(), big.height(), big.color().channel_count()), (112, 112, 1));
//! # let _ = name;
//! # Ok::<(), gonpack::Error>(())
//! ```
//!
//! Layers: [`mod@format`] (the container), [`render`] (pure-Rust decoding) and the helpers below
//! never link libtorch. Training decoders and deriving latents (tch) is the separate crate
//! `gonpack-train` in this repository's `train/` folder; the `gonpack` program runs its
//! `gonpack-train` program for `encode` and `add`, so reading a pack never loads libtorch.
#[cfg(feature = "cli")]
pub mod cli;
pub mod consts;
pub mod coords;
pub mod error;
pub mod format;
pub mod io;
pub mod latent_space;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod patches;
pub mod progress;
pub mod quant;
pub mod render;
pub mod sheet;
pub mod text;

pub use error::{Error, Result};
pub use format::{ImageEntry, Images, Pack, Reader, SizeBreakdown};
pub use limits::Limits;
pub use model::{DecoderWeights, ModelShape, Output};
