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

impl Quantiser {
    /// Fits the ranges to the minimum and maximum of each dimension over `latents` (`n x dim`, row-major).
    pub fn fit(latents: &[f32], dim: usize, bits: u8) -> Result<Self> {
        if !(1..=crate::consts::MAX_BITS).contains(&bits) {
            return Err(Error::Usage(format!("--bits must be 1 to 16, got {bits}")));
        }
        if dim == 0 || latents.len() % dim != 0 {
            return Err(Error::Usage(
                "latent array is not a whole number of rows".into(),
            ));
        }
        let mut lo = vec![f32::INFINITY; dim];
        let mut hi = vec![f32::NEG_INFINITY; dim];
        for row in latents.chunks_exact(dim) {
            for (d, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(Error::Usage(
                        "latent is not finite (training diverged?)".into(),
                    ));
                }
                lo[d] = lo[d].min(v);
                hi[d] = hi[d].max(v);
            }
        }
        for d in 0..dim {
            if lo[d] > hi[d] {
                (lo[d], hi[d]) = (0.0, 0.0);
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
                let step = self.step(d);
                if step <= 0.0 {
                    return 0;
                }
                let q = ((v - self.lo[d]) / step).round();
                q.clamp(0.0, f32::from(self.max_code())) as u16
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
