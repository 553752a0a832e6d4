//! Entropy coding of integer latent codes (format-spec, "Entropy-coded latents"): each level's
//! codes follow a two-sided geometric law `P(k) ∝ ratio^|k|` on `[-max_code, max_code]`,
//! quantised to an integer table that sums to `2^ENTROPY_PRECISION`, and are range-coded with
//! `constriction`'s default range coder (32-bit words, 64-bit state).
//!
//! The table is built with IEEE 754 binary64 additions, multiplications and one division only,
//! so it is the same bit for bit on every platform; [`decode`] accepts exactly the bytes that
//! [`encode`] writes (it re-encodes what it decodes and compares word by word).
use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::rc::Rc;

use constriction::backends::{ReadWords, WriteWords};
use constriction::stream::model::ContiguousCategoricalEntropyModel;
use constriction::stream::queue::{RangeDecoder, RangeEncoder};
use constriction::stream::{Decode, Encode};
use constriction::{CoderError, Queue};

use crate::consts::{
    ENTROPY_PRECISION, LEVEL_MODEL_LEN, MAX_GRID_CODE, MAX_RATIO, MIN_RATIO, PREDICTION_PHASES,
};
use crate::error::{Error, Result};

/// The probability model of one latent level: P(k) ∝ ratio^|k| for integer k in
/// [-max_code, max_code].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelModel {
    /// `P(k + 1) / P(k)` for `k >= 0`, in `[MIN_RATIO, MAX_RATIO]`.
    pub ratio: f32,
    /// Largest `|k|` of the level, at most [`MAX_GRID_CODE`]; 0 means every code is 0 and
    /// costs nothing.
    pub max_code: u16,
}

impl LevelModel {
    /// Checks ratio is finite and in [MIN_RATIO, MAX_RATIO] and max_code <= MAX_GRID_CODE;
    /// [`Error::Format`] otherwise (the message names `level`).
    pub fn validate(&self, level: usize) -> Result<()> {
        if !(self.ratio.is_finite() && (MIN_RATIO..=MAX_RATIO).contains(&self.ratio)) {
            return Err(Error::Format(format!(
                "entropy model of level {level}: ratio {} is not in [{MIN_RATIO}, {MAX_RATIO}]",
                self.ratio
            )));
        }
        if self.max_code > MAX_GRID_CODE {
            return Err(Error::Format(format!(
                "entropy model of level {level}: largest code {} exceeds {MAX_GRID_CODE}",
                self.max_code
            )));
        }
        Ok(())
    }

    /// The model's `LEVEL_MODEL_LEN` bytes in a `QUAN` section: ratio (f32), then largest code
    /// (u16), little-endian.
    pub fn to_le_bytes(&self) -> [u8; LEVEL_MODEL_LEN] {
        let mut b = [0u8; LEVEL_MODEL_LEN];
        b[..4].copy_from_slice(&self.ratio.to_le_bytes());
        b[4..].copy_from_slice(&self.max_code.to_le_bytes());
        b
    }

    /// The model stored in the first `LEVEL_MODEL_LEN` bytes of `b` (not validated).
    pub fn from_le_bytes(b: &[u8]) -> LevelModel {
        LevelModel {
            ratio: f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            max_code: u16::from_le_bytes([b[4], b[5]]),
        }
    }

    /// Ideal code length in bits of code `k` under the quantised integer table the coder uses
    /// (so sums match written sizes up to the coder's few words of overhead): 0 when
    /// `max_code` is 0, infinite when `|k| > max_code`, NaN for a model that fails
    /// [`Self::validate`].
    pub fn bits(&self, k: i32) -> f64 {
        if self.validate(0).is_err() {
            return f64::NAN;
        }
        let j = k.unsigned_abs() as usize;
        if j > usize::from(self.max_code) {
            return f64::INFINITY;
        }
        if self.max_code == 0 {
            return 0.0;
        }
        let half = cached_half_table(*self);
        let weight = half[j] << u32::from(j == 0);
        ENTROPY_PRECISION as f64 - f64::from(weight).log2()
    }

    /// Mean `|k|` of the law on all integers, `2r / (1 - r²)` (what [`Self::fit`] inverts).
    pub fn mean_magnitude(&self) -> f64 {
        let r = f64::from(self.ratio);
        2.0 * r / (1.0 - r * r)
    }

    /// Ideal code length in bits of `codes` ([`Self::bits`] summed).
    pub fn ideal_bits(&self, codes: &[i16]) -> f64 {
        codes.iter().map(|&k| self.bits(i32::from(k))).sum()
    }

