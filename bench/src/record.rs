//! Benchmark results as data: one [`Record`] per codec and operating point, gathered in a
//! [`Run`] that is written as JSON.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BenchError;

/// What a record measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Code the test images and decode them at their own size.
    Compression,
    /// Code the images at half size (2x2 area means), decode at full size, measure against
    /// the full-size originals.
    SuperResolution,
}

/// How a codec is applied to the test images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One file per image.
    PerImage,
    /// All images tiled into one picture, coded once.
    Mosaic,
    /// The raw sample array of all images, concatenated.
    RawArray,
    /// gonpack: one pack holding every image.
    Pack,
}

impl Layout {
    /// As tables show it.
    pub fn label(self) -> &'static str {
        match self {
            Layout::PerImage => "per image",
            Layout::Mosaic => "mosaic",
            Layout::RawArray => "raw array",
            Layout::Pack => "one pack",
        }
    }
}

/// One operating point of one codec on one test set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `compression` or `super-resolution`.
    pub task: Task,
    /// `gonpack`, `PNG`, `zstd -19`, `xz -9e`, `JPEG`, `WebP`, `AVIF`, `bicubic`.
    pub codec: String,
    /// How the codec was applied.
    pub layout: Layout,
    /// The configuration a series of points shares (`latent 64, refine 20` for gonpack; empty
    /// for codecs with one knob). Plots draw one line per codec, layout and configuration.
    pub config: String,
    /// The operating point within the configuration (`4 bits`, `quality 10`).
    pub setting: String,
    /// Bytes stored for the images (gonpack: latents and index; the decoder is in
    /// `decoder_bytes`). `None` where the codec stores nothing of its own (bicubic).
    pub bytes: Option<u64>,
    /// gonpack: bytes of the shared part (header, decoder, quantiser, section table).
    pub decoder_bytes: Option<u64>,
    /// `bytes * 8 / pixels`.
    pub bpp: Option<f64>,
    /// `(bytes + decoder_bytes) * 8 / pixels`.
    pub bpp_with_decoder: Option<f64>,
    /// Mean PSNR over the images in dB (an exactly decoded image counts as one sample one
    /// level off); `None` for a lossless codec whose round trip was checked to be exact.
    pub psnr: Option<f64>,
    /// Seconds to encode every image (gonpack: latents against the frozen decoder).
    pub encode_s: Option<f64>,
    /// Seconds to decode every image.
    pub decode_s: Option<f64>,
    /// gonpack: seconds spent training the decoder (paid once per configuration).
    pub train_s: Option<f64>,
    /// Images with alpha: the quality three ways (`psnr` is then `on_white`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<AlphaQuality>,
}

/// Mean PSNRs (dB) over images with alpha ([`gonpack::render::metrics::AlphaPsnr`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlphaQuality {
    /// Colour of the pixels the source has fully opaque.
    pub colour_opaque: f64,
    /// The alpha channel.
    pub alpha: f64,
    /// Colour after compositing on white.
    pub on_white: f64,
}

impl Record {
    /// A record with the rates computed from `bytes` and `pixels`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        task: Task,
        codec: &str,
        layout: Layout,
        config: &str,
        setting: String,
        bytes: Option<u64>,
        pixels: u64,
        psnr: Option<f64>,
    ) -> Self {
        Record {
            task,
            codec: codec.into(),
            layout,
            config: config.into(),
            setting,
            bytes,
            decoder_bytes: None,
            bpp: bytes.map(|b| bits_per_pixel(b, pixels)),
            bpp_with_decoder: None,
            psnr,
            encode_s: None,
            decode_s: None,
            train_s: None,
            alpha: None,
        }
    }

    /// Adds the alpha qualities (`None` for images without alpha).
    pub fn with_alpha(mut self, alpha: Option<AlphaQuality>) -> Self {
        self.alpha = alpha;
        self
    }

    /// Adds the shared decoder's bytes (and the rate including them).
    pub fn with_decoder(mut self, decoder_bytes: u64, pixels: u64) -> Self {
        self.decoder_bytes = Some(decoder_bytes);
        self.bpp_with_decoder = self
            .bytes
            .map(|b| bits_per_pixel(b + decoder_bytes, pixels));
        self
    }

    /// Adds encode and decode seconds.
    pub fn timed(mut self, encode_s: f64, decode_s: f64) -> Self {
        self.encode_s = Some(encode_s);
        self.decode_s = Some(decode_s);
        self
    }

    /// The series this point belongs to: codec, layout and configuration.
    pub fn series(&self) -> String {
        let mut s = format!("{} {}", self.codec, self.layout.label());
        if !self.config.is_empty() {
            s += &format!(", {}", self.config);
        }
        s
    }
}

/// Bits per pixel of `bytes` over `pixels`.
pub fn bits_per_pixel(bytes: u64, pixels: u64) -> f64 {
    bytes as f64 * 8.0 / pixels.max(1) as f64
}

/// One benchmark run on one data set: what was measured and how, and its records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Short name of the data set (`mnist`, `cifar`, `photos`, `mnist-sr`): file names.
    pub dataset: String,
    /// What tables and plots call it.
    pub title: String,
    /// The training images (folder).
    pub train: String,
    /// The test images (folder, or the hold-out rule).
    pub test: String,
    /// Number of test images.
    pub images: usize,
    /// Total test pixels.
    pub pixels: u64,
    /// The command line that made this run.
    pub command: String,
    /// `git describe --always --dirty` of the tree it ran from.
    pub commit: String,
    /// When it finished (RFC 3339, UTC).
    pub date: String,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// The measurements.
    pub records: Vec<Record>,
}

impl Run {
    /// Reads a run from a JSON file.
    pub fn read(path: &Path) -> Result<Run, BenchError> {
        let text = std::fs::read_to_string(path).map_err(|e| BenchError::io(path, e))?;
        serde_json::from_str(&text).map_err(|source| BenchError::Json {
            path: path.display().to_string(),
            source,
        })
    }

    /// Writes the run as pretty JSON (one record per block), creating the folder.
    pub fn write(&self, path: &Path) -> Result<(), BenchError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(self).expect("records serialise") + "\n";
        std::fs::write(path, text).map_err(|e| BenchError::io(path, e))
    }
}
