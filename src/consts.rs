//! Every magic number of the `.gonpack` container (versions 1 to 4), named as in
//! `format-spec.md`.

/// File signature: `0x89` then ASCII `GONPACK` (8 bytes).
pub const MAGIC: [u8; 8] = *b"\x89GONPACK";
/// Newest container version: adds alpha (decoders with 2 or 4 output channels, images with
/// alpha). A pack is written with the oldest version that can hold it.
pub const VERSION: u16 = 4;
/// The version that added alpha channels.
pub const ALPHA_VERSION: u16 = 4;
/// The version that added the output function.
pub const OUTPUT_VERSION: u16 = 3;
/// The version that added patches.
pub const PATCH_VERSION: u16 = 2;
/// Oldest container version this crate reads: every image whole, one latent each.
pub const MIN_VERSION: u16 = 1;
/// Size of the fixed header, including its trailing CRC-32.
pub const HEADER_LEN: usize = 64;
/// Offset of the header CRC-32 (covers bytes `0..HEADER_CRC_OFFSET`).
pub const HEADER_CRC_OFFSET: usize = 60;
/// First reserved header byte of version 2 (bytes 34..42 hold the patch fields).
pub const V2_RESERVED_FROM: usize = 42;
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

/// Output function: the values as they are.
pub const OUTPUT_IDENTITY: u8 = 0;
/// Output function: the logistic sigmoid (version 3).
pub const OUTPUT_LOGISTIC: u8 = 1;

/// Weight format: IEEE 754 binary32, little-endian.
pub const WEIGHTS_F32: u8 = 0;
/// Weight format: IEEE 754 binary16, little-endian.
pub const WEIGHTS_F16: u8 = 1;

/// Largest latent dimension a pack may declare.
pub const MAX_LATENT_DIM: u16 = 1024;
/// Largest hidden width a pack may declare.
pub const MAX_HIDDEN: u16 = 4096;
/// Largest number of sine layers a pack may declare.
pub const MAX_LAYERS: u8 = 16;
/// Largest number of latent bits per dimension.
pub const MAX_BITS: u8 = 16;
/// Largest image name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 4096;

/// Default patch core size `T` of `encode` (images up to `T x T` stay whole).
pub const DEFAULT_PATCH: u32 = 32;
/// Default patch margin `O` of `encode`.
pub const DEFAULT_OVERLAP: u32 = 4;

/// zstd level used for the compressed sections.
pub const ZSTD_LEVEL: i32 = 19;