    /// The model that fits `codes` (all codes of one level): `max_code` is the largest `|k|`
    /// (not clamped: [`Self::validate`] rejects one over [`MAX_GRID_CODE`]) and `ratio` the
    /// maximum-likelihood ratio of a two-sided geometric law on all integers, clamped into
    /// `[MIN_RATIO, MAX_RATIO]`. No codes give `max_code` 0.
    pub fn fit(codes: &[i16]) -> LevelModel {
        let max_code = codes.iter().map(|k| k.unsigned_abs()).max().unwrap_or(0);
        let sum: u64 = codes.iter().map(|k| u64::from(k.unsigned_abs())).sum();
        // With P(k) = (1 - r) / (1 + r) r^|k| and m = mean |k|, the log-likelihood per code is
        // ln(1 - r) - ln(1 + r) + m ln r; its derivative -2 / (1 - r^2) + m / r vanishes where
        // m r^2 + 2 r - m = 0, whose root in [0, 1) is r = m / (1 + sqrt(1 + m^2)).
        let m = if codes.is_empty() {
            0.0
        } else {
            sum as f64 / codes.len() as f64
        };
        let r = m / (1.0 + (1.0 + m * m).sqrt());
        LevelModel {
            ratio: (r as f32).clamp(MIN_RATIO, MAX_RATIO),
            max_code,
        }
    }
}

/// How a coded value's table is shaped (format-spec §12.2 and §12.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// The two-sided geometric law `P(k) ∝ ratio^|k|`.
    Geometric,
    /// A Laplace of ratio `ratio` per unit centred `phase / PREDICTION_PHASES` to the right of
    /// 0 (`phase` in `0 ..= PREDICTION_PHASES / 2`), integrated over each value's unit bin.
    Binned(u8),
}

/// The law a value is coded under: a level model and the shape of its table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Law {
    /// Ratio and alphabet `[-max_code, max_code]`.
    pub(crate) model: LevelModel,
    /// The table's shape.
    pub(crate) shape: Shape,
}

impl Law {
    /// The level's two-sided geometric law.
    pub(crate) fn geometric(model: LevelModel) -> Law {
        Law {
            model,
            shape: Shape::Geometric,
        }
    }
}

/// The binned Laplace of [`Shape::Binned`]: with `t+ = r^(1/2 - δ)` and `t- = r^(1/2 + δ)`
/// (`δ` the centre), value `v >= 1` has mass `(1 - r) t+ r^(v - 1)`, `v <= -1`
/// `(1 - r) t- r^(|v| - 1)` and 0 `2 - t+ - t-` (twice the Laplace's probabilities: they sum
/// to 2 over all integers). Fractional powers are square roots and products in a fixed order,
/// so the masses are the same bit for bit on every platform.
pub(crate) struct Binned {
    r: f64,
    plus: f64,
    minus: f64,
    zero: f64,
}

impl Binned {
    /// The law of ratio `ratio` centred `phase / PREDICTION_PHASES` right of 0.
    pub(crate) fn new(ratio: f32, phase: u8) -> Binned {
        let r = f64::from(ratio);
        let r2 = r.sqrt();
        let r4 = r2.sqrt();
        let r8 = r4.sqrt();
        // r^(k/8) for k = 0 ..= 8, one factor per bit of k, largest first.
        let power = |k: i32| {
            let mut p = 1.0f64;
            for (bit, f) in [(8, r), (4, r2), (2, r4), (1, r8)] {
                if k & bit != 0 {
                    p *= f;
                }
            }
            p
        };
        let half = PREDICTION_PHASES / 2;
        let (t_plus, t_minus) = (
            power(half - i32::from(phase)),
            power(half + i32::from(phase)),
        );
        let a = 1.0 - r;
        Binned {
            r,
            plus: a * t_plus,
            minus: a * t_minus,
            zero: (2.0 - t_plus) - t_minus,
        }
    }

    /// Masses of `v = -m ..= m` in order; `r^(j - 1)` by repeated multiplication.
    pub(crate) fn masses(&self, m: usize) -> Vec<f64> {
        let mut g = Vec::with_capacity(m);
        let mut p = 1.0f64;
        for j in 1..=m {
            if j > 1 {
                p *= self.r;
            }
            g.push(p);
        }
        let mut out = Vec::with_capacity(2 * m + 1);
        out.extend(g.iter().rev().map(|&x| x * self.minus));
        out.push(self.zero);
        out.extend(g.iter().map(|&x| x * self.plus));
        out
    }
}

