//! The fixed 64-byte file header.
use byteorder::{ByteOrder, LittleEndian as LE};

use crate::consts::*;
use crate::error::{Error, Result};
use crate::format::grid::{GridShape, Sampling};
use crate::format::model::{ModelShape, Output};
use crate::format::patches::Geometry;

/// Everything the fixed header holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Decoder architecture. For a grid pack, the fields it shares with [`GridShape`]
    /// (channels, hidden width, layers, output; the levels as `latent_dim`) and no modulation.
    pub shape: ModelShape,
    /// The grid decoder's architecture, for a pack of latent grids (model [`MODEL_GRID`]).
    pub grid: Option<GridShape>,
    /// How a grid pack's codes are stored: [`LATENT_CODING_PLAIN`], [`LATENT_CODING_RANGE`],
    /// [`LATENT_CODING_CONTEXT`] or [`LATENT_CODING_PHASED`] (0 in a vector pack).
    pub latent_coding: u8,
    /// Bits per latent code (0 in a grid pack, whose codes are entropy-coded integers).
    pub bits: u8,
    /// [`WEIGHTS_F32`] or [`WEIGHTS_F16`].
    pub weight_format: u8,
    /// Number of images.
    pub image_count: u32,
    /// Number of section-table entries.
    pub section_count: u8,
    /// Patch geometry (version 2; [`Geometry::WHOLE`] in version 1).
    pub patches: Geometry,
    /// Number of stored latents: one per whole image plus one per patch (`N` in version 1).
    pub latent_count: u32,
}

impl Header {
    /// Serialises the header, CRC included, after checking every field (so that nothing is
    /// written that a reader would refuse).
    pub fn to_bytes(&self) -> Result<[u8; HEADER_LEN]> {
        self.validate().map_err(|e| match e {
            Error::Format(m) => Error::Usage(format!("cannot write this pack: {m}")),
            e => e,
        })?;
        let mut b = [0u8; HEADER_LEN];
        let s = &self.shape;
        // `validate` checked every range, so these conversions succeed.
        fn field<T: TryFrom<V>, V: Copy + std::fmt::Display>(what: &str, v: V) -> Result<T> {
            T::try_from(v).map_err(|_| Error::Usage(format!("{what} {v} cannot be stored")))
        }
        b[0..8].copy_from_slice(&MAGIC);
        LE::write_u16(&mut b[8..10], self.version());
        if let Some(g) = self.grid {
            b[12] = field("channels", g.channels)?;
            b[14] = field("layers", g.layers)?;
            b[15] = field("steps", g.steps)?;
            LE::write_u16(&mut b[16..18], field("levels", g.levels)?);
            LE::write_u16(&mut b[18..20], field("hidden width", g.hidden)?);
            LE::write_u32(&mut b[28..32], self.image_count);
            b[32] = self.weight_format;
            b[33] = self.section_count;
            b[37] = g.output.code();
            LE::write_u32(&mut b[38..42], self.latent_count);
            b[42] = MODEL_GRID;
            b[43] = field("frequencies", g.frequencies)?;
            b[44] = field("global latents", g.global)?;
            b[45] = self.latent_coding;
            b[46] = g.sampling.code();
            let crc = crc32fast::hash(&b[..HEADER_CRC_OFFSET]);
            LE::write_u32(&mut b[HEADER_CRC_OFFSET..], crc);
            return Ok(b);
        }
        b[12] = field("channels", s.channels)?;
        b[13] = self.bits;
        b[14] = field("layers", s.layers)?;
        b[15] = field("modulated layers", s.modulated)?;
        LE::write_u16(&mut b[16..18], field("latent dimension", s.latent_dim)?);
        LE::write_u16(&mut b[18..20], field("hidden width", s.hidden)?);
        LE::write_f32(&mut b[20..24], s.w0_first);
        LE::write_f32(&mut b[24..28], s.w0_hidden);
        LE::write_u32(&mut b[28..32], self.image_count);
        b[32] = self.weight_format;
        b[33] = self.section_count;
        if self.version() >= PATCH_VERSION {
            let g = self.patches;
            LE::write_u16(&mut b[34..36], field("patch size", g.patch)?);
            b[36] = field("patch margin", g.overlap)?;
            b[37] = s.output.code();
            LE::write_u32(&mut b[38..42], self.latent_count);
        }
        let crc = crc32fast::hash(&b[..HEADER_CRC_OFFSET]);
        LE::write_u32(&mut b[HEADER_CRC_OFFSET..], crc);
        Ok(b)
    }

