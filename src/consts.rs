//! Every magic number of the `.gonpack` container (versions 1 to 7), named as in
//! `format-spec.md`.

/// File signature: `0x89` then ASCII `GONPACK` (8 bytes).
pub const MAGIC: [u8; 8] = *b"\x89GONPACK";
/// Newest container version: adds the phased context coding of grid codes
/// ([`PHASED_VERSION`]). A pack is written with the oldest version that can hold it.
pub const VERSION: u16 = 7;
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
/// Ancillary section tag (grid packs): the rate weight λ the codes were encoded with, so that
/// images encoded later against the decoder can default to the same operating point.
pub const TAG_RATE: [u8; 4] = *b"rate";
/// Length of a [`TAG_RATE`] section: one f64, little-endian.
pub const RATE_LEN: usize = 8;

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

/// The version that added latent grids (model [`MODEL_GRID`]).
pub const GRID_VERSION: u16 = 5;
/// The version that added the sampling of grid levels (header byte 46 of a grid pack).
pub const SAMPLING_VERSION: u16 = 6;
/// The version that added the phased context coding ([`LATENT_CODING_PHASED`]).
pub const PHASED_VERSION: u16 = 7;
/// Grid sampling (header byte 46): half-pixel-centred bilinear, 2 x 2 taps (version 5's).
pub const SAMPLING_BILINEAR: u8 = 0;
/// Grid sampling (header byte 46, version 6): a kernel per level, 4 x 4 taps, its values at
/// [`KERNEL_KNOTS`] distances stored with the decoder.
pub const SAMPLING_KERNEL: u8 = 1;
/// Knots of a level's sampling kernel: its values at distances `0, 1/4, … 2` value spacings.
pub const KERNEL_KNOTS: usize = 9;
/// Knots per value spacing of a sampling kernel.
pub const KERNEL_KNOTS_PER_CELL: f64 = 4.0;
/// Model code (header byte 42, version 5): one latent vector per image or patch.
pub const MODEL_VECTOR: u8 = 0;
/// Model code (header byte 42, version 5): a pyramid of latent grids per image.
pub const MODEL_GRID: u8 = 1;
/// Largest number of latent levels a grid pack may declare.
pub const MAX_LEVELS: usize = 16;
/// Largest number of global latents a grid pack may declare.
pub const MAX_GLOBAL: usize = 64;
/// Largest number of Fourier frequencies a grid pack may declare.
pub const MAX_FREQUENCIES: usize = 8;
/// Largest number of gradient-origin steps a grid pack may declare.
pub const MAX_GON_STEPS: usize = 8;

/// Latent coding of a grid pack (header byte 45): the integer codes as they are, plane-major
/// across images, one byte each when every plane's largest code is at most 127, else two
/// (the section's zstd compression then codes them).
pub const LATENT_CODING_PLAIN: u8 = 0;
/// Latent coding of a grid pack (header byte 45): one range-coded stream under the per-plane
/// models (format-spec §12).
pub const LATENT_CODING_RANGE: u8 = 1;
/// Latent coding of a grid pack (header byte 45): one range-coded stream in which each code is
/// predicted from its causal neighbours (format-spec §12.7).
pub const LATENT_CODING_CONTEXT: u8 = 2;
/// Latent coding of a grid pack (header byte 45, version [`PHASED_VERSION`]): as
/// [`LATENT_CODING_CONTEXT`], but each residual's law is a Laplace centred on the unrounded
/// prediction, to the nearest of [`PREDICTION_PHASES`] phases per code (format-spec §12.8).
pub const LATENT_CODING_PHASED: u8 = 3;
/// Phases per code unit of the phased context coding: the prediction's fraction is rounded to
/// a multiple of `1 / 8`.
pub const PREDICTION_PHASES: i32 = 8;
/// Bytes of one plane's entry in a grid pack's `QUAN` section: ratio (f32), largest code (u16).
pub const LEVEL_MODEL_LEN: usize = 6;
/// Causal neighbours a context-coded grid code is predicted from: left, up, up-left, up-right.
pub const CONTEXT_NEIGHBOURS: usize = 4;
/// Activity buckets of the context coding, each with its own law of the residuals.
pub const CONTEXT_BUCKETS: usize = 8;
/// Largest magnitude of a context coding's prediction weight.
pub const MAX_CONTEXT_WEIGHT: f32 = 2.0;
/// Bytes of one plane's entry in a context-coded grid pack's `QUAN` section: the weights (f32
/// each), then one level model ([`LEVEL_MODEL_LEN`] bytes) per bucket.
pub const CONTEXT_MODEL_LEN: usize = 4 * CONTEXT_NEIGHBOURS + CONTEXT_BUCKETS * LEVEL_MODEL_LEN;
/// Most bytes a grid pack's latent stream may spend per latent value (the coder's probability
/// precision bounds a code at 24 bits), checked before the stream is read.
pub const GRID_BYTES_PER_VALUE: u64 = 4;
/// Bytes a grid pack's latent stream may hold beyond [`GRID_BYTES_PER_VALUE`] per value.
pub const GRID_STREAM_SLACK: u64 = 16;

/// Default patch core size `T` of `encode` (images up to `T x T` stay whole).
pub const DEFAULT_PATCH: u32 = 32;
/// Default patch margin `O` of `encode`.
pub const DEFAULT_OVERLAP: u32 = 4;

/// zstd level used for the compressed sections.
pub const ZSTD_LEVEL: i32 = 19;

/// Largest `|code|` an entropy-coded latent level may hold (its alphabet is then `2 * 4095 + 1`
/// symbols).
pub const MAX_GRID_CODE: u16 = 4095;
/// Smallest ratio `P(k + 1) / P(k)` of an entropy-coding level model (the binary32 value nearest
/// `1e-6`; a code of 1 then already gets only about `17 / 2^24` of the table).
pub const MIN_RATIO: f32 = 1e-6;
/// Largest ratio of an entropy-coding level model (the binary32 value nearest `0.9999`): with
/// codes of at most [`MAX_GRID_CODE`], larger ratios are already close to uniform.
pub const MAX_RATIO: f32 = 0.9999;
/// Fixed-point precision of the entropy coder: each level's integer probability table sums to
/// `2^24`.
pub const ENTROPY_PRECISION: usize = 24;
