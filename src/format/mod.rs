//! The `.gonpack` container (versions 1 to 6): reading, writing and validating it (see `format-spec.md`).
pub mod context;
pub mod entropy;
pub mod grid;
pub mod grid_pack;
mod header;
pub(crate) mod index;
pub mod limits;
pub mod merge;
pub mod model;
pub mod patches;
pub mod quant;
pub(crate) mod section;

pub use header::Header;
pub use index::{is_plain_relative_path, resolve, stem, ImageEntry};

use crate::format::patches::Geometry;

/// Index of the first latent of each image of `index`, plus the total (`N + 1` values).
pub fn latent_starts(index: &[ImageEntry], patches: Geometry) -> Vec<usize> {
    let mut starts = Vec::with_capacity(index.len() + 1);
    let mut at = 0usize;
    starts.push(0);
    for e in index {
        at += patches.units(e.width, e.height) as usize;
        starts.push(at);
    }
    starts
}
pub use section::SectionEntry;

use crate::consts::*;
use crate::error::{Error, Result};
use crate::format::model::{DecoderWeights, ModelShape};
use crate::format::quant::Quantiser;

/// A whole pack in memory: decoder, quantiser, latent codes and index.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// Decoder weights (already rounded to the stored precision).
    pub decoder: DecoderWeights,
    /// How latent codes map back to values.
    pub quant: Quantiser,
    /// Latent codes, latent-major: latent `k` is `codes[k*D..(k+1)*D]`; each image owns
    /// [`Geometry::units`] consecutive latents, in index order (patches row by row).
    pub codes: Vec<u16>,
    /// One entry per image.
    pub index: Vec<ImageEntry>,
    /// [`WEIGHTS_F16`] or [`WEIGHTS_F32`].
    pub weight_format: u8,
    /// How large images are cut into patches.
    pub patches: Geometry,
}

/// Bytes of a serialised pack, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SizeBreakdown {
    /// Header, section table and ancillary sections.
    pub header: u64,
    /// Decoder section.
    pub decoder: u64,
    /// Quantisation ranges plus latent codes.
    pub latents: u64,
    /// Index section.
    pub index: u64,
}

impl SizeBreakdown {
    /// The file size.
    pub fn total(&self) -> u64 {
        self.header + self.decoder + self.latents + self.index
    }
}

impl Pack {
    /// The decoder architecture.
    pub fn shape(&self) -> &ModelShape {
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

    /// Dequantised latent number `k` (of a whole image or of one patch).
    pub fn latent(&self, k: usize) -> Vec<f32> {
        let d = self.shape().latent_dim;
        self.quant.dequantise(&self.codes[k * d..(k + 1) * d])
    }

    /// Index of the first latent of each image, plus the total at the end (`N + 1` values).
    pub fn latent_starts(&self) -> Vec<usize> {
        latent_starts(&self.index, self.patches)
    }

    /// All dequantised latents of image `i` (one per patch), concatenated; `starts` is
    /// [`Self::latent_starts`].
    pub fn image_latents(&self, i: usize, starts: &[usize]) -> Vec<f32> {
        let d = self.shape().latent_dim;
        self.quant
            .dequantise(&self.codes[starts[i] * d..starts[i + 1] * d])
    }

    /// Position of the image called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.index.iter().position(|e| e.name == name)
    }

    /// The header and its bytes: every field checked as a reader checks it
    /// ([`Header::to_bytes`]), then the codes against what the index implies.
    fn header(&self) -> Result<(Header, [u8; HEADER_LEN])> {
        let too_many = |what: &str| Error::Usage(format!("more than 2^32 {what}"));
        let expected = self.latent_starts().last().copied().unwrap_or(0);
        let header = Header {
            shape: *self.shape(),
            grid: None,
            latent_coding: 0,
            bits: self.quant.bits,
            weight_format: self.weight_format,
            image_count: u32::try_from(self.index.len()).map_err(|_| too_many("images"))?,
            section_count: 4,
            patches: self.patches,
            latent_count: u32::try_from(expected).map_err(|_| too_many("latents"))?,
        };
        let bytes = header.to_bytes()?;
        if Some(self.codes.len()) != expected.checked_mul(self.shape().latent_dim) {
            return Err(Error::Usage("codes do not match the index".into()));
        }
        Ok((header, bytes))
    }

