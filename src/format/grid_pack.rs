//! A pack of latent grids (format versions 5 to 7) in memory, and its sections (format-spec §11).

use crate::consts::*;
use crate::error::{Error, Result};
use crate::format::context::{self, fit_context_models, write_context_models, GridRun, Prediction};
use crate::format::entropy::{self, LevelModel};
use crate::format::grid::{GridShape, GridWeights};
use crate::format::{assemble, index, write_weights, Header, ImageEntry, SizeBreakdown};

/// A whole grid pack in memory: decoder, entropy model, integer codes and index.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPack {
    /// Decoder weights (already rounded to the stored precision).
    pub decoder: GridWeights,
    /// The probability model of each level's codes.
    pub models: Vec<LevelModel>,
    /// Codes of every image in index order; within an image level after level, each
    /// row-major at its [`GridShape::plane_size`]. Code `q` of plane `l` stands for
    /// `q / gains[l]`.
    pub codes: Vec<i16>,
    /// One entry per image.
    pub index: Vec<ImageEntry>,
    /// [`WEIGHTS_F16`] or [`WEIGHTS_F32`].
    pub weight_format: u8,
    /// The rate weight λ the codes were encoded with (the ancillary [`TAG_RATE`] section),
    /// when known: what images encoded later against this decoder default to.
    pub lambda: Option<f64>,
}

/// `lambda` if it is a rate weight a pack may record (finite, at least 0; format-spec §3),
/// else the message saying why not.
pub fn check_rate_weight(lambda: f64) -> std::result::Result<f64, String> {
    if lambda.is_finite() && lambda >= 0.0 {
        Ok(lambda)
    } else {
        Err(format!("rate weight {lambda} (must be finite, at least 0)"))
    }
}

/// Where each image's codes start in [`GridPack::codes`], plus the total (`N + 1` values).
pub fn code_starts(shape: &GridShape, index: &[ImageEntry]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(index.len() + 1);
    let mut at = 0usize;
    starts.push(0);
    for e in index {
        at += shape.latents(e.width, e.height) as usize;
        starts.push(at);
    }
    starts
}

/// Each image's grids in pack order, `(plane, width, height)`.
pub fn grid_runs(shape: &GridShape, index: &[ImageEntry]) -> Vec<GridRun> {
    let shape = *shape;
    index
        .iter()
        .flat_map(move |e| {
            (0..shape.planes()).map(move |l| {
                let (w, h) = shape.plane_size(l, e.width, e.height);
                (l, w, h)
            })
        })
        .collect()
}

/// The entropy coder's runs for `index`: each image's levels in order, `(level, values)`.
pub fn runs(shape: &GridShape, index: &[ImageEntry]) -> Vec<(usize, usize)> {
    grid_runs(shape, index)
        .into_iter()
        .map(|(l, w, h)| (l, (w * h) as usize))
        .collect()
}

/// Each plane's model fitted to `codes` (all images' codes of `index`, in pack order):
/// [`LevelModel::fit`] of the plane's codes over every image.
pub fn fit_models(shape: &GridShape, index: &[ImageEntry], codes: &[i16]) -> Vec<LevelModel> {
    let mut planes: Vec<Vec<i16>> = vec![Vec::new(); shape.planes()];
    let mut at = 0;
    for e in index {
        for (p, plane) in planes.iter_mut().enumerate() {
            let (w, h) = shape.plane_size(p, e.width, e.height);
            let n = ((w * h) as usize).min(codes.len() - at);
            plane.extend_from_slice(&codes[at..at + n]);
            at += n;
        }
    }
    planes.iter().map(|p| LevelModel::fit(p)).collect()
}

/// The `QUAN` section of a grid pack: each level's [`LevelModel`].
pub fn write_models(models: &[LevelModel]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(models.len() * LEVEL_MODEL_LEN);
    for m in models {
        raw.extend_from_slice(&m.to_le_bytes());
    }
    raw
}

/// Parses and validates the `QUAN` section of a grid pack.
pub fn read_models(raw: &[u8]) -> Result<Vec<LevelModel>> {
    raw.chunks_exact(LEVEL_MODEL_LEN)
        .enumerate()
        .map(|(l, c)| {
            let m = LevelModel::from_le_bytes(c);
            m.validate(l).map(|_| m)
        })
        .collect()
}

impl GridPack {
    /// The decoder architecture.
    pub fn shape(&self) -> &GridShape {
        &self.decoder.shape
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the pack holds no image.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Pixels of all images at their stored sizes (the denominator of bits per pixel).
    pub fn pixels(&self) -> u64 {
        self.index
            .iter()
            .map(|e| u64::from(e.width) * u64::from(e.height))
            .sum()
    }

    /// Position of the image called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.index.iter().position(|e| e.name == name)
    }

