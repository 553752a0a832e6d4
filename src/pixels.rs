//! Images as the codec sees them: 8-bit samples, grey or RGB, each with or without alpha; and
//! the one mapping between an image's channels and a decoder's outputs.

/// Whether images (and decoders) with this many channels carry alpha: 2 (grey + alpha) and 4
/// (RGB + alpha) do, 1 (grey) and 3 (RGB) do not. Alpha is always the last channel.
pub fn has_alpha(channels: u8) -> bool {
    channels == 2 || channels == 4
}

/// What an image or decoder with `channels` channels holds: `grey`, `grey+alpha`, `rgb` or
/// `rgba`.
pub fn channel_name(channels: u8) -> &'static str {
    match channels {
        1 => "grey",
        2 => "grey+alpha",
        3 => "rgb",
        _ => "rgba",
    }
}

/// `width x height` 8-bit samples with `channels` channels (1 to 4) as an image-crate picture:
/// grey, grey + alpha, RGB or RGBA; `None` when the sample count does not match.
pub fn dynamic_image(
    width: u32,
    height: u32,
    channels: u8,
    pixels: Vec<u8>,
) -> Option<image::DynamicImage> {
    use image::DynamicImage as D;
    match channels {
        1 => image::GrayImage::from_raw(width, height, pixels).map(D::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(width, height, pixels).map(D::ImageLumaA8),
        3 => image::RgbImage::from_raw(width, height, pixels).map(D::ImageRgb8),
        4 => image::RgbaImage::from_raw(width, height, pixels).map(D::ImageRgba8),
        _ => None,
    }
}

/// Colour channels of an image or decoder with `channels` channels: 1 or 3.
pub fn colour_channels(channels: u8) -> u8 {
    channels - u8::from(has_alpha(channels))
}

/// Whether a decoder with `decoder` output channels can render an image stored with `image`
/// channels: grey from grey or RGB, RGB from RGB; alpha only from a decoder with alpha.
pub fn renders(decoder: u8, image: u8) -> bool {
    let (dc, ic) = (colour_channels(decoder), colour_channels(image));
    matches!(decoder, 1..=4)
        && matches!(image, 1..=4)
        && (ic == dc || ic == 1)
        && (has_alpha(decoder) || !has_alpha(image))
}

/// Output channels of a decoder for `images`: RGB if any is in colour, else grey; plus alpha if
/// any has alpha.
pub fn decoder_channels<'a>(images: impl IntoIterator<Item = &'a SourceImage>) -> u8 {
    let (mut colour, mut alpha) = (false, false);
    for img in images {
        colour |= colour_channels(img.channels) == 3;
        alpha |= has_alpha(img.channels);
    }
    (if colour { 3 } else { 1 }) + u8::from(alpha)
}

/// An 8-bit image read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImage {
    /// Path relative to the folder, `/`-separated.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGB + alpha).
    pub channels: u8,
    /// Interleaved 8-bit samples, row by row; colour not premultiplied by alpha.
    pub pixels: Vec<u8>,
}

impl SourceImage {
    /// Converts a decoded image to 8 bits: grey stays grey, everything else becomes RGB; alpha
    /// is kept, unless every pixel is opaque (then dropping it loses nothing).
    pub fn from_dynamic(name: String, img: image::DynamicImage) -> Self {
        let (width, height) = (img.width(), img.height());
        let grey = !img.color().has_color();
        let alpha = img.color().has_alpha() && !is_opaque(&img);
        let (channels, pixels) = match (grey, alpha) {
            (true, false) => (1, img.into_luma8().into_raw()),
            (true, true) => (2, img.into_luma_alpha8().into_raw()),
            (false, false) => (3, img.into_rgb8().into_raw()),
            (false, true) => (4, img.into_rgba8().into_raw()),
        };
        SourceImage {
            name,
            width,
            height,
            channels,
            pixels,
        }
    }

    /// What a decoder with `channels` outputs (which must [`renders`] this image) is trained
    /// to give for this image, pixel by pixel on the `[0, 1]` scale: grey replicated to RGB
    /// where the decoder is RGB; for a decoder with alpha, the colour premultiplied by alpha
    /// (format-spec §8.6) and then alpha, which is 1 for an image without alpha.
    pub fn targets(&self, channels: u8) -> Vec<f32> {
        let (own, out) = (usize::from(self.channels), usize::from(channels));
        let (dc, alpha) = (usize::from(colour_channels(channels)), has_alpha(channels));
        let mut t = Vec::with_capacity(self.pixels.len() / own * out);
        for px in self.pixels.chunks_exact(own) {
            let a = if has_alpha(self.channels) {
                f32::from(px[own - 1]) / 255.0
            } else {
                1.0
            };
            for k in 0..dc {
                let v = if colour_channels(self.channels) == 1 {
                    px[0]
                } else {
                    px[k]
                };
                let v = f32::from(v) / 255.0;
                t.push(if alpha { v * a } else { v });
            }
            if alpha {
                t.push(a);
            }
        }
        t
    }

