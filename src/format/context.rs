//! Context coding of grid codes (format-spec §12.7 and §12.8): each code of a level is
//! predicted from its causal neighbours in the same grid (left, up, up-left, up-right), and the
//! residual is range-coded under a law chosen by the neighbours' activity: a two-sided
//! geometric law around the rounded prediction, or (phased) a binned Laplace around the
//! prediction to the nearest eighth of a code. The prediction is one binary32 expression in a
//! fixed order, so it is the same on every platform.
use std::collections::BTreeMap;

use byteorder::{ByteOrder, LittleEndian as LE};
use nalgebra::{Matrix4, Vector4};

use crate::consts::{
    CONTEXT_BUCKETS, CONTEXT_MODEL_LEN, CONTEXT_NEIGHBOURS, LATENT_CODING_CONTEXT,
    LATENT_CODING_PHASED, LEVEL_MODEL_LEN, MAX_CONTEXT_WEIGHT, MAX_GRID_CODE, MAX_RATIO, MIN_RATIO,
    PREDICTION_PHASES,
};
use crate::error::{Error, Result};
use crate::format::entropy::{decode_symbols, encode_symbols, Binned, Law, LevelModel, Shape};

/// Most rounds of reweighting that [`ContextModel::fit`] spends on the prediction weights.
const REWEIGHTING_ROUNDS: usize = 8;

/// Golden-section steps of the maximum-likelihood fit of a phased bucket's ratio.
const RATIO_SEARCH_STEPS: usize = 60;

/// Where a context coding centres each residual's law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    /// On the rounded prediction, under a two-sided geometric law
    /// ([`LATENT_CODING_CONTEXT`], format-spec §12.7).
    Rounded,
    /// On the prediction rounded to an eighth of a code, under a binned Laplace
    /// ([`LATENT_CODING_PHASED`], format-spec §12.8).
    Phased,
}

impl Prediction {
    /// The context coding a latent coding byte names, if any.
    pub fn of_coding(coding: u8) -> Option<Prediction> {
        match coding {
            LATENT_CODING_CONTEXT => Some(Prediction::Rounded),
            LATENT_CODING_PHASED => Some(Prediction::Phased),
            _ => None,
        }
    }
}

/// The context model of one plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextModel {
    /// Prediction weights of the left, up, up-left and up-right codes.
    pub weights: [f32; CONTEXT_NEIGHBOURS],
    /// The law of the residuals in each activity bucket.
    pub buckets: [LevelModel; CONTEXT_BUCKETS],
}

/// A run of codes: one plane's grid of one image, `(plane, width, height)`.
pub type GridRun = (usize, u32, u32);

/// The causal neighbours of position `at` of a grid `width` wide whose codes so far are
/// `run[..at]`: left, up, up-left, up-right, 0 outside the grid.
fn neighbours(run: &[i16], width: usize, at: usize) -> [i32; CONTEXT_NEIGHBOURS] {
    let (x, y) = (at % width, at / width);
    let get = |ok: bool, i: usize| if ok { i32::from(run[i]) } else { 0 };
    [
        get(x > 0, at.wrapping_sub(1)),
        get(y > 0, at.wrapping_sub(width)),
        get(x > 0 && y > 0, at.wrapping_sub(width + 1)),
        get(y > 0 && x + 1 < width, (at + 1).wrapping_sub(width)),
    ]
}

/// The activity bucket of neighbours `n`: the bit length of `2|left| + 2|up| + |up-left| +
/// |up-right|`, at most `CONTEXT_BUCKETS - 1`.
fn bucket(n: &[i32; CONTEXT_NEIGHBOURS]) -> usize {
    let activity = 2 * n[0].unsigned_abs()
        + 2 * n[1].unsigned_abs()
        + n[2].unsigned_abs()
        + n[3].unsigned_abs();
    ((u32::BITS - activity.leading_zeros()) as usize).min(CONTEXT_BUCKETS - 1)
}

