//! Images as the codec sees them: 8-bit samples, grey or RGB.

/// An 8-bit image read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImage {
    /// Path relative to the folder, `/`-separated.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    /// Interleaved 8-bit samples, row by row.
    pub pixels: Vec<u8>,
}

impl SourceImage {
    /// Converts a decoded image to 8 bits: grey stays grey, everything else becomes RGB; alpha
    /// is dropped (not composited).
    pub fn from_dynamic(name: String, img: image::DynamicImage) -> Self {
        let (width, height) = (img.width(), img.height());
        let grey = !img.color().has_color();
        let (channels, pixels) = if grey {
            (1, img.into_luma8().into_raw())
        } else {
            (3, img.into_rgb8().into_raw())
        };
        SourceImage {
            name,
            width,
            height,
            channels,
            pixels,
        }
    }

    /// The samples with `channels` channels (grey is replicated to RGB; RGB to grey is not needed).
    pub fn samples_as(&self, channels: u8) -> Vec<u8> {
        if channels == self.channels {
            self.pixels.clone()
        } else {
            self.pixels.iter().flat_map(|&g| [g, g, g]).collect()
        }
    }
}