/// Range-codes `codes`; `runs` lists (level, count) in order: the first `count` codes use
/// `models[level]`, and so on. Returns the compressed bytes (u32 words little-endian).
/// [`Error::Usage`] if a model is invalid, a level has no model, a code lies outside its
/// level's `[-max_code, max_code]` or the runs do not cover `codes` exactly.
pub fn encode(models: &[LevelModel], runs: &[(usize, usize)], codes: &[i16]) -> Result<Vec<u8>> {
    let usage = |e: Error| match e {
        Error::Format(m) => Error::Usage(m),
        e => e,
    };
    let total = check_runs(models, runs).map_err(usage)?;
    if total != codes.len() {
        return Err(Error::Usage(format!(
            "entropy coding: the runs cover {total} codes, not {}",
            codes.len()
        )));
    }
    let levels = runs
        .iter()
        .flat_map(|&(level, count)| std::iter::repeat_n(level, count));
    encode_symbols(codes.iter().zip(levels).map(|(&k, level)| {
        let model = models[level];
        let m = i32::from(model.max_code);
        if i32::from(k).abs() > m {
            return Err(Error::Usage(format!(
                "entropy coding: code {k} of level {level} is outside [-{m}, {m}]"
            )));
        }
        Ok((i32::from(k), Law::geometric(model)))
    }))
}

/// Inverse of [`encode`]. Untrusted input: never panics and allocates the total run count of
/// `i16` values (which the caller bounds) plus one table of `2 max_code + 1` words per distinct
/// law in use (at most `2^20` words at a time). [`Error::Format`] for an invalid model, a level
/// without one, a byte length that is not a multiple of 4, data the decoder rejects, data
/// that ends early or has bytes left over, or any other bytes [`encode`] would not write.
pub fn decode(models: &[LevelModel], runs: &[(usize, usize)], data: &[u8]) -> Result<Vec<i16>> {
    let total = check_runs(models, runs)?;
    let mut levels = runs
        .iter()
        .flat_map(|&(level, count)| std::iter::repeat_n(level, count));
    decode_symbols(data, total, |_| {
        let level = levels.next().expect("one level per counted code");
        Ok((Law::geometric(models[level]), 0, false))
    })
}

/// Range-codes a sequence of values, each `(v, law)` with `|v| <= law.model.max_code` (checked
/// by the caller); values of a law with `max_code` 0 take no bits.
pub(crate) fn encode_symbols(values: impl Iterator<Item = Result<(i32, Law)>>) -> Result<Vec<u8>> {
    let mut coder = RangeEncoder::<u32, u64, _>::with_write_backend(LeBytes(Vec::new()));
    let mut tables = Tables::default();
    for value in values {
        let (v, law) = value?;
        let m = i32::from(law.model.max_code);
        if m == 0 {
            continue;
        }
        let table = tables.get(law)?;
        coder
            .encode_symbol((v + m) as usize, table.as_view())
            .map_err(|e| Error::Usage(format!("entropy coding of {v} under {law:?}: {e:?}")))?;
    }
    match coder.into_compressed() {
        Ok(LeBytes(bytes)) => Ok(bytes),
        Err(never) => match never {},
    }
}

/// Inverse of [`encode_symbols`] for `total` codes: `next(decoded so far)` gives the law of
/// the next value, the offset added to it and whether it is negated first (the code is
/// `offset ± value`, which must lie in `[-MAX_GRID_CODE, MAX_GRID_CODE]`). Errors as
/// [`decode`].
pub(crate) fn decode_symbols(
    data: &[u8],
    total: usize,
    mut next: impl FnMut(&[i16]) -> Result<(Law, i32, bool)>,
) -> Result<Vec<i16>> {
    if !data.len().is_multiple_of(4) {
        return Err(Error::Format(format!(
            "entropy-coded latents: {} bytes is not a whole number of 4-byte words",
            data.len()
        )));
    }
    let corrupt = |what: &str| Error::Format(format!("entropy-coded latents: {what}"));
    let mut decoder = match RangeDecoder::<u32, u64, _>::with_backend(LeWords { data, at: 0 }) {
        Ok(decoder) => decoder,
        Err(never) => match never {},
    };
    // Re-encoding each decoded code and comparing the words with `data` as they come rejects
    // every stream that `encode` would not have written: truncated, extended or altered.
    let mut check = RangeEncoder::<u32, u64, _>::with_write_backend(Compare { data, at: 0 });
    let mismatch = |e: Mismatch| match e {
        Mismatch::Differs => corrupt("the data is corrupt (not what the encoder writes)"),
        Mismatch::PastEnd => corrupt("the data ends early"),
    };
    let mut out = Vec::with_capacity(total);
    let mut tables = Tables::default();
    for _ in 0..total {
        let (law, offset, negate) = next(&out)?;
        let m = i32::from(law.model.max_code);
        let value = if m == 0 {
            0
        } else {
            let table = tables.get(law)?;
            let symbol = match decoder.decode_symbol(table.as_view()) {
                Ok(symbol) => symbol,
                Err(CoderError::Frontend(_)) => {
                    return Err(corrupt("the range decoder rejects the data"))
                }
                Err(CoderError::Backend(never)) => match never {},
            };
            check
                .encode_symbol(symbol, table.as_view())
                .map_err(|e| match e {
                    CoderError::Backend(e) => mismatch(e),
                    CoderError::Frontend(_) => corrupt("a decoded code has no probability"),
                })?;
            symbol as i32 - m
        };
        let code = if negate {
            offset - value
        } else {
            offset + value
        };
        if code.unsigned_abs() > u32::from(MAX_GRID_CODE) {
            return Err(corrupt(&format!(
                "code {code} is outside [-{MAX_GRID_CODE}, {MAX_GRID_CODE}]"
            )));
        }
        out.push(code as i16);
    }
    let compared = check.into_compressed().map_err(mismatch)?;
    if compared.at != data.len() {
        return Err(corrupt(&format!(
            "{} bytes are left over after the codes",
            data.len() - compared.at
        )));
    }
    Ok(out)
}

