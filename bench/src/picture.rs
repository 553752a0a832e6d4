//! Pixel helpers shared by the codecs: mosaics, conversions and the PSNR the tables report.
use gonpack::pixels::{dynamic_image, has_alpha, SourceImage};
use gonpack::render::metrics::{alpha_psnr, image_psnr};
use image::DynamicImage;

use crate::AlphaQuality;

/// The PSNR an exactly decoded image counts as: one of its samples one level off (77.0 dB for
/// a 28x28 grey image), so that a mean over a set stays finite.
fn exact_psnr(img: &SourceImage) -> f64 {
    10.0 * (255.0f64 * 255.0 * img.pixels.len() as f64).log10()
}

/// Mean PSNR over the images ([`image_psnr`]: after compositing on white for images with
/// alpha), an exactly decoded image counted as if one sample were one level off.
pub fn mean_psnr(decoded: &[Vec<u8>], originals: &[SourceImage]) -> f64 {
    let total: f64 = decoded
        .iter()
        .zip(originals)
        .map(|(d, o)| image_psnr(d, &o.pixels, o.channels).min(exact_psnr(o)))
        .sum();
    total / originals.len() as f64
}

/// Mean alpha qualities over the images, if they have alpha (exact images counted as in
/// [`mean_psnr`]).
pub fn mean_alpha(decoded: &[Vec<u8>], originals: &[SourceImage]) -> Option<AlphaQuality> {
    let with_alpha: Vec<_> = decoded
        .iter()
        .zip(originals)
        .filter(|(_, o)| has_alpha(o.channels))
        .collect();
    if with_alpha.is_empty() {
        return None;
    }
    let mut sum = [0.0; 3];
    for (d, o) in &with_alpha {
        let q = alpha_psnr(d, &o.pixels, o.channels);
        let cap = exact_psnr(o);
        for (s, v) in sum.iter_mut().zip([q.colour_opaque, q.alpha, q.on_white]) {
            *s += v.min(cap);
        }
    }
    let n = with_alpha.len() as f64;
    Some(AlphaQuality {
        colour_opaque: sum[0] / n,
        alpha: sum[1] / n,
        on_white: sum[2] / n,
    })
}

/// `img` as an image-crate picture (grey or RGB, with or without alpha).
pub fn dynamic(img: &SourceImage) -> DynamicImage {
    let (w, h, p) = (img.width, img.height, img.pixels.clone());
    dynamic_image(w, h, img.channels, p).expect("w x h x channels samples")
}

/// The samples of `img` with `channels` channels (1 to 4).
pub fn samples(img: DynamicImage, channels: u8) -> Vec<u8> {
    match channels {
        1 => img.into_luma8().into_raw(),
        2 => img.into_luma_alpha8().into_raw(),
        3 => img.into_rgb8().into_raw(),
        _ => img.into_rgba8().into_raw(),
    }
}

/// All images (of one size and channel count) tiled into one picture, `cols` per row, and
/// `cols`.
pub fn mosaic(images: &[SourceImage]) -> (SourceImage, u32) {
    let (w, h, c) = (
        images[0].width,
        images[0].height,
        usize::from(images[0].channels),
    );
    let cols = (images.len() as f64).sqrt().ceil() as u32;
    let rows = (images.len() as u32).div_ceil(cols);
    let (mw, mh) = (cols * w, rows * h);
    let mut pixels = vec![0u8; (mw * mh) as usize * c];
    for (k, img) in images.iter().enumerate() {
        for (y, src) in img.pixels.chunks_exact(w as usize * c).enumerate() {
            let at = tile_row_start(k as u32, y as u32, cols, w, h, c);
            pixels[at..at + src.len()].copy_from_slice(src);
        }
    }
    let m = SourceImage {
        name: "mosaic".into(),
        width: mw,
        height: mh,
        channels: c as u8,
        pixels,
    };
    (m, cols)
}

/// The tiles of a decoded mosaic of `like`'s images, back in image order.
pub fn unmosaic(decoded: &[u8], like: &[SourceImage], cols: u32) -> Vec<Vec<u8>> {
    let (w, h, c) = (like[0].width, like[0].height, usize::from(like[0].channels));
    (0..like.len() as u32)
        .map(|k| {
            (0..h)
                .flat_map(|y| {
                    let at = tile_row_start(k, y, cols, w, h, c);
                    decoded[at..at + w as usize * c].iter().copied()
                })
                .collect()
        })
        .collect()
}

/// Offset in a mosaic of `cols` tiles of `w x h x c` per row of row `y` of tile `k`.
fn tile_row_start(k: u32, y: u32, cols: u32, w: u32, h: u32, c: usize) -> usize {
    let (x0, y0) = ((k % cols) * w, (k / cols) * h);
    (((y0 + y) * cols * w + x0) as usize) * c
}

/// `img` at half size (odd edges dropped): each pixel the rounded mean of the 2 x 2 pixels it
/// covers, as a sensor integrates light over a pixel's area.
pub fn area_half(img: &SourceImage) -> SourceImage {
    let (w, h, c) = (img.width / 2, img.height / 2, usize::from(img.channels));
    let at = |x: u32, y: u32, k: usize| u32::from(img.pixels[(y * img.width + x) as usize * c + k]);
    let mut pixels = Vec::with_capacity((w * h) as usize * c);
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                let sum = at(2 * x, 2 * y, k)
                    + at(2 * x + 1, 2 * y, k)
                    + at(2 * x, 2 * y + 1, k)
                    + at(2 * x + 1, 2 * y + 1, k);
                pixels.push(((sum + 2) / 4) as u8);
            }
        }
    }
    SourceImage {
        name: img.name.clone(),
        width: w,
        height: h,
        channels: img.channels,
        pixels,
    }
}

/// `small` upsampled to `like`'s size (Catmull-Rom), as samples with `like`'s channels.
pub fn bicubic_up(small: &SourceImage, like: &SourceImage) -> Vec<u8> {
    let up = dynamic(small).resize_exact(
        like.width,
        like.height,
        image::imageops::FilterType::CatmullRom,
    );
    samples(up, like.channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(k: u8, w: u32, h: u32, c: u8) -> SourceImage {
        let n = (w * h) as usize * usize::from(c);
        SourceImage {
            name: format!("{k}"),
            width: w,
            height: h,
            channels: c,
            pixels: (0..n)
                .map(|i| (i as u8).wrapping_mul(7).wrapping_add(k))
                .collect(),
        }
    }

    #[test]
    fn a_mosaic_comes_apart_into_its_tiles() {
        let images: Vec<_> = (0..5).map(|k| img(k, 3, 2, 3)).collect();
        let (m, cols) = mosaic(&images);
        assert_eq!((cols, m.width, m.height), (3, 9, 4));
        let tiles = unmosaic(&m.pixels, &images, cols);
        for (t, i) in tiles.iter().zip(&images) {
            assert_eq!(t, &i.pixels);
        }
    }

    #[test]
    fn half_size_pixels_are_rounded_2x2_means() {
        let full = SourceImage {
            name: "a".into(),
            width: 3,
            height: 2,
            channels: 1,
            pixels: vec![0, 1, 9, 2, 2, 9],
        };
        // The 2 x 2 block 0, 1 / 2, 2 (the odd column dropped): (5 + 2) / 4 = 1.
        assert_eq!(area_half(&full).pixels, [1]);
    }
}