    /// Parses and validates a header.
    pub fn parse(data: &[u8]) -> Result<Self> {
        if data.len() < MAGIC.len() || data[..MAGIC.len()] != MAGIC {
            return Err(if data.len() < MAGIC.len() && MAGIC.starts_with(data) {
                Error::Truncated(format!("{} bytes, shorter than the signature", data.len()))
            } else {
                Error::NotGonpack
            });
        }
        if data.len() < 10 {
            return Err(Error::Truncated("header ends before the version".into()));
        }
        let version = LE::read_u16(&data[8..10]);
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated(format!(
                "header needs {HEADER_LEN} bytes, file has {}",
                data.len()
            )));
        }
        let b = &data[..HEADER_LEN];
        if crc32fast::hash(&b[..HEADER_CRC_OFFSET]) != LE::read_u32(&b[HEADER_CRC_OFFSET..]) {
            return Err(Error::Checksum("header".into()));
        }
        let bad = |what: String| Err(Error::Format(format!("header: {what}")));
        let model = if version >= GRID_VERSION {
            b[42]
        } else {
            MODEL_VECTOR
        };
        if model == MODEL_GRID {
            return Self::parse_grid(b);
        }
        if model != MODEL_VECTOR {
            return Err(Error::Unsupported(format!("model {model}")));
        }
        let reserved_from = if version >= PATCH_VERSION {
            V2_RESERVED_FROM
        } else {
            34
        };
        if LE::read_u16(&b[10..12]) != 0
            || (version == PATCH_VERSION && b[37] != 0)
            || b[reserved_from..HEADER_CRC_OFFSET].iter().any(|&x| x != 0)
        {
            return bad("reserved bytes are not zero".into());
        }
        // Zero (the identity) before version 3: checked with the reserved bytes above.
        let Some(output) = Output::from_code(b[37]) else {
            return Err(Error::Unsupported(format!("output function {}", b[37])));
        };
        let (patches, latent_count) = if version >= PATCH_VERSION {
            let g = Geometry {
                patch: u32::from(LE::read_u16(&b[34..36])),
                overlap: u32::from(b[36]),
            };
            (g, LE::read_u32(&b[38..42]))
        } else {
            (Geometry::WHOLE, LE::read_u32(&b[28..32]))
        };
        let shape = ModelShape {
            channels: usize::from(b[12]),
            latent_dim: usize::from(LE::read_u16(&b[16..18])),
            hidden: usize::from(LE::read_u16(&b[18..20])),
            layers: usize::from(b[14]),
            modulated: usize::from(b[15]),
            w0_first: LE::read_f32(&b[20..24]),
            w0_hidden: LE::read_f32(&b[24..28]),
            output,
        };
        let header = Header {
            shape,
            grid: None,
            latent_coding: 0,
            bits: b[13],
            weight_format: b[32],
            image_count: LE::read_u32(&b[28..32]),
            section_count: b[33],
            patches,
            latent_count,
        };
        header.validate()?;
        if header.version() > version {
            return bad(format!(
                "{} output channels need version {ALPHA_VERSION}, the file is version {version}",
                shape.channels
            ));
        }
        if header.weight_format != WEIGHTS_F32 && header.weight_format != WEIGHTS_F16 {
            return Err(Error::Unsupported(format!(
                "weight format {}",
                header.weight_format
            )));
        }
        Ok(header)
    }

    /// Parses the fields of a grid pack's header (versions 5 to 7, model [`MODEL_GRID`]).
    fn parse_grid(b: &[u8]) -> Result<Self> {
        let zero = |r: std::ops::Range<usize>| b[r].iter().all(|&x| x == 0);
        // Byte 46 is the sampling from version 6 on, reserved before.
        let sampling_code = if LE::read_u16(&b[8..10]) >= SAMPLING_VERSION {
            b[46]
        } else {
            0
        };
        if !(zero(10..12)
            && b[13] == 0
            && zero(20..28)
            && zero(34..37)
            && b[46] == sampling_code
            && zero(47..60))
        {
            return Err(Error::Format(
                "header: reserved bytes of a grid pack are not zero".into(),
            ));
        }
        let Some(output) = Output::from_code(b[37]) else {
            return Err(Error::Unsupported(format!("output function {}", b[37])));
        };
        let Some(sampling) = Sampling::from_code(sampling_code) else {
            return Err(Error::Unsupported(format!("grid sampling {sampling_code}")));
        };
        let grid = GridShape {
            channels: usize::from(b[12]),
            levels: usize::from(LE::read_u16(&b[16..18])),
            global: usize::from(b[44]),
            frequencies: usize::from(b[43]),
            hidden: usize::from(LE::read_u16(&b[18..20])),
            layers: usize::from(b[14]),
            steps: usize::from(b[15]),
            output,
            sampling,
        };
        let mut header = Header::for_grid(
            grid,
            b[32],
            LE::read_u32(&b[28..32]),
            b[33],
            LE::read_u32(&b[38..42]),
        );
        header.latent_coding = b[45];
        header.validate()?;
        if ![
            LATENT_CODING_PLAIN,
            LATENT_CODING_RANGE,
            LATENT_CODING_CONTEXT,
            LATENT_CODING_PHASED,
        ]
        .contains(&header.latent_coding)
        {
            return Err(Error::Unsupported(format!(
                "latent coding {}",
                header.latent_coding
            )));
        }
        let version = LE::read_u16(&b[8..10]);
        if header.latent_coding == LATENT_CODING_PHASED && version < PHASED_VERSION {
            return Err(Error::Format(format!(
                "header: latent coding {LATENT_CODING_PHASED} needs version {PHASED_VERSION}, the file is version {version}"
            )));
        }
        if header.weight_format != WEIGHTS_F32 && header.weight_format != WEIGHTS_F16 {
            return Err(Error::Unsupported(format!(
                "weight format {}",
                header.weight_format
            )));
        }
        Ok(header)
    }

    /// The header of a grid pack: [`Self::shape`] holds the fields the two models share.
    pub fn for_grid(
        grid: GridShape,
        weight_format: u8,
        image_count: u32,
        section_count: u8,
        latent_count: u32,
    ) -> Self {
        Header {
            shape: ModelShape {
                channels: grid.channels,
                latent_dim: grid.planes(),
                hidden: grid.hidden,
                layers: grid.layers,
                modulated: 1,
                w0_first: 1.0,
                w0_hidden: 1.0,
                output: grid.output,
            },
            grid: Some(grid),
            latent_coding: LATENT_CODING_PLAIN,
            bits: 0,
            weight_format,
            image_count,
            section_count,
            patches: Geometry::WHOLE,
            latent_count,
        }
    }

    /// Checks the fields' ranges (format-spec §2): the patch geometry, at least one latent
    /// per image, the model shape ([`ModelShape::validate`] or [`GridShape::validate`]) and
    /// the latent bits.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Format(format!("header: {what}")));
        if let Some(g) = self.grid {
            if let Err(e) = g.validate() {
                return bad(e.message);
            }
            if self.latent_count < self.image_count {
                return bad(format!(
                    "{} latent values for {} images",
                    self.latent_count, self.image_count
                ));
            }
            return Ok(());
        }
        let g = self.patches;
        if !g.is_storable() {
            return bad(format!(
                "patch size {} with margin {} (both 0, or 1 <= margin <= size)",
                g.patch, g.overlap
            ));
        }
        if self.latent_count < self.image_count {
            return bad(format!(
                "{} latents for {} images",
                self.latent_count, self.image_count
            ));
        }
        if let Err(e) = self.shape.validate() {
            return bad(e.message);
        }
        if !(1..=MAX_BITS).contains(&self.bits) {
            return bad(format!(
                "latent bits {} (must be 1 to {MAX_BITS})",
                self.bits
            ));
        }
        Ok(())
    }

    /// The version this header is written as, the oldest that holds it: 7 for grids under the
    /// phased context coding, else 6 for grids sampled other than bilinearly, 5 for other
    /// grids, 4 with alpha (2 or 4 output channels), else 3 with an output function other than
    /// the identity, else 2 with patches, else 1.
    pub fn version(&self) -> u16 {
        if let Some(g) = self.grid {
            if self.latent_coding == LATENT_CODING_PHASED {
                PHASED_VERSION
            } else if g.sampling == Sampling::Bilinear {
                GRID_VERSION
            } else {
                SAMPLING_VERSION
            }
        } else if crate::pixels::has_alpha(self.shape.channels as u8) {
            ALPHA_VERSION
        } else if self.shape.output != Output::Identity {
            OUTPUT_VERSION
        } else if self.patches.patch != 0 {
            PATCH_VERSION
        } else {
            MIN_VERSION
        }
    }

    /// Bytes per stored weight.
    pub fn weight_bytes(&self) -> usize {
        if self.weight_format == WEIGHTS_F16 {
            2
        } else {
            4
        }
    }

    /// Bytes per stored latent code (1 up to 8 bits, else 2).
    pub fn code_bytes(&self) -> usize {
        if self.bits <= 8 {
            1
        } else {
            2
        }
    }
}