/// Most symbols the integer tables one [`encode`] or [`decode`] call keeps hold together (one
/// table per distinct [`Law`], `2 max_code + 1` symbols each; 4 MiB of weights); past it, the
/// cache starts afresh.
const TABLE_CACHE_SYMBOLS: usize = 1 << 20;

/// The runs' total count, after checking every model and every run's level (Format errors).
fn check_runs(models: &[LevelModel], runs: &[(usize, usize)]) -> Result<usize> {
    for (level, model) in models.iter().enumerate() {
        model.validate(level)?;
    }
    let mut total = 0usize;
    for &(level, count) in runs {
        if level >= models.len() {
            return Err(Error::Format(format!(
                "entropy coding: level {level} has no model ({} given)",
                models.len()
            )));
        }
        total = total
            .checked_add(count)
            .ok_or_else(|| Error::Format("entropy coding: the run counts overflow".into()))?;
    }
    Ok(total)
}

/// The range coder's view of one level: symbol `k + max_code` is code `k`.
type Categorical = ContiguousCategoricalEntropyModel<u32, Vec<u32>, ENTROPY_PRECISION>;

/// Integer weights of `|k| = 0..=max_code` for a valid model with `max_code >= 1`; code `k != 0`
/// has weight `half[|k|]` and code 0 weight `2 * half[0]`, so the whole table sums to
/// `2^ENTROPY_PRECISION` (format-spec, "Entropy-coded latents"). Only IEEE binary64 `+ * /` and a
/// truncating conversion of a value in `[0, 2^23]`, so every platform gets the same table.
fn half_table(model: LevelModel) -> Vec<u32> {
    let r = f64::from(model.ratio);
    // Masses h_0 = 1/2 (the other half of code 0 lies on the negative side), h_j = r^j.
    let mut masses = vec![0.5f64];
    let mut power = 1.0f64;
    for _ in 0..model.max_code {
        power *= r;
        masses.push(power);
    }
    quantised(&masses, 1 << (ENTROPY_PRECISION - 1))
}

/// Integer weights, each at least 1 and together `total`, in proportion to `masses` (format-spec
/// §12.2 steps 2 and 4 to 8): the masses' left-to-right sums scaled to what is left after
/// the ones, truncated.
fn quantised(masses: &[f64], total: u32) -> Vec<u32> {
    let n = masses.len();
    let free = total - n as u32;
    let norm = masses.iter().fold(0.0f64, |s, &m| s + m);
    let scale = f64::from(free) / norm;
    let mut weights = Vec::with_capacity(n);
    let (mut cumulative, mut left) = (0.0f64, 0u32);
    for (j, &m) in masses.iter().enumerate() {
        cumulative += m;
        let right = if j + 1 == n {
            total
        } else {
            ((cumulative * scale) as u32).min(free) + (j as u32 + 1)
        };
        weights.push(right - left);
        left = right;
    }
    weights
}

/// The full table of `law` (symbols `v + max_code`, `v = -max_code ..= max_code`), summing to
/// `2^ENTROPY_PRECISION`; `max_code` at least 1.
fn table(law: Law) -> Vec<u32> {
    match law.shape {
        Shape::Geometric => {
            let half = half_table(law.model);
            let m = half.len() - 1;
            (0..=2 * m)
                .map(|i| half[i.abs_diff(m)] << u32::from(i == m))
                .collect()
        }
        Shape::Binned(phase) => quantised(
            &Binned::new(law.model.ratio, phase).masses(usize::from(law.model.max_code)),
            1 << ENTROPY_PRECISION,
        ),
    }
}

/// Most half tables the per-thread cache of [`cached_half_table`] keeps.
const HALF_TABLE_CACHE: usize = 32;

