//! What the fuzz target and its regression test do with one input: open it as a pack with
//! tight limits, read everything, and render a few images small, once as given and once
//! with every checksum recomputed (so that mutations reach the parsers behind the CRCs).
//! Any error is fine; a panic, a hang or an allocation beyond the limits is a bug.
use gonpack::consts::{HEADER_CRC_OFFSET, HEADER_LEN, SECTION_ENTRY_LEN, TABLE_CRC_LEN};
use gonpack::{Limits, Reader};

/// Limits small enough that no input can make the reader allocate much.
pub const FUZZ_LIMITS: Limits = Limits {
    max_render_pixels: 4096,
    max_section_bytes: 1 << 20,
    max_images: 1 << 16,
    max_params: 1 << 18,
    ..Limits::DEFAULT
};

/// Exercises the reader on `data` as given and with its checksums fixed; returns how many
/// images rendered (over both).
pub fn exercise(data: &[u8]) -> usize {
    read_and_render(data) + read_and_render(&with_fixed_checksums(data))
}

/// `data` with the header CRC, every section CRC that lies inside the data, and the table
/// CRC recomputed.
fn with_fixed_checksums(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.len() < HEADER_LEN {
        return d;
    }
    let crc = crc32fast::hash(&d[..HEADER_CRC_OFFSET]);
    d[HEADER_CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    let table_end = HEADER_LEN + usize::from(d[33]) * SECTION_ENTRY_LEN;
    if d.len() < table_end + TABLE_CRC_LEN {
        return d;
    }
    for at in (HEADER_LEN..table_end).step_by(SECTION_ENTRY_LEN) {
        let field = |k: usize| u64::from_le_bytes(d[at + k..at + k + 8].try_into().unwrap());
        let (offset, len) = (field(8), field(16));
        if let Some(end) = offset.checked_add(len).filter(|&e| e <= d.len() as u64) {
            let crc = crc32fast::hash(&d[offset as usize..end as usize]);
            d[at + 28..at + 32].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&d[HEADER_LEN..table_end]);
    d[table_end..table_end + TABLE_CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    d
}

fn read_and_render(data: &[u8]) -> usize {
    let Ok(mut reader) = Reader::from_slice(data, FUZZ_LIMITS) else {
        return 0;
    };
    let _ = (
        reader.header(),
        reader.sizes(),
        reader.shape().param_count(),
    );
    let Ok(index) = reader.index() else { return 0 };
    let sizes: Vec<(u32, u32)> = index.iter().take(3).map(|e| (e.width, e.height)).collect();
    let mut rendered = 0;
    for (i, (w, h)) in sizes.into_iter().enumerate() {
        // Small renders: the image's own size capped at 16, and a fixed odd size.
        for (rw, rh) in [(w.min(16), h.min(16)), (5, 3)] {
            if reader.render(i, rw, rh).is_ok() {
                rendered += 1;
            }
        }
    }
    rendered
}
