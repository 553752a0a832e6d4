//! Resource limits applied to untrusted packs and to render requests.

/// Upper bounds a reader enforces before allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of output pixels (width x height) of one render.
    pub max_render_pixels: u64,
    /// Largest decompressed size of one section, in bytes.
    pub max_section_bytes: u64,
    /// Largest number of images in a pack.
    pub max_images: u64,
    /// Largest number of decoder parameters.
    pub max_params: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_render_pixels: 64 << 20,
            max_section_bytes: 256 << 20,
            max_images: 16 << 20,
            max_params: 64 << 20,
        }
    }
}

impl Limits {
    /// Checks a `width x height` render against [`Self::max_render_pixels`]; returns the
    /// pixel count.
    pub fn check_render(&self, width: u32, height: u32) -> crate::Result<u64> {
        let pixels = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 {
            return Err(crate::Error::Usage(format!(
                "cannot render {width}x{height}: zero size"
            )));
        }
        if pixels > self.max_render_pixels || usize::try_from(pixels).is_err() {
            return Err(crate::Error::Limits(format!(
                "output {width}x{height} is {pixels} pixels, over the limit of {}",
                self.max_render_pixels
            )));
        }
        Ok(pixels)
    }

    /// No limits at all (for trusted input).
    pub fn unlimited() -> Self {
        Limits {
            max_render_pixels: u64::MAX,
            max_section_bytes: u64::MAX,
            max_images: u64::MAX,
            max_params: u64::MAX,
        }
    }
}
