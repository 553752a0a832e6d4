//! Resource limits applied to untrusted packs and to render requests.
//!
//! Two kinds: sizes (pixels of one render, bytes of one section, images, decoder parameters)
//! bound what a reader allocates; work limits bound the time a pack can make a reader spend.
//! A few kilobytes of zstd-compressed zeros can declare millions of latents, a decoder
//! thousands of units wide or gigapixel images, so work is bounded both absolutely (per
//! render call, per pixel) and relative to the file's size (per pack). The defaults lie far
//! above what real packs reach (see each field) and far below what such crafted packs ask.
use crate::error::{Error, Result};

/// Upper bounds a reader enforces before allocating or computing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of output pixels (width x height) of one render.
    pub max_render_pixels: u64,
    /// Largest decompressed size of one section, in bytes.
    pub max_section_bytes: u64,
    /// Largest number of images (and of latents) in a pack.
    pub max_images: u64,
    /// Largest number of decoder parameters.
    pub max_params: u64,
    /// Largest decoder cost per evaluated point, in multiply-adds
    /// ([`crate::format::model::ModelShape::macs_per_point`]). Default 2^22: a 1,024-wide 3-layer decoder takes
    /// 2.1 Mi; the `encode` default takes 8.4 Ki.
    pub max_macs_per_point: u64,
    /// Largest work of one render call ([`crate::format::model::ModelShape::work`]: multiply-adds plus a fixed
    /// cost per point). Default 2^40, about 10 minutes on 2 cores: a 64-megapixel render with
    /// the `encode` default decoder takes 2^39.
    pub max_render_work: u64,
    /// Largest number of latent values (latents x dimensions) per byte of file, beyond the
    /// first [`VALUES_FLOOR`]. Default 512; real packs store 1 to 10.
    pub max_values_per_byte: u64,
    /// Largest work of rendering every image of a pack at its stored size, per byte of file,
    /// beyond the first [`WORK_FLOOR`]. Default 2^24; 10,000 MNIST digits at 0.35 bpp take
    /// 2^18 per byte, a pack at 0.01 bpp of the `encode` default would take 2^23.
    pub max_work_per_byte: u64,
}

/// Latent values any pack may hold whatever its size (see [`Limits::max_values_per_byte`]).
pub const VALUES_FLOOR: u64 = 1 << 16;
/// Work any pack may ask for whatever its size (see [`Limits::max_work_per_byte`]).
pub const WORK_FLOOR: u64 = 1 << 34;

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Limits {
    /// The reference reader's defaults.
    pub const DEFAULT: Limits = Limits {
        max_render_pixels: 64 << 20,
        max_section_bytes: 256 << 20,
        max_images: 16 << 20,
        max_params: 64 << 20,
        max_macs_per_point: 1 << 22,
        max_render_work: 1 << 40,
        max_values_per_byte: 512,
        max_work_per_byte: 1 << 24,
    };

    /// No limits at all (for trusted input).
    pub fn unlimited() -> Self {
        Limits {
            max_render_pixels: u64::MAX,
            max_section_bytes: u64::MAX,
            max_images: u64::MAX,
            max_params: u64::MAX,
            max_macs_per_point: u64::MAX,
            max_render_work: u64::MAX,
            max_values_per_byte: u64::MAX,
            max_work_per_byte: u64::MAX,
        }
    }

    /// These limits with the file-relative ones lifted (values and work per byte, cost per
    /// point): for packs the caller trusts, such as its own.
    pub fn trusted(self) -> Self {
        Limits {
            max_macs_per_point: u64::MAX,
            max_values_per_byte: u64::MAX,
            max_work_per_byte: u64::MAX,
            ..self
        }
    }

    /// Checks a `width x height` render against [`Self::max_render_pixels`]; returns the
    /// pixel count.
    pub fn check_render(&self, width: u32, height: u32) -> Result<u64> {
        let pixels = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 {
            return Err(Error::Usage(format!(
                "cannot render {width}x{height}: zero size"
            )));
        }
        if pixels > self.max_render_pixels || usize::try_from(pixels).is_err() {
            return Err(Error::Limits(format!(
                "output {width}x{height} is {pixels} pixels, over the limit of {}",
                self.max_render_pixels
            )));
        }
        Ok(pixels)
    }

    /// Checks a decoder, before anything is read: its parameters and multiply-adds per point.
    pub fn check_decoder(&self, params: u64, macs: u64) -> Result<()> {
        if params > self.max_params {
            return Err(Error::Limits(format!(
                "{params} decoder parameters, limit {}",
                self.max_params
            )));
        }
        if macs > self.max_macs_per_point {
            return Err(Error::Limits(format!(
                "the decoder takes {macs} multiply-adds per pixel, limit {}",
                self.max_macs_per_point
            )));
        }
        Ok(())
    }

    /// Checks the latent values a file of `file_len` bytes declares (`latents` of `dims`
    /// values each) against [`Self::max_images`] and [`Self::max_values_per_byte`].
    pub fn check_latents(&self, latents: u64, dims: u64, file_len: u64) -> Result<()> {
        if latents > self.max_images {
            return Err(Error::Limits(format!(
                "{latents} images and patches, limit {}",
                self.max_images
            )));
        }
        let values = latents.saturating_mul(dims);
        let allowed = per_byte(self.max_values_per_byte, file_len, VALUES_FLOOR);
        if values > allowed {
            return Err(Error::Limits(format!(
                "{values} latent values in a file of {file_len} bytes, limit {allowed} ({} per byte)",
                self.max_values_per_byte
            )));
        }
        Ok(())
    }

    /// Checks the work of rendering every image of a file of `file_len` bytes at its stored
    /// size against [`Self::max_work_per_byte`].
    pub fn check_pack_work(&self, work: u64, file_len: u64) -> Result<()> {
        let allowed = per_byte(self.max_work_per_byte, file_len, WORK_FLOOR);
        if work > allowed {
            return Err(Error::Limits(format!(
                "decoding every image at its stored size takes {work} multiply-adds, limit {allowed} for a file of {file_len} bytes"
            )));
        }
        Ok(())
    }

    /// Checks the work of one render call against [`Self::max_render_work`].
    pub fn check_render_work(&self, work: u64) -> Result<()> {
        if work > self.max_render_work {
            return Err(Error::Limits(format!(
                "this render takes {work} multiply-adds, limit {}",
                self.max_render_work
            )));
        }
        Ok(())
    }
}

/// A zero-filled buffer of `len` bytes, or a limits error when it cannot be allocated
/// (instead of aborting the process).
pub fn zeroed(len: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| Error::Limits(format!("cannot allocate {len} bytes")))?;
    buf.resize(len, 0);
    Ok(buf)
}

/// `floor + rate x bytes`, saturating.
fn per_byte(rate: u64, bytes: u64, floor: u64) -> u64 {
    rate.saturating_mul(bytes).saturating_add(floor)
}
