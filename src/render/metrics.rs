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

/// PSNR of each of `originals` against the image of the same name in `pack`, as the
/// pure-Rust renderer decodes it at the original's size.
pub fn pack_psnr(
    pack: &crate::Pack,
    originals: &[crate::pixels::SourceImage],
) -> crate::Result<Vec<f64>> {
    use rayon::prelude::*;
    let renderer = crate::render::Renderer::new(&pack.decoder);
    let starts = pack.latent_starts();
    let by_name: std::collections::HashMap<&str, usize> = pack
        .index
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
            let e = &pack.index[i];
            let size = (img.width, img.height);
            let mut out = vec![0u8; img.pixels.len()];
            let z = pack.image_latents(i, &starts);
            renderer.render_image(
                pack.patches,
                &z,
                (e.width, e.height),
                size,
                img.channels,
                &mut out,
            )?;
            Ok(psnr_u8(&out, &img.pixels))
        })
        .collect()
}