impl ContextModel {
    /// Checks every weight is finite with magnitude at most [`MAX_CONTEXT_WEIGHT`] and every
    /// bucket's model is valid; [`Error::Format`] naming `plane` otherwise.
    pub fn validate(&self, plane: usize) -> Result<()> {
        if let Some(w) = self
            .weights
            .iter()
            .find(|w| !(w.is_finite() && w.abs() <= MAX_CONTEXT_WEIGHT))
        {
            return Err(Error::Format(format!(
                "context model of plane {plane}: weight {w} is not in [-{MAX_CONTEXT_WEIGHT}, {MAX_CONTEXT_WEIGHT}]"
            )));
        }
        for m in &self.buckets {
            m.validate(plane)?;
        }
        Ok(())
    }

    /// The prediction of position `at` of a grid `width` wide whose codes so far are
    /// `run[..at]`, and the law of its residual: `round(Σ w_i n_i)` in binary32, left to right,
    /// clamped to `±MAX_GRID_CODE`.
    pub fn predict(&self, run: &[i16], width: usize, at: usize) -> (i32, LevelModel) {
        let n = neighbours(run, width, at);
        (self.centre(&n).0, self.buckets[bucket(&n)])
    }

    /// The rounded prediction `μ` from neighbours `n` ([`Self::predict`]) and its phase: the
    /// binary32 difference `Σ w_i n_i - μ` in eighths of a code, rounded half away from zero
    /// and clamped to `±PREDICTION_PHASES / 2`.
    fn centre(&self, n: &[i32; CONTEXT_NEIGHBOURS]) -> (i32, i32) {
        let limit = f32::from(MAX_GRID_CODE);
        let s = self.mean(n);
        let mu = s.round().clamp(-limit, limit);
        let half = PREDICTION_PHASES / 2;
        let phase = ((s - mu) * PREDICTION_PHASES as f32).round() as i32;
        (mu as i32, phase.clamp(-half, half))
    }

    /// What position `at` is coded with under `prediction`: the coded value's law, the offset
    /// it is added to and whether the residual is negated before coding (phased laws centred
    /// left of the offset are coded as the mirror of the law centred right).
    fn law(
        &self,
        prediction: Prediction,
        run: &[i16],
        width: usize,
        at: usize,
    ) -> (Law, i32, bool) {
        let n = neighbours(run, width, at);
        let model = self.buckets[bucket(&n)];
        let (mu, phase) = self.centre(&n);
        match prediction {
            Prediction::Rounded => (Law::geometric(model), mu, false),
            Prediction::Phased => (
                Law {
                    model,
                    shape: Shape::Binned(phase.unsigned_abs() as u8),
                },
                mu,
                phase < 0,
            ),
        }
    }

    /// The unrounded prediction `Σ w_i n_i` from neighbours `n`, in binary32, left to right.
    fn mean(&self, n: &[i32; CONTEXT_NEIGHBOURS]) -> f32 {
        let w = &self.weights;
        w[0] * n[0] as f32 + w[1] * n[1] as f32 + w[2] * n[2] as f32 + w[3] * n[3] as f32
    }

