//! The section table: where each section lies, how it is compressed, and its checksum.
use byteorder::{ByteOrder, LittleEndian as LE};

use crate::consts::*;
use crate::error::{Error, Result};
use crate::format::limits::Limits;

/// One section-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionEntry {
    /// Four-byte ASCII tag.
    pub tag: [u8; 4],
    /// [`COMPRESSION_NONE`] or [`COMPRESSION_ZSTD`].
    pub compression: u8,
    /// Absolute file offset of the stored bytes.
    pub offset: u64,
    /// Stored (possibly compressed) length.
    pub stored_len: u64,
    /// Length after decompression.
    pub raw_len: u32,
    /// CRC-32 of the stored bytes.
    pub crc: u32,
}

/// Printable name of a tag, for messages.
pub fn tag_name(tag: &[u8; 4]) -> String {
    tag.iter()
        .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' })
        .collect()
}

impl SectionEntry {
    /// Serialises the entry.
    pub fn to_bytes(&self) -> [u8; SECTION_ENTRY_LEN] {
        let mut b = [0u8; SECTION_ENTRY_LEN];
        b[0..4].copy_from_slice(&self.tag);
        b[4] = self.compression;
        LE::write_u64(&mut b[8..16], self.offset);
        LE::write_u64(&mut b[16..24], self.stored_len);
        LE::write_u32(&mut b[24..28], self.raw_len);
        LE::write_u32(&mut b[28..32], self.crc);
        b
    }

    /// Parses one entry.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let e = SectionEntry {
            tag: [b[0], b[1], b[2], b[3]],
            compression: b[4],
            offset: LE::read_u64(&b[8..16]),
            stored_len: LE::read_u64(&b[16..24]),
            raw_len: LE::read_u32(&b[24..28]),
            crc: LE::read_u32(&b[28..32]),
        };
        if b[5..8].iter().any(|&x| x != 0) {
            return Err(Error::Format(format!(
                "section {}: reserved bytes are not zero",
                tag_name(&e.tag)
            )));
        }
        Ok(e)
    }

    /// Packs `raw` as a section, zstd-compressed when that is smaller.
    pub fn pack(tag: [u8; 4], raw: &[u8]) -> Result<(Self, Vec<u8>)> {
        let raw_len = u32::try_from(raw.len())
            .map_err(|_| Error::Usage(format!("section {} over 4 GiB", tag_name(&tag))))?;
        let zipped = zstd::bulk::compress(raw, ZSTD_LEVEL).map_err(|source| Error::Io {
            action: "compress a section",
            path: None,
            source,
        })?;
        let (compression, stored) = if zipped.len() < raw.len() {
            (COMPRESSION_ZSTD, zipped)
        } else {
            (COMPRESSION_NONE, raw.to_vec())
        };
        let entry = SectionEntry {
            tag,
            compression,
            offset: 0,
            stored_len: stored.len() as u64,
            raw_len,
            crc: crc32fast::hash(&stored),
        };
        Ok((entry, stored))
    }

    /// Checks where the section lies: after the table, inside a file of `file_len` bytes,
    /// and within the section-size limit (stored and decompressed).
    pub fn check_placement(&self, table_end: u64, file_len: u64, limits: &Limits) -> Result<()> {
        let name = tag_name(&self.tag);
        if self.offset < table_end {
            return Err(Error::Format(format!(
                "section {name} starts at byte {}, inside the header or table",
                self.offset
            )));
        }
        let end = self
            .offset
            .checked_add(self.stored_len)
            .ok_or_else(|| Error::Format(format!("section {name}: offset + length overflows")))?;
        if end > file_len {
            return Err(Error::Truncated(format!(
                "section {name} ends at byte {end}, file has {file_len}"
            )));
        }
        let largest = self.stored_len.max(u64::from(self.raw_len));
        if largest > limits.max_section_bytes {
            return Err(Error::Limits(format!(
                "section {name} is {largest} bytes, limit {}",
                limits.max_section_bytes
            )));
        }
        Ok(())
    }

    /// Checks the CRC of this section's `stored` bytes and decompresses them; the output is
    /// never larger than the declared raw length.
    pub fn unpack(&self, stored: &[u8]) -> Result<Vec<u8>> {
        let name = tag_name(&self.tag);
        if crc32fast::hash(stored) != self.crc {
            return Err(Error::Checksum(format!("section {name}")));
        }
        let raw = match self.compression {
            COMPRESSION_NONE => stored.to_vec(),
            COMPRESSION_ZSTD => {
                // Exactly one frame (spec §3): zstd itself would go on into a second one.
                let frame = zstd::zstd_safe::find_frame_compressed_size(stored);
                if frame != Ok(stored.len()) {
                    return Err(Error::Format(format!(
                        "section {name}: not exactly one complete zstd frame"
                    )));
                }
                zstd::bulk::decompress(stored, self.raw_len as usize)
                    .map_err(|e| Error::Format(format!("section {name}: zstd: {e}")))?
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "section {name}: compression method {other}"
                )))
            }
        };
        if raw.len() != self.raw_len as usize {
            return Err(Error::Format(format!(
                "section {name}: {} bytes after decompression, table says {}",
                raw.len(),
                self.raw_len
            )));
        }
        Ok(raw)
    }
}
