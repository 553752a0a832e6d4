//! Every magic number of the `.gonpack` v1 container, named as in `format-spec.md`.

/// File signature: `0x89` then ASCII `GONPACK` (8 bytes).
pub const MAGIC: [u8; 8] = *b"\x89GONPACK";
/// Container version written by this crate.
pub const VERSION: u16 = 1;
/// Size of the fixed header, including its trailing CRC-32.
pub const HEADER_LEN: usize = 64;
/// Offset of the header CRC-32 (covers bytes `0..HEADER_CRC_OFFSET`).
pub const HEADER_CRC_OFFSET: usize = 60;
/// Size of one section-table entry.
pub const SECTION_ENTRY_LEN: usize = 32;
/// Size of the CRC-32 that follows the section table.
pub const TABLE_CRC_LEN: usize = 4;

/// Section tag: decoder weights and encoder step sizes.
pub const TAG_DECODER: [u8; 4] = *b"DECO";
/// Section tag: per-dimension quantisation ranges.
pub const TAG_QUANT: [u8; 4] = *b"QUAN";
/// Section tag: quantised latent codes.
pub const TAG_LATENTS: [u8; 4] = *b"LATN";
/// Section tag: per-image index (name, size, source channels).
pub const TAG_INDEX: [u8; 4] = *b"INDX";

/// Section compression: stored as is.
pub const COMPRESSION_NONE: u8 = 0;
/// Section compression: one zstd frame.
pub const COMPRESSION_ZSTD: u8 = 1;

/// Weight format: IEEE 754 binary32, little-endian.
pub const WEIGHTS_F32: u8 = 0;
/// Weight format: IEEE 754 binary16, little-endian.
pub const WEIGHTS_F16: u8 = 1;

/// Largest latent dimension a v1 pack may declare.
pub const MAX_LATENT_DIM: u16 = 1024;
/// Largest hidden width a v1 pack may declare.
pub const MAX_HIDDEN: u16 = 4096;
/// Largest number of sine layers a v1 pack may declare.
pub const MAX_LAYERS: u8 = 16;
/// Largest number of latent bits per dimension.
pub const MAX_BITS: u8 = 16;
/// Largest image name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 4096;

/// zstd level used for the compressed sections.
pub const ZSTD_LEVEL: i32 = 19;
