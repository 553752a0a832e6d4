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
//! Layers, lowest first; no module imports one above it (`tests/layers.rs` checks it):
//! 1. foundation: [`consts`] (every number of the format), [`error`], [`text`], [`pixels`],
//!    [`progress`];
//! 2. [`mod@format`], the container: bytes to typed structs and back, the decoder's structs and
//!    cost, the quantiser, the patch layout, [`Limits`];
//! 3. [`render`], model math: pure functions of those structs (the renderer, PSNR, the latent
//!    space);
//! 4. [`reader`] (the lazy [`Reader`]), [`io`] (folders, atomic writes, PNGs) and [`sheet`].
//!
//! None of it links libtorch. Above this crate: `gonpack-cli` (`cli/`, the `gonpack` program),
//! `gonpack-train` (`train/`, training and encoding with tch; `gonpack` runs its program for
//! `encode` and `add`, so reading a pack never loads libtorch) and `gonpack-bench` (`bench/`).
// Foundation: constants of the format, errors, escaping, images, progress bars.
pub mod consts;
pub mod error;
pub mod pixels;
pub mod progress;
pub mod text;
// The container: bytes <-> typed structs, limits.
pub mod format;
// Model math and rendering: pure functions of the container's structs.
pub mod render;
// The lazy reader, files and pictures.
pub mod io;
pub mod reader;
pub mod sheet;

pub use error::{Error, Result};
pub use format::limits::Limits;
pub use format::model::{DecoderWeights, ModelShape, Output};
pub use format::{ImageEntry, Pack, SizeBreakdown};
pub use reader::{Images, Reader};