    /// The model of a plane whose grids are `grids` (`(codes, width)` each): prediction
    /// weights (clamped, zero when the neighbours are degenerate) and each bucket's
    /// [`LevelModel::fit`] of its residuals. The weights start as least squares, then up to
    /// 8 rounds of iteratively reweighted least squares move them towards the least code
    /// length (a geometric residual costs in proportion to `|e|` over its bucket's scale, an
    /// L1 loss); the shortest of them is kept. A residual beyond [`MAX_GRID_CODE`] gives a
    /// model that fails [`Self::validate`].
    pub fn fit<'a>(grids: impl Iterator<Item = (&'a [i16], usize)> + Clone) -> ContextModel {
        let least_squares = solve_weighted(grids.clone(), |_, _| 1.0);
        let mut best = Self::with_weights(grids.clone(), least_squares);
        let mut best_bits = best.1;
        for _ in 0..REWEIGHTING_ROUNDS {
            let (model, _) = &best;
            let weights = solve_weighted(grids.clone(), |n, k| {
                let scale = model.buckets[bucket(n)].mean_magnitude().max(0.1);
                1.0 / ((f64::from(k) - f64::from(model.mean(n))).abs().max(0.5) * scale)
            });
            let candidate = Self::with_weights(grids.clone(), weights);
            if candidate.1.partial_cmp(&best_bits) != Some(std::cmp::Ordering::Less) {
                break;
            }
            best_bits = candidate.1;
            best = candidate;
        }
        best.0
    }

    /// The model with prediction `weights` and each bucket's law fitted to its residuals, with
    /// the residuals' ideal code length in bits under those laws.
    fn with_weights<'a>(
        grids: impl Iterator<Item = (&'a [i16], usize)> + Clone,
        weights: [f32; CONTEXT_NEIGHBOURS],
    ) -> (ContextModel, f64) {
        let mut model = ContextModel {
            weights,
            buckets: [LevelModel::fit(&[]); CONTEXT_BUCKETS],
        };
        let mut residuals: Vec<Vec<i16>> = vec![Vec::new(); CONTEXT_BUCKETS];
        for (run, width) in grids {
            for (at, &k) in run.iter().enumerate() {
                let n = neighbours(run, width, at);
                let (mean, _) = model.predict(run, width, at);
                let r = (i32::from(k) - mean).clamp(-i32::from(i16::MAX), i32::from(i16::MAX));
                residuals[bucket(&n)].push(r as i16);
            }
        }
        let mut bits = 0.0;
        for (m, r) in model.buckets.iter_mut().zip(&residuals) {
            *m = LevelModel::fit(r);
            bits += m.ideal_bits(r);
        }
        (model, bits)
    }

    /// The model with `weights` and each bucket's phased law fitted to its residuals: the
    /// largest `|k - μ|` and the maximum-likelihood ratio of the binned Laplace
    /// ([`Prediction::Phased`]).
    fn with_phased_buckets<'a>(
        grids: impl Iterator<Item = (&'a [i16], usize)>,
        weights: [f32; CONTEXT_NEIGHBOURS],
    ) -> ContextModel {
        let mut model = ContextModel {
            weights,
            buckets: [LevelModel::fit(&[]); CONTEXT_BUCKETS],
        };
        // Per bucket: how often each (phase, value) occurs, the value negated where the
        // phase is.
        let mut counts: Vec<BTreeMap<(u8, i32), u64>> = vec![Default::default(); CONTEXT_BUCKETS];
        for (run, width) in grids {
            for (at, &k) in run.iter().enumerate() {
                let n = neighbours(run, width, at);
                let (mu, phase) = model.centre(&n);
                let r = i32::from(k) - mu;
                let v = if phase < 0 { -r } else { r };
                *counts[bucket(&n)]
                    .entry((phase.unsigned_abs() as u8, v))
                    .or_default() += 1;
            }
        }
        for (m, c) in model.buckets.iter_mut().zip(&counts) {
            *m = fit_binned(c);
        }
        model
    }
}

/// The phased law of one bucket from its `(phase, value)` counts: `max_code` the largest
/// `|value|` (not clamped: [`LevelModel::validate`] rejects one over [`MAX_GRID_CODE`]), and
/// the ratio of the largest likelihood under [`Binned`], found by golden-section search over
/// the log of the Laplace's scale `β = -1 / ln r`. A bucket with no value other than 0 gets
/// `max_code` 0.
fn fit_binned(counts: &BTreeMap<(u8, i32), u64>) -> LevelModel {
    let max_code = counts
        .keys()
        .map(|&(_, v)| v.unsigned_abs())
        .max()
        .unwrap_or(0);
    if max_code == 0 {
        return LevelModel::fit(&[]);
    }
    let m = max_code.min(u32::from(MAX_GRID_CODE)) as usize;
    // r = exp(-1 / β) and its inverse, ln β = ln(-1 / ln r).
    let ratio_of = |ln_scale: f64| ((-(-ln_scale).exp()).exp() as f32).clamp(MIN_RATIO, MAX_RATIO);
    let ln_scale_of = |r: f32| (-1.0 / f64::from(r).ln()).ln();
    let cost = |ln_scale: f64| -> f64 {
        let ratio = ratio_of(ln_scale);
        let masses: Vec<Vec<f64>> = (0..=PREDICTION_PHASES / 2)
            .map(|p| Binned::new(ratio, p as u8).masses(m))
            .collect();
        counts
            .iter()
            .map(|(&(p, v), &n)| {
                let mass =
                    masses[usize::from(p)][(v.clamp(-(m as i32), m as i32) + m as i32) as usize];
                -(n as f64) * mass.max(f64::MIN_POSITIVE).ln()
            })
            .sum()
    };
    let (mut lo, mut hi) = (ln_scale_of(MIN_RATIO), ln_scale_of(MAX_RATIO));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (cost(a), cost(b));
    for _ in 0..RATIO_SEARCH_STEPS {
        if fa <= fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - g * (hi - lo);
            fa = cost(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + g * (hi - lo);
            fb = cost(b);
        }
    }
    LevelModel {
        ratio: ratio_of((lo + hi) / 2.0),
        max_code: max_code.min(u32::from(u16::MAX)) as u16,
    }
}