    /// Serialises the pack; also returns its size breakdown.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, SizeBreakdown)> {
        let (header, header_bytes) = self.header()?;
        let shape = header.shape;
        let n = header.latent_count as usize;
        let deco = write_weights(self.weight_format, &self.decoder.to_flat());
        let mut quan = Vec::with_capacity(8 * shape.latent_dim);
        for (lo, hi) in self.quant.lo.iter().zip(&self.quant.hi) {
            quan.extend_from_slice(&lo.to_le_bytes());
            quan.extend_from_slice(&hi.to_le_bytes());
        }
        let mut latn = Vec::with_capacity(n * shape.latent_dim * header.code_bytes());
        for d in 0..shape.latent_dim {
            for i in 0..n {
                let q = self.codes[i * shape.latent_dim + d];
                if header.code_bytes() == 1 {
                    latn.push(q as u8);
                } else {
                    latn.extend_from_slice(&q.to_le_bytes());
                }
            }
        }
        let indx = index::write_index(&self.index)?;
        let parts = [
            (TAG_DECODER, deco),
            (TAG_QUANT, quan),
            (TAG_LATENTS, latn),
            (TAG_INDEX, indx),
        ];
        assemble(&header_bytes, &parts)
    }
}

/// The decoder section's bytes for `flat` weights in `weight_format` ([`WEIGHTS_F16`] or
/// [`WEIGHTS_F32`], little-endian).
pub(crate) fn write_weights(weight_format: u8, flat: &[f32]) -> Vec<u8> {
    let mut deco = Vec::with_capacity(flat.len() * 4);
    for &v in flat {
        if weight_format == WEIGHTS_F16 {
            deco.extend_from_slice(&half::f16::from_f32(v).to_bits().to_le_bytes());
        } else {
            deco.extend_from_slice(&v.to_le_bytes());
        }
    }
    deco
}

/// Parses a decoder section's flat weights written by [`write_weights`]; every value must be
/// finite.
pub(crate) fn read_weights(weight_format: u8, raw: &[u8]) -> Result<Vec<f32>> {
    let flat: Vec<f32> = if weight_format == WEIGHTS_F16 {
        raw.chunks_exact(2)
            .map(|c| {
                half::f16::from_bits(<byteorder::LittleEndian as byteorder::ByteOrder>::read_u16(
                    c,
                ))
                .to_f32()
            })
            .collect()
    } else {
        raw.chunks_exact(4)
            .map(<byteorder::LittleEndian as byteorder::ByteOrder>::read_f32)
            .collect()
    };
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(Error::Format("decoder weight is not finite".into()));
    }
    Ok(flat)
}

/// A whole file from its header bytes and its sections' raw contents (format-spec §3): the
/// four critical sections (decoder, quantisation, latents, index), then any ancillary ones;
/// the section table with its CRC, then each section, zstd-compressed when that is smaller.
pub(crate) fn assemble(
    header_bytes: &[u8; HEADER_LEN],
    parts: &[([u8; 4], Vec<u8>)],
) -> Result<(Vec<u8>, SizeBreakdown)> {
    let table_end = HEADER_LEN + parts.len() * SECTION_ENTRY_LEN + TABLE_CRC_LEN;
    let mut offset = table_end as u64;
    let mut entries = Vec::new();
    let mut bodies = Vec::new();
    for (tag, raw) in parts {
        let (mut entry, stored) = SectionEntry::pack(*tag, raw)?;
        entry.offset = offset;
        offset += entry.stored_len;
        entries.push(entry);
        bodies.push(stored);
    }
    let mut out = Vec::with_capacity(offset as usize);
    out.extend_from_slice(header_bytes);
    for e in &entries {
        out.extend_from_slice(&e.to_bytes());
    }
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out.extend_from_slice(&crc.to_le_bytes());
    for b in &bodies {
        out.extend_from_slice(b);
    }
    let sizes = SizeBreakdown {
        header: table_end as u64 + entries[4..].iter().map(|e| e.stored_len).sum::<u64>(),
        decoder: entries[0].stored_len,
        latents: entries[1].stored_len + entries[2].stored_len,
        index: entries[3].stored_len,
    };
    Ok((out, sizes))
}
