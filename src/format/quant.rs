//! Uniform scalar quantisation of latents with a range per dimension.
use crate::error::{Error, Result};

/// Per-dimension uniform quantiser: `bits` per value over `[lo_d, hi_d]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiser {
    /// Bits per code, 1 to 16.
    pub bits: u8,
    /// Lower end of each dimension's range.
    pub lo: Vec<f32>,
    /// Upper end of each dimension's range (`hi >= lo`).
    pub hi: Vec<f32>,
}

/// Quantile `p` of the clipped ranges that [`Quantiser::fit`] tries per dimension (the range
/// `[q_p, q_(1-p)]`). Measured on 1,000 MNIST test digits (latent 128, 20 refinement steps):
/// against the plain minimum–maximum range, 4-bit codes went from 27.00 dB at 0.579 bpp to
/// 27.33 dB at 0.630 bpp, 3-bit codes from 23.94 dB at 0.414 bpp to 25.49 dB at 0.487 bpp
/// (finer steps cost some rate; at equal rate the gain is about 0.2 dB).
pub const CLIP_QUANTILES: [f64; 10] = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.02, 0.03, 0.05, 0.08];

impl Quantiser {
    /// Fits each dimension's range to `latents` (`n x dim`, row-major): among ranges clipped
    /// to the `p`-th and `(1-p)`-th quantiles ([`CLIP_QUANTILES`], `p = 0` being the minimum and
    /// maximum), the one whose quantise–dequantise round trip has the least squared error over
    /// that dimension's values. Values outside the range are clamped to it; at few bits a
    /// clipped range wins because its finer steps serve the bulk of the values.
    pub fn fit(latents: &[f32], dim: usize, bits: u8) -> Result<Self> {
        if !(1..=crate::consts::MAX_BITS).contains(&bits) {
            return Err(Error::Usage(format!("--bits must be 1 to 16, got {bits}")));
        }
        if dim == 0 || !latents.len().is_multiple_of(dim) {
            return Err(Error::Usage(
                "latent array is not a whole number of rows".into(),
            ));
        }
        if latents.iter().any(|v| !v.is_finite()) {
            return Err(Error::Usage(
                "latent is not finite (training diverged?)".into(),
            ));
        }
        let n = latents.len() / dim;
        let levels = ((1u32 << bits) - 1) as f32;
        let mut lo = vec![0.0; dim];
        let mut hi = vec![0.0; dim];
        let mut column = Vec::with_capacity(n);
        for d in 0..dim {
            column.clear();
            column.extend(latents.iter().skip(d).step_by(dim).copied());
            column.sort_by(f32::total_cmp);
            let Some(last) = n.checked_sub(1) else {
                continue;
            };
            let mut best = f64::INFINITY;
            for p in CLIP_QUANTILES {
                let a = column[(p * last as f64).floor() as usize];
                let b = column[((1.0 - p) * last as f64).ceil() as usize];
                let err = round_trip_error(&column, a, b, levels);
                if err < best {
                    (best, lo[d], hi[d]) = (err, a, b);
                }
            }
        }
        Ok(Quantiser { bits, lo, hi })
    }

    /// Largest code value, `2^bits - 1`.
    pub fn max_code(&self) -> u16 {
        ((1u32 << self.bits) - 1) as u16
    }

    /// Quantisation step of dimension `d`: `(hi - lo) / (2^bits - 1)` in f32.
    pub fn step(&self, d: usize) -> f32 {
        (self.hi[d] - self.lo[d]) / f32::from(self.max_code())
    }

    /// Largest reconstruction error for a value inside dimension `d`'s range: half a step
    /// (plus f32 rounding).
    pub fn max_error(&self, d: usize) -> f32 {
        self.step(d) * 0.5
    }

    /// Codes of one or more consecutive latents (values outside the range are clamped to it).
    pub fn quantise(&self, z: &[f32]) -> Vec<u16> {
        let dim = self.lo.len();
        z.iter()
            .enumerate()
            .map(|(k, &v)| {
                let d = k % dim;
                code(v, self.lo[d], self.step(d), f32::from(self.max_code())) as u16
            })
            .collect()
    }

    /// The latents that codes (of one or more consecutive latents) stand for:
    /// `lo_d + q * step_d`.
    pub fn dequantise(&self, codes: &[u16]) -> Vec<f32> {
        let dim = self.lo.len();
        codes
            .iter()
            .enumerate()
            .map(|(k, &q)| self.lo[k % dim] + f32::from(q) * self.step(k % dim))
            .collect()
    }
}

/// The code of value `v` on the grid `lo + q * step`, `q = 0 ..= max`:
/// `clamp(round((v - lo) / step), 0, max)` in f32, rounding halves to even (as torch's
/// `round` does, so the trainer's quantised latents equal the stored ones), and 0 when
/// `step` is not positive. The one quantisation formula of this crate (format-spec §6).
pub fn code(v: f32, lo: f32, step: f32, max: f32) -> f32 {
    if step > 0.0 {
        ((v - lo) / step).round_ties_even().clamp(0.0, max)
    } else {
        0.0
    }
}

/// Summed squared error of quantising the sorted `values` on `levels + 1` codes over `[a, b]`
/// (values outside are clamped), in f64.
fn round_trip_error(values: &[f32], a: f32, b: f32, levels: f32) -> f64 {
    let step = (b - a) / levels;
    values
        .iter()
        .map(|&v| {
            let back = a + code(v, a, step, levels) * step;
            f64::from(back - v).powi(2)
        })
        .sum()
}
