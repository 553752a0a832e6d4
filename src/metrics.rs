//! Image quality measures.

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

/// PSNR in dB from a mean squared error on the `[0, 1]` scale.
pub fn psnr_from_mse(mse: f64) -> f64 {
    -10.0 * mse.log10()
}

/// PSNR of every image of `pack` as the pure-Rust renderer decodes it, against `originals`
/// (same order as the pack's index).
pub fn pack_psnr(
    pack: &crate::Pack,
    originals: &[crate::io::SourceImage],
) -> crate::Result<Vec<f64>> {
    use rayon::prelude::*;
    let renderer = crate::render::Renderer::new(&pack.decoder);
    originals
        .par_iter()
        .enumerate()
        .map(|(i, img)| {
            let out = renderer.render(&pack.latent(i), img.width, img.height, img.channels)?;
            Ok(psnr_u8(&out, &img.pixels))
        })
        .collect()
}