    /// The samples with `channels` channels (which must be the image's own, or 3 for a grey
    /// image, replicated): the layout other codecs are given in benchmarks.
    pub fn samples_as(&self, channels: u8) -> Vec<u8> {
        if channels == self.channels {
            self.pixels.clone()
        } else {
            self.pixels.iter().flat_map(|&g| [g, g, g]).collect()
        }
    }
}

/// Whether every pixel of an image with alpha is fully opaque.
fn is_opaque(img: &image::DynamicImage) -> bool {
    match img {
        image::DynamicImage::ImageLumaA8(i) => i.pixels().all(|p| p.0[1] == u8::MAX),
        image::DynamicImage::ImageRgba8(i) => i.pixels().all(|p| p.0[3] == u8::MAX),
        image::DynamicImage::ImageLumaA16(i) => i.pixels().all(|p| p.0[1] == u16::MAX),
        image::DynamicImage::ImageRgba16(i) => i.pixels().all(|p| p.0[3] == u16::MAX),
        other => other.to_rgba32f().pixels().all(|p| p.0[3] >= 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(channels: u8, pixels: Vec<u8>) -> SourceImage {
        let n = pixels.len() as u32 / u32::from(channels);
        SourceImage {
            name: "x".into(),
            width: n,
            height: 1,
            channels,
            pixels,
        }
    }

    #[test]
    fn which_decoder_renders_which_image() {
        let table = [
            (1, [true, false, false, false]),
            (2, [true, true, false, false]),
            (3, [true, false, true, false]),
            (4, [true, true, true, true]),
        ];
        for (decoder, row) in table {
            for (image, &want) in (1u8..=4).zip(&row) {
                assert_eq!(renders(decoder, image), want, "{decoder} -> {image}");
            }
            assert!(!renders(decoder, 0) && !renders(decoder, 5));
        }
    }

    #[test]
    fn decoder_channels_cover_every_image() {
        let grey = image(1, vec![1]);
        let la = image(2, vec![1, 2]);
        let rgb = image(3, vec![1, 2, 3]);
        assert_eq!(decoder_channels([&grey]), 1);
        assert_eq!(decoder_channels([&grey, &la]), 2);
        assert_eq!(decoder_channels([&grey, &rgb]), 3);
        assert_eq!(decoder_channels([&la, &rgb]), 4);
    }

    #[test]
    fn targets_are_premultiplied_under_a_decoder_with_alpha() {
        let rgba = image(4, vec![255, 102, 0, 51]); // alpha 0.2
        let t = rgba.targets(4);
        let want = [0.2, 0.4 * 0.2, 0.0, 0.2];
        assert!(
            t.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{t:?}"
        );
        // Grey without alpha in an RGBA decoder: replicated, opaque.
        assert_eq!(image(1, vec![255]).targets(4), vec![1.0, 1.0, 1.0, 1.0]);
        // Grey + alpha in a grey + alpha decoder.
        assert_eq!(image(2, vec![255, 0]).targets(2), vec![0.0, 0.0]);
        // No alpha anywhere: plain scaling.
        assert_eq!(image(3, vec![0, 51, 255]).targets(3), vec![0.0, 0.2, 1.0]);
    }

    #[test]
    fn alpha_is_kept_unless_every_pixel_is_opaque() {
        let mut rgba = image::RgbaImage::from_pixel(2, 1, image::Rgba([9, 8, 7, 255]));
        let opaque = SourceImage::from_dynamic("o".into(), rgba.clone().into());
        assert_eq!(
            (opaque.channels, opaque.pixels),
            (3, vec![9, 8, 7, 9, 8, 7])
        );
        rgba.put_pixel(1, 0, image::Rgba([9, 8, 7, 100]));
        let soft = SourceImage::from_dynamic("s".into(), rgba.into());
        assert_eq!(soft.channels, 4);
        assert_eq!(soft.pixels, vec![9, 8, 7, 255, 9, 8, 7, 100]);
        let la = image::GrayAlphaImage::from_pixel(1, 1, image::LumaA([5, 6]));
        assert_eq!(SourceImage::from_dynamic("g".into(), la.into()).channels, 2);
    }
}
