//! The `.gonpack` v1 container: reading, writing and validating it (see `format-spec.md`).
mod header;
mod index;
mod section;

pub use header::Header;
pub use index::{is_plain_relative_path, ImageEntry};
pub use section::SectionEntry;

use std::path::Path;

use byteorder::{ByteOrder, LittleEndian as LE};

use crate::consts::*;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{DecoderWeights, ModelShape};
use crate::quant::Quantiser;
use section::tag_name;

/// A whole pack in memory: decoder, quantiser, latent codes and index.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// Decoder weights (already rounded to the stored precision).
    pub decoder: DecoderWeights,
    /// How latent codes map back to values.
    pub quant: Quantiser,
    /// Latent codes, image-major: image `i` is `codes[i*D..(i+1)*D]`.
    pub codes: Vec<u16>,
    /// One entry per image.
    pub index: Vec<ImageEntry>,
    /// [`WEIGHTS_F16`] or [`WEIGHTS_F32`].
    pub weight_format: u8,
}

/// Bytes of a serialised pack, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SizeBreakdown {
    /// Header and section table.
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

    /// Dequantised latent of image `i`.
    pub fn latent(&self, i: usize) -> Vec<f32> {
        let d = self.shape().latent_dim;
        self.quant.dequantise(&self.codes[i * d..(i + 1) * d])
    }

    /// Position of the image called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.index.iter().position(|e| e.name == name)
    }

    fn header(&self) -> Header {
        Header {
            shape: *self.shape(),
            bits: self.quant.bits,
            weight_format: self.weight_format,
            image_count: self.index.len() as u32,
            section_count: 4,
        }
    }

    /// Serialises the pack; also returns its size breakdown.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, SizeBreakdown)> {
        let header = self.header();
        let shape = header.shape;
        let n = self.index.len();
        if u32::try_from(n).is_err() || self.codes.len() != n * shape.latent_dim {
            return Err(Error::Usage("codes do not match the index".into()));
        }
        let mut deco = Vec::with_capacity(shape.param_count() * header.weight_bytes());
        for v in self.decoder.to_flat() {
            if self.weight_format == WEIGHTS_F16 {
                deco.extend_from_slice(&half::f16::from_f32(v).to_bits().to_le_bytes());
            } else {
                deco.extend_from_slice(&v.to_le_bytes());
            }
        }
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
        let table_end = HEADER_LEN + parts.len() * SECTION_ENTRY_LEN + TABLE_CRC_LEN;
        let mut offset = table_end as u64;
        let mut entries = Vec::new();
        let mut bodies = Vec::new();
        for (tag, raw) in &parts {
            let (mut entry, stored) = SectionEntry::pack(*tag, raw)?;
            entry.offset = offset;
            offset += entry.stored_len;
            entries.push(entry);
            bodies.push(stored);
        }
        let mut out = Vec::with_capacity(offset as usize);
        out.extend_from_slice(&header.to_bytes());
        for e in &entries {
            out.extend_from_slice(&e.to_bytes());
        }
        let crc = crc32fast::hash(&out[HEADER_LEN..]);
        out.extend_from_slice(&crc.to_le_bytes());
        for b in &bodies {
            out.extend_from_slice(b);
        }
        let sizes = SizeBreakdown {
            header: table_end as u64,
            decoder: entries[0].stored_len,
            latents: entries[1].stored_len + entries[2].stored_len,
            index: entries[3].stored_len,
        };
        Ok((out, sizes))
    }

    /// Parses and validates a whole pack held in memory.
    pub fn from_bytes(data: &[u8], limits: &Limits) -> Result<Self> {
        Ok(Self::parse(data, limits)?.0)
    }

    /// Parses a pack and reports the stored size of each part.
    pub fn parse(data: &[u8], limits: &Limits) -> Result<(Self, SizeBreakdown)> {
        let header = Header::parse(data)?;
        let shape = header.shape;
        let n = header.image_count as usize;
        if header.image_count as u64 > limits.max_images {
            return Err(Error::Limits(format!(
                "{n} images, limit {}",
                limits.max_images
            )));
        }
        if shape.param_count() as u64 > limits.max_params {
            return Err(Error::Limits(format!(
                "{} decoder parameters, limit {}",
                shape.param_count(),
                limits.max_params
            )));
        }
        let count = usize::from(header.section_count);
        let table_end = HEADER_LEN + count * SECTION_ENTRY_LEN + TABLE_CRC_LEN;
        if data.len() < table_end {
            return Err(Error::Truncated(format!(
                "section table needs {table_end} bytes, file has {}",
                data.len()
            )));
        }
        let table = &data[HEADER_LEN..table_end - TABLE_CRC_LEN];
        if crc32fast::hash(table) != LE::read_u32(&data[table_end - TABLE_CRC_LEN..table_end]) {
            return Err(Error::Checksum("section table".into()));
        }
        let mut found: [Option<SectionEntry>; 4] = [None; 4];
        let tags = [TAG_DECODER, TAG_QUANT, TAG_LATENTS, TAG_INDEX];
        for chunk in table.chunks_exact(SECTION_ENTRY_LEN) {
            let e = SectionEntry::parse(chunk)?;
            match tags.iter().position(|t| *t == e.tag) {
                Some(k) if found[k].is_some() => {
                    return Err(Error::Format(format!(
                        "section {} appears twice",
                        tag_name(&e.tag)
                    )))
                }
                Some(k) => found[k] = Some(e),
                None if e.tag[0].is_ascii_lowercase() => {}
                None => {
                    return Err(Error::Unsupported(format!(
                        "critical section {}",
                        tag_name(&e.tag)
                    )))
                }
            }
        }
        // Sizes the header implies, checked before anything is decompressed.
        let (d, n64) = (shape.latent_dim as u64, n as u64);
        let exact = |len: u64| (len, len);
        let expected = [
            exact(shape.param_count() as u64 * header.weight_bytes() as u64),
            exact(8 * d),
            exact(n64 * d * header.code_bytes() as u64),
            (n64 * 12, n64 * (MAX_NAME_LEN as u64 + 11)),
        ];
        let mut raws = Vec::with_capacity(4);
        for (k, e) in found.iter().enumerate() {
            let name = tag_name(&tags[k]);
            let e = e.ok_or_else(|| Error::Format(format!("section {name} is missing")))?;
            if e.offset < table_end as u64 {
                return Err(Error::Format(format!(
                    "section {name} starts at byte {}, inside the header or table",
                    e.offset
                )));
            }
            let (lo, hi) = expected[k];
            let raw = u64::from(e.raw_len);
            if raw < lo || raw > hi {
                let implied = if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo} to {hi}")
                };
                return Err(Error::Format(format!(
                    "section {name} declares {raw} bytes, header implies {implied}"
                )));
            }
            raws.push(e.unpack(data, limits)?);
        }
        let d = shape.latent_dim;

        let flat: Vec<f32> = if header.weight_format == WEIGHTS_F16 {
            raws[0]
                .chunks_exact(2)
                .map(|c| half::f16::from_bits(LE::read_u16(c)).to_f32())
                .collect()
        } else {
            raws[0].chunks_exact(4).map(LE::read_f32).collect()
        };
        if flat.iter().any(|v| !v.is_finite()) {
            return Err(Error::Format("decoder weight is not finite".into()));
        }
        let decoder = DecoderWeights::from_flat(shape, &flat)?;

        let mut lo = Vec::with_capacity(d);
        let mut hi = Vec::with_capacity(d);
        for c in raws[1].chunks_exact(8) {
            let (l, h) = (LE::read_f32(&c[0..4]), LE::read_f32(&c[4..8]));
            if !(l.is_finite() && h.is_finite() && l <= h && (h - l).is_finite()) {
                return Err(Error::Format(
                    "quantisation range is not finite with lo <= hi".into(),
                ));
            }
            lo.push(l);
            hi.push(h);
        }
        let quant = Quantiser {
            bits: header.bits,
            lo,
            hi,
        };

        let mut codes = vec![0u16; n * d];
        let max = quant.max_code();
        for (k, chunk) in raws[2].chunks_exact(header.code_bytes()).enumerate() {
            let q = if chunk.len() == 1 {
                u16::from(chunk[0])
            } else {
                LE::read_u16(chunk)
            };
            if q > max {
                return Err(Error::Format(format!("latent code {q} above 2^bits - 1")));
            }
            let (dim, img) = (k / n, k % n);
            codes[img * d + dim] = q;
        }
        let index = index::read_index(&raws[3], n)?;
        if shape.channels == 1 {
            if let Some(e) = index.iter().find(|e| e.channels != 1) {
                return Err(Error::Format(format!(
                    "colour image {:?} in a grey pack",
                    e.name
                )));
            }
        }
        let sizes = SizeBreakdown {
            header: table_end as u64,
            decoder: found[0].map_or(0, |e| e.stored_len),
            latents: found[1].map_or(0, |e| e.stored_len) + found[2].map_or(0, |e| e.stored_len),
            index: found[3].map_or(0, |e| e.stored_len),
        };
        let pack = Pack {
            decoder,
            quant,
            codes,
            index,
            weight_format: header.weight_format,
        };
        Ok((pack, sizes))
    }

    /// Reads a pack file (whole) with the given limits; errors name the file.
    pub fn read(path: &Path, limits: &Limits) -> Result<(Self, SizeBreakdown)> {
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&data, limits).map_err(|e| e.in_file(path))
    }

    /// Writes the pack atomically (temporary file in the same folder, then rename).
    pub fn write(&self, path: &Path) -> Result<SizeBreakdown> {
        let (bytes, sizes) = self.to_bytes()?;
        crate::io::write_atomic(path, &bytes)?;
        Ok(sizes)
    }
}
