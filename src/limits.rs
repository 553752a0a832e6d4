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