/// Weights minimising `Σ c(n, k) (k - w·n)²` over every code `k` of `grids` with neighbours
/// `n` (clamped to [`MAX_CONTEXT_WEIGHT`]; zero when the system is degenerate).
fn solve_weighted<'a>(
    grids: impl Iterator<Item = (&'a [i16], usize)>,
    c: impl Fn(&[i32; CONTEXT_NEIGHBOURS], i16) -> f64,
) -> [f32; CONTEXT_NEIGHBOURS] {
    let (mut a, mut b) = (Matrix4::<f64>::zeros(), Vector4::<f64>::zeros());
    for (run, width) in grids {
        for (at, &k) in run.iter().enumerate() {
            let n = neighbours(run, width, at);
            let weight = c(&n, k);
            let v = Vector4::from(n.map(f64::from));
            a += v * v.transpose() * weight;
            b += v * (f64::from(k) * weight);
        }
    }
    let solved = (a + Matrix4::identity() * 1e-9)
        .cholesky()
        .map(|c| c.solve(&b));
    let limit = f64::from(MAX_CONTEXT_WEIGHT);
    solved
        .filter(|w| w.iter().all(|v| v.is_finite()))
        .map_or([0.0; CONTEXT_NEIGHBOURS], |w| {
            std::array::from_fn(|i| w[i].clamp(-limit, limit) as f32)
        })
}

/// Each plane's [`ContextModel::fit`] to `codes` (pack order, split into `runs`); for
/// [`Prediction::Phased`] the buckets then take their phased laws.
pub fn fit_context_models(
    planes: usize,
    runs: &[GridRun],
    codes: &[i16],
    prediction: Prediction,
) -> Vec<ContextModel> {
    let grids = split(runs, codes);
    (0..planes)
        .map(|p| {
            let plane = || {
                grids
                    .iter()
                    .filter(move |g| g.0 == p)
                    .map(|&(_, run, width)| (run, width))
            };
            let rounded = ContextModel::fit(plane());
            match prediction {
                Prediction::Rounded => rounded,
                Prediction::Phased => ContextModel::with_phased_buckets(plane(), rounded.weights),
            }
        })
        .collect()
}

/// `codes` cut into the runs' grids, `(plane, codes, width)` each (as far as `codes` reaches).
fn split<'a>(runs: &[GridRun], codes: &'a [i16]) -> Vec<(usize, &'a [i16], usize)> {
    let mut rest = codes;
    runs.iter()
        .map(|&(p, w, h)| {
            let (run, tail) = rest.split_at((w as usize * h as usize).min(rest.len()));
            rest = tail;
            (p, run, w as usize)
        })
        .collect()
}

/// The `QUAN` section of a context-coded grid pack.
pub fn write_context_models(models: &[ContextModel]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(models.len() * CONTEXT_MODEL_LEN);
    for m in models {
        for w in m.weights {
            raw.extend_from_slice(&w.to_le_bytes());
        }
        for b in &m.buckets {
            raw.extend_from_slice(&b.to_le_bytes());
        }
    }
    raw
}

/// Parses and validates the `QUAN` section of a context-coded grid pack.
pub fn read_context_models(raw: &[u8]) -> Result<Vec<ContextModel>> {
    raw.chunks_exact(CONTEXT_MODEL_LEN)
        .enumerate()
        .map(|(p, c)| {
            let (w, b) = c.split_at(4 * CONTEXT_NEIGHBOURS);
            let m = ContextModel {
                weights: std::array::from_fn(|i| LE::read_f32(&w[4 * i..])),
                buckets: std::array::from_fn(|i| {
                    LevelModel::from_le_bytes(&b[i * LEVEL_MODEL_LEN..])
                }),
            };
            m.validate(p).map(|_| m)
        })
        .collect()
}

