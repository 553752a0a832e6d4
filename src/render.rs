//! Pure-Rust renderer: evaluates a pack's decoder at any resolution without libtorch.
use rayon::prelude::*;

use crate::coords;
use crate::model::DecoderWeights;

/// Pixels evaluated together in one block (one GEMM per layer).
const BLOCK: usize = 512;

/// `sin(x)` for the renderer, branch-free so that loops over it vectorise: reduction by `π`
/// in f64 (`x = kπ + r`, `|r| ≤ π/2`), then the odd Taylor polynomial of degree 13 in `r`
/// (error below 1e-9 before the final rounding to f32) and the sign of `(-1)^k`.
#[inline]
pub fn sin(x: f32) -> f32 {
    // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer without a libm call.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let x = f64::from(x);
    let t = x * std::f64::consts::FRAC_1_PI + ROUND;
    let k = t - ROUND;
    let r = x - k * std::f64::consts::PI;
    let r2 = r * r;
    let poly = 1.0
        + r2 * (-1.0 / 6.0
            + r2 * (1.0 / 120.0
                + r2 * (-1.0 / 5040.0
                    + r2 * (1.0 / 362_880.0
                        + r2 * (-1.0 / 39_916_800.0 + r2 * (1.0 / 6_227_020_800.0))))));
    let odd = t.to_bits() << 63;
    f64::from_bits((r * poly).to_bits() ^ odd) as f32
}

/// Maps a decoder output to an 8-bit sample: `floor(clamp(y, 0, 1) * 255 + 0.5)`.
pub fn to_u8(y: f32) -> u8 {
    (y.clamp(0.0, 1.0) * 255.0 + 0.5).floor() as u8
}

/// Evaluates the decoder with latent `z` at the given `(x, y)` points (interleaved);
/// returns `C` raw outputs per point.
pub fn eval_points(w: &DecoderWeights, z: &[f32], points: &[f32]) -> Vec<f32> {
    let s = &w.shape;
    assert_eq!(z.len(), s.latent_dim, "latent of the wrong length");
    let shifts = layer_shifts(w, z);
    let n = points.len() / 2;
    let mut out = vec![0f32; n * s.channels];
    out.par_chunks_mut(BLOCK * s.channels)
        .zip(points.par_chunks(BLOCK * 2))
        .for_each(|(dst, pts)| eval_block(w, &shifts, pts, dst));
    out
}

/// Renders image latent `z` at `width x height`; returns row-major 8-bit samples with
/// `out_channels` channels (1 from a 3-channel decoder averages the channels first).
pub fn render_u8(
    w: &DecoderWeights,
    z: &[f32],
    width: u32,
    height: u32,
    out_channels: u8,
) -> Vec<u8> {
    let c = w.shape.channels;
    let raw = eval_points(w, z, &coords::grid(width, height));
    if usize::from(out_channels) == c {
        raw.into_iter().map(to_u8).collect()
    } else {
        raw.chunks_exact(c)
            .map(|px| to_u8(px.iter().sum::<f32>() / c as f32))
            .collect()
    }
}

/// Per-layer additive terms `b_l + M_l z` (the latent enters only here).
fn layer_shifts(w: &DecoderWeights, z: &[f32]) -> Vec<Vec<f32>> {
    let d = w.shape.latent_dim;
    w.layers
        .iter()
        .map(|layer| {
            let mut s = layer.bias.clone();
            if let Some(m) = &layer.modulation {
                for (j, sj) in s.iter_mut().enumerate() {
                    let row = &m[j * d..(j + 1) * d];
                    *sj += row.iter().zip(z).map(|(a, b)| a * b).sum::<f32>();
                }
            }
            s
        })
        .collect()
}

/// Evaluates one block of points into `dst` (`C` values per point).
fn eval_block(w: &DecoderWeights, shifts: &[Vec<f32>], pts: &[f32], dst: &mut [f32]) {
    let s = &w.shape;
    let (h, n) = (s.hidden, pts.len() / 2);
    let mut act = vec![0f32; n * h];
    let mut pre = vec![0f32; n * h];
    let first = &w.layers[0].weight;
    for (p, row) in act.chunks_exact_mut(h).enumerate() {
        let (x, y) = (pts[2 * p], pts[2 * p + 1]);
        for (j, a) in row.iter_mut().enumerate() {
            let v = first[2 * j] * x + first[2 * j + 1] * y + shifts[0][j];
            *a = sin(s.w0_first * v);
        }
    }
    for (l, layer) in w.layers.iter().enumerate().skip(1) {
        gemm_bt(&act, &layer.weight, &mut pre, n, h, h);
        for (row_pre, row_act) in pre.chunks_exact(h).zip(act.chunks_exact_mut(h)) {
            for ((a, &p), &sh) in row_act.iter_mut().zip(row_pre).zip(&shifts[l]) {
                *a = sin(s.w0_hidden * (p + sh));
            }
        }
    }
    gemm_bt(&act, &w.out_weight, dst, n, h, s.channels);
    for px in dst.chunks_exact_mut(s.channels) {
        for (v, &b) in px.iter_mut().zip(&w.out_bias) {
            *v += b;
        }
    }
}

/// `c = a * b^T` with `a` row-major `m x k` and `b` row-major `n x k`.
fn gemm_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    assert!(a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    // SAFETY: the assert above guarantees every index the strides reach is in bounds.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            k as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_sin_matches_libm() {
        let mut worst = 0f64;
        for i in -2_000_000..=2_000_000 {
            let x = i as f32 * 1e-4; // -200 .. 200 radians
            let err = (f64::from(super::sin(x)) - f64::from(x).sin()).abs();
            worst = worst.max(err);
        }
        // One f32 ulp near 1 is 6e-8; the result is within that of the exact sine.
        assert!(worst < 6e-8, "worst error {worst:e}");
    }
}