/// [`half_table`] through a small per-thread cache (for [`LevelModel::bits`]).
fn cached_half_table(model: LevelModel) -> Rc<[u32]> {
    thread_local! {
        static CACHE: RefCell<Vec<(LevelModel, Rc<[u32]>)>> = const { RefCell::new(Vec::new()) };
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, table)) = cache.iter().find(|(m, _)| m == &model) {
            return Rc::clone(table);
        }
        let table: Rc<[u32]> = half_table(model).into();
        if cache.len() == HALF_TABLE_CACHE {
            cache.remove(0);
        }
        cache.push((model, Rc::clone(&table)));
        table
    })
}

/// The coder's tables of one call, one per distinct law (keyed by its ratio's bits), and the
/// symbols they hold.
#[derive(Default)]
struct Tables {
    built: HashMap<(u32, u16, Shape), Rc<Categorical>>,
    symbols: usize,
}

impl Tables {
    fn get(&mut self, law: Law) -> Result<Rc<Categorical>> {
        let key = (law.model.ratio.to_bits(), law.model.max_code, law.shape);
        if let Some(table) = self.built.get(&key) {
            return Ok(Rc::clone(table));
        }
        let table = Categorical::from_nonzero_fixed_point_probabilities(table(law), false)
            .map(Rc::new)
            .map_err(|()| Error::Format(format!("entropy coding: no valid table for {law:?}")))?;
        let symbols = 2 * usize::from(law.model.max_code) + 1;
        if self.symbols + symbols > TABLE_CACHE_SYMBOLS {
            self.built.clear();
            self.symbols = 0;
        }
        self.symbols += symbols;
        self.built.insert(key, Rc::clone(&table));
        Ok(table)
    }
}

/// Encoder output: each word as 4 little-endian bytes.
struct LeBytes(Vec<u8>);

impl WriteWords<u32> for LeBytes {
    type WriteError = Infallible;

    fn write(&mut self, word: u32) -> Result<(), Infallible> {
        self.0.extend_from_slice(&word.to_le_bytes());
        Ok(())
    }
}

/// Decoder input: little-endian words of `data` (a whole number of them); past its end, none.
struct LeWords<'a> {
    data: &'a [u8],
    at: usize,
}

impl ReadWords<u32, Queue> for LeWords<'_> {
    type ReadError = Infallible;

    fn read(&mut self) -> Result<Option<u32>, Infallible> {
        let word = self.data.get(self.at..self.at + 4).map(|b| {
            self.at += 4;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        });
        Ok(word)
    }
}

/// Why re-encoded words disagree with the data.
#[derive(Debug)]
enum Mismatch {
    Differs,
    PastEnd,
}

/// An encoder backend that checks each word against the next word of `data`.
struct Compare<'a> {
    data: &'a [u8],
    at: usize,
}