    /// Adds the images of `new` (a pack with the same decoder): each replaces the image of the
    /// same name when `replace`, else such a name is a usage error. The entropy models are
    /// refitted to all codes; the rate weight is kept only when `new`'s is the same. Returns
    /// how many images were added and how many replaced.
    pub fn absorb(&mut self, new: GridPack, replace: bool) -> Result<(usize, usize)> {
        if new.decoder != self.decoder || new.weight_format != self.weight_format {
            return Err(Error::Usage(
                "the new images were encoded against another decoder".into(),
            ));
        }
        let shape = *self.shape();
        let new_starts = code_starts(&shape, &new.index);
        let (mut added, mut replaced) = (0, 0);
        for (k, e) in new.index.iter().enumerate() {
            let codes = &new.codes[new_starts[k]..new_starts[k + 1]];
            match self.find(&e.name) {
                Some(_) if !replace => {
                    return Err(Error::Usage(format!(
                        "{:?} is already in the pack (use --replace to overwrite it)",
                        e.name
                    )))
                }
                Some(i) => {
                    let starts = code_starts(&shape, &self.index);
                    self.codes
                        .splice(starts[i]..starts[i + 1], codes.iter().copied());
                    self.index[i] = e.clone();
                    replaced += 1;
                }
                None => {
                    self.codes.extend_from_slice(codes);
                    self.index.push(e.clone());
                    added += 1;
                }
            }
        }
        self.models = fit_models(&shape, &self.index, &self.codes);
        if new.lambda != self.lambda {
            // Codes of two operating points: the pack's is no longer one.
            self.lambda = None;
        }
        Ok((added, replaced))
    }

    /// The dequantised grids of image `i` (see [`Self::codes`]); `starts` is [`code_starts`].
    pub fn grids(&self, i: usize, starts: &[usize]) -> Vec<f32> {
        dequantise(
            &self.decoder,
            &self.index[i],
            &self.codes[starts[i]..starts[i + 1]],
        )
    }