/// Checks the models and that every run's plane has one; the runs' total code count.
fn check(models: &[ContextModel], runs: &[GridRun]) -> Result<usize> {
    for (p, m) in models.iter().enumerate() {
        m.validate(p)?;
    }
    let mut total = 0usize;
    for &(p, w, h) in runs {
        if p >= models.len() {
            return Err(Error::Format(format!(
                "context coding: plane {p} has no model ({} given)",
                models.len()
            )));
        }
        total = (w as usize)
            .checked_mul(h as usize)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| Error::Format("context coding: the run sizes overflow".into()))?;
    }
    Ok(total)
}

/// Range-codes `codes` (pack order) under `models`: each code's residual from its prediction
/// ([`ContextModel::predict`]) under its bucket's law, shaped as `prediction` says.
/// [`Error::Usage`] if a model is invalid, a plane has no model, a residual lies outside its
/// bucket's `±max_code` or the runs do not cover `codes` exactly.
pub fn encode(
    models: &[ContextModel],
    runs: &[GridRun],
    codes: &[i16],
    prediction: Prediction,
) -> Result<Vec<u8>> {
    let total = check(models, runs).map_err(|e| Error::Usage(e.to_string()))?;
    if total != codes.len() {
        return Err(Error::Usage(format!(
            "context coding: the runs cover {total} codes, not {}",
            codes.len()
        )));
    }
    let grids = split(runs, codes);
    let values = grids.into_iter().flat_map(|(p, run, width)| {
        (0..run.len()).map(move |at| {
            let (law, mean, negate) = models[p].law(prediction, run, width, at);
            let r = i32::from(run[at]) - mean;
            if r.unsigned_abs() > u32::from(law.model.max_code) {
                return Err(Error::Usage(format!(
                    "context coding: residual {r} of plane {p} is outside ±{}",
                    law.model.max_code
                )));
            }
            Ok((if negate { -r } else { r }, law))
        })
    });
    encode_symbols(values)
}