impl WriteWords<u32> for Compare<'_> {
    type WriteError = Mismatch;

    fn write(&mut self, word: u32) -> Result<(), Mismatch> {
        let bytes = self
            .data
            .get(self.at..self.at + 4)
            .ok_or(Mismatch::PastEnd)?;
        if bytes != word.to_le_bytes() {
            return Err(Mismatch::Differs);
        }
        self.at += 4;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `n` i.i.d. codes of `model`'s law, drawn with its own (floating-point) probabilities.
    fn sample(model: LevelModel, n: usize, rng: &mut ChaCha8Rng) -> Vec<i16> {
        let r = f64::from(model.ratio);
        let m = i32::from(model.max_code);
        let weights: Vec<f64> = (-m..=m).map(|k| r.powi(k.abs())).collect();
        let total: f64 = weights.iter().sum();
        (0..n)
            .map(|_| {
                let mut u = rng.gen::<f64>() * total;
                for (i, w) in weights.iter().enumerate() {
                    if u < *w {
                        return (i as i32 - m) as i16;
                    }
                    u -= w;
                }
                m as i16
            })
            .collect()
    }

    fn full_table(model: LevelModel) -> Vec<u32> {
        table(Law::geometric(model))
    }

    fn lm(ratio: f32, max_code: u16) -> LevelModel {
        LevelModel { ratio, max_code }
    }

    /// Several levels (ratios and ranges), interleaved runs; returns models, runs, codes.
    fn mixed(rng: &mut ChaCha8Rng, n: usize) -> (Vec<LevelModel>, Vec<(usize, usize)>, Vec<i16>) {
        let models = vec![
            lm(0.5, 7),
            lm(MIN_RATIO, 3),
            lm(0.97, 300),
            lm(MAX_RATIO, MAX_GRID_CODE),
            lm(0.2, 0),
            lm(0.05, 1),
        ];
        let (mut runs, mut codes) = (Vec::new(), Vec::new());
        while codes.len() < n {
            let level = rng.gen_range(0..models.len());
            let count = rng.gen_range(0..200).min(n - codes.len());
            runs.push((level, count));
            codes.extend(sample(models[level], count, rng));
        }
        (models, runs, codes)
    }

    #[test]
    fn round_trip_several_levels() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for n in [1, 5, 150, 1000, 20_000] {
            let (models, runs, codes) = mixed(&mut rng, n);
            let bytes = encode(&models, &runs, &codes).unwrap();
            assert!(bytes.len().is_multiple_of(4));
            assert_eq!(decode(&models, &runs, &bytes).unwrap(), codes, "n = {n}");
        }
        // The extreme codes of the largest alphabet.
        let model = [lm(0.3, MAX_GRID_CODE)];
        let codes = [4095, -4095, 0, 1, -1, 4094, -4094, 0];
        let runs = [(0, codes.len())];
        let bytes = encode(&model, &runs, &codes).unwrap();
        assert_eq!(decode(&model, &runs, &bytes).unwrap(), codes);
    }

    #[test]
    fn empty_and_free_inputs() {
        let models = [lm(0.5, 5), lm(0.5, 0)];
        assert!(encode(&models, &[], &[]).unwrap().is_empty());
        assert!(encode(&models, &[(0, 0), (1, 0)], &[]).unwrap().is_empty());
        assert_eq!(decode(&models, &[], &[]).unwrap(), Vec::<i16>::new());
        // A level with max_code 0 costs nothing.
        let bytes = encode(&models, &[(1, 3)], &[0, 0, 0]).unwrap();
        assert!(bytes.is_empty());
        assert_eq!(decode(&models, &[(1, 3)], &bytes).unwrap(), vec![0; 3]);
        assert!(matches!(
            decode(&models, &[(1, 3)], &[0; 4]),
            Err(Error::Format(_))
        ));
        assert_eq!(LevelModel::fit(&[]), lm(MIN_RATIO, 0));
        assert_eq!(LevelModel::fit(&[0; 9]), lm(MIN_RATIO, 0));
    }

    #[test]
    fn usage_errors() {
        let models = [lm(0.5, 5)];
        let usage = |r: Result<Vec<u8>>| matches!(r, Err(Error::Usage(_)));
        assert!(usage(encode(&models, &[(0, 3)], &[1, 6, 0])));
        assert!(usage(encode(&models, &[(0, 3)], &[1, -6, 0])));
        assert!(usage(encode(&models, &[(0, 2)], &[1, 2, 0])));
        assert!(usage(encode(&models, &[(0, 4)], &[1, 2, 0])));
        assert!(usage(encode(&models, &[(1, 3)], &[1, 2, 0])));
        assert!(usage(encode(&[lm(1.5, 5)], &[(0, 1)], &[1])));
        assert!(usage(encode(&[lm(0.5, 4096)], &[(0, 1)], &[1])));
        assert!(usage(encode(&models, &[(0, usize::MAX), (0, 2)], &[1])));
    }

    #[test]
    fn validate_names_the_level() {
        for bad in [
            lm(f32::NAN, 3),
            lm(f32::INFINITY, 3),
            lm(0.0, 3),
            lm(MIN_RATIO / 2.0, 3),
            lm(1.0, 3),
            lm(0.5, MAX_GRID_CODE + 1),
        ] {
            match bad.validate(7) {
                Err(Error::Format(m)) => assert!(m.contains("level 7"), "{m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
            assert!(bad.bits(0).is_nan());
        }
        assert!(lm(MIN_RATIO, MAX_GRID_CODE).validate(0).is_ok());
        assert!(lm(MAX_RATIO, 0).validate(0).is_ok());
    }

    #[test]
    fn hostile_data_is_rejected_without_panic() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (models, runs, codes) = mixed(&mut rng, 3000);
        let bytes = encode(&models, &runs, &codes).unwrap();
        assert!(bytes.len() > 64);
        let format = |r: Result<Vec<i16>>| matches!(r, Err(Error::Format(_)));
        // Not whole words; every shorter whole-word prefix; extra words.
        for cut in [1, 2, 3] {
            assert!(format(decode(&models, &runs, &bytes[..bytes.len() - cut])));
        }
        for words in 0..bytes.len() / 4 {
            assert!(
                format(decode(&models, &runs, &bytes[..4 * words])),
                "{words}"
            );
        }
        for tail in [[0u8; 4], [0xff; 4], [1, 2, 3, 4]] {
            let mut longer = bytes.clone();
            longer.extend_from_slice(&tail);
            assert!(format(decode(&models, &runs, &longer)));
        }
        // Random corruptions: one byte, one bit, a burst, a swapped word pair. A range-coded
        // stream has no redundancy but its last words and its length, so a change in the
        // middle can turn it into the valid stream of other codes (the section CRC is what
        // catches that); decode must never panic, and must reject nearly all of them.
        let mut accepted = 0;
        for trial in 0..2000 {
            let mut bad = bytes.clone();
            let at = rng.gen_range(0..bad.len());
            match trial % 4 {
                0 => bad[at] = bad[at].wrapping_add(rng.gen_range(1..=255)),
                1 => bad[at] ^= 1 << rng.gen_range(0..8),
                2 => {
                    let end = (at + rng.gen_range(1..40)).min(bad.len());
                    rng.fill(&mut bad[at..end]);
                }
                _ => {
                    let (i, j) = (at / 4, rng.gen_range(0..bad.len() / 4));
                    if bad[4 * i..4 * i + 4] == bad[4 * j..4 * j + 4] {
                        bad[4 * i] ^= 0x80;
                    }
                    for b in 0..4 {
                        bad.swap(4 * i + b, 4 * j + b);
                    }
                }
            }
            if bad == bytes {
                continue;
            }
            match decode(&models, &runs, &bad) {
                Err(Error::Format(_)) => {}
                Ok(other) => {
                    assert_eq!(other.len(), codes.len());
                    assert_ne!(other, codes);
                    accepted += 1;
                }
                Err(e) => panic!("trial {trial}: {e}"),
            }
        }
        assert!(accepted < 60, "{accepted} of 2000 corruptions decode");
        // Pure noise, for several lengths, and all-ones words.
        for len in [4, 8, 12, 64, 400, bytes.len()] {
            let mut noise = vec![0u8; len];
            rng.fill(&mut noise[..]);
            assert!(format(decode(&models, &runs, &noise)));
            assert!(format(decode(&models, &runs, &vec![0xff; len])));
        }
        // Runs and models from a hostile file.
        assert!(format(decode(&models, &[(models.len(), 1)], &bytes)));
        assert!(format(decode(&models, &[(0, usize::MAX), (0, 1)], &bytes)));
        assert!(format(decode(&[lm(-0.5, 3)], &[(0, 1)], &bytes)));
    }

    /// Sum of `bits` over the codes against the written size, in bits.
    fn estimate(model: LevelModel, codes: &[i16]) -> (f64, usize) {
        let ideal = model.ideal_bits(codes);
        let bytes = encode(&[model], &[(0, codes.len())], codes).unwrap();
        (ideal, 8 * bytes.len())
    }

    #[test]
    fn bits_match_written_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        for model in [lm(0.6, 40), lm(0.02, 5), lm(0.995, 2000)] {
            let codes = sample(model, 200_000, &mut rng);
            let (ideal, actual) = estimate(model, &codes);
            let overhead = actual as f64 / ideal - 1.0;
            assert!(
                (0.0..0.01).contains(&overhead),
                "{model:?}: {ideal} vs {actual}"
            );
        }
        let m = lm(0.5, 10);
        assert_eq!(m.bits(11), f64::INFINITY);
        assert_eq!(m.bits(3), m.bits(-3));
        assert_eq!(lm(0.5, 0).bits(0), 0.0);
        // The table's probabilities sum to one.
        let total: f64 = (-10..=10).map(|k| (-m.bits(k)).exp2()).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    /// Prints the overhead of the written size over the summed `bits` (`--nocapture`).
    #[test]
    fn overhead_report() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for model in [lm(0.6, 40), lm(0.05, 6), lm(0.98, 1000)] {
            for n in [150, 1000, 100_000] {
                let codes = sample(model, n, &mut rng);
                let (ideal, actual) = estimate(model, &codes);
                println!(
                    "r {} M {}: {n} codes: bits() {:.1} B, written {} B ({:+.1} B, {:+.3}%)",
                    model.ratio,
                    model.max_code,
                    ideal / 8.0,
                    actual / 8,
                    actual as f64 / 8.0 - ideal / 8.0,
                    100.0 * (actual as f64 / ideal - 1.0)
                );
            }
        }
    }

    #[test]
    fn fit_recovers_the_ratio() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for ratio in [0.05f32, 0.3, 0.7, 0.95] {
            let codes = sample(lm(ratio, MAX_GRID_CODE), 100_000, &mut rng);
            let fit = LevelModel::fit(&codes);
            assert!(
                (fit.ratio / ratio - 1.0).abs() < 0.03,
                "{ratio}: fitted {}",
                fit.ratio
            );
            let largest = codes.iter().map(|k| k.unsigned_abs()).max().unwrap();
            assert_eq!(fit.max_code, largest);
            fit.validate(0).unwrap();
        }
        assert_eq!(LevelModel::fit(&[i16::MIN]).max_code, 32768);
        assert_eq!(LevelModel::fit(&[30_000; 4]).ratio, MAX_RATIO);
    }

    #[test]
    fn table_shape() {
        for model in [
            lm(MIN_RATIO, 1),
            lm(MIN_RATIO, MAX_GRID_CODE),
            lm(0.5, 1),
            lm(0.5, 20),
            lm(0.9, 4000),
            lm(MAX_RATIO, MAX_GRID_CODE),
        ] {
            let table = full_table(model);
            let m = usize::from(model.max_code);
            assert_eq!(table.len(), 2 * m + 1);
            assert_eq!(
                table.iter().map(|&w| u64::from(w)).sum::<u64>(),
                1 << ENTROPY_PRECISION
            );
            assert!(table.iter().all(|&w| w >= 1));
            assert!((0..m).all(|i| table[i] == table[2 * m - i]));
        }
        // Close to the real law where the weights are large: P(0) = (1 - r) / (1 + r).
        let table = full_table(lm(0.5, 20));
        assert!(
            (f64::from(table[20]) / f64::from(1 << ENTROPY_PRECISION) - 1.0 / 3.0).abs() < 1e-5
        );
        assert!((f64::from(table[21]) / f64::from(table[20]) - 0.5).abs() < 1e-5);
        assert!((f64::from(table[22]) / f64::from(table[21]) - 0.5).abs() < 1e-5);
    }

    /// FNV-1a over the little-endian weights of several tables. The constant was computed
    /// once on x86_64 and reproduced by an independent Python implementation of the
    /// format-spec algorithm: the table is built from IEEE 754 binary64 `+ * /` and
    /// truncation only, so every platform must give the same tables, and a changed value
    /// means the coded format changed.
    #[test]
    fn table_is_deterministic() {
        // The format-spec example.
        assert_eq!(
            full_table(lm(0.5, 3)),
            [762602, 1525202, 3050402, 6100804, 3050402, 1525202, 762602]
        );
        let example = [lm(0.5, 3)];
        let coded = |codes: &[i16]| encode(&example, &[(0, codes.len())], codes).unwrap();
        assert_eq!(coded(&[0]), [0x00, 0x5e, 0x74, 0x51]);
        assert_eq!(coded(&[0, 1, -1, 3, 0]), [0x63, 0x35, 0x37, 0x96]);
        let laws = [
            lm(MIN_RATIO, MAX_GRID_CODE),
            lm(MAX_RATIO, MAX_GRID_CODE),
            lm(0.123_456_79, 1000),
            lm(0.5, 1),
            lm(0.9, 77),
            lm(0.999, 4000),
        ]
        .map(Law::geometric);
        assert_eq!(fnv_of_tables(&laws), 0x1082_0600_d68d_7929);
    }

    /// FNV-1a 64 over the little-endian weights of the tables of `laws` (format-spec §12.6).
    fn fnv_of_tables(laws: &[Law]) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for &law in laws {
            for w in table(law) {
                for b in w.to_le_bytes() {
                    hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
                }
            }
        }
        hash
    }

    #[test]
    fn binned_tables_and_streams_are_the_spec_examples() {
        let binned = |ratio, max_code, phase| Law {
            model: lm(ratio, max_code),
            shape: Shape::Binned(phase),
        };
        let tables: Vec<Vec<u32>> = (0..=4).map(|p| table(binned(0.5, 3, p))).collect();
        assert_eq!(
            tables,
            [
                [813346, 1626691, 3253381, 5390379, 3253381, 1626691, 813347],
                [746113, 1492226, 2984451, 5343447, 3549130, 1774565, 887284],
                [684939, 1369878, 2739756, 5202093, 3874599, 1937300, 968651],
                [629248, 1258496, 2516991, 4964630, 4233057, 2116529, 1058265],
                [578525, 1157050, 2314099, 4628196, 4628197, 2314099, 1157050],
            ]
        );
        let coded = |values: &[(i32, u8)]| {
            encode_symbols(values.iter().map(|&(v, p)| Ok((v, binned(0.5, 3, p))))).unwrap()
        };
        assert_eq!(coded(&[(0, 0)]), [0x00, 0xea, 0xdf, 0x56]);
        assert_eq!(
            coded(&[(0, 0), (1, 3), (-1, 4), (3, 1), (0, 2)]),
            [0xae, 0x95, 0xb5, 0x89]
        );
        let laws = [
            binned(MIN_RATIO, MAX_GRID_CODE, 0),
            binned(MIN_RATIO, MAX_GRID_CODE, 4),
            binned(MAX_RATIO, MAX_GRID_CODE, 0),
            binned(MAX_RATIO, MAX_GRID_CODE, 3),
            binned(0.123_456_79, 1000, 1),
            binned(0.5, 1, 4),
            binned(0.9, 77, 2),
            binned(0.999, 4000, 3),
        ];
        assert_eq!(fnv_of_tables(&laws), 0x1865_d0be_4d1d_271b);
    }
}
