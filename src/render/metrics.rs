//! Image quality measures.

use crate::render::PackImages;

/// PSNR in dB between two 8-bit sample arrays of equal length (peak 255).
/// Identical inputs give `f64::INFINITY`.
pub fn psnr_u8(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "psnr of arrays of different length");
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    psnr_from_mse(se / a.len().max(1) as f64 / (255.0 * 255.0))
}

/// The quality of an image with alpha, three ways (dB).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaPsnr {
    /// PSNR of the colour samples of the pixels the source has fully opaque.
    pub colour_opaque: f64,
    /// PSNR of the alpha samples.
    pub alpha: f64,
    /// PSNR of the colour after compositing both images on white (what a viewer shows on a
    /// white page; colour under transparent pixels does not count).
    pub on_white: f64,
}

/// [`AlphaPsnr`] of a decoded image against its source, both with `channels` channels (2 or
/// 4: alpha last, colour not premultiplied).
pub fn alpha_psnr(decoded: &[u8], source: &[u8], channels: u8) -> AlphaPsnr {
    assert_eq!(
        decoded.len(),
        source.len(),
        "psnr of arrays of different length"
    );
    let c = usize::from(channels);
    let (mut opaque, mut alpha, mut white) = ((0.0, 0usize), 0.0, 0.0);
    for (d, s) in decoded.chunks_exact(c).zip(source.chunks_exact(c)) {
        let (da, sa) = (f64::from(d[c - 1]), f64::from(s[c - 1]));
        alpha += (da - sa).powi(2);
        for (&x, &y) in d[..c - 1].iter().zip(&s[..c - 1]) {
            let on_white = |v: u8, a: f64| (f64::from(v) * a + 255.0 * (255.0 - a)) / 255.0;
            white += (on_white(x, da) - on_white(y, sa)).powi(2);
            if s[c - 1] == u8::MAX {
                opaque.0 += (f64::from(x) - f64::from(y)).powi(2);
                opaque.1 += 1;
            }
        }
    }
    let pixels = (source.len() / c).max(1) as f64;
    let mse = |se: f64, n: f64| se / n.max(1.0) / (255.0 * 255.0);
    AlphaPsnr {
        colour_opaque: psnr_from_mse(mse(opaque.0, opaque.1 as f64)),
        alpha: psnr_from_mse(mse(alpha, pixels)),
        on_white: psnr_from_mse(mse(white, pixels * (c - 1) as f64)),
    }
}

/// The PSNR by which an image's quality is reported: over every sample for an image without
/// alpha ([`psnr_u8`]); after compositing on white for one with alpha
/// ([`AlphaPsnr::on_white`]), so that colour under transparent pixels does not count.
pub fn image_psnr(decoded: &[u8], source: &[u8], channels: u8) -> f64 {
    if crate::pixels::has_alpha(channels) {
        alpha_psnr(decoded, source, channels).on_white
    } else {
        psnr_u8(decoded, source)
    }
}

/// PSNR in dB from a mean squared error on the `[0, 1]` scale.
pub fn psnr_from_mse(mse: f64) -> f64 {
    -10.0 * mse.log10()
}

/// Each of `originals` as the pure-Rust renderer decodes the image of the same name in `pack`
/// at the original's size (with the original's channels).
pub fn pack_render(
    pack: &dyn PackImages,
    originals: &[crate::pixels::SourceImage],
) -> crate::Result<Vec<Vec<u8>>> {
    render_each(pack, originals, |decoded, _| decoded)
}

/// PSNR of each of `originals` against its decoding from `pack` ([`pack_render`],
/// [`image_psnr`]); each decoding is dropped once measured.
pub fn pack_psnr(
    pack: &dyn PackImages,
    originals: &[crate::pixels::SourceImage],
) -> crate::Result<Vec<f64>> {
    render_each(pack, originals, |decoded, o| {
        image_psnr(&decoded, &o.pixels, o.channels)
    })
}

/// `f(decoding, original)` for each of `originals`, rendered in parallel as [`pack_render`]
/// says.
fn render_each<T: Send>(
    pack: &dyn PackImages,
    originals: &[crate::pixels::SourceImage],
    f: impl Fn(Vec<u8>, &crate::pixels::SourceImage) -> T + Sync,
) -> crate::Result<Vec<T>> {
    use rayon::prelude::*;
    let render = pack.prepare();
    let by_name: std::collections::HashMap<&str, usize> = pack
        .entries()
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    originals
        .par_iter()
        .map(|img| {
            let i = *by_name
                .get(img.name.as_str())
                .ok_or_else(|| crate::Error::Usage(format!("{} is not in the pack", img.name)))?;
            let mut out = vec![0u8; img.pixels.len()];
            render(i, (img.width, img.height), img.channels, &mut out)?;
            Ok(f(out, img))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_psnr_ignores_colour_under_transparent_pixels() {
        // Pixel 1 opaque and exact; pixel 2 transparent with different colours.
        let source = [10, 20, 30, 255, 200, 0, 0, 0];
        let decoded = [10, 20, 30, 255, 0, 0, 0, 0];
        let q = alpha_psnr(&decoded, &source, 4);
        assert!(q.colour_opaque.is_infinite() && q.alpha.is_infinite() && q.on_white.is_infinite());
        // An alpha error shows on white and in alpha, not in the opaque colour.
        let decoded = [10, 20, 30, 255, 0, 0, 0, 255];
        let q = alpha_psnr(&decoded, &source, 4);
        assert!(q.colour_opaque.is_infinite());
        assert!((q.alpha - psnr_u8(&[0, 255], &[0, 0])).abs() < 1e-9);
        // On white: pixel 2 turns from white (255) to black (0) in all three channels.
        assert!(
            (q.on_white - psnr_u8(&[0, 0, 0, 0, 0, 0], &[0, 0, 0, 255, 255, 255])).abs() < 1e-9
        );
        assert_eq!(image_psnr(&decoded, &source, 4), q.on_white);
        assert_eq!(image_psnr(&[1, 2], &[1, 3], 1), psnr_u8(&[1, 2], &[1, 3]));
    }
}