    /// Serialises the pack with whichever latent coding stores it in fewer bytes (the first
    /// of [`LATENT_CODING_PLAIN`], [`LATENT_CODING_RANGE`], [`LATENT_CODING_CONTEXT`],
    /// [`LATENT_CODING_PHASED`] on a tie; the context codings only where their fitted models
    /// can code every residual); also returns its size breakdown.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, SizeBreakdown)> {
        let mut best = self.to_bytes_with(LATENT_CODING_PLAIN)?;
        for coding in [
            LATENT_CODING_RANGE,
            LATENT_CODING_CONTEXT,
            LATENT_CODING_PHASED,
        ] {
            match self.to_bytes_with(coding) {
                Ok(b) if b.0.len() < best.0.len() => best = b,
                Ok(_) => {}
                // The context models are fitted here and may not cover an outlying residual.
                Err(Error::Usage(_)) if Prediction::of_coding(coding).is_some() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(best)
    }

    /// Serialises the pack with latent coding `coding` ([`LATENT_CODING_PLAIN`],
    /// [`LATENT_CODING_RANGE`], [`LATENT_CODING_CONTEXT`] or [`LATENT_CODING_PHASED`]); also
    /// returns its size breakdown.
    pub fn to_bytes_with(&self, coding: u8) -> Result<(Vec<u8>, SizeBreakdown)> {
        let shape = *self.shape();
        let starts = code_starts(&shape, &self.index);
        let total = *starts.last().expect("N + 1 values");
        if self.codes.len() != total || self.models.len() != shape.planes() {
            return Err(Error::Usage(
                "grid codes or level models do not match the index".into(),
            ));
        }
        let too_many = |what: &str| Error::Usage(format!("more than 2^32 {what}"));
        if let Some(l) = self.lambda {
            check_rate_weight(l).map_err(Error::Usage)?;
        }
        let mut header = Header::for_grid(
            shape,
            self.weight_format,
            u32::try_from(self.index.len()).map_err(|_| too_many("images"))?,
            4 + u8::from(self.lambda.is_some()),
            u32::try_from(total).map_err(|_| too_many("latent values"))?,
        );
        header.latent_coding = coding;
        let header_bytes = header.to_bytes()?;
        for (l, m) in self.models.iter().enumerate() {
            m.validate(l).map_err(|e| Error::Usage(e.to_string()))?;
        }
        let runs = runs(&shape, &self.index);
        let (quan, latn) = match coding {
            LATENT_CODING_PLAIN => (
                write_models(&self.models),
                write_plain(&self.models, &runs, &self.codes)?,
            ),
            LATENT_CODING_RANGE => (
                write_models(&self.models),
                entropy::encode(&self.models, &runs, &self.codes)?,
            ),
            LATENT_CODING_CONTEXT | LATENT_CODING_PHASED => {
                let prediction = Prediction::of_coding(coding).expect("a context coding");
                let grids = grid_runs(&shape, &self.index);
                let models = fit_context_models(shape.planes(), &grids, &self.codes, prediction);
                (
                    write_context_models(&models),
                    context::encode(&models, &grids, &self.codes, prediction)?,
                )
            }
            other => return Err(Error::Usage(format!("latent coding {other}"))),
        };
        let mut parts = vec![
            (
                TAG_DECODER,
                write_weights(self.weight_format, &self.decoder.to_flat()),
            ),
            (TAG_QUANT, quan),
            (TAG_LATENTS, latn),
            (TAG_INDEX, index::write_index(&self.index)?),
        ];
        if let Some(l) = self.lambda {
            parts.push((TAG_RATE, l.to_le_bytes().to_vec()));
        }
        assemble(&header_bytes, &parts)
    }
}

/// Bytes per code of the plain latent coding: 1 when every plane's largest code is at most
/// 127, else 2.
pub fn plain_code_bytes(models: &[LevelModel]) -> usize {
    if models.iter().all(|m| m.max_code <= 127) {
        1
    } else {
        2
    }
}

/// For each run `(plane, count)` in pack order, where its codes sit in the plain layout:
/// plane-major (every run of plane 0 in order, then plane 1, …).
fn plain_positions(planes: usize, runs: &[(usize, usize)]) -> Vec<usize> {
    let mut per_plane = vec![0usize; planes];
    for &(p, n) in runs {
        per_plane[p] += n;
    }
    let mut next: Vec<usize> = per_plane
        .iter()
        .scan(0, |at, &n| {
            let start = *at;
            *at += n;
            Some(start)
        })
        .collect();
    runs.iter()
        .map(|&(p, n)| {
            let at = next[p];
            next[p] += n;
            at
        })
        .collect()
}

/// The plain latent coding of `codes` (pack order, split into `runs`): plane-major, each code
/// as a two's-complement `i8`, or `i16` little-endian ([`plain_code_bytes`]). Codes outside
/// their plane's `±max_code` are a usage error.
fn write_plain(models: &[LevelModel], runs: &[(usize, usize)], codes: &[i16]) -> Result<Vec<u8>> {
    let width = plain_code_bytes(models);
    let mut out = vec![0u8; codes.len() * width];
    let mut rest = codes;
    for (&(p, n), at) in runs.iter().zip(plain_positions(models.len(), runs)) {
        let (run, tail) = rest.split_at(n);
        rest = tail;
        for (k, &q) in run.iter().enumerate() {
            if q.unsigned_abs() > models[p].max_code {
                return Err(Error::Usage(format!(
                    "code {q} of plane {p} outside its model's ±{}",
                    models[p].max_code
                )));
            }
            let o = (at + k) * width;
            if width == 1 {
                out[o] = q as i8 as u8;
            } else {
                out[o..o + 2].copy_from_slice(&q.to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// Codes in pack order from the plain latent coding (the inverse of `write_plain`); a code
/// outside its plane's `±max_code` or a length other than the runs' is a format error.
pub fn read_plain(models: &[LevelModel], runs: &[(usize, usize)], raw: &[u8]) -> Result<Vec<i16>> {
    let width = plain_code_bytes(models);
    let total: usize = runs.iter().map(|r| r.1).sum();
    if Some(raw.len()) != total.checked_mul(width) {
        return Err(Error::Format(format!(
            "latent section holds {} bytes, the index implies {total} codes of {width} byte(s)",
            raw.len()
        )));
    }
    let mut codes = Vec::with_capacity(total);
    for (&(p, n), at) in runs.iter().zip(plain_positions(models.len(), runs)) {
        for k in 0..n {
            let o = (at + k) * width;
            let q = if width == 1 {
                i16::from(raw[o] as i8)
            } else {
                i16::from_le_bytes([raw[o], raw[o + 1]])
            };
            if q.unsigned_abs() > models[p].max_code {
                return Err(Error::Format(format!(
                    "code {q} of plane {p} outside its model's ±{}",
                    models[p].max_code
                )));
            }
            codes.push(q);
        }
    }
    Ok(codes)
}

/// The values that `codes` (one image's, level after level) stand for: `code / gain`.
pub fn dequantise(decoder: &GridWeights, entry: &ImageEntry, codes: &[i16]) -> Vec<f32> {
    let mut out = Vec::with_capacity(codes.len());
    let mut rest = codes;
    for (l, &gain) in decoder.gains.iter().enumerate() {
        let (w, h) = decoder.shape.plane_size(l, entry.width, entry.height);
        let (level, tail) = rest.split_at(((w * h) as usize).min(rest.len()));
        rest = tail;
        out.extend(level.iter().map(|&q| f32::from(q) / gain));
    }
    out
}
