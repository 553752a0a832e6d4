//! The rate–distortion benchmark of gonpack: every codec (gonpack and the standard ones it is
//! measured against) implements [`Codec`], each operating point becomes one [`Record`], a run's
//! records are written as JSON ([`Run`]), and [`report`] turns committed JSON into the README's
//! tables and the plots in `docs/`.
//!
//! Binaries: `rd` (runs the codecs on a data set and writes `OUT/rd.json`) and `rd-report`
//! (JSON files to markdown tables and SVG plots).
pub mod baselines;
pub mod gonpack_codec;
pub mod grid_codec;
pub mod picture;
pub mod record;
pub mod report;
pub mod super_resolution;

pub use record::{AlphaQuality, Layout, Record, Run, Task};

use gonpack::pixels::SourceImage;

/// The images a codec is measured on: all of one size and channel count, or not (then no
/// mosaic rows).
pub struct TestSet<'a> {
    /// The test images, in sorted order.
    pub images: &'a [SourceImage],
}

impl TestSet<'_> {
    /// Total pixels over all images (the denominator of every bpp).
    pub fn pixels(&self) -> u64 {
        self.images
            .iter()
            .map(|i| u64::from(i.width) * u64::from(i.height))
            .sum()
    }

    /// Whether any image has alpha.
    pub fn has_alpha(&self) -> bool {
        self.images
            .iter()
            .any(|i| gonpack::pixels::has_alpha(i.channels))
    }

    /// Whether every image has the first one's size and channel count (a mosaic can be made).
    pub fn uniform(&self) -> bool {
        let first = &self.images[0];
        self.images
            .iter()
            .all(|i| (i.width, i.height, i.channels) == (first.width, first.height, first.channels))
    }
}

/// A codec measured by the benchmark: it codes the test set at each of its operating points
/// and returns one record per point.
pub trait Codec {
    /// The codec's name as records and plots show it (`WebP`, `gonpack`).
    fn name(&self) -> String;

    /// Codes and decodes `test` at every operating point.
    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError>;
}

/// What can go wrong in a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// gonpack's reader or format.
    #[error(transparent)]
    Gonpack(#[from] gonpack::Error),
    /// Training or latent derivation.
    #[error(transparent)]
    Train(#[from] gonpack_train::Error),
    /// A standard codec failed or did not give back what it was given.
    #[error("{codec}: {message}")]
    Codec {
        /// The codec's name.
        codec: String,
        /// What went wrong.
        message: String,
    },
    /// Reading or writing a benchmark file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A results file that does not parse.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The error.
        source: serde_json::Error,
    },
    /// Bad arguments or inputs.
    #[error("{0}")]
    Usage(String),
}

impl BenchError {
    /// A codec failure.
    pub fn codec(codec: impl Into<String>, message: impl std::fmt::Display) -> Self {
        BenchError::Codec {
            codec: codec.into(),
            message: message.to_string(),
        }
    }

    /// An I/O failure on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        BenchError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