/// Inverse of [`encode`]; untrusted input as [`crate::format::entropy::decode`] (allocates the
/// runs' total of codes, which the caller bounds).
pub fn decode(
    models: &[ContextModel],
    runs: &[GridRun],
    data: &[u8],
    prediction: Prediction,
) -> Result<Vec<i16>> {
    let total = check(models, runs)?;
    // Run k starts at `starts[k]` of the output; `k` advances as the output grows.
    let mut k = 0;
    let mut start = 0usize;
    decode_symbols(data, total, |out| {
        while out.len() - start >= runs[k].1 as usize * runs[k].2 as usize {
            start += runs[k].1 as usize * runs[k].2 as usize;
            k += 1;
        }
        let (p, w, _) = runs[k];
        Ok(models[p].law(prediction, &out[start..], w as usize, out.len() - start))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Smooth random grids (each code near the mean of its left and up neighbours).
    fn grids(rng: &mut ChaCha8Rng) -> (Vec<GridRun>, Vec<i16>) {
        let runs: Vec<GridRun> = vec![
            (0, 16, 16),
            (1, 8, 8),
            (2, 1, 1),
            (0, 16, 16),
            (1, 8, 8),
            (2, 1, 1),
        ];
        let mut codes = Vec::new();
        for &(_, w, h) in &runs {
            let (w, h) = (w as usize, h as usize);
            let mut g = vec![0i16; w * h];
            for at in 0..w * h {
                let n = neighbours(&g, w, at);
                let base = match (at % w, at / w) {
                    (0, 0) => rng.gen_range(-40..=40),
                    (_, 0) => n[0],
                    (0, _) => n[1],
                    _ => (n[0] + n[1]) / 2,
                };
                g[at] = (base + rng.gen_range(-2..=2)) as i16;
            }
            codes.extend(g);
        }
        (runs, codes)
    }

    /// Grids from seed `seed`, their fitted models and stream (and the generator, to go on).
    #[allow(clippy::type_complexity)]
    fn coded(
        seed: u64,
        prediction: Prediction,
    ) -> (
        ChaCha8Rng,
        Vec<GridRun>,
        Vec<i16>,
        Vec<ContextModel>,
        Vec<u8>,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (runs, codes) = grids(&mut rng);
        let models = fit_context_models(3, &runs, &codes, prediction);
        let bytes = encode(&models, &runs, &codes, prediction).unwrap();
        (rng, runs, codes, models, bytes)
    }

    const BOTH: [Prediction; 2] = [Prediction::Rounded, Prediction::Phased];

    #[test]
    fn round_trip_and_gain_over_the_factorised_law() {
        for prediction in BOTH {
            round_trip_and_gain(prediction);
        }
    }

    fn round_trip_and_gain(prediction: Prediction) {
        let (_, runs, codes, models, bytes) = coded(7, prediction);
        assert_eq!(decode(&models, &runs, &bytes, prediction).unwrap(), codes);
        let parsed = read_context_models(&write_context_models(&models)).unwrap();
        assert_eq!(parsed, models);
        // The same codes under one geometric law per plane.
        let flat: Vec<(usize, usize)> = runs
            .iter()
            .map(|&(p, w, h)| (p, (w * h) as usize))
            .collect();
        let mut per_plane = vec![Vec::new(); 3];
        let mut at = 0;
        for &(p, n) in &flat {
            per_plane[p].extend_from_slice(&codes[at..at + n]);
            at += n;
        }
        let factorised: Vec<LevelModel> = per_plane.iter().map(|c| LevelModel::fit(c)).collect();
        let plain = crate::format::entropy::encode(&factorised, &flat, &codes).unwrap();
        assert!(
            bytes.len() * 10 < plain.len() * 8,
            "context {} bytes, factorised {}",
            bytes.len(),
            plain.len()
        );
        // The weights found the structure: a weighted mean of the neighbours.
        let sum: f32 = models[0].weights.iter().sum();
        assert!((sum - 1.0).abs() < 0.2, "{:?}", models[0].weights);
    }

    #[test]
    fn hostile_streams_and_models_are_rejected_without_panic() {
        for prediction in BOTH {
            let (mut rng, runs, codes, models, bytes) = coded(8, prediction);
            for cut in [0, 4, bytes.len() - 4] {
                assert!(decode(&models, &runs, &bytes[..cut], prediction).is_err());
            }
            let mut longer = bytes.clone();
            longer.extend_from_slice(&[0, 0, 0, 0]);
            assert!(decode(&models, &runs, &longer, prediction).is_err());
            for _ in 0..200 {
                let mut bad = bytes.clone();
                let i = rng.gen_range(0..bad.len());
                bad[i] ^= 1 << rng.gen_range(0..8);
                // Either rejected or decoded to codes of the same count within the code range.
                if let Ok(c) = decode(&models, &runs, &bad, prediction) {
                    assert_eq!(c.len(), codes.len());
                }
            }
        }
        let (_, runs, _, models, bytes) = coded(8, Prediction::Rounded);
        let mut raw = write_context_models(&models);
        raw[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
        let err = read_context_models(&raw).unwrap_err().to_string();
        assert!(
            err.contains("context model of plane 0: weight NaN"),
            "{err}"
        );
        raw[0..4].copy_from_slice(&2.5f32.to_le_bytes());
        assert!(read_context_models(&raw).is_err());
        assert!(decode(&models[..2], &runs, &bytes, Prediction::Rounded)
            .unwrap_err()
            .to_string()
            .contains("plane 2 has no model"));
    }

    #[test]
    fn prediction_is_the_binary32_expression_and_buckets_follow_activity() {
        let m = ContextModel {
            weights: [0.5, 0.5, -0.25, 0.125],
            buckets: std::array::from_fn(|i| LevelModel {
                ratio: 0.5,
                max_code: i as u16,
            }),
        };
        // 3 x 2 grid: row 0 = 4, -2, 7; row 1 = 1, (at 4)
        let run = [4i16, -2, 7, 1];
        // at 4 (x 1, y 1): left 1, up -2, up-left 4, up-right 7
        let (mean, law) = m.predict(&run, 3, 4);
        // 0.5 - 1 - 1 + 0.875 = -0.625 -> -1; activity 2 + 4 + 4 + 7 = 17 -> bit length 5
        assert_eq!((mean, law.max_code), (-1, 5));
        // Top-left corner: no neighbours, bucket 0.
        assert_eq!(m.predict(&run, 3, 0), (0, m.buckets[0]));
        // Half away from zero: 0.5 * 1 = 0.5 -> 1.
        assert_eq!(m.predict(&[1, 0], 2, 1).0, 1);
    }

    #[test]
    fn phases_are_eighths_of_the_binary32_difference_and_negative_ones_mirror() {
        let m = ContextModel {
            weights: [0.5, 0.5, -0.25, 0.125],
            buckets: std::array::from_fn(|i| LevelModel {
                ratio: 0.5,
                max_code: 3 + i as u16,
            }),
        };
        // Σ w n = -0.625 (the test above): μ = -1, fraction 0.375 = 3 eighths.
        assert_eq!(m.centre(&[1, -2, 4, 7]), (-1, 3));
        // 0.375: μ = 0, 3 eighths; 0.75: μ = 1, -2; 0.5 rounds away from zero: μ = 1, -4.
        assert_eq!(m.centre(&[0, 0, 0, 3]), (0, 3));
        assert_eq!(m.centre(&[1, 0, -1, 0]), (1, -2));
        assert_eq!(m.centre(&[1, 0, 0, 0]), (1, -4));
        // Beyond the code range the prediction clamps and the phase saturates.
        let far = ContextModel {
            weights: [2.0, 2.0, 0.0, 0.0],
            ..m
        };
        assert_eq!(far.centre(&[4095, 4095, 0, 0]), (4095, 4));
        // The example stream of format-spec §12.8: a 3 x 2 grid and a 1 x 1 one.
        let runs: Vec<GridRun> = vec![(0, 3, 2), (0, 1, 1)];
        let codes = [2i16, 1, -1, 0, 1, 3, -2];
        let bytes = encode(&[m], &runs, &codes, Prediction::Phased).unwrap();
        assert_eq!(bytes, [0xdb, 0xc6, 0x43, 0xe9]);
        assert_eq!(
            decode(&[m], &runs, &bytes, Prediction::Phased).unwrap(),
            codes
        );
    }

    #[test]
    fn a_residual_beyond_the_bucket_law_is_a_usage_error() {
        let runs: Vec<GridRun> = vec![(0, 2, 1)];
        let codes = [4095i16, -4095];
        let mut models = fit_context_models(1, &runs, &codes, Prediction::Rounded);
        let bytes = encode(&models, &runs, &codes, Prediction::Rounded).unwrap();
        assert_eq!(
            decode(&models, &runs, &bytes, Prediction::Rounded).unwrap(),
            codes
        );
        // Predicting +4095 from the left makes the second residual -8190.
        models[0].weights = [1.0, 0.0, 0.0, 0.0];
        let err = encode(&models, &runs, &codes, Prediction::Phased).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        assert!(
            err.to_string().contains("residual -8190 of plane 0"),
            "{err}"
        );
    }
    #[test]
    fn reweighted_weights_code_sparse_grids_shorter_than_least_squares() {
        // Sparse codes (the fixture's grids with small values zeroed, as a rate-constrained
        // plane looks): least squares spreads its prediction over the zeros, the reweighted
        // fit codes them shorter, and never longer on the dense fixture.
        let (_, runs, dense, _, _) = coded(11, Prediction::Rounded);
        let sparse: Vec<i16> = dense
            .iter()
            .map(|&k| if k.abs() < 30 { 0 } else { k / 8 })
            .collect();
        for (codes, strict) in [(&dense, false), (&sparse, true)] {
            let grids = split(&runs, codes);
            let plane = || grids.iter().filter(|g| g.0 == 0).map(|&(_, r, w)| (r, w));
            let least_squares = solve_weighted(plane(), |_, _| 1.0);
            let (_, ls_bits) = ContextModel::with_weights(plane(), least_squares);
            let fitted = ContextModel::fit(plane());
            let (_, bits) = ContextModel::with_weights(plane(), fitted.weights);
            eprintln!("least squares {ls_bits:.0} bits, fitted {bits:.0}");
            assert!(bits <= ls_bits, "{bits} > {ls_bits}");
            if strict {
                assert!(bits < 0.99 * ls_bits, "{bits} vs {ls_bits}");
            }
        }
    }
}
